/* test_nn_glue_shape.c: the glue shape operators (src/nn/ops_glue_shape.c):
 * Reshape (0, -1, allowzero), Flatten, Squeeze/Unsqueeze in both opset forms,
 * Shape with start/end, Constant, ConstantOfShape, Range, a folded
 * Shape -> Gather -> Unsqueeze -> Concat -> Reshape chain, and bad input
 * (non-static shapes, bad axes, element-count mismatches). */
#include "test_nn_glue.h"

static const float X24[24] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23};

/* x [2,3,4] float -> Reshape(shape) -> y; returns y's value after a run (checked against X24). */
static void check_reshape(cim_ctx *ctx, int r, const int64_t *shape, int allowzero, int want_rank,
                          const int64_t *want)
{
    nn_graph *g = gb_new(ctx, 14);
    gb_input(g, "x", NN_FLOAT, 3, (const int64_t[]){2, 3, 4});
    gb_const(g, "s", NN_INT64, 1, (const int64_t[]){r}, shape);
    nn_node *n = gb_node(g, "Reshape", "", "x,s", "y");
    if (allowzero)
        gb_attr_int(g, n, "allowzero", 1);
    gb_output(g, "y");
    const void *in[] = {X24};
    nn_value out[1];
    gb_run(g, in, out);
    gb_check_shape(&out[0], NN_FLOAT, want_rank, want);
    gb_check_f32(&out[0], X24, 24, 0);
    gb_free_outputs(g, out);
    nn_graph_free(g);
}

static void reshape_fails(cim_ctx *ctx, int r, const int64_t *shape, int allowzero, cim_status st, const char *what)
{
    nn_graph *g = gb_new(ctx, 14);
    gb_input(g, "x", NN_FLOAT, 3, (const int64_t[]){2, 3, 4});
    gb_const(g, "s", NN_INT64, 1, (const int64_t[]){r}, shape);
    nn_node *n = gb_node(g, "Reshape", "", "x,s", "y");
    if (allowzero)
        gb_attr_int(g, n, "allowzero", 1);
    gb_output(g, "y");
    gb_infer_fails(g, st, what);
    nn_graph_free(g);
}

static void test_reshape(void **state)
{
    cim_ctx *ctx = *state;
    check_reshape(ctx, 2, (const int64_t[]){6, 4}, 0, 2, (const int64_t[]){6, 4});
    check_reshape(ctx, 2, (const int64_t[]){-1, 8}, 0, 2, (const int64_t[]){3, 8});
    check_reshape(ctx, 3, (const int64_t[]){0, -1, 2}, 0, 3, (const int64_t[]){2, 6, 2}); /* 0 copies dim 0 */
    check_reshape(ctx, 4, (const int64_t[]){0, 0, 2, 2}, 0, 4, (const int64_t[]){2, 3, 2, 2});
    check_reshape(ctx, 1, (const int64_t[]){-1}, 0, 1, (const int64_t[]){24});
    reshape_fails(ctx, 2, (const int64_t[]){5, -1}, 0, CIM_ERR_SHAPE, "-1");
    reshape_fails(ctx, 2, (const int64_t[]){-1, -1}, 0, CIM_ERR_SHAPE, "more than one -1");
    reshape_fails(ctx, 2, (const int64_t[]){5, 5}, 0, CIM_ERR_SHAPE, "25 elements");
    reshape_fails(ctx, 2, (const int64_t[]){0, 12}, 1, CIM_ERR_SHAPE, "elements"); /* allowzero: a real 0 */
    reshape_fails(ctx, 2, (const int64_t[]){-2, 12}, 0, CIM_ERR_SHAPE, "-2");
    reshape_fails(ctx, 4, (const int64_t[]){1, 1, 1, 0}, 0, CIM_ERR_SHAPE, "lacks");
    /* allowzero with a zero-size input */
    nn_graph *g = gb_new(ctx, 14);
    gb_input(g, "x", NN_FLOAT, 2, (const int64_t[]){0, 3});
    gb_const(g, "s", NN_INT64, 1, (const int64_t[]){3}, (const int64_t[]){3, 0, 1});
    nn_node *n = gb_node(g, "Reshape", "", "x,s", "y");
    gb_attr_int(g, n, "allowzero", 1);
    gb_output(g, "y");
    assert_int_equal(nn_graph_infer(g), CIM_OK);
    gb_check_shape(&g->t[nn_graph_find(g, "y")].v, NN_FLOAT, 3, (const int64_t[]){3, 0, 1});
    nn_graph_free(g);
    /* a shape only known at run time is not static */
    g = gb_new(ctx, 14);
    gb_input(g, "x", NN_FLOAT, 1, (const int64_t[]){4});
    gb_input(g, "s", NN_INT64, 1, (const int64_t[]){2});
    gb_node(g, "Reshape", "", "x,s", "y");
    gb_output(g, "y");
    gb_infer_fails(g, CIM_ERR_UNSUPPORTED, "static");
    nn_graph_free(g);
}

