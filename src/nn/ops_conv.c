/* ops_conv.c: Conv (float), QLinearConv and ConvInteger, 1-D and 2-D, with
 * groups (depthwise included), strides, pads, dilations and auto_pad
 * (geometry and im2col in conv.c).
 *
 * Integer convolutions unroll the input im2col-style (rows in (sample, oh,
 * ow) order, k = (ci*kh + i)*kw + j within the group, padding = the input
 * zero point; int8 codes are shifted by +128 with their zero point) and take
 * the integer product from nn_mvm, one call per group for the whole batch,
 * when the weights are constant (else nn_mvm_digital computes it directly).
 *
 * QLinearConv: y = saturate(rint((float)(psum + B[c]) * M[c]) + y_zp) with
 * M[c] = (x_scale * w_scale[c]) / y_scale in float32 (semantics.md 1). This
 * reproduces ONNX's test_qlinearconv bit for bit (tests/test_nn_qconformance.c).
 *
 * Float Conv whose X comes from DequantizeLinear (uint8/int8, per-tensor) and
 * whose W comes from DequantizeLinear of a constant uint8/int8 tensor
 * (per-tensor or per output channel, axis 0) is computed as the quantized
 * model means it (ONNX Runtime's QDQ fusion): psum through nn_mvm, then
 *   y = (float)(psum + b_int[c]) * s[c]         when B is DequantizeLinear of
 *                                              a constant int32 tensor
 *                                              (b_int = b - b_zp; its scale
 *                                              is taken to be s[c], as ORT does)
 *   y = (float)psum * s[c] + B[c]               otherwise (float add),
 * with s[c] = x_scale * w_scale[c] in float32, in exactly this order.
 * Any other float Conv is computed in float32 (k in order, then + B). */
#include <limits.h>
#include <string.h>
#include "conv.h"
#include "ops_quant.h"
#include "../lib/internal.h"

/* Integer product of the whole convolution: y[N][Cout][OH*OW] int32 (no
 * bias), through nn_mvm when use_mvm, one call per group. x and w are uint8
 * or int8 codes, zx the input zero point, zw[Cout] the weight zero points. */
static cim_status conv_psum(const nn_graph *g, const nn_node *n, const nn_conv_geom *geo, const nn_value *x,
                            int32_t zx, const nn_value *w, const int32_t *zw, int use_mvm, int32_t *y)
{
    const int64_t M = nn_conv_rows(geo), K = nn_conv_k(geo), ng = geo->Cout / geo->group, ohw = geo->OH * geo->OW;
    if (M == 0 || ng == 0)
        return CIM_OK;
    if (M > INT_MAX || K > INT_MAX || ng > INT_MAX)
        return nn_err(g, n, CIM_ERR_UNSUPPORTED, "the unrolled convolution (%lld x %lld x %lld) is too large",
                      (long long)M, (long long)K, (long long)ng);
    const int shift = x->dtype == NN_INT8;
    const int32_t zxc = zx + (shift ? 128 : 0);
    size_t ncols, nw, np;
    if (cim__mul_size((size_t)M, (size_t)K, &ncols) || cim__mul_size((size_t)K, (size_t)ng, &nw) ||
        cim__mul_size((size_t)M, (size_t)ng * sizeof(int32_t), &np))
        return nn_err(g, n, CIM_ERR_NOMEM, "the unrolled convolution does not fit in memory");
    uint8_t *cols = cim__malloc(g->ctx, ncols ? ncols : 1);
    uint8_t *wk = cim__malloc(g->ctx, nw ? nw : 1);
    int32_t *ps = cim__malloc(g->ctx, np);
    cim_status st = CIM_OK;
    if (!cols || !wk || !ps) {
        st = nn_err(g, n, CIM_ERR_NOMEM, "out of memory for the unrolled convolution (%zu bytes)", ncols);
        goto done;
    }
    for (int64_t grp = 0; grp < geo->group; grp++) {
        nn_conv_im2col_u8(geo, x->data, grp, 0, geo->N, shift ? 0x80 : 0, (uint8_t)zxc, cols);
        nn_conv_pack_weights(geo, w->data, 1, grp, wk);
        nn_mvm_args a = {
            .node = n, .group = (int)grp, .M = (int)M, .K = (int)K, .N = (int)ng,
            .rows_per_sample = (int)ohw, .x = cols, .zx = zxc, .w = wk, .wtype = w->dtype,
            .zw = zw + grp * ng, .psum = ps,
        };
        if (use_mvm) {
            if ((st = nn_mvm(g, &a)) != CIM_OK)
                goto done;
        } else {
            nn_mvm_digital(&a);
        }
        for (int64_t s = 0; s < geo->N; s++)
            for (int64_t c = 0; c < ng; c++) {
                int32_t *dst = y + (s * geo->Cout + grp * ng + c) * ohw;
                const int32_t *src = ps + s * ohw * ng + c;
                if (ng == 1) /* one channel per group (depthwise): already in order */
                    memcpy(dst, src, (size_t)ohw * sizeof *dst);
                else
                    for (int64_t p = 0; p < ohw; p++)
                        dst[p] = src[p * ng];
            }
    }
done:
    cim__free(g->ctx, cols);
    cim__free(g->ctx, wk);
    cim__free(g->ctx, ps);
    return st;
}

