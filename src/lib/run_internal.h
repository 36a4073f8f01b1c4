/* run_internal.h: what run.c, run_ws.c and recover.c share: the tile sizes,
 * the per-thread worker buffers and the state of one run. */
#ifndef CIMSIM_RUN_INTERNAL_H
#define CIMSIM_RUN_INTERNAL_H

#include "layer_internal.h"
#include "adc.h"
#include "adc_row.h"
#include "phys.h"

/* TILE_M x TILE_N: a tile of column sums. A layer of one channel (a depthwise
 * group) runs taller tiles of up to TILE_TALL rows of one column (run_state.tm),
 * which fit the same buffers at row stride 1 (cim__tile_ld). */
enum { TILE_M = 32, TILE_N = 128, TILE_TALL = 256, PLANE_BUDGET = 32 << 20, CIM_TAB_ROWS = 64 };


typedef struct {
    int32_t *S, *St, *Ab, *At; /* TILE_M x TILE_N column sums (and parts, and N+ + N-) */
    int32_t *R, *Ra;           /* recovery column sums of a whole tile (dense recovery) */
    int32_t *acc32;            /* one chunk's shift-added sums of a tile, when they fit (rows ld apart) */
    uint16_t *fail;            /* failed speculations: mm * TILE_N + nn */
    uint32_t *frow;            /* their vectors in the superblock */
    int32_t *fs, *fa;          /* recovery column sums (and N+ + N-) of the failures, [slice][failure] */
    int32_t *fpart;            /* the low parts of 8-bit slices' sums (and of N+ + N-) */
    int64_t *facc;             /* their shift-added values */
    int32_t *facc32;           /* the same, 32 bits wide when the run's tiles are */
    int64_t *fconst;           /* their complemented-column constants */
    int32_t *frest, *frest_abs; /* speculative sums minus the recovery sums so far */
    uint64_t *fvec;            /* their global vector indices (noise keys) */
    uint32_t *fch;             /* their channels */
    float *fz;                 /* their noise */
    float *dev, *zp;           /* physical models (phys.h): a tile's ADC-input deviations and normals */
    float *fdev, *fzp, *fds, *fvar; /* the same for the failures' recovery slices, [slice][failure] */
    float *fdt, *fvt;          /* recovery slices' sums of whole tile rows, [slice][mm][TILE_N] */
    int *fwhich;               /* the failures summed one by one */
    float *pscr;               /* 8 floats per crossbar row: input values of four vectors (phys_run.c) */
    int *pks;                  /* one int per crossbar row: their driven rows */
    size_t pscr_rows;          /* crossbar rows pscr and pks hold */
    uint8_t *mag;              /* one vector's input magnitudes in this phase */
    uint8_t *rplane;           /* a tile's rows of one recovery slice in one chunk (dense recovery) */
    uint16_t *pulses;          /* one chunk's DAC pulses per row, all cycles */
    float *z;                  /* noise normals of a tile */
    uint16_t *qu;              /* or its uniforms for the ADC-output draw (qnoise.h) */
    int64_t *ftot;             /* complemented-column constants of a tile's rows (TILE_TALL) */
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
    const cim_phys *phys;      /* the physical models (phys.h), or NULL: the exact integer path */
    const cim_qtab *qt;        /* gaussian_colsum drawn at the ADC's output (qnoise.h), or NULL */
    int acc32;                 /* one chunk's sums provably fit int32 */
    int32_t hist_base;         /* the histogram's pair window, [base, base + 255] */
    int phases, nplanes, ms;
    int tm;                    /* tile rows: TILE_M, or up to TILE_TALL for a one-channel layer */
    uint64_t vector_offset;
    size_t plane_stride;       /* bytes between planes: ms * kp_total */
    uint8_t *planes;           /* [speculative or static slice][ms][kp_total]; recovery slices
                                  are bit fields of their speculative slice's bytes */
    int32_t *rs;               /* [plane][ms][nchunks]: slice sums per chunk, recovery slices too
                                * (read for complemented columns only; small chunks skip them without) */
    int64_t *insum;            /* [ms][nchunks]: input sums per chunk */
    int64_t *acc;              /* [ms][N] */
    int32_t *psum;             /* the caller's output, at the superblock's first vector */
    /* Small chunks (fewer than CIM_TAB_ROWS rows, such as a depthwise
     * convolution's 9): every plane's value of an input byte from one table
     * (build_vectors), 8-bit lanes, 8 planes per word; tab_block rows fit the
     * lanes. tab_ok: at most 16 planes. */
    int tab_ok, tab_block;
    int pulse_bytes;           /* a byte's pulses over all planes fit a byte (build_vectors) */
    unsigned rec_bits;         /* the bits of all recovery slices when each is one bit wide (their
                                  pulses are then popcount(x & rec_bits)), else 0 */
    uint16_t ptab[256];        /* a byte's DAC pulses over all planes */
    uint64_t stab[256][2];     /* a byte's plane values, plane q in byte q % 8 of word q / 8 */
    worker *w;
    int nworkers;
} run_state;

