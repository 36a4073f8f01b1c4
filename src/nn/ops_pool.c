/* ops_pool.c: MaxPool, AveragePool, GlobalAveragePool and the com.microsoft
 * QLinearAveragePool and QLinearGlobalAveragePool, 1-D and 2-D (NCW/NCHW;
 * geometry from conv.c: kernel_shape, strides, pads, dilations, auto_pad,
 * ceil_mode).
 *
 * A window's taps are its kernel positions (ih, iw) = (oh*sh - pt + i*dh,
 * ow*sw - pl + j*dw). MaxPool takes the largest tap inside the input (pads
 * never win; the optional Indices output is the flat NCHW index of the first
 * maximum, or with storage_order = 1 the column-major H/W offset). AveragePool
 * sums the taps inside the input in float32, row-major, and divides by the
 * taps inside the input (count_include_pad = 0) or inside the padded input
 * (count_include_pad = 1; taps of a ceil_mode window past the end padding are
 * never counted, as in ONNX Runtime).
 *
 * QLinearAveragePool (ORT): Dequantize -> AveragePool -> Quantize, i.e. the
 * taps' (float)(x - x_zp) * x_scale summed, divided by the count, then
 * saturate(rint(avg / y_scale) + y_zp).
 * QLinearGlobalAveragePool (ORT/MLAS): with S spatial elements,
 * y = saturate(rint((float)(sum x - x_zp * S) * (x_scale / (y_scale * S))) + y_zp);
 * channels_last = 1 reads N x D1.. x C and writes N x 1.. x C. */
#include <math.h>
#include "conv.h"
#include "ops_quant.h"
#include "../lib/internal.h"

static cim_status pool_out(nn_graph *g, const nn_node *n, int idx, const nn_conv_geom *geo, nn_dtype dt)
{
    nn_value *y = nn_out(g, n, idx);
    if (!y)
        return idx == 0 ? nn_err(g, n, CIM_ERR_FORMAT, "output Y is missing") : CIM_OK;
    int64_t dims[4];
    int r = nn_conv_out_dims(geo, dims);
    return nn_set_shape(g, n, y, dt, r, dims);
}

/* Element i of a float/uint8/int8 value as float. */
static inline float elem_f(const nn_value *v, int64_t i)
{
    switch (v->dtype) {
    case NN_FLOAT: return ((const float *)v->data)[i];
    case NN_UINT8: return ((const uint8_t *)v->data)[i];
    case NN_INT8: return ((const int8_t *)v->data)[i];
    default: return 0.0f;
    }
}

/* ---- MaxPool ---- */

cim_status nn_q_infer_maxpool(nn_graph *g, const nn_node *n)
{
    const nn_value *x = nn_in(g, n, 0);
    if (!x)
        return nn_err(g, n, CIM_ERR_FORMAT, "input X is missing");
    if (x->dtype != NN_FLOAT && x->dtype != NN_UINT8 && x->dtype != NN_INT8)
        return nn_err(g, n, CIM_ERR_SHAPE, "input X has type %s, expected float32, uint8 or int8",
                      nn_dtype_name(x->dtype));
    int64_t so;
    nn_conv_geom geo;
    cim_status st;
    if ((st = nn_attr_int(g, n, "storage_order", 0, &so)) != CIM_OK ||
        (st = nn_conv_geom_init(g, n, x, NULL, NN_GEOM_POOL, &geo)) != CIM_OK)
        return st;
    if (so != 0 && so != 1)
        return nn_err(g, n, CIM_ERR_FORMAT, "attribute 'storage_order' must be 0 or 1");
    if ((st = pool_out(g, n, 0, &geo, x->dtype)) != CIM_OK)
        return st;
    return pool_out(g, n, 1, &geo, NN_INT64);
}

/* One MaxPool over planes of type T (float, uint8_t or int8_t); `first` is
 * below every value. Windows without a tap inside the input (impossible for
 * valid attributes) give `first` and index -1. */
