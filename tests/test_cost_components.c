/* test_cost_components.c: the component models (include/cimsim/cost.h): the
 * ADC equations against an independent evaluation on a grid and against the
 * published check value, the fixed-part scaling, the thermal floor and
 * envelope, Horowitz's table at 45 nm and technology scaling, the crossbar
 * read energy on a hand-computed case and on a programmed layer, and bad
 * component files (errors naming file and key). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "testutil.h"

static int rel_close(double a, double b, double tol) { return fabs(a - b) <= tol * fmax(fabs(a), fabs(b)); }

#define ASSERT_REL(a, b, tol)                                                                   \
    do {                                                                                        \
        double a_ = (a), b_ = (b);                                                              \
        if (!rel_close(a_, b_, tol))                                                            \
            fail_msg("%s = %.12g, expected %.12g (rel tol %g)", #a, a_, b_, (double)(tol));      \
    } while (0)

static cim_components *lib_or_fail(tu_fx *fx, const char *path)
{
    cim_components *lib = NULL;
    cim_status st = cim_components_load(fx->ctx, path, &lib);
    if (st)
        fail_msg("load %s: %s", path ? path : "(built in)", cim_ctx_errmsg(fx->ctx));
    return lib;
}

/* Andrulis et al. 2024 written out again, term by term, in long double. */
static void andrulis_ref(double B, double T, double f, double *e_pj, double *a_um2)
{
    long double fom_rate = 213.7807L - 2.87190L * logl(f);
    long double fom_bits = 128.3068L + 3.22051L * ceill(B);
    long double fom = fom_rate < fom_bits ? fom_rate : fom_bits;
    long double sndr = 6.0206L * B + 1.7609L;
    long double e0 = 1.0L / (2.0L * powl(10.0L, (fom - sndr) / 10.0L));
    long double e = e0 * expl(26.04962L + 1.880037L * logl(T) - 2.829126L * logl(B) - 1.470202L);
    *e_pj = (double)e;
    *a_um2 = (double)expl(1.346192L + 0.993279L * logl(T) + 0.180715L * logl(f) + 0.299124L * logl(e));
}

static void test_adc_andrulis_grid(void **state)
{
    tu_fx *fx = *state;
    static const double bits[] = {1, 2, 3, 4, 4.5, 5, 6, 7, 8, 9, 10, 12, 14, 16};
    static const double nodes[] = {7, 16, 22, 32, 45, 65, 130};
    static const double rates[] = {1e4, 1e6, 1e8, 1e9, 1.28e9, 1e10, 1e11};
    int n = 0, rate_limited = 0, bits_limited = 0;
    for (size_t i = 0; i < sizeof bits / sizeof *bits; i++)
        for (size_t j = 0; j < sizeof nodes / sizeof *nodes; j++)
            for (size_t k = 0; k < sizeof rates / sizeof *rates; k++) {
                cim_adc_estimate got;
                assert_int_equal(cim_adc_andrulis(fx->ctx, bits[i], nodes[j], rates[k], &got), CIM_OK);
                double e, a;
                andrulis_ref(bits[i], nodes[j], rates[k], &e, &a);
                ASSERT_REL(got.energy_pj, e, 1e-9);
                ASSERT_REL(got.area_um2, a, 1e-9);
                if (213.7807 - 2.87190 * log(rates[k]) < 128.3068 + 3.22051 * ceil(bits[i]))
                    rate_limited++;
                else
                    bits_limited++;
                n++;
            }
    assert_int_equal(n, 14 * 7 * 7);
    assert_true(rate_limited > 0 && bits_limited > 0); /* both branches of the min() were exercised */
}

