/* test_qnoise.c: gaussian_colsum drawn at the ADC's output (src/lib/qnoise.h):
 * the threshold table, the uniforms of every stage against Random123 itself,
 * the draw's distribution against the exact one (erfc), the rare refinement
 * words, and a whole layer against Box-Muller normals. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <Random123/philox.h>
#include "testutil.h"
#include "lib/internal.h"
#include "lib/qnoise.h"
#include "lib/layer_internal.h"
#include "lib/noise_impl.h"
#include "kernels/stage.h"

static const char *const stage_names[] = {"ref", "avx2", "avx512", "avx512vbmi"};
enum { NSTAGES = sizeof stage_names / sizeof *stage_names };

static uint64_t thr(const cim_qtab *t, int j, int na)
{
    size_t idx = (size_t)j * (size_t)t->stride + (size_t)na;
    return ((uint64_t)t->hi[idx] << 32) | t->lo[idx];
}

/* P(|Z| >= x / sigma) as the table's threshold would put it */
static double tail(double level, int na, double x) { return erfc(x / (level * sqrt((double)na) * sqrt(2.0))); }

static void test_table(void **state)
{
    (void)state;
    cim_ctx *ctx = tu_ctx();
    const double levels[] = {0.01, 0.04, 0.12, 0.25};
    for (size_t l = 0; l < sizeof levels / sizeof *levels; l++) {
        cim_qtab *t = NULL;
        assert_int_equal(cim__qtab_build(ctx, levels[l], 300, &t), CIM_OK);
        assert_non_null(t);
        assert_int_equal(t->namax, 300);
        assert_int_equal(t->stride % 64, 0);
        for (int j = 0; j < t->nthr; j++)
            for (int na = 0; na < t->stride; na++) {
                uint64_t u = thr(t, j, na);
                assert_true(u <= (uint64_t)1 << 47);
                if (na == 0 || na > 300)
                    assert_true(u == (uint64_t)1 << 47); /* no noise, and padding: out of reach */
                else {
                    /* P(V >= U) is the tail to 2^-40 */
                    double p = (double)(((uint64_t)1 << 47) - u) / ldexp(1.0, 47);
                    assert_true(fabs(p - tail(levels[l], na, j + 0.5)) < 1e-12);
                }
                if (j > 0)
                    assert_true(u >= thr(t, j - 1, na));
                if (na > 1 && na <= 300)
                    assert_true(u <= thr(t, j, na - 1));
            }
        /* reach: the thresholds below 2^47, and the byte planes: hi's two bytes */
        assert_null(t->planes); /* namax 300 > 255 */
        for (int na = 0; na <= 300; na++) {
            int r = t->reach[na];
            assert_true(r <= t->nthr);
            assert_true(r == 0 || thr(t, r - 1, na) < (uint64_t)1 << 47);
            assert_true(r == t->nthr || thr(t, r, na) == (uint64_t)1 << 47);
        }
        /* the next threshold would be out of reach everywhere */
        assert_true(tail(levels[l], 300, t->nthr + 0.5) * ldexp(1.0, 47) < 0.5);
        cim__qtab_free(ctx, t);
    }
    /* not applicable: no table, no error */
    cim_qtab *t = (cim_qtab *)&t;
    assert_int_equal(cim__qtab_build(ctx, 0.0, 100, &t), CIM_OK);
    assert_null(t);
    assert_int_equal(cim__qtab_build(ctx, 0.1, CIM_QNOISE_MAXNA + 1, &t), CIM_OK);
    assert_null(t);
    assert_int_equal(cim__qtab_build(ctx, 20.0, 400, &t), CIM_OK); /* sigma 400: too many thresholds */
    assert_null(t);
    cim_ctx_destroy(ctx);
}

