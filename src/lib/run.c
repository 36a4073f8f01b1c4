/* run.c: running input vectors through a programmed layer (semantics.md
 * sections 2, 4, 6-9).
 *
 * Vectors are processed in superblocks. For each superblock and input phase:
 *  1. build the input planes: every input slice (and recovery sub-slice) of
 *     every vector as uint8 rows, chunk by chunk, with their digital sums;
 *  2. split the (vectors x channels) block into tiles run in parallel; a tile
 *     computes all column sums of its chunks x weight slices x input slices
 *     with the column-sum kernel, converts them through the ADC (or reads
 *     them exactly where there is none: adc.bits 0, digital CiM), recovers
 *     failed speculations, and shift-adds into int64 accumulators;
 *  3. add the digital terms (offset, centers, zero point).
 * Every quantity is an exact integer or keyed noise, so the result is the same
 * for any thread count, tile order, kernel or batch split. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <omp.h>
#include "run_internal.h"

void cim_run_options_default(cim_run_options *o)
{
    memset(o, 0, sizeof *o);
    o->histogram = 1;
}

static inline cim_slice plane_bits(const cim_layer *L, int q)
{
    return q < L->nis ? L->is[q] : L->rec[q - L->nis].bits;
}

/* The tables of small chunks (run_state.stab): each input byte's value in
 * every plane, and its pulses over all planes. */
static void build_tables(run_state *R)
{
    const cim_layer *L = R->L;
    unsigned maxf = 1, pmax = 0;
    for (int q = 0; q < R->nplanes; q++)
        pmax += (1u << plane_bits(L, q).width) - 1;
    R->pulse_bytes = pmax <= 255;
    R->rec_bits = 0;
    for (int r = 0; r < L->nrec; r++) {
        const cim_slice b = L->rec[r].bits;
        if (b.width != 1 || (R->rec_bits >> b.lo & 1u)) { /* (recovery slices never overlap) */
            R->rec_bits = 0;
            break;
        }
        R->rec_bits |= 1u << b.lo;
    }
    R->tab_ok = R->nplanes <= 16;
    if (!R->tab_ok)
        return;
    for (int q = 0; q < R->nplanes; q++) {
        const unsigned mask = (1u << plane_bits(L, q).width) - 1;
        maxf = mask > maxf ? mask : maxf;
    }
    R->tab_block = (int)(255u / maxf); /* rows whose values fit a byte lane */
    for (unsigned v = 0; v < 256; v++) {
        unsigned p = 0;
        uint64_t w[2] = {0, 0};
        for (int q = 0; q < R->nplanes; q++) {
            cim_slice b = plane_bits(L, q);
            const unsigned f = (v >> b.lo) & ((1u << b.width) - 1);
            p += f;
            w[q / 8] |= (uint64_t)f << (8 * (q & 7));
        }
        R->ptab[v] = (uint16_t)p;
        R->stab[v][0] = w[0];
        R->stab[v][1] = w[1];
    }
}

/* Step 1 for vectors g0 .. g1 - 1 of the superblock (inputs xs, K apart): their
 * planes, slice sums, input sums, and the counters that depend only on the
 * inputs. A range per call: a depthwise layer's vector is 9 bytes, and the
 * set-up below cost more than its work when paid per vector. */
