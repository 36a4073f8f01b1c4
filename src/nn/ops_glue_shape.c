/* ops_glue_shape.c: operators that only change a shape (Reshape, Flatten,
 * Squeeze, Unsqueeze: the data is copied unchanged) or make values from
 * attributes and shapes (Shape, Constant, ConstantOfShape, Range), and Cast.
 * Shape-like inputs must be constant at inference (shapes are static). */
#include <math.h>
#include <string.h>
#include "ops_glue.h"
#include "../lib/internal.h"

/* Same bytes, new shape (Reshape, Flatten, Squeeze, Unsqueeze). */
static cim_status copy_run(const nn_graph *g, const nn_node *n, const nn_value *const *in, nn_value *const *out)
{
    (void)g;
    (void)n;
    glue_copy(out[0]->data, in[0]->data, (size_t)nn_value_count(in[0]) * nn_dtype_size(in[0]->dtype));
    return CIM_OK;
}

/* ---- Reshape(data, shape), allowzero (opset 14): 0 copies the input's
 * dimension (unless allowzero), one -1 is inferred. ---- */
cim_status glue_infer_reshape(nn_graph *g, const nn_node *n)
{
    const nn_value *x;
    nn_value *y;
    int64_t s[NN_MAX_RANK], allowzero, known = 1;
    int r, neg = -1;
    cim_status st;
    if ((st = glue_need_in(g, n, 0, "data", &x)) || (st = glue_need_out(g, n, &y)) ||
        (st = glue_dtype(g, n, "input data", x->dtype, GLUE_ALL)) ||
        (st = glue_const_ints(g, n, 1, "shape", s, NN_MAX_RANK, &r)) ||
        (st = nn_attr_int(g, n, "allowzero", 0, &allowzero)))
        return st;
    for (int i = 0; i < r; i++) {
        if (s[i] == -1) {
            if (neg >= 0)
                return nn_err(g, n, CIM_ERR_SHAPE, "shape has more than one -1");
            neg = i;
        } else if (s[i] < -1) {
            return nn_err(g, n, CIM_ERR_SHAPE, "shape[%d] = %lld is invalid", i, (long long)s[i]);
        } else if (s[i] == 0 && !allowzero) {
            if (i >= x->rank)
                return nn_err(g, n, CIM_ERR_SHAPE, "shape[%d] = 0 copies a dimension the rank-%d input lacks", i,
                              x->rank);
            s[i] = x->dims[i];
        }
        if (s[i] > NN_MAX_ELEMS)
            return nn_err(g, n, CIM_ERR_SHAPE, "shape[%d] = %lld is too large", i, (long long)s[i]);
        if (s[i] >= 0)
            known *= s[i]; /* both factors <= 2^31: no overflow before the check */
        if (known > NN_MAX_ELEMS)
            return nn_err(g, n, CIM_ERR_SHAPE, "shape has more than 2^31 elements");
    }
    const int64_t total = nn_value_count(x);
    if (neg >= 0) {
        if (known == 0 || total % known != 0)
            return nn_err(g, n, CIM_ERR_SHAPE, "cannot infer the -1 dimension: %lld elements into blocks of %lld",
                          (long long)total, (long long)known);
        s[neg] = total / known;
    } else if (known != total) {
        return nn_err(g, n, CIM_ERR_SHAPE, "shape has %lld elements but the input has %lld", (long long)known,
                      (long long)total);
    }
    return nn_set_shape(g, n, y, x->dtype, r, s);
}

cim_status glue_run_reshape(const nn_graph *g, const nn_node *n, const nn_value *const *in, nn_value *const *out)
{
    return copy_run(g, n, in, out);
}

/* ---- Flatten: [prod(dims[:axis]), prod(dims[axis:])], axis in [-r, r] ---- */
cim_status glue_infer_flatten(nn_graph *g, const nn_node *n)
{
    const nn_value *x;
    nn_value *y;
    int64_t axis, d[2] = {1, 1};
    int a;
    cim_status st;
    if ((st = glue_need_in(g, n, 0, "input", &x)) || (st = glue_need_out(g, n, &y)) ||
        (st = glue_dtype(g, n, "input", x->dtype, GLUE_ALL)) || (st = nn_attr_int(g, n, "axis", 1, &axis)) ||
        (st = glue_axis(g, n, "axis", axis, x->rank, 1, &a)))
        return st;
    for (int i = 0; i < x->rank; i++)
        d[i >= a] *= x->dims[i];
    return nn_set_shape(g, n, y, x->dtype, 2, d);
}

