/* test_adc.c: small hand-computed cases for the ADC (semantics.md section 6):
 * saturation flags versus true clips, round-half-even with drop_lsbs, signed
 * and unsigned ranges, and ISAAC's flip (section 3). */
#include <string.h>
#include "testutil.h"

/* A config where each psum is one column sum: one chunk, one 8-bit weight
 * slice, one 8-bit input slice, so psum = q * 2^t exactly. */
static void one_colsum_config(cim_xbar_config *c, int bits, int is_signed, int t)
{
    cim_config_default(c);
    c->rows = 16;
    c->cols = 16;
    c->encoding = CIM_ENC_DIFFERENTIAL;
    c->cell_bits = 8;
    c->dac_bits = 8;
    c->n_weight_slices = 1;
    c->weight_slices[0] = 8;
    c->n_input_slices = 1;
    c->input_slices[0] = 8;
    c->adc.bits = bits;
    c->adc.is_signed = is_signed;
    c->adc.drop_lsbs = t;
}

/* psum of x . w (K = 2, N = 1) under cfg, with the run's stats. */
static int32_t run2(cim_ctx *ctx, const cim_xbar_config *cfg, int w0, int w1, int x0, int x1, cim_stats *st)
{
    int8_t w[2] = {(int8_t)w0, (int8_t)w1};
    uint8_t x[2] = {(uint8_t)x0, (uint8_t)x1};
    cim_weights wt = {w, CIM_INT8, 2, 1, NULL};
    cim_layer *L = NULL;
    assert_int_equal(cim_layer_program(ctx, cfg, &wt, 0, NULL, &L), CIM_OK);
    int32_t p = 0x7fffffff;
    assert_int_equal(cim_layer_run(ctx, L, x, 1, &p, st, NULL), CIM_OK);
    cim_layer_free(ctx, L);
    return p;
}

static void test_saturation_flag_vs_clip(void **state)
{
    (void)state;
    cim_ctx *ctx = tu_ctx();
    cim_xbar_config c;
    cim_stats st;
    one_colsum_config(&c, 4, 1, 0); /* codes -8..7 */
    /* S = 3 + 4 = 7 = qmax: the flag is set (the hardware cannot tell), no clip */
    assert_int_equal(run2(ctx, &c, 1, 1, 3, 4, &st), 7);
    assert_int_equal(st.saturations, 1);
    assert_int_equal(st.true_clips, 0);
    assert_int_equal(st.adc_converts, 1);
    /* S = 9 clips to 7: flag and true clip */
    assert_int_equal(run2(ctx, &c, 1, 1, 5, 4, &st), 7);
    assert_int_equal(st.saturations, 1);
    assert_int_equal(st.true_clips, 1);
    /* S = -8 = qmin: flag, no clip; S = -10 clips to -8 */
    assert_int_equal(run2(ctx, &c, -1, -1, 4, 4, &st), -8);
    assert_int_equal(st.saturations, 1);
    assert_int_equal(st.true_clips, 0);
    assert_int_equal(run2(ctx, &c, -2, -1, 4, 2, &st), -8);
    assert_int_equal(st.true_clips, 1);
    /* S = 6: no flag */
    assert_int_equal(run2(ctx, &c, 2, 1, 2, 2, &st), 6);
    assert_int_equal(st.saturations, 0);
    /* unsigned 3-bit ADC (0..7): a negative sum clips to 0 */
    one_colsum_config(&c, 3, 0, 0);
    assert_int_equal(run2(ctx, &c, -1, 0, 3, 0, &st), 0);
    assert_int_equal(st.true_clips, 1);
    assert_int_equal(run2(ctx, &c, 1, 1, 2, 3, &st), 5);
    assert_int_equal(st.saturations, 0);
    cim_ctx_destroy(ctx);
}

