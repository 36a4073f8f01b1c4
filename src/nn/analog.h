/* analog.h: the analog executor. It plugs into nn_mvm (nn.h) so that every
 * integer matrix product with constant weights runs on simulated crossbars
 * (libcimsim's cim_layer_run) under a per-layer config of a cim_arch; the
 * rest of the graph stays digital.
 *
 * Each (node, group) is programmed once, at its first product, with the
 * layer's config from cim_arch_layer_config (first/last: the first and last
 * node with constant weights in graph order) and zx set to the activation
 * zero point the op passes. Activations with zx != 0 cross as signed values:
 * input_encoding auto resolves to signed_split. Noise is keyed by layer id
 * (node index * 1024 + group) and the row's global index (sample index *
 * rows per sample + row in sample), so results do not depend on batching. */
#ifndef CIMSIM_NN_ANALOG_H
#define CIMSIM_NN_ANALOG_H

#include "nn.h"

/* Per analog layer (node and group), what the runs counted. */
typedef struct nn_analog_layer {
    int node;                /* node index in the graph */
    int group;
    int K, N;
    cim_xbar_config cfg;     /* as programmed (zx included) */
    cim_layer *layer;        /* NULL until the first product */
    cim_layer_info info;
    cim_stats stats;         /* summed over runs */
} nn_analog_layer;

typedef struct nn_analog {
    cim_ctx *ctx;
    const cim_arch *arch;
    int first_node, last_node; /* first and last node with constant weights, or -1 */
    int n_layers, cap;
    nn_analog_layer *layers;
    uint64_t sample_offset;    /* global index of the current batch's first sample */
    int histogram;             /* fill the column-sum histogram */
    int normal_noise;          /* cim_run_options.normal_noise */
    const struct cim_plan *plan; /* compiled slicings and centers, or NULL */
    const char *dump_layer;    /* node name to dump (nn_analog_dump_check), or NULL */
    const char *dump_dir;
    int dumped;                /* this executor has written the dump */
} nn_analog;

/* Attach an analog executor to g (sets g->mvm); arch must outlive it. */
cim_status nn_analog_attach(cim_ctx *ctx, nn_graph *g, const cim_arch *arch, nn_analog **out);
/* Detach from g and free the layers. */
void nn_analog_free(nn_graph *g, nn_analog *a);

/* Dump of one weight layer (cim_eval_options.dump_layer, `cimsim eval
 * --dump-layer`; analog_dump.c). With a->dump_layer and a->dump_dir set, the
 * executor that runs the batch whose first sample is 0 writes, at the first
 * product of that node's group 0:
 *   DIR/W.npy.part      int8 [K][N]: w - zw, the weights the crossbars store
 *                       (CIM_ERR_RANGE if one does not fit in int8)
 *   DIR/X.npy.part      uint8 [M][K]: the integer input rows of that batch as
 *                       cim_layer_run gets them (im2col'd for a convolution)
 *   DIR/layer.txt.part  "key value" lines: name, op, group, K, N, M, zx,
 *                       rows_per_sample, samples, wtype
 * and nn_analog_dump_finish renames them to their final names once the whole
 * evaluation has succeeded, so that no final file exists for a failed run.
 *
 * nn_analog_dump_check: before a run, that g has a weight layer named `name`
 * (CIM_ERR_ARG naming it and listing the valid names as far as the message
 * holds) and that dir is a writable directory (CIM_ERR_IO); removes stale
 * .part files. nn_analog_dump_finish: with st == CIM_OK, renames the .part
 * files (CIM_ERR_INTERNAL if nothing was dumped, CIM_ERR_IO if a rename
 * fails; either way no final file is left); with st != CIM_OK removes them.
 * Returns st when st != CIM_OK. */
cim_status nn_analog_dump_check(const nn_graph *g, const char *name, const char *dir);
cim_status nn_analog_dump_finish(cim_ctx *ctx, const char *name, const char *dir, cim_status st);
/* Write the .part files for product m (called by the executor). */
cim_status nn_analog_dump_write(nn_analog *a, const nn_graph *g, const nn_mvm_args *m);

/* Whether a node is one whose products may reach nn_mvm with constant weights. */
int nn_node_is_weight_layer(const nn_graph *g, const nn_node *n);

#endif
