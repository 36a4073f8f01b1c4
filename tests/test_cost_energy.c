/* test_cost_energy.c: energy of layer runs (include/cimsim/energy.h,
 * docs/energy.md): a hand-computed layer under the isaac spec (known counters
 * -> known pJ from the published numbers), the Titanium factors multiplying
 * back to the ADC energy per layer and overall on real runs, the eval JSON
 * keys, digital CiM energy per MAC against Colonnade's number, the defaults
 * per preset, and bad energy spec files (errors naming file, key and line). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "testutil.h"

#define MODELS CIMSIM_TEST_DATA "/../../models/"

static int rel_close(double a, double b, double tol) { return fabs(a - b) <= tol * fmax(fabs(a), fabs(b)); }

#define ASSERT_REL(a, b, tol)                                                                   \
    do {                                                                                        \
        double a_ = (a), b_ = (b);                                                              \
        if (!rel_close(a_, b_, tol))                                                            \
            fail_msg("%s = %.12g, expected %.12g (rel tol %g)", #a, a_, b_, (double)(tol));      \
    } while (0)

static cim_energy_spec *spec_or_fail(tu_fx *fx, const char *name)
{
    cim_energy_spec *s = NULL;
    if (cim_energy_spec_load(fx->ctx, name, NULL, &s) != CIM_OK)
        fail_msg("load %s: %s", name, cim_ctx_errmsg(fx->ctx));
    return s;
}

/* A layer of K = 200 rows, N = 10 filters on 128x128 crossbars under isaac:
 * weight slices 2,2,2,2 -> 4 columns per filter, 32 filters per crossbar, two
 * row chunks (128 + 72 rows), one crossbar per chunk, 40 columns each. The
 * counters are made up; the energy follows from the published numbers. */