CIM_CLONES static void build_vectors(run_state *R, worker *w, const uint8_t *xs, int g0, int g1, int phase)
{
    const cim_layer *L = R->L;
    /* the run's constants in locals: the byte stores below may alias any
     * field of R or L, which would otherwise be reloaded after each one */
    const int K = L->K, nchunks = L->nchunks, nis = L->nis, nplanes = R->nplanes, tab_block = R->tab_block;
    const size_t kp_total = (size_t)L->kp_total, plane_stride = R->plane_stride;
    const size_t rs_q = (size_t)R->ms * (size_t)nchunks; /* R->rs: plane q's sums rs_q apart */
    const int small_ok = R->tab_ok;
    /* each plane's sum per chunk (R->rs) is read only for complemented
     * columns; without them a small chunk needs just its pulses' total */
    const int need_rs = L->cfg.flip != 0, pulse_bytes = R->pulse_bytes;
    const uint64_t (*const stab)[2] = (const uint64_t (*)[2])R->stab;
    const uint16_t *const ptab = R->ptab;
    uint64_t pulses_all = 0, devact = 0;
    /* the small-chunk path's per-plane shifts and byte masks (in every byte) */
    unsigned is_lo[CIM_MAX_SLICES];
    uint64_t is_mask[CIM_MAX_SLICES];
    for (int q = 0; q < nis; q++) {
        is_lo[q] = (unsigned)L->is[q].lo;
        is_mask[q] = ((1u << L->is[q].width) - 1) * UINT64_C(0x0101010101010101);
    }
    const uint8_t lane0[8] = {1, 0, 0, 0, 0, 0, 0, 0};
    uint64_t one;
    memcpy(&one, lane0, sizeof one);
    const int little = one == 1; /* byte 0 is a word's low byte */
    for (int gm = g0; gm < g1; gm++) {
        const uint8_t *const x = xs + (size_t)gm * (size_t)K;
        /* the magnitudes: unsigned inputs are their own (read in place, no copy) */
        const uint8_t *mag = x;
        if (L->in_enc != CIM_IN_UNSIGNED) {
            uint8_t *restrict m = w->mag;
            const int zx = L->cfg.zx;
            for (int k = 0; k < K; k++) {
                int d = x[k] - zx;
                m[k] = (uint8_t)(phase == 0 ? (d > 0 ? d : 0) : (d < 0 ? -d : 0));
            }
            mag = m;
        }
        for (int c = 0; c < nchunks; c++) {
            const int k0 = L->chunk_k0[c], rows = L->chunk_k0[c + 1] - k0;
            const uint8_t *restrict a = mag + k0;
            const uint64_t *restrict lev = L->rowlevel + k0;
            uint8_t *const pl = R->planes + (size_t)gm * kp_total + (size_t)L->chunk_off[c];
            int32_t *const rsc = R->rs + (size_t)gm * (size_t)nchunks + (size_t)c;
            int64_t isum = 0;
            for (int k = 0; k < rows; k++)
                isum += a[k];
            R->insum[(size_t)gm * (size_t)nchunks + (size_t)c] = isum;
            if (rows < CIM_TAB_ROWS && small_ok) {
                /* a small chunk: all planes' sums and pulses from the tables in one
                 * pass (the loops below, vectorized for long chunks, are mostly
                 * loop overhead for a few rows); the same integers */
                if (!need_rs) { /* only the pulses' total: no plane's own sum */
                    uint64_t pul = 0;
                    for (int k = 0; k < rows; k++) {
                        const uint64_t p = ptab[a[k]];
                        pul += p;
                        devact += p * lev[k];
                    }
                    pulses_all += pul;
                }
                int32_t sums[16] = {0};
                for (int r0 = 0; r0 < rows && need_rs; r0 += tab_block) {
                    const int r1 = rows - r0 < tab_block ? rows : r0 + tab_block;
                    uint64_t l0 = 0, l1 = 0;
                    for (int k = r0; k < r1; k++) {
                        const unsigned v = a[k];
                        l0 += stab[v][0];
                        l1 += stab[v][1];
                        devact += (uint64_t)ptab[v] * lev[k];
                    }
                    for (int q = 0; q < nplanes; q++)
                        sums[q] += (int32_t)(((q < 8 ? l0 : l1) >> (8 * (q & 7))) & 0xffu);
                }
                /* the planes' rows, eight bytes at a time (the words past them
                 * are padding, cleared once for the run): the chunk's bytes as a
                 * 64-bit word (the last one zero past its rows, assembled in a
                 * register, since a copy written piecewise and read back wide
                 * stalls on store forwarding), each plane's bytes (word >> lo) &
                 * mask (the bits a shift brings in from the next byte are masked
                 * off: mask <= 255 >> lo; any byte order gives the same bytes) */
                for (int t = 0; t < (rows + 7) / 8; t++) {
                    const int n = rows - 8 * t;
                    uint64_t v = 0;
                    if (n >= 8)
                        memcpy(&v, a + 8 * t, sizeof v);
                    else
                        for (int e = 0; e < n; e++)
                            v |= (uint64_t)a[8 * t + e] << (8 * (little ? e : 7 - e));
                    for (int q = 0; q < nis; q++) {
                        const uint64_t f = (v >> is_lo[q]) & is_mask[q];
                        memcpy(pl + (size_t)q * plane_stride + 8 * t, &f, sizeof f);
                    }
                }
                for (int q = 0; q < nplanes && need_rs; q++) {
                    rsc[(size_t)q * rs_q] = sums[q];
                    pulses_all += (uint64_t)sums[q];
                }
                continue;
            }
            if (pulse_bytes) {
                /* every cycle's pulses on each row in a byte (they sum to at most
                 * 255), each plane one pass of byte lanes; a plane's own sum only
                 * where complemented columns read it; the same integers */
                uint8_t *restrict pb = (uint8_t *)w->pulses;
                memset(pb, 0, (size_t)rows);
                const unsigned rb = R->rec_bits;
                if (rb && !need_rs) /* one-bit recovery slices: all their pulses at once, a byte's
                                     * popcount in byte lanes (was a pass per slice) */
                    for (int k = 0; k < rows; k++) {
                        uint8_t v = (uint8_t)(a[k] & rb);
                        v = (uint8_t)(v - ((v >> 1) & 0x55u));
                        v = (uint8_t)((v & 0x33u) + ((v >> 2) & 0x33u));
                        pb[k] = (uint8_t)((v + (v >> 4)) & 0x0fu);
                    }
                for (int q = 0; q < (rb && !need_rs ? nis : nplanes); q++) {
                    cim_slice b = plane_bits(L, q);
                    const unsigned lo = (unsigned)b.lo, mask = (1u << b.width) - 1;
                    if (q < nis) { /* a static or speculative slice: its plane */
                        uint8_t *restrict dst = pl + (size_t)q * plane_stride;
                        for (int k = 0; k < rows; k++) {
                            const uint8_t v = (uint8_t)((a[k] >> lo) & mask);
                            dst[k] = v;
                            pb[k] = (uint8_t)(pb[k] + v);
                        }
                    } else { /* a recovery slice: its pulses only */
                        for (int k = 0; k < rows; k++)
                            pb[k] = (uint8_t)(pb[k] + ((a[k] >> lo) & mask));
                    }
                    if (need_rs) {
                        int32_t sum = 0;
                        for (int k = 0; k < rows; k++)
                            sum += (int32_t)((a[k] >> lo) & mask);
                        rsc[(size_t)q * rs_q] = sum;
                    }
                }
                uint64_t pul = 0;
                for (int k = 0; k < rows; k++) {
                    pul += pb[k];
                    devact += (uint64_t)pb[k] * lev[k];
                }
                pulses_all += pul;
                continue;
            }
            uint16_t *restrict pulses = w->pulses; /* every cycle's pulses on each row of the chunk */
            memset(pulses, 0, (size_t)rows * sizeof(uint16_t));
            for (int q = 0; q < nplanes; q++) {
                cim_slice b = plane_bits(L, q);
                const unsigned mask = (1u << b.width) - 1;
                int32_t sum = 0;
                if (q < nis) { /* a static or speculative slice: its plane */
                    uint8_t *restrict dst = pl + (size_t)q * plane_stride;
                    for (int k = 0; k < rows; k++) {
                        unsigned v = ((unsigned)a[k] >> b.lo) & mask;
                        dst[k] = (uint8_t)v;
                        sum += (int32_t)v;
                        pulses[k] = (uint16_t)(pulses[k] + v);
                    }
                    /* (the chunk's padding was zeroed once for the run) */
                } else { /* a recovery slice: its sums only (kernels read its bits from the plane) */
                    for (int k = 0; k < rows; k++) {
                        unsigned v = ((unsigned)a[k] >> b.lo) & mask;
                        sum += (int32_t)v;
                        pulses[k] = (uint16_t)(pulses[k] + v);
                    }
                }
                rsc[(size_t)q * rs_q] = sum;
                pulses_all += (uint64_t)sum;
            }
            for (int k = 0; k < rows; k++)
                devact += (uint64_t)pulses[k] * lev[k];
        }
    } /* the vectors */
    const uint64_t nv = (uint64_t)(g1 > g0 ? g1 - g0 : 0);
    w->st.dac_pulses += pulses_all * (uint64_t)L->xbars_per_chunk;
    w->st.device_activations += devact;
    w->st.crossbar_cycles += nv * (uint64_t)L->info.crossbars * (uint64_t)R->nplanes;
    int needs_sums = L->cfg.encoding != CIM_ENC_DIFFERENTIAL;
    w->st.input_sum_adds += nv * (uint64_t)L->K * ((uint64_t)needs_sums + (L->cfg.flip ? (uint64_t)R->nplanes : 0));
}

