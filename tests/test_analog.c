/* test_analog.c: the physical models (cimsim/analog.h, docs/analog.md) inside
 * cim_layer_run: the forced physical path with every model off and each model
 * with zero parameters give the integer path's bits; the distributions of the
 * static draws and of the per-conversion noise; static vs per-operation
 * noise; threads, batch split and kernels; ADC gain/offset and the zero-cell
 * leak on hand-built layers. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "testutil.h"
#include "lib/phys.h"
#include "lib/irdrop.h"

enum { K = 300, N = 70, M = 67 };

static int8_t W[K * N];
static uint8_t X[M * K];

static void fill(void) { tu_fill_layer(91, K, N, M, W, X); }

static cim_ctx *ctx_with(const char *kernel, int threads) { return tu_ctx_with(kernel, threads); }

/* Program W (k x n, row stride N) under c and run vectors [m0, m0 + mc) of x
 * (row stride kx); physical: 0 the integer path, 1 the physical path, 2 the
 * integer path with Box-Muller normals (cim_run_options.normal_noise). */
static void run_w(cim_ctx *ctx, const cim_xbar_config *c, const int8_t *w, int k, int n, const uint8_t *x, int m0,
                  int mc, int physical, int32_t *out, cim_stats *st)
{
    cim_weights wt = {w, CIM_INT8, k, n, NULL};
    cim_layer *L = NULL;
    assert_int_equal(cim_layer_program(ctx, c, &wt, 5, NULL, &L), CIM_OK);
    cim_run_options ro;
    cim_run_options_default(&ro);
    ro.vector_offset = (uint64_t)m0;
    ro.physical = physical == 1;
    ro.normal_noise = physical == 2; /* the draw the physical path makes (Box-Muller normals) */
    assert_int_equal(cim_layer_run(ctx, L, x + (size_t)m0 * (size_t)k, mc, out + (size_t)m0 * (size_t)n, st, &ro),
                     CIM_OK);
    cim_layer_free(ctx, L);
}

static void run_part(cim_ctx *ctx, const cim_xbar_config *c, int m0, int mc, int physical, int32_t *out,
                     cim_stats *st)
{
    run_w(ctx, c, W, K, N, X, m0, mc, physical, out, st);
}

static void preset(cim_ctx *ctx, const char *name, cim_xbar_config *c)
{
    assert_int_equal(cim_config_preset(ctx, name, c), CIM_OK);
    c->rows = 128; /* several chunks */
}

/* The physical path with every model off, or with models whose parameters
 * make them exact, gives the integer path's psums and counters. */
static void expect_exact(cim_ctx *ctx, const cim_xbar_config *c, int physical)
{
    static int32_t ref[M * N], got[M * N];
    static int32_t ref1[M], got1[M];
    cim_xbar_config plain = *c;
    cim_analog_default(&plain.analog);
    cim_stats a, b;
    run_part(ctx, &plain, 0, M, 0, ref, &a);
    memset(got, 0x55, sizeof got);
    run_part(ctx, c, 0, M, physical, got, &b);
    assert_memory_equal(got, ref, sizeof ref);
    assert_memory_equal(&a, &b, sizeof a);
    /* one channel (the ADC stage's one-column path) */
    static int8_t w1[K];
    for (int k = 0; k < K; k++)
        w1[k] = W[(size_t)k * N + 3];
    run_w(ctx, &plain, w1, K, 1, X, 0, M, 0, ref1, &a);
    run_w(ctx, c, w1, K, 1, X, 0, M, physical, got1, &b);
    assert_memory_equal(got1, ref1, sizeof ref1);
    assert_memory_equal(&a, &b, sizeof a);
}

static void test_forced_physical_is_exact(void **state)
{
    (void)state;
    fill();
    cim_ctx *ctx = ctx_with(NULL, 2);
    int tried = 0;
    for (const char *const *p = cim_config_preset_names(); *p; p++) {
        cim_xbar_config c;
        preset(ctx, *p, &c);
        cim_analog_default(&c.analog);
        for (int zx = 0; zx <= 37; zx += 37) { /* unsigned, then signed_split */
            c.zx = zx;
            if (cim_config_validate(ctx, &c, "t") != CIM_OK)
                continue;
            expect_exact(ctx, &c, 1);
            tried++;
            if (c.adc.bits > 0) { /* with gaussian_colsum too: the same bits */
                cim_xbar_config cn = c;
                cn.noise.model = CIM_NOISE_GAUSSIAN_COLSUM;
                cn.noise.level = 0.06;
                cn.noise.seed = 9;
                static int32_t ref[M * N], got[M * N];
                cim_stats a, b;
                run_part(ctx, &cn, 0, M, 2, ref, &a);
                run_part(ctx, &cn, 0, M, 1, got, &b);
                assert_memory_equal(got, ref, sizeof ref);
                assert_memory_equal(&a, &b, sizeof a);
            }
        }
    }
    assert_true(tried >= 10);
    cim_ctx_destroy(ctx);
}