static void test_flatten(void **state)
{
    cim_ctx *ctx = *state;
    const int64_t axes[] = {0, 1, 2, 3, -1, -3};
    const int64_t want[][2] = {{1, 24}, {2, 12}, {6, 4}, {24, 1}, {6, 4}, {1, 24}};
    for (int i = 0; i < 6; i++) {
        nn_node *n;
        nn_graph *g = gb_unary(ctx, 13, "Flatten", "", NN_FLOAT, 3, (const int64_t[]){2, 3, 4}, &n);
        gb_attr_int(g, n, "axis", axes[i]);
        const void *in[] = {X24};
        nn_value out[1];
        gb_run(g, in, out);
        gb_check_shape(&out[0], NN_FLOAT, 2, want[i]);
        gb_check_f32(&out[0], X24, 24, 0);
        gb_free_outputs(g, out);
        nn_graph_free(g);
    }
    nn_node *n;
    nn_graph *g = gb_unary(ctx, 13, "Flatten", "", NN_FLOAT, 3, (const int64_t[]){2, 3, 4}, &n);
    gb_attr_int(g, n, "axis", 4);
    gb_infer_fails(g, CIM_ERR_SHAPE, "axis 4");
    nn_graph_free(g);
}

/* x [1,3,1,2] -> op (axes by opset) -> y: the resulting shape. */
static nn_graph *axes_graph(cim_ctx *ctx, const char *op, int64_t opset, int c, const int64_t *axes)
{
    nn_graph *g = gb_new(ctx, opset);
    gb_input(g, "x", NN_FLOAT, 4, (const int64_t[]){1, 3, 1, 2});
    nn_node *n;
    if (opset >= 13 && axes) {
        gb_const(g, "axes", NN_INT64, 1, (const int64_t[]){c}, axes);
        n = gb_node(g, op, "", "x,axes", "y");
    } else {
        n = gb_node(g, op, "", "x", "y");
        if (axes)
            gb_attr_ints(g, n, "axes", c, axes);
    }
    gb_output(g, "y");
    return g;
}

static void check_axes(cim_ctx *ctx, const char *op, int64_t opset, int c, const int64_t *axes, int rank,
                       const int64_t *want)
{
    nn_graph *g = axes_graph(ctx, op, opset, c, axes);
    const void *in[] = {X24};
    nn_value out[1];
    gb_run(g, in, out);
    gb_check_shape(&out[0], NN_FLOAT, rank, want);
    gb_check_f32(&out[0], X24, 6, 0);
    gb_free_outputs(g, out);
    nn_graph_free(g);
}

