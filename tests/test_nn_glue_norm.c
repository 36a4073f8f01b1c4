/* test_nn_glue_norm.c: Softmax (opset 13 along an axis, opset 11 coerced to
 * 2-D), LayerNormalization (Scale/B broadcast, Mean and InvStdDev outputs)
 * and ReduceMean (axes as attribute and input, keepdims, integer
 * truncation), against numpy-computed values, and bad input. */
#include <stdlib.h>
#include "test_nn_glue.h"

static const float X23[6] = {1, 2, 3, -1, 0, 4};

static void check_softmax(cim_ctx *ctx, int64_t opset, int has_axis, int64_t axis, int rank, const int64_t *dims,
                          const float *x, const float *want)
{
    nn_node *n;
    nn_graph *g = gb_unary(ctx, opset, "Softmax", "", NN_FLOAT, rank, dims, &n);
    if (has_axis)
        gb_attr_int(g, n, "axis", axis);
    const void *in[] = {x};
    nn_value out[1];
    gb_run(g, in, out);
    gb_check_shape(&out[0], NN_FLOAT, rank, dims);
    int64_t c = 1;
    for (int d = 0; d < rank; d++)
        c *= dims[d];
    gb_check_f32(&out[0], want, c, 1e-5f);
    gb_free_outputs(g, out);
    nn_graph_free(g);
}

static void test_softmax(void **state)
{
    cim_ctx *ctx = *state;
    const int64_t d23[2] = {2, 3}, d232[3] = {2, 3, 2};
    const float col[6] = {0.880797f, 0.880797f, 0.2689414f, 0.11920292f, 0.11920292f, 0.7310586f};
    const float row[6] = {0.09003057f, 0.24472846f, 0.66524094f, 0.006573263f, 0.017867982f, 0.9755587f};
    check_softmax(ctx, 13, 1, 0, 2, d23, X23, col);
    check_softmax(ctx, 13, 1, -2, 2, d23, X23, col);
    check_softmax(ctx, 13, 0, 0, 2, d23, X23, row); /* default -1 */
    check_softmax(ctx, 11, 0, 0, 2, d23, X23, row); /* default 1 */
    float x3[12];
    for (int i = 0; i < 12; i++)
        x3[i] = (float)i * 0.5f;
    /* opset 13 axis 1 of [2,3,2]: along the middle axis */
    const float mid[12] = {0.09003057f, 0.09003057f, 0.24472846f, 0.24472846f, 0.66524094f, 0.66524094f,
                           0.09003057f, 0.09003057f, 0.24472846f, 0.24472846f, 0.66524094f, 0.66524094f};
    check_softmax(ctx, 13, 1, 1, 3, d232, x3, mid);
    /* opset 11 axis 1 of [2,3,2]: rows of 6 */
    const float flat[12] = {0.033990208f, 0.056040373f, 0.092394955f, 0.15233353f, 0.25115553f, 0.41408548f,
                            0.033990208f, 0.056040373f, 0.092394955f, 0.15233353f, 0.25115553f, 0.41408548f};
    check_softmax(ctx, 11, 1, 1, 3, d232, x3, flat);
    /* large values do not overflow */
    const float big[3] = {1000, 1001, 1002};
    const float bigw[3] = {0.09003057f, 0.24472846f, 0.66524094f};
    check_softmax(ctx, 13, 0, 0, 1, (const int64_t[]){3}, big, bigw);
    nn_node *n;
    nn_graph *g = gb_unary(ctx, 13, "Softmax", "", NN_FLOAT, 2, d23, &n);
    gb_attr_int(g, n, "axis", 2);
    gb_infer_fails(g, CIM_ERR_SHAPE, "axis 2");
    nn_graph_free(g);
    g = gb_unary(ctx, 13, "Softmax", "", NN_INT32, 2, d23, &n);
    gb_infer_fails(g, CIM_ERR_UNSUPPORTED, "int32");
    nn_graph_free(g);
}

