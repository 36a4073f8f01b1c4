/* test_config.c: presets, validation and YAML configs, including every kind of
 * bad input: unknown keys, bad values, bad slicings, syntax errors, missing
 * files. Each error must name the file and the key. */
#include <string.h>
#include "testutil.h"

static void test_presets(void **state)
{
    (void)state;
    cim_ctx *ctx = tu_ctx();
    cim_xbar_config c;
    int n = 0;
    for (const char *const *p = cim_config_preset_names(); *p; p++, n++) {
        assert_int_equal(cim_config_preset(ctx, *p, &c), CIM_OK);
        assert_int_equal(cim_config_validate(ctx, &c, *p), CIM_OK);
        assert_non_null(cim_config_preset_description(*p));
    }
    assert_int_equal(n, 4);
    /* the definitions */
    cim_config_preset(ctx, "isaac", &c);
    assert_int_equal(c.rows, 128);
    assert_int_equal(c.cols, 128);
    assert_int_equal(c.encoding, CIM_ENC_OFFSET);
    assert_true(c.flip);
    assert_int_equal(c.n_weight_slices, 4);
    assert_int_equal(c.n_input_slices, 8);
    assert_int_equal(c.adc.bits, 8);
    assert_false(c.adc.is_signed);
    cim_config_preset(ctx, "raella", &c);
    assert_int_equal(c.rows, 512);
    assert_int_equal(c.encoding, CIM_ENC_CENTER_OFFSET);
    assert_true(c.speculation);
    assert_int_equal(c.recovery_bits, 1);
    assert_int_equal(c.n_input_slices, 3);
    assert_int_equal(c.input_slices[0], 4);
    assert_int_equal(c.adc.bits, 7);
    assert_true(c.adc.is_signed);
    cim_config_preset(ctx, "zero-offset", &c);
    assert_int_equal(c.encoding, CIM_ENC_DIFFERENTIAL);
    assert_true(c.speculation);
    cim_config_preset(ctx, "raella-nospec", &c);
    assert_false(c.speculation);
    assert_int_equal(c.n_input_slices, 8);
    assert_int_equal(cim_config_preset(ctx, "tpu", &c), CIM_ERR_CONFIG);
    assert_non_null(strstr(cim_ctx_errmsg(ctx), "tpu"));
    cim_ctx_destroy(ctx);
}

static void expect_invalid(cim_ctx *ctx, const cim_xbar_config *c, const char *needle)
{
    assert_int_equal(cim_config_validate(ctx, c, "cfg.yaml"), CIM_ERR_CONFIG);
    if (!strstr(cim_ctx_errmsg(ctx), needle))
        fail_msg("message '%s' does not mention '%s'", cim_ctx_errmsg(ctx), needle);
    assert_non_null(strstr(cim_ctx_errmsg(ctx), "cfg.yaml"));
}

static void test_validation(void **state)
{
    (void)state;
    cim_ctx *ctx = tu_ctx();
    cim_xbar_config c;
    cim_config_default(&c);
    c.weight_slices[0] = 5; /* 5,2,2 = 9 bits, and 5 > cell_bits 4 */
    expect_invalid(ctx, &c, "weight_slices[0] = 5");
    cim_config_default(&c);
    c.weight_slices[2] = 1; /* sums to 7 */
    expect_invalid(ctx, &c, "sum to 7");
    cim_config_default(&c);
    c.weight_slices[1] = 0;
    expect_invalid(ctx, &c, "at least 1 bit");
    cim_config_default(&c);
    c.input_slices[0] = 2; /* 2 + seven 1s = 9 */
    expect_invalid(ctx, &c, "input_slices");
    cim_config_default(&c);
    c.dac_bits = 1;
    c.n_input_slices = 2;
    c.input_slices[0] = c.input_slices[1] = 4;
    expect_invalid(ctx, &c, "dac_bits");
    cim_config_default(&c);
    c.flip = 1;
    expect_invalid(ctx, &c, "flip");
    cim_config_default(&c);
    c.rows = 0;
    expect_invalid(ctx, &c, "rows");
    cim_config_default(&c);
    c.cols = 2;
    expect_invalid(ctx, &c, "cols");
    cim_config_default(&c);
    c.adc.bits = 0;
    expect_invalid(ctx, &c, "adc.bits");
    cim_config_default(&c);
    c.adc.drop_lsbs = -1;
    expect_invalid(ctx, &c, "drop_lsbs");
    cim_config_default(&c);
    c.zx = 256;
    expect_invalid(ctx, &c, "zx");
    cim_config_default(&c);
    c.noise.level = -0.1;
    expect_invalid(ctx, &c, "noise.level");
    cim_config_default(&c);
    c.speculation = 1;
    c.recovery_bits = 5;
    expect_invalid(ctx, &c, "recovery_bits");
    cim_config_default(&c);
    c.n_weight_slices = 9;
    expect_invalid(ctx, &c, "weight_slices");
    cim_config_default(&c);
    assert_int_equal(cim_config_validate(ctx, &c, NULL), CIM_OK);
    cim_ctx_destroy(ctx);
}

