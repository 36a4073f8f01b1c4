/* run.c: running input vectors through a programmed layer (semantics.md
 * sections 2, 4, 6-9).
 *
 * Vectors are processed in superblocks. For each superblock and input phase:
 *  1. build the input planes: every input slice (and recovery sub-slice) of
 *     every vector as uint8 rows, chunk by chunk, with their digital sums;
 *  2. split the (vectors x channels) block into tiles run in parallel; a tile
 *     computes all column sums of its chunks x weight slices x input slices
 *     with the column-sum kernel, converts them through the ADC, recovers
 *     failed speculations, and shift-adds into int64 accumulators;
 *  3. add the digital terms (offset, centers, zero point).
 * Every quantity is an exact integer or keyed noise, so the result is the same
 * for any thread count, tile order, kernel or batch split. */
#include <stdlib.h>
#include <string.h>
#include <omp.h>
#include "layer_internal.h"
#include "adc.h"

enum { TILE_M = 32, TILE_N = 128, PLANE_BUDGET = 32 << 20 };

typedef struct {
    int32_t *S, *St, *Ab, *At; /* TILE_M x TILE_N column sums (and parts, and N+ + N-) */
    uint16_t *fail;            /* failed speculations: mm * TILE_N + nn */
    double *z;                 /* noise normals of one row */
    cim_stats st;
    int range_error;           /* a psum fell outside int32 */
} worker;

typedef struct {
    cim_layer *L;
    const cim_kernel *kern;
    cim_adc adc;
    int noise, hist;
    int phases, nplanes, ms;
    uint64_t vector_offset;
    size_t plane_stride;       /* bytes between planes: ms * kp_total */
    uint8_t *planes;           /* [plane][ms][kp_total] */
    int32_t *rs;               /* [plane][ms][nchunks]: slice sums per chunk */
    int64_t *insum;            /* [ms][nchunks]: input sums per chunk */
    int64_t *acc;              /* [ms][N] */
    worker *w;
    int nworkers;
} run_state;

void cim_run_options_default(cim_run_options *o)
{
    memset(o, 0, sizeof *o);
    o->histogram = 1;
}

static void free_state(cim_ctx *ctx, run_state *R)
{
    if (R->w)
        for (int t = 0; t < R->nworkers; t++) {
            cim__aligned_free(ctx, R->w[t].S);
            cim__aligned_free(ctx, R->w[t].St);
            cim__aligned_free(ctx, R->w[t].Ab);
            cim__aligned_free(ctx, R->w[t].At);
            cim__free(ctx, R->w[t].fail);
            cim__free(ctx, R->w[t].z);
        }
    cim__free(ctx, R->w);
    cim__aligned_free(ctx, R->planes);
    cim__free(ctx, R->rs);
    cim__free(ctx, R->insum);
    cim__free(ctx, R->acc);
}

static cim_status alloc_state(cim_ctx *ctx, run_state *R, int M)
{
    const cim_layer *L = R->L;
    size_t row = (size_t)L->kp_total * (size_t)R->nplanes;
    size_t ms = PLANE_BUDGET / (row ? row : 1);
    ms = ms / TILE_M * TILE_M;
    if (ms < TILE_M)
        ms = TILE_M;
    if (ms > 256)
        ms = 256;
    if (ms > (size_t)M)
        ms = (size_t)M;
    R->ms = (int)ms;
    R->plane_stride = ms * (size_t)L->kp_total;
    R->planes = cim__aligned_calloc(ctx, R->plane_stride * (size_t)R->nplanes);
    R->rs = cim__calloc(ctx, (size_t)R->nplanes * ms, (size_t)L->nchunks * sizeof(int32_t));
    R->insum = cim__calloc(ctx, ms, (size_t)L->nchunks * sizeof(int64_t));
    R->acc = cim__calloc(ctx, ms, (size_t)L->N * sizeof(int64_t));
    R->nworkers = ctx->threads;
    R->w = cim__calloc(ctx, (size_t)R->nworkers, sizeof(worker));
    if (!R->planes || !R->rs || !R->insum || !R->acc || !R->w)
        return CIM_ERR_NOMEM;
    size_t tile = (size_t)TILE_M * TILE_N * sizeof(int32_t);
    for (int t = 0; t < R->nworkers; t++) {
        worker *w = &R->w[t];
        w->S = cim__aligned_alloc(ctx, tile);
        w->St = cim__aligned_alloc(ctx, tile);
        w->fail = cim__malloc(ctx, (size_t)TILE_M * TILE_N * sizeof(uint16_t));
        w->z = cim__malloc(ctx, (TILE_N + 4) * sizeof(double));
        if (!w->S || !w->St || !w->fail || !w->z)
            return CIM_ERR_NOMEM;
        if (R->noise) {
            w->Ab = cim__aligned_alloc(ctx, tile);
            w->At = cim__aligned_alloc(ctx, tile);
            if (!w->Ab || !w->At)
                return CIM_ERR_NOMEM;
        }
    }
    return CIM_OK;
}

