/* test_nn_glue.h: building small nn graphs by hand for the glue operator
 * tests (test_nn_glue_*.c). Everything is allocated through the graph's
 * context so that nn_graph_free releases it. Fixed capacities (tensors,
 * nodes, attributes) are plenty for a test graph and asserted. */
#ifndef CIMSIM_TEST_NN_GLUE_H
#define CIMSIM_TEST_NN_GLUE_H

#include <math.h>
#include <stdio.h>
#include <string.h>
#include "testutil.h"
#include "nn/nn.h"
#include "lib/internal.h"

#define GB_TENSORS 48
#define GB_NODES 12
#define GB_ATTRS 8
#define GB_IO 8

static inline char *gb_strdup(cim_ctx *ctx, const char *s)
{
    size_t len = strlen(s) + 1;
    char *p = cim__malloc(ctx, len);
    assert_non_null(p);
    memcpy(p, s, len);
    return p;
}

static inline void *gb_dup(cim_ctx *ctx, const void *src, size_t bytes)
{
    void *p = cim__malloc(ctx, bytes ? bytes : 1);
    assert_non_null(p);
    if (bytes && src)
        memcpy(p, src, bytes);
    return p;
}

/* An empty graph with room for tensors, nodes and I/O lists. */
static inline nn_graph *gb_new(cim_ctx *ctx, int64_t opset)
{
    nn_graph *g;
    assert_int_equal(nn_graph_new(ctx, "test.onnx", &g), CIM_OK);
    g->t = cim__calloc(ctx, GB_TENSORS, sizeof *g->t);
    g->nodes = cim__calloc(ctx, GB_NODES, sizeof *g->nodes);
    g->inputs = cim__calloc(ctx, GB_IO, sizeof *g->inputs);
    g->outputs = cim__calloc(ctx, GB_IO, sizeof *g->outputs);
    assert_true(g->t && g->nodes && g->inputs && g->outputs);
    g->opset = opset;
    return g;
}

/* Find or add the tensor `name` (no type yet). */
static inline int gb_t(nn_graph *g, const char *name)
{
    int i = nn_graph_find(g, name);
    if (i >= 0)
        return i;
    assert_true(g->nt < GB_TENSORS);
    nn_tensor *t = &g->t[g->nt];
    t->name = gb_strdup(g->ctx, name);
    t->producer = -1;
    return g->nt++;
}

/* A constant initializer. */
static inline int gb_const(nn_graph *g, const char *name, nn_dtype dt, int rank, const int64_t *dims,
                           const void *data)
{
    int i = gb_t(g, name);
    nn_tensor *t = &g->t[i];
    t->v.dtype = dt;
    t->v.rank = rank;
    for (int d = 0; d < rank; d++)
        t->v.dims[d] = dims[d];
    t->v.data = gb_dup(g->ctx, data, (size_t)nn_value_count(&t->v) * nn_dtype_size(dt));
    t->is_const = t->is_init = 1;
    return i;
}

/* A graph input (data given at run time). */
static inline int gb_input(nn_graph *g, const char *name, nn_dtype dt, int rank, const int64_t *dims)
{
    int i = gb_t(g, name);
    nn_tensor *t = &g->t[i];
    t->v.dtype = dt;
    t->v.rank = rank;
    for (int d = 0; d < rank; d++)
        t->v.dims[d] = dims[d];
    assert_true(g->n_inputs < GB_IO);
    g->inputs[g->n_inputs++] = i;
    return i;
}

static inline void gb_output(nn_graph *g, const char *name)
{
    assert_true(g->n_outputs < GB_IO);
    g->outputs[g->n_outputs++] = gb_t(g, name);
}