/* The buffers of a run, kept in the context between runs (a context is used by
 * one thread at a time) so that runs of many small batches allocate nothing. */
struct cim_run_ws {
    int nworkers;
    size_t planes_cap, rs_cap, insum_cap, acc_cap, mag_cap, pulses_cap, rplane_cap;
    uint8_t *planes;
    int32_t *rs;
    int64_t *insum, *acc;
    worker *w;
};

/* The noise.h islice bit of the physical models' per-operation normals (a
 * stream apart from gaussian_colsum's: islice values otherwise stay below 0x200). */
#define CIM_PHYS_STREAM 0x800u

static inline int64_t cim__pow2(int e) { return (int64_t)1 << e; }

/* run_ws.c: size the context's run buffers for this run and point R at them. */
cim_status cim__run_alloc(cim_ctx *ctx, run_state *R, int M);

/* run.c: column sums of plane q (a static or speculative slice), chunk c,
 * weight slice i for tile rows m0.. (mc of them) and panels from n0 (np wide)
 * into S (and N+ + N- into Ab with noise); the same for recovery slice r of
 * speculative slice j (its rows built from the speculative bytes); such sums
 * of recovery slices r0.. of speculative slice j for scattered (vector,
 * channel) pairs. */
void cim__tile_colsums(run_state *R, worker *w, int q, int c, int i, int m0, int mc, int n0, int np, int32_t *S,
                       int32_t *Ab, int ld);
void cim__tile_colsums_rec(run_state *R, worker *w, int j, int r, int c, int i, int m0, int mc, int n0, int np,
                           int32_t *S, int32_t *Ab);
void cim__gather_colsums(run_state *R, worker *w, int j, int r0, int nr, int c, int i, int count,
                         const uint32_t *row, const uint32_t *col, int32_t *s, int32_t *ab);

/* The row stride of a tile's sums S, N+ + N-, normals and uniforms: the
 * tile's panel width (its channels rounded up to whole 16-wide panels), or 1
 * for a tile of one channel (a depthwise group), so that a narrow tile's rows
 * lie side by side and the ADC stage reads them as one block without copies;
 * TILE_N when a physical model runs (those read the tile at TILE_N). A
 * failure's index is always mm * TILE_N + nn (w->fail); the tile's 32-bit
 * accumulators (w->acc32) have the same row stride ld. */
_Static_assert(TILE_TALL * TILE_N <= 65536 && TILE_TALL <= TILE_M * TILE_N, "tall tiles: uint16 failure indices, tile buffers");
static inline int cim__tile_ld(const run_state *R, int nc)
{
    if (R->phys)
        return TILE_N;
    return nc == 1 ? 1 : (int)cim__round_up((size_t)nc, CIM_KERNEL_NR);
}

/* recover.c: dynamic input slicing's recovery of the nfail failed columns
 * (w->fail) of one (chunk c, weight slice i, speculative slice j) tile. */
void cim__recover(run_state *R, worker *w, uint64_t sb_vector, int tm0, int mc, int n0, int nc, int np, int c, int i,
                  int j, int phase, int nfail, const uint8_t *flip, cim_noise_key key);

#endif