static inline int phase_mag(const cim_layer *L, int x, int phase)
{
    if (L->in_enc == CIM_IN_UNSIGNED)
        return x;
    int d = x - L->cfg.zx;
    return phase == 0 ? (d > 0 ? d : 0) : (d < 0 ? -d : 0);
}

static inline cim_slice plane_bits(const cim_layer *L, int q)
{
    return q < L->nis ? L->is[q] : L->rec[q - L->nis].bits;
}

/* Step 1 for vector gm of the superblock: its planes, slice sums, input sums,
 * and the counters that depend only on the inputs. */
static void build_vector(run_state *R, worker *w, const uint8_t *x, int gm, int phase)
{
    const cim_layer *L = R->L;
    uint64_t pulses_all = 0, devact = 0;
    for (int c = 0; c < L->nchunks; c++) {
        int k0 = L->chunk_k0[c], k1 = L->chunk_k0[c + 1];
        int64_t isum = 0;
        int32_t sums[CIM_MAX_SLICES + CIM_OPERAND_BITS] = {0};
        for (int k = k0; k < k1; k++) {
            int a = phase_mag(L, x[k], phase);
            uint64_t pulses = 0;
            isum += a;
            for (int q = 0; q < R->nplanes; q++) {
                int v = cim__slice_val(a, plane_bits(L, q));
                R->planes[(size_t)q * R->plane_stride + (size_t)gm * (size_t)L->kp_total +
                          (size_t)L->chunk_off[c] + (size_t)(k - k0)] = (uint8_t)v;
                sums[q] += v;
                pulses += (uint64_t)v;
            }
            devact += pulses * L->rowlevel[k];
        }
        R->insum[(size_t)gm * (size_t)L->nchunks + (size_t)c] = isum;
        for (int q = 0; q < R->nplanes; q++) {
            R->rs[((size_t)q * (size_t)R->ms + (size_t)gm) * (size_t)L->nchunks + (size_t)c] = sums[q];
            pulses_all += (uint64_t)sums[q];
        }
    }
    w->st.dac_pulses += pulses_all * (uint64_t)L->xbars_per_chunk;
    w->st.device_activations += devact;
    w->st.crossbar_cycles += (uint64_t)L->info.crossbars * (uint64_t)R->nplanes;
    int needs_sums = L->cfg.encoding != CIM_ENC_DIFFERENTIAL;
    w->st.input_sum_adds += (uint64_t)L->K * ((uint64_t)needs_sums + (L->cfg.flip ? (uint64_t)R->nplanes : 0));
}

/* Column sums S (and N+ + N- into Ab when noise is on) of plane q, chunk c,
 * weight slice i, for tile rows m0.. (mc of them) and panels from n0 (np wide). */
