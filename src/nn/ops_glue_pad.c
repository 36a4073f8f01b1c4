/* ops_glue_pad.c: Pad. Opset >= 11: inputs (data, pads, constant_value,
 * axes [opset 18]); earlier: attributes pads and value. Modes constant,
 * reflect, edge (and wrap, opset 19), as numpy.pad computes them; negative
 * pads crop. pads (and axes) must be constant at inference. */
#include <string.h>
#include "ops_glue.h"

typedef enum pad_mode { P_CONSTANT, P_REFLECT, P_EDGE, P_WRAP } pad_mode;

/* Begin/end pads per dimension of x, and the mode. */
static cim_status pad_plan(const nn_graph *g, const nn_node *n, const nn_value *x, int64_t *pb, int64_t *pe,
                           pad_mode *mode)
{
    int64_t p[2 * NN_MAX_RANK], ax[NN_MAX_RANK];
    int np, na = x->rank, seen[NN_MAX_RANK] = {0};
    const char *m;
    cim_status st;
    if ((st = nn_attr_string(g, n, "mode", "constant", &m)))
        return st;
    if (strcmp(m, "constant") == 0)
        *mode = P_CONSTANT;
    else if (strcmp(m, "reflect") == 0)
        *mode = P_REFLECT;
    else if (strcmp(m, "edge") == 0)
        *mode = P_EDGE;
    else if (strcmp(m, "wrap") == 0)
        *mode = P_WRAP;
    else
        return nn_err(g, n, CIM_ERR_UNSUPPORTED, "mode '%s' is not supported (constant, reflect, edge, wrap)", m);
    for (int d = 0; d < x->rank; d++)
        ax[d] = d;
    if (g->opset >= 11) {
        if ((st = glue_const_ints(g, n, 1, "pads", p, 2 * NN_MAX_RANK, &np)) ||
            (nn_in(g, n, 3) && (st = glue_const_ints(g, n, 3, "axes", ax, NN_MAX_RANK, &na))))
            return st;
    } else {
        const int64_t *a;
        if ((st = nn_attr_ints(g, n, "pads", &a, &np)))
            return st;
        if (!a)
            return nn_err(g, n, CIM_ERR_FORMAT, "attribute 'pads' is missing");
        if (np > 2 * NN_MAX_RANK)
            return nn_err(g, n, CIM_ERR_SHAPE, "%d pads, more than %d", np, 2 * NN_MAX_RANK);
        glue_copy(p, a, (size_t)np * sizeof *p);
    }
    if (np != 2 * na)
        return nn_err(g, n, CIM_ERR_SHAPE, "%d pads for %d axes (need begin and end for each)", np, na);
    for (int d = 0; d < x->rank; d++)
        pb[d] = pe[d] = 0;
    for (int i = 0; i < na; i++) {
        int a;
        if ((st = glue_axis(g, n, "axis", ax[i], x->rank, 0, &a)))
            return st;
        if (seen[a]++)
            return nn_err(g, n, CIM_ERR_SHAPE, "axis %lld appears twice", (long long)ax[i]);
        pb[a] = p[i];
        pe[a] = p[i + na];
        if (pb[a] < -NN_MAX_ELEMS || pb[a] > NN_MAX_ELEMS || pe[a] < -NN_MAX_ELEMS || pe[a] > NN_MAX_ELEMS)
            return nn_err(g, n, CIM_ERR_SHAPE, "pads of axis %d are too large", a);
        const int64_t dim = x->dims[a];
        if (dim + pb[a] + pe[a] < 0)
            return nn_err(g, n, CIM_ERR_SHAPE, "pads of axis %d remove more than its %lld elements", a,
                          (long long)dim);
        if (*mode != P_CONSTANT && dim == 0 && dim + pb[a] + pe[a] > 0)
            return nn_err(g, n, CIM_ERR_SHAPE, "mode '%s' cannot pad the empty axis %d", m, a);
    }
    return CIM_OK;
}

