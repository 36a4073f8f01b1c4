/* qnoise_impl.h: the ADC-output noise draw (qnoise.h) over a block of column
 * sums, included by adc_row.h and compiled per ISA by src/kernels/stage_*.c.
 * Integer compares only, so every ISA gives the same bits; with AVX-512BW the
 * table lookups are register permutes over 32 sums at once. */
#ifndef CIMSIM_QNOISE_IMPL_H
#define CIMSIM_QNOISE_IMPL_H

#include "noise_impl.h"
#include "qnoise.h"
#if defined(__AVX512BW__)
#include <immintrin.h>
#endif

/* Where a block's sums come from: sum i is channel c0 + i * cstep of vector
 * v0 + i * vstep (for the refinement words), its uniform u[i]. */
typedef struct cim_qblock {
    const cim_noise_key *key;
    const uint16_t *u;
    uint64_t v0;
    uint32_t c0;
    int vstep, cstep;
} cim_qblock;

/* Row r of a tile's block: its uniforms at b->u + r ld, its vector b->v0 + r. */
static inline cim_qblock cim_qblock_row(const cim_qblock *b, int r, size_t ld)
{
    cim_qblock br = *b;
    br.u = b->u + (size_t)r * ld;
    br.v0 = b->v0 + (uint64_t)r;
    return br;
}

/* k = r - S for one sum (qnoise.h), refinement word drawn when needed. */
static inline int32_t cim_qsample_one(const cim_qtab *t, const cim_qblock *b, int i, int32_t na)
{
    const uint32_t uu = b->u[i], pos = uu >> 15, v = (pos ? uu : ~uu) & 0x7fffu;
    const size_t col = (uint32_t)na <= (uint32_t)t->namax ? (size_t)na : (size_t)t->namax; /* (bounds: never) */
    int32_t k = 0;
    uint32_t ext = 0;
    int have = 0;
    for (int j = 0; j < t->nthr; j++) {
        const size_t idx = (size_t)j * (size_t)t->stride + col;
        const uint32_t h = t->hi[idx];
        if (v < h)
            break;
        if (v == h) { /* V's top bits equal the threshold's: its low 32 bits decide */
            if (!have) {
                ext = cim_qnoise_refine(b->key, b->v0 + (uint64_t)((int64_t)i * b->vstep),
                                        b->c0 + (uint32_t)(i * b->cstep));
                have = 1;
            }
            if (ext < t->lo[idx])
                break;
        }
        k++;
    }
    return pos ? k : -k;
}

#if defined(__AVX512BW__)
/* Thresholds j of 32 sums at once: page p (64 entries) of row j by a
 * two-register permute, the page chosen by N+ + N- >> 6. */
static inline __attribute__((always_inline)) __m512i cim_qlookup(const __m512i *pg, __m512i n16, const __mmask32 *sel,
                                                                 const int np)
{
    __m512i h = _mm512_permutex2var_epi16(pg[0], n16, pg[1]);
    for (int p = 1; p < np; p++)
        h = _mm512_mask_mov_epi16(h, sel[p], _mm512_permutex2var_epi16(pg[2 * p], n16, pg[2 * p + 1]));
    return h;
}

/* Thresholds 2 and up for the lanes in `more` (rare: not inlined, so the
 * main loop keeps its registers). */
static __attribute__((noinline)) __m512i cim_qmore(const cim_qtab *t, __m512i v, __m512i n16, __mmask32 more,
                                                   __m512i kmag, __mmask32 *amb)
{
    const __m512i page = _mm512_srli_epi16(n16, 6), one = _mm512_set1_epi16(1);
    const int np = (t->namax >> 6) + 1;
    for (int j = 2; more && j < t->nthr; j++) {
        const uint16_t *row = t->hi + (size_t)j * (size_t)t->stride;
        __m512i h = _mm512_setzero_si512();
        for (int p = 0; p < np; p++)
            h = _mm512_mask_mov_epi16(h, _mm512_cmpeq_epi16_mask(page, _mm512_set1_epi16((short)p)),
                                      _mm512_permutex2var_epi16(_mm512_load_si512((const void *)(row + 64 * p)), n16,
                                                                _mm512_load_si512((const void *)(row + 64 * p + 32))));
        const __mmask32 gt = _mm512_mask_cmpgt_epu16_mask(more, v, h);
        *amb |= _mm512_mask_cmpeq_epi16_mask(more, v, h);
        kmag = _mm512_mask_add_epi16(kmag, gt, kmag, one);
        more = gt;
    }
    return kmag;
}

