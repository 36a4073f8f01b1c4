/* test_exact.c: with an ADC wide enough never to saturate and noise off, every
 * encoding x weight slicing x input slicing x input encoding x chunking gives
 * exactly (X - zx) @ (W - zw), on random data with the extremes, K not a
 * multiple of rows, M = 1, N = 1, and on every kernel this CPU supports. */
#include <stdlib.h>
#include <string.h>
#include "testutil.h"

/* All compositions of 8 into parts of at most `maxw`: the valid slicings. */
static int slicings(int maxw, int out[][CIM_MAX_SLICES], int *counts, int cap)
{
    int n = 0, cur[CIM_MAX_SLICES];
    /* iterative DFS over compositions */
    int depth = 0, sum = 0;
    cur[0] = 0;
    for (;;) {
        cur[depth]++;
        sum++;
        if (cur[depth] > maxw || sum > 8) {
            sum -= cur[depth];
            if (depth == 0)
                break;
            depth--;
            continue;
        }
        if (sum == 8) {
            if (n < cap) {
                memcpy(out[n], cur, sizeof(int) * (size_t)(depth + 1));
                counts[n] = depth + 1;
            }
            n++;
            continue;
        }
        depth++;
        cur[depth] = 0;
    }
    return n;
}

static void test_slicing_count(void **state)
{
    (void)state;
    static int s[300][CIM_MAX_SLICES];
    int c[300];
    /* thesis 4.2.2: 108 slicings of 8 bits into slices of at most 4 bits */
    assert_int_equal(slicings(4, s, c, 300), 108);
    assert_int_equal(slicings(8, s, c, 300), 128);
    assert_int_equal(slicings(1, s, c, 300), 1);
}

typedef struct {
    int K, N, M;
    int8_t *w;
    int32_t *zw;
    uint8_t *x;
    int32_t *expect;
    int32_t *got;
} problem;

static void make_problem(problem *p, tu_rng *r, int K, int N, int M, int zx, int with_zw, int uint8w)
{
    p->K = K;
    p->N = N;
    p->M = M;
    p->w = malloc((size_t)K * (size_t)N);
    p->zw = with_zw ? malloc(sizeof(int32_t) * (size_t)N) : NULL;
    p->x = malloc((size_t)M * (size_t)K);
    p->expect = malloc(sizeof(int32_t) * (size_t)M * (size_t)N);
    p->got = malloc(sizeof(int32_t) * (size_t)M * (size_t)N);
    assert_true(p->w && p->x && p->expect && p->got);
    for (int n = 0; n < N && p->zw; n++)
        p->zw[n] = uint8w ? tu_range(r, 100, 156) : tu_range(r, -20, 20);
    for (int i = 0; i < K * N; i++) {
        int v = tu_range(r, 0, 9);
        /* extremes often, the rest uniform over the code range */
        int lo = uint8w ? 0 : -128, hi = uint8w ? 255 : 127;
        int code = v == 0 ? lo : v == 1 ? hi : v == 2 ? 0 : tu_range(r, lo, hi);
        if (p->zw && !uint8w) { /* keep w - zw inside int8 for offset encoding */
            int zwn = p->zw[i % N];
            if (code - zwn < -128)
                code = -128 + zwn;
            if (code - zwn > 127)
                code = 127 + zwn;
        }
        p->w[i] = (int8_t)(uint8_t)code;
    }
    for (int i = 0; i < M * K; i++) {
        int v = tu_range(r, 0, 9);
        p->x[i] = (uint8_t)(v == 0 ? 0 : v == 1 ? 255 : v == 2 ? zx : tu_range(r, 0, 255));
    }
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) {
            int64_t s = 0;
            for (int k = 0; k < K; k++) {
                int code = uint8w ? (int)(uint8_t)p->w[k * N + n] : (int)p->w[k * N + n];
                s += (int64_t)(p->x[m * K + k] - zx) * (code - (p->zw ? p->zw[n] : 0));
            }
            p->expect[m * N + n] = (int32_t)s;
        }
}

static void free_problem(problem *p)
{
    free(p->w);
    free(p->zw);
    free(p->x);
    free(p->expect);
    free(p->got);
}

