/* test_alloc.c: every allocation failure is survived (Lua's and SQLite's
 * failing-allocator tests): program + run + stats with the n-th allocation
 * failing return CIM_ERR_NOMEM, leave nothing allocated, and the same calls
 * succeed once allocation works again. */
#include <stdlib.h>
#include <string.h>
#include "testutil.h"

/* Returns the status of the first failing step. */
static cim_status scenario(tu_failing *f, const char *preset, int noise)
{
    enum { K = 150, N = 20, M = 40 };
    static int8_t w[K * N];
    static uint8_t x[M * K];
    static int32_t p[M * N];
    for (int i = 0; i < K * N; i++)
        w[i] = (int8_t)(i * 37);
    for (int i = 0; i < M * K; i++)
        x[i] = (uint8_t)(i * 11);
    cim_ctx_options o;
    cim_ctx_options_default(&o);
    o.alloc = tu_failing_realloc;
    o.alloc_ud = f;
    o.threads = 2;
    o.log = NULL;
    cim_ctx *ctx = NULL;
    cim_status st = cim_ctx_create(&o, &ctx);
    if (st)
        return st;
    cim_xbar_config c;
    cim_config_preset(ctx, preset, &c);
    c.rows = 64;
    if (noise) {
        c.noise.model = CIM_NOISE_GAUSSIAN_COLSUM;
        c.noise.level = 0.05;
    }
    cim_weights wt = {w, CIM_INT8, K, N, NULL};
    cim_layer *L = NULL;
    st = cim_layer_program(ctx, &c, &wt, 0, NULL, &L);
    if (st == CIM_OK) {
        assert_non_null(L);
        cim_stats *s = malloc(sizeof *s);
        st = cim_layer_run(ctx, L, x, M, p, s, NULL);
        free(s);
        cim_layer_free(ctx, L);
    } else {
        assert_null(L);
        assert_int_equal(st, CIM_ERR_NOMEM);
        assert_non_null(strstr(cim_ctx_errmsg(ctx), "memory"));
    }
    cim_ctx_destroy(ctx);
    return st;
}

static void test_every_allocation_can_fail(void **state)
{
    (void)state;
    const char *presets[] = {"raella", "isaac"};
    for (int p = 0; p < 2; p++)
        for (int noise = 0; noise <= 1; noise++) {
            tu_failing probe = {0, 0, 0};
            assert_int_equal(scenario(&probe, presets[p], noise), CIM_OK);
            assert_int_equal(probe.live, 0);
            long total = probe.count;
            assert_true(total > 10);
            for (long n = 1; n <= total; n++) {
                tu_failing f = {n, 0, 0};
                cim_status st = scenario(&f, presets[p], noise);
                if (st != CIM_ERR_NOMEM)
                    fail_msg("%s noise=%d: allocation %ld of %ld failing gave status %d", presets[p], noise, n,
                             total, st);
                if (f.live != 0)
                    fail_msg("%s: allocation %ld failing leaked %ld blocks", presets[p], n, f.live);
            }
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_allocation_can_fail),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
