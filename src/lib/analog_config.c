/* analog_config.c: defaults, names, validation and model groups of the
 * physical models (cimsim/analog.h). */
#include <math.h>
#include <string.h>
#include "internal.h"

void cim_analog_default(cim_analog_config *a)
{
    memset(a, 0, sizeof *a);
    /* RAELLA thesis 6.1.1: "a 0.2V read voltage and 1kOhm/20kOhm on/off
     * resistance"; issue 5 and the cost model (data/components/devices.yaml,
     * reram_raella) use 1.333 kOhm on, and so do we, so that the energy and the
     * analog models describe one device; 5.1: 1 ns pulses from pulse-train DACs. */
    a->g_on_us = 750.0;
    a->g_off_us = 50.0;
    a->v_read = 0.2;
    a->t_pulse_ns = 1.0;
    a->drive = CIM_DRIVE_PULSE_COUNT;
    a->temperature_k = 300.0;
    a->t_inference_s = 3600.0;
    a->t0_s = 20.0;
    a->pcm_read_noise = CIM_PCM_READ_OFF;
    a->t_read_ns = 250.0;
    a->ir_drop = CIM_IR_NONE;
    a->r_wire_ohm = 0.15;
    a->v_col = 0.4005;
    a->v_idle = 0.4;
}

/* The model groups (analog.h): on/off tests and switches, in report order. */
static int prog_on(const cim_analog_config *a)
{
    return a->prog_sigma_us > 0.0 || a->prog_sigma_rel > 0.0 || a->pcm_prog_noise;
}
static void prog_off(cim_analog_config *a)
{
    a->prog_sigma_us = a->prog_sigma_rel = 0.0;
    a->pcm_prog_noise = 0;
}
static int stuck_on(const cim_analog_config *a) { return a->stuck_on > 0.0 || a->stuck_off > 0.0; }
static void stuck_off(cim_analog_config *a) { a->stuck_on = a->stuck_off = 0.0; }
static int drift_on(const cim_analog_config *a) { return a->pcm_drift != 0; }
static void drift_off(cim_analog_config *a) { a->pcm_drift = a->drift_compensation = 0; }
static int pcmr_on(const cim_analog_config *a) { return a->pcm_read_noise != CIM_PCM_READ_OFF; }
static void pcmr_off(cim_analog_config *a) { a->pcm_read_noise = CIM_PCM_READ_OFF; }
static int read_on(const cim_analog_config *a) { return a->read_noise_rel > 0.0 || a->read_noise_us > 0.0; }
static void read_off(cim_analog_config *a) { a->read_noise_rel = a->read_noise_us = 0.0; }
static int ktc_on(const cim_analog_config *a) { return a->c_int_ff > 0.0; }
static void ktc_off(cim_analog_config *a) { a->c_int_ff = 0.0; }
static int adcn_on(const cim_analog_config *a) { return a->adc_noise_lsb > 0.0; }
static void adcn_off(cim_analog_config *a) { a->adc_noise_lsb = 0.0; }
static int adcog_on(const cim_analog_config *a) { return a->adc_offset_lsb > 0.0 || a->adc_gain_sigma > 0.0; }
static void adcog_off(cim_analog_config *a) { a->adc_offset_lsb = a->adc_gain_sigma = 0.0; }
static int leak_on(const cim_analog_config *a) { return a->zero_leak != 0; }
static void leak_off(cim_analog_config *a) { a->zero_leak = 0; }
static int ir_on(const cim_analog_config *a) { return a->ir_drop != CIM_IR_NONE; }
static void ir_off(cim_analog_config *a) { a->ir_drop = CIM_IR_NONE; }

typedef struct {
    int (*on)(const cim_analog_config *a);
    void (*off)(cim_analog_config *a);
} group_ops;

#define N_GROUPS 10
static const char *const group_names[N_GROUPS + 1] = {
    "programming", "stuck", "drift", "pcm_read", "read_noise", "ktc", "adc_noise", "adc_offset_gain",
    "zero_leak", "ir_drop", NULL};
