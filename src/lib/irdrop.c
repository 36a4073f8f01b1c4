/* irdrop.c: IR drop on one crossbar column, the time-dependent tile model of
 * Luquin et al. (IBM, seed 002). irdrop.h states the model and the API;
 * docs/irdrop.md derives the fast exact forms and shows the measurements.
 *
 * Voltages are handled as deviations from v_col (the integrator's virtual
 * ground): a row's short-circuit current into a column held at v_col is
 *     J_k = gp (Vp - v_col) + gm (Vm - v_col)
 * and every collapsed source voltage is V - v_col. Working with deviations
 * keeps the small quantity (the column current) from being the difference of
 * two ~0.4 V numbers, so every form agrees to ~1e-15 relative. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "internal.h"
#include "irdrop.h"

/* ---- argument checks (shared by every form) ---- */

static int params_ok(const cim_ir_params *p)
{
    return p && isfinite(p->r_wire_ohm) && p->r_wire_ohm >= 0.0 && isfinite(p->v_col) &&
           isfinite(p->v_idle) && isfinite(p->v_read) && isfinite(p->t_unit_s) && p->t_unit_s > 0.0;
}

static int column_ok(int n, const double *gp, const double *gm)
{
    if (n < 0 || (n > 0 && !gp))
        return 0;
    for (int k = 0; k < n; k++) {
        double m = gm ? gm[k] : 0.0;
        if (!(isfinite(gp[k]) && gp[k] >= 0.0 && isfinite(m) && m >= 0.0))
            return 0;
    }
    return 1;
}

/* Checks the pulse widths and signs; returns the window in t_unit (the max
 * width of an active row when window < 0), or -1 on bad input. */
static int64_t inputs_window(int n, const uint16_t *width, const int8_t *sign, int window)
{
    if (n > 0 && (!width || !sign))
        return -1;
    int64_t maxw = 0;
    for (int k = 0; k < n; k++) {
        if (sign[k] < -1 || sign[k] > 1)
            return -1;
        if (sign[k] != 0 && width[k] > maxw)
            maxw = width[k];
    }
    if (window < 0)
        return maxw;
    return window >= maxw ? window : -1;
}

cim_status cim_ir_check(cim_ctx *ctx, const cim_ir_params *p, int n, const double *gp,
                        const double *gm)
{
    if (!p)
        return cim__err(ctx, CIM_ERR_ARG, "irdrop: params is NULL");
    if (!(isfinite(p->r_wire_ohm) && p->r_wire_ohm >= 0.0))
        return cim__err(ctx, CIM_ERR_ARG, "irdrop: r_wire_ohm = %g must be finite and >= 0",
                        p->r_wire_ohm);
    if (!isfinite(p->v_col) || !isfinite(p->v_idle) || !isfinite(p->v_read))
        return cim__err(ctx, CIM_ERR_ARG, "irdrop: v_col, v_idle and v_read must be finite");
    if (!(isfinite(p->t_unit_s) && p->t_unit_s > 0.0))
        return cim__err(ctx, CIM_ERR_ARG, "irdrop: t_unit_s = %g must be finite and > 0",
                        p->t_unit_s);
    if (n < 0)
        return cim__err(ctx, CIM_ERR_ARG, "irdrop: rows n = %d must be >= 0", n);
    if (n > 0 && !gp)
        return cim__err(ctx, CIM_ERR_ARG, "irdrop: gp is NULL");
    for (int k = 0; k < n; k++) {
        if (!(isfinite(gp[k]) && gp[k] >= 0.0))
            return cim__err(ctx, CIM_ERR_ARG, "irdrop: gp[%d] = %g S must be finite and >= 0", k,
                            gp[k]);
        if (gm && !(isfinite(gm[k]) && gm[k] >= 0.0))
            return cim__err(ctx, CIM_ERR_ARG, "irdrop: gm[%d] = %g S must be finite and >= 0", k,
                            gm[k]);
    }
    return CIM_OK;
}

