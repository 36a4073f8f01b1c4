/* graph.c: the network graph's lifetime, helpers shared by the operators,
 * shape inference with constant folding, and a plain digital executor. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "nn.h"
#include "../lib/internal.h"

size_t nn_dtype_size(nn_dtype t)
{
    switch (t) {
    case NN_FLOAT: case NN_INT32: return 4;
    case NN_UINT8: case NN_INT8: case NN_BOOL: return 1;
    case NN_INT64: return 8;
    default: return 0;
    }
}

const char *nn_dtype_name(nn_dtype t)
{
    switch (t) {
    case NN_FLOAT: return "float32";
    case NN_UINT8: return "uint8";
    case NN_INT8: return "int8";
    case NN_INT32: return "int32";
    case NN_INT64: return "int64";
    case NN_BOOL: return "bool";
    default: return "unsupported";
    }
}

int64_t nn_value_count(const nn_value *v)
{
    int64_t c = 1;
    for (int i = 0; i < v->rank; i++)
        c *= v->dims[i];
    return c;
}

void nn_value_free(cim_ctx *ctx, nn_value *v)
{
    if (v) {
        cim__free(ctx, v->data);
        v->data = NULL;
    }
}

cim_status nn_err(const nn_graph *g, const nn_node *n, cim_status st, const char *fmt, ...)
{
    char msg[CIM_ERRMSG_SIZE];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n)
        return cim__err(g->ctx, st, "%s: node '%s' (%s): %s", g->path, n->name, n->op_type, msg);
    return cim__err(g->ctx, st, "%s: %s", g->path, msg);
}

const nn_attr *nn_attr_find(const nn_node *n, const char *name)
{
    for (int i = 0; i < n->n_attr; i++)
        if (strcmp(n->attr[i].name, name) == 0)
            return &n->attr[i];
    return NULL;
}

static cim_status attr_type(const nn_graph *g, const nn_node *n, const nn_attr *a, nn_attr_type want)
{
    if (a->type != want)
        return nn_err(g, n, CIM_ERR_FORMAT, "attribute '%s' has the wrong type", a->name);
    return CIM_OK;
}

cim_status nn_attr_int(const nn_graph *g, const nn_node *n, const char *name, int64_t def, int64_t *out)
{
    const nn_attr *a = nn_attr_find(n, name);
    *out = def;
    if (!a)
        return CIM_OK;
    cim_status st = attr_type(g, n, a, NN_ATTR_INT);
    if (st == CIM_OK)
        *out = a->i;
    return st;
}

cim_status nn_attr_float(const nn_graph *g, const nn_node *n, const char *name, float def, float *out)
{
    const nn_attr *a = nn_attr_find(n, name);
    *out = def;
    if (!a)
        return CIM_OK;
    cim_status st = attr_type(g, n, a, NN_ATTR_FLOAT);
    if (st == CIM_OK)
        *out = a->f;
    return st;
}

cim_status nn_attr_ints(const nn_graph *g, const nn_node *n, const char *name, const int64_t **vals, int *count)
{
    const nn_attr *a = nn_attr_find(n, name);
    *vals = NULL;
    *count = 0;
    if (!a)
        return CIM_OK;
    cim_status st = attr_type(g, n, a, NN_ATTR_INTS);
    if (st == CIM_OK) {
        *vals = a->ints;
        *count = a->n;
    }
    return st;
}

cim_status nn_attr_string(const nn_graph *g, const nn_node *n, const char *name, const char *def, const char **out)
{
    const nn_attr *a = nn_attr_find(n, name);
    *out = def;
    if (!a)
        return CIM_OK;
    cim_status st = attr_type(g, n, a, NN_ATTR_STRING);
    if (st == CIM_OK)
        *out = a->s;
    return st;
}

const nn_value *nn_in(const nn_graph *g, const nn_node *n, int i)
{
    if (i < 0 || i >= n->n_in || n->in[i] < 0)
        return NULL;
    return &g->t[n->in[i]].v;
}

nn_value *nn_out(nn_graph *g, const nn_node *n, int i)
{
    if (i < 0 || i >= n->n_out || n->out[i] < 0)
        return NULL;
    return &g->t[n->out[i]].v;
}

cim_status nn_set_shape(const nn_graph *g, const nn_node *n, nn_value *v, nn_dtype dt, int rank, const int64_t *dims)
{
    if (rank < 0 || rank > NN_MAX_RANK)
        return nn_err(g, n, CIM_ERR_SHAPE, "rank %d is not supported (at most %d)", rank, NN_MAX_RANK);
    if (nn_dtype_size(dt) == 0)
        return nn_err(g, n, CIM_ERR_UNSUPPORTED, "data type %d is not supported", (int)dt);
    int64_t c = 1;
    for (int i = 0; i < rank; i++) {
        if (dims[i] < 0)
            return nn_err(g, n, CIM_ERR_SHAPE, "dimension %d is negative (%lld)", i, (long long)dims[i]);
        if (dims[i] > NN_MAX_ELEMS || (c *= dims[i]) > NN_MAX_ELEMS)
            return nn_err(g, n, CIM_ERR_SHAPE, "output has more than 2^31 elements");
    }
    v->dtype = dt;
    v->rank = rank;
    for (int i = 0; i < rank; i++)
        v->dims[i] = dims[i];
    return CIM_OK;
}

cim_status nn_broadcast_shape(const nn_graph *g, const nn_node *n, const nn_value *a, const nn_value *b,
                              nn_value *out)
{
    int r = a->rank > b->rank ? a->rank : b->rank;
    int64_t d[NN_MAX_RANK];
    for (int i = 0; i < r; i++) {
        int ia = i - (r - a->rank), ib = i - (r - b->rank);
        int64_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
        if (da != db && da != 1 && db != 1)
            return nn_err(g, n, CIM_ERR_SHAPE, "shapes do not broadcast (dimension %d: %lld vs %lld)", i,
                          (long long)da, (long long)db);
        d[i] = da == 1 ? db : da;
    }
    return nn_set_shape(g, n, out, out->dtype, r, d);
}

const nn_op *nn_op_find(const char *domain, const char *op_type)
{
    if (strcmp(domain, "ai.onnx") == 0)
        domain = "";
    const nn_op *tables[] = {nn_ops_quant, nn_ops_glue};
    for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++)
        for (const nn_op *o = tables[t]; o->name; o++)
            if (strcmp(o->domain, domain) == 0 && strcmp(o->name, op_type) == 0)
                return o;
    return NULL;
}

cim_status nn_graph_new(cim_ctx *ctx, const char *path, nn_graph **out)
{
    *out = NULL;
    nn_graph *g = cim__calloc(ctx, 1, sizeof *g);
    if (!g)
        return CIM_ERR_NOMEM;
    g->ctx = ctx;
    size_t len = strlen(path) + 1;
    g->path = cim__malloc(ctx, len);
    if (!g->path) {
        cim__free(ctx, g);
        return CIM_ERR_NOMEM;
    }
    memcpy(g->path, path, len);
    *out = g;
    return CIM_OK;
}

static void attr_free(cim_ctx *ctx, nn_attr *a)
{
    cim__free(ctx, a->name);
    cim__free(ctx, a->s);
    cim__free(ctx, a->ints);
    cim__free(ctx, a->floats);
    if (a->t) {
        cim__free(ctx, a->t->data);
        cim__free(ctx, a->t);
    }
}

void nn_graph_free(nn_graph *g)
{
    if (!g)
        return;
    cim_ctx *ctx = g->ctx;
    for (int i = 0; i < g->nt; i++) {
        cim__free(ctx, g->t[i].name);
        cim__free(ctx, g->t[i].v.data);
    }
    cim__free(ctx, g->t);
    for (int i = 0; i < g->nn; i++) {
        nn_node *n = &g->nodes[i];
        cim__free(ctx, n->name);
        cim__free(ctx, n->op_type);
        cim__free(ctx, n->domain);
        cim__free(ctx, n->in);
        cim__free(ctx, n->out);
        for (int a = 0; a < n->n_attr; a++)
            attr_free(ctx, &n->attr[a]);
        cim__free(ctx, n->attr);
    }
    cim__free(ctx, g->nodes);
    cim__free(ctx, g->inputs);
    cim__free(ctx, g->outputs);
    for (int i = 0; i < g->n_meta; i++) {
        cim__free(ctx, g->meta_key[i]);
        cim__free(ctx, g->meta_value[i]);
    }
    cim__free(ctx, g->meta_key);
    cim__free(ctx, g->meta_value);
    cim__free(ctx, g->path);
    cim__free(ctx, g);
}

int nn_graph_find(const nn_graph *g, const char *name)
{
    for (int i = 0; i < g->nt; i++)
        if (strcmp(g->t[i].name, name) == 0)
            return i;
    return -1;
}

/* Allocate a node's outputs (zeroed) for their inferred shapes. */
/* Each output zeroed, in the buffer of the node's previous run where it is
 * large enough (a batch after another: a fresh allocation each time paid its
 * page faults, 3% of MobileNetV2's run). */