/* The documented draw of channel n (qnoise.h), straight from Random123. */
static uint16_t want_uniform(const cim_noise_key *k, uint64_t v, uint32_t n)
{
    philox4x32_ctr_t c = {{(uint32_t)v, n >> 3,
                           (uint32_t)((v >> 32) & 0xffffu) | (k->chunk << 16),
                           (k->islice | CIM_QNOISE_STREAM) | (k->wslice << 12) | (k->phase << 16) | (k->layer << 17)}};
    philox4x32_key_t key = {{(uint32_t)k->seed, (uint32_t)(k->seed >> 32)}};
    c = philox4x32_R(10, c, key);
    return (uint16_t)(c.v[(n >> 1) & 3u] >> (16u * (n & 1u)));
}

static void test_uniforms_all_stages(void **state)
{
    (void)state;
    static const int rows_list[] = {1, 5, 16, 17, 40};
    /* every tile shape of the AVX-512 generator: 1, 2, 3-4, 5-8 blocks per row
     * (several rows per call; 4 and 8 whole blocks stored directly) and more
     * (one row per call), aligned and not; vector bases where word 0 carries */
    static const uint32_t n0_list[] = {0, 1, 8, 15, 64, 100, 130, 250};
    static const int count_list[] = {1, 3, 8, 15, 16, 17, 24, 32, 64, 100, 128, 200};
    static const uint64_t vbase[] = {0, 0xfffffff5ull, 123456789012ull};
    enum { LD = 208 };
    static uint16_t got[40 * LD];
    int checked = 0;
    for (int s = 0; s < NSTAGES; s++) {
        const cim_stage *st = tu_stage(stage_names[s]);
        if (!st)
            continue;
        for (size_t a = 0; a < sizeof rows_list / sizeof *rows_list; a++)
            for (size_t b = 0; b < sizeof n0_list / sizeof *n0_list; b++)
                for (size_t c = 0; c < sizeof count_list / sizeof *count_list; c++)
                    for (size_t v = 0; v < sizeof vbase / sizeof *vbase; v++) {
                        cim_noise_key k = {0x1234567890abull, 9, vbase[v], 3, 2, 5, 1};
                        const int rows = rows_list[a], count = count_list[c];
                        memset(got, 0xee, sizeof got);
                        st->qnoise_tile(&k, rows, n0_list[b], count, got, LD);
                        for (int r = 0; r < rows; r++)
                            for (int i = 0; i < count; i++)
                                if (got[r * LD + i] != want_uniform(&k, vbase[v] + (uint64_t)r, n0_list[b] + (uint32_t)i))
                                    fail_msg("stage %s rows %d n0 %u count %d vector %llu: row %d column %d",
                                             stage_names[s], rows, n0_list[b], count, (unsigned long long)vbase[v], r, i);
                        for (int r = 0; r < rows; r++) /* nothing written past count */
                            assert_int_equal(got[r * LD + count], 0xeeee);
                        checked++;
                    }
    }
    assert_true(checked >= 1440); /* at least the reference stage */
}

/* acc[i] = the ADC's output for sums S[i] with N+ + N- na[i] and uniforms u
 * (one row of count sums, vector v, channels from n0), through stage st. */
static void draw_row(const cim_stage *st, const cim_qtab *t, const cim_noise_key *k, uint32_t n0, int count,
                     const int32_t *S, const int32_t *na, const uint16_t *u, int64_t *acc, double level)
{
    static float z[256];
    static uint16_t fail[256];
    cim_adc_row a = {-(1 << 24), (1 << 24) - 1, 0, 1, NULL, 0, level, CIM_HIST_NO_PAIRS, 0, NULL, t, u, *k, n0};
    cim_adc_counts cnt = {0, 0};
    memset(acc, 0, (size_t)count * sizeof *acc);
    st->adc_tile(&a, NULL, 1, count, S, na, z, 256, acc, 256, fail, 256, NULL, NULL, &cnt);
}

/* The draw's k = r - S against its exact distribution, P(|k| >= j + 1) =
 * erfc((j + 1/2) / (sigma sqrt 2)), by a chi-square test over 160 k draws
 * per (E, N+ + N-); every stage gives the same bits. */