static void test_hand_computed(void **state)
{
    tu_fx *fx = *state;
    cim_energy_spec *s = spec_or_fail(fx, "isaac");
    cim_xbar_config cfg;
    assert_int_equal(cim_config_preset(fx->ctx, "isaac", &cfg), CIM_OK);
    cim_layer_info info;
    memset(&info, 0, sizeof info);
    info.K = 200;
    info.N = 10;
    info.chunks = 2;
    info.filters_per_crossbar = 32;
    info.crossbars = 2;
    info.cells = 200 * 10 * 4;
    info.devices = info.cells;
    info.rows_used = 200;
    info.cols_used = 80;
    info.utilization = (128.0 * 40 + 72.0 * 40) / (2.0 * 128 * 128);
    cim_stats st;
    cim_stats_reset(&st);
    st.vectors = 50;
    st.macs = 50ull * 200 * 10;
    st.adc_converts = 50ull * 80 * 8; /* 8 input bits x 80 columns per vector */
    st.adc_converts_speculative = st.adc_converts;
    st.dac_pulses = 30000;
    st.device_activations = 90000;
    st.crossbar_cycles = 50ull * 2 * 8;
    st.input_sum_adds = 50ull * 200;
    cim_energy e;
    assert_int_equal(cim_energy_layer(fx->ctx, s, &cfg, &st, &info, &e), CIM_OK);

    /* ISAAC Table 1 and the thesis' parts, at 32 nm */
    double adc = 32000 * 1.67;                                 /* 8-bit ADC, 1.67 pJ */
    double g_off = 1.0 / 20000, g_lsb = (1.0 / 1333 - 1.0 / 20000) / 3; /* 2-bit cells */
    double pulses = 30000.0 * (8000.0 / 200.0);                /* dac_pulses x devices per used row */
    double xbar = 0.2 * 0.2 * 1e-9 * (g_off * pulses + g_lsb * 90000) * 1e12;
    double dac = 30000 * 4.0 / 1024 / 1e7 * 1e-3 * 1e12;       /* 4 mW / 1024 / 10 MHz */
    double sh = 32000 * 0.01 / 1024 / 1e7 * 1e-3 * 1e12;       /* 10 uW / 1024 / 10 MHz */
    double sa = 32000 * 0.2 / 4 / 2.4e9 * 1e-3 * 1e12;         /* 0.2 mW / 9.6 G outputs/s */
    double scale45 = (32.0 / 45.0) * (0.9 / 1.0) * (0.9 / 1.0); /* Horowitz 45 nm -> 32 nm */
    double isum = 10000 * 0.05 * scale45;                      /* 16b add */
    double quant = 500 * 1.5 * scale45;                        /* FP16 mult + add per output */
    double bytes = 50.0 * (200 + 10);
    double buffer = bytes * 20.45 / 32;                        /* 256-bit eDRAM access */
    double bus = bytes * 8 * 0.054;
    ASSERT_REL(e.pj[CIM_ENERGY_ADC], adc, 1e-12);
    ASSERT_REL(e.pj[CIM_ENERGY_CROSSBAR], xbar, 1e-9);
    ASSERT_REL(e.pj[CIM_ENERGY_DAC], dac, 1e-9);
    ASSERT_REL(e.pj[CIM_ENERGY_SAMPLE_HOLD], sh, 1e-9);
    ASSERT_REL(e.pj[CIM_ENERGY_SHIFT_ADD], sa, 1e-9);
    ASSERT_REL(e.pj[CIM_ENERGY_INPUT_SUM], isum, 1e-9);
    ASSERT_REL(e.pj[CIM_ENERGY_QUANTIZATION], quant, 1e-9);
    ASSERT_REL(e.pj[CIM_ENERGY_BUFFER], buffer, 1e-9);
    ASSERT_REL(e.pj[CIM_ENERGY_BUS], bus, 1e-9);
    assert_true(e.pj[CIM_ENERGY_DIGITAL] == 0);
    ASSERT_REL(e.total_pj, adc + xbar + dac + sh + sa + isum + quant + buffer + bus, 1e-9);

    /* Titanium: row utilization weighted by columns = (128 x 40 + 72 x 40) / (128 x 80) */
    double util = (128.0 * 40 + 72.0 * 40) / (128.0 * 80);
    ASSERT_REL(e.titanium.utilization, util, 1e-12);
    ASSERT_REL(e.titanium.energy_per_convert_pj, 1.67, 1e-12);
    ASSERT_REL(e.titanium.converts_per_mac, 32000.0 * util / 100000.0, 1e-12);
    ASSERT_REL(e.titanium.macs, 100000, 0);
    ASSERT_REL(e.titanium.energy_per_convert_pj * e.titanium.converts_per_mac * e.titanium.macs /
                   e.titanium.utilization, adc, 1e-12);

    /* the ADC follows the layer's bits (x2 per bit for ISAAC's part) */
    cfg.adc.bits = 6;
    assert_int_equal(cim_energy_layer(fx->ctx, s, &cfg, &st, &info, &e), CIM_OK);
    ASSERT_REL(e.pj[CIM_ENERGY_ADC], 32000 * 1.67 / 4, 1e-12);

    /* a run with digital reads on a spec without a digital part is an error */
    st.digital_reads = 5;
    assert_int_equal(cim_energy_layer(fx->ctx, s, &cfg, &st, &info, &e), CIM_ERR_CONFIG);
    assert_non_null(strstr(cim_ctx_errmsg(fx->ctx), "digital"));
    cim_energy_spec_free(fx->ctx, s);

    /* RAELLA's ADC: ISAAC's scaled to 7 bits by Saberi, 1.42 pJ */
    s = spec_or_fail(fx, "raella");
    double pj;
    assert_int_equal(cim_energy_adc_pj(fx->ctx, s, 7, &pj), CIM_OK);
    ASSERT_REL(pj, 1.42, 1e-12);
    cim_energy_spec_free(fx->ctx, s);
}

