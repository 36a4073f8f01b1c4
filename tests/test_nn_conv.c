/* test_nn_conv.c: QLinearConv, ConvInteger and float Conv (src/nn/ops_conv.c,
 * conv.c): a hand-computed case with rounding ties, a sweep of 1-D and 2-D
 * geometries (groups, depthwise, strides, pads, dilations, every auto_pad,
 * uint8/int8 activations and weights, per-channel zero points and scales)
 * against a naive direct convolution written here, the nn_mvm contract
 * (calls, rows, group, constant weights only), the QDQ float Conv path
 * through nn_mvm matching QLinearConv, and bad attributes/shapes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "test_nn_qutil.h"

/* ---- a counting nn_mvm hook ---- */
typedef struct mvm_log {
    int calls;
    const nn_node *node;
    int M, K, N, rows_per_sample, last_group;
} mvm_log;

static cim_status count_mvm(void *ud, const nn_graph *g, const nn_mvm_args *a)
{
    (void)g;
    mvm_log *l = ud;
    l->calls++;
    l->node = a->node;
    l->M = a->M, l->K = a->K, l->N = a->N, l->rows_per_sample = a->rows_per_sample, l->last_group = a->group;
    nn_mvm_digital(a);
    return CIM_OK;
}

/* Infer and run a graph whose inputs are given; returns the status. */
static cim_status run_graph(nn_graph *g, const nn_value *ins, nn_value *outs)
{
    cim_status st = nn_graph_infer(g);
    if (st != CIM_OK)
        return st;
    return nn_graph_run(g, ins, outs);
}


/* ---- hand-computed QLinearConv: 3x3 input, 2x2 kernel, ties to even ---- */
static void test_qlinearconv_hand(void **state)
{
    (void)state;
    cim_ctx *ctx = tu_ctx();
    nn_graph *g = qb_new(ctx);
    const uint8_t x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    const uint8_t w[4] = {3, 3, 3, 3};
    const float xs = 0.5f, ws = 0.5f, ys = 2.0f; /* M = 0.125 */
    const uint8_t xzp = 1, wzp = 2, yzp = 10;
    const int64_t xd[4] = {1, 1, 3, 3}, wd[4] = {1, 1, 2, 2}, one[1] = {1};
    int in[8];
    in[0] = qb_tensor(g, "x", NN_UINT8, 4, xd, NULL, 1);
    in[1] = qb_tensor(g, "xs", NN_FLOAT, 0, NULL, &xs, 0);
    in[2] = qb_tensor(g, "xzp", NN_UINT8, 0, NULL, &xzp, 0);
    in[3] = qb_tensor(g, "w", NN_UINT8, 4, wd, w, 0);
    in[4] = qb_tensor(g, "ws", NN_FLOAT, 1, one, &ws, 0);
    in[5] = qb_tensor(g, "wzp", NN_UINT8, 1, one, &wzp, 0);
    in[6] = qb_tensor(g, "ys", NN_FLOAT, 0, NULL, &ys, 0);
    in[7] = qb_tensor(g, "yzp", NN_UINT8, 0, NULL, &yzp, 0);
    int y = qb_tensor(g, "y", NN_UNDEFINED, 0, NULL, NULL, 0);
    qb_node(g, "QLinearConv", "", 8, in, 1, &y);
    qb_output(g, y);
    g->batch = 1;
    nn_value xin = qb_value(NN_UINT8, 4, xd, x), out;
    assert_int_equal(run_graph(g, &xin, &out), CIM_OK);
    /* psums 8, 12, 20, 24 -> *0.125 = 1, 1.5, 2.5, 3 -> 1, 2, 2, 3 (+10) */
    const uint8_t want[4] = {11, 12, 12, 13};
    assert_int_equal(out.rank, 4);
    assert_int_equal(out.dims[2], 2);
    assert_int_equal(out.dims[3], 2);
    assert_memory_equal(out.data, want, 4);
    nn_value_free(ctx, &out);
    nn_graph_free(g);
    cim_ctx_destroy(ctx);
}