/* Each model whose parameters make it a no-op leaves the bits exact, while
 * still running its part of the physical path (its arrays exist). */
static void test_zero_parameters_are_exact(void **state)
{
    (void)state;
    fill();
    cim_ctx *ctx = ctx_with(NULL, 2);
    const char *presets[] = {"raella", "isaac", "zero-offset"};
    for (int p = 0; p < 3; p++) {
        for (int model = 0; model < 6; model++) {
            cim_xbar_config c;
            preset(ctx, presets[p], &c);
            cim_analog_config *a = &c.analog;
            switch (model) {
            case 0: /* drift at t = t0, with compensation */
                a->pcm_drift = 1;
                a->t_inference_s = a->t0_s;
                a->drift_compensation = 1;
                break;
            case 1: /* 1/f noise at t = t_read: sqrt(ln 1) = 0 */
                a->pcm_read_noise = CIM_PCM_READ_STATIC;
                a->t_inference_s = a->t_read_ns * 1e-9;
                break;
            case 2:
                a->pcm_read_noise = CIM_PCM_READ_PER_READ;
                a->t_inference_s = a->t_read_ns * 1e-9;
                break;
            case 3: /* static IR drop without wire resistance */
                a->ir_drop = CIM_IR_STATIC;
                a->r_wire_ohm = 0.0;
                break;
            case 4: /* zero-cell leak of a device that is off: 1T1R only */
                if (c.encoding != CIM_ENC_OFFSET)
                    continue;
                a->zero_leak = 1;
                a->g_off_us = 0.0;
                break;
            case 5: /* stuck cells with probability 0, forced path */
                a->stuck_on = 0.0;
                break;
            }
            assert_int_equal(cim_config_validate(ctx, &c, "t"), CIM_OK);
            expect_exact(ctx, &c, 1);
        }
    }
    cim_ctx_destroy(ctx);
}

/* A generic sample's mean and variance. */
static void moments(const double *v, int n, double *mean, double *var)
{
    double s = 0, s2 = 0;
    for (int i = 0; i < n; i++)
        s += v[i];
    *mean = s / n;
    for (int i = 0; i < n; i++)
        s2 += (v[i] - *mean) * (v[i] - *mean);
    *var = s2 / (n - 1);
}

enum { NS = 40000 };

static void test_programming_noise(void **state)
{
    (void)state;
    static double d[NS];
    cim_analog_config a;
    cim_analog_default(&a);
    a.prog_sigma_us = 10.0;
    a.prog_sigma_rel = 0.05;
    const int levels[] = {3, 9, 15};
    for (int l = 0; l < 3; l++) {
        double gt = 0;
        for (int s = 0; s < NS; s++) {
            cim_phys_device dv;
            cim__phys_device(&a, 4, 17, 2, s / 200, s % 200, 1, s & 1, levels[l], &dv);
            d[s] = dv.g_prog - dv.g_target;
            gt = dv.g_target;
            assert_true(dv.g_final == dv.g_prog && dv.nu == 0.0);
        }
        double mean, var, want = 100.0 + (0.05 * gt) * (0.05 * gt);
        moments(d, NS, &mean, &var);
        assert_true(fabs(mean) < 5.0 * sqrt(want / NS));
        assert_true(fabs(var / want - 1.0) < 0.04);
    }
    /* aihwkit PCM programming noise: sigma(g) uS at 25 uS, scaled to g_on */
    cim_analog_default(&a);
    a.pcm_prog_noise = 1;
    for (int l = 0; l < 3; l++) {
        double gt = 0;
        for (int s = 0; s < NS; s++) {
            cim_phys_device dv;
            cim__phys_device(&a, 4, 18, 3, s / 200, s % 200, 0, 0, levels[l], &dv);
            d[s] = dv.g_prog - dv.g_target;
            gt = dv.g_target;
        }
        double g = gt / a.g_on_us, sig = (0.26348 + 1.9650 * g - 1.1731 * g * g) * a.g_on_us / 25.0;
        double mean, var;
        moments(d, NS, &mean, &var);
        assert_true(fabs(mean) < 5.0 * sig / sqrt(NS));
        assert_true(fabs(var / (sig * sig) - 1.0) < 0.04);
    }
}

static double clampd(double x, double lo, double hi) { return x < lo ? lo : (x > hi ? hi : x); }