/* Output shape from the geometry. */
static cim_status set_conv_out(nn_graph *g, const nn_node *n, const nn_conv_geom *geo, nn_dtype dt)
{
    int64_t dims[4];
    int r = nn_conv_out_dims(geo, dims);
    nn_value *y = nn_out(g, n, 0);
    if (!y)
        return nn_err(g, n, CIM_ERR_FORMAT, "output Y is missing");
    return nn_set_shape(g, n, y, dt, r, dims);
}

static cim_status check_channels_last(const nn_graph *g, const nn_node *n)
{
    int64_t cl;
    cim_status st = nn_attr_int(g, n, "channels_last", 0, &cl);
    if (st == CIM_OK && cl != 0)
        return nn_err(g, n, CIM_ERR_UNSUPPORTED, "channels_last=1 is not supported");
    return st;
}

/* ---- Conv (float, or QDQ through nn_mvm) ---- */

cim_status nn_q_infer_conv(nn_graph *g, const nn_node *n)
{
    const nn_value *x = nn_in(g, n, 0), *w = nn_in(g, n, 1), *b = nn_in(g, n, 2);
    if (!x || !w)
        return nn_err(g, n, CIM_ERR_FORMAT, "needs inputs X and W");
    if (x->dtype != NN_FLOAT || w->dtype != NN_FLOAT)
        return nn_err(g, n, CIM_ERR_SHAPE, "X and W must be float32 (got %s and %s)", nn_dtype_name(x->dtype),
                      nn_dtype_name(w->dtype));
    nn_conv_geom geo;
    cim_status st = nn_conv_geom_init(g, n, x, w, NN_GEOM_CONV, &geo);
    if (st != CIM_OK)
        return st;
    if (b && (b->dtype != NN_FLOAT || b->rank != 1 || b->dims[0] != geo.Cout))
        return nn_err(g, n, CIM_ERR_SHAPE, "bias B must be float32 of shape [%lld]", (long long)geo.Cout);
    return set_conv_out(g, n, &geo, NN_FLOAT);
}