/* Column sums S (and N+ + N- into Ab when noise is on) of mc rows of
 * input-slice values A (row stride lda) in chunk c against weight slice i,
 * panels from n0 (np wide), rows of S and Ab ld apart (ld >= np, or 1 for
 * a one-channel tile: cim__tile_ld). */
static void colsums(run_state *R, worker *w, const uint8_t *A, size_t lda, int c, int i, int mc, int n0, int np,
                    int32_t *S, int32_t *Ab, int ld)
{
    const cim_layer *L = R->L;
    int kp = L->chunk_kp[c];
    size_t panel = (size_t)(n0 / CIM_KERNEL_NR) * (size_t)(kp / CIM_KERNEL_KR) * 64;
    /* offset encoding stores only non-negative levels: N+ + N- = N+ = S */
    int offset = L->cfg.encoding == CIM_ENC_OFFSET;
    const int nc = L->N - n0 < TILE_N ? L->N - n0 : TILE_N;
    for (int abs_pass = 0; abs_pass <= (R->noise && !offset); abs_pass++) {
        const int8_t *B = abs_pass ? L->Babs : L->Bp;
        int32_t *dst = abs_pass ? Ab : S, *tmp = abs_pass ? w->At : w->St;
        int p0 = L->part_first[i];
        if (nc == 1) { /* one channel (a depthwise group): its column alone, not a 16-wide panel */
            const int8_t *Bc = (abs_pass ? L->Bcabs : L->Bc) + L->bp_off[c] + (size_t)n0 * (size_t)kp;
            /* the chunk's rows to a multiple of 4, not its 64-padded depth (zeros) */
            const int kr = (int)cim__round_up((size_t)(L->chunk_k0[c + 1] - L->chunk_k0[c]), 4);
            int32_t v[TILE_TALL], lo[TILE_TALL];
            R->kern->dots(mc, kr, A, lda, Bc + (size_t)p0 * L->bp_stride[c], v);
            if (L->part_count[i] == 2) { /* 8-bit slice: S = 16 S_hi + S_lo */
                R->kern->dots(mc, kr, A, lda, Bc + (size_t)(p0 + 1) * L->bp_stride[c], lo);
                for (int mm = 0; mm < mc; mm++)
                    v[mm] = 16 * v[mm] + lo[mm];
            }
            for (int mm = 0; mm < mc; mm++)
                dst[mm * ld] = v[mm];
            continue;
        }
        R->kern->gemm_u8s8(mc, np, kp, A, lda, B + L->bp_off[c] + (size_t)p0 * L->bp_stride[c] + panel, dst,
                           (size_t)ld);
        if (L->part_count[i] == 2) { /* 8-bit slice: S = 16 S_hi + S_lo */
            R->kern->gemm_u8s8(mc, np, kp, A, lda, B + L->bp_off[c] + (size_t)(p0 + 1) * L->bp_stride[c] + panel,
                               tmp, (size_t)ld);
            for (int mm = 0; mm < mc; mm++)
                for (int nn = 0; nn < np; nn++)
                    dst[mm * ld + nn] = 16 * dst[mm * ld + nn] + tmp[mm * ld + nn];
        }
    }
    if (R->noise && offset)
        for (int mm = 0; mm < mc; mm++)
            memcpy(Ab + mm * ld, S + mm * ld, (size_t)(ld == 1 ? 1 : np) * sizeof(int32_t));
}

/* Plane q (a static or speculative slice), tile rows m0.. (see colsums). */
void cim__tile_colsums(run_state *R, worker *w, int q, int c, int i, int m0, int mc, int n0, int np, int32_t *S,
                       int32_t *Ab, int ld)
{
    const cim_layer *L = R->L;
    const uint8_t *A = R->planes + (size_t)q * R->plane_stride + (size_t)m0 * (size_t)L->kp_total +
                       (size_t)L->chunk_off[c];
    colsums(R, w, A, (size_t)L->kp_total, c, i, mc, n0, np, S, Ab, ld);
}

/* Recovery slice r of speculative slice j, tile rows m0..: the rows are built
 * from the speculative bytes (recovery slices have no planes of their own). */