static void test_distribution(void **state)
{
    (void)state;
    cim_ctx *ctx = tu_ctx();
    enum { ROWS = 32, COLS = 250, TILES = 20 };
    static uint16_t u[ROWS * 256];
    static int32_t S[256], na[256];
    static int64_t acc[256], ref[ROWS * TILES * 256];
    const double levels[] = {0.04, 0.12, 0.3};
    const int nas[] = {1, 3, 40, 192, 511};
    int worst_df = 0;
    double worst = 0;
    for (size_t l = 0; l < 3; l++) {
        for (size_t q = 0; q < sizeof nas / sizeof *nas; q++) {
            /* tables of one byte page (N+ + N- < 128), two and none (the 16-bit lookups) */
            cim_qtab *t = NULL;
            assert_int_equal(cim__qtab_build(ctx, levels[l], nas[q] < 128 ? 100 : nas[q] < 256 ? 255 : 511, &t), CIM_OK);
            assert_non_null(t);
            assert_true((t->planes != NULL) == (nas[q] < 256));
            for (int i = 0; i < 256; i++) {
                S[i] = 1000 + i;
                na[i] = nas[q];
            }
            long count[129] = {0}; /* k + 64 */
            long total = 0;
            for (int s = 0; s < NSTAGES; s++) {
                const cim_stage *st = tu_stage(stage_names[s]);
                if (!st)
                    continue;
                for (int tile = 0; tile < TILES; tile++) {
                    cim_noise_key k = {77 + l, 4, (uint64_t)tile * ROWS, 0, 1, 0, 0};
                    st->qnoise_tile(&k, ROWS, 0, COLS, u, 256);
                    for (int r = 0; r < ROWS; r++) {
                        cim_noise_key kr = k;
                        kr.vector += (uint64_t)r;
                        draw_row(st, t, &kr, 0, COLS, S, na, u + r * 256, acc, levels[l]);
                        int64_t *want = ref + ((size_t)tile * ROWS + (size_t)r) * 256;
                        for (int i = 0; i < COLS; i++) {
                            if (s == 0) {
                                want[i] = acc[i];
                                int64_t kk = acc[i] - S[i];
                                assert_true(kk >= -64 && kk <= 64);
                                count[kk + 64]++;
                                total++;
                            } else if (acc[i] != want[i])
                                fail_msg("stage %s E %g N %d: column %d differs from ref", stage_names[s], levels[l],
                                         nas[q], i);
                        }
                    }
                }
            }
            /* bins with at least 10 expected draws, the tails pooled */
            double chi2 = 0, pooled_e = 0, pooled_o = 0;
            int df = -1;
            for (int kk = -64; kk <= 64; kk++) {
                int a = abs(kk);
                double p = a == 0 ? 1.0 - tail(levels[l], nas[q], 0.5)
                                  : 0.5 * (tail(levels[l], nas[q], a - 0.5) - tail(levels[l], nas[q], a + 0.5));
                double e = p * (double)total, o = (double)count[kk + 64];
                if (e >= 10) {
                    chi2 += (o - e) * (o - e) / e;
                    df++;
                } else {
                    pooled_e += e;
                    pooled_o += o;
                }
            }
            if (pooled_e >= 10) {
                chi2 += (pooled_o - pooled_e) * (pooled_o - pooled_e) / pooled_e;
                df++;
            } else
                assert_true(pooled_o <= pooled_e + 6 * sqrt(pooled_e + 1) + 3);
            print_message("E %.2f N %3d: %ld draws, %d dof, chi2 %.1f\n", levels[l], nas[q], total, df, chi2);
            /* 1e-6 tail of the chi-square for up to 30 dof is below df + 9 sqrt(2 df) + 20 */
            if (df > 0)
                assert_true(chi2 < df + 9 * sqrt(2.0 * df) + 20);
            if (df > 0 && chi2 / df > worst) {
                worst = chi2 / df;
                worst_df = df;
            }
            cim__qtab_free(ctx, t);
        }
    }
    print_message("worst chi2/dof %.2f (%d dof)\n", worst, worst_df);
    cim_ctx_destroy(ctx);
}

