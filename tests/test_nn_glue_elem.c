/* test_nn_glue_elem.c: the glue elementwise operators (src/nn/ops_glue_elem.c,
 * ops_glue_binary.c, Cast): activations against their formulas, integer
 * forms, Clip by opset, numpy broadcasting, integer Div truncation, Pow,
 * Equal, Where, Cast's truncation/saturation/wrapping, and bad input. */
#include "test_nn_glue.h"

static const float X5[5] = {-2.0f, -0.5f, 0.0f, 0.5f, 3.0f};
static const int64_t D5[1] = {5};

/* Run op on X5 and compare with f(x) computed in double. */
static void check_unary(cim_ctx *ctx, const char *op, const char *domain, double (*f)(double),
                        void (*attrs)(nn_graph *, nn_node *))
{
    nn_node *n;
    nn_graph *g = gb_unary(ctx, 17, op, domain, NN_FLOAT, 1, D5, &n);
    if (attrs)
        attrs(g, n);
    const void *in[] = {X5};
    nn_value out[1];
    float want[5];
    for (int i = 0; i < 5; i++)
        want[i] = (float)f(X5[i]);
    gb_run(g, in, out);
    gb_check_shape(&out[0], NN_FLOAT, 1, D5);
    gb_check_f32(&out[0], want, 5, 1e-5f);
    gb_free_outputs(g, out);
    nn_graph_free(g);
}

static double f_relu(double x) { return x > 0 ? x : 0; }
static double f_leaky(double x) { return x >= 0 ? x : 0.1 * x; }
static double f_sigmoid(double x) { return 1 / (1 + exp(-x)); }
static double f_hsig(double x) { return fmax(0, fmin(1, 0.2 * x + 0.5)); }
static double f_hsig2(double x) { return fmax(0, fmin(1, 0.5 * x + 0.25)); }
static double f_hswish(double x) { return x * fmax(0, fmin(1, x / 6 + 0.5)); }
static double f_gelu(double x) { return 0.5 * x * (1 + erf(x / sqrt(2.0))); }
static double f_gelu_tanh(double x) { return 0.5 * x * (1 + tanh(sqrt(2 / 3.14159265358979323846) * (x + 0.044715 * x * x * x))); }
static double f_neg(double x) { return -x; }
static double f_ident(double x) { return x; }

static void a_leaky(nn_graph *g, nn_node *n) { gb_attr_float(g, n, "alpha", 0.1f); }
static void a_hsig(nn_graph *g, nn_node *n)
{
    gb_attr_float(g, n, "alpha", 0.5f);
    gb_attr_float(g, n, "beta", 0.25f);
}
static void a_tanh(nn_graph *g, nn_node *n) { gb_attr_string(g, n, "approximate", "tanh"); }

static void test_unary_float(void **state)
{
    cim_ctx *ctx = *state;
    check_unary(ctx, "Relu", "", f_relu, NULL);
    check_unary(ctx, "LeakyRelu", "", f_leaky, a_leaky);
    check_unary(ctx, "Sigmoid", "", f_sigmoid, NULL);
    check_unary(ctx, "HardSigmoid", "", f_hsig, NULL);
    check_unary(ctx, "HardSigmoid", "", f_hsig2, a_hsig);
    check_unary(ctx, "HardSwish", "", f_hswish, NULL);
    check_unary(ctx, "Gelu", "com.microsoft", f_gelu, NULL);
    check_unary(ctx, "Gelu", "", f_gelu, NULL);
    check_unary(ctx, "Gelu", "", f_gelu_tanh, a_tanh);
    check_unary(ctx, "Erf", "", erf, NULL);
    check_unary(ctx, "Tanh", "", tanh, NULL);
    check_unary(ctx, "Exp", "", exp, NULL);
    check_unary(ctx, "Neg", "", f_neg, NULL);
    check_unary(ctx, "Abs", "", fabs, NULL);
    check_unary(ctx, "Identity", "", f_ident, NULL);
}

