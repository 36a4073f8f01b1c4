/* test_config.c: presets, validation and YAML configs, including every kind of
 * bad input: unknown keys, bad values, bad slicings, syntax errors, missing
 * files. Each error must name the file and the key. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "testutil.h"

/* The repository's presets/ folder (the files the library embeds). */
#define PRESET_DIR CIMSIM_TEST_DATA "/../../presets"

static int cfg_equal(const cim_xbar_config *a, const cim_xbar_config *b)
{
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
    /* raella-nospec is exactly the defaults */
    cim_xbar_config d;
    cim_config_default(&d);
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
