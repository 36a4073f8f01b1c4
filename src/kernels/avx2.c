/* avx2.c: the AVX2 column-sum kernel.
 *
 * Compiled with -mavx2 -mfma -mbmi2; used only when supported() says the CPU
 * and the OS can run it.
 *
 * Exactness: vpmaddubsw would be the obvious instruction, but it saturates
 * its int16 pair sums (255 * -128 * 2 = -65280 does not fit), so this kernel
 * widens both operands to int16 and uses vpmaddwd, which is exact: each int32
 * lane gets a0 * b0 + a1 * b1 with |a * b| <= 255 * 128.
 *
 * gemm_u8s8: one (panel, k-group) of packed B is 64 bytes, 16 columns x 4 k.
 * vpmovsxbw widens 16 of those bytes (4 columns x 4 k) to one ymm of int16;
 * the 4 bytes of a row of A for the k-group are broadcast and widened to the
 * matching pattern (a0 a1 a2 a3 repeated). vpmaddwd then yields, per column,
 * two int32 partial sums (k0 + k1 and k2 + k3), which are accumulated as they
 * are over the whole depth; one horizontal add at the end folds each pair.
 * The partial sums stay exact because they are sums of a subset of the
 * products, and the int32 adds wrap, so the folded sum equals the true sum
 * whenever the true sum fits int32 (the framework guarantees that).
 *
 * Register blocking: MR = 2 rows x one panel of 16 columns: 8 accumulators,
 * 4 widened B vectors and 2 A patterns, all in the 16 ymm registers.
 */
#include <cpuid.h>
#include <immintrin.h>
#include <string.h>
#include "kernel.h"

#define PANEL_GROUP_BYTES (CIM_KERNEL_NR * CIM_KERNEL_KR) /* 64 */

#if defined(__GNUC__)
#define CIM_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define CIM_ALWAYS_INLINE inline
#endif

/* 4 bytes of A -> 16 x int16: a0 a1 a2 a3 a0 a1 a2 a3 ... */
static CIM_ALWAYS_INLINE __m256i a_pattern(const uint8_t *p)
{
    int32_t v;
    memcpy(&v, p, sizeof v);
    return _mm256_cvtepu8_epi16(_mm_set1_epi32(v));
}

/* 16 bytes of packed B (4 columns x 4 k) -> 16 x int16. */
static CIM_ALWAYS_INLINE __m256i b_widen(const int8_t *p)
{
    return _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)p));
}

/* Fold the pair sums of one row of one panel and store its 16 columns.
 * acc[q] holds columns 4q..4q+3 as (p0 p1 for c, p0 p1 for c+1 | same for c+2, c+3). */
static CIM_ALWAYS_INLINE void store_row(int32_t *c, __m256i acc0, __m256i acc1, __m256i acc2,
                                        __m256i acc3)
{
    /* hadd(acc0, acc1) = [c0 c1 c4 c5 | c2 c3 c6 c7] */
    __m256i lo = _mm256_hadd_epi32(acc0, acc1);
    __m256i hi = _mm256_hadd_epi32(acc2, acc3);
    lo = _mm256_permute4x64_epi64(lo, _MM_SHUFFLE(3, 1, 2, 0));
    hi = _mm256_permute4x64_epi64(hi, _MM_SHUFFLE(3, 1, 2, 0));
    _mm256_storeu_si256((__m256i *)(void *)c, lo);
    _mm256_storeu_si256((__m256i *)(void *)(c + 8), hi);
}

static void tile_2(int G, const uint8_t *A, size_t lda, const int8_t *B, int32_t *C, size_t ldc)
{
    __m256i x0 = _mm256_setzero_si256(), x1 = x0, x2 = x0, x3 = x0;
    __m256i y0 = x0, y1 = x0, y2 = x0, y3 = x0;
    const uint8_t *a0 = A, *a1 = A + lda;
    for (int g = 0; g < G; g++) {
        const int8_t *b = B + (size_t)g * PANEL_GROUP_BYTES;
        __m256i w0 = b_widen(b), w1 = b_widen(b + 16), w2 = b_widen(b + 32), w3 = b_widen(b + 48);
        __m256i p = a_pattern(a0 + (size_t)g * CIM_KERNEL_KR);
        x0 = _mm256_add_epi32(x0, _mm256_madd_epi16(p, w0));
        x1 = _mm256_add_epi32(x1, _mm256_madd_epi16(p, w1));
        x2 = _mm256_add_epi32(x2, _mm256_madd_epi16(p, w2));
        x3 = _mm256_add_epi32(x3, _mm256_madd_epi16(p, w3));
        __m256i q = a_pattern(a1 + (size_t)g * CIM_KERNEL_KR);
        y0 = _mm256_add_epi32(y0, _mm256_madd_epi16(q, w0));
        y1 = _mm256_add_epi32(y1, _mm256_madd_epi16(q, w1));
        y2 = _mm256_add_epi32(y2, _mm256_madd_epi16(q, w2));
        y3 = _mm256_add_epi32(y3, _mm256_madd_epi16(q, w3));
    }
    store_row(C, x0, x1, x2, x3);
    store_row(C + ldc, y0, y1, y2, y3);
}

