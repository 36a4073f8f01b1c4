/* test_noise.c: gaussian_colsum noise (semantics.md section 8): the same seed
 * gives the same bits for any thread count, batch split and kernel; another
 * seed gives other bits; and the error has mean 0 and variance E^2 (N+ + N-). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <Random123/philox.h>
#include "testutil.h"
#include "lib/noise_impl.h"
#include "kernels/stage.h"

enum { K = 300, N = 70, M = 67 };

static int8_t W[K * N];
static uint8_t X[M * K];

static void fill(void) { tu_fill_layer(77, K, N, M, W, X); }

static cim_ctx *ctx_with(const char *kernel, int threads) { return tu_ctx_with(kernel, threads); }

/* Run vectors [m0, m0 + mc) of X with the given preset and noise. */
static void run_part(cim_ctx *ctx, const char *preset, double level, uint64_t seed, int m0, int mc, int32_t *out,
                     cim_stats *st)
{
    cim_xbar_config c;
    tu_noisy_preset(ctx, preset, level, seed, &c);
    c.rows = 128; /* several chunks */
    cim_weights w = {W, CIM_INT8, K, N, NULL};
    cim_layer *L = NULL;
    assert_int_equal(cim_layer_program(ctx, &c, &w, 5, NULL, &L), CIM_OK);
    cim_run_options ro;
    cim_run_options_default(&ro);
    ro.vector_offset = (uint64_t)m0;
    assert_int_equal(cim_layer_run(ctx, L, X + (size_t)m0 * K, mc, out + (size_t)m0 * N, st, &ro), CIM_OK);
    cim_layer_free(ctx, L);
}

static void test_same_seed_same_bits(void **state)
{
    (void)state;
    fill();
    static int32_t ref[M * N], got[M * N];
    const char *presets[] = {"raella", "isaac", "zero-offset"};
    for (int p = 0; p < 3; p++) {
        cim_stats st_ref, st;
        cim_ctx *c1 = ctx_with("ref", 1);
        run_part(c1, presets[p], 0.08, 1234, 0, M, ref, &st_ref);
        cim_ctx_destroy(c1);
        /* every supported kernel, 2 threads, and a batch split at odd places */
        for (const char *const *k = cim_kernel_names(); *k; k++) {
            if (cim_kernel_supported(*k) != 1)
                continue;
            for (int threads = 1; threads <= 2; threads++) {
                cim_ctx *ctx = ctx_with(*k, threads);
                memset(got, 0, sizeof got);
                run_part(ctx, presets[p], 0.08, 1234, 0, M, got, &st);
                assert_memory_equal(got, ref, sizeof ref);
                assert_memory_equal(&st, &st_ref, sizeof st);
                memset(got, 0, sizeof got);
                cim_stats a, b, c;
                run_part(ctx, presets[p], 0.08, 1234, 0, 13, got, &a);
                run_part(ctx, presets[p], 0.08, 1234, 13, 40, got, &b);
                run_part(ctx, presets[p], 0.08, 1234, 53, M - 53, got, &c);
                assert_memory_equal(got, ref, sizeof ref);
                cim_stats_add(&a, &b);
                cim_stats_add(&a, &c);
                assert_memory_equal(&a, &st_ref, sizeof a);
                cim_ctx_destroy(ctx);
            }
        }
        /* another seed changes the result */
        cim_ctx *ctx = ctx_with(NULL, 0);
        run_part(ctx, presets[p], 0.08, 1235, 0, M, got, &st);
        assert_true(memcmp(got, ref, sizeof ref) != 0);
        /* noise level 0 is the noise-free result */
        static int32_t clean[M * N];
        run_part(ctx, presets[p], 0.0, 1234, 0, M, clean, &st);
        cim_xbar_config c;
        cim_config_preset(ctx, presets[p], &c);
        c.rows = 128;
        cim_weights w = {W, CIM_INT8, K, N, NULL};
        cim_layer *L = NULL;
        assert_int_equal(cim_layer_program(ctx, &c, &w, 5, NULL, &L), CIM_OK);
        assert_int_equal(cim_layer_run(ctx, L, X, M, got, &st, NULL), CIM_OK);
        assert_memory_equal(got, clean, sizeof clean);
        cim_layer_free(ctx, L);
        cim_ctx_destroy(ctx);
    }
}