/* The QDQ path; *done = 0 when the node is not a QDQ convolution. */
static cim_status conv_qdq(const nn_graph *g, const nn_node *n, const nn_conv_geom *geo, const nn_value *b,
                           float *y, int *done)
{
    nn_dq_info dx, dw, db;
    *done = 0;
    if (!nn_dq_source(g, n->in[0], &dx) || dx.axis >= 0 || dx.q->dtype == NN_INT32)
        return CIM_OK;
    if (!nn_dq_source(g, n->in[1], &dw) || !dw.q_const || dw.q->dtype == NN_INT32 || dw.axis > 0)
        return CIM_OK;
    int int_bias = b && n->in[2] >= 0 && nn_dq_source(g, n->in[2], &db) && db.q_const && db.q->dtype == NN_INT32 &&
                   db.axis <= 0 && nn_value_count(db.q) == geo->Cout;
    const int64_t C = geo->Cout, ohw = geo->OH * geo->OW;
    size_t bytes;
    if (cim__mul_size((size_t)nn_value_count(&g->t[n->out[0]].v), sizeof(int32_t), &bytes))
        return nn_err(g, n, CIM_ERR_NOMEM, "output too large");
    int32_t *acc = cim__malloc(g->ctx, bytes ? bytes : 1);
    int32_t *zw = cim__malloc(g->ctx, (size_t)(C + 1) * sizeof *zw);
    float *sc = cim__malloc(g->ctx, (size_t)(C + 1) * sizeof *sc);
    int32_t *bi = cim__calloc(g->ctx, (size_t)C + 1, sizeof *bi);
    cim_status st = CIM_OK;
    if (!acc || !zw || !sc || !bi) {
        st = nn_err(g, n, CIM_ERR_NOMEM, "out of memory");
        goto done;
    }
    nn_q_expand_zp(dw.zp, C, zw);
    nn_q_expand_f(dw.scale, C, sc);
    const float xs = nn_q_scale(dx.scale);
    for (int64_t c = 0; c < C; c++)
        sc[c] = xs * sc[c];
    if (int_bias) {
        nn_q_expand_zp(db.zp, C, bi);
        for (int64_t c = 0; c < C; c++)
            bi[c] = nn_q_get(db.q, c) - bi[c];
    }
    if ((st = conv_psum(g, n, geo, dx.q, nn_q_zp(dx.zp), dw.q, zw, 1, acc)) != CIM_OK)
        goto done;
    const float *bf = b ? b->data : NULL;
    /* one loop per case, which compilers vectorize; psum + b_int is exact in
     * double (|.| < 2^33), so its one rounding to float is that of the
     * integer sum */
    for (int64_t s = 0; s < geo->N; s++)
        for (int64_t c = 0; c < C; c++) {
            const int64_t o = (s * C + c) * ohw;
            const int32_t *restrict ac = acc + o;
            float *restrict yc = y + o;
            const float scc = sc[c];
            if (int_bias) {
                const double bc = (double)bi[c];
                for (int64_t p = 0; p < ohw; p++)
                    yc[p] = (float)((double)ac[p] + bc) * scc;
            } else if (bf) {
                const float bc = bf[c];
                for (int64_t p = 0; p < ohw; p++)
                    yc[p] = (float)ac[p] * scc + bc;
            } else {
                for (int64_t p = 0; p < ohw; p++)
                    yc[p] = (float)ac[p] * scc;
            }
        }
    *done = 1;
done:
    cim__free(g->ctx, acc);
    cim__free(g->ctx, zw);
    cim__free(g->ctx, sc);
    cim__free(g->ctx, bi);
    return st;
}