static void test_adc_check_value(void **state)
{
    tu_fx *fx = *state;
    cim_adc_estimate e;
    assert_int_equal(cim_adc_andrulis(fx->ctx, 8, 32, 1.28e9, &e), CIM_OK);
    /* issue 5: 8 bits, 1.28 GS/s, 32 nm gives about 1.93 pJ and 6469 um2 */
    assert_true(fabs(e.energy_pj - 1.93) <= 0.005 * 1.93);
    assert_true(fabs(e.area_um2 - 6469) <= 0.005 * 6469);
    /* more bits cost more at a fixed rate and node */
    cim_adc_estimate lo, hi;
    assert_int_equal(cim_adc_andrulis(fx->ctx, 7, 32, 1.28e9, &lo), CIM_OK);
    assert_int_equal(cim_adc_andrulis(fx->ctx, 9, 32, 1.28e9, &hi), CIM_OK);
    assert_true(lo.energy_pj < e.energy_pj && e.energy_pj < hi.energy_pj);
    /* out of range: an error with a message, no abort */
    assert_int_equal(cim_adc_andrulis(fx->ctx, 0, 32, 1e9, &e), CIM_ERR_RANGE);
    assert_non_null(strstr(cim_ctx_errmsg(fx->ctx), "bits"));
    assert_int_equal(cim_adc_andrulis(fx->ctx, 8, -1, 1e9, &e), CIM_ERR_RANGE);
    assert_int_equal(cim_adc_andrulis(fx->ctx, 8, 32, 0, &e), CIM_ERR_RANGE);
    assert_int_equal(cim_adc_andrulis(fx->ctx, NAN, 32, 1e9, &e), CIM_ERR_RANGE);
}

static void test_adc_part_scaling(void **state)
{
    tu_fx *fx = *state;
    cim_components *lib = lib_or_fail(fx, NULL);
    const cim_component *isaac, *saberi;
    assert_int_equal(cim_components_get(fx->ctx, lib, "isaac.adc", &isaac), CIM_OK);
    assert_int_equal(cim_components_get(fx->ctx, lib, "isaac.adc_saberi", &saberi), CIM_OK);
    assert_int_equal(isaac->bits, 8);
    ASSERT_REL(isaac->energy_pj, 1.67, 1e-12);
    ASSERT_REL(isaac->area_um2, 1200, 1e-12);  /* 0.0096 mm2 / 8 */
    ASSERT_REL(isaac->power_mw, 2, 1e-12);     /* 16 mW / 8 */
    cim_adc_estimate e;
    for (int b = 1; b <= 12; b++) {
        assert_int_equal(cim_adc_part(fx->ctx, lib, isaac, b, 32, &e), CIM_OK);
        ASSERT_REL(e.energy_pj, 1.67 * pow(2, b - 8), 1e-12);
        ASSERT_REL(e.area_um2, 1200 * pow(2, b - 8), 1e-12);
    }
    /* Saberi's table where it has the bits, x2 per bit outside it */
    assert_int_equal(cim_adc_part(fx->ctx, lib, saberi, 7, 32, &e), CIM_OK);
    ASSERT_REL(e.energy_pj, 1.42, 1e-12);
    ASSERT_REL(e.area_um2, 845.18, 1e-12);
    assert_int_equal(cim_adc_part(fx->ctx, lib, saberi, 12, 32, &e), CIM_OK);
    ASSERT_REL(e.energy_pj, 1.67 * 16, 1e-12);
    /* to another node: the technology factors */
    double fe, fa;
    assert_int_equal(cim_tech_scale(fx->ctx, lib, 32, NAN, 65, &fe, &fa), CIM_OK);
    ASSERT_REL(fe, (65.0 / 32) * (1.1 / 0.9) * (1.1 / 0.9), 1e-12);
    ASSERT_REL(fa, (65.0 / 32) * (65.0 / 32), 1e-12);
    assert_int_equal(cim_adc_part(fx->ctx, lib, isaac, 7, 65, &e), CIM_OK);
    ASSERT_REL(e.energy_pj, 0.835 * fe, 1e-12);
    ASSERT_REL(e.area_um2, 600 * fa, 1e-12);
    /* a component that is not an ADC part */
    const cim_component *add;
    assert_int_equal(cim_components_get(fx->ctx, lib, "isaac.dac_1bit", &add), CIM_OK);
    assert_int_equal(cim_adc_part(fx->ctx, lib, add, 7, 32, &e), CIM_ERR_CONFIG);
    assert_non_null(strstr(cim_ctx_errmsg(fx->ctx), "isaac.dac_1bit"));
    /* by spec */
    cim_adc_spec spec = {CIM_ADC_MODEL_PART, 7, 32, 1.28e9, "isaac.adc_saberi"};
    assert_int_equal(cim_adc_estimate_spec(fx->ctx, lib, &spec, &e), CIM_OK);
    ASSERT_REL(e.energy_pj, 1.42, 1e-12);
    spec.part = "no.such.adc";
    assert_int_equal(cim_adc_estimate_spec(fx->ctx, lib, &spec, &e), CIM_ERR_CONFIG);
    assert_non_null(strstr(cim_ctx_errmsg(fx->ctx), "no.such.adc"));
    cim_adc_model m;
    assert_int_equal(cim_adc_model_parse(fx->ctx, "andrulis", &m), CIM_OK);
    assert_int_equal(m, CIM_ADC_MODEL_ANDRULIS);
    assert_int_equal(cim_adc_model_parse(fx->ctx, "magic", &m), CIM_ERR_CONFIG);
    cim_components_free(fx->ctx, lib);
}

