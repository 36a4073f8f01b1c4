/* test_config.c: presets, validation and YAML configs, including every kind of
 * bad input: unknown keys, bad values, bad slicings, syntax errors, missing
 * files. Each error must name the file and the key. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "testutil.h"

/* The repository's presets/ folder (the files the library embeds). */
#define PRESET_DIR CIMSIM_TEST_DATA "/../../presets"

static int analog_equal(const cim_analog_config *a, const cim_analog_config *b)
{
    return a->g_on_us == b->g_on_us && a->g_off_us == b->g_off_us && a->v_read == b->v_read &&
           a->t_pulse_ns == b->t_pulse_ns && a->drive == b->drive && a->temperature_k == b->temperature_k &&
           a->adcs_per_crossbar == b->adcs_per_crossbar && a->read_noise_rel == b->read_noise_rel &&
           a->read_noise_us == b->read_noise_us && a->c_int_ff == b->c_int_ff && a->adc_noise_lsb == b->adc_noise_lsb &&
           a->prog_sigma_us == b->prog_sigma_us && a->prog_sigma_rel == b->prog_sigma_rel &&
           a->pcm_prog_noise == b->pcm_prog_noise && a->stuck_on == b->stuck_on && a->stuck_off == b->stuck_off &&
           a->adc_offset_lsb == b->adc_offset_lsb && a->adc_gain_sigma == b->adc_gain_sigma &&
           a->zero_leak == b->zero_leak && a->pcm_drift == b->pcm_drift && a->t_inference_s == b->t_inference_s &&
           a->t0_s == b->t0_s && a->drift_compensation == b->drift_compensation &&
           a->pcm_read_noise == b->pcm_read_noise && a->t_read_ns == b->t_read_ns && a->ir_drop == b->ir_drop &&
           a->r_wire_ohm == b->r_wire_ohm && a->v_col == b->v_col && a->v_idle == b->v_idle;
}

static int cfg_equal(const cim_xbar_config *a, const cim_xbar_config *b)
{
    if (!analog_equal(&a->analog, &b->analog))
        return 0;
    if (a->rows != b->rows || a->cols != b->cols || a->encoding != b->encoding || a->flip != b->flip ||
        a->input_encoding != b->input_encoding || a->zx != b->zx || a->n_weight_slices != b->n_weight_slices ||
        a->n_input_slices != b->n_input_slices || a->speculation != b->speculation ||
        a->recovery_bits != b->recovery_bits || a->cell_bits != b->cell_bits || a->dac_bits != b->dac_bits ||
        a->adc.bits != b->adc.bits || a->adc.is_signed != b->adc.is_signed || a->adc.drop_lsbs != b->adc.drop_lsbs ||
        a->noise.model != b->noise.model || a->noise.level != b->noise.level || a->noise.seed != b->noise.seed)
        return 0;
    for (int i = 0; i < a->n_weight_slices; i++)
        if (a->weight_slices[i] != b->weight_slices[i])
            return 0;
    for (int i = 0; i < a->n_input_slices; i++)
        if (a->input_slices[i] != b->input_slices[i])
            return 0;
    return 1;
}

static void set_slices(int *n, int *dst, int count, int width)
{
    *n = count;
    for (int i = 0; i < count; i++)
        dst[i] = width;
}

/* The four presets as they were defined in C before they became files: their
 * numbers must not move (tests/test_golden.sh pins their outputs too). */
static void old_preset(const char *name, cim_xbar_config *c)
{
    cim_config_default(c);
    c->analog.adcs_per_crossbar = 4; /* issue 6: four ADCs per RAELLA crossbar (thesis 5.1) */
    if (strcmp(name, "isaac") == 0) {
        c->rows = c->cols = 128;
        c->encoding = CIM_ENC_OFFSET;
        c->flip = 1;
        set_slices(&c->n_weight_slices, c->weight_slices, 4, 2);
        set_slices(&c->n_input_slices, c->input_slices, 8, 1);
        c->cell_bits = 2;
        c->dac_bits = 1;
        c->adc.bits = 8;
        c->adc.is_signed = 0;
        c->analog.adcs_per_crossbar = 1; /* issue 6: one ADC per ISAAC crossbar */
    } else if (strcmp(name, "raella") == 0 || strcmp(name, "zero-offset") == 0) {
        c->n_input_slices = 3;
        c->input_slices[0] = 4;
        c->input_slices[1] = c->input_slices[2] = 2;
        c->speculation = 1;
        c->recovery_bits = 1;
        if (name[0] == 'z')
            c->encoding = CIM_ENC_DIFFERENTIAL;
    }
}

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
        assert_non_null(cim_config_preset_text(*p));
        /* by name, through every loader */
        cim_xbar_config c2;
        assert_int_equal(cim_config_load(ctx, *p, &c2), CIM_OK);
        assert_true(cfg_equal(&c, &c2));
        cim_arch a;
        if (cim_arch_load(ctx, *p, &a) != CIM_OK)
            fail_msg("%s: %s", *p, cim_ctx_errmsg(ctx));
        assert_true(cfg_equal(&c, &a.base));
        assert_string_equal(a.name, *p);
        for (int i = 0; i < a.n_overrides; i++)
            assert_int_equal(cim_config_validate(ctx, &a.over[i].cfg, *p), CIM_OK);
    }
    assert_int_equal(n, 8);
    assert_null(cim_config_preset_description("tpu"));
    assert_null(cim_config_preset_text("tpu"));
    assert_null(cim_config_preset_description(""));
    /* today's four presets did not move */
    static const char *const old[] = {"isaac", "raella", "raella-nospec", "zero-offset"};
    for (int i = 0; i < 4; i++) {
        cim_xbar_config want;
        old_preset(old[i], &want);
        assert_int_equal(cim_config_preset(ctx, old[i], &c), CIM_OK);
        if (!cfg_equal(&c, &want))
            fail_msg("preset %s moved", old[i]);
    }
    /* raella-nospec is exactly the defaults, but for its four ADCs per
     * crossbar (the defaults' 0, one per column, fits any cols) */
    cim_xbar_config d;
    cim_config_default(&d);
    d.analog.adcs_per_crossbar = 4;
    cim_config_preset(ctx, "raella-nospec", &c);
    assert_true(cfg_equal(&c, &d));
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
    c.adc.bits = -1;
    expect_invalid(ctx, &c, "adc.bits");
    cim_config_default(&c);
    c.adc.bits = 25;
    expect_invalid(ctx, &c, "adc.bits");
    /* no ADC (bits 0): exact reads need drop_lsbs 0, the noise off, no speculation */
    cim_config_default(&c);
    c.adc.bits = 0;
    assert_int_equal(cim_config_validate(ctx, &c, NULL), CIM_OK);
    c.adc.drop_lsbs = 2;
    expect_invalid(ctx, &c, "drop_lsbs");
    cim_config_default(&c);
    c.adc.bits = 0;
    c.noise.model = CIM_NOISE_GAUSSIAN_COLSUM;
    c.noise.level = 0.04;
    expect_invalid(ctx, &c, "noise");
    c.noise.level = 0.0; /* a model at level 0 is off */
    assert_int_equal(cim_config_validate(ctx, &c, NULL), CIM_OK);
    cim_config_default(&c);
    c.adc.bits = 0;
    c.speculation = 1;
    c.n_input_slices = 2;
    c.input_slices[0] = c.input_slices[1] = 4;
    expect_invalid(ctx, &c, "speculation");
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

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = 0;
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static int listed(const char *name)
{
    for (const char *const *p = cim_config_preset_names(); *p; p++)
        if (strcmp(*p, name) == 0)
            return 1;
    return 0;
}