static void tile_colsums(run_state *R, worker *w, int q, int c, int i, int m0, int mc, int n0, int np)
{
    const cim_layer *L = R->L;
    int kp = L->chunk_kp[c];
    const uint8_t *A = R->planes + (size_t)q * R->plane_stride + (size_t)m0 * (size_t)L->kp_total +
                       (size_t)L->chunk_off[c];
    size_t panel = (size_t)(n0 / CIM_KERNEL_NR) * (size_t)(kp / CIM_KERNEL_KR) * 64;
    for (int abs_pass = 0; abs_pass <= R->noise; abs_pass++) {
        const int8_t *B = abs_pass ? L->Babs : L->Bp;
        int32_t *dst = abs_pass ? w->Ab : w->S, *tmp = abs_pass ? w->At : w->St;
        int p0 = L->part_first[i];
        R->kern->gemm_u8s8(mc, np, kp, A, (size_t)L->kp_total,
                           B + L->bp_off[c] + (size_t)p0 * L->bp_stride[c] + panel, dst, TILE_N);
        if (L->part_count[i] == 2) { /* 8-bit slice: S = 16 S_hi + S_lo */
            R->kern->gemm_u8s8(mc, np, kp, A, (size_t)L->kp_total,
                               B + L->bp_off[c] + (size_t)(p0 + 1) * L->bp_stride[c] + panel, tmp, TILE_N);
            for (int mm = 0; mm < mc; mm++)
                for (int nn = 0; nn < np; nn++)
                    dst[mm * TILE_N + nn] = 16 * dst[mm * TILE_N + nn] + tmp[mm * TILE_N + nn];
        }
    }
}

/* One recovery column sum: plane q, chunk c, slice i, vector gm, channel n. */
static void dot_colsum(run_state *R, int q, int c, int i, int gm, int n, int32_t *s, int32_t *ab)
{
    const cim_layer *L = R->L;
    int kp = L->chunk_kp[c];
    const uint8_t *a = R->planes + (size_t)q * R->plane_stride + (size_t)gm * (size_t)L->kp_total +
                       (size_t)L->chunk_off[c];
    size_t colo = (size_t)n * (size_t)kp;
    *s = 0;
    *ab = 0;
    for (int p = 0; p < L->part_count[i]; p++) {
        size_t base = L->bp_off[c] + (size_t)(L->part_first[i] + p) * L->bp_stride[c] + colo;
        int32_t v = R->kern->dot_u8s8(kp, a, L->Bc + base);
        *s = L->part_count[i] == 2 && p == 0 ? 16 * v : *s + v;
        if (R->noise) {
            int32_t va = R->kern->dot_u8s8(kp, a, L->Bcabs + base);
            *ab = L->part_count[i] == 2 && p == 0 ? 16 * va : *ab + va;
        }
    }
}

static inline int64_t pow2(int e) { return (int64_t)1 << e; }