static cim_status alloc_outputs(nn_graph *g, const nn_node *n, nn_value *const *out)
{
    for (int o = 0; o < n->n_out; o++) {
        if (!out[o])
            continue;
        nn_tensor *t = &g->t[n->out[o]];
        size_t bytes = (size_t)nn_value_count(out[o]) * nn_dtype_size(out[o]->dtype);
        if (!bytes)
            bytes = 1;
        if (out[o]->data && t->cap >= bytes) {
            memset(out[o]->data, 0, bytes);
            continue;
        }
        cim__free(g->ctx, out[o]->data);
        t->cap = 0;
        out[o]->data = cim__calloc(g->ctx, 1, bytes);
        if (!out[o]->data)
            return nn_err(g, n, CIM_ERR_NOMEM, "out of memory for an output of %zu bytes", bytes);
        t->cap = bytes;
    }
    return CIM_OK;
}

/* At most 8 inputs/outputs are passed on the stack; more are allocated. */
static cim_status run_node(nn_graph *g, const nn_node *n)
{
    const nn_value *inb[8], **in = inb;
    nn_value *outb[8], **out = outb;
    cim_status st = CIM_OK;
    if (n->n_in > 8 && !(in = cim__calloc(g->ctx, (size_t)n->n_in, sizeof *in)))
        return CIM_ERR_NOMEM;
    if (n->n_out > 8 && !(out = cim__calloc(g->ctx, (size_t)n->n_out, sizeof *out))) {
        st = CIM_ERR_NOMEM;
        goto done;
    }
    for (int i = 0; i < n->n_in; i++)
        in[i] = nn_in(g, n, i);
    for (int o = 0; o < n->n_out; o++)
        out[o] = nn_out(g, n, o);
    st = alloc_outputs(g, n, out);
    if (st == CIM_OK)
        st = n->op->run(g, n, in, out);
done:
    if (in != inb)
        cim__free(g->ctx, (void *)in);
    if (out != outb)
        cim__free(g->ctx, out);
    return st;
}

