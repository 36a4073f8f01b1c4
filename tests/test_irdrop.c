/* test_irdrop.c: the IR-drop column model (src/lib/irdrop.h, docs/irdrop.md).
 * The fast forms (event-driven, transfer weights) against IBM's stepwise
 * scheme and a dense nodal solve of the full resistor network on random
 * columns; the ideal limit; monotonicity in the wire resistance; the static
 * series model's distance convention; bad arguments. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "testutil.h"
#include "lib/irdrop.h"

#define NMAX 600

typedef struct column {
    int n;
    double gp[NMAX], gm[NMAX];
    uint16_t width[NMAX];
    int8_t sign[NMAX];
    int one_t; /* 1T1R: gm not passed (NULL) */
} column;

static const cim_ir_params IBM = {0.15, 0.4005, 0.4, 0.2, 1e-9};

/* A random column: conductances in [0, gmax] with some exact zeros. */
static void random_column(tu_rng *rng, column *c, int n, int wmax, double gmax)
{
    c->n = n;
    c->one_t = tu_range(rng, 0, 3) == 0;
    for (int k = 0; k < n; k++) {
        c->gp[k] = tu_range(rng, 0, 9) == 0 ? 0.0 : gmax * tu_uniform(rng);
        c->gm[k] = c->one_t || tu_range(rng, 0, 9) == 0 ? 0.0 : gmax * tu_uniform(rng);
        c->width[k] = (uint16_t)tu_range(rng, 0, wmax);
        c->sign[k] = (int8_t)tu_range(rng, -1, 1);
    }
}

static const double *gm_of(const column *c)
{
    return c->one_t ? NULL : c->gm;
}

/* An upper bound of |Q| (every w_k <= 1): the scale for relative tolerances. */
static double charge_scale(const cim_ir_params *p, const column *c, int W)
{
    double s = 0.0;
    for (int k = 0; k < c->n; k++) {
        double g = c->gp[k] + c->gm[k];
        s += fabs(p->v_read * (c->gp[k] - c->gm[k])) * c->width[k] + fabs(p->v_idle - p->v_col) * g * W;
    }
    return s * p->t_unit_s;
}

static int max_width(const column *c)
{
    int m = 0;
    for (int k = 0; k < c->n; k++)
        if (c->sign[k] != 0 && c->width[k] > m)
            m = c->width[k];
    return m;
}

/* The ideal (no IR drop) charge with v_col = v_idle. */
static double ideal_charge(const cim_ir_params *p, const column *c)
{
    double s = 0.0;
    for (int k = 0; k < c->n; k++)
        s += c->sign[k] * (double)c->width[k] * (c->gp[k] - c->gm[k]);
    return s * p->v_read * p->t_unit_s;
}

/* Every form on one column; returns the default form's charge. */
static double all_forms(cim_ctx *ctx, const cim_ir_params *p, const column *c, int window,
                        double tol_fast, double tol_nodal, int with_nodal)
{
    static double work[4 * NMAX], w[NMAX];
    const double *gm = gm_of(c);
    int W = window < 0 ? max_width(c) : window;
    double scale = charge_scale(p, c, W);
    double qe = cim_ir_column_charge_window(p, c->n, c->gp, gm, c->width, c->sign, window, work);
    assert_true(isfinite(qe));
    double qd = cim_ir_column_charge_event(p, c->n, c->gp, gm, c->width, c->sign, window, work);
    if (window < 0)
        assert_true(cim_ir_column_charge(p, c->n, c->gp, gm, c->width, c->sign, work) == qe);
    if (fabs(qe - qd) > tol_fast * scale)
        print_error("n %d W %d r %g: default %.17g event %.17g\n", c->n, W, p->r_wire_ohm, qe, qd);
    assert_true(fabs(qe - qd) <= tol_fast * scale);
    double qs = cim_ir_column_charge_stepwise(p, c->n, c->gp, gm, c->width, c->sign, window);
    assert_int_equal(cim_ir_weights(p, c->n, c->gp, gm, w), 0);
    double qw = cim_ir_charge_weights(p, c->n, c->gp, gm, w, c->width, c->sign, window);
    if (fabs(qe - qs) > tol_fast * scale || fabs(qe - qw) > tol_fast * scale)
        print_error("n %d W %d r %g: default %.17g stepwise %.17g weights %.17g scale %g\n", c->n, W,
                    p->r_wire_ohm, qe, qs, qw, scale);
    assert_true(fabs(qe - qs) <= tol_fast * scale);
    assert_true(fabs(qe - qw) <= tol_fast * scale);
    if (with_nodal) {
        double qn = NAN;
        assert_int_equal(cim_ir_column_charge_nodal(ctx, p, c->n, c->gp, gm, c->width, c->sign,
                                                    window, &qn), CIM_OK);
        if (fabs(qe - qn) > tol_nodal * scale)
            print_error("n %d r %g: default %.17g nodal %.17g scale %g\n", c->n, p->r_wire_ohm, qe,
                        qn, scale);
        assert_true(fabs(qe - qn) <= tol_nodal * scale);
    }
    return qe;
}