/* ---- the ladder ----
 * Collapse from the far end in conductance form. Above node k the column is
 * one source of conductance gs (0 above row 0) and deviation voltage V; the
 * wire segment into node k makes it gup = gs/(1 + r gs) (series r), the cell
 * adds in parallel: gtot_k = gup + G_k, and
 *     V_k = (gup V_{k-1} + J_k) / gtot_k = alpha_k V_{k-1} + u_k J_k,
 *     alpha_k = gup/gtot_k, u_k = 1/gtot_k.
 * A node with nothing above it and no cell (gtot = 0) carries no source:
 * alpha = u = 0. After row n-1 one more segment: gfin = gs/(1 + r gs), and
 * the integrator current is I = gfin V_{n-1}. */

static double gseries(double g, double r)
{
    return g / (1.0 + r * g);
}

/* alpha[k], u[k] of the column; returns gfin. */
static double ladder_prepare(const cim_ir_params *p, int n, const double *gp, const double *gm,
                             double *alpha, double *u)
{
    double r = p->r_wire_ohm, gs = 0.0;
    for (int k = 0; k < n; k++) {
        double gup = gseries(gs, r);
        double gtot = gup + gp[k] + (gm ? gm[k] : 0.0);
        alpha[k] = gtot > 0.0 ? gup / gtot : 0.0;
        u[k] = gtot > 0.0 ? 1.0 / gtot : 0.0;
        gs = gtot;
    }
    return gseries(gs, r);
}

/* Row k's short-circuit current (A) into the column at v_col for a drive
 * fraction f (+1, -1: active by sign; 0: idle; amplitude form: any). */
static double row_current(const cim_ir_params *p, double gp, double gm, double f)
{
    double vp = p->v_idle + f * p->v_read - p->v_col, vm = p->v_idle - f * p->v_read - p->v_col;
    return gp * vp + gm * vm;
}

/* ---- event-driven (one solve per distinct pulse end) ---- */

double cim_ir_column_charge_event(const cim_ir_params *p, int n, const double *gp,
                                  const double *gm, const uint16_t *width, const int8_t *sign,
                                  int window, double *work)
{
    if (!params_ok(p) || !column_ok(n, gp, gm) || (n > 0 && !work))
        return NAN;
    int64_t W = inputs_window(n, width, sign, window);
    if (W < 0)
        return NAN;
    if (n == 0 || W == 0)
        return 0.0;
    double *alpha = work, *u = work + n, *ca = work + 2 * (size_t)n, *ci = work + 3 * (size_t)n;
    double gfin = ladder_prepare(p, n, gp, gm, alpha, u);
    /* the distinct pulse ends, bucketed: widths are at most 65535 */
    uint64_t ends[1024];
    int64_t wmax = 0;
    memset(ends, 0, sizeof ends);
    for (int k = 0; k < n; k++) {
        double m = gm ? gm[k] : 0.0;
        ci[k] = u[k] * row_current(p, gp[k], m, 0.0);
        if (sign[k] != 0 && width[k] > 0) {
            ca[k] = u[k] * row_current(p, gp[k], m, (double)sign[k]);
            ends[width[k] >> 6] |= (uint64_t)1 << (width[k] & 63);
            if (width[k] > wmax)
                wmax = width[k];
        } else {
            ca[k] = ci[k];
        }
    }
    /* interval [t0, t1): rows with width > t0 active (their width is >= t1) */
    double q = 0.0;
    int64_t t0 = 0;
    for (int64_t word = 0; word <= (wmax >> 6); word++) {
        uint64_t bits = ends[word];
        while (bits) {
            int64_t t1 = word * 64 + __builtin_ctzll(bits);
            bits &= bits - 1;
            double v = 0.0;
            for (int k = 0; k < n; k++)
                v = alpha[k] * v + ((int64_t)width[k] > t0 ? ca[k] : ci[k]);
            q += gfin * v * (double)(t1 - t0);
            t0 = t1;
        }
    }
    if (W > t0) { /* the tail of the window: every row idle */
        double v = 0.0;
        for (int k = 0; k < n; k++)
            v = alpha[k] * v + ci[k];
        q += gfin * v * (double)(W - t0);
    }
    return q * p->t_unit_s;
}


