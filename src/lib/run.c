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
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <omp.h>
#include "layer_internal.h"
#include "adc.h"
#include "adc_row.h"

enum { TILE_M = 32, TILE_N = 128, PLANE_BUDGET = 32 << 20 };

/* The framework's own loops (building input planes, handling failures, the
 * digital terms) are integer code that compilers vectorize: clone them for
 * wider ISAs, chosen at load time by CPU feature (GCC's target_clones). Their
 * results are the same bits on every clone. */
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__) && !defined(CIMSIM_NO_CLONES)
#define CIM_CLONES __attribute__((target_clones("default", "avx2", "avx512f")))
#else
#define CIM_CLONES
#endif

typedef struct {
    int32_t *S, *St, *Ab, *At; /* TILE_M x TILE_N column sums (and parts, and N+ + N-) */
    int32_t *R, *Ra;           /* recovery column sums of a whole tile (dense recovery) */
    int32_t *acc32;            /* one chunk's shift-added sums of a tile, when they fit */
    uint16_t *fail;            /* failed speculations: mm * TILE_N + nn */
    int32_t *fs, *fa;          /* recovery column sums (and N+ + N-) of the failures */
    int64_t *facc;             /* their shift-added values */
    int64_t *fconst;           /* their complemented-column constants */
    int32_t *frest, *frest_abs; /* speculative sums minus the recovery sums so far */
    uint64_t *fvec;            /* their global vector indices (noise keys) */
    uint32_t *fch;             /* their channels */
    double *fz;                /* their noise */
    uint8_t *mag;              /* one vector's input magnitudes in this phase */
    uint16_t *pulses;          /* one chunk's DAC pulses per row, all cycles */
    double *z;                 /* noise normals of a tile */
    int64_t *ftot;             /* complemented-column constants of a tile's rows */
    uint32_t *hist;            /* CIM_HIST_SLOTS counters, flushed into st.hist */
    uint64_t bits_out[CIM_HIST_BITS];
    uint64_t hist_pending;     /* increments since the last flush */
    int64_t bad_value;         /* a psum outside int32, at vector bad_m, channel bad_n */
    int bad_m, bad_n, bad;
    cim_stats st;
} worker;

typedef struct {
    cim_layer *L;
    const cim_kernel *kern;
    const cim_stage *stage;
    cim_adc adc;
    int noise, hist;
    int acc32;                 /* one chunk's sums provably fit int32 */
    int32_t hist_base;         /* the histogram's pair window, [base, base + 255] */
    int phases, nplanes, ms;
    uint64_t vector_offset;
    size_t plane_stride;       /* bytes between planes: ms * kp_total */
    uint8_t *planes;           /* [plane][ms][kp_total] */
    int32_t *rs;               /* [plane][ms][nchunks]: slice sums per chunk */
    int64_t *insum;            /* [ms][nchunks]: input sums per chunk */
    int64_t *acc;              /* [ms][N] */
    int32_t *psum;             /* the caller's output, at the superblock's first vector */
    worker *w;
    int nworkers;
} run_state;

/* The buffers of a run, kept in the context between runs (a context is used by
 * one thread at a time) so that runs of many small batches allocate nothing. */
struct cim_run_ws {
    int nworkers;
    size_t planes_cap, rs_cap, insum_cap, acc_cap, mag_cap, pulses_cap;
    uint8_t *planes;
    int32_t *rs;
    int64_t *insum, *acc;
    worker *w;
};

void cim_run_options_default(cim_run_options *o)
{
    memset(o, 0, sizeof *o);
    o->histogram = 1;
}

static void free_worker(cim_ctx *ctx, worker *w)
{
    void *aligned[] = {w->S, w->St, w->Ab, w->At, w->R, w->acc32, w->Ra};
    void *plain[] = {w->hist, w->fs, w->fa, w->facc, w->fconst, w->frest, w->frest_abs, w->fvec,
                     w->fch, w->fz, w->mag, w->pulses, w->fail, w->z, w->ftot};
    for (size_t i = 0; i < sizeof aligned / sizeof aligned[0]; i++)
        cim__aligned_free(ctx, aligned[i]);
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
        cim__free(ctx, plain[i]);
}

