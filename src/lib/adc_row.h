/* adc_row.h: the ADC, shift-and-add and column-sum histogram for one row of
 * column sums (semantics.md sections 6-9), written once, as plain C that
 * compilers vectorize. src/kernels/stage_*.c include it and compile it with
 * their ISA's flags; integer arithmetic is exact and the floating-point steps
 * use only correctly rounded IEEE operations without contraction, so every
 * ISA gives the same bits.
 *
 * For column n (0 <= n < count) with exact column sum S[n]:
 *   S~ = S + E * sqrt(nabs[n]) * z[n]    (noise term in float; E = 0: S~ = S)
 *   r  = round_half_even(S~ / 2^t),  q = clamp(r, qmin, qmax)
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

typedef struct cim_adc_row {
    int32_t qmin, qmax;  /* code range (|codes| < 2^24) */
    int t;               /* drop_lsbs, 0..24 */
    int64_t weight;      /* +-2^(l_i + l_j): place value, with the phase's sign (a power of 2) */
    const uint8_t *flip; /* per column: 1 if stored complemented; NULL: none */
    int recoverable;     /* a flagged conversion is a failed speculation */
    double level;        /* noise level E; 0: noise off (nabs, z unused) */
    int32_t hist_base;   /* histogram pair window [hist_base, hist_base + 255], or CIM_HIST_NO_PAIRS */
    int in_range;        /* every rounded value provably lies in [qmin, qmax] (noise off): no clamp */
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
 * run's 256-value window [base, base + 255] count once, at (a - base) << 8 |
 * (b - base) (half the increments; folded into the bins at flush), and a last
 * slot that is never read. */
#define CIM_HIST_PAIRS 65536
#define CIM_HIST_TABLE (CIM_HIST_WAYS * CIM_HIST_SLOTS + CIM_HIST_PAIRS + 1)

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

/* The histogram of one block of n <= 256 column sums. Without a window, sums
 * count in four interleaved tables (slot indices computed in a vectorizable
 * pass, increments four at a time). With one, pairs of neighbours inside it
 * take one increment of the pair table and other sums go one by one. */
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
    uint32_t *restrict pairs = hist + CIM_HIST_WAYS * CIM_HIST_SLOTS;
    int32_t pidx[128];
    int32_t outside = 0;
    const int np = n / 2;
    for (int j = 0; j < np; j++) {
        uint32_t a = (uint32_t)(s[2 * j] - base), b = (uint32_t)(s[2 * j + 1] - base);
        int32_t in = (a < 256u) & (b < 256u);
        pidx[j] = in ? (int32_t)(a << 8 | b) : CIM_HIST_PAIRS;
        outside |= !in;
    }
    cim_hist_incr(pairs, pidx, np);
    if (outside)
        for (int k = 0; k < np; k++)
            if (pidx[k] == CIM_HIST_PAIRS) {
                cim_hist_one(s[2 * k], hist, bits_out);
                cim_hist_one(s[2 * k + 1], hist, bits_out);
            }
    if (n & 1)
        cim_hist_one(s[n - 1], hist, bits_out);
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