static void test_layernorm(void **state)
{
    cim_ctx *ctx = *state;
    nn_value out[3];
    /* [2,3], axis -1 (default), Scale and B, all three outputs */
    nn_graph *g = gb_new(ctx, 17);
    gb_input(g, "x", NN_FLOAT, 2, (const int64_t[]){2, 3});
    gb_const(g, "s", NN_FLOAT, 1, (const int64_t[]){3}, (const float[]){1, 2, 0.5f});
    gb_const(g, "b", NN_FLOAT, 1, (const int64_t[]){3}, (const float[]){0, 1, -1});
    gb_node(g, "LayerNormalization", "", "x,s,b", "y,m,r");
    gb_output(g, "y");
    gb_output(g, "m");
    gb_output(g, "r");
    const void *in[] = {X23};
    gb_run(g, in, out);
    gb_check_shape(&out[0], NN_FLOAT, 2, (const int64_t[]){2, 3});
    gb_check_f32(&out[0], (const float[]){-1.2247356f, 1.0f, -0.3876322f, -0.9258191f, 0.0741809f, -0.3056357f}, 6,
                 1e-5f);
    gb_check_shape(&out[1], NN_FLOAT, 2, (const int64_t[]){2, 1});
    gb_check_f32(&out[1], (const float[]){2, 1}, 2, 1e-6f);
    gb_check_shape(&out[2], NN_FLOAT, 2, (const int64_t[]){2, 1});
    gb_check_f32(&out[2], (const float[]){1.2247356f, 0.46290955f}, 2, 1e-5f);
    gb_free_outputs(g, out);
    nn_graph_free(g);
    /* [2,3,2], axis 0, epsilon 0.1, Scale [3,1] broadcast, no B, only Y */
    float x3[12];
    for (int i = 0; i < 12; i++)
        x3[i] = (float)i * 0.5f;
    g = gb_new(ctx, 17);
    gb_input(g, "x", NN_FLOAT, 3, (const int64_t[]){2, 3, 2});
    gb_const(g, "s", NN_FLOAT, 2, (const int64_t[]){3, 1}, (const float[]){1, 2, 3});
    nn_node *n = gb_node(g, "LayerNormalization", "", "x,s", "y");
    gb_attr_int(g, n, "axis", 0);
    gb_attr_float(g, n, "epsilon", 0.1f);
    gb_output(g, "y");
    const void *in3[] = {x3};
    gb_run(g, in3, out);
    gb_check_f32(&out[0],
                 (const float[]){-1.5671699f, -1.2822299f, -1.9945798f, -1.4246999f, -1.2822299f, -0.42740995f,
                                 0.14246999f, 0.42740995f, 1.4246999f, 1.9945798f, 3.8466897f, 4.7015095f},
                 12, 1e-5f);
    gb_free_outputs(g, out);
    nn_graph_free(g);
    /* errors: Scale not broadcastable, axis out of range, missing Scale */
    g = gb_new(ctx, 17);
    gb_input(g, "x", NN_FLOAT, 2, (const int64_t[]){2, 3});
    gb_const(g, "s", NN_FLOAT, 1, (const int64_t[]){2}, (const float[]){1, 2});
    gb_node(g, "LayerNormalization", "", "x,s", "y");
    gb_output(g, "y");
    gb_infer_fails(g, CIM_ERR_SHAPE, "Scale");
    nn_graph_free(g);
    g = gb_new(ctx, 17);
    gb_input(g, "x", NN_FLOAT, 2, (const int64_t[]){2, 3});
    gb_const(g, "s", NN_FLOAT, 1, (const int64_t[]){3}, (const float[]){1, 2, 3});
    gb_attr_int(g, gb_node(g, "LayerNormalization", "", "x,s", "y"), "axis", -3);
    gb_output(g, "y");
    gb_infer_fails(g, CIM_ERR_SHAPE, "axis -3");
    nn_graph_free(g);
    g = gb_new(ctx, 17);
    gb_input(g, "x", NN_FLOAT, 2, (const int64_t[]){2, 3});
    gb_node(g, "LayerNormalization", "", "x", "y");
    gb_output(g, "y");
    gb_infer_fails(g, CIM_ERR_FORMAT, "Scale");
    nn_graph_free(g);
}