static void test_adc_floor_envelope(void **state)
{
    tu_fx *fx = *state;
    const double k = 1.380649e-23;
    for (int b = 1; b <= 16; b++) {
        double floor_pj, env_pj;
        assert_int_equal(cim_adc_thermal_floor(fx->ctx, b, 300, &floor_pj), CIM_OK);
        ASSERT_REL(floor_pj, 8 * k * 300 * pow(10, (6.02 * b + 1.76) / 10) * 1e12, 1e-12);
        assert_int_equal(cim_adc_envelope(fx->ctx, b, &env_pj), CIM_OK);
        ASSERT_REL(env_pj, 0.27 + 0.145e-18 * pow(4, b) * 1e12, 1e-12);
        assert_true(env_pj > floor_pj); /* the best designs sit above physics */
    }
    double f8;
    assert_int_equal(cim_adc_thermal_floor(fx->ctx, 8, 300, &f8), CIM_OK);
    ASSERT_REL(f8, 3.2531e-3, 1e-3); /* 8 kT x 10^4.992 at 300 K */
    cim_adc_bounds bd;
    assert_int_equal(cim_adc_compare(fx->ctx, 8, 8, 1.67, 300, &bd), CIM_OK);
    ASSERT_REL(bd.x_floor, 1.67 / f8, 1e-12);
    ASSERT_REL(bd.x_envelope, 1.67 / (0.27 + 0.145e-6 * 65536), 1e-12);
    assert_int_equal(cim_adc_compare(fx->ctx, 8, 9, 1.67, 300, &bd), CIM_ERR_RANGE); /* ENOB > bits */
    assert_int_equal(cim_adc_thermal_floor(fx->ctx, 8, 0, &f8), CIM_ERR_RANGE);
}