cim_status nn_graph_infer(nn_graph *g)
{
    for (int i = 0; i < g->nt; i++) /* forget earlier folds and runs */
        if (!g->t[i].is_init) {
            cim__free(g->ctx, g->t[i].v.data);
            g->t[i].v.data = NULL;
            g->t[i].cap = 0;
            g->t[i].is_const = 0;
        }
    for (int k = 0; k < g->nn; k++) {
        nn_node *n = &g->nodes[k];
        if (!n->op && !(n->op = nn_op_find(n->domain, n->op_type)))
            return nn_err(g, n, CIM_ERR_UNSUPPORTED, "operator %s%s%s is not supported", n->domain,
                          n->domain[0] ? "." : "", n->op_type);
        for (int i = 0; i < n->n_in; i++)
            if (n->in[i] >= 0 && g->t[n->in[i]].v.dtype == NN_UNDEFINED)
                return nn_err(g, n, CIM_ERR_FORMAT, "input '%s' has no known type or shape", g->t[n->in[i]].name);
        cim_status st = n->op->infer(g, n);
        if (st != CIM_OK)
            return st;
        int fold = strcmp(n->op_type, "Shape") == 0 && !n->domain[0];
        if (!fold) {
            fold = 1;
            for (int i = 0; i < n->n_in; i++)
                if (n->in[i] >= 0 && !g->t[n->in[i]].is_const)
                    fold = 0;
        }
        /* fold only small values: shape arithmetic, not whole constant layers */
        for (int o = 0; o < n->n_out && fold; o++)
            if (n->out[o] >= 0 && nn_value_count(&g->t[n->out[o]].v) > (1 << 20))
                fold = 0;
        if (fold) {
            st = run_node(g, n);
            if (st != CIM_OK)
                return st;
            for (int o = 0; o < n->n_out; o++)
                if (n->out[o] >= 0)
                    g->t[n->out[o]].is_const = 1;
        }
    }
    for (int i = 0; i < g->n_outputs; i++)
        if (g->t[g->outputs[i]].v.dtype == NN_UNDEFINED)
            return nn_err(g, NULL, CIM_ERR_FORMAT, "graph output '%s' is never computed", g->t[g->outputs[i]].name);
    return CIM_OK;
}

