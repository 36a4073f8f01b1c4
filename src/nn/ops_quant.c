/* ops_quant.c: QuantizeLinear and DequantizeLinear, the helpers the
 * quantized operators share (ops_quant.h), and the nn_ops_quant table.
 *
 * QuantizeLinear:   y = saturate(rint(x / y_scale) + y_zero_point), the
 *                   division in float32, rint half to even (ONNX's reference:
 *                   np.rint(np.divide(x, y_scale)) + zero point, then clip).
 * DequantizeLinear: y = (float)(x - x_zero_point) * x_scale in float32.
 * Both: per-tensor (a scale with one element) or per-axis (a 1-D scale of
 * dims[axis] elements, attribute axis, default 1, negative counts from the
 * end); the zero point has the scale's shape; an omitted zero point is 0 and
 * makes QuantizeLinear's output uint8. */
#include <string.h>
#include "ops_quant.h"

void nn_q_range(nn_dtype t, int32_t *lo, int32_t *hi)
{
    if (t == NN_INT8) {
        *lo = -128;
        *hi = 127;
    } else {
        *lo = 0;
        *hi = 255;
    }
}

cim_status nn_q_check_param(const nn_graph *g, const nn_node *n, int idx, const char *what, nn_dtype dt,
                            int64_t per_count, int required)
{
    const nn_value *v = nn_in(g, n, idx);
    if (!v) {
        if (required)
            return nn_err(g, n, CIM_ERR_FORMAT, "input %d (%s) is missing", idx, what);
        return CIM_OK;
    }
    if (dt == NN_UNDEFINED ? (v->dtype != NN_UINT8 && v->dtype != NN_INT8) : v->dtype != dt)
        return nn_err(g, n, CIM_ERR_SHAPE, "%s has type %s, expected %s", what, nn_dtype_name(v->dtype),
                      dt == NN_UNDEFINED ? "uint8 or int8" : nn_dtype_name(dt));
    int64_t c = nn_value_count(v);
    if (c == 1 && v->rank <= 1)
        return CIM_OK;
    if (per_count > 0 && v->rank == 1 && c == per_count)
        return CIM_OK;
    if (per_count > 0)
        return nn_err(g, n, CIM_ERR_SHAPE, "%s must be a scalar or a 1-D tensor of %lld elements (it has %lld)", what,
                      (long long)per_count, (long long)c);
    return nn_err(g, n, CIM_ERR_SHAPE, "%s must be a scalar (it has %lld elements)", what, (long long)c);
}

cim_status nn_q_check_int8(const nn_graph *g, const nn_node *n, int idx, const char *what, nn_dtype also)
{
    const nn_value *v = nn_in(g, n, idx);
    if (!v)
        return nn_err(g, n, CIM_ERR_FORMAT, "input %d (%s) is missing", idx, what);
    if (v->dtype != NN_UINT8 && v->dtype != NN_INT8 && (also == NN_UNDEFINED || v->dtype != also))
        return nn_err(g, n, CIM_ERR_SHAPE, "%s has type %s, expected uint8 or int8%s%s", what, nn_dtype_name(v->dtype),
                      also != NN_UNDEFINED ? " or " : "", also != NN_UNDEFINED ? nn_dtype_name(also) : "");
    return CIM_OK;
}

void nn_q_expand_f(const nn_value *s, int64_t n, float *out)
{
    const float *d = s->data;
    const int per = nn_value_count(s) > 1;
    for (int64_t i = 0; i < n; i++)
        out[i] = d[per ? i : 0];
}

void nn_q_expand_zp(const nn_value *zp, int64_t n, int32_t *out)
{
    const int per = zp && nn_value_count(zp) > 1;
    for (int64_t i = 0; i < n; i++)
        out[i] = zp ? nn_q_get(zp, per ? i : 0) : 0;
}

int nn_q_rows_per_sample(const nn_graph *g, int64_t M)
{
    if (g->batch > 0 && M % g->batch == 0)
        return (int)(M / g->batch);
    return (int)M;
}

int nn_dq_source(const nn_graph *g, int t, nn_dq_info *d)
{
    if (t < 0 || t >= g->nt)
        return 0;
    const int p = g->t[t].producer;
    if (p < 0 || p >= g->nn)
        return 0;
    const nn_node *dq = &g->nodes[p];
    if (strcmp(dq->op_type, "DequantizeLinear") != 0 || (dq->domain[0] && strcmp(dq->domain, "ai.onnx") != 0))
        return 0;
    if (dq->n_in < 2 || dq->in[0] < 0 || dq->in[1] < 0 || dq->n_out < 1 || dq->out[0] != t)
        return 0;
    memset(d, 0, sizeof *d);
    d->q = &g->t[dq->in[0]].v;
    d->scale = &g->t[dq->in[1]].v;
    d->zp = dq->n_in > 2 && dq->in[2] >= 0 ? &g->t[dq->in[2]].v : NULL;
    d->q_const = g->t[dq->in[0]].is_const;
    if (d->q->dtype != NN_UINT8 && d->q->dtype != NN_INT8 && d->q->dtype != NN_INT32)
        return 0;
    if (d->scale->dtype != NN_FLOAT || (d->zp && d->zp->dtype != d->q->dtype))
        return 0;
    d->axis = -1;
    if (nn_value_count(d->scale) != 1) {
        int64_t axis = 1;
        const nn_attr *a = nn_attr_find(dq, "axis");
        if (a && a->type == NN_ATTR_INT)
            axis = a->i;
        if (axis < 0)
            axis += d->q->rank;
        if (axis < 0 || axis >= d->q->rank || d->scale->rank != 1 || d->scale->dims[0] != d->q->dims[axis])
            return 0;
        d->axis = (int)axis;
    }
    return 1;
}

