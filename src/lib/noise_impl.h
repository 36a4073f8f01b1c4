/* noise_impl.h: the Gaussian noise generator, written once as plain C that
 * compilers vectorize (src/kernels/stage_*.c compile it per ISA). See noise.h
 * for the counter layout and why the bits are the same on every ISA. The
 * generator is Random123's Philox4x32-10 (librandom123-dev; Salmon et al.,
 * SC'11), called once per group of four channels; where the stage is compiled
 * for AVX-512 it runs on 16 counters at once in intrinsics (cim_philox16: the
 * same integer steps, checked against Random123 by tests/test_noise.c). */
#ifndef CIMSIM_NOISE_IMPL_H
#define CIMSIM_NOISE_IMPL_H

#include <math.h>
#include <stdint.h>
#include <string.h>
#include <Random123/philox.h>
#include "noise.h"
#include "qnoise.h"
#if defined(__AVX512F__)
#include <immintrin.h>
#endif


/* Philox4x32-10 in place on counter words x with key (k0, k1). */
static inline void cim_philox4x32_10(uint32_t x[4], uint32_t k0, uint32_t k1)
{
    philox4x32_ctr_t c = {{x[0], x[1], x[2], x[3]}};
    philox4x32_key_t k = {{k0, k1}};
    c = philox4x32_R(10, c, k);
    x[0] = c.v[0];
    x[1] = c.v[1];
    x[2] = c.v[2];
    x[3] = c.v[3];
}

#if defined(__AVX512F__)
/* Philox4x32-10 on 16 counters at once (counter word w of block b in lane b
 * of x[w]), the same integer steps as Random123's philox4x32_R: the 32 x 32
 * -> 64-bit products come from vpmuludq on even and odd lanes (the compiler's
 * own vectorization of the scalar code widens to 64-bit lanes and vpmullq). */
static inline void cim_philox16(__m512i x[4], uint32_t k0, uint32_t k1)
{
    /* The even and odd counters run apart, each word in the low half of a
     * 64-bit lane: vpmuludq reads only the low halves, so the high halves may
     * hold anything, and a round is two products, two shifts (the high words)
     * and two three-way xors per half; the halves are put back together at
     * the end. The same integer steps as Random123's philox4x32_R. */
    const __m512i m0 = _mm512_set1_epi64(PHILOX_M4x32_0), m1 = _mm512_set1_epi64(PHILOX_M4x32_1);
    __m512i e[4], o[4];
    for (int w = 0; w < 4; w++) {
        e[w] = x[w];
        o[w] = _mm512_srli_epi64(x[w], 32);
    }
    for (int r = 0; r < 10; r++) {
        const __m512i kk0 = _mm512_set1_epi32((int)k0), kk1 = _mm512_set1_epi32((int)k1);
        const __m512i pe0 = _mm512_mul_epu32(e[0], m0), pe1 = _mm512_mul_epu32(e[2], m1);
        const __m512i po0 = _mm512_mul_epu32(o[0], m0), po1 = _mm512_mul_epu32(o[2], m1);
        /* 0x96: a ^ b ^ c */
        e[0] = _mm512_ternarylogic_epi32(_mm512_srli_epi64(pe1, 32), e[1], kk0, 0x96);
        e[1] = pe1;
        e[2] = _mm512_ternarylogic_epi32(_mm512_srli_epi64(pe0, 32), e[3], kk1, 0x96);
        e[3] = pe0;
        o[0] = _mm512_ternarylogic_epi32(_mm512_srli_epi64(po1, 32), o[1], kk0, 0x96);
        o[1] = po1;
        o[2] = _mm512_ternarylogic_epi32(_mm512_srli_epi64(po0, 32), o[3], kk1, 0x96);
        o[3] = po0;
        k0 += PHILOX_W32_0;
        k1 += PHILOX_W32_1;
    }
    for (int w = 0; w < 4; w++)
        x[w] = _mm512_mask_blend_epi32(0xaaaa, e[w], _mm512_slli_epi64(o[w], 32));
}
#endif

