/* test_kernels.c: every column-sum kernel against the reference kernel.
 *
 * For each kernel in cim_kernel_list() that this CPU supports, gemm_u8s8 and
 * dot_u8s8 must be bit-identical to cim_kernel_ref on random data, on edge
 * shapes (M 1..17, 33, 65; Np 16..528; Kp 4..2048 including values that are
 * not multiples of 64), on extreme values up to the largest depth the
 * contract allows, with padded lda, unaligned C and ldc > Np. Guard values
 * around C catch writes outside the M x Np block, and copies of A and B catch
 * writes to the inputs. The reference kernel itself is checked against a
 * plain int64 computation from an unpacked B (and the packing formula against
 * hand-computed offsets), so the chain does not rest on ref.c alone.
 *
 * The checker is tested too: deliberately wrong kernels (int16 saturation as a
 * naive vpmaddubsw would do, a dropped k-group, a write past Np, a write past
 * row M, lda ignored, a short dot product) must each be reported.
 *
 * A kernel this CPU cannot run is reported as SKIPPED, not passed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "testutil.h"
#include "kernels/kernel.h"
#include "kernels/stage.h"
#ifdef CIMSIM_HAVE_CUDA
#include "kernels/cuda.h"
#endif

/* The deepest Kp the contract allows: Kp * 255 * 128 < 2^31. */
#define KP_MAX ((int)((2147483647 / (255 * 128)) / 4 * 4))
#define SENTINEL ((int32_t)0x5a5a5a5a)
#define GUARD 29 /* int32 guard elements before and after C */

static size_t round_up(size_t v, size_t m) { return (v + m - 1) / m * m; }

static void *xalloc64(size_t size)
{
    /* Sizes here are multiples of 64 already; no rounding keeps ASan's
     * redzone right after the last byte a kernel may touch. */
    assert_true(size % 64 == 0 && size > 0);
    void *p = aligned_alloc(64, size);
    assert_non_null(p);
    return p;
}

/* ---- problems ---- */

enum fill { FILL_RANDOM, FILL_EXTREME_MIX, FILL_CONST };

typedef struct {
    int M, Np, Kp;
    size_t lda, ldc, coff; /* coff: C starts coff int32 into its buffer (after the guard) */
    uint8_t *A;            /* M x lda, padding [Kp, lda) zero */
    int8_t *Bu;            /* unpacked, row-major Kp x Np */
    int8_t *Bp;            /* packed p16k4 */
} problem;

static uint8_t gen_a(tu_rng *r, enum fill f, int c)
{
    switch (f) {
    case FILL_CONST: return (uint8_t)c;
    case FILL_EXTREME_MIX: {
        int t = tu_range(r, 0, 3);
        return t == 0 ? 0 : t == 1 ? 255 : (uint8_t)tu_range(r, 0, 255);
    }
    default: return (uint8_t)tu_range(r, 0, 255);
    }
}

static int8_t gen_b(tu_rng *r, enum fill f, int c)
{
    switch (f) {
    case FILL_CONST: return (int8_t)c;
    case FILL_EXTREME_MIX: {
        int t = tu_range(r, 0, 3);
        return (int8_t)(t == 0 ? -128 : t == 1 ? 127 : tu_range(r, -128, 127));
    }
    default: return (int8_t)tu_range(r, -128, 127);
    }
}

/* lda_extra, ldc_extra in elements; A values per fa/ca, B per fb/cb. */
static problem make_problem(tu_rng *r, int M, int Np, int Kp, size_t lda_extra, size_t ldc_extra,
                            size_t coff, enum fill fa, int ca, enum fill fb, int cb)
{
    problem p = {M, Np, Kp, round_up((size_t)Kp, 64) + lda_extra, (size_t)Np + ldc_extra, coff,
                 NULL, NULL, NULL};
    assert_true(p.lda % 64 == 0);
    p.A = xalloc64((size_t)M * p.lda);
    memset(p.A, 0, (size_t)M * p.lda);
    for (int m = 0; m < M; m++)
        for (int k = 0; k < Kp; k++)
            p.A[(size_t)m * p.lda + (size_t)k] = gen_a(r, fa, ca);
    size_t bsize = (size_t)Kp * (size_t)Np;
    p.Bu = malloc(bsize);
    assert_non_null(p.Bu);
    p.Bp = xalloc64(bsize);
    memset(p.Bp, 0x77, bsize); /* every byte is overwritten below */
    for (int k = 0; k < Kp; k++)
        for (int n = 0; n < Np; n++) {
            int8_t v = gen_b(r, fb, cb);
            p.Bu[(size_t)k * (size_t)Np + (size_t)n] = v;
            p.Bp[cim_kernel_pack_offset(k, n, Kp)] = v;
        }
    return p;
}

static void free_problem(problem *p)
{
    free(p->A);
    free(p->Bu);
    free(p->Bp);
    memset(p, 0, sizeof *p);
}

/* Plain int64 column sums from the unpacked B; the values must fit int32. */
static int32_t *naive_gemm(const problem *p)
{
    int32_t *C = malloc(sizeof(int32_t) * (size_t)p->M * (size_t)p->Np);
    assert_non_null(C);
    for (int m = 0; m < p->M; m++)
        for (int n = 0; n < p->Np; n++) {
            int64_t s = 0;
            for (int k = 0; k < p->Kp; k++)
                s += (int64_t)p->A[(size_t)m * p->lda + (size_t)k] *
                     (int64_t)p->Bu[(size_t)k * (size_t)p->Np + (size_t)n];
            assert_true(s >= INT32_MIN && s <= INT32_MAX);
            C[(size_t)m * (size_t)p->Np + (size_t)n] = (int32_t)s;
        }
    return C;
}

