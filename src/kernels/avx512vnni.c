/* avx512vnni.c: the AVX-512 VNNI column-sum kernel.
 *
 * Compiled with -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512vnni
 * -mavx2 -mfma -mbmi2; used only when supported() says the CPU and the OS
 * can run it.
 *
 * gemm_u8s8: one packed-B (p16k4) vector per (panel, k-group) is exactly the
 * signed operand of vpdpbusd; the unsigned operand is 4 bytes of a row of A
 * broadcast to all 16 lanes. vpdpbusd (not the saturating vpdpbusds) adds the
 * four u8 x s8 products to each int32 lane with wrap-around, so every partial
 * sum is exact whenever the final sum fits int32, which the framework
 * guarantees (Kp * 255 * 128 < 2^31). (Under that bound no partial sum can
 * reach the int32 limits either, so vpdpbusds would give the same bits; the
 * tests cannot tell the two apart, and need not.)
 *
 * Register blocking: MR rows of A x NP panels of 16 columns, MR * NP zmm
 * accumulators held for the whole depth Kp, NP B vectors loaded once per
 * k-group and reused by the MR rows, rows of A read as 4-byte broadcasts.
 * The bulk tile is 8 x 2: 16 accumulators (enough independent vpdpbusd
 * chains to cover the latency at 2 per cycle), 2 B loads + 8 broadcasts per
 * 16 vpdpbusd. An odd last panel uses 8 x 1. The last M % 8 rows use tiles
 * as wide as keeps >= 8 chains where possible (1-2 rows x 8 panels, 3-4 x 4,
 * 5-7 x 2). Any M >= 1, Np multiple of 16, Kp multiple of 4 (the k loop is
 * unrolled by the compiler, with its own remainder).
 *
 * Loop order: panel pairs outer, row blocks inner, so one pair of B panels
 * (Kp * 32 bytes) stays in L1 while all rows of A stream past it.
 *
 * Measured on a Zen 5 EPYC (one thread): ~420-455 GMAC/s on the simulator's
 * tile shapes, 92-100% of a register-only vpdpbusd loop (~455 GMAC/s) and
 * 1.1-2.5x oneDNN 2.6's dnnl_gemm_u8s8s32 (bench/bench_kernels.c).
 */
#include <immintrin.h>
#include <string.h>
#include "kernel.h"
#include "cpu.h"

#define PANEL_GROUP_BYTES (CIM_KERNEL_NR * CIM_KERNEL_KR) /* 64: one (panel, k-group) */

#if defined(__GNUC__)
#define CIM_ALWAYS_INLINE inline __attribute__((always_inline))
#define CIM_NOINLINE __attribute__((noinline))
#else
#define CIM_ALWAYS_INLINE inline
#define CIM_NOINLINE
#endif

static CIM_ALWAYS_INLINE __m512i bcast4(const uint8_t *p)
{
    int32_t v;
    memcpy(&v, p, sizeof v);
    return _mm512_set1_epi32(v);
}

/* One micro-tile: rows [0, mr) of A (stride lda, mr <= 8) times panels
 * [0, np) of B (panel stride pstride bytes, np <= 8) over the full depth,
 * stored to C. mr and np are compile-time constants at every call site; the
 * accumulators are named variables (not an array) so that they certainly
 * live in registers, and the unused ones vanish. Tiles keep mr * np <= 16. */
#define FOR_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#define FOR_PANELS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)

