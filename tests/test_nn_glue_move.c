/* test_nn_glue_move.c: the glue data-movement operators (src/nn/ops_glue_move.c,
 * ops_glue_pad.c): Transpose, Concat, Gather, Slice (both opset forms,
 * negative steps, clamping), Expand and Pad (constant/reflect/edge/wrap,
 * negative pads, opset 2 attributes), with expectations from numpy's
 * indexing rules, and bad input. */
#include "test_nn_glue.h"

static const int64_t I24[24] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23};
static const int64_t D234[3] = {2, 3, 4};

static void test_transpose(void **state)
{
    cim_ctx *ctx = *state;
    nn_value out[1];
    const void *in[] = {I24};
    nn_node *n;
    /* default: reversed dims, y[k][j][i] = x[i][j][k] */
    nn_graph *g = gb_unary(ctx, 13, "Transpose", "", NN_INT64, 3, D234, &n);
    gb_run(g, in, out);
    gb_check_shape(&out[0], NN_INT64, 3, (const int64_t[]){4, 3, 2});
    int64_t want[24];
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++)
            for (int k = 0; k < 4; k++)
                want[(k * 3 + j) * 2 + i] = (i * 3 + j) * 4 + k;
    gb_check_int(&out[0], NN_INT64, want, 24);
    gb_free_outputs(g, out);
    nn_graph_free(g);
    /* perm [1, 0, 2]: y[j][i][k] = x[i][j][k] (float) */
    float xf[24], wf[24];
    for (int i = 0; i < 24; i++)
        xf[i] = (float)i * 0.5f;
    const void *inf[] = {xf};
    g = gb_unary(ctx, 13, "Transpose", "", NN_FLOAT, 3, D234, &n);
    gb_attr_ints(g, n, "perm", 3, (const int64_t[]){1, 0, 2});
    gb_run(g, inf, out);
    gb_check_shape(&out[0], NN_FLOAT, 3, (const int64_t[]){3, 2, 4});
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++)
            for (int k = 0; k < 4; k++)
                wf[(j * 2 + i) * 4 + k] = xf[(i * 3 + j) * 4 + k];
    gb_check_f32(&out[0], wf, 24, 0);
    gb_free_outputs(g, out);
    nn_graph_free(g);
    g = gb_unary(ctx, 13, "Transpose", "", NN_FLOAT, 3, D234, &n);
    gb_attr_ints(g, n, "perm", 3, (const int64_t[]){1, 1, 2});
    gb_infer_fails(g, CIM_ERR_SHAPE, "permutation");
    nn_graph_free(g);
    g = gb_unary(ctx, 13, "Transpose", "", NN_FLOAT, 3, D234, &n);
    gb_attr_ints(g, n, "perm", 2, (const int64_t[]){1, 0});
    gb_infer_fails(g, CIM_ERR_SHAPE, "perm");
    nn_graph_free(g);
}