/* The fixed counter words of a key; word 1 is the channel group. */
static inline void cim_noise_ctr(const cim_noise_key *k, uint32_t c[4])
{
    c[0] = (uint32_t)k->vector;
    c[1] = 0;
    c[2] = (uint32_t)((k->vector >> 32) & 0xffffu) | (k->chunk << 16);
    c[3] = (k->islice & 0xfffu) | ((k->wslice & 0xfu) << 12) | ((k->phase & 1u) << 16) |
           ((k->layer & 0x7fffu) << 17);
}

/* Counter words 0 and 2 of vectors k->vector + r0 + l, l < 16 (c2: word 2's
 * fixed high half), for Philox across 16 vectors of one channel group. */
static inline void cim_noise_vec16(const cim_noise_key *k, int r0, uint32_t c2, uint32_t v0[16], uint32_t v2[16])
{
    for (int l = 0; l < 16; l++) {
        uint64_t v = k->vector + (uint64_t)(r0 + l);
        v0[l] = (uint32_t)v;
        v2[l] = (uint32_t)((v >> 32) & 0xffffu) | (c2 & 0xffff0000u);
    }
}

/* Single precision is ample for a noise sample (24-bit uniforms, 6 sigma
 * tails) and twice as wide per vector. Every step is a correctly rounded IEEE
 * operation, so the bits are the same on every ISA.
 *
 * ln(u) for u = (w + 0.5) 2^-24, w < 2^24: u = 2^e m, m in [sqrt(1/2), sqrt(2)),
 * ln m = 2 atanh(s), s = (m - 1)/(m + 1), |s| <= 0.1716, series to s^9
 * (truncation < 4e-10). */
static inline float cim_det_logf(float x)
{
    uint32_t bits;
    memcpy(&bits, &x, sizeof bits);
    int32_t e = (int32_t)((bits >> 23) & 0xff) - 126;
    bits = (bits & 0x007fffffu) | 0x3f000000u; /* m in [0.5, 1) */
    float m;
    memcpy(&m, &bits, sizeof m);
    int32_t lowm = m < 0.70710678f;
    m = lowm ? m * 2.0f : m;
    e -= lowm;
    float s = (m - 1.0f) / (m + 1.0f), s2 = s * s;
    float p = 1.0f / 9.0f;
    p = p * s2 + 1.0f / 7.0f;
    p = p * s2 + 1.0f / 5.0f;
    p = p * s2 + 1.0f / 3.0f;
    p = p * s2 + 1.0f;
    return 2.0f * s * p + (float)e * 0.69314718f;
}

/* cos and sin of 2 pi (w + 0.5) / 2^32: the top two bits pick the quadrant,
 * the next 22 an angle pi/4 + d, |d| < pi/4; Taylor series to d^9 / d^10
 * (truncation < 2e-9). */
static inline void cim_det_sincosf_turn(uint32_t w, float *c, float *s)
{
    uint32_t quad = w >> 30;
    float f = ((float)(int32_t)((w >> 8) & 0x3fffffu) + 0.5f) * (1.0f / 4194304.0f);
    float d = (f - 0.5f) * 1.5707963f, d2 = d * d;
    float sn = 1.0f / 362880.0f;
    sn = sn * -d2 + 1.0f / 5040.0f;
    sn = sn * -d2 + 1.0f / 120.0f;
    sn = sn * -d2 + 1.0f / 6.0f;
    sn = sn * -d2 + 1.0f;
    sn *= d;
    float cs = 1.0f / 3628800.0f;
    cs = cs * -d2 + 1.0f / 40320.0f;
    cs = cs * -d2 + 1.0f / 720.0f;
    cs = cs * -d2 + 1.0f / 24.0f;
    cs = cs * -d2 + 1.0f / 2.0f;
    cs = cs * -d2 + 1.0f;
    const float r = 0.70710678f; /* cos(pi/4) */
    float ct = r * (cs - sn), st = r * (cs + sn);
    /* rotate by quad quarter turns: (c, s) -> (-s, c) -> (-c, -s) -> (s, -c) */
    float c1 = (quad & 1) ? -st : ct, s1 = (quad & 1) ? ct : st;
    *c = (quad & 2) ? -c1 : c1;
    *s = (quad & 2) ? -s1 : s1;
}