static void test_horowitz_and_scaling(void **state)
{
    tu_fx *fx = *state;
    cim_components *lib = lib_or_fail(fx, NULL);
    static const struct { const char *name; double pj, um2; } tab[] = {
        {"horowitz.add_int8", 0.03, 36},   {"horowitz.add_int32", 0.1, 137},   {"horowitz.mult_int8", 0.2, 282},
        {"horowitz.mult_int32", 3.1, 3495}, {"horowitz.add_fp16", 0.4, 1360},  {"horowitz.mult_fp16", 1.1, 1640},
        {"horowitz.sram_8kb_read64", 10, NAN}, {"horowitz.sram_32kb_read64", 20, NAN},
        {"horowitz.sram_1mb_read64", 100, NAN}, {"horowitz.dram_read64_low", 1300, NAN},
        {"horowitz.dram_read64_high", 2600, NAN}};
    for (size_t i = 0; i < sizeof tab / sizeof *tab; i++) {
        const cim_component *c;
        cim_component_cost k;
        assert_int_equal(cim_components_get(fx->ctx, lib, tab[i].name, &c), CIM_OK);
        assert_int_equal(cim_component_at_node(fx->ctx, lib, c, 45, &k), CIM_OK);
        assert_true(k.energy_pj == tab[i].pj); /* exactly as published at 45 nm */
        if (isnan(tab[i].um2))
            assert_true(isnan(k.area_um2));
        else
            assert_true(k.area_um2 == tab[i].um2);
        assert_true(c->source && strstr(c->source, "Horowitz"));
    }
    /* scaling: monotonic in the node, composable, identity at the same node */
    double prev_e = INFINITY, prev_a = INFINITY;
    for (int i = 0; i < cim_components_node_count(lib); i++) {
        const cim_tech_node *t = cim_components_node_at(lib, i);
        double fe, fa;
        assert_int_equal(cim_tech_scale(fx->ctx, lib, 45, NAN, t->node_nm, &fe, &fa), CIM_OK);
        assert_true(fe < prev_e && fa < prev_a); /* the table runs from large nodes to small */
        prev_e = fe;
        prev_a = fa;
    }
    double e1, a1, e2, a2, e3, a3;
    assert_int_equal(cim_tech_scale(fx->ctx, lib, 45, NAN, 45, &e1, &a1), CIM_OK);
    assert_true(e1 == 1 && a1 == 1);
    assert_int_equal(cim_tech_scale(fx->ctx, lib, 65, NAN, 32, &e1, &a1), CIM_OK);
    assert_int_equal(cim_tech_scale(fx->ctx, lib, 32, NAN, 14, &e2, &a2), CIM_OK);
    assert_int_equal(cim_tech_scale(fx->ctx, lib, 65, NAN, 14, &e3, &a3), CIM_OK);
    ASSERT_REL(e1 * e2, e3, 1e-12);
    ASSERT_REL(a1 * a2, a3, 1e-12);
    /* between table nodes: V interpolated in log(node), within its neighbours */
    double v;
    assert_int_equal(cim_tech_vdd(fx->ctx, lib, 50, &v), CIM_OK);
    assert_true(v > 1.0 && v < 1.1);
    assert_int_equal(cim_tech_vdd(fx->ctx, lib, 3, &v), CIM_ERR_RANGE); /* no extrapolation */
    assert_non_null(strstr(cim_ctx_errmsg(fx->ctx), "technology table"));
    /* 45 -> 32 nm is (32/45) (0.9/1.0)^2 in energy */
    const cim_component *c;
    cim_component_cost k;
    assert_int_equal(cim_components_get(fx->ctx, lib, "horowitz.mult_int8", &c), CIM_OK);
    assert_int_equal(cim_component_at_node(fx->ctx, lib, c, 32, &k), CIM_OK);
    ASSERT_REL(k.energy_pj, 0.2 * (32.0 / 45) * 0.81, 1e-12);
    ASSERT_REL(k.area_um2, 282 * (32.0 / 45) * (32.0 / 45), 1e-12);
    /* Colonnade for the digital-cim preset, as published at 65 nm */
    assert_int_equal(cim_components_get(fx->ctx, lib, "colonnade.mac_8b", &c), CIM_OK);
    assert_true(c->energy_pj == 1.17 && c->node_nm == 65 && c->vdd_v == 0.8);
    cim_components_free(fx->ctx, lib);
}

