/* ops_glue_util.c: helpers shared by the glue operators: dtype and axis
 * checks, reading static (constant) shape-like inputs, element conversion,
 * and the broadcasting row loop used by binary ops, Where and Expand. */
#include <math.h>
#include <string.h>
#include "ops_glue.h"

cim_status glue_dtype(const nn_graph *g, const nn_node *n, const char *what, nn_dtype dt, unsigned allowed)
{
    if ((unsigned)dt < 32 && (allowed & (1u << dt)) && nn_dtype_size(dt))
        return CIM_OK;
    if (nn_dtype_size(dt))
        return nn_err(g, n, CIM_ERR_UNSUPPORTED, "%s has data type %s, which this operator does not support", what,
                      nn_dtype_name(dt));
    return nn_err(g, n, CIM_ERR_UNSUPPORTED, "%s has data type %d, which is not supported", what, (int)dt);
}

cim_status glue_need_in(const nn_graph *g, const nn_node *n, int i, const char *what, const nn_value **v)
{
    *v = nn_in(g, n, i);
    if (!*v)
        return nn_err(g, n, CIM_ERR_FORMAT, "input %d (%s) is missing", i, what);
    return CIM_OK;
}

cim_status glue_need_out(nn_graph *g, const nn_node *n, nn_value **v)
{
    *v = nn_out(g, n, 0);
    if (!*v)
        return nn_err(g, n, CIM_ERR_FORMAT, "output 0 is missing");
    return CIM_OK;
}

cim_status glue_axis(const nn_graph *g, const nn_node *n, const char *what, int64_t axis, int rank, int extra,
                     int *out)
{
    if (axis < -rank || axis > rank || (axis == rank && !extra))
        return nn_err(g, n, CIM_ERR_SHAPE, "%s %lld is out of range for rank %d", what, (long long)axis, rank);
    *out = (int)(axis < 0 ? axis + rank : axis);
    return CIM_OK;
}

int glue_in_const(const nn_graph *g, const nn_node *n, int i)
{
    return i < n->n_in && n->in[i] >= 0 && g->t[n->in[i]].is_const && g->t[n->in[i]].v.data;
}

cim_status glue_const_ints(const nn_graph *g, const nn_node *n, int i, const char *what, int64_t *vals, int max,
                           int *count)
{
    const nn_value *v = nn_in(g, n, i);
    *count = 0;
    if (!v)
        return nn_err(g, n, CIM_ERR_FORMAT, "input %d (%s) is missing", i, what);
    if (!glue_in_const(g, n, i))
        return nn_err(g, n, CIM_ERR_UNSUPPORTED,
                      "input %d (%s) is only known at run time; shapes must be static (a constant or a folded "
                      "shape computation)", i, what);
    if (v->dtype != NN_INT64 && v->dtype != NN_INT32)
        return nn_err(g, n, CIM_ERR_UNSUPPORTED, "input %d (%s) has data type %s, not int64 or int32", i, what,
                      nn_dtype_name(v->dtype));
    if (v->rank > 1)
        return nn_err(g, n, CIM_ERR_SHAPE, "input %d (%s) must be 1-D, not rank %d", i, what, v->rank);
    int64_t c = nn_value_count(v);
    if (c > max)
        return nn_err(g, n, CIM_ERR_SHAPE, "input %d (%s) has %lld values, more than %d", i, what, (long long)c, max);
    for (int64_t k = 0; k < c; k++)
        vals[k] = v->dtype == NN_INT64 ? ((const int64_t *)v->data)[k] : ((const int32_t *)v->data)[k];
    *count = (int)c;
    return CIM_OK;
}

double glue_get_f64(const nn_value *v, int64_t i)
{
    switch (v->dtype) {
    case NN_FLOAT: return ((const float *)v->data)[i];
    case NN_UINT8: return ((const uint8_t *)v->data)[i];
    case NN_INT8: return ((const int8_t *)v->data)[i];
    case NN_INT32: return ((const int32_t *)v->data)[i];
    case NN_INT64: return (double)((const int64_t *)v->data)[i];
    case NN_BOOL: return ((const uint8_t *)v->data)[i] != 0;
    default: return 0;
    }
}