static void test_unary_literals(void **state)
{
    cim_ctx *ctx = *state;
    nn_node *n;
    const int64_t d[1] = {4};
    const float x[4] = {0.0f, 4.0f, 0.5f, -1.0f};
    const void *in[] = {x};
    nn_value out[1];
    /* sqrt(-1) is NaN as ONNX/numpy give */
    const float want_sqrt[4] = {0.0f, 2.0f, 0.70710678f, NAN};
    nn_graph *g = gb_unary(ctx, 17, "Sqrt", "", NN_FLOAT, 1, d, &n);
    gb_run(g, in, out);
    gb_check_f32(&out[0], want_sqrt, 4, 1e-6f);
    gb_free_outputs(g, out);
    nn_graph_free(g);
    /* hand values: sigmoid(0) = 0.5, erf(0.5) = 0.5204998778, gelu(-1) = -0.158655254 */
    const float want_sig[4] = {0.5f, 0.98201379f, 0.62245933f, 0.26894142f};
    g = gb_unary(ctx, 17, "Sigmoid", "", NN_FLOAT, 1, d, &n);
    gb_run(g, in, out);
    gb_check_f32(&out[0], want_sig, 4, 1e-6f);
    gb_free_outputs(g, out);
    nn_graph_free(g);
    const float want_gelu[4] = {0.0f, 3.99987335f, 0.34573123f, -0.15865525f};
    g = gb_unary(ctx, 17, "Gelu", "com.microsoft", NN_FLOAT, 1, d, &n);
    gb_run(g, in, out);
    gb_check_f32(&out[0], want_gelu, 4, 1e-6f);
    gb_free_outputs(g, out);
    nn_graph_free(g);
}

static void test_unary_int(void **state)
{
    cim_ctx *ctx = *state;
    nn_node *n;
    const int64_t d[1] = {4};
    nn_value out[1];
    const int32_t xi[4] = {-5, 0, 7, INT32_MIN};
    const void *in32[] = {xi};
    nn_graph *g = gb_unary(ctx, 14, "Relu", "", NN_INT32, 1, d, &n);
    gb_run(g, in32, out);
    gb_check_int(&out[0], NN_INT32, (const int64_t[]){0, 0, 7, 0}, 4);
    gb_free_outputs(g, out);
    nn_graph_free(g);
    const int8_t x8[4] = {-128, -1, 0, 127};
    const void *in8[] = {x8};
    g = gb_unary(ctx, 13, "Neg", "", NN_INT8, 1, d, &n);
    gb_run(g, in8, out);
    gb_check_int(&out[0], NN_INT8, (const int64_t[]){-128, 1, 0, -127}, 4); /* -(-128) wraps */
    gb_free_outputs(g, out);
    nn_graph_free(g);
    const int64_t x64[4] = {-3, 3, 0, INT64_MIN + 1};
    const void *in64[] = {x64};
    g = gb_unary(ctx, 13, "Abs", "", NN_INT64, 1, d, &n);
    gb_run(g, in64, out);
    gb_check_int(&out[0], NN_INT64, (const int64_t[]){3, 3, 0, INT64_MAX}, 4);
    gb_free_outputs(g, out);
    nn_graph_free(g);
}

static void test_unary_errors(void **state)
{
    cim_ctx *ctx = *state;
    nn_node *n;
    nn_graph *g = gb_unary(ctx, 17, "Sigmoid", "", NN_INT32, 1, D5, &n);
    gb_infer_fails(g, CIM_ERR_UNSUPPORTED, "int32");
    nn_graph_free(g);
    g = gb_unary(ctx, 13, "Neg", "", NN_UINT8, 1, D5, &n);
    gb_infer_fails(g, CIM_ERR_UNSUPPORTED, "uint8");
    nn_graph_free(g);
    g = gb_unary(ctx, 17, "Gelu", "", NN_FLOAT, 1, D5, &n);
    gb_attr_string(g, n, "approximate", "fast");
    gb_infer_fails(g, CIM_ERR_FORMAT, "approximate");
    nn_graph_free(g);
    g = gb_unary(ctx, 17, "LeakyRelu", "", NN_FLOAT, 1, D5, &n);
    gb_attr_int(g, n, "alpha", 1);
    assert_int_equal(nn_graph_infer(g), CIM_OK);
    const void *in[] = {X5};
    nn_value v = g->t[g->inputs[0]].v;
    v.data = (void *)in[0];
    nn_value out[1];
    assert_int_equal(nn_graph_run(g, &v, out), CIM_ERR_FORMAT); /* alpha of the wrong type */
    assert_non_null(strstr(cim_ctx_errmsg(ctx), "alpha"));
    nn_graph_free(g);
}