static void test_drop_lsbs_round_half_even(void **state)
{
    (void)state;
    cim_ctx *ctx = tu_ctx();
    cim_xbar_config c;
    cim_stats st;
    one_colsum_config(&c, 8, 1, 1); /* step 2 */
    /* S / 2: 5/2 = 2.5 -> 2; 7/2 = 3.5 -> 4; -3/2 = -1.5 -> -2; -5/2 = -2.5 -> -2; 9/2 = 4.5 -> 4 */
    assert_int_equal(run2(ctx, &c, 1, 0, 5, 0, &st), 4);
    assert_int_equal(run2(ctx, &c, 1, 0, 7, 0, &st), 8);
    assert_int_equal(run2(ctx, &c, -1, 0, 3, 0, &st), -4);
    assert_int_equal(run2(ctx, &c, -1, 0, 5, 0, &st), -4);
    assert_int_equal(run2(ctx, &c, 1, 0, 9, 0, &st), 8);
    assert_int_equal(run2(ctx, &c, 1, 0, 6, 0, &st), 6);
    one_colsum_config(&c, 8, 1, 2); /* step 4 */
    /* 6/4 = 1.5 -> 2; 10/4 = 2.5 -> 2; 11/4 = 2.75 -> 3; 9/4 = 2.25 -> 2; -6/4 -> -2 */
    assert_int_equal(run2(ctx, &c, 1, 0, 6, 0, &st), 8);
    assert_int_equal(run2(ctx, &c, 1, 0, 10, 0, &st), 8);
    assert_int_equal(run2(ctx, &c, 1, 0, 11, 0, &st), 12);
    assert_int_equal(run2(ctx, &c, 1, 0, 9, 0, &st), 8);
    assert_int_equal(run2(ctx, &c, -1, 0, 6, 0, &st), -8);
    /* drop_lsbs widens the range: 3 signed bits at step 4 hold -16..12 */
    one_colsum_config(&c, 3, 1, 2);
    assert_int_equal(run2(ctx, &c, 1, 1, 6, 6, &st), 12);
    assert_int_equal(st.saturations, 1);
    assert_int_equal(st.true_clips, 0);
    assert_int_equal(run2(ctx, &c, 1, 1, 8, 8, &st), 12);
    assert_int_equal(st.true_clips, 1);
    cim_ctx_destroy(ctx);
}

/* ISAAC's flip: offset encoding, column values u = w + 128. Weights 127, 127
 * give u = 255: each 4-bit slice column holds 15, 15, summing past half its
 * maximum, so it is stored complemented (0, 0) and recovered digitally. With
 * a 2-bit unsigned ADC only the flipped layout survives. */
static void test_flip(void **state)
{
    (void)state;
    cim_ctx *ctx = tu_ctx();
    cim_xbar_config c;
    cim_stats st;
    cim_config_default(&c);
    c.rows = 2;
    c.cols = 8;
    c.encoding = CIM_ENC_OFFSET;
    c.cell_bits = 4;
    c.dac_bits = 1;
    c.n_weight_slices = 2;
    c.weight_slices[0] = 4;
    c.weight_slices[1] = 4;
    c.n_input_slices = 8;
    for (int i = 0; i < 8; i++)
        c.input_slices[i] = 1;
    c.adc.bits = 2;
    c.adc.is_signed = 0;
    c.flip = 1;
    int8_t w[2] = {127, 127};
    uint8_t x[2] = {0xff, 0x81};
    cim_weights wt = {w, CIM_INT8, 2, 1, NULL};
    cim_layer *L = NULL;
    assert_int_equal(cim_layer_program(ctx, &c, &wt, 0, NULL, &L), CIM_OK);
    cim_layer_info info;
    cim_layer_info_get(L, &info);
    assert_int_equal(info.flipped_columns, 2);
    assert_int_equal(info.cell_level_sum, 0); /* every stored level is 15 - 15 */
    int32_t p;
    assert_int_equal(cim_layer_run(ctx, L, x, 1, &p, &st, NULL), CIM_OK);
    assert_int_equal(p, (0xff + 0x81) * 127);
    assert_int_equal(st.true_clips, 0);
    cim_layer_free(ctx, L);

    c.flip = 0; /* the same column unflipped: sums of 15 and 30 clip at 3 */
    assert_int_equal(cim_layer_program(ctx, &c, &wt, 0, NULL, &L), CIM_OK);
    cim_layer_info_get(L, &info);
    assert_int_equal(info.flipped_columns, 0);
    assert_int_equal(info.cell_level_sum, 60);
    assert_int_equal(cim_layer_run(ctx, L, x, 1, &p, &st, NULL), CIM_OK);
    assert_true(p != (0xff + 0x81) * 127);
    assert_true(st.true_clips > 0);
    cim_layer_free(ctx, L);

    /* a column at or below half its maximum is not flipped: w = -128 -> u = 0 */
    c.flip = 1;
    int8_t w2[2] = {-128, -128};
    cim_weights wt2 = {w2, CIM_INT8, 2, 1, NULL};
    assert_int_equal(cim_layer_program(ctx, &c, &wt2, 0, NULL, &L), CIM_OK);
    cim_layer_info_get(L, &info);
    assert_int_equal(info.flipped_columns, 0);
    assert_int_equal(cim_layer_run(ctx, L, x, 1, &p, &st, NULL), CIM_OK);
    assert_int_equal(p, -(0xff + 0x81) * 128);
    cim_layer_free(ctx, L);
    cim_ctx_destroy(ctx);
}

