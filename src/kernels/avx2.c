/* avx2.c: the AVX2 column-sum kernel.
 *
 * Compiled with -mavx2 -mfma -mbmi2; used only when supported() says the CPU
 * and the OS can run it.
 *
 * Exactness: vpmaddubsw would be the obvious instruction, but it saturates
 * its int16 pair sums (255 * -128 * 2 = -65280 does not fit), so this kernel
 * splits both operands into int16 lanes and uses vpmaddwd, which is exact:
 * each int32 lane gets x0 * y0 + x1 * y1 with |x * y| <= 255 * 128.
 *
 * gemm_u8s8: one (panel, k-group) of packed B is 64 bytes, 16 columns x 4 k,
 * so each 32-bit lane of a 256-bit load is one column's k0..k3. Read as int16
 * lanes, shifts alone split it into (k0, k2) and (k1, k3), sign-extended in
 * place (no shuffles, which are the scarce resource here). The 4 bytes of a
 * row of A are broadcast and split the same way, zero-extended (and, shift).
 * Two vpmaddwd then give, in each 32-bit lane, a0 b0 + a2 b2 and
 * a1 b1 + a3 b3 for that lane's column: with one add, the column's k-group
 * sum, already in column order. Every partial sum is exact and the int32 adds
 * wrap, so the result equals the true sum whenever that fits int32 (the
 * framework guarantees it).
 *
 * Register blocking: MR = 3 rows x one panel of 16 columns: 6 accumulators,
 * 4 split B vectors, 2 split A vectors and temporaries in the 16 ymm
 * registers (4 rows spill one accumulator). Panels outer, rows inner, so one
 * panel (Kp * 16 bytes) stays in L1.
 */
#include <immintrin.h>
#include <string.h>
#include "kernel.h"
#include "cpu.h"

#define PANEL_GROUP_BYTES (CIM_KERNEL_NR * CIM_KERNEL_KR) /* 64 */
#define MR 3 /* rows of A per micro-tile */

#if defined(__GNUC__)
#define CIM_ALWAYS_INLINE inline __attribute__((always_inline))
#define CIM_NOINLINE __attribute__((noinline))
#else
#define CIM_ALWAYS_INLINE inline
#define CIM_NOINLINE
#endif

/* Signed bytes, as int16 lanes w = b_lo | b_hi << 8: the even bytes (b_lo)
 * and the odd bytes (b_hi), each sign-extended to int16 in place. */
static CIM_ALWAYS_INLINE __m256i even_s8(__m256i w)
{
    return _mm256_srai_epi16(_mm256_slli_epi16(w, 8), 8);
}
static CIM_ALWAYS_INLINE __m256i odd_s8(__m256i w) { return _mm256_srai_epi16(w, 8); }
/* The same for unsigned bytes, zero-extended. */
static CIM_ALWAYS_INLINE __m256i even_u8(__m256i w)
{
    return _mm256_and_si256(w, _mm256_set1_epi16(0xff));
}
static CIM_ALWAYS_INLINE __m256i odd_u8(__m256i w) { return _mm256_srli_epi16(w, 8); }

static CIM_ALWAYS_INLINE __m256i bcast4(const uint8_t *p)
{
    int32_t v;
    memcpy(&v, p, sizeof v);
    return _mm256_set1_epi32(v);
}

/* One micro-tile: rows [0, mr) of A (mr <= MR) times one panel (16 columns)
 * over the full depth, stored to C. mr is a compile-time constant at every
 * call site; accumulators are named variables so they live in registers. */