/* One column sum per psum (one chunk, 8-bit slices, wide ADC): the error is
 * round(S + E sqrt(N+ + N-) z) - S, whose normalised value e / sigma must be
 * ~N(0, 1 + 1/(12 sigma^2)). */
static void test_error_statistics(void **state)
{
    (void)state;
    enum { KK = 64, NN = 256, MM = 256 };
    static int8_t w[KK * NN];
    static uint8_t x[MM * KK];
    static int32_t p[MM * NN], e[MM * NN];
    tu_rng r = {5};
    for (int i = 0; i < KK * NN; i++)
        w[i] = (int8_t)tu_range(&r, -60, 60);
    for (int i = 0; i < MM * KK; i++)
        x[i] = (uint8_t)tu_range(&r, 0, 80);
    cim_ctx *ctx = tu_ctx();
    for (int enc = 1; enc <= 2; enc++) {
        cim_xbar_config c;
        cim_config_default(&c);
        c.rows = KK;
        c.cols = NN;
        c.encoding = (cim_encoding)enc;
        c.cell_bits = c.dac_bits = 8;
        c.n_weight_slices = c.n_input_slices = 1;
        c.weight_slices[0] = c.input_slices[0] = 8;
        c.adc.bits = 24;
        c.noise.model = CIM_NOISE_GAUSSIAN_COLSUM;
        c.noise.level = 0.05;
        c.noise.seed = 99;
        cim_weights wt = {w, CIM_INT8, KK, NN, NULL};
        cim_layer *L = NULL;
        assert_int_equal(cim_layer_program(ctx, &c, &wt, 0, NULL, &L), CIM_OK);
        cim_stats st;
        assert_int_equal(cim_layer_run(ctx, L, x, MM, p, &st, NULL), CIM_OK);
        assert_int_equal(cim_layer_run_exact(ctx, L, x, MM, e), CIM_OK);
        const int16_t *phi = cim_layer_centers(L);
        double s1 = 0, s2 = 0;
        int n = 0;
        for (int m = 0; m < MM; m++)
            for (int j = 0; j < NN; j++) {
                double nabs = 0; /* N+ + N- = sum_k x |w' - phi| */
                for (int k = 0; k < KK; k++)
                    nabs += x[m * KK + k] * fabs((double)w[k * NN + j] - (phi ? phi[j] : 0));
                double sigma = c.noise.level * sqrt(nabs);
                if (sigma < 3)
                    continue;
                double z = (p[m * NN + j] - e[m * NN + j]) / sigma;
                s1 += z;
                s2 += z * z;
                n++;
            }
        assert_true(n > 30000);
        double mean = s1 / n, var = s2 / n - mean * mean;
        print_message("encoding %d: n=%d mean %.4f var %.4f\n", enc, n, mean, var);
        assert_true(fabs(mean) < 5.0 / sqrt(n));
        /* var = 1 + rounding (<= 1/(12*9)) within sampling error */
        assert_true(var > 1.0 - 6 * sqrt(2.0 / n) && var < 1.0 + 1.0 / 108 + 6 * sqrt(2.0 / n));
        cim_layer_free(ctx, L);
    }
    cim_ctx_destroy(ctx);
}

/* 32- and 64-bit accumulation give the same bits, noise on and off, for the
 * presets and for combinations they do not use (flip with speculation, dropped
 * LSBs, signed_split). */
