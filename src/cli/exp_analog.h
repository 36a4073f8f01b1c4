/* exp_analog.h: what the two files of `cimsim experiment analog-vs-digital`
 * share (exp_analog.c: the capacitor sweep, energy and crossover;
 * exp_analog_ir.c: column currents and IR drop by encoding, and the probes
 * that say which physical models this build's engine applies).
 * docs/analog_vs_digital.md has the physics and every assumption. */
#ifndef CIMSIM_EXP_ANALOG_H
#define CIMSIM_EXP_ANALOG_H

#include "exp_common.h"

#define AV_KB 1.380649e-23      /* Boltzmann constant, J/K */
#define AV_Q_E 1.602176634e-19  /* elementary charge, C */
#define AV_NODE_NM 32.0         /* node of the isaac/raella/digital-cim energy specs */
#define AV_ADC_RATE_HZ 1.28e9   /* conversions/s of one ADC in the isaac and raella specs */
#define AV_ADC_NOISE_FRACTION 0.5 /* ENOB rule: ADC thermal noise sigma = this x the column's kT/C sigma */

/* Whether this build's engine applies a physical model: 1 yes, 0 no (the
 * results do not move), -1 the config was refused (msg says why). */
typedef struct av_probe {
    int ktc, adc_noise, ir_time;
    char ktc_msg[256], adc_msg[256], ir_msg[256];
} av_probe;

/* Run a small random layer with each model on at a strength that must move
 * the results, and compare with the same layer without it. */
void av_probe_engine(exp_env *e, av_probe *p);

/* The IR-drop part: isaac (offset), zero-offset (differential) and raella
 * (center_offset) on the experiment's model, noise-free: column charge per
 * conversion (mean and p99 of |S|) and the current of one 1-bit pulse; then,
 * when the engine has time-dependent IR drop (probe), top-1 and the mean
 * output error with ir_drop = time. Prints a table, writes
 * analog_vs_digital_irdrop.csv, and returns the JSON array (NULL on error,
 * with a message). */
json_t *av_irdrop(exp_env *e, const av_probe *probe, int run_ir);

#endif