/* cim_kernel_ref's result, compact M x Np. */
static int32_t *ref_gemm(const problem *p)
{
    int32_t *C = malloc(sizeof(int32_t) * (size_t)p->M * (size_t)p->Np);
    assert_non_null(C);
    cim_kernel_ref.gemm_u8s8(p->M, p->Np, p->Kp, p->A, p->lda, p->Bp, C, (size_t)p->Np);
    return C;
}

/* Runs k->gemm_u8s8 on p and counts what is wrong: output elements that
 * differ from expect (compact M x Np), guard elements of C that changed
 * (before C, between Np and ldc in each row, after row M), and bytes of A or
 * B that changed. The first few problems go to msg. Used for the real
 * kernels and for the deliberately broken ones alike. */
static long gemm_problems(const cim_kernel *k, const problem *p, const int32_t *expect, char *msg,
                          size_t msgsize)
{
    size_t body = (size_t)p->M * p->ldc;
    size_t total = GUARD + p->coff + body + GUARD;
    int32_t *buf = malloc(sizeof(int32_t) * total);
    assert_non_null(buf);
    for (size_t i = 0; i < total; i++)
        buf[i] = SENTINEL;
    int32_t *C = buf + GUARD + p->coff;

    size_t asize = (size_t)p->M * p->lda, bsize = (size_t)p->Kp * (size_t)p->Np;
    uint8_t *A0 = malloc(asize);
    int8_t *B0 = malloc(bsize);
    assert_non_null(A0);
    assert_non_null(B0);
    memcpy(A0, p->A, asize);
    memcpy(B0, p->Bp, bsize);

    k->gemm_u8s8(p->M, p->Np, p->Kp, p->A, p->lda, p->Bp, C, p->ldc);

    long bad = 0;
    size_t used = 0;
    msg[0] = '\0';
#define NOTE(...)                                                                                \
    do {                                                                                         \
        if (bad < 4 && used < msgsize) {                                                         \
            int w_ = snprintf(msg + used, msgsize - used, __VA_ARGS__);                          \
            if (w_ > 0)                                                                          \
                used += (size_t)w_;                                                              \
        }                                                                                        \
        bad++;                                                                                   \
    } while (0)
    for (int m = 0; m < p->M; m++) {
        for (int n = 0; n < p->Np; n++) {
            int32_t got = C[(size_t)m * p->ldc + (size_t)n];
            int32_t want = expect[(size_t)m * (size_t)p->Np + (size_t)n];
            if (got != want)
                NOTE("  C[%d][%d] = %ld, expected %ld\n", m, n, (long)got, (long)want);
        }
        for (size_t n = (size_t)p->Np; n < p->ldc; n++)
            if (C[(size_t)m * p->ldc + n] != SENTINEL)
                NOTE("  wrote C[%d][%zu], past Np = %d (ldc %zu)\n", m, n, p->Np, p->ldc);
    }
    for (size_t i = 0; i < GUARD + p->coff; i++)
        if (buf[i] != SENTINEL)
            NOTE("  wrote %zu elements before C\n", GUARD + p->coff - i);
    for (size_t i = GUARD + p->coff + body; i < total; i++)
        if (buf[i] != SENTINEL)
            NOTE("  wrote element %zu after row M = %d\n", i - (GUARD + p->coff + body), p->M);
    if (memcmp(A0, p->A, asize) != 0)
        NOTE("  modified A\n");
    if (memcmp(B0, p->Bp, bsize) != 0)
        NOTE("  modified B\n");
#undef NOTE
    free(A0);
    free(B0);
    free(buf);
    return bad;
}

/* The expected result for kernel k: the reference kernel's, or for the
 * reference kernel itself the plain int64 computation. */
static int32_t *expected_for(const cim_kernel *k, const problem *p)
{
    return k == &cim_kernel_ref ? naive_gemm(p) : ref_gemm(p);
}

static void check_gemm(const cim_kernel *k, const problem *p)
{
    char msg[1024];
    int32_t *want = expected_for(k, p);
    long bad = gemm_problems(k, p, want, msg, sizeof msg);
    free(want);
    if (bad)
        fail_msg("kernel %s, M=%d Np=%d Kp=%d lda=%zu ldc=%zu coff=%zu: %ld problems, first:\n%s",
                 k->name, p->M, p->Np, p->Kp, p->lda, p->ldc, p->coff, bad, msg);
}

/* ---- dot ---- */

static int64_t naive_dot(int n, const uint8_t *a, const int8_t *b)
{
    int64_t s = 0;
    for (int i = 0; i < n; i++)
        s += (int64_t)a[i] * (int64_t)b[i];
    return s;
}

/* Returns 1 (and fills msg) when k's dot product is wrong or it changed its
 * inputs. */