int64_t glue_get_i64(const nn_value *v, int64_t i)
{
    switch (v->dtype) {
    case NN_FLOAT: {
        float f = ((const float *)v->data)[i];
        if (isnan(f))
            return 0;
        if (f >= 9.2233720368547758e18f)
            return INT64_MAX;
        if (f <= -9.2233720368547758e18f)
            return INT64_MIN;
        return (int64_t)f;
    }
    case NN_UINT8: return ((const uint8_t *)v->data)[i];
    case NN_INT8: return ((const int8_t *)v->data)[i];
    case NN_INT32: return ((const int32_t *)v->data)[i];
    case NN_INT64: return ((const int64_t *)v->data)[i];
    case NN_BOOL: return ((const uint8_t *)v->data)[i] != 0;
    default: return 0;
    }
}

void glue_strides(const nn_value *v, int64_t *st)
{
    int64_t s = 1;
    for (int d = v->rank - 1; d >= 0; d--) {
        st[d] = s;
        s *= v->dims[d];
    }
}

nn_value glue_shape_of(const nn_value *v, nn_dtype dt)
{
    nn_value r = *v;
    r.dtype = dt;
    r.data = NULL;
    return r;
}

void glue_bcast_plan(glue_bcast *b, const nn_value *out, const nn_value *const *ins, int nin)
{
    int64_t st[3][NN_MAX_RANK];
    const int r = out->rank;
    b->nin = nin;
    for (int k = 0; k < nin; k++) {
        int64_t ist[NN_MAX_RANK];
        glue_strides(ins[k], ist);
        for (int d = 0; d < r; d++) {
            int id = d - (r - ins[k]->rank);
            st[k][d] = id >= 0 && ins[k]->dims[id] != 1 ? ist[id] : 0;
        }
    }
    /* drop dimensions of 1, then merge an outer dimension into the inner one
     * when every input steps through both contiguously (or broadcasts both) */
    b->rank = 0;
    for (int d = 0; d < r; d++) {
        if (out->dims[d] == 1)
            continue;
        int R = b->rank, merge = R > 0;
        for (int k = 0; k < nin && merge; k++)
            if (b->st[k][R - 1] != st[k][d] * out->dims[d])
                merge = 0;
        if (merge) {
            b->dims[R - 1] *= out->dims[d];
            for (int k = 0; k < nin; k++)
                b->st[k][R - 1] = st[k][d];
        } else {
            b->dims[R] = out->dims[d];
            for (int k = 0; k < nin; k++)
                b->st[k][R] = st[k][d];
            b->rank++;
        }
    }
}

void glue_bcast_each(const glue_bcast *b, glue_row_fn fn, void *ud)
{
    int64_t off[3] = {0, 0, 0}, ist[3] = {0, 0, 0}, idx[NN_MAX_RANK] = {0};
    const int R = b->rank, nin = b->nin;
    if (R == 0) {
        fn(ud, 0, off, 1, ist);
        return;
    }
    int64_t rows = 1, n = b->dims[R - 1];
    for (int d = 0; d < R - 1; d++)
        rows *= b->dims[d];
    if (rows == 0 || n == 0)
        return;
    for (int k = 0; k < nin; k++)
        ist[k] = b->st[k][R - 1];
    for (int64_t row = 0; row < rows; row++) {
        fn(ud, row * n, off, n, ist);
        for (int d = R - 2; d >= 0; d--) {
            for (int k = 0; k < nin; k++)
                off[k] += b->st[k][d];
            if (++idx[d] < b->dims[d])
                break;
            for (int k = 0; k < nin; k++)
                off[k] -= b->st[k][d] * b->dims[d];
            idx[d] = 0;
        }
    }
}