static cim_status load_text(cim_ctx *ctx, const char *name, const char *text, cim_xbar_config *c)
{
    char path[512];
    tu_path(path, sizeof path, name);
    tu_write_file(path, text, strlen(text));
    return cim_config_load(ctx, path, c);
}

static void test_yaml_good(void **state)
{
    (void)state;
    cim_ctx *ctx = tu_ctx();
    cim_xbar_config c;
    assert_int_equal(load_text(ctx, "a.yaml",
                               "# a TIMELY-like design\n"
                               "rows: 256\ncols: 128\nencoding: offset\nflip: true\n"
                               "input_encoding: unsigned\nzx: 0\nweight_slices: [4, 4]\n"
                               "input_slices: [2, 2, 2, 2]\ncell_bits: 4\ndac_bits: 2\n"
                               "adc: {bits: 6, signed: false, drop_lsbs: 3}\n"
                               "noise: {model: gaussian_colsum, level: 0.04, seed: 7}\n",
                               &c),
                     CIM_OK);
    assert_int_equal(c.rows, 256);
    assert_int_equal(c.cols, 128);
    assert_int_equal(c.encoding, CIM_ENC_OFFSET);
    assert_true(c.flip);
    assert_int_equal(c.n_weight_slices, 2);
    assert_int_equal(c.n_input_slices, 4);
    assert_int_equal(c.adc.bits, 6);
    assert_false(c.adc.is_signed);
    assert_int_equal(c.adc.drop_lsbs, 3);
    assert_int_equal(c.noise.model, CIM_NOISE_GAUSSIAN_COLSUM);
    assert_true(c.noise.level == 0.04);
    assert_int_equal(c.noise.seed, 7);
    /* base preset plus overrides, block style, speculation mapping */
    assert_int_equal(load_text(ctx, "b.yaml",
                               "base: isaac\nrows: 256\nadc:\n  bits: 9\nspeculation:\n"
                               "  slices: [1, 1, 1, 1, 1, 1, 1, 1]\n  recovery_bits: 1\n",
                               &c),
                     CIM_OK);
    assert_int_equal(c.rows, 256);
    assert_int_equal(c.cols, 128);
    assert_int_equal(c.adc.bits, 9);
    assert_false(c.adc.is_signed);
    assert_true(c.speculation);
    /* speculation: false turns the base's speculation off */
    assert_int_equal(load_text(ctx, "c.yaml", "base: raella\nspeculation: false\ninput_slices: [1,1,1,1,1,1,1,1]\n", &c),
                     CIM_ERR_CONFIG); /* both given: an error */
    assert_int_equal(load_text(ctx, "d.yaml", "base: raella\nspeculation: false\n", &c), CIM_OK);
    assert_false(c.speculation);
    /* a preset name is a config too */
    assert_int_equal(cim_config_load(ctx, "raella", &c), CIM_OK);
    assert_true(c.speculation);
    cim_ctx_destroy(ctx);
}

static void expect_yaml_error(cim_ctx *ctx, const char *text, cim_status want, const char *needle)
{
    cim_xbar_config c;
    char path[512];
    tu_path(path, sizeof path, "bad.yaml");
    tu_write_file(path, text, strlen(text));
    cim_status st = cim_config_load(ctx, path, &c);
    if (st != want)
        fail_msg("'%s': status %d, want %d (%s)", text, st, want, cim_ctx_errmsg(ctx));
    if (!strstr(cim_ctx_errmsg(ctx), needle) || !strstr(cim_ctx_errmsg(ctx), "bad.yaml"))
        fail_msg("'%s': message '%s' should name bad.yaml and '%s'", text, cim_ctx_errmsg(ctx), needle);
}