static void test_concat(void **state)
{
    cim_ctx *ctx = *state;
    nn_value out[1];
    const int32_t a[4] = {1, 2, 3, 4};
    const void *in[] = {a};
    /* [2,2] ++ [2,1] along -1 */
    nn_graph *g = gb_new(ctx, 13);
    gb_input(g, "a", NN_INT32, 2, (const int64_t[]){2, 2});
    gb_const(g, "b", NN_INT32, 2, (const int64_t[]){2, 1}, (const int32_t[]){9, 8});
    gb_attr_int(g, gb_node(g, "Concat", "", "a,b,a", "y"), "axis", -1);
    gb_output(g, "y");
    gb_run(g, in, out);
    gb_check_shape(&out[0], NN_INT32, 2, (const int64_t[]){2, 5});
    gb_check_int(&out[0], NN_INT32, (const int64_t[]){1, 2, 9, 1, 2, 3, 4, 8, 3, 4}, 10);
    gb_free_outputs(g, out);
    nn_graph_free(g);
    /* along 0 with an empty input */
    g = gb_new(ctx, 13);
    gb_input(g, "a", NN_INT32, 2, (const int64_t[]){2, 2});
    gb_const(g, "e", NN_INT32, 2, (const int64_t[]){0, 2}, NULL);
    gb_attr_int(g, gb_node(g, "Concat", "", "e,a,a", "y"), "axis", 0);
    gb_output(g, "y");
    gb_run(g, in, out);
    gb_check_shape(&out[0], NN_INT32, 2, (const int64_t[]){4, 2});
    gb_check_int(&out[0], NN_INT32, (const int64_t[]){1, 2, 3, 4, 1, 2, 3, 4}, 8);
    gb_free_outputs(g, out);
    nn_graph_free(g);
    g = gb_new(ctx, 13);
    gb_input(g, "a", NN_INT32, 2, (const int64_t[]){2, 2});
    gb_const(g, "b", NN_INT32, 2, (const int64_t[]){3, 1}, (const int32_t[]){9, 8, 7});
    gb_attr_int(g, gb_node(g, "Concat", "", "a,b", "y"), "axis", 1);
    gb_output(g, "y");
    gb_infer_fails(g, CIM_ERR_SHAPE, "dimension 0");
    nn_graph_free(g);
    g = gb_new(ctx, 13);
    gb_input(g, "a", NN_INT32, 2, (const int64_t[]){2, 2});
    gb_const(g, "b", NN_INT64, 2, (const int64_t[]){2, 1}, (const int64_t[]){9, 8});
    gb_attr_int(g, gb_node(g, "Concat", "", "a,b", "y"), "axis", 1);
    gb_output(g, "y");
    gb_infer_fails(g, CIM_ERR_SHAPE, "int64");
    nn_graph_free(g);
    g = gb_new(ctx, 13);
    gb_input(g, "a", NN_INT32, 2, (const int64_t[]){2, 2});
    gb_attr_int(g, gb_node(g, "Concat", "", "a,a", "y"), "axis", 2);
    gb_output(g, "y");
    gb_infer_fails(g, CIM_ERR_SHAPE, "axis 2");
    nn_graph_free(g);
}