static void test_clip(void **state)
{
    cim_ctx *ctx = *state;
    nn_value out[1];
    const void *in[] = {X5};
    /* opset 13: min and max as inputs */
    nn_graph *g = gb_new(ctx, 13);
    gb_input(g, "x", NN_FLOAT, 1, D5);
    gb_const(g, "lo", NN_FLOAT, 0, NULL, (const float[]){-1.0f});
    gb_const(g, "hi", NN_FLOAT, 0, NULL, (const float[]){0.25f});
    gb_node(g, "Clip", "", "x,lo,hi", "y");
    gb_output(g, "y");
    gb_run(g, in, out);
    gb_check_f32(&out[0], (const float[]){-1.0f, -0.5f, 0.0f, 0.25f, 0.25f}, 5, 0);
    gb_free_outputs(g, out);
    nn_graph_free(g);
    /* omitted min: only max */
    g = gb_new(ctx, 13);
    gb_input(g, "x", NN_FLOAT, 1, D5);
    gb_const(g, "hi", NN_FLOAT, 0, NULL, (const float[]){0.25f});
    gb_node(g, "Clip", "", "x,,hi", "y");
    gb_output(g, "y");
    gb_run(g, in, out);
    gb_check_f32(&out[0], (const float[]){-2.0f, -0.5f, 0.0f, 0.25f, 0.25f}, 5, 0);
    gb_free_outputs(g, out);
    nn_graph_free(g);
    /* min > max: everything becomes max */
    g = gb_new(ctx, 13);
    gb_input(g, "x", NN_FLOAT, 1, D5);
    gb_const(g, "lo", NN_FLOAT, 0, NULL, (const float[]){1.0f});
    gb_const(g, "hi", NN_FLOAT, 0, NULL, (const float[]){-1.0f});
    gb_node(g, "Clip", "", "x,lo,hi", "y");
    gb_output(g, "y");
    gb_run(g, in, out);
    gb_check_f32(&out[0], (const float[]){-1.0f, -1.0f, -1.0f, -1.0f, -1.0f}, 5, 0);
    gb_free_outputs(g, out);
    nn_graph_free(g);
    /* opset 6: attributes */
    nn_node *n;
    g = gb_unary(ctx, 6, "Clip", "", NN_FLOAT, 1, D5, &n);
    gb_attr_float(g, n, "min", -0.5f);
    gb_run(g, in, out);
    gb_check_f32(&out[0], (const float[]){-0.5f, -0.5f, 0.0f, 0.5f, 3.0f}, 5, 0);
    gb_free_outputs(g, out);
    nn_graph_free(g);
    /* int8 with int8 bounds */
    const int8_t x8[5] = {-128, -10, 0, 10, 127};
    const void *in8[] = {x8};
    g = gb_new(ctx, 13);
    gb_input(g, "x", NN_INT8, 1, D5);
    gb_const(g, "lo", NN_INT8, 0, NULL, (const int8_t[]){-5});
    gb_const(g, "hi", NN_INT8, 0, NULL, (const int8_t[]){100});
    gb_node(g, "Clip", "", "x,lo,hi", "y");
    gb_output(g, "y");
    gb_run(g, in8, out);
    gb_check_int(&out[0], NN_INT8, (const int64_t[]){-5, -5, 0, 10, 100}, 5);
    gb_free_outputs(g, out);
    nn_graph_free(g);
    /* bound of the wrong dtype */
    g = gb_new(ctx, 13);
    gb_input(g, "x", NN_FLOAT, 1, D5);
    gb_const(g, "lo", NN_INT32, 0, NULL, (const int32_t[]){0});
    gb_node(g, "Clip", "", "x,lo", "y");
    gb_output(g, "y");
    gb_infer_fails(g, CIM_ERR_SHAPE, "min");
    nn_graph_free(g);
    /* opset 6 with inputs */
    g = gb_new(ctx, 6);
    gb_input(g, "x", NN_FLOAT, 1, D5);
    gb_const(g, "lo", NN_FLOAT, 0, NULL, (const float[]){0});
    gb_node(g, "Clip", "", "x,lo", "y");
    gb_output(g, "y");
    gb_infer_fails(g, CIM_ERR_FORMAT, "attributes");
    nn_graph_free(g);
}