cim_status nn_q_run_conv(const nn_graph *g, const nn_node *n, const nn_value *const *in, nn_value *const *out)
{
    const nn_value *x = in[0], *w = in[1], *b = n->n_in > 2 ? in[2] : NULL;
    nn_conv_geom geo;
    cim_status st = nn_conv_geom_init(g, n, x, w, NN_GEOM_CONV, &geo);
    if (st != CIM_OK)
        return st;
    float *y = out[0]->data;
    int done;
    if ((st = conv_qdq(g, n, &geo, b, y, &done)) != CIM_OK || done)
        return st;
    /* plain float32: per sample and group, im2col then a row-times-matrix loop */
    const int64_t K = nn_conv_k(&geo), ng = geo.Cout / geo.group, ohw = geo.OH * geo.OW;
    size_t ncols, nw;
    if (cim__mul_size((size_t)ohw, (size_t)K * sizeof(float), &ncols) ||
        cim__mul_size((size_t)K * (size_t)geo.Cout, sizeof(float), &nw))
        return nn_err(g, n, CIM_ERR_NOMEM, "the unrolled convolution does not fit in memory");
    float *cols = cim__malloc(g->ctx, ncols ? ncols : 1);
    float *wk = cim__malloc(g->ctx, nw ? nw : 1);
    float *acc = cim__malloc(g->ctx, (size_t)(ng + 1) * sizeof(float));
    if (!cols || !wk || !acc) {
        st = nn_err(g, n, CIM_ERR_NOMEM, "out of memory for the unrolled convolution");
        goto done;
    }
    for (int64_t grp = 0; grp < geo.group; grp++)
        nn_conv_pack_weights(&geo, w->data, sizeof(float), grp, wk + grp * K * ng);
    const float *bf = b ? b->data : NULL;
    for (int64_t s = 0; s < geo.N; s++)
        for (int64_t grp = 0; grp < geo.group; grp++) {
            nn_conv_im2col_f32(&geo, x->data, grp, s, s + 1, cols);
            const float *wg = wk + grp * K * ng;
            for (int64_t p = 0; p < ohw; p++) {
                const float *xr = cols + p * K;
                for (int64_t c = 0; c < ng; c++)
                    acc[c] = 0.0f;
                for (int64_t k = 0; k < K; k++) {
                    const float xv = xr[k];
                    const float *wr = wg + k * ng;
                    for (int64_t c = 0; c < ng; c++)
                        acc[c] += xv * wr[c];
                }
                for (int64_t c = 0; c < ng; c++) {
                    const int64_t co = grp * ng + c;
                    y[(s * geo.Cout + co) * ohw + p] = bf ? acc[c] + bf[co] : acc[c];
                }
            }
        }
done:
    cim__free(g->ctx, cols);
    cim__free(g->ctx, wk);
    cim__free(g->ctx, acc);
    return st;
}

/* ---- QLinearConv ---- */

cim_status nn_q_infer_qlinearconv(nn_graph *g, const nn_node *n)
{
    cim_status st;
    const nn_value *x = nn_in(g, n, 0), *w = nn_in(g, n, 3), *b = nn_in(g, n, 8);
    if ((st = check_channels_last(g, n)) != CIM_OK || (st = nn_q_check_int8(g, n, 0, "x", NN_UNDEFINED)) != CIM_OK ||
        (st = nn_q_check_int8(g, n, 3, "w", NN_UNDEFINED)) != CIM_OK)
        return st;
    nn_conv_geom geo;
    if ((st = nn_conv_geom_init(g, n, x, w, NN_GEOM_CONV, &geo)) != CIM_OK)
        return st;
    const nn_value *yzp = nn_in(g, n, 7);
    if ((st = nn_q_check_param(g, n, 1, "x_scale", NN_FLOAT, 0, 1)) != CIM_OK ||
        (st = nn_q_check_param(g, n, 2, "x_zero_point", x->dtype, 0, 1)) != CIM_OK ||
        (st = nn_q_check_param(g, n, 4, "w_scale", NN_FLOAT, geo.Cout, 1)) != CIM_OK ||
        (st = nn_q_check_param(g, n, 5, "w_zero_point", w->dtype, geo.Cout, 1)) != CIM_OK ||
        (st = nn_q_check_param(g, n, 6, "y_scale", NN_FLOAT, 0, 1)) != CIM_OK ||
        (st = nn_q_check_param(g, n, 7, "y_zero_point", NN_UNDEFINED, 0, 1)) != CIM_OK)
        return st;
    if (b && (b->dtype != NN_INT32 || b->rank != 1 || b->dims[0] != geo.Cout))
        return nn_err(g, n, CIM_ERR_SHAPE, "bias B must be int32 of shape [%lld]", (long long)geo.Cout);
    return set_conv_out(g, n, &geo, yzp->dtype);
}