/* Small random columns with wire resistances from none to severe: every form
 * agrees; the drop is large in some of them, so agreement is not trivial. */
static void test_forms_agree_small(void **state)
{
    tu_fx *fx = *state;
    tu_rng rng = {6001};
    const double rs[] = {0.0, 0.15, 50.0, 500.0, 5000.0};
    int big_drop = 0;
    for (int it = 0; it < 400; it++) {
        column c;
        random_column(&rng, &c, tu_range(&rng, 1, 40), tu_range(&rng, 0, 30), 100e-6);
        cim_ir_params p = IBM;
        p.r_wire_ohm = rs[it % 5];
        if (it % 7 == 3)
            p.v_col = p.v_idle; /* no idle offset */
        int window = it % 3 == 0 ? max_width(&c) + tu_range(&rng, 0, 5) : -1;
        double q = all_forms(fx->ctx, &p, &c, window, 1e-12, 1e-12, 1);
        cim_ir_params p0 = p;
        p0.r_wire_ohm = 0.0;
        double q0 = all_forms(fx->ctx, &p0, &c, window, 1e-12, 1e-10, 0);
        if (fabs(q - q0) > 0.05 * charge_scale(&p, &c, max_width(&c)))
            big_drop++;
    }
    assert_true(big_drop > 50);
}

/* A realistic column: 512 rows of PCM-like conductances (0 .. 25 uS), the
 * IBM voltages and 0.15 Ohm, 8-bit pulse widths; and a severe 50 Ohm wire. */
static void test_forms_agree_512(void **state)
{
    tu_fx *fx = *state;
    tu_rng rng = {6002};
    for (int it = 0; it < 6; it++) {
        column c;
        random_column(&rng, &c, 512, it < 3 ? 255 : 15, 25e-6);
        cim_ir_params p = IBM;
        if (it % 2)
            p.r_wire_ohm = 50.0;
        all_forms(fx->ctx, &p, &c, -1, 1e-12, 1e-11, it < 2);
    }
}

/* Wide pulses (up to the 16-bit limit) cross the event form's 64-bit
 * buckets. */
static void test_wide_pulses(void **state)
{
    tu_fx *fx = *state;
    tu_rng rng = {6007};
    for (int it = 0; it < 8; it++) {
        column c;
        random_column(&rng, &c, 12, 65535, 30e-6);
        c.width[it] = 65535;
        c.sign[it] = 1;
        cim_ir_params p = IBM;
        p.r_wire_ohm = it % 2 ? 0.15 : 2000.0;
        all_forms(fx->ctx, &p, &c, -1, 1e-12, 1e-12, 1);
    }
}

/* r = 0 and v_col = v_idle: exactly the ideal crossbar, in every form. */
static void test_ideal_limit(void **state)
{
    tu_fx *fx = *state;
    tu_rng rng = {6003};
    for (int it = 0; it < 50; it++) {
        column c;
        random_column(&rng, &c, tu_range(&rng, 1, 300), 255, 50e-6);
        cim_ir_params p = IBM;
        p.r_wire_ohm = 0.0;
        p.v_col = p.v_idle;
        double qi = ideal_charge(&p, &c), scale = charge_scale(&p, &c, max_width(&c));
        double q = all_forms(fx->ctx, &p, &c, -1, 1e-13, 1e-13, it < 10);
        assert_true(fabs(q - qi) <= 1e-13 * scale);
        double w[NMAX];
        assert_int_equal(cim_ir_weights(&p, c.n, c.gp, gm_of(&c), w), 0);
        for (int k = 0; k < c.n; k++)
            if (c.gp[k] + c.gm[k] > 0.0)
                assert_true(fabs(w[k] - 1.0) < 1e-13);
    }
    /* a hand case: two rows, +1 and -1, widths 3 and 5 */
    cim_ir_params p = {0.0, 0.4, 0.4, 0.2, 2e-9};
    double gp[2] = {10e-6, 4e-6}, gm[2] = {2e-6, 1e-6}, work[8];
    uint16_t wd[2] = {3, 5};
    int8_t sg[2] = {1, -1};
    double want = (3 * 8e-6 - 5 * 3e-6) * 0.2 * 2e-9;
    assert_true(fabs(cim_ir_column_charge(&p, 2, gp, gm, wd, sg, work) - want) < 1e-15 * 1e-12);
}