static void test_yaml_bad(void **state)
{
    (void)state;
    cim_ctx *ctx = tu_ctx();
    expect_yaml_error(ctx, "rows: 512\ncolz: 4\n", CIM_ERR_CONFIG, "colz");
    expect_yaml_error(ctx, "rows: lots\n", CIM_ERR_CONFIG, "rows");
    expect_yaml_error(ctx, "rows: 12.5\n", CIM_ERR_CONFIG, "rows");
    expect_yaml_error(ctx, "rows: 99999999\n", CIM_ERR_CONFIG, "rows");
    expect_yaml_error(ctx, "rows: [1, 2]\n", CIM_ERR_CONFIG, "rows");
    expect_yaml_error(ctx, "encoding: twos_complement\n", CIM_ERR_CONFIG, "encoding");
    expect_yaml_error(ctx, "flip: maybe\n", CIM_ERR_CONFIG, "flip");
    expect_yaml_error(ctx, "weight_slices: 4\n", CIM_ERR_CONFIG, "weight_slices");
    expect_yaml_error(ctx, "weight_slices: [4, 4, 4]\n", CIM_ERR_CONFIG, "weight_slices");
    expect_yaml_error(ctx, "weight_slices: [4, x]\n", CIM_ERR_CONFIG, "weight_slices[1]");
    expect_yaml_error(ctx, "weight_slices: []\n", CIM_ERR_CONFIG, "weight_slices");
    expect_yaml_error(ctx, "adc: {bits: 7, sign: true}\n", CIM_ERR_CONFIG, "sign");
    expect_yaml_error(ctx, "adc: {bits: 70}\n", CIM_ERR_CONFIG, "adc.bits");
    expect_yaml_error(ctx, "adc: 7\n", CIM_ERR_CONFIG, "adc");
    expect_yaml_error(ctx, "noise: {model: thermal}\n", CIM_ERR_CONFIG, "noise.model");
    expect_yaml_error(ctx, "noise: {level: nan}\n", CIM_ERR_CONFIG, "noise.level");
    expect_yaml_error(ctx, "noise: {seed: -4}\n", CIM_ERR_CONFIG, "noise.seed");
    expect_yaml_error(ctx, "speculation: {recovery_bits: 1}\n", CIM_ERR_CONFIG, "slices");
    expect_yaml_error(ctx, "speculation: {slices: [4, 2, 2], hurry: 1}\n", CIM_ERR_CONFIG, "hurry");
    expect_yaml_error(ctx, "encoding: differential\nflip: true\n", CIM_ERR_CONFIG, "flip");
    expect_yaml_error(ctx, "base: tpu\n", CIM_ERR_CONFIG, "base");
    expect_yaml_error(ctx, "rows: [1, 2\n", CIM_ERR_CONFIG, "syntax");
    expect_yaml_error(ctx, "", CIM_ERR_CONFIG, "empty");
    expect_yaml_error(ctx, "- rows\n- cols\n", CIM_ERR_CONFIG, "mapping");
    expect_yaml_error(ctx, "\x01\x02\x03\xff\xfe", CIM_ERR_CONFIG, "bad.yaml");
    /* a line number is given for a bad value on line 3 */
    expect_yaml_error(ctx, "rows: 4\ncols: 4\ncell_bits: 9\n", CIM_ERR_CONFIG, ":3:");
    /* missing file: neither a preset nor readable */
    cim_xbar_config c;
    assert_int_equal(cim_config_load(ctx, "/nonexistent/cfg.yaml", &c), CIM_ERR_CONFIG);
    assert_non_null(strstr(cim_ctx_errmsg(ctx), "/nonexistent/cfg.yaml"));
    assert_int_equal(cim_config_load(ctx, tu_tmpdir(), &c), CIM_ERR_IO);
    cim_ctx_destroy(ctx);
}

