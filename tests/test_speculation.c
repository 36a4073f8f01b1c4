/* test_speculation.c: dynamic input slicing (semantics.md section 7) on
 * hand-computed cases: a speculation that succeeds, one that fails and
 * recovers exactly, a recovery that still saturates, ADC counts that include
 * only the failed columns, and recovery widths that do not divide a slice;
 * then whole layers: RAELLA counters, and tiles that recover densely. */
#include <stdlib.h>
#include <string.h>
#include "testutil.h"

/* K = 2, N columns; differential, one 8-bit weight slice (8-bit cells: the
 * two-part kernel path), speculation slices `spec` with `rec` recovery bits,
 * signed 5-bit ADC (-16..15), 4-bit DACs. */
static void spec_config(cim_xbar_config *c, const int *spec, int nspec, int rec)
{
    cim_config_default(c);
    c->rows = 2;
    c->cols = 8;
    c->encoding = CIM_ENC_DIFFERENTIAL;
    c->cell_bits = 8;
    c->dac_bits = 4;
    c->n_weight_slices = 1;
    c->weight_slices[0] = 8;
    c->speculation = 1;
    c->n_input_slices = nspec;
    memcpy(c->input_slices, spec, sizeof(int) * (size_t)nspec);
    c->recovery_bits = rec;
    c->adc.bits = 5;
    c->adc.is_signed = 1;
}

static void run(cim_ctx *ctx, const cim_xbar_config *c, const int8_t *w, int N, const uint8_t *x, int32_t *p,
                cim_stats *st)
{
    cim_weights wt = {w, CIM_INT8, 2, N, NULL};
    cim_layer *L = NULL;
    assert_int_equal(cim_layer_program(ctx, c, &wt, 0, NULL, &L), CIM_OK);
    assert_int_equal(cim_layer_run(ctx, L, x, 1, p, st, NULL), CIM_OK);
    cim_layer_free(ctx, L);
}

static void test_success_and_recovery(void **state)
{
    (void)state;
    cim_ctx *ctx = tu_ctx();
    const int spec[2] = {4, 4};
    cim_xbar_config c;
    cim_stats st;
    int32_t p[2];
    spec_config(&c, spec, 2, 1);
    /* column 0: w = (1, 1); column 1: w = (1, 0) */
    const int8_t w[4] = {1, 1, 1, 0};
    /* x = (0x35, 0x12): nibble sums 3+1 = 4 and 5+2 = 7, no failure */
    const uint8_t x1[2] = {0x35, 0x12};
    run(ctx, &c, w, 2, x1, p, &st);
    assert_int_equal(p[0], 0x35 + 0x12);
    assert_int_equal(p[1], 0x35);
    assert_int_equal(st.adc_converts_speculative, 4);
    assert_int_equal(st.adc_converts_recovery, 0);
    assert_int_equal(st.speculation_failures, 0);
    /* x = (0xF0, 0x10): column 0's high nibble sums to 16 > 15: the flag is set,
     * the nibble is re-run as four 1-bit slices (sums 1, 1, 1, 2) and only column
     * 0 converts in recovery; column 1 (15) also hits the flag (qmax) and recovers. */
    const uint8_t x2[2] = {0xF0, 0x10};
    run(ctx, &c, w, 2, x2, p, &st);
    assert_int_equal(p[0], 0xF0 + 0x10);
    assert_int_equal(p[1], 0xF0);
    assert_int_equal(st.speculation_failures, 2);
    assert_int_equal(st.adc_converts_speculative, 4);
    assert_int_equal(st.adc_converts_recovery, 8);
    assert_int_equal(st.adc_converts, 12);
    assert_int_equal(st.saturations, 2);
    assert_int_equal(st.saturations_recovery, 0);
    /* DAC pulses: speculative nibbles 15+1 and 0+0, recovery bits 4 + 1 (every
     * recovery cycle runs: all columns of a crossbar run together) */
    assert_int_equal(st.dac_pulses, 16 + 0 + 5 + 0);
    assert_int_equal(st.crossbar_cycles, 2 + 8);
    /* x = (0x0F, 0x0F) on column 1 only (N = 1): low nibble 15 = qmax fails, recovers */
    const int8_t w1[2] = {1, 0};
    const uint8_t x3[2] = {0x0F, 0x0F};
    run(ctx, &c, w1, 1, x3, p, &st);
    assert_int_equal(p[0], 0x0F);
    assert_int_equal(st.speculation_failures, 1);
    assert_int_equal(st.adc_converts_recovery, 4);
    cim_ctx_destroy(ctx);
}