static void test_gather(void **state)
{
    cim_ctx *ctx = *state;
    nn_value out[1];
    const void *in[] = {I24};
    /* axis 1, 1-D indices with a negative one */
    nn_graph *g = gb_new(ctx, 13);
    gb_input(g, "x", NN_INT64, 3, D234);
    gb_const(g, "i", NN_INT64, 1, (const int64_t[]){3}, (const int64_t[]){-1, 0, 2});
    gb_attr_int(g, gb_node(g, "Gather", "", "x,i", "y"), "axis", 1);
    gb_output(g, "y");
    gb_run(g, in, out);
    gb_check_shape(&out[0], NN_INT64, 3, (const int64_t[]){2, 3, 4});
    gb_check_int(&out[0], NN_INT64,
                 (const int64_t[]){8, 9, 10, 11, 0, 1, 2, 3, 8, 9, 10, 11, 20, 21, 22, 23, 12, 13, 14, 15, 20, 21, 22, 23},
                 24);
    gb_free_outputs(g, out);
    nn_graph_free(g);
    /* axis -1, 2-D int32 indices as an input */
    g = gb_new(ctx, 13);
    gb_input(g, "x", NN_INT64, 3, D234);
    gb_input(g, "i", NN_INT32, 2, (const int64_t[]){2, 2});
    gb_attr_int(g, gb_node(g, "Gather", "", "x,i", "y"), "axis", -1);
    gb_output(g, "y");
    const int32_t idx[4] = {3, 0, -1, 1};
    const void *in2[] = {I24, idx};
    gb_run(g, in2, out);
    gb_check_shape(&out[0], NN_INT64, 4, (const int64_t[]){2, 3, 2, 2});
    gb_check_int(&out[0], NN_INT64,
                 (const int64_t[]){3, 0, 3, 1, 7, 4, 7, 5, 11, 8, 11, 9, 15, 12, 15, 13, 19, 16, 19, 17, 23, 20, 23, 21},
                 24);
    gb_free_outputs(g, out);
    /* an index out of range at run time */
    const int32_t bad[4] = {0, 4, 0, 0};
    nn_value v[2] = {g->t[g->inputs[0]].v, g->t[g->inputs[1]].v};
    v[0].data = (void *)I24;
    v[1].data = (void *)bad;
    assert_int_equal(nn_graph_run(g, v, out), CIM_ERR_RANGE);
    assert_non_null(strstr(cim_ctx_errmsg(ctx), "(Gather)"));
    assert_non_null(strstr(cim_ctx_errmsg(ctx), "index 4"));
    nn_graph_free(g);
    /* a constant index out of range fails at inference; scalar index drops the axis */
    g = gb_new(ctx, 13);
    gb_input(g, "x", NN_INT64, 3, D234);
    gb_const(g, "i", NN_INT64, 0, NULL, (const int64_t[]){-3});
    gb_node(g, "Gather", "", "x,i", "y");
    gb_output(g, "y");
    gb_infer_fails(g, CIM_ERR_RANGE, "index -3");
    nn_graph_free(g);
    g = gb_new(ctx, 13);
    gb_input(g, "x", NN_INT64, 3, D234);
    gb_const(g, "i", NN_INT64, 0, NULL, (const int64_t[]){-2});
    gb_node(g, "Gather", "", "x,i", "y");
    gb_output(g, "y");
    gb_run(g, in, out);
    gb_check_shape(&out[0], NN_INT64, 2, (const int64_t[]){3, 4});
    gb_check_int(&out[0], NN_INT64, I24, 12);
    gb_free_outputs(g, out);
    nn_graph_free(g);
    g = gb_new(ctx, 13);
    gb_input(g, "x", NN_INT64, 3, D234);
    gb_const(g, "i", NN_FLOAT, 0, NULL, (const float[]){0});
    gb_node(g, "Gather", "", "x,i", "y");
    gb_output(g, "y");
    gb_infer_fails(g, CIM_ERR_UNSUPPORTED, "float32");
    nn_graph_free(g);
}

/* Slice of I24 [2,3,4] with opset-10+ inputs (axes/steps NULL: omitted). */
static nn_graph *slice_graph(cim_ctx *ctx, int c, const int64_t *starts, const int64_t *ends, const int64_t *axes,
                             const int64_t *steps)
{
    nn_graph *g = gb_new(ctx, 13);
    const int64_t d[1] = {c};
    gb_input(g, "x", NN_INT64, 3, D234);
    gb_const(g, "s", NN_INT64, 1, d, starts);
    gb_const(g, "e", NN_INT64, 1, d, ends);
    if (axes)
        gb_const(g, "a", NN_INT64, 1, d, axes);
    if (steps)
        gb_const(g, "p", NN_INT64, 1, d, steps);
    gb_node(g, "Slice", "", steps ? (axes ? "x,s,e,a,p" : "x,s,e,,p") : axes ? "x,s,e,a" : "x,s,e", "y");
    gb_output(g, "y");
    return g;
}

static void check_slice(nn_graph *g, int rank, const int64_t *dims, const int64_t *want, int64_t c)
{
    nn_value out[1];
    const void *in[] = {I24};
    gb_run(g, in, out);
    gb_check_shape(&out[0], NN_INT64, rank, dims);
    gb_check_int(&out[0], NN_INT64, want, c);
    gb_free_outputs(g, out);
    nn_graph_free(g);
}

