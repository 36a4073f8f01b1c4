/* test_cost_run.c: costing without data (include/cimsim/costrun.h): counters
 * estimated from a real run's rates reproduce that run's counters and
 * mapping; assumed rates (RAELLA 0.018-0.02 conversions/MAC, ISAAC's static
 * conversions exact); ResNet-18 costed on raella with hardware (1.814 GMACs,
 * TOPS/W = 2 MACs / energy); eval JSON rates; bad stats JSON naming file and
 * field; the eval hardware side. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "testutil.h"
#include "cimsim/costrun.h"

static void run_layer(tu_fx *fx, const char *preset, int K, int N, int M, cim_xbar_config *cfg, cim_stats *st,
                      cim_layer_info *info)
{
    assert_int_equal(cim_config_load(fx->ctx, preset, cfg), CIM_OK);
    int8_t *W = malloc((size_t)K * N);
    uint8_t *X = malloc((size_t)M * K);
    int32_t *P = malloc((size_t)M * N * sizeof *P);
    unsigned s = 12345;
    for (int i = 0; i < K * N; i++) {
        s = s * 1103515245u + 12345u;
        W[i] = (int8_t)((int)((s >> 16) % 61) - 30);
    }
    for (int i = 0; i < M * K; i++) {
        s = s * 1103515245u + 12345u;
        X[i] = (s >> 16) % 3 == 0 ? 0 : (uint8_t)((s >> 8) % 64);
    }
    cim_weights w = {W, CIM_INT8, K, N, NULL};
    cim_layer *layer = NULL;
    assert_int_equal(cim_layer_program(fx->ctx, cfg, &w, 0, NULL, &layer), CIM_OK);
    assert_int_equal(cim_layer_run(fx->ctx, layer, X, M, P, st, NULL), CIM_OK);
    cim_layer_info_get(layer, info);
    cim_layer_free(fx->ctx, layer);
    free(W);
    free(X);
    free(P);
}

/* Rates measured on a run, applied to the same shape, give its counters back. */
static void test_measured_roundtrip(void **state)
{
    tu_fx *fx = *state;
    const char *presets[] = {"raella", "isaac"};
    for (int p = 0; p < 2; p++) {
        cim_xbar_config cfg;
        cim_stats st, est;
        cim_layer_info info, einfo;
        run_layer(fx, presets[p], 700, 100, 16, &cfg, &st, &info);
        cim_cost_rates r;
        cim_cost_rates_measured(&cfg, &st, &info, &r);
        assert_int_equal(cim_cost_estimate_layer(fx->ctx, &cfg, 700, 100, 1, 16, &r, &est, &einfo), CIM_OK);
        assert_int_equal(einfo.crossbars, info.crossbars);
        assert_int_equal(einfo.cells, info.cells);
        assert_int_equal(einfo.devices, info.devices);
        assert_int_equal(einfo.rows_used, info.rows_used);
        assert_int_equal(einfo.cols_used, info.cols_used);
        assert_true(fabs(einfo.utilization - info.utilization) < 1e-12);
        assert_int_equal(est.macs, st.macs);
        assert_int_equal(est.vectors, st.vectors);
        assert_true(llabs((long long)est.adc_converts - (long long)st.adc_converts) <= 1);
        assert_true(llabs((long long)est.dac_pulses - (long long)st.dac_pulses) <= 1);
        assert_true(llabs((long long)est.device_activations - (long long)st.device_activations) <= 1);
        assert_true(llabs((long long)est.input_sum_adds - (long long)st.input_sum_adds) <= 1);
    }
}

static void test_assumed(void **state)
{
    tu_fx *fx = *state;
    cim_xbar_config cfg;
    cim_cost_rates r;
    assert_int_equal(cim_config_load(fx->ctx, "raella", &cfg), CIM_OK);
    cim_cost_rates_assumed(&cfg, 0, 0, &r);
    assert_true(r.assumed);
    assert_true(r.converts_per_mac >= 0.017 && r.converts_per_mac <= 0.021); /* thesis 0.018-0.02 */
    /* ISAAC converts every used column once per input slice: exact against a run */
    cim_stats st, est;
    cim_layer_info info, einfo;
    run_layer(fx, "isaac", 300, 40, 8, &cfg, &st, &info);
    cim_cost_rates_assumed(&cfg, 0, 0, &r);
    assert_int_equal(cim_cost_estimate_layer(fx->ctx, &cfg, 300, 40, 1, 8, &r, &est, &einfo), CIM_OK);
    assert_int_equal(est.adc_converts, st.adc_converts);
    assert_int_equal(cim_cost_estimate_layer(fx->ctx, &cfg, 0, 40, 1, 8, &r, &est, &einfo), CIM_ERR_ARG);
}