CIM_CLONES void cim__tile_colsums_rec(run_state *R, worker *w, int j, int r, int c, int i, int m0, int mc, int n0,
                                      int np, int32_t *S, int32_t *Ab)
{
    const cim_layer *L = R->L;
    const size_t kp = (size_t)L->chunk_kp[c];
    cim_slice b = L->rec[L->rec_first[j] + r].bits;
    const unsigned shift = (unsigned)(b.lo - L->is[j].lo), mask = (1u << b.width) - 1;
    for (int mm = 0; mm < mc; mm++) { /* the field of each speculative byte (padding stays 0) */
        const uint8_t *restrict a = R->planes + (size_t)j * R->plane_stride +
                                    (size_t)(m0 + mm) * (size_t)L->kp_total + (size_t)L->chunk_off[c];
        uint8_t *restrict d = w->rplane + (size_t)mm * kp;
        for (size_t k = 0; k < kp; k++)
            d[k] = (uint8_t)((a[k] >> shift) & mask);
    }
    colsums(R, w, w->rplane, kp, c, i, mc, n0, np, S, Ab, TILE_N); /* read by failure index */
}

/* Gathered column sums of recovery slices r0 .. r0 + nr - 1 of speculative
 * slice j, chunk c, weight slice i, for superblock vectors row[f] and
 * channels col[f], f < count: slice r0 + r's sums into s[r * count + f] (and
 * N+ + N- into ab likewise when noise is on). The kernel reads speculative
 * slice j's plane and takes each recovery slice's bits out of it. */
void cim__gather_colsums(run_state *R, worker *w, int j, int r0, int nr, int c, int i, int count,
                         const uint32_t *row, const uint32_t *col, int32_t *s, int32_t *ab)
{
    const cim_layer *L = R->L;
    const size_t kp = (size_t)L->chunk_kp[c], n = (size_t)nr * (size_t)count;
    const uint8_t *A = R->planes + (size_t)j * R->plane_stride + (size_t)L->chunk_off[c];
    uint8_t shift[CIM_OPERAND_BITS], mask[CIM_OPERAND_BITS];
    for (int r = 0; r < nr; r++) {
        cim_slice b = L->rec[L->rec_first[j] + r0 + r].bits;
        shift[r] = (uint8_t)(b.lo - L->is[j].lo);
        mask[r] = (uint8_t)((1u << b.width) - 1);
    }
    /* with noise on, the magnitudes' sums N+ + N- in the same pass */
    const int8_t *B = L->Bc + L->bp_off[c], *Babs = R->noise && L->Bcabs ? L->Bcabs + L->bp_off[c] : NULL;
    const int p0 = L->part_first[i];
    R->kern->gather_dots((int)kp, nr, A, (size_t)L->kp_total, L->is[j].width, shift, mask, B + (size_t)p0 * L->bp_stride[c],
                         Babs ? Babs + (size_t)p0 * L->bp_stride[c] : NULL, kp, count, row, col, s, ab);
    if (L->part_count[i] == 2) { /* 8-bit slice: S = 16 S_hi + S_lo */
        int32_t *lo = w->fpart, *lo_abs = w->fpart + n;
        R->kern->gather_dots((int)kp, nr, A, (size_t)L->kp_total, L->is[j].width, shift, mask,
                             B + (size_t)(p0 + 1) * L->bp_stride[c],
                             Babs ? Babs + (size_t)(p0 + 1) * L->bp_stride[c] : NULL, kp, count, row, col, lo,
                             lo_abs);
        for (size_t x = 0; x < n; x++)
            s[x] = 16 * s[x] + lo[x];
        if (Babs)
            for (size_t x = 0; x < n; x++)
                ab[x] = 16 * ab[x] + lo_abs[x];
    }
    if (R->noise && !L->Bcabs) /* offset: N+ + N- = S */
        memcpy(ab, s, n * sizeof(int32_t));
}

/* Fold a worker's compact histogram into its stats (semantics.md section 9):
 * the pair table into the single-value tables, then those into the bins. */
static void flush_hist(worker *w, int32_t base)
{
    cim_histogram *h = &w->st.hist;
    if (base != CIM_HIST_NO_PAIRS)
        cim_hist_fold_pairs(w->hist, base);
    for (int way = 0; way < CIM_HIST_WAYS; way++) {
        const uint32_t *t = w->hist + (size_t)way * CIM_HIST_SLOTS;
        h->below += t[0];
        h->above += t[CIM_HIST_BINS + 1];
        for (int i = 1; i <= CIM_HIST_BINS; i++)
            if (t[i]) {
                h->bins[i - 1] += t[i];
                h->bits[cim__bits_of(i - 1 + CIM_HIST_MIN)] += t[i];
            }
    }
    for (int b = 0; b < CIM_HIST_BITS; b++)
        h->bits[b] += w->bits_out[b];
    memset(w->hist, 0, CIM_HIST_WAYS * CIM_HIST_SLOTS * sizeof(uint32_t));
    memset(w->bits_out, 0, sizeof w->bits_out);
    w->hist_pending = 0;
}

/* Whether one chunk's shift-added ADC outputs of one phase provably fit in
 * int32 (with a factor 2 to spare), so tiles may accumulate them 32 bits wide.
 * Per (weight slice i, input slice j) a converted value is at most
 * max|code| 2^t, plus (2^s_i - 1)(2^w_j - 1) rows for a complemented column;
 * a failed speculation adds its recovery slices' terms instead. */
