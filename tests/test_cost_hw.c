/* test_cost_hw.c: hardware architectures and mapping (include/cimsim/hw.h):
 * isaac-16b against the ISAAC paper's Table 1 sums and peak figures, what
 * raella's components give against the thesis' 743 tiles in 600 mm2, a tile
 * count from an area budget, crossbar counts and cycles of hand-computed
 * layers, greedy replication of a toy 3-layer network as computed by hand,
 * the budget never exceeded, and bad hardware files (errors naming file, line
 * and key). */
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

static cim_components *lib_or_fail(tu_fx *fx)
{
    cim_components *lib = NULL;
    if (cim_components_load(fx->ctx, NULL, &lib))
        fail_msg("components: %s", cim_ctx_errmsg(fx->ctx));
    return lib;
}

static void load_or_fail(tu_fx *fx, const cim_components *lib, const char *name, cim_hw *hw, cim_hw_cost *cost)
{
    if (cim_hw_load(fx->ctx, lib, name, hw))
        fail_msg("hw %s: %s", name, cim_ctx_errmsg(fx->ctx));
    if (cost && cim_hw_cost_compute(fx->ctx, lib, hw, cost))
        fail_msg("hw cost %s: %s", name, cim_ctx_errmsg(fx->ctx));
}

/* ISAAC (ISCA 2016) Table 1: 330 mW and 0.372 mm2 per tile, 65.8 W and 85.4
 * mm2 per chip; section 6: 41.3 TOPS peak (about 41), 479 GOPS/s/mm2. Its
 * 380.7 GOPS/s/W does not follow from the table: 41.3 TOPS / 65.8 W = 627. */
static void test_isaac16b_table1(void **state)
{
    tu_fx *fx = *state;
    cim_components *lib = lib_or_fail(fx);
    cim_hw hw;
    cim_hw_cost c;
    load_or_fail(fx, lib, "isaac-16b", &hw, &c);
    ASSERT_REL(c.tile_power_mw, 330, 0.01);
    ASSERT_REL(c.tile_area_mm2, 0.372, 0.01);
    ASSERT_REL(c.chip_power_w, 65.8, 0.01);
    ASSERT_REL(c.chip_area_mm2, 85.4, 0.01);
    assert_int_equal(c.tiles, 168);
    assert_true(c.crossbars == 168u * 12u * 8u);
    ASSERT_REL(c.cycle_ns, 100, 1e-12);
    /* 16128 crossbars x 128 rows x 16 weights per row / 1.6 us, 2 ops per MAC */
    ASSERT_REL(c.peak_tops, 2.0 * 16128 * 128 * 16 / 1.6e-6 * 1e-12, 1e-12);
    ASSERT_REL(c.peak_tops, 41.3, 0.01);
    ASSERT_REL(c.peak_gops_per_mm2, 479.0, 0.01);
    ASSERT_REL(c.peak_tops_per_w * 1e3, 627.4, 0.01); /* not the paper's 380.7 */
    assert_true(c.peak_tops_per_w * 1e3 > 1.5 * 380.7);
    assert_int_equal(c.power_data_dependent, 0);
    /* per IMA: Table 1's IMA rows */
    ASSERT_REL(c.level_power_mw[CIM_HW_IMA], 16 + 4 + 0.01 + 2.4 + 0.2 + 1.24 + 0.23, 1e-9);
    cim_components_free(fx->ctx, lib);
}

/* RAELLA: the thesis fits 743 tiles in 600 mm2 at 32 nm (0.8075 mm2 per tile).
 * With our components a tile is larger: the 2T2R array (two NeuroSim 48 F^2
 * 1T1R cells per pair) alone is 0.82 mm2 per tile; everything else fits. */