static void test_pcm_drift(void **state)
{
    (void)state;
    static double nu[NS];
    cim_analog_config a, b;
    cim_analog_default(&a);
    a.pcm_drift = 1;
    a.t_inference_s = 100.0;
    b = a;
    b.t_inference_s = 86400.0;
    const int levels[] = {1, 4, 15};
    for (int l = 0; l < 3; l++) {
        double gt = 0;
        for (int s = 0; s < NS; s++) {
            cim_phys_device d1, d2;
            cim__phys_device(&a, 4, 5, 1, s / 100, s % 100, 0, 0, levels[l], &d1);
            cim__phys_device(&b, 4, 5, 1, s / 100, s % 100, 0, 0, levels[l], &d2);
            nu[s] = d1.nu;
            gt = d1.g_target;
            /* the drift exponent from G(t) / G_prog at two times */
            double est = -log(d2.g_drift / d1.g_drift) / log(b.t_inference_s / a.t_inference_s);
            assert_true(fabs(est - d1.nu) < 1e-9);
            assert_true(fabs(d1.g_drift - d1.g_prog * pow(a.t_inference_s / a.t0_s, -d1.nu)) < 1e-9 * d1.g_prog);
            assert_true(d1.nu >= 0.0);
        }
        double g = gt / a.g_on_us;
        double mu = clampd(-0.0155 * log(g) + 0.0244, 0.049, 0.1), sg = clampd(-0.0125 * log(g) - 0.0059, 0.008, 0.045);
        /* E|X| and Var|X| of X ~ N(mu, sg) (the fold matters little here) */
        double r = mu / sg, phi = exp(-0.5 * r * r) / sqrt(2 * 3.14159265358979323846), Phi = 0.5 * erfc(-r / sqrt(2.0));
        double em = sg * 2 * phi + mu * (2 * Phi - 1), ev = mu * mu + sg * sg - em * em;
        double mean, var;
        moments(nu, NS, &mean, &var);
        assert_true(fabs(mean - em) < 5.0 * sqrt(ev / NS));
        assert_true(fabs(sqrt(var) / sqrt(ev) - 1.0) < 0.03);
    }
}

/* A layer of one conversion per output: 8-bit cells and DAC, one slice each,
 * a 24-bit signed ADC that keeps every LSB: psum = round(S~). */
static void one_conversion(cim_ctx *ctx, cim_xbar_config *c, cim_encoding enc)
{
    assert_int_equal(cim_config_preset(ctx, "zero-offset", c), CIM_OK);
    c->encoding = enc;
    c->rows = 256;
    c->cols = 256;
    c->cell_bits = 8;
    c->dac_bits = 8;
    c->n_weight_slices = 1;
    c->weight_slices[0] = 8;
    c->n_input_slices = 1;
    c->input_slices[0] = 8;
    c->speculation = 0;
    c->adc.bits = 24;
    c->adc.is_signed = 1;
    c->adc.drop_lsbs = 0;
    c->zx = 0;
    c->input_encoding = CIM_IN_UNSIGNED;
    assert_int_equal(cim_config_validate(ctx, c, "t"), CIM_OK);
}

enum { RK = 64, RN = 8, RM = 3000 };

/* The variance of psum over RM copies of one input vector, per channel. */
static void repeated(cim_ctx *ctx, const cim_xbar_config *c, const uint8_t *xrow, double *var_out, double *mean_out)
{
    static int8_t w[RK * RN];
    static uint8_t x[RM * RK];
    static int32_t out[RM * RN];
    static double v[RM];
    tu_rng r = {3};
    for (int i = 0; i < RK * RN; i++)
        w[i] = (int8_t)tu_range(&r, -100, 100);
    for (int m = 0; m < RM; m++)
        memcpy(x + (size_t)m * RK, xrow, RK);
    cim_stats st;
    run_w(ctx, c, w, RK, RN, x, 0, RM, 0, out, &st);
    for (int n = 0; n < RN; n++) {
        for (int m = 0; m < RM; m++)
            v[m] = out[(size_t)m * RN + (size_t)n];
        moments(v, RM, &mean_out[n], &var_out[n]);
    }
}