/* A two-input graph a (input) op b (constant). */
static nn_graph *binary_graph(cim_ctx *ctx, const char *op, nn_dtype da, int ra, const int64_t *dimsa, nn_dtype db,
                              int rb, const int64_t *dimsb, const void *bdata)
{
    nn_graph *g = gb_new(ctx, 14);
    gb_input(g, "a", da, ra, dimsa);
    gb_const(g, "b", db, rb, dimsb, bdata);
    gb_node(g, op, "", "a,b", "y");
    gb_output(g, "y");
    return g;
}

static void test_binary_float(void **state)
{
    cim_ctx *ctx = *state;
    nn_value out[1];
    const float a[6] = {1, 2, 3, 4, 5, 6};
    const void *in[] = {a};
    /* [2,3] + [3] */
    nn_graph *g = binary_graph(ctx, "Add", NN_FLOAT, 2, (const int64_t[]){2, 3}, NN_FLOAT, 1, (const int64_t[]){3},
                               (const float[]){10, 20, 30});
    gb_run(g, in, out);
    gb_check_shape(&out[0], NN_FLOAT, 2, (const int64_t[]){2, 3});
    gb_check_f32(&out[0], (const float[]){11, 22, 33, 14, 25, 36}, 6, 0);
    gb_free_outputs(g, out);
    nn_graph_free(g);
    /* [2,1,3] * [4,1] -> [2,4,3] */
    g = binary_graph(ctx, "Mul", NN_FLOAT, 3, (const int64_t[]){2, 1, 3}, NN_FLOAT, 2, (const int64_t[]){4, 1},
                     (const float[]){1, 2, 3, 4});
    gb_run(g, in, out);
    gb_check_shape(&out[0], NN_FLOAT, 3, (const int64_t[]){2, 4, 3});
    float want[24];
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 4; j++)
            for (int k = 0; k < 3; k++)
                want[(i * 4 + j) * 3 + k] = a[i * 3 + k] * (float)(j + 1);
    gb_check_f32(&out[0], want, 24, 0);
    gb_free_outputs(g, out);
    nn_graph_free(g);
    /* [2,3] - scalar, [2,3] / [2,1] */
    g = binary_graph(ctx, "Sub", NN_FLOAT, 2, (const int64_t[]){2, 3}, NN_FLOAT, 0, NULL, (const float[]){0.5f});
    gb_run(g, in, out);
    gb_check_f32(&out[0], (const float[]){0.5f, 1.5f, 2.5f, 3.5f, 4.5f, 5.5f}, 6, 0);
    gb_free_outputs(g, out);
    nn_graph_free(g);
    g = binary_graph(ctx, "Div", NN_FLOAT, 2, (const int64_t[]){2, 3}, NN_FLOAT, 2, (const int64_t[]){2, 1},
                     (const float[]){2, 4});
    gb_run(g, in, out);
    gb_check_f32(&out[0], (const float[]){0.5f, 1, 1.5f, 1, 1.25f, 1.5f}, 6, 1e-7f);
    gb_free_outputs(g, out);
    nn_graph_free(g);
    /* scalar input broadcast against a [3] constant: the input is the one stretched */
    g = binary_graph(ctx, "Sub", NN_FLOAT, 0, NULL, NN_FLOAT, 1, (const int64_t[]){3}, (const float[]){1, 2, 3});
    gb_run(g, in, out);
    gb_check_f32(&out[0], (const float[]){0, -1, -2}, 3, 0);
    gb_free_outputs(g, out);
    nn_graph_free(g);
}