static void test_raella_area(void **state)
{
    tu_fx *fx = *state;
    cim_components *lib = lib_or_fail(fx);
    cim_hw hw;
    cim_hw_cost c;
    load_or_fail(fx, lib, "raella", &hw, &c);
    assert_int_equal(c.tiles, 743);
    assert_int_equal(hw.rows, 512);
    assert_int_equal(hw.devices_per_cell, 2);
    double array_um2 = NAN;
    for (int i = 0; i < c.n_parts; i++)
        if (strcmp(c.part[i].component, "array") == 0)
            array_um2 = c.part[i].area_um2;
    double f = 0.032; /* um */
    ASSERT_REL(array_um2, 512.0 * 512 * 2 * 48 * f * f, 1e-9);
    double array_tile_mm2 = array_um2 * 4 * 8 * 1e-6;
    ASSERT_REL(array_tile_mm2, 0.8246, 0.001);
    assert_int_equal(c.tiles_fitting_budget, (int)floor(600 / c.tile_area_mm2));
    assert_true(c.tiles_fitting_budget < 743);
    assert_true(743 * (c.tile_area_mm2 - array_tile_mm2) < 600); /* the array is why */
    assert_int_equal(c.power_data_dependent, 1);
    /* the 7-bit ADC: ISAAC's part by Saberi's table, 1.42 pJ x 1.28 GS/s, four per crossbar */
    for (int i = 0; i < c.n_parts; i++)
        if (strcmp(c.part[i].component, "isaac.adc_saberi") == 0) {
            ASSERT_REL(c.part[i].power_mw, 4 * 1.42 * 1.28, 1e-9);
            ASSERT_REL(c.part[i].area_um2, 4 * 845.18, 1e-9);
        }
    ASSERT_REL(c.cycle_ns, 100, 1e-12); /* 512 columns / (4 x 1.28 GS/s) */
    cim_components_free(fx->ctx, lib);
}

/* A chip with an area budget and no tile count takes the tiles that fit. */
static void test_area_budget(void **state)
{
    tu_fx *fx = *state;
    cim_components *lib = lib_or_fail(fx);
    const char *t = cim_hw_text("isaac-16b");
    assert_non_null(t);
    char *s = malloc(strlen(t) + 64);
    const char *at = strstr(t, "tiles: 168");
    assert_non_null(at);
    sprintf(s, "%.*sarea_budget_mm2: 85.5%s", (int)(at - t), t, at + strlen("tiles: 168"));
    cim_hw hw;
    cim_hw_cost c;
    assert_int_equal(cim_hw_parse(fx->ctx, lib, "budget.yaml", s, strlen(s), &hw), CIM_OK);
    assert_int_equal(cim_hw_cost_compute(fx->ctx, lib, &hw, &c), CIM_OK);
    assert_int_equal(hw.tiles, (int)floor((85.5 - 22.88) / c.tile_area_mm2));
    assert_int_equal(hw.tiles, 168);
    assert_true(c.chip_area_mm2 <= 85.5);
    assert_true(c.chip_area_mm2 + c.tile_area_mm2 > 85.5);
    free(s);
    cim_components_free(fx->ctx, lib);
}

static cim_hw_layer layer(const char *name, int K, int N, int groups, uint64_t M, const cim_xbar_config *cfg)
{
    cim_hw_layer l = {name, K, N, groups, M, 0, -1, cfg};
    return l;
}