/* The radius sqrt(-2 ln u) of a 32-bit word: u = ((w >> 8) + 0.5) 2^-24, exact
 * in single precision, in (0, 1); at most 5.9. */
static inline float cim_det_radiusf(uint32_t w)
{
    float u = ((float)(int32_t)(w >> 8) + 0.5f) * (1.0f / 16777216.0f);
    return sqrtf(-2.0f * cim_det_logf(u));
}

/* Standard normals of the 4 * ngroups channels of groups g0 .. g0 + ngroups - 1
 * into z (4 per group), ngroups <= 64. */
static inline void cim_noise_groups_impl(const cim_noise_key *k, uint32_t g0, int ngroups, float *restrict z)
{
    uint32_t c[4], o0[64], o1[64], o2[64], o3[64];
    cim_noise_ctr(k, c);
    const uint32_t key0 = (uint32_t)k->seed, key1 = (uint32_t)(k->seed >> 32);
#if defined(__AVX512F__)
    const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    for (int g = 0; g < ngroups; g += 16) { /* whole blocks of 16: the arrays hold 64 */
        __m512i x[4] = {_mm512_set1_epi32((int)c[0]), _mm512_add_epi32(_mm512_set1_epi32((int)(g0 + (uint32_t)g)), iota),
                        _mm512_set1_epi32((int)c[2]), _mm512_set1_epi32((int)c[3])};
        cim_philox16(x, key0, key1);
        _mm512_storeu_si512((void *)(o0 + g), x[0]);
        _mm512_storeu_si512((void *)(o1 + g), x[1]);
        _mm512_storeu_si512((void *)(o2 + g), x[2]);
        _mm512_storeu_si512((void *)(o3 + g), x[3]);
    }
#else
    for (int g = 0; g < ngroups; g++) {
        uint32_t x[4] = {c[0], g0 + (uint32_t)g, c[2], c[3]};
        cim_philox4x32_10(x, key0, key1);
        o0[g] = x[0];
        o1[g] = x[1];
        o2[g] = x[2];
        o3[g] = x[3];
    }
#endif
    /* Box-Muller: words 0 and 2 give radii, words 1 and 3 angles. Separate
     * loops over plain arrays, so compilers vectorize each (the values do not
     * depend on it: no contraction, every operation correctly rounded). */
#if defined(__AVX512F__)
    const int nv = (ngroups + 15) & ~15; /* the arrays hold whole blocks of 16 */
#else
    const int nv = ngroups;
#endif
    float ra[64], rb[64], ca[64], sa[64], cb[64], sb[64];
    for (int g = 0; g < nv; g++) {
        ra[g] = cim_det_radiusf(o0[g]);
        rb[g] = cim_det_radiusf(o2[g]);
    }
    for (int g = 0; g < nv; g++) {
        cim_det_sincosf_turn(o1[g], &ca[g], &sa[g]);
        cim_det_sincosf_turn(o3[g], &cb[g], &sb[g]);
    }
    for (int g = 0; g < ngroups; g++) {
        z[4 * g] = ra[g] * ca[g];
        z[4 * g + 1] = ra[g] * sa[g];
        z[4 * g + 2] = rb[g] * cb[g];
        z[4 * g + 3] = rb[g] * sb[g];
    }
}

