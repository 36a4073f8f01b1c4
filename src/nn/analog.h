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
    const struct cim_plan *plan; /* compiled slicings and centers, or NULL */
} nn_analog;

/* Attach an analog executor to g (sets g->mvm); arch must outlive it. */
cim_status nn_analog_attach(cim_ctx *ctx, nn_graph *g, const cim_arch *arch, nn_analog **out);
/* Detach from g and free the layers. */
void nn_analog_free(nn_graph *g, nn_analog *a);

/* Whether a node is one whose products may reach nn_mvm with constant weights. */
int nn_node_is_weight_layer(const nn_graph *g, const nn_node *n);

#endif