/* ---- QuantizeLinear / DequantizeLinear ---- */

/* Shared checks: scale (input 1) and zero point (input 2) per-tensor or
 * along the axis of input 0; *axis_out = -1 when per-tensor. */
static cim_status qdq_params(const nn_graph *g, const nn_node *n, int *axis_out, int64_t *inner, int64_t *ch)
{
    const nn_value *x = nn_in(g, n, 0), *s = nn_in(g, n, 1), *zp = nn_in(g, n, 2);
    if (!x || !s)
        return nn_err(g, n, CIM_ERR_FORMAT, "needs inputs x and scale");
    if (s->dtype != NN_FLOAT)
        return nn_err(g, n, CIM_ERR_SHAPE, "scale has type %s, expected float32", nn_dtype_name(s->dtype));
    if (zp && (zp->rank != s->rank || nn_value_count(zp) != nn_value_count(s)))
        return nn_err(g, n, CIM_ERR_SHAPE, "zero point and scale have different shapes");
    *axis_out = -1;
    *inner = 1;
    *ch = 1;
    int64_t c = nn_value_count(s);
    if (c == 1 && s->rank <= 1)
        return CIM_OK;
    int64_t axis;
    cim_status st = nn_attr_int(g, n, "axis", 1, &axis);
    if (st != CIM_OK)
        return st;
    if (axis < -x->rank || axis >= x->rank)
        return nn_err(g, n, CIM_ERR_FORMAT, "attribute 'axis' (%lld) is out of range for rank %d", (long long)axis,
                      x->rank);
    if (axis < 0)
        axis += x->rank;
    if (s->rank != 1 || c != x->dims[axis])
        return nn_err(g, n, CIM_ERR_SHAPE, "scale must be a scalar or a 1-D tensor of %lld elements (axis %lld)",
                      (long long)x->dims[axis], (long long)axis);
    *axis_out = (int)axis;
    *ch = x->dims[axis];
    for (int i = (int)axis + 1; i < x->rank; i++)
        *inner *= x->dims[i];
    return CIM_OK;
}

static cim_status infer_quantize(nn_graph *g, const nn_node *n)
{
    int axis;
    int64_t inner, ch;
    cim_status st = qdq_params(g, n, &axis, &inner, &ch);
    if (st != CIM_OK)
        return st;
    const nn_value *x = nn_in(g, n, 0), *zp = nn_in(g, n, 2);
    if (x->dtype != NN_FLOAT && x->dtype != NN_INT32)
        return nn_err(g, n, CIM_ERR_SHAPE, "input x has type %s, expected float32 or int32", nn_dtype_name(x->dtype));
    nn_dtype yt = NN_UINT8;
    if (zp) {
        if (zp->dtype != NN_UINT8 && zp->dtype != NN_INT8)
            return nn_err(g, n, CIM_ERR_SHAPE, "zero point has type %s, expected uint8 or int8",
                          nn_dtype_name(zp->dtype));
        yt = zp->dtype;
    }
    nn_value *y = nn_out(g, n, 0);
    if (!y)
        return nn_err(g, n, CIM_ERR_FORMAT, "output y is missing");
    return nn_set_shape(g, n, y, yt, x->rank, x->dims);
}

/* The elements of channel c form blocks of `inner` (layout [outer][ch][inner];
 * per-tensor: one block of all), so each block runs a typed loop with its
 * scale and zero point hoisted. */