/* z[i] = the normal of channel n0 + i, i < count. */
static inline void cim_noise_row_impl(const cim_noise_key *k, uint32_t n0, int count, float *restrict z)
{
    float buf[4 * 64];
    int i = 0;
    while (i < count) {
        uint32_t n = n0 + (uint32_t)i, g0 = n >> 2;
        uint32_t last = n0 + (uint32_t)count - 1;
        int ng = (int)((last >> 2) - g0 + 1);
        ng = ng > 64 ? 64 : ng;
        int off = (int)(n & 3u), take = 4 * ng - off;
        if (!off && take <= count - i) { /* whole groups: straight into z */
            cim_noise_groups_impl(k, g0, ng, z + i);
            i += take;
            continue;
        }
        cim_noise_groups_impl(k, g0, ng, buf);
        take = take > count - i ? count - i : take;
        memcpy(z + i, buf + off, (size_t)take * sizeof(float));
        i += take;
    }
}

#if defined(__AVX512F__)
/* The tile of rows x count normals (row r at z + r * ldz) for a narrow
 * channel span: Philox runs across 16 vectors (rows) of one channel group at
 * once instead of across groups of one row, so a one-column tile (a
 * depthwise convolution's) does not draw 64 normals to keep one. Same
 * counters, so the same bits as cim_noise_row_impl row by row. */
static inline void cim_noise_cols_impl(const cim_noise_key *k, int rows, uint32_t n0, int count, float *restrict z,
                                       size_t ldz)
{
    uint32_t c[4];
    cim_noise_ctr(k, c);
    const uint32_t key0 = (uint32_t)k->seed, key1 = (uint32_t)(k->seed >> 32);
    const uint32_t g0 = n0 >> 2, g1 = (n0 + (uint32_t)count - 1) >> 2;
    for (int r0 = 0; r0 < rows; r0 += 16) {
        const int nr = rows - r0 < 16 ? rows - r0 : 16;
        uint32_t v0[16], v2[16];
        cim_noise_vec16(k, r0, c[2], v0, v2);
        for (uint32_t g = g0; g <= g1; g++) {
            __m512i x[4] = {_mm512_loadu_si512((const void *)v0), _mm512_set1_epi32((int)g),
                            _mm512_loadu_si512((const void *)v2), _mm512_set1_epi32((int)c[3])};
            cim_philox16(x, key0, key1);
            uint32_t o[4][16];
            for (int w = 0; w < 4; w++)
                _mm512_storeu_si512((void *)o[w], x[w]);
            const uint32_t lo = 4 * g < n0 ? n0 : 4 * g, hi = 4 * g + 3 < n0 + (uint32_t)count - 1 ? 4 * g + 3
                                                                                                 : n0 + (uint32_t)count - 1;
            /* only the Box-Muller pairs the span uses: words (0, 1) give channels
             * 4g, 4g + 1, words (2, 3) 4g + 2, 4g + 3 (a one-channel tile needs one) */
            const int need_a = (lo & 2u) == 0, need_b = (hi & 2u) != 0;
            float ra[16], rb[16], ca[16], sa[16], cb[16], sb[16];
            if (need_a) {
                for (int l = 0; l < 16; l++)
                    ra[l] = cim_det_radiusf(o[0][l]);
                for (int l = 0; l < 16; l++)
                    cim_det_sincosf_turn(o[1][l], &ca[l], &sa[l]);
            }
            if (need_b) {
                for (int l = 0; l < 16; l++)
                    rb[l] = cim_det_radiusf(o[2][l]);
                for (int l = 0; l < 16; l++)
                    cim_det_sincosf_turn(o[3][l], &cb[l], &sb[l]);
            }
            if (nr == 16 && lo == 4 * g && hi == 4 * g + 3) {
                /* a whole group of 16 rows: its four channels' normals
                 * transposed in registers, each row's four stored at once
                 * (16 stores instead of 64 single ones); the same products */
                const __m512 w0 = _mm512_mul_ps(_mm512_loadu_ps(ra), _mm512_loadu_ps(ca));
                const __m512 w1 = _mm512_mul_ps(_mm512_loadu_ps(ra), _mm512_loadu_ps(sa));
                const __m512 w2 = _mm512_mul_ps(_mm512_loadu_ps(rb), _mm512_loadu_ps(cb));
                const __m512 w3 = _mm512_mul_ps(_mm512_loadu_ps(rb), _mm512_loadu_ps(sb));
                /* per 128-bit lane of rows 4q .. 4q + 3: [w0 w1 w2 w3] of each row */
                const __m512 t0 = _mm512_unpacklo_ps(w0, w1), t1 = _mm512_unpackhi_ps(w0, w1);
                const __m512 t2 = _mm512_unpacklo_ps(w2, w3), t3 = _mm512_unpackhi_ps(w2, w3);
                const __m512 r0v = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t0), _mm512_castps_pd(t2)));
                const __m512 r1v = _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t0), _mm512_castps_pd(t2)));
                const __m512 r2v = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t1), _mm512_castps_pd(t3)));
                const __m512 r3v = _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t1), _mm512_castps_pd(t3)));
                float *zg = z + (4 * g - n0) + (size_t)r0 * ldz;