/* Tiles of every shape through the ADC stage: rows beyond one group of 32,
 * rows of one masked step, rows wider than a block (256), tables of one and
 * two byte pages and of none (the 16-bit lookups); random uniforms with many
 * threshold ties; every fourth row all zero (the tile call skips it and draws
 * the rows around it run by run), every eighth with N+ + N- left nonzero (a
 * draw that must still move it). Every stage must give the reference stage's
 * sums. Narrow tiles run again at row stride = width (as a run lays them
 * out, cim__tile_ld) with zero rows only in the first half, so that blocks
 * of whole rows side by side convert in place (no copies). */
static void test_tile_shapes(void **state)
{
    (void)state;
    cim_ctx *ctx = tu_ctx();
    enum { LD = 320, RMAX = 40 };
    static const int shapes[][2] = {{1, 1}, {3, 63}, {33, 100}, {40, 128}, {2, 300}, {5, 257}, {33, 16}, {9, 64}, {40, 8}, {35, 24}};
    static const int namaxes[] = {100, 200, 400};
    static int32_t S[RMAX * LD], na[RMAX * LD];
    static uint16_t u[RMAX * LD];
    static float z[RMAX * LD];
    static int64_t acc[RMAX * LD], want[RMAX * LD];
    static uint16_t fail[RMAX * LD];
    static int32_t Sc[RMAX * LD], nac[RMAX * LD];
    static uint16_t uc[RMAX * LD];
    static float zc[RMAX * LD];
    static int64_t accc[RMAX * LD];
    tu_rng rng = {77};
    int compared = 0, compact_tiles = 0;
    for (size_t q = 0; q < 3; q++) {
        cim_qtab *t = NULL;
        assert_int_equal(cim__qtab_build(ctx, 0.12, namaxes[q], &t), CIM_OK);
        assert_non_null(t);
        for (size_t h = 0; h < 2 * (sizeof shapes / sizeof *shapes); h++) {
            const int rows = shapes[h / 2][0], count = shapes[h / 2][1], compact = (int)(h & 1);
            if (compact && (count > 64 || count < 2 || rows < 2))
                continue;
            for (int i = 0; i < RMAX * LD; i++) {
                na[i] = tu_range(&rng, 0, namaxes[q]);
                S[i] = tu_range(&rng, -na[i], na[i]);
                int j = tu_range(&rng, 0, t->nthr - 1);
                uint32_t hv = t->hi[(size_t)j * (size_t)t->stride + (size_t)na[i]];
                u[i] = hv < 0x8000 && i % 7 == 0 ? (uint16_t)((i & 8) ? 0x8000u | hv : ~hv & 0x7fffu)
                                                 : (uint16_t)tu_range(&rng, 0, 65535);
                if (i / LD % 4 == 2 && (!compact || i / LD < rows / 2)) {
                    S[i] = 0;
                    na[i] = i / LD % 8 == 6 ? na[i] : 0;
                }
            }
            cim_noise_key k = {3, 1, 5000, 2, 1, 4, 0};
            for (int s = 0; s < NSTAGES; s++) {
                const cim_stage *st = tu_stage(stage_names[s]);
                if (!st)
                    continue;
                cim_adc_row a = {-(1 << 24), (1 << 24) - 1, 0, 1, NULL, 0, 0.12, CIM_HIST_NO_PAIRS, 0, NULL, t, u, k, 16};
                cim_adc_counts cnt = {0, 0};
                memset(acc, 0, sizeof acc);
                if (compact) { /* rows count apart: S, N+ + N-, uniforms and sums */
                    const size_t cb = (size_t)count;
                    tu_restride(Sc, cb, S, LD, rows, count, sizeof *S);
                    tu_restride(nac, cb, na, LD, rows, count, sizeof *na);
                    tu_restride(uc, cb, u, LD, rows, count, sizeof *u);
                    tu_restride(zc, cb, z, LD, rows, count, sizeof *z);
                    memset(accc, 0, sizeof accc);
                    cim_adc_row ac = a;
                    ac.qu = uc;
                    st->adc_tile(&ac, NULL, rows, count, Sc, nac, zc, (size_t)count, accc, (size_t)count, fail, LD,
                                 NULL, NULL, &cnt);
                    tu_restride(acc, LD, accc, cb, rows, count, sizeof *acc);
                    compact_tiles++;
                } else {
                    st->adc_tile(&a, NULL, rows, count, S, na, z, LD, acc, LD, fail, LD, NULL, NULL, &cnt);
                }
                /* the same sums one row per call (narrow tiles are packed into
                 * blocks of several rows; row r's draw is keyed by vector 5000 + r) */
                static int64_t byrow[RMAX * LD];
                memset(byrow, 0, sizeof byrow);
                uint64_t sat_rows = 0;
                for (int r = 0; r < rows; r++) {
                    cim_adc_row ar = a;
                    const size_t o = (size_t)r * LD;
                    ar.qu = u + o;
                    ar.qkey.vector += (uint64_t)r;
                    cim_adc_counts rc = {0, 0};
                    st->adc_tile(&ar, NULL, 1, count, S + o, na + o, z + o, LD, byrow + o, LD, fail, LD, NULL, NULL,
                                 &rc);
                    sat_rows += rc.saturations;
                }
                assert_int_equal(cnt.saturations, sat_rows);
                for (int i = 0; i < RMAX * LD; i++)
                    if (acc[i] != byrow[i])
                        fail_msg("stage %s namax %d %d x %d: sum %d: tile %lld, one row per call %lld", stage_names[s],
                                 namaxes[q], rows, count, i, (long long)acc[i], (long long)byrow[i]);
                if (s == 0)
                    memcpy(want, acc, sizeof acc);
                else {
                    for (int r = 0; r < rows; r++)
                        for (int i = 0; i < count; i++)
                            if (acc[r * LD + i] != want[r * LD + i])
                                fail_msg("stage %s namax %d %d x %d: row %d column %d: got %lld, want %lld",
                                         stage_names[s], namaxes[q], rows, count, r, i, (long long)acc[r * LD + i],
                                         (long long)want[r * LD + i]);
                    compared++;
                }
                for (int r = 0; r < RMAX; r++) /* nothing written outside the tile */
                    for (int i = 0; i < LD; i++)
                        if (r >= rows || i >= count)
                            assert_true(acc[r * LD + i] == 0);
            }
        }
        cim__qtab_free(ctx, t);
    }
    assert_true(compact_tiles >= 30);
    print_message("%d tiles compared with ref (%d at row stride = width)\n", compared, compact_tiles);
    cim_ctx_destroy(ctx);
}