static void test_isaac_table_sums(void **state)
{
    tu_fx *fx = *state;
    cim_components *lib = lib_or_fail(fx, NULL);
    /* ISAAC Table 1: 12 IMAs (8 ADC, 1024 DAC, 1024 S+H, 8 arrays, 4 S+A, IR, OR) + tile parts. */
    static const struct { const char *name; int per_tile; } parts[] = {
        {"isaac.adc", 96},          {"isaac.dac_1bit", 12 * 1024}, {"isaac.sample_hold", 12 * 1024},
        {"isaac.crossbar", 96},     {"isaac.shift_add", 48},       {"isaac.input_register", 12},
        {"isaac.output_register", 12}, {"isaac.edram", 1},         {"isaac.edram_bus", 1},
        {"isaac.router", 1},        {"isaac.sigmoid", 2},          {"isaac.tile_shift_add", 1},
        {"isaac.maxpool", 1},       {"isaac.tile_output_register", 1}};
    double mw = 0, um2 = 0;
    for (size_t i = 0; i < sizeof parts / sizeof *parts; i++) {
        const cim_component *c;
        assert_int_equal(cim_components_get(fx->ctx, lib, parts[i].name, &c), CIM_OK);
        mw += c->power_mw * parts[i].per_tile;
        um2 += c->area_um2 * parts[i].per_tile;
    }
    assert_true(fabs(mw - 330) < 0.5);           /* 330 mW per tile */
    assert_true(fabs(um2 * 1e-6 - 0.372) < 0.001); /* 0.372 mm2 per tile */
    cim_components_free(fx->ctx, lib);
}

static void test_crossbar_energy(void **state)
{
    tu_fx *fx = *state;
    cim_components *lib = lib_or_fail(fx, NULL);
    const cim_device *d;
    assert_int_equal(cim_components_device(fx->ctx, lib, "reram_raella", &d), CIM_OK);
    assert_true(d->r_on_ohm == 1333 && d->r_off_ohm == 20000 && d->read_v == 0.2 && d->pulse_ns == 1);
    /* By hand: one column of two 4-bit devices at levels 15 and 3, the first
     * row pulsed twice and the second once. Each pulse on a device costs
     * G(level) V^2 t with G(l) = 1/20k + l (1/1333 - 1/20k) / 15. */
    double g15 = 1.0 / 1333, g3 = 1.0 / 20000 + 3 * (1.0 / 1333 - 1.0 / 20000) / 15;
    double hand_pj = (2 * g15 + 1 * g3) * 0.2 * 0.2 * 1e-9 * 1e12;
    double got;
    assert_int_equal(cim_crossbar_read_energy(fx->ctx, d, 4, 2 * 15 + 1 * 3, 3, &got), CIM_OK);
    ASSERT_REL(got, hand_pj, 1e-12);
    ASSERT_REL(hand_pj, 0.0676, 1e-3); /* 2 x 0.0300 (level 15) + 0.0076 (level 3) pJ */
    double g;
    assert_int_equal(cim_device_conductance(fx->ctx, d, 4, 15, &g), CIM_OK);
    ASSERT_REL(g, 1.0 / 1333, 1e-12);
    assert_int_equal(cim_device_conductance(fx->ctx, d, 4, 16, &g), CIM_ERR_RANGE);
    assert_int_equal(cim_crossbar_read_energy(fx->ctx, d, 4, -1, 3, &got), CIM_ERR_RANGE);
    /* cell areas: 2T2R is two 1T1R cells; 48 F^2 at 32 nm */
    double a1, a2;
    assert_int_equal(cim_cell_area(fx->ctx, d, CIM_ENC_OFFSET, 32, &a1), CIM_OK);
    assert_int_equal(cim_cell_area(fx->ctx, d, CIM_ENC_CENTER_OFFSET, 32, &a2), CIM_OK);
    ASSERT_REL(a1, 48 * 0.032 * 0.032, 1e-12);
    ASSERT_REL(a2, 2 * a1, 1e-12);
    cim_components_free(fx->ctx, lib);
}

/* A programmed layer that fits one crossbar: the counters through the model
 * equal the sum over (vector, slice cycle, row, device) of pulses x G(level). */