static void test_slice(void **state)
{
    cim_ctx *ctx = *state;
    /* x[:, ::-2, -1:0:-2] */
    check_slice(slice_graph(ctx, 2, (const int64_t[]){INT64_MAX, -1}, (const int64_t[]){INT64_MIN, 0},
                            (const int64_t[]){1, -1}, (const int64_t[]){-2, -2}),
                3, (const int64_t[]){2, 2, 2}, (const int64_t[]){11, 9, 3, 1, 23, 21, 15, 13}, 8);
    /* x[1:1000, -100:2, 1:] with default axes and steps */
    check_slice(slice_graph(ctx, 3, (const int64_t[]){1, -100, 1}, (const int64_t[]){1000, 2, INT64_MAX}, NULL,
                            NULL),
                3, (const int64_t[]){1, 2, 3}, (const int64_t[]){13, 14, 15, 17, 18, 19}, 6);
    /* steps without axes; an empty result */
    check_slice(slice_graph(ctx, 1, (const int64_t[]){2}, (const int64_t[]){1}, NULL, (const int64_t[]){1}), 3,
                (const int64_t[]){0, 3, 4}, NULL, 0);
    /* opset 9: attributes */
    nn_graph *g = gb_new(ctx, 9);
    gb_input(g, "x", NN_INT64, 3, D234);
    nn_node *n = gb_node(g, "Slice", "", "x", "y");
    gb_attr_ints(g, n, "starts", 1, (const int64_t[]){1});
    gb_attr_ints(g, n, "ends", 1, (const int64_t[]){3});
    gb_attr_ints(g, n, "axes", 1, (const int64_t[]){2});
    gb_output(g, "y");
    check_slice(g, 3, (const int64_t[]){2, 3, 2},
                (const int64_t[]){1, 2, 5, 6, 9, 10, 13, 14, 17, 18, 21, 22}, 12);
    /* errors */
    g = slice_graph(ctx, 1, (const int64_t[]){0}, (const int64_t[]){1}, (const int64_t[]){0}, (const int64_t[]){0});
    gb_infer_fails(g, CIM_ERR_SHAPE, "step");
    nn_graph_free(g);
    g = slice_graph(ctx, 1, (const int64_t[]){0}, (const int64_t[]){1}, (const int64_t[]){3}, NULL);
    gb_infer_fails(g, CIM_ERR_SHAPE, "axis 3");
    nn_graph_free(g);
    g = slice_graph(ctx, 2, (const int64_t[]){0, 0}, (const int64_t[]){1, 1}, (const int64_t[]){1, -2}, NULL);
    gb_infer_fails(g, CIM_ERR_SHAPE, "twice");
    nn_graph_free(g);
    g = gb_new(ctx, 13);
    gb_input(g, "x", NN_INT64, 3, D234);
    gb_input(g, "s", NN_INT64, 1, (const int64_t[]){1});
    gb_const(g, "e", NN_INT64, 1, (const int64_t[]){1}, (const int64_t[]){1});
    gb_node(g, "Slice", "", "x,s,e", "y");
    gb_output(g, "y");
    gb_infer_fails(g, CIM_ERR_UNSUPPORTED, "static");
    nn_graph_free(g);
}