/* More wire resistance, less charge; the weights lie in (0, 1] and grow
 * towards the integrator. */
static void test_monotonic(void **state)
{
    (void)state;
    tu_rng rng = {6004};
    for (int it = 0; it < 20; it++) {
        column c;
        random_column(&rng, &c, tu_range(&rng, 2, 256), 255, 25e-6);
        for (int k = 0; k < c.n; k++) { /* all rows push positive charge */
            c.sign[k] = 1;
            if (c.gm[k] > c.gp[k]) {
                double t = c.gm[k];
                c.gm[k] = c.gp[k];
                c.gp[k] = t;
            }
        }
        cim_ir_params p = IBM;
        p.v_col = p.v_idle;
        double prev = INFINITY, work[4 * NMAX], w[NMAX];
        const double rs[] = {0.0, 0.15, 1.0, 10.0, 100.0, 1000.0};
        for (int i = 0; i < 6; i++) {
            p.r_wire_ohm = rs[i];
            double q = cim_ir_column_charge(&p, c.n, c.gp, gm_of(&c), c.width, c.sign, work);
            assert_true(q > 0.0);
            assert_true(i == 0 || q < prev);
            prev = q;
            assert_int_equal(cim_ir_weights(&p, c.n, c.gp, gm_of(&c), w), 0);
            for (int k = 0; k < c.n; k++) {
                assert_true(w[k] > 0.0 && w[k] <= 1.0 + 1e-13); /* rounding over n rows */
                assert_true(k == 0 || w[k] >= w[k - 1] * (1 - 1e-13));
            }
        }
    }
}

/* The static series model is exact for a cell alone on its column, at the
 * documented distance d = n - k; with every cell on it underestimates the
 * drop. */
static void test_static_model(void **state)
{
    (void)state;
    cim_ir_params p = IBM;
    p.r_wire_ohm = 20.0;
    p.v_col = p.v_idle;
    const int n = 64;
    double gp[64], w[64], work[256];
    uint16_t wd[64];
    int8_t sg[64];
    for (int k = 0; k < n; k++) {
        memset(gp, 0, sizeof gp);
        memset(sg, 0, sizeof sg);
        gp[k] = 20e-6 + 1e-7 * k;
        wd[k] = 7;
        sg[k] = 1;
        double q = cim_ir_column_charge(&p, n, gp, NULL, wd, sg, work);
        double geff = cim_ir_static_geff(gp[k], p.r_wire_ohm, cim_ir_distance(n, k));
        double want = geff * p.v_read * 7 * p.t_unit_s;
        assert_true(fabs(q - want) <= 1e-14 * want);
    }
    assert_int_equal(cim_ir_distance(n, n - 1), 1);
    assert_int_equal(cim_ir_distance(n, 0), n);
    assert_true(cim_ir_static_geff(0.0, 5.0, 3) == 0.0);
    assert_true(cim_ir_static_geff(1e-5, 0.0, 3) == 1e-5);
    /* all cells on: the exact weights are below the series model's 1/(1 + G r d) */
    for (int k = 0; k < n; k++)
        gp[k] = 20e-6;
    assert_int_equal(cim_ir_weights(&p, n, gp, NULL, w), 0);
    for (int k = 0; k < n; k++)
        assert_true(w[k] < cim_ir_static_geff(gp[k], p.r_wire_ohm, n - k) / gp[k]);
}

/* The amplitude form equals the weights form and, for fractions of +-1/0,
 * one unit of the pulse-width form. */