#define MAXPOOL_LOOP(T, first)                                                                     \
    do {                                                                                          \
        const T *xd = x->data;                                                                    \
        T *yd = y->data;                                                                          \
        int64_t o = 0;                                                                            \
        for (int64_t plane = 0; plane < geo.N * geo.C; plane++)                                   \
            for (int64_t oh = 0; oh < geo.OH; oh++)                                               \
                for (int64_t ow = 0; ow < geo.OW; ow++, o++) {                                    \
                    T best = (first);                                                             \
                    int64_t bi = -1, bh = 0, bw = 0;                                              \
                    for (int64_t i = 0; i < geo.kh; i++) {                                        \
                        const int64_t ih = oh * geo.sh - geo.pt + i * geo.dh;                    \
                        if (ih < 0 || ih >= H)                                                    \
                            continue;                                                             \
                        const T *line = xd + (plane * H + ih) * W;                                \
                        for (int64_t j = 0; j < geo.kw; j++) {                                    \
                            const int64_t iw = ow * geo.sw - geo.pl + j * geo.dw;                 \
                            if (iw < 0 || iw >= W)                                                \
                                continue;                                                         \
                            if (bi < 0 || line[iw] > best) {                                      \
                                best = line[iw];                                                  \
                                bi = (plane * H + ih) * W + iw;                                   \
                                bh = ih;                                                          \
                                bw = iw;                                                          \
                            }                                                                     \
                        }                                                                         \
                    }                                                                             \
                    yd[o] = best;                                                                 \
                    if (ind)                                                                      \
                        ind[o] = bi < 0 ? -1 : so ? plane * H * W + bh + bw * H : bi;             \
                }                                                                                 \
    } while (0)

cim_status nn_q_run_maxpool(const nn_graph *g, const nn_node *n, const nn_value *const *in, nn_value *const *out)
{
    const nn_value *x = in[0];
    nn_value *y = out[0];
    int64_t *ind = n->n_out > 1 && out[1] ? out[1]->data : NULL;
    nn_conv_geom geo;
    int64_t so;
    cim_status st;
    if ((st = nn_attr_int(g, n, "storage_order", 0, &so)) != CIM_OK ||
        (st = nn_conv_geom_init(g, n, x, NULL, NN_GEOM_POOL, &geo)) != CIM_OK)
        return st;
    const int64_t H = geo.H, W = geo.W;
    if (x->dtype == NN_FLOAT)
        MAXPOOL_LOOP(float, -INFINITY);
    else if (x->dtype == NN_UINT8)
        MAXPOOL_LOOP(uint8_t, 0);
    else
        MAXPOOL_LOOP(int8_t, -128);
    return CIM_OK;
}

/* ---- AveragePool (float) and QLinearAveragePool ---- */

/* Average of one window over `src` (a float plane of H x W), the tap rule above. */
static float window_avg(const nn_conv_geom *geo, const float *src, int64_t oh, int64_t ow, int include_pad)
{
    float sum = 0.0f;
    int64_t cnt = 0;
    for (int64_t i = 0; i < geo->kh; i++) {
        const int64_t ih = oh * geo->sh - geo->pt + i * geo->dh;
        if (ih < -geo->pt || ih >= geo->H + geo->pb)
            continue;
        for (int64_t j = 0; j < geo->kw; j++) {
            const int64_t iw = ow * geo->sw - geo->pl + j * geo->dw;
            if (iw < -geo->pl || iw >= geo->W + geo->pr)
                continue;
            const int inside = ih >= 0 && ih < geo->H && iw >= 0 && iw < geo->W;
            if (inside)
                sum += src[ih * geo->W + iw];
            if (inside || include_pad)
                cnt++;
        }
    }
    return cnt ? sum / (float)cnt : 0.0f;
}

static cim_status avgpool_geom(const nn_graph *g, const nn_node *n, const nn_value *x, nn_conv_geom *geo, int64_t *cip)
{
    cim_status st = nn_attr_int(g, n, "count_include_pad", 0, cip);
    if (st != CIM_OK)
        return st;
    return nn_conv_geom_init(g, n, x, NULL, NN_GEOM_POOL, geo);
}

cim_status nn_q_infer_averagepool(nn_graph *g, const nn_node *n)
{
    const nn_value *x = nn_in(g, n, 0);
    if (!x)
        return nn_err(g, n, CIM_ERR_FORMAT, "input X is missing");
    if (x->dtype != NN_FLOAT)
        return nn_err(g, n, CIM_ERR_SHAPE, "input X has type %s, expected float32", nn_dtype_name(x->dtype));
    nn_conv_geom geo;
    int64_t cip;
    cim_status st = avgpool_geom(g, n, x, &geo, &cip);
    return st != CIM_OK ? st : pool_out(g, n, 0, &geo, NN_FLOAT);
}