static void test_accumulator_widths(void **state)
{
    (void)state;
    fill();
    static int32_t a[M * N], b[M * N];
    cim_ctx *ctx = ctx_with(NULL, 2);
    for (int p = 0; p < 7; p++)
        for (int noise = 0; noise <= 1; noise++) {
            cim_xbar_config c;
            const char *base = p < 4 ? (const char *[]){"raella", "isaac", "raella-nospec", "zero-offset"}[p]
                                     : p == 4 ? "isaac" : "raella";
            assert_int_equal(cim_config_preset(ctx, base, &c), CIM_OK);
            if (p == 4) { /* ISAAC's flip with dynamic input slicing and a small ADC */
                c.speculation = 1;
                c.dac_bits = 2;
                c.n_input_slices = 4;
                for (int i = 0; i < 4; i++)
                    c.input_slices[i] = 2;
                c.adc.bits = 6;
            }
            if (p == 5) { /* signed inputs and dropped LSBs */
                c.zx = 100;
                c.adc.drop_lsbs = 1;
            }
            if (p == 6) { /* flip and drop_lsbs, static slicing */
                c.encoding = CIM_ENC_OFFSET;
                c.flip = 1;
                c.speculation = 0;
                c.n_input_slices = 2;
                c.input_slices[0] = c.input_slices[1] = 4;
                c.adc.bits = 8;
                c.adc.is_signed = 0;
                c.adc.drop_lsbs = 2;
            }
            c.noise.model = noise ? CIM_NOISE_GAUSSIAN_COLSUM : CIM_NOISE_NONE;
            c.noise.level = 0.1;
            c.noise.seed = 3;
            if (p == 2)
                c.adc.drop_lsbs = 1;
            cim_weights w = {W, CIM_INT8, K, N, NULL};
            cim_layer *L = NULL;
            assert_int_equal(cim_layer_program(ctx, &c, &w, 1, NULL, &L), CIM_OK);
            cim_run_options ro;
            cim_run_options_default(&ro);
            cim_stats sa, sb;
            assert_int_equal(cim_layer_run(ctx, L, X, M, a, &sa, &ro), CIM_OK);
            ro.wide_accumulators = 1;
            assert_int_equal(cim_layer_run(ctx, L, X, M, b, &sb, &ro), CIM_OK);
            assert_memory_equal(a, b, sizeof a);
            assert_memory_equal(&sa, &sb, sizeof sa);
            if (p == 4)
                assert_true(sa.speculation_failures > 0);
            cim_layer_free(ctx, L);
        }
    cim_ctx_destroy(ctx);
}

/* cim_philox4x32_10 hands counter and key to Random123 in its word order and
 * returns the words in order (compared with the library on random inputs), and
 * it reproduces Random123's published known answer (kat_vectors). */
static void test_philox_is_random123(void **state)
{
    (void)state;
    tu_rng r = {17};
    for (int t = 0; t < 100000; t++) {
        uint32_t x[4];
        philox4x32_ctr_t ctr;
        philox4x32_key_t key;
        for (int i = 0; i < 4; i++)
            x[i] = ctr.v[i] = (uint32_t)tu_next(&r);
        key.v[0] = (uint32_t)tu_next(&r);
        key.v[1] = (uint32_t)tu_next(&r);
        philox4x32_ctr_t want = philox4x32(ctr, key);
        cim_philox4x32_10(x, key.v[0], key.v[1]);
        for (int i = 0; i < 4; i++)
            if (x[i] != want.v[i])
                fail_msg("trial %d word %d: %08x, Random123 %08x", t, i, x[i], want.v[i]);
    }
    /* Random123's published known answer for philox4x32_10 with counter and key
     * of all 0xffffffff (kat_vectors) */
    uint32_t x[4] = {0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu};
    cim_philox4x32_10(x, 0xffffffffu, 0xffffffffu);
    assert_int_equal(x[0], 0x408f276du);
    assert_int_equal(x[1], 0x41c83b0eu);
    assert_int_equal(x[2], 0xa20bc7c6u);
    assert_int_equal(x[3], 0x6d5451fdu);
}

/* Recovery normals (one Philox block per failure and four recovery slices):
 * each slice's normals have mean 0 and variance 1, slices of the same failure
 * are uncorrelated, and slice r follows the documented layout (block r / 4,
 * words 0-1 for r % 4 < 2, cos for even r). */