/* ---- amplitude form ---- */

double cim_ir_column_charge_amp(const cim_ir_params *p, int n, const double *gp, const double *gm,
                                const double *frac, double *work)
{
    (void)work; /* one pass, nothing kept */
    if (!params_ok(p) || !column_ok(n, gp, gm) || (n > 0 && !frac))
        return NAN;
    double r = p->r_wire_ohm, gs = 0.0, v = 0.0;
    for (int k = 0; k < n; k++) {
        if (!isfinite(frac[k]))
            return NAN;
        double m = gm ? gm[k] : 0.0;
        double gup = gseries(gs, r), gtot = gup + gp[k] + m;
        if (gtot > 0.0)
            v = (gup * v + row_current(p, gp[k], m, frac[k])) / gtot;
        gs = gtot;
    }
    return gseries(gs, r) * v * p->t_unit_s;
}

/* ---- transfer weights ----
 * Unrolling the recursion, V_{n-1} = sum_k u_k J_k prod_{m>k} alpha_m, so
 * I = sum_k w_k J_k with w_k = gfin u_k prod_{m>k} alpha_m. Consecutive
 * weights differ by one factor, w_k / w_{k+1} = u_k alpha_{k+1} / u_{k+1}
 * = gup_{k+1} / gtot_k = 1/(1 + r gtot_k), and w_{n-1} = gfin u_{n-1} =
 * 1/(1 + r gtot_{n-1}), so
 *     w_k = prod_{m=k}^{n-1} 1 / (1 + r gtot_m)
 * with gtot_m the conductance of the collapsed ladder at node m (everything
 * on the far side of the segment leaving node m). Forward pass: gtot_m into
 * w[m]; backward pass: the running product. One division each way. (A row
 * with gtot = 0 above every cell gets a weight too; its J is 0.) */
static void weights_core(const cim_ir_params *p, int n, const double *gp, const double *gm,
                         double *w)
{
    double r = p->r_wire_ohm, gs = 0.0;
    for (int k = 0; k < n; k++) {
        gs = gseries(gs, r) + gp[k] + (gm ? gm[k] : 0.0);
        w[k] = gs;
    }
    double P = 1.0;
    for (int k = n - 1; k >= 0; k--) {
        P /= 1.0 + r * w[k];
        w[k] = P;
    }
}

int cim_ir_weights(const cim_ir_params *p, int n, const double *gp, const double *gm, double *w)
{
    if (!params_ok(p) || !column_ok(n, gp, gm) || (n > 0 && !w))
        return -1;
    weights_core(p, n, gp, gm, w);
    return 0;
}

/* The charge from weights of a checked column; -1 window: bad inputs. */
static double charge_core(const cim_ir_params *p, int n, const double *gp, const double *gm,
                          const double *w, const uint16_t *width, const int8_t *sign, int64_t W)
{
    /* Q/t_unit = W (v_idle - v_col) sum w G + v_read sum w sign width (gp - gm) */
    double idle = 0.0, act = 0.0;
    for (int k = 0; k < n; k++) {
        double m = gm ? gm[k] : 0.0;
        idle += w[k] * (gp[k] + m);
        act += w[k] * (double)(sign[k] * (int)width[k]) * (gp[k] - m);
    }
    return ((double)W * (p->v_idle - p->v_col) * idle + p->v_read * act) * p->t_unit_s;
}

double cim_ir_charge_weights(const cim_ir_params *p, int n, const double *gp, const double *gm,
                             const double *w, const uint16_t *width, const int8_t *sign,
                             int window)
{
    if (!params_ok(p) || !column_ok(n, gp, gm) || (n > 0 && !w))
        return NAN;
    int64_t W = inputs_window(n, width, sign, window);
    if (W < 0)
        return NAN;
    return charge_core(p, n, gp, gm, w, width, sign, W);
}

/* ---- the default form: weights on the fly, O(n) ---- */