static void test_binary_int(void **state)
{
    cim_ctx *ctx = *state;
    nn_value out[1];
    const int64_t d4[1] = {4};
    /* integer Div truncates toward zero */
    const int32_t a32[4] = {7, -7, 7, -7};
    const void *in32[] = {a32};
    nn_graph *g = binary_graph(ctx, "Div", NN_INT32, 1, d4, NN_INT32, 1, d4, (const int32_t[]){2, 2, -2, -2});
    gb_run(g, in32, out);
    gb_check_int(&out[0], NN_INT32, (const int64_t[]){3, -3, -3, 3}, 4);
    gb_free_outputs(g, out);
    nn_graph_free(g);
    /* int64 with a broadcast row, INT64_MIN / -1 wraps */
    const int64_t a64[4] = {INT64_MIN, 9, -9, 100};
    const void *in64[] = {a64};
    g = binary_graph(ctx, "Div", NN_INT64, 2, (const int64_t[]){2, 2}, NN_INT64, 1, (const int64_t[]){2},
                     (const int64_t[]){-1, 4});
    gb_run(g, in64, out);
    gb_check_int(&out[0], NN_INT64, (const int64_t[]){INT64_MIN, 2, 9, 25}, 4);
    gb_free_outputs(g, out);
    nn_graph_free(g);
    /* uint8 Add and Mul wrap; int32 Sub wraps */
    const uint8_t a8[4] = {200, 255, 0, 16};
    const void *in8[] = {a8};
    g = binary_graph(ctx, "Add", NN_UINT8, 1, d4, NN_UINT8, 1, d4, (const uint8_t[]){100, 1, 0, 16});
    gb_run(g, in8, out);
    gb_check_int(&out[0], NN_UINT8, (const int64_t[]){44, 0, 0, 32}, 4);
    gb_free_outputs(g, out);
    nn_graph_free(g);
    g = binary_graph(ctx, "Mul", NN_UINT8, 1, d4, NN_UINT8, 0, NULL, (const uint8_t[]){16});
    gb_run(g, in8, out);
    gb_check_int(&out[0], NN_UINT8, (const int64_t[]){128, 240, 0, 0}, 4);
    gb_free_outputs(g, out);
    nn_graph_free(g);
    const int32_t s32[4] = {INT32_MIN, 0, 5, -5};
    const void *ins[] = {s32};
    g = binary_graph(ctx, "Sub", NN_INT32, 1, d4, NN_INT32, 0, NULL, (const int32_t[]){1});
    gb_run(g, ins, out);
    gb_check_int(&out[0], NN_INT32, (const int64_t[]){INT32_MAX, -1, 4, -6}, 4);
    gb_free_outputs(g, out);
    nn_graph_free(g);
    /* int8 Mul */
    const int8_t m8[4] = {-128, 64, -3, 5};
    const void *inm[] = {m8};
    g = binary_graph(ctx, "Mul", NN_INT8, 1, d4, NN_INT8, 0, NULL, (const int8_t[]){-2});
    gb_run(g, inm, out);
    gb_check_int(&out[0], NN_INT8, (const int64_t[]){0, -128, 6, -10}, 4);
    gb_free_outputs(g, out);
    nn_graph_free(g);
    /* integer division by zero fails at run time, naming node and op */
    g = binary_graph(ctx, "Div", NN_INT32, 1, d4, NN_INT32, 0, NULL, (const int32_t[]){0});
    assert_int_equal(nn_graph_infer(g), CIM_OK);
    nn_value v = g->t[g->inputs[0]].v;
    v.data = (void *)a32;
    assert_int_equal(nn_graph_run(g, &v, out), CIM_ERR_RANGE);
    assert_non_null(strstr(cim_ctx_errmsg(ctx), "(Div)"));
    assert_non_null(strstr(cim_ctx_errmsg(ctx), "division by zero"));
    nn_graph_free(g);
}