cim_status nn_q_run_averagepool(const nn_graph *g, const nn_node *n, const nn_value *const *in, nn_value *const *out)
{
    nn_conv_geom geo;
    int64_t cip;
    cim_status st = avgpool_geom(g, n, in[0], &geo, &cip);
    if (st != CIM_OK)
        return st;
    const float *x = in[0]->data;
    float *y = out[0]->data;
    for (int64_t plane = 0; plane < geo.N * geo.C; plane++)
        for (int64_t oh = 0; oh < geo.OH; oh++)
            for (int64_t ow = 0; ow < geo.OW; ow++)
                *y++ = window_avg(&geo, x + plane * geo.H * geo.W, oh, ow, cip != 0);
    return CIM_OK;
}

static cim_status check_channels_first(const nn_graph *g, const nn_node *n)
{
    int64_t cl;
    cim_status st = nn_attr_int(g, n, "channels_last", 0, &cl);
    if (st == CIM_OK && cl != 0)
        return nn_err(g, n, CIM_ERR_UNSUPPORTED, "channels_last=1 is not supported");
    return st;
}

/* QLinearAveragePool inputs: X, x_scale, x_zero_point, y_scale, y_zero_point. */
cim_status nn_q_infer_qlinearaveragepool(nn_graph *g, const nn_node *n)
{
    cim_status st;
    if ((st = check_channels_first(g, n)) != CIM_OK || (st = nn_q_check_int8(g, n, 0, "X", NN_UNDEFINED)) != CIM_OK)
        return st;
    const nn_value *x = nn_in(g, n, 0);
    if ((st = nn_q_check_param(g, n, 1, "x_scale", NN_FLOAT, 0, 1)) != CIM_OK ||
        (st = nn_q_check_param(g, n, 2, "x_zero_point", x->dtype, 0, 0)) != CIM_OK ||
        (st = nn_q_check_param(g, n, 3, "y_scale", NN_FLOAT, 0, 1)) != CIM_OK ||
        (st = nn_q_check_param(g, n, 4, "y_zero_point", x->dtype, 0, 0)) != CIM_OK)
        return st;
    nn_conv_geom geo;
    int64_t cip;
    if ((st = avgpool_geom(g, n, x, &geo, &cip)) != CIM_OK)
        return st;
    return pool_out(g, n, 0, &geo, x->dtype);
}

cim_status nn_q_run_qlinearaveragepool(const nn_graph *g, const nn_node *n, const nn_value *const *in,
                                       nn_value *const *out)
{
    const nn_value *x = in[0];
    nn_conv_geom geo;
    int64_t cip;
    cim_status st = avgpool_geom(g, n, x, &geo, &cip);
    if (st != CIM_OK)
        return st;
    const float xs = nn_q_scale(in[1]), ys = nn_q_scale(in[3]);
    const int32_t zx = nn_q_zp(n->n_in > 2 ? in[2] : NULL), zy = nn_q_zp(n->n_in > 4 ? in[4] : NULL);
    int32_t lo, hi;
    nn_q_range(out[0]->dtype, &lo, &hi);
    const int64_t hw = geo.H * geo.W;
    float *plane = cim__malloc(g->ctx, (size_t)(hw + 1) * sizeof(float));
    if (!plane)
        return nn_err(g, n, CIM_ERR_NOMEM, "out of memory");
    int64_t o = 0;
    for (int64_t p = 0; p < geo.N * geo.C; p++) {
        for (int64_t i = 0; i < hw; i++)
            plane[i] = (float)(nn_q_get(x, p * hw + i) - zx) * xs;
        for (int64_t oh = 0; oh < geo.OH; oh++)
            for (int64_t ow = 0; ow < geo.OW; ow++)
                nn_q_put(out[0], o++, nn_requant(window_avg(&geo, plane, oh, ow, cip != 0) / ys, zy, lo, hi));
    }
    cim__free(g->ctx, plane);
    return CIM_OK;
}

/* ---- GlobalAveragePool and QLinearGlobalAveragePool ---- */