static void tile_1(int G, const uint8_t *A, const int8_t *B, int32_t *C)
{
    __m256i x0 = _mm256_setzero_si256(), x1 = x0, x2 = x0, x3 = x0;
    for (int g = 0; g < G; g++) {
        const int8_t *b = B + (size_t)g * PANEL_GROUP_BYTES;
        __m256i p = a_pattern(A + (size_t)g * CIM_KERNEL_KR);
        x0 = _mm256_add_epi32(x0, _mm256_madd_epi16(p, b_widen(b)));
        x1 = _mm256_add_epi32(x1, _mm256_madd_epi16(p, b_widen(b + 16)));
        x2 = _mm256_add_epi32(x2, _mm256_madd_epi16(p, b_widen(b + 32)));
        x3 = _mm256_add_epi32(x3, _mm256_madd_epi16(p, b_widen(b + 48)));
    }
    store_row(C, x0, x1, x2, x3);
}

static void avx2_gemm_u8s8(int M, int Np, int Kp, const uint8_t *A, size_t lda, const int8_t *Bp,
                           int32_t *C, size_t ldc)
{
    const int G = Kp / CIM_KERNEL_KR;
    const int P = Np / CIM_KERNEL_NR;
    const size_t pstride = (size_t)G * PANEL_GROUP_BYTES;
    for (int p = 0; p < P; p++) {
        const int8_t *B = Bp + (size_t)p * pstride;
        int32_t *Cp = C + (size_t)p * CIM_KERNEL_NR;
        int m = 0;
        for (; m + 2 <= M; m += 2)
            tile_2(G, A + (size_t)m * lda, lda, B, Cp + (size_t)m * ldc, ldc);
        if (m < M)
            tile_1(G, A + (size_t)m * lda, B, Cp + (size_t)m * ldc);
    }
}

static int32_t avx2_dot_u8s8(int Kp64, const uint8_t *a, const int8_t *b)
{
    __m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0;
    for (int k = 0; k < Kp64; k += 64) {
        const uint8_t *pa = a + k;
        const int8_t *pb = b + k;
        s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(
                                      _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(const void *)pa)),
                                      _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)pb))));
        s1 = _mm256_add_epi32(s1, _mm256_madd_epi16(
                                      _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(pa + 16))),
                                      _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(pb + 16)))));
        s2 = _mm256_add_epi32(s2, _mm256_madd_epi16(
                                      _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(pa + 32))),
                                      _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(pb + 32)))));
        s3 = _mm256_add_epi32(s3, _mm256_madd_epi16(
                                      _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(pa + 48))),
                                      _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(pb + 48)))));
    }
    __m256i s = _mm256_add_epi32(_mm256_add_epi32(s0, s1), _mm256_add_epi32(s2, s3));
    __m128i t = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
    t = _mm_add_epi32(t, _mm_shuffle_epi32(t, _MM_SHUFFLE(1, 0, 3, 2)));
    t = _mm_add_epi32(t, _mm_shuffle_epi32(t, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm_cvtsi128_si32(t);
}

/* supported() runs before anything has checked the CPU, so keep the
 * compiler from using any of this file's extensions in it. */
#if defined(__GNUC__) && !defined(__clang__)
#define CIM_BASELINE_ISA __attribute__((target("no-avx2,no-avx,no-fma,no-bmi2")))
#else
#define CIM_BASELINE_ISA
#endif

CIM_BASELINE_ISA static uint64_t read_xcr0(void)
{
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

CIM_BASELINE_ISA static int avx2_supported(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d))
        return 0;
    /* FMA (12), OSXSAVE (27), AVX (28). */
    const unsigned need_ecx = (1u << 12) | (1u << 27) | (1u << 28);
    if ((c & need_ecx) != need_ecx)
        return 0;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
        return 0;
    const unsigned need_ebx = (1u << 5) /* AVX2 */ | (1u << 8) /* BMI2 */;
    if ((b & need_ebx) != need_ebx)
        return 0;
    /* XCR0: SSE (1) and AVX (2) state enabled by the OS. */
    return (read_xcr0() & 6u) == 6u;
}

const cim_kernel cim_kernel_avx2 = {
    .name = "avx2",
    .gemm_u8s8 = avx2_gemm_u8s8,
    .dot_u8s8 = avx2_dot_u8s8,
    .supported = avx2_supported,
};