/* Shared by QLinearConv and ConvInteger: psum of the node into acc. */
static cim_status int_conv(const nn_graph *g, const nn_node *n, const nn_conv_geom *geo, const nn_value *x,
                           const nn_value *xzp, int w_idx, const nn_value *wzp, int32_t *acc)
{
    const nn_value *w = &g->t[n->in[w_idx]].v;
    int32_t *zw = cim__malloc(g->ctx, (size_t)(geo->Cout + 1) * sizeof *zw);
    if (!zw)
        return nn_err(g, n, CIM_ERR_NOMEM, "out of memory");
    nn_q_expand_zp(wzp, geo->Cout, zw);
    cim_status st = conv_psum(g, n, geo, x, nn_q_zp(xzp), w, zw, g->t[n->in[w_idx]].is_const, acc);
    cim__free(g->ctx, zw);
    return st;
}

cim_status nn_q_run_qlinearconv(const nn_graph *g, const nn_node *n, const nn_value *const *in, nn_value *const *out)
{
    nn_conv_geom geo;
    cim_status st = nn_conv_geom_init(g, n, in[0], in[3], NN_GEOM_CONV, &geo);
    if (st != CIM_OK)
        return st;
    nn_value *y = out[0];
    const int64_t C = geo.Cout, ohw = geo.OH * geo.OW, cnt = nn_value_count(y);
    int32_t *acc = cim__malloc(g->ctx, (size_t)(cnt + 1) * sizeof *acc);
    float *m = cim__malloc(g->ctx, (size_t)(C + 1) * sizeof *m);
    if (!acc || !m) {
        st = nn_err(g, n, CIM_ERR_NOMEM, "out of memory");
        goto done;
    }
    if ((st = int_conv(g, n, &geo, in[0], in[2], 3, in[5], acc)) != CIM_OK)
        goto done;
    const float xs = nn_q_scale(in[1]), ys = nn_q_scale(in[6]);
    nn_q_expand_f(in[4], C, m);
    for (int64_t c = 0; c < C; c++)
        m[c] = xs * m[c] / ys;
    const nn_value *b = n->n_in > 8 ? in[8] : NULL;
    const int32_t zy = nn_q_zp(in[7]);
    int32_t lo, hi;
    nn_q_range(y->dtype, &lo, &hi);
    for (int64_t s = 0; s < geo.N; s++)
        for (int64_t c = 0; c < C; c++) {
            const int64_t o = (s * C + c) * ohw, bc = b ? ((const int32_t *)b->data)[c] : 0;
            for (int64_t p = 0; p < ohw; p++)
                nn_q_put(y, o + p, nn_requant((float)((int64_t)acc[o + p] + bc) * m[c], zy, lo, hi));
        }
done:
    cim__free(g->ctx, acc);
    cim__free(g->ctx, m);
    return st;
}

/* ---- ConvInteger ---- */

cim_status nn_q_infer_convinteger(nn_graph *g, const nn_node *n)
{
    cim_status st;
    const nn_value *x = nn_in(g, n, 0), *w = nn_in(g, n, 1);
    if ((st = nn_q_check_int8(g, n, 0, "x", NN_UNDEFINED)) != CIM_OK ||
        (st = nn_q_check_int8(g, n, 1, "w", NN_UNDEFINED)) != CIM_OK)
        return st;
    nn_conv_geom geo;
    if ((st = nn_conv_geom_init(g, n, x, w, NN_GEOM_CONV, &geo)) != CIM_OK)
        return st;
    if ((st = nn_q_check_param(g, n, 2, "x_zero_point", x->dtype, 0, 0)) != CIM_OK ||
        (st = nn_q_check_param(g, n, 3, "w_zero_point", w->dtype, geo.Cout, 0)) != CIM_OK)
        return st;
    return set_conv_out(g, n, &geo, NN_INT32);
}

cim_status nn_q_run_convinteger(const nn_graph *g, const nn_node *n, const nn_value *const *in, nn_value *const *out)
{
    nn_conv_geom geo;
    cim_status st = nn_conv_geom_init(g, n, in[0], in[1], NN_GEOM_CONV, &geo);
    if (st != CIM_OK)
        return st;
    return int_conv(g, n, &geo, in[0], n->n_in > 2 ? in[2] : NULL, 1, n->n_in > 3 ? in[3] : NULL, out[0]->data);
}