/* 32 sums per step with np pages (a constant in each caller, so the pages of
 * thresholds 0 and 1, which nearly every step needs, stay in registers);
 * further thresholds in a loop that few steps enter; the lanes whose top bits
 * tie a threshold's are redone one by one. Returns the sums done. */
static inline __attribute__((always_inline)) int cim_qsample_avx512(const cim_qtab *t, const cim_qblock *b,
                                                                   const int32_t *restrict na, int n,
                                                                   int8_t *restrict k, const int np)
{
    const __m512i one = _mm512_set1_epi16(1), low15 = _mm512_set1_epi16(0x7fff);
    const int two = t->nthr > 1;
    __m512i pg0[16], pg1[16];
    for (int p = 0; p < 2 * np; p++) {
        pg0[p] = _mm512_load_si512((const void *)(t->hi + 32 * p));
        pg1[p] = two ? _mm512_load_si512((const void *)(t->hi + (size_t)t->stride + 32 * p)) : _mm512_set1_epi16((short)0x8000);
    }
    int i = 0;
    for (; i + 32 <= n; i += 32) {
        const __m512i uu = _mm512_loadu_si512((const void *)(b->u + i));
        const __mmask32 pos = _mm512_movepi16_mask(uu);
        const __m512i v = _mm512_and_si512(_mm512_mask_blend_epi16(pos, _mm512_ternarylogic_epi32(uu, uu, uu, 0x55), uu),
                                           low15);
        const __m512i n16 = _mm512_inserti64x4(
            _mm512_castsi256_si512(_mm512_cvtepi32_epi16(_mm512_loadu_si512((const void *)(na + i)))),
            _mm512_cvtepi32_epi16(_mm512_loadu_si512((const void *)(na + i + 16))), 1);
        __mmask32 sel[8];
        const __m512i page = _mm512_srli_epi16(n16, 6);
        for (int p = 1; p < np; p++)
            sel[p] = _mm512_cmpeq_epi16_mask(page, _mm512_set1_epi16((short)p));
        const __m512i h0 = cim_qlookup(pg0, n16, sel, np), h1 = cim_qlookup(pg1, n16, sel, np);
        const __mmask32 gt0 = _mm512_cmpgt_epu16_mask(v, h0), gt1 = _mm512_mask_cmpgt_epu16_mask(gt0, v, h1);
        __mmask32 amb = _mm512_cmpeq_epi16_mask(v, h0) | _mm512_mask_cmpeq_epi16_mask(gt0, v, h1);
        __m512i kmag = _mm512_add_epi16(_mm512_maskz_mov_epi16(gt0, one), _mm512_maskz_mov_epi16(gt1, one));
        if (gt1 && t->nthr > 2) /* |k| >= 2 somewhere: the further thresholds */
            kmag = cim_qmore(t, v, n16, gt1, kmag, &amb);
        const __m512i k16 = _mm512_mask_sub_epi16(kmag, (__mmask32)~pos, _mm512_setzero_si512(), kmag);
        _mm256_storeu_si256((void *)(k + i), _mm512_cvtepi16_epi8(k16));
        while (amb) { /* rare: the lanes whose draw needs V's low bits */
            const int l = __builtin_ctz(amb);
            amb &= amb - 1;
            k[i + l] = (int8_t)cim_qsample_one(t, b, i + l, na[i + l]);
        }
    }
    return i;
}
#endif

#if defined(__AVX512VBMI__)
/* The byte-plane form for tables with N+ + N- <= 255 (t->planes): threshold
 * j's top 15 bits as a high and a low byte, each looked up for 64 sums at
 * once by a two-register byte permute (128 entries; np2 = 2: a second one for
 * N+ + N- >= 128, chosen by the index's top bit). v > h is vh > th, or vh = th
 * and vl > tl; v = h (a tie: V's low bits decide) is vh = th and vl = tl. */
static inline __attribute__((always_inline)) __m512i cim_qlook8(const __m512i *pg, __m512i n8, __mmask64 upper,
                                                               const int np2)
{
    const __m512i h = _mm512_permutex2var_epi8(pg[0], n8, pg[1]);
    return np2 > 1 ? _mm512_mask_blend_epi8(upper, h, _mm512_permutex2var_epi8(pg[2], n8, pg[3])) : h;
}

/* Lanes `in` of v (high bytes vh, low vl) against threshold planes th, tl:
 * returns the lanes with v > h and adds those with v = h to *amb. */
