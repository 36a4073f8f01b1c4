/* ops_glue_norm.c: Softmax, LayerNormalization and ReduceMean.
 *
 * Softmax: opset >= 13 normalizes along `axis` (default -1); before 13 the
 * input is coerced to 2-D [prod(dims[:axis]), prod(dims[axis:])] (default
 * axis 1) and each row is normalized. exp(x - max) in float32, sums in double.
 * LayerNormalization (opset 17): over dims[axis:], Y = (x - mean) * inv_std *
 * Scale + B with inv_std = 1 / sqrt(var + epsilon); optional Mean and
 * InvStdDev outputs of shape dims[:axis] + [1]*. ReduceMean: axes as an
 * attribute (opset < 18) or input (>= 18), keepdims; integer means truncate
 * toward zero (ONNX's reference: numpy's mean cast back). */
#include <math.h>
#include <string.h>
#include "ops_glue.h"
#include "../lib/internal.h"

/* outer x k x inner split of a shape around axis a. */
static void split3(const nn_value *x, int a, int64_t *outer, int64_t *k, int64_t *inner)
{
    *outer = *inner = 1;
    for (int d = 0; d < a; d++)
        *outer *= x->dims[d];
    for (int d = a + 1; d < x->rank; d++)
        *inner *= x->dims[d];
    *k = x->dims[a];
}

static cim_status softmax_axis(const nn_graph *g, const nn_node *n, const nn_value *x, int *a)
{
    int64_t axis;
    cim_status st = nn_attr_int(g, n, "axis", g->opset >= 13 ? -1 : 1, &axis);
    if (st)
        return st;
    if (x->rank == 0)
        return nn_err(g, n, CIM_ERR_SHAPE, "input must have rank 1 or more");
    return glue_axis(g, n, "axis", axis, x->rank, 0, a);
}

cim_status glue_infer_softmax(nn_graph *g, const nn_node *n)
{
    const nn_value *x;
    nn_value *y;
    int a;
    cim_status st;
    if ((st = glue_need_in(g, n, 0, "input", &x)) || (st = glue_need_out(g, n, &y)) ||
        (st = glue_dtype(g, n, "input", x->dtype, GLUE_F)) || (st = softmax_axis(g, n, x, &a)))
        return st;
    return nn_set_shape(g, n, y, x->dtype, x->rank, x->dims);
}

cim_status glue_run_softmax(const nn_graph *g, const nn_node *n, const nn_value *const *in, nn_value *const *out)
{
    int a;
    int64_t outer, k, inner;
    cim_status st = softmax_axis(g, n, in[0], &a);
    if (st)
        return st;
    if (g->opset >= 13) {
        split3(in[0], a, &outer, &k, &inner);
    } else { /* 2-D coercion: rows of prod(dims[a:]) */
        outer = k = 1;
        for (int d = 0; d < in[0]->rank; d++)
            *(d < a ? &outer : &k) *= in[0]->dims[d];
        inner = 1;
    }
    const float *x = in[0]->data;
    float *y = out[0]->data;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            const float *xs = x + o * k * inner + i;
            float *ys = y + o * k * inner + i;
            float m = -INFINITY;
            double sum = 0;
            for (int64_t j = 0; j < k; j++)
                m = xs[j * inner] > m ? xs[j * inner] : m;
            for (int64_t j = 0; j < k; j++)
                sum += ys[j * inner] = expf(xs[j * inner] - m);
            for (int64_t j = 0; j < k; j++)
                ys[j * inner] = (float)(ys[j * inner] / sum);
        }
    return CIM_OK;
}

/* ---- LayerNormalization ---- */

/* Scale/B must broadcast (unidirectionally) to the normalized shape dims[a:]. */
static cim_status ln_param(const nn_graph *g, const nn_node *n, int i, const char *what, const nn_value *x, int a)
{
    const nn_value *p = nn_in(g, n, i);
    if (!p)
        return CIM_OK;
    if (p->dtype != NN_FLOAT)
        return nn_err(g, n, CIM_ERR_SHAPE, "%s is %s, not float32", what, nn_dtype_name(p->dtype));
    const int nr = x->rank - a;
    if (p->rank > nr)
        return nn_err(g, n, CIM_ERR_SHAPE, "%s has rank %d, above the normalized rank %d", what, p->rank, nr);
    for (int d = 0; d < p->rank; d++) {
        int64_t want = x->dims[x->rank - p->rank + d];
        if (p->dims[d] != want && p->dims[d] != 1)
            return nn_err(g, n, CIM_ERR_SHAPE, "%s dimension %d is %lld, the input's is %lld", what, d,
                          (long long)p->dims[d], (long long)want);
    }
    return CIM_OK;
}

