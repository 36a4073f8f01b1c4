/* cimsim/analog.h: the physical (analog) models of a crossbar, on top of the
 * exact integer arithmetic of docs/semantics.md (docs/analog.md has every
 * equation and its source).
 *
 * Units. A cell of s bits at level v has conductance
 *     G(v) = G_off + v / (2^s - 1) * (G_on - G_off)
 * (s = the config's cell_bits). A 2T2R pair (differential, center_offset)
 * holds G(v+) and G(v-); a 1T1R cell (offset) holds G(v) alone. One "level
 * unit" (LU) is the charge one level step passes in one unit of input:
 *     q_LU = (G_on - G_off) / (2^s - 1) * v_read * t_pulse
 * and an exact column sum S (semantics.md section 4) is a charge of S LU. Every
 * model below is computed in physical units (S, uS, V, s, F, K) and converted
 * to LU, so the ADC sees S~ = S + dS (LU) and its step stays 2^drop_lsbs LU.
 *
 * With every model off (the defaults, cim_analog_default) dS = 0 and the run
 * is the exact integer arithmetic, bit for bit; a model whose parameters are
 * zero also gives dS = 0 exactly.
 *
 * Models are of two kinds:
 *  - static: drawn once per programmed array (layer) and seed, identical in
 *    every inference: programming error, PCM programming noise, stuck cells,
 *    PCM drift at time t, ADC offset and gain, static IR drop, the zero-cell
 *    leak of a finite on/off ratio;
 *  - per operation: re-drawn for every conversion: device read noise, PCM 1/f
 *    read noise (pcm_read_noise: per_read), integrator kT/C noise, ADC input
 *    noise, and gaussian_colsum (config.h).
 * Random numbers are counter-based (Philox, keyed by the noise seed and the
 * array position), so results never depend on threads or batch split. */
#ifndef CIMSIM_ANALOG_H
#define CIMSIM_ANALOG_H

#include <stdint.h>
#include "ctx.h"