static inline __attribute__((always_inline)) __mmask64 cim_qcmp8(__mmask64 in, __m512i vh, __m512i vl, __m512i th,
                                                                __m512i tl, __mmask64 *amb)
{
    const __mmask64 eqh = _mm512_mask_cmpeq_epu8_mask(in, vh, th);
    *amb |= _mm512_mask_cmpeq_epu8_mask(eqh, vl, tl);
    return _mm512_mask_cmpgt_epu8_mask(in, vh, th) | _mm512_mask_cmpgt_epu8_mask(eqh, vl, tl);
}

static inline __attribute__((always_inline)) void cim_qload8(const uint8_t *row, __m512i *pg, const int np2)
{
    for (int p = 0; p < 2 * np2; p++)
        pg[p] = _mm512_load_si512((const void *)(row + 64 * p));
}

/* Thresholds 2 and up for the lanes in `more` (rare; not inlined). */
static __attribute__((noinline)) __m512i cim_qmore8(const cim_qtab *t, __m512i vh, __m512i vl, __m512i n8,
                                                    __mmask64 more, __m512i kmag, __mmask64 *amb)
{
    const __mmask64 upper = _mm512_movepi8_mask(n8);
    for (int j = 2; more && j < t->nthr; j++) {
        __m512i ph[4], pl[4];
        cim_qload8(t->planes + (size_t)j * 512, ph, 2);
        cim_qload8(t->planes + (size_t)j * 512 + 256, pl, 2);
        more = cim_qcmp8(more, vh, vl, cim_qlook8(ph, n8, upper, 2), cim_qlook8(pl, n8, upper, 2), amb);
        kmag = _mm512_mask_add_epi8(kmag, more, kmag, _mm512_set1_epi8(1));
    }
    return kmag;
}

/* rows x n sums, 64 per step (the last of a row masked), the table pages
 * loaded once (np2 = 1 or 2 pages of 128 entries, a constant in each caller):
 * row r's uniforms at b->u + r ld, its vector b->v0 + r, N+ + N- at na + r ld,
 * k at k + r ldk. */
static inline __attribute__((always_inline)) void cim_qsample_vbmi(const cim_qtab *t, const cim_qblock *b, int rows,
                                                                  const int32_t *restrict na, size_t ld, int n,
                                                                  int8_t *restrict k, size_t ldk, const int np2)
{
    const __m512i one = _mm512_set1_epi8(1), low7 = _mm512_set1_epi8(0x7f);
    /* the odd (high) and even (low) bytes of 64 16-bit uniforms in two registers */
    const __m512i odd = _mm512_add_epi8(_mm512_set1_epi8(1), _mm512_set_epi8(
        126, 124, 122, 120, 118, 116, 114, 112, 110, 108, 106, 104, 102, 100, 98, 96, 94, 92, 90, 88, 86, 84, 82, 80,
        78, 76, 74, 72, 70, 68, 66, 64, 62, 60, 58, 56, 54, 52, 50, 48, 46, 44, 42, 40, 38, 36, 34, 32, 30, 28, 26, 24,
        22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0));
    const __m512i even = _mm512_sub_epi8(odd, one);
    /* 4 x 4 dword transpose: packus leaves sum 16 g + 4 l + e at byte 16 l + 4 g + e */
    const __m512i tr = _mm512_set_epi32(15, 11, 7, 3, 14, 10, 6, 2, 13, 9, 5, 1, 12, 8, 4, 0);
    __m512i h0[4], l0[4], h1[4], l1[4];
    const int two = t->nthr > 1;
    cim_qload8(t->planes, h0, np2);
    cim_qload8(t->planes + 256, l0, np2);
    cim_qload8(t->planes + (two ? 512 : 0), h1, np2);
    cim_qload8(t->planes + (two ? 768 : 256), l1, np2);
    for (int r = 0; r < rows; r++) {
        const cim_qblock br = cim_qblock_row(b, r, ld);
        const int32_t *restrict nr = na + (size_t)r * ld;
        int8_t *restrict kr = k + (size_t)r * ldk;
        for (int i = 0; i < n; i += 64) {
            const int left = n - i;
            const __mmask64 valid = left >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << left) - 1);
#define CIM_M16(q) ((__mmask16)(valid >> (16 * (q))))
#define CIM_M32(q) ((__mmask32)(valid >> (32 * (q))))
            const __m512i u0 = _mm512_maskz_loadu_epi16(CIM_M32(0), (const void *)(br.u + i)),
                          u1 = _mm512_maskz_loadu_epi16(CIM_M32(1), (const void *)(br.u + i + 32));
            const __m512i uh = _mm512_permutex2var_epi8(u0, odd, u1), ul = _mm512_permutex2var_epi8(u0, even, u1);
            const __mmask64 pos = _mm512_movepi8_mask(uh);
            const __m512i neg = _mm512_movm_epi8(~pos);
            const __m512i vh = _mm512_ternarylogic_epi32(uh, neg, low7, 0x28), vl = _mm512_xor_si512(ul, neg);
            const __m512i p01 = _mm512_packus_epi32(_mm512_maskz_loadu_epi32(CIM_M16(0), (const void *)(nr + i)),
                                                    _mm512_maskz_loadu_epi32(CIM_M16(1), (const void *)(nr + i + 16)));
            const __m512i p23 = _mm512_packus_epi32(_mm512_maskz_loadu_epi32(CIM_M16(2), (const void *)(nr + i + 32)),
                                                    _mm512_maskz_loadu_epi32(CIM_M16(3), (const void *)(nr + i + 48)));
#undef CIM_M16
#undef CIM_M32
            const __m512i n8 = _mm512_permutexvar_epi32(tr, _mm512_packus_epi16(p01, p23));
            const __mmask64 upper = np2 > 1 ? _mm512_movepi8_mask(n8) : 0;
            __mmask64 amb = 0;
            const __mmask64 gt0 = cim_qcmp8(valid, vh, vl, cim_qlook8(h0, n8, upper, np2),
                                            cim_qlook8(l0, n8, upper, np2), &amb);
            const __mmask64 gt1 = two ? cim_qcmp8(gt0, vh, vl, cim_qlook8(h1, n8, upper, np2),
                                                  cim_qlook8(l1, n8, upper, np2), &amb)
                                      : 0;
            const __m512i k0 = _mm512_maskz_mov_epi8(gt0, one);
            __m512i kmag = _mm512_mask_add_epi8(k0, gt1, k0, one);
            if (gt1 && t->nthr > 2) /* |k| >= 2 somewhere: the further thresholds */
                kmag = cim_qmore8(t, vh, vl, n8, gt1, kmag, &amb);
            _mm512_mask_storeu_epi8((void *)(kr + i), valid, _mm512_mask_sub_epi8(kmag, ~pos, _mm512_setzero_si512(), kmag));
            while (amb) { /* rare: the lanes whose draw needs V's low bits */
                const int l = __builtin_ctzll(amb);
                amb &= amb - 1;
                kr[i + l] = (int8_t)cim_qsample_one(t, &br, i + l, nr[i + l]);
            }
        }
    }
}
#endif