void cim__run_ws_free(cim_ctx *ctx)
{
    cim_run_ws *ws = ctx->ws;
    if (!ws)
        return;
    if (ws->w)
        for (int t = 0; t < ws->nworkers; t++)
            free_worker(ctx, &ws->w[t]);
    cim__free(ctx, ws->w);
    cim__aligned_free(ctx, ws->planes);
    cim__free(ctx, ws->rs);
    cim__free(ctx, ws->insum);
    cim__free(ctx, ws->acc);
    cim__free(ctx, ws);
    ctx->ws = NULL;
}

/* The tile-sized buffers of one worker. */
static cim_status alloc_worker(cim_ctx *ctx, worker *w)
{
    const size_t nt = (size_t)TILE_M * TILE_N, tile = nt * sizeof(int32_t);
    w->S = cim__aligned_alloc(ctx, tile);
    w->St = cim__aligned_alloc(ctx, tile);
    w->Ab = cim__aligned_calloc(ctx, tile); /* read (not used) by the ADC stage with noise off */
    w->At = cim__aligned_alloc(ctx, tile);
    w->R = cim__aligned_alloc(ctx, tile);
    w->Ra = cim__aligned_alloc(ctx, tile);
    w->acc32 = cim__aligned_alloc(ctx, tile);
    w->fail = cim__malloc(ctx, nt * sizeof(uint16_t));
    w->z = cim__calloc(ctx, nt, sizeof(double));
    w->ftot = cim__calloc(ctx, TILE_M, sizeof(int64_t));
    w->hist = cim__calloc(ctx, CIM_HIST_TABLE, sizeof(uint32_t));
    w->fs = cim__malloc(ctx, nt * sizeof(int32_t));
    w->fa = cim__calloc(ctx, nt, sizeof(int32_t));
    w->facc = cim__malloc(ctx, nt * sizeof(int64_t));
    w->fconst = cim__malloc(ctx, nt * sizeof(int64_t));
    w->frest = cim__malloc(ctx, nt * sizeof(int32_t));
    w->frest_abs = cim__calloc(ctx, nt, sizeof(int32_t));
    w->fvec = cim__malloc(ctx, nt * sizeof(uint64_t));
    w->fch = cim__malloc(ctx, nt * sizeof(uint32_t));
    w->fz = cim__calloc(ctx, nt, sizeof(double));
    if (!w->S || !w->St || !w->Ab || !w->At || !w->R || !w->Ra || !w->acc32 || !w->fail || !w->z || !w->ftot ||
        !w->hist || !w->fs || !w->fa || !w->facc || !w->fconst || !w->frest || !w->frest_abs || !w->fvec ||
        !w->fch || !w->fz)
        return CIM_ERR_NOMEM;
    return CIM_OK;
}