static void test_expand(void **state)
{
    cim_ctx *ctx = *state;
    nn_value out[1];
    const float x[3] = {1, 2, 3};
    const void *in[] = {x};
    /* [3,1] to [2,1,4]: bidirectional -> [2,3,4] */
    nn_graph *g = gb_new(ctx, 13);
    gb_input(g, "x", NN_FLOAT, 2, (const int64_t[]){3, 1});
    gb_const(g, "s", NN_INT64, 1, (const int64_t[]){3}, (const int64_t[]){2, 1, 4});
    gb_node(g, "Expand", "", "x,s", "y");
    gb_output(g, "y");
    gb_run(g, in, out);
    gb_check_shape(&out[0], NN_FLOAT, 3, (const int64_t[]){2, 3, 4});
    float want[24];
    for (int i = 0; i < 24; i++)
        want[i] = x[(i / 4) % 3];
    gb_check_f32(&out[0], want, 24, 0);
    gb_free_outputs(g, out);
    nn_graph_free(g);
    /* shape smaller than the input: the input's shape wins */
    g = gb_new(ctx, 13);
    gb_input(g, "x", NN_FLOAT, 2, (const int64_t[]){3, 1});
    gb_const(g, "s", NN_INT64, 1, (const int64_t[]){1}, (const int64_t[]){1});
    gb_node(g, "Expand", "", "x,s", "y");
    gb_output(g, "y");
    gb_run(g, in, out);
    gb_check_shape(&out[0], NN_FLOAT, 2, (const int64_t[]){3, 1});
    gb_check_f32(&out[0], x, 3, 0);
    gb_free_outputs(g, out);
    nn_graph_free(g);
    g = gb_new(ctx, 13);
    gb_input(g, "x", NN_FLOAT, 2, (const int64_t[]){3, 1});
    gb_const(g, "s", NN_INT64, 1, (const int64_t[]){2}, (const int64_t[]){2, 2});
    gb_node(g, "Expand", "", "x,s", "y");
    gb_output(g, "y");
    gb_infer_fails(g, CIM_ERR_SHAPE, "broadcast");
    nn_graph_free(g);
}

static const float X6[6] = {0, 1, 2, 3, 4, 5}; /* [2,3] */

static void check_pad(cim_ctx *ctx, const char *mode, const int64_t *pads, int rows, int cols, const float *want)
{
    nn_graph *g = gb_new(ctx, 13);
    gb_input(g, "x", NN_FLOAT, 2, (const int64_t[]){2, 3});
    gb_const(g, "p", NN_INT64, 1, (const int64_t[]){4}, pads);
    nn_node *n = gb_node(g, "Pad", "", "x,p", "y");
    if (mode)
        gb_attr_string(g, n, "mode", mode);
    gb_output(g, "y");
    const void *in[] = {X6};
    nn_value out[1];
    gb_run(g, in, out);
    gb_check_shape(&out[0], NN_FLOAT, 2, (const int64_t[]){rows, cols});
    gb_check_f32(&out[0], want, rows * cols, 0);
    gb_free_outputs(g, out);
    nn_graph_free(g);
}