static void test_defaults(void **state)
{
    (void)state;
    assert_string_equal(cim_energy_spec_default("isaac"), "isaac");
    assert_string_equal(cim_energy_spec_default("raella"), "raella");
    assert_string_equal(cim_energy_spec_default("raella-nospec"), "raella");
    assert_string_equal(cim_energy_spec_default("zero-offset"), "raella");
    assert_string_equal(cim_energy_spec_default("digital-cim"), "digital-cim");
    assert_string_equal(cim_energy_spec_default("timely-like"), "timely-like");
    assert_string_equal(cim_energy_spec_default("ibm-pcm-like"), "ibm-pcm-like");
    assert_null(cim_energy_spec_default("timely"));
    assert_null(cim_energy_spec_default("./raella.yaml"));
    int n = 0;
    for (const char *const *p = cim_energy_spec_names(); *p; p++, n++)
        assert_non_null(cim_energy_spec_text(*p));
    assert_true(n >= 3);
}

/* Run lenet5 (a few samples) under an arch and price it with the arch's spec. */
static int eval_priced(tu_fx *fx, const char *arch_name, cim_eval_result *r)
{
    char path[1024];
    snprintf(path, sizeof path, MODELS "lenet5.onnx");
    if (!tu_file_exists(path))
        return 0;
    cim_net *net = NULL;
    assert_int_equal(cim_net_load(fx->ctx, path, &net), CIM_OK);
    cim_arch arch;
    assert_int_equal(cim_arch_load(fx->ctx, arch_name, &arch), CIM_OK);
    cim_eval_options o;
    cim_eval_options_default(&o);
    o.limit = 16;
    o.histogram = 0;
    if (cim_net_eval(fx->ctx, net, &arch, "fashion-mnist:test", &o, r) != CIM_OK) {
        cim_net_free(net);
        fail_msg("eval: %s", cim_ctx_errmsg(fx->ctx));
    }
    cim_net_free(net);
    cim_energy_spec *s = spec_or_fail(fx, cim_energy_spec_default(arch_name));
    assert_int_equal(cim_eval_energy(fx->ctx, s, r), CIM_OK);
    cim_energy_spec_free(fx->ctx, s);
    return 1;
}

static double titanium_product(const cim_titanium *t)
{
    return t->energy_per_convert_pj * t->converts_per_mac * t->macs / t->utilization;
}

static void test_titanium_multiplies_back(void **state)
{
    tu_fx *fx = *state;
    static const char *const archs[] = {"isaac", "raella", "raella-nospec"};
    for (size_t a = 0; a < sizeof archs / sizeof *archs; a++) {
        cim_eval_result r;
        if (!eval_priced(fx, archs[a], &r))
            skip();
        assert_true(r.has_energy);
        double sum = 0, adc = 0;
        for (int i = 0; i < r.n_layers; i++) {
            const cim_energy *e = &r.layers[i].energy;
            assert_true(e->pj[CIM_ENERGY_ADC] > 0);
            ASSERT_REL(titanium_product(&e->titanium), e->pj[CIM_ENERGY_ADC], 1e-9);
            assert_true(e->titanium.utilization > 0 && e->titanium.utilization <= 1);
            /* per inference: the layer's MACs over the samples */
            ASSERT_REL(e->titanium.macs, (double)r.layers[i].macs / (double)r.samples, 1e-12);
            sum += e->total_pj;
            adc += e->pj[CIM_ENERGY_ADC];
        }
        ASSERT_REL(r.energy.total_pj, sum, 1e-12);
        ASSERT_REL(titanium_product(&r.energy.titanium), adc, 1e-9);
        ASSERT_REL(r.energy.titanium.macs, (double)r.totals.macs / (double)r.samples, 1e-12);
        /* raw conversions per MAC = Titanium's (full utilization) / utilization */
        ASSERT_REL(r.energy.titanium.converts_per_mac / r.energy.titanium.utilization,
                   cim_stats_converts_per_mac(&r.totals), 1e-9);
        cim_eval_result_free(fx->ctx, &r);
    }
}