static CIM_ALWAYS_INLINE void tile(const int mr, const int np, int G, const uint8_t *A, size_t lda,
                                   const int8_t *B, size_t pstride, int32_t *C, size_t ldc)
{
#define DECL_ROW(r)                                                                              \
    __m512i c##r##_0 = _mm512_setzero_si512(), c##r##_1 = c##r##_0, c##r##_2 = c##r##_0,         \
            c##r##_3 = c##r##_0, c##r##_4 = c##r##_0, c##r##_5 = c##r##_0, c##r##_6 = c##r##_0,  \
            c##r##_7 = c##r##_0;                                                                 \
    const uint8_t *a##r = mr > (r) ? A + (size_t)(r) * lda : A;
    FOR_ROWS(DECL_ROW)
#undef DECL_ROW
#define DECL_PANEL(j) const int8_t *B##j = np > (j) ? B + (size_t)(j) * pstride : B;
    FOR_PANELS(DECL_PANEL)
#undef DECL_PANEL

#pragma GCC unroll 4
    for (int g = 0; g < G; g++) {
        const size_t ko = (size_t)g * CIM_KERNEL_KR, bo = (size_t)g * PANEL_GROUP_BYTES;
#define LOAD_PANEL(j)                                                                            \
        const __m512i b##j = np > (j) ? _mm512_loadu_si512((const void *)(B##j + bo))            \
                                      : _mm512_setzero_si512();
        FOR_PANELS(LOAD_PANEL)
#undef LOAD_PANEL
#define FMA(r, j)                                                                                \
        if (np > (j))                                                                            \
            c##r##_##j = _mm512_dpbusd_epi32(c##r##_##j, av, b##j);
#define STEP_ROW(r)                                                                              \
        if (mr > (r)) {                                                                          \
            const __m512i av = bcast4(a##r + ko);                                                \
            FMA(r, 0) FMA(r, 1) FMA(r, 2) FMA(r, 3) FMA(r, 4) FMA(r, 5) FMA(r, 6) FMA(r, 7)      \
        }
        FOR_ROWS(STEP_ROW)
#undef STEP_ROW
#undef FMA
    }

#define STORE(r, j)                                                                              \
    if (np > (j))                                                                                \
        _mm512_storeu_si512((void *)(C + (size_t)(r) * ldc + (size_t)(j) * CIM_KERNEL_NR),       \
                            c##r##_##j);
#define STORE_ROW(r)                                                                             \
    if (mr > (r)) {                                                                              \
        STORE(r, 0) STORE(r, 1) STORE(r, 2) STORE(r, 3) STORE(r, 4) STORE(r, 5) STORE(r, 6)      \
        STORE(r, 7)                                                                              \
    }
    FOR_ROWS(STORE_ROW)
#undef STORE_ROW
#undef STORE
}

typedef void (*tile_fn)(int, const uint8_t *, size_t, const int8_t *, size_t, int32_t *, size_t);

#define DEFINE_TILE(MR, NP)                                                                      \
    CIM_NOINLINE static void tile_##MR##_##NP(int G, const uint8_t *A, size_t lda,                \
                                              const int8_t *B, size_t pstride, int32_t *C,       \
                                              size_t ldc)                                        \
    {                                                                                            \
        tile(MR, NP, G, A, lda, B, pstride, C, ldc);                                             \
    }

/* Bulk: 8 rows x 2 panels (16 accumulators, 2 B loads + 8 broadcasts per 16
 * vpdpbusd); an odd last panel: 8 rows x 1 panel. (16 x 1 was slower: 16 row
 * pointers do not fit the general-purpose registers.) */
DEFINE_TILE(8, 2)
DEFINE_TILE(8, 1)

/* The last M % 8 rows: as many panels per tile as keeps enough independent
 * accumulators in flight (1-2 rows x 8 panels, 3-4 x 4, 5-7 x 2), and the
 * narrower tiles for the panels left at the end. */
#define DEFINE_TILES_NP_1_2(MR) DEFINE_TILE(MR, 1) DEFINE_TILE(MR, 2)
#define DEFINE_TILES_NP_1_4(MR) DEFINE_TILES_NP_1_2(MR) DEFINE_TILE(MR, 3) DEFINE_TILE(MR, 4)
#define DEFINE_TILES_NP_1_8(MR)                                                                  \
    DEFINE_TILES_NP_1_4(MR) DEFINE_TILE(MR, 5) DEFINE_TILE(MR, 6) DEFINE_TILE(MR, 7)             \
    DEFINE_TILE(MR, 8)
DEFINE_TILES_NP_1_8(1)
DEFINE_TILES_NP_1_8(2)
DEFINE_TILES_NP_1_4(3)
DEFINE_TILES_NP_1_4(4)
DEFINE_TILES_NP_1_2(5)
DEFINE_TILES_NP_1_2(6)
DEFINE_TILES_NP_1_2(7)

#define TAIL_MR 7
#define TAIL_NP 8
static const int tail_np[TAIL_MR] = {8, 8, 4, 4, 2, 2, 2};
static const tile_fn tail_tiles[TAIL_MR][TAIL_NP] = {
    {tile_1_1, tile_1_2, tile_1_3, tile_1_4, tile_1_5, tile_1_6, tile_1_7, tile_1_8},
    {tile_2_1, tile_2_2, tile_2_3, tile_2_4, tile_2_5, tile_2_6, tile_2_7, tile_2_8},
    {tile_3_1, tile_3_2, tile_3_3, tile_3_4, NULL, NULL, NULL, NULL},
    {tile_4_1, tile_4_2, tile_4_3, tile_4_4, NULL, NULL, NULL, NULL},
    {tile_5_1, tile_5_2, NULL, NULL, NULL, NULL, NULL, NULL},
    {tile_6_1, tile_6_2, NULL, NULL, NULL, NULL, NULL, NULL},
    {tile_7_1, tile_7_2, NULL, NULL, NULL, NULL, NULL, NULL},
};

static void vnni_gemm_u8s8(int M, int Np, int Kp, const uint8_t *A, size_t lda, const int8_t *Bp,
                           int32_t *C, size_t ldc)
{
    const int G = Kp / CIM_KERNEL_KR;
    const int P = Np / CIM_KERNEL_NR;
    const size_t pstride = (size_t)G * PANEL_GROUP_BYTES;
    const int Mmain = M / 8 * 8;

    /* Rows [0, Mmain): panel pairs outer, so the pair (Kp * 32 bytes) stays
     * in L1 while the row blocks stream past it. */
    if (Mmain > 0) {
        int p = 0;
        for (; p + 2 <= P; p += 2) {
            const int8_t *B = Bp + (size_t)p * pstride;
            int32_t *Cp = C + (size_t)p * CIM_KERNEL_NR;
            for (int m = 0; m < Mmain; m += 8)
                tile_8_2(G, A + (size_t)m * lda, lda, B, pstride, Cp + (size_t)m * ldc, ldc);
        }
        if (p < P) {
            const int8_t *B = Bp + (size_t)p * pstride;
            int32_t *Cp = C + (size_t)p * CIM_KERNEL_NR;
            for (int m = 0; m < Mmain; m += 8)
                tile_8_1(G, A + (size_t)m * lda, lda, B, pstride, Cp + (size_t)m * ldc, ldc);
        }
    }

    /* Rows [Mmain, M). */
    const int mt = M - Mmain;
    if (mt > 0) {
        const uint8_t *At = A + (size_t)Mmain * lda;
        int32_t *Ct = C + (size_t)Mmain * ldc;
        for (int p = 0; p < P; p += tail_np[mt - 1]) {
            const int np = P - p < tail_np[mt - 1] ? P - p : tail_np[mt - 1];
            tail_tiles[mt - 1][np - 1](G, At, lda, Bp + (size_t)p * pstride, pstride,
                                       Ct + (size_t)p * CIM_KERNEL_NR, ldc);
        }
    }
}

static int32_t vnni_dot_u8s8(int Kp64, const uint8_t *a, const int8_t *b)
{
    __m512i s0 = _mm512_setzero_si512(), s1 = _mm512_setzero_si512();
    __m512i s2 = _mm512_setzero_si512(), s3 = _mm512_setzero_si512();
    int k = 0;
    for (; k + 256 <= Kp64; k += 256) {
        s0 = _mm512_dpbusd_epi32(s0, _mm512_loadu_si512((const void *)(a + k)),
                                 _mm512_loadu_si512((const void *)(b + k)));
        s1 = _mm512_dpbusd_epi32(s1, _mm512_loadu_si512((const void *)(a + k + 64)),
                                 _mm512_loadu_si512((const void *)(b + k + 64)));
        s2 = _mm512_dpbusd_epi32(s2, _mm512_loadu_si512((const void *)(a + k + 128)),
                                 _mm512_loadu_si512((const void *)(b + k + 128)));
        s3 = _mm512_dpbusd_epi32(s3, _mm512_loadu_si512((const void *)(a + k + 192)),
                                 _mm512_loadu_si512((const void *)(b + k + 192)));
    }
    for (; k < Kp64; k += 64)
        s0 = _mm512_dpbusd_epi32(s0, _mm512_loadu_si512((const void *)(a + k)),
                                 _mm512_loadu_si512((const void *)(b + k)));
    /* Wrap-around adds: exact, since the true sum fits int32. */
    __m512i s = _mm512_add_epi32(_mm512_add_epi32(s0, s1), _mm512_add_epi32(s2, s3));
    return _mm512_reduce_add_epi32(s);
}

/* vpdpbusd acc += a (u8) . b (s8), as inline assembly: in the gather loops
 * below GCC 12 copied every accumulator out and back around the intrinsic
 * (two register moves per vpdpbusd, measured ~1.5x slower); the asm form
 * ties the accumulator to its register. Same instruction, same bits. */
static CIM_ALWAYS_INLINE __m512i dpbusd(__m512i acc, __m512i a, __m512i b)
{
    __asm__("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(a), "v"(b));
    return acc;
}

/* Sums of the 16 lanes of each of a, b, c, d, as 4 lanes. */
static CIM_ALWAYS_INLINE __m128i hsum4(__m512i a, __m512i b, __m512i c, __m512i d)
{
    /* per 128-bit lane: [a0+a2, b0+b2, a1+a3, b1+b3], the same for c, d */
    __m512i ab = _mm512_add_epi32(_mm512_unpacklo_epi32(a, b), _mm512_unpackhi_epi32(a, b));
    __m512i cd = _mm512_add_epi32(_mm512_unpacklo_epi32(c, d), _mm512_unpackhi_epi32(c, d));
    /* per 128-bit lane: [a, b, c, d] partial sums; then add the four lanes */
    __m512i s = _mm512_add_epi32(_mm512_unpacklo_epi64(ab, cd), _mm512_unpackhi_epi64(ab, cd));
    __m256i h = _mm256_add_epi32(_mm512_castsi512_si256(s), _mm512_extracti64x4_epi64(s, 1));
    return _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
}

/* The bit fields of the gathered planes, plane p's operand
 * (a >> shift[p]) & mask[p] per byte: with lut (every byte below 16, the
 * common case of speculative slices up to 4 bits) one vpshufb from a
 * 16-entry table of the field's values, else a 16-bit shift and a byte mask
 * (which also drops the bits shifted in from the neighbouring byte). */
typedef struct {
    __m128i sh0, sh1, sh2, sh3;
    __m512i mk0, mk1, mk2, mk3; /* masks, or with lut the tables */
} fields;

static CIM_ALWAYS_INLINE __m512i field_vec(int lut, int shift, int mask)
{
    if (!lut)
        return _mm512_set1_epi8((char)mask);
    uint8_t t[16];
    for (int x = 0; x < 16; x++)
        t[x] = (uint8_t)((x >> shift) & mask);
    return _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)(const void *)t));
}