static void test_read_noise_variance(void **state)
{
    (void)state;
    cim_ctx *ctx = ctx_with(NULL, 2);
    uint8_t xrow[RK];
    tu_rng r = {8};
    for (int k = 0; k < RK; k++)
        xrow[k] = (uint8_t)tu_range(&r, 0, 3);
    double sum_a = 0, sum_a2 = 0;
    for (int k = 0; k < RK; k++) {
        sum_a += xrow[k];
        sum_a2 += (double)xrow[k] * xrow[k];
    }
    for (int drive = 0; drive < 2; drive++) {
        cim_xbar_config c;
        one_conversion(ctx, &c, CIM_ENC_DIFFERENTIAL);
        c.analog.read_noise_us = 2.0;
        c.analog.drive = drive ? CIM_DRIVE_AMPLITUDE : CIM_DRIVE_PULSE_COUNT;
        double lu = (c.analog.g_on_us - c.analog.g_off_us) / 255.0;
        /* both devices of every pair: 2 sigma^2 per unit (pulse count) or per unit^2 (amplitude) */
        double want = (drive ? sum_a2 : sum_a) * 2.0 * (2.0 / lu) * (2.0 / lu) + 1.0 / 12.0;
        double var[RN], mean[RN];
        repeated(ctx, &c, xrow, var, mean);
        for (int n = 0; n < RN; n++)
            assert_true(fabs(var[n] / want - 1.0) < 0.1);
    }
    /* integrator kT/C: sigma_Q = sqrt(k T C), independent of the input */
    {
        cim_xbar_config c;
        one_conversion(ctx, &c, CIM_ENC_DIFFERENTIAL);
        c.analog.c_int_ff = 2.0e6;
        double lu = (c.analog.g_on_us - c.analog.g_off_us) / 255.0;
        double q = lu * 1e-6 * c.analog.v_read * c.analog.t_pulse_ns * 1e-9;
        double s = sqrt(1.380649e-23 * c.analog.temperature_k * c.analog.c_int_ff * 1e-15) / q;
        double var[RN], mean[RN];
        repeated(ctx, &c, xrow, var, mean);
        for (int n = 0; n < RN; n++)
            assert_true(fabs(var[n] / (s * s + 1.0 / 12.0) - 1.0) < 0.1);
        /* ADC input noise, in ADC steps */
        cim_analog_default(&c.analog);
        c.analog.adc_noise_lsb = 3.0;
        repeated(ctx, &c, xrow, var, mean);
        for (int n = 0; n < RN; n++)
            assert_true(fabs(var[n] / (9.0 + 1.0 / 12.0) - 1.0) < 0.1);
    }
    cim_ctx_destroy(ctx);
}

/* Static draws are the same in every inference; per-operation ones are not;
 * the seed decides both. */
static void test_static_vs_per_op(void **state)
{
    (void)state;
    cim_ctx *ctx = ctx_with(NULL, 1);
    uint8_t xrow[RK];
    tu_rng r = {10};
    for (int k = 0; k < RK; k++)
        xrow[k] = (uint8_t)tu_range(&r, 0, 255);
    cim_xbar_config c;
    one_conversion(ctx, &c, CIM_ENC_DIFFERENTIAL);
    cim_xbar_config base = c;
    double var[RN], mean[RN], mean0[RN];
    repeated(ctx, &c, xrow, var, mean0);
    c.analog.prog_sigma_rel = 0.05;
    c.analog.stuck_off = 0.05;
    c.analog.adc_offset_lsb = 2.0;
    c.analog.pcm_drift = 1;
    repeated(ctx, &c, xrow, var, mean);
    int moved = 0;
    for (int n = 0; n < RN; n++) {
        assert_true(var[n] == 0.0); /* every copy of the vector: the same psum */
        moved += mean[n] != mean0[n];
    }
    assert_true(moved > RN / 2);
    c.analog.read_noise_rel = 0.02;
    repeated(ctx, &c, xrow, var, mean);
    for (int n = 0; n < RN; n++)
        assert_true(var[n] > 1.0);
    /* same seed same bits, another seed other bits (static and per-op) */
    static int32_t o1[M * N], o2[M * N], o3[M * N];
    fill();
    cim_xbar_config p;
    preset(ctx, "raella", &p);
    p.analog = c.analog;
    p.noise.seed = 1;
    cim_stats st;
    run_part(ctx, &p, 0, M, 0, o1, &st);
    run_part(ctx, &p, 0, M, 0, o2, &st);
    assert_memory_equal(o1, o2, sizeof o1);
    p.noise.seed = 2;
    run_part(ctx, &p, 0, M, 0, o3, &st);
    assert_memory_not_equal(o1, o3, sizeof o1);
    (void)base;
    cim_ctx_destroy(ctx);
}

/* Every model on: 1 or 2 threads, a batch split and every kernel give the same bits. */
static void all_models(cim_analog_config *a, int variant)
{
    a->read_noise_rel = 0.01;
    a->read_noise_us = 1.0;
    a->c_int_ff = 50.0;
    a->adc_noise_lsb = 0.3;
    a->prog_sigma_us = 3.0;
    a->prog_sigma_rel = 0.02;
    a->pcm_prog_noise = 1;
    a->stuck_on = 0.001;
    a->stuck_off = 0.002;
    a->adc_offset_lsb = 0.5;
    a->adc_gain_sigma = 0.01;
    a->pcm_drift = 1;
    a->drift_compensation = 1;
    a->pcm_read_noise = variant ? CIM_PCM_READ_PER_READ : CIM_PCM_READ_STATIC;
    a->ir_drop = variant ? CIM_IR_TIME : CIM_IR_STATIC;
    a->drive = variant ? CIM_DRIVE_AMPLITUDE : CIM_DRIVE_PULSE_COUNT;
    a->adcs_per_crossbar = variant ? 8 : 0;
}