/* Crossbars and cycles of single layers, computed by hand. */
static void test_map_layers(void **state)
{
    tu_fx *fx = *state;
    cim_components *lib = lib_or_fail(fx);
    cim_hw raella, isaac;
    load_or_fail(fx, lib, "raella", &raella, NULL);
    load_or_fail(fx, lib, "isaac", &isaac, NULL);
    cim_xbar_config rc, ic, nospec;
    assert_int_equal(cim_config_preset(fx->ctx, "raella", &rc), CIM_OK);
    assert_int_equal(cim_config_preset(fx->ctx, "isaac", &ic), CIM_OK);
    assert_int_equal(cim_config_preset(fx->ctx, "raella-nospec", &nospec), CIM_OK);
    cim_hw_layer_map m;
    /* raella, 4,2,2 slices: 170 filters per 512-column crossbar */
    cim_hw_layer l = layer("conv1", 147, 64, 1, 12544, &rc);
    assert_int_equal(cim_hw_map_layer(fx->ctx, &raella, &l, &m), CIM_OK);
    assert_true(m.crossbars == 1);
    assert_int_equal(m.filters_per_crossbar, 170);
    ASSERT_REL(m.utilization, 147.0 * 64 * 3 / (512.0 * 512), 1e-12);
    assert_int_equal(m.cycles_per_vector, 11); /* 3 speculative + 8 recovery */
    ASSERT_REL(m.time_ns, 12544 * 1100.0, 1e-12);
    l = layer("big", 4608, 512, 1, 49, &rc); /* 9 chunks x ceil(512/170) = 4 */
    assert_int_equal(cim_hw_map_layer(fx->ctx, &raella, &l, &m), CIM_OK);
    assert_true(m.crossbars == 36);
    assert_int_equal(m.chunks, 9);
    l.input_signed = 1; /* two phases */
    assert_int_equal(cim_hw_map_layer(fx->ctx, &raella, &l, &m), CIM_OK);
    assert_int_equal(m.cycles_per_vector, 22);
    assert_int_equal(m.phases, 2);
    l = layer("fc", 512, 1000, 1, 1, &rc);
    l.n_weight_slices = 8; /* 64 filters per crossbar: 16 */
    assert_int_equal(cim_hw_map_layer(fx->ctx, &raella, &l, &m), CIM_OK);
    assert_true(m.crossbars == 16);
    /* depthwise: 96 groups of 9 rows, 1 column share crossbars block-diagonally: min(512/9, 170) = 56 */
    l = layer("dw", 9, 1, 96, 3136, &rc);
    assert_int_equal(cim_hw_map_layer(fx->ctx, &raella, &l, &m), CIM_OK);
    assert_int_equal(m.groups_per_crossbar, 56);
    assert_true(m.crossbars == 2);
    ASSERT_REL(m.utilization, 9.0 * 96 * 3 / (2 * 512.0 * 512), 1e-12);
    /* grouped layers that need several crossbars per group do not share */
    l = layer("g", 1152, 128, 2, 10, &ic);
    assert_int_equal(cim_hw_map_layer(fx->ctx, &isaac, &l, &m), CIM_OK);
    assert_true(m.crossbars == 2 * 9 * 4); /* 128 columns / 4 slices = 32 filters */
    assert_int_equal(m.cycles_per_vector, 8);
    l = layer("n", 512, 64, 1, 10, &nospec);
    assert_int_equal(cim_hw_map_layer(fx->ctx, &raella, &l, &m), CIM_OK);
    assert_int_equal(m.cycles_per_vector, 8);
    /* configs that do not fit the hardware */
    l = layer("x", 64, 64, 1, 1, &rc);
    assert_int_equal(cim_hw_map_layer(fx->ctx, &isaac, &l, &m), CIM_ERR_CONFIG);
    assert_non_null(strstr(cim_ctx_errmsg(fx->ctx), "512x512"));
    cim_xbar_config co = ic;
    co.encoding = CIM_ENC_DIFFERENTIAL;
    co.flip = 0;
    l = layer("y", 64, 64, 1, 1, &co);
    assert_int_equal(cim_hw_map_layer(fx->ctx, &isaac, &l, &m), CIM_ERR_CONFIG);
    assert_non_null(strstr(cim_ctx_errmsg(fx->ctx), "2T2R"));
    l = layer("z", 0, 64, 1, 1, &ic);
    assert_int_equal(cim_hw_map_layer(fx->ctx, &isaac, &l, &m), CIM_ERR_ARG);
    cim_components_free(fx->ctx, lib);
}