#define CIM_NC_STORE4(Q)                                                                         \
    _mm_storeu_ps(zg + (size_t)(4 * (Q) + 0) * ldz, _mm512_extractf32x4_ps(r0v, (Q)));           \
    _mm_storeu_ps(zg + (size_t)(4 * (Q) + 1) * ldz, _mm512_extractf32x4_ps(r1v, (Q)));           \
    _mm_storeu_ps(zg + (size_t)(4 * (Q) + 2) * ldz, _mm512_extractf32x4_ps(r2v, (Q)));           \
    _mm_storeu_ps(zg + (size_t)(4 * (Q) + 3) * ldz, _mm512_extractf32x4_ps(r3v, (Q)));
                CIM_NC_STORE4(0)
                CIM_NC_STORE4(1)
                CIM_NC_STORE4(2)
                CIM_NC_STORE4(3)
#undef CIM_NC_STORE4
                continue;
            }
            for (uint32_t ch = lo; ch <= hi; ch++) {
                float *zc = z + (ch - n0) + (size_t)r0 * ldz;
                const float *rad = (ch & 2) ? rb : ra;
                const float *tr = (ch & 2) ? ((ch & 1) ? sb : cb) : ((ch & 1) ? sa : ca);
                for (int l = 0; l < nr; l++)
                    zc[(size_t)l * ldz] = rad[l] * tr[l];
            }
        }
    }
}
#endif

/* The normals of the recovery slices of scattered conversions: for failure f
 * at (vectors[f], channels[f]) and recovery slice r < nrec, z[r * count + f].
 * k->islice is 0x100 | j << 4 for speculative slice j. One Philox block per
 * failure and four recovery slices: counter word 1 is the channel itself and
 * islice gains the block number r / 4; Box-Muller on words (0, 1) gives
 * slices 4b and 4b + 1, on words (2, 3) slices 4b + 2 and 4b + 3. */