static void test_pow(void **state)
{
    cim_ctx *ctx = *state;
    nn_value out[1];
    const int64_t d3[1] = {3};
    const float a[3] = {2.0f, 9.0f, -2.0f};
    const void *in[] = {a};
    nn_graph *g = binary_graph(ctx, "Pow", NN_FLOAT, 1, d3, NN_FLOAT, 1, d3, (const float[]){3.0f, 0.5f, 2.0f});
    gb_run(g, in, out);
    gb_check_f32(&out[0], (const float[]){8, 3, 4}, 3, 1e-6f);
    gb_free_outputs(g, out);
    nn_graph_free(g);
    /* float base, int64 exponent (scalar) */
    g = binary_graph(ctx, "Pow", NN_FLOAT, 1, d3, NN_INT64, 0, NULL, (const int64_t[]){3});
    gb_run(g, in, out);
    gb_check_f32(&out[0], (const float[]){8, 729, -8}, 3, 1e-6f);
    gb_free_outputs(g, out);
    nn_graph_free(g);
    /* int32 base, int32 and float exponents */
    const int32_t b[3] = {2, -3, 5};
    const void *inb[] = {b};
    g = binary_graph(ctx, "Pow", NN_INT32, 1, d3, NN_INT32, 1, d3, (const int32_t[]){10, 3, 0});
    gb_run(g, inb, out);
    gb_check_int(&out[0], NN_INT32, (const int64_t[]){1024, -27, 1}, 3);
    gb_free_outputs(g, out);
    nn_graph_free(g);
    g = binary_graph(ctx, "Pow", NN_INT32, 1, d3, NN_FLOAT, 0, NULL, (const float[]){0.5f});
    gb_run(g, inb, out);
    gb_check_int(&out[0], NN_INT32, (const int64_t[]){1, 0, 2}, 3); /* sqrt(-3) is NaN: 0 */
    gb_free_outputs(g, out);
    nn_graph_free(g);
}

static void test_equal_where(void **state)
{
    cim_ctx *ctx = *state;
    nn_value out[1];
    const int64_t a[6] = {1, 2, 3, 3, 2, 1};
    const void *in[] = {a};
    nn_graph *g = binary_graph(ctx, "Equal", NN_INT64, 2, (const int64_t[]){2, 3}, NN_INT64, 1, (const int64_t[]){3},
                               (const int64_t[]){1, 2, 1});
    gb_run(g, in, out);
    gb_check_shape(&out[0], NN_BOOL, 2, (const int64_t[]){2, 3});
    gb_check_int(&out[0], NN_BOOL, (const int64_t[]){1, 1, 0, 0, 1, 1}, 6);
    gb_free_outputs(g, out);
    nn_graph_free(g);
    /* Where: cond [2,1], X [1,3], Y scalar -> [2,3] */
    g = gb_new(ctx, 16);
    gb_input(g, "c", NN_BOOL, 2, (const int64_t[]){2, 1});
    gb_const(g, "x", NN_FLOAT, 2, (const int64_t[]){1, 3}, (const float[]){1, 2, 3});
    gb_const(g, "z", NN_FLOAT, 0, NULL, (const float[]){-1});
    gb_node(g, "Where", "", "c,x,z", "y");
    gb_output(g, "y");
    const uint8_t c[2] = {0, 1};
    const void *inc[] = {c};
    gb_run(g, inc, out);
    gb_check_shape(&out[0], NN_FLOAT, 2, (const int64_t[]){2, 3});
    gb_check_f32(&out[0], (const float[]){-1, -1, -1, 1, 2, 3}, 6, 0);
    gb_free_outputs(g, out);
    nn_graph_free(g);
    /* Where with a non-bool condition */
    g = gb_new(ctx, 16);
    gb_input(g, "c", NN_INT32, 1, (const int64_t[]){3});
    gb_const(g, "x", NN_FLOAT, 1, (const int64_t[]){3}, (const float[]){1, 2, 3});
    gb_node(g, "Where", "", "c,x,x", "y");
    gb_output(g, "y");
    gb_infer_fails(g, CIM_ERR_SHAPE, "condition");
    nn_graph_free(g);
}

static void test_binary_errors(void **state)
{
    cim_ctx *ctx = *state;
    nn_graph *g = binary_graph(ctx, "Add", NN_FLOAT, 2, (const int64_t[]){2, 3}, NN_FLOAT, 1, (const int64_t[]){2},
                               (const float[]){1, 2});
    gb_infer_fails(g, CIM_ERR_SHAPE, "broadcast");
    nn_graph_free(g);
    g = binary_graph(ctx, "Mul", NN_FLOAT, 1, (const int64_t[]){2}, NN_INT32, 1, (const int64_t[]){2},
                     (const int32_t[]){1, 2});
    gb_infer_fails(g, CIM_ERR_SHAPE, "different data types");
    nn_graph_free(g);
    g = binary_graph(ctx, "Add", NN_BOOL, 1, (const int64_t[]){2}, NN_BOOL, 1, (const int64_t[]){2},
                     (const uint8_t[]){1, 0});
    gb_infer_fails(g, CIM_ERR_UNSUPPORTED, "bool");
    nn_graph_free(g);
    g = gb_new(ctx, 14);
    gb_input(g, "a", NN_FLOAT, 1, (const int64_t[]){2});
    gb_node(g, "Add", "", "a", "y");
    gb_output(g, "y");
    gb_infer_fails(g, CIM_ERR_FORMAT, "missing");
    nn_graph_free(g);
}