/* One tile of one IMA of 10 ISAAC crossbars. */
static const char toy_hw[] =
    "name: toy\n"
    "sources: \"test_cost_hw.c\"\n"
    "node_nm: 32\n"
    "crossbar:\n"
    "  rows: 128\n"
    "  cols: 128\n"
    "  cell_bits: 2\n"
    "  cell: 1T1R\n"
    "  cycle_ns: 100\n"
    "  adc: {component: isaac.adc, bits: 8, per_crossbar: 1, rate_hz: 1.28e9}\n"
    "  components: {isaac.crossbar: 1, isaac.dac_1bit: 128}\n"
    "ima: {crossbars: 10, components: {isaac.shift_add: 4}}\n"
    "tile: {imas: 1, components: {isaac.edram: 1}}\n"
    "chip: {tiles: 1}\n";

/* Greedy replication by hand (vector = 8 cycles x 100 ns = 800 ns):
 *   A: 128x32, 1 crossbar,  M 100 -> 100 vectors
 *   B: 256x32, 2 crossbars, M 100 -> 100 vectors
 *   C: 128x64, 2 crossbars, M 25  ->  25 vectors
 * 10 crossbars, 5 for one copy of each, 5 left:
 *   A slowest (tie with B, first wins): 2 copies (50), 4 left
 *   B: 2 copies (50), 2 left
 *   A: 3 copies (ceil(100/3) = 34), 1 left
 *   B: 3 copies would need 2 more crossbars: stop.
 * B is the bottleneck at 50 x 800 ns = 40 us: 25,000 inferences/s. */
static void test_greedy_toy(void **state)
{
    tu_fx *fx = *state;
    cim_components *lib = lib_or_fail(fx);
    cim_hw hw;
    cim_hw_cost c;
    assert_int_equal(cim_hw_parse(fx->ctx, lib, "toy.yaml", toy_hw, strlen(toy_hw), &hw), CIM_OK);
    assert_int_equal(cim_hw_cost_compute(fx->ctx, lib, &hw, &c), CIM_OK);
    assert_true(c.crossbars == 10);
    cim_xbar_config ic;
    assert_int_equal(cim_config_preset(fx->ctx, "isaac", &ic), CIM_OK);
    cim_hw_layer L[3] = {layer("A", 128, 32, 1, 100, &ic), layer("B", 256, 32, 1, 100, &ic),
                         layer("C", 128, 64, 1, 25, &ic)};
    cim_hw_mapping m;
    assert_int_equal(cim_hw_map(fx->ctx, &hw, &c, L, 3, &m), CIM_OK);
    assert_true(m.layer[0].crossbars == 1 && m.layer[1].crossbars == 2 && m.layer[2].crossbars == 2);
    assert_true(m.layer[0].copies == 3);
    assert_true(m.layer[1].copies == 2);
    assert_true(m.layer[2].copies == 1);
    ASSERT_REL(m.layer[0].time_ns, 34 * 800.0, 1e-12);
    ASSERT_REL(m.layer[1].time_ns, 50 * 800.0, 1e-12);
    ASSERT_REL(m.layer[2].time_ns, 25 * 800.0, 1e-12);
    assert_int_equal(m.bottleneck, 1);
    ASSERT_REL(m.inferences_per_s, 25000, 1e-12);
    assert_true(m.crossbars_min == 5 && m.crossbars_used == 9 && m.crossbars_available == 10);
    assert_int_equal(m.chips, 1);
    assert_int_equal(m.tiles_used, 1);
    uint64_t macs = 100ull * 128 * 32 + 100ull * 256 * 32 + 25ull * 128 * 64;
    assert_true(m.macs == macs);
    ASSERT_REL(m.tops, 2.0 * (double)macs * 25000 * 1e-12, 1e-12);
    /* utilization: every cell of A and B used, C full too: 9 full crossbars */
    ASSERT_REL(m.utilization, 1.0, 1e-12);
    cim_hw_mapping_free(fx->ctx, &m);

    /* A network larger than the chip takes more chips. */
    cim_hw_layer big = layer("big", 128 * 25, 32, 1, 4, &ic); /* 25 crossbars: 3 chips */
    assert_int_equal(cim_hw_map(fx->ctx, &hw, &c, &big, 1, &m), CIM_OK);
    assert_int_equal(m.chips, 3);
    assert_true(m.crossbars_available == 30 && m.layer[0].copies == 1);
    cim_hw_mapping_free(fx->ctx, &m);
    cim_components_free(fx->ctx, lib);
}