static void test_recovery_still_saturates(void **state)
{
    (void)state;
    cim_ctx *ctx = tu_ctx();
    const int spec[2] = {4, 4};
    cim_xbar_config c;
    cim_stats st;
    int32_t p;
    spec_config(&c, spec, 2, 1);
    /* w = (12, 12), x = (0x10, 0x10): high nibble sum 24 fails; recovery bits
     * 7, 6, 5 are 0 and bit 4 sums to 24 again: it saturates at 15 and is kept,
     * so psum = 15 * 16 = 240 instead of 384. */
    const int8_t w[2] = {12, 12};
    const uint8_t x[2] = {0x10, 0x10};
    run(ctx, &c, w, 1, x, &p, &st);
    assert_int_equal(p, 240);
    assert_int_equal(st.speculation_failures, 1);
    assert_int_equal(st.adc_converts_recovery, 4);
    assert_int_equal(st.saturations, 2);
    assert_int_equal(st.saturations_recovery, 1);
    assert_int_equal(st.true_clips, 2);
    /* without speculation (eight 1-bit slices) the same clip happens once */
    c.speculation = 0;
    c.n_input_slices = 8;
    for (int i = 0; i < 8; i++)
        c.input_slices[i] = 1;
    c.dac_bits = 1;
    run(ctx, &c, w, 1, x, &p, &st);
    assert_int_equal(p, 240);
    assert_int_equal(st.adc_converts, 8);
    assert_int_equal(st.true_clips, 1);
    cim_ctx_destroy(ctx);
}

/* A 3-bit speculative slice with 2-bit recovery re-runs as 2 + 1 bits; a slice
 * no wider than the recovery width cannot be refined and is kept clamped. */
static void test_uneven_recovery(void **state)
{
    (void)state;
    cim_ctx *ctx = tu_ctx();
    const int spec[3] = {3, 3, 2};
    cim_xbar_config c;
    cim_stats st;
    int32_t p;
    spec_config(&c, spec, 3, 2);
    /* bits 7..5 of x = 0xE0 and 0xE0 are 7 + 7 = 14 with w = (1, 1): ok.
     * With w = (2, 2): 28 fails; recovery bits 7..6 (3 + 3) * 2 = 12 and bit 5
     * (1 + 1) * 2 = 4: exact. */
    const int8_t w[2] = {2, 2};
    const uint8_t x[2] = {0xE0, 0xE0};
    run(ctx, &c, w, 1, x, &p, &st);
    assert_int_equal(p, 2 * 0xE0 * 2);
    assert_int_equal(st.speculation_failures, 1);
    assert_int_equal(st.adc_converts_recovery, 2);
    /* the last slice (2 bits, = recovery width) saturating is not recoverable:
     * x = (3, 3), w = (3, 3) gives 18 -> 15, counted as a saturation only */
    const int8_t w2[2] = {3, 3};
    const uint8_t x2[2] = {3, 3};
    run(ctx, &c, w2, 1, x2, &p, &st);
    assert_int_equal(p, 15);
    assert_int_equal(st.speculation_failures, 0);
    assert_int_equal(st.adc_converts_recovery, 0);
    assert_int_equal(st.true_clips, 1);
    cim_ctx_destroy(ctx);
}

/* ISAAC's flip under dynamic input slicing: a complemented column holds 0, an
 * unsigned ADC flags 0 (it is qmin), so speculation "fails" and recovery
 * re-runs the bits; each recovery slice is recovered digitally as
 * (2^s - 1) * slice sum - q 2^t and the result is exact. */