double cim_ir_column_charge_window(const cim_ir_params *p, int n, const double *gp,
                                   const double *gm, const uint16_t *width, const int8_t *sign,
                                   int window, double *work)
{
    if (!params_ok(p) || !column_ok(n, gp, gm) || (n > 0 && !work))
        return NAN;
    int64_t W = inputs_window(n, width, sign, window);
    if (W < 0)
        return NAN;
    weights_core(p, n, gp, gm, work);
    return charge_core(p, n, gp, gm, work, width, sign, W);
}

double cim_ir_column_charge(const cim_ir_params *p, int n, const double *gp, const double *gm,
                            const uint16_t *width, const int8_t *sign, double *work)
{
    return cim_ir_column_charge_window(p, n, gp, gm, width, sign, -1, work);
}

/* ---- reference: IBM's stepwise scheme ----
 * Every t_unit step re-collapses the ladder from the far end with the
 * Thevenin equivalents of that step, in resistance form: a cell is
 * (Vth - v_col, Rth = 1/(gp+gm)), the running source (V, R) gets R += r per
 * segment and is combined in parallel with each cell. Cells with gp+gm = 0
 * are open circuits and skipped. O(n) per step, O(n W) per conversion. */

double cim_ir_column_charge_stepwise(const cim_ir_params *p, int n, const double *gp,
                                     const double *gm, const uint16_t *width,
                                     const int8_t *sign, int window)
{
    if (!params_ok(p) || !column_ok(n, gp, gm))
        return NAN;
    int64_t W = inputs_window(n, width, sign, window);
    if (W < 0)
        return NAN;
    double q = 0.0;
    for (int64_t t = 0; t < W; t++) {
        double V = 0.0, R = INFINITY;
        for (int k = 0; k < n; k++) {
            R += p->r_wire_ohm; /* the segment into node k (still infinite above row 0) */
            double m = gm ? gm[k] : 0.0, g = gp[k] + m;
            if (g <= 0.0)
                continue;
            double f = (sign[k] != 0 && (int64_t)width[k] > t) ? (double)sign[k] : 0.0;
            double vth = (gp[k] * (p->v_idle + f * p->v_read - p->v_col) +
                          m * (p->v_idle - f * p->v_read - p->v_col)) / g;
            double rth = 1.0 / g;
            if (isinf(R)) {
                V = vth;
                R = rth;
            } else { /* parallel: V = (V/R + vth/rth) / (1/R + 1/rth) */
                V = (V * rth + vth * R) / (R + rth);
                R = R * rth / (R + rth);
            }
        }
        if (isinf(R))
            continue; /* no cell at all: no current */
        R += p->r_wire_ohm;
        q += R > 0.0 ? V / R : 0.0;
    }
    return q * p->t_unit_s;
}

/* ---- reference: dense nodal solve ----
 * Unknowns y_j = x_j - v_col (node voltages of the column wire). KCL at node
 * j, multiplied by r:
 *   r G_j (Vth_j - ...) ...: (r G_j + a_j) y_j - y_{j-1} - y_{j+1} = r J_j
 * where a_j counts the wire segments at node j (2, or 1 at row 0 when n > 1;
 * the segment to the integrator ends at y = 0). Solved densely with partial
 * pivoting; the integrator current is the sum of the device currents
 * sum_j (J_j - G_j y_j). */

static int dense_solve(int n, double *A, double *b)
{
    for (int c = 0; c < n; c++) {
        int piv = c;
        for (int i = c + 1; i < n; i++)
            if (fabs(A[(size_t)i * n + c]) > fabs(A[(size_t)piv * n + c]))
                piv = i;
        if (A[(size_t)piv * n + c] == 0.0)
            return -1;
        if (piv != c) {
            for (int j = 0; j < n; j++) {
                double t = A[(size_t)c * n + j];
                A[(size_t)c * n + j] = A[(size_t)piv * n + j];
                A[(size_t)piv * n + j] = t;
            }
            double t = b[c];
            b[c] = b[piv];
            b[piv] = t;
        }
        for (int i = c + 1; i < n; i++) {
            double f = A[(size_t)i * n + c] / A[(size_t)c * n + c];
            if (f == 0.0)
                continue;
            for (int j = c; j < n; j++)
                A[(size_t)i * n + j] -= f * A[(size_t)c * n + j];
            b[i] -= f * b[c];
        }
    }
    for (int i = n - 1; i >= 0; i--) {
        double s = b[i];
        for (int j = i + 1; j < n; j++)
            s -= A[(size_t)i * n + j] * b[j];
        b[i] = s / A[(size_t)i * n + i];
    }
    return 0;
}