static void test_crossbar_from_run(void **state)
{
    tu_fx *fx = *state;
    cim_components *lib = lib_or_fail(fx, NULL);
    const cim_device *d;
    assert_int_equal(cim_components_device(fx->ctx, lib, "reram_raella", &d), CIM_OK);
    cim_xbar_config cfg;
    assert_int_equal(cim_config_preset(fx->ctx, "raella-nospec", &cfg), CIM_OK);
    enum { K = 20, N = 3, M = 4 };
    int8_t W[K * N];
    uint8_t X[M * K];
    tu_rng r = {7};
    for (int i = 0; i < K * N; i++)
        W[i] = (int8_t)tu_range(&r, -128, 127);
    for (int i = 0; i < M * K; i++)
        X[i] = (uint8_t)tu_range(&r, 0, 255);
    cim_weights w = {W, CIM_INT8, K, N, NULL};
    cim_layer *layer;
    assert_int_equal(cim_layer_program(fx->ctx, &cfg, &w, 0, NULL, &layer), CIM_OK);
    int32_t P[M * N];
    cim_stats s;
    cim_layer_info info;
    assert_int_equal(cim_layer_run(fx->ctx, layer, X, M, P, &s, NULL), CIM_OK);
    cim_layer_info_get(layer, &info);
    assert_int_equal(info.chunks, 1);
    double pulses = cim_crossbar_device_pulses(&s, &info);
    /* one chunk: every pulse on a row meets devices/rows_used devices */
    ASSERT_REL(pulses, (double)s.dac_pulses * (double)info.devices / (double)info.rows_used, 1e-12);
    assert_true(info.devices == (uint64_t)K * N * 3 * 2 && info.rows_used == K);
    double e;
    assert_int_equal(cim_crossbar_read_energy(fx->ctx, d, cfg.cell_bits, (double)s.device_activations, pulses, &e),
                     CIM_OK);
    double g_off = 1.0 / 20000, g_lsb = (1.0 / 1333 - g_off) / 15;
    ASSERT_REL(e, 0.04e-9 * 1e12 * (g_off * pulses + g_lsb * (double)s.device_activations), 1e-12);
    assert_true(e > 0 && s.device_activations > 0);
    cim_layer_free(fx->ctx, layer);
    cim_components_free(fx->ctx, lib);
}

/* ---- component files ---- */

static void write_text(const char *path, const char *text) { tu_write_file(path, text, strlen(text)); }

static void expect_bad(tu_fx *fx, const char *name, const char *text, const char *want1, const char *want2)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", fx->dir, name);
    write_text(path, text);
    cim_components *lib = (cim_components *)(uintptr_t)1;
    cim_status st = cim_components_load(fx->ctx, path, &lib);
    const char *msg = cim_ctx_errmsg(fx->ctx);
    if (st != CIM_ERR_CONFIG || !strstr(msg, path) || !strstr(msg, want1) || (want2 && !strstr(msg, want2)))
        fail_msg("%s: status %d, message '%s' (wanted the file, '%s'%s%s)", name, (int)st, msg, want1,
                 want2 ? " and " : "", want2 ? want2 : "");
    assert_null(lib);
}