/* N, C and the spatial size S of x (rank >= 3); channels last when cl. */
static cim_status global_dims(nn_graph *g, const nn_node *n, const nn_value *x, int cl, nn_dtype dt)
{
    if (x->rank < 3)
        return nn_err(g, n, CIM_ERR_SHAPE, "input X has rank %d, expected at least 3", x->rank);
    int64_t d[NN_MAX_RANK];
    for (int i = 0; i < x->rank; i++)
        d[i] = 1;
    d[0] = x->dims[0];
    const int ci = cl ? x->rank - 1 : 1;
    d[ci] = x->dims[ci];
    nn_value *y = nn_out(g, n, 0);
    if (!y)
        return nn_err(g, n, CIM_ERR_FORMAT, "output Y is missing");
    return nn_set_shape(g, n, y, dt, x->rank, d);
}

cim_status nn_q_infer_globalaveragepool(nn_graph *g, const nn_node *n)
{
    const nn_value *x = nn_in(g, n, 0);
    if (!x)
        return nn_err(g, n, CIM_ERR_FORMAT, "input X is missing");
    if (x->dtype != NN_FLOAT)
        return nn_err(g, n, CIM_ERR_SHAPE, "input X has type %s, expected float32", nn_dtype_name(x->dtype));
    return global_dims(g, n, x, 0, NN_FLOAT);
}

cim_status nn_q_run_globalaveragepool(const nn_graph *g, const nn_node *n, const nn_value *const *in,
                                      nn_value *const *out)
{
    (void)g;
    (void)n;
    const nn_value *x = in[0];
    const int64_t planes = x->dims[0] * x->dims[1], S = nn_value_count(x) / (planes ? planes : 1);
    const float *xd = x->data;
    float *y = out[0]->data;
    for (int64_t p = 0; p < planes; p++) {
        float sum = 0.0f;
        for (int64_t i = 0; i < S; i++)
            sum += xd[p * S + i];
        y[p] = S ? sum / (float)S : 0.0f;
    }
    return CIM_OK;
}

/* Inputs: X, x_scale, x_zero_point, y_scale, y_zero_point. */
cim_status nn_q_infer_qlinearglobalaveragepool(nn_graph *g, const nn_node *n)
{
    cim_status st;
    int64_t cl;
    if ((st = nn_attr_int(g, n, "channels_last", 0, &cl)) != CIM_OK ||
        (st = nn_q_check_int8(g, n, 0, "X", NN_UNDEFINED)) != CIM_OK)
        return st;
    const nn_value *x = nn_in(g, n, 0);
    if ((st = nn_q_check_param(g, n, 1, "x_scale", NN_FLOAT, 0, 1)) != CIM_OK ||
        (st = nn_q_check_param(g, n, 2, "x_zero_point", x->dtype, 0, 0)) != CIM_OK ||
        (st = nn_q_check_param(g, n, 3, "y_scale", NN_FLOAT, 0, 1)) != CIM_OK ||
        (st = nn_q_check_param(g, n, 4, "y_zero_point", x->dtype, 0, 0)) != CIM_OK)
        return st;
    return global_dims(g, n, x, cl != 0, x->dtype);
}

cim_status nn_q_run_qlinearglobalaveragepool(const nn_graph *g, const nn_node *n, const nn_value *const *in,
                                             nn_value *const *out)
{
    int64_t cl;
    cim_status st = nn_attr_int(g, n, "channels_last", 0, &cl);
    if (st != CIM_OK)
        return st;
    const nn_value *x = in[0];
    const int64_t N = x->dims[0], C = cl ? x->dims[x->rank - 1] : x->dims[1];
    const int64_t S = N * C != 0 ? nn_value_count(x) / (N * C) : 0;
    const int32_t zx = nn_q_zp(n->n_in > 2 ? in[2] : NULL), zy = nn_q_zp(n->n_in > 4 ? in[4] : NULL);
    const float m = nn_q_scale(in[1]) / (nn_q_scale(in[3]) * (float)S);
    int32_t lo, hi;
    nn_q_range(out[0]->dtype, &lo, &hi);
    for (int64_t s = 0; s < N; s++)
        for (int64_t c = 0; c < C; c++) {
            int64_t sum = 0;
            for (int64_t i = 0; i < S; i++)
                sum += nn_q_get(x, cl ? (s * S + i) * C + c : (s * C + c) * S + i);
            nn_q_put(out[0], s * C + c, nn_requant((float)(sum - (int64_t)zx * S) * m, zy, lo, hi));
        }
    return CIM_OK;
}
