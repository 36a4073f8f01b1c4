/* nn.h: the network layer's graph, values and operators (internal to cimsim).
 *
 * A model is loaded into an nn_graph (src/onnx/load.c): tensors (graph
 * inputs, initializers, node outputs) and nodes in topological order. Every
 * tensor carries an nn_value: dtype, static shape and, for constants, data.
 *
 * Operators are table entries (nn_op): `infer` checks a node's attributes and
 * input dtypes/shapes and sets its outputs' dtype and shape; `run` computes
 * the outputs from the inputs into buffers the executor has already sized
 * from the inferred shapes. Both report errors through nn_err(), naming the
 * node and op type, and never abort. Shape computations (Shape, Gather,
 * Concat, Unsqueeze... on constants) are folded at inference by running the
 * op on constant inputs: an output whose inputs are all constant becomes a
 * constant.
 *
 * Integer semantics are ONNX's own (the operator specs, as the reference
 * implementation in onnx/reference computes them): round half to even where
 * ONNX says so, saturation to the output type's range.
 */
#ifndef CIMSIM_NN_H
#define CIMSIM_NN_H

#include <stddef.h>
#include <stdint.h>
#include "cimsim/cimsim.h"

#define NN_MAX_RANK 8

/* ONNX TensorProto.DataType values, so loaders can store them directly. */
typedef enum nn_dtype {
    NN_UNDEFINED = 0,
    NN_FLOAT = 1,
    NN_UINT8 = 2,
    NN_INT8 = 3,
    NN_INT32 = 6,
    NN_INT64 = 7,
    NN_BOOL = 9
} nn_dtype;

/* Bytes per element (0 for an unsupported dtype). */
size_t nn_dtype_size(nn_dtype t);
const char *nn_dtype_name(nn_dtype t);

/* A tensor value: dtype, shape, data (row-major, C order). A rank-0 value is
 * a scalar of one element. data is NULL until a value exists. */
typedef struct nn_value {
    nn_dtype dtype;
    int rank;
    int64_t dims[NN_MAX_RANK];
    void *data;
} nn_value;

/* Number of elements (product of dims; 1 for rank 0). Shapes are validated at
 * inference so that this never overflows (at most NN_MAX_ELEMS). */
int64_t nn_value_count(const nn_value *v);
#define NN_MAX_ELEMS ((int64_t)1 << 31)

typedef enum nn_attr_type {
    NN_ATTR_FLOAT = 1,
    NN_ATTR_INT = 2,
    NN_ATTR_STRING = 3,
    NN_ATTR_TENSOR = 4,
    NN_ATTR_FLOATS = 6,
    NN_ATTR_INTS = 7
} nn_attr_type;

typedef struct nn_attr {
    char *name;
    nn_attr_type type;
    int64_t i;      /* INT */
    float f;        /* FLOAT */
    char *s;        /* STRING (NUL-terminated) */
    int64_t *ints;  /* INTS, n of them */
    float *floats;  /* FLOATS, n of them */
    int n;
    nn_value *t;    /* TENSOR (owned; data owned) */
} nn_attr;

struct nn_op;

typedef struct nn_node {
    char *name;             /* node name, or "<op_type>#<index>" when unnamed */
    char *op_type;
    char *domain;           /* "" for ai.onnx, "com.microsoft", ... */
    int n_in, n_out;
    int *in;                /* tensor indices; -1 for an omitted optional input */
    int *out;               /* tensor indices; -1 for an omitted optional output */
    int n_attr;
    nn_attr *attr;
    const struct nn_op *op; /* resolved at load */
} nn_node;

typedef struct nn_tensor {
    char *name;
    nn_value v;       /* dtype and shape (after inference); data for constants */
    int is_const;     /* initializer or folded (data set) */
    int is_init;      /* initializer: constant for good (folded values are
                         recomputed by every nn_graph_infer) */
    int producer;     /* node index, or -1 (graph input or initializer) */
    size_t cap;       /* bytes at v.data when a node's run allocated them (kept
                         for the next run of the same or a smaller shape) */
} nn_tensor;