/* Comma-separated tensor names into indices; an empty name is -1 (omitted). */
static inline int gb_list(nn_graph *g, const char *names, int **out)
{
    int c = 0, k = 0;
    if (!names[0]) {
        *out = cim__calloc(g->ctx, 1, sizeof **out);
        assert_non_null(*out);
        return 0;
    }
    for (const char *p = names; *p; p++)
        c += *p == ',';
    c++;
    *out = cim__calloc(g->ctx, (size_t)c, sizeof **out);
    assert_non_null(*out);
    const char *s = names;
    while (k < c) {
        const char *e = strchr(s, ',');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        char buf[64];
        assert_true(len < sizeof buf);
        memcpy(buf, s, len);
        buf[len] = 0;
        (*out)[k++] = len ? gb_t(g, buf) : -1;
        s = e ? e + 1 : s + len;
    }
    return c;
}

/* A node of op `op` in `domain` ("" default), inputs and outputs as comma lists. */
static inline nn_node *gb_node(nn_graph *g, const char *op, const char *domain, const char *ins, const char *outs)
{
    assert_true(g->nn < GB_NODES);
    nn_node *n = &g->nodes[g->nn];
    char name[64];
    snprintf(name, sizeof name, "n%d_%s", g->nn, op);
    n->name = gb_strdup(g->ctx, name);
    n->op_type = gb_strdup(g->ctx, op);
    n->domain = gb_strdup(g->ctx, domain);
    n->n_in = gb_list(g, ins, &n->in);
    n->n_out = gb_list(g, outs, &n->out);
    for (int o = 0; o < n->n_out; o++)
        if (n->out[o] >= 0)
            g->t[n->out[o]].producer = g->nn;
    n->attr = cim__calloc(g->ctx, GB_ATTRS, sizeof *n->attr);
    assert_non_null(n->attr);
    g->nn++;
    return n;
}

static inline nn_attr *gb_attr(nn_graph *g, nn_node *n, const char *name, nn_attr_type type)
{
    assert_true(n->n_attr < GB_ATTRS);
    nn_attr *a = &n->attr[n->n_attr++];
    a->name = gb_strdup(g->ctx, name);
    a->type = type;
    return a;
}

static inline void gb_attr_int(nn_graph *g, nn_node *n, const char *name, int64_t v)
{
    gb_attr(g, n, name, NN_ATTR_INT)->i = v;
}

static inline void gb_attr_float(nn_graph *g, nn_node *n, const char *name, float v)
{
    gb_attr(g, n, name, NN_ATTR_FLOAT)->f = v;
}

static inline void gb_attr_string(nn_graph *g, nn_node *n, const char *name, const char *s)
{
    gb_attr(g, n, name, NN_ATTR_STRING)->s = gb_strdup(g->ctx, s);
}

static inline void gb_attr_ints(nn_graph *g, nn_node *n, const char *name, int c, const int64_t *v)
{
    nn_attr *a = gb_attr(g, n, name, NN_ATTR_INTS);
    a->ints = gb_dup(g->ctx, v, (size_t)c * sizeof *v);
    a->n = c;
}

static inline void gb_attr_floats(nn_graph *g, nn_node *n, const char *name, int c, const float *v)
{
    nn_attr *a = gb_attr(g, n, name, NN_ATTR_FLOATS);
    a->floats = gb_dup(g->ctx, v, (size_t)c * sizeof *v);
    a->n = c;
}

static inline void gb_attr_tensor(nn_graph *g, nn_node *n, const char *name, nn_dtype dt, int rank,
                                  const int64_t *dims, const void *data)
{
    nn_attr *a = gb_attr(g, n, name, NN_ATTR_TENSOR);
    a->t = cim__calloc(g->ctx, 1, sizeof *a->t);
    assert_non_null(a->t);
    a->t->dtype = dt;
    a->t->rank = rank;
    for (int d = 0; d < rank; d++)
        a->t->dims[d] = dims[d];
    a->t->data = gb_dup(g->ctx, data, (size_t)nn_value_count(a->t) * nn_dtype_size(dt));
}