static void test_flip_with_speculation(void **state)
{
    (void)state;
    cim_ctx *ctx = tu_ctx();
    const int spec[2] = {4, 4};
    cim_xbar_config c;
    cim_stats st;
    int32_t p[2];
    spec_config(&c, spec, 2, 1);
    c.encoding = CIM_ENC_OFFSET;
    c.flip = 1;
    c.adc.bits = 4;
    c.adc.is_signed = 0;
    /* column 0: w = (127, 127): u = 255, 255, flipped to 0, 0; column 1:
     * w = (-128, -127): u = 0, 1, not flipped */
    const int8_t w[4] = {127, -128, 127, -127};
    const uint8_t x[2] = {0x35, 0x12};
    run(ctx, &c, w, 2, x, p, &st);
    assert_int_equal(p[0], 127 * (0x35 + 0x12));
    assert_int_equal(p[1], 0x35 * -128 + 0x12 * -127);
    assert_int_equal(st.speculation_failures, 2);      /* column 0, both nibbles */
    assert_int_equal(st.adc_converts_recovery, 8);
    assert_int_equal(st.true_clips, 0);
    cim_ctx_destroy(ctx);
}

/* RAELLA on a whole random layer: recovery never loses anything a no-spec run
 * keeps when recovery itself does not saturate; converts are counted per
 * failed column. */
static void test_raella_counts(void **state)
{
    (void)state;
    cim_ctx *ctx = tu_ctx();
    enum { K = 512, N = 64, M = 8 };
    static int8_t w[K * N];
    static uint8_t x[M * K];
    static int32_t p[M * N];
    tu_rng r = {11};
    for (int i = 0; i < K * N; i++)
        w[i] = (int8_t)(tu_normal(&r) * 30);
    for (int i = 0; i < M * K; i++)
        x[i] = (uint8_t)(tu_range(&r, 0, 1) ? 0 : tu_range(&r, 0, 255));
    cim_xbar_config c;
    assert_int_equal(cim_config_preset(ctx, "raella", &c), CIM_OK);
    cim_weights wt = {w, CIM_INT8, K, N, NULL};
    cim_layer *L = NULL;
    assert_int_equal(cim_layer_program(ctx, &c, &wt, 0, NULL, &L), CIM_OK);
    cim_stats st;
    assert_int_equal(cim_layer_run(ctx, L, x, M, p, &st, NULL), CIM_OK);
    /* 3 speculative slices x 3 weight slices x N columns x M vectors */
    assert_int_equal(st.adc_converts_speculative, (uint64_t)M * N * 3 * 3);
    assert_true(st.speculation_failures > 0);
    /* each failure costs 4 (first slice) or 2 (others) recovery conversions */
    assert_true(st.adc_converts_recovery >= 2 * st.speculation_failures);
    assert_true(st.adc_converts_recovery <= 4 * st.speculation_failures);
    assert_int_equal(st.crossbar_cycles, (uint64_t)M * 1 * 11); /* 3 + 8 cycles, one crossbar */
    cim_layer_free(ctx, L);
    cim_ctx_destroy(ctx);
}

/* Most speculations fail (4-row crossbars, 4-bit input and weight slices,
 * a signed 7-bit ADC): whole tiles recover through the dense path (rows of
 * each recovery slice built from the speculative bytes), sparse ones through
 * the gathered one. Recovery sums (|S| <= 4 x 15 = 60) never saturate, so the
 * psums are exact, for every kernel and 1 and 2 threads. */