static void test_squeeze_unsqueeze(void **state)
{
    cim_ctx *ctx = *state;
    check_axes(ctx, "Squeeze", 11, 0, NULL, 2, (const int64_t[]){3, 2});
    check_axes(ctx, "Squeeze", 13, 0, NULL, 2, (const int64_t[]){3, 2});
    check_axes(ctx, "Squeeze", 11, 1, (const int64_t[]){0}, 3, (const int64_t[]){3, 1, 2});
    check_axes(ctx, "Squeeze", 13, 1, (const int64_t[]){-2}, 3, (const int64_t[]){1, 3, 2});
    check_axes(ctx, "Squeeze", 13, 2, (const int64_t[]){2, 0}, 2, (const int64_t[]){3, 2});
    check_axes(ctx, "Unsqueeze", 11, 1, (const int64_t[]){0}, 5, (const int64_t[]){1, 1, 3, 1, 2});
    check_axes(ctx, "Unsqueeze", 13, 1, (const int64_t[]){-1}, 5, (const int64_t[]){1, 3, 1, 2, 1});
    check_axes(ctx, "Unsqueeze", 13, 2, (const int64_t[]){5, 1}, 6, (const int64_t[]){1, 1, 3, 1, 2, 1});
    check_axes(ctx, "Unsqueeze", 12, 2, (const int64_t[]){-6, 2}, 6, (const int64_t[]){1, 1, 1, 3, 1, 2});
    /* an empty axes input squeezes every dimension of 1 */
    nn_graph *g = gb_new(ctx, 13);
    gb_input(g, "x", NN_FLOAT, 4, (const int64_t[]){1, 3, 1, 2});
    gb_const(g, "axes", NN_INT64, 1, (const int64_t[]){0}, NULL);
    gb_node(g, "Squeeze", "", "x,axes", "y");
    gb_output(g, "y");
    assert_int_equal(nn_graph_infer(g), CIM_OK);
    gb_check_shape(&g->t[nn_graph_find(g, "y")].v, NN_FLOAT, 2, (const int64_t[]){3, 2});
    nn_graph_free(g);
    g = axes_graph(ctx, "Squeeze", 13, 1, (const int64_t[]){1});
    gb_infer_fails(g, CIM_ERR_SHAPE, "size 3");
    nn_graph_free(g);
    g = axes_graph(ctx, "Squeeze", 11, 1, (const int64_t[]){4});
    gb_infer_fails(g, CIM_ERR_SHAPE, "axis 4");
    nn_graph_free(g);
    g = axes_graph(ctx, "Unsqueeze", 13, 2, (const int64_t[]){0, -6});
    gb_infer_fails(g, CIM_ERR_SHAPE, "twice");
    nn_graph_free(g);
    g = axes_graph(ctx, "Unsqueeze", 13, 0, NULL);
    gb_infer_fails(g, CIM_ERR_FORMAT, "axes");
    nn_graph_free(g);
    /* the opset decides where axes go */
    g = gb_new(ctx, 13);
    gb_input(g, "x", NN_FLOAT, 4, (const int64_t[]){1, 3, 1, 2});
    gb_attr_ints(g, gb_node(g, "Squeeze", "", "x", "y"), "axes", 1, (const int64_t[]){0});
    gb_output(g, "y");
    gb_infer_fails(g, CIM_ERR_FORMAT, "input 1");
    nn_graph_free(g);
    g = gb_new(ctx, 11);
    gb_input(g, "x", NN_FLOAT, 4, (const int64_t[]){1, 3, 1, 2});
    gb_const(g, "axes", NN_INT64, 1, (const int64_t[]){1}, (const int64_t[]){0});
    gb_node(g, "Unsqueeze", "", "x,axes", "y");
    gb_output(g, "y");
    gb_infer_fails(g, CIM_ERR_FORMAT, "attribute");
    nn_graph_free(g);
}