static CIM_ALWAYS_INLINE void tile(const int mr, int G, const uint8_t *A, size_t lda,
                                   const int8_t *B, int32_t *C, size_t ldc)
{
#define DECL(r)                                                                                  \
    __m256i x##r##_0 = _mm256_setzero_si256(), x##r##_1 = _mm256_setzero_si256();                \
    const uint8_t *a##r = mr > (r) ? A + (size_t)(r) * lda : A;
    DECL(0) DECL(1) DECL(2)
#undef DECL

#pragma GCC unroll 2
    for (int g = 0; g < G; g++) {
        const int8_t *b = B + (size_t)g * PANEL_GROUP_BYTES;
        /* Columns 0-7 and 8-15; per column the 4 bytes k0..k3. */
        const __m256i w0 = _mm256_loadu_si256((const __m256i *)(const void *)b);
        const __m256i w1 = _mm256_loadu_si256((const __m256i *)(const void *)(b + 32));
        const __m256i be0 = even_s8(w0), bo0 = odd_s8(w0); /* (k0, k2), (k1, k3) */
        const __m256i be1 = even_s8(w1), bo1 = odd_s8(w1);
        const size_t ko = (size_t)g * CIM_KERNEL_KR;
#define STEP(r)                                                                                  \
        if (mr > (r)) {                                                                          \
            const __m256i d = bcast4(a##r + ko);                                                 \
            const __m256i ae = even_u8(d), ao = odd_u8(d);                                       \
            x##r##_0 = _mm256_add_epi32(x##r##_0, _mm256_madd_epi16(ae, be0));                   \
            x##r##_1 = _mm256_add_epi32(x##r##_1, _mm256_madd_epi16(ae, be1));                   \
            x##r##_0 = _mm256_add_epi32(x##r##_0, _mm256_madd_epi16(ao, bo0));                   \
            x##r##_1 = _mm256_add_epi32(x##r##_1, _mm256_madd_epi16(ao, bo1));                   \
        }
        STEP(0) STEP(1) STEP(2)
#undef STEP
    }

#define STORE(r)                                                                                 \
    if (mr > (r)) {                                                                              \
        _mm256_storeu_si256((__m256i *)(void *)(C + (size_t)(r) * ldc), x##r##_0);               \
        _mm256_storeu_si256((__m256i *)(void *)(C + (size_t)(r) * ldc + 8), x##r##_1);           \
    }
    STORE(0) STORE(1) STORE(2)
#undef STORE
}

typedef void (*tile_fn)(int, const uint8_t *, size_t, const int8_t *, int32_t *, size_t);

#define DEFINE_TILE(R)                                                                           \
    CIM_NOINLINE static void tile_##R(int G, const uint8_t *A, size_t lda, const int8_t *B,        \
                                      int32_t *C, size_t ldc)                                    \
    {                                                                                            \
        tile(R, G, A, lda, B, C, ldc);                                                           \
    }
DEFINE_TILE(1)
DEFINE_TILE(2)
DEFINE_TILE(3)

static const tile_fn tiles[MR] = {tile_1, tile_2, tile_3};

static void avx2_gemm_u8s8(int M, int Np, int Kp, const uint8_t *A, size_t lda, const int8_t *Bp,
                           int32_t *C, size_t ldc)
{
    const int G = Kp / CIM_KERNEL_KR;
    const int P = Np / CIM_KERNEL_NR;
    const size_t pstride = (size_t)G * PANEL_GROUP_BYTES;
    /* Panels outer: one panel (Kp * 16 bytes) stays in L1 across the rows. */
    for (int p = 0; p < P; p++) {
        const int8_t *B = Bp + (size_t)p * pstride;
        int32_t *Cp = C + (size_t)p * CIM_KERNEL_NR;
        for (int m = 0; m < M; m += MR) {
            const int mr = M - m < MR ? M - m : MR;
            tiles[mr - 1](G, A + (size_t)m * lda, lda, B, Cp + (size_t)m * ldc, ldc);
        }
    }
}

static int32_t avx2_dot_u8s8(int Kp64, const uint8_t *a, const int8_t *b)
{
    __m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0;
    for (int k = 0; k < Kp64; k += 64) {
        const __m256i a0 = _mm256_loadu_si256((const __m256i *)(const void *)(a + k));
        const __m256i a1 = _mm256_loadu_si256((const __m256i *)(const void *)(a + k + 32));
        const __m256i b0 = _mm256_loadu_si256((const __m256i *)(const void *)(b + k));
        const __m256i b1 = _mm256_loadu_si256((const __m256i *)(const void *)(b + k + 32));
        s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(even_u8(a0), even_s8(b0)));
        s1 = _mm256_add_epi32(s1, _mm256_madd_epi16(odd_u8(a0), odd_s8(b0)));
        s2 = _mm256_add_epi32(s2, _mm256_madd_epi16(even_u8(a1), even_s8(b1)));
        s3 = _mm256_add_epi32(s3, _mm256_madd_epi16(odd_u8(a1), odd_s8(b1)));
    }
    /* Wrap-around adds: exact, since the true sum fits int32. */
    __m256i s = _mm256_add_epi32(_mm256_add_epi32(s0, s1), _mm256_add_epi32(s2, s3));
    __m128i t = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
    t = _mm_add_epi32(t, _mm_shuffle_epi32(t, _MM_SHUFFLE(1, 0, 3, 2)));
    t = _mm_add_epi32(t, _mm_shuffle_epi32(t, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm_cvtsi128_si32(t);
}

/* One entry at a time: each plane's bit field is extracted from the bytes
 * (16-bit shift, byte mask), widened to 16 bits and multiplied with vpmaddwd
 * (exact; vpmaddubsw could saturate). AVX2 machines without VNNI are not
 * the fast path, and recoveries are a minor part of their time. */
static void avx2_gather_dots(int Kp64, int nplanes, const uint8_t *A, size_t lda, int abits,
                            const uint8_t *shift,
                             const uint8_t *mask, const int8_t *Bc, const int8_t *Bc2, size_t ldb, int count,
                             const uint32_t *row, const uint32_t *col, int32_t *out, int32_t *out2)
{
    (void)abits;
    for (int f = 0; f < count; f++) {
        const uint8_t *a = A + (size_t)row[f] * lda;
        for (int p = 0; p < nplanes; p++) {
            const __m128i sh = _mm_cvtsi32_si128(shift[p]);
            const __m256i mk = _mm256_set1_epi8((char)mask[p]);
            for (int m = 0; m < (Bc2 ? 2 : 1); m++) {
                const int8_t *b = (m ? Bc2 : Bc) + (size_t)col[f] * ldb;
                __m256i acc = _mm256_setzero_si256();
                for (int k = 0; k < Kp64; k += 32) {
                    __m256i av = _mm256_and_si256(_mm256_srl_epi16(_mm256_load_si256((const __m256i *)(const void *)(a + k)), sh), mk);
                    __m256i bv = _mm256_load_si256((const __m256i *)(const void *)(b + k));
                    /* widen to 16 bits: a zero-extended, b sign-extended */
                    __m256i alo = _mm256_cvtepu8_epi16(_mm256_castsi256_si128(av));
                    __m256i ahi = _mm256_cvtepu8_epi16(_mm256_extracti128_si256(av, 1));
                    __m256i blo = _mm256_cvtepi8_epi16(_mm256_castsi256_si128(bv));
                    __m256i bhi = _mm256_cvtepi8_epi16(_mm256_extracti128_si256(bv, 1));
                    acc = _mm256_add_epi32(acc, _mm256_madd_epi16(alo, blo));
                    acc = _mm256_add_epi32(acc, _mm256_madd_epi16(ahi, bhi));
                }
                __m128i t = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
                t = _mm_add_epi32(t, _mm_shuffle_epi32(t, _MM_SHUFFLE(1, 0, 3, 2)));
                t = _mm_add_epi32(t, _mm_shuffle_epi32(t, _MM_SHUFFLE(2, 3, 0, 1)));
                (m ? out2 : out)[(size_t)p * (size_t)count + (size_t)f] = _mm_cvtsi128_si32(t);
            }
        }
    }
}

/* One row at a time, 16 bytes per step widened to 16 bits (exact); the last
 * partial step from zero-padded copies, so nothing past Kp is read. */
static void avx2_dots(int M, int Kp, const uint8_t *A, size_t lda, const int8_t *b, int32_t *out)
{
    for (int m = 0; m < M; m++) {
        const uint8_t *a = A + (size_t)m * lda;
        __m256i acc = _mm256_setzero_si256();
        for (int k = 0; k < Kp; k += 16) {
            __m128i av, bv;
            if (k + 16 <= Kp) {
                av = _mm_loadu_si128((const __m128i *)(const void *)(a + k));
                bv = _mm_loadu_si128((const __m128i *)(const void *)(b + k));
            } else {
                uint8_t ta[16] = {0};
                int8_t tb[16] = {0};
                memcpy(ta, a + k, (size_t)(Kp - k));
                memcpy(tb, b + k, (size_t)(Kp - k));
                av = _mm_loadu_si128((const __m128i *)(const void *)ta);
                bv = _mm_loadu_si128((const __m128i *)(const void *)tb);
            }
            acc = _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_cvtepu8_epi16(av), _mm256_cvtepi8_epi16(bv)));
        }
        __m128i t = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
        t = _mm_add_epi32(t, _mm_shuffle_epi32(t, _MM_SHUFFLE(1, 0, 3, 2)));
        t = _mm_add_epi32(t, _mm_shuffle_epi32(t, _MM_SHUFFLE(2, 3, 0, 1)));
        out[m] = _mm_cvtsi128_si32(t);
    }
}

CIM_BASELINE_ISA static int avx2_supported(void)
{
    cim_cpu c;
    cim_cpu_detect(&c);
    return c.os_avx && c.fma && c.avx2 && c.bmi2;
}

const cim_kernel cim_kernel_avx2 = {
    .name = "avx2",
    .gemm_u8s8 = avx2_gemm_u8s8,
    .dot_u8s8 = avx2_dot_u8s8,
    .gather_dots = avx2_gather_dots,
    .supported = avx2_supported,
    .dots = avx2_dots,
};
