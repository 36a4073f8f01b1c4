/* adc_row.h: the ADC, shift-and-add and column-sum histogram for one row of
 * column sums (semantics.md sections 6-9), written once, as plain C that
 * compilers vectorize. src/kernels/stage_*.c include it and compile it with
 * their ISA's flags; integer arithmetic is exact and the floating-point steps
 * use only correctly rounded IEEE operations without contraction, so every
 * ISA gives the same bits.
 *
 * For column n (0 <= n < count) with exact column sum S[n]:
 *   S~ = S + E * sqrt(nabs[n]) * z[n] + dev[n]
 *        (noise term in float; E = 0: no gaussian_colsum term; dev: the
 *        physical models' deviation (phys.h), only when a->dev is not NULL)
 *   r  = round_half_even(S~ / 2^t),  q = clamp(r, qmin, qmax)
 *        (with a->qt: r drawn directly, S + k from the uniform qu[n] and the
 *        table, qnoise.h; z is then not read)
 *   flag = (q == qmin || q == qmax),  clip = (r < qmin || r > qmax)
 *   if (flag && recoverable): n is a failed speculation, listed in fail[]
 *   else acc[n] += weight * (flip[n] ? flip_total - q 2^t : q 2^t)
 * where flip_total = (2^s - 1) x the row's input-slice sum in the chunk
 * and hist[] (if not NULL) counts S[n], the noise-free sum the ADC sees. */
#ifndef CIMSIM_ADC_ROW_H
#define CIMSIM_ADC_ROW_H

#include <math.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include "cimsim/stats.h"
#include "compact_table.h"
#include "qnoise_impl.h"

typedef struct cim_adc_row {
    int32_t qmin, qmax;  /* code range (|codes| < 2^24) */
    int t;               /* drop_lsbs, 0..24 */
    int64_t weight;      /* +-2^(l_i + l_j): place value, with the phase's sign (a power of 2) */
    const uint8_t *flip; /* per column: 1 if stored complemented; NULL: none */
    int recoverable;     /* a flagged conversion is a failed speculation */
    double level;        /* noise level E; 0: noise off (nabs, z unused) */
    int32_t hist_base;   /* histogram pair window [hist_base, hist_base + 255], or CIM_HIST_NO_PAIRS */
    int in_range;        /* every rounded value provably lies in [qmin, qmax] (noise off, or the
                            ADC-output draw: cim__qtab_in_range): no clamp */
    const float *dev;    /* NULL, or the physical models' deviation of each sum (LU), shaped like S
                            (same ld); then S~ is computed in floating point even when E = 0 */
    /* The ADC-output draw of gaussian_colsum (qnoise.h), instead of z, when qt is
     * not NULL (and dev is): the table, each sum's 16-bit uniform (shaped like
     * S), and for the rare refinement words the tile's key (vector: row 0's)
     * and the channel of column 0. */
    const cim_qtab *qt;
    const uint16_t *qu;
    cim_noise_key qkey;
    uint32_t qn0;
} cim_adc_row;

/* Histogram layout inside a worker: CIM_HIST_WAYS interleaved tables (column i
 * counts into table i % CIM_HIST_WAYS, so runs of equal sums do not serialize
 * on one counter); in each, index 0 counts S < CIM_HIST_MIN, index
 * CIM_HIST_BINS + 1 counts S > CIM_HIST_MAX, index S - CIM_HIST_MIN + 1 the
 * rest. The resolution histogram of in-range sums is derived from these bins
 * when stats are merged; out-of-range sums are counted in bits_out directly. */
#define CIM_HIST_SLOTS (CIM_HIST_BINS + 2)
#define CIM_HIST_WAYS 4
/* ... followed by a pair table: two neighbouring sums a, b that both lie in the
 * run's 256-value window [base, base + 255] count once (half the increments;
 * folded into the bins at flush). Sums in the window wait as bytes v - base in
 * a buffer of CIM_HIST_BUF bytes and count a buffer at a time, two bytes (one
 * 16-bit load) being the pair's index: the increments then run in one tight
 * loop with the table's lines in cache, instead of between the column-sum
 * kernel's passes, which evict them (measured: about half the histogram's
 * cost on ISAAC). A sum outside the window counts at once and waits as byte 0;
 * the buffered count of such stand-ins is subtracted from bin base at flush.
 * Layout after the pair table: fill, stand-ins, then the buffer. */