static inline void cim_noise_recovery_impl(const cim_noise_key *k, const uint64_t *restrict vectors,
                                           const uint32_t *restrict channels, int count, int nrec,
                                           float *restrict z)
{
    const uint32_t key0 = (uint32_t)k->seed, key1 = (uint32_t)(k->seed >> 32);
    for (int b = 0; 4 * b < nrec; b++) {
        cim_noise_key kb = *k;
        kb.islice = k->islice | (uint32_t)b;
        uint32_t c[4];
        cim_noise_ctr(&kb, c);
        const int nb = nrec - 4 * b < 4 ? nrec - 4 * b : 4;
        for (int base = 0; base < count; base += 64) {
            int n = count - base < 64 ? count - base : 64;
            uint32_t o[4][64];
#if defined(__AVX512F__)
            for (int g = 0; g < n; g += 16) { /* masked loads past the end; o holds 64 */
                const int left = n - g < 16 ? n - g : 16;
                const __mmask16 m16 = (__mmask16)((1u << left) - 1);
                const __mmask8 mlo = (__mmask8)(m16 & 0xff), mhi = (__mmask8)(m16 >> 8);
                const __m512i va = _mm512_maskz_loadu_epi64(mlo, vectors + base + g);
                const __m512i vb = _mm512_maskz_loadu_epi64(mhi, vectors + base + g + 8);
                const __m512i vlo = _mm512_inserti64x4(_mm512_castsi256_si512(_mm512_cvtepi64_epi32(va)),
                                                       _mm512_cvtepi64_epi32(vb), 1);
                const __m512i vhi = _mm512_inserti64x4(
                    _mm512_castsi256_si512(_mm512_cvtepi64_epi32(_mm512_srli_epi64(va, 32))),
                    _mm512_cvtepi64_epi32(_mm512_srli_epi64(vb, 32)), 1);
                __m512i x[4] = {vlo, _mm512_maskz_loadu_epi32(m16, channels + base + g),
                                _mm512_or_si512(_mm512_and_si512(vhi, _mm512_set1_epi32(0xffff)),
                                                _mm512_set1_epi32((int)(c[2] & 0xffff0000u))),
                                _mm512_set1_epi32((int)c[3])};
                cim_philox16(x, key0, key1);
                for (int w = 0; w < 4; w++)
                    _mm512_storeu_si512((void *)(o[w] + g), x[w]);
            }
#else
            for (int g = 0; g < n; g++) {
                uint64_t v = vectors[base + g];
                uint32_t x[4] = {(uint32_t)v, channels[base + g], (uint32_t)((v >> 32) & 0xffffu) | (c[2] & 0xffff0000u),
                                 c[3]};
                cim_philox4x32_10(x, key0, key1);
                o[0][g] = x[0];
                o[1][g] = x[1];
                o[2][g] = x[2];
                o[3][g] = x[3];
            }
#endif
            for (int h = 0; 2 * h < nb; h++) { /* words (2h, 2h + 1): slices 4b + 2h, 4b + 2h + 1 */
                float zc[64], zs[64];
                const uint32_t *wr = o[2 * h], *wa = o[2 * h + 1];
                for (int g = 0; g < n; g++) {
                    float rad = cim_det_radiusf(wr[g]), cz, sz;
                    cim_det_sincosf_turn(wa[g], &cz, &sz);
                    zc[g] = rad * cz;
                    zs[g] = rad * sz;
                }
                float *z0 = z + (size_t)(4 * b + 2 * h) * (size_t)count + base;
                memcpy(z0, zc, (size_t)n * sizeof(float));
                if (2 * h + 1 < nb)
                    memcpy(z0 + count, zs, (size_t)n * sizeof(float));
            }
        }
    }
}

/* ---- the ADC-output draw's uniforms (qnoise.h) ---- */

/* Channel n's uniform: block n / 8 (counter word 1), word (n / 2) % 4, the
 * low half for even n (qnoise.h): a block's 16 bytes, little-endian, are the
 * uniforms of channels 8b .. 8b + 7 in order. */
static inline uint16_t cim_qnoise_half(const uint32_t x[4], uint32_t n)
{
    return (uint16_t)(x[(n >> 1) & 3u] >> ((n & 1u) * 16u));
}

/* The refinement word (V's low 32 bits) of channel n of vector v. */
static inline uint32_t cim_qnoise_refine(const cim_noise_key *k, uint64_t v, uint32_t n)
{
    cim_noise_key kr = *k;
    kr.vector = v;
    kr.islice = (k->islice & 0xffu) | CIM_QNOISE_REFINE;
    uint32_t c[4];
    cim_noise_ctr(&kr, c);
    c[1] = n;
    cim_philox4x32_10(c, (uint32_t)k->seed, (uint32_t)(k->seed >> 32));
    return c[0];
}