static void check_shape_op(cim_ctx *ctx, int has_start, int64_t start, int has_end, int64_t end, int c,
                           const int64_t *want)
{
    nn_node *n;
    nn_graph *g = gb_unary(ctx, 15, "Shape", "", NN_FLOAT, 3, (const int64_t[]){2, 3, 4}, &n);
    if (has_start)
        gb_attr_int(g, n, "start", start);
    if (has_end)
        gb_attr_int(g, n, "end", end);
    const void *in[] = {X24};
    nn_value out[1];
    gb_run(g, in, out);
    gb_check_shape(&out[0], NN_INT64, 1, (const int64_t[]){c});
    gb_check_int(&out[0], NN_INT64, want, c);
    assert_true(g->t[nn_graph_find(g, "y")].is_const); /* Shape is folded */
    gb_free_outputs(g, out);
    nn_graph_free(g);
}

static void test_shape(void **state)
{
    cim_ctx *ctx = *state;
    check_shape_op(ctx, 0, 0, 0, 0, 3, (const int64_t[]){2, 3, 4});
    check_shape_op(ctx, 1, 1, 0, 0, 2, (const int64_t[]){3, 4});
    check_shape_op(ctx, 0, 0, 1, -1, 2, (const int64_t[]){2, 3});
    check_shape_op(ctx, 1, -2, 1, 10, 2, (const int64_t[]){3, 4});
    check_shape_op(ctx, 1, -10, 1, 1, 1, (const int64_t[]){2});
    check_shape_op(ctx, 1, 2, 1, 1, 0, NULL);
}

static void test_constant(void **state)
{
    cim_ctx *ctx = *state;
    nn_value out[1];
    nn_graph *g = gb_new(ctx, 13);
    nn_node *n = gb_node(g, "Constant", "", "", "y");
    gb_attr_tensor(g, n, "value", NN_INT32, 2, (const int64_t[]){2, 2}, (const int32_t[]){1, -2, 3, -4});
    gb_output(g, "y");
    gb_run(g, NULL, out);
    gb_check_shape(&out[0], NN_INT32, 2, (const int64_t[]){2, 2});
    gb_check_int(&out[0], NN_INT32, (const int64_t[]){1, -2, 3, -4}, 4);
    gb_free_outputs(g, out);
    nn_graph_free(g);
    g = gb_new(ctx, 13);
    gb_attr_floats(g, gb_node(g, "Constant", "", "", "y"), "value_floats", 3, (const float[]){1.5f, 2, 3});
    gb_output(g, "y");
    gb_run(g, NULL, out);
    gb_check_shape(&out[0], NN_FLOAT, 1, (const int64_t[]){3});
    gb_check_f32(&out[0], (const float[]){1.5f, 2, 3}, 3, 0);
    gb_free_outputs(g, out);
    nn_graph_free(g);
    g = gb_new(ctx, 13);
    gb_attr_int(g, gb_node(g, "Constant", "", "", "y"), "value_int", -7);
    gb_output(g, "y");
    gb_run(g, NULL, out);
    gb_check_shape(&out[0], NN_INT64, 0, NULL);
    gb_check_int(&out[0], NN_INT64, (const int64_t[]){-7}, 1);
    gb_free_outputs(g, out);
    nn_graph_free(g);
    g = gb_new(ctx, 13);
    gb_attr_float(g, gb_node(g, "Constant", "", "", "y"), "value_float", 0.25f);
    gb_output(g, "y");
    gb_run(g, NULL, out);
    gb_check_f32(&out[0], (const float[]){0.25f}, 1, 0);
    gb_free_outputs(g, out);
    nn_graph_free(g);
    g = gb_new(ctx, 13);
    gb_attr_ints(g, gb_node(g, "Constant", "", "", "y"), "value_ints", 2, (const int64_t[]){4, 5});
    gb_output(g, "y");
    gb_run(g, NULL, out);
    gb_check_int(&out[0], NN_INT64, (const int64_t[]){4, 5}, 2);
    gb_free_outputs(g, out);
    nn_graph_free(g);
    g = gb_new(ctx, 13);
    n = gb_node(g, "Constant", "", "", "y");
    gb_attr_int(g, n, "value_int", 1);
    gb_attr_float(g, n, "value_float", 1);
    gb_output(g, "y");
    gb_infer_fails(g, CIM_ERR_FORMAT, "more than one");
    nn_graph_free(g);
    g = gb_new(ctx, 13);
    gb_attr_string(g, gb_node(g, "Constant", "", "", "y"), "value_string", "hi");
    gb_output(g, "y");
    gb_infer_fails(g, CIM_ERR_UNSUPPORTED, "value_string");
    nn_graph_free(g);
}

