/* cimsim/compile.h: RAELLA's compiler, Adaptive Weight Slicing (thesis
 * section 4.2, Algorithm 1) over a whole network.
 *
 * For every weight layer, the compiler simulates the layer on the
 * activations that reach it from a few calibration samples (digital
 * reference activations, so each layer is judged alone), with 1-bit input
 * slices and no speculation, under every weight slicing of the 8 magnitude
 * bits into pieces of at most the arch's cell bits (108 for 4-bit cells),
 * from the fewest slices up. Each candidate gets its own Center+Offset
 * centers (Eq. 4.2). The error is semantics.md section 10's: the mean
 * |y_analog - y_exact| of the layer's 8-bit outputs whose exact value is not
 * the output zero point. The first slice count with a slicing under the
 * budget wins, and among its slicings the lowest error (ties: the first in
 * enumeration order); with none under budget at any count, the lowest error
 * of all. The last weight layer keeps the arch's `last` slicing (eight 1-bit
 * slices in the RAELLA presets) and is measured, not searched. With noise in
 * the arch, candidates are simulated with that noise (thesis 7.3: more
 * slices at high noise).
 *
 * Candidates of large layers are judged in stages, which gives the same
 * choice with less simulation: each first runs on the first eighth of the
 * vectors (the rest of its products taken exact), which bounds its error from
 * below; then they are finished in increasing order of that bound, and one
 * whose bound already exceeds the budget, or the error of a finished
 * candidate within the budget, is not finished (it can be neither).
 *
 * A plan records, per layer, the slicing, its error, the time taken and the
 * centers; cim_eval_options.plan runs a network with it. A plan names the
 * model it was made for (file name and CRC-32 of its bytes): loading it for
 * another model is an error.
 */
#ifndef CIMSIM_COMPILE_H
#define CIMSIM_COMPILE_H

#include <stdint.h>
#include "config.h"
#include "net.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cim_compile_options {
    double budget;   /* error budget (semantics.md section 10); default 0.09 */
    int calib;       /* calibration samples (the first `calib` of the dataset); default 10 */
    int exhaustive;  /* nonzero: simulate every slicing whole (no early stop, no stages);
                        same choice, slower */
    uint64_t staged_min_macs; /* judge candidates in stages in layers of at least this many
                                 multiply-accumulates per candidate run (default 2^24; below,
                                 a second programming would cost more than stages save;
                                 0: every layer) */
    int progress;    /* nonzero: one line per layer on stderr */
} cim_compile_options;

void cim_compile_options_default(cim_compile_options *o);

/* Number of slicings of `bits` magnitude bits into widths 1..cell_bits
 * (compositions; 108 for 8 and 4), and slicing number `index` of them in the
 * compiler's order (fewest slices first; within a count, lexicographically
 * descending widths, e.g. 4,4 then 4,3,1 ...): widths into w[], returns the
 * count of slices, or 0 when index is out of range. */
int cim_slicing_count(int bits, int cell_bits);
int cim_slicing_get(int bits, int cell_bits, int index, int w[CIM_MAX_SLICES]);

typedef struct cim_plan_layer {
    char name[CIM_LAYER_NAME_MAX];
    int node;              /* node index in the model's graph order */
    int groups, K, N;      /* per group */
    int n_weight_slices;   /* the chosen slicing, most significant first */
    int weight_slices[CIM_MAX_SLICES];
    double error;          /* its measured error */
    int within_budget;     /* error <= budget */
    int tried;             /* slicings simulated */
    int whole;             /* of them, simulated on every calibration vector (the rest were
                              ruled out after their first stage; see above) */
    int searched;          /* 0: kept the arch's slicing (the last layer, or a fixed-slicing arch) */
    double seconds;        /* time spent on the layer */
    int nchunks;           /* row chunks per group */
    int16_t *centers;      /* [groups][nchunks][N] center_offset centers; NULL for other encodings */
} cim_plan_layer;

typedef struct cim_plan {
    char model[256];       /* the model's file name (no directory) */
    uint32_t model_crc;    /* CRC-32 (zlib) of the model file's bytes */
    char arch[CIM_LAYER_NAME_MAX];
    char dataset[256];
    int calib;
    double budget;
    double noise_level;    /* the arch's noise level E the plan was chosen under */
    double seconds;        /* the whole compile */
    int n_layers;
    cim_plan_layer *layers; /* in graph order */
} cim_plan;

/* Compile `net` for `arch` with calibration samples from `dataset` (as
 * cim_net_eval takes it). The arch's encoding, crossbar size, cell bits, ADC
 * and noise apply; its input slicing and speculation do not (1-bit slices). */
cim_status cim_compile(cim_ctx *ctx, cim_net *net, const cim_arch *arch, const char *dataset,
                       const cim_compile_options *opts, cim_plan **out);
void cim_plan_free(cim_ctx *ctx, cim_plan *plan);

/* JSON: {model, model_crc32, arch, dataset, calib, budget, noise_level,
 * seconds, layers: [{name, node, groups, K, N, weight_slices, error,
 * within_budget, tried, whole, searched, ms, nchunks, centers}]} (whole is
 * optional on reading: plans of older versions read as tried). Written to a
 * temporary name and renamed. */
cim_status cim_plan_write_json(cim_ctx *ctx, const char *path, const cim_plan *plan);

/* Read a plan and check it against `net`: same model bytes (CRC-32), and
 * every layer's name, node, shape and centers' size as in the model; errors
 * name the file and field. */
cim_status cim_plan_load(cim_ctx *ctx, const char *path, const cim_net *net, cim_plan **out);

#ifdef __cplusplus
}
#endif

#endif