static const group_ops groups[N_GROUPS] = {
    {prog_on, prog_off}, {stuck_on, stuck_off}, {drift_on, drift_off}, {pcmr_on, pcmr_off},
    {read_on, read_off}, {ktc_on, ktc_off},     {adcn_on, adcn_off},   {adcog_on, adcog_off},
    {leak_on, leak_off}, {ir_on, ir_off}};

static int group_index(const char *group)
{
    if (group)
        for (int i = 0; i < N_GROUPS; i++)
            if (strcmp(group_names[i], group) == 0)
                return i;
    return -1;
}

const char *const *cim_analog_group_names(void) { return group_names; }

int cim_analog_group_active(const cim_analog_config *a, const char *group)
{
    int g = group_index(group);
    return g >= 0 && groups[g].on(a);
}

int cim_analog_active(const cim_analog_config *a)
{
    for (int g = 0; g < N_GROUPS; g++)
        if (groups[g].on(a))
            return 1;
    return 0;
}

cim_status cim_analog_only(cim_ctx *ctx, const cim_analog_config *a, const char *group, cim_analog_config *out)
{
    if (!a || !group || !out)
        return cim__err(ctx, CIM_ERR_ARG, "cim_analog_only: NULL argument");
    int keep = group_index(group);
    int all = strcmp(group, "all") == 0;
    if (keep < 0 && !all && strcmp(group, "none") != 0)
        return cim__err(ctx, CIM_ERR_ARG,
                        "'%s' is not an analog model group (none, all, programming, stuck, drift, pcm_read, "
                        "read_noise, ktc, adc_noise, adc_offset_gain, zero_leak, ir_drop)", group);
    cim_analog_config r = *a;
    if (!all)
        for (int g = 0; g < N_GROUPS; g++)
            if (g != keep)
                groups[g].off(&r);
    *out = r;
    return CIM_OK;
}

cim_status cim_arch_analog_only(cim_ctx *ctx, const cim_arch *in, const char *group, cim_arch *out)
{
    if (!in || !out)
        return cim__err(ctx, CIM_ERR_ARG, "cim_arch_analog_only: NULL argument");
    cim_analog_config base;
    cim_status st = cim_analog_only(ctx, &in->base.analog, group, &base); /* checks the group first */
    if (st)
        return st;
    if (out != in)
        *out = *in;
    out->base.analog = base;
    for (int i = 0; i < out->n_overrides; i++)
        cim_analog_only(ctx, &out->over[i].cfg.analog, group, &out->over[i].cfg.analog);
    return CIM_OK;
}

/* x > 0 (strict) or x >= 0, and finite. */
static int pos(double x) { return isfinite(x) && x > 0.0; }
static int nonneg(double x) { return isfinite(x) && x >= 0.0; }