static void test_eval_json(void **state)
{
    tu_fx *fx = *state;
    cim_eval_result r[2];
    if (!eval_priced(fx, "raella", &r[0]))
        skip();
    char path[1024];
    snprintf(path, sizeof path, MODELS "lenet5.onnx");
    cim_net *net = NULL;
    assert_int_equal(cim_net_load(fx->ctx, path, &net), CIM_OK);
    cim_arch arch;
    assert_int_equal(cim_arch_load(fx->ctx, "timely-like", &arch), CIM_OK);
    cim_eval_options o;
    cim_eval_options_default(&o);
    o.limit = 4;
    o.histogram = 0;
    assert_int_equal(cim_net_eval(fx->ctx, net, &arch, "fashion-mnist:test", &o, &r[1]), CIM_OK);
    cim_net_free(net);

    char out[600];
    snprintf(out, sizeof out, "%s/eval.json", fx->dir);
    assert_int_equal(cim_eval_write_json(fx->ctx, out, r, 2), CIM_OK);
    json_error_t err;
    json_t *root = json_load_file(out, 0, &err);
    assert_non_null(root);
    assert_true(json_is_array(root));
    json_t *a = json_array_get(root, 0);
    static const char *const tkeys[] = {"energy_per_convert_pj", "converts_per_mac", "macs", "utilization"};
    json_t *objs[2] = {a, json_array_get(json_object_get(a, "layers"), 0)};
    const cim_energy *es[2] = {&r[0].energy, &r[0].layers[0].energy};
    for (int k = 0; k < 2; k++) {
        json_t *o2 = objs[k];
        assert_non_null(o2);
        ASSERT_REL(json_real_value(json_object_get(o2, "energy_pj_per_inference")), es[k]->total_pj, 1e-12);
        json_t *by = json_object_get(o2, "energy_by_component");
        assert_true(json_is_object(by));
        for (int i = 0; i < CIM_ENERGY_PARTS; i++)
            ASSERT_REL(json_real_value(json_object_get(by, cim_energy_part_name((cim_energy_part)i))) + 1,
                       es[k]->pj[i] + 1, 1e-12);
        json_t *ti = json_object_get(o2, "titanium");
        assert_true(json_is_object(ti));
        for (size_t i = 0; i < 4; i++)
            assert_true(json_is_real(json_object_get(ti, tkeys[i])));
    }
    assert_string_equal(json_string_value(json_object_get(a, "energy_spec")), "raella");
    /* an arch without energy: the key is there and null */
    json_t *b = json_array_get(root, 1);
    assert_true(json_is_null(json_object_get(b, "energy_pj_per_inference")));
    assert_null(json_object_get(b, "titanium"));
    json_decref(root);
    cim_eval_result_free(fx->ctx, &r[0]);
    cim_eval_result_free(fx->ctx, &r[1]);
}

/* Colonnade: 1.17 pJ per 8b x 8b MAC at 65 nm, scaled to the spec's node by
 * the library's rule; at 65 nm exactly the published number. */