cim_status nn_graph_run(nn_graph *g, const nn_value *inputs, nn_value *outputs)
{
    for (int i = 0; i < g->n_inputs; i++) {
        nn_value *v = &g->t[g->inputs[i]].v;
        if (inputs[i].dtype != v->dtype || inputs[i].rank != v->rank ||
            memcmp(inputs[i].dims, v->dims, (size_t)v->rank * sizeof v->dims[0]) != 0)
            return nn_err(g, NULL, CIM_ERR_SHAPE, "input '%s' does not match the shape inferred for it",
                          g->t[g->inputs[i]].name);
        size_t bytes = (size_t)nn_value_count(v) * nn_dtype_size(v->dtype);
        cim__free(g->ctx, v->data);
        if (!(v->data = cim__malloc(g->ctx, bytes ? bytes : 1)))
            return CIM_ERR_NOMEM;
        memcpy(v->data, inputs[i].data, bytes);
    }
    for (int k = 0; k < g->nn; k++) {
        const nn_node *n = &g->nodes[k];
        int done = 1;
        for (int o = 0; o < n->n_out; o++)
            if (n->out[o] >= 0 && !g->t[n->out[o]].is_const)
                done = 0;
        if (done)
            continue;
        cim_status st = run_node(g, n);
        if (st != CIM_OK)
            return st;
    }
    for (int i = 0; i < g->n_outputs; i++) {
        const nn_value *v = &g->t[g->outputs[i]].v;
        size_t bytes = (size_t)nn_value_count(v) * nn_dtype_size(v->dtype);
        outputs[i] = *v;
        if (!(outputs[i].data = cim__malloc(g->ctx, bytes ? bytes : 1))) {
            for (int j = 0; j < i; j++)
                nn_value_free(g->ctx, &outputs[j]);
            return CIM_ERR_NOMEM;
        }
        memcpy(outputs[i].data, v->data, bytes);
    }
    return CIM_OK;
}

cim_status nn_graph_run_node(nn_graph *g, int k)
{
    if (k < 0 || k >= g->nn)
        return nn_err(g, NULL, CIM_ERR_ARG, "node index %d is out of range", k);
    return run_node(g, &g->nodes[k]);
}

void nn_mvm_digital(const nn_mvm_args *a)
{
    const int K = a->K, N = a->N;
    const int8_t *ws = a->wtype == NN_INT8 ? (const int8_t *)a->w : NULL;
    const uint8_t *wu = a->wtype == NN_UINT8 ? (const uint8_t *)a->w : NULL;
    for (int m = 0; m < a->M; m++) {
        int32_t *p = a->psum + (size_t)m * (size_t)N;
        const uint8_t *x = a->x + (size_t)m * (size_t)K;
        for (int n = 0; n < N; n++)
            p[n] = 0;
        int64_t xsum = 0;
        for (int k = 0; k < K; k++) {
            const int32_t xv = (int32_t)x[k] - a->zx;
            xsum += xv;
            if (xv == 0)
                continue;
            if (ws) {
                const int8_t *w = ws + (size_t)k * (size_t)N;
                for (int n = 0; n < N; n++)
                    p[n] += xv * w[n];
            } else {
                const uint8_t *w = wu + (size_t)k * (size_t)N;
                for (int n = 0; n < N; n++)
                    p[n] += xv * w[n];
            }
        }
        if (a->zw)
            for (int n = 0; n < N; n++)
                p[n] -= (int32_t)(xsum * a->zw[n]);
    }
}

cim_status nn_mvm(const nn_graph *g, const nn_mvm_args *a)
{
    if (g->mvm)
        return g->mvm(g->mvm_ud, g, a);
    return nn_mvm_fast(g, a);
}

/* Grow g->t to n entries (the new ones uninitialized); returns g->t or NULL. */
static nn_tensor *cim__realloc_array(nn_graph *g, int n)
{
    nn_tensor *t = cim__calloc(g->ctx, (size_t)n, sizeof *t);
    if (!t)
        return NULL;
    memcpy(t, g->t, (size_t)g->nt * sizeof *t);
    cim__free(g->ctx, g->t);
    g->t = t;
    return t;
}

/* Transpose(DequantizeLinear(Wq)) with Wq a constant int8/uint8 initializer
 * (torch exports Linear weights this way) becomes DequantizeLinear(Wq^T): the
 * Transpose node turns into the DequantizeLinear of a new, transposed integer
 * initializer, its axis remapped through perm. The product's weights then
 * stay integer codes that reach the crossbars; the values are unchanged. */
