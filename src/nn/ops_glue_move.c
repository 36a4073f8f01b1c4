/* ops_glue_move.c: operators that move data (any supported dtype, copied as
 * bytes): Transpose, Concat, Gather, Slice, Expand and Pad. Index-like inputs
 * that decide a shape (Slice's starts/ends/axes/steps, Expand's shape, Pad's
 * pads/axes) must be constant at inference. */
#include <string.h>
#include "ops_glue.h"

static inline void copy_elem(char *dst, const char *src, size_t es)
{
    switch (es) {
    case 1: *dst = *src; break;
    case 4: memcpy(dst, src, 4); break;
    default: memcpy(dst, src, 8); break;
    }
}

/* dst (contiguous, shape dims[R]) from src at element offset base + sum_d idx[d] * st[d]. */
static void strided_copy(char *dst, const char *src, size_t es, int R, const int64_t *dims, const int64_t *st,
                         int64_t base)
{
    int64_t idx[NN_MAX_RANK] = {0}, rows = 1, total = 1;
    for (int d = 0; d < R; d++)
        total *= dims[d];
    if (total == 0)
        return;
    if (R == 0) {
        copy_elem(dst, src + (size_t)base * es, es);
        return;
    }
    for (int d = 0; d < R - 1; d++)
        rows *= dims[d];
    const int64_t n = dims[R - 1], s = st[R - 1];
    int64_t off = base;
    for (int64_t row = 0; row < rows; row++) {
        char *o = dst + (size_t)(row * n) * es;
        if (s == 1) {
            memcpy(o, src + (size_t)off * es, (size_t)n * es);
        } else {
            for (int64_t i = 0; i < n; i++)
                copy_elem(o + (size_t)i * es, src + (size_t)(off + i * s) * es, es);
        }
        for (int d = R - 2; d >= 0; d--) {
            off += st[d];
            if (++idx[d] < dims[d])
                break;
            off -= st[d] * dims[d];
            idx[d] = 0;
        }
    }
}

/* ---- Transpose(perm; default reversed) ---- */
static cim_status transpose_perm(const nn_graph *g, const nn_node *n, int rank, int *perm)
{
    const int64_t *p;
    int c, seen[NN_MAX_RANK] = {0};
    cim_status st = nn_attr_ints(g, n, "perm", &p, &c);
    if (st)
        return st;
    if (!p) {
        for (int i = 0; i < rank; i++)
            perm[i] = rank - 1 - i;
        return CIM_OK;
    }
    if (c != rank)
        return nn_err(g, n, CIM_ERR_SHAPE, "perm has %d entries for a rank-%d input", c, rank);
    for (int i = 0; i < c; i++) {
        if (p[i] < 0 || p[i] >= rank || seen[p[i]])
            return nn_err(g, n, CIM_ERR_SHAPE, "perm is not a permutation of 0..%d", rank - 1);
        seen[p[i]] = 1;
        perm[i] = (int)p[i];
    }
    return CIM_OK;
}

cim_status glue_infer_transpose(nn_graph *g, const nn_node *n)
{
    const nn_value *x;
    nn_value *y;
    int perm[NN_MAX_RANK];
    int64_t d[NN_MAX_RANK];
    cim_status st;
    if ((st = glue_need_in(g, n, 0, "data", &x)) || (st = glue_need_out(g, n, &y)) ||
        (st = glue_dtype(g, n, "input data", x->dtype, GLUE_ALL)) || (st = transpose_perm(g, n, x->rank, perm)))
        return st;
    for (int i = 0; i < x->rank; i++)
        d[i] = x->dims[perm[i]];
    return nn_set_shape(g, n, y, x->dtype, x->rank, d);
}

cim_status glue_run_transpose(const nn_graph *g, const nn_node *n, const nn_value *const *in, nn_value *const *out)
{
    int perm[NN_MAX_RANK];
    int64_t xs[NN_MAX_RANK], st[NN_MAX_RANK];
    cim_status s = transpose_perm(g, n, in[0]->rank, perm);
    if (s)
        return s;
    glue_strides(in[0], xs);
    for (int i = 0; i < in[0]->rank; i++)
        st[i] = xs[perm[i]];
    strided_copy(out[0]->data, in[0]->data, nn_dtype_size(in[0]->dtype), out[0]->rank, out[0]->dims, st, 0);
    return CIM_OK;
}

