/* test_nn_quant.c: hand-computed cases for QuantizeLinear, DequantizeLinear,
 * QLinearMatMul, MatMulInteger, MatMul, Gemm (plain and QDQ through nn_mvm),
 * com.microsoft QGemm, QLinearAdd, QLinearMul, QLinearConcat,
 * QLinearAveragePool and QLinearGlobalAveragePool: rounding ties to even,
 * saturation, per-axis parameters, int8/uint8, numpy broadcasting, which
 * products reach nn_mvm, and bad inputs named in errors. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "test_nn_qutil.h"

typedef struct tin {
    nn_dtype dt; /* NN_UNDEFINED: omitted optional input */
    int rank;
    int64_t dims[4];
    const void *data;
    int is_input; /* a graph input (else a constant) */
} tin;

typedef struct mvm_log {
    int calls, M, K, N, rows_per_sample, zx;
} mvm_log;

static cim_status count_mvm(void *ud, const nn_graph *g, const nn_mvm_args *a)
{
    (void)g;
    mvm_log *l = ud;
    l->calls++;
    l->M = a->M, l->K = a->K, l->N = a->N, l->rows_per_sample = a->rows_per_sample, l->zx = a->zx;
    nn_mvm_digital(a);
    return CIM_OK;
}

/* A one-node graph over the given inputs; *node for adding attributes. */
static nn_graph *mk(cim_ctx *ctx, const char *op, const char *dom, int nin, const tin *ins, nn_node **node)
{
    nn_graph *g = qb_new(ctx);
    int in[16];
    for (int i = 0; i < nin; i++) {
        char nm[16];
        snprintf(nm, sizeof nm, "in%d", i);
        in[i] = ins[i].dt == NN_UNDEFINED ? -1
                                          : qb_tensor(g, nm, ins[i].dt, ins[i].rank, ins[i].dims,
                                                      ins[i].is_input ? NULL : ins[i].data, ins[i].is_input);
    }
    int y = qb_tensor(g, "y", NN_UNDEFINED, 0, NULL, NULL, 0);
    *node = qb_node(g, op, dom, nin, in, 1, &y);
    qb_output(g, y);
    return g;
}

static cim_status go(nn_graph *g, int nin, const tin *ins, nn_value *out)
{
    nn_value vals[16];
    int k = 0;
    for (int i = 0; i < nin; i++)
        if (ins[i].dt != NN_UNDEFINED && ins[i].is_input)
            vals[k++] = qb_value(ins[i].dt, ins[i].rank, ins[i].dims, ins[i].data);
    cim_status st = nn_graph_infer(g);
    return st != CIM_OK ? st : nn_graph_run(g, vals, out);
}

/* Run a node without attributes; fails the test on error. */
static nn_value run_op(cim_ctx *ctx, const char *op, const char *dom, int nin, const tin *ins)
{
    nn_node *n;
    nn_graph *g = mk(ctx, op, dom, nin, ins, &n);
    nn_value out;
    if (go(g, nin, ins, &out) != CIM_OK)
        fail_msg("%s", cim_ctx_errmsg(ctx));
    nn_graph_free(g);
    return out;
}

#define SCALAR(dt, p) {dt, 0, {0}, p, 0}

static void test_quantize_ties_saturate(void **state)
{
    (void)state;
    cim_ctx *ctx = tu_ctx();
    const float x[10] = {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 1000.0f, -1000.0f, 3.49f, -3.51f};
    const float s = 1.0f;
    const uint8_t zu = 10;
    const int8_t zi = -3;
    tin a[3] = {{NN_FLOAT, 1, {10}, x, 1}, SCALAR(NN_FLOAT, &s), SCALAR(NN_UINT8, &zu)};
    nn_value y = run_op(ctx, "QuantizeLinear", "", 3, a);
    const uint8_t wu[10] = {10, 12, 12, 10, 8, 8, 255, 0, 13, 6};
    assert_int_equal(y.dtype, NN_UINT8);
    assert_memory_equal(y.data, wu, 10);
    nn_value_free(ctx, &y);
    a[2] = (tin)SCALAR(NN_INT8, &zi);
    y = run_op(ctx, "QuantizeLinear", "", 3, a);
    const int8_t wi[10] = {-3, -1, -1, -3, -5, -5, 127, -128, 0, -7};
    assert_int_equal(y.dtype, NN_INT8);
    assert_memory_equal(y.data, wi, 10);
    nn_value_free(ctx, &y);
    /* no zero point: uint8, zero 0; int32 input */
    const int32_t xi[4] = {-7, 6, 7, 1000};
    const float s2 = 4.0f;
    tin b[2] = {{NN_INT32, 1, {4}, xi, 1}, SCALAR(NN_FLOAT, &s2)};
    y = run_op(ctx, "QuantizeLinear", "", 2, b);
    const uint8_t wb[4] = {0, 2, 2, 250}; /* 1.5 -> 2, 1.75 -> 2 */
    assert_int_equal(y.dtype, NN_UINT8);
    assert_memory_equal(y.data, wb, 4);
    nn_value_free(ctx, &y);
    cim_ctx_destroy(ctx);
}