#define CIM_HIST_PAIRS 65536
#define CIM_HIST_BUF 32768
#define CIM_HIST_PAIR_OFF (CIM_HIST_WAYS * CIM_HIST_SLOTS)
#define CIM_HIST_FILL_OFF (CIM_HIST_PAIR_OFF + CIM_HIST_PAIRS)
#define CIM_HIST_STANDIN_OFF (CIM_HIST_FILL_OFF + 1)
#define CIM_HIST_BUF_OFF (CIM_HIST_FILL_OFF + 2)
#define CIM_HIST_TABLE (CIM_HIST_BUF_OFF + CIM_HIST_BUF / 4)

typedef struct cim_adc_counts {
    uint64_t saturations, clips;
} cim_adc_counts;

static inline int cim__bits_of(int32_t s)
{
    if (s == 0)
        return 0;
    uint32_t x = s > 0 ? (uint32_t)s : ~(uint32_t)s;
    return x ? 33 - __builtin_clz(x) : 1;
}

/* table[idx[j]]++ for j < n, four independent increments in flight. */
static inline void cim_hist_incr(uint32_t *restrict table, const int32_t *restrict idx, int n)
{
    int j = 0;
    for (; j + 4 <= n; j += 4) {
        int32_t i0 = idx[j], i1 = idx[j + 1], i2 = idx[j + 2], i3 = idx[j + 3];
        table[i0]++;
        table[i1]++;
        table[i2]++;
        table[i3]++;
    }
    for (; j < n; j++)
        table[idx[j]]++;
}

/* One sum into the single-value tables (the rare path). */
static inline void cim_hist_one(int32_t x, uint32_t *restrict hist, uint64_t *restrict bits_out)
{
    int32_t v = x - CIM_HIST_MIN + 1;
    hist[v < 0 ? 0 : (v > CIM_HIST_BINS + 1 ? CIM_HIST_BINS + 1 : v)]++;
    if (x < CIM_HIST_MIN || x > CIM_HIST_MAX)
        bits_out[cim__bits_of(x)]++;
}

/* No pair window: every sum counts one by one (cim_adc_row.hist_base). */
#define CIM_HIST_NO_PAIRS INT32_MIN

/* Count the buffered bytes into the pair table and empty the buffer. The
 * stand-ins stay counted until cim_hist_fold_pairs. */
static inline void cim_hist_drain(uint32_t *restrict hist)
{
    uint32_t *restrict pairs = hist + CIM_HIST_PAIR_OFF;
    const uint8_t *restrict buf = (const uint8_t *)(hist + CIM_HIST_BUF_OFF);
    const int np = (int)(hist[CIM_HIST_FILL_OFF] / 2);
    int j = 0;
    for (; j + 4 <= np; j += 4) {
        uint16_t i0, i1, i2, i3;
        memcpy(&i0, buf + 2 * j, 2);
        memcpy(&i1, buf + 2 * j + 2, 2);
        memcpy(&i2, buf + 2 * j + 4, 2);
        memcpy(&i3, buf + 2 * j + 6, 2);
        pairs[i0]++;
        pairs[i1]++;
        pairs[i2]++;
        pairs[i3]++;
    }
    for (; j < np; j++) {
        uint16_t i0;
        memcpy(&i0, buf + 2 * j, 2);
        pairs[i0]++;
    }
    hist[CIM_HIST_FILL_OFF] = 0;
}

/* Drain, then move the pair table's counts (each pair is its two sums) into
 * the bins of the first single-value table, less the stand-ins, and zero it.
 * The window [base, base + 255] lies inside the exact bins. */
static inline void cim_hist_fold_pairs(uint32_t *restrict hist, int32_t base)
{
    cim_hist_drain(hist);
    uint32_t *restrict pairs = hist + CIM_HIST_PAIR_OFF;
    uint64_t win[256] = {0};
    for (int a = 0; a < 256; a++) {
        const uint32_t *restrict row = pairs + (a << 8);
        uint64_t rs = 0;
        for (int b = 0; b < 256; b++) {
            rs += row[b];
            win[b] += row[b];
        }
        win[a] += rs;
    }
    win[0] -= hist[CIM_HIST_STANDIN_OFF];
    for (int v = 0; v < 256; v++)
        hist[base + v - CIM_HIST_MIN + 1] += (uint32_t)win[v];
    memset(pairs, 0, CIM_HIST_PAIRS * sizeof(uint32_t));
    hist[CIM_HIST_STANDIN_OFF] = 0;
}