static void test_recovery_normals(void **state)
{
    (void)state;
    enum { C = 20000, NR = 7 };
    static uint64_t vec[C];
    static uint32_t ch[C];
    static float z[NR * C];
    tu_rng r = {5};
    for (int f = 0; f < C; f++) {
        vec[f] = tu_next(&r) & 0xffffffffffffull;
        ch[f] = (uint32_t)tu_range(&r, 0, 100000);
    }
    cim_noise_key k = {1234, 3, 0, 2, 1, 0x100u | 1u << 4, 0};
    cim_noise_recovery_impl(&k, vec, ch, C, NR, z);
    for (int a = 0; a < NR; a++) {
        double m = 0, v = 0;
        for (int f = 0; f < C; f++)
            m += z[a * C + f];
        m /= C;
        for (int f = 0; f < C; f++)
            v += (z[a * C + f] - m) * (z[a * C + f] - m);
        v /= C - 1;
        if (fabs(m) > 5.0 / sqrt(C) || fabs(v - 1) > 0.05)
            fail_msg("recovery slice %d: mean %g variance %g", a, m, v);
        for (int b = 0; b < a; b++) {
            double cov = 0;
            for (int f = 0; f < C; f++)
                cov += z[a * C + f] * z[b * C + f];
            if (fabs(cov / C) > 5.0 / sqrt(C))
                fail_msg("recovery slices %d and %d correlate: %g", a, b, cov / C);
        }
    }
    for (int f = 0; f < C; f += 997) { /* slice 5: block 1, words 0 and 1, sine */
        cim_noise_key kb = k;
        kb.islice |= 1u;
        kb.vector = vec[f];
        uint32_t c[4];
        cim_noise_ctr(&kb, c);
        c[1] = ch[f];
        cim_philox4x32_10(c, (uint32_t)k.seed, (uint32_t)(k.seed >> 32));
        float cz, sz;
        cim_det_sincosf_turn(c[1], &cz, &sz);
        double want = cim_det_radiusf(c[0]) * sz;
        if (z[5 * C + f] != want)
            fail_msg("failure %d slice 5: %.17g, layout gives %.17g", f, z[5 * C + f], want);
    }
}

/* The single-precision log and sincos behind the normals are accurate. */
static void test_transcendentals(void **state)
{
    (void)state;
    double worst_log = 0, worst_trig = 0;
    for (uint32_t w = 0; w < 0xffffff00u; w += 65521u) {
        float u = ((float)(int32_t)(w >> 8) + 0.5f) * (1.0f / 16777216.0f);
        worst_log = fmax(worst_log, fabs(cim_det_logf(u) - log((double)u)));
        float c, s;
        cim_det_sincosf_turn(w, &c, &s);
        double ang = 6.283185307179586 * (((double)(w >> 30) + ((double)((w >> 8) & 0x3fffffu) + 0.5) / 4194304.0) / 4.0);
        worst_trig = fmax(worst_trig, fmax(fabs(c - cos(ang)), fabs(s - sin(ang))));
    }
    print_message("max |log error| %.2e, max |sin/cos error| %.2e\n", worst_log, worst_trig);
    assert_true(worst_log < 4e-6);  /* |ln u| <= 17: a few float ulps */
    assert_true(worst_trig < 1e-6);
}

/* The stage of kernel `name`, or NULL when this CPU cannot run it. */
/* Every ISA's noise stage gives the tile of normals bit for bit as the
 * portable generator does row by row, for wide tiles and for the narrow ones
 * (a depthwise convolution's single column) that the AVX-512 stage draws
 * across rows, including vector indices that cross a 2^32 boundary. */
static void test_noise_tile_all_stages(void **state)
{
    (void)state;
    static const int rows_list[] = {1, 5, 16, 17, 40};
    static const uint32_t n0_list[] = {0, 1, 3, 6, 130};
    static const int count_list[] = {1, 2, 3, 5, 9, 64, 70};
    static const uint64_t vbase[] = {0, 0xfffffff5ull, 123456789012ull};
    enum { LD = 80 };
    static float got[40 * LD], want[40 * LD];
    static const char *const names[] = {"ref", "avx2", "avx512", "avx512vbmi"};
    int checked = 0;
    for (int s = 0; s < 4; s++) {
        const cim_stage *st = tu_stage(names[s]);
        if (!st)
            continue; /* not on this CPU */
        for (size_t a = 0; a < sizeof rows_list / sizeof *rows_list; a++)
            for (size_t b = 0; b < sizeof n0_list / sizeof *n0_list; b++)
                for (size_t c = 0; c < sizeof count_list / sizeof *count_list; c++)
                    for (size_t v = 0; v < sizeof vbase / sizeof *vbase; v++) {
                        cim_noise_key k = {99, 7, vbase[v], 3, 2, 1, 1};
                        const int rows = rows_list[a], count = count_list[c];
                        for (int r = 0; r < rows; r++) {
                            cim_noise_key kr = k;
                            kr.vector = k.vector + (uint64_t)r;
                            cim_noise_row_impl(&kr, n0_list[b], count, want + r * LD);
                        }
                        st->noise_tile(&k, rows, n0_list[b], count, got, LD);
                        for (int r = 0; r < rows; r++)
                            if (memcmp(got + r * LD, want + r * LD, (size_t)count * sizeof(float)) != 0)
                                fail_msg("stage %s rows %d n0 %u count %d vector %llu: row %d differs", names[s],
                                         rows, n0_list[b], count, (unsigned long long)vbase[v], r);
                        checked++;
                    }
    }
    assert_true(checked >= 525); /* at least the reference stage */
}