static void test_quantize_per_axis(void **state)
{
    (void)state;
    cim_ctx *ctx = tu_ctx();
    /* x [2][3], per-axis along axis 0 (given as -2) */
    const float x[6] = {1, 2, 3, 1, 2, 3};
    const float s[2] = {1.0f, 2.0f};
    const int8_t z[2] = {0, 100};
    tin a[3] = {{NN_FLOAT, 2, {2, 3}, x, 1}, {NN_FLOAT, 1, {2}, s, 0}, {NN_INT8, 1, {2}, z, 0}};
    nn_node *n;
    nn_graph *g = mk(ctx, "QuantizeLinear", "", 3, a, &n);
    qb_attr_int(g, n, "axis", -2);
    nn_value y;
    assert_int_equal(go(g, 3, a, &y), CIM_OK);
    const int8_t want[6] = {1, 2, 3, 100, 101, 102}; /* 0.5->0, 1, 1.5->2 */
    assert_memory_equal(y.data, want, 6);
    nn_value_free(ctx, &y);
    nn_graph_free(g);
    /* DequantizeLinear back with the same parameters, default axis 1 on [3][2] */
    const int8_t q[6] = {-128, 127, 0, 5, 10, -10};
    const float s3[2] = {0.5f, 0.25f};
    const int8_t z3[2] = {-128, 2};
    tin d[3] = {{NN_INT8, 2, {3, 2}, q, 1}, {NN_FLOAT, 1, {2}, s3, 0}, {NN_INT8, 1, {2}, z3, 0}};
    y = run_op(ctx, "DequantizeLinear", "", 3, d);
    const float fw[6] = {0.0f, 31.25f, 64.0f, 0.75f, 69.0f, -3.0f};
    assert_memory_equal(y.data, fw, sizeof fw);
    nn_value_free(ctx, &y);
    /* int32 input, no zero point */
    const int32_t qi[3] = {-1000000, 0, 7};
    const float s1 = 0.5f;
    tin e[2] = {{NN_INT32, 1, {3}, qi, 1}, SCALAR(NN_FLOAT, &s1)};
    y = run_op(ctx, "DequantizeLinear", "", 2, e);
    const float fe[3] = {-500000.0f, 0.0f, 3.5f};
    assert_memory_equal(y.data, fe, sizeof fe);
    nn_value_free(ctx, &y);
    cim_ctx_destroy(ctx);
}

/* QLinearMatMul: int8 a, per-column b scales, ties, through nn_mvm. */
static void test_qlinearmatmul(void **state)
{
    (void)state;
    cim_ctx *ctx = tu_ctx();
    const int8_t a[2 * 3] = {1, 2, 3, -1, 0, 5};
    const int8_t b[3 * 2] = {1, 0, 1, 2, 1, -1};
    const float as = 1.0f, bs[2] = {0.25f, 0.5f}, ys = 1.0f;
    const int8_t az = 1, bz[2] = {0, 0}, yz = -1;
    /* a - 1 = [[0,1,2],[-2,-1,4]]; psum = [[3, 0], [1, -6]];
     * * [0.25, 0.5] = [[0.75, 0], [0.25, -3]] -> [[1, 0], [0, -3]] + -1 */
    tin in[8] = {{NN_INT8, 2, {2, 3}, a, 1}, SCALAR(NN_FLOAT, &as), SCALAR(NN_INT8, &az),
                 {NN_INT8, 2, {3, 2}, b, 0}, {NN_FLOAT, 1, {2}, bs, 0}, {NN_INT8, 1, {2}, bz, 0},
                 SCALAR(NN_FLOAT, &ys),      SCALAR(NN_INT8, &yz)};
    nn_node *n;
    nn_graph *g = mk(ctx, "QLinearMatMul", "", 8, in, &n);
    mvm_log log = {0};
    g->mvm = count_mvm;
    g->mvm_ud = &log;
    g->batch = 2;
    nn_value y;
    assert_int_equal(go(g, 8, in, &y), CIM_OK);
    const int8_t want[4] = {0, -1, -1, -4};
    assert_memory_equal(y.data, want, 4);
    assert_int_equal(log.calls, 1);
    assert_int_equal(log.zx, 129); /* int8 zero point shifted by 128 */
    assert_int_equal(log.rows_per_sample, 1);
    nn_value_free(ctx, &y);
    nn_graph_free(g);
    cim_ctx_destroy(ctx);
}