/* Program and run; assert the result is exactly the integer product. */
static void check_exact(cim_ctx *ctx, const cim_xbar_config *cfg, problem *p, int uint8w, const char *what)
{
    cim_weights w = {p->w, uint8w ? CIM_UINT8 : CIM_INT8, p->K, p->N, p->zw};
    cim_layer *L = NULL;
    cim_status st = cim_layer_program(ctx, cfg, &w, 3, NULL, &L);
    if (st)
        fail_msg("%s: program: %s", what, cim_ctx_errmsg(ctx));
    cim_stats stats;
    st = cim_layer_run(ctx, L, p->x, p->M, p->got, &stats, NULL);
    if (st)
        fail_msg("%s: run: %s", what, cim_ctx_errmsg(ctx));
    for (int i = 0; i < p->M * p->N; i++)
        if (p->got[i] != p->expect[i]) {
            char s[256];
            cim_config_summary(cfg, s, sizeof s);
            fail_msg("%s [%s] kernel %s: psum[%d][%d] = %d, expected %d (K=%d N=%d M=%d)", what, s,
                     cim_ctx_kernel_name(ctx), i / p->N, i % p->N, p->got[i], p->expect[i], p->K, p->N, p->M);
        }
    assert_int_equal(stats.true_clips, 0);
    assert_int_equal(stats.macs, (uint64_t)p->M * p->K * p->N);
    cim_layer_free(ctx, L);
}

static void wide_adc(cim_xbar_config *c)
{
    c->adc.bits = 24;
    c->adc.is_signed = 1;
    c->adc.drop_lsbs = 0;
    c->cell_bits = 8;
    c->dac_bits = 8;
}

static void set_slices(int *n, int *dst, const int *src, int cnt)
{
    *n = cnt;
    memcpy(dst, src, sizeof(int) * (size_t)cnt);
}

/* The full cross product on one kernel. */
static void run_matrix(cim_ctx *ctx)
{
    static int all[200][CIM_MAX_SLICES];
    int counts[200];
    int nsl = slicings(8, all, counts, 200);
    tu_rng r = {42};
    const int rows_list[] = {7, 64, 100};
    const cim_encoding encs[] = {CIM_ENC_OFFSET, CIM_ENC_OFFSET, CIM_ENC_DIFFERENTIAL, CIM_ENC_CENTER_OFFSET};
    const char *enc_names[] = {"offset", "offset+flip", "differential", "center_offset"};
    int cases = 0;
    for (int e = 0; e < 4; e++)
        for (int ie = 1; ie <= 2; ie++)
            for (int ri = 0; ri < 3; ri++) {
                int zx = ie == 2 ? tu_range(&r, 1, 255) : (ri == 1 ? 0 : tu_range(&r, 0, 255));
                problem p;
                int K = tu_range(&r, 1, 2) == 1 ? 257 : 130, N = tu_range(&r, 1, 40), M = tu_range(&r, 1, 9);
                make_problem(&p, &r, K, N, M, zx, e != 1 && ri == 2, 0);
                /* a spread of slicings: several random ones plus the edge cases */
                for (int s = 0; s < 6; s++) {
                    cim_xbar_config c;
                    cim_config_default(&c);
                    wide_adc(&c);
                    c.rows = rows_list[ri];
                    c.encoding = encs[e];
                    c.flip = e == 1;
                    c.input_encoding = (cim_input_encoding)ie;
                    c.zx = zx;
                    int wi = s == 0 ? 0 : s == 1 ? nsl - 1 : tu_range(&r, 0, nsl - 1);
                    int ii = s == 0 ? nsl - 1 : s == 1 ? 0 : tu_range(&r, 0, nsl - 1);
                    set_slices(&c.n_weight_slices, c.weight_slices, all[wi], counts[wi]);
                    set_slices(&c.n_input_slices, c.input_slices, all[ii], counts[ii]);
                    c.cols = c.n_weight_slices * tu_range(&r, 1, 8);
                    c.speculation = s >= 4;
                    c.recovery_bits = tu_range(&r, 1, 3);
                    check_exact(ctx, &c, &p, 0, enc_names[e]);
                    cases++;
                }
                free_problem(&p);
            }
    assert_true(cases >= 4 * 2 * 3 * 6);
}

static cim_ctx *ctx_for(const char *kernel)
{
    cim_ctx_options o;
    cim_ctx *ctx = NULL;
    cim_ctx_options_default(&o);
    o.kernel = kernel;
    o.log = NULL;
    if (cim_ctx_create(&o, &ctx) != CIM_OK)
        return NULL;
    return ctx;
}