static int dot_problem(const cim_kernel *k, int Kp64, const uint8_t *a, const int8_t *b, char *msg,
                       size_t msgsize)
{
    int64_t want64 = naive_dot(Kp64, a, b);
    assert_true(want64 >= INT32_MIN && want64 <= INT32_MAX);
    int32_t want = k == &cim_kernel_ref ? (int32_t)want64 : cim_kernel_ref.dot_u8s8(Kp64, a, b);
    uint8_t *a0 = malloc((size_t)Kp64);
    int8_t *b0 = malloc((size_t)Kp64);
    assert_non_null(a0);
    assert_non_null(b0);
    memcpy(a0, a, (size_t)Kp64);
    memcpy(b0, b, (size_t)Kp64);
    int32_t got = k->dot_u8s8(Kp64, a, b);
    int bad = got != want || memcmp(a0, a, (size_t)Kp64) != 0 || memcmp(b0, b, (size_t)Kp64) != 0;
    snprintf(msg, msgsize, "kernel %s dot Kp64=%d: got %ld, expected %ld%s", k->name, Kp64,
             (long)got, (long)want, bad && got == want ? " (inputs modified)" : "");
    free(a0);
    free(b0);
    return bad;
}

/* ---- deliberately wrong kernels, for testing the checker ---- */

static int16_t sat16(int32_t v) { return (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v); }

/* Pairs of products saturated to int16, as a naive vpmaddubsw kernel does. */
static void bad_saturating_gemm(int M, int Np, int Kp, const uint8_t *A, size_t lda,
                                const int8_t *Bp, int32_t *C, size_t ldc)
{
    for (int m = 0; m < M; m++)
        for (int n = 0; n < Np; n++) {
            int32_t s = 0;
            for (int k = 0; k < Kp; k += 2) {
                int32_t pair = (int32_t)A[(size_t)m * lda + (size_t)k] * Bp[cim_kernel_pack_offset(k, n, Kp)] +
                               (int32_t)A[(size_t)m * lda + (size_t)k + 1] *
                                   Bp[cim_kernel_pack_offset(k + 1, n, Kp)];
                s += sat16(pair);
            }
            C[(size_t)m * ldc + (size_t)n] = s;
        }
}

/* Forgets the last k-group. */
static void bad_short_gemm(int M, int Np, int Kp, const uint8_t *A, size_t lda, const int8_t *Bp,
                           int32_t *C, size_t ldc)
{
    for (int m = 0; m < M; m++)
        for (int n = 0; n < Np; n++) {
            int32_t s = 0;
            for (int k = 0; k < Kp - 4; k++)
                s += (int32_t)A[(size_t)m * lda + (size_t)k] * Bp[cim_kernel_pack_offset(k, n, Kp)];
            C[(size_t)m * ldc + (size_t)n] = s;
        }
}

/* Right values, then one write just past the last column of the last row
 * (past Np when ldc > Np, past row M when ldc == Np). */
static void bad_overwrite_gemm(int M, int Np, int Kp, const uint8_t *A, size_t lda,
                               const int8_t *Bp, int32_t *C, size_t ldc)
{
    cim_kernel_ref.gemm_u8s8(M, Np, Kp, A, lda, Bp, C, ldc);
    C[(size_t)(M - 1) * ldc + (size_t)Np] = 0;
}

/* Takes rows of A as Kp apart instead of lda. */
static void bad_lda_gemm(int M, int Np, int Kp, const uint8_t *A, size_t lda, const int8_t *Bp,
                         int32_t *C, size_t ldc)
{
    (void)lda;
    cim_kernel_ref.gemm_u8s8(M, Np, Kp, A, (size_t)Kp, Bp, C, ldc);
}

/* Drops the last 64 bytes. */
static int32_t bad_short_dot(int Kp64, const uint8_t *a, const int8_t *b)
{
    return cim_kernel_ref.dot_u8s8(Kp64 - 64, a, b);
}

static int always(void) { return 1; }

static const cim_kernel bad_saturating = {.name = "bad-saturating", .gemm_u8s8 = bad_saturating_gemm, .dot_u8s8 = bad_short_dot, .supported = always};
static const cim_kernel bad_short = {.name = "bad-short", .gemm_u8s8 = bad_short_gemm, .dot_u8s8 = bad_short_dot, .supported = always};
static const cim_kernel bad_overwrite = {.name = "bad-overwrite", .gemm_u8s8 = bad_overwrite_gemm, .dot_u8s8 = bad_short_dot, .supported = always};
static const cim_kernel bad_lda = {.name = "bad-lda", .gemm_u8s8 = bad_lda_gemm, .dot_u8s8 = bad_short_dot, .supported = always};

/* ---- tests independent of any kernel ---- */

static void test_pack_offset(void **state)
{
    (void)state;
    /* ((n / 16) * (Kp / 4) + k / 4) * 64 + (n % 16) * 4 + k % 4, by hand. */
    assert_int_equal(cim_kernel_pack_offset(0, 0, 8), 0);
    assert_int_equal(cim_kernel_pack_offset(1, 0, 8), 1);
    assert_int_equal(cim_kernel_pack_offset(3, 0, 8), 3);
    assert_int_equal(cim_kernel_pack_offset(0, 1, 8), 4);
    assert_int_equal(cim_kernel_pack_offset(2, 15, 8), 62);
    assert_int_equal(cim_kernel_pack_offset(4, 0, 8), 64);
    assert_int_equal(cim_kernel_pack_offset(7, 15, 8), 127);
    assert_int_equal(cim_kernel_pack_offset(0, 16, 8), 128);
    assert_int_equal(cim_kernel_pack_offset(5, 17, 8), 128 + 64 + 4 + 1);
    assert_int_equal(cim_kernel_pack_offset(2047, 527, 2048), (size_t)528 * 2048 - 1);
    /* A bijection onto [0, Kp * Np). */
    const int Kp = 12, Np = 48;
    unsigned char seen[12 * 48] = {0};
    for (int k = 0; k < Kp; k++)
        for (int n = 0; n < Np; n++) {
            size_t o = cim_kernel_pack_offset(k, n, Kp);
            assert_true(o < (size_t)(Kp * Np));
            assert_int_equal(seen[o], 0);
            seen[o] = 1;
        }
}