/* A row's DAC pulses over all cycles for input byte v: ISAAC's 1-bit slices
 * (its set bits), or (spec) 4,2,2-bit speculative slices at 4-bit DACs plus
 * 1-bit recovery slices of every bit (RAELLA's schedule). */
static int row_pulses(unsigned v, int spec)
{
    return spec ? (int)((v >> 4) + ((v >> 2) & 3) + (v & 3)) + __builtin_popcount(v) : __builtin_popcount(v);
}

/* ISAAC's device activations by brute force: over vectors and rows, the row's
 * input pulses (row_pulses) times the levels of its cells in
 * every column (2-bit slices of w + 128 in 128-row chunks, a column
 * complemented where flip is on and its levels sum to more than half their
 * maximum). */
static uint64_t isaac_devact(const int8_t *w, const uint8_t *x, int M, int K, int N, int flip, int spec)
{
    uint64_t devact = 0;
    for (int m = 0; m < M; m++)
        for (int k = 0; k < K; k++) {
            int pulses = row_pulses(x[m * K + k], spec);
            uint64_t rowlevel = 0;
            int c0 = k / 128 * 128, rows = K - c0 < 128 ? K - c0 : 128;
            for (int n = 0; n < N; n++)
                for (int s = 0; s < 4; s++) {
                    int lo = 6 - 2 * s, sum = 0;
                    for (int kk = c0; kk < c0 + rows; kk++)
                        sum += ((w[kk * N + n] + 128) >> lo) & 3;
                    int v = ((w[k * N + n] + 128) >> lo) & 3;
                    rowlevel += (uint64_t)(flip && 2 * sum > rows * 3 ? 3 - v : v);
                }
            devact += (uint64_t)pulses * rowlevel;
        }
    return devact;
}

/* Uniform random int8 weights w [K x N], then uint8 inputs x [M x K] in
 * [xlo, 255], from r; returns the layer c programs from w. */
static cim_layer *random_layer(cim_ctx *ctx, const cim_xbar_config *c, tu_rng *r, int K, int N, int M, int xlo,
                               int8_t *w, uint8_t *x)
{
    for (int i = 0; i < K * N; i++)
        w[i] = (int8_t)tu_range(r, -128, 127);
    for (int i = 0; i < M * K; i++)
        x[i] = (uint8_t)tu_range(r, xlo, 255);
    cim_weights wt = {w, CIM_INT8, K, N, NULL};
    cim_layer *L = NULL;
    assert_int_equal(cim_layer_program(ctx, c, &wt, 0, NULL, &L), CIM_OK);
    return L;
}

/* Counters of a static-slicing run follow from the mapping: ISAAC on K x N. */
static void test_isaac_counts(void **state)
{
    (void)state;
    cim_ctx *ctx = tu_ctx();
    cim_xbar_config c;
    assert_int_equal(cim_config_preset(ctx, "isaac", &c), CIM_OK);
    enum { K = 300, N = 40, M = 3 };
    static int8_t w[K * N];
    static uint8_t x[M * K];
    static int32_t p[M * N];
    tu_rng r = {3};
    cim_layer *L = random_layer(ctx, &c, &r, K, N, M, 0, w, x);
    uint64_t ones = 0;
    for (int i = 0; i < M * K; i++)
        ones += (uint64_t)__builtin_popcount(x[i]);
    cim_layer_info info;
    cim_layer_info_get(L, &info);
    /* 3 chunks (128, 128, 44 rows); 32 filters of 4 columns per crossbar -> 2 per chunk */
    assert_int_equal(info.chunks, 3);
    assert_int_equal(info.filters_per_crossbar, 32);
    assert_int_equal(info.crossbars, 6);
    assert_int_equal(info.cells, (uint64_t)K * N * 4);
    assert_int_equal(info.devices, info.cells);
    cim_stats st;
    assert_int_equal(cim_layer_run(ctx, L, x, M, p, &st, NULL), CIM_OK);
    assert_int_equal(st.adc_converts, (uint64_t)M * 3 * N * 4 * 8);
    assert_int_equal(st.adc_converts_recovery, 0);
    assert_int_equal(st.macs, (uint64_t)M * K * N);
    /* each input bit that is 1 is one pulse on its row, in each of 2 crossbars */
    assert_int_equal(st.dac_pulses, ones * 2);
    assert_int_equal(st.crossbar_cycles, (uint64_t)M * 6 * 8);
    /* the histogram has one entry per conversion */
    uint64_t h = st.hist.below + st.hist.above, b = 0;
    for (int i = 0; i < CIM_HIST_BINS; i++)
        h += st.hist.bins[i];
    for (int i = 0; i < CIM_HIST_BITS; i++)
        b += st.hist.bits[i];
    assert_int_equal(h, st.adc_converts);
    assert_int_equal(b, st.adc_converts);
    /* flipped columns keep every 128-row sum of 1-bit x 2-bit products <= 3 * 64 < 256 */
    assert_int_equal(st.true_clips, 0);
    /* device activations = sum over columns of N+ + N-, checked by brute force */
    const int16_t *unused = cim_layer_centers(L);
    assert_null(unused);
    assert_int_equal(st.device_activations, isaac_devact(w, x, M, K, N, 1, 0));
    cim_layer_free(ctx, L);
    cim_ctx_destroy(ctx);
}