/* The noisy ADC (adc_row_body.inc) rounds S~ = S + nz, nz = E sqrt(N) z in
 * single precision, exactly: every stage against round-half-even of the same
 * sum in long double (64-bit mantissa: S + nz is exact there), for t = 0..6,
 * with exact ties (nz = k + 1/2 at t = 0; rem = 2^(t-1) and nz integral
 * otherwise) and random sums, counts and normals. */
static void test_noisy_adc_rounding(void **state)
{
    (void)state;
    enum { NT = 256 };
    static const char *const names[] = {"ref", "avx2", "avx512", "avx512vbmi"};
    int32_t S[NT], na[NT];
    float z[NT];
    int64_t acc[NT];
    uint16_t fail[NT];
    int checked = 0;
    uint64_t rng = 12345;
    for (int s = 0; s < 4; s++) {
        const cim_stage *st = tu_stage(names[s]);
        if (!st)
            continue; /* not on this CPU */
        for (int t = 0; t <= 6; t++)
            for (int round = 0; round < 40; round++) {
                const double level = round < 20 ? 1.0 : 0.04;
                for (int i = 0; i < NT; i++) {
                    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
                    const uint32_t r = (uint32_t)(rng >> 32);
                    const int32_t base = (int32_t)(r % 4001u) - 2000;
                    if (round < 20) { /* E = 1, N = 1: nz = z, ties on purpose */
                        na[i] = 1;
                        const int k = (int)(r >> 12) % 9 - 4;
                        const float frac[4] = {0.5f, -0.5f, 0.0f, 0.25f};
                        z[i] = (float)k + (t == 0 ? frac[(r >> 20) & 3] : 0.0f);
                        /* rem = 2^(t-1) for half of them */
                        S[i] = t && (r & 0x100) ? (int32_t)((uint32_t)base << t) + (1 << (t - 1)) - k : base;
                    } else {
                        na[i] = (int32_t)(r % 100000u);
                        z[i] = (float)((int32_t)(r >> 8) % 12000) / 2000.0f;
                        S[i] = (int32_t)(r % 2000001u) - 1000000;
                    }
                    acc[i] = 0;
                }
                cim_adc_row a = {-(1 << 24), (1 << 24) - 1, t, 1, NULL, 0, level, CIM_HIST_NO_PAIRS, 0, NULL, NULL, NULL, {0, 0, 0, 0, 0, 0, 0}, 0};
                cim_adc_counts cnt = {0, 0};
                st->adc_tile(&a, NULL, 1, NT, S, na, z, NT, acc, NT, fail, NT, NULL, NULL, &cnt);
                for (int i = 0; i < NT; i++) {
                    const float nz = (float)level * sqrtf((float)na[i]) * z[i];
                    const long double y = ((long double)S[i] + (long double)nz) / (long double)(1 << t);
                    long double q = floorl(y);
                    const long double rest = y - q;
                    if (rest > 0.5L || (rest == 0.5L && fmodl(q, 2.0L) != 0.0L))
                        q += 1.0L;
                    const int64_t want = (int64_t)q * ((int64_t)1 << t);
                    if (acc[i] != want)
                        fail_msg("stage %s t %d: S %d N %d z %.9g: got %lld, want %lld", names[s], t, S[i], na[i],
                                 (double)z[i], (long long)acc[i], (long long)want);
                }
                checked++;
            }
    }
    assert_true(checked >= 280);
}

/* The ADC stage over a tile of narrow rows (2 to 64 columns: it packs up to
 * 256 / count rows into one block) gives what one call per row gives: the same
 * accumulators, failed speculations listed in the same order, the same
 * counts and histogram. Every stage; noise off (t 0 with speculation, t 2,
 * provably in range), Box-Muller noise with speculation, the physical
 * models' deviation with noise, and complemented columns (ISAAC's flip, each
 * row its own constant) without and with noise; widths not a multiple of 8
 * (20, 6, 10, 3: copied and listed sum by sum), a width it does not pack (72)
 * for contrast, and one column (gathered across rows, complemented or not).
 * A third of the rows are all zero (the tile call skips them, one-row calls
 * do not): some with N+ + N- not zero (noise must still
 * move them), some with a complemented-column constant (not skippable), and
 * an unsigned ADC (0 is qmin: flagged, so each zero counts as a saturation,
 * and with speculation each zero is a failure, listed) in modes 7 and 8.
 * Narrow tiles run again at row stride = width (as a run lays them out,
 * cim__tile_ld), zero rows only in their first half: blocks of whole rows
 * side by side convert in place, without copies. */