/* Make *p hold at least `need` bytes (contents not kept). */
static int grow(cim_ctx *ctx, void **p, size_t *cap, size_t need, int aligned)
{
    if (*cap >= need && *p)
        return 0;
    if (aligned)
        cim__aligned_free(ctx, *p);
    else
        cim__free(ctx, *p);
    *p = aligned ? cim__aligned_alloc(ctx, need) : cim__malloc(ctx, need);
    *cap = *p ? need : 0;
    return *p ? 0 : -1;
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
    R->nworkers = ctx->threads;

    cim_run_ws *ws = ctx->ws;
    if (ws && ws->nworkers != R->nworkers) {
        cim__run_ws_free(ctx);
        ws = NULL;
    }
    if (!ws) {
        ws = cim__calloc(ctx, 1, sizeof *ws);
        if (!ws)
            return CIM_ERR_NOMEM;
        ctx->ws = ws;
        ws->nworkers = R->nworkers;
        ws->w = cim__calloc(ctx, (size_t)R->nworkers, sizeof(worker));
        if (!ws->w) {
            cim__run_ws_free(ctx);
            return CIM_ERR_NOMEM;
        }
        for (int t = 0; t < R->nworkers; t++)
            if (alloc_worker(ctx, &ws->w[t])) {
                cim__run_ws_free(ctx);
                return CIM_ERR_NOMEM;
            }
    }
    size_t rows = (size_t)L->cfg.rows;
    int bad = grow(ctx, (void **)&ws->planes, &ws->planes_cap, R->plane_stride * (size_t)R->nplanes, 1) ||
              grow(ctx, (void **)&ws->rs, &ws->rs_cap, (size_t)R->nplanes * ms * (size_t)L->nchunks * sizeof(int32_t), 0) ||
              grow(ctx, (void **)&ws->insum, &ws->insum_cap, ms * (size_t)L->nchunks * sizeof(int64_t), 0) ||
              grow(ctx, (void **)&ws->acc, &ws->acc_cap, ms * (size_t)L->N * sizeof(int64_t), 0);
    for (int t = 0; t < R->nworkers && !bad; t++) {
        size_t mcap = ws->mag_cap, pcap = ws->pulses_cap;
        bad = grow(ctx, (void **)&ws->w[t].mag, &mcap, (size_t)L->K, 0) ||
              grow(ctx, (void **)&ws->w[t].pulses, &pcap, rows * sizeof(uint16_t), 0);
        if (t == R->nworkers - 1 && !bad) {
            ws->mag_cap = mcap;
            ws->pulses_cap = pcap;
        }
    }
    if (bad) { /* keep nothing half-grown */
        cim__run_ws_free(ctx);
        return CIM_ERR_NOMEM;
    }
    R->planes = ws->planes;
    R->rs = ws->rs;
    R->insum = ws->insum;
    R->acc = ws->acc;
    R->w = ws->w;
    for (int t = 0; t < R->nworkers; t++) {
        memset(&R->w[t].st, 0, sizeof R->w[t].st);
        R->w[t].hist_pending = 0;
        R->w[t].bad = 0;
    }
    return CIM_OK;
}

static inline cim_slice plane_bits(const cim_layer *L, int q)
{
    return q < L->nis ? L->is[q] : L->rec[q - L->nis].bits;
}

/* Step 1 for vector gm of the superblock: its planes, slice sums, input sums,
 * and the counters that depend only on the inputs. */
CIM_CLONES static void build_vector(run_state *R, worker *w, const uint8_t *x, int gm, int phase)
{
    const cim_layer *L = R->L;
    uint64_t pulses_all = 0, devact = 0;
    uint8_t *mag = w->mag;
    if (L->in_enc == CIM_IN_UNSIGNED) {
        memcpy(mag, x, (size_t)L->K);
    } else {
        const int zx = L->cfg.zx;
        for (int k = 0; k < L->K; k++) {
            int d = x[k] - zx;
            mag[k] = (uint8_t)(phase == 0 ? (d > 0 ? d : 0) : (d < 0 ? -d : 0));
        }
    }
    for (int c = 0; c < L->nchunks; c++) {
        int k0 = L->chunk_k0[c], rows = L->chunk_k0[c + 1] - k0;
        const uint8_t *a = mag + k0;
        const uint64_t *lev = L->rowlevel + k0;
        int64_t isum = 0;
        for (int k = 0; k < rows; k++)
            isum += a[k];
        R->insum[(size_t)gm * (size_t)L->nchunks + (size_t)c] = isum;
        uint16_t *pulses = w->pulses; /* every cycle's pulses on each row of the chunk */
        memset(pulses, 0, (size_t)rows * sizeof(uint16_t));
        for (int q = 0; q < R->nplanes; q++) {
            cim_slice b = plane_bits(L, q);
            const unsigned mask = (1u << b.width) - 1;
            uint8_t *dst = R->planes + (size_t)q * R->plane_stride + (size_t)gm * (size_t)L->kp_total +
                           (size_t)L->chunk_off[c];
            int32_t sum = 0;
            for (int k = 0; k < rows; k++) {
                unsigned v = ((unsigned)a[k] >> b.lo) & mask;
                dst[k] = (uint8_t)v;
                sum += (int32_t)v;
                pulses[k] = (uint16_t)(pulses[k] + v);
            }
            /* the kernels read whole padded chunks: the padding must be zero (the
             * buffer is reused across layers) */
            memset(dst + rows, 0, (size_t)(L->chunk_kp[c] - rows));
            R->rs[((size_t)q * (size_t)R->ms + (size_t)gm) * (size_t)L->nchunks + (size_t)c] = sum;
            pulses_all += (uint64_t)sum;
        }
        for (int k = 0; k < rows; k++)
            devact += (uint64_t)pulses[k] * lev[k];
    }
    w->st.dac_pulses += pulses_all * (uint64_t)L->xbars_per_chunk;
    w->st.device_activations += devact;
    w->st.crossbar_cycles += (uint64_t)L->info.crossbars * (uint64_t)R->nplanes;
    int needs_sums = L->cfg.encoding != CIM_ENC_DIFFERENTIAL;
    w->st.input_sum_adds += (uint64_t)L->K * ((uint64_t)needs_sums + (L->cfg.flip ? (uint64_t)R->nplanes : 0));
}