static void test_kernel_list(void **state)
{
    (void)state;
    const cim_kernel *const *list = cim_kernel_list();
    assert_non_null(list);
    int n = 0, has_ref = 0, has_avx2 = 0, has_vnni = 0;
    for (; list[n]; n++) {
        const cim_kernel *k = list[n];
        assert_non_null(k->name);
        assert_non_null(k->gemm_u8s8);
        assert_non_null(k->dot_u8s8);
        assert_non_null(k->gather_dots);
        assert_non_null(k->dots);
        assert_non_null(k->supported);
        has_ref |= k == &cim_kernel_ref && strcmp(k->name, "ref") == 0;
        has_avx2 |= strcmp(k->name, "avx2") == 0;
        has_vnni |= strcmp(k->name, "avx512vnni") == 0;
    }
    assert_true(has_ref);
    assert_true(cim_kernel_ref.supported());
#ifdef CIMSIM_HAVE_X86_KERNELS
    assert_true(has_avx2);
    assert_true(has_vnni);
#endif
    for (int i = 0; list[i]; i++)
        print_message("kernel %-11s %s\n", list[i]->name,
                      list[i]->supported() ? "supported on this CPU" : "NOT supported on this CPU (tests skipped)");
    /* the stages: every one listed once, ref first and always supported; a
     * context on a kernel runs the stage of its ISA, the best one this CPU has */
    const cim_stage *const *st = cim_stage_list();
    assert_non_null(st[0]);
    assert_ptr_equal(st[0], &cim_stage_ref);
    assert_true(st[0]->supported());
    int nst = 0;
    for (; st[nst]; nst++) {
        assert_non_null(st[nst]->adc_tile);
        assert_non_null(st[nst]->qnoise_tile);
        print_message("stage  %-11s %s\n", st[nst]->name, st[nst]->supported() ? "supported on this CPU" : "NOT supported");
    }
#ifdef CIMSIM_HAVE_X86_KERNELS
    assert_int_equal(nst, 4);
#endif
    for (int i = 0; list[i]; i++) {
        if (!list[i]->supported() || strcmp(list[i]->name, "cuda") == 0)
            continue;
        cim_ctx *ctx = tu_ctx_with(list[i]->name, 1);
        const char *sn = cim_ctx_stage_name(ctx);
        const cim_stage *want = cim_stage_for(list[i]->name);
        assert_string_equal(sn, want->name);
        assert_true(want->supported());
#ifdef CIMSIM_HAVE_X86_KERNELS
        if (strcmp(list[i]->name, "avx512vnni") == 0) /* VBMI's stage where the CPU has it */
            assert_string_equal(sn, cim_stage_avx512vbmi.supported() ? "avx512vbmi" : "avx512");
        else
#endif
            assert_string_equal(sn, list[i]->name);
        cim_ctx_destroy(ctx);
    }
}

#ifdef CIMSIM_HAVE_CUDA
/* The CUDA kernel's own entry points, with or without a GPU: the device
 * API refuses every argument outside the contract before touching the GPU,
 * and describe() agrees with supported() and always says why. */
static void test_cuda_api(void **state)
{
    (void)state;
    char buf[256];
    int ok = cim_cuda_describe(buf, sizeof buf);
    print_message("cuda: %s\n", buf);
    assert_true(strlen(buf) > 0);
    assert_int_equal(ok, cim_kernel_cuda.supported() ? 1 : 0);
    assert_int_equal(strcmp(cim_kernel_cuda.name, "cuda"), 0);
    /* automatic choice never takes it: it comes after ref in the list */
    const cim_kernel *const *list = cim_kernel_list();
    int i_ref = -1, i_cuda = -1;
    for (int i = 0; list[i]; i++) {
        if (list[i] == &cim_kernel_ref)
            i_ref = i;
        if (list[i] == &cim_kernel_cuda)
            i_cuda = i;
    }
    assert_true(i_ref >= 0 && i_cuda > i_ref);
    /* (these pointers are never dereferenced: every call below is refused) */
    static uint8_t a[64];
    static int8_t b[64];
    static int32_t c[64];
    assert_int_equal(cim_cuda_gemm_u8s8_dev(0, 16, 4, a, 64, b, c, 16, NULL), -1);   /* M < 1 */
    assert_int_equal(cim_cuda_gemm_u8s8_dev(1, 8, 4, a, 64, b, c, 16, NULL), -1);    /* Np < 16 */
    assert_int_equal(cim_cuda_gemm_u8s8_dev(1, 24, 4, a, 64, b, c, 24, NULL), -1);   /* Np % 16 */
    assert_int_equal(cim_cuda_gemm_u8s8_dev(1, 16, 6, a, 64, b, c, 16, NULL), -1);   /* Kp % 4 */
    assert_int_equal(cim_cuda_gemm_u8s8_dev(1, 16, 0, a, 64, b, c, 16, NULL), -1);   /* Kp < 4 */
    assert_int_equal(cim_cuda_gemm_u8s8_dev(1, 16, 68, a, 64, b, c, 16, NULL), -1);  /* lda < Kp */
    assert_int_equal(cim_cuda_gemm_u8s8_dev(1, 16, 4, a, 48, b, c, 16, NULL), -1);   /* lda % 64 */
    assert_int_equal(cim_cuda_gemm_u8s8_dev(1, 16, 4, a, 64, b, c, 15, NULL), -1);   /* ldc < Np */
    assert_int_equal(cim_cuda_gemm_u8s8_dev(1, 16, 4, NULL, 64, b, c, 16, NULL), -1); /* no A */
    assert_int_equal(cim_cuda_gemm_u8s8_dev(1, 16, 4, a, 64, b, NULL, 16, NULL), -1); /* no C */
    if (!ok)
        assert_int_equal(cim_cuda_fallbacks(), 0); /* nothing ran, nothing fell back */
}
#endif