/* The integer matrix products of Conv/Gemm/MatMul-family nodes whose weights
 * are constant (QLinearConv, ConvInteger, QLinearMatMul, MatMulInteger,
 * QGemm, and float Conv/Gemm/MatMul fed by DequantizeLinear) go through
 * nn_mvm, one call per node and group for the whole batch:
 *
 *   psum[m][n] = sum_k (x[m][k] - zx) * (w[k][n] - zw[n])
 *
 * x: uint8 codes [M][K] (int8 activations are passed shifted by +128 with
 * zx + 128); for a convolution the op has unrolled it im2col-style, rows in
 * (sample, oh, ow) order, k = (ci*kh + i)*kw + j within the group, padding
 * filled with zx. w: [K][N] row-major int8 or uint8 codes, zw per channel
 * (NULL: all zero). psum: int32 [M][N], no bias. rows_per_sample = M / batch
 * (so a row's global index can key noise independently of batch splits).
 * When g->mvm is set (the analog executor) it computes psum; else
 * nn_mvm_digital does, exactly. */
typedef struct nn_mvm_args {
    const struct nn_node *node;
    int group;            /* 0 .. groups-1 */
    int M, K, N;
    int rows_per_sample;
    const uint8_t *x;
    int32_t zx;
    const void *w;
    nn_dtype wtype;       /* NN_INT8 or NN_UINT8 */
    const int32_t *zw;
    int32_t *psum;
} nn_mvm_args;

struct nn_graph;
typedef cim_status (*nn_mvm_fn)(void *ud, const struct nn_graph *g, const nn_mvm_args *a);

typedef struct nn_graph {
    cim_ctx *ctx;          /* allocator and error messages */
    nn_mvm_fn mvm;         /* NULL: digital */
    void *mvm_ud;
    int64_t batch;         /* samples in the current run (dimension 0 of the inputs) */
    char *path;            /* the file it came from (for messages) */
    int nt;                /* tensors */
    nn_tensor *t;
    int nn;                /* nodes, topologically sorted */
    nn_node *nodes;
    int n_inputs, n_outputs;
    int *inputs, *outputs; /* non-constant graph inputs; graph outputs. A graph
                              input's symbolic dimension (dim_param, or no
                              value) loads as -1; the caller sets it (the batch
                              size for dimension 0) before nn_graph_infer */
    int64_t opset;         /* default-domain opset version */
    int n_meta;
    char **meta_key, **meta_value; /* metadata_props */
} nn_graph;

/* The executor's view while one node runs. */
typedef struct nn_op {
    const char *domain; /* "" or "com.microsoft" */
    const char *name;   /* op_type */
    /* Check attributes and input dtypes/shapes (g->t[n->in[i]].v, data set for
     * constant inputs), set each output's dtype, rank and dims. */
    cim_status (*infer)(nn_graph *g, const nn_node *n);
    /* Compute: in[i] (NULL for an omitted optional input) and out[i] have
     * shapes as inferred; out[i]->data is allocated (zeroed) by the caller. */
    cim_status (*run)(const nn_graph *g, const nn_node *n, const nn_value *const *in, nn_value *const *out);
} nn_op;

/* Operator tables, each terminated by an entry with name == NULL. */
extern const nn_op nn_ops_quant[];  /* src/nn/ops_quant*.c: quantized and linear-algebra ops */
extern const nn_op nn_ops_glue[];   /* src/nn/ops_glue*.c: elementwise, shape, pooling-free glue */

/* psum through g->mvm if set, else nn_mvm_digital. */
cim_status nn_mvm(const struct nn_graph *g, const nn_mvm_args *a);
/* The exact integer product (no crossbar), for any inputs: a plain loop
 * (the oracle), and the same on the context's kernel, threaded (mvm.c;
 * identical results, wrapping in int32 as ONNX's integer ops do). */
