/* ops_qlinear_ms.c: ONNX Runtime's (com.microsoft) elementwise quantized
 * ops QLinearAdd, QLinearMul (numpy broadcasting) and QLinearConcat. Every
 * scale and zero point is per-tensor; omitted zero points are 0. The float
 * arithmetic follows ORT's MLAS kernels, in float32, in this order:
 *   QLinearAdd:    c = saturate(rint((float)(a - za) * (as / cs)
 *                                     + (float)(b - zb) * (bs / cs)) + zc)
 *   QLinearMul:    c = saturate(rint((float)((a - za) * (b - zb))
 *                                     * ((as * bs) / cs)) + zc)
 *   QLinearConcat: inputs Y_scale, Y_zero_point, then (X_i, scale_i, zp_i)
 *                  triples; an input with Y's scale and zero point is copied,
 *                  others become saturate(rint((float)(x - zp_i) * scale_i
 *                  / Y_scale) + Y_zp) (dequantize, then quantize). */
#include <string.h>
#include "ops_quant.h"

/* ---- QLinearAdd / QLinearMul: inputs A, A_scale, A_zp, B, B_scale, B_zp, C_scale, C_zp ---- */

static cim_status qbin_infer(nn_graph *g, const nn_node *n)
{
    cim_status st;
    if ((st = nn_q_check_int8(g, n, 0, "A", NN_UNDEFINED)) != CIM_OK ||
        (st = nn_q_check_int8(g, n, 3, "B", NN_UNDEFINED)) != CIM_OK)
        return st;
    const nn_value *a = nn_in(g, n, 0), *b = nn_in(g, n, 3);
    if (a->dtype != b->dtype)
        return nn_err(g, n, CIM_ERR_SHAPE, "A and B have different types (%s, %s)", nn_dtype_name(a->dtype),
                      nn_dtype_name(b->dtype));
    if ((st = nn_q_check_param(g, n, 1, "A_scale", NN_FLOAT, 0, 1)) != CIM_OK ||
        (st = nn_q_check_param(g, n, 2, "A_zero_point", a->dtype, 0, 0)) != CIM_OK ||
        (st = nn_q_check_param(g, n, 4, "B_scale", NN_FLOAT, 0, 1)) != CIM_OK ||
        (st = nn_q_check_param(g, n, 5, "B_zero_point", a->dtype, 0, 0)) != CIM_OK ||
        (st = nn_q_check_param(g, n, 6, "C_scale", NN_FLOAT, 0, 1)) != CIM_OK ||
        (st = nn_q_check_param(g, n, 7, "C_zero_point", a->dtype, 0, 0)) != CIM_OK)
        return st;
    nn_value *y = nn_out(g, n, 0);
    if (!y)
        return nn_err(g, n, CIM_ERR_FORMAT, "output C is missing");
    y->dtype = a->dtype;
    return nn_broadcast_shape(g, n, a, b, y);
}

/* Strides of v aligned to the output's rank r (0 along broadcast dims). */
static void bstrides(const nn_value *v, int r, const int64_t *odims, int64_t *str)
{
    int64_t s = 1;
    for (int i = r - 1; i >= 0; i--) {
        const int iv = i - (r - v->rank);
        const int64_t d = iv >= 0 ? v->dims[iv] : 1;
        str[i] = (d == 1 && odims[i] != 1) || iv < 0 ? 0 : s;
        s *= d;
    }
}

static cim_status qbin_run(const nn_graph *g, const nn_node *n, const nn_value *const *in, nn_value *const *out,
                           int mul)
{
    (void)g;
    const nn_value *a = in[0], *b = in[3];
    nn_value *y = out[0];
    const float as = nn_q_scale(in[1]), bs = nn_q_scale(in[4]), cs = nn_q_scale(in[6]);
    const int32_t za = nn_q_zp(in[2]), zb = nn_q_zp(in[5]), zc = nn_q_zp(n->n_in > 7 ? in[7] : NULL);
    const float ra = as / cs, rb = bs / cs, rab = (as * bs) / cs;
    int32_t lo, hi;
    nn_q_range(y->dtype, &lo, &hi);
    const int r = y->rank;
    int64_t sa[NN_MAX_RANK], sb[NN_MAX_RANK], idx[NN_MAX_RANK] = {0};
    bstrides(a, r, y->dims, sa);
    bstrides(b, r, y->dims, sb);
    const int64_t cnt = nn_value_count(y);
    int64_t ia = 0, ib = 0;
    for (int64_t o = 0; o < cnt; o++) {
        const int32_t da = nn_q_get(a, ia) - za, db = nn_q_get(b, ib) - zb;
        const float v = mul ? (float)(da * db) * rab : (float)da * ra + (float)db * rb;
        nn_q_put(y, o, nn_requant(v, zc, lo, hi));
        for (int i = r - 1; i >= 0; i--) { /* next output index */
            ia += sa[i];
            ib += sb[i];
            if (++idx[i] < y->dims[i])
                break;
            ia -= sa[i] * idx[i];
            ib -= sb[i] * idx[i];
            idx[i] = 0;
        }
    }
    return CIM_OK;
}

cim_status nn_q_infer_qlinearadd(nn_graph *g, const nn_node *n) { return qbin_infer(g, n); }
cim_status nn_q_infer_qlinearmul(nn_graph *g, const nn_node *n) { return qbin_infer(g, n); }