/* ---- Concat(axis): inputs of one dtype and rank, equal but for axis ---- */
cim_status glue_infer_concat(nn_graph *g, const nn_node *n)
{
    const nn_value *x0, *x;
    nn_value *y;
    int64_t axis, d[NN_MAX_RANK];
    int a;
    cim_status st;
    if ((st = glue_need_in(g, n, 0, "inputs", &x0)) || (st = glue_need_out(g, n, &y)) ||
        (st = glue_dtype(g, n, "input 0", x0->dtype, GLUE_ALL)) || (st = nn_attr_int(g, n, "axis", 0, &axis)))
        return st;
    if (!nn_attr_find(n, "axis"))
        return nn_err(g, n, CIM_ERR_FORMAT, "attribute 'axis' is missing");
    if ((st = glue_axis(g, n, "axis", axis, x0->rank, 0, &a)))
        return st;
    memcpy(d, x0->dims, sizeof d);
    for (int i = 1; i < n->n_in; i++) {
        if ((st = glue_need_in(g, n, i, "inputs", &x)))
            return st;
        if (x->dtype != x0->dtype || x->rank != x0->rank)
            return nn_err(g, n, CIM_ERR_SHAPE, "input %d (%s, rank %d) does not match input 0 (%s, rank %d)", i,
                          nn_dtype_name(x->dtype), x->rank, nn_dtype_name(x0->dtype), x0->rank);
        for (int k = 0; k < x->rank; k++)
            if (k != a && x->dims[k] != x0->dims[k])
                return nn_err(g, n, CIM_ERR_SHAPE, "input %d has dimension %d = %lld, input 0 has %lld", i, k,
                              (long long)x->dims[k], (long long)x0->dims[k]);
        d[a] += x->dims[a]; /* each <= 2^31, at most 2^31 inputs: no overflow */
    }
    return nn_set_shape(g, n, y, x0->dtype, x0->rank, d);
}

cim_status glue_run_concat(const nn_graph *g, const nn_node *n, const nn_value *const *in, nn_value *const *out)
{
    int64_t axis, outer = 1, inner = 1;
    int a;
    cim_status st;
    if ((st = nn_attr_int(g, n, "axis", 0, &axis)) || (st = glue_axis(g, n, "axis", axis, out[0]->rank, 0, &a)))
        return st;
    const size_t es = nn_dtype_size(out[0]->dtype);
    for (int k = 0; k < a; k++)
        outer *= out[0]->dims[k];
    for (int k = a + 1; k < out[0]->rank; k++)
        inner *= out[0]->dims[k];
    char *dst = out[0]->data;
    for (int64_t o = 0; o < outer; o++)
        for (int i = 0; i < n->n_in; i++) {
            const size_t block = (size_t)(in[i]->dims[a] * inner) * es;
            glue_copy(dst, (const char *)in[i]->data + (size_t)o * block, block);
            dst += block;
        }
    return CIM_OK;
}

/* ---- Gather(data, indices; axis): data.shape[:axis] + indices.shape +
 * data.shape[axis+1:]; indices in [-n, n-1] ---- */
static cim_status gather_check(const nn_graph *g, const nn_node *n, const nn_value *ix, int64_t lim)
{
    const int64_t c = nn_value_count(ix);
    for (int64_t i = 0; i < c; i++) {
        int64_t v = glue_get_i64(ix, i);
        if (v < -lim || v >= lim)
            return nn_err(g, n, CIM_ERR_RANGE, "index %lld is out of range for a dimension of %lld", (long long)v,
                          (long long)lim);
    }
    return CIM_OK;
}

cim_status glue_infer_gather(nn_graph *g, const nn_node *n)
{
    const nn_value *x, *ix;
    nn_value *y;
    int64_t axis, d[NN_MAX_RANK];
    int a, r = 0;
    cim_status st;
    if ((st = glue_need_in(g, n, 0, "data", &x)) || (st = glue_need_in(g, n, 1, "indices", &ix)) ||
        (st = glue_need_out(g, n, &y)) || (st = glue_dtype(g, n, "input data", x->dtype, GLUE_ALL)) ||
        (st = glue_dtype(g, n, "input indices", ix->dtype, GLUE_I32 | GLUE_I64)) ||
        (st = nn_attr_int(g, n, "axis", 0, &axis)) || (st = glue_axis(g, n, "axis", axis, x->rank, 0, &a)))
        return st;
    if (x->rank - 1 + ix->rank > NN_MAX_RANK)
        return nn_err(g, n, CIM_ERR_SHAPE, "output rank %d is above %d", x->rank - 1 + ix->rank, NN_MAX_RANK);
    if (glue_in_const(g, n, 1) && (st = gather_check(g, n, ix, x->dims[a])))
        return st;
    for (int k = 0; k < a; k++)
        d[r++] = x->dims[k];
    for (int k = 0; k < ix->rank; k++)
        d[r++] = ix->dims[k];
    for (int k = a + 1; k < x->rank; k++)
        d[r++] = x->dims[k];
    return nn_set_shape(g, n, y, x->dtype, r, d);
}