/* The histogram of one block of n <= 256 column sums. Without a window, sums
 * count in four interleaved tables (slot indices computed in a vectorizable
 * pass, increments four at a time). With one, sums go to the byte buffer
 * (an odd last one counts at once). */
static inline void cim_hist_block(const int32_t *restrict s, int n, uint32_t *restrict hist,
                                  uint64_t *restrict bits_out, int32_t base)
{
    if (base == CIM_HIST_NO_PAIRS) {
        int32_t idx[256];
        int32_t out = 0;
        for (int i = 0; i < n; i++) {
            int32_t v = s[i] - CIM_HIST_MIN + 1;
            int32_t c = v < 0 ? 0 : (v > CIM_HIST_BINS + 1 ? CIM_HIST_BINS + 1 : v);
            out |= c != v || c == 0 || c == CIM_HIST_BINS + 1;
            idx[i] = c + (i & (CIM_HIST_WAYS - 1)) * CIM_HIST_SLOTS;
        }
        cim_hist_incr(hist, idx, n);
        if (out)
            for (int i = 0; i < n; i++)
                if (s[i] < CIM_HIST_MIN || s[i] > CIM_HIST_MAX)
                    bits_out[cim__bits_of(s[i])]++;
        return;
    }
    const int ne = n & ~1;
    if (hist[CIM_HIST_FILL_OFF] + (uint32_t)ne > CIM_HIST_BUF)
        cim_hist_drain(hist);
    uint8_t *restrict buf = (uint8_t *)(hist + CIM_HIST_BUF_OFF) + hist[CIM_HIST_FILL_OFF];
    int32_t outside = 0;
    for (int i = 0; i < ne; i++) {
        uint32_t v = (uint32_t)(s[i] - base);
        outside |= v > 255u;
        buf[i] = (uint8_t)(v > 255u ? 0 : v);
    }
    hist[CIM_HIST_FILL_OFF] += (uint32_t)ne;
    if (outside)
        for (int i = 0; i < ne; i++)
            if ((uint32_t)(s[i] - base) > 255u) {
                cim_hist_one(s[i], hist, bits_out);
                hist[CIM_HIST_STANDIN_OFF]++;
            }
    if (n & 1)
        cim_hist_one(s[n - 1], hist, bits_out);
}

/* Whether a row of column sums (and, with_na, of N+ + N-) is all zero. */
static inline int cim_adc_zero_row(const int32_t *restrict s, const int32_t *restrict na, int count, int with_na)
{
    int32_t o = 0;
    for (int i = 0; i < count; i++)
        o |= s[i];
    if (with_na)
        for (int i = 0; i < count; i++)
            o |= na[i];
    return o == 0;
}

/* The counts of nzero skipped all-zero rows of count sums (adc_row_body.inc):
 * each conversion gives code 0, flagged where 0 is qmin or qmax, and the
 * histogram counts its sum 0 (a single-value table; way 0). */
static inline void cim_adc_zero_rows(const cim_adc_row *a, int32_t nzero, int count, uint32_t *restrict hist,
                                     int32_t *nsat)
{
    _Static_assert(CIM_HIST_MIN <= 0 && CIM_HIST_MAX >= 0, "0 is a histogram bin");
    if (!nzero)
        return;
    if (a->qmin == 0 || a->qmax == 0)
        *nsat += nzero * count;
    if (hist)
        hist[0 - CIM_HIST_MIN + 1] += (uint32_t)(nzero * count);
}

/* The ADC row function, once per accumulator type: int64 always works; the
 * int32 form is used when the layer's bound on one chunk's shift-added sum
 * fits (run.c), and vectorizes twice as wide. Both give identical results. */
#define CIM_ACC_T int64_t
#define CIM_UACC_T uint64_t
#define CIM_ADC_ROW_FN cim_adc_row_impl
#include "adc_row_body.inc"
#undef CIM_ACC_T
#undef CIM_UACC_T
#undef CIM_ADC_ROW_FN
#define CIM_ACC_T int32_t
#define CIM_UACC_T uint32_t
#define CIM_ADC_ROW_FN cim_adc_row32_impl
#include "adc_row_body.inc"
#undef CIM_ACC_T
#undef CIM_UACC_T
#undef CIM_ADC_ROW_FN

#endif