/* Column sums S (and N+ + N- into Ab when noise is on) of plane q, chunk c,
 * weight slice i, for tile rows m0.. (mc of them) and panels from n0 (np wide). */
static void tile_colsums(run_state *R, worker *w, int q, int c, int i, int m0, int mc, int n0, int np,
                         int32_t *S, int32_t *Ab)
{
    const cim_layer *L = R->L;
    int kp = L->chunk_kp[c];
    const uint8_t *A = R->planes + (size_t)q * R->plane_stride + (size_t)m0 * (size_t)L->kp_total +
                       (size_t)L->chunk_off[c];
    size_t panel = (size_t)(n0 / CIM_KERNEL_NR) * (size_t)(kp / CIM_KERNEL_KR) * 64;
    /* offset encoding stores only non-negative levels: N+ + N- = N+ = S */
    int offset = L->cfg.encoding == CIM_ENC_OFFSET;
    for (int abs_pass = 0; abs_pass <= (R->noise && !offset); abs_pass++) {
        const int8_t *B = abs_pass ? L->Babs : L->Bp;
        int32_t *dst = abs_pass ? Ab : S, *tmp = abs_pass ? w->At : w->St;
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
    if (R->noise && offset)
        for (int mm = 0; mm < mc; mm++)
            memcpy(Ab + mm * TILE_N, S + mm * TILE_N, (size_t)np * sizeof(int32_t));
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
        if (R->noise && L->Bcabs) {
            int32_t va = R->kern->dot_u8s8(kp, a, L->Bcabs + base);
            *ab = L->part_count[i] == 2 && p == 0 ? 16 * va : *ab + va;
        }
    }
    if (R->noise && !L->Bcabs) /* offset: N+ + N- = S */
        *ab = *s;
}

static inline int64_t pow2(int e) { return (int64_t)1 << e; }

/* Fold a worker's compact histogram into its stats (semantics.md section 9):
 * the single-value tables, then the pair table into the window's bins. */