cim_status glue_run_flatten(const nn_graph *g, const nn_node *n, const nn_value *const *in, nn_value *const *out)
{
    return copy_run(g, n, in, out);
}

/* Axes of Squeeze/Unsqueeze: attribute before opset 13, input 1 from 13 on. */
static cim_status get_axes(const nn_graph *g, const nn_node *n, int64_t *axes, int *count)
{
    *count = 0;
    if (g->opset >= 13) {
        if (nn_attr_find(n, "axes"))
            return nn_err(g, n, CIM_ERR_FORMAT, "opset %lld takes axes as input 1, not an attribute",
                          (long long)g->opset);
        if (!nn_in(g, n, 1))
            return CIM_OK;
        return glue_const_ints(g, n, 1, "axes", axes, NN_MAX_RANK, count);
    }
    const int64_t *a;
    int c;
    cim_status st = nn_attr_ints(g, n, "axes", &a, &c);
    if (st)
        return st;
    if (n->n_in > 1 && n->in[1] >= 0)
        return nn_err(g, n, CIM_ERR_FORMAT, "opset %lld takes axes as an attribute, not an input",
                      (long long)g->opset);
    if (c > NN_MAX_RANK)
        return nn_err(g, n, CIM_ERR_SHAPE, "%d axes, more than %d", c, NN_MAX_RANK);
    glue_copy(axes, a, (size_t)c * sizeof *a);
    *count = c;
    return CIM_OK;
}

/* Normalize axes against `rank` into a mask; duplicates are errors. */
static cim_status axes_mask(const nn_graph *g, const nn_node *n, const int64_t *axes, int c, int rank, int *mask)
{
    memset(mask, 0, NN_MAX_RANK * sizeof *mask);
    for (int i = 0; i < c; i++) {
        int a;
        cim_status st = glue_axis(g, n, "axis", axes[i], rank, 0, &a);
        if (st)
            return st;
        if (mask[a])
            return nn_err(g, n, CIM_ERR_SHAPE, "axis %lld appears twice", (long long)axes[i]);
        mask[a] = 1;
    }
    return CIM_OK;
}

cim_status glue_infer_squeeze(nn_graph *g, const nn_node *n)
{
    const nn_value *x;
    nn_value *y;
    int64_t axes[NN_MAX_RANK], d[NN_MAX_RANK];
    int c, mask[NN_MAX_RANK], r = 0;
    cim_status st;
    if ((st = glue_need_in(g, n, 0, "data", &x)) || (st = glue_need_out(g, n, &y)) ||
        (st = glue_dtype(g, n, "input data", x->dtype, GLUE_ALL)) || (st = get_axes(g, n, axes, &c)) ||
        (st = axes_mask(g, n, axes, c, x->rank, mask)))
        return st;
    for (int i = 0; i < x->rank; i++) {
        if (c == 0) /* no (or empty) axes: every dimension of 1, as ONNX Runtime does */
            mask[i] = x->dims[i] == 1;
        else if (mask[i] && x->dims[i] != 1)
            return nn_err(g, n, CIM_ERR_SHAPE, "cannot squeeze axis %d of size %lld", i, (long long)x->dims[i]);
        if (!mask[i])
            d[r++] = x->dims[i];
    }
    return nn_set_shape(g, n, y, x->dtype, r, d);
}

cim_status glue_run_squeeze(const nn_graph *g, const nn_node *n, const nn_value *const *in, nn_value *const *out)
{
    return copy_run(g, n, in, out);
}