static int fits_int32(const cim_layer *L, const cim_adc *adc)
{
    if (adc->digital) { /* exact reads: a chunk's values are its column sums, bounded by programming
                         * (no speculation, so no recovery terms) */
        double worst = 0;
        for (int c = 0; c < L->nchunks; c++) {
            double bound = 0;
            for (int i = 0; i < L->nws; i++)
                for (int j = 0; j < L->nis; j++) {
                    double amax = ldexp(1.0, L->is[j].width) - 1;
                    double s = amax * (double)(L->sum_pos[c * L->nws + i] > L->sum_neg[c * L->nws + i]
                                                   ? L->sum_pos[c * L->nws + i]
                                                   : L->sum_neg[c * L->nws + i]);
                    double fl = L->cfg.flip ? (ldexp(1.0, L->ws[i].width) - 1) * amax * L->cfg.rows : 0;
                    bound += (s + fl) * ldexp(1.0, L->ws[i].lo + L->is[j].lo);
                }
            worst = bound > worst ? bound : worst;
        }
        return 2.0 * worst < 2147483647.0;
    }
    double maxcode = (double)(adc->qmax > -adc->qmin ? adc->qmax : -adc->qmin) * ldexp(1.0, adc->t), bound = 0;
    for (int i = 0; i < L->nws; i++)
        for (int j = 0; j < L->nis; j++) {
            double fl = L->cfg.flip ? (ldexp(1.0, L->ws[i].width) - 1) * (ldexp(1.0, L->is[j].width) - 1) * L->cfg.rows : 0;
            bound += (maxcode + fl) * ldexp(1.0, L->ws[i].lo + L->is[j].lo);
            for (int r = 0; r < L->rec_count[j]; r++) {
                cim_slice b = L->rec[L->rec_first[j] + r].bits;
                double flr = L->cfg.flip ? (ldexp(1.0, L->ws[i].width) - 1) * (ldexp(1.0, b.width) - 1) * L->cfg.rows : 0;
                bound += (maxcode + flr) * ldexp(1.0, L->ws[i].lo + b.lo);
            }
        }
    return 2.0 * bound < 2147483647.0;
}

/* Step 4 for n contiguous psums: out[i] = acc[i], and the first value outside
 * int32 recorded for the run's error, as vector m0 + i dm, channel n0 + i dn. */
static inline void store_psums(worker *w, const int64_t *restrict acc, int32_t *restrict out, int n, int m0, int dm,
                               int n0, int dn)
{
    int64_t lo = 0, hi = 0;
    for (int i = 0; i < n; i++) {
        lo = acc[i] < lo ? acc[i] : lo;
        hi = acc[i] > hi ? acc[i] : hi;
        out[i] = (int32_t)acc[i];
    }
    if ((lo < INT32_MIN || hi > INT32_MAX) && !w->bad)
        for (int i = 0; i < n; i++)
            if (acc[i] < INT32_MIN || acc[i] > INT32_MAX) {
                w->bad = 1;
                w->bad_value = acc[i];
                w->bad_m = m0 + i * dm;
                w->bad_n = n0 + i * dn;
                break;
            }
}

/* Steps 3 and 4 of a tile: the digital terms of this phase (semantics.md
 * sections 2-3) and, after the last phase, the psums checked against int32.
 * Integer loops the compiler vectorizes; cloned per ISA (same results). */
CIM_CLONES static void tile_epilogue(run_state *R, worker *w, int tm0, int mc, int n0, int nc, int phase)
{
    const cim_layer *L = R->L;
    const int64_t sign = phase ? -1 : 1;
    if (L->N == 1) { /* one channel (a depthwise group): the rows are contiguous, loops across them */
        const size_t nch = (size_t)L->nchunks;
        const int64_t *restrict insum = R->insum + (size_t)tm0 * nch;
        int64_t *restrict acc = R->acc + tm0;
        if (L->cfg.encoding == CIM_ENC_OFFSET) {
            for (int mm = 0; mm < mc; mm++) {
                int64_t total = 0;
                for (size_t c = 0; c < nch; c++)
                    total += insum[(size_t)mm * nch + c];
                acc[mm] -= sign * 128 * total;
            }
        } else if (L->cfg.encoding == CIM_ENC_CENTER_OFFSET) {
            for (size_t c = 0; c < nch; c++) {
                const int64_t phi = L->centers[c];
                for (int mm = 0; mm < mc; mm++)
                    acc[mm] += phi * (sign * insum[(size_t)mm * nch + c]);
            }
        }
        if (phase == 0 && L->in_enc == CIM_IN_UNSIGNED)
            for (int mm = 0; mm < mc; mm++)
                acc[mm] += L->colconst[0];
        if (phase != R->phases - 1)
            return;
        store_psums(w, acc, R->psum + tm0, mc, tm0, 1, 0, 0);
        return;
    }
    for (int mm = 0; mm < mc; mm++) {
        int gm = tm0 + mm;
        int64_t *restrict acc = R->acc + (size_t)gm * (size_t)L->N + (size_t)n0;
        const int64_t *insum = R->insum + (size_t)gm * (size_t)L->nchunks;
        if (L->cfg.encoding == CIM_ENC_OFFSET) {
            int64_t total = 0;
            for (int c = 0; c < L->nchunks; c++)
                total += insum[c];
            const int64_t d = sign * 128 * total;
            for (int nn = 0; nn < nc; nn++)
                acc[nn] -= d;
        } else if (L->cfg.encoding == CIM_ENC_CENTER_OFFSET) {
            for (int c = 0; c < L->nchunks; c++) {
                const int16_t *restrict phi = L->centers + (size_t)c * (size_t)L->N + (size_t)n0;
                const int64_t sc = sign * insum[c];
                for (int nn = 0; nn < nc; nn++)
                    acc[nn] += (int64_t)phi[nn] * sc;
            }
        }
        if (phase == 0 && L->in_enc == CIM_IN_UNSIGNED) {
            const int64_t *restrict cc = L->colconst + n0;
            for (int nn = 0; nn < nc; nn++)
                acc[nn] += cc[nn];
        }
    }
    if (phase != R->phases - 1)
        return;
    for (int mm = 0; mm < mc; mm++) {
        const size_t row = (size_t)(tm0 + mm) * (size_t)L->N + (size_t)n0;
        store_psums(w, R->acc + row, R->psum + row, nc, tm0 + mm, 0, n0, 1);
    }
}