static void test_amplitude(void **state)
{
    tu_fx *fx = *state;
    tu_rng rng = {6005};
    for (int it = 0; it < 100; it++) {
        column c;
        random_column(&rng, &c, tu_range(&rng, 1, 100), 1, 50e-6);
        cim_ir_params p = IBM;
        p.r_wire_ohm = it % 2 ? 0.15 : 300.0;
        const double *gm = gm_of(&c);
        double frac[NMAX], w[NMAX], work[4 * NMAX];
        for (int k = 0; k < c.n; k++) {
            c.width[k] = 1;
            frac[k] = c.sign[k];
        }
        double scale = charge_scale(&p, &c, 1);
        double qa = cim_ir_column_charge_amp(&p, c.n, c.gp, gm, frac, NULL);
        double qe = cim_ir_column_charge_window(&p, c.n, c.gp, gm, c.width, c.sign, 1, work);
        double qn = NAN;
        assert_int_equal(cim_ir_column_charge_nodal(fx->ctx, &p, c.n, c.gp, gm, c.width, c.sign, 1, &qn),
                         CIM_OK);
        assert_true(fabs(qa - qe) <= 1e-12 * scale);
        assert_true(fabs(qa - qn) <= 1e-12 * scale);
        /* arbitrary fractions against sum_k w_k J_k */
        assert_int_equal(cim_ir_weights(&p, c.n, c.gp, gm, w), 0);
        double want = 0.0;
        for (int k = 0; k < c.n; k++) {
            frac[k] = 2.0 * tu_uniform(&rng) - 1.0;
            double m = gm ? gm[k] : 0.0;
            want += w[k] * (c.gp[k] * (p.v_idle + frac[k] * p.v_read - p.v_col) +
                            m * (p.v_idle - frac[k] * p.v_read - p.v_col));
        }
        want *= p.t_unit_s;
        qa = cim_ir_column_charge_amp(&p, c.n, c.gp, gm, frac, NULL);
        assert_true(fabs(qa - want) <= 1e-12 * scale);
    }
}

/* A longer window adds the idle current of every row for the extra time. */
static void test_window_tail(void **state)
{
    (void)state;
    tu_rng rng = {6006};
    column c;
    random_column(&rng, &c, 100, 40, 25e-6);
    cim_ir_params p = IBM;
    p.r_wire_ohm = 10.0;
    double work[4 * NMAX], frac[NMAX] = {0};
    int W = max_width(&c);
    double q0 = cim_ir_column_charge(&p, c.n, c.gp, gm_of(&c), c.width, c.sign, work);
    double q9 = cim_ir_column_charge_window(&p, c.n, c.gp, gm_of(&c), c.width, c.sign, W + 9, work);
    double idle = cim_ir_column_charge_amp(&p, c.n, c.gp, gm_of(&c), frac, NULL);
    assert_true(idle < 0.0); /* v_col above v_idle: idle rows draw charge out */
    assert_true(fabs((q9 - q0) - 9 * idle) <= 1e-12 * fabs(q0));
}