/* The checker reports each kind of wrong kernel, and passes the reference. */
static void test_checker_catches_wrong_kernels(void **state)
{
    (void)state;
    tu_rng r = {42};
    char msg[1024];

    /* A tiny case where the right answer is known by hand. */
    problem p = make_problem(&r, 2, 16, 4, 0, 0, 0, FILL_RANDOM, 0, FILL_RANDOM, 0);
    static const uint8_t a[2][4] = {{1, 2, 3, 0}, {255, 255, 255, 255}};
    for (int m = 0; m < 2; m++)
        for (int k = 0; k < 4; k++)
            p.A[(size_t)m * p.lda + (size_t)k] = a[m][k];
    for (int k = 0; k < 4; k++)
        for (int n = 0; n < 16; n++) {
            p.Bu[k * 16 + n] = (int8_t)(n - 8 + k); /* B(k, n) = n - 8 + k */
            p.Bp[cim_kernel_pack_offset(k, n, 4)] = (int8_t)(n - 8 + k);
        }
    /* Row 0: 1(n-8) + 2(n-7) + 3(n-6) = 6n - 40.
     * Row 1: 255 ((n-8) + (n-7) + (n-6) + (n-5)) = 1020n - 6630. */
    static const int32_t hand[2][16] = {
        {-40, -34, -28, -22, -16, -10, -4, 2, 8, 14, 20, 26, 32, 38, 44, 50},
        {-6630, -5610, -4590, -3570, -2550, -1530, -510, 510, 1530, 2550, 3570, 4590, 5610, 6630,
         7650, 8670},
    };
    int32_t *naive = naive_gemm(&p);
    assert_memory_equal(naive, hand, sizeof hand);
    free(naive);
    assert_int_equal(gemm_problems(&cim_kernel_ref, &p, &hand[0][0], msg, sizeof msg), 0);
    int32_t wrong[2][16];
    memcpy(wrong, hand, sizeof wrong);
    wrong[1][15] += 1; /* off by one in the last element */
    assert_int_equal(gemm_problems(&cim_kernel_ref, &p, &wrong[0][0], msg, sizeof msg), 1);
    assert_non_null(strstr(msg, "C[1][15] = 8670, expected 8671"));
    assert_true(gemm_problems(&bad_short, &p, &hand[0][0], msg, sizeof msg) > 0);
    free_problem(&p);

    /* Saturation: only extreme values overflow int16 pair sums. */
    p = make_problem(&r, 3, 32, 64, 0, 0, 0, FILL_CONST, 255, FILL_CONST, -128);
    int32_t *want = naive_gemm(&p);
    assert_int_equal(want[0], 64 * 255 * -128);
    assert_int_equal(gemm_problems(&cim_kernel_ref, &p, want, msg, sizeof msg), 0);
    assert_int_equal(gemm_problems(&bad_saturating, &p, want, msg, sizeof msg), 3 * 32);
    free(want);
    free_problem(&p);

    /* Writes past Np (ldc > Np), and past row M (ldc == Np). */
    p = make_problem(&r, 5, 48, 68, 64, 3, 1, FILL_RANDOM, 0, FILL_RANDOM, 0);
    want = naive_gemm(&p);
    assert_int_equal(gemm_problems(&cim_kernel_ref, &p, want, msg, sizeof msg), 0);
    assert_int_equal(gemm_problems(&bad_overwrite, &p, want, msg, sizeof msg), 1);
    assert_non_null(strstr(msg, "past Np"));
    /* lda ignored: wrong as soon as lda > Kp. */
    assert_true(gemm_problems(&bad_lda, &p, want, msg, sizeof msg) > 0);
    free(want);
    free_problem(&p);
    p = make_problem(&r, 5, 48, 68, 0, 0, 0, FILL_RANDOM, 0, FILL_RANDOM, 0);
    want = naive_gemm(&p);
    assert_int_equal(gemm_problems(&bad_overwrite, &p, want, msg, sizeof msg), 1);
    assert_non_null(strstr(msg, "after row M"));
    free(want);
    free_problem(&p);

    /* A short dot product. */
    uint8_t *da = xalloc64(128);
    int8_t *db = xalloc64(128);
    for (int i = 0; i < 128; i++) {
        da[i] = (uint8_t)tu_range(&r, 1, 255);
        db[i] = (int8_t)tu_range(&r, 1, 127);
    }
    assert_int_equal(dot_problem(&cim_kernel_ref, 128, da, db, msg, sizeof msg), 0);
    assert_int_equal(dot_problem(&bad_short, 128, da, db, msg, sizeof msg), 1);
    free(da);
    free(db);
}

/* ---- per-kernel tests; state is the kernel ---- */

static const cim_kernel *kernel_or_skip(void **state)
{
    const cim_kernel *k = *state;
    if (!k->supported()) {
        print_message("kernel %s is not supported on this CPU: skipped\n", k->name);
        skip();
    }
    return k;
}