/* ---- the sweep against a direct convolution ---- */
typedef struct cfg {
    int nsp, N, C, H, W, Cout, group, kh, kw, sh, sw, dh, dw;
    int pads[4]; /* t, l, b, r (1-D: l, r used) */
    const char *auto_pad;
    nn_dtype xt, wt;
    int per_channel, bias, kernel_attr;
} cfg;

/* Output size and begin pads, written independently of conv.c. */
static void ref_geom(const cfg *c, int *OH, int *OW, int *pt, int *pl)
{
    int in[2] = {c->H, c->W}, k[2] = {c->kh, c->kw}, s[2] = {c->sh, c->sw}, d[2] = {c->dh, c->dw};
    int pb[2] = {c->pads[0], c->pads[1]}, pe[2] = {c->pads[2], c->pads[3]}, out[2];
    for (int a = 0; a < 2; a++) {
        int dk = (k[a] - 1) * d[a] + 1;
        if (!strcmp(c->auto_pad, "VALID"))
            pb[a] = pe[a] = 0;
        if (!strncmp(c->auto_pad, "SAME", 4)) {
            out[a] = (in[a] + s[a] - 1) / s[a];
            int tot = (out[a] - 1) * s[a] + dk - in[a];
            if (tot < 0)
                tot = 0;
            pb[a] = !strcmp(c->auto_pad, "SAME_UPPER") ? tot / 2 : (tot + 1) / 2;
        } else {
            out[a] = (in[a] + pb[a] + pe[a] - dk) / s[a] + 1;
        }
    }
    *OH = out[0], *OW = out[1], *pt = pb[0], *pl = pb[1];
}

static int32_t rnd_code(tu_rng *r, nn_dtype t) { return t == NN_INT8 ? tu_range(r, -128, 127) : tu_range(r, 0, 255); }

static void put_code(void *buf, nn_dtype t, int i, int32_t v)
{
    if (t == NN_INT8)
        ((int8_t *)buf)[i] = (int8_t)v;
    else
        ((uint8_t *)buf)[i] = (uint8_t)v;
}

static int32_t get_code(const void *buf, nn_dtype t, int i)
{
    return t == NN_INT8 ? ((const int8_t *)buf)[i] : ((const uint8_t *)buf)[i];
}

static void add_geom_attrs(nn_graph *g, nn_node *n, const cfg *c)
{
    int64_t v[4];
    const int sp = c->nsp;
    qb_attr_int(g, n, "group", c->group);
    v[0] = sp == 2 ? c->sh : c->sw, v[1] = c->sw;
    qb_attr_ints(g, n, "strides", sp, v);
    v[0] = sp == 2 ? c->dh : c->dw, v[1] = c->dw;
    qb_attr_ints(g, n, "dilations", sp, v);
    if (c->kernel_attr) {
        v[0] = sp == 2 ? c->kh : c->kw, v[1] = c->kw;
        qb_attr_ints(g, n, "kernel_shape", sp, v);
    }
    if (!strcmp(c->auto_pad, "NOTSET")) {
        if (sp == 2) {
            v[0] = c->pads[0], v[1] = c->pads[1], v[2] = c->pads[2], v[3] = c->pads[3];
        } else {
            v[0] = c->pads[1], v[1] = c->pads[3];
        }
        qb_attr_ints(g, n, "pads", 2 * sp, v);
    } else {
        qb_attr_string(g, n, "auto_pad", c->auto_pad);
    }
}

/* Run QLinearConv, ConvInteger and float Conv on random data for c and
 * compare with the direct convolution. */