static void test_bad_files(void **state)
{
    tu_fx *fx = *state;
    expect_bad(fx, "unknown.yaml",
               "components:\n  my.adc:\n    kind: adc\n    event: e\n    energy_pj: 1\n    node_nm: 32\n"
               "    colour: blue\n    source: me\n",
               "colour", "my.adc");
    expect_bad(fx, "negative.yaml",
               "components:\n  my.dac:\n    kind: dac\n    event: e\n    energy_pj: -0.5\n    node_nm: 32\n"
               "    source: a paper\n",
               "energy_pj", "my.dac");
    expect_bad(fx, "nosource.yaml", "components:\n  my.add:\n    kind: digital\n    event: e\n    energy_pj: 0.1\n"
               "    node_nm: 45\n", "source", "my.add");
    expect_bad(fx, "emptysource.yaml", "components:\n  my.add:\n    kind: digital\n    event: e\n    energy_pj: 0.1\n"
               "    node_nm: 45\n    source: \"\"\n", "source", NULL);
    expect_bad(fx, "noenergy.yaml", "components:\n  my.x:\n    kind: digital\n    event: e\n    node_nm: 45\n"
               "    source: s\n", "energy_pj", "my.x");
    expect_bad(fx, "nonode.yaml", "components:\n  my.x:\n    kind: digital\n    event: e\n    energy_pj: 1\n"
               "    source: s\n", "node_nm", "my.x");
    expect_bad(fx, "notnum.yaml", "components:\n  my.x:\n    kind: digital\n    event: e\n    energy_pj: lots\n"
               "    node_nm: 45\n    source: s\n", "energy_pj", "lots");
    expect_bad(fx, "rate.yaml", "components:\n  my.x:\n    kind: digital\n    event: e\n    rate_hz: 1e6\n"
               "    energy_pj: 1\n    node_nm: 45\n    source: s\n", "rate_hz", NULL);
    expect_bad(fx, "top.yaml", "component:\n  a: 1\n", "component", NULL);
    expect_bad(fx, "syntax.yaml", "components: [unclosed\n", "YAML syntax error", NULL);
    expect_bad(fx, "device.yaml", "devices:\n  d:\n    r_on_ohm: 30000\n    r_off_ohm: 20000\n    read_v: 0.2\n"
               "    pulse_ns: 1\n    cell_area_f2: 4\n    node_nm: 32\n    source: s\n", "r_on_ohm", "'d'");
    expect_bad(fx, "devsrc.yaml", "devices:\n  d:\n    r_on_ohm: 1000\n    r_off_ohm: 20000\n    read_v: 0.2\n"
               "    pulse_ns: 1\n    cell_area_f2: 4\n    node_nm: 32\n", "source", "'d'");
    expect_bad(fx, "tech.yaml", "technology:\n  - {node_nm: 5, vdd_v: -0.7, source: s}\n", "vdd_v", NULL);
    expect_bad(fx, "twice.yaml", "components:\n  a: {kind: k, event: e, energy_pj: 1, node_nm: 1, source: s}\n"
               "  a: {kind: k, event: e, energy_pj: 2, node_nm: 1, source: s}\n", "twice", NULL);
    expect_bad(fx, "devtwice.yaml", "devices:\n  d: {r_on_ohm: 1000, r_off_ohm: 20000, read_v: 0.2, pulse_ns: 1, "
               "cell_area_f2: 4, node_nm: 32, source: s}\n  d: {r_on_ohm: 900, r_off_ohm: 20000, read_v: 0.2, "
               "pulse_ns: 1, cell_area_f2: 4, node_nm: 32, source: s}\n", "device given twice", "devtwice.yaml");
    /* a missing file is an I/O error naming it */
    cim_components *lib = NULL;
    assert_int_equal(cim_components_load(fx->ctx, "/nonexistent/comp.yaml", &lib), CIM_ERR_IO);
    assert_non_null(strstr(cim_ctx_errmsg(fx->ctx), "/nonexistent/comp.yaml"));
}