static void test_resnet18(void **state)
{
    tu_fx *fx = *state;
    cim_arch arch;
    cim_workload wl;
    cim_cost_result res;
    assert_int_equal(cim_arch_load(fx->ctx, "raella", &arch), CIM_OK);
    assert_int_equal(cim_workload_load(fx->ctx, "resnet18", &wl), CIM_OK);
    assert_int_equal(cim_cost_network(fx->ctx, &arch, &wl, NULL, &res), CIM_OK);
    assert_int_equal((uint64_t)res.energy.macs, 1814073344ULL);
    assert_int_equal(res.assumed_layers, wl.n_layers);
    assert_true(res.has_hw);
    assert_true(res.energy.total_pj > 0);
    assert_true(fabs(res.hw.tops_per_w - 2.0 * res.energy.macs / res.energy.total_pj) < 1e-9 * res.hw.tops_per_w);
    assert_true(fabs(res.hw.tops - 2.0 * res.energy.macs * res.hw.inferences_per_s / 1e12) < 1e-9 * res.hw.tops);
    double lat = 0, slowest = 0;
    for (int i = 0; i < res.n_layers; i++) {
        lat += res.layers[i].map.time_ns;
        if (res.layers[i].map.time_ns > slowest)
            slowest = res.layers[i].map.time_ns;
        assert_true(res.layers[i].map.copies >= 1);
    }
    assert_true(fabs(res.hw.latency_ns - lat) < 1e-6 * lat);
    assert_true(fabs(res.hw.inferences_per_s - 1e9 / slowest) < 1e-6 * res.hw.inferences_per_s);
    char path[512];
    snprintf(path, sizeof path, "%s/cost.json", fx->dir);
    assert_int_equal(cim_cost_write_json(fx->ctx, path, &res), CIM_OK);
    cim_cost_result_free(fx->ctx, &res);
    /* an arch without a hardware file or energy spec is an error naming it */
    cim_arch t;
    assert_int_equal(cim_arch_load(fx->ctx, "timely-like", &t), CIM_OK);
    snprintf(t.name, sizeof t.name, "%s", "my-timely"); /* a name with no built-in files */
    cim_cost_options o = {NULL, NULL, NULL};
    assert_int_not_equal(cim_cost_network(fx->ctx, &t, &wl, &o, &res), CIM_OK);
    assert_non_null(strstr(cim_ctx_errmsg(fx->ctx), "my-timely"));
    cim_workload_free(fx->ctx, &wl);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_eval_json_rates(void **state)
{
    tu_fx *fx = *state;
    char path[512];
    snprintf(path, sizeof path, "%s/eval.json", fx->dir);
    write_file(path, "{\"arch\": \"raella\", \"layers\": [{\"name\": \"conv1\", \"op_type\": \"Conv\", \"groups\": 1,"
                     " \"titanium\": {\"converts_per_mac\": 0.5}, \"stats\": {\"macs\": 1000, \"adc_converts\": 100,"
                     " \"digital_reads\": 0, \"vectors\": 10, \"dac_pulses\": 2000, \"device_activations\": 3000,"
                     " \"input_sum_adds\": 500, \"rows_used\": 100, \"cell_level_sum\": 60, \"devices\": 30, \"K\": 50,"
                     " \"N\": 2, \"crossbars\": 1, \"chunks\": 1, \"filters_per_crossbar\": 2}}]}");
    cim_cost_eval_rates ev;
    assert_int_equal(cim_cost_rates_from_eval(fx->ctx, path, &ev), CIM_OK);
    assert_int_equal(ev.n, 1);
    assert_string_equal(ev.name[0], "conv1");
    assert_true(fabs(ev.rates[0].converts_per_mac - 0.5) < 1e-12);
    assert_true(fabs(ev.rates[0].dac_pulses_per_row - 2.0) < 1e-12);  /* 2000 / (10 x 100) */
    assert_true(fabs(ev.rates[0].activations_per_mac - 3.0) < 1e-12);
    assert_true(fabs(ev.rates[0].input_sum_per_input - 1.0) < 1e-12); /* 500 / (10 x 50) */
    assert_true(fabs(ev.rates[0].level_mean - 2.0) < 1e-12);
    cim_cost_eval_rates_free(fx->ctx, &ev);
    /* a workload with a layer of that name takes its rates; others the conv average */
    cim_arch arch;
    cim_workload wl;
    cim_cost_result res;
    assert_int_equal(cim_arch_load(fx->ctx, "raella", &arch), CIM_OK);
    assert_int_equal(cim_workload_load(fx->ctx, "resnet18", &wl), CIM_OK);
    cim_cost_options o = {NULL, "none", path};
    assert_int_equal(cim_cost_network(fx->ctx, &arch, &wl, &o, &res), CIM_OK);
    assert_int_equal(res.matched_layers, 1);
    assert_int_equal(res.assumed_layers, 0);
    assert_false(res.has_hw);
    assert_string_equal(res.layers[0].rates_from, "eval layer conv1");
    assert_string_equal(res.layers[1].rates_from, "eval conv average");
    assert_true(fabs(res.layers[0].energy.titanium.converts_per_mac - 0.5) < 1e-6);
    cim_cost_result_free(fx->ctx, &res);
    cim_workload_free(fx->ctx, &wl);
}

static void test_bad_stats(void **state)
{
    tu_fx *fx = *state;
    char path[512];
    cim_cost_eval_rates ev;
    snprintf(path, sizeof path, "%s/bad1.json", fx->dir);
    write_file(path, "{\"arch\": \"raella\", \"layers\": [{\"name\": \"a\", \"op_type\": \"Conv\", \"stats\": "
                     "{\"macs\": \"many\"}}]}");
    assert_int_equal(cim_cost_rates_from_eval(fx->ctx, path, &ev), CIM_ERR_FORMAT);
    assert_non_null(strstr(cim_ctx_errmsg(fx->ctx), path));
    assert_non_null(strstr(cim_ctx_errmsg(fx->ctx), "layers[0].stats.macs"));
    snprintf(path, sizeof path, "%s/bad2.json", fx->dir);
    write_file(path, "{\"arch\": \"raella\"}");
    assert_int_equal(cim_cost_rates_from_eval(fx->ctx, path, &ev), CIM_ERR_FORMAT);
    assert_non_null(strstr(cim_ctx_errmsg(fx->ctx), "layers"));
    snprintf(path, sizeof path, "%s/bad3.json", fx->dir);
    write_file(path, "{\"layers\": [ ");
    assert_int_equal(cim_cost_rates_from_eval(fx->ctx, path, &ev), CIM_ERR_FORMAT);
    assert_non_null(strstr(cim_ctx_errmsg(fx->ctx), path));
    assert_int_equal(cim_cost_rates_from_eval(fx->ctx, "/nonexistent/e.json", &ev), CIM_ERR_FORMAT);
    assert_non_null(strstr(cim_ctx_errmsg(fx->ctx), "/nonexistent/e.json"));
}

static void test_hw_default(void **state)
{
    (void)state;
    assert_string_equal(cim_cost_hw_default("isaac"), "isaac");
    assert_string_equal(cim_cost_hw_default("raella"), "raella");
    assert_string_equal(cim_cost_hw_default("raella-nospec"), "raella");
    assert_null(cim_cost_hw_default("raellax"));
    assert_string_equal(cim_cost_hw_default("timely-like"), "timely-like");
    assert_string_equal(cim_cost_hw_default("ibm-pcm-like"), "ibm-pcm-like");
    assert_string_equal(cim_cost_hw_default("digital-cim"), "digital-cim");
    assert_null(cim_cost_hw_default("zero-offset"));
    assert_null(cim_cost_hw_default("timely"));
}

static int setup(void **state) { return tu_fx_setup(state, "costrun"); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_measured_roundtrip, setup, tu_fx_teardown),
        cmocka_unit_test_setup_teardown(test_assumed, setup, tu_fx_teardown),
        cmocka_unit_test_setup_teardown(test_resnet18, setup, tu_fx_teardown),
        cmocka_unit_test_setup_teardown(test_eval_json_rates, setup, tu_fx_teardown),
        cmocka_unit_test_setup_teardown(test_bad_stats, setup, tu_fx_teardown),
        cmocka_unit_test_setup_teardown(test_hw_default, setup, tu_fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