/* cim__qtab_in_range against every N+, N- it covers and the largest |k| of
 * each: it may answer 1 only when every output lands in [qmin, qmax], and
 * with one sign of slice values (Nn = 0: S = N+ + N-; P = 0) exactly. */
static void test_in_range(void **state)
{
    (void)state;
    cim_ctx *ctx = tu_ctx();
    const double levels[] = {0.04, 0.3};
    const int32_t ranges[][2] = {{0, 255}, {0, 40}, {-20, 20}, {-128, 127}, {1, 63}, {-64, 0}};
    int yes = 0, no = 0;
    for (size_t l = 0; l < 2; l++) {
        cim_qtab *t = NULL;
        assert_int_equal(cim__qtab_build(ctx, levels[l], 80, &t), CIM_OK);
        assert_non_null(t);
        assert_non_null(t->planes);
        for (int j = 0; j < t->nthr; j++) /* the byte planes are hi's two bytes */
            for (int na = 0; na < 256; na++) {
                uint16_t h = na < t->stride ? t->hi[(size_t)j * (size_t)t->stride + (size_t)na] : 0x8000u;
                assert_int_equal(t->planes[(size_t)j * 512 + (size_t)na], h >> 8);
                assert_int_equal(t->planes[(size_t)j * 512 + 256 + (size_t)na], h & 0xff);
            }
        for (int P = 0; P <= 50; P++)
            for (int Nn = 0; P + Nn <= 80; Nn += 1 + Nn / 4)
                for (size_t q = 0; q < sizeof ranges / sizeof *ranges; q++) {
                    const int32_t qmin = ranges[q][0], qmax = ranges[q][1];
                    int truth = 1;
                    for (int np = 0; np <= P && truth; np++)
                        for (int nn = 0; nn <= Nn && truth; nn++) {
                            const int s = np - nn, r = t->reach[np + nn];
                            truth = s - r >= qmin && s + r <= qmax;
                        }
                    const int got = cim__qtab_in_range(t, P, Nn, qmin, qmax);
                    if (got && !truth)
                        fail_msg("E %g P %d Nn %d [%d, %d]: proven in range, but a draw leaves it", levels[l], P, Nn,
                                 qmin, qmax);
                    if ((P == 0 || Nn == 0) && got != truth)
                        fail_msg("E %g P %d Nn %d [%d, %d]: got %d, want %d", levels[l], P, Nn, qmin, qmax, got, truth);
                    yes += got;
                    no += !got;
                }
        assert_int_equal(cim__qtab_in_range(t, 81, 0, -1000, 1000), 0); /* beyond the table */
        cim__qtab_free(ctx, t);
    }
    assert_true(yes > 1000 && no > 1000);
    cim_ctx_destroy(ctx);
}