cim_status glue_infer_unsqueeze(nn_graph *g, const nn_node *n)
{
    const nn_value *x;
    nn_value *y;
    int64_t axes[NN_MAX_RANK], d[NN_MAX_RANK];
    int c, mask[NN_MAX_RANK];
    cim_status st;
    if ((st = glue_need_in(g, n, 0, "data", &x)) || (st = glue_need_out(g, n, &y)) ||
        (st = glue_dtype(g, n, "input data", x->dtype, GLUE_ALL)) || (st = get_axes(g, n, axes, &c)))
        return st;
    if (c == 0)
        return nn_err(g, n, CIM_ERR_FORMAT, "axes are missing or empty");
    const int r = x->rank + c;
    if (r > NN_MAX_RANK)
        return nn_err(g, n, CIM_ERR_SHAPE, "output rank %d is above %d", r, NN_MAX_RANK);
    if ((st = axes_mask(g, n, axes, c, r, mask)))
        return st;
    for (int i = 0, k = 0; i < r; i++)
        d[i] = mask[i] ? 1 : x->dims[k++];
    return nn_set_shape(g, n, y, x->dtype, r, d);
}

cim_status glue_run_unsqueeze(const nn_graph *g, const nn_node *n, const nn_value *const *in, nn_value *const *out)
{
    return copy_run(g, n, in, out);
}

/* ---- Shape: int64 [end - start] of the input's dims; start/end (opset 15)
 * are clamped into [0, rank] after adding rank to negatives. ---- */
static cim_status shape_range(const nn_graph *g, const nn_node *n, int rank, int64_t *lo, int64_t *hi)
{
    cim_status st;
    if ((st = nn_attr_int(g, n, "start", 0, lo)) || (st = nn_attr_int(g, n, "end", rank, hi)))
        return st;
    int64_t *v[2] = {lo, hi};
    for (int i = 0; i < 2; i++) {
        if (*v[i] < 0)
            *v[i] += rank;
        *v[i] = *v[i] < 0 ? 0 : *v[i] > rank ? rank : *v[i];
    }
    if (*hi < *lo)
        *hi = *lo;
    return CIM_OK;
}

cim_status glue_infer_shape(nn_graph *g, const nn_node *n)
{
    const nn_value *x;
    nn_value *y;
    int64_t lo, hi;
    cim_status st;
    if ((st = glue_need_in(g, n, 0, "data", &x)) || (st = glue_need_out(g, n, &y)) ||
        (st = shape_range(g, n, x->rank, &lo, &hi)))
        return st;
    int64_t len = hi - lo;
    return nn_set_shape(g, n, y, NN_INT64, 1, &len);
}

cim_status glue_run_shape(const nn_graph *g, const nn_node *n, const nn_value *const *in, nn_value *const *out)
{
    int64_t lo, hi;
    cim_status st = shape_range(g, n, in[0]->rank, &lo, &hi);
    for (int64_t i = lo; i < hi && !st; i++)
        ((int64_t *)out[0]->data)[i - lo] = in[0]->dims[i];
    return st;
}

/* ---- Constant: exactly one of value (tensor), value_float(s), value_int(s) ---- */
static cim_status constant_attr(const nn_graph *g, const nn_node *n, const nn_attr **out)
{
    static const char *const names[] = {"value", "value_float", "value_floats", "value_int", "value_ints"};
    static const nn_attr_type types[] = {NN_ATTR_TENSOR, NN_ATTR_FLOAT, NN_ATTR_FLOATS, NN_ATTR_INT, NN_ATTR_INTS};
    *out = NULL;
    for (int i = 0; i < n->n_attr; i++) {
        size_t k = 0;
        while (k < 5 && strcmp(n->attr[i].name, names[k]) != 0)
            k++;
        if (k == 5)
            return nn_err(g, n, CIM_ERR_UNSUPPORTED, "attribute '%s' is not supported", n->attr[i].name);
        if (n->attr[i].type != types[k] || (k == 0 && !n->attr[i].t))
            return nn_err(g, n, CIM_ERR_FORMAT, "attribute '%s' has the wrong type", names[k]);
        if (*out)
            return nn_err(g, n, CIM_ERR_FORMAT, "more than one value attribute");
        *out = &n->attr[i];
    }
    if (!*out)
        return nn_err(g, n, CIM_ERR_FORMAT, "no value attribute");
    return CIM_OK;
}

