/* eval_internal.h: what eval.c shares with the compiler (compile.c). */
#ifndef CIMSIM_NN_EVAL_INTERNAL_H
#define CIMSIM_NN_EVAL_INTERNAL_H

#include "cimsim/net.h"
#include "nn.h"

struct cim_net {
    cim_ctx *ctx;
    nn_graph *ref; /* loaded and inferred once, to check the model; workers load their own */
    int n_weight_layers;
};

/* Set the batch dimension of every graph input and infer shapes. */
cim_status nn_set_batch(nn_graph *g, int64_t batch);

/* The 8-bit tensor that carries a weight layer's output: its own output when
 * that is 8-bit, else the QuantizeLinear that its float output reaches
 * through at most a bias Add and a Relu/Clip (QDQ form). Sets *zp_tensor to
 * the tensor of the output zero point (or -1). Returns -1 when there is
 * none. chain (may be NULL; room for 5) gets the node itself and the nodes
 * from it to that tensor, in order, and *nchain their number. */
int nn_layer_output(const nn_graph *g, int node, int *zp_tensor, int *chain, int *nchain);

/* The (first) value of a zero-point tensor; 0 for -1 or an empty tensor. */
int32_t nn_zp_value(const nn_graph *g, int zp);

#endif