/* k = r - S (|k| <= CIM_QNOISE_MAXJ fits a byte) of rows x n sums: row r's
 * uniforms at b->u + r ld, its vector b->v0 + r (b->vstep, b->cstep: along
 * the row), N+ + N- at na + r ld, k at k + r ldk. */
static inline void cim_qsample_tile(const cim_qtab *t, const cim_qblock *b, int rows, const int32_t *restrict na,
                                    size_t ld, int n, int8_t *restrict k, size_t ldk)
{
#if defined(__AVX512VBMI__)
    if (t->planes) {
        if (t->namax < 128)
            cim_qsample_vbmi(t, b, rows, na, ld, n, k, ldk, 1);
        else
            cim_qsample_vbmi(t, b, rows, na, ld, n, k, ldk, 2);
        return;
    }
#endif
    for (int r = 0; r < rows; r++) {
        const cim_qblock br = cim_qblock_row(b, r, ld);
        const int32_t *restrict nr = na + (size_t)r * ld;
        int8_t *restrict kr = k + (size_t)r * ldk;
        int i = 0;
#if defined(__AVX512BW__)
        switch ((t->namax >> 6) + 1) {
        case 1: i = cim_qsample_avx512(t, &br, nr, n, kr, 1); break;
        case 2: i = cim_qsample_avx512(t, &br, nr, n, kr, 2); break;
        case 3: i = cim_qsample_avx512(t, &br, nr, n, kr, 3); break;
        case 4: i = cim_qsample_avx512(t, &br, nr, n, kr, 4); break;
        case 5: i = cim_qsample_avx512(t, &br, nr, n, kr, 5); break;
        case 6: i = cim_qsample_avx512(t, &br, nr, n, kr, 6); break;
        case 7: i = cim_qsample_avx512(t, &br, nr, n, kr, 7); break;
        default: i = cim_qsample_avx512(t, &br, nr, n, kr, 8); break;
        }
#endif
        for (; i < n; i++)
            kr[i] = (int8_t)cim_qsample_one(t, &br, i, nr[i]);
    }
}

#endif