/* Per-layer overrides (cim_arch): `layers:` on top of the base, the presets'
 * last-layer rule, precedence, and errors naming the selector. */
static void test_arch(void **state)
{
    (void)state;
    cim_ctx *ctx = tu_ctx();
    cim_arch a;
    char path[512];
    assert_int_equal(cim_arch_load(ctx, "isaac", &a), CIM_OK);
    assert_int_equal(a.n_overrides, 0);
    assert_int_equal(cim_arch_load(ctx, "raella", &a), CIM_OK);
    assert_int_equal(a.n_overrides, 1);
    const cim_xbar_config *last = cim_arch_layer_config(&a, "fc3", 0, 1);
    assert_int_equal(last->n_weight_slices, 8);
    assert_int_equal(last->weight_slices[7], 1);
    assert_int_equal(last->speculation, 1); /* everything else as the base */
    assert_ptr_equal(cim_arch_layer_config(&a, "conv1", 1, 0), &a.base);

    const char *text = "base: raella\n"
                       "adc: {bits: 8}\n"
                       "layers:\n"
                       "  first: {weight_slices: [2, 2, 2, 2]}\n"
                       "  last: {weight_slices: [1, 1, 1, 1, 1, 1, 1, 1]}\n"
                       "  conv2: {adc: {bits: 6}, rows: 128}\n";
    tu_path(path, sizeof path, "arch.yaml");
    tu_write_file(path, text, strlen(text));
    assert_int_equal(cim_arch_load(ctx, path, &a), CIM_OK);
    assert_int_equal(a.n_overrides, 3);
    assert_int_equal(a.base.adc.bits, 8);
    const cim_xbar_config *c2 = cim_arch_layer_config(&a, "conv2", 0, 1); /* a name beats last */
    assert_int_equal(c2->adc.bits, 6);
    assert_int_equal(c2->rows, 128);
    assert_int_equal(c2->n_weight_slices, 3);
    const cim_xbar_config *f = cim_arch_layer_config(&a, "conv1", 1, 0);
    assert_int_equal(f->n_weight_slices, 4);
    assert_int_equal(f->adc.bits, 8); /* inherits the file's base keys */
    assert_int_equal(cim_arch_layer_config(&a, "x", 1, 1)->n_weight_slices, 8); /* last beats first */
    /* cim_config_load reads the same file and ignores the overrides */
    cim_xbar_config c;
    assert_int_equal(cim_config_load(ctx, path, &c), CIM_OK);
    assert_int_equal(c.adc.bits, 8);

    static const struct {
        const char *text, *needle;
    } bad[] = {
        {"layers: [1, 2]\n", "layers"},
        {"layers:\n  conv1: {bogus: 1}\n", "bogus"},
        {"layers:\n  conv1: {weight_slices: [4, 4, 1]}\n", "layers.conv1"},
        {"layers:\n  conv1: {base: isaac}\n", "per layer"},
        {"layers:\n  conv1: {rows: 8}\n  conv1: {rows: 16}\n", "twice"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tu_write_file(path, bad[i].text, strlen(bad[i].text));
        assert_int_equal(cim_arch_load(ctx, path, &a), CIM_ERR_CONFIG);
        const char *msg = cim_ctx_errmsg(ctx);
        if (!strstr(msg, bad[i].needle) || !strstr(msg, "arch.yaml"))
            fail_msg("case %zu: message '%s' lacks '%s' or the file name", i, msg, bad[i].needle);
    }
    cim_ctx_destroy(ctx);
}

static void test_summary(void **state)
{
    (void)state;
    cim_xbar_config c;
    char buf[256];
    cim_config_preset(NULL, "raella", &c);
    cim_config_summary(&c, buf, sizeof buf);
    assert_non_null(strstr(buf, "512x512"));
    assert_non_null(strstr(buf, "center_offset"));
    assert_non_null(strstr(buf, "spec[4,2,2]"));
    cim_config_summary(&c, buf, 8); /* truncates, stays terminated */
    assert_int_equal(strlen(buf), 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_presets),
        cmocka_unit_test(test_validation),
        cmocka_unit_test(test_yaml_good),
        cmocka_unit_test(test_yaml_bad),
        cmocka_unit_test(test_summary),
        cmocka_unit_test(test_arch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