static void test_matrix_all_kernels(void **state)
{
    (void)state;
    int ran = 0;
    for (const char *const *k = cim_kernel_names(); *k; k++) {
        if (cim_kernel_supported(*k) != 1) {
            print_message("kernel %s: not supported on this CPU, skipped\n", *k);
            continue;
        }
        cim_ctx *ctx = ctx_for(*k);
        assert_non_null(ctx);
        run_matrix(ctx);
        cim_ctx_destroy(ctx);
        ran++;
    }
    assert_true(ran >= 1);
}

/* Presets with a wide ADC keep their encodings and slicings and must be exact. */
static void test_presets_wide(void **state)
{
    (void)state;
    cim_ctx *ctx = tu_ctx();
    tu_rng r = {7};
    for (const char *const *name = cim_config_preset_names(); *name; name++) {
        cim_xbar_config c;
        assert_int_equal(cim_config_preset(ctx, *name, &c), CIM_OK);
        c.adc.bits = 24;
        c.adc.is_signed = 1;
        c.adc.drop_lsbs = 0; /* a wide ADC that keeps every bit */
        problem p;
        make_problem(&p, &r, 700, 33, 5, 0, 0, 0);
        check_exact(ctx, &c, &p, 0, *name);
        free_problem(&p);
    }
    cim_ctx_destroy(ctx);
}

/* Degenerate shapes: M = 1, N = 1, K = 1, K = rows, K = rows + 1. */
static void test_edge_shapes(void **state)
{
    (void)state;
    cim_ctx *ctx = tu_ctx();
    tu_rng r = {99};
    const int shapes[][3] = {{1, 1, 1}, {1, 1, 5}, {512, 1, 1}, {512, 17, 1}, {513, 1, 3}, {64, 16, 1}, {65, 15, 2}, {1, 300, 2}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (int e = 0; e < 3; e++) {
            cim_xbar_config c;
            cim_config_default(&c);
            wide_adc(&c);
            c.rows = 512;
            c.encoding = (cim_encoding)e;
            c.zx = e == 2 ? 3 : 0;
            problem p;
            make_problem(&p, &r, shapes[s][0], shapes[s][1], shapes[s][2], c.zx, 0, 0);
            check_exact(ctx, &c, &p, 0, "edge");
            free_problem(&p);
        }
    cim_ctx_destroy(ctx);
}

/* uint8 weights with per-channel zero points (ONNX's other weight form). */
static void test_uint8_weights(void **state)
{
    (void)state;
    cim_ctx *ctx = tu_ctx();
    tu_rng r = {5};
    for (int e = 1; e <= 2; e++) { /* differential and center_offset store any |w'| <= 255 */
        cim_xbar_config c;
        cim_config_default(&c);
        wide_adc(&c);
        c.encoding = (cim_encoding)e;
        c.rows = 96;
        c.zx = 128;
        problem p;
        make_problem(&p, &r, 200, 20, 4, c.zx, 1, 1);
        check_exact(ctx, &c, &p, 1, "uint8 weights");
        free_problem(&p);
    }
    cim_ctx_destroy(ctx);
}

/* Offset encoding cannot store w - zw outside int8: a clear error, no layer. */
static void test_offset_range_error(void **state)
{
    (void)state;
    cim_ctx *ctx = tu_ctx();
    uint8_t w[4] = {0, 255, 10, 20};
    int32_t zw[2] = {100, 100};
    cim_weights wt = {w, CIM_UINT8, 2, 2, zw};
    cim_xbar_config c;
    cim_config_preset(ctx, "isaac", &c);
    cim_layer *L = (cim_layer *)1;
    assert_int_equal(cim_layer_program(ctx, &c, &wt, 0, NULL, &L), CIM_ERR_RANGE);
    assert_null(L);
    assert_non_null(strstr(cim_ctx_errmsg(ctx), "offset"));
    cim_ctx_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slicing_count),
        cmocka_unit_test(test_matrix_all_kernels),
        cmocka_unit_test(test_presets_wide),
        cmocka_unit_test(test_edge_shapes),
        cmocka_unit_test(test_uint8_weights),
        cmocka_unit_test(test_offset_range_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