static void flush_hist(worker *w, int32_t base)
{
    cim_histogram *h = &w->st.hist;
    if (base != CIM_HIST_NO_PAIRS) {
        const uint32_t *pairs = w->hist + CIM_HIST_WAYS * CIM_HIST_SLOTS;
        uint64_t win[256] = {0};
        for (int a = 0; a < 256; a++)
            for (int b = 0; b < 256; b++) {
                uint32_t c = pairs[a << 8 | b];
                win[a] += c;
                win[b] += c;
            }
        for (int v = 0; v < 256; v++)
            if (win[v]) { /* the window lies inside the exact bins */
                h->bins[base + v - CIM_HIST_MIN] += win[v];
                h->bits[cim__bits_of(base + v)] += win[v];
            }
        memset(w->hist + CIM_HIST_WAYS * CIM_HIST_SLOTS, 0, (CIM_HIST_PAIRS + 1) * sizeof(uint32_t));
    }
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

/* Recovery of the failed columns of one (chunk c, weight slice i, speculative
 * slice j) tile: each failed column's bits of slice j are re-run as recovery
 * slices and only that column converts; a saturated recovery is kept clamped.
 * The exact sums of all recovery slices but the last come from the kernels
 * (one dot product per failure when failures are few, whole-tile calls when
 * they are many); the last (least significant) one is the speculative sum
 * minus the others, exactly. All failures of one recovery slice go through the
 * ADC stage together, and each failure's total is added once. */
CIM_CLONES static void recover(run_state *R, worker *w, uint64_t sb_vector, int tm0, int mc, int n0, int nc, int np, int c,
                    int i, int j, int phase, int nfail, const uint8_t *flip, cim_noise_key key)
{
    const cim_layer *L = R->L;
    int64_t sign = phase ? -1 : 1, flipmax = pow2(L->ws[i].width) - 1;
    int dense = nfail * 8 > mc * nc, rc = L->rec_count[j];
    cim_adc_counts cnt = {0, 0};
    uint32_t *hist = R->hist ? w->hist : NULL;
    for (int f = 0; f < nfail; f++) {
        w->fch[f] = (uint32_t)(n0 + w->fail[f] % TILE_N);
        w->frest[f] = w->S[w->fail[f]];
    }
    memset(w->facc, 0, (size_t)nfail * sizeof(int64_t));
    if (flip)
        memset(w->fconst, 0, (size_t)nfail * sizeof(int64_t));
    if (R->noise)
        for (int f = 0; f < nfail; f++) {
            w->fvec[f] = sb_vector + (uint64_t)(tm0 + w->fail[f] / TILE_N);
            w->frest_abs[f] = w->Ab[w->fail[f]];
        }
    for (int r = 0; r < rc; r++) {
        int q = L->nis + L->rec_first[j] + r;
        const cim_recovery_slice *rec = &L->rec[L->rec_first[j] + r];
        int rel = rec->bits.lo - L->is[j].lo; /* place value inside the speculative slice */
        const int32_t *fs = w->fs, *fa = w->fa;
        if (r == rc - 1) { /* the last slice sits at the bottom (rel == 0): what is left */
            fs = w->frest;
            fa = w->frest_abs;
        } else {
            if (dense) {
                tile_colsums(R, w, q, c, i, tm0, mc, n0, np, w->R, w->Ra);
                for (int f = 0; f < nfail; f++)
                    w->fs[f] = w->R[w->fail[f]];
                if (R->noise)
                    for (int f = 0; f < nfail; f++)
                        w->fa[f] = w->Ra[w->fail[f]];
            } else {
                for (int f = 0; f < nfail; f++)
                    dot_colsum(R, q, c, i, tm0 + w->fail[f] / TILE_N, (int)w->fch[f], &w->fs[f], &w->fa[f]);
            }
            for (int f = 0; f < nfail; f++)
                w->frest[f] -= w->fs[f] * (1 << rel);
            if (R->noise)
                for (int f = 0; f < nfail; f++)
                    w->frest_abs[f] -= w->fa[f] * (1 << rel);
        }
        if (R->noise) {
            key.islice = 0x100u | (uint32_t)j << 4 | (uint32_t)rec->index;
            R->stage->noise_points(&key, w->fvec, w->fch, nfail, w->fz);
        }
        int64_t weight = sign * pow2(L->ws[i].lo + rec->bits.lo);
        cim_adc_row a = {(int32_t)R->adc.qmin, (int32_t)R->adc.qmax, R->adc.t, weight, NULL, 0, R->adc.level,
                         R->hist_base};
        R->stage->adc_tile(&a, NULL, 1, nfail, fs, fa, w->fz, 0, w->facc, 0, NULL, 0, hist, w->bits_out, &cnt);
        if (flip) /* a complemented column's value is weight * (S_total - q 2^t) */
            for (int f = 0; f < nfail; f++)
                w->fconst[f] += weight * flipmax *
                                R->rs[((size_t)q * (size_t)R->ms + (size_t)(tm0 + w->fail[f] / TILE_N)) * (size_t)L->nchunks + (size_t)c];
    }
    for (int f = 0; f < nfail; f++) {
        int nn = w->fail[f] % TILE_N;
        int64_t v = flip && flip[nn] ? w->fconst[f] - w->facc[f] : w->facc[f];
        R->acc[(size_t)(tm0 + w->fail[f] / TILE_N) * (size_t)L->N + (size_t)(n0 + nn)] += v;
    }
    w->hist_pending += (uint64_t)nfail * (uint64_t)rc;
    w->st.adc_converts_recovery += (uint64_t)nfail * (uint64_t)rc;
    w->st.saturations += cnt.saturations;
    w->st.saturations_recovery += cnt.saturations;
    w->st.true_clips += cnt.clips;
}

/* Whether one chunk's shift-added ADC outputs of one phase provably fit in
 * int32 (with a factor 2 to spare), so tiles may accumulate them 32 bits wide.
 * Per (weight slice i, input slice j) a converted value is at most
 * max|code| 2^t, plus (2^s_i - 1)(2^w_j - 1) rows for a complemented column;
 * a failed speculation adds its recovery slices' terms instead. */
static int fits_int32(const cim_layer *L, const cim_adc *adc)
{
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

/* Steps 3 and 4 of a tile: the digital terms of this phase (semantics.md
 * sections 2-3) and, after the last phase, the psums checked against int32.
 * Integer loops the compiler vectorizes; cloned per ISA (same results). */
CIM_CLONES static void tile_epilogue(run_state *R, worker *w, int tm0, int mc, int n0, int nc, int phase)
{
    const cim_layer *L = R->L;
    const int64_t sign = phase ? -1 : 1;
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
        const int64_t *restrict acc = R->acc + (size_t)(tm0 + mm) * (size_t)L->N + (size_t)n0;
        int32_t *restrict out = R->psum + (size_t)(tm0 + mm) * (size_t)L->N + (size_t)n0;
        int64_t lo = 0, hi = 0;
        for (int nn = 0; nn < nc; nn++) {
            lo = acc[nn] < lo ? acc[nn] : lo;
            hi = acc[nn] > hi ? acc[nn] : hi;
            out[nn] = (int32_t)acc[nn];
        }
        if ((lo < INT32_MIN || hi > INT32_MAX) && !w->bad)
            for (int nn = 0; nn < nc; nn++)
                if (acc[nn] < INT32_MIN || acc[nn] > INT32_MAX) {
                    w->bad = 1;
                    w->bad_value = acc[nn];
                    w->bad_m = tm0 + mm;
                    w->bad_n = n0 + nn;
                    break;
                }
    }
}

/* Step 2: one tile (rows tm0.. of the superblock, channels n0..), one phase. */
CIM_CLONES static void run_tile(run_state *R, worker *w, uint64_t sb_vector, int tm0, int mc, int n0, int phase)
{
    const cim_layer *L = R->L;
    int nc = L->N - n0 < TILE_N ? L->N - n0 : TILE_N;
    int np = (int)cim__round_up((size_t)nc, CIM_KERNEL_NR);
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
            memset(w->acc32, 0, (size_t)mc * TILE_N * sizeof(int32_t));
        for (int i = 0; i < L->nws; i++) {
            const uint8_t *flip = L->cfg.flip ? L->flip + ((size_t)c * (size_t)L->nws + (size_t)i) * (size_t)L->N + (size_t)n0 : NULL;
            int64_t flipmax = pow2(L->ws[i].width) - 1;
            for (int j = 0; j < L->nis; j++) {
                cim_adc_counts cnt = {0, 0};
                cim_adc_row a = {(int32_t)R->adc.qmin, (int32_t)R->adc.qmax, R->adc.t,
                                 sign * pow2(L->ws[i].lo + L->is[j].lo), flip, L->rec_count[j] > 0, R->adc.level,
                                 R->hist_base};
                int nfail;
                tile_colsums(R, w, j, c, i, tm0, mc, n0, np, w->S, w->Ab);
                key.chunk = (uint32_t)c;
                key.wslice = (uint32_t)i;
                key.islice = (uint32_t)j;
                if (R->noise) {
                    key.vector = sb_vector + (uint64_t)tm0;
                    R->stage->noise_tile(&key, mc, (uint32_t)n0, nc, w->z, TILE_N);
                }
                if (flip)
                    for (int mm = 0; mm < mc; mm++)
                        w->ftot[mm] = flipmax * R->rs[((size_t)j * (size_t)R->ms + (size_t)(tm0 + mm)) * (size_t)L->nchunks + (size_t)c];
                if (R->acc32)
                    nfail = R->stage->adc_tile32(&a, w->ftot, mc, nc, w->S, w->Ab, w->z, TILE_N, w->acc32, TILE_N,
                                                 w->fail, TILE_N, hist, w->bits_out, &cnt);
                else
                    nfail = R->stage->adc_tile(&a, w->ftot, mc, nc, w->S, w->Ab, w->z, TILE_N,
                                               R->acc + (size_t)tm0 * (size_t)L->N + (size_t)n0, (size_t)L->N, w->fail,
                                               TILE_N, hist, w->bits_out, &cnt);
                w->hist_pending += (uint64_t)mc * (uint64_t)nc;
                w->st.adc_converts_speculative += (uint64_t)mc * (uint64_t)nc;
                w->st.saturations += cnt.saturations;
                w->st.true_clips += cnt.clips;
                w->st.speculation_failures += (uint64_t)nfail;
                if (nfail)
                    recover(R, w, sb_vector, tm0, mc, n0, nc, np, c, i, j, phase, nfail, flip, key);
            }
        }
        if (R->acc32)
            for (int mm = 0; mm < mc; mm++) {
                int64_t *acc = R->acc + (size_t)(tm0 + mm) * (size_t)L->N + (size_t)n0;
                const int32_t *a32 = w->acc32 + mm * TILE_N;
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
    R.vector_offset = opts->vector_offset;
    cim__adc_init(&R.adc, L->cfg.adc.bits, L->cfg.adc.is_signed, L->cfg.adc.drop_lsbs,
                  R.noise ? L->cfg.noise.level : 0.0);
    R.acc32 = !opts->wide_accumulators && fits_int32(L, &R.adc);
    /* The pair histogram pays where column sums are confined to a 256-value
     * window: an unsigned ADC whose codes span at most 256 sums (ISAAC-like;
     * there a sum beyond the window is clipped, so rare). Elsewhere (signed ADCs,
     * whose speculative sums spread past their range) sums count one by one.
     * Either way every sum is counted exactly. */
    R.hist_base = !R.adc.qmin && ((R.adc.qmax + 1) << R.adc.t) <= 256 ? 0 : CIM_HIST_NO_PAIRS;
    cim_status st = alloc_state(ctx, &R, M);
    if (st)
        return st;

    int ntn = (L->N + TILE_N - 1) / TILE_N;
    for (int m0 = 0; m0 < M && st == CIM_OK; m0 += R.ms) {
        int mcount = M - m0 < R.ms ? M - m0 : R.ms;
        int ntm = (mcount + TILE_M - 1) / TILE_M;
        uint64_t sb_vector = R.vector_offset + (uint64_t)m0;
        R.psum = psum + (size_t)m0 * (size_t)L->N;
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