cim_status cim_analog_validate(cim_ctx *ctx, const cim_analog_config *a, const char *what)
{
    if (!what)
        what = "config";
    if (!a)
        return cim__err(ctx, CIM_ERR_ARG, "%s: NULL analog config", what);
#define NEED(cond, key, rule, val)                                                                             \
    do {                                                                                                       \
        if (!(cond))                                                                                           \
            return cim__err(ctx, CIM_ERR_CONFIG, "%s: analog." key " = %g: " rule, what, (double)(val));      \
    } while (0)
    NEED(nonneg(a->g_off_us), "g_off_us", "must be >= 0 (uS)", a->g_off_us);
    NEED(pos(a->g_on_us), "g_on_us", "must be > 0 (uS)", a->g_on_us);
    if (!(a->g_on_us > a->g_off_us))
        return cim__err(ctx, CIM_ERR_CONFIG,
                        "%s: analog.g_on_us = %g must be above analog.g_off_us = %g (the on state conducts more)",
                        what, a->g_on_us, a->g_off_us);
    NEED(pos(a->v_read), "v_read", "must be > 0 (V)", a->v_read);
    NEED(pos(a->t_pulse_ns), "t_pulse_ns", "must be > 0 (ns)", a->t_pulse_ns);
    if ((unsigned)a->drive > CIM_DRIVE_AMPLITUDE)
        return cim__err(ctx, CIM_ERR_CONFIG, "%s: analog.drive = %d is not known", what, (int)a->drive);
    NEED(pos(a->temperature_k), "temperature_k", "must be > 0 (K)", a->temperature_k);
    NEED(a->adcs_per_crossbar >= 0, "adcs_per_crossbar", "must be >= 0 (0: one ADC per column)",
         a->adcs_per_crossbar);
    NEED(nonneg(a->read_noise_rel), "read_noise_rel", "a sigma must be >= 0", a->read_noise_rel);
    NEED(nonneg(a->read_noise_us), "read_noise_us", "a sigma must be >= 0 (uS)", a->read_noise_us);
    NEED(nonneg(a->c_int_ff), "c_int_ff", "must be >= 0 (fF; 0: no kT/C noise)", a->c_int_ff);
    NEED(nonneg(a->adc_noise_lsb), "adc_noise_lsb", "a sigma must be >= 0 (ADC steps)", a->adc_noise_lsb);
    NEED(nonneg(a->prog_sigma_us), "prog_sigma_us", "a sigma must be >= 0 (uS)", a->prog_sigma_us);
    NEED(nonneg(a->prog_sigma_rel), "prog_sigma_rel", "a sigma must be >= 0", a->prog_sigma_rel);
    NEED(isfinite(a->stuck_on) && a->stuck_on >= 0.0 && a->stuck_on <= 1.0, "stuck_on",
         "a probability must be in [0, 1]", a->stuck_on);
    NEED(isfinite(a->stuck_off) && a->stuck_off >= 0.0 && a->stuck_off <= 1.0, "stuck_off",
         "a probability must be in [0, 1]", a->stuck_off);
    if (a->stuck_on + a->stuck_off > 1.0)
        return cim__err(ctx, CIM_ERR_CONFIG,
                        "%s: analog.stuck_on + analog.stuck_off = %g + %g exceeds 1 (a cell is stuck on, stuck "
                        "off, or neither)", what, a->stuck_on, a->stuck_off);
    NEED(nonneg(a->adc_offset_lsb), "adc_offset_lsb", "a sigma must be >= 0 (ADC steps)", a->adc_offset_lsb);
    NEED(nonneg(a->adc_gain_sigma), "adc_gain_sigma", "a sigma must be >= 0", a->adc_gain_sigma);
    NEED(nonneg(a->t_inference_s), "t_inference_s", "must be >= 0 (s)", a->t_inference_s);
    NEED(pos(a->t0_s), "t0_s", "must be > 0 (s)", a->t0_s);
    if ((unsigned)a->pcm_read_noise > CIM_PCM_READ_PER_READ)
        return cim__err(ctx, CIM_ERR_CONFIG, "%s: analog.pcm_read_noise = %d is not known", what,
                        (int)a->pcm_read_noise);
    NEED(pos(a->t_read_ns), "t_read_ns", "must be > 0 (ns)", a->t_read_ns);
    if ((unsigned)a->ir_drop > CIM_IR_TIME)
        return cim__err(ctx, CIM_ERR_CONFIG, "%s: analog.ir_drop = %d is not known", what, (int)a->ir_drop);
    NEED(nonneg(a->r_wire_ohm), "r_wire_ohm", "must be >= 0 (Ohm per cell)", a->r_wire_ohm);
    NEED(pos(a->v_col), "v_col", "must be > 0 (V)", a->v_col);
    NEED(pos(a->v_idle), "v_idle", "must be > 0 (V)", a->v_idle);
#undef NEED
    return CIM_OK;
}

const char *cim_drive_name(cim_drive d)
{
    switch (d) {
    case CIM_DRIVE_PULSE_COUNT: return "pulse_count";
    case CIM_DRIVE_PULSE_WIDTH: return "pulse_width";
    case CIM_DRIVE_AMPLITUDE: return "amplitude";
    }
    return "?";
}

const char *cim_ir_drop_name(cim_ir_drop m)
{
    switch (m) {
    case CIM_IR_NONE: return "none";
    case CIM_IR_STATIC: return "static";
    case CIM_IR_TIME: return "time";
    }
    return "?";
}

const char *cim_pcm_read_name(cim_pcm_read m)
{
    switch (m) {
    case CIM_PCM_READ_OFF: return "off";
    case CIM_PCM_READ_STATIC: return "static";
    case CIM_PCM_READ_PER_READ: return "per_read";
    }
    return "?";
}