/* The hand-computed case above, through the kernel. */
static void test_gemm_hand(void **state)
{
    const cim_kernel *k = kernel_or_skip(state);
    tu_rng r = {1};
    problem p = make_problem(&r, 2, 16, 4, 0, 0, 0, FILL_CONST, 0, FILL_CONST, 0);
    static const uint8_t a[2][4] = {{1, 2, 3, 0}, {255, 255, 255, 255}};
    for (int m = 0; m < 2; m++)
        for (int kk = 0; kk < 4; kk++)
            p.A[(size_t)m * p.lda + (size_t)kk] = a[m][kk];
    for (int kk = 0; kk < 4; kk++)
        for (int n = 0; n < 16; n++) {
            p.Bu[kk * 16 + n] = (int8_t)(n - 8 + kk);
            p.Bp[cim_kernel_pack_offset(kk, n, 4)] = (int8_t)(n - 8 + kk);
        }
    int32_t C[2][16];
    k->gemm_u8s8(2, 16, 4, p.A, p.lda, p.Bp, &C[0][0], 16);
    for (int n = 0; n < 16; n++) {
        assert_int_equal(C[0][n], 6 * n - 40);
        assert_int_equal(C[1][n], 1020 * n - 6630);
    }
    free_problem(&p);
}

/* The full cross product of edge shapes, random data (a quarter of it
 * extreme), with lda, ldc and the alignment of C varied. */
static void test_gemm_shapes(void **state)
{
    const cim_kernel *k = kernel_or_skip(state);
    static const int Ms[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 33, 65};
    static const int Ns[] = {16, 32, 48, 112, 528};
    static const int Ks[] = {4, 8, 60, 64, 68, 128, 508, 512, 516, 2048};
    tu_rng r = {7};
    int count = 0;
    for (size_t ik = 0; ik < sizeof Ks / sizeof Ks[0]; ik++)
        for (size_t in = 0; in < sizeof Ns / sizeof Ns[0]; in++)
            for (size_t im = 0; im < sizeof Ms / sizeof Ms[0]; im++) {
                int v = (int)(ik + in + im);
                size_t lda_extra = (size_t)(v % 3) * 64; /* tight, +64, +128 */
                size_t ldc_extra = v % 2 ? 0 : (size_t)(v % 5) * 3 + 1;
                size_t coff = (size_t)(v % 4); /* C aligned to 4, 8, 12, 16 bytes mod 64 */
                enum fill f = v % 4 == 0 ? FILL_EXTREME_MIX : FILL_RANDOM;
                problem p = make_problem(&r, Ms[im], Ns[in], Ks[ik], lda_extra, ldc_extra, coff, f,
                                         0, f, 0);
                check_gemm(k, &p);
                free_problem(&p);
                count++;
            }
    print_message("kernel %s: %d shapes bit-exact\n", k->name, count);
}

/* Random shapes, strides and offsets. */
static void test_gemm_random(void **state)
{
    const cim_kernel *k = kernel_or_skip(state);
    tu_rng r = {2024};
    for (int it = 0; it < 150; it++) {
        int M = tu_range(&r, 1, 80);
        int Np = 16 * tu_range(&r, 1, 40);
        int Kp = 4 * tu_range(&r, 1, 300);
        problem p = make_problem(&r, M, Np, Kp, (size_t)tu_range(&r, 0, 2) * 64,
                                 (size_t)tu_range(&r, 0, 1) * (size_t)tu_range(&r, 1, 40),
                                 (size_t)tu_range(&r, 0, 15), FILL_RANDOM, 0,
                                 it % 3 ? FILL_RANDOM : FILL_EXTREME_MIX, 0);
        check_gemm(k, &p);
        free_problem(&p);
    }
}

/* Constant extremes, up to the deepest Kp the contract allows (the sums
 * reach -2^31 + 32768). */
static void test_gemm_extremes(void **state)
{
    const cim_kernel *k = kernel_or_skip(state);
    tu_rng r = {99};
    static const int Kps[] = {4, 64, 516, 2048, 32768, KP_MAX};
    static const struct {
        enum fill fa;
        int ca;
        enum fill fb;
        int cb;
    } cases[] = {
        {FILL_CONST, 255, FILL_CONST, -128}, {FILL_CONST, 255, FILL_CONST, 127},
        {FILL_CONST, 0, FILL_RANDOM, 0},     {FILL_RANDOM, 0, FILL_CONST, 0},
        {FILL_CONST, 255, FILL_EXTREME_MIX, 0}, {FILL_CONST, 1, FILL_CONST, -1},
    };
    for (size_t ik = 0; ik < sizeof Kps / sizeof Kps[0]; ik++)
        for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
            /* Full and partial row blocks, even and odd panel counts. */
            int big = Kps[ik] > 4096;
            int M = big ? (c % 2 ? 9 : 7) : (c % 2 ? 17 : 15);
            int Np = big ? (c % 2 ? 48 : 32) : (c % 2 ? 112 : 144);
            problem p = make_problem(&r, M, Np, Kps[ik], 64 * (c % 2), c % 3, c % 4, cases[c].fa,
                                     cases[c].ca, cases[c].fb, cases[c].cb);
            if (cases[c].fa == FILL_CONST && cases[c].fb == FILL_CONST) {
                /* Know the answer without any kernel. */
                int32_t *want = naive_gemm(&p);
                int64_t exact = (int64_t)Kps[ik] * cases[c].ca * cases[c].cb;
                assert_int_equal(want[0], exact);
                free(want);
            }
            check_gemm(k, &p);
            free_problem(&p);
        }
    /* The most negative sum possible. */
    assert_int_equal((int64_t)KP_MAX * 255 * -128 > (int64_t)INT32_MIN, 1);
    assert_int_equal((int64_t)(KP_MAX + 4) * 255 * -128 < (int64_t)INT32_MIN, 1);
}