/* The integrator current (A) with every row active for t in [t0, ...) iff
 * width > t0. A, J, y: scratch of n*n, n, n doubles. */
static int nodal_current(const cim_ir_params *p, int n, const double *gp, const double *gm,
                         const uint16_t *width, const int8_t *sign, int64_t t0, double *A,
                         double *J, double *y, double *cur)
{
    double r = p->r_wire_ohm;
    for (int j = 0; j < n; j++) {
        double m = gm ? gm[j] : 0.0;
        double f = (sign[j] != 0 && (int64_t)width[j] > t0) ? (double)sign[j] : 0.0;
        J[j] = gp[j] * (p->v_idle + f * p->v_read - p->v_col) + m * (p->v_idle - f * p->v_read - p->v_col);
    }
    if (r == 0.0) { /* every node at v_col */
        double s = 0.0;
        for (int j = 0; j < n; j++)
            s += J[j];
        *cur = s;
        return 0;
    }
    memset(A, 0, (size_t)n * (size_t)n * sizeof *A);
    for (int j = 0; j < n; j++) {
        double m = gm ? gm[j] : 0.0;
        A[(size_t)j * n + j] = r * (gp[j] + m) + (j > 0 ? 1.0 : 0.0) + 1.0;
        if (j > 0)
            A[(size_t)j * n + j - 1] = -1.0;
        if (j < n - 1)
            A[(size_t)j * n + j + 1] = -1.0;
        y[j] = r * J[j];
    }
    if (dense_solve(n, A, y) != 0)
        return -1;
    double s = 0.0;
    for (int j = 0; j < n; j++)
        s += J[j] - (gp[j] + (gm ? gm[j] : 0.0)) * y[j];
    *cur = s;
    return 0;
}

cim_status cim_ir_column_charge_nodal(cim_ctx *ctx, const cim_ir_params *p, int n,
                                      const double *gp, const double *gm,
                                      const uint16_t *width, const int8_t *sign, int window,
                                      double *charge)
{
    cim_status st = cim_ir_check(ctx, p, n, gp, gm);
    if (st != CIM_OK)
        return st;
    if (!charge)
        return cim__err(ctx, CIM_ERR_ARG, "irdrop: charge is NULL");
    int64_t W = inputs_window(n, width, sign, window);
    if (W < 0)
        return cim__err(ctx, CIM_ERR_ARG,
                        "irdrop: width/sign NULL, a sign not in {-1,0,1}, or window %d < the "
                        "largest pulse width", window);
    *charge = 0.0;
    if (n == 0 || W == 0)
        return CIM_OK;
    size_t nn;
    if (cim__mul_size((size_t)n, (size_t)n + 2, &nn) != 0)
        return cim__err(ctx, CIM_ERR_ARG, "irdrop: n = %d too large for the nodal solve", n);
    double *A = cim__malloc(ctx, nn * sizeof *A);
    if (!A)
        return CIM_ERR_NOMEM;
    double *J = A + (size_t)n * n, *y = J + n;
    /* interval boundaries: the distinct active widths, then W */
    double q = 0.0;
    int64_t t0 = 0;
    while (t0 < W) {
        int64_t t1 = W;
        for (int k = 0; k < n; k++)
            if (sign[k] != 0 && (int64_t)width[k] > t0 && (int64_t)width[k] < t1)
                t1 = width[k];
        double cur;
        if (nodal_current(p, n, gp, gm, width, sign, t0, A, J, y, &cur) != 0) {
            cim__free(ctx, A);
            return cim__err(ctx, CIM_ERR_INTERNAL, "irdrop: singular nodal matrix");
        }
        q += cur * (double)(t1 - t0);
        t0 = t1;
    }
    cim__free(ctx, A);
    *charge = q * p->t_unit_s;
    return CIM_OK;
}