static nn_graph *cast_graph(cim_ctx *ctx, nn_dtype from, int64_t to, int64_t count)
{
    nn_node *n;
    nn_graph *g = gb_unary(ctx, 13, "Cast", "", from, 1, (const int64_t[]){count}, &n);
    gb_attr_int(g, n, "to", to);
    return g;
}

static void test_cast(void **state)
{
    cim_ctx *ctx = *state;
    nn_value out[1];
    const float f[6] = {-1.7f, 1.7f, 2.5f, 300.0f, -300.0f, 0.0f};
    const void *inf[] = {f};
    nn_graph *g = cast_graph(ctx, NN_FLOAT, NN_INT32, 6);
    gb_run(g, inf, out);
    gb_check_int(&out[0], NN_INT32, (const int64_t[]){-1, 1, 2, 300, -300, 0}, 6);
    gb_free_outputs(g, out);
    nn_graph_free(g);
    g = cast_graph(ctx, NN_FLOAT, NN_INT8, 6); /* out of range saturates */
    gb_run(g, inf, out);
    gb_check_int(&out[0], NN_INT8, (const int64_t[]){-1, 1, 2, 127, -128, 0}, 6);
    gb_free_outputs(g, out);
    nn_graph_free(g);
    g = cast_graph(ctx, NN_FLOAT, NN_BOOL, 6);
    gb_run(g, inf, out);
    gb_check_int(&out[0], NN_BOOL, (const int64_t[]){1, 1, 1, 1, 1, 0}, 6);
    gb_free_outputs(g, out);
    nn_graph_free(g);
    /* integer narrowing keeps the low bits */
    const int32_t i[4] = {300, -1, 128, -129};
    const void *ini[] = {i};
    g = cast_graph(ctx, NN_INT32, NN_UINT8, 4);
    gb_run(g, ini, out);
    gb_check_int(&out[0], NN_UINT8, (const int64_t[]){44, 255, 128, 127}, 4);
    gb_free_outputs(g, out);
    nn_graph_free(g);
    g = cast_graph(ctx, NN_INT32, NN_INT8, 4);
    gb_run(g, ini, out);
    gb_check_int(&out[0], NN_INT8, (const int64_t[]){44, -1, -128, 127}, 4);
    gb_free_outputs(g, out);
    nn_graph_free(g);
    g = cast_graph(ctx, NN_INT32, NN_INT64, 4);
    gb_run(g, ini, out);
    gb_check_int(&out[0], NN_INT64, (const int64_t[]){300, -1, 128, -129}, 4);
    gb_free_outputs(g, out);
    nn_graph_free(g);
    const uint8_t b[3] = {1, 0, 1};
    const void *inb[] = {b};
    g = cast_graph(ctx, NN_BOOL, NN_FLOAT, 3);
    gb_run(g, inb, out);
    gb_check_f32(&out[0], (const float[]){1, 0, 1}, 3, 0);
    gb_free_outputs(g, out);
    nn_graph_free(g);
    const int8_t s8[3] = {-128, 5, 127};
    const void *ins[] = {s8};
    g = cast_graph(ctx, NN_INT8, NN_FLOAT, 3);
    gb_run(g, ins, out);
    gb_check_f32(&out[0], (const float[]){-128, 5, 127}, 3, 0);
    gb_free_outputs(g, out);
    nn_graph_free(g);
    g = cast_graph(ctx, NN_FLOAT, 10, 6); /* float16 */
    gb_infer_fails(g, CIM_ERR_UNSUPPORTED, "data type 10");
    nn_graph_free(g);
    nn_node *n;
    g = gb_unary(ctx, 13, "Cast", "", NN_FLOAT, 1, (const int64_t[]){2}, &n);
    gb_infer_fails(g, CIM_ERR_FORMAT, "'to'");
    nn_graph_free(g);
}