static void test_dot(void **state)
{
    const cim_kernel *k = kernel_or_skip(state);
    tu_rng r = {5};
    char msg[256];
    static const int Ks[] = {64, 128, 192, 256, 320, 448, 512, 1024, 2048, 4160, 32768, KP_MAX};
    for (size_t i = 0; i < sizeof Ks / sizeof Ks[0]; i++) {
        int n = Ks[i];
        assert_true(n % 64 == 0);
        uint8_t *a = xalloc64((size_t)n);
        int8_t *b = xalloc64((size_t)n);
        for (int c = 0; c < 7; c++) {
            for (int j = 0; j < n; j++) {
                switch (c) {
                case 0: a[j] = 255; b[j] = -128; break;
                case 1: a[j] = 255; b[j] = 127; break;
                case 2: a[j] = 0; b[j] = gen_b(&r, FILL_RANDOM, 0); break;
                case 3: a[j] = gen_a(&r, FILL_RANDOM, 0); b[j] = 0; break;
                case 4: a[j] = gen_a(&r, FILL_EXTREME_MIX, 0); b[j] = gen_b(&r, FILL_EXTREME_MIX, 0); break;
                default: a[j] = gen_a(&r, FILL_RANDOM, 0); b[j] = gen_b(&r, FILL_RANDOM, 0); break;
                }
            }
            if (dot_problem(k, n, a, b, msg, sizeof msg))
                fail_msg("%s (case %d)", msg, c);
            if (c == 0)
                assert_int_equal(k->dot_u8s8(n, a, b), (int64_t)n * 255 * -128);
        }
        free(a);
        free(b);
    }
}

/* One column's sums (dots) against an int64 naive sum: row lengths Kp of
 * 4..16 (the four-rows-per-vector path) and longer ones with partial last
 * steps, row counts with short last groups, rows starting at any offset
 * (unaligned) with nonzero bytes after Kp and a b with nonzero bytes after Kp
 * (neither may count), random and extreme data. */
static void test_dots(void **state)
{
    const cim_kernel *k = kernel_or_skip(state);
    tu_rng r = {13};
    static const int Ks[] = {4, 8, 12, 16, 20, 36, 60, 64, 68, 128, 516, 576, 2048};
    static const int Ms[] = {1, 3, 4, 5, 15, 16, 17, 33, 100};
    for (size_t ik = 0; ik < sizeof Ks / sizeof Ks[0]; ik++)
        for (size_t im = 0; im < sizeof Ms / sizeof Ms[0]; im++) {
            const int Kp = Ks[ik], M = Ms[im], off = (int)((ik + im) % 5);
            const size_t lda = (size_t)Kp + 64 - (size_t)Kp % 64 + 64 * (im % 2);
            enum fill f = (ik + im) % 3 == 0 ? FILL_EXTREME_MIX : FILL_RANDOM;
            const size_t na = lda * (size_t)M + 64, nb = (size_t)Kp + 64 - (size_t)Kp % 64 + 64;
            uint8_t *A = xalloc64(na);
            int8_t *b = xalloc64(nb);
            int32_t *out = malloc(sizeof(int32_t) * (size_t)M);
            assert_non_null(out);
            for (size_t i = 0; i < na; i++)
                A[i] = gen_a(&r, f, 0) | 1; /* nonzero everywhere, past Kp too */
            for (size_t i = 0; i < nb; i++)
                b[i] = i < (size_t)Kp ? gen_b(&r, f, 0) : 77;
            const uint8_t *Ao = A + off; /* rows at any offset */
            const int8_t *bo = b + (im % 3);
            if (im % 3)
                memmove(b + (im % 3), b, (size_t)Kp); /* b at an odd offset, the rest still nonzero */
            k->dots(M, Kp, Ao, lda, bo, out);
            for (int m = 0; m < M; m++) {
                int64_t want = 0;
                for (int x = 0; x < Kp; x++)
                    want += (int64_t)Ao[(size_t)m * lda + (size_t)x] * bo[x];
                if (out[m] != want)
                    fail_msg("kernel %s dots M=%d Kp=%d lda=%zu offset %d: row %d = %d, expected %ld", k->name, M, Kp,
                             lda, off, m, out[m], (long)want);
            }
            free(A);
            free(b);
            free(out);
        }
}

/* Gathered dot products against an int64 naive sum: every plane count 1..9
 * (the kernels group planes by four), bit fields of every shift with full
 * and random masks (and whole bytes) of inputs of 1..8 bits, counts with short last groups, sorted
 * and unsorted entries, random rows and runs of 2-11 entries of one row (the
 * order recovery passes them in), random and extreme data, strided rows and columns,
 * with and without the second matrix (whose sums must be its own). */