static void test_threads_and_split(void **state)
{
    (void)state;
    fill();
    static int32_t ref[M * N], got[M * N];
    const char *presets[] = {"raella", "isaac", "zero-offset"};
    for (int p = 0; p < 3; p++)
        for (int variant = 0; variant < 2; variant++)
            for (int zx = 0; zx <= 21; zx += 21) {
                cim_xbar_config c;
                cim_ctx *c1 = ctx_with("ref", 1);
                preset(c1, presets[p], &c);
                all_models(&c.analog, variant);
                c.zx = zx;
                c.noise.seed = 77;
                if (variant) { /* gaussian_colsum as well */
                    c.noise.model = CIM_NOISE_GAUSSIAN_COLSUM;
                    c.noise.level = 0.04;
                }
                if (cim_config_validate(c1, &c, "t") != CIM_OK) {
                    cim_ctx_destroy(c1);
                    continue;
                }
                cim_stats st_ref, st;
                run_part(c1, &c, 0, M, 0, ref, &st_ref);
                cim_ctx_destroy(c1);
                for (const char *const *k = cim_kernel_names(); *k; k++) {
                    if (cim_kernel_supported(*k) != 1)
                        continue;
                    for (int threads = 1; threads <= 2; threads++) {
                        cim_ctx *ctx = ctx_with(*k, threads);
                        memset(got, 0, sizeof got);
                        run_part(ctx, &c, 0, M, 0, got, &st);
                        assert_memory_equal(got, ref, sizeof ref);
                        assert_memory_equal(&st, &st_ref, sizeof st);
                        memset(got, 0, sizeof got);
                        cim_stats a, b;
                        run_part(ctx, &c, 0, 13, 0, got, &a);
                        run_part(ctx, &c, 13, M - 13, 0, got, &b);
                        assert_memory_equal(got, ref, sizeof ref);
                        cim_ctx_destroy(ctx);
                    }
                }
            }
}

/* ADC gain and offset on a hand-built layer: each column's code is
 * round((1 + gain) S + offset), with the per-ADC draws of cim__phys_adc. */
static void test_adc_gain_offset(void **state)
{
    (void)state;
    cim_ctx *ctx = ctx_with(NULL, 1);
    cim_xbar_config c;
    one_conversion(ctx, &c, CIM_ENC_DIFFERENTIAL);
    c.analog.adc_offset_lsb = 4.0;
    c.analog.adc_gain_sigma = 0.05;
    c.analog.adcs_per_crossbar = 3; /* columns share ADCs */
    c.noise.seed = 12;
    enum { KK = 40, NN = 10, MM = 20 };
    static int8_t w[KK * NN];
    static uint8_t x[MM * KK];
    static int32_t out[MM * NN], ex[MM * NN];
    tu_rng r = {4};
    for (int i = 0; i < KK * NN; i++)
        w[i] = (int8_t)tu_range(&r, -128, 127);
    for (int i = 0; i < MM * KK; i++)
        x[i] = (uint8_t)tu_range(&r, 0, 255);
    cim_weights wt = {w, CIM_INT8, KK, NN, NULL};
    cim_layer *L = NULL;
    assert_int_equal(cim_layer_program(ctx, &c, &wt, 9, NULL, &L), CIM_OK);
    assert_int_equal(cim_layer_run(ctx, L, x, MM, out, NULL, NULL), CIM_OK);
    assert_int_equal(cim_layer_run_exact(ctx, L, x, MM, ex), CIM_OK);
    int differ = 0;
    for (int n = 0; n < NN; n++) {
        int xbar, adc;
        double off, gain;
        cim__phys_adc_of(L, n, 0, &xbar, &adc);
        assert_int_equal(adc, n % 3);
        cim__phys_adc(&c.analog, 12, 9, 0, xbar, adc, &off, &gain);
        assert_true(fabs(off) > 0 && fabs(gain) > 0);
        for (int m = 0; m < MM; m++) {
            int32_t S = ex[m * NN + n];
            float g = (float)(1.0 + gain), o = (float)off;
            float d = (g - 1.0f) * (float)S + g * 0.0f + o;
            double want = rint((double)S + (double)d);
            assert_int_equal(out[m * NN + n], (int32_t)want);
            assert_true(fabs(want - ((1.0 + gain) * S + off)) <= 1.0);
            differ += out[m * NN + n] != S;
        }
    }
    assert_true(differ > NN * MM / 2);
    cim_layer_free(ctx, L);
    cim_ctx_destroy(ctx);
}

/* 1T1R with a finite on/off ratio: every cell of a driven row leaks G_off,
 * so a column gains sum_k a_k G_off / LU. */
