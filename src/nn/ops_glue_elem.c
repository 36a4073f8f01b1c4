/* ops_glue_elem.c: unary elementwise operators (ONNX opsets 11-17, plus Gelu
 * of com.microsoft and ai.onnx opset 20): Relu, LeakyRelu, Sigmoid,
 * HardSigmoid, HardSwish, Gelu, Erf, Tanh, Sqrt, Exp, Neg, Abs, Clip and
 * Identity. Float ops compute in float32 with the C library's expf, erff,
 * tanhf, sqrtf; integer Neg/Abs wrap around as two's complement does. */
#include <float.h>
#include <math.h>
#include <string.h>
#include "ops_glue.h"

typedef enum ukind {
    U_RELU, U_LEAKY, U_SIGMOID, U_HSIGMOID, U_HSWISH, U_GELU, U_ERF, U_TANH, U_SQRT, U_EXP, U_NEG, U_ABS
} ukind;

/* Output = input's dtype and shape; the dtype must be in `allowed`. */
static cim_status unary_infer(nn_graph *g, const nn_node *n, unsigned allowed)
{
    const nn_value *x;
    nn_value *y;
    cim_status st;
    if ((st = glue_need_in(g, n, 0, "X", &x)) || (st = glue_need_out(g, n, &y)) ||
        (st = glue_dtype(g, n, "input X", x->dtype, allowed)))
        return st;
    return nn_set_shape(g, n, y, x->dtype, x->rank, x->dims);
}

static float gelu(float x, int tanh_approx)
{
    if (tanh_approx) /* 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) */
        return 0.5f * x * (1.0f + tanhf(0.7978845608028654f * (x + 0.044715f * x * x * x)));
    return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f));
}

static cim_status unary_run(const nn_graph *g, const nn_node *n, const nn_value *x, nn_value *y, ukind k)
{
    const int64_t c = nn_value_count(x);
    float alpha = 0, beta = 0;
    int tanh_approx = 0;
    cim_status st = CIM_OK;
    if (k == U_LEAKY)
        st = nn_attr_float(g, n, "alpha", 0.01f, &alpha);
    else if (k == U_HSIGMOID && !(st = nn_attr_float(g, n, "alpha", 0.2f, &alpha)))
        st = nn_attr_float(g, n, "beta", 0.5f, &beta);
    else if (k == U_GELU) {
        const char *a;
        if (!(st = nn_attr_string(g, n, "approximate", "none", &a)))
            tanh_approx = strcmp(a, "tanh") == 0;
    }
    if (st)
        return st;
    if (x->dtype == NN_FLOAT) {
        const float *a = x->data;
        float *b = y->data;
        for (int64_t i = 0; i < c; i++) {
            const float v = a[i];
            float r;
            switch (k) {
            case U_RELU: r = v < 0 ? 0.0f : v; break; /* NaN stays NaN, as np.maximum */
            case U_LEAKY: r = v >= 0 ? v : alpha * v; break;
            case U_SIGMOID: r = 1.0f / (1.0f + expf(-v)); break;
            case U_HSIGMOID: r = fmaxf(0.0f, fminf(1.0f, alpha * v + beta)); break;
            case U_HSWISH: r = v * fmaxf(0.0f, fminf(1.0f, (1.0f / 6.0f) * v + 0.5f)); break;
            case U_GELU: r = gelu(v, tanh_approx); break;
            case U_ERF: r = erff(v); break;
            case U_TANH: r = tanhf(v); break;
            case U_SQRT: r = sqrtf(v); break;
            case U_EXP: r = expf(v); break;
            case U_NEG: r = -v; break;
            default: r = fabsf(v); break;
            }
            b[i] = r;
        }
        return CIM_OK;
    }
    /* integers: Relu, Neg, Abs (wrapping: -INT_MIN is INT_MIN, as ONNX runtimes do) */
    for (int64_t i = 0; i < c; i++) {
        switch (x->dtype) {
#define INT_CASE(DT, T, UT)                                                                        \
    case DT: {                                                                                     \
        const T v = ((const T *)x->data)[i];                                                       \
        const T neg = (T)(UT)(0u - (UT)v);                                                         \
        ((T *)y->data)[i] = k == U_RELU ? (v > 0 ? v : 0) : k == U_NEG ? neg : (v < 0 ? neg : v); \
        break;                                                                                     \
    }
            INT_CASE(NN_INT8, int8_t, uint8_t)
        case NN_UINT8: /* only Abs allows uint8: the identity */
            ((uint8_t *)y->data)[i] = ((const uint8_t *)x->data)[i];
            break;
            INT_CASE(NN_INT32, int32_t, uint32_t)
            INT_CASE(NN_INT64, int64_t, uint64_t)
#undef INT_CASE
        default: return nn_err(g, n, CIM_ERR_INTERNAL, "no integer kernel for %s", nn_dtype_name(x->dtype));
        }
    }
    return CIM_OK;
}

#define UNARY(name, kind, allowed)                                                                \
    cim_status glue_infer_##name(nn_graph *g, const nn_node *n) { return unary_infer(g, n, allowed); } \
    cim_status glue_run_##name(const nn_graph *g, const nn_node *n, const nn_value *const *in,     \
                               nn_value *const *out)                                               \
    {                                                                                              \
        return unary_run(g, n, in[0], out[0], kind);                                               \
    }