/* The presets listed are exactly the files of presets/, each embedded as it
 * is on disk, and the file loads as a YAML config to the same config. */
static void test_preset_files(void **state)
{
    (void)state;
    cim_ctx *ctx = tu_ctx();
    DIR *d = opendir(PRESET_DIR);
    assert_non_null(d);
    int files = 0, n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".yaml") != 0)
            continue;
        char name[256], path[1024];
        snprintf(name, sizeof name, "%.*s", (int)(len - 5), e->d_name);
        snprintf(path, sizeof path, "%s/%s", PRESET_DIR, e->d_name);
        if (!listed(name))
            fail_msg("presets/%s is not built in (rebuild?)", e->d_name);
        size_t flen;
        char *text = read_all(path, &flen);
        assert_non_null(text);
        if (strcmp(text, cim_config_preset_text(name)) != 0)
            fail_msg("presets/%s differs from the embedded text (rebuild?)", e->d_name);
        /* the same text as a file gives the same config and arch */
        cim_xbar_config a, b;
        assert_int_equal(cim_config_preset(ctx, name, &a), CIM_OK);
        assert_int_equal(cim_config_load(ctx, path, &b), CIM_OK);
        assert_true(cfg_equal(&a, &b));
        cim_arch x, y;
        assert_int_equal(cim_arch_load(ctx, name, &x), CIM_OK);
        assert_int_equal(cim_arch_load(ctx, path, &y), CIM_OK);
        assert_int_equal(x.adaptive_slicing, y.adaptive_slicing);
        assert_int_equal(x.n_overrides, y.n_overrides);
        for (int i = 0; i < x.n_overrides; i++) {
            assert_string_equal(x.over[i].layer, y.over[i].layer);
            assert_true(cfg_equal(&x.over[i].cfg, &y.over[i].cfg));
        }
        /* a documented file: a header comment, sources */
        assert_true(text[0] == '#');
        assert_non_null(strstr(text, "\nsources:"));
        free(text);
        files++;
    }
    closedir(d);
    for (const char *const *p = cim_config_preset_names(); *p; p++)
        n++;
    assert_int_equal(files, n);
    assert_int_equal(files, 8);
    cim_ctx_destroy(ctx);
}

/* Every preset's file with a bad key added is an error naming the key (and
 * one with a bad value, naming that key). */
static void test_preset_bad_key(void **state)
{
    (void)state;
    cim_ctx *ctx = tu_ctx();
    char path[512];
    tu_path(path, sizeof path, "preset-bad.yaml");
    for (const char *const *p = cim_config_preset_names(); *p; p++) {
        const char *text = cim_config_preset_text(*p);
        size_t len = strlen(text);
        char *bad = malloc(len + 64);
        assert_non_null(bad);
        memcpy(bad, text, len);
        strcpy(bad + len, "colz: 4\n");
        tu_write_file(path, bad, strlen(bad));
        cim_arch a;
        assert_int_equal(cim_arch_load(ctx, path, &a), CIM_ERR_CONFIG);
        if (!strstr(cim_ctx_errmsg(ctx), "colz") || !strstr(cim_ctx_errmsg(ctx), "preset-bad.yaml"))
            fail_msg("%s + colz: '%s'", *p, cim_ctx_errmsg(ctx));
        strcpy(bad + len, "adaptive_weight_slicing: sometimes\n");
        tu_write_file(path, bad, strlen(bad));
        assert_int_equal(cim_arch_load(ctx, path, &a), CIM_ERR_CONFIG);
        assert_non_null(strstr(cim_ctx_errmsg(ctx), "adaptive_weight_slicing"));
        free(bad);
    }
    cim_ctx_destroy(ctx);
}

static cim_status load_arch_text(cim_ctx *ctx, const char *text, cim_arch *a)
{
    char path[512];
    tu_path(path, sizeof path, "arch-ad.yaml");
    tu_write_file(path, text, strlen(text));
    return cim_arch_load(ctx, path, a);
}

/* adaptive_weight_slicing: in raella and raella-nospec only; files default
 * to false, inherit it from `base:`, may set it; not per layer. */
static void test_adaptive(void **state)
{
    (void)state;
    cim_ctx *ctx = tu_ctx();
    cim_arch a;
    for (const char *const *p = cim_config_preset_names(); *p; p++) {
        assert_int_equal(cim_arch_load(ctx, *p, &a), CIM_OK);
        int want = strcmp(*p, "raella") == 0 || strcmp(*p, "raella-nospec") == 0;
        if (a.adaptive_slicing != want)
            fail_msg("%s: adaptive_slicing = %d", *p, a.adaptive_slicing);
    }
    /* raella-static: RAELLA's hardware without adaptive slicing, fixed 4,2,2 everywhere */
    assert_int_equal(cim_arch_load(ctx, "raella-static", &a), CIM_OK);
    assert_false(a.adaptive_slicing);
    assert_int_equal(a.n_overrides, 0);
    assert_int_equal(a.base.encoding, CIM_ENC_CENTER_OFFSET);
    assert_int_equal(a.base.n_weight_slices, 3);
    assert_int_equal(a.base.weight_slices[0], 4);
    assert_true(a.base.speculation);
    assert_int_equal(cim_arch_layer_config(&a, "fc", 0, 1)->n_weight_slices, 3);
    cim_xbar_config r;
    cim_config_preset(ctx, "raella", &r);
    assert_true(cfg_equal(&a.base, &r)); /* the same crossbar as raella */

    assert_int_equal(load_arch_text(ctx, "rows: 256\n", &a), CIM_OK);
    assert_false(a.adaptive_slicing);
    assert_int_equal(load_arch_text(ctx, "base: raella\n", &a), CIM_OK);
    assert_true(a.adaptive_slicing);
    assert_int_equal(a.n_overrides, 0); /* base: gives the config, not the layers */
    assert_int_equal(load_arch_text(ctx, "base: raella\nadaptive_weight_slicing: false\n", &a), CIM_OK);
    assert_false(a.adaptive_slicing);
    assert_int_equal(load_arch_text(ctx, "adaptive_weight_slicing: false\nbase: raella\n", &a), CIM_OK);
    assert_false(a.adaptive_slicing); /* the file's own key wins wherever it stands */
    assert_int_equal(load_arch_text(ctx, "base: isaac\nadaptive_weight_slicing: yes\n", &a), CIM_OK);
    assert_true(a.adaptive_slicing);
    assert_int_equal(load_arch_text(ctx, "adaptive_weight_slicing: [1]\n", &a), CIM_ERR_CONFIG);
    assert_non_null(strstr(cim_ctx_errmsg(ctx), "adaptive_weight_slicing"));
    assert_int_equal(load_arch_text(ctx, "layers:\n  last: {adaptive_weight_slicing: true}\n", &a), CIM_ERR_CONFIG);
    assert_non_null(strstr(cim_ctx_errmsg(ctx), "per layer"));
    /* cim_config_load accepts (and checks) the key too */
    cim_xbar_config c;
    char path[512];
    tu_path(path, sizeof path, "arch-ad.yaml");
    tu_write_file(path, "adaptive_weight_slicing: true\n", 30);
    assert_int_equal(cim_config_load(ctx, path, &c), CIM_OK);
    /* documentation keys must be strings */
    expect_yaml_error(ctx, "description: [a, b]\n", CIM_ERR_CONFIG, "description");
    cim_ctx_destroy(ctx);
}