static void test_zero_leak(void **state)
{
    (void)state;
    cim_ctx *ctx = ctx_with(NULL, 1);
    cim_xbar_config c;
    one_conversion(ctx, &c, CIM_ENC_OFFSET);
    c.analog.zero_leak = 1;
    enum { KK = 50, NN = 6, MM = 10 };
    static int8_t w[KK * NN];
    static uint8_t x[MM * KK];
    static int32_t out[MM * NN], ex[MM * NN];
    tu_rng r = {6};
    for (int i = 0; i < KK * NN; i++)
        w[i] = (int8_t)tu_range(&r, -128, 127);
    for (int i = 0; i < MM * KK; i++)
        x[i] = (uint8_t)tu_range(&r, 0, 255);
    cim_weights wt = {w, CIM_INT8, KK, NN, NULL};
    cim_layer *L = NULL;
    assert_int_equal(cim_layer_program(ctx, &c, &wt, 1, NULL, &L), CIM_OK);
    assert_int_equal(cim_layer_run(ctx, L, x, MM, out, NULL, NULL), CIM_OK);
    assert_int_equal(cim_layer_run_exact(ctx, L, x, MM, ex), CIM_OK);
    const double leak = c.analog.g_off_us / ((c.analog.g_on_us - c.analog.g_off_us) / 255.0);
    for (int m = 0; m < MM; m++) {
        double sa = 0;
        for (int k = 0; k < KK; k++)
            sa += x[m * KK + k];
        for (int n = 0; n < NN; n++)
            assert_true(fabs((double)(out[m * NN + n] - ex[m * NN + n]) - sa * leak) <= 1.0);
    }
    cim_layer_free(ctx, L);
    cim_ctx_destroy(ctx);
}

/* Drift without compensation shrinks the column sums by about (t/t0)^-nu;
 * the global compensation brings their scale back. */
static void test_drift_compensation(void **state)
{
    (void)state;
    cim_ctx *ctx = ctx_with(NULL, 2);
    uint8_t xrow[RK];
    tu_rng r = {12};
    for (int k = 0; k < RK; k++)
        xrow[k] = (uint8_t)tu_range(&r, 0, 255);
    cim_xbar_config c;
    one_conversion(ctx, &c, CIM_ENC_DIFFERENTIAL);
    double var[RN], m0[RN], m1[RN], m2[RN];
    repeated(ctx, &c, xrow, var, m0);
    c.analog.pcm_drift = 1;
    c.analog.t_inference_s = 86400.0;
    repeated(ctx, &c, xrow, var, m1);
    c.analog.drift_compensation = 1;
    repeated(ctx, &c, xrow, var, m2);
    double e1 = 0, e2 = 0, s0 = 0;
    for (int n = 0; n < RN; n++) {
        e1 += fabs(m1[n] - m0[n]);
        e2 += fabs(m2[n] - m0[n]);
        s0 += fabs(m0[n]);
    }
    assert_true(e1 > 0.2 * s0); /* (4320)^-0.05 ~ 0.66 */
    assert_true(e2 < 0.5 * e1);
    cim_ctx_destroy(ctx);
}

/* Recovery conversions see the same deviations as static 1-bit slices: with
 * a 1-bit ADC (both codes are its ends) every speculation of an 8-bit slice
 * fails, and its eight 1-bit recovery conversions must give the bits of a
 * static slicing into eight 1-bit slices (static models only; tiny column
 * sums, so the deviation decides many codes). */
static void test_recovery_deviation(void **state)
{
    (void)state;
    enum { KK = 4, NN = 50, MM = 60 };
    static int8_t w[KK * NN];
    static uint8_t x[MM * KK];
    static int32_t spec[MM * NN], stat[MM * NN], plain[MM * NN];
    tu_rng r = {21};
    for (int i = 0; i < KK * NN; i++)
        w[i] = (int8_t)tu_range(&r, -1, 1);
    for (int i = 0; i < MM * KK; i++)
        x[i] = (uint8_t)tu_range(&r, 0, 255);
    cim_ctx *ctx = ctx_with(NULL, 2);
    for (int enc = 0; enc < 2; enc++) {
        cim_xbar_config c;
        assert_int_equal(cim_config_preset(ctx, "zero-offset", &c), CIM_OK);
        c.encoding = enc ? CIM_ENC_OFFSET : CIM_ENC_DIFFERENTIAL;
        c.flip = 0;
        c.dac_bits = 8;
        c.adc.bits = 1;
        c.adc.is_signed = 1;
        c.adc.drop_lsbs = 0;
        c.zx = 0;
        c.input_encoding = CIM_IN_UNSIGNED;
        c.analog.prog_sigma_us = 25.0;
        c.analog.pcm_drift = 1;
        cim_xbar_config a = c, b = c;
        a.speculation = 1;
        a.recovery_bits = 1;
        a.n_input_slices = 1;
        a.input_slices[0] = 8;
        b.speculation = 0;
        b.n_input_slices = 8;
        for (int j = 0; j < 8; j++)
            b.input_slices[j] = 1;
        assert_int_equal(cim_config_validate(ctx, &a, "a"), CIM_OK);
        assert_int_equal(cim_config_validate(ctx, &b, "b"), CIM_OK);
        cim_stats sa, sb;
        run_w(ctx, &a, w, KK, NN, x, 0, MM, 0, spec, &sa);
        run_w(ctx, &b, w, KK, NN, x, 0, MM, 0, stat, &sb);
        assert_int_equal(sa.adc_converts_recovery, 8 * sa.adc_converts_speculative);
        assert_memory_equal(spec, stat, sizeof spec);
        cim_analog_default(&b.analog);
        run_w(ctx, &b, w, KK, NN, x, 0, MM, 0, plain, &sb);
        assert_memory_not_equal(stat, plain, sizeof stat);
    }
    cim_ctx_destroy(ctx);
}