/* MatMulInteger: per-row a_zero_point, per-column b_zero_point, 1-D A, batched B. */
static void test_matmulinteger(void **state)
{
    (void)state;
    cim_ctx *ctx = tu_ctx();
    const uint8_t a[2 * 2] = {5, 6, 7, 8};
    const uint8_t b[2 * 3] = {1, 2, 3, 4, 5, 6};
    const uint8_t az[2] = {1, 2}, bz[3] = {1, 0, 2};
    /* a' = [[4,5],[5,6]], b' = [[0,2,1],[3,5,4]] */
    tin in[4] = {{NN_UINT8, 2, {2, 2}, a, 1}, {NN_UINT8, 2, {2, 3}, b, 0}, {NN_UINT8, 1, {2}, az, 0},
                 {NN_UINT8, 1, {3}, bz, 0}};
    nn_node *n;
    nn_graph *g = mk(ctx, "MatMulInteger", "", 4, in, &n);
    mvm_log log = {0};
    g->mvm = count_mvm;
    g->mvm_ud = &log;
    nn_value y;
    assert_int_equal(go(g, 4, in, &y), CIM_OK);
    const int32_t want[6] = {15, 33, 24, 18, 40, 29};
    assert_memory_equal(y.data, want, sizeof want);
    assert_int_equal(log.calls, 1);
    nn_value_free(ctx, &y);
    nn_graph_free(g);
    /* 1-D A [2] times batched B [2][2][3] (both inputs): digital, shape [2][3] */
    const uint8_t bb[12] = {1, 2, 3, 4, 5, 6, 0, 0, 1, 1, 0, 0};
    tin in2[2] = {{NN_UINT8, 1, {2}, a, 1}, {NN_UINT8, 3, {2, 2, 3}, bb, 1}};
    g = mk(ctx, "MatMulInteger", "", 2, in2, &n);
    memset(&log, 0, sizeof log);
    g->mvm = count_mvm;
    g->mvm_ud = &log;
    assert_int_equal(go(g, 2, in2, &y), CIM_OK);
    assert_int_equal(y.rank, 2);
    const int32_t want2[6] = {29, 40, 51, 6, 0, 5};
    assert_memory_equal(y.data, want2, sizeof want2);
    assert_int_equal(log.calls, 0);
    nn_value_free(ctx, &y);
    nn_graph_free(g);
    cim_ctx_destroy(ctx);
}

static void test_matmul_float(void **state)
{
    (void)state;
    cim_ctx *ctx = tu_ctx();
    const float a[6] = {1, 2, 3, 4, 5, 6}, v[3] = {1, 0, -1};
    /* [2][3] x [3] -> [2] */
    tin in[2] = {{NN_FLOAT, 2, {2, 3}, a, 1}, {NN_FLOAT, 1, {3}, v, 0}};
    nn_value y = run_op(ctx, "MatMul", "", 2, in);
    assert_int_equal(y.rank, 1);
    assert_int_equal(y.dims[0], 2);
    assert_true(((float *)y.data)[0] == -2.0f && ((float *)y.data)[1] == -2.0f);
    nn_value_free(ctx, &y);
    /* [3] x [3][2] -> [2] */
    tin in2[2] = {{NN_FLOAT, 1, {3}, v, 1}, {NN_FLOAT, 2, {3, 2}, a, 0}};
    y = run_op(ctx, "MatMul", "", 2, in2);
    assert_int_equal(y.rank, 1);
    assert_true(((float *)y.data)[0] == -4.0f && ((float *)y.data)[1] == -4.0f);
    nn_value_free(ctx, &y);
    /* batch broadcast [2][1][1][3] x [3][3][1] -> [2][3][1][1] */
    const float bb[9] = {1, 1, 1, 2, 2, 2, 0, 1, 0};
    tin in3[2] = {{NN_FLOAT, 4, {2, 1, 1, 3}, a, 1}, {NN_FLOAT, 3, {3, 3, 1}, bb, 0}};
    y = run_op(ctx, "MatMul", "", 2, in3);
    assert_int_equal(y.rank, 4);
    assert_int_equal(y.dims[1], 3);
    const float w3[6] = {6, 12, 2, 15, 30, 5};
    assert_memory_equal(y.data, w3, sizeof w3);
    nn_value_free(ctx, &y);
    /* mismatched inner dimension */
    tin bad[2] = {{NN_FLOAT, 2, {2, 3}, a, 1}, {NN_FLOAT, 2, {2, 3}, a, 0}};
    nn_node *n;
    nn_graph *g = mk(ctx, "MatMul", "", 2, bad, &n);
    assert_int_equal(go(g, 2, bad, &y), CIM_ERR_SHAPE);
    assert_non_null(strstr(cim_ctx_errmsg(ctx), "node 'MatMul#0' (MatMul): inner dimensions differ"));
    nn_graph_free(g);
    cim_ctx_destroy(ctx);
}