#ifdef __cplusplus
extern "C" {
#endif

/* How an input slice value a (0 .. 2^t - 1) drives a row. */
typedef enum cim_drive {
    CIM_DRIVE_PULSE_COUNT = 0, /* a pulses of t_pulse at v_read (RAELLA, ISAAC) */
    CIM_DRIVE_PULSE_WIDTH = 1, /* one pulse of a * t_pulse at v_read (IBM PWM) */
    CIM_DRIVE_AMPLITUDE = 2    /* one pulse of t_pulse at a * v_read (a DAC voltage) */
} cim_drive;

typedef enum cim_ir_drop {
    CIM_IR_NONE = 0,
    CIM_IR_STATIC = 1, /* the ladder's exact per-row attenuation, column held at v_idle (input-independent) */
    CIM_IR_TIME = 2    /* Luquin et al. (seed 002) in full: plus the idle rows' leak into v_col over the window */
} cim_ir_drop;

typedef enum cim_pcm_read {
    CIM_PCM_READ_OFF = 0,
    CIM_PCM_READ_STATIC = 1,  /* aihwkit: one 1/f draw per device at inference time t */
    CIM_PCM_READ_PER_READ = 2 /* the same sigma, re-drawn for every read */
} cim_pcm_read;

typedef struct cim_analog_config {
    /* --- the physical mapping (used by every model) --- */
    double g_on_us, g_off_us; /* device conductances, uS (default RAELLA: 750 (1.333 kOhm, as the cost model; the thesis text says 1 kOhm), 50 (20 kOhm)) */
    double v_read;            /* read voltage across a cell, V (0.2) */
    double t_pulse_ns;        /* one input pulse, or one width unit, ns (1) */
    cim_drive drive;          /* pulse_count (default) | pulse_width | amplitude */
    double temperature_k;     /* 300 */
    int adcs_per_crossbar;    /* column n of a crossbar uses ADC n % this; 0: one per column */

    /* --- per operation --- */
    double read_noise_rel;    /* device read noise sigma as a fraction of G, each read */
    double read_noise_us;     /* device read noise sigma, uS, each read */
    double c_int_ff;          /* integrator capacitor, fF; > 0 adds kT/C noise sqrt(k T C) per conversion */
    double adc_noise_lsb;     /* ADC input-referred noise sigma, in ADC steps */

    /* --- static (once per array and seed) --- */
    double prog_sigma_us;     /* additive programming error sigma, uS */
    double prog_sigma_rel;    /* relative programming error sigma (fraction of G) */
    int pcm_prog_noise;       /* aihwkit PCM programming noise, sigma(g) in uS at Gmax 25 uS, scaled to g_on */
    double stuck_on, stuck_off; /* probability that a cell is stuck at G_on / at G_off */
    double adc_offset_lsb;    /* per-ADC offset sigma, ADC steps */
    double adc_gain_sigma;    /* per-ADC relative gain error sigma */
    int zero_leak;            /* 1T1R (offset encoding): level-0 cells conduct G_off (finite
                                 on/off ratio) and nothing subtracts it; 2T2R pairs cancel it */

    /* --- PCM drift and 1/f read noise at inference time t (aihwkit PCMLikeNoiseModel) --- */
    int pcm_drift;            /* G(t) = G_prog (t / t0)^-nu, nu ~ |N(mu(g), sigma(g))| */
    double t_inference_s;     /* t after programming, s (default 1 hour) */
    double t0_s;              /* 20 s */
    int drift_compensation;   /* global drift compensation: one gain per layer (aihwkit) */
    cim_pcm_read pcm_read_noise;
    double t_read_ns;         /* 250 ns */

    /* --- IR drop --- */
    cim_ir_drop ir_drop;
    double r_wire_ohm;        /* wire resistance per cell on the column (0.15) */
    double v_col;             /* column (integrator) voltage, V (0.4005) */
    double v_idle;            /* idle row voltage, V (0.4) */
} cim_analog_config;

/* Defaults: every model off, the RAELLA device (750 / 50 uS = 1.333 kOhm /
 * 20 kOhm, 0.2 V, 1 ns pulses: thesis 5.1, 6.1.1),
 * pulse_count, 300 K, t = 3600 s, t0 = 20 s, t_read = 250 ns, r_wire 0.15 Ohm,
 * v_col 0.4005 V, v_idle 0.4 V. */
void cim_analog_default(cim_analog_config *a);

/* Nonzero when any model is on (then runs take the physical path). */
int cim_analog_active(const cim_analog_config *a);

/* Check every field: g_on_us > g_off_us >= 0; v_read, t_pulse_ns,
 * temperature_k, t0_s, t_read_ns, v_col, v_idle > 0; r_wire_ohm, the sigmas,
 * c_int_ff, t_inference_s >= 0; stuck_on, stuck_off in [0, 1] with
 * stuck_on + stuck_off <= 1; adcs_per_crossbar >= 0; enums known; all
 * finite. Messages name `what` and the key as YAML writes it
 * (analog.g_on_us). The checks that need the rest of the crossbar config
 * (adcs_per_crossbar <= cols, zero_leak only with offset encoding, no model
 * with adc: none) are in cim_config_validate. ctx may be NULL. */
cim_status cim_analog_validate(cim_ctx *ctx, const cim_analog_config *a, const char *what);

/* Model groups: the unit `cimsim eval --analog-breakdown` switches on one at
 * a time. NULL-terminated, in report order:
 *   programming      prog_sigma_us, prog_sigma_rel, pcm_prog_noise
 *   stuck            stuck_on, stuck_off
 *   drift            pcm_drift (with drift_compensation)
 *   pcm_read         pcm_read_noise
 *   read_noise       read_noise_rel, read_noise_us
 *   ktc              c_int_ff (integrator kT/C noise)
 *   adc_noise        adc_noise_lsb
 *   adc_offset_gain  adc_offset_lsb, adc_gain_sigma
 *   zero_leak        zero_leak
 *   ir_drop          ir_drop
 * Every model switch of cim_analog_active belongs to exactly one group. The
 * physical mapping (g_on_us ... adcs_per_crossbar, t_inference_s, t0_s,
 * t_read_ns, r_wire_ohm, v_col, v_idle) belongs to none: it is shared. */
const char *const *cim_analog_group_names(void);

/* Nonzero when group `group` is on in a (drift: pcm_drift; drift_compensation
 * alone is not a model); 0 when off or `group` is not a group name. */
int cim_analog_group_active(const cim_analog_config *a, const char *group);

/* out = a with every model switched off except group `group`'s, which keep
 * a's parameters; the physical mapping is always a's. `group` may also be
 * "none" (every model off: cim_analog_active(out) == 0) or "all" (out = a).
 * out may be a. An unknown group is CIM_ERR_ARG (ctx may be NULL) and leaves
 * out unchanged. */
cim_status cim_analog_only(cim_ctx *ctx, const cim_analog_config *a, const char *group, cim_analog_config *out);

/* The same for a whole arch (config.h): its base and every layer override
 * through cim_analog_only; out may be in. */
struct cim_arch;
cim_status cim_arch_analog_only(cim_ctx *ctx, const struct cim_arch *in, const char *group, struct cim_arch *out);

/* Names for enums ("pulse_count", "time", "per_read", ...). */
const char *cim_drive_name(cim_drive d);
const char *cim_ir_drop_name(cim_ir_drop m);
const char *cim_pcm_read_name(cim_pcm_read m);

#ifdef __cplusplus
}
#endif
#endif