static void test_constantofshape(void **state)
{
    cim_ctx *ctx = *state;
    nn_value out[1];
    nn_graph *g = gb_new(ctx, 13);
    gb_const(g, "s", NN_INT64, 1, (const int64_t[]){2}, (const int64_t[]){2, 3});
    gb_node(g, "ConstantOfShape", "", "s", "y");
    gb_output(g, "y");
    gb_run(g, NULL, out);
    gb_check_shape(&out[0], NN_FLOAT, 2, (const int64_t[]){2, 3});
    gb_check_f32(&out[0], (const float[]){0, 0, 0, 0, 0, 0}, 6, 0);
    gb_free_outputs(g, out);
    nn_graph_free(g);
    g = gb_new(ctx, 13);
    gb_const(g, "s", NN_INT64, 1, (const int64_t[]){3}, (const int64_t[]){1, 2, 2});
    gb_attr_tensor(g, gb_node(g, "ConstantOfShape", "", "s", "y"), "value", NN_INT32, 1, (const int64_t[]){1},
                   (const int32_t[]){-3});
    gb_output(g, "y");
    gb_run(g, NULL, out);
    gb_check_shape(&out[0], NN_INT32, 3, (const int64_t[]){1, 2, 2});
    gb_check_int(&out[0], NN_INT32, (const int64_t[]){-3, -3, -3, -3}, 4);
    gb_free_outputs(g, out);
    nn_graph_free(g);
    g = gb_new(ctx, 13);
    gb_const(g, "s", NN_INT64, 1, (const int64_t[]){2}, (const int64_t[]){2, -1});
    gb_node(g, "ConstantOfShape", "", "s", "y");
    gb_output(g, "y");
    gb_infer_fails(g, CIM_ERR_SHAPE, "negative");
    nn_graph_free(g);
}

static void test_range(void **state)
{
    cim_ctx *ctx = *state;
    nn_value out[1];
    nn_graph *g = gb_new(ctx, 13);
    gb_const(g, "a", NN_FLOAT, 0, NULL, (const float[]){1});
    gb_const(g, "b", NN_FLOAT, 0, NULL, (const float[]){2.1f});
    gb_const(g, "c", NN_FLOAT, 0, NULL, (const float[]){0.25f});
    gb_node(g, "Range", "", "a,b,c", "y");
    gb_output(g, "y");
    gb_run(g, NULL, out);
    gb_check_shape(&out[0], NN_FLOAT, 1, (const int64_t[]){5});
    gb_check_f32(&out[0], (const float[]){1, 1.25f, 1.5f, 1.75f, 2}, 5, 0);
    gb_free_outputs(g, out);
    nn_graph_free(g);
    g = gb_new(ctx, 13);
    gb_const(g, "a", NN_INT32, 0, NULL, (const int32_t[]){10});
    gb_const(g, "b", NN_INT32, 0, NULL, (const int32_t[]){6});
    gb_const(g, "c", NN_INT32, 0, NULL, (const int32_t[]){-3});
    gb_node(g, "Range", "", "a,b,c", "y");
    gb_output(g, "y");
    gb_run(g, NULL, out);
    gb_check_int(&out[0], NN_INT32, (const int64_t[]){10, 7}, 2);
    gb_free_outputs(g, out);
    nn_graph_free(g);
    g = gb_new(ctx, 13); /* empty range */
    gb_const(g, "a", NN_INT64, 0, NULL, (const int64_t[]){3});
    gb_const(g, "b", NN_INT64, 0, NULL, (const int64_t[]){1});
    gb_const(g, "c", NN_INT64, 0, NULL, (const int64_t[]){1});
    gb_node(g, "Range", "", "a,b,c", "y");
    gb_output(g, "y");
    gb_run(g, NULL, out);
    gb_check_shape(&out[0], NN_INT64, 1, (const int64_t[]){0});
    gb_free_outputs(g, out);
    nn_graph_free(g);
    g = gb_new(ctx, 13);
    gb_const(g, "a", NN_INT64, 0, NULL, (const int64_t[]){3});
    gb_input(g, "b", NN_INT64, 0, NULL);
    gb_const(g, "c", NN_INT64, 0, NULL, (const int64_t[]){1});
    gb_node(g, "Range", "", "a,b,c", "y");
    gb_output(g, "y");
    gb_infer_fails(g, CIM_ERR_UNSUPPORTED, "static");
    nn_graph_free(g);
    g = gb_new(ctx, 13);
    gb_const(g, "a", NN_INT64, 0, NULL, (const int64_t[]){3});
    gb_const(g, "b", NN_INT32, 0, NULL, (const int32_t[]){1});
    gb_const(g, "c", NN_INT64, 0, NULL, (const int64_t[]){0});
    gb_node(g, "Range", "", "a,b,c", "y");
    gb_output(g, "y");
    gb_infer_fails(g, CIM_ERR_SHAPE, "limit");
    nn_graph_free(g);
}