static void test_tile_like_rows(void **state)
{
    (void)state;
    enum { LD = 80, RMAX = 70, NB = 64 };
    static const char *const names[] = {"ref", "avx2", "avx512", "avx512vbmi"};
    static const int shapes[][2] = {{2, 8}, {33, 8}, {70, 16}, {17, 32}, {9, 64}, {5, 24}, {23, 40}, {5, 20}, {3, 72}, {10, 72}, {8, 20}, {70, 1}, {2, 1}, {33, 6}, {9, 10}, {4, 3}};
    static int32_t S[RMAX * LD], na[RMAX * LD];
    static float z[RMAX * LD], dev[RMAX * LD];
    static int64_t acc[RMAX * LD], want[RMAX * LD];
    static uint16_t fail[RMAX * LD + 8], wfail[RMAX * LD + 8], rfail[LD + 8];
    static uint32_t hist[CIM_HIST_TABLE], whist[CIM_HIST_TABLE];
    uint64_t bits[NB], wbits[NB];
    static uint8_t flips[LD];
    static int64_t ftot[RMAX];
    static int32_t Sc[RMAX * LD], nac[RMAX * LD];
    static float zc[RMAX * LD], devc[RMAX * LD];
    static int64_t accc[RMAX * LD];
    tu_rng rng = {31};
    int compared = 0, failures = 0, zero_rows = 0, compact_tiles = 0;
    for (int s = 0; s < 4; s++) {
        const cim_stage *st = tu_stage(names[s]);
        if (!st)
            continue; /* not on this CPU */
        for (size_t h = 0; h < 2 * (sizeof shapes / sizeof *shapes); h++)
            for (int mode = 0; mode < 9; mode++) {
                const int rows = shapes[h / 2][0], count = shapes[h / 2][1], compact = (int)(h & 1);
                if (compact && (count > 64 || count < 2 || rows < 2))
                    continue;
                /* modes 5 and 6: complemented columns (ISAAC's flip), noise off
                 * provably in range, and Box-Muller noise */
                const int flip = mode == 5 || mode == 6 || mode == 7, inr = mode == 2 || mode == 5;
                const int noisy = mode == 3 || mode == 4 || mode == 6;
                const int32_t span = inr ? 60 : 300;
                for (int i = 0; i < RMAX * LD; i++) {
                    S[i] = tu_range(&rng, -span, span);
                    na[i] = (S[i] < 0 ? -S[i] : S[i]) + tu_range(&rng, 0, 5000);
                    z[i] = (float)tu_range(&rng, -3000, 3000) / 1000.0f;
                    dev[i] = (float)tu_range(&rng, -2000, 2000) / 1000.0f;
                    acc[i] = want[i] = tu_range(&rng, -100000, 100000);
                }
                for (int r = 0; r < RMAX; r++)
                    if (r % 3 == 1 && (!compact || r < rows / 2)) { /* all-zero rows; every sixth with N+ + N- left nonzero */
                        memset(S + (size_t)r * LD, 0, LD * sizeof *S);
                        if (r % 6 != 4)
                            memset(na + (size_t)r * LD, 0, LD * sizeof *na);
                    }
                cim_adc_row a = {-64, 63, mode == 1 ? 2 : 0, mode == 1 ? 4 : -2, flip ? flips : NULL,
                                 mode == 0 || mode == 3 || mode == 8, noisy ? 0.04 : 0.0, CIM_HIST_NO_PAIRS, inr,
                                 mode == 4 ? dev : NULL, NULL, NULL, {0, 0, 0, 0, 0, 0, 0}, 0};
                if (mode == 1) { /* t = 2: the codes cover S up to 4 x 63 */
                    a.qmin = -16;
                    a.qmax = 15;
                }
                if (mode >= 7) { /* unsigned 8-bit codes: 0 is qmin */
                    a.qmin = 0;
                    a.qmax = 255;
                }
                memset(hist, 0, sizeof hist);
                memset(whist, 0, sizeof whist);
                memset(bits, 0, sizeof bits);
                memset(wbits, 0, sizeof wbits);
                cim_adc_counts cnt = {0, 0}, wcnt = {0, 0};
                for (int i = 0; i < LD; i++)
                    flips[i] = (uint8_t)tu_range(&rng, 0, 1);
                for (int r = 0; r < RMAX; r++) /* a zero row's constant is 0 but for every ninth row */
                    ftot[r] = r % 3 == 1 && r % 9 != 7 ? 0 : tu_range(&rng, 1, 100000);
                for (int r = 1; r < rows; r += 3)
                    zero_rows += !compact || r < rows / 2;
                const int64_t *ft = flip ? ftot : NULL;
                int nf;
                if (compact) { /* rows count apart: S, N+ + N-, normals, deviations and sums */
                    const size_t cb = (size_t)count;
                    tu_restride(Sc, cb, S, LD, rows, count, sizeof *S);
                    tu_restride(nac, cb, na, LD, rows, count, sizeof *na);
                    tu_restride(zc, cb, z, LD, rows, count, sizeof *z);
                    tu_restride(devc, cb, dev, LD, rows, count, sizeof *dev);
                    tu_restride(accc, cb, acc, LD, rows, count, sizeof *acc);
                    cim_adc_row ac = a;
                    ac.dev = a.dev ? devc : NULL;
                    nf = st->adc_tile(&ac, ft, rows, count, Sc, nac, zc, (size_t)count, accc, (size_t)count, fail, LD,
                                      hist, bits, &cnt);
                    tu_restride(acc, LD, accc, cb, rows, count, sizeof *acc);
                    compact_tiles++;
                } else {
                    nf = st->adc_tile(&a, ft, rows, count, S, na, z, LD, acc, LD, fail, LD, hist, bits, &cnt);
                }
                int nw = 0;
                for (int r = 0; r < rows; r++) {
                    cim_adc_row ar = a;
                    ar.dev = a.dev ? a.dev + (size_t)r * LD : NULL;
                    const size_t o = (size_t)r * LD;
                    const int k = st->adc_tile(&ar, ft ? ft + r : NULL, 1, count, S + o, na + o, z + o, LD, want + o,
                                               LD, rfail, LD, whist, wbits, &wcnt);
                    for (int f = 0; f < k; f++)
                        wfail[nw++] = (uint16_t)(o + rfail[f]);
                }
                for (int i = 0; i < RMAX * LD; i++)
                    if (acc[i] != want[i])
                        fail_msg("stage %s %d x %d mode %d: sum %d: tile %lld, rows %lld", names[s], rows, count, mode,
                                 i, (long long)acc[i], (long long)want[i]);
                assert_int_equal(nf, nw);
                for (int f = 0; f < nf; f++)
                    if (fail[f] != wfail[f])
                        fail_msg("stage %s %d x %d mode %d: failure %d: tile %d, rows %d", names[s], rows, count, mode,
                                 f, fail[f], wfail[f]);
                assert_int_equal(cnt.saturations, wcnt.saturations);
                assert_int_equal(cnt.clips, wcnt.clips);
                for (int b = 0; b < CIM_HIST_SLOTS; b++) { /* the ways' sums: which way counts a sum may differ */
                    uint64_t got = 0, exp = 0;
                    for (int wy = 0; wy < CIM_HIST_WAYS; wy++) {
                        got += hist[wy * CIM_HIST_SLOTS + b];
                        exp += whist[wy * CIM_HIST_SLOTS + b];
                    }
                    assert_int_equal(got, exp);
                }
                assert_memory_equal(bits, wbits, sizeof bits);
                failures += nf;
                compared++;
            }
    }
    assert_true(compared >= 50);
    assert_true(failures > 100); /* the speculation modes did fail */
    assert_true(zero_rows > 300);
    assert_true(compact_tiles >= 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_seed_same_bits),
        cmocka_unit_test(test_error_statistics),
        cmocka_unit_test(test_accumulator_widths),
        cmocka_unit_test(test_philox_is_random123),
        cmocka_unit_test(test_recovery_normals),
        cmocka_unit_test(test_transcendentals),
        cmocka_unit_test(test_noise_tile_all_stages),
        cmocka_unit_test(test_noisy_adc_rounding),
        cmocka_unit_test(test_tile_like_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
