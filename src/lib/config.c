/* config.c: defaults, the preset table and validation of crossbar configs. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "internal.h"

void cim_config_default(cim_xbar_config *c)
{
    memset(c, 0, sizeof *c);
    c->rows = 512;
    c->cols = 512;
    c->encoding = CIM_ENC_CENTER_OFFSET;
    c->flip = 0;
    c->input_encoding = CIM_IN_AUTO;
    c->zx = 0;
    c->n_weight_slices = 3;
    c->weight_slices[0] = 4;
    c->weight_slices[1] = 2;
    c->weight_slices[2] = 2;
    c->n_input_slices = 8;
    for (int i = 0; i < 8; i++)
        c->input_slices[i] = 1;
    c->speculation = 0;
    c->recovery_bits = 1;
    c->cell_bits = 4;
    c->dac_bits = 4;
    c->adc.bits = 7;
    c->adc.is_signed = 1;
    c->adc.drop_lsbs = 0;
    c->noise.model = CIM_NOISE_NONE;
    c->noise.level = 0.0;
    c->noise.seed = 0;
    cim_analog_default(&c->analog);
}

/* The presets: presets/NAME.yaml, embedded by presets/embed.cmake into the
 * generated presets.c (NULL-terminated, same order). cim_config_preset()
 * parses the text (config_yaml.c). */
extern const char *const cim__preset_names[];
extern const char *const cim__preset_descriptions[];
extern const char *const cim__preset_texts[];

static int preset_index(const char *name)
{
    if (name)
        for (int i = 0; cim__preset_names[i]; i++)
            if (strcmp(cim__preset_names[i], name) == 0)
                return i;
    return -1;
}

const char *const *cim_config_preset_names(void) { return cim__preset_names; }

const char *cim_config_preset_description(const char *name)
{
    int i = preset_index(name);
    return i < 0 ? NULL : cim__preset_descriptions[i];
}

const char *cim_config_preset_text(const char *name)
{
    int i = preset_index(name);
    return i < 0 ? NULL : cim__preset_texts[i];
}

const char *cim_encoding_name(cim_encoding e)
{
    switch (e) {
    case CIM_ENC_OFFSET: return "offset";
    case CIM_ENC_DIFFERENTIAL: return "differential";
    case CIM_ENC_CENTER_OFFSET: return "center_offset";
    }
    return "?";
}

const char *cim_input_encoding_name(cim_input_encoding e)
{
    switch (e) {
    case CIM_IN_AUTO: return "auto";
    case CIM_IN_UNSIGNED: return "unsigned";
    case CIM_IN_SIGNED_SPLIT: return "signed_split";
    }
    return "?";
}

const char *cim_noise_model_name(cim_noise_model m)
{
    switch (m) {
    case CIM_NOISE_NONE: return "none";
    case CIM_NOISE_GAUSSIAN_COLSUM: return "gaussian_colsum";
    }
    return "?";
}

cim_input_encoding cim_config_input_encoding(const cim_xbar_config *c)
{
    if (c->input_encoding == CIM_IN_AUTO)
        return c->zx == 0 ? CIM_IN_UNSIGNED : CIM_IN_SIGNED_SPLIT;
    return c->input_encoding;
}

/* A slicing must have 1..8 widths, each in [1, max_width], summing to 8. */
static cim_status check_slicing(cim_ctx *ctx, const char *what, const char *key, int n, const int *w,
                                int max_width, const char *limit_key)
{
    if (n < 1 || n > CIM_MAX_SLICES)
        return cim__err(ctx, CIM_ERR_CONFIG, "%s: %s: %d slices (need 1..%d)", what, key, n,
                        CIM_MAX_SLICES);
    int sum = 0;
    for (int i = 0; i < n; i++) {
        if (w[i] < 1)
            return cim__err(ctx, CIM_ERR_CONFIG, "%s: %s[%d] = %d: a slice is at least 1 bit", what,
                            key, i, w[i]);
        if (w[i] > max_width)
            return cim__err(ctx, CIM_ERR_CONFIG, "%s: %s[%d] = %d bits exceeds %s = %d", what, key,
                            i, w[i], limit_key, max_width);
        sum += w[i];
    }
    if (sum != CIM_OPERAND_BITS)
        return cim__err(ctx, CIM_ERR_CONFIG, "%s: %s sum to %d bits; they must sum to %d", what,
                        key, sum, CIM_OPERAND_BITS);
    return CIM_OK;
}