static void test_dense_recovery_exact(void **state)
{
    (void)state;
    enum { K = 60, N = 70, M = 40 };
    static int8_t w[K * N];
    static uint8_t x[M * K];
    static int32_t p[M * N], want[M * N];
    tu_rng r = {5};
    for (int i = 0; i < K * N; i++)
        w[i] = (int8_t)tu_range(&r, -128, 127);
    for (int i = 0; i < M * K; i++) /* vectors 0-31 (one tile) dense, the rest sparse */
        x[i] = (uint8_t)(i / K < 32 || tu_range(&r, 0, 9) == 0 ? tu_range(&r, 0, 255) : 0);
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) {
            int32_t sum = 0;
            for (int k = 0; k < K; k++)
                sum += x[m * K + k] * w[k * N + n];
            want[m * N + n] = sum;
        }
    const char *kernels[] = {"ref", "avx2", "avx512vnni"};
    for (int kk = 0; kk < 3; kk++)
        for (int threads = 1; threads <= 2; threads++) {
            cim_ctx_options o;
            cim_ctx_options_default(&o);
            o.threads = threads;
            o.kernel = kernels[kk];
            cim_ctx *ctx = NULL;
            if (cim_ctx_create(&o, &ctx) != CIM_OK)
                continue; /* kernel not built or not supported here */
            cim_xbar_config c;
            cim_config_default(&c);
            c.rows = 4;
            c.cols = 128;
            c.encoding = CIM_ENC_DIFFERENTIAL;
            c.cell_bits = 4;
            c.dac_bits = 4;
            c.n_weight_slices = 2;
            c.weight_slices[0] = c.weight_slices[1] = 4;
            c.speculation = 1;
            c.n_input_slices = 2;
            c.input_slices[0] = c.input_slices[1] = 4;
            c.recovery_bits = 1;
            c.adc.bits = 7;
            c.adc.is_signed = 1;
            cim_weights wt = {w, CIM_INT8, K, N, NULL};
            cim_layer *L = NULL;
            cim_stats st;
            assert_int_equal(cim_layer_program(ctx, &c, &wt, 0, NULL, &L), CIM_OK);
            assert_int_equal(cim_layer_run(ctx, L, x, M, p, &st, NULL), CIM_OK);
            /* the dense vectors fail most of their speculative conversions */
            /* 40% and more fail: the dense tile's recoveries take the dense path */
            assert_true(st.speculation_failures * 5 > st.adc_converts_speculative * 2);
            assert_int_equal(st.saturations_recovery, 0);
            for (int i = 0; i < M * N; i++)
                if (p[i] != want[i])
                    fail_msg("%s, %d threads: psum %d is %d, exact %d", kernels[kk], threads, i, p[i], want[i]);
            cim_layer_free(ctx, L);
            cim_ctx_destroy(ctx);
        }
}

/* raella with signed_split inputs (two phases), noise E = 0.08 when noisy. */
static void split_config(cim_ctx *ctx, int noisy, cim_xbar_config *c)
{
    if (noisy)
        tu_noisy_preset(ctx, "raella", 0.08, 7, c);
    else
        assert_int_equal(cim_config_preset(ctx, "raella", c), CIM_OK);
    c->zx = 100;
    c->input_encoding = CIM_IN_SIGNED_SPLIT;
}

/* big's per-column counters and histogram are exactly f times small's (the
 * same columns, repeated f times). */
static void scaled_counters(const cim_stats *small, const cim_stats *big, uint64_t f)
{
    assert_int_equal(f * small->adc_converts_speculative, big->adc_converts_speculative);
    assert_int_equal(f * small->adc_converts_recovery, big->adc_converts_recovery);
    assert_int_equal(f * small->speculation_failures, big->speculation_failures);
    assert_int_equal(f * small->saturations, big->saturations);
    assert_int_equal(f * small->saturations_recovery, big->saturations_recovery);
    assert_int_equal(f * small->true_clips, big->true_clips);
    assert_int_equal(f * small->hist.below, big->hist.below);
    assert_int_equal(f * small->hist.above, big->hist.above);
    for (int i = 0; i < CIM_HIST_BINS; i++)
        assert_int_equal(f * small->hist.bins[i], big->hist.bins[i]);
    for (int i = 0; i < CIM_HIST_BITS; i++)
        assert_int_equal(f * small->hist.bits[i], big->hist.bits[i]);
}