/* adc: none / adc: {bits: 0} in YAML, and the digital-cim preset. */
static void test_adc_none_yaml(void **state)
{
    (void)state;
    cim_ctx *ctx = tu_ctx();
    cim_xbar_config c;
    assert_int_equal(load_text(ctx, "n.yaml", "adc: none\n", &c), CIM_OK);
    assert_int_equal(c.adc.bits, 0);
    assert_int_equal(load_text(ctx, "n.yaml", "adc: {bits: 0}\n", &c), CIM_OK);
    assert_int_equal(c.adc.bits, 0);
    assert_int_equal(load_text(ctx, "n.yaml", "base: ibm-pcm-like\nadc: none\n", &c), CIM_OK);
    assert_int_equal(c.adc.bits, 0);
    assert_int_equal(c.adc.drop_lsbs, 0); /* none clears the base's dropped bits */
    expect_yaml_error(ctx, "adc: off\n", CIM_ERR_CONFIG, "adc");
    expect_yaml_error(ctx, "adc: none\nnoise: {model: gaussian_colsum, level: 0.04}\n", CIM_ERR_CONFIG, "noise");
    expect_yaml_error(ctx, "base: digital-cim\nnoise: {model: gaussian_colsum, level: 0.01}\n", CIM_ERR_CONFIG,
                      "noise");
    expect_yaml_error(ctx, "adc: none\nspeculation: {slices: [4, 2, 2]}\n", CIM_ERR_CONFIG, "speculation");
    expect_yaml_error(ctx, "adc: {bits: 0, drop_lsbs: 3}\n", CIM_ERR_CONFIG, "drop_lsbs");
    expect_yaml_error(ctx, "adc: {bits: -1}\n", CIM_ERR_CONFIG, "adc.bits");
    assert_int_equal(cim_config_preset(ctx, "digital-cim", &c), CIM_OK);
    assert_int_equal(c.adc.bits, 0);
    assert_false(c.speculation);
    assert_int_equal(c.noise.model, CIM_NOISE_NONE);
    char buf[256];
    cim_config_summary(&c, buf, sizeof buf);
    assert_non_null(strstr(buf, "no adc"));
    /* the other new presets have what the issue asks of them */
    assert_int_equal(cim_config_preset(ctx, "timely-like", &c), CIM_OK);
    assert_true(c.adc.drop_lsbs > 0);
    assert_true(c.rows > 512);
    assert_true(c.weight_slices[0] > 2 && c.input_slices[0] > 2);
    assert_int_equal(cim_config_preset(ctx, "ibm-pcm-like", &c), CIM_OK);
    assert_int_equal(c.rows, 512);
    assert_int_equal(c.encoding, CIM_ENC_DIFFERENTIAL);
    assert_int_equal(c.n_input_slices, 1);
    assert_int_equal(c.input_slices[0], 8);
    assert_int_equal(c.dac_bits, 8);
    assert_true(c.adc.is_signed);
    assert_true(c.adc.drop_lsbs > 0);
    cim_ctx_destroy(ctx);
}

static cim_ctx *ctx_for(const char *kernel, int threads)
{
    cim_ctx_options o;
    cim_ctx *ctx = NULL;
    cim_ctx_options_default(&o);
    o.kernel = kernel;
    o.threads = threads;
    o.log = NULL;
    if (cim_ctx_create(&o, &ctx) != CIM_OK)
        return NULL;
    return ctx;
}

/* One random layer under cfg: psums equal the exact product, and every
 * column sum is a digital read (none an ADC conversion). */