/* The same counters where every chunk is small (fewer than 64 rows: the
 * engine's table path, which sums a chunk's planes only where complemented
 * columns need them), with and without ISAAC's complement. */
static void test_isaac_counts_small_chunks(void **state)
{
    (void)state;
    cim_ctx *ctx = tu_ctx();
    enum { N = 40, M = 5, KMAX = 40 };
    static int8_t w[KMAX * N];
    static uint8_t x[M * KMAX];
    static int32_t p[M * N];
    const int ks[2] = {9, KMAX};
    for (int flip = 0; flip <= 1; flip++)
        for (int t = 0; t < 2; t++) {
            const int K = ks[t];
            cim_xbar_config c;
            assert_int_equal(cim_config_preset(ctx, "isaac", &c), CIM_OK);
            c.flip = flip;
            tu_rng r = {(uint64_t)(11 + 2 * t + flip)};
            cim_layer *L = random_layer(ctx, &c, &r, K, N, M, 0, w, x);
            uint64_t ones = 0;
            for (int i = 0; i < M * K; i++)
                ones += (uint64_t)__builtin_popcount(x[i]);
            cim_stats st;
            assert_int_equal(cim_layer_run(ctx, L, x, M, p, &st, NULL), CIM_OK);
            /* one chunk, 160 columns: 2 crossbars */
            assert_int_equal(st.dac_pulses, ones * 2);
            assert_int_equal(st.device_activations, isaac_devact(w, x, M, K, N, flip, 0));
            for (int m = 0; m < M; m++) /* and the products exact (an 8-bit ADC, 1-bit inputs, <= 40 rows) */
                for (int n = 0; n < N; n++) {
                    int64_t e = 0;
                    for (int k = 0; k < K; k++)
                        e += (int64_t)x[m * K + k] * w[k * N + n];
                    assert_int_equal(p[m * N + n], e);
                }
            cim_layer_free(ctx, L);
        }
    cim_ctx_destroy(ctx);
}

/* DAC pulses and device activations under RAELLA's input schedule (4,2,2-bit
 * speculative slices, every bit a 1-bit recovery slice) on ISAAC's crossbars,
 * a 100-row chunk (one byte of pulses per row: the engine counts the 1-bit
 * recovery slices' pulses as a popcount where no complemented column needs
 * each slice's own sum), with and without the complement; brute force as
 * above. */
static void test_counts_speculation_pulses(void **state)
{
    (void)state;
    cim_ctx *ctx = tu_ctx();
    enum { K = 100, N = 40, M = 6 };
    static int8_t w[K * N];
    static uint8_t x[M * K];
    static int32_t p[M * N];
    for (int flip = 0; flip <= 1; flip++) {
        cim_xbar_config c;
        assert_int_equal(cim_config_preset(ctx, "isaac", &c), CIM_OK);
        c.flip = flip;
        c.n_input_slices = 3;
        c.input_slices[0] = 4;
        c.input_slices[1] = 2;
        c.input_slices[2] = 2;
        c.dac_bits = 4;
        c.speculation = 1;
        c.recovery_bits = 1;
        tu_rng r = {(uint64_t)(41 + flip)};
        cim_layer *L = random_layer(ctx, &c, &r, K, N, M, 0, w, x);
        uint64_t pulses = 0;
        for (int i = 0; i < M * K; i++)
            pulses += (uint64_t)row_pulses(x[i], 1);
        cim_stats st;
        assert_int_equal(cim_layer_run(ctx, L, x, M, p, &st, NULL), CIM_OK);
        assert_int_equal(st.dac_pulses, pulses * 2); /* 160 columns: 2 crossbars */
        assert_int_equal(st.device_activations, isaac_devact(w, x, M, K, N, flip, 1));
        cim_layer_free(ctx, L);
    }
    cim_ctx_destroy(ctx);
}