/* A one-column layer (a depthwise convolution's crossbar: its sums lie side
 * by side and its tiles are taller, up to TILE_TALL rows split over the
 * workers) computes what the same column computes beside a twin (tiles of
 * TILE_M rows): identical psums with speculation, failures and noise, and
 * with noise off exactly half the twin layer's per-column counters and
 * histogram; over several superblocks (a last one partly filled), with one
 * and two threads, and with complemented columns. */
static void test_one_column_like_two(void **state)
{
    (void)state;
    enum { K = 9, M = 700 };
    static int8_t w1[K], w2[K * 2];
    static uint8_t x[M * K];
    static int32_t p1[M], p2[M * 2];
    tu_rng r = {23};
    for (int k = 0; k < K; k++)
        w1[k] = w2[2 * k] = w2[2 * k + 1] = (int8_t)(k % 3 ? tu_range(&r, 90, 127) : -tu_range(&r, 90, 128));
    for (int i = 0; i < M * K; i++)
        x[i] = (uint8_t)tu_range(&r, 0, 255);
    for (int threads = 1; threads <= 2; threads++) {
        cim_ctx *ctx = tu_ctx_with(NULL, threads);
        for (int variant = 0; variant < 3; variant++) { /* noise off, on, off with complemented columns */
            const int noisy = variant == 1;
            cim_xbar_config c;
            split_config(ctx, noisy, &c);
            if (variant == 2) { /* ISAAC's complemented columns: offset encoding, an unsigned ADC */
                c.encoding = CIM_ENC_OFFSET;
                c.flip = 1;
                c.adc.is_signed = 0;
            }
            cim_stats s1, s2;
            cim_weights a = {w1, CIM_INT8, K, 1, NULL}, b = {w2, CIM_INT8, K, 2, NULL};
            cim_layer *L1 = NULL, *L2 = NULL;
            assert_int_equal(cim_layer_program(ctx, &c, &a, 3, NULL, &L1), CIM_OK);
            assert_int_equal(cim_layer_program(ctx, &c, &b, 3, NULL, &L2), CIM_OK);
            assert_int_equal(cim_layer_run(ctx, L1, x, M, p1, &s1, NULL), CIM_OK);
            assert_int_equal(cim_layer_run(ctx, L2, x, M, p2, &s2, NULL), CIM_OK);
            for (int m = 0; m < M; m++)
                if (p1[m] != p2[2 * m])
                    fail_msg("%d threads, variant %d: vector %d: one column %d, beside a twin %d", threads, variant, m,
                             p1[m], p2[2 * m]);
            if (s1.speculation_failures < 100) /* the recovery path ran */
                fail_msg("only %llu failed speculations", (unsigned long long)s1.speculation_failures);
            cim_layer_info info;
            cim_layer_info_get(L1, &info);
            if (variant == 2 && !info.flipped_columns)
                fail_msg("no column was stored complemented");
            if (!noisy) {
                scaled_counters(&s1, &s2, 2);
            }
            cim_layer_free(ctx, L1);
            cim_layer_free(ctx, L2);
        }
        cim_ctx_destroy(ctx);
    }
}

/* Narrow layers (fewer channels than a vector holds: the ADC stage gathers
 * whole rows into one block) compute what their columns compute in a wide
 * layer: noise off, a narrow layer of n columns against those columns
 * repeated 16 times (exactly 16 times its counters and histogram, the same
 * psums in every copy); with noise (keyed by channel), against a wide layer
 * whose first n columns are the narrow layer's (the same psums there). With
 * speculation failures, recoveries and signed_split's two phases. */
