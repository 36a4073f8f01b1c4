/* test_stats.c: counters arithmetic and the stats JSON (every key of the CLI
 * contract present and consistent; failures leave no file). */
#include <string.h>
#include <jansson.h>
#include "testutil.h"

static void run_layer(cim_ctx *ctx, const char *preset, cim_stats *st, cim_layer_info *info)
{
    enum { K = 200, N = 30, M = 9 };
    static int8_t w[K * N];
    static uint8_t x[M * K];
    static int32_t p[M * N];
    tu_rng r = {1};
    for (int i = 0; i < K * N; i++)
        w[i] = (int8_t)(tu_normal(&r) * 40);
    for (int i = 0; i < M * K; i++)
        x[i] = (uint8_t)tu_range(&r, 0, 255);
    cim_xbar_config c;
    assert_int_equal(cim_config_preset(ctx, preset, &c), CIM_OK);
    cim_weights wt = {w, CIM_INT8, K, N, NULL};
    cim_layer *L = NULL;
    assert_int_equal(cim_layer_program(ctx, &c, &wt, 0, NULL, &L), CIM_OK);
    assert_int_equal(cim_layer_run(ctx, L, x, M, p, st, NULL), CIM_OK);
    cim_layer_info_get(L, info);
    cim_layer_free(ctx, L);
}

static void test_json_keys(void **state)
{
    (void)state;
    cim_ctx *ctx = tu_ctx();
    cim_stats *st = malloc(sizeof *st);
    cim_layer_info info;
    run_layer(ctx, "raella", st, &info);
    char path[512];
    tu_path(path, sizeof path, "S.json");
    assert_int_equal(cim_stats_write_json(ctx, path, st, &info, "{\"config\": \"raella\"}"), CIM_OK);
    json_error_t err;
    json_t *o = json_load_file(path, 0, &err);
    assert_non_null(o);
    const char *keys[] = {"macs", "adc_converts", "adc_converts_speculative", "adc_converts_recovery",
                          "saturations", "true_clips", "speculation_failures", "converts_per_mac", "dac_pulses",
                          "cells", "cell_level_sum", "crossbars", "column_sum_histogram", "config",
                          "device_activations", "utilization", "column_sum_bits"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (!json_object_get(o, keys[i]))
            fail_msg("key %s missing from stats JSON", keys[i]);
    assert_int_equal(json_integer_value(json_object_get(o, "macs")), st->macs);
    assert_int_equal(json_integer_value(json_object_get(o, "adc_converts")),
                     st->adc_converts_speculative + st->adc_converts_recovery);
    assert_int_equal(json_integer_value(json_object_get(o, "crossbars")), info.crossbars);
    assert_string_equal(json_string_value(json_object_get(o, "config")), "raella");
    /* histogram bins add up to the conversions */
    json_t *h = json_object_get(o, "column_sum_histogram"), *bins = json_object_get(h, "bins");
    json_int_t total = json_integer_value(json_object_get(h, "below")) + json_integer_value(json_object_get(h, "above"));
    size_t i;
    json_t *b;
    json_array_foreach(bins, i, b) total += json_integer_value(json_array_get(b, 1));
    assert_int_equal(total, st->adc_converts);
    json_decref(o);
    /* a directory that does not exist: an error naming the path, no file */
    assert_int_equal(cim_stats_write_json(ctx, "/nonexistent/dir/S.json", st, &info, NULL), CIM_ERR_IO);
    assert_non_null(strstr(cim_ctx_errmsg(ctx), "/nonexistent/dir/S.json"));
    free(st);
    cim_ctx_destroy(ctx);
}

static void test_add_and_ratio(void **state)
{
    (void)state;
    cim_ctx *ctx = tu_ctx();
    cim_stats *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    cim_layer_info info;
    run_layer(ctx, "isaac", a, &info);
    /* K = 200: 2 chunks (128 + 72 rows) x 4 weight slices x 8 input slices per 200 MACs */
    assert_true(cim_stats_converts_per_mac(a) == 2.0 * 4 * 8 / 200);
    run_layer(ctx, "isaac", b, &info);
    uint64_t conv = a->adc_converts;
    cim_stats_add(a, b);
    assert_int_equal(a->adc_converts, 2 * conv);
    assert_int_equal(a->hist.bits[0] + a->hist.bits[1], 2 * (b->hist.bits[0] + b->hist.bits[1]));
    cim_stats_reset(a);
    assert_int_equal(a->adc_converts, 0);
    assert_true(cim_stats_converts_per_mac(a) == 0.0);
    free(a);
    free(b);
    cim_ctx_destroy(ctx);
}

typedef struct {
    int calls, cancel_at;
    uint64_t last;
} progress_probe;

static int on_progress(void *ud, uint64_t done, uint64_t total)
{
    progress_probe *p = ud;
    assert_true(done > p->last && done <= total);
    p->last = done;
    return ++p->calls == p->cancel_at;
}

/* Progress is reported per block of vectors, in order, ending at the total; a
 * callback returning nonzero cancels the run with an error. */
static void test_progress_and_cancel(void **state)
{
    (void)state;
    enum { K = 64, N = 16, M = 700 };
    static int8_t w[K * N];
    static uint8_t x[M * K];
    static int32_t p[M * N];
    memset(w, 3, sizeof w);
    memset(x, 5, sizeof x);
    cim_ctx *ctx = tu_ctx();
    cim_xbar_config c;
    cim_config_preset(ctx, "raella", &c);
    cim_weights wt = {w, CIM_INT8, K, N, NULL};
    cim_layer *L = NULL;
    assert_int_equal(cim_layer_program(ctx, &c, &wt, 0, NULL, &L), CIM_OK);
    cim_run_options ro;
    cim_run_options_default(&ro);
    progress_probe pr = {0, 0, 0};
    ro.progress = on_progress;
    ro.progress_ud = &pr;
    assert_int_equal(cim_layer_run(ctx, L, x, M, p, NULL, &ro), CIM_OK);
    assert_true(pr.calls >= 3); /* 700 vectors are at least three blocks */
    assert_int_equal(pr.last, M);
    progress_probe cancel = {0, 2, 0};
    ro.progress_ud = &cancel;
    assert_int_equal(cim_layer_run(ctx, L, x, M, p, NULL, &ro), CIM_ERR_ARG);
    assert_non_null(strstr(cim_ctx_errmsg(ctx), "cancelled"));
    assert_int_equal(cancel.calls, 2);
    /* M = 0 is a valid empty run */
    cim_stats st;
    assert_int_equal(cim_layer_run(ctx, L, x, 0, p, &st, NULL), CIM_OK);
    assert_int_equal(st.macs, 0);
    /* bad arguments */
    assert_int_equal(cim_layer_run(ctx, L, NULL, 3, p, NULL, NULL), CIM_ERR_ARG);
    assert_int_equal(cim_layer_run(ctx, L, x, -1, p, NULL, NULL), CIM_ERR_ARG);
    cim_layer_free(ctx, L);
    cim_ctx_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_keys),
        cmocka_unit_test(test_add_and_ratio),
        cmocka_unit_test(test_progress_and_cancel),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