static void digital_case(cim_ctx *ctx, const cim_xbar_config *cfg, tu_rng *r, int K, int N, int M, int zx, int zw,
                         int extreme, const char *what)
{
    int8_t *w = malloc((size_t)K * (size_t)N);
    uint8_t *x = malloc((size_t)M * (size_t)K);
    int32_t *zp = malloc((size_t)N * sizeof(int32_t)), *got = malloc((size_t)M * (size_t)N * sizeof(int32_t));
    assert_true(w && x && zp && got);
    for (int n = 0; n < N; n++)
        zp[n] = zw ? tu_range(r, -20, 20) : 0;
    for (size_t i = 0; i < (size_t)K * (size_t)N; i++) {
        int n = (int)(i % (size_t)N);
        int v = extreme ? (i % 2 ? 127 : -128) : tu_range(r, -128, 127);
        if (v - zp[n] < -128 || v - zp[n] > 127) /* offset encoding stores w' = w - zw in [-128, 127] */
            v = zp[n];
        w[i] = (int8_t)v;
    }
    for (size_t i = 0; i < (size_t)M * (size_t)K; i++)
        x[i] = (uint8_t)(extreme ? 255 : tu_range(r, 0, 255));
    cim_xbar_config c = *cfg;
    c.zx = zx;
    cim_weights W = {w, CIM_INT8, K, N, zw ? zp : NULL};
    cim_layer *L = NULL;
    if (cim_layer_program(ctx, &c, &W, 1, NULL, &L) != CIM_OK)
        fail_msg("%s: program: %s", what, cim_ctx_errmsg(ctx));
    cim_stats st;
    for (int wide = 0; wide < 2; wide++) {
        cim_run_options o;
        cim_run_options_default(&o);
        o.wide_accumulators = wide;
        if (cim_layer_run(ctx, L, x, M, got, &st, &o) != CIM_OK)
            fail_msg("%s: run: %s", what, cim_ctx_errmsg(ctx));
        for (int m = 0; m < M; m++)
            for (int n = 0; n < N; n++) {
                int64_t e = 0;
                for (int k = 0; k < K; k++)
                    e += (int64_t)(x[(size_t)m * (size_t)K + (size_t)k] - zx) *
                         (w[(size_t)k * (size_t)N + (size_t)n] - zp[n]);
                if (got[(size_t)m * (size_t)N + (size_t)n] != e)
                    fail_msg("%s [kernel %s, wide %d]: psum[%d][%d] = %d, exact %lld (K=%d N=%d M=%d zx=%d)", what,
                             cim_ctx_kernel_name(ctx), wide, m, n, got[(size_t)m * (size_t)N + (size_t)n],
                             (long long)e, K, N, M, zx);
            }
    }
    uint64_t chunks = (uint64_t)((K + c.rows - 1) / c.rows), phases = zx ? 2 : 1;
    assert_int_equal(st.digital_reads,
                     phases * (uint64_t)M * (uint64_t)N * chunks * (uint64_t)c.n_weight_slices * (uint64_t)c.n_input_slices);
    assert_true(st.digital_reads > 0);
    assert_int_equal(st.adc_converts, 0);
    assert_int_equal(st.adc_converts_speculative, 0);
    assert_int_equal(st.adc_converts_recovery, 0);
    assert_int_equal(st.saturations, 0);
    assert_int_equal(st.true_clips, 0);
    assert_int_equal(st.speculation_failures, 0);
    assert_true(cim_stats_converts_per_mac(&st) == 0.0);
    assert_int_equal(st.macs, (uint64_t)M * (uint64_t)K * (uint64_t)N);
    uint64_t h = st.hist.below + st.hist.above;
    for (int i = 0; i < CIM_HIST_BINS; i++)
        h += st.hist.bins[i];
    assert_int_equal(h, st.digital_reads); /* every read is in the column-sum histogram */
    cim_layer_free(ctx, L);
    free(w);
    free(x);
    free(zp);
    free(got);
}

/* digital-cim, and adc: none under other encodings and slicings, is exact on
 * random layers (K not a multiple of rows, signed inputs, per-channel zero
 * points, extremes) on every kernel this CPU runs, at 1 and 2 threads. */
static void test_digital_exact(void **state)
{
    (void)state;
    cim_xbar_config base;
    assert_int_equal(cim_config_preset(NULL, "digital-cim", &base), CIM_OK);
    int ran = 0;
    for (const char *const *k = cim_kernel_names(); *k; k++) {
        if (cim_kernel_supported(*k) != 1) {
            print_message("kernel %s: not supported on this CPU, skipped\n", *k);
            continue;
        }
        for (int threads = 1; threads <= 2; threads++) {
            cim_ctx *ctx = ctx_for(*k, threads);
            assert_non_null(ctx);
            tu_rng r = {0x5eed + (uint64_t)threads};
            digital_case(ctx, &base, &r, 300, 37, 9, 0, 0, 0, "digital-cim");
            digital_case(ctx, &base, &r, 129, 16, 1, 3, 1, 0, "digital-cim signed inputs, zw");
            digital_case(ctx, &base, &r, 1, 1, 1, 0, 0, 0, "digital-cim 1x1");
            digital_case(ctx, &base, &r, 200, 20, 3, 0, 0, 1, "digital-cim extremes");
            /* other crossbars without an ADC: multi-bit and 8-bit slices, 2T2R encodings */
            cim_xbar_config c = base;
            c.encoding = CIM_ENC_DIFFERENTIAL;
            c.rows = 1000;
            c.cols = 64;
            c.cell_bits = c.dac_bits = 8;
            c.n_weight_slices = 1;
            c.weight_slices[0] = 8;
            c.n_input_slices = 1;
            c.input_slices[0] = 8;
            digital_case(ctx, &c, &r, 1500, 70, 4, 0, 0, 0, "differential [8]x[8]");
            digital_case(ctx, &c, &r, 1000, 5, 2, 0, 0, 1, "differential [8]x[8] extremes");
            c.encoding = CIM_ENC_CENTER_OFFSET;
            c.n_weight_slices = 3;
            c.weight_slices[0] = 4;
            c.weight_slices[1] = c.weight_slices[2] = 2;
            c.n_input_slices = 2;
            c.input_slices[0] = c.input_slices[1] = 4;
            digital_case(ctx, &c, &r, 777, 33, 5, 100, 0, 0, "center_offset [4,2,2]x[4,4]");
            c.encoding = CIM_ENC_OFFSET;
            c.flip = 1;
            c.rows = 4096;
            c.n_weight_slices = 1;
            c.weight_slices[0] = 8;
            c.n_input_slices = 1;
            c.input_slices[0] = 8;
            digital_case(ctx, &c, &r, 4096, 3, 2, 0, 0, 1, "offset+flip [8]x[8], 4096 rows, extremes");
            digital_case(ctx, &c, &r, 5000, 19, 3, 0, 0, 0, "offset+flip [8]x[8]");
            cim_ctx_destroy(ctx);
        }
        ran++;
    }
    assert_true(ran >= 1);
}

/* ---- the analog block (cimsim/analog.h, YAML `analog:`) ---- */