/* The first model switch that is on, as its YAML key (for messages). */
static const char *first_analog_key(const cim_analog_config *a)
{
    if (a->prog_sigma_us > 0.0) return "prog_sigma_us";
    if (a->prog_sigma_rel > 0.0) return "prog_sigma_rel";
    if (a->pcm_prog_noise) return "pcm_prog_noise";
    if (a->stuck_on > 0.0) return "stuck_on";
    if (a->stuck_off > 0.0) return "stuck_off";
    if (a->pcm_drift) return "pcm_drift";
    if (a->pcm_read_noise != CIM_PCM_READ_OFF) return "pcm_read_noise";
    if (a->read_noise_rel > 0.0) return "read_noise_rel";
    if (a->read_noise_us > 0.0) return "read_noise_us";
    if (a->c_int_ff > 0.0) return "c_int_ff";
    if (a->adc_noise_lsb > 0.0) return "adc_noise_lsb";
    if (a->adc_offset_lsb > 0.0) return "adc_offset_lsb";
    if (a->adc_gain_sigma > 0.0) return "adc_gain_sigma";
    if (a->zero_leak) return "zero_leak";
    if (a->ir_drop != CIM_IR_NONE) return "ir_drop";
    return "?";
}

/* The analog block alone (analog_config.c), then what depends on the rest of
 * the config: ADC sharing within the columns, the zero-cell leak only where
 * nothing cancels it (1T1R offset cells; a 2T2R pair's G_off terms cancel
 * exactly, so zero_leak there would be a switch that does nothing: an
 * error), and no analog model without an ADC (digital reads are exact). */
static cim_status check_analog(cim_ctx *ctx, const cim_xbar_config *c, const char *what)
{
    const cim_analog_config *a = &c->analog;
    cim_status st = cim_analog_validate(ctx, a, what);
    if (st)
        return st;
    if (a->adcs_per_crossbar > c->cols)
        return cim__err(ctx, CIM_ERR_CONFIG, "%s: analog.adcs_per_crossbar = %d exceeds cols = %d (0: one per column)",
                        what, a->adcs_per_crossbar, c->cols);
    if (a->zero_leak && c->encoding != CIM_ENC_OFFSET)
        return cim__err(ctx, CIM_ERR_CONFIG,
                        "%s: analog.zero_leak with encoding %s: a 2T2R pair's off-state currents cancel (G+ - G-), "
                        "so the leak of zero cells exists only in 1T1R cells (encoding offset)",
                        what, cim_encoding_name(c->encoding));
    if (c->adc.bits == 0 && cim_analog_active(a))
        return cim__err(ctx, CIM_ERR_CONFIG,
                        "%s: analog.%s with adc: none: digital accumulation reads exact bits, the analog models "
                        "must be off", what, first_analog_key(a));
    return CIM_OK;
}

cim_status cim_config_validate(cim_ctx *ctx, const cim_xbar_config *c, const char *what)
{
    cim_status st;
    if (!what)
        what = "config";
    if (!c)
        return cim__err(ctx, CIM_ERR_ARG, "%s: NULL config", what);
    if (c->rows < 1 || c->rows > CIM_MAX_ROWS)
        return cim__err(ctx, CIM_ERR_CONFIG, "%s: rows = %d is not in 1..%d", what, c->rows,
                        CIM_MAX_ROWS);
    if (c->cols < 1 || c->cols > CIM_MAX_COLS)
        return cim__err(ctx, CIM_ERR_CONFIG, "%s: cols = %d is not in 1..%d", what, c->cols,
                        CIM_MAX_COLS);
    if ((unsigned)c->encoding > CIM_ENC_CENTER_OFFSET)
        return cim__err(ctx, CIM_ERR_CONFIG, "%s: encoding = %d is not a known encoding", what,
                        (int)c->encoding);
    if (c->flip && c->encoding != CIM_ENC_OFFSET)
        return cim__err(ctx, CIM_ERR_CONFIG,
                        "%s: flip is only defined for encoding offset (got %s)", what,
                        cim_encoding_name(c->encoding));
    if ((unsigned)c->input_encoding > CIM_IN_SIGNED_SPLIT)
        return cim__err(ctx, CIM_ERR_CONFIG, "%s: input_encoding = %d is not known", what,
                        (int)c->input_encoding);
    if (c->zx < 0 || c->zx > 255)
        return cim__err(ctx, CIM_ERR_CONFIG, "%s: zx = %d is not in 0..255", what, c->zx);
    if (c->cell_bits < 1 || c->cell_bits > 8)
        return cim__err(ctx, CIM_ERR_CONFIG, "%s: cell_bits = %d is not in 1..8", what,
                        c->cell_bits);
    if (c->dac_bits < 1 || c->dac_bits > 8)
        return cim__err(ctx, CIM_ERR_CONFIG, "%s: dac_bits = %d is not in 1..8", what, c->dac_bits);
    st = check_slicing(ctx, what, "weight_slices", c->n_weight_slices, c->weight_slices,
                       c->cell_bits, "cell_bits");
    if (st)
        return st;
    st = check_slicing(ctx, what, c->speculation ? "speculation.slices" : "input_slices",
                       c->n_input_slices, c->input_slices, c->dac_bits, "dac_bits");
    if (st)
        return st;
    if (c->speculation && (c->recovery_bits < 1 || c->recovery_bits > c->dac_bits))
        return cim__err(ctx, CIM_ERR_CONFIG,
                        "%s: speculation.recovery_bits = %d is not in 1..dac_bits (%d)", what,
                        c->recovery_bits, c->dac_bits);
    if (c->cols < c->n_weight_slices)
        return cim__err(ctx, CIM_ERR_CONFIG,
                        "%s: cols = %d cannot hold one filter's %d weight-slice columns", what,
                        c->cols, c->n_weight_slices);
    if (c->adc.bits < 0 || c->adc.bits > CIM_MAX_ADC_BITS)
        return cim__err(ctx, CIM_ERR_CONFIG, "%s: adc.bits = %d is not in 1..%d (or 0: no ADC)", what,
                        c->adc.bits, CIM_MAX_ADC_BITS);
    if (c->adc.drop_lsbs < 0 || c->adc.drop_lsbs > 24)
        return cim__err(ctx, CIM_ERR_CONFIG, "%s: adc.drop_lsbs = %d is not in 0..24", what,
                        c->adc.drop_lsbs);
    if ((unsigned)c->noise.model > CIM_NOISE_GAUSSIAN_COLSUM)
        return cim__err(ctx, CIM_ERR_CONFIG, "%s: noise.model = %d is not known", what,
                        (int)c->noise.model);
    if (!isfinite(c->noise.level) || c->noise.level < 0.0 || c->noise.level > 100.0)
        return cim__err(ctx, CIM_ERR_CONFIG, "%s: noise.level = %g is not in 0..100", what,
                        c->noise.level);
    st = check_analog(ctx, c, what);
    if (st)
        return st;
    if (c->adc.bits == 0) { /* no ADC: digital adders read column sums exactly */
        if (c->adc.drop_lsbs)
            return cim__err(ctx, CIM_ERR_CONFIG,
                            "%s: adc.drop_lsbs = %d, but without an ADC (adc: none) column sums are read "
                            "exactly: drop_lsbs must be 0", what, c->adc.drop_lsbs);
        if (c->noise.model != CIM_NOISE_NONE && c->noise.level > 0.0)
            return cim__err(ctx, CIM_ERR_CONFIG,
                            "%s: noise %s (level %g) with adc: none: digital accumulation is exact, "
                            "the noise must be off", what, cim_noise_model_name(c->noise.model), c->noise.level);
        if (c->speculation)
            return cim__err(ctx, CIM_ERR_CONFIG,
                            "%s: speculation with adc: none: nothing saturates without an ADC, "
                            "so speculation must be off (give input_slices)", what);
    }
    return CIM_OK;
}