static void test_digital_cim_colonnade(void **state)
{
    tu_fx *fx = *state;
    cim_eval_result r;
    if (!eval_priced(fx, "digital-cim", &r))
        skip();
    cim_components *lib = NULL;
    assert_int_equal(cim_components_load(fx->ctx, NULL, &lib), CIM_OK);
    double ef, af;
    assert_int_equal(cim_tech_scale(fx->ctx, lib, 65, NAN, 32, &ef, &af), CIM_OK);
    cim_components_free(fx->ctx, lib);
    ASSERT_REL(ef, (32.0 / 65.0) * (0.9 / 1.1) * (0.9 / 1.1), 1e-12); /* NeuroSim's supplies */
    assert_true(r.energy.pj[CIM_ENERGY_ADC] == 0 && r.energy.pj[CIM_ENERGY_CROSSBAR] == 0);
    ASSERT_REL(r.energy.pj[CIM_ENERGY_DIGITAL] / r.energy.macs, 1.17 * ef, 1e-12);
    assert_true(r.energy.titanium.energy_per_convert_pj == 0 && r.energy.titanium.converts_per_mac == 0);
    cim_eval_result_free(fx->ctx, &r);

    /* the same spec at Colonnade's own node: 1.17 pJ per MAC */
    char path[600];
    snprintf(path, sizeof path, "%s/colonnade65.yaml", fx->dir);
    const char *text = cim_energy_spec_text("digital-cim");
    char *t = malloc(strlen(text) + 1);
    assert_non_null(t);
    strcpy(t, text);
    char *n = strstr(t, "node_nm: 32");
    assert_non_null(n);
    memcpy(n, "node_nm: 65", 11);
    tu_write_file(path, t, strlen(t));
    free(t);
    cim_energy_spec *s = spec_or_fail(fx, path);
    assert_true(cim_energy_spec_node(s) == 65);
    cim_xbar_config cfg;
    assert_int_equal(cim_config_preset(fx->ctx, "digital-cim", &cfg), CIM_OK);
    cim_stats st;
    cim_stats_reset(&st);
    st.macs = 1000;
    st.digital_reads = 64;
    cim_layer_info info;
    memset(&info, 0, sizeof info);
    cim_energy e;
    assert_int_equal(cim_energy_layer(fx->ctx, s, &cfg, &st, &info, &e), CIM_OK);
    ASSERT_REL(e.pj[CIM_ENERGY_DIGITAL], 1170, 1e-12);
    /* conversions on a spec without an ADC are an error */
    st.adc_converts = 3;
    assert_int_equal(cim_energy_layer(fx->ctx, s, &cfg, &st, &info, &e), CIM_ERR_CONFIG);
    cim_energy_spec_free(fx->ctx, s);
}

/* A bad spec file fails naming the file, the key and the line. */
static void expect_bad(tu_fx *fx, const char *name, const char *text, const char *key, int line)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", fx->dir, name);
    tu_write_file(path, text, strlen(text));
    cim_energy_spec *s = NULL;
    cim_status st = cim_energy_spec_load(fx->ctx, path, NULL, &s);
    assert_int_equal(st, CIM_ERR_CONFIG);
    assert_null(s);
    const char *msg = cim_ctx_errmsg(fx->ctx);
    char where[700];
    snprintf(where, sizeof where, "%s:%d:", path, line);
    if (!strstr(msg, path) || !strstr(msg, key) || (line > 0 && !strstr(msg, where)))
        fail_msg("%s: message '%s' does not name the file, line %d and key '%s'", name, msg, line, key);
}

#define GOOD_TAIL                                                                                 \
    "device: reram_raella\ndac: raella.dac_pulse_train\nsample_hold: raella.sample_hold\n"        \
    "shift_add: raella.shift_add\ninput_sum: raella.input_sum_add\nquantizer: raella.quant_multiplier\n" \
    "buffer: isaac.edram\nbus: isaac.edram_bus\ndigital: none\n"