/* Every key parses into its field. */
static void test_analog_yaml_good(void **state)
{
    (void)state;
    cim_ctx *ctx = tu_ctx();
    cim_xbar_config c;
    assert_int_equal(load_text(ctx, "an.yaml",
                               "encoding: offset\n"
                               "analog:\n"
                               "  g_on_us: 25\n  g_off_us: 0.5\n  v_read: 0.3\n  t_pulse_ns: 2.5\n"
                               "  drive: amplitude\n  temperature_k: 350\n  adcs_per_crossbar: 8\n"
                               "  read_noise_rel: 0.01\n  read_noise_us: 0.2\n  c_int_ff: 100\n"
                               "  adc_noise_lsb: 0.3\n  prog_sigma_us: 0.4\n  prog_sigma_rel: 0.02\n"
                               "  pcm_prog_noise: true\n  stuck_on: 0.001\n  stuck_off: 0.002\n"
                               "  adc_offset_lsb: 0.5\n  adc_gain_sigma: 0.01\n  zero_leak: yes\n"
                               "  pcm_drift: on\n  t_inference_s: 86400\n  t0_s: 10\n"
                               "  drift_compensation: true\n  pcm_read_noise: per_read\n  t_read_ns: 100\n"
                               "  ir_drop: time\n  r_wire_ohm: 0.3\n  v_col: 0.41\n  v_idle: 0.42\n",
                               &c),
                     CIM_OK);
    const cim_analog_config *a = &c.analog;
    assert_true(a->g_on_us == 25 && a->g_off_us == 0.5 && a->v_read == 0.3 && a->t_pulse_ns == 2.5);
    assert_int_equal(a->drive, CIM_DRIVE_AMPLITUDE);
    assert_true(a->temperature_k == 350);
    assert_int_equal(a->adcs_per_crossbar, 8);
    assert_true(a->read_noise_rel == 0.01 && a->read_noise_us == 0.2 && a->c_int_ff == 100);
    assert_true(a->adc_noise_lsb == 0.3 && a->prog_sigma_us == 0.4 && a->prog_sigma_rel == 0.02);
    assert_true(a->pcm_prog_noise);
    assert_true(a->stuck_on == 0.001 && a->stuck_off == 0.002);
    assert_true(a->adc_offset_lsb == 0.5 && a->adc_gain_sigma == 0.01);
    assert_true(a->zero_leak && a->pcm_drift && a->drift_compensation);
    assert_true(a->t_inference_s == 86400 && a->t0_s == 10 && a->t_read_ns == 100);
    assert_int_equal(a->pcm_read_noise, CIM_PCM_READ_PER_READ);
    assert_int_equal(a->ir_drop, CIM_IR_TIME);
    assert_true(a->r_wire_ohm == 0.3 && a->v_col == 0.41 && a->v_idle == 0.42);
    assert_true(cim_analog_active(a));
    /* every enum value by name; keys left out keep the defaults (or the base's) */
    static const char *const drives[] = {"pulse_count", "pulse_width", "amplitude"};
    static const char *const irs[] = {"none", "static", "time"};
    static const char *const pcmr[] = {"off", "static", "per_read"};
    for (int i = 0; i < 3; i++) {
        char text[160];
        snprintf(text, sizeof text, "base: ibm-pcm-like\nanalog: {drive: %s, ir_drop: %s, pcm_read_noise: %s}\n",
                 drives[i], irs[i], pcmr[i]);
        assert_int_equal(load_text(ctx, "en.yaml", text, &c), CIM_OK);
        assert_int_equal((int)c.analog.drive, i);
        assert_int_equal((int)c.analog.ir_drop, i);
        assert_int_equal((int)c.analog.pcm_read_noise, i);
        assert_string_equal(cim_drive_name(c.analog.drive), drives[i]);
        assert_string_equal(cim_ir_drop_name(c.analog.ir_drop), irs[i]);
        assert_string_equal(cim_pcm_read_name(c.analog.pcm_read_noise), pcmr[i]);
        assert_true(c.analog.g_on_us == 25.0); /* from the base */
        assert_true(c.analog.t0_s == 20.0);
    }
    /* an empty mapping changes nothing */
    cim_xbar_config d;
    cim_config_default(&d);
    assert_int_equal(load_text(ctx, "em.yaml", "analog: {}\n", &c), CIM_OK);
    assert_true(cfg_equal(&c, &d));
    cim_ctx_destroy(ctx);
}

/* Bad keys and values: CIM_ERR_CONFIG naming the file, the key and its line. */
static void test_analog_yaml_bad(void **state)
{
    (void)state;
    cim_ctx *ctx = tu_ctx();
    expect_yaml_error(ctx, "rows: 128\nanalog:\n  g_on_us: 100\n  g_of_us: 5\n", CIM_ERR_CONFIG, "analog.g_of_us");
    expect_yaml_error(ctx, "rows: 128\nanalog:\n  g_on_us: 100\n  g_of_us: 5\n", CIM_ERR_CONFIG, "bad.yaml:4:");
    expect_yaml_error(ctx, "analog: 3\n", CIM_ERR_CONFIG, "analog");
    expect_yaml_error(ctx, "analog: [1]\n", CIM_ERR_CONFIG, "analog");
    expect_yaml_error(ctx, "analog:\n  v_read: high\n", CIM_ERR_CONFIG, "analog.v_read");
    expect_yaml_error(ctx, "analog:\n  v_read: high\n", CIM_ERR_CONFIG, ":2:");
    expect_yaml_error(ctx, "analog:\n  v_read: 0\n", CIM_ERR_CONFIG, "analog.v_read");
    expect_yaml_error(ctx, "analog:\n  g_on_us: -3\n", CIM_ERR_CONFIG, "analog.g_on_us");
    expect_yaml_error(ctx, "analog:\n  g_off_us: -1\n", CIM_ERR_CONFIG, "analog.g_off_us");
    expect_yaml_error(ctx, "analog: {g_on_us: 10, g_off_us: 20}\n", CIM_ERR_CONFIG, "analog.g_off_us");
    expect_yaml_error(ctx, "analog: {g_on_us: 10, g_off_us: 10}\n", CIM_ERR_CONFIG, "analog.g_on_us");
    expect_yaml_error(ctx, "analog:\n  t_pulse_ns: -1\n", CIM_ERR_CONFIG, "analog.t_pulse_ns");
    expect_yaml_error(ctx, "analog:\n  drive: pwm\n", CIM_ERR_CONFIG, "analog.drive");
    expect_yaml_error(ctx, "analog:\n  drive: pwm\n", CIM_ERR_CONFIG, "pulse_width");
    expect_yaml_error(ctx, "analog:\n  temperature_k: 0\n", CIM_ERR_CONFIG, "analog.temperature_k");
    expect_yaml_error(ctx, "analog:\n  adcs_per_crossbar: -1\n", CIM_ERR_CONFIG, "analog.adcs_per_crossbar");
    expect_yaml_error(ctx, "analog:\n  adcs_per_crossbar: 1.5\n", CIM_ERR_CONFIG, "analog.adcs_per_crossbar");
    expect_yaml_error(ctx, "cols: 64\nanalog:\n  adcs_per_crossbar: 65\n", CIM_ERR_CONFIG, "analog.adcs_per_crossbar");
    expect_yaml_error(ctx, "analog:\n  read_noise_rel: -0.1\n", CIM_ERR_CONFIG, "analog.read_noise_rel");
    expect_yaml_error(ctx, "analog:\n  read_noise_us: inf\n", CIM_ERR_CONFIG, "analog.read_noise_us");
    expect_yaml_error(ctx, "analog:\n  c_int_ff: -5\n", CIM_ERR_CONFIG, "analog.c_int_ff");
    expect_yaml_error(ctx, "analog:\n  adc_noise_lsb: nan\n", CIM_ERR_CONFIG, "analog.adc_noise_lsb");
    expect_yaml_error(ctx, "analog:\n  prog_sigma_us: -1\n", CIM_ERR_CONFIG, "analog.prog_sigma_us");
    expect_yaml_error(ctx, "analog:\n  prog_sigma_rel: x\n", CIM_ERR_CONFIG, "analog.prog_sigma_rel");
    expect_yaml_error(ctx, "analog:\n  pcm_prog_noise: 2\n", CIM_ERR_CONFIG, "analog.pcm_prog_noise");
    expect_yaml_error(ctx, "analog:\n  stuck_on: 1.5\n", CIM_ERR_CONFIG, "analog.stuck_on");
    expect_yaml_error(ctx, "analog:\n  stuck_off: -0.5\n", CIM_ERR_CONFIG, "analog.stuck_off");
    expect_yaml_error(ctx, "analog: {stuck_on: 0.6, stuck_off: 0.5}\n", CIM_ERR_CONFIG, "stuck_off");
    expect_yaml_error(ctx, "analog:\n  adc_offset_lsb: -2\n", CIM_ERR_CONFIG, "analog.adc_offset_lsb");
    expect_yaml_error(ctx, "analog:\n  adc_gain_sigma: -0.1\n", CIM_ERR_CONFIG, "analog.adc_gain_sigma");
    expect_yaml_error(ctx, "analog:\n  zero_leak: sometimes\n", CIM_ERR_CONFIG, "analog.zero_leak");
    expect_yaml_error(ctx, "analog:\n  pcm_drift: [true]\n", CIM_ERR_CONFIG, "analog.pcm_drift");
    expect_yaml_error(ctx, "analog:\n  t_inference_s: -1\n", CIM_ERR_CONFIG, "analog.t_inference_s");
    expect_yaml_error(ctx, "analog:\n  t0_s: 0\n", CIM_ERR_CONFIG, "analog.t0_s");
    expect_yaml_error(ctx, "analog:\n  drift_compensation: maybe\n", CIM_ERR_CONFIG, "analog.drift_compensation");
    expect_yaml_error(ctx, "analog:\n  pcm_read_noise: always\n", CIM_ERR_CONFIG, "analog.pcm_read_noise");
    expect_yaml_error(ctx, "analog:\n  t_read_ns: 0\n", CIM_ERR_CONFIG, "analog.t_read_ns");
    expect_yaml_error(ctx, "analog:\n  ir_drop: dynamic\n", CIM_ERR_CONFIG, "analog.ir_drop");
    expect_yaml_error(ctx, "analog:\n  r_wire_ohm: -0.1\n", CIM_ERR_CONFIG, "analog.r_wire_ohm");
    expect_yaml_error(ctx, "analog:\n  v_col: 0\n", CIM_ERR_CONFIG, "analog.v_col");
    expect_yaml_error(ctx, "analog:\n  v_idle: -0.4\n", CIM_ERR_CONFIG, "analog.v_idle");
    /* relations to the rest of the config */
    expect_yaml_error(ctx, "analog: {zero_leak: true}\n", CIM_ERR_CONFIG, "analog.zero_leak");
    expect_yaml_error(ctx, "base: digital-cim\nanalog: {c_int_ff: 10}\n", CIM_ERR_CONFIG, "analog.c_int_ff");
    expect_yaml_error(ctx, "base: digital-cim\nanalog: {ir_drop: static}\n", CIM_ERR_CONFIG, "adc: none");
    /* the physical mapping alone is fine with adc: none */
    cim_xbar_config c;
    assert_int_equal(load_text(ctx, "dg.yaml", "base: digital-cim\nanalog: {g_on_us: 100, drive: amplitude}\n", &c),
                     CIM_OK);
    cim_ctx_destroy(ctx);
}