static CIM_ALWAYS_INLINE fields make_fields(int npl, int lut, const uint8_t *shift, const uint8_t *mask)
{
    fields F;
    const __m512i z = _mm512_setzero_si512();
    F.sh0 = _mm_cvtsi32_si128(shift[0]);
    F.mk0 = field_vec(lut, shift[0], mask[0]);
    F.sh1 = npl > 1 ? _mm_cvtsi32_si128(shift[1]) : _mm_setzero_si128();
    F.mk1 = npl > 1 ? field_vec(lut, shift[1], mask[1]) : z;
    F.sh2 = npl > 2 ? _mm_cvtsi32_si128(shift[2]) : _mm_setzero_si128();
    F.mk2 = npl > 2 ? field_vec(lut, shift[2], mask[2]) : z;
    F.sh3 = npl > 3 ? _mm_cvtsi32_si128(shift[3]) : _mm_setzero_si128();
    F.mk3 = npl > 3 ? field_vec(lut, shift[3], mask[3]) : z;
    return F;
}

#define FIELD(F, P, AV)                                                                          \
    (lut ? _mm512_shuffle_epi8((F).mk##P, (AV)) : _mm512_and_si512(_mm512_srl_epi16((AV), (F).sh##P), (F).mk##P))

/* The end of gather4 and gather4_row: with dual, the odd steps' accumulators
 * (d*) folded into the even ones, then each plane's four sums stored
 * (wrap-around adds: exact, the true sums fit int32). */
#define G4_FOLD(E) c0##E = _mm512_add_epi32(c0##E, d0##E); c1##E = _mm512_add_epi32(c1##E, d1##E);
#define G4_FINISH(ENTRIES)                                                                       \
    if (dual) {                                                                                  \
        ENTRIES(G4_FOLD)                                                                         \
    }                                                                                            \
    _mm_storeu_si128((__m128i *)(void *)out, hsum4(c00, c01, c02, c03));                         \
    if (npl > 1)                                                                                 \
        _mm_storeu_si128((__m128i *)(void *)(out + ldo), hsum4(c10, c11, c12, c13));             \
    if (npl > 2)                                                                                 \
        _mm_storeu_si128((__m128i *)(void *)(out + 2 * ldo), hsum4(c20, c21, c22, c23));         \
    if (npl > 3)                                                                                 \
        _mm_storeu_si128((__m128i *)(void *)(out + 3 * ldo), hsum4(c30, c31, c32, c33));

/* Four entries x npl (<= 4, a constant at each call site) planes: 4 npl
 * independent vpdpbusd chains in named registers; each entry's input bytes
 * and column vector are loaded once per 64-byte step and used by every
 * plane. Results go to out[p * ldo + e]. */
#define GD_ENTRIES(X) X(0) X(1) X(2) X(3)
static CIM_ALWAYS_INLINE void gather4(const int npl, const int lut, int Kp64, const uint8_t *const a[4], const fields F,
                                      const int8_t *const b[4], int32_t *out, size_t ldo)
{
    /* with one or two planes, even and odd 64-byte steps go to separate
     * accumulators (d*), so at least 8 vpdpbusd chains cover its latency */
    const int dual = npl <= 2;
#define GD_DECL(E) __m512i c0##E = _mm512_setzero_si512(), c1##E = c0##E, c2##E = c0##E, c3##E = c0##E; \
    __m512i d0##E = c0##E, d1##E = c0##E;                                                              \
    const uint8_t *a##E = a[E];                                                                        \
    const int8_t *b##E = b[E];
    GD_ENTRIES(GD_DECL)
#undef GD_DECL
    int k = 0;
#define GD_STEP(E, K, C0, C1)                                                                  \
    {                                                                                          \
        const __m512i bv = _mm512_load_si512((const void *)(b##E + (K)));                     \
        const __m512i av = _mm512_load_si512((const void *)(a##E + (K)));                     \
        C0##E = dpbusd(C0##E, FIELD(F, 0, av), bv);                                            \
        if (npl > 1)                                                                           \
            C1##E = dpbusd(C1##E, FIELD(F, 1, av), bv);                                        \
        if (npl > 2)                                                                           \
            c2##E = dpbusd(c2##E, FIELD(F, 2, av), bv);                                        \
        if (npl > 3)                                                                           \
            c3##E = dpbusd(c3##E, FIELD(F, 3, av), bv);                                        \
    }
#define GD_STEP_EVEN(E) GD_STEP(E, k, c0, c1)
#define GD_STEP_ODD(E) GD_STEP(E, k + 64, d0, d1)
    if (dual)
        for (; k + 128 <= Kp64; k += 128) {
            GD_ENTRIES(GD_STEP_EVEN)
            GD_ENTRIES(GD_STEP_ODD)
        }
    for (; k < Kp64; k += 64) {
        GD_ENTRIES(GD_STEP_EVEN)
    }
#undef GD_STEP_EVEN
#undef GD_STEP_ODD
#undef GD_STEP
    G4_FINISH(GD_ENTRIES)
}
#undef GD_ENTRIES

/* Four entries of one input row (the same a) x npl planes: the row's bytes
 * are loaded and its fields taken once per 64-byte step for all four
 * columns, so a step costs one input load, npl field operations, four column
 * loads and 4 npl vpdpbusd (gather4 pays four input loads and 4 npl field
 * operations). Results go to out[p * ldo + e]. */
#define GR_ENTRIES(X) X(0) X(1) X(2) X(3)
static CIM_ALWAYS_INLINE void gather4_row(const int npl, const int lut, int Kp64, const uint8_t *a, const fields F,
                                          const int8_t *const b[4], int32_t *out, size_t ldo)
{
    const int dual = npl <= 2;
#define GR_DECL(E) __m512i c0##E = _mm512_setzero_si512(), c1##E = c0##E, c2##E = c0##E, c3##E = c0##E; \
    __m512i d0##E = c0##E, d1##E = c0##E;                                                              \
    const int8_t *b##E = b[E];
    GR_ENTRIES(GR_DECL)
#undef GR_DECL
    int k = 0;
#define GR_DP(E, K, C0, C1)                                                                    \
    {                                                                                          \
        const __m512i bv = _mm512_load_si512((const void *)(b##E + (K)));                     \
        C0##E = dpbusd(C0##E, f0, bv);                                                         \
        if (npl > 1)                                                                           \
            C1##E = dpbusd(C1##E, f1, bv);                                                     \
        if (npl > 2)                                                                           \
            c2##E = dpbusd(c2##E, f2, bv);                                                     \
        if (npl > 3)                                                                           \
            c3##E = dpbusd(c3##E, f3, bv);                                                     \
    }
#define GR_STEP(K, C0, C1)                                                                     \
    {                                                                                          \
        const __m512i av = _mm512_load_si512((const void *)(a + (K)));                         \
        const __m512i f0 = FIELD(F, 0, av);                                                    \
        const __m512i f1 = npl > 1 ? FIELD(F, 1, av) : av;                                     \
        const __m512i f2 = npl > 2 ? FIELD(F, 2, av) : av;                                     \
        const __m512i f3 = npl > 3 ? FIELD(F, 3, av) : av;                                     \
        GR_DP(0, K, C0, C1) GR_DP(1, K, C0, C1) GR_DP(2, K, C0, C1) GR_DP(3, K, C0, C1)        \
    }
    if (dual)
        for (; k + 128 <= Kp64; k += 128) {
            GR_STEP(k, c0, c1)
            GR_STEP(k + 64, d0, d1)
        }
    for (; k < Kp64; k += 64)
        GR_STEP(k, c0, c1)
#undef GR_STEP
#undef GR_DP
    G4_FINISH(GR_ENTRIES)
}
#undef GR_ENTRIES
#undef G4_FINISH
#undef G4_FOLD

/* Eight entries of one input row, one plane: one input load and one field
 * operation per step for eight columns (eight vpdpbusd chains). */
#define G8_ENTRIES(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
static CIM_ALWAYS_INLINE void gather8_row(const int lut, int Kp64, const uint8_t *a, const fields F,
                                          const int8_t *const b[8], int32_t *out)
{
#define G8_DECL(E) __m512i c##E = _mm512_setzero_si512(); const int8_t *b##E = b[E];
    G8_ENTRIES(G8_DECL)
#undef G8_DECL
    for (int k = 0; k < Kp64; k += 64) {
        const __m512i av = _mm512_load_si512((const void *)(a + k));
        const __m512i f0 = FIELD(F, 0, av);
#define G8_DP(E) c##E = dpbusd(c##E, f0, _mm512_load_si512((const void *)(b##E + k)));
        G8_ENTRIES(G8_DP)
#undef G8_DP
    }
    /* wrap-around adds: exact, the true sums fit int32 */
    _mm_storeu_si128((__m128i *)(void *)out, hsum4(c0, c1, c2, c3));
    _mm_storeu_si128((__m128i *)(void *)(out + 4), hsum4(c4, c5, c6, c7));
}
#undef G8_ENTRIES

/* All groups of four entries of one plane group (npl a constant); four
 * entries of one row take gather4_row, eight of one plane gather8_row. */
static CIM_ALWAYS_INLINE void gather_run(const int npl, const int lut, int Kp64, const uint8_t *A, size_t lda, const fields F,
                                         const int8_t *Bc, size_t ldb, int count, const uint32_t *row,
                                         const uint32_t *col, int32_t *op)
{
    for (int f = 0; f < count; f += 4) {
        if (npl == 1 && f + 8 <= count && row[f] == row[f + 7]) {
            int same = 1;
            for (int e = 1; e < 7; e++)
                same &= row[f + e] == row[f];
            if (same) {
                const int8_t *b8[8];
                for (int e = 0; e < 8; e++)
                    b8[e] = Bc + (size_t)col[f + e] * ldb;
                gather8_row(lut, Kp64, A + (size_t)row[f] * lda, F, b8, op + f);
                f += 4; /* eight entries */
                continue;
            }
        }
        const uint8_t *a[4];
        const int8_t *b[4];
        const int ne = count - f < 4 ? count - f : 4;
        for (int e = 0; e < 4; e++) { /* a short last group repeats its last entry */
            const int g = f + (e < ne ? e : ne - 1);
            a[e] = A + (size_t)row[g] * lda;
            b[e] = Bc + (size_t)col[g] * ldb;
        }
        if (ne == 4 && row[f] == row[f + 1] && row[f] == row[f + 2] && row[f] == row[f + 3]) {
            gather4_row(npl, lut, Kp64, a[0], F, b, op + f, (size_t)count);
        } else if (ne == 4) {
            gather4(npl, lut, Kp64, a, F, b, op + f, (size_t)count);
        } else {
            int32_t tmp[4 * 4];
            gather4(npl, lut, Kp64, a, F, b, tmp, 4);
            for (int p = 0; p < npl; p++)
                for (int e = 0; e < ne; e++)
                    op[(size_t)p * (size_t)count + (size_t)(f + e)] = tmp[p * 4 + e];
        }
    }
}

/* Two entries x npl (<= 4) planes x both matrices (Bc, Bc2): 4 npl chains
 * (with one or two planes, even and odd steps in separate ones); each input
 * vector is loaded once and its fields used against both columns. Results go
 * to out[p * ldo + e] and out2[p * ldo + e]. */
#define G2_ENTRIES(X) X(0) X(1)
static CIM_ALWAYS_INLINE void gather2(const int npl, const int lut, int Kp64, const uint8_t *const a[2], const fields F,
                                      const int8_t *const b[2], const int8_t *const bb[2], int32_t *out,
                                      int32_t *out2, size_t ldo)
{
    const int dual = npl <= 2;
#define G2_DECL(E)                                                                                        \
    __m512i s0##E = _mm512_setzero_si512(), s1##E = s0##E, s2##E = s0##E, s3##E = s0##E;                  \
    __m512i t0##E = s0##E, t1##E = s0##E, t2##E = s0##E, t3##E = s0##E;                                   \
    __m512i u0##E = s0##E, u1##E = s0##E, v0##E = s0##E, v1##E = s0##E;                                   \
    const uint8_t *a##E = a[E];                                                                           \
    const int8_t *b##E = b[E], *bb##E = bb[E];
    G2_ENTRIES(G2_DECL)
#undef G2_DECL
    int k = 0;
#define G2_DP(ACC_S, ACC_T, E, P)                                                                         \
    {                                                                                                     \
        const __m512i ap = FIELD(F, P, av);                                                               \
        ACC_S##E = dpbusd(ACC_S##E, ap, bv);                                                              \
        ACC_T##E = dpbusd(ACC_T##E, ap, bw);                                                              \
    }
#define G2_STEP(E, K, S0, S1, T0, T1)                                                                     \
    {                                                                                                     \
        const __m512i bv = _mm512_load_si512((const void *)(b##E + (K)));                                \
        const __m512i bw = _mm512_load_si512((const void *)(bb##E + (K)));                               \
        const __m512i av = _mm512_load_si512((const void *)(a##E + (K)));                                \
        G2_DP(S0, T0, E, 0)                                                                               \
        if (npl > 1)                                                                                      \
            G2_DP(S1, T1, E, 1)                                                                           \
        if (npl > 2)                                                                                      \
            G2_DP(s2, t2, E, 2)                                                                           \
        if (npl > 3)                                                                                      \
            G2_DP(s3, t3, E, 3)                                                                           \
    }
#define G2_STEP_EVEN(E) G2_STEP(E, k, s0, s1, t0, t1)
#define G2_STEP_ODD(E) G2_STEP(E, k + 64, u0, u1, v0, v1)
    if (dual)
        for (; k + 128 <= Kp64; k += 128) {
            G2_ENTRIES(G2_STEP_EVEN)
            G2_ENTRIES(G2_STEP_ODD)
        }
    for (; k < Kp64; k += 64) {
        G2_ENTRIES(G2_STEP_EVEN)
    }
#undef G2_STEP_EVEN
#undef G2_STEP_ODD
#undef G2_STEP
#undef G2_DP
    /* wrap-around adds: exact, the true sums fit int32 */
#define G2_STORE(E)                                                                                       \
    {                                                                                                     \
        int32_t hs[4], ht[4];                                                                             \
        if (dual) {                                                                                       \
            s0##E = _mm512_add_epi32(s0##E, u0##E);                                                       \
            s1##E = _mm512_add_epi32(s1##E, u1##E);                                                       \
            t0##E = _mm512_add_epi32(t0##E, v0##E);                                                       \
            t1##E = _mm512_add_epi32(t1##E, v1##E);                                                       \
        }                                                                                                 \
        _mm_storeu_si128((__m128i *)(void *)hs, hsum4(s0##E, s1##E, s2##E, s3##E));                      \
        _mm_storeu_si128((__m128i *)(void *)ht, hsum4(t0##E, t1##E, t2##E, t3##E));                      \
        for (int p = 0; p < npl; p++) {                                                                   \
            out[(size_t)p * ldo + (E)] = hs[p];                                                           \
            out2[(size_t)p * ldo + (E)] = ht[p];                                                          \
        }                                                                                                 \
    }
    G2_ENTRIES(G2_STORE)
#undef G2_STORE
}
#undef G2_ENTRIES

/* NE (2 or 4) entries of one input row x npl planes x both matrices: the
 * row's bytes are loaded and its fields taken once per step for every
 * column (4 entries for npl <= 2, 2 for more planes: at most 16
 * accumulators). Results go to out[p * ldo + e] and out2[p * ldo + e]. */
#define GB_DP(E, P)                                                                                       \
    {                                                                                                     \
        s##P##E = dpbusd(s##P##E, f##P, bv##E);                                                           \
        t##P##E = dpbusd(t##P##E, f##P, bw##E);                                                           \
    }
#define GB_LOAD(E)                                                                                        \
    const __m512i bv##E = _mm512_load_si512((const void *)(b[E] + k));                                  \
    const __m512i bw##E = _mm512_load_si512((const void *)(bb[E] + k));
#define GB_MAC(E)                                                                                         \
    GB_DP(E, 0)                                                                                           \
    if (npl > 1)                                                                                          \
        GB_DP(E, 1)                                                                                       \
    if (npl > 2)                                                                                          \
        GB_DP(E, 2)                                                                                       \
    if (npl > 3)                                                                                          \
        GB_DP(E, 3)
#define GB_DECL(E)                                                                                        \
    __m512i s0##E = _mm512_setzero_si512(), s1##E = s0##E, s2##E = s0##E, s3##E = s0##E;                  \
    __m512i t0##E = s0##E, t1##E = s0##E, t2##E = s0##E, t3##E = s0##E;
#define GB_BODY(ENTRIES)                                                                                  \
    ENTRIES(GB_DECL)                                                                                      \
    for (int k = 0; k < Kp64; k += 64) {                                                                  \
        const __m512i av = _mm512_load_si512((const void *)(a + k));                                     \
        const __m512i f0 = FIELD(F, 0, av);                                                               \
        const __m512i f1 = npl > 1 ? FIELD(F, 1, av) : av;                                                \
        const __m512i f2 = npl > 2 ? FIELD(F, 2, av) : av;                                                \
        const __m512i f3 = npl > 3 ? FIELD(F, 3, av) : av;                                                \
        ENTRIES(GB_LOAD)                                                                                  \
        ENTRIES(GB_MAC)                                                                                   \
    }
#define GB_E2(X) X(0) X(1)
#define GB_E4(X) X(0) X(1) X(2) X(3)
static CIM_ALWAYS_INLINE void gatherb4_row(const int npl, const int lut, int Kp64, const uint8_t *a, const fields F,
                                           const int8_t *const b[4], const int8_t *const bb[4], int32_t *out,
                                           int32_t *out2, size_t ldo)
{
    GB_BODY(GB_E4)
    /* wrap-around adds: exact, the true sums fit int32 */
    _mm_storeu_si128((__m128i *)(void *)out, hsum4(s00, s01, s02, s03));
    _mm_storeu_si128((__m128i *)(void *)out2, hsum4(t00, t01, t02, t03));
    if (npl > 1) {
        _mm_storeu_si128((__m128i *)(void *)(out + ldo), hsum4(s10, s11, s12, s13));
        _mm_storeu_si128((__m128i *)(void *)(out2 + ldo), hsum4(t10, t11, t12, t13));
    }
}
static CIM_ALWAYS_INLINE void gatherb2_row(const int npl, const int lut, int Kp64, const uint8_t *a, const fields F,
                                           const int8_t *const b[2], const int8_t *const bb[2], int32_t *out,
                                           int32_t *out2, size_t ldo)
{
    GB_BODY(GB_E2)
    int32_t hs[4], ht[4];
    _mm_storeu_si128((__m128i *)(void *)hs, hsum4(s00, s10, s20, s30));
    _mm_storeu_si128((__m128i *)(void *)ht, hsum4(t00, t10, t20, t30));
    for (int p = 0; p < npl; p++) {
        out[(size_t)p * ldo] = hs[p];
        out2[(size_t)p * ldo] = ht[p];
    }
    _mm_storeu_si128((__m128i *)(void *)hs, hsum4(s01, s11, s21, s31));
    _mm_storeu_si128((__m128i *)(void *)ht, hsum4(t01, t11, t21, t31));
    for (int p = 0; p < npl; p++) {
        out[(size_t)p * ldo + 1] = hs[p];
        out2[(size_t)p * ldo + 1] = ht[p];
    }
}
#undef GB_E2
#undef GB_E4
#undef GB_BODY
#undef GB_DECL
#undef GB_MAC
#undef GB_LOAD
#undef GB_DP

/* All pairs of entries of one plane group (npl a constant), both matrices;
 * entries of one row (four with npl <= 2, else two) take gatherb*_row. */
static CIM_ALWAYS_INLINE void gather2_run(const int npl, const int lut, int Kp64, const uint8_t *A, size_t lda, const fields F,
                                          const int8_t *Bc, const int8_t *Bc2, size_t ldb, int count,
                                          const uint32_t *row, const uint32_t *col, int32_t *op, int32_t *op2)
{
    for (int f = 0; f < count; f += 2) {
        if (npl <= 2 && f + 4 <= count && row[f] == row[f + 1] && row[f] == row[f + 2] && row[f] == row[f + 3]) {
            const int8_t *b[4], *bb[4];
            for (int e = 0; e < 4; e++) {
                b[e] = Bc + (size_t)col[f + e] * ldb;
                bb[e] = Bc2 + (size_t)col[f + e] * ldb;
            }
            gatherb4_row(npl, lut, Kp64, A + (size_t)row[f] * lda, F, b, bb, op + f, op2 + f, (size_t)count);
            f += 2; /* four entries */
            continue;
        }
        if (npl > 2 && f + 2 <= count && row[f] == row[f + 1]) {
            const int8_t *b[2] = {Bc + (size_t)col[f] * ldb, Bc + (size_t)col[f + 1] * ldb};
            const int8_t *bb[2] = {Bc2 + (size_t)col[f] * ldb, Bc2 + (size_t)col[f + 1] * ldb};
            gatherb2_row(npl, lut, Kp64, A + (size_t)row[f] * lda, F, b, bb, op + f, op2 + f, (size_t)count);
            continue;
        }
        const int g1 = f + 1 < count ? f + 1 : f; /* a short last pair repeats its entry */
        const uint8_t *a[2] = {A + (size_t)row[f] * lda, A + (size_t)row[g1] * lda};
        const int8_t *b[2] = {Bc + (size_t)col[f] * ldb, Bc + (size_t)col[g1] * ldb};
        const int8_t *bb[2] = {Bc2 + (size_t)col[f] * ldb, Bc2 + (size_t)col[g1] * ldb};
        if (g1 > f) {
            gather2(npl, lut, Kp64, a, F, b, bb, op + f, op2 + f, (size_t)count);
        } else {
            int32_t tmp[4 * 2], tmp2[4 * 2];
            gather2(npl, lut, Kp64, a, F, b, bb, tmp, tmp2, 2);
            for (int p = 0; p < npl; p++) {
                op[(size_t)p * (size_t)count + (size_t)f] = tmp[p * 2];
                op2[(size_t)p * (size_t)count + (size_t)f] = tmp2[p * 2];
            }
        }
    }
}
#undef FIELD

/* One plane group: npl and lut as compile-time constants. */
#define GATHER_CASE(NPL, LUT)                                                                    \
    if (Bc2)                                                                                     \
        gather2_run(NPL, LUT, Kp64, A, lda, F, Bc, Bc2, ldb, count, row, col, op, op2);          \
    else                                                                                         \
        gather_run(NPL, LUT, Kp64, A, lda, F, Bc, ldb, count, row, col, op);                     \
    break;

static void vnni_gather_dots(int Kp64, int nplanes, const uint8_t *A, size_t lda, int abits, const uint8_t *shift,
                             const uint8_t *mask, const int8_t *Bc, const int8_t *Bc2, size_t ldb, int count,
                             const uint32_t *row, const uint32_t *col, int32_t *out, int32_t *out2)
{
    const int lut = abits <= 4;
    for (int p0 = 0; p0 < nplanes; p0 += 4) {
        const int npl = nplanes - p0 < 4 ? nplanes - p0 : 4;
        const fields F = make_fields(npl, lut, shift + p0, mask + p0);
        int32_t *op = out + (size_t)p0 * (size_t)count, *op2 = Bc2 ? out2 + (size_t)p0 * (size_t)count : NULL;
        switch (npl * 2 + lut) {
        case 2: GATHER_CASE(1, 0)
        case 3: GATHER_CASE(1, 1)
        case 4: GATHER_CASE(2, 0)
        case 5: GATHER_CASE(2, 1)
        case 6: GATHER_CASE(3, 0)
        case 7: GATHER_CASE(3, 1)
        case 8: GATHER_CASE(4, 0)
        default: GATHER_CASE(4, 1)
        }
    }
}
#undef GATHER_CASE

/* One column's sums. Up to 16 bytes a row: four rows per vector (a 128-bit
 * lane each) against b in every lane, 16 rows per step, and each lane's four
 * sums added across the four vectors with two unpack rounds (the rows come
 * out interleaved and one permute orders them). Longer rows: four rows at a
 * time, 64 bytes per step, hsum4. Masked loads read nothing past Kp. */
static void vnni_dots(int M, int Kp, const uint8_t *A, size_t lda, const int8_t *b, int32_t *out)
{
    if (Kp <= 16) {
        const __mmask16 kb = (__mmask16)((1u << Kp) - 1);
        const __m512i bb = _mm512_broadcast_i32x4(_mm_maskz_loadu_epi8(kb, b));
        const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
        for (int m0 = 0; m0 < M; m0 += 16) {
            const int nr = M - m0 < 16 ? M - m0 : 16;
            __m512i z[4];
            for (int j = 0; j < 4; j++) {
                __m512i v = _mm512_setzero_si512();
                for (int l = 0; l < 4; l++) {
                    const int r = 4 * j + l;
                    const __m128i row = r < nr ? _mm_maskz_loadu_epi8(kb, A + (size_t)(m0 + r) * lda) : _mm_setzero_si128();
                    v = _mm512_inserti32x4(v, row, l);
                }
                z[j] = _mm512_dpbusd_epi32(_mm512_setzero_si512(), v, bb);
            }
            /* lane l of the sum: rows l, 4 + l, 8 + l, 12 + l */
            const __m512i ab = _mm512_add_epi32(_mm512_unpacklo_epi32(z[0], z[1]), _mm512_unpackhi_epi32(z[0], z[1]));
            const __m512i cd = _mm512_add_epi32(_mm512_unpacklo_epi32(z[2], z[3]), _mm512_unpackhi_epi32(z[2], z[3]));
            const __m512i s = _mm512_add_epi32(_mm512_unpacklo_epi64(ab, cd), _mm512_unpackhi_epi64(ab, cd));
            _mm512_mask_storeu_epi32(out + m0, (__mmask16)((1u << nr) - 1), _mm512_permutexvar_epi32(order, s));
        }
        return;
    }
    for (int m0 = 0; m0 < M; m0 += 4) {
        const int nr = M - m0 < 4 ? M - m0 : 4;
        __m512i acc[4];
        for (int r = 0; r < 4; r++)
            acc[r] = _mm512_setzero_si512();
        for (int k = 0; k < Kp; k += 64) {
            const __mmask64 km = Kp - k >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << (Kp - k)) - 1);
            const __m512i bv = _mm512_maskz_loadu_epi8(km, b + k);
            for (int r = 0; r < nr; r++)
                acc[r] = _mm512_dpbusd_epi32(acc[r], _mm512_maskz_loadu_epi8(km, A + (size_t)(m0 + r) * lda + k), bv);
        }
        int32_t s[4];
        _mm_storeu_si128((__m128i *)(void *)s, hsum4(acc[0], acc[1], acc[2], acc[3]));
        for (int r = 0; r < nr; r++)
            out[m0 + r] = s[r];
    }
}

CIM_BASELINE_ISA static int vnni_supported(void)
{
    cim_cpu c;
    cim_cpu_detect(&c);
    return c.os_avx512 && c.fma && c.avx2 && c.bmi2 && c.avx512f && c.avx512dq && c.avx512bw && c.avx512vl && c.avx512vnni;
}

const cim_kernel cim_kernel_avx512vnni = {
    .name = "avx512vnni",
    .gemm_u8s8 = vnni_gemm_u8s8,
    .dot_u8s8 = vnni_dot_u8s8,
    .gather_dots = vnni_gather_dots,
    .supported = vnni_supported,
    .dots = vnni_dots,
};
