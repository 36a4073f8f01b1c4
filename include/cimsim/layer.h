/* cimsim/layer.h: programming a weight layer into simulated crossbars and
 * running input vectors through it (docs/semantics.md sections 1-8).
 *
 *   psum[m][n] = sum_k (x[m][k] - zx) * (w[k][n] - zw[n])
 *
 * computed through the simulated crossbar: weights sliced into cells, inputs
 * sliced into DAC cycles, every column sum converted by the ADC, the digital
 * terms added back. With an ADC wide enough never to saturate and noise off
 * the result is exactly the integer product above.
 *
 * A programmed layer is read-only while it runs: several contexts (threads) may
 * run the same layer at once. Each context keeps its run buffers between runs.
 */
#ifndef CIMSIM_LAYER_H
#define CIMSIM_LAYER_H

#include <stdint.h>
#include "config.h"
#include "stats.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cim_layer cim_layer;

typedef enum cim_dtype {
    CIM_INT8 = 0,
    CIM_UINT8 = 1,
    CIM_INT32 = 2,
    CIM_FLOAT32 = 3, /* NPY files only */
    CIM_INT64 = 4    /* NPY files only (labels, ArgMax outputs) */
} cim_dtype;

/* Weight codes of one layer, row-major [K][N]: row k, output channel n. */
typedef struct cim_weights {
    const void *data;          /* int8 or uint8 codes */
    cim_dtype dtype;           /* CIM_INT8 or CIM_UINT8 */
    int K;                     /* rows (reduction length), >= 1 */
    int N;                     /* output channels, >= 1 */
    const int32_t *zero_point; /* per-channel zw[N], or NULL for all zero; zw must lie
                                  in the dtype's code range */
} cim_weights;

/* Program a layer: slice and encode the weights under cfg (validated here).
 * layer_id keys the noise generator (semantics.md section 8). centers, if not
 * NULL, gives the center_offset centers [chunks][N] (as cim_layer_centers
 * returns them) instead of searching Eq. (4.2). Errors: CIM_ERR_CONFIG,
 * CIM_ERR_ARG, CIM_ERR_RANGE (a weight that its encoding cannot store, e.g.
 * offset with zw != 0 putting w' outside [-128, 127]), CIM_ERR_NOMEM. */
cim_status cim_layer_program(cim_ctx *ctx, const cim_xbar_config *cfg, const cim_weights *w,
                             uint32_t layer_id, const int16_t *centers, cim_layer **out);

/* Free a layer (NULL allowed). */
void cim_layer_free(cim_ctx *ctx, cim_layer *layer);

/* The static mapping (crossbars, cells, levels, utilization). */
void cim_layer_info_get(const cim_layer *layer, cim_layer_info *info);

/* The config the layer was programmed with. */
const cim_xbar_config *cim_layer_config(const cim_layer *layer);

/* center_offset centers, [chunks][N] (row chunk c, channel n at c*N + n); NULL for
 * other encodings. Owned by the layer. */
const int16_t *cim_layer_centers(const cim_layer *layer);

/* Progress callback: called from the calling thread with vectors done so far and
 * the total; return nonzero to cancel (the run then fails with CIM_ERR_ARG and a
 * "cancelled" message, psum contents unspecified). */
typedef int (*cim_progress_fn)(void *ud, uint64_t done, uint64_t total);

typedef struct cim_run_options {
    uint64_t vector_offset; /* global index of x's first vector: keys the noise, so a
                               batch split gives the same bits as one whole batch */
    int histogram;          /* nonzero (default): fill stats->hist */
    int wide_accumulators;  /* nonzero: always accumulate in 64 bits (results are identical;
                               this exists so tests can prove it) */
    int physical;           /* nonzero: take the physical path (cimsim/analog.h, docs/analog.md)
                               even with every analog model off (then the bits are those of
                               the integer path; this exists so tests can prove it) */
    int normal_noise;       /* nonzero: draw gaussian_colsum as Box-Muller normals added before
                               the ADC even where cimsim draws the ADC's output directly
                               (ISAAC-like layers, docs/decisions.md): the same distribution,
                               other bits, slower. The physical path always draws normals. */
    cim_progress_fn progress;
    void *progress_ud;
} cim_run_options;

void cim_run_options_default(cim_run_options *o);

/* Run M input vectors x (uint8 codes, row-major [M][K]) through the layer and
 * write psum (int32, [M][N]). stats, if not NULL, is overwritten with this
 * call's counters. opts may be NULL (defaults). Errors: CIM_ERR_ARG,
 * CIM_ERR_RANGE (a psum outside int32), CIM_ERR_NOMEM. */
cim_status cim_layer_run(cim_ctx *ctx, cim_layer *layer, const uint8_t *x, int M,
                         int32_t *psum, cim_stats *stats, const cim_run_options *opts);

/* The exact digital result sum_k (x - zx)(w - zw) for the same layer, for
 * comparisons (no crossbar, no ADC, no noise). */
cim_status cim_layer_run_exact(cim_ctx *ctx, const cim_layer *layer, const uint8_t *x, int M,
                               int32_t *psum);

/* Eq. (4.2) of the RAELLA thesis: the center phi of one filter chunk of n
 * offsets w' (w' = w - zw, stride apart) for the weight slicing `slices`
 * (n_slices widths, MSB first, summing to 8), searched over integers phi in
 * [phi_min, phi_max]; ties go to the smallest |phi|, then the smaller phi. */
int cim_center_search(const int16_t *wprime, int n, int stride, const int *slices, int n_slices,
                      int phi_min, int phi_max);

#ifdef __cplusplus
}
#endif
#endif