/* Bad arguments: NAN or an error status, never a crash. */
static void test_bad_args(void **state)
{
    tu_fx *fx = *state;
    double gp[3] = {1e-5, 2e-5, 3e-5}, gm[3] = {0, 0, 0}, work[12], w[3], q = 0.0;
    uint16_t wd[3] = {1, 2, 3};
    int8_t sg[3] = {1, -1, 1};
    cim_ir_params p = IBM;
    assert_int_equal(cim_ir_check(fx->ctx, &p, 3, gp, gm), CIM_OK);
    assert_int_equal(cim_ir_check(fx->ctx, &p, 0, NULL, NULL), CIM_OK);
    assert_true(cim_ir_column_charge(&p, 0, NULL, NULL, NULL, NULL, NULL) == 0.0);
    assert_int_equal(cim_ir_check(fx->ctx, NULL, 3, gp, gm), CIM_ERR_ARG);
    assert_true(isnan(cim_ir_column_charge(NULL, 3, gp, gm, wd, sg, work)));
    assert_true(isnan(cim_ir_column_charge(&p, -1, gp, gm, wd, sg, work)));
    assert_true(isnan(cim_ir_column_charge(&p, 3, NULL, gm, wd, sg, work)));
    assert_true(isnan(cim_ir_column_charge(&p, 3, gp, gm, NULL, sg, work)));
    assert_true(isnan(cim_ir_column_charge(&p, 3, gp, gm, wd, NULL, work)));
    assert_true(isnan(cim_ir_column_charge(&p, 3, gp, gm, wd, sg, NULL)));
    assert_true(isnan(cim_ir_column_charge_window(&p, 3, gp, gm, wd, sg, 2, work)));
    assert_true(isnan(cim_ir_column_charge_event(&p, 3, gp, gm, wd, sg, 2, work)));
    assert_true(isnan(cim_ir_column_charge_event(&p, 3, gp, gm, wd, sg, -1, NULL)));
    assert_true(isnan(cim_ir_charge_weights(&p, 3, gp, gm, NULL, wd, sg, -1)));
    assert_true(isnan(cim_ir_column_charge_amp(&p, 3, gp, gm, NULL, NULL)));
    assert_int_equal(cim_ir_column_charge_nodal(fx->ctx, &p, 3, gp, gm, wd, sg, 2, &q), CIM_ERR_ARG);
    assert_non_null(strstr(cim_ctx_errmsg(fx->ctx), "window"));
    assert_int_equal(cim_ir_column_charge_nodal(fx->ctx, &p, 3, gp, gm, wd, sg, -1, NULL), CIM_ERR_ARG);
    sg[1] = 2;
    assert_true(isnan(cim_ir_column_charge(&p, 3, gp, gm, wd, sg, work)));
    assert_true(isnan(cim_ir_column_charge_event(&p, 3, gp, gm, wd, sg, -1, work)));
    assert_true(isnan(cim_ir_column_charge_stepwise(&p, 3, gp, gm, wd, sg, -1)));
    sg[1] = -1;
    gp[1] = -1e-6;
    assert_int_equal(cim_ir_check(fx->ctx, &p, 3, gp, gm), CIM_ERR_ARG);
    assert_non_null(strstr(cim_ctx_errmsg(fx->ctx), "gp[1]"));
    assert_true(isnan(cim_ir_column_charge(&p, 3, gp, gm, wd, sg, work)));
    assert_int_equal(cim_ir_weights(&p, 3, gp, gm, w), -1);
    gp[1] = 2e-5;
    gm[2] = NAN;
    assert_int_equal(cim_ir_check(fx->ctx, &p, 3, gp, gm), CIM_ERR_ARG);
    assert_non_null(strstr(cim_ctx_errmsg(fx->ctx), "gm[2]"));
    assert_true(isnan(cim_ir_column_charge_stepwise(&p, 3, gp, gm, wd, sg, -1)));
    gm[2] = 0.0;
    p.r_wire_ohm = -0.1;
    assert_int_equal(cim_ir_check(fx->ctx, &p, 3, gp, gm), CIM_ERR_ARG);
    assert_non_null(strstr(cim_ctx_errmsg(fx->ctx), "r_wire_ohm"));
    assert_true(isnan(cim_ir_column_charge(&p, 3, gp, gm, wd, sg, work)));
    assert_int_equal(cim_ir_column_charge_nodal(fx->ctx, &p, 3, gp, gm, wd, sg, -1, &q), CIM_ERR_ARG);
    p = IBM;
    p.t_unit_s = 0.0;
    assert_int_equal(cim_ir_check(fx->ctx, &p, 3, gp, gm), CIM_ERR_ARG);
    assert_non_null(strstr(cim_ctx_errmsg(fx->ctx), "t_unit_s"));
    assert_true(isnan(cim_ir_column_charge_amp(&p, 3, gp, gm, (double[3]){0, 0, 0}, NULL)));
    p = IBM;
    p.v_col = INFINITY;
    assert_int_equal(cim_ir_check(fx->ctx, &p, 3, gp, gm), CIM_ERR_ARG);
    assert_int_equal(cim_ir_check(fx->ctx, &IBM, -2, gp, gm), CIM_ERR_ARG);
    assert_int_equal(cim_ir_check(fx->ctx, &IBM, 3, NULL, gm), CIM_ERR_ARG);
    assert_true(isnan(cim_ir_column_charge_amp(&IBM, 3, gp, gm, (double[3]){0, NAN, 0}, NULL)));
}

/* The nodal solve's allocation fails cleanly. */
static void test_nodal_nomem(void **state)
{
    tu_fx *fx = *state;
    double gp[3] = {1e-5, 2e-5, 3e-5}, q = 1.0;
    uint16_t wd[3] = {1, 2, 3};
    int8_t sg[3] = {1, -1, 1};
    fx->fail_at = fx->calls + 1;
    assert_int_equal(cim_ir_column_charge_nodal(fx->ctx, &IBM, 3, gp, NULL, wd, sg, -1, &q), CIM_ERR_NOMEM);
    fx->fail_at = 0;
}

static int setup(void **state) { return tu_fx_setup(state, "irdrop"); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_forms_agree_small, setup, tu_fx_teardown),
        cmocka_unit_test_setup_teardown(test_forms_agree_512, setup, tu_fx_teardown),
        cmocka_unit_test_setup_teardown(test_wide_pulses, setup, tu_fx_teardown),
        cmocka_unit_test_setup_teardown(test_ideal_limit, setup, tu_fx_teardown),
        cmocka_unit_test(test_monotonic),
        cmocka_unit_test(test_static_model),
        cmocka_unit_test_setup_teardown(test_amplitude, setup, tu_fx_teardown),
        cmocka_unit_test(test_window_tail),
        cmocka_unit_test_setup_teardown(test_bad_args, setup, tu_fx_teardown),
        cmocka_unit_test_setup_teardown(test_nodal_nomem, setup, tu_fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