cim_status glue_run_gather(const nn_graph *g, const nn_node *n, const nn_value *const *in, nn_value *const *out)
{
    const nn_value *x = in[0], *ix = in[1];
    int64_t axis, outer = 1, inner = 1;
    int a;
    cim_status st;
    if ((st = nn_attr_int(g, n, "axis", 0, &axis)) || (st = glue_axis(g, n, "axis", axis, x->rank, 0, &a)))
        return st;
    const int64_t lim = x->dims[a], c = nn_value_count(ix);
    if ((st = gather_check(g, n, ix, lim)))
        return st;
    for (int k = 0; k < a; k++)
        outer *= x->dims[k];
    for (int k = a + 1; k < x->rank; k++)
        inner *= x->dims[k];
    const size_t block = (size_t)inner * nn_dtype_size(x->dtype);
    char *dst = out[0]->data;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < c; i++) {
            int64_t v = glue_get_i64(ix, i);
            v += v < 0 ? lim : 0;
            glue_copy(dst, (const char *)x->data + (size_t)(o * lim + v) * block, block);
            dst += block;
        }
    return CIM_OK;
}

/* ---- Slice: opset >= 10 inputs (data, starts, ends, axes, steps), earlier
 * attributes starts/ends/axes. Per axis: negatives get dim added, then start
 * is clamped to [0, dim] ([0, dim-1] stepping back), end to [0, dim]
 * ([-1, dim-1] stepping back). ---- */
static cim_status slice_plan(const nn_graph *g, const nn_node *n, const nn_value *x, int64_t *start, int64_t *step,
                             int64_t *len)
{
    int64_t s[NN_MAX_RANK], e[NN_MAX_RANK], ax[NN_MAX_RANK], sp[NN_MAX_RANK];
    int ns, ne, na = 0, np = 0, seen[NN_MAX_RANK] = {0};
    cim_status st;
    if (g->opset >= 10) {
        if ((st = glue_const_ints(g, n, 1, "starts", s, NN_MAX_RANK, &ns)) ||
            (st = glue_const_ints(g, n, 2, "ends", e, NN_MAX_RANK, &ne)) ||
            (nn_in(g, n, 3) && (st = glue_const_ints(g, n, 3, "axes", ax, NN_MAX_RANK, &na))) ||
            (nn_in(g, n, 4) && (st = glue_const_ints(g, n, 4, "steps", sp, NN_MAX_RANK, &np))))
            return st;
        if (!nn_in(g, n, 3))
            na = -1;
    } else {
        const int64_t *as, *ae, *aa;
        if ((st = nn_attr_ints(g, n, "starts", &as, &ns)) || (st = nn_attr_ints(g, n, "ends", &ae, &ne)) ||
            (st = nn_attr_ints(g, n, "axes", &aa, &na)))
            return st;
        if (ns > NN_MAX_RANK || ne > NN_MAX_RANK || na > NN_MAX_RANK)
            return nn_err(g, n, CIM_ERR_SHAPE, "more than %d starts, ends or axes", NN_MAX_RANK);
        glue_copy(s, as, (size_t)ns * sizeof *s);
        glue_copy(e, ae, (size_t)ne * sizeof *e);
        glue_copy(ax, aa, (size_t)na * sizeof *ax);
        if (!aa)
            na = -1;
        np = -1;
    }
    if (na < 0)
        for (na = 0; na < ns; na++)
            ax[na] = na;
    if (np < 0 || (g->opset >= 10 && !nn_in(g, n, 4)))
        for (np = 0; np < ns; np++)
            sp[np] = 1;
    if (ne != ns || na != ns || np != ns)
        return nn_err(g, n, CIM_ERR_SHAPE, "starts, ends, axes and steps have %d, %d, %d and %d values", ns, ne, na,
                      np);
    for (int d = 0; d < x->rank; d++) {
        start[d] = 0;
        step[d] = 1;
        len[d] = x->dims[d];
    }
    for (int i = 0; i < ns; i++) {
        int a;
        if ((st = glue_axis(g, n, "axis", ax[i], x->rank, 0, &a)))
            return st;
        if (seen[a]++)
            return nn_err(g, n, CIM_ERR_SHAPE, "axis %lld appears twice", (long long)ax[i]);
        if (sp[i] == 0)
            return nn_err(g, n, CIM_ERR_SHAPE, "step for axis %lld is 0", (long long)ax[i]);
        const int64_t dim = x->dims[a];
        /* a step beyond +-2^40 takes one element just like +-2^40 (dims are <= 2^31) */
        const int64_t k = sp[i] > ((int64_t)1 << 40) ? (int64_t)1 << 40 : sp[i] < -((int64_t)1 << 40) ? -((int64_t)1 << 40) : sp[i];
        int64_t b = s[i] < 0 ? s[i] + dim : s[i], f = e[i] < 0 ? e[i] + dim : e[i];
        if (k > 0) {
            b = b < 0 ? 0 : b > dim ? dim : b;
            f = f < 0 ? 0 : f > dim ? dim : f;
            len[a] = f > b ? (f - b + k - 1) / k : 0;
        } else {
            b = b < 0 ? 0 : b > dim - 1 ? dim - 1 : b;
            f = f < -1 ? -1 : f > dim - 1 ? dim - 1 : f;
            len[a] = b > f ? (b - f - k - 1) / -k : 0;
        }
        start[a] = b;
        step[a] = k;
    }
    return CIM_OK;
}

