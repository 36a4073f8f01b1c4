/* ops_glue.h: what the glue operator files (src/nn/ops_glue*.c) share: the
 * infer/run functions the table in ops_glue.c names, and small helpers for
 * dtypes, axes, static shape inputs and broadcasting loops (ops_glue_util.c).
 * Internal to src/nn. */
#ifndef CIMSIM_NN_OPS_GLUE_H
#define CIMSIM_NN_OPS_GLUE_H

#include "nn.h"

/* ---- dtype sets: bit (1u << dtype) ---- */
#define GLUE_F (1u << NN_FLOAT)
#define GLUE_U8 (1u << NN_UINT8)
#define GLUE_I8 (1u << NN_INT8)
#define GLUE_I32 (1u << NN_INT32)
#define GLUE_I64 (1u << NN_INT64)
#define GLUE_B (1u << NN_BOOL)
#define GLUE_INTS (GLUE_U8 | GLUE_I8 | GLUE_I32 | GLUE_I64)
#define GLUE_NUM (GLUE_F | GLUE_INTS)
#define GLUE_ALL (GLUE_NUM | GLUE_B)

/* CIM_ERR_UNSUPPORTED naming `what` and its dtype unless dt is in `allowed`. */
cim_status glue_dtype(const nn_graph *g, const nn_node *n, const char *what, nn_dtype dt, unsigned allowed);
/* Input i, which must be present (CIM_ERR_FORMAT naming it otherwise). */
cim_status glue_need_in(const nn_graph *g, const nn_node *n, int i, const char *what, const nn_value **v);
/* The first output, which must be present. */
cim_status glue_need_out(nn_graph *g, const nn_node *n, nn_value **v);
/* Normalize `axis` in [-rank, rank-1] (or [-rank, rank] with `extra`) by adding rank to a negative one; CIM_ERR_SHAPE otherwise. */
cim_status glue_axis(const nn_graph *g, const nn_node *n, const char *what, int64_t axis, int rank, int extra,
                     int *out);
/* Whether input i is present and constant (data known at inference). */
int glue_in_const(const nn_graph *g, const nn_node *n, int i);
/* Input i's values (int32 or int64, rank 0 or 1, at most max of them) as
 * int64. It must be constant: a shape-like input that is only known at run
 * time is CIM_ERR_UNSUPPORTED (shapes are static). */
cim_status glue_const_ints(const nn_graph *g, const nn_node *n, int i, const char *what, int64_t *vals, int max,
                           int *count);
/* Element i of v converted to double / int64 (float: truncated toward zero, saturated). */
double glue_get_f64(const nn_value *v, int64_t i);
int64_t glue_get_i64(const nn_value *v, int64_t i);
/* Contiguous (row-major) element strides of a shape. */
void glue_strides(const nn_value *v, int64_t *st);
/* memcpy that allows NULL pointers when bytes == 0 (absent attributes, empty tensors). */
static inline void glue_copy(void *dst, const void *src, size_t bytes)
{
    if (bytes)
        __builtin_memcpy(dst, src, bytes);
}
/* Copy of a shape with another dtype (no data). */
nn_value glue_shape_of(const nn_value *v, nn_dtype dt);

/* Broadcast loops: out's shape, up to 3 inputs broadcast to it (numpy rules,
 * already checked). glue_bcast_each calls fn once per output row: output
 * element offset o, each input's element offset, n elements, each input's
 * element stride along the row (0 or 1). Dimensions of 1 are dropped and
 * compatible neighbours merged so that rows are as long as possible. */
typedef struct glue_bcast {
    int rank, nin;
    int64_t dims[NN_MAX_RANK];
    int64_t st[3][NN_MAX_RANK];
} glue_bcast;
typedef void (*glue_row_fn)(void *ud, int64_t o, const int64_t *off, int64_t n, const int64_t *ist);
void glue_bcast_plan(glue_bcast *b, const nn_value *out, const nn_value *const *ins, int nin);
void glue_bcast_each(const glue_bcast *b, glue_row_fn fn, void *ud);

/* Infer/run pairs named by the table in ops_glue.c. */
#define GLUE_DECL(name)                                                                             \
    cim_status glue_infer_##name(nn_graph *g, const nn_node *n);                                    \
    cim_status glue_run_##name(const nn_graph *g, const nn_node *n, const nn_value *const *in,     \
                               nn_value *const *out);

/* ops_glue_elem.c: unary activations and math */
GLUE_DECL(relu) GLUE_DECL(leakyrelu) GLUE_DECL(sigmoid) GLUE_DECL(hardsigmoid) GLUE_DECL(hardswish)
GLUE_DECL(gelu) GLUE_DECL(erf) GLUE_DECL(tanh) GLUE_DECL(sqrt) GLUE_DECL(exp) GLUE_DECL(neg)
GLUE_DECL(abs) GLUE_DECL(clip) GLUE_DECL(identity)
/* ops_glue_binary.c: broadcasting binary ops and Where */
GLUE_DECL(add) GLUE_DECL(sub) GLUE_DECL(mul) GLUE_DECL(div) GLUE_DECL(pow) GLUE_DECL(equal)
GLUE_DECL(where)
/* ops_glue_shape.c: shape manipulation without data movement or with plain copies */
GLUE_DECL(reshape) GLUE_DECL(flatten) GLUE_DECL(squeeze) GLUE_DECL(unsqueeze) GLUE_DECL(shape)
GLUE_DECL(constant) GLUE_DECL(constantofshape) GLUE_DECL(range) GLUE_DECL(cast)
/* ops_glue_move.c: data movement */
GLUE_DECL(transpose) GLUE_DECL(concat) GLUE_DECL(gather) GLUE_DECL(slice) GLUE_DECL(expand)
GLUE_DECL(pad)
/* ops_glue_norm.c: reductions and normalization */
GLUE_DECL(softmax) GLUE_DECL(layernorm) GLUE_DECL(reducemean)

#endif