/* Draws whose top 15 bits equal a threshold's: V's low 32 bits (the
 * refinement word) decide. Uniforms are set to hit thresholds on purpose;
 * every stage must agree with a 47-bit comparison written out here. */
static void test_refinement(void **state)
{
    (void)state;
    cim_ctx *ctx = tu_ctx();
    cim_qtab *t = NULL;
    assert_int_equal(cim__qtab_build(ctx, 0.12, 200, &t), CIM_OK);
    assert_non_null(t);
    static uint16_t u[256];
    static int32_t S[256], na[256];
    static int64_t acc[256];
    cim_noise_key k = {5, 2, 1000, 1, 3, 2, 1};
    tu_rng rng = {31};
    int refined = 0;
    for (int round = 0; round < 50; round++) {
        for (int i = 0; i < 256; i++) {
            na[i] = tu_range(&rng, 1, 200);
            S[i] = tu_range(&rng, -500, 500);
            int j = tu_range(&rng, 0, t->nthr - 1);
            uint32_t h = t->hi[(size_t)j * (size_t)t->stride + (size_t)na[i]];
            if (h >= 0x8000 || (i % 5) == 4) /* out of reach, or a plain draw among them */
                u[i] = (uint16_t)tu_range(&rng, 0, 65535);
            else
                u[i] = (i & 1) ? (uint16_t)(0x8000u | h) : (uint16_t)(~h & 0x7fffu); /* both signs */
        }
        for (int s = 0; s < NSTAGES; s++) {
            const cim_stage *st = tu_stage(stage_names[s]);
            if (!st)
                continue;
            draw_row(st, t, &k, 40, 256, S, na, u, acc, 0.12);
            for (int i = 0; i < 256; i++) {
                uint32_t pos = u[i] >> 15, v15 = (pos ? u[i] : ~u[i]) & 0x7fffu;
                philox4x32_ctr_t c = {{(uint32_t)k.vector, 40u + (uint32_t)i, (uint32_t)(k.chunk << 16),
                                       (k.islice | CIM_QNOISE_REFINE) | (k.wslice << 12) | (k.phase << 16) |
                                           (k.layer << 17)}};
                philox4x32_key_t key = {{(uint32_t)k.seed, (uint32_t)(k.seed >> 32)}};
                c = philox4x32_R(10, c, key);
                uint64_t V = ((uint64_t)v15 << 32) | c.v[0];
                int64_t kk = 0;
                for (int j = 0; j < t->nthr && V >= thr(t, j, na[i]); j++)
                    kk++;
                for (int j = 0; j < t->nthr; j++)
                    refined += s == 0 && (thr(t, j, na[i]) >> 32) == v15;
                int64_t want = S[i] + (pos ? kk : -kk);
                if (acc[i] != want)
                    fail_msg("stage %s round %d column %d: got %lld, want %lld", stage_names[s], round, i,
                             (long long)acc[i], (long long)want);
            }
        }
    }
    assert_true(refined > 5000);
    cim__qtab_free(ctx, t);
    cim_ctx_destroy(ctx);
}