/* ONNX's Cast rules, written directly: integers wrap modulo 2^bits (two's
 * complement), floats truncate toward zero and saturate (NaN: 0), anything
 * to bool is "nonzero", to float the nearest float. */
static int64_t cast_wrap(int64_t v, int bits, int is_signed)
{
    if (bits == 64)
        return v;
    const uint64_t m = (uint64_t)1 << bits, u = (uint64_t)v % m; /* v mod 2^bits, as unsigned */
    return is_signed && u >= m / 2 ? (int64_t)u - (int64_t)m : (int64_t)u;
}

static int64_t cast_sat(double f, double lo, double hi)
{
    if (isnan(f))
        return 0;
    if (f <= lo)
        return lo < -9e18 ? INT64_MIN : (int64_t)lo;
    if (f >= hi)
        return hi > 9e18 ? INT64_MAX : (int64_t)hi;
    return (int64_t)trunc(f);
}

/* Every pair of the six supported types, each through its own loop, with
 * values at and past the edges of every width. */
static void test_cast_every_pair(void **state)
{
    cim_ctx *ctx = *state;
    enum { NV = 8 };
    const nn_dtype types[] = {NN_FLOAT, NN_UINT8, NN_INT8, NN_INT32, NN_INT64, NN_BOOL};
    const float fv[NV] = {-1.7f, 2.5f, 300.0f, -300.0f, 3e9f, -3e19f, 3e19f, NAN};
    const uint8_t u8v[NV] = {0, 1, 127, 128, 200, 255, 3, 254};
    const int8_t s8v[NV] = {-128, -1, 0, 1, 127, -127, 64, -64};
    const int32_t s32v[NV] = {300, -1, 128, -129, 2147483647, -2147483647 - 1, 65535, 40000};
    const int64_t s64v[NV] = {300, -1, 128, -129, (int64_t)1 << 40, INT64_MIN, INT64_MAX, 4294967295LL};
    const uint8_t bv[NV] = {0, 1, 1, 0, 1, 0, 0, 1};
    const void *data[] = {fv, u8v, s8v, s32v, s64v, bv};
    for (int a = 0; a < 6; a++)
        for (int b = 0; b < 6; b++) {
            const nn_dtype from = types[a], to = types[b];
            nn_value out[1];
            const void *in[] = {data[a]};
            nn_graph *g = cast_graph(ctx, from, to, NV);
            gb_run(g, in, out);
            int64_t want[NV];
            float wantf[NV];
            for (int i = 0; i < NV; i++) {
                const int fin = from == NN_FLOAT;
                const double f = fin ? fv[i] : 0;
                const int64_t v = from == NN_UINT8 ? u8v[i] : from == NN_INT8 ? s8v[i] : from == NN_INT32 ? s32v[i]
                                  : from == NN_INT64 ? s64v[i] : from == NN_BOOL ? bv[i] != 0 : 0;
                switch (to) {
                case NN_FLOAT: wantf[i] = fin ? (float)f : (float)v; break;
                case NN_BOOL: want[i] = fin ? f != 0 : v != 0; break;
                case NN_UINT8: want[i] = fin ? cast_sat(f, 0, 255) : cast_wrap(v, 8, 0); break;
                case NN_INT8: want[i] = fin ? cast_sat(f, -128, 127) : cast_wrap(v, 8, 1); break;
                case NN_INT32: want[i] = fin ? cast_sat(f, -2147483648.0, 2147483647.0) : cast_wrap(v, 32, 1); break;
                default: want[i] = fin ? cast_sat(f, -9.2233720368547758e18, 9.2233720368547758e18) : v; break;
                }
            }
            if (to == NN_FLOAT)
                gb_check_f32(&out[0], wantf, NV, 0);
            else
                gb_check_int(&out[0], to, want, NV);
            gb_free_outputs(g, out);
            nn_graph_free(g);
        }
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
        cmocka_unit_test_setup_teardown(test_unary_float, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unary_literals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unary_int, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unary_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_binary_float, setup, teardown),
        cmocka_unit_test_setup_teardown(test_binary_int, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_equal_where, setup, teardown),
        cmocka_unit_test_setup_teardown(test_binary_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cast, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cast_every_pair, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