/* Infer, then run with the given input data (one pointer per graph input, in
 * order); outputs receive the graph outputs (free with gb_free_outputs). */
static inline void gb_run(nn_graph *g, const void *const *data, nn_value *outputs)
{
    nn_value in[GB_IO];
    cim_status st = nn_graph_infer(g);
    if (st)
        fail_msg("infer: %s", cim_ctx_errmsg(g->ctx));
    for (int i = 0; i < g->n_inputs; i++) {
        in[i] = g->t[g->inputs[i]].v;
        in[i].data = (void *)data[i];
    }
    st = nn_graph_run(g, in, outputs);
    if (st)
        fail_msg("run: %s", cim_ctx_errmsg(g->ctx));
}

static inline void gb_free_outputs(nn_graph *g, nn_value *outputs)
{
    for (int i = 0; i < g->n_outputs; i++)
        nn_value_free(g->ctx, &outputs[i]);
}

/* The shape of v is dims[rank]. */
static inline void gb_check_shape(const nn_value *v, nn_dtype dt, int rank, const int64_t *dims)
{
    assert_int_equal(v->dtype, dt);
    assert_int_equal(v->rank, rank);
    for (int d = 0; d < rank; d++)
        assert_int_equal(v->dims[d], dims[d]);
}

static inline void gb_check_f32(const nn_value *v, const float *want, int64_t n, float rtol)
{
    assert_int_equal(v->dtype, NN_FLOAT);
    assert_int_equal(nn_value_count(v), n);
    const float *got = v->data;
    for (int64_t i = 0; i < n; i++) {
        float tol = rtol * fabsf(want[i]) + 1e-6f;
        if (isnan(want[i]) ? !isnan(got[i]) : !(fabsf(got[i] - want[i]) <= tol))
            fail_msg("element %lld: got %.9g, want %.9g", (long long)i, (double)got[i], (double)want[i]);
    }
}

/* Integer-valued outputs of any integer dtype (or bool) against int64 expectations. */
static inline void gb_check_int(const nn_value *v, nn_dtype dt, const int64_t *want, int64_t n)
{
    assert_int_equal(v->dtype, dt);
    assert_int_equal(nn_value_count(v), n);
    for (int64_t i = 0; i < n; i++) {
        int64_t got;
        switch (dt) {
        case NN_UINT8: case NN_BOOL: got = ((const uint8_t *)v->data)[i]; break;
        case NN_INT8: got = ((const int8_t *)v->data)[i]; break;
        case NN_INT32: got = ((const int32_t *)v->data)[i]; break;
        default: got = ((const int64_t *)v->data)[i]; break;
        }
        if (got != want[i])
            fail_msg("element %lld: got %lld, want %lld", (long long)i, (long long)got, (long long)want[i]);
    }
}

/* nn_graph_infer fails with st and a message naming node, op and `what`. */
static inline void gb_infer_fails(nn_graph *g, cim_status st, const char *what)
{
    cim_status got = nn_graph_infer(g);
    const char *msg = cim_ctx_errmsg(g->ctx);
    if (got != st)
        fail_msg("status %d, want %d: %s", (int)got, (int)st, msg);
    const nn_node *n = &g->nodes[g->nn - 1];
    if (!strstr(msg, n->name) || !strstr(msg, n->op_type) || !strstr(msg, what))
        fail_msg("message '%s' lacks node '%s', op '%s' or '%s'", msg, n->name, n->op_type, what);
}

/* One-node helper: a graph x -> op -> y with x a float input of shape dims. */
static inline nn_graph *gb_unary(cim_ctx *ctx, int64_t opset, const char *op, const char *domain, nn_dtype dt,
                                 int rank, const int64_t *dims, nn_node **node)
{
    nn_graph *g = gb_new(ctx, opset);
    gb_input(g, "x", dt, rank, dims);
    *node = gb_node(g, op, domain, "x", "y");
    gb_output(g, "y");
    return g;
}

#endif