/* DAC pulses and device activations where a row's pulses over all cycles
 * exceed a byte: one 8-bit speculative slice (up to 255 pulses) re-run as
 * eight 1-bit slices (up to 8 more) on a 100-row chunk; brute force as
 * above (the pulses of every cycle count, recovery cycles included). */
static void test_counts_wide_pulses(void **state)
{
    (void)state;
    cim_ctx *ctx = tu_ctx();
    enum { K = 100, N = 40, M = 4 };
    static int8_t w[K * N];
    static uint8_t x[M * K];
    static int32_t p[M * N];
    cim_xbar_config c;
    assert_int_equal(cim_config_preset(ctx, "isaac", &c), CIM_OK);
    c.flip = 0;
    c.n_input_slices = 1;
    c.input_slices[0] = 8;
    c.dac_bits = 8;
    c.speculation = 1;
    c.recovery_bits = 1;
    tu_rng r = {21};
    /* inputs 200-255: with their recovery bits mostly past a byte's 255 */
    cim_layer *L = random_layer(ctx, &c, &r, K, N, M, 200, w, x);
    uint64_t pulses = 0;
    for (int i = 0; i < M * K; i++)
        pulses += x[i] + (uint64_t)__builtin_popcount(x[i]);
    cim_stats st;
    assert_int_equal(cim_layer_run(ctx, L, x, M, p, &st, NULL), CIM_OK);
    assert_int_equal(st.dac_pulses, pulses * 2); /* 160 columns: 2 crossbars */
    uint64_t devact = 0;
    for (int m = 0; m < M; m++)
        for (int k = 0; k < K; k++) {
            const uint8_t v = x[m * K + k];
            uint64_t rowlevel = 0;
            for (int n = 0; n < N; n++)
                for (int sl = 0; sl < 4; sl++)
                    rowlevel += (uint64_t)(((w[k * N + n] + 128) >> (6 - 2 * sl)) & 3);
            devact += (v + (uint64_t)__builtin_popcount(v)) * rowlevel;
        }
    assert_int_equal(st.device_activations, devact);
    cim_layer_free(ctx, L);
    cim_ctx_destroy(ctx);
}

/* The column-sum histogram equals a brute-force count of every sum, bin by
 * bin, where the engine uses its pair window (an unsigned 8-bit ADC: sums in
 * [0, 255] wait as bytes and count in pairs; larger ones, here on 512-row
 * chunks, count at once), over enough sums to drain the byte buffer many
 * times, an odd column count, 1 and 2 threads and every kernel. */