static void test_gemm_float(void **state)
{
    (void)state;
    cim_ctx *ctx = tu_ctx();
    /* A^T with A [3][2], B^T with B [2][3], C [2] broadcast, alpha 2, beta 0.5 */
    const float a[6] = {1, 2, 3, 4, 5, 6}; /* A' = [[1,3,5],[2,4,6]] */
    const float b[6] = {1, 0, 1, 0, 1, 1}; /* B' = [[1,0],[0,1],[1,1]] */
    const float c[2] = {10, 20};
    tin in[3] = {{NN_FLOAT, 2, {3, 2}, a, 1}, {NN_FLOAT, 2, {2, 3}, b, 0}, {NN_FLOAT, 1, {2}, c, 0}};
    nn_node *n;
    nn_graph *g = mk(ctx, "Gemm", "", 3, in, &n);
    qb_attr_int(g, n, "transA", 1);
    qb_attr_int(g, n, "transB", 1);
    qb_attr_float(g, n, "alpha", 2.0f);
    qb_attr_float(g, n, "beta", 0.5f);
    nn_value y;
    assert_int_equal(go(g, 3, in, &y), CIM_OK);
    /* A'B' = [[6, 8], [8, 10]] -> 2x + [5, 10] */
    const float want[4] = {17, 26, 21, 30};
    assert_memory_equal(y.data, want, sizeof want);
    nn_value_free(ctx, &y);
    nn_graph_free(g);
    /* a C that does not broadcast */
    const float c3[3] = {0};
    tin bad[3] = {{NN_FLOAT, 2, {2, 3}, a, 1}, {NN_FLOAT, 2, {3, 2}, b, 0}, {NN_FLOAT, 1, {3}, c3, 0}};
    g = mk(ctx, "Gemm", "", 3, bad, &n);
    assert_int_equal(go(g, 3, bad, &y), CIM_ERR_SHAPE);
    assert_non_null(strstr(cim_ctx_errmsg(ctx), "(Gemm): C does not broadcast"));
    nn_graph_free(g);
    cim_ctx_destroy(ctx);
}

/* DequantizeLinear(x) and DequantizeLinear(const W) -> Gemm(transB) -> y,
 * with an int32 bias through DequantizeLinear: psum via nn_mvm. */
static void test_gemm_qdq(void **state)
{
    (void)state;
    cim_ctx *ctx = tu_ctx();
    nn_graph *g = qb_new(ctx);
    mvm_log log = {0};
    g->mvm = count_mvm;
    g->mvm_ud = &log;
    g->batch = 2;
    const int64_t xd[2] = {2, 3}, wd[2] = {2, 3}, nd[1] = {2};
    const uint8_t x[6] = {130, 128, 126, 0, 255, 128};
    const int8_t w[6] = {1, 2, 3, -1, 0, 1}; /* B [N=2][K=3], transB */
    const float xs = 0.5f, ws[2] = {0.25f, 2.0f}, bsc[2] = {0.125f, 1.0f};
    const uint8_t xz = 128;
    const int8_t wz[2] = {0, 0};
    const int32_t bq[2] = {3, -1};
    int xi = qb_tensor(g, "x", NN_UINT8, 2, xd, NULL, 1), in[3];
    int t_xs = qb_tensor(g, "xs", NN_FLOAT, 0, NULL, &xs, 0), t_xz = qb_tensor(g, "xz", NN_UINT8, 0, NULL, &xz, 0);
    int t_w = qb_tensor(g, "w", NN_INT8, 2, wd, w, 0), t_ws = qb_tensor(g, "ws", NN_FLOAT, 1, nd, ws, 0);
    int t_wz = qb_tensor(g, "wz", NN_INT8, 1, nd, wz, 0);
    int t_b = qb_tensor(g, "b", NN_INT32, 1, nd, bq, 0), t_bs = qb_tensor(g, "bs", NN_FLOAT, 1, nd, bsc, 0);
    int xf = qb_tensor(g, "xf", NN_UNDEFINED, 0, NULL, NULL, 0), wf = qb_tensor(g, "wf", NN_UNDEFINED, 0, NULL, NULL, 0);
    int bf = qb_tensor(g, "bf", NN_UNDEFINED, 0, NULL, NULL, 0), y = qb_tensor(g, "y", NN_UNDEFINED, 0, NULL, NULL, 0);
    in[0] = xi, in[1] = t_xs, in[2] = t_xz;
    qb_node(g, "DequantizeLinear", "", 3, in, 1, &xf);
    in[0] = t_w, in[1] = t_ws, in[2] = t_wz;
    qb_attr_int(g, qb_node(g, "DequantizeLinear", "", 3, in, 1, &wf), "axis", 0);
    in[0] = t_b, in[1] = t_bs;
    qb_attr_int(g, qb_node(g, "DequantizeLinear", "", 2, in, 1, &bf), "axis", 0);
    in[0] = xf, in[1] = wf, in[2] = bf;
    qb_attr_int(g, qb_node(g, "Gemm", "", 3, in, 1, &y), "transB", 1);
    qb_output(g, y);
    nn_value xin = qb_value(NN_UINT8, 2, xd, x), out;
    if (nn_graph_infer(g) != CIM_OK || nn_graph_run(g, &xin, &out) != CIM_OK)
        fail_msg("%s", cim_ctx_errmsg(ctx));
    /* x' = [[2,0,-2],[-128,127,0]]; psum = [[-4, -4], [126, 128]];
     * + bias [3, -1] = [[-1, -5], [129, 127]]; * (0.5 * [0.25, 2]) */
    const float want[4] = {-0.125f, -5.0f, 16.125f, 127.0f};
    assert_memory_equal(out.data, want, sizeof want);
    assert_int_equal(log.calls, 1);
    assert_int_equal(log.M, 2);
    assert_int_equal(log.K, 3);
    assert_int_equal(log.N, 2);
    assert_int_equal(log.rows_per_sample, 1);
    nn_value_free(ctx, &out);
    nn_graph_free(g);
    cim_ctx_destroy(ctx);
}

