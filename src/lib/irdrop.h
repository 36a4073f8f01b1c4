/* irdrop.h: IR drop on one crossbar column (internal; docs/irdrop.md has the
 * equations, the proofs and the measurements).
 *
 * The model is the time-dependent tile model of Luquin et al. (IBM, seed 002):
 *  - a column of n rows; row 0 is the far end, row n-1 is next to the
 *    integrator. The column wire has r = r_wire_ohm per cell: one segment
 *    between the nodes of rows k and k+1, and one segment from row n-1's node
 *    to the integrator, so row k is d = n - k segments from the integrator;
 *  - every cell is a Thevenin source: a 2T2R pair (gp, gm) driven at (Vp, Vm)
 *    is R_th = 1/(gp+gm), V_th = (gp Vp + gm Vm)/(gp+gm). An active row of
 *    sign +1 drives gp at v_idle+v_read and gm at v_idle-v_read (0.6/0.2 V),
 *    sign -1 the reverse; an idle row drives both at v_idle (0.4 V). A 1T1R
 *    cell is gm = 0;
 *  - the ladder collapses from the far end into one source (V, R) and the
 *    integrator, which holds the column at v_col (0.4005 V), takes the current
 *    I = (V - v_col)/R; the charge is the integral of I over the window;
 *  - inputs are pulse widths: row k is active for width[k] units of t_unit_s
 *    from the start of the window, then idle; the window is the largest width
 *    (or a longer `window` where a function takes one). pulse_count drive is
 *    the same with the pulses packed at the start.
 *
 * Exactness and speed. A row's R_th is the same idle or active (only V_th
 * changes), so the network's conductances never change during a conversion:
 * the integrator current is linear in the sources with weights that depend
 * only on the conductances:
 *     I(t) = sum_k w_k * J_k(t),   J_k = gp_k (Vp_k - v_col) + gm_k (Vm_k - v_col)
 * (J_k is row k's short-circuit current into a column held at v_col; w_k in
 * (0, 1] is the fraction of it that reaches the integrator):
 *     w_k = prod_{m=k}^{n-1} 1 / (1 + r Gamma_m),
 *     Gamma_0 = G_0,  Gamma_m = Gamma_{m-1} / (1 + r Gamma_{m-1}) + G_m,
 * G_m = gp_m + gm_m, Gamma_m the collapsed ladder's conductance at node m;
 * w_k = 1 for all k when r = 0. Integrating over the window gives exactly
 *     Q = t_unit * sum_k w_k * [ W (v_idle - v_col)(gp_k + gm_k)
 *                                + width_k sign_k v_read (gp_k - gm_k) ]
 * with W the window in t_unit. So:
 *   cim_ir_column_charge    the default: w_k computed on the fly, then the
 *                           sum above; O(n) per conversion, no sort;
 *   cim_ir_column_charge_event  event-driven: the ladder solved once per
 *                           distinct pulse end (the column state changes only
 *                           there), O(n * distinct widths) per conversion;
 *   cim_ir_weights          the w_k of a column, O(n), once per programmed
 *                           column (they depend only on gp, gm, r);
 *   cim_ir_charge_weights   the charge from kept w_k: one O(n) dot product
 *                           per conversion, no ladder;
 *   cim_ir_column_charge_stepwise  IBM's own scheme: re-collapse the ladder in
 *                           every t_unit step, O(n * W) (reference, bench);
 *   cim_ir_column_charge_nodal     dense Gaussian elimination on the node
 *                           voltages of the full network, O(n^3) per distinct
 *                           interval (reference for tests, small n).
 * All of them agree to rounding (tests/test_irdrop.c).
 *
 * How to use the weights (H1, engine): compute w = cim_ir_weights(...) once
 * per programmed column (conductances are static), keep them, and per
 * conversion call cim_ir_charge_weights(), or fold the constant parts in:
 *     a_k = t_unit * v_read * w_k * (gp_k - gm_k)          (C per unit input)
 *     b   = t_unit * (v_idle - v_col) * sum_k w_k (gp_k + gm_k) (C per unit window)
 *     Q   = W * b + sum_k a_k * sign_k * width_k
 * i.e. time-dependent IR drop is exactly a static per-cell gain w_k plus an
 * offset proportional to the window. In LU (analog.h): divide Q by
 * q_LU = (G_on-G_off)/(2^s-1) * v_read * t_unit.
 *
 * Arguments. gm may be NULL (1T1R: all gm = 0). sign[k] is -1, 0 or +1 (0:
 * idle whatever the width). Conductances must be finite and >= 0, r_wire_ohm
 * finite and >= 0, voltages finite, t_unit_s finite and > 0. The functions
 * that return a double return NAN on bad arguments (never crash, never
 * write outside work); cim_ir_check names the bad argument in ctx. */
#ifndef CIMSIM_IRDROP_H
#define CIMSIM_IRDROP_H

#include <stdint.h>