/* Whether every column sum of chunk c, weight slice i, input slice j rounds
 * into the ADC's code range (noise off), from the slice bounds of programming:
 * then the ADC needs no clamp and nothing clips. Conservative by one code. */
static int in_range(const run_state *R, int c, int i, int j)
{
    const cim_layer *L = R->L;
    const int64_t amax = cim__pow2(L->is[j].width) - 1, t = R->adc.t;
    const int64_t hi = amax * L->sum_pos[c * L->nws + i], lo = -amax * L->sum_neg[c * L->nws + i];
    /* round_half_even(x / 2^t) <= floor(x / 2^t) + 1 and >= floor(x / 2^t) */
    return (hi >> t) + 1 <= R->adc.qmax && (lo >> t) >= R->adc.qmin;
}

/* Step 2: one tile (rows tm0.. of the superblock, channels n0..), one phase. */
CIM_CLONES static void run_tile(run_state *R, worker *w, uint64_t sb_vector, int tm0, int mc, int n0, int phase)
{
    const cim_layer *L = R->L;
    int nc = L->N - n0 < TILE_N ? L->N - n0 : TILE_N;
    int np = (int)cim__round_up((size_t)nc, CIM_KERNEL_NR);
    const int ld = cim__tile_ld(R, nc);
    int64_t sign = phase ? -1 : 1;
    cim_noise_key key = {L->cfg.noise.seed, L->layer_id, 0, 0, 0, 0, (uint32_t)phase};
    uint32_t *hist = R->hist ? w->hist : NULL;
    /* keep the 32-bit histogram counters from overflowing */
    uint64_t tile_max = (uint64_t)mc * (uint64_t)nc * (uint64_t)L->nchunks * (uint64_t)L->nws * (uint64_t)R->nplanes;
    if (w->hist_pending + tile_max > UINT32_MAX)
        flush_hist(w, R->hist_base);

    if (phase == 0)
        for (int mm = 0; mm < mc; mm++)
            memset(R->acc + (size_t)(tm0 + mm) * (size_t)L->N + (size_t)n0, 0, (size_t)nc * sizeof(int64_t));

    for (int c = 0; c < L->nchunks; c++) {
        if (R->acc32)
            memset(w->acc32, 0, (size_t)mc * (size_t)ld * sizeof(int32_t));
        for (int i = 0; i < L->nws; i++) {
            const uint8_t *flip = L->cfg.flip ? L->flip + ((size_t)c * (size_t)L->nws + (size_t)i) * (size_t)L->N + (size_t)n0 : NULL;
            int64_t flipmax = cim__pow2(L->ws[i].width) - 1;
            for (int j = 0; j < L->nis; j++) {
                cim_adc_counts cnt = {0, 0};
                cim_adc_row a = {(int32_t)R->adc.qmin, (int32_t)R->adc.qmax, R->adc.t,
                                 sign * cim__pow2(L->ws[i].lo + L->is[j].lo), flip, L->rec_count[j] > 0, R->adc.level,
                                 R->hist_base,
                                 R->adc.digital || (!R->noise && !R->phys && in_range(R, c, i, j)) ||
                                     (R->qt && L->qinr[((size_t)c * (size_t)L->nws + (size_t)i) * (size_t)L->nis + (size_t)j]),
                                 NULL, NULL, NULL, {0, 0, 0, 0, 0, 0, 0}, 0};
                int nfail;
                cim__tile_colsums(R, w, j, c, i, tm0, mc, n0, np, w->S, w->Ab, ld);
                key.chunk = (uint32_t)c;
                key.wslice = (uint32_t)i;
                key.islice = (uint32_t)j;
                key.vector = sb_vector + (uint64_t)tm0;
                if (R->qt) { /* gaussian_colsum drawn at the ADC's output (qnoise.h) */
                    R->stage->qnoise_tile(&key, mc, (uint32_t)n0, nc, w->qu, (size_t)ld);
                    a.qt = R->qt;
                    a.qu = w->qu;
                    a.qkey = key;
                    a.qn0 = (uint32_t)n0;
                } else if (R->noise)
                    R->stage->noise_tile(&key, mc, (uint32_t)n0, nc, w->z, (size_t)ld);
                if (R->phys) { /* the physical models: the deviation each conversion sees (phys.h) */
                    const float *zp = NULL;
                    if (R->phys->per_op) {
                        cim_noise_key kp = key;
                        kp.islice |= CIM_PHYS_STREAM;
                        R->stage->noise_tile(&kp, mc, (uint32_t)n0, nc, w->zp, TILE_N);
                        zp = w->zp;
                    }
                    cim__phys_tile(L, R->phys,
                                   R->planes + (size_t)j * R->plane_stride + (size_t)tm0 * (size_t)L->kp_total +
                                       (size_t)L->chunk_off[c],
                                   (size_t)L->kp_total, c, i, L->is[j].width, mc, n0, nc, w->S, zp, w->dev, TILE_N,
                                   w->pscr, w->pks);
                    a.dev = w->dev;
                }
                if (flip) { /* each row's constant; rows nchunks apart in R->rs (one chunk: a vector loop) */
                    const int32_t *restrict rsj = R->rs + ((size_t)j * (size_t)R->ms + (size_t)tm0) * (size_t)L->nchunks + (size_t)c;
                    int64_t *restrict ft = w->ftot;
                    if (L->nchunks == 1)
                        for (int mm = 0; mm < mc; mm++)
                            ft[mm] = flipmax * rsj[mm];
                    else
                        for (int mm = 0; mm < mc; mm++)
                            ft[mm] = flipmax * rsj[(size_t)mm * (size_t)L->nchunks];
                }
                if (R->acc32)
                    nfail = R->stage->adc_tile32(&a, w->ftot, mc, nc, w->S, w->Ab, w->z, (size_t)ld, w->acc32, (size_t)ld,
                                                 w->fail, TILE_N, hist, w->bits_out, &cnt);
                else
                    nfail = R->stage->adc_tile(&a, w->ftot, mc, nc, w->S, w->Ab, w->z, (size_t)ld,
                                               R->acc + (size_t)tm0 * (size_t)L->N + (size_t)n0, (size_t)L->N, w->fail,
                                               TILE_N, hist, w->bits_out, &cnt);
                w->hist_pending += (uint64_t)mc * (uint64_t)nc;
                if (R->adc.digital) /* adc: none: exact reads by digital adders, not conversions */
                    w->st.digital_reads += (uint64_t)mc * (uint64_t)nc;
                else
                    w->st.adc_converts_speculative += (uint64_t)mc * (uint64_t)nc;
                w->st.saturations += cnt.saturations;
                w->st.true_clips += cnt.clips;
                w->st.speculation_failures += (uint64_t)nfail;
                if (nfail)
                    cim__recover(R, w, sb_vector, tm0, mc, n0, nc, np, c, i, j, phase, nfail, flip, key);
            }
        }
        if (R->acc32)
            for (int mm = 0; mm < mc; mm++) {
                int64_t *acc = R->acc + (size_t)(tm0 + mm) * (size_t)L->N + (size_t)n0;
                const int32_t *a32 = w->acc32 + mm * ld;
                for (int nn = 0; nn < nc; nn++)
                    acc[nn] += a32[nn];
            }
    }

    tile_epilogue(R, w, tm0, mc, n0, nc, phase);
}