cim_status nn_graph_canonicalize(nn_graph *g)
{
    for (int k = 0; k < g->nn; k++) {
        nn_node *t = &g->nodes[k];
        if (strcmp(t->op_type, "Transpose") != 0 || t->domain[0] || t->n_in != 1 || t->in[0] < 0)
            continue;
        int p = g->t[t->in[0]].producer;
        if (p < 0)
            continue;
        const nn_node *dq = &g->nodes[p];
        if (strcmp(dq->op_type, "DequantizeLinear") != 0 || dq->domain[0] || dq->n_in < 2 || dq->in[0] < 0)
            continue;
        const nn_tensor *w = &g->t[dq->in[0]];
        int ok = w->is_init && (w->v.dtype == NN_INT8 || w->v.dtype == NN_UINT8) && w->v.rank >= 1;
        for (int i = 1; i < dq->n_in && ok; i++)
            ok = dq->in[i] < 0 || g->t[dq->in[i]].is_init;
        if (!ok)
            continue;
        const int r = w->v.rank;
        int perm[NN_MAX_RANK];
        const int64_t *pv;
        int pc;
        if (nn_attr_ints(g, t, "perm", &pv, &pc) != CIM_OK || (pc && pc != r))
            continue;
        int seen = 0;
        for (int i = 0; i < r; i++) {
            perm[i] = pc ? (int)pv[i] : r - 1 - i;
            if (perm[i] < 0 || perm[i] >= r || (seen & (1 << perm[i])))
                break;
            seen |= 1 << perm[i];
        }
        if (seen != (1 << r) - 1)
            continue;
        int64_t axis;
        if (nn_attr_int(g, dq, "axis", 1, &axis) != CIM_OK)
            continue;
        if (axis < 0)
            axis += r;
        int new_axis = 1;
        for (int i = 0; i < r; i++)
            if (perm[i] == axis)
                new_axis = i;
        /* the transposed codes as a new initializer */
        nn_tensor *nt = cim__realloc_array(g, g->nt + 1);
        if (!nt)
            return CIM_ERR_NOMEM;
        w = &g->t[dq->in[0]];
        nn_tensor *n2 = &g->t[g->nt];
        memset(n2, 0, sizeof *n2);
        size_t len = strlen(w->name) + 16;
        n2->name = cim__malloc(g->ctx, len);
        int64_t count = nn_value_count(&w->v);
        n2->v.data = cim__malloc(g->ctx, (size_t)count ? (size_t)count : 1);
        if (!n2->name || !n2->v.data) {
            cim__free(g->ctx, n2->name);
            cim__free(g->ctx, n2->v.data);
            return CIM_ERR_NOMEM;
        }
        snprintf(n2->name, len, "%s#transposed", w->name);
        n2->v.dtype = w->v.dtype;
        n2->v.rank = r;
        for (int i = 0; i < r; i++)
            n2->v.dims[i] = w->v.dims[perm[i]];
        n2->is_const = n2->is_init = 1;
        n2->producer = -1;
        int64_t istride[NN_MAX_RANK], idx[NN_MAX_RANK] = {0};
        istride[r - 1] = 1;
        for (int i = r - 2; i >= 0; i--)
            istride[i] = istride[i + 1] * w->v.dims[i + 1];
        const uint8_t *src = w->v.data;
        uint8_t *dst = n2->v.data;
        for (int64_t e = 0; e < count; e++) {
            int64_t off = 0;
            for (int i = 0; i < r; i++)
                off += idx[i] * istride[perm[i]];
            dst[e] = src[off];
            for (int i = r - 1; i >= 0; i--) { /* next output index */
                if (++idx[i] < n2->v.dims[i])
                    break;
                idx[i] = 0;
            }
        }
        const int wt = g->nt++;
        /* the Transpose node becomes DequantizeLinear(Wq^T, scale, zp) with the new axis */
        int *in = cim__malloc(g->ctx, (size_t)dq->n_in * sizeof *in);
        nn_attr *at = cim__calloc(g->ctx, 1, sizeof *at);
        char *op = cim__malloc(g->ctx, sizeof "DequantizeLinear"), *an = cim__malloc(g->ctx, 5);
        if (!in || !at || !op || !an) {
            cim__free(g->ctx, in);
            cim__free(g->ctx, at);
            cim__free(g->ctx, op);
            cim__free(g->ctx, an);
            return CIM_ERR_NOMEM;
        }
        in[0] = wt;
        for (int i = 1; i < dq->n_in; i++)
            in[i] = dq->in[i];
        memcpy(op, "DequantizeLinear", sizeof "DequantizeLinear");
        memcpy(an, "axis", 5);
        at->name = an;
        at->type = NN_ATTR_INT;
        at->i = new_axis;
        for (int a = 0; a < t->n_attr; a++)
            attr_free(g->ctx, &t->attr[a]);
        cim__free(g->ctx, t->attr);
        cim__free(g->ctx, t->in);
        cim__free(g->ctx, t->op_type);
        t->attr = at;
        t->n_attr = 1;
        t->in = in;
        t->n_in = dq->n_in;
        t->op_type = op;
        t->op = NULL;
    }
    return CIM_OK;
}