#include "cimsim/ctx.h"
#include "cimsim/status.h"

typedef struct cim_ir_params {
    double r_wire_ohm; /* column wire resistance per cell, Ohm (0.15) */
    double v_col;      /* voltage the integrator holds the column at, V (0.4005) */
    double v_idle;     /* row voltage of an idle row, V (0.4) */
    double v_read;     /* read voltage: active rows at v_idle +- v_read, V (0.2) */
    double t_unit_s;   /* one unit of pulse width, s */
} cim_ir_params;

/* Check p and the column's conductances; CIM_ERR_ARG with a message naming
 * the field or row otherwise. n = 0 is valid (no rows: zero charge). */
cim_status cim_ir_check(cim_ctx *ctx, const cim_ir_params *p, int n, const double *gp,
                        const double *gm);

/* Charge (C) integrated into the column over the window W = max width,
 * exact for the piecewise-constant drive: the transfer weights are computed
 * into work and summed as above, O(n) (equal to the event-driven and
 * stepwise forms to rounding). work: >= 4n doubles (n used today). */
double cim_ir_column_charge(const cim_ir_params *p, int n, const double *gp, const double *gm,
                            const uint16_t *width, const int8_t *sign, double *work);

/* The same with an explicit window in t_unit (window >= max width; rows idle
 * after their pulse until the window ends; window < 0: the max width). */
double cim_ir_column_charge_window(const cim_ir_params *p, int n, const double *gp,
                                   const double *gm, const uint16_t *width, const int8_t *sign,
                                   int window, double *work);

/* Event-driven form: the distinct pulse ends are bucketed (widths <= 65535),
 * and in each interval between them the ladder is collapsed once (its
 * conductance part is prepared once per call). O(n + n * distinct ends).
 * window as above. work: >= 4n doubles. */
double cim_ir_column_charge_event(const cim_ir_params *p, int n, const double *gp,
                                  const double *gm, const uint16_t *width, const int8_t *sign,
                                  int window, double *work);

/* Amplitude form: one interval of t_unit in which row k drives gp at
 * v_idle + frac[k]*v_read and gm at v_idle - frac[k]*v_read (frac finite,
 * sign included, e.g. sign * a/(2^t - 1) for a DAC; 0 = idle). Returns the
 * charge (C). It is one O(n) pass: work is unused and may be NULL (kept so a
 * vectorized form can take scratch later). Equals the weights form:
 * t_unit * sum_k w_k J_k(frac_k). */
double cim_ir_column_charge_amp(const cim_ir_params *p, int n, const double *gp, const double *gm,
                                const double *frac, double *work);

/* Per-row transfer weights w[0..n-1] (see above; depend only on gp, gm and
 * r_wire_ohm, not on voltages or inputs). Returns 0, or -1 on bad arguments
 * (w untouched then). */
int cim_ir_weights(const cim_ir_params *p, int n, const double *gp, const double *gm, double *w);

/* Charge (C) from precomputed weights: O(n). window < 0: the max width. */
double cim_ir_charge_weights(const cim_ir_params *p, int n, const double *gp, const double *gm,
                             const double *w, const uint16_t *width, const int8_t *sign,
                             int window);

/* Reference, IBM's scheme: the ladder collapsed again in each of the W unit
 * steps, O(n * W). window < 0: the max width. Needs no work memory. */
double cim_ir_column_charge_stepwise(const cim_ir_params *p, int n, const double *gp,
                                     const double *gm, const uint16_t *width,
                                     const int8_t *sign, int window);

/* Reference: the node voltages of the full network (n column nodes, each
 * cell device a conductance to its own row voltage, wire segments of r, the
 * integrator end held at v_col) solved by dense Gaussian elimination with
 * partial pivoting, once per interval between distinct pulse ends; the
 * integrator current is the sum of the device currents. Independent of the
 * Thevenin/collapse algebra. Allocates O(n^2) through ctx. r_wire_ohm = 0 is
 * solved without the matrix (every node at v_col). */
cim_status cim_ir_column_charge_nodal(cim_ctx *ctx, const cim_ir_params *p, int n,
                                      const double *gp, const double *gm,
                                      const uint16_t *width, const int8_t *sign, int window,
                                      double *charge);

/* Static model (CIM_IR_STATIC): the number of wire segments between row k of
 * an n-row column and the integrator, d = n - k (row n-1: 1; row 0: n). */
static inline int cim_ir_distance(int n, int k)
{
    return n - k;
}

/* Static model: a cell of conductance g (S) in series with d segments of
 * r_wire_ohm, G_eff = 1/(1/g + r d) = g/(1 + g r d); g = 0 gives 0. This
 * ignores the current the other cells push through the same wire (the exact
 * column is cim_ir_weights); docs/irdrop.md says when that is poor. */
static inline double cim_ir_static_geff(double g, double r_wire_ohm, int d)
{
    return g / (1.0 + g * r_wire_ohm * (double)d);
}

#endif