static void test_histogram_exact(void **state)
{
    (void)state;
    enum { K = 700, N = 37, M = 120 };
    static int8_t w[K * N];
    static uint8_t x[M * K];
    static int32_t p[M * N];
    static uint64_t want[CIM_HIST_BINS];
    tu_rng r = {11};
    for (int i = 0; i < K * N; i++)
        w[i] = (int8_t)tu_range(&r, -128, 127);
    for (int m = 0; m < M; m++) /* dense vectors (sums past the window) and sparse ones */
        for (int k = 0; k < K; k++)
            x[m * K + k] = (uint8_t)(m % 3 == 0 || tu_range(&r, 0, 99) < 8 ? tu_range(&r, 0, 255) : 0);
    uint64_t outside = 0, total = 0;
    for (int m = 0; m < M; m++)
        for (int c0 = 0; c0 < K; c0 += 512)
            for (int s = 0; s < 4; s++)
                for (int j = 0; j < 8; j++)
                    for (int n = 0; n < N; n++) {
                        int sum = 0;
                        for (int k = c0; k < K && k < c0 + 512; k++)
                            sum += ((x[m * K + k] >> j) & 1) * ((((int)w[k * N + n] + 128) >> (6 - 2 * s)) & 3);
                        want[sum - CIM_HIST_MIN]++;
                        outside += sum > 255;
                        total++;
                    }
    assert_true(outside > total / 10 && outside < total - total / 10);
    assert_true(total - outside > 4 * 32768);
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
            assert_int_equal(cim_config_preset(ctx, "isaac", &c), CIM_OK);
            c.rows = 512;
            c.flip = 0;
            cim_weights wt = {w, CIM_INT8, K, N, NULL};
            cim_layer *L = NULL;
            assert_int_equal(cim_layer_program(ctx, &c, &wt, 0, NULL, &L), CIM_OK);
            cim_stats st;
            assert_int_equal(cim_layer_run(ctx, L, x, M, p, &st, NULL), CIM_OK);
            assert_int_equal(st.hist.below, 0);
            assert_int_equal(st.hist.above, 0);
            for (int b = 0; b < CIM_HIST_BINS; b++)
                if (st.hist.bins[b] != want[b])
                    fail_msg("%s, %d threads: bin of sum %d has %llu, brute force %llu", kernels[kk], threads,
                             b + CIM_HIST_MIN, (unsigned long long)st.hist.bins[b], (unsigned long long)want[b]);
            cim_layer_free(ctx, L);
            cim_ctx_destroy(ctx);
        }
}

/* A psum that does not fit int32 (K = 40000 rows of 255 x 255) is an error
 * naming the vector and channel, never a wrapped value. */
static void test_psum_overflow(void **state)
{
    (void)state;
    enum { K = 40000 };
    static uint8_t w[K], x[3 * K];
    memset(w, 255, sizeof w);
    memset(x, 255, sizeof x);
    memset(x, 0, 2 * K); /* vectors 0 and 1 are zero: only vector 2 overflows */
    int32_t zw = 0;
    cim_ctx *ctx = tu_ctx();
    cim_xbar_config c;
    cim_config_default(&c);
    c.encoding = CIM_ENC_DIFFERENTIAL;
    c.rows = 32768;
    c.cell_bits = c.dac_bits = 8;
    c.n_weight_slices = c.n_input_slices = 1;
    c.weight_slices[0] = c.input_slices[0] = 8;
    c.adc.bits = 24;
    c.adc.drop_lsbs = 20; /* a range of +-2^43: no clipping hides the overflow */
    cim_weights wt = {w, CIM_UINT8, K, 1, &zw};
    cim_layer *L = NULL;
    assert_int_equal(cim_layer_program(ctx, &c, &wt, 0, NULL, &L), CIM_OK);
    int32_t p[3] = {0, 0, 0};
    assert_int_equal(cim_layer_run(ctx, L, x, 3, p, NULL, NULL), CIM_ERR_RANGE);
    assert_non_null(strstr(cim_ctx_errmsg(ctx), "outside int32"));
    assert_non_null(strstr(cim_ctx_errmsg(ctx), "vector 2 channel 0")); /* the one that overflowed */
    assert_int_equal(cim_layer_run_exact(ctx, L, x, 3, p), CIM_ERR_RANGE);
    cim_layer_free(ctx, L);
    /* three channels, only the last one's weights large: vector 2, channel 2 */
    static uint8_t w3[K * 3];
    int32_t zw3[3] = {0, 0, 0};
    for (int k = 0; k < K; k++)
        w3[3 * k + 2] = 255;
    cim_weights wt3 = {w3, CIM_UINT8, K, 3, zw3};
    assert_int_equal(cim_layer_program(ctx, &c, &wt3, 0, NULL, &L), CIM_OK);
    int32_t p3[9];
    assert_int_equal(cim_layer_run(ctx, L, x, 3, p3, NULL, NULL), CIM_ERR_RANGE);
    assert_non_null(strstr(cim_ctx_errmsg(ctx), "vector 2 channel 2"));
    cim_layer_free(ctx, L);
    cim_ctx_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_saturation_flag_vs_clip),
        cmocka_unit_test(test_drop_lsbs_round_half_even),
        cmocka_unit_test(test_flip),
        cmocka_unit_test(test_isaac_counts),
        cmocka_unit_test(test_isaac_counts_small_chunks),
        cmocka_unit_test(test_counts_wide_pulses),
        cmocka_unit_test(test_counts_speculation_pulses),
        cmocka_unit_test(test_histogram_exact),
        cmocka_unit_test(test_psum_overflow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