/* DequantizeLinear(int8 x [2][1][3]) -> MatMul with DequantizeLinear(const B [3][2]):
 * the leading dimensions are rows of one nn_mvm call. */
static void test_matmul_qdq(void **state)
{
    (void)state;
    cim_ctx *ctx = tu_ctx();
    nn_graph *g = qb_new(ctx);
    mvm_log log = {0};
    g->mvm = count_mvm;
    g->mvm_ud = &log;
    g->batch = 2;
    const int64_t xd[3] = {2, 1, 3}, bd[2] = {3, 2};
    const int8_t x[6] = {1, 2, 3, -4, 0, 4}, b[6] = {1, 0, 0, 1, 1, 1};
    const float xs = 0.5f, bs = 0.25f;
    const int8_t xz = 1, bz = 1;
    int in[3], xf = qb_tensor(g, "xf", NN_UNDEFINED, 0, NULL, NULL, 0), bf = qb_tensor(g, "bf", NN_UNDEFINED, 0, NULL, NULL, 0);
    int y = qb_tensor(g, "y", NN_UNDEFINED, 0, NULL, NULL, 0);
    in[0] = qb_tensor(g, "x", NN_INT8, 3, xd, NULL, 1);
    in[1] = qb_tensor(g, "xs", NN_FLOAT, 0, NULL, &xs, 0);
    in[2] = qb_tensor(g, "xz", NN_INT8, 0, NULL, &xz, 0);
    qb_node(g, "DequantizeLinear", "", 3, in, 1, &xf);
    in[0] = qb_tensor(g, "b", NN_INT8, 2, bd, b, 0);
    in[1] = qb_tensor(g, "bs", NN_FLOAT, 0, NULL, &bs, 0);
    in[2] = qb_tensor(g, "bz", NN_INT8, 0, NULL, &bz, 0);
    qb_node(g, "DequantizeLinear", "", 3, in, 1, &bf);
    in[0] = xf, in[1] = bf;
    qb_node(g, "MatMul", "", 2, in, 1, &y);
    qb_output(g, y);
    nn_value xin = qb_value(NN_INT8, 3, xd, x), out;
    if (nn_graph_infer(g) != CIM_OK || nn_graph_run(g, &xin, &out) != CIM_OK)
        fail_msg("%s", cim_ctx_errmsg(ctx));
    /* x' = [[0,1,2],[-5,-1,3]], b' = [[0,-1],[-1,0],[0,0]]; psum = [[-1,0],[1,5]] * 0.125 */
    const float want[4] = {-0.125f, 0.0f, 0.125f, 0.625f};
    assert_int_equal(out.rank, 3);
    assert_memory_equal(out.data, want, sizeof want);
    assert_int_equal(log.calls, 1);
    assert_int_equal(log.M, 2);
    assert_int_equal(log.rows_per_sample, 1);
    assert_int_equal(log.zx, 129);
    nn_value_free(ctx, &out);
    nn_graph_free(g);
    cim_ctx_destroy(ctx);
}

/* com.microsoft QGemm: quantized output and float output (no y_scale). */
static void test_qgemm(void **state)
{
    (void)state;
    cim_ctx *ctx = tu_ctx();
    const uint8_t a[4] = {3, 5, 7, 9}; /* [2][2] */
    const int8_t b[4] = {1, -1, 2, 0};  /* [2][2] */
    const int32_t c[2] = {1, -2};
    const float as = 0.5f, bs = 1.0f, ys = 2.0f;
    const uint8_t az = 3, yz = 100;
    /* a' = [[0,2],[4,6]]; a'b = [[4,0],[16,-4]]; + c = [[5,-2],[17,-6]] */
    tin in[9] = {{NN_UINT8, 2, {2, 2}, a, 1}, SCALAR(NN_FLOAT, &as), SCALAR(NN_UINT8, &az),
                 {NN_INT8, 2, {2, 2}, b, 0},  SCALAR(NN_FLOAT, &bs), {NN_UNDEFINED, 0, {0}, NULL, 0},
                 {NN_INT32, 1, {2}, c, 0},    SCALAR(NN_FLOAT, &ys), SCALAR(NN_UINT8, &yz)};
    nn_node *n;
    nn_graph *g = mk(ctx, "QGemm", "com.microsoft", 9, in, &n);
    mvm_log log = {0};
    g->mvm = count_mvm;
    g->mvm_ud = &log;
    nn_value y;
    assert_int_equal(go(g, 9, in, &y), CIM_OK);
    /* * 0.25: 1.25, -0.5, 4.25, -1.5 -> 1, -0 (ties even), 4, -2 */
    const uint8_t want[4] = {101, 100, 104, 98};
    assert_memory_equal(y.data, want, 4);
    assert_int_equal(log.calls, 1);
    nn_value_free(ctx, &y);
    nn_graph_free(g);
    g = mk(ctx, "QGemm", "com.microsoft", 7, in, &n);
    qb_attr_float(g, n, "alpha", 2.0f);
    assert_int_equal(go(g, 7, in, &y), CIM_OK);
    const float wf[4] = {5.0f, -2.0f, 17.0f, -6.0f};
    assert_int_equal(y.dtype, NN_FLOAT);
    assert_memory_equal(y.data, wf, sizeof wf);
    nn_value_free(ctx, &y);
    nn_graph_free(g);
    cim_ctx_destroy(ctx);
}