/* x [N,3,4] -> Shape -> Gather(0) -> Unsqueeze -> Concat(with [12]) -> Reshape(x):
 * a batch-dependent shape folded at inference, recomputed for another N. */
static void test_folded_chain(void **state)
{
    cim_ctx *ctx = *state;
    nn_graph *g = gb_new(ctx, 13);
    gb_input(g, "x", NN_FLOAT, 3, (const int64_t[]){2, 3, 4});
    gb_node(g, "Shape", "", "x", "s");
    gb_const(g, "zero", NN_INT64, 0, NULL, (const int64_t[]){0});
    gb_node(g, "Gather", "", "s,zero", "n");
    gb_const(g, "ax", NN_INT64, 1, (const int64_t[]){1}, (const int64_t[]){0});
    gb_node(g, "Unsqueeze", "", "n,ax", "n1");
    gb_const(g, "twelve", NN_INT64, 1, (const int64_t[]){1}, (const int64_t[]){12});
    gb_attr_int(g, gb_node(g, "Concat", "", "n1,twelve", "shape"), "axis", 0);
    gb_node(g, "Reshape", "", "x,shape", "y");
    gb_output(g, "y");
    const void *in[] = {X24};
    nn_value out[1];
    gb_run(g, in, out);
    gb_check_shape(&out[0], NN_FLOAT, 2, (const int64_t[]){2, 12});
    gb_check_f32(&out[0], X24, 24, 0);
    gb_free_outputs(g, out);
    g->t[g->inputs[0]].v.dims[0] = 1; /* another batch size */
    gb_run(g, in, out);
    gb_check_shape(&out[0], NN_FLOAT, 2, (const int64_t[]){1, 12});
    gb_check_f32(&out[0], X24, 12, 0);
    gb_free_outputs(g, out);
    nn_graph_free(g);
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
        cmocka_unit_test_setup_teardown(test_reshape, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flatten, setup, teardown),
        cmocka_unit_test_setup_teardown(test_squeeze_unsqueeze, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shape, setup, teardown),
        cmocka_unit_test_setup_teardown(test_constant, setup, teardown),
        cmocka_unit_test_setup_teardown(test_constantofshape, setup, teardown),
        cmocka_unit_test_setup_teardown(test_range, setup, teardown),
        cmocka_unit_test_setup_teardown(test_folded_chain, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