cim_status glue_infer_constant(nn_graph *g, const nn_node *n)
{
    const nn_attr *a;
    nn_value *y;
    cim_status st;
    if ((st = glue_need_out(g, n, &y)) || (st = constant_attr(g, n, &a)))
        return st;
    int64_t len = a->n;
    switch (a->type) {
    case NN_ATTR_TENSOR:
        if ((st = glue_dtype(g, n, "attribute 'value'", a->t->dtype, GLUE_ALL)))
            return st;
        return nn_set_shape(g, n, y, a->t->dtype, a->t->rank, a->t->dims);
    case NN_ATTR_FLOAT: return nn_set_shape(g, n, y, NN_FLOAT, 0, NULL);
    case NN_ATTR_INT: return nn_set_shape(g, n, y, NN_INT64, 0, NULL);
    case NN_ATTR_FLOATS: return nn_set_shape(g, n, y, NN_FLOAT, 1, &len);
    default: return nn_set_shape(g, n, y, NN_INT64, 1, &len);
    }
}

cim_status glue_run_constant(const nn_graph *g, const nn_node *n, const nn_value *const *in, nn_value *const *out)
{
    const nn_attr *a;
    (void)in;
    cim_status st = constant_attr(g, n, &a);
    if (st)
        return st;
    switch (a->type) {
    case NN_ATTR_TENSOR:
        if (nn_value_count(a->t) && !a->t->data)
            return nn_err(g, n, CIM_ERR_FORMAT, "attribute 'value' has no data");
        glue_copy(out[0]->data, a->t->data, (size_t)nn_value_count(a->t) * nn_dtype_size(a->t->dtype));
        break;
    case NN_ATTR_FLOAT: *(float *)out[0]->data = a->f; break;
    case NN_ATTR_INT: *(int64_t *)out[0]->data = a->i; break;
    case NN_ATTR_FLOATS: glue_copy(out[0]->data, a->floats, (size_t)a->n * sizeof(float)); break;
    default: glue_copy(out[0]->data, a->ints, (size_t)a->n * sizeof(int64_t)); break;
    }
    return CIM_OK;
}

/* ---- ConstantOfShape(shape): every element = attribute 'value' (a
 * one-element tensor; default float32 0) ---- */
cim_status glue_infer_constantofshape(nn_graph *g, const nn_node *n)
{
    nn_value *y;
    int64_t s[NN_MAX_RANK];
    int r;
    nn_dtype dt = NN_FLOAT;
    cim_status st;
    const nn_attr *a = nn_attr_find(n, "value");
    if ((st = glue_need_out(g, n, &y)) || (st = glue_const_ints(g, n, 0, "shape", s, NN_MAX_RANK, &r)))
        return st;
    if (a) {
        if (a->type != NN_ATTR_TENSOR || !a->t || nn_value_count(a->t) != 1 || !a->t->data)
            return nn_err(g, n, CIM_ERR_FORMAT, "attribute 'value' must be a one-element tensor");
        if ((st = glue_dtype(g, n, "attribute 'value'", a->t->dtype, GLUE_ALL)))
            return st;
        dt = a->t->dtype;
    }
    return nn_set_shape(g, n, y, dt, r, s);
}

cim_status glue_run_constantofshape(const nn_graph *g, const nn_node *n, const nn_value *const *in,
                                    nn_value *const *out)
{
    (void)g;
    (void)in;
    const nn_attr *a = nn_attr_find(n, "value");
    if (!a) /* zeroed by the executor */
        return CIM_OK;
    const size_t es = nn_dtype_size(out[0]->dtype);
    const int64_t c = nn_value_count(out[0]);
    for (int64_t i = 0; i < c; i++)
        memcpy((char *)out[0]->data + (size_t)i * es, a->t->data, es);
    return CIM_OK;
}

/* ---- Range(start, limit, delta): scalars of one dtype (float32, int32,
 * int64), constant so that the length max(ceil((limit - start) / delta), 0)
 * is static; y[i] = start + i * delta. ---- */