static void expect_analog_invalid(cim_ctx *ctx, const cim_xbar_config *c, const char *needle)
{
    assert_int_equal(cim_config_validate(ctx, c, "cfg-x"), CIM_ERR_CONFIG);
    if (!strstr(cim_ctx_errmsg(ctx), needle) || !strstr(cim_ctx_errmsg(ctx), "cfg-x"))
        fail_msg("message '%s' should name cfg-x and '%s'", cim_ctx_errmsg(ctx), needle);
}

/* cim_config_validate on configs built in code (no YAML). */
static void test_analog_validate(void **state)
{
    (void)state;
    cim_ctx *ctx = tu_ctx();
    cim_xbar_config d, c;
    cim_config_default(&d);
    assert_int_equal(cim_config_validate(ctx, &d, "cfg-x"), CIM_OK);
    assert_false(cim_analog_active(&d.analog));
    assert_true(d.analog.g_on_us == 750.0 && d.analog.g_off_us == 50.0); /* 1.333 kOhm / 20 kOhm, as the cost model */
#define BAD(stmt, needle)                                                                                      \
    do {                                                                                                       \
        c = d;                                                                                                 \
        stmt;                                                                                                  \
        expect_analog_invalid(ctx, &c, needle);                                                                \
    } while (0)
    BAD(c.analog.g_on_us = 40.0, "analog.g_on_us");
    BAD(c.analog.g_off_us = -1.0, "analog.g_off_us");
    BAD(c.analog.g_on_us = NAN, "analog.g_on_us");
    BAD(c.analog.v_read = 0.0, "analog.v_read");
    BAD(c.analog.t_pulse_ns = -1.0, "analog.t_pulse_ns");
    BAD(c.analog.drive = (cim_drive)7, "analog.drive");
    BAD(c.analog.temperature_k = 0.0, "analog.temperature_k");
    BAD(c.analog.adcs_per_crossbar = -1, "analog.adcs_per_crossbar");
    BAD(c.analog.adcs_per_crossbar = c.cols + 1, "analog.adcs_per_crossbar");
    BAD(c.analog.read_noise_rel = -0.1, "analog.read_noise_rel");
    BAD(c.analog.read_noise_us = INFINITY, "analog.read_noise_us");
    BAD(c.analog.c_int_ff = -1.0, "analog.c_int_ff");
    BAD(c.analog.adc_noise_lsb = NAN, "analog.adc_noise_lsb");
    BAD(c.analog.prog_sigma_us = -1.0, "analog.prog_sigma_us");
    BAD(c.analog.prog_sigma_rel = -1.0, "analog.prog_sigma_rel");
    BAD(c.analog.stuck_on = 1.01, "analog.stuck_on");
    BAD(c.analog.stuck_off = -0.01, "analog.stuck_off");
    BAD((c.analog.stuck_on = 0.5, c.analog.stuck_off = 0.6), "analog.stuck_off");
    BAD(c.analog.adc_offset_lsb = -1.0, "analog.adc_offset_lsb");
    BAD(c.analog.adc_gain_sigma = -1.0, "analog.adc_gain_sigma");
    BAD(c.analog.t_inference_s = -1.0, "analog.t_inference_s");
    BAD(c.analog.t0_s = 0.0, "analog.t0_s");
    BAD(c.analog.pcm_read_noise = (cim_pcm_read)5, "analog.pcm_read_noise");
    BAD(c.analog.t_read_ns = 0.0, "analog.t_read_ns");
    BAD(c.analog.ir_drop = (cim_ir_drop)9, "analog.ir_drop");
    BAD(c.analog.r_wire_ohm = -0.15, "analog.r_wire_ohm");
    BAD(c.analog.v_col = 0.0, "analog.v_col");
    BAD(c.analog.v_idle = -1.0, "analog.v_idle");
    /* zero_leak: 1T1R only (2T2R pairs cancel G_off) */
    BAD(c.analog.zero_leak = 1, "analog.zero_leak");
    BAD((c.encoding = CIM_ENC_DIFFERENTIAL, c.analog.zero_leak = 1), "differential");
    c = d;
    c.encoding = CIM_ENC_OFFSET;
    c.analog.zero_leak = 1;
    assert_int_equal(cim_config_validate(ctx, &c, "cfg-x"), CIM_OK);
    /* no model without an ADC: the message names the key */
    BAD((c.adc.bits = 0, c.analog.adc_offset_lsb = 0.5), "analog.adc_offset_lsb");
    BAD((c.adc.bits = 0, c.analog.pcm_drift = 1), "analog.pcm_drift");
    c = d;
    c.adc.bits = 0;
    c.analog.drift_compensation = 1; /* not a model by itself */
    c.analog.g_on_us = 2.0;
    c.analog.g_off_us = 0.0;
    assert_int_equal(cim_config_validate(ctx, &c, "cfg-x"), CIM_OK);
    /* boundaries that are allowed */
    c = d;
    c.analog.stuck_on = 0.25;
    c.analog.stuck_off = 0.75;
    c.analog.g_off_us = 0.0;
    c.analog.t_inference_s = 0.0;
    c.analog.adcs_per_crossbar = c.cols;
    c.analog.r_wire_ohm = 0.0;
    assert_int_equal(cim_config_validate(ctx, &c, "cfg-x"), CIM_OK);
    assert_int_equal(cim_analog_validate(NULL, &c.analog, NULL), CIM_OK);
    assert_int_equal(cim_analog_validate(NULL, NULL, NULL), CIM_ERR_ARG);
#undef BAD
    cim_ctx_destroy(ctx);
}