static cim_status run_quantize(const nn_graph *g, const nn_node *n, const nn_value *const *in, nn_value *const *out)
{
    int axis;
    int64_t inner, ch;
    cim_status st = qdq_params(g, n, &axis, &inner, &ch);
    if (st != CIM_OK)
        return st;
    const nn_value *x = in[0], *s = in[1], *zp = n->n_in > 2 ? in[2] : NULL;
    nn_value *y = out[0];
    int32_t lo, hi;
    nn_q_range(y->dtype, &lo, &hi);
    const float *sd = s->data;
    const int64_t cnt = nn_value_count(x), blk = axis < 0 ? cnt : inner, nch = axis < 0 ? 1 : ch;
    const int fx = x->dtype == NN_FLOAT, u8 = y->dtype == NN_UINT8;
    for (int64_t i0 = 0, b = 0; i0 < cnt && blk > 0; i0 += blk, b++) {
        const int64_t c = b % nch;
        const float sc = sd[c];
        const int32_t z = zp ? nn_q_get(zp, c) : 0;
#define CIM_QUANT_LOOP(TX, TY)                                                                   \
    {                                                                                            \
        const TX *restrict xs = (const TX *)x->data + i0;                                        \
        TY *restrict ys = (TY *)y->data + i0;                                                    \
        for (int64_t i = 0; i < blk; i++)                                                        \
            ys[i] = (TY)nn_requant((float)xs[i] / sc, z, lo, hi);                                \
    }
        if (fx && u8)
            CIM_QUANT_LOOP(float, uint8_t)
        else if (fx)
            CIM_QUANT_LOOP(float, int8_t)
        else if (u8)
            CIM_QUANT_LOOP(int32_t, uint8_t)
        else
            CIM_QUANT_LOOP(int32_t, int8_t)
#undef CIM_QUANT_LOOP
    }
    return CIM_OK;
}

static cim_status infer_dequantize(nn_graph *g, const nn_node *n)
{
    int axis;
    int64_t inner, ch;
    cim_status st = qdq_params(g, n, &axis, &inner, &ch);
    if (st != CIM_OK)
        return st;
    const nn_value *x = nn_in(g, n, 0), *zp = nn_in(g, n, 2);
    if (x->dtype != NN_UINT8 && x->dtype != NN_INT8 && x->dtype != NN_INT32)
        return nn_err(g, n, CIM_ERR_SHAPE, "input x has type %s, expected uint8, int8 or int32",
                      nn_dtype_name(x->dtype));
    if (zp && zp->dtype != x->dtype)
        return nn_err(g, n, CIM_ERR_SHAPE, "zero point has type %s, expected %s like x", nn_dtype_name(zp->dtype),
                      nn_dtype_name(x->dtype));
    nn_value *y = nn_out(g, n, 0);
    if (!y)
        return nn_err(g, n, CIM_ERR_FORMAT, "output y is missing");
    return nn_set_shape(g, n, y, NN_FLOAT, x->rank, x->dims);
}

static cim_status run_dequantize(const nn_graph *g, const nn_node *n, const nn_value *const *in, nn_value *const *out)
{
    int axis;
    int64_t inner, ch;
    cim_status st = qdq_params(g, n, &axis, &inner, &ch);
    if (st != CIM_OK)
        return st;
    const nn_value *x = in[0], *s = in[1], *zp = n->n_in > 2 ? in[2] : NULL;
    const float *sd = s->data;
    const int64_t cnt = nn_value_count(x), blk = axis < 0 ? cnt : inner, nch = axis < 0 ? 1 : ch;
    for (int64_t i0 = 0, b = 0; i0 < cnt && blk > 0; i0 += blk, b++) { /* blocks as in run_quantize */
        const int64_t c = b % nch;
        const float sc = sd[c];
        const int64_t z = zp ? nn_q_get(zp, c) : 0;
        float *restrict ys = (float *)out[0]->data + i0;
#define CIM_DEQUANT_LOOP(TX)                                                                     \
    {                                                                                            \
        const TX *restrict xs = (const TX *)x->data + i0;                                        \
        for (int64_t i = 0; i < blk; i++)                                                        \
            ys[i] = (float)((int64_t)xs[i] - z) * sc;                                            \
    }
        if (x->dtype == NN_UINT8)
            CIM_DEQUANT_LOOP(uint8_t)
        else if (x->dtype == NN_INT8)
            CIM_DEQUANT_LOOP(int8_t)
        else
            CIM_DEQUANT_LOOP(int32_t)
#undef CIM_DEQUANT_LOOP
    }
    return CIM_OK;
}

#define OP(dom, name, fn) {dom, name, nn_q_infer_##fn, nn_q_run_##fn}

const nn_op nn_ops_quant[] = {
    {"", "QuantizeLinear", infer_quantize, run_quantize},
    {"", "DequantizeLinear", infer_dequantize, run_dequantize},
    OP("", "Conv", conv),
    OP("", "QLinearConv", qlinearconv),
    OP("", "ConvInteger", convinteger),
    OP("", "MatMul", matmul),
    OP("", "Gemm", gemm),
    OP("", "QLinearMatMul", qlinearmatmul),
    OP("", "MatMulInteger", matmulinteger),
    OP("", "MaxPool", maxpool),
    OP("", "AveragePool", averagepool),
    OP("", "GlobalAveragePool", globalaveragepool),
    OP("com.microsoft", "QLinearConv", qlinearconv),
    OP("com.microsoft", "QGemm", qgemm),
    OP("com.microsoft", "QLinearAdd", qlinearadd),
    OP("com.microsoft", "QLinearMul", qlinearmul),
    OP("com.microsoft", "QLinearAveragePool", qlinearaveragepool),
    OP("com.microsoft", "QLinearGlobalAveragePool", qlinearglobalaveragepool),
    OP("com.microsoft", "QLinearConcat", qlinearconcat),
    {NULL, NULL, NULL, NULL},
};