cim_status glue_infer_range(nn_graph *g, const nn_node *n)
{
    static const char *const names[] = {"start", "limit", "delta"};
    const nn_value *v[3];
    nn_value *y;
    cim_status st;
    if ((st = glue_need_out(g, n, &y)))
        return st;
    for (int i = 0; i < 3; i++) {
        if ((st = glue_need_in(g, n, i, names[i], &v[i])) ||
            (st = glue_dtype(g, n, names[i], v[i]->dtype, GLUE_F | GLUE_I32 | GLUE_I64)))
            return st;
        if (v[i]->dtype != v[0]->dtype)
            return nn_err(g, n, CIM_ERR_SHAPE, "%s is %s but start is %s", names[i], nn_dtype_name(v[i]->dtype),
                          nn_dtype_name(v[0]->dtype));
        if (nn_value_count(v[i]) != 1 || v[i]->rank > 1)
            return nn_err(g, n, CIM_ERR_SHAPE, "%s must be a scalar", names[i]);
        if (!glue_in_const(g, n, i))
            return nn_err(g, n, CIM_ERR_UNSUPPORTED, "%s is only known at run time; shapes must be static",
                          names[i]);
    }
    const double s = glue_get_f64(v[0], 0), l = glue_get_f64(v[1], 0), d = glue_get_f64(v[2], 0);
    if (d == 0 || isnan(s) || isnan(l) || isnan(d))
        return nn_err(g, n, CIM_ERR_RANGE, "delta is zero or a value is NaN");
    double c = ceil((l - s) / d);
    if (c > (double)NN_MAX_ELEMS)
        return nn_err(g, n, CIM_ERR_SHAPE, "range has more than 2^31 elements");
    int64_t len = c > 0 ? (int64_t)c : 0;
    return nn_set_shape(g, n, y, v[0]->dtype, 1, &len);
}

cim_status glue_run_range(const nn_graph *g, const nn_node *n, const nn_value *const *in, nn_value *const *out)
{
    (void)g;
    (void)n;
    const int64_t c = out[0]->dims[0];
    for (int64_t i = 0; i < c; i++) {
        switch (out[0]->dtype) {
        case NN_FLOAT: {
            const float s = *(const float *)in[0]->data, d = *(const float *)in[2]->data;
            ((float *)out[0]->data)[i] = s + (float)i * d;
            break;
        }
        case NN_INT32: /* results lie in [start, limit): computed in int64, no overflow */
            ((int32_t *)out[0]->data)[i] = (int32_t)(*(const int32_t *)in[0]->data + i * *(const int32_t *)in[2]->data);
            break;
        default: /* results lie in [start, limit) but i * delta alone may not fit: unsigned */
            ((int64_t *)out[0]->data)[i] = (int64_t)((uint64_t) * (const int64_t *)in[0]->data +
                                                     (uint64_t)i * (uint64_t) * (const int64_t *)in[2]->data);
            break;
        }
    }
    return CIM_OK;
}

/* ---- Cast(to): between float32, int32, int64, uint8, int8 and bool.
 * Float to integer truncates toward zero; out of range it saturates to the
 * target's limits and NaN gives 0 (ONNX before opset 19 leaves this undefined;
 * saturating keeps it defined in C). Integer to narrower integer keeps the low
 * bits (two's complement), as ONNX says. Anything to bool: nonzero is true. ---- */
cim_status glue_infer_cast(nn_graph *g, const nn_node *n)
{
    const nn_value *x;
    nn_value *y;
    int64_t to;
    cim_status st;
    if ((st = glue_need_in(g, n, 0, "input", &x)) || (st = glue_need_out(g, n, &y)) ||
        (st = glue_dtype(g, n, "input", x->dtype, GLUE_ALL)) || (st = nn_attr_int(g, n, "to", 0, &to)))
        return st;
    if (!nn_attr_find(n, "to"))
        return nn_err(g, n, CIM_ERR_FORMAT, "attribute 'to' is missing");
    if (to <= 0 || to > 31 || !(GLUE_ALL & (1u << to)))
        return nn_err(g, n, CIM_ERR_UNSUPPORTED, "casting to data type %lld (%s) is not supported", (long long)to,
                      nn_dtype_name((nn_dtype)to));
    return nn_set_shape(g, n, y, (nn_dtype)to, x->rank, x->dims);
}