UNARY(relu, U_RELU, GLUE_F | GLUE_I8 | GLUE_I32 | GLUE_I64)
UNARY(leakyrelu, U_LEAKY, GLUE_F)
UNARY(sigmoid, U_SIGMOID, GLUE_F)
UNARY(hardsigmoid, U_HSIGMOID, GLUE_F)
UNARY(hardswish, U_HSWISH, GLUE_F)
UNARY(erf, U_ERF, GLUE_F)
UNARY(tanh, U_TANH, GLUE_F)
UNARY(sqrt, U_SQRT, GLUE_F)
UNARY(exp, U_EXP, GLUE_F)
UNARY(neg, U_NEG, GLUE_F | GLUE_I8 | GLUE_I32 | GLUE_I64)
UNARY(abs, U_ABS, GLUE_NUM)

/* Gelu: com.microsoft Gelu (erf form) and ai.onnx Gelu-20 (approximate = "none" | "tanh"). */
cim_status glue_infer_gelu(nn_graph *g, const nn_node *n)
{
    const char *a;
    cim_status st = nn_attr_string(g, n, "approximate", "none", &a);
    if (st)
        return st;
    if (strcmp(a, "none") != 0 && strcmp(a, "tanh") != 0)
        return nn_err(g, n, CIM_ERR_FORMAT, "attribute 'approximate' is '%s', not 'none' or 'tanh'", a);
    return unary_infer(g, n, GLUE_F);
}

cim_status glue_run_gelu(const nn_graph *g, const nn_node *n, const nn_value *const *in, nn_value *const *out)
{
    return unary_run(g, n, in[0], out[0], U_GELU);
}

/* ---- Identity: any supported dtype, a plain copy ---- */

cim_status glue_infer_identity(nn_graph *g, const nn_node *n)
{
    return unary_infer(g, n, GLUE_ALL);
}

cim_status glue_run_identity(const nn_graph *g, const nn_node *n, const nn_value *const *in, nn_value *const *out)
{
    (void)g;
    (void)n;
    glue_copy(out[0]->data, in[0]->data, (size_t)nn_value_count(in[0]) * nn_dtype_size(in[0]->dtype));
    return CIM_OK;
}

/* ---- Clip: opset >= 11 takes optional scalar inputs min and max of X's
 * dtype (float or integer, opset 12); older opsets take float attributes.
 * y = min(max(x, lo), hi), so lo > hi gives hi everywhere (as ONNX says). ---- */

static cim_status clip_bound(const nn_graph *g, const nn_node *n, int i, const char *what, nn_dtype dt)
{
    const nn_value *b = nn_in(g, n, i);
    if (!b)
        return CIM_OK;
    if (b->dtype != dt)
        return nn_err(g, n, CIM_ERR_SHAPE, "input '%s' is %s but X is %s", what, nn_dtype_name(b->dtype),
                      nn_dtype_name(dt));
    if (nn_value_count(b) != 1 || b->rank > 1)
        return nn_err(g, n, CIM_ERR_SHAPE, "input '%s' must be a scalar", what);
    return CIM_OK;
}

cim_status glue_infer_clip(nn_graph *g, const nn_node *n)
{
    cim_status st = unary_infer(g, n, g->opset >= 11 ? GLUE_NUM : GLUE_F);
    if (st)
        return st;
    const nn_value *x = nn_in(g, n, 0);
    if (g->opset >= 11) {
        if (n->n_in > 3)
            return nn_err(g, n, CIM_ERR_FORMAT, "%d inputs, at most 3 (X, min, max)", n->n_in);
        if ((st = clip_bound(g, n, 1, "min", x->dtype)) || (st = clip_bound(g, n, 2, "max", x->dtype)))
            return st;
        return CIM_OK;
    }
    float f;
    if (n->n_in > 1)
        return nn_err(g, n, CIM_ERR_FORMAT, "opset %lld Clip takes min and max as attributes, not inputs",
                      (long long)g->opset);
    if ((st = nn_attr_float(g, n, "min", 0, &f)) || (st = nn_attr_float(g, n, "max", 0, &f)))
        return st;
    return CIM_OK;
}

cim_status glue_run_clip(const nn_graph *g, const nn_node *n, const nn_value *const *in, nn_value *const *out)
{
    const nn_value *x = in[0];
    const nn_value *lo = n->n_in > 1 ? in[1] : NULL, *hi = n->n_in > 2 ? in[2] : NULL;
    const int64_t c = nn_value_count(x);
    if (x->dtype == NN_FLOAT) {
        float a = -FLT_MAX, b = FLT_MAX;
        cim_status st;
        if (g->opset < 11) {
            if ((st = nn_attr_float(g, n, "min", -FLT_MAX, &a)) || (st = nn_attr_float(g, n, "max", FLT_MAX, &b)))
                return st;
        } else {
            if (lo)
                a = *(const float *)lo->data;
            if (hi)
                b = *(const float *)hi->data;
        }
        const float *s = x->data;
        float *d = out[0]->data;
        for (int64_t i = 0; i < c; i++) {
            float v = s[i] < a ? a : s[i];
            d[i] = v > b ? b : v;
        }
        return CIM_OK;
    }
    int64_t a = lo ? glue_get_i64(lo, 0) : INT64_MIN, b = hi ? glue_get_i64(hi, 0) : INT64_MAX;
    for (int64_t i = 0; i < c; i++) {
        int64_t v = glue_get_i64(x, i);
        v = v < a ? a : v;
        v = v > b ? b : v;
        switch (x->dtype) { /* v lies between x's own values and the bounds of x's dtype */
        case NN_UINT8: ((uint8_t *)out[0]->data)[i] = (uint8_t)v; break;
        case NN_INT8: ((int8_t *)out[0]->data)[i] = (int8_t)v; break;
        case NN_INT32: ((int32_t *)out[0]->data)[i] = (int32_t)v; break;
        default: ((int64_t *)out[0]->data)[i] = v; break;
        }
    }
    return CIM_OK;
}
