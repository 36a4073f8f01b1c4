/* ops_quant.h: what the quantized / linear-algebra operator files share
 * (ops_quant.c, ops_quant_mm.c, ops_conv.c, ops_pool.c, ops_qlinear_ms.c):
 * quantization parameters, requantization, DequantizeLinear-source lookup
 * for QDQ models, and the operators' entry points for the table. */
#ifndef CIMSIM_NN_OPS_QUANT_H
#define CIMSIM_NN_OPS_QUANT_H

#include "nn.h"

/* ---- quantization parameters ---- */

/* Integer range of a quantized output type (uint8 [0, 255], int8 [-128, 127]). */
void nn_q_range(nn_dtype t, int32_t *lo, int32_t *hi);

/* Element i of an integer value (uint8, int8, int32) as int32. */
static inline int32_t nn_q_get(const nn_value *v, int64_t i)
{
    switch (v->dtype) {
    case NN_UINT8: return ((const uint8_t *)v->data)[i];
    case NN_INT8: return ((const int8_t *)v->data)[i];
    case NN_INT32: return ((const int32_t *)v->data)[i];
    default: return 0;
    }
}

/* Zero point (NULL: 0) and scale of a per-tensor parameter, element 0. */
static inline int32_t nn_q_zp(const nn_value *zp) { return zp ? nn_q_get(zp, 0) : 0; }
static inline float nn_q_scale(const nn_value *s) { return ((const float *)s->data)[0]; }

/* Requantization (semantics.md section 1): clamp(rint(v) + zy, lo, hi) for
 * v = acc * m computed by the caller in float32; rint is round half to even.
 * v is clamped to [lo - zy, hi - zy] first (the same result, as rounding is
 * monotone and the bounds are integers; NaN gives lo), then rounded by the
 * float32 magic-number addition 1.5 * 2^23, which for |v| < 2^22 rounds to
 * the nearest integer, ties to even, in the default rounding mode (ONNX
 * Runtime's MLAS does the same), and is much faster than a libm rintf call
 * on baseline x86-64. */
static inline int32_t nn_requant(float v, int32_t zy, int32_t lo, int32_t hi)
{
    const float fl = (float)(lo - zy), fh = (float)(hi - zy);
    v = v > fl ? v : fl;
    v = v < fh ? v : fh;
    const float r = (v + 12582912.0f) - 12582912.0f;
    return (int32_t)r + zy;
}

/* Store code c (already in [lo, hi]) into element i of a uint8/int8 value. */
static inline void nn_q_put(nn_value *v, int64_t i, int32_t c)
{
    if (v->dtype == NN_UINT8)
        ((uint8_t *)v->data)[i] = (uint8_t)c;
    else
        ((int8_t *)v->data)[i] = (int8_t)c;
}

/* Infer-time checks of a scale or zero-point input `idx` named `what`:
 * dtype `dt` (NN_UNDEFINED: uint8 or int8), and either one element (a scalar
 * or a 1-element tensor) or, when per_count > 0, a 1-D tensor of per_count
 * elements. An omitted optional input passes unless `required`. */
cim_status nn_q_check_param(const nn_graph *g, const nn_node *n, int idx, const char *what, nn_dtype dt,
                            int64_t per_count, int required);

/* Require input idx to exist and have dtype uint8 or int8 (or `also`). */
cim_status nn_q_check_int8(const nn_graph *g, const nn_node *n, int idx, const char *what, nn_dtype also);

/* Per-channel parameters expanded to n entries (a 1-element value repeats). */
void nn_q_expand_f(const nn_value *s, int64_t n, float *out);
void nn_q_expand_zp(const nn_value *zp, int64_t n, int32_t *out);

/* Rows per batch sample for nn_mvm_args.rows_per_sample: M / g->batch when
 * that divides, else M (a node whose rows do not follow the batch). */
int nn_q_rows_per_sample(const nn_graph *g, int64_t M);

/* ---- QDQ models: is a float tensor the output of DequantizeLinear? ---- */

typedef struct nn_dq_info {
    const nn_value *q;     /* the quantized tensor (DequantizeLinear's x) */
    const nn_value *scale; /* its scale */
    const nn_value *zp;    /* its zero point, NULL when omitted */
    int q_const;           /* q is a constant (weights) */
    int axis;              /* per-axis quantization axis of q, -1 when per-tensor */
} nn_dq_info;

/* 1 and *d filled when tensor t is produced by an ai.onnx DequantizeLinear
 * node whose input has dtype uint8, int8 or int32 and whose scale is float;
 * 0 otherwise. Values' data are read at run time. */
int nn_dq_source(const nn_graph *g, int t, nn_dq_info *d);

/* ---- operators (infer, run) ---- */
#define NN_Q_DECL(name)                                                    \
    cim_status nn_q_infer_##name(nn_graph *g, const nn_node *n);           \
    cim_status nn_q_run_##name(const nn_graph *g, const nn_node *n, const nn_value *const *in, nn_value *const *out);

NN_Q_DECL(conv)
NN_Q_DECL(qlinearconv)
NN_Q_DECL(convinteger)
NN_Q_DECL(matmul)
NN_Q_DECL(gemm)
NN_Q_DECL(qlinearmatmul)
NN_Q_DECL(matmulinteger)
NN_Q_DECL(qgemm)
NN_Q_DECL(maxpool)
NN_Q_DECL(averagepool)
NN_Q_DECL(globalaveragepool)
NN_Q_DECL(qlinearaveragepool)
NN_Q_DECL(qlinearglobalaveragepool)
NN_Q_DECL(qlinearadd)
NN_Q_DECL(qlinearmul)
NN_Q_DECL(qlinearconcat)

#endif