/* A whole isaac layer with the in-range proof (layer qinr: no clamp) and with
 * it withdrawn (every conversion clamped): the same psums, saturations (sparse
 * inputs: many sums at the code 0) and clips. At E = 0.04 every slice pair is
 * proven; at E = 0.3 a sum of 1 could draw k = -2 and none is. */
/* A one-channel layer (its tile's uniforms, sums and outputs side by side,
 * run.c cim__tile_ld) draws what the same channel draws as column 0 of a
 * 20-channel layer: the ADC-output draw keyed by (vector, channel), on every
 * kernel's stage. */
static void test_one_channel_draw(void **state)
{
    (void)state;
    enum { K = 100, M = 300, NW = 20 };
    static int8_t W1[K], W[K * NW];
    static uint8_t X[M * K];
    static int32_t p1[M], p[M * NW];
    tu_fill_layer(6, K, NW, M, W, X);
    for (int k = 0; k < K; k++)
        W1[k] = W[k * NW];
    const cim_kernel *const *ks = cim_kernel_list();
    for (int kk = 0; ks[kk]; kk++) {
        if (!ks[kk]->supported() || strcmp(ks[kk]->name, "cuda") == 0)
            continue;
        cim_ctx *ctx = tu_ctx_with(ks[kk]->name, 1);
        cim_xbar_config c;
        tu_noisy_preset(ctx, "isaac", 0.3, 4, &c);
        cim_weights w1 = {W1, CIM_INT8, K, 1, NULL}, w = {W, CIM_INT8, K, NW, NULL};
        cim_layer *L1 = NULL, *L = NULL;
        assert_int_equal(cim_layer_program(ctx, &c, &w1, 2, NULL, &L1), CIM_OK);
        assert_int_equal(cim_layer_program(ctx, &c, &w, 2, NULL, &L), CIM_OK);
        assert_non_null(L1->qtab);
        assert_int_equal(cim_layer_run(ctx, L1, X, M, p1, NULL, NULL), CIM_OK);
        assert_int_equal(cim_layer_run(ctx, L, X, M, p, NULL, NULL), CIM_OK);
        for (int m = 0; m < M; m++)
            if (p1[m] != p[m * NW])
                fail_msg("kernel %s: vector %d: one channel %d, column 0 of %d: %d", ks[kk]->name, m, p1[m], NW,
                         p[m * NW]);
        cim_layer_free(ctx, L1);
        cim_layer_free(ctx, L);
        cim_ctx_destroy(ctx);
    }
}

static void test_layer_in_range(void **state)
{
    (void)state;
    enum { K = 384, N = 96, M = 48 };
    static int8_t W[K * N];
    static uint8_t X[M * K];
    static int32_t p[2][M * N];
    tu_fill_layer(5, K, N, M, W, X);
    for (int i = 0; i < M * K; i++)
        X[i] = i % 16 ? 0 : X[i];
    const double levels[] = {0.04, 0.3};
    for (int l = 0; l < 2; l++) {
        cim_ctx *ctx = tu_ctx();
        cim_xbar_config c;
        tu_noisy_preset(ctx, "isaac", levels[l], 9, &c);
        cim_weights wt = {W, CIM_INT8, K, N, NULL};
        cim_layer *L = NULL;
        assert_int_equal(cim_layer_program(ctx, &c, &wt, 0, NULL, &L), CIM_OK);
        assert_non_null(L->qtab);
        assert_non_null(L->qinr);
        const size_t npairs = (size_t)L->nchunks * (size_t)L->nws * (size_t)L->nis;
        size_t proven = 0;
        for (size_t e = 0; e < npairs; e++)
            proven += L->qinr[e];
        cim_stats st[2];
        for (int withdrawn = 0; withdrawn <= 1; withdrawn++) {
            if (withdrawn)
                memset(L->qinr, 0, npairs);
            cim_stats_reset(&st[withdrawn]);
            assert_int_equal(cim_layer_run(ctx, L, X, M, p[withdrawn], &st[withdrawn], NULL), CIM_OK);
        }
        print_message("E %.2f: %zu of %zu slice pairs proven in range; %llu saturations, %llu clips\n", levels[l],
                      proven, npairs, (unsigned long long)st[0].saturations, (unsigned long long)st[0].true_clips);
        assert_memory_equal(p[0], p[1], sizeof p[0]);
        assert_true(st[0].saturations == st[1].saturations && st[0].true_clips == st[1].true_clips);
        assert_true(st[0].saturations > 0);
        if (l == 0)
            assert_int_equal(proven, npairs);
        else
            assert_true(proven < npairs);
        cim_layer_free(ctx, L);
        cim_ctx_destroy(ctx);
    }
}