static void test_gather_dots(void **state)
{
    const cim_kernel *k = kernel_or_skip(state);
    tu_rng r = {11};
    static const int Ks[] = {64, 128, 512, 576, 2048};
    static const int counts[] = {1, 2, 3, 4, 5, 7, 8, 13, 64, 101};
    for (int runs = 0; runs <= 1; runs++)
    for (int two = 0; two <= 1; two++)
        for (size_t ik = 0; ik < sizeof Ks / sizeof Ks[0]; ik++)
            for (size_t ic = 0; ic < sizeof counts / sizeof counts[0]; ic++) {
                const int Kp = Ks[ik], count = counts[ic], rows = 9, cols = 23;
                const int nplanes = 1 + (int)((ik + ic + (size_t)two) % 9);
                const size_t lda = (size_t)Kp + 64 * (ic % 2), ldb = (size_t)Kp + 64 * (ik % 2);
                const size_t n = (size_t)count * (size_t)nplanes;
                const int abits = 1 + (int)((ik * 3 + ic + (size_t)two) % 8); /* bytes below 2^abits */
                enum fill f = (ik + ic) % 3 == 0 ? FILL_EXTREME_MIX : FILL_RANDOM;
                uint8_t *A = xalloc64(lda * (size_t)rows), shift[9], mask[9];
                int8_t *B = xalloc64(ldb * (size_t)cols), *B2 = xalloc64(ldb * (size_t)cols);
                uint32_t *row = malloc(sizeof(uint32_t) * (size_t)count), *col = malloc(sizeof(uint32_t) * (size_t)count);
                int32_t *out = malloc(sizeof(int32_t) * n), *out2 = malloc(sizeof(int32_t) * n);
                assert_non_null(row);
                assert_non_null(col);
                assert_non_null(out);
                assert_non_null(out2);
                for (int p = 0; p < nplanes; p++) {
                    shift[p] = (uint8_t)((p + (int)ik) % 8);
                    unsigned full = 255u >> shift[p];
                    mask[p] = (uint8_t)(p % 3 == 0 ? full : p % 3 == 1 ? 1u : (unsigned)tu_range(&r, 0, (int)full));
                }
                for (size_t i = 0; i < lda * (size_t)rows; i++)
                    A[i] = (uint8_t)(gen_a(&r, f, 0) & ((1u << abits) - 1));
                for (size_t i = 0; i < ldb * (size_t)cols; i++) {
                    B[i] = gen_b(&r, f, 0);
                    B2[i] = gen_b(&r, FILL_RANDOM, 0);
                }
                const int runlen = 2 + (int)((ik + ic) % 10); /* the ADC stage's order: runs of one row */
                for (int e = 0; e < count; e++) {
                    row[e] = runs ? (uint32_t)(e / runlen % rows) : (uint32_t)tu_range(&r, 0, rows - 1);
                    col[e] = ic % 2 ? (uint32_t)(e * cols / count) : (uint32_t)tu_range(&r, 0, cols - 1);
                }
                k->gather_dots(Kp, nplanes, A, lda, abits, shift, mask, B, two ? B2 : NULL, ldb, count, row, col, out,
                               two ? out2 : NULL);
                for (int m = 0; m <= two; m++)
                    for (int p = 0; p < nplanes; p++)
                        for (int e = 0; e < count; e++) {
                            const uint8_t *a = A + row[e] * lda;
                            const int8_t *b = (m ? B2 : B) + col[e] * ldb;
                            int64_t want = 0;
                            for (int x = 0; x < Kp; x++)
                                want += (int64_t)((a[x] >> shift[p]) & mask[p]) * b[x];
                            int32_t got = (m ? out2 : out)[(size_t)p * (size_t)count + (size_t)e];
                            if (got != want)
                                fail_msg("kernel %s gather Kp=%d count=%d planes=%d abits=%d runs %d matrix %d: plane %d "
                                         "(shift %d mask %d) entry %d (row %u col %u) = %ld, expected %ld", k->name, Kp,
                                         count, nplanes, abits, runs, m + 1, p, shift[p], mask[p], e, row[e], col[e],
                                         (long)got, (long)want);
                        }
                free(A);
                free(B);
                free(B2);
                free(row);
                free(col);
                free(out);
                free(out2);
            }
}

/* ---- main: the fixed tests, then each test for each kernel ---- */

#define MAX_KERNELS 8
static const struct {
    const char *what;
    CMUnitTestFunction fn;
} per_kernel[] = {
    {"gemm_hand", test_gemm_hand},         {"gemm_shapes", test_gemm_shapes},
    {"gemm_random", test_gemm_random},     {"gemm_extremes", test_gemm_extremes},
    {"dot", test_dot},                     {"gather_dots", test_gather_dots},
    {"dots", test_dots},
};
#define N_PER_KERNEL (sizeof per_kernel / sizeof per_kernel[0])

int main(void)
{
    static struct CMUnitTest tests[4 + MAX_KERNELS * N_PER_KERNEL];
    static char names[MAX_KERNELS * N_PER_KERNEL][64];
    size_t n = 0;
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_pack_offset);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_kernel_list);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_checker_catches_wrong_kernels);
#ifdef CIMSIM_HAVE_CUDA
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_cuda_api);
#endif
    size_t nn = 0;
    const cim_kernel *const *list = cim_kernel_list();
    for (int i = 0; list[i] && i < MAX_KERNELS; i++)
        for (size_t t = 0; t < N_PER_KERNEL; t++) {
            snprintf(names[nn], sizeof names[nn], "%s/%s", per_kernel[t].what, list[i]->name);
            tests[n++] = (struct CMUnitTest){names[nn], per_kernel[t].fn, NULL, NULL,
                                             (void *)(uintptr_t)list[i]};
            nn++;
        }
    return _cmocka_run_group_tests("kernels", tests, n, NULL, NULL);
}
