/* test_center.c: the Center+Offset center search equals a brute-force
 * evaluation of Eq. (4.2) (RAELLA thesis 4.1.3) on random filters, and the
 * programmed layer uses those centers. */
#include <stdlib.h>
#include <string.h>
#include "testutil.h"

__extension__ typedef unsigned __int128 u128;

/* D(h, l, v) = sign(v) * ((|v| >> l) & (2^(h-l+1) - 1)), straight from the thesis */
static int D(int h, int l, int v)
{
    int a = abs(v), d = (a >> l) & ((1 << (h - l + 1)) - 1);
    return v < 0 ? -d : d;
}

static u128 cost(const int16_t *w, int n, const int *sl, int ns, int phi)
{
    u128 total = 0;
    int h = 7;
    for (int i = 0; i < ns; i++) {
        int l = h - sl[i] + 1;
        long long s = 0;
        for (int k = 0; k < n; k++)
            s += D(h, l, w[k] - phi);
        u128 a = (u128)(unsigned long long)(s < 0 ? -s : s);
        total += ((u128)1 << l) * a * a * a * a;
        h = l - 1;
    }
    return total;
}

static int brute(const int16_t *w, int n, const int *sl, int ns, int lo, int hi)
{
    int best = 0, have = 0;
    u128 bc = 0;
    for (int phi = lo; phi <= hi; phi++) {
        u128 c = cost(w, n, sl, ns, phi);
        /* ties: smallest |phi|, then the smaller phi */
        if (!have || c < bc || (c == bc && (abs(phi) < abs(best) || (abs(phi) == abs(best) && phi < best)))) {
            best = phi;
            bc = c;
            have = 1;
        }
    }
    return best;
}

static void random_slicing(tu_rng *r, int *sl, int *ns, int maxw)
{
    int left = 8;
    *ns = 0;
    while (left > 0) {
        int w = tu_range(r, 1, left < maxw ? left : maxw);
        sl[(*ns)++] = w;
        left -= w;
    }
}

static void test_center_vs_brute_force(void **state)
{
    (void)state;
    tu_rng r = {2024};
    static int16_t w[600];
    for (int t = 0; t < 300; t++) {
        int n = tu_range(&r, 1, 600), sl[8], ns;
        random_slicing(&r, sl, &ns, tu_range(&r, 1, 4) == 1 ? 8 : 4);
        double mu = tu_normal(&r) * 20, sigma = 1 + tu_uniform(&r) * 40;
        int kind = tu_range(&r, 0, 3);
        for (int k = 0; k < n; k++) {
            double v = kind == 0 ? mu + sigma * tu_normal(&r) : kind == 1 ? tu_range(&r, -128, 127)
                                                              : kind == 2 ? mu : mu + (tu_range(&r, 0, 1) ? sigma : -sigma);
            int iv = (int)v;
            w[k] = (int16_t)(iv < -128 ? -128 : iv > 127 ? 127 : iv);
        }
        int got = cim_center_search(w, n, 1, sl, ns, -128, 127);
        int want = brute(w, n, sl, ns, -128, 127);
        if (got != want)
            fail_msg("trial %d (n=%d kind=%d): center %d, brute force %d", t, n, kind, got, want);
    }
}

/* Ties: all-zero filter -> every phi in a symmetric band may tie; 0 must win. */
static void test_center_ties(void **state)
{
    (void)state;
    int16_t w[4] = {0, 0, 0, 0};
    int sl[1] = {8};
    assert_int_equal(cim_center_search(w, 4, 1, sl, 1, -128, 127), 0);
    /* with two 1-bit-slices-only costs equal for phi = -1 and 1 the smaller wins */
    int16_t w2[2] = {-1, 1};
    int sl2[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    int got = cim_center_search(w2, 2, 1, sl2, 8, -128, 127);
    assert_int_equal(got, brute(w2, 2, sl2, 8, -128, 127));
    /* a restricted range is honoured */
    int16_t w3[3] = {100, 100, 100};
    assert_int_equal(cim_center_search(w3, 3, 1, sl, 1, -128, 50), 50);
    /* strided access (one channel of a [K][N] matrix) */
    int16_t m[6] = {10, -5, 10, -5, 10, -5};
    assert_int_equal(cim_center_search(m, 3, 2, sl, 1, -128, 127), 10);
    assert_int_equal(cim_center_search(m + 1, 3, 2, sl, 1, -128, 127), -5);
}

/* The layer's centers are the per-filter-chunk searches; given centers are used as is. */
static void test_layer_centers(void **state)
{
    (void)state;
    cim_ctx *ctx = tu_ctx();
    enum { K = 70, N = 5 };
    int8_t w[K * N];
    tu_rng r = {8};
    for (int i = 0; i < K * N; i++)
        w[i] = (int8_t)(tu_normal(&r) * 25 + (i % N) * 9 - 20);
    cim_xbar_config c;
    cim_config_default(&c);
    c.rows = 32; /* chunks of 32, 32, 6 rows */
    cim_weights wt = {w, CIM_INT8, K, N, NULL};
    cim_layer *L = NULL;
    assert_int_equal(cim_layer_program(ctx, &c, &wt, 0, NULL, &L), CIM_OK);
    const int16_t *phi = cim_layer_centers(L);
    assert_non_null(phi);
    int16_t col[32];
    for (int ch = 0; ch < 3; ch++)
        for (int n = 0; n < N; n++) {
            int k0 = ch * 32, rows = K - k0 < 32 ? K - k0 : 32;
            for (int k = 0; k < rows; k++)
                col[k] = w[(k0 + k) * N + n];
            assert_int_equal(phi[ch * N + n], brute(col, rows, c.weight_slices, c.n_weight_slices, -128, 127));
        }
    int16_t given[3 * N];
    for (int i = 0; i < 3 * N; i++)
        given[i] = (int16_t)(i - 7);
    cim_layer *L2 = NULL;
    assert_int_equal(cim_layer_program(ctx, &c, &wt, 0, given, &L2), CIM_OK);
    assert_memory_equal(cim_layer_centers(L2), given, sizeof given);
    cim_layer_free(ctx, L2);
    given[4] = 300; /* outside the weight code range */
    assert_int_equal(cim_layer_program(ctx, &c, &wt, 0, given, &L2), CIM_ERR_RANGE);
    assert_non_null(strstr(cim_ctx_errmsg(ctx), "centers[0][4]"));
    cim_layer_free(ctx, L);
    cim_ctx_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_center_vs_brute_force),
        cmocka_unit_test(test_center_ties),
        cmocka_unit_test(test_layer_centers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