/* Step 2: one tile (rows tm0.. of the superblock, channels n0..), one phase. */
static void run_tile(run_state *R, worker *w, uint64_t sb_vector, int tm0, int mc, int n0, int phase)
{
    const cim_layer *L = R->L;
    const cim_adc *adc = &R->adc;
    int nc = L->N - n0 < TILE_N ? L->N - n0 : TILE_N;
    int np = (int)cim__round_up((size_t)nc, CIM_KERNEL_NR);
    int64_t sign = phase ? -1 : 1;
    cim_stats *st = &w->st;
    cim_noise_key key = {L->cfg.noise.seed, L->layer_id, 0, 0, 0, 0, (uint32_t)phase};

    if (phase == 0)
        for (int mm = 0; mm < mc; mm++)
            memset(R->acc + (size_t)(tm0 + mm) * (size_t)L->N + (size_t)n0, 0, (size_t)nc * sizeof(int64_t));

    for (int c = 0; c < L->nchunks; c++) {
        for (int i = 0; i < L->nws; i++) {
            const uint8_t *flip = L->cfg.flip ? L->flip + ((size_t)c * (size_t)L->nws + (size_t)i) * (size_t)L->N + (size_t)n0 : NULL;
            int64_t flipmax = pow2(L->ws[i].width) - 1;
            for (int j = 0; j < L->nis; j++) {
                int recoverable = L->rec_count[j] > 0;
                int64_t weight = pow2(L->ws[i].lo + L->is[j].lo);
                int nfail = 0;
                tile_colsums(R, w, j, c, i, tm0, mc, n0, np);
                key.chunk = (uint32_t)c;
                key.wslice = (uint32_t)i;
                key.islice = (uint32_t)j;
                for (int mm = 0; mm < mc; mm++) {
                    int gm = tm0 + mm;
                    const int32_t *S = w->S + mm * TILE_N, *Ab = R->noise ? w->Ab + mm * TILE_N : NULL;
                    int64_t *acc = R->acc + (size_t)gm * (size_t)L->N + (size_t)n0;
                    int64_t rs = R->rs[((size_t)j * (size_t)R->ms + (size_t)gm) * (size_t)L->nchunks + (size_t)c];
                    if (R->noise) {
                        key.vector = sb_vector + (uint64_t)gm;
                        cim__noise_normals(&key, (uint32_t)n0, nc, w->z);
                    }
                    for (int nn = 0; nn < nc; nn++) {
                        int sat, clip;
                        if (R->hist)
                            cim__hist_add(&st->hist, S[nn]);
                        int64_t qv = cim__adc_convert(adc, S[nn], Ab ? Ab[nn] : 0, R->noise ? w->z[nn] : 0.0,
                                                      &sat, &clip);
                        st->saturations += (uint64_t)sat;
                        st->true_clips += (uint64_t)clip;
                        if (sat && recoverable) {
                            w->fail[nfail++] = (uint16_t)(mm * TILE_N + nn);
                            continue;
                        }
                        int64_t v = qv * pow2(adc->t);
                        if (flip && flip[nn])
                            v = flipmax * rs - v;
                        acc[nn] += sign * v * weight;
                    }
                }
                st->adc_converts_speculative += (uint64_t)mc * (uint64_t)nc;
                st->speculation_failures += (uint64_t)nfail;
                /* Dynamic input slicing: re-run the failed columns' bits as recovery
                 * slices; only those columns convert; a saturated recovery is kept. */
                for (int f = 0; f < nfail; f++) {
                    int mm = w->fail[f] / TILE_N, nn = w->fail[f] % TILE_N, gm = tm0 + mm, n = n0 + nn;
                    int64_t *acc = R->acc + (size_t)gm * (size_t)L->N + (size_t)n;
                    for (int r = 0; r < L->rec_count[j]; r++) {
                        int q = L->nis + L->rec_first[j] + r;
                        const cim_recovery_slice *rec = &L->rec[L->rec_first[j] + r];
                        int32_t s, ab;
                        int sat, clip;
                        dot_colsum(R, q, c, i, gm, n, &s, &ab);
                        double z = 0.0;
                        if (R->noise) {
                            cim_noise_key rk = key;
                            rk.vector = sb_vector + (uint64_t)gm;
                            rk.islice = 0x100u | (uint32_t)j << 4 | (uint32_t)rec->index;
                            z = cim__noise_normal(&rk, (uint32_t)n);
                        }
                        if (R->hist)
                            cim__hist_add(&st->hist, s);
                        int64_t qv = cim__adc_convert(adc, s, ab, z, &sat, &clip);
                        st->adc_converts_recovery++;
                        st->saturations += (uint64_t)sat;
                        st->saturations_recovery += (uint64_t)sat;
                        st->true_clips += (uint64_t)clip;
                        int64_t v = qv * pow2(adc->t);
                        if (flip && flip[nn])
                            v = flipmax * R->rs[((size_t)q * (size_t)R->ms + (size_t)gm) * (size_t)L->nchunks + (size_t)c] - v;
                        *acc += sign * v * pow2(L->ws[i].lo + rec->bits.lo);
                    }
                }
            }
        }
    }

    /* Step 3: digital terms of this phase (semantics.md sections 2-3) */
    for (int mm = 0; mm < mc; mm++) {
        int gm = tm0 + mm;
        int64_t *acc = R->acc + (size_t)gm * (size_t)L->N + (size_t)n0;
        const int64_t *insum = R->insum + (size_t)gm * (size_t)L->nchunks;
        if (L->cfg.encoding == CIM_ENC_OFFSET) {
            int64_t total = 0;
            for (int c = 0; c < L->nchunks; c++)
                total += insum[c];
            for (int nn = 0; nn < nc; nn++)
                acc[nn] -= sign * 128 * total;
        } else if (L->cfg.encoding == CIM_ENC_CENTER_OFFSET) {
            for (int c = 0; c < L->nchunks; c++) {
                const int16_t *phi = L->centers + (size_t)c * (size_t)L->N + (size_t)n0;
                for (int nn = 0; nn < nc; nn++)
                    acc[nn] += sign * phi[nn] * insum[c];
            }
        }
        if (phase == 0 && L->in_enc == CIM_IN_UNSIGNED)
            for (int nn = 0; nn < nc; nn++)
                acc[nn] += L->colconst[n0 + nn];
    }
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
    R.noise = L->cfg.noise.model != CIM_NOISE_NONE && L->cfg.noise.level > 0.0;
    R.hist = opts->histogram;
    R.phases = L->in_enc == CIM_IN_SIGNED_SPLIT ? 2 : 1;
    R.nplanes = L->nis + L->nrec;
    R.vector_offset = opts->vector_offset;
    cim__adc_init(&R.adc, L->cfg.adc.bits, L->cfg.adc.is_signed, L->cfg.adc.drop_lsbs,
                  R.noise ? L->cfg.noise.level : 0.0);
    cim_status st = alloc_state(ctx, &R, M);
    if (st) {
        free_state(ctx, &R);
        return st;
    }

    int ntn = (L->N + TILE_N - 1) / TILE_N;
    for (int m0 = 0; m0 < M && st == CIM_OK; m0 += R.ms) {
        int mcount = M - m0 < R.ms ? M - m0 : R.ms;
        int ntm = (mcount + TILE_M - 1) / TILE_M;
        uint64_t sb_vector = R.vector_offset + (uint64_t)m0;
        for (int phase = 0; phase < R.phases; phase++) {
#pragma omp parallel num_threads(R.nworkers)
            {
                worker *w = &R.w[omp_get_thread_num()];
#pragma omp for schedule(static)
                for (int gm = 0; gm < mcount; gm++)
                    build_vector(&R, w, x + (size_t)(m0 + gm) * (size_t)L->K, gm, phase);
#pragma omp for schedule(dynamic, 1)
                for (int t = 0; t < ntm * ntn; t++) {
                    int tm = t / ntn, tn = t % ntn;
                    int tm0 = tm * TILE_M, mc = mcount - tm0 < TILE_M ? mcount - tm0 : TILE_M;
                    run_tile(&R, w, sb_vector, tm0, mc, tn * TILE_N, phase);
                }
            }
        }
        /* final psums of the superblock, checked against int32 */
        for (int gm = 0; gm < mcount && st == CIM_OK; gm++)
            for (int n = 0; n < L->N; n++) {
                int64_t v = R.acc[(size_t)gm * (size_t)L->N + (size_t)n];
                if (v < INT32_MIN || v > INT32_MAX) {
                    st = cim__err(ctx, CIM_ERR_RANGE,
                                  "psum of vector %d channel %d is %lld, outside int32", m0 + gm, n,
                                  (long long)v);
                    break;
                }
                psum[(size_t)(m0 + gm) * (size_t)L->N + (size_t)n] = (int32_t)v;
            }
        if (st == CIM_OK && opts->progress &&
            opts->progress(opts->progress_ud, (uint64_t)(m0 + mcount), (uint64_t)M))
            st = cim__err(ctx, CIM_ERR_ARG, "run cancelled by the progress callback");
    }
    if (st == CIM_OK && stats) {
        for (int t = 0; t < R.nworkers; t++)
            cim_stats_add(stats, &R.w[t].st);
        stats->vectors = (uint64_t)M;
        stats->macs = (uint64_t)M * (uint64_t)L->K * (uint64_t)L->N;
        stats->adc_converts = stats->adc_converts_speculative + stats->adc_converts_recovery;
    }
    free_state(ctx, &R);
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