/* Every model switched on (each group's parameters nonzero). */
static void all_models(cim_analog_config *a)
{
    cim_analog_default(a);
    a->read_noise_rel = 0.01;
    a->read_noise_us = 0.1;
    a->c_int_ff = 50;
    a->adc_noise_lsb = 0.2;
    a->prog_sigma_us = 0.5;
    a->prog_sigma_rel = 0.02;
    a->pcm_prog_noise = 1;
    a->stuck_on = 0.01;
    a->stuck_off = 0.02;
    a->adc_offset_lsb = 0.3;
    a->adc_gain_sigma = 0.01;
    a->zero_leak = 1;
    a->pcm_drift = 1;
    a->drift_compensation = 1;
    a->pcm_read_noise = CIM_PCM_READ_STATIC;
    a->ir_drop = CIM_IR_STATIC;
}

/* cim_analog_only and the groups: each group alone is exactly that group,
 * "none" is nothing, "all" is everything, the physical mapping is kept. */
static void test_analog_groups(void **state)
{
    (void)state;
    cim_ctx *ctx = tu_ctx();
    const char *const *names = cim_analog_group_names();
    static const char *const expect[] = {"programming", "stuck",      "drift",   "pcm_read",
                                         "read_noise",  "ktc",        "adc_noise", "adc_offset_gain",
                                         "zero_leak",   "ir_drop"};
    int ng = 0;
    for (; names[ng]; ng++) {
        assert_true(ng < 10);
        assert_string_equal(names[ng], expect[ng]);
    }
    assert_int_equal(ng, 10);
    cim_analog_config all, out, none;
    all_models(&all);
    all.g_on_us = 25;
    all.g_off_us = 1;
    all.drive = CIM_DRIVE_PULSE_WIDTH;
    all.adcs_per_crossbar = 4;
    all.t_inference_s = 77;
    assert_true(cim_analog_active(&all));
    for (int g = 0; g < ng; g++)
        assert_true(cim_analog_group_active(&all, names[g]));
    assert_int_equal(cim_analog_only(ctx, &all, "none", &none), CIM_OK);
    assert_false(cim_analog_active(&none));
    assert_true(none.g_on_us == 25 && none.g_off_us == 1 && none.drive == CIM_DRIVE_PULSE_WIDTH &&
                none.adcs_per_crossbar == 4 && none.t_inference_s == 77);
    assert_int_equal(cim_analog_only(ctx, &all, "all", &out), CIM_OK);
    assert_true(analog_equal(&out, &all));
    for (int g = 0; g < ng; g++) {
        assert_int_equal(cim_analog_only(ctx, &all, names[g], &out), CIM_OK);
        assert_true(cim_analog_active(&out));
        for (int h = 0; h < ng; h++)
            if (cim_analog_group_active(&out, names[h]) != (h == g))
                fail_msg("only %s: group %s is %s", names[g], names[h], h == g ? "off" : "on");
        /* switching the group off again gives "none" */
        cim_analog_config back;
        assert_int_equal(cim_analog_only(ctx, &out, "none", &back), CIM_OK);
        assert_true(analog_equal(&back, &none));
    }
    /* the groups carry their parameters */
    assert_int_equal(cim_analog_only(ctx, &all, "drift", &out), CIM_OK);
    assert_true(out.pcm_drift && out.drift_compensation && out.pcm_read_noise == CIM_PCM_READ_OFF);
    assert_int_equal(cim_analog_only(ctx, &all, "programming", &out), CIM_OK);
    assert_true(out.prog_sigma_us == 0.5 && out.prog_sigma_rel == 0.02 && out.pcm_prog_noise && !out.stuck_on);
    assert_int_equal(cim_analog_only(ctx, &all, "adc_offset_gain", &out), CIM_OK);
    assert_true(out.adc_offset_lsb == 0.3 && out.adc_gain_sigma == 0.01 && out.adc_noise_lsb == 0.0);
    /* a single parameter turns its group on */
    cim_analog_config one;
    cim_analog_default(&one);
    one.stuck_off = 0.1;
    assert_true(cim_analog_group_active(&one, "stuck"));
    assert_false(cim_analog_group_active(&one, "programming"));
    one.stuck_off = 0;
    one.drift_compensation = 1; /* not a model alone */
    assert_false(cim_analog_group_active(&one, "drift"));
    assert_false(cim_analog_active(&one));
    /* in place, and errors */
    out = all;
    assert_int_equal(cim_analog_only(ctx, &out, "ktc", &out), CIM_OK);
    assert_true(out.c_int_ff == 50 && out.read_noise_rel == 0.0);
    out = all;
    assert_int_equal(cim_analog_only(ctx, &all, "thermal", &out), CIM_ERR_ARG);
    assert_non_null(strstr(cim_ctx_errmsg(ctx), "thermal"));
    assert_true(analog_equal(&out, &all)); /* untouched */
    assert_int_equal(cim_analog_only(ctx, &all, NULL, &out), CIM_ERR_ARG);
    assert_false(cim_analog_group_active(&all, "thermal"));
    assert_false(cim_analog_group_active(&all, "none"));
    cim_ctx_destroy(ctx);
}