/* Random networks on raella and isaac: replication never exceeds the budget,
 * copies never exceed M, and the bottleneck really is the slowest layer. */
static void test_budget_random(void **state)
{
    tu_fx *fx = *state;
    cim_components *lib = lib_or_fail(fx);
    static const char *const names[] = {"raella", "isaac"};
    tu_rng r = {7};
    for (int h = 0; h < 2; h++) {
        cim_hw hw;
        cim_hw_cost c;
        load_or_fail(fx, lib, names[h], &hw, &c);
        cim_xbar_config cfg;
        assert_int_equal(cim_config_preset(fx->ctx, names[h], &cfg), CIM_OK);
        for (int trial = 0; trial < 20; trial++) {
            int n = tu_range(&r, 1, 12);
            cim_hw_layer L[12];
            for (int i = 0; i < n; i++) {
                L[i] = layer("r", tu_range(&r, 1, 5000), tu_range(&r, 1, 2000), tu_range(&r, 1, 3) == 1 ? 32 : 1,
                             (uint64_t)tu_range(&r, 1, 20000), &cfg);
                L[i].input_signed = tu_range(&r, -1, 1);
            }
            cim_hw_mapping m;
            assert_int_equal(cim_hw_map(fx->ctx, &hw, &c, L, n, &m), CIM_OK);
            uint64_t used = 0;
            double worst = 0;
            for (int i = 0; i < n; i++) {
                assert_true(m.layer[i].copies >= 1 && m.layer[i].copies <= L[i].M);
                used += m.layer[i].copies * m.layer[i].crossbars;
                worst = fmax(worst, m.layer[i].time_ns);
            }
            assert_true(used == m.crossbars_used);
            assert_true(used <= m.crossbars_available);
            assert_true(m.crossbars_available == (uint64_t)m.chips * c.crossbars);
            assert_true(m.crossbars_min <= (uint64_t)m.chips * c.crossbars);
            assert_true(m.chips == 1 || m.crossbars_min > (uint64_t)(m.chips - 1) * c.crossbars);
            ASSERT_REL(m.layer[m.bottleneck].time_ns, worst, 0);
            assert_true(m.utilization > 0 && m.utilization <= 1);
            cim_hw_mapping_free(fx->ctx, &m);
        }
    }
    cim_components_free(fx->ctx, lib);
}

/* A bad hardware file's error names the file, the line and the key. */
static void expect_bad(tu_fx *fx, const cim_components *lib, const char *from, const char *to, const char *line,
                       const char *want)
{
    char *s = malloc(sizeof toy_hw + 256);
    const char *at = strstr(toy_hw, from);
    assert_non_null(at);
    sprintf(s, "%.*s%s%s", (int)(at - toy_hw), toy_hw, to, at + strlen(from));
    char path[512];
    tu_path(path, sizeof path, "bad_hw.yaml");
    tu_write_file(path, s, strlen(s));
    cim_hw hw;
    cim_status st = cim_hw_load(fx->ctx, lib, path, &hw);
    const char *msg = cim_ctx_errmsg(fx->ctx);
    char where[600];
    snprintf(where, sizeof where, "%s:%s:", path, line);
    if (st != CIM_ERR_CONFIG || !strstr(msg, where) || !strstr(msg, want))
        fail_msg("'%s' -> '%s': status %d, message '%s' (wanted '%s' and '%s')", from, to, (int)st, msg, where, want);
    free(s);
}