void nn_mvm_digital(const nn_mvm_args *a);
cim_status nn_mvm_fast(const struct nn_graph *g, const nn_mvm_args *a);

/* Find an op by domain ("" and "ai.onnx" are the same) and type; NULL if none. */
const nn_op *nn_op_find(const char *domain, const char *op_type);

/* Set g->ctx's error message "<path>: node '<name>' (<op_type>): <message>"
 * and return st. */
cim_status nn_err(const nn_graph *g, const nn_node *n, cim_status st, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Attribute lookup: NULL if absent. The typed getters return the default when
 * absent and fail (CIM_ERR_FORMAT via nn_err) on a wrong type. */
const nn_attr *nn_attr_find(const nn_node *n, const char *name);
cim_status nn_attr_int(const nn_graph *g, const nn_node *n, const char *name, int64_t def, int64_t *out);
cim_status nn_attr_float(const nn_graph *g, const nn_node *n, const char *name, float def, float *out);
/* INTS: *vals points into the node (not copied), *count its length; absent: 0, NULL. */
cim_status nn_attr_ints(const nn_graph *g, const nn_node *n, const char *name, const int64_t **vals, int *count);
/* STRING: def when absent. */
cim_status nn_attr_string(const nn_graph *g, const nn_node *n, const char *name, const char *def, const char **out);

/* Input i of a node (NULL when omitted or i >= n_in), output i likewise. */
const nn_value *nn_in(const nn_graph *g, const nn_node *n, int i);
nn_value *nn_out(nn_graph *g, const nn_node *n, int i);

/* Set v's shape; fails with CIM_ERR_SHAPE (via nn_err) on a negative dim, a
 * rank above NN_MAX_RANK or more than NN_MAX_ELEMS elements. */
cim_status nn_set_shape(const nn_graph *g, const nn_node *n, nn_value *v, nn_dtype dt, int rank, const int64_t *dims);

/* Numpy-style (multidirectional) broadcast of a and b's shapes into out. */
cim_status nn_broadcast_shape(const nn_graph *g, const nn_node *n, const nn_value *a, const nn_value *b,
                              nn_value *out);

/* ---- graph.c: lifetime, inference, a plain digital executor ---- */

/* An empty graph (tensors and nodes are added by the loader). */
cim_status nn_graph_new(cim_ctx *ctx, const char *path, nn_graph **out);
void nn_graph_free(nn_graph *g);

/* Rewrite Transpose(DequantizeLinear(constant int8/uint8 codes)) into
 * DequantizeLinear(transposed codes), so that weight layers see integer
 * weights (torch exports Linear this way). Call after loading, before
 * nn_graph_infer; results are unchanged. */
cim_status nn_graph_canonicalize(nn_graph *g);

/* Index of the tensor named `name`, or -1. */
int nn_graph_find(const nn_graph *g, const char *name);

/* Resolve every node's op (an unknown op is CIM_ERR_UNSUPPORTED naming node
 * and op type), then infer shapes from the graph inputs' current shapes,
 * folding nodes whose inputs are all constant (and Shape nodes, which only
 * need a shape) into constants. May be called again after changing an input's
 * shape (such as the batch size): earlier folds are recomputed. */
cim_status nn_graph_infer(nn_graph *g);

/* Run every node digitally on inputs[i] (one value per graph input, shapes as
 * inferred); outputs[i] receive freshly allocated copies of the graph outputs
 * (free their data with cim_ctx's allocator via nn_value_free). */
cim_status nn_graph_run(nn_graph *g, const nn_value *inputs, nn_value *outputs);

/* Run node k alone on the values its inputs hold now (after nn_graph_run),
 * replacing its outputs' values. */
cim_status nn_graph_run_node(nn_graph *g, int k);
void nn_value_free(cim_ctx *ctx, nn_value *v);

/* Round half to even (as ONNX QuantizeLinear and QLinear* ops do). */
static inline float nn_round_even(float x)
{
    return __builtin_rintf(x); /* the default rounding mode is to nearest, ties to even */
}

#endif