static nn_graph *reducemean_graph(cim_ctx *ctx, int64_t opset, nn_dtype dt, int c, const int64_t *axes, int keep)
{
    nn_graph *g = gb_new(ctx, opset);
    gb_input(g, "x", dt, 3, (const int64_t[]){2, 3, 2});
    nn_node *n;
    if (opset >= 18 && axes) {
        gb_const(g, "a", NN_INT64, 1, (const int64_t[]){c}, axes);
        n = gb_node(g, "ReduceMean", "", "x,a", "y");
    } else {
        n = gb_node(g, "ReduceMean", "", "x", "y");
        if (axes)
            gb_attr_ints(g, n, "axes", c, axes);
    }
    if (keep >= 0)
        gb_attr_int(g, n, "keepdims", keep);
    gb_output(g, "y");
    return g;
}

static void test_reducemean(void **state)
{
    cim_ctx *ctx = *state;
    nn_value out[1];
    float x[12];
    int32_t xi[12];
    for (int i = 0; i < 12; i++) {
        x[i] = (float)i;
        xi[i] = i * (i % 2 ? -1 : 1); /* 0 -1 2 -3 4 -5 6 -7 8 -9 10 -11 */
    }
    const void *in[] = {x}, *ini[] = {xi};
    /* axis 1, keepdims: [2,1,2] */
    nn_graph *g = reducemean_graph(ctx, 13, NN_FLOAT, 1, (const int64_t[]){1}, -1);
    gb_run(g, in, out);
    gb_check_shape(&out[0], NN_FLOAT, 3, (const int64_t[]){2, 1, 2});
    gb_check_f32(&out[0], (const float[]){2, 3, 8, 9}, 4, 1e-6f);
    gb_free_outputs(g, out);
    nn_graph_free(g);
    /* axes [0, -1] without keepdims: [3] */
    g = reducemean_graph(ctx, 13, NN_FLOAT, 2, (const int64_t[]){0, -1}, 0);
    gb_run(g, in, out);
    gb_check_shape(&out[0], NN_FLOAT, 1, (const int64_t[]){3});
    gb_check_f32(&out[0], (const float[]){3.5f, 5.5f, 7.5f}, 3, 1e-6f);
    gb_free_outputs(g, out);
    nn_graph_free(g);
    /* default: all axes */
    g = reducemean_graph(ctx, 13, NN_FLOAT, 0, NULL, 1);
    gb_run(g, in, out);
    gb_check_shape(&out[0], NN_FLOAT, 3, (const int64_t[]){1, 1, 1});
    gb_check_f32(&out[0], (const float[]){5.5f}, 1, 1e-6f);
    gb_free_outputs(g, out);
    nn_graph_free(g);
    /* opset 18: axes as an input; int32 means truncate toward zero */
    g = reducemean_graph(ctx, 18, NN_INT32, 1, (const int64_t[]){2}, 0);
    gb_run(g, ini, out);
    gb_check_shape(&out[0], NN_INT32, 2, (const int64_t[]){2, 3});
    /* pairs (0,-1) (2,-3) (4,-5) ... -> means -0.5 -> 0 each */
    gb_check_int(&out[0], NN_INT32, (const int64_t[]){0, 0, 0, 0, 0, 0}, 6);
    gb_free_outputs(g, out);
    nn_graph_free(g);
    g = reducemean_graph(ctx, 18, NN_INT32, 1, (const int64_t[]){1}, 1);
    gb_run(g, ini, out);
    /* (0+2+4)/3 = 2, (-1-3-5)/3 = -3, (6+8+10)/3 = 8, (-7-9-11)/3 = -9 */
    gb_check_int(&out[0], NN_INT32, (const int64_t[]){2, -3, 8, -9}, 4);
    gb_free_outputs(g, out);
    nn_graph_free(g);
    /* opset 18 noop_with_empty_axes: identity */
    g = reducemean_graph(ctx, 18, NN_FLOAT, 0, NULL, 1);
    gb_attr_int(g, &g->nodes[0], "noop_with_empty_axes", 1);
    gb_run(g, in, out);
    gb_check_shape(&out[0], NN_FLOAT, 3, (const int64_t[]){2, 3, 2});
    gb_check_f32(&out[0], x, 12, 0);
    gb_free_outputs(g, out);
    nn_graph_free(g);
    g = reducemean_graph(ctx, 13, NN_FLOAT, 2, (const int64_t[]){1, -2}, 1);
    gb_infer_fails(g, CIM_ERR_SHAPE, "twice");
    nn_graph_free(g);
    g = reducemean_graph(ctx, 13, NN_FLOAT, 1, (const int64_t[]){3}, 1);
    gb_infer_fails(g, CIM_ERR_SHAPE, "axis 3");
    nn_graph_free(g);
    g = reducemean_graph(ctx, 18, NN_FLOAT, 0, NULL, 1); /* opset 18 with an axes attribute */
    gb_attr_ints(g, &g->nodes[0], "axes", 1, (const int64_t[]){0});
    gb_infer_fails(g, CIM_ERR_FORMAT, "input 1");
    nn_graph_free(g);
    g = gb_new(ctx, 13); /* opset 13 with an axes input */
    gb_input(g, "x", NN_FLOAT, 1, (const int64_t[]){2});
    gb_const(g, "a", NN_INT64, 1, (const int64_t[]){1}, (const int64_t[]){0});
    gb_node(g, "ReduceMean", "", "x,a", "y");
    gb_output(g, "y");
    gb_infer_fails(g, CIM_ERR_FORMAT, "attribute");
    nn_graph_free(g);
    g = reducemean_graph(ctx, 13, NN_BOOL, 1, (const int64_t[]){0}, 1);
    gb_infer_fails(g, CIM_ERR_UNSUPPORTED, "bool");
    nn_graph_free(g);
}