static void test_pad(void **state)
{
    cim_ctx *ctx = *state;
    /* pads [b0, b1, e0, e1]; expectations from numpy.pad */
    check_pad(ctx, "reflect", (const int64_t[]){1, 2, 0, 1}, 3, 6,
              (const float[]){5, 4, 3, 4, 5, 4, 2, 1, 0, 1, 2, 1, 5, 4, 3, 4, 5, 4});
    check_pad(ctx, "edge", (const int64_t[]){1, 2, 0, 1}, 3, 6,
              (const float[]){0, 0, 0, 1, 2, 2, 0, 0, 0, 1, 2, 2, 3, 3, 3, 4, 5, 5});
    check_pad(ctx, "reflect", (const int64_t[]){0, 4, 0, 3}, 2, 10,
              (const float[]){0, 1, 2, 1, 0, 1, 2, 1, 0, 1, 3, 4, 5, 4, 3, 4, 5, 4, 3, 4});
    check_pad(ctx, "wrap", (const int64_t[]){1, 1, 1, 1}, 4, 5,
              (const float[]){5, 3, 4, 5, 3, 2, 0, 1, 2, 0, 5, 3, 4, 5, 3, 2, 0, 1, 2, 0});
    check_pad(ctx, NULL, (const int64_t[]){0, 1, 1, -1}, 3, 3, (const float[]){0, 0, 1, 0, 3, 4, 0, 0, 0});
    /* constant_value input, int32 data */
    nn_graph *g = gb_new(ctx, 13);
    gb_input(g, "x", NN_INT32, 1, (const int64_t[]){2});
    gb_const(g, "p", NN_INT64, 1, (const int64_t[]){2}, (const int64_t[]){2, 1});
    gb_const(g, "v", NN_INT32, 0, NULL, (const int32_t[]){-7});
    gb_node(g, "Pad", "", "x,p,v", "y");
    gb_output(g, "y");
    const int32_t xi[2] = {5, 6};
    const void *in[] = {xi};
    nn_value out[1];
    gb_run(g, in, out);
    gb_check_int(&out[0], NN_INT32, (const int64_t[]){-7, -7, 5, 6, -7}, 5);
    gb_free_outputs(g, out);
    nn_graph_free(g);
    /* opset 2: pads and value as attributes */
    g = gb_new(ctx, 2);
    gb_input(g, "x", NN_FLOAT, 2, (const int64_t[]){2, 3});
    nn_node *n = gb_node(g, "Pad", "", "x", "y");
    gb_attr_ints(g, n, "pads", 4, (const int64_t[]){0, 0, 1, 0});
    gb_attr_float(g, n, "value", 1.5f);
    gb_output(g, "y");
    const void *inf[] = {X6};
    gb_run(g, inf, out);
    gb_check_f32(&out[0], (const float[]){0, 1, 2, 3, 4, 5, 1.5f, 1.5f, 1.5f}, 9, 0);
    gb_free_outputs(g, out);
    nn_graph_free(g);
    /* opset 18 axes input: pad only the last axis */
    g = gb_new(ctx, 18);
    gb_input(g, "x", NN_FLOAT, 2, (const int64_t[]){2, 3});
    gb_const(g, "p", NN_INT64, 1, (const int64_t[]){2}, (const int64_t[]){1, 0});
    gb_const(g, "a", NN_INT64, 1, (const int64_t[]){1}, (const int64_t[]){-1});
    gb_node(g, "Pad", "", "x,p,,a", "y");
    gb_output(g, "y");
    gb_run(g, inf, out);
    gb_check_f32(&out[0], (const float[]){0, 0, 1, 2, 0, 3, 4, 5}, 8, 0);
    gb_free_outputs(g, out);
    nn_graph_free(g);
    /* errors: wrong pads length, unknown mode, over-cropping, a runtime pads input */
    g = gb_new(ctx, 13);
    gb_input(g, "x", NN_FLOAT, 2, (const int64_t[]){2, 3});
    gb_const(g, "p", NN_INT64, 1, (const int64_t[]){2}, (const int64_t[]){1, 1});
    gb_node(g, "Pad", "", "x,p", "y");
    gb_output(g, "y");
    gb_infer_fails(g, CIM_ERR_SHAPE, "2 pads");
    nn_graph_free(g);
    g = gb_new(ctx, 13);
    gb_input(g, "x", NN_FLOAT, 2, (const int64_t[]){2, 3});
    gb_const(g, "p", NN_INT64, 1, (const int64_t[]){4}, (const int64_t[]){0, 0, 0, 0});
    gb_attr_string(g, gb_node(g, "Pad", "", "x,p", "y"), "mode", "mirror");
    gb_output(g, "y");
    gb_infer_fails(g, CIM_ERR_UNSUPPORTED, "mirror");
    nn_graph_free(g);
    g = gb_new(ctx, 13);
    gb_input(g, "x", NN_FLOAT, 2, (const int64_t[]){2, 3});
    gb_const(g, "p", NN_INT64, 1, (const int64_t[]){4}, (const int64_t[]){0, -2, 0, -2});
    gb_node(g, "Pad", "", "x,p", "y");
    gb_output(g, "y");
    gb_infer_fails(g, CIM_ERR_SHAPE, "remove");
    nn_graph_free(g);
    g = gb_new(ctx, 13);
    gb_input(g, "x", NN_FLOAT, 2, (const int64_t[]){2, 3});
    gb_input(g, "p", NN_INT64, 1, (const int64_t[]){4});
    gb_node(g, "Pad", "", "x,p", "y");
    gb_output(g, "y");
    gb_infer_fails(g, CIM_ERR_UNSUPPORTED, "static");
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
        cmocka_unit_test_setup_teardown(test_transpose, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concat, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gather, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slice, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expand, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pad, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