static int64_t sat_f(double v, double lo, double hi)
{
    return isnan(v) ? 0 : v <= lo ? (int64_t)lo : v >= hi ? (int64_t)hi : (int64_t)v;
}

/* One element of a float input cast to dtype `to` at y[i]. */
static void cast_float(double f, nn_dtype to, void *y, int64_t i)
{
    switch (to) {
    case NN_FLOAT: ((float *)y)[i] = (float)f; break;
    case NN_BOOL: ((uint8_t *)y)[i] = f != 0; break;
    case NN_UINT8: ((uint8_t *)y)[i] = (uint8_t)sat_f(f, 0, 255); break;
    case NN_INT8: ((int8_t *)y)[i] = (int8_t)sat_f(f, -128, 127); break;
    case NN_INT32: ((int32_t *)y)[i] = (int32_t)sat_f(f, -2147483648.0, 2147483647.0); break;
    default: /* the double nearest INT64_MAX is 2^63: saturate at and above it */
        ((int64_t *)y)[i] = isnan(f) ? 0 : f >= 9.2233720368547758e18 ? INT64_MAX
                                        : f <= -9.2233720368547758e18 ? INT64_MIN : (int64_t)f;
        break;
    }
}

cim_status glue_run_cast(const nn_graph *g, const nn_node *n, const nn_value *const *in, nn_value *const *out)
{
    const nn_value *x = in[0];
    void *y = out[0]->data;
    const nn_dtype to = out[0]->dtype;
    const int64_t c = nn_value_count(x);
    if (x->dtype == NN_FLOAT) {
        const float *xs = x->data;
        for (int64_t i = 0; i < c; i++)
            cast_float(xs[i], to, y, i);
        return CIM_OK;
    }
    /* integer (and bool) inputs: the value as int64 V, then wrapped to the
     * output's width; one typed loop per pair of types (activations between
     * quantized layers pass through here) */
#define CIM_CAST_OUT(TIN, V)                                                                     \
    {                                                                                            \
        const TIN *restrict xs = x->data;                                                        \
        switch (to) {                                                                            \
        case NN_FLOAT:                                                                           \
            for (int64_t i = 0; i < c; i++)                                                      \
                ((float *)y)[i] = (float)(V);                                                    \
            break;                                                                               \
        case NN_BOOL:                                                                            \
            for (int64_t i = 0; i < c; i++)                                                      \
                ((uint8_t *)y)[i] = (V) != 0;                                                    \
            break;                                                                               \
        case NN_UINT8:                                                                           \
            for (int64_t i = 0; i < c; i++)                                                      \
                ((uint8_t *)y)[i] = (uint8_t)(uint64_t)(V);                                      \
            break;                                                                               \
        case NN_INT8:                                                                            \
            for (int64_t i = 0; i < c; i++)                                                      \
                ((int8_t *)y)[i] = (int8_t)(uint8_t)(uint64_t)(V);                               \
            break;                                                                               \
        case NN_INT32:                                                                           \
            for (int64_t i = 0; i < c; i++)                                                      \
                ((int32_t *)y)[i] = (int32_t)(uint32_t)(uint64_t)(V);                            \
            break;                                                                               \
        default:                                                                                 \
            for (int64_t i = 0; i < c; i++)                                                      \
                ((int64_t *)y)[i] = (V);                                                         \
            break;                                                                               \
        }                                                                                        \
    }
    switch (x->dtype) {
    case NN_UINT8: CIM_CAST_OUT(uint8_t, (int64_t)xs[i]) break;
    case NN_INT8: CIM_CAST_OUT(int8_t, (int64_t)xs[i]) break;
    case NN_INT32: CIM_CAST_OUT(int32_t, (int64_t)xs[i]) break;
    case NN_INT64: CIM_CAST_OUT(int64_t, xs[i]) break;
    case NN_BOOL: CIM_CAST_OUT(uint8_t, (int64_t)(xs[i] != 0)) break;
    default: /* infer admits no other input type */
        return nn_err(g, n, CIM_ERR_INTERNAL, "casting from data type %s", nn_dtype_name(x->dtype));
    }
#undef CIM_CAST_OUT
    return CIM_OK;
}