static void test_bad_files(void **state)
{
    tu_fx *fx = *state;
    cim_components *lib = lib_or_fail(fx);
    expect_bad(fx, lib, "  cols: 128\n", "  cols: 128\n  colz: 5\n", "7", "colz");
    expect_bad(fx, lib, "ima: {crossbars: 10,", "ima: {crossbars: -3,", "12", "crossbars");
    expect_bad(fx, lib, "isaac.shift_add: 4", "isaac.shift_add: -4", "12", "isaac.shift_add");
    expect_bad(fx, lib, "{isaac.edram: 1}", "{no.such.buffer: 1}", "13", "no.such.buffer");
    expect_bad(fx, lib, "component: isaac.adc,", "component: nope.adc,", "10", "nope.adc");
    expect_bad(fx, lib, "chip: {tiles: 1}", "chip: {tiles: 1, speed: 3}", "14", "speed");
    expect_bad(fx, lib, "chip: {tiles: 1}", "chip: {}", "14", "tiles");
    expect_bad(fx, lib, "name: toy\n", "name: toy\nbogus: 1\n", "2", "bogus");
    expect_bad(fx, lib, "  cell: 1T1R\n", "  cell: 3T3R\n", "8", "cell");
    expect_bad(fx, lib, "  rows: 128\n", "", "5", "rows"); /* the crossbar mapping's line */
    expect_bad(fx, lib, "{isaac.crossbar: 1,", "{isaac.crossbar: {count: 1, rate: 3},", "11", "rate");
    /* a component without a power figure needs a rate */
    expect_bad(fx, lib, "{isaac.edram: 1}", "{raella.quant_multiplier: 1}", "13", "rate_hz");
    /* nonexistent file */
    cim_hw hw;
    assert_int_equal(cim_hw_load(fx->ctx, lib, "/nonexistent/hw.yaml", &hw), CIM_ERR_IO);
    assert_non_null(strstr(cim_ctx_errmsg(fx->ctx), "/nonexistent/hw.yaml"));
    /* every built-in file loads and names its sources */
    for (const char *const *n = cim_hw_names(); *n; n++) {
        load_or_fail(fx, lib, *n, &hw, NULL);
        assert_true(hw.sources[0] != 0);
    }
    cim_components_free(fx->ctx, lib);
}

/* Every allocation failure in mapping is an error, and nothing leaks. */
static void test_alloc_failures(void **state)
{
    tu_fx *fx = *state;
    cim_components *lib = lib_or_fail(fx);
    cim_hw hw;
    cim_hw_cost c;
    load_or_fail(fx, lib, "raella", &hw, &c);
    cim_xbar_config cfg;
    assert_int_equal(cim_config_preset(fx->ctx, "raella", &cfg), CIM_OK);
    cim_hw_layer L[2] = {layer("a", 100, 100, 1, 100, &cfg), layer("b", 1000, 100, 1, 10, &cfg)};
    long live0 = fx->live;
    fx->calls = 0;
    fx->fail_at = 1;
    cim_hw_mapping m;
    assert_int_equal(cim_hw_map(fx->ctx, &hw, &c, L, 2, &m), CIM_ERR_NOMEM);
    fx->fail_at = 0;
    assert_int_equal(fx->live, live0);
    cim_components_free(fx->ctx, lib);
}

static int setup(void **state) { return tu_fx_setup(state, "hw"); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_isaac16b_table1, setup, tu_fx_teardown),
        cmocka_unit_test_setup_teardown(test_raella_area, setup, tu_fx_teardown),
        cmocka_unit_test_setup_teardown(test_area_budget, setup, tu_fx_teardown),
        cmocka_unit_test_setup_teardown(test_map_layers, setup, tu_fx_teardown),
        cmocka_unit_test_setup_teardown(test_greedy_toy, setup, tu_fx_teardown),
        cmocka_unit_test_setup_teardown(test_budget_random, setup, tu_fx_teardown),
        cmocka_unit_test_setup_teardown(test_bad_files, setup, tu_fx_teardown),
        cmocka_unit_test_setup_teardown(test_alloc_failures, setup, tu_fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