/* `analog:` per layer, the presets' device physics, the summary. */
static void test_analog_arch(void **state)
{
    (void)state;
    cim_ctx *ctx = tu_ctx();
    char path[512];
    tu_path(path, sizeof path, "arch-an.yaml");
    const char *text = "base: raella\n"
                       "analog: {read_noise_rel: 0.02}\n"
                       "layers:\n"
                       "  last: {analog: {read_noise_rel: 0, c_int_ff: 30}}\n"
                       "  /fc/Gemm: {analog: {stuck_on: 0.01}}\n";
    tu_write_file(path, text, strlen(text));
    cim_arch a;
    assert_int_equal(cim_arch_load(ctx, path, &a), CIM_OK);
    assert_true(a.base.analog.read_noise_rel == 0.02);
    assert_int_equal(a.n_overrides, 2);
    const cim_xbar_config *last = cim_arch_layer_config(&a, "x", 0, 1);
    assert_true(last->analog.read_noise_rel == 0.0 && last->analog.c_int_ff == 30.0);
    const cim_xbar_config *fc = cim_arch_layer_config(&a, "/fc/Gemm", 0, 0);
    assert_true(fc->analog.read_noise_rel == 0.02 && fc->analog.stuck_on == 0.01); /* on top of the base */
    char buf[256];
    cim_config_summary(fc, buf, sizeof buf);
    assert_non_null(strstr(buf, "analog[stuck,read_noise]"));
    cim_config_summary(last, buf, sizeof buf);
    assert_non_null(strstr(buf, "analog[ktc]"));
    /* one group alone over the whole arch: base and every override */
    cim_arch *only = malloc(sizeof *only);
    assert_non_null(only);
    assert_int_equal(cim_arch_analog_only(ctx, &a, "stuck", only), CIM_OK);
    assert_false(cim_analog_active(&only->base.analog));
    assert_false(cim_analog_active(&cim_arch_layer_config(only, "x", 0, 1)->analog));
    const cim_xbar_config *fc1 = cim_arch_layer_config(only, "/fc/Gemm", 0, 0);
    assert_true(fc1->analog.stuck_on == 0.01 && fc1->analog.read_noise_rel == 0.0);
    assert_int_equal(cim_arch_analog_only(ctx, &a, "nonsense", only), CIM_ERR_ARG);
    assert_int_equal(cim_arch_analog_only(ctx, &a, "none", &a), CIM_OK); /* in place */
    assert_false(cim_analog_active(&a.base.analog));
    assert_false(cim_analog_active(&cim_arch_layer_config(&a, "/fc/Gemm", 0, 0)->analog));
    free(only);
    /* an override's bad analog key names the selector's line and key */
    const char *bad = "base: raella\nlayers:\n  last:\n    analog: {v_read: -1}\n";
    tu_write_file(path, bad, strlen(bad));
    assert_int_equal(cim_arch_load(ctx, path, &a), CIM_ERR_CONFIG);
    if (!strstr(cim_ctx_errmsg(ctx), "analog.v_read") || !strstr(cim_ctx_errmsg(ctx), "arch-an.yaml:4:"))
        fail_msg("'%s'", cim_ctx_errmsg(ctx));
    bad = "base: raella\nlayers:\n  last:\n    analog: {zero_leak: true}\n";
    tu_write_file(path, bad, strlen(bad));
    assert_int_equal(cim_arch_load(ctx, path, &a), CIM_ERR_CONFIG);
    if (!strstr(cim_ctx_errmsg(ctx), "analog.zero_leak") || !strstr(cim_ctx_errmsg(ctx), "layers.last"))
        fail_msg("'%s'", cim_ctx_errmsg(ctx));
    /* presets: device physics, every model off, no analog in the summary */
    for (const char *const *p = cim_config_preset_names(); *p; p++) {
        assert_int_equal(cim_arch_load(ctx, *p, &a), CIM_OK);
        assert_false(cim_analog_active(&a.base.analog));
        for (int i = 0; i < a.n_overrides; i++)
            assert_false(cim_analog_active(&a.over[i].cfg.analog));
        cim_config_summary(&a.base, buf, sizeof buf);
        assert_null(strstr(buf, "analog"));
    }
    cim_xbar_config c;
    assert_int_equal(cim_config_preset(ctx, "raella", &c), CIM_OK);
    assert_true(c.analog.g_on_us == 750 && c.analog.g_off_us == 50 && c.analog.v_read == 0.2);
    assert_int_equal(c.analog.drive, CIM_DRIVE_PULSE_COUNT);
    assert_int_equal(c.analog.adcs_per_crossbar, 4);
    assert_int_equal(cim_config_preset(ctx, "isaac", &c), CIM_OK);
    assert_int_equal(c.analog.adcs_per_crossbar, 1);
    assert_int_equal(cim_config_preset(ctx, "timely-like", &c), CIM_OK);
    assert_int_equal(c.analog.drive, CIM_DRIVE_PULSE_WIDTH);
    assert_int_equal(cim_config_preset(ctx, "ibm-pcm-like", &c), CIM_OK);
    assert_true(c.analog.g_on_us == 25 && c.analog.g_off_us == 0 && c.analog.v_col == 0.4005 &&
                c.analog.v_idle == 0.4 && c.analog.r_wire_ohm == 0.15 && c.analog.t0_s == 20);
    assert_int_equal(c.analog.drive, CIM_DRIVE_PULSE_WIDTH);
    cim_ctx_destroy(ctx);
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
        cmocka_unit_test(test_preset_files),
        cmocka_unit_test(test_preset_bad_key),
        cmocka_unit_test(test_adaptive),
        cmocka_unit_test(test_adc_none_yaml),
        cmocka_unit_test(test_digital_exact),
        cmocka_unit_test(test_analog_yaml_good),
        cmocka_unit_test(test_analog_yaml_bad),
        cmocka_unit_test(test_analog_validate),
        cmocka_unit_test(test_analog_groups),
        cmocka_unit_test(test_analog_arch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