static void test_user_file_overlay(void **state)
{
    tu_fx *fx = *state;
    char path[512];
    snprintf(path, sizeof path, "%s/mine.yaml", fx->dir);
    write_text(path, "description: \"my parts\"\n"
                     "technology:\n  - {node_nm: 5, vdd_v: 0.65, source: \"my foundry\"}\n"
                     "components:\n"
                     "  isaac.adc:\n    kind: adc\n    event: one conversion\n    bits: 8\n    energy_pj: 1.0\n"
                     "    area_um2: 1000\n    node_nm: 32\n    energy_per_bit: 2\n    area_per_bit: 2\n"
                     "    source: \"a better part (test)\"\n"
                     "  my.bus:\n    kind: network\n    event: one bit\n    power_mw: 8\n    table_count: 4\n"
                     "    rate_hz: 1e9\n    area_mm2: 0.004\n    node_nm: 22\n    source: \"test\"\n");
    cim_components *base = lib_or_fail(fx, NULL), *lib = lib_or_fail(fx, path);
    assert_int_equal(cim_components_count(lib), cim_components_count(base) + 1);
    assert_int_equal(cim_components_node_count(lib), cim_components_node_count(base) + 1);
    const cim_component *c;
    assert_int_equal(cim_components_get(fx->ctx, lib, "isaac.adc", &c), CIM_OK);
    assert_true(c->energy_pj == 1.0 && strcmp(c->file, path) == 0 && c->line == 5);
    assert_int_equal(cim_components_get(fx->ctx, lib, "my.bus", &c), CIM_OK);
    ASSERT_REL(c->power_mw, 2, 1e-12);               /* 8 mW over 4 instances */
    ASSERT_REL(c->energy_pj, 2e-3 / 1e9 * 1e12, 1e-12); /* 2 mW / 1 GHz = 2 pJ */
    ASSERT_REL(c->area_um2, 1000, 1e-12);
    double v;
    assert_int_equal(cim_tech_vdd(fx->ctx, lib, 5, &v), CIM_OK);
    assert_true(v == 0.65);
    assert_int_equal(cim_components_get(fx->ctx, lib, "nothing", &c), CIM_ERR_CONFIG);
    assert_non_null(strstr(cim_ctx_errmsg(fx->ctx), "nothing"));
    /* every built-in entry names a source */
    for (int i = 0; i < cim_components_count(base); i++)
        assert_true(cim_components_at(base, i)->source[0] != 0);
    assert_non_null(cim_components_builtin_text("data/components/isaac.yaml"));
    cim_components_free(fx->ctx, lib);
    cim_components_free(fx->ctx, base);
}

/* Every allocation failure while loading is an error, and nothing leaks. */
static void test_alloc_failures(void **state)
{
    tu_fx *fx = *state;
    long ok_calls, live0 = fx->live; /* the context's own blocks */
    {
        fx->calls = 0; /* count the load's allocations only, not the context's */
        cim_components *lib = lib_or_fail(fx, NULL);
        ok_calls = fx->calls;
        cim_components_free(fx->ctx, lib);
    }
    assert_true(ok_calls > 10);
    for (long n = 1; n <= ok_calls; n += (ok_calls / 40) + 1) {
        fx->calls = 0;
        fx->fail_at = n;
        cim_components *lib = NULL;
        cim_status st = cim_components_load(fx->ctx, NULL, &lib);
        fx->fail_at = 0;
        assert_int_equal(st, CIM_ERR_NOMEM);
        assert_null(lib);
        assert_int_equal(fx->live, live0);
    }
}

static int setup(void **state) { return tu_fx_setup(state, "cost"); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_adc_andrulis_grid, setup, tu_fx_teardown),
        cmocka_unit_test_setup_teardown(test_adc_check_value, setup, tu_fx_teardown),
        cmocka_unit_test_setup_teardown(test_adc_part_scaling, setup, tu_fx_teardown),
        cmocka_unit_test_setup_teardown(test_adc_floor_envelope, setup, tu_fx_teardown),
        cmocka_unit_test_setup_teardown(test_horowitz_and_scaling, setup, tu_fx_teardown),
        cmocka_unit_test_setup_teardown(test_isaac_table_sums, setup, tu_fx_teardown),
        cmocka_unit_test_setup_teardown(test_crossbar_energy, setup, tu_fx_teardown),
        cmocka_unit_test_setup_teardown(test_crossbar_from_run, setup, tu_fx_teardown),
        cmocka_unit_test_setup_teardown(test_bad_files, setup, tu_fx_teardown),
        cmocka_unit_test_setup_teardown(test_user_file_overlay, setup, tu_fx_teardown),
        cmocka_unit_test_setup_teardown(test_alloc_failures, setup, tu_fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