/* A whole layer: isaac draws at the ADC's output (the bits differ from
 * Box-Muller normals, cim_run_options.normal_noise) with the same error
 * statistics; raella's sums are too large for a table, so normal_noise
 * changes nothing there. Every kernel and thread count gives the same bits. */
static void test_layer_vs_normals(void **state)
{
    (void)state;
    enum { K = 384, N = 96, M = 64 };
    static int8_t W[K * N];
    static uint8_t X[M * K];
    static int32_t e[M * N], p[2][M * N], q[M * N];
    tu_fill_layer(3, K, N, M, W, X);
    const char *presets[] = {"isaac", "raella"};
    for (int pr = 0; pr < 2; pr++) {
        double var[2];
        for (int normals = 0; normals <= 1; normals++) {
            cim_ctx *ctx = tu_ctx();
            cim_xbar_config c;
            tu_noisy_preset(ctx, presets[pr], 0.1, 17, &c);
            cim_weights wt = {W, CIM_INT8, K, N, NULL};
            cim_layer *L = NULL;
            assert_int_equal(cim_layer_program(ctx, &c, &wt, 0, NULL, &L), CIM_OK);
            cim_run_options ro;
            cim_run_options_default(&ro);
            ro.normal_noise = normals;
            assert_int_equal(cim_layer_run(ctx, L, X, M, p[normals], NULL, &ro), CIM_OK);
            assert_int_equal(cim_layer_run_exact(ctx, L, X, M, e), CIM_OK);
            double s2 = 0;
            for (int i = 0; i < M * N; i++)
                s2 += (double)(p[normals][i] - e[i]) * (double)(p[normals][i] - e[i]);
            var[normals] = s2 / (M * N);
            cim_layer_free(ctx, L);
            cim_ctx_destroy(ctx);
            for (const char *const *kn = cim_kernel_names(); *kn; kn++) {
                if (cim_kernel_supported(*kn) != 1)
                    continue;
                cim_ctx *c2 = tu_ctx_with(*kn, 2);
                assert_int_equal(cim_layer_program(c2, &c, &wt, 0, NULL, &L), CIM_OK);
                assert_int_equal(cim_layer_run(c2, L, X, M, q, NULL, &ro), CIM_OK);
                assert_memory_equal(q, p[normals], sizeof q);
                cim_layer_free(c2, L);
                cim_ctx_destroy(c2);
            }
        }
        print_message("%s: error variance %.1f (ADC-output draw) vs %.1f (normals)\n", presets[pr], var[0], var[1]);
        assert_true(var[0] > 0 && var[1] > 0);
        if (pr == 0) {
            assert_true(memcmp(p[0], p[1], sizeof p[0]) != 0);
            assert_true(var[0] / var[1] > 0.85 && var[0] / var[1] < 1.15);
        } else
            assert_memory_equal(p[0], p[1], sizeof p[0]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_uniforms_all_stages),
        cmocka_unit_test(test_distribution),
        cmocka_unit_test(test_in_range),
        cmocka_unit_test(test_tile_shapes),
        cmocka_unit_test(test_refinement),
        cmocka_unit_test(test_one_channel_draw),
        cmocka_unit_test(test_layer_in_range),
        cmocka_unit_test(test_layer_vs_normals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