static cim_status ln_attrs(const nn_graph *g, const nn_node *n, const nn_value *x, int *a, float *eps)
{
    int64_t axis, stash;
    cim_status st;
    if ((st = nn_attr_int(g, n, "axis", -1, &axis)) || (st = nn_attr_float(g, n, "epsilon", 1e-5f, eps)) ||
        (st = nn_attr_int(g, n, "stash_type", 1, &stash)))
        return st;
    if (stash != 1)
        return nn_err(g, n, CIM_ERR_UNSUPPORTED, "stash_type %lld is not supported (only 1, float32)",
                      (long long)stash);
    if (x->rank == 0)
        return nn_err(g, n, CIM_ERR_SHAPE, "input must have rank 1 or more");
    return glue_axis(g, n, "axis", axis, x->rank, 0, a);
}

cim_status glue_infer_layernorm(nn_graph *g, const nn_node *n)
{
    const nn_value *x, *s;
    nn_value *y;
    int a;
    float eps;
    int64_t d[NN_MAX_RANK];
    cim_status st;
    if ((st = glue_need_in(g, n, 0, "X", &x)) || (st = glue_need_in(g, n, 1, "Scale", &s)) ||
        (st = glue_need_out(g, n, &y)) || (st = glue_dtype(g, n, "input X", x->dtype, GLUE_F)) ||
        (st = ln_attrs(g, n, x, &a, &eps)) || (st = ln_param(g, n, 1, "Scale", x, a)) ||
        (st = ln_param(g, n, 2, "B", x, a)) || (st = nn_set_shape(g, n, y, x->dtype, x->rank, x->dims)))
        return st;
    for (int k = 0; k < x->rank; k++)
        d[k] = k < a ? x->dims[k] : 1;
    for (int o = 1; o < 3 && o < n->n_out; o++) {
        nn_value *m = nn_out(g, n, o);
        if (m && (st = nn_set_shape(g, n, m, NN_FLOAT, x->rank, d)))
            return st;
    }
    return CIM_OK;
}

/* Element j of the normalized block from a broadcast parameter p. */
static float ln_get(const nn_value *p, const nn_value *x, int a, int64_t j)
{
    int64_t off = 0, stride = 1;
    for (int d = x->rank - 1; d >= a; d--) {
        const int64_t xd = x->dims[d], i = j % xd;
        j /= xd;
        const int pd = d - (x->rank - p->rank);
        if (pd < 0)
            break;
        if (p->dims[pd] != 1)
            off += i * stride;
        stride *= p->dims[pd];
    }
    return ((const float *)p->data)[off];
}

cim_status glue_run_layernorm(const nn_graph *g, const nn_node *n, const nn_value *const *in, nn_value *const *out)
{
    const nn_value *x = in[0], *sc = in[1], *b = n->n_in > 2 ? in[2] : NULL;
    int a;
    float eps;
    cim_status st = ln_attrs(g, n, x, &a, &eps);
    if (st)
        return st;
    int64_t rows = 1, cols = 1;
    for (int d = 0; d < x->rank; d++)
        *(d < a ? &rows : &cols) *= x->dims[d];
    /* expand Scale and B to the normalized block once */
    float *sb = cim__malloc(g->ctx, (size_t)(cols ? cols : 1) * 2 * sizeof(float));
    if (!sb)
        return nn_err(g, n, CIM_ERR_NOMEM, "out of memory for %lld scale values", (long long)cols);
    for (int64_t j = 0; j < cols; j++) {
        sb[j] = ln_get(sc, x, a, j);
        sb[cols + j] = b ? ln_get(b, x, a, j) : 0.0f;
    }
    float *mean_out = n->n_out > 1 && out[1] ? out[1]->data : NULL;
    float *inv_out = n->n_out > 2 && out[2] ? out[2]->data : NULL;
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = (const float *)x->data + r * cols;
        float *yr = (float *)out[0]->data + r * cols;
        double s = 0, v = 0;
        for (int64_t j = 0; j < cols; j++)
            s += xr[j];
        const float mean = (float)(s / (double)cols);
        for (int64_t j = 0; j < cols; j++) {
            const float dv = xr[j] - mean;
            v += (double)dv * dv;
        }
        const float inv = 1.0f / sqrtf((float)(v / (double)cols) + eps);
        for (int64_t j = 0; j < cols; j++)
            yr[j] = (xr[j] - mean) * inv * sb[j] + sb[cols + j];
        if (mean_out)
            mean_out[r] = mean;
        if (inv_out)
            inv_out[r] = inv;
    }
    cim__free(g->ctx, sb);
    return CIM_OK;
}

/* ---- ReduceMean ---- */