/* Time-dependent IR drop: each conversion's charge is irdrop.h's event-driven
 * column charge over the DAC cycle's window (2^8 - 1 pulses for an 8-bit
 * slice), from the same conductances. */
static void test_ir_time_matches_column_charge(void **state)
{
    (void)state;
    enum { KK = 64, NN = 5, MM = 12 };
    static int8_t w[KK * NN];
    static uint8_t x[MM * KK];
    static int32_t out[MM * NN];
    tu_rng r = {33};
    for (int i = 0; i < KK * NN; i++)
        w[i] = (int8_t)tu_range(&r, -128, 127);
    for (int i = 0; i < MM * KK; i++)
        x[i] = (uint8_t)(tu_range(&r, 0, 2) ? 0 : tu_range(&r, 0, 255));
    cim_ctx *ctx = ctx_with(NULL, 1);
    for (int enc = 0; enc < 2; enc++) {
        cim_xbar_config c;
        one_conversion(ctx, &c, enc ? CIM_ENC_OFFSET : CIM_ENC_DIFFERENTIAL);
        cim_analog_config *a = &c.analog;
        a->ir_drop = CIM_IR_TIME;
        a->r_wire_ohm = 2.0; /* a visible drop on 64 rows */
        run_w(ctx, &c, w, KK, NN, x, 0, MM, 0, out, NULL);
        const double glu = (a->g_on_us - a->g_off_us) / 255.0, q = glu * 1e-6 * a->v_read * a->t_pulse_ns * 1e-9;
        cim_ir_params p = {a->r_wire_ohm, a->v_col, a->v_idle, a->v_read, a->t_pulse_ns * 1e-9};
        double gp[KK], gm[KK], work[4 * KK];
        uint16_t width[KK];
        int8_t sign[KK];
        int moved = 0;
        for (int n = 0; n < NN; n++) {
            int64_t ideal_off = 0; /* 1T1R without zero_leak: the ideal G_off current is subtracted */
            for (int k = 0; k < KK; k++) {
                int v = w[k * NN + n];
                int vp = enc ? v + 128 : (v > 0 ? v : 0), vm = enc ? 0 : (v < 0 ? -v : 0);
                gp[k] = (a->g_off_us + vp * glu) * 1e-6;
                gm[k] = enc ? 0.0 : (a->g_off_us + vm * glu) * 1e-6;
            }
            for (int m = 0; m < MM; m++) {
                ideal_off = 0;
                for (int k = 0; k < KK; k++) {
                    width[k] = x[m * KK + k];
                    sign[k] = 1;
                    ideal_off += x[m * KK + k];
                }
                double Q = cim_ir_column_charge_window(&p, KK, gp, enc ? NULL : gm, width, sign, 255, work);
                double S = Q / q - (enc ? (double)ideal_off * a->g_off_us / glu : 0.0);
                /* offset: psum = S - 128 sum_k a_k (semantics.md section 3) */
                double want = enc ? S - 128.0 * (double)ideal_off : S;
                int32_t got = out[m * NN + n];
                assert_true(fabs((double)got - want) <= 1.0 + 1e-5 * fabs(want));
                int64_t exact = 0;
                for (int k = 0; k < KK; k++)
                    exact += (int64_t)x[m * KK + k] * w[k * NN + n];
                moved += llabs((int64_t)got - exact) > 2;
            }
        }
        assert_true(moved > MM * NN / 2);
    }
    cim_ctx_destroy(ctx);
}

/* ir_drop static is the time model's exact ladder attenuation without the idle
 * leak: bit-identical to `time` with the column held at v_idle, different from
 * `time` with v_col = 0.4005 V, and far from exact on a resistive wire. */