static void test_qlinear_add_mul(void **state)
{
    (void)state;
    cim_ctx *ctx = tu_ctx();
    const uint8_t a[4] = {10, 20, 30, 250}; /* [2][2] */
    const uint8_t b[2] = {5, 9};            /* [2] broadcast over rows */
    const float as = 0.5f, bs = 0.25f, cs = 1.0f;
    const uint8_t az = 10, bz = 1, cz = 3;
    tin in[8] = {{NN_UINT8, 2, {2, 2}, a, 1}, SCALAR(NN_FLOAT, &as), SCALAR(NN_UINT8, &az),
                 {NN_UINT8, 1, {2}, b, 0},    SCALAR(NN_FLOAT, &bs), SCALAR(NN_UINT8, &bz),
                 SCALAR(NN_FLOAT, &cs),       SCALAR(NN_UINT8, &cz)};
    nn_value y = run_op(ctx, "QLinearAdd", "com.microsoft", 8, in);
    /* a' * 0.5 = [0, 5, 10, 120]; b' * 0.25 = [1, 2]; sums 1, 7, 11, 122 (+3) */
    const uint8_t wadd[4] = {4, 10, 14, 125};
    assert_memory_equal(y.data, wadd, 4);
    nn_value_free(ctx, &y);
    y = run_op(ctx, "QLinearMul", "com.microsoft", 8, in);
    /* a'b' = [0, 80, 80, 1920] * 0.125 = 0, 10, 10, 240 (+3 -> 243) */
    const uint8_t wmul[4] = {3, 13, 13, 243};
    assert_memory_equal(y.data, wmul, 4);
    nn_value_free(ctx, &y);
    /* saturation and tie: int8 */
    const int8_t ia[2] = {100, 1}, ib[2] = {100, 0};
    const float one = 1.0f, two = 2.0f;
    const int8_t z0 = 0;
    tin in2[8] = {{NN_INT8, 1, {2}, ia, 1}, SCALAR(NN_FLOAT, &one), SCALAR(NN_INT8, &z0),
                  {NN_INT8, 1, {2}, ib, 0}, SCALAR(NN_FLOAT, &one), SCALAR(NN_INT8, &z0),
                  SCALAR(NN_FLOAT, &two),   SCALAR(NN_INT8, &z0)};
    y = run_op(ctx, "QLinearAdd", "com.microsoft", 8, in2);
    const int8_t wi[2] = {100, 0}; /* 200 / 2 = 100; 0.5 + 0 -> 0 */
    assert_memory_equal(y.data, wi, 2);
    nn_value_free(ctx, &y);
    cim_ctx_destroy(ctx);
}

static void test_qlinear_concat(void **state)
{
    (void)state;
    cim_ctx *ctx = tu_ctx();
    const uint8_t a[2] = {10, 20}, b[4] = {0, 5, 255, 3};
    const float ys = 1.0f, as = 1.0f, bs = 0.5f;
    const uint8_t yz = 10, az = 10, bz = 4;
    tin in[8] = {SCALAR(NN_FLOAT, &ys),    SCALAR(NN_UINT8, &yz), {NN_UINT8, 2, {2, 1}, a, 1},
                 SCALAR(NN_FLOAT, &as),    SCALAR(NN_UINT8, &az), {NN_UINT8, 2, {2, 2}, b, 0},
                 SCALAR(NN_FLOAT, &bs),    SCALAR(NN_UINT8, &bz)};
    nn_node *n;
    nn_graph *g = mk(ctx, "QLinearConcat", "com.microsoft", 8, in, &n);
    qb_attr_int(g, n, "axis", -1);
    nn_value y;
    assert_int_equal(go(g, 8, in, &y), CIM_OK);
    /* a copied; b: (b - 4) * 0.5 = -2, 0.5, 125.5, -0.5 -> -2, 0, 126, -0 (+10) */
    const uint8_t want[6] = {10, 8, 10, 20, 136, 10};
    assert_int_equal(y.dims[1], 3);
    assert_memory_equal(y.data, want, 6);
    nn_value_free(ctx, &y);
    nn_graph_free(g);
    /* missing axis */
    g = mk(ctx, "QLinearConcat", "com.microsoft", 8, in, &n);
    assert_int_equal(go(g, 8, in, &y), CIM_ERR_FORMAT);
    assert_non_null(strstr(cim_ctx_errmsg(ctx), "(QLinearConcat): attribute 'axis' is required"));
    nn_graph_free(g);
    cim_ctx_destroy(ctx);
}