/* Mask of reduced axes; *noop: reduce nothing (empty axes with noop_with_empty_axes). */
static cim_status rm_plan(const nn_graph *g, const nn_node *n, const nn_value *x, int *mask, int *keep)
{
    int64_t axes[NN_MAX_RANK], kd, noop = 0;
    int c = 0;
    cim_status st;
    if ((st = nn_attr_int(g, n, "keepdims", 1, &kd)))
        return st;
    *keep = kd != 0;
    if (g->opset >= 18) {
        if ((st = nn_attr_int(g, n, "noop_with_empty_axes", 0, &noop)))
            return st;
        if (nn_attr_find(n, "axes"))
            return nn_err(g, n, CIM_ERR_FORMAT, "opset %lld takes axes as input 1, not an attribute",
                          (long long)g->opset);
        if (nn_in(g, n, 1) && (st = glue_const_ints(g, n, 1, "axes", axes, NN_MAX_RANK, &c)))
            return st;
    } else {
        const int64_t *a;
        if ((st = nn_attr_ints(g, n, "axes", &a, &c)))
            return st;
        if (nn_in(g, n, 1))
            return nn_err(g, n, CIM_ERR_FORMAT, "opset %lld takes axes as an attribute, not an input",
                          (long long)g->opset);
        if (c > NN_MAX_RANK)
            return nn_err(g, n, CIM_ERR_SHAPE, "%d axes, more than %d", c, NN_MAX_RANK);
        glue_copy(axes, a, (size_t)c * sizeof *a);
    }
    for (int d = 0; d < NN_MAX_RANK; d++)
        mask[d] = c == 0 && !noop && d < x->rank;
    for (int i = 0; i < c; i++) {
        int a;
        if ((st = glue_axis(g, n, "axis", axes[i], x->rank, 0, &a)))
            return st;
        if (mask[a]++)
            return nn_err(g, n, CIM_ERR_SHAPE, "axis %lld appears twice", (long long)axes[i]);
    }
    return CIM_OK;
}

cim_status glue_infer_reducemean(nn_graph *g, const nn_node *n)
{
    const nn_value *x;
    nn_value *y;
    int mask[NN_MAX_RANK], keep, r = 0;
    int64_t d[NN_MAX_RANK];
    cim_status st;
    if ((st = glue_need_in(g, n, 0, "data", &x)) || (st = glue_need_out(g, n, &y)) ||
        (st = glue_dtype(g, n, "input data", x->dtype, GLUE_NUM)) || (st = rm_plan(g, n, x, mask, &keep)))
        return st;
    for (int k = 0; k < x->rank; k++) {
        if (!mask[k])
            d[r++] = x->dims[k];
        else if (keep)
            d[r++] = 1;
        else if (x->dims[k] == 0)
            return nn_err(g, n, CIM_ERR_SHAPE, "cannot reduce the empty axis %d", k);
    }
    return nn_set_shape(g, n, y, x->dtype, r, d);
}

cim_status glue_run_reducemean(const nn_graph *g, const nn_node *n, const nn_value *const *in, nn_value *const *out)
{
    const nn_value *x = in[0];
    nn_value *y = out[0];
    int mask[NN_MAX_RANK], keep;
    int64_t ost[NN_MAX_RANK], idx[NN_MAX_RANK] = {0}, s = 1, count = 1;
    cim_status st = rm_plan(g, n, x, mask, &keep);
    if (st)
        return st;
    /* output offset strides over x's dims (0 on reduced ones) */
    for (int d = x->rank - 1; d >= 0; d--) {
        ost[d] = mask[d] ? 0 : s;
        if (mask[d])
            count *= x->dims[d];
        else
            s *= x->dims[d];
    }
    const int64_t ny = nn_value_count(y), nx = nn_value_count(x);
    double *acc = cim__calloc(g->ctx, (size_t)(ny ? ny : 1), sizeof *acc);
    if (!acc)
        return nn_err(g, n, CIM_ERR_NOMEM, "out of memory for %lld sums", (long long)ny);
    int64_t o = 0;
    for (int64_t i = 0; i < nx; i++) {
        acc[o] += glue_get_f64(x, i);
        for (int d = x->rank - 1; d >= 0; d--) {
            o += ost[d];
            if (++idx[d] < x->dims[d])
                break;
            o -= ost[d] * x->dims[d];
            idx[d] = 0;
        }
    }
    for (int64_t i = 0; i < ny; i++) {
        const double m = count ? acc[i] / (double)count : NAN;
        switch (y->dtype) {
        case NN_FLOAT: ((float *)y->data)[i] = (float)m; break;
        default: { /* a mean lies within the dtype's range: truncate toward zero */
            const int64_t v = isnan(m) ? 0 : m >= 9.2233720368547758e18 ? INT64_MAX : m <= -9.2233720368547758e18 ? INT64_MIN : (int64_t)m;
            switch (y->dtype) {
            case NN_UINT8: ((uint8_t *)y->data)[i] = (uint8_t)v; break;
            case NN_INT8: ((int8_t *)y->data)[i] = (int8_t)v; break;
            case NN_INT32: ((int32_t *)y->data)[i] = (int32_t)v; break;
            default: ((int64_t *)y->data)[i] = v; break;
            }
        }
        }
    }
    cim__free(g->ctx, acc);
    return CIM_OK;
}
