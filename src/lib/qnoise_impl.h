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

/* r = S + k for one sum (qnoise.h), refinement word drawn when needed. */
static inline int32_t cim_qsample_one(const cim_qtab *t, const cim_qblock *b, int i, int32_t s, int32_t na)
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
    return s + (pos ? k : -k);
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
                                                                   const int32_t *restrict s,
                                                                   const int32_t *restrict na, int n,
                                                                   int32_t *restrict rn, const int np)
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
        const __m512i klo = _mm512_cvtepi16_epi32(_mm512_castsi512_si256(k16));
        const __m512i khi = _mm512_cvtepi16_epi32(_mm512_extracti64x4_epi64(k16, 1));
        _mm512_storeu_si512((void *)(rn + i), _mm512_add_epi32(_mm512_loadu_si512((const void *)(s + i)), klo));
        _mm512_storeu_si512((void *)(rn + i + 16), _mm512_add_epi32(_mm512_loadu_si512((const void *)(s + i + 16)), khi));
        while (amb) { /* rare: the lanes whose draw needs V's low bits */
            const int l = __builtin_ctz(amb);
            amb &= amb - 1;
            rn[i + l] = cim_qsample_one(t, b, i + l, s[i + l], na[i + l]);
        }
    }
    return i;
}
#endif

/* rn[i] = S[i] + k_i for i < n. */
static inline void cim_qsample_block(const cim_qtab *t, const cim_qblock *b, const int32_t *restrict s,
                                     const int32_t *restrict na, int n, int32_t *restrict rn)
{
    int i = 0;
#if defined(__AVX512BW__)
    switch ((t->namax >> 6) + 1) {
    case 1: i = cim_qsample_avx512(t, b, s, na, n, rn, 1); break;
    case 2: i = cim_qsample_avx512(t, b, s, na, n, rn, 2); break;
    case 3: i = cim_qsample_avx512(t, b, s, na, n, rn, 3); break;
    case 4: i = cim_qsample_avx512(t, b, s, na, n, rn, 4); break;
    case 5: i = cim_qsample_avx512(t, b, s, na, n, rn, 5); break;
    case 6: i = cim_qsample_avx512(t, b, s, na, n, rn, 6); break;
    case 7: i = cim_qsample_avx512(t, b, s, na, n, rn, 7); break;
    default: i = cim_qsample_avx512(t, b, s, na, n, rn, 8); break;
    }
#endif
    for (; i < n; i++)
        rn[i] = cim_qsample_one(t, b, i, s[i], na[i]);
}

#endif