cim_status glue_infer_pad(nn_graph *g, const nn_node *n)
{
    const nn_value *x, *cv;
    nn_value *y;
    int64_t pb[NN_MAX_RANK], pe[NN_MAX_RANK], d[NN_MAX_RANK];
    pad_mode mode;
    cim_status st;
    float f;
    if ((st = glue_need_in(g, n, 0, "data", &x)) || (st = glue_need_out(g, n, &y)) ||
        (st = glue_dtype(g, n, "input data", x->dtype, GLUE_ALL)) || (st = pad_plan(g, n, x, pb, pe, &mode)))
        return st;
    if (g->opset < 11 && (st = nn_attr_float(g, n, "value", 0, &f)))
        return st;
    if (g->opset >= 11 && (cv = nn_in(g, n, 2))) {
        if (cv->dtype != x->dtype)
            return nn_err(g, n, CIM_ERR_SHAPE, "constant_value is %s but data is %s", nn_dtype_name(cv->dtype),
                          nn_dtype_name(x->dtype));
        if (nn_value_count(cv) != 1 || cv->rank > 1)
            return nn_err(g, n, CIM_ERR_SHAPE, "constant_value must be a scalar");
    }
    for (int i = 0; i < x->rank; i++)
        d[i] = x->dims[i] + pb[i] + pe[i];
    return nn_set_shape(g, n, y, x->dtype, x->rank, d);
}

/* Input index for padded position i (already shifted by the begin pad) of a
 * dimension of n elements; -1: outside (constant mode). numpy.pad's rules:
 * reflect mirrors about the end elements (period 2(n-1)), wrap repeats. */
static int64_t pad_index(int64_t i, int64_t n, pad_mode m)
{
    if (i >= 0 && i < n)
        return i;
    switch (m) {
    case P_CONSTANT: return -1;
    case P_EDGE: return i < 0 ? 0 : n - 1;
    case P_WRAP: return ((i % n) + n) % n;
    default: {
        if (n == 1)
            return 0;
        const int64_t p = 2 * (n - 1);
        i = ((i % p) + p) % p;
        return i < n ? i : p - i;
    }
    }
}

cim_status glue_run_pad(const nn_graph *g, const nn_node *n, const nn_value *const *in, nn_value *const *out)
{
    const nn_value *x = in[0];
    nn_value *y = out[0];
    int64_t pb[NN_MAX_RANK], pe[NN_MAX_RANK], xs[NN_MAX_RANK], idx[NN_MAX_RANK] = {0};
    pad_mode mode;
    char fill[8] = {0};
    const size_t es = nn_dtype_size(x->dtype);
    cim_status st = pad_plan(g, n, x, pb, pe, &mode);
    if (st)
        return st;
    if (g->opset < 11) {
        float f;
        if ((st = nn_attr_float(g, n, "value", 0, &f)))
            return st;
        nn_value fv = {NN_FLOAT, 0, {0}, &f};
        int64_t iv = glue_get_i64(&fv, 0);
        switch (x->dtype) { /* the attribute is float; other dtypes take it converted */
        case NN_FLOAT: memcpy(fill, &f, 4); break;
        case NN_INT32: { int32_t v = (int32_t)iv; memcpy(fill, &v, 4); break; }
        case NN_INT64: memcpy(fill, &iv, 8); break;
        case NN_BOOL: fill[0] = f != 0; break;
        default: fill[0] = (char)iv; break;
        }
    } else if (n->n_in > 2 && in[2]) {
        memcpy(fill, in[2]->data, es);
    }
    const int R = y->rank;
    const int64_t total = nn_value_count(y);
    if (total == 0)
        return CIM_OK;
    glue_strides(x, xs);
    char *dst = y->data;
    for (int64_t k = 0; k < total; k++, dst += es) {
        int64_t off = 0;
        int inside = 1;
        for (int d = 0; d < R && inside; d++) {
            int64_t i = pad_index(idx[d] - pb[d], x->dims[d], mode);
            if (i < 0)
                inside = 0;
            off += i * xs[d];
        }
        memcpy(dst, inside ? (const char *)x->data + (size_t)off * es : fill, es);
        for (int d = R - 1; d >= 0; d--) {
            if (++idx[d] < y->dims[d])
                break;
            idx[d] = 0;
        }
    }
    return CIM_OK;
}