static void test_qlinear_pools(void **state)
{
    (void)state;
    cim_ctx *ctx = tu_ctx();
    /* [1][2][2][2] NCHW: channel sums 10 and 26 */
    const uint8_t x[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    const float xs = 0.5f, ys = 0.25f;
    const uint8_t xz = 2, yz = 1;
    tin in[5] = {{NN_UINT8, 4, {1, 2, 2, 2}, x, 1}, SCALAR(NN_FLOAT, &xs), SCALAR(NN_UINT8, &xz),
                 SCALAR(NN_FLOAT, &ys), SCALAR(NN_UINT8, &yz)};
    nn_value y = run_op(ctx, "QLinearGlobalAveragePool", "com.microsoft", 5, in);
    /* (10 - 8) * 0.5 / 4 / 0.25 = 1 -> 2; (26 - 8) * 0.5 = 9 -> 10 */
    const uint8_t w1[2] = {2, 10};
    assert_int_equal(y.rank, 4);
    assert_int_equal(y.dims[1], 2);
    assert_int_equal(y.dims[2], 1);
    assert_memory_equal(y.data, w1, 2);
    nn_value_free(ctx, &y);
    /* channels_last: the same data read as [1][2][2][C=2] */
    nn_node *n;
    nn_graph *g = mk(ctx, "QLinearGlobalAveragePool", "com.microsoft", 5, in, &n);
    qb_attr_int(g, n, "channels_last", 1);
    assert_int_equal(go(g, 5, in, &y), CIM_OK);
    /* channel 0: 1+3+5+7 = 16 -> (16-8)*0.5 = 4; channel 1: 20 -> 6 */
    const uint8_t w2[2] = {5, 7};
    assert_int_equal(y.dims[3], 2);
    assert_int_equal(y.dims[1], 1);
    assert_memory_equal(y.data, w2, 2);
    nn_value_free(ctx, &y);
    nn_graph_free(g);
    /* QLinearAveragePool 2x2 kernel, stride 1, pads 1 on the right/bottom, count_include_pad 0 */
    g = mk(ctx, "QLinearAveragePool", "com.microsoft", 5, in, &n);
    const int64_t k[2] = {2, 2}, p[4] = {0, 0, 1, 1};
    qb_attr_ints(g, n, "kernel_shape", 2, k);
    qb_attr_ints(g, n, "pads", 4, p);
    assert_int_equal(go(g, 5, in, &y), CIM_OK);
    /* channel 0 dequantized: [-0.5, 0, 0.5, 1]; windows: avg(all) = 0.25, avg(0,1) = 0.5,
     * avg(0.5,1) = 0.75, 1 -> /0.25 = 1, 2, 3, 4 (+1) */
    assert_int_equal(y.dims[2], 2);
    assert_int_equal(((uint8_t *)y.data)[0], 2);
    assert_int_equal(((uint8_t *)y.data)[1], 3);
    assert_int_equal(((uint8_t *)y.data)[2], 4);
    assert_int_equal(((uint8_t *)y.data)[3], 5);
    nn_value_free(ctx, &y);
    nn_graph_free(g);
    cim_ctx_destroy(ctx);
}

static void test_quant_errors(void **state)
{
    (void)state;
    cim_ctx *ctx = tu_ctx();
    const float x[6] = {0}, s[4] = {1, 1, 1, 1};
    tin in[2] = {{NN_FLOAT, 2, {2, 3}, x, 1}, {NN_FLOAT, 1, {4}, s, 0}};
    nn_node *n;
    nn_graph *g = mk(ctx, "QuantizeLinear", "", 2, in, &n);
    nn_value y;
    assert_int_equal(go(g, 2, in, &y), CIM_ERR_SHAPE);
    assert_non_null(strstr(cim_ctx_errmsg(ctx), "node 'QuantizeLinear#0' (QuantizeLinear): scale must be"));
    nn_graph_free(g);
    /* the typed loops of QuantizeLinear and DequantizeLinear rely on these
     * type checks: int8 x into QuantizeLinear, float x into DequantizeLinear,
     * and a zero point of another type than x */
    const int8_t x8[6] = {0};
    tin qi[2] = {{NN_INT8, 2, {2, 3}, x8, 1}, SCALAR(NN_FLOAT, s)};
    g = mk(ctx, "QuantizeLinear", "", 2, qi, &n);
    assert_int_equal(go(g, 2, qi, &y), CIM_ERR_SHAPE);
    assert_non_null(strstr(cim_ctx_errmsg(ctx), "(QuantizeLinear): input x has type int8, expected float32 or int32"));
    nn_graph_free(g);
    tin dq[2] = {{NN_FLOAT, 2, {2, 3}, x, 1}, SCALAR(NN_FLOAT, s)};
    g = mk(ctx, "DequantizeLinear", "", 2, dq, &n);
    assert_int_equal(go(g, 2, dq, &y), CIM_ERR_SHAPE);
    assert_non_null(strstr(cim_ctx_errmsg(ctx), "(DequantizeLinear): input x has type float32, expected uint8, int8 or int32"));
    nn_graph_free(g);
    const uint8_t zu = 0;
    tin dz[3] = {{NN_INT8, 2, {2, 3}, x8, 1}, SCALAR(NN_FLOAT, s), SCALAR(NN_UINT8, &zu)};
    g = mk(ctx, "DequantizeLinear", "", 3, dz, &n);
    assert_int_equal(go(g, 3, dz, &y), CIM_ERR_SHAPE);
    assert_non_null(strstr(cim_ctx_errmsg(ctx), "(DequantizeLinear): zero point has type uint8, expected int8 like x"));
    nn_graph_free(g);
    /* a uint8 zero point for int8 a in QLinearMatMul */
    const int8_t a[2] = {0};
    const uint8_t z = 0;
    const float one = 1.0f;
    tin q[8] = {{NN_INT8, 2, {1, 2}, a, 1}, SCALAR(NN_FLOAT, &one), SCALAR(NN_UINT8, &z),
                {NN_INT8, 2, {2, 1}, a, 0}, SCALAR(NN_FLOAT, &one), SCALAR(NN_INT8, a),
                SCALAR(NN_FLOAT, &one),     SCALAR(NN_UINT8, &z)};
    g = mk(ctx, "QLinearMatMul", "", 8, q, &n);
    assert_int_equal(go(g, 8, q, &y), CIM_ERR_SHAPE);
    assert_non_null(strstr(cim_ctx_errmsg(ctx), "(QLinearMatMul): a_zero_point has type uint8"));
    nn_graph_free(g);
    /* MaxPool without kernel_shape */
    tin mp[1] = {{NN_FLOAT, 4, {1, 1, 2, 3}, x, 1}};
    g = mk(ctx, "MaxPool", "", 1, mp, &n);
    assert_int_equal(go(g, 1, mp, &y), CIM_ERR_FORMAT);
    assert_non_null(strstr(cim_ctx_errmsg(ctx), "(MaxPool): attribute 'kernel_shape' is required"));
    nn_graph_free(g);
    cim_ctx_destroy(ctx);
}

/* The digital integer product (nn_mvm_fast) against sums in int64 wrapped to
 * int32, on shapes that take each of its paths: the kernel (one chunk, and
 * two where K > CIM_MAX_ROWS) and the direct sums of few products per row
 * (a depthwise group, a channel multiplier of 2, one long row), int8 and
 * uint8 weights, with zero points. */
static void test_mvm_shapes(void **state)
{
    (void)state;
    cim_ctx *ctx = tu_ctx();
    nn_graph *g = qb_new(ctx);
    const struct { int M, K, N; nn_dtype wt; } sh[] = {
        {37, 9, 1, NN_UINT8}, {5, 25, 2, NN_INT8}, {3, 70001, 1, NN_INT8},
        {9, 100, 20, NN_UINT8}, {4, 1100, 33, NN_INT8}, {2, 33000, 20, NN_UINT8},
    };
    tu_rng r = {5};
    for (size_t t = 0; t < sizeof sh / sizeof sh[0]; t++) {
        const int M = sh[t].M, K = sh[t].K, N = sh[t].N;
        uint8_t *x = malloc((size_t)M * (size_t)K), *w = malloc((size_t)K * (size_t)N);
        int32_t *p = malloc((size_t)M * (size_t)N * sizeof *p), zw[33];
        assert_non_null(x);
        assert_non_null(w);
        assert_non_null(p);
        for (int i = 0; i < M * K; i++)
            x[i] = (uint8_t)tu_range(&r, 0, 255);
        for (int i = 0; i < K * N; i++)
            w[i] = (uint8_t)tu_range(&r, 0, 255);
        for (int n = 0; n < N; n++)
            zw[n] = sh[t].wt == NN_UINT8 ? tu_range(&r, 0, 255) : tu_range(&r, -128, 127);
        const int32_t zx = 37;
        nn_mvm_args a = {.M = M, .K = K, .N = N, .rows_per_sample = M, .x = x, .zx = zx, .w = w,
                         .wtype = sh[t].wt, .zw = zw, .psum = p};
        assert_int_equal(nn_mvm_fast(g, &a), CIM_OK);
        for (int m = 0; m < M; m++)
            for (int n = 0; n < N; n++) {
                int64_t e = 0;
                for (int k = 0; k < K; k++) {
                    const int32_t wv = sh[t].wt == NN_UINT8 ? w[(size_t)k * N + n] : (int8_t)w[(size_t)k * N + n];
                    e += (int64_t)(x[(size_t)m * K + k] - zx) * (wv - zw[n]);
                }
                if (p[m * N + n] != (int32_t)(uint32_t)(uint64_t)e)
                    fail_msg("shape %zu (%dx%dx%d): psum[%d][%d] = %d, expected %d", t, M, K, N, m, n,
                             p[m * N + n], (int32_t)(uint32_t)(uint64_t)e);
            }
        free(x);
        free(w);
        free(p);
    }
    nn_graph_free(g);
    cim_ctx_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quantize_ties_saturate), cmocka_unit_test(test_quantize_per_axis),
        cmocka_unit_test(test_qlinearmatmul),          cmocka_unit_test(test_matmulinteger),
        cmocka_unit_test(test_matmul_float),           cmocka_unit_test(test_gemm_float),
        cmocka_unit_test(test_gemm_qdq),               cmocka_unit_test(test_qgemm),
        cmocka_unit_test(test_matmul_qdq),
        cmocka_unit_test(test_qlinear_add_mul),        cmocka_unit_test(test_qlinear_concat),
        cmocka_unit_test(test_qlinear_pools),          cmocka_unit_test(test_quant_errors),
        cmocka_unit_test(test_mvm_shapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