#if defined(__AVX512F__)
/* The 16 blocks of a Philox call (word w of lane l in x[w]) as 128 uniforms in
 * block order: lane l's 16 bytes at uniform 8 l, o[q] holding lanes 4q .. 4q + 3. */
static inline void cim_qnoise_transpose(const __m512i x[4], __m512i o[4])
{
    /* y_j: lane 4q + j's four words at 128-bit lane q */
    const __m512i t0 = _mm512_unpacklo_epi32(x[0], x[1]), t1 = _mm512_unpackhi_epi32(x[0], x[1]);
    const __m512i t2 = _mm512_unpacklo_epi32(x[2], x[3]), t3 = _mm512_unpackhi_epi32(x[2], x[3]);
    const __m512i y0 = _mm512_unpacklo_epi64(t0, t2), y1 = _mm512_unpackhi_epi64(t0, t2);
    const __m512i y2 = _mm512_unpacklo_epi64(t1, t3), y3 = _mm512_unpackhi_epi64(t1, t3);
    /* [y0.q, y1.q, y2.q, y3.q] */
#define CIM_QT_OUT(q)                                                                                   \
    _mm512_shuffle_i32x4(_mm512_shuffle_i32x4(y0, y1, (q) * 0x55), _mm512_shuffle_i32x4(y2, y3, (q) * 0x55), 0x88)
    o[0] = CIM_QT_OUT(0);
    o[1] = CIM_QT_OUT(1);
    o[2] = CIM_QT_OUT(2);
    o[3] = CIM_QT_OUT(3);
#undef CIM_QT_OUT
}

static inline void cim_qnoise_store(const __m512i o[4], uint16_t *out)
{
    for (int q = 0; q < 4; q++)
        _mm512_storeu_si512((void *)(out + 32 * q), o[q]);
}
#endif

/* The 16-bit uniforms of channels n0 .. n0 + count - 1 of vectors k->vector + r,
 * r < rows, row r at u + r * ldu (k->islice: the input slice). The work is
 * the (row, block) pairs of the tile, rows first: each needs one Philox
 * block, so a narrow tile (a depthwise convolution's one channel, a 16- or
 * 64-channel layer) draws only the blocks it uses; with AVX-512, 16 pairs per
 * call, whatever their rows. */