cim_status nn_q_run_qlinearadd(const nn_graph *g, const nn_node *n, const nn_value *const *in, nn_value *const *out)
{
    return qbin_run(g, n, in, out, 0);
}

cim_status nn_q_run_qlinearmul(const nn_graph *g, const nn_node *n, const nn_value *const *in, nn_value *const *out)
{
    return qbin_run(g, n, in, out, 1);
}

/* ---- QLinearConcat ---- */

static cim_status concat_axis(const nn_graph *g, const nn_node *n, const nn_value *x0, int *axis)
{
    const nn_attr *a = nn_attr_find(n, "axis");
    if (!a)
        return nn_err(g, n, CIM_ERR_FORMAT, "attribute 'axis' is required");
    int64_t ax;
    cim_status st = nn_attr_int(g, n, "axis", 0, &ax);
    if (st != CIM_OK)
        return st;
    if (ax < -x0->rank || ax >= x0->rank)
        return nn_err(g, n, CIM_ERR_FORMAT, "attribute 'axis' (%lld) is out of range for rank %d", (long long)ax,
                      x0->rank);
    *axis = (int)(ax < 0 ? ax + x0->rank : ax);
    return CIM_OK;
}

cim_status nn_q_infer_qlinearconcat(nn_graph *g, const nn_node *n)
{
    cim_status st;
    if (n->n_in < 5 || (n->n_in - 2) % 3 != 0)
        return nn_err(g, n, CIM_ERR_FORMAT, "expects Y_scale, Y_zero_point and (X, scale, zero point) triples; got %d inputs",
                      n->n_in);
    if ((st = nn_q_check_param(g, n, 0, "Y_scale", NN_FLOAT, 0, 1)) != CIM_OK ||
        (st = nn_q_check_param(g, n, 1, "Y_zero_point", NN_UNDEFINED, 0, 1)) != CIM_OK)
        return st;
    const nn_dtype dt = nn_in(g, n, 1)->dtype;
    const nn_value *x0 = nn_in(g, n, 2);
    if (!x0)
        return nn_err(g, n, CIM_ERR_FORMAT, "input 2 is missing");
    int axis;
    if ((st = concat_axis(g, n, x0, &axis)) != CIM_OK)
        return st;
    int64_t d[NN_MAX_RANK];
    memcpy(d, x0->dims, sizeof d);
    d[axis] = 0;
    for (int i = 2; i < n->n_in; i += 3) {
        const nn_value *x = nn_in(g, n, i);
        if (!x)
            return nn_err(g, n, CIM_ERR_FORMAT, "input %d is missing", i);
        if (x->dtype != dt)
            return nn_err(g, n, CIM_ERR_SHAPE, "input %d has type %s, expected %s like Y_zero_point", i,
                          nn_dtype_name(x->dtype), nn_dtype_name(dt));
        if ((st = nn_q_check_param(g, n, i + 1, "an input scale", NN_FLOAT, 0, 1)) != CIM_OK ||
            (st = nn_q_check_param(g, n, i + 2, "an input zero point", dt, 0, 1)) != CIM_OK)
            return st;
        if (x->rank != x0->rank)
            return nn_err(g, n, CIM_ERR_SHAPE, "input %d has rank %d, expected %d", i, x->rank, x0->rank);
        for (int k = 0; k < x->rank; k++)
            if (k != axis && x->dims[k] != x0->dims[k])
                return nn_err(g, n, CIM_ERR_SHAPE, "input %d differs in dimension %d (%lld vs %lld)", i, k,
                              (long long)x->dims[k], (long long)x0->dims[k]);
        d[axis] += x->dims[axis];
    }
    nn_value *y = nn_out(g, n, 0);
    if (!y)
        return nn_err(g, n, CIM_ERR_FORMAT, "output Y is missing");
    return nn_set_shape(g, n, y, dt, x0->rank, d);
}

cim_status nn_q_run_qlinearconcat(const nn_graph *g, const nn_node *n, const nn_value *const *in,
                                  nn_value *const *out)
{
    int axis;
    cim_status st = concat_axis(g, n, in[2], &axis);
    if (st != CIM_OK)
        return st;
    nn_value *y = out[0];
    const float ys = nn_q_scale(in[0]);
    const int32_t zy = nn_q_zp(in[1]);
    int32_t lo, hi;
    nn_q_range(y->dtype, &lo, &hi);
    int64_t outer = 1, inner = 1;
    for (int k = 0; k < axis; k++)
        outer *= y->dims[k];
    for (int k = axis + 1; k < y->rank; k++)
        inner *= y->dims[k];
    const int64_t yrow = y->dims[axis] * inner;
    int64_t off = 0;
    for (int i = 2; i < n->n_in; i += 3) {
        const nn_value *x = in[i];
        const float xs = nn_q_scale(in[i + 1]);
        const int32_t zx = nn_q_zp(in[i + 2]);
        const int same = xs == ys && zx == zy;
        const int64_t xrow = x->dims[axis] * inner;
        for (int64_t o = 0; o < outer; o++)
            for (int64_t e = 0; e < xrow; e++) {
                const int32_t q = nn_q_get(x, o * xrow + e);
                nn_q_put(y, o * yrow + off + e, same ? q : nn_requant((float)(q - zx) * xs / ys, zy, lo, hi));
            }
        off += xrow;
    }
    return CIM_OK;
}