static void check_cfg(const cfg *c, tu_rng *r)
{
    int OH, OW, pt, pl;
    ref_geom(c, &OH, &OW, &pt, &pl);
    const int cg = c->C / c->group, ng = c->Cout / c->group;
    const int xn = c->N * c->C * c->H * c->W, wn = c->Cout * cg * c->kh * c->kw, yn = c->N * c->Cout * OH * OW;
    uint8_t *x = malloc((size_t)xn), *w = malloc((size_t)wn), *wzp = malloc((size_t)c->Cout), *yq = malloc((size_t)yn);
    float *xf = malloc((size_t)xn * 4), *wf = malloc((size_t)wn * 4), *yf = malloc((size_t)yn * 4),
          *ws = malloc((size_t)c->Cout * 4), *bf = malloc((size_t)c->Cout * 4);
    int32_t *psum = malloc((size_t)yn * 4), *bias = malloc((size_t)c->Cout * 4);
    for (int i = 0; i < xn; i++) {
        put_code(x, c->xt, i, rnd_code(r, c->xt));
        xf[i] = (float)tu_range(r, -50, 50) / 16.0f;
    }
    for (int i = 0; i < wn; i++) {
        put_code(w, c->wt, i, rnd_code(r, c->wt));
        wf[i] = (float)tu_range(r, -50, 50) / 32.0f;
    }
    const int nzp = c->per_channel ? c->Cout : 1;
    for (int i = 0; i < c->Cout; i++) {
        put_code(wzp, c->wt, i, c->per_channel || i == 0 ? rnd_code(r, c->wt) / 8 + (c->wt == NN_UINT8 ? 100 : 0)
                                                         : get_code(wzp, c->wt, 0));
        ws[i] = c->per_channel || i == 0 ? 0.001f * (float)tu_range(r, 1, 20) : ws[0];
        bias[i] = c->bias ? tu_range(r, -3000, 3000) : 0;
        bf[i] = c->bias ? (float)tu_range(r, -10, 10) / 4.0f : 0.0f;
    }
    uint8_t xzp, yzp;
    put_code(&xzp, c->xt, 0, rnd_code(r, c->xt));
    const nn_dtype yt = c->xt;
    put_code(&yzp, yt, 0, rnd_code(r, yt));
    const float xs = 0.02f, ys = 0.5f;
    const int32_t zx = get_code(&xzp, c->xt, 0);

    /* direct convolution */
    for (int n = 0; n < c->N; n++)
        for (int co = 0; co < c->Cout; co++) {
            const int grp = co / ng;
            const int32_t zw = get_code(wzp, c->wt, co);
            for (int oh = 0; oh < OH; oh++)
                for (int ow = 0; ow < OW; ow++) {
                    int32_t acc = 0;
                    float facc = 0.0f;
                    for (int ci = 0; ci < cg; ci++)
                        for (int i = 0; i < c->kh; i++)
                            for (int j = 0; j < c->kw; j++) {
                                int ih = oh * c->sh - pt + i * c->dh, iw = ow * c->sw - pl + j * c->dw;
                                if (ih < 0 || ih >= c->H || iw < 0 || iw >= c->W)
                                    continue;
                                int xi = ((n * c->C + grp * cg + ci) * c->H + ih) * c->W + iw;
                                int wi = ((co * cg + ci) * c->kh + i) * c->kw + j;
                                acc += (get_code(x, c->xt, xi) - zx) * (get_code(w, c->wt, wi) - zw);
                                facc += xf[xi] * wf[wi];
                            }
                    const int o = ((n * c->Cout + co) * OH + oh) * OW + ow;
                    psum[o] = acc;
                    yf[o] = facc + bf[co];
                    float v = (float)(acc + bias[co]) * (xs * ws[co] / ys);
                    int32_t lo = yt == NN_INT8 ? -128 : 0, hi = lo + 255, zy = get_code(&yzp, yt, 0);
                    float rr = rintf(v);
                    int32_t q = rr < (float)(lo - zy) ? lo : rr > (float)(hi - zy) ? hi : (int32_t)rr + zy;
                    put_code(yq, yt, o, q);
                }
        }

    int64_t xd[4] = {c->N, c->C, c->H, c->W}, wd[4] = {c->Cout, cg, c->kh, c->kw}, cd[1] = {c->Cout};
    int64_t nz[1] = {nzp};
    if (c->nsp == 1) {
        xd[2] = c->W;
        wd[2] = c->kw;
    }
    const int rank = c->nsp + 2;
    for (int op = 0; op < 3; op++) {
        cim_ctx *ctx = tu_ctx();
        nn_graph *g = qb_new(ctx);
        mvm_log log = {0};
        g->mvm = count_mvm;
        g->mvm_ud = &log;
        g->batch = c->N;
        int y = qb_tensor(g, "y", NN_UNDEFINED, 0, NULL, NULL, 0), in[9];
        nn_node *node;
        nn_value xin;
        if (op == 0) { /* QLinearConv */
            in[0] = qb_tensor(g, "x", c->xt, rank, xd, NULL, 1);
            in[1] = qb_tensor(g, "xs", NN_FLOAT, 0, NULL, &xs, 0);
            in[2] = qb_tensor(g, "xzp", c->xt, 0, NULL, &xzp, 0);
            in[3] = qb_tensor(g, "w", c->wt, rank, wd, w, 0);
            in[4] = qb_tensor(g, "ws", NN_FLOAT, 1, nz, ws, 0);
            in[5] = qb_tensor(g, "wzp", c->wt, 1, nz, wzp, 0);
            in[6] = qb_tensor(g, "ys", NN_FLOAT, 0, NULL, &ys, 0);
            in[7] = qb_tensor(g, "yzp", yt, 0, NULL, &yzp, 0);
            in[8] = qb_tensor(g, "b", NN_INT32, 1, cd, bias, 0);
            node = qb_node(g, "QLinearConv", "", c->bias ? 9 : 8, in, 1, &y);
            xin = qb_value(c->xt, rank, xd, x);
        } else if (op == 1) { /* ConvInteger */
            in[0] = qb_tensor(g, "x", c->xt, rank, xd, NULL, 1);
            in[1] = qb_tensor(g, "w", c->wt, rank, wd, w, 0);
            in[2] = qb_tensor(g, "xzp", c->xt, 0, NULL, &xzp, 0);
            in[3] = qb_tensor(g, "wzp", c->wt, 1, nz, wzp, 0);
            node = qb_node(g, "ConvInteger", "", 4, in, 1, &y);
            xin = qb_value(c->xt, rank, xd, x);
        } else { /* float Conv */
            in[0] = qb_tensor(g, "x", NN_FLOAT, rank, xd, NULL, 1);
            in[1] = qb_tensor(g, "w", NN_FLOAT, rank, wd, wf, 0);
            in[2] = qb_tensor(g, "b", NN_FLOAT, 1, cd, bf, 0);
            node = qb_node(g, "Conv", "", 3, in, 1, &y);
            xin = qb_value(NN_FLOAT, rank, xd, xf);
        }
        add_geom_attrs(g, node, c);
        qb_output(g, y);
        nn_value out;
        cim_status st = run_graph(g, &xin, &out);
        if (st != CIM_OK)
            fail_msg("%s", cim_ctx_errmsg(ctx));
        assert_int_equal(nn_value_count(&out), yn);
        assert_int_equal(out.dims[rank - 1], OW);
        if (op == 0) {
            assert_memory_equal(out.data, yq, (size_t)yn);
        } else if (op == 1) {
            assert_memory_equal(out.data, psum, (size_t)yn * 4);
        } else {
            for (int i = 0; i < yn; i++)
                assert_true(fabsf(((float *)out.data)[i] - yf[i]) <= 1e-4f * (1.0f + fabsf(yf[i])));
        }
        /* integer convs with constant weights: one nn_mvm call per group, whole batch */
        assert_int_equal(log.calls, op < 2 ? c->group : 0);
        if (op < 2) {
            assert_ptr_equal(log.node, node);
            assert_int_equal(log.M, c->N * OH * OW);
            assert_int_equal(log.K, cg * c->kh * c->kw);
            assert_int_equal(log.N, ng);
            assert_int_equal(log.rows_per_sample, OH * OW);
            assert_int_equal(log.last_group, c->group - 1);
        }
        nn_value_free(ctx, &out);
        nn_graph_free(g);
        cim_ctx_destroy(ctx);
    }
    free(x), free(w), free(wzp), free(yq), free(xf), free(wf), free(yf), free(ws), free(bf), free(psum), free(bias);
}