static inline void cim_qnoise_tile_impl(const cim_noise_key *k, int rows, uint32_t n0, int count, uint16_t *restrict u,
                                        size_t ldu)
{
    if (count <= 0)
        return;
    cim_noise_key ks = *k;
    ks.islice = (k->islice & 0xffu) | CIM_QNOISE_STREAM;
    uint32_t c[4];
    cim_noise_ctr(&ks, c);
    const uint32_t key0 = (uint32_t)k->seed, key1 = (uint32_t)(k->seed >> 32), n1 = n0 + (uint32_t)count;
    const uint32_t b0 = n0 >> 3, nb = ((n1 - 1) >> 3) - b0 + 1;
    const int total = rows * (int)nb;
#if defined(__AVX512F__)
    const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i c3 = _mm512_set1_epi32((int)c[3]);
    (void)total;
    if (nb <= 8) { /* 16 / nbp rows per call, nb of each row's nbp lanes used */
        const int s2 = nb <= 1 ? 0 : nb <= 2 ? 1 : nb <= 4 ? 2 : 3, nbp = 1 << s2, per = 16 >> s2;
        /* whole zmm per row: 4 or 8 whole blocks from n0 */
        const int direct = (nb == 4 || nb == 8) && (n0 & 7u) == 0 && count == 8 * (int)nb;
        const __m512i lane_row = _mm512_srli_epi32(iota, (unsigned)s2);
        for (int r0 = 0; r0 < rows; r0 += per) {
            const uint64_t v = k->vector + (uint64_t)r0;
            __m512i w0, w2;
            if ((uint32_t)v <= 0xffffffffu - 15u) { /* no carry into word 2 inside the call */
                w0 = _mm512_add_epi32(_mm512_set1_epi32((int)(uint32_t)v), lane_row);
                w2 = _mm512_set1_epi32((int)((uint32_t)((v >> 32) & 0xffffu) | (c[2] & 0xffff0000u)));
            } else {
                uint32_t a0[16], a2[16];
                for (int l = 0; l < 16; l++) {
                    const uint64_t vl = v + (uint64_t)(l >> s2);
                    a0[l] = (uint32_t)vl;
                    a2[l] = (uint32_t)((vl >> 32) & 0xffffu) | (c[2] & 0xffff0000u);
                }
                w0 = _mm512_loadu_si512((const void *)a0);
                w2 = _mm512_loadu_si512((const void *)a2);
            }
            __m512i x[4] = {w0, _mm512_add_epi32(_mm512_set1_epi32((int)b0), _mm512_and_si512(iota, _mm512_set1_epi32(nbp - 1))),
                            w2, c3};
            cim_philox16(x, key0, key1);
            __m512i o[4];
            cim_qnoise_transpose(x, o);
            const int nr = rows - r0 < per ? rows - r0 : per;
            if (direct && nr == per) {
                const int zr = (int)nb / 4; /* zmm per row */
                for (int q = 0; q < 4; q++)
                    _mm512_storeu_si512((void *)(u + (size_t)(r0 + q / zr) * ldu + 32 * (q % zr)), o[q]);
            } else {
                uint16_t t[128];
                cim_qnoise_store(o, t);
                const uint16_t *src = t + (n0 - 8u * b0);
                if (count == 1) /* a one-channel tile (depthwise): no copy call per row */
                    for (int j = 0; j < nr; j++)
                        u[(size_t)(r0 + j) * ldu] = src[8 * nbp * j];
                else
                    for (int j = 0; j < nr; j++)
                        memcpy(u + (size_t)(r0 + j) * ldu, src + 8 * nbp * j, (size_t)count * sizeof(uint16_t));
            }
        }
        return;
    }
    for (int r = 0; r < rows; r++) { /* 16 blocks of one row per call */
        const uint64_t v = k->vector + (uint64_t)r;
        uint16_t *ur = u + (size_t)r * ldu;
        for (uint32_t bg = b0; bg < b0 + nb; bg += 16) {
            __m512i x[4] = {_mm512_set1_epi32((int)(uint32_t)v), _mm512_add_epi32(_mm512_set1_epi32((int)bg), iota),
                            _mm512_set1_epi32((int)((uint32_t)((v >> 32) & 0xffffu) | (c[2] & 0xffff0000u))), c3};
            cim_philox16(x, key0, key1);
            const uint32_t lo = 8u * bg < n0 ? n0 : 8u * bg, hi = 8u * bg + 128u > n1 ? n1 : 8u * bg + 128u;
            __m512i o[4];
            cim_qnoise_transpose(x, o);
            if (lo == 8u * bg && hi == 8u * bg + 128u)
                cim_qnoise_store(o, ur + (lo - n0));
            else {
                uint16_t t[128];
                cim_qnoise_store(o, t);
                memcpy(ur + (lo - n0), t + (lo - 8u * bg), (size_t)(hi - lo) * sizeof(uint16_t));
            }
        }
    }
#else
    for (int r = 0; r < rows; r++) {
        ks.vector = k->vector + (uint64_t)r;
        cim_noise_ctr(&ks, c);
        uint16_t *ur = u + (size_t)r * ldu;
        for (uint32_t b = b0; b < b0 + nb; b++) {
            uint32_t x[4] = {c[0], b, c[2], c[3]};
            cim_philox4x32_10(x, key0, key1);
            for (uint32_t n = 8u * b < n0 ? n0 : 8u * b; n < n1 && n < 8u * b + 8u; n++)
                ur[n - n0] = cim_qnoise_half(x, n);
        }
    }
    (void)total;
#endif
}

#endif