cim_status cim_layer_run(cim_ctx *ctx, cim_layer *L, const uint8_t *x, int M, int32_t *psum,
                         cim_stats *stats, const cim_run_options *opts)
{
    cim_run_options dflt;
    if (!ctx || !L || (!x && M > 0) || (!psum && M > 0))
        return cim__err(ctx, CIM_ERR_ARG, "cim_layer_run: NULL argument");
    if (M < 0)
        return cim__err(ctx, CIM_ERR_ARG, "cim_layer_run: M = %d is negative", M);
    if (!opts) {
        cim_run_options_default(&dflt);
        opts = &dflt;
    }
    if (stats)
        cim_stats_reset(stats);
    if (M == 0)
        return CIM_OK;

    run_state R;
    memset(&R, 0, sizeof R);
    R.L = L;
    R.kern = ctx->kernel;
    R.stage = ctx->stage;
    R.noise = L->cfg.noise.model != CIM_NOISE_NONE && L->cfg.noise.level > 0.0;
    R.hist = opts->histogram;
    R.phases = L->in_enc == CIM_IN_SIGNED_SPLIT ? 2 : 1;
    R.nplanes = L->nis + L->nrec;
    build_tables(&R);
    R.vector_offset = opts->vector_offset;
    /* the physical models (phys.h): the layer's, or with opts->physical and
     * every model off a neutral set (gain 1, offset 0) for this run */
    cim_phys neutral;
    R.phys = L->phys;
    if (!R.phys && opts->physical && M > 0) {
        memset(&neutral, 0, sizeof neutral);
        neutral.gain = cim__malloc(ctx, (size_t)L->nchunks * (size_t)L->nws * (size_t)L->N * sizeof(float));
        neutral.off = cim__calloc(ctx, (size_t)L->nchunks * (size_t)L->nws * (size_t)L->N, sizeof(float));
        if (!neutral.gain || !neutral.off) {
            cim__free(ctx, neutral.gain);
            cim__free(ctx, neutral.off);
            return CIM_ERR_NOMEM;
        }
        for (size_t e = 0; e < (size_t)L->nchunks * (size_t)L->nws * (size_t)L->N; e++)
            neutral.gain[e] = 1.0f;
        neutral.drift_gain = 1.0;
        R.phys = &neutral;
    }
    cim__adc_init(&R.adc, L->cfg.adc.bits, L->cfg.adc.is_signed, L->cfg.adc.drop_lsbs,
                  R.noise ? L->cfg.noise.level : 0.0);
    /* (exact digital reads' bound is on column sums, which a deviation may exceed) */
    R.acc32 = !opts->wide_accumulators && !(R.phys && R.adc.digital) && fits_int32(L, &R.adc);
    /* The pair histogram pays where column sums are confined to a 256-value
     * window: an unsigned ADC whose codes span at most 256 sums (ISAAC-like;
     * there a sum beyond the window is clipped, so rare). Elsewhere (signed
     * ADCs) sums count one by one: a window [-128, 127] holds 99% of RAELLA's
     * sums but measured no faster, its single-value counters being few and
     * already in cache. Either way every sum is counted exactly. */
    /* (the physical models, neutral ones too, draw Box-Muller normals: phys.h) */
    R.qt = R.noise && !R.phys && !opts->normal_noise ? L->qtab : NULL;
    R.hist_base = !R.adc.qmin && ((R.adc.qmax + 1) << R.adc.t) <= 256 ? 0 : CIM_HIST_NO_PAIRS;
    cim_status st = cim__run_alloc(ctx, &R, M);
    if (st)
        goto done;
    /* Tile rows. A one-channel layer (a depthwise group: a few rows, one
     * column) does little work per tile entry, so per-tile costs (the stage
     * calls of nine slice pairs, the ADC blocks) dominated at TILE_M rows; its
     * tiles take the superblock's vectors split evenly over the workers (at
     * most TILE_TALL each, in whole TILE_M). The bits do not depend on it:
     * noise is keyed by vector, and recovery does not depend on the order. */
    R.tm = TILE_M;
    if (L->N == 1 && cim__tile_ld(&R, 1) == 1) {
        const int per = (R.ms + R.nworkers - 1) / R.nworkers;
        R.tm = (int)cim__round_up((size_t)per, TILE_M);
        R.tm = R.tm > TILE_TALL ? TILE_TALL : R.tm < TILE_M ? TILE_M : R.tm;
    }
    /* The kernels read whole 64-padded chunks, so each chunk's padding in the
     * planes must be defined and within their contract (bytes below 2^abits):
     * zero. Against the weights' zero rows it adds nothing, so no result can
     * show stale padding; the kernels' lookups still assume it. build_vectors
     * writes the rows (a small chunk: whole 8-byte words, zeros past its
     * rows); the padding is cleared here, once per run (the buffer is shared
     * with other layers' runs), not per vector (for a depthwise group, nine
     * rows in a 64-byte chunk, that was 55 bytes and a call per plane and
     * vector). */
    for (int q = 0; q < L->nis; q++)
        for (int gm = 0; gm < R.ms; gm++)
            for (int c = 0; c < L->nchunks; c++) {
                const int rows = L->chunk_k0[c + 1] - L->chunk_k0[c];
                memset(R.planes + (size_t)q * R.plane_stride + (size_t)gm * (size_t)L->kp_total +
                           (size_t)L->chunk_off[c] + (size_t)rows,
                       0, (size_t)(L->chunk_kp[c] - rows));
            }

    int ntn = (L->N + TILE_N - 1) / TILE_N;
    for (int m0 = 0; m0 < M && st == CIM_OK; m0 += R.ms) {
        int mcount = M - m0 < R.ms ? M - m0 : R.ms;
        int ntm = (mcount + R.tm - 1) / R.tm;
        uint64_t sb_vector = R.vector_offset + (uint64_t)m0;
        R.psum = psum + (size_t)m0 * (size_t)L->N;
        for (int phase = 0; phase < R.phases; phase++) {
#pragma omp parallel num_threads(R.nworkers)
            {
                worker *w = &R.w[omp_get_thread_num()];
                { /* each worker a contiguous range of the superblock's vectors */
                    const int nt = omp_get_num_threads(), tid = omp_get_thread_num();
                    build_vectors(&R, w, x + (size_t)m0 * (size_t)L->K, (int)((int64_t)mcount * tid / nt),
                                  (int)((int64_t)mcount * (tid + 1) / nt), phase);
                }
#pragma omp barrier
#pragma omp for schedule(dynamic, 1)
                for (int t = 0; t < ntm * ntn; t++) {
                    int tm = t / ntn, tn = t % ntn;
                    int tm0 = tm * R.tm, mc = mcount - tm0 < R.tm ? mcount - tm0 : R.tm;
                    run_tile(&R, w, sb_vector, tm0, mc, tn * TILE_N, phase);
                }
            }
        }
        for (int t = 0; t < R.nworkers && st == CIM_OK; t++)
            if (R.w[t].bad)
                st = cim__err(ctx, CIM_ERR_RANGE, "psum of vector %d channel %d is %lld, outside int32",
                              m0 + R.w[t].bad_m, R.w[t].bad_n, (long long)R.w[t].bad_value);
        if (st == CIM_OK && opts->progress &&
            opts->progress(opts->progress_ud, (uint64_t)(m0 + mcount), (uint64_t)M))
            st = cim__err(ctx, CIM_ERR_ARG, "run cancelled by the progress callback");
    }
    if (R.hist)
#pragma omp parallel num_threads(R.nworkers) /* each worker folds (and zeroes) its own tables */
        flush_hist(&R.w[omp_get_thread_num()], R.hist_base);
    if (st == CIM_OK && stats) {
        for (int t = 0; t < R.nworkers; t++)
            cim_stats_add(stats, &R.w[t].st);
        stats->vectors = (uint64_t)M;
        stats->macs = (uint64_t)M * (uint64_t)L->K * (uint64_t)L->N;
        stats->adc_converts = stats->adc_converts_speculative + stats->adc_converts_recovery;
    }
done:
    if (R.phys == &neutral) {
        cim__free(ctx, neutral.gain);
        cim__free(ctx, neutral.off);
    }
    return st;
}

cim_status cim_layer_run_exact(cim_ctx *ctx, const cim_layer *L, const uint8_t *x, int M, int32_t *psum)
{
    if (!ctx || !L || M < 0 || (M > 0 && (!x || !psum)))
        return cim__err(ctx, CIM_ERR_ARG, "cim_layer_run_exact: bad argument");
    cim_status st = CIM_OK;
#pragma omp parallel for num_threads(ctx->threads) schedule(static)
    for (int m = 0; m < M; m++) {
        for (int n = 0; n < L->N; n++) {
            int64_t s = 0;
            for (int k = 0; k < L->K; k++)
                s += (int64_t)((int)x[(size_t)m * (size_t)L->K + (size_t)k] - L->cfg.zx) *
                     L->wprime[(size_t)k * (size_t)L->N + (size_t)n];
            if (s < INT32_MIN || s > INT32_MAX) {
#pragma omp critical
                st = CIM_ERR_RANGE;
                s = 0;
            }
            psum[(size_t)m * (size_t)L->N + (size_t)n] = (int32_t)s;
        }
    }
    if (st)
        return cim__err(ctx, st, "exact psum outside int32");
    return CIM_OK;
}
