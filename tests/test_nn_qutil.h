/* test_nn_qutil.h: building small nn_graphs by hand for the operator tests
 * (test_nn_quant.c, test_nn_conv.c, test_nn_qconformance.c). Everything is
 * allocated through the graph's context, so nn_graph_free releases it. */
#ifndef CIMSIM_TEST_NN_QUTIL_H
#define CIMSIM_TEST_NN_QUTIL_H

#include <string.h>
#include "testutil.h"
#include "nn/nn.h"
#include "lib/internal.h"

#define QB_MAX_T 64
#define QB_MAX_N 16
#define QB_MAX_IO 16

static inline char *qb_strdup(cim_ctx *ctx, const char *s)
{
    size_t len = strlen(s) + 1;
    char *p = cim__malloc(ctx, len);
    assert_non_null(p);
    memcpy(p, s, len);
    return p;
}

/* A graph with room for QB_MAX_T tensors, QB_MAX_N nodes, QB_MAX_IO inputs/outputs. */
static inline nn_graph *qb_new(cim_ctx *ctx)
{
    nn_graph *g;
    assert_int_equal(nn_graph_new(ctx, "test.onnx", &g), CIM_OK);
    g->t = cim__calloc(ctx, QB_MAX_T, sizeof *g->t);
    g->nodes = cim__calloc(ctx, QB_MAX_N, sizeof *g->nodes);
    g->inputs = cim__calloc(ctx, QB_MAX_IO, sizeof *g->inputs);
    g->outputs = cim__calloc(ctx, QB_MAX_IO, sizeof *g->outputs);
    assert_true(g->t && g->nodes && g->inputs && g->outputs);
    g->opset = 13;
    return g;
}

/* A tensor: data != NULL makes it a constant initializer (copied); else a
 * graph input when is_input, or an intermediate (shape set by inference). */
static inline int qb_tensor(nn_graph *g, const char *name, nn_dtype dt, int rank, const int64_t *dims,
                            const void *data, int is_input)
{
    assert_true(g->nt < QB_MAX_T);
    int i = g->nt++;
    nn_tensor *t = &g->t[i];
    t->name = qb_strdup(g->ctx, name);
    t->producer = -1;
    t->v.dtype = dt;
    t->v.rank = rank;
    for (int k = 0; k < rank; k++)
        t->v.dims[k] = dims[k];
    if (data) {
        size_t bytes = (size_t)nn_value_count(&t->v) * nn_dtype_size(dt);
        t->v.data = cim__malloc(g->ctx, bytes ? bytes : 1);
        assert_non_null(t->v.data);
        memcpy(t->v.data, data, bytes);
        t->is_const = t->is_init = 1;
    } else if (is_input) {
        assert_true(g->n_inputs < QB_MAX_IO);
        g->inputs[g->n_inputs++] = i;
    } else {
        t->v.dtype = NN_UNDEFINED;
        t->v.rank = 0;
    }
    return i;
}

static inline void qb_output(nn_graph *g, int t)
{
    assert_true(g->n_outputs < QB_MAX_IO);
    g->outputs[g->n_outputs++] = t;
}

/* A node; in[i] = -1 for an omitted input. Outputs become produced by it. */
static inline nn_node *qb_node(nn_graph *g, const char *op, const char *domain, int n_in, const int *in, int n_out,
                               const int *out)
{
    assert_true(g->nn < QB_MAX_N);
    int k = g->nn++;
    nn_node *n = &g->nodes[k];
    char nm[64];
    snprintf(nm, sizeof nm, "%s#%d", op, k);
    n->name = qb_strdup(g->ctx, nm);
    n->op_type = qb_strdup(g->ctx, op);
    n->domain = qb_strdup(g->ctx, domain);
    n->n_in = n_in;
    n->n_out = n_out;
    n->in = cim__malloc(g->ctx, (size_t)(n_in + 1) * sizeof(int));
    n->out = cim__malloc(g->ctx, (size_t)(n_out + 1) * sizeof(int));
    n->attr = cim__calloc(g->ctx, 16, sizeof *n->attr);
    assert_true(n->in && n->out && n->attr);
    memcpy(n->in, in, (size_t)n_in * sizeof(int));
    memcpy(n->out, out, (size_t)n_out * sizeof(int));
    for (int o = 0; o < n_out; o++)
        if (out[o] >= 0)
            g->t[out[o]].producer = k;
    return n;
}

static inline nn_attr *qb_attr(nn_graph *g, nn_node *n, const char *name, nn_attr_type type)
{
    assert_true(n->n_attr < 16);
    nn_attr *a = &n->attr[n->n_attr++];
    a->name = qb_strdup(g->ctx, name);
    a->type = type;
    return a;
}

static inline void qb_attr_int(nn_graph *g, nn_node *n, const char *name, int64_t v)
{
    qb_attr(g, n, name, NN_ATTR_INT)->i = v;
}

static inline void qb_attr_float(nn_graph *g, nn_node *n, const char *name, float v)
{
    qb_attr(g, n, name, NN_ATTR_FLOAT)->f = v;
}

static inline void qb_attr_string(nn_graph *g, nn_node *n, const char *name, const char *s)
{
    qb_attr(g, n, name, NN_ATTR_STRING)->s = qb_strdup(g->ctx, s);
}

static inline void qb_attr_ints(nn_graph *g, nn_node *n, const char *name, int cnt, const int64_t *v)
{
    nn_attr *a = qb_attr(g, n, name, NN_ATTR_INTS);
    a->ints = cim__malloc(g->ctx, (size_t)(cnt + 1) * sizeof(int64_t));
    assert_non_null(a->ints);
    memcpy(a->ints, v, (size_t)cnt * sizeof(int64_t));
    a->n = cnt;
}

static inline void qb_attr_floats(nn_graph *g, nn_node *n, const char *name, int cnt, const float *v)
{
    nn_attr *a = qb_attr(g, n, name, NN_ATTR_FLOATS);
    a->floats = cim__malloc(g->ctx, (size_t)(cnt + 1) * sizeof(float));
    assert_non_null(a->floats);
    memcpy(a->floats, v, (size_t)cnt * sizeof(float));
    a->n = cnt;
}

/* A value view of caller-owned data (for nn_graph_run inputs). */
static inline nn_value qb_value(nn_dtype dt, int rank, const int64_t *dims, const void *data)
{
    nn_value v;
    memset(&v, 0, sizeof v);
    v.dtype = dt;
    v.rank = rank;
    for (int k = 0; k < rank; k++)
        v.dims[k] = dims[k];
    v.data = (void *)data;
    return v;
}

#endif