static int print_slices(char *buf, size_t size, const int *w, int n)
{
    int len = 0;
    for (int i = 0; i < n && (size_t)len < size; i++)
        len += snprintf(buf + len, size - (size_t)len, "%s%d", i ? "," : "", w[i]);
    return len;
}

void cim_config_summary(const cim_xbar_config *c, char *buf, size_t size)
{
    char ws[32], is[32];
    if (!size)
        return;
    print_slices(ws, sizeof ws, c->weight_slices, c->n_weight_slices);
    print_slices(is, sizeof is, c->input_slices, c->n_input_slices);
    char noise[64] = "";
    if (c->noise.model != CIM_NOISE_NONE)
        snprintf(noise, sizeof noise, " noise %s E=%g seed=%llu", cim_noise_model_name(c->noise.model),
                 c->noise.level, (unsigned long long)c->noise.seed);
    char adc[48];
    if (c->adc.bits == 0)
        snprintf(adc, sizeof adc, "no adc (digital)");
    else
        snprintf(adc, sizeof adc, "adc %db %s%s%.0d", c->adc.bits, c->adc.is_signed ? "signed" : "unsigned",
                 c->adc.drop_lsbs ? " drop" : "", c->adc.drop_lsbs);
    char analog[160] = ""; /* the model groups that are on (analog.h), e.g. " analog[stuck,ktc]" */
    if (cim_analog_active(&c->analog)) {
        int len = snprintf(analog, sizeof analog, " analog[");
        for (const char *const *g = cim_analog_group_names(); *g; g++)
            if (cim_analog_group_active(&c->analog, *g) && (size_t)len < sizeof analog)
                len += snprintf(analog + len, sizeof analog - (size_t)len, "%s%s", analog[len - 1] == '[' ? "" : ",",
                                *g);
        if ((size_t)len < sizeof analog)
            snprintf(analog + len, sizeof analog - (size_t)len, "]");
    }
    snprintf(buf, size, "%dx%d %s%s in:%s w[%s] %s[%s]%s%.0d %s%s zx=%d%s", c->rows, c->cols,
             cim_encoding_name(c->encoding), c->flip ? "+flip" : "",
             cim_input_encoding_name(cim_config_input_encoding(c)), ws, c->speculation ? "spec" : "in", is,
             c->speculation ? "/rec" : "", c->speculation ? c->recovery_bits : 0, adc, noise, c->zx, analog);
}