static void test_conv_sweep(void **state)
{
    (void)state;
    tu_rng r = {42};
    const cfg cases[] = {
        /* nsp N C H W Cout grp kh kw sh sw dh dw pads auto xt wt per bias kattr */
        {2, 2, 3, 5, 6, 4, 1, 3, 3, 1, 1, 1, 1, {1, 1, 1, 1}, "NOTSET", NN_UINT8, NN_INT8, 1, 1, 0},
        {2, 1, 4, 7, 7, 6, 2, 3, 2, 2, 1, 1, 2, {0, 2, 1, 0}, "NOTSET", NN_INT8, NN_INT8, 1, 1, 1},
        {2, 2, 4, 6, 5, 4, 4, 3, 3, 2, 2, 1, 1, {1, 1, 1, 1}, "NOTSET", NN_UINT8, NN_UINT8, 1, 0, 0}, /* depthwise */
        {2, 1, 6, 8, 8, 12, 6, 3, 3, 1, 1, 2, 2, {2, 2, 2, 2}, "NOTSET", NN_INT8, NN_UINT8, 0, 1, 0}, /* dw x2 mult */
        {2, 2, 2, 5, 7, 3, 1, 3, 3, 2, 2, 1, 1, {0, 0, 0, 0}, "SAME_UPPER", NN_UINT8, NN_INT8, 1, 1, 0},
        {2, 1, 2, 6, 6, 2, 1, 2, 2, 1, 1, 1, 1, {0, 0, 0, 0}, "SAME_LOWER", NN_INT8, NN_INT8, 0, 1, 1},
        {2, 1, 3, 6, 5, 2, 1, 3, 3, 2, 1, 1, 1, {0, 0, 0, 0}, "VALID", NN_UINT8, NN_INT8, 1, 0, 0},
        {2, 3, 1, 4, 4, 1, 1, 1, 1, 1, 1, 1, 1, {0, 0, 0, 0}, "NOTSET", NN_UINT8, NN_UINT8, 0, 1, 0},
        {2, 2, 5, 6, 5, 3, 1, 1, 1, 2, 1, 1, 1, {1, 1, 0, 2}, "NOTSET", NN_INT8, NN_INT8, 1, 1, 0}, /* 1x1, pads */
        {2, 1, 4, 3, 3, 4, 2, 1, 1, 1, 1, 1, 1, {0, 0, 0, 0}, "NOTSET", NN_INT8, NN_UINT8, 0, 1, 0}, /* 1x1 grouped */
        /* a left pad past the dilated kernel's reach: kernel column 0 meets no pixel */
        {2, 1, 2, 4, 2, 3, 1, 2, 3, 1, 1, 1, 2, {1, 3, 0, 0}, "NOTSET", NN_UINT8, NN_INT8, 1, 1, 0},
        {1, 2, 3, 1, 9, 4, 1, 1, 3, 1, 2, 1, 1, {0, 1, 0, 2}, "NOTSET", NN_UINT8, NN_INT8, 1, 1, 0}, /* 1-D */
        {1, 1, 4, 1, 10, 4, 4, 1, 3, 1, 1, 1, 2, {0, 2, 0, 2}, "NOTSET", NN_INT8, NN_INT8, 1, 1, 1}, /* 1-D dw */
        {1, 2, 2, 1, 7, 2, 1, 1, 4, 1, 3, 1, 1, {0, 0, 0, 0}, "SAME_LOWER", NN_UINT8, NN_UINT8, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        printf("case %zu\n", i);
        check_cfg(&cases[i], &r);
    }
}

/* ---- QDQ: DequantizeLinear -> Conv -> QuantizeLinear through nn_mvm ---- */
static void qdq_vs_qlinear(int grp_count, nn_dtype xt, int float_bias)
{
    cim_ctx *ctx = tu_ctx();
    tu_rng r = {7};
    enum { N = 2, C = 4, H = 6, W = 6, CO = 4, K = 3 };
    const int cg = C / grp_count;
    int64_t xd[4] = {N, C, H, W}, wd[4] = {CO, cg, K, K}, cd[1] = {CO};
    uint8_t x[N * C * H * W], w[CO * C * K * K], wzp[CO] = {0};
    int32_t bq[CO];
    float ws[CO], bfl[CO];
    for (size_t i = 0; i < sizeof x; i++)
        put_code(x, xt, (int)i, rnd_code(&r, xt));
    for (int i = 0; i < CO * cg * K * K; i++)
        put_code(w, NN_INT8, i, tu_range(&r, -127, 127));
    for (int i = 0; i < CO; i++) {
        ws[i] = 0.002f * (float)tu_range(&r, 1, 9);
        bq[i] = tu_range(&r, -500, 500);
        bfl[i] = (float)bq[i] * (0.05f * ws[i]);
    }
    uint8_t xzp, yzp = 0;
    put_code(&xzp, xt, 0, xt == NN_INT8 ? 3 : 120);
    put_code(&yzp, xt, 0, xt == NN_INT8 ? -5 : 128);
    const float xs = 0.05f, ys = 0.07f, bs_unused = 1.0f;
    (void)bs_unused;
    nn_value outs[2];
    for (int variant = 0; variant < 2; variant++) {
        nn_graph *g = qb_new(ctx);
        mvm_log log = {0};
        g->mvm = count_mvm;
        g->mvm_ud = &log;
        g->batch = N;
        const int64_t pads[4] = {1, 1, 1, 1};
        int xi = qb_tensor(g, "x", xt, 4, xd, NULL, 1);
        int xsi = qb_tensor(g, "xs", NN_FLOAT, 0, NULL, &xs, 0), xzi = qb_tensor(g, "xzp", xt, 0, NULL, &xzp, 0);
        int wi = qb_tensor(g, "w", NN_INT8, 4, wd, w, 0);
        int wsi = qb_tensor(g, "ws", NN_FLOAT, 1, cd, ws, 0), wzi = qb_tensor(g, "wzp", NN_INT8, 1, cd, wzp, 0);
        int ysi = qb_tensor(g, "ys", NN_FLOAT, 0, NULL, &ys, 0), yzi = qb_tensor(g, "yzp", xt, 0, NULL, &yzp, 0);
        int bi = qb_tensor(g, "b", NN_INT32, 1, cd, bq, 0);
        int y = qb_tensor(g, "y", NN_UNDEFINED, 0, NULL, NULL, 0);
        nn_node *conv;
        if (variant == 0) {
            int in[9] = {xi, xsi, xzi, wi, wsi, wzi, ysi, yzi, bi};
            conv = qb_node(g, "QLinearConv", "", 9, in, 1, &y);
        } else {
            int xf = qb_tensor(g, "xf", NN_UNDEFINED, 0, NULL, NULL, 0);
            int wf = qb_tensor(g, "wf", NN_UNDEFINED, 0, NULL, NULL, 0);
            int yf = qb_tensor(g, "yf", NN_UNDEFINED, 0, NULL, NULL, 0);
            int bfi, in[3];
            in[0] = xi, in[1] = xsi, in[2] = xzi;
            qb_node(g, "DequantizeLinear", "", 3, in, 1, &xf);
            in[0] = wi, in[1] = wsi, in[2] = wzi;
            nn_node *dqw = qb_node(g, "DequantizeLinear", "", 3, in, 1, &wf);
            qb_attr_int(g, dqw, "axis", 0);
            if (float_bias) {
                bfi = qb_tensor(g, "bfl", NN_FLOAT, 1, cd, bfl, 0);
            } else {
                float bsc[CO];
                for (int i = 0; i < CO; i++)
                    bsc[i] = xs * ws[i];
                int bsi = qb_tensor(g, "bs", NN_FLOAT, 1, cd, bsc, 0);
                bfi = qb_tensor(g, "bf", NN_UNDEFINED, 0, NULL, NULL, 0);
                in[0] = bi, in[1] = bsi;
                nn_node *dqb = qb_node(g, "DequantizeLinear", "", 2, in, 1, &bfi);
                qb_attr_int(g, dqb, "axis", 0);
            }
            in[0] = xf, in[1] = wf, in[2] = bfi;
            conv = qb_node(g, "Conv", "", 3, in, 1, &yf);
            in[0] = yf, in[1] = ysi, in[2] = yzi;
            qb_node(g, "QuantizeLinear", "", 3, in, 1, &y);
        }
        qb_attr_int(g, conv, "group", grp_count);
        qb_attr_ints(g, conv, "pads", 4, pads);
        qb_output(g, y);
        nn_value xin = qb_value(xt, 4, xd, x);
        if (run_graph(g, &xin, &outs[variant]) != CIM_OK)
            fail_msg("%s", cim_ctx_errmsg(ctx));
        assert_int_equal(log.calls, grp_count); /* the weight product went through nn_mvm */
        assert_ptr_equal(log.node, conv);
        assert_int_equal(log.M, N * H * W);
        nn_graph_free(g);
    }
    int diff = 0, maxd = 0;
    for (int i = 0; i < N * CO * H * W; i++) {
        int a = get_code(outs[0].data, xt, i), b = get_code(outs[1].data, xt, i);
        diff += a != b;
        if (abs(a - b) > maxd)
            maxd = abs(a - b);
    }
    /* same psums; only the final float rounding order differs */
    assert_true(maxd <= 1);
    if (!float_bias)
        assert_true(diff * 20 <= N * CO * H * W);
    nn_value_free(ctx, &outs[0]);
    nn_value_free(ctx, &outs[1]);
    cim_ctx_destroy(ctx);
}

static void test_qdq_conv(void **state)
{
    (void)state;
    qdq_vs_qlinear(1, NN_UINT8, 0);
    qdq_vs_qlinear(2, NN_INT8, 0);
    qdq_vs_qlinear(4, NN_UINT8, 1);
}

/* Non-constant weights never reach nn_mvm; plain float Conv neither. */
static void test_dynamic_weights_digital(void **state)
{
    (void)state;
    cim_ctx *ctx = tu_ctx();
    nn_graph *g = qb_new(ctx);
    mvm_log log = {0};
    g->mvm = count_mvm;
    g->mvm_ud = &log;
    const int64_t xd[4] = {1, 1, 2, 2}, wd[4] = {1, 1, 1, 1};
    const uint8_t x[4] = {1, 2, 3, 4}, w[1] = {3};
    int in[2] = {qb_tensor(g, "x", NN_UINT8, 4, xd, NULL, 1), qb_tensor(g, "w", NN_UINT8, 4, wd, NULL, 1)};
    int y = qb_tensor(g, "y", NN_UNDEFINED, 0, NULL, NULL, 0);
    qb_node(g, "ConvInteger", "", 2, in, 1, &y);
    qb_output(g, y);
    nn_value ins[2] = {qb_value(NN_UINT8, 4, xd, x), qb_value(NN_UINT8, 4, wd, w)}, out;
    assert_int_equal(run_graph(g, ins, &out), CIM_OK);
    const int32_t want[4] = {3, 6, 9, 12};
    assert_memory_equal(out.data, want, sizeof want);
    assert_int_equal(log.calls, 0);
    nn_value_free(ctx, &out);
    nn_graph_free(g);
    cim_ctx_destroy(ctx);
}

/* ---- errors name the node and op type ---- */
typedef void (*mutate_fn)(nn_graph *g, nn_node *n);

static void expect_error(mutate_fn f, int c_in, int64_t wc, cim_status want, const char *needle)
{
    cim_ctx *ctx = tu_ctx();
    nn_graph *g = qb_new(ctx);
    const int64_t xd[4] = {1, c_in, 4, 4}, wd[4] = {2, wc, 3, 3};
    float wv[2 * 4 * 9] = {0};
    int in[2] = {qb_tensor(g, "x", NN_FLOAT, 4, xd, NULL, 1), qb_tensor(g, "w", NN_FLOAT, 4, wd, wv, 0)};
    int y = qb_tensor(g, "y", NN_UNDEFINED, 0, NULL, NULL, 0);
    nn_node *n = qb_node(g, "Conv", "", 2, in, 1, &y);
    qb_output(g, y);
    if (f)
        f(g, n);
    assert_int_equal(nn_graph_infer(g), want);
    const char *msg = cim_ctx_errmsg(ctx);
    if (!strstr(msg, "node 'Conv#0' (Conv)") || !strstr(msg, needle))
        fail_msg("message '%s' lacks '%s'", msg, needle);
    nn_graph_free(g);
    cim_ctx_destroy(ctx);
}

static void m_group3(nn_graph *g, nn_node *n) { qb_attr_int(g, n, "group", 3); }
static void m_autopad(nn_graph *g, nn_node *n) { qb_attr_string(g, n, "auto_pad", "SAME"); }
static void m_pads3(nn_graph *g, nn_node *n)
{
    const int64_t p[3] = {1, 1, 1};
    qb_attr_ints(g, n, "pads", 3, p);
}
static void m_stride0(nn_graph *g, nn_node *n)
{
    const int64_t s[2] = {1, 0};
    qb_attr_ints(g, n, "strides", 2, s);
}
static void m_kernel(nn_graph *g, nn_node *n)
{
    const int64_t k[2] = {2, 2};
    qb_attr_ints(g, n, "kernel_shape", 2, k);
}
static void m_dil(nn_graph *g, nn_node *n)
{
    const int64_t d[2] = {3, 3}; /* dilated kernel 7 > 4 */
    qb_attr_ints(g, n, "dilations", 2, d);
}

static void test_conv_errors(void **state)
{
    (void)state;
    expect_error(m_group3, 4, 4, CIM_ERR_SHAPE, "'group'");
    expect_error(NULL, 4, 2, CIM_ERR_SHAPE, "input channels per group");
    expect_error(m_autopad, 4, 4, CIM_ERR_FORMAT, "'auto_pad'");
    expect_error(m_pads3, 4, 4, CIM_ERR_FORMAT, "'pads'");
    expect_error(m_stride0, 4, 4, CIM_ERR_FORMAT, "'strides'");
    expect_error(m_kernel, 4, 4, CIM_ERR_SHAPE, "'kernel_shape'");
    expect_error(m_dil, 4, 4, CIM_ERR_SHAPE, "larger than the padded input");
}

/* QLinearConv with a per-channel scale of the wrong length, and a float x. */
static void test_qlinearconv_errors(void **state)
{
    (void)state;
    for (int variant = 0; variant < 2; variant++) {
        cim_ctx *ctx = tu_ctx();
        nn_graph *g = qb_new(ctx);
        const int64_t xd[4] = {1, 2, 4, 4}, wd[4] = {2, 2, 1, 1}, three[1] = {3};
        const float s3[3] = {1, 1, 1}, one = 1.0f;
        const uint8_t z = 0, w[4] = {1, 2, 3, 4}, z3[3] = {0};
        int in[8];
        in[0] = qb_tensor(g, "x", variant ? NN_FLOAT : NN_UINT8, 4, xd, NULL, 1);
        in[1] = qb_tensor(g, "xs", NN_FLOAT, 0, NULL, &one, 0);
        in[2] = qb_tensor(g, "xzp", NN_UINT8, 0, NULL, &z, 0);
        in[3] = qb_tensor(g, "w", NN_UINT8, 4, wd, w, 0);
        in[4] = qb_tensor(g, "ws", NN_FLOAT, 1, three, s3, 0);
        in[5] = qb_tensor(g, "wzp", NN_UINT8, 1, three, z3, 0);
        in[6] = qb_tensor(g, "ys", NN_FLOAT, 0, NULL, &one, 0);
        in[7] = qb_tensor(g, "yzp", NN_UINT8, 0, NULL, &z, 0);
        int y = qb_tensor(g, "y", NN_UNDEFINED, 0, NULL, NULL, 0);
        qb_node(g, "QLinearConv", "", 8, in, 1, &y);
        qb_output(g, y);
        assert_int_equal(nn_graph_infer(g), CIM_ERR_SHAPE);
        const char *msg = cim_ctx_errmsg(ctx);
        assert_non_null(strstr(msg, "(QLinearConv)"));
        assert_non_null(strstr(msg, variant ? "x has type float32" : "w_scale"));
        nn_graph_free(g);
        cim_ctx_destroy(ctx);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_qlinearconv_hand), cmocka_unit_test(test_conv_sweep),
        cmocka_unit_test(test_qdq_conv),         cmocka_unit_test(test_dynamic_weights_digital),
        cmocka_unit_test(test_conv_errors),      cmocka_unit_test(test_qlinearconv_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