static void test_ir_static_is_time_without_leak(void **state)
{
    (void)state;
    fill();
    static int32_t st[M * N], tm[M * N], tl[M * N], ex[M * N];
    cim_ctx *ctx = ctx_with(NULL, 2);
    const char *presets[] = {"raella", "isaac"};
    for (int p = 0; p < 2; p++) {
        cim_xbar_config c;
        preset(ctx, presets[p], &c);
        run_part(ctx, &c, 0, M, 0, ex, NULL);
        c.analog.r_wire_ohm = 1.0;
        c.analog.ir_drop = CIM_IR_STATIC;
        run_part(ctx, &c, 0, M, 0, st, NULL);
        c.analog.ir_drop = CIM_IR_TIME;
        run_part(ctx, &c, 0, M, 0, tl, NULL);
        c.analog.v_col = c.analog.v_idle;
        run_part(ctx, &c, 0, M, 0, tm, NULL);
        assert_memory_equal(st, tm, sizeof st);
        assert_memory_not_equal(st, tl, sizeof st);
        assert_memory_not_equal(st, ex, sizeof st);
    }
    cim_ctx_destroy(ctx);
}

/* Every allocation of programming and running a layer with the models on
 * (and of the forced path with them off) may fail: the calls return
 * CIM_ERR_NOMEM and leak nothing; a bad analog config fails cleanly. */
static void test_alloc_failures_and_bad_config(void **state)
{
    (void)state;
    enum { KK = 150, NN = 20, MM = 40 };
    static int8_t w[KK * NN];
    static uint8_t x[MM * KK];
    static int32_t out[MM * NN];
    for (int i = 0; i < KK * NN; i++)
        w[i] = (int8_t)(i * 37);
    for (int i = 0; i < MM * KK; i++)
        x[i] = (uint8_t)(i * 11);
    for (int variant = 0; variant < 3; variant++) {
        int ok = 0;
        for (long n = 1; n < 100000 && !ok; n++) {
            tu_failing f = {n, 0, 0};
            cim_ctx_options o;
            cim_ctx_options_default(&o);
            o.alloc = tu_failing_realloc;
            o.alloc_ud = &f;
            o.threads = 2;
            o.log = NULL;
            cim_ctx *ctx = NULL;
            cim_status st = cim_ctx_create(&o, &ctx);
            if (st == CIM_OK) {
                cim_xbar_config c;
                assert_int_equal(cim_config_preset(ctx, "raella", &c), CIM_OK);
                c.rows = 64;
                if (variant < 2)
                    all_models(&c.analog, variant);
                cim_weights wt = {w, CIM_INT8, KK, NN, NULL};
                cim_layer *L = NULL;
                st = cim_layer_program(ctx, &c, &wt, 0, NULL, &L);
                if (st == CIM_OK) {
                    cim_run_options ro;
                    cim_run_options_default(&ro);
                    ro.physical = 1;
                    st = cim_layer_run(ctx, L, x, MM, out, NULL, &ro);
                    cim_layer_free(ctx, L);
                } else {
                    assert_null(L);
                }
                cim_ctx_destroy(ctx);
            }
            assert_true(st == CIM_OK || st == CIM_ERR_NOMEM);
            assert_int_equal(f.live, 0);
            ok = st == CIM_OK;
        }
        assert_true(ok);
    }
    /* a bad analog config: programming refuses it, naming the key */
    cim_ctx *ctx = ctx_with(NULL, 1);
    cim_xbar_config c;
    preset(ctx, "raella", &c);
    c.analog.read_noise_rel = -0.1;
    cim_weights wt = {w, CIM_INT8, KK, NN, NULL};
    cim_layer *L = NULL;
    assert_int_equal(cim_layer_program(ctx, &c, &wt, 0, NULL, &L), CIM_ERR_CONFIG);
    assert_null(L);
    assert_non_null(strstr(cim_ctx_errmsg(ctx), "read_noise_rel"));
    cim_ctx_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forced_physical_is_exact),
        cmocka_unit_test(test_zero_parameters_are_exact),
        cmocka_unit_test(test_programming_noise),
        cmocka_unit_test(test_pcm_drift),
        cmocka_unit_test(test_read_noise_variance),
        cmocka_unit_test(test_static_vs_per_op),
        cmocka_unit_test(test_threads_and_split),
        cmocka_unit_test(test_adc_gain_offset),
        cmocka_unit_test(test_zero_leak),
        cmocka_unit_test(test_drift_compensation),
        cmocka_unit_test(test_recovery_deviation),
        cmocka_unit_test(test_ir_time_matches_column_charge),
        cmocka_unit_test(test_ir_static_is_time_without_leak),
        cmocka_unit_test(test_alloc_failures_and_bad_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