/* A counting allocator that fails every allocation from number fail_at on. */
typedef struct counting {
    long live, calls, fail_at;
} counting;

static void *counting_alloc(void *ud, void *ptr, size_t size)
{
    counting *c = ud;
    if (size == 0) {
        if (ptr)
            c->live--;
        free(ptr);
        return NULL;
    }
    if (c->fail_at && ++c->calls >= c->fail_at)
        return NULL;
    void *p = realloc(ptr, size);
    if (p && !ptr)
        c->live++;
    return p;
}

/* Every allocation of a run (outputs, LayerNormalization's and ReduceMean's
 * scratch) failing in turn gives CIM_ERR_NOMEM and leaks nothing. */
static void test_alloc_failures(void **state)
{
    (void)state;
    counting c = {0, 0, 0};
    cim_ctx_options o;
    cim_ctx_options_default(&o);
    o.alloc = counting_alloc;
    o.alloc_ud = &c;
    cim_ctx *ctx;
    assert_int_equal(cim_ctx_create(&o, &ctx), CIM_OK);
    int saw_fail = 0, k;
    const long base = c.live; /* the context's own blocks */
    for (k = 1; k < 100; k++) {
        nn_graph *g = gb_new(ctx, 17);
        gb_input(g, "x", NN_FLOAT, 2, (const int64_t[]){2, 3});
        gb_const(g, "s", NN_FLOAT, 1, (const int64_t[]){3}, (const float[]){1, 2, 0.5f});
        gb_node(g, "LayerNormalization", "", "x,s", "y,m");
        gb_attr_ints(g, gb_node(g, "ReduceMean", "", "y", "r"), "axes", 1, (const int64_t[]){1});
        gb_output(g, "r");
        if (nn_graph_infer(g))
            fail_msg("%s", cim_ctx_errmsg(ctx));
        nn_value in = g->t[g->inputs[0]].v, out[1];
        in.data = (void *)X23;
        c.calls = 0;
        c.fail_at = k;
        cim_status st = nn_graph_run(g, &in, out);
        c.fail_at = 0;
        if (st == CIM_OK) {
            gb_check_f32(&out[0], (const float[]){-0.2041226f, -0.38575795f}, 2, 1e-5f);
            gb_free_outputs(g, out);
            nn_graph_free(g);
            break;
        }
        assert_int_equal(st, CIM_ERR_NOMEM);
        saw_fail = 1;
        nn_graph_free(g);
        assert_int_equal(c.live, base);
    }
    assert_true(saw_fail && k > 3); /* the scratch buffers were among the failures */
    cim_ctx_destroy(ctx);
}

static int setup(void **state)
{
    *state = tu_ctx();
    return 0;
}

static int teardown(void **state)
{
    cim_ctx_destroy(*state);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_softmax, setup, teardown),
        cmocka_unit_test_setup_teardown(test_layernorm, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reducemean, setup, teardown),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