cim_status glue_infer_slice(nn_graph *g, const nn_node *n)
{
    const nn_value *x;
    nn_value *y;
    int64_t start[NN_MAX_RANK], step[NN_MAX_RANK], len[NN_MAX_RANK];
    cim_status st;
    if ((st = glue_need_in(g, n, 0, "data", &x)) || (st = glue_need_out(g, n, &y)) ||
        (st = glue_dtype(g, n, "input data", x->dtype, GLUE_ALL)) || (st = slice_plan(g, n, x, start, step, len)))
        return st;
    return nn_set_shape(g, n, y, x->dtype, x->rank, len);
}

cim_status glue_run_slice(const nn_graph *g, const nn_node *n, const nn_value *const *in, nn_value *const *out)
{
    int64_t start[NN_MAX_RANK], step[NN_MAX_RANK], len[NN_MAX_RANK], xs[NN_MAX_RANK], base = 0;
    cim_status st = slice_plan(g, n, in[0], start, step, len);
    if (st)
        return st;
    glue_strides(in[0], xs);
    for (int d = 0; d < in[0]->rank; d++) {
        if (len[d] == 0)
            return CIM_OK;
        base += start[d] * xs[d];
        xs[d] *= step[d]; /* only taken len[d] - 1 times, within the dimension */
    }
    strided_copy(out[0]->data, in[0]->data, nn_dtype_size(in[0]->dtype), out[0]->rank, out[0]->dims, xs, base);
    return CIM_OK;
}

/* ---- Expand(input, shape): bidirectional broadcast of input and shape ---- */
cim_status glue_infer_expand(nn_graph *g, const nn_node *n)
{
    const nn_value *x;
    nn_value *y, s = {NN_INT64, 0, {0}, NULL};
    int r;
    cim_status st;
    if ((st = glue_need_in(g, n, 0, "input", &x)) || (st = glue_need_out(g, n, &y)) ||
        (st = glue_dtype(g, n, "input", x->dtype, GLUE_ALL)) ||
        (st = glue_const_ints(g, n, 1, "shape", s.dims, NN_MAX_RANK, &r)))
        return st;
    for (int i = 0; i < r; i++)
        if (s.dims[i] < 0)
            return nn_err(g, n, CIM_ERR_SHAPE, "shape[%d] = %lld is negative", i, (long long)s.dims[i]);
    s.rank = r;
    y->dtype = x->dtype;
    return nn_broadcast_shape(g, n, x, &s, y);
}

typedef struct expand_ctx {
    const char *x;
    char *y;
    size_t es;
} expand_ctx;

static void expand_row(void *ud, int64_t o, const int64_t *off, int64_t n, const int64_t *ist)
{
    const expand_ctx *c = ud;
    for (int64_t i = 0; i < n; i++)
        copy_elem(c->y + (size_t)(o + i) * c->es, c->x + (size_t)(off[0] + i * ist[0]) * c->es, c->es);
}

cim_status glue_run_expand(const nn_graph *g, const nn_node *n, const nn_value *const *in, nn_value *const *out)
{
    (void)g;
    (void)n;
    glue_bcast b;
    expand_ctx c = {in[0]->data, out[0]->data, nn_dtype_size(out[0]->dtype)};
    glue_bcast_plan(&b, out[0], in, 1);
    glue_bcast_each(&b, expand_row, &c);
    return CIM_OK;
}