static void test_narrow_like_wide(void **state)
{
    (void)state;
    enum { K = 40, M = 70, REP = 16, WIDE = 19 };
    static const int ns[] = {2, 3, 7, 15};
    cim_ctx *ctx = tu_ctx();
    tu_rng r = {29};
    static uint8_t x[M * K];
    for (int i = 0; i < M * K; i++)
        x[i] = (uint8_t)tu_range(&r, 0, 255);
    for (size_t in = 0; in < sizeof ns / sizeof ns[0]; in++) {
        const int n = ns[in], nw = n * REP;
        int8_t *w = malloc((size_t)K * (size_t)n), *wr = malloc((size_t)K * (size_t)nw);
        int8_t *ww = malloc((size_t)K * WIDE);
        int32_t *p = malloc(sizeof(int32_t) * (size_t)M * (size_t)n);
        int32_t *pr = malloc(sizeof(int32_t) * (size_t)M * (size_t)nw), *pw = malloc(sizeof(int32_t) * M * WIDE);
        assert_true(w && wr && ww && p && pr && pw);
        for (int k = 0; k < K; k++) {
            for (int j = 0; j < n; j++)
                w[k * n + j] = (int8_t)(tu_range(&r, 0, 1) ? tu_range(&r, 60, 127) : -tu_range(&r, 60, 128));
            for (int j = 0; j < nw; j++)
                wr[k * nw + j] = w[k * n + j % n];
            for (int j = 0; j < WIDE; j++)
                ww[k * WIDE + j] = j < n ? w[k * n + j] : (int8_t)tu_range(&r, -128, 127);
        }
        for (int noisy = 0; noisy <= 1; noisy++) {
            cim_xbar_config c;
            split_config(ctx, noisy, &c);
            cim_stats s, sr, sw;
            cim_weights a = {w, CIM_INT8, K, n, NULL}, b = {wr, CIM_INT8, K, nw, NULL}, d = {ww, CIM_INT8, K, WIDE, NULL};
            cim_layer *La = NULL, *Lb = NULL, *Ld = NULL;
            assert_int_equal(cim_layer_program(ctx, &c, &a, 3, NULL, &La), CIM_OK);
            assert_int_equal(cim_layer_program(ctx, &c, &b, 3, NULL, &Lb), CIM_OK);
            assert_int_equal(cim_layer_program(ctx, &c, &d, 3, NULL, &Ld), CIM_OK);
            assert_int_equal(cim_layer_run(ctx, La, x, M, p, &s, NULL), CIM_OK);
            assert_int_equal(cim_layer_run(ctx, Lb, x, M, pr, &sr, NULL), CIM_OK);
            assert_int_equal(cim_layer_run(ctx, Ld, x, M, pw, &sw, NULL), CIM_OK);
            if (s.speculation_failures < 10)
                fail_msg("n = %d: only %llu failed speculations", n, (unsigned long long)s.speculation_failures);
            for (int m = 0; m < M; m++)
                for (int j = 0; j < n; j++) {
                    if (p[m * n + j] != pw[m * WIDE + j])
                        fail_msg("n = %d, noise %d: vector %d channel %d: narrow %d, wide %d", n, noisy, m, j,
                                 p[m * n + j], pw[m * WIDE + j]);
                    for (int q = 0; !noisy && q < REP; q++)
                        if (p[m * n + j] != pr[m * nw + q * n + j])
                            fail_msg("n = %d: vector %d channel %d: narrow %d, copy %d %d", n, m, j, p[m * n + j], q,
                                     pr[m * nw + q * n + j]);
                }
            if (!noisy) {
                scaled_counters(&s, &sr, REP);
            }
            cim_layer_free(ctx, La);
            cim_layer_free(ctx, Lb);
            cim_layer_free(ctx, Ld);
        }
        free(w);
        free(wr);
        free(ww);
        free(p);
        free(pr);
        free(pw);
    }
    cim_ctx_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_success_and_recovery),
        cmocka_unit_test(test_recovery_still_saturates),
        cmocka_unit_test(test_uneven_recovery),
        cmocka_unit_test(test_flip_with_speculation),
        cmocka_unit_test(test_raella_counts),
        cmocka_unit_test(test_dense_recovery_exact),
        cmocka_unit_test(test_one_column_like_two),
        cmocka_unit_test(test_narrow_like_wide),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