static void test_bad_specs(void **state)
{
    tu_fx *fx = *state;
    /* a good file first, so the bad ones fail for their one fault */
    char path[600];
    snprintf(path, sizeof path, "%s/good.yaml", fx->dir);
    const char *good = "source: s\nnode_nm: 32\nadc: {model: andrulis, rate_hz: 1.0e9}\n" GOOD_TAIL;
    tu_write_file(path, good, strlen(good));
    cim_energy_spec *s = spec_or_fail(fx, path);
    double pj;
    assert_int_equal(cim_energy_adc_pj(fx->ctx, s, 8, &pj), CIM_OK);
    cim_adc_estimate a;
    assert_int_equal(cim_adc_andrulis(fx->ctx, 8, 32, 1e9, &a), CIM_OK);
    ASSERT_REL(pj, a.energy_pj, 1e-12);
    cim_energy_spec_free(fx->ctx, s);

    expect_bad(fx, "unknown.yaml", "source: s\nnode_nm: 32\nadc: none\ncolour: blue\n" GOOD_TAIL, "colour", 4);
    expect_bad(fx, "nosource.yaml", "node_nm: 32\nadc: none\n" GOOD_TAIL, "source", 1);
    expect_bad(fx, "nonode.yaml", "source: s\nadc: none\n" GOOD_TAIL, "node_nm", 1);
    expect_bad(fx, "badnode.yaml", "source: s\nnode_nm: huge\nadc: none\n" GOOD_TAIL, "node_nm", 2);
    expect_bad(fx, "nocomp.yaml", "source: s\nnode_nm: 32\nadc: none\nquantizer: no.such.part\n", "quantizer", 4);
    expect_bad(fx, "model.yaml", "source: s\nnode_nm: 32\nadc: {model: magic, rate_hz: 1e9}\n" GOOD_TAIL,
               "adc.model", 3);
    expect_bad(fx, "norate.yaml", "source: s\nnode_nm: 32\nadc: {model: andrulis}\n" GOOD_TAIL, "adc.rate_hz", 3);
    expect_bad(fx, "part.yaml", "source: s\nnode_nm: 32\nadc: {model: part, part: isaac.dac_1bit, rate_hz: 1e9}\n"
               "device: reram_raella\n", "adc.part", 3);
    expect_bad(fx, "device.yaml", "source: s\nnode_nm: 32\nadc: none\ndevice: flash\n", "device", 4);
    expect_bad(fx, "buffer.yaml",
               "source: s\nnode_nm: 32\nadc: none\ndevice: none\ndac: none\nsample_hold: none\nshift_add: none\n"
               "input_sum: none\nquantizer: none\nbuffer: isaac.sample_hold\nbus: none\ndigital: none\n",
               "buffer", 10);
    expect_bad(fx, "missing.yaml", "source: s\nnode_nm: 32\nadc: none\ndevice: none\n", "dac", 1);
    expect_bad(fx, "digital.yaml", "source: s\nnode_nm: 32\nadc: none\ndevice: none\ndac: none\n"
               "sample_hold: none\nshift_add: none\ninput_sum: none\nquantizer: none\nbuffer: none\nbus: none\n"
               "digital: {component: colonnade.mac_8b, per: cycle}\n", "digital.per", 12);
    expect_bad(fx, "syntax.yaml", "source: s\nnode_nm: [32\n", "YAML syntax error", 0);
    expect_bad(fx, "list.yaml", "- 1\n- 2\n", "top level", 1);
    /* a missing file is an I/O error naming it; an unknown built-in name lists them */
    assert_int_equal(cim_energy_spec_load(fx->ctx, "/nonexistent/e.yaml", NULL, &s), CIM_ERR_IO);
    assert_non_null(strstr(cim_ctx_errmsg(fx->ctx), "/nonexistent/e.yaml"));
    assert_int_equal(cim_energy_spec_load(fx->ctx, "isaac-9000", NULL, &s), CIM_ERR_CONFIG);
    assert_non_null(strstr(cim_ctx_errmsg(fx->ctx), "raella"));
    assert_null(s);
}

static int setup(void **state) { return tu_fx_setup(state, "energy"); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_hand_computed, setup, tu_fx_teardown),
        cmocka_unit_test_setup_teardown(test_defaults, setup, tu_fx_teardown),
        cmocka_unit_test_setup_teardown(test_titanium_multiplies_back, setup, tu_fx_teardown),
        cmocka_unit_test_setup_teardown(test_eval_json, setup, tu_fx_teardown),
        cmocka_unit_test_setup_teardown(test_digital_cim_colonnade, setup, tu_fx_teardown),
        cmocka_unit_test_setup_teardown(test_bad_specs, setup, tu_fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
