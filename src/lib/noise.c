/* noise.c: counter-based Gaussian noise for column sums (semantics.md section 8).
 *
 * Philox4x32-10 (Salmon et al. 2011, Random123) maps a counter built from
 * (vector, channel / 4, chunk, weight slice, input slice, phase, layer) and a
 * key (the 64-bit seed) to four 32-bit words; a Box-Muller transform turns them
 * into four standard normals, one for each of four consecutive channels. So a
 * column sum's noise depends only on its identity and the seed, never on
 * threads, batch split or kernel.
 *
 * Counter layout (bit fields, documented so results can be reproduced elsewhere):
 *   ctr[0] = vector bits 0..31
 *   ctr[1] = channel / 4
 *   ctr[2] = vector bits 32..47 | chunk << 16               (chunk < 65536)
 *   ctr[3] = islice | wslice << 12 | phase << 16 | layer << 17 (islice < 4096,
 *            wslice < 16, phase < 2, layer < 32768)
 * islice is the static/speculative input slice j, or 0x100 | j << 4 | r for
 * recovery sub-slice r of speculative slice j.
 *
 * The transcendental functions are our own polynomials built from +, -, *, /
 * and sqrt only (correctly rounded in IEEE-754, and compiled without FMA
 * contraction), so every build and ISA produces the same bits. Uniforms are
 * (w + 0.5) / 2^32, so the radius is at most sqrt(64 ln 2) = 6.66 sigma. */
#include <math.h>
#include <string.h>
#include <Random123/philox.h>
#include "noise.h"

/* ln(x) for x in (0, 1]: x = 2^e m with m in [sqrt(1/2), sqrt(2)), then
 * ln m = 2 atanh(s), s = (m - 1) / (m + 1), |s| <= 0.1716, series to s^17
 * (truncation error < 2e-15 relative). */
static inline double det_log(double x)
{
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    int e = (int)((bits >> 52) & 0x7ff) - 1022;
    bits = (bits & 0x000fffffffffffffull) | 0x3fe0000000000000ull; /* m in [0.5, 1) */
    double m;
    memcpy(&m, &bits, sizeof m);
    if (m < 0.70710678118654752440) {
        m *= 2.0;
        e -= 1;
    }
    double s = (m - 1.0) / (m + 1.0), s2 = s * s;
    double p = 1.0 / 17.0;
    p = p * s2 + 1.0 / 15.0;
    p = p * s2 + 1.0 / 13.0;
    p = p * s2 + 1.0 / 11.0;
    p = p * s2 + 1.0 / 9.0;
    p = p * s2 + 1.0 / 7.0;
    p = p * s2 + 1.0 / 5.0;
    p = p * s2 + 1.0 / 3.0;
    p = p * s2 + 1.0;
    return 2.0 * s * p + (double)e * 0.69314718055994530942;
}

/* cos and sin of 2 pi (w + 0.5) / 2^32: the top two bits pick the quadrant,
 * the rest an angle t in (0, pi/2) = pi/4 + d with |d| < pi/4; Taylor series of
 * sin d and cos d to d^15 / d^16 (error < 1e-15). */
static inline void det_sincos_turn(uint32_t w, double *c, double *s)
{
    unsigned quad = w >> 30;
    double f = ((double)(w & 0x3fffffffu) + 0.5) * (1.0 / 1073741824.0); /* (0, 1) */
    double d = (f - 0.5) * 1.57079632679489661923;
    double d2 = d * d;
    double sn = 1.0 / 1307674368000.0;           /* 1/15! */
    sn = sn * -d2 + 1.0 / 6227020800.0;          /* 1/13! */
    sn = sn * -d2 + 1.0 / 39916800.0;            /* 1/11! */
    sn = sn * -d2 + 1.0 / 362880.0;              /* 1/9! */
    sn = sn * -d2 + 1.0 / 5040.0;                /* 1/7! */
    sn = sn * -d2 + 1.0 / 120.0;                 /* 1/5! */
    sn = sn * -d2 + 1.0 / 6.0;                   /* 1/3! */
    sn = sn * -d2 + 1.0;
    sn *= d;
    double cs = 1.0 / 20922789888000.0;          /* 1/16! */
    cs = cs * -d2 + 1.0 / 87178291200.0;         /* 1/14! */
    cs = cs * -d2 + 1.0 / 479001600.0;           /* 1/12! */
    cs = cs * -d2 + 1.0 / 3628800.0;             /* 1/10! */
    cs = cs * -d2 + 1.0 / 40320.0;               /* 1/8! */
    cs = cs * -d2 + 1.0 / 720.0;                 /* 1/6! */
    cs = cs * -d2 + 1.0 / 24.0;                  /* 1/4! */
    cs = cs * -d2 + 1.0 / 2.0;                   /* 1/2! */
    cs = cs * -d2 + 1.0;
    const double r = 0.70710678118654752440; /* cos(pi/4) = sin(pi/4) */
    double ct = r * (cs - sn), st = r * (cs + sn);
    double cq[4] = {ct, -st, -ct, st}, sq[4] = {st, ct, -st, -ct};
    *c = cq[quad];
    *s = sq[quad];
}

static inline philox4x32_ctr_t make_ctr(const cim_noise_key *k, uint32_t group)
{
    philox4x32_ctr_t ctr = {{(uint32_t)k->vector, group,
                             (uint32_t)((k->vector >> 32) & 0xffffu) | (k->chunk << 16),
                             (k->islice & 0xfffu) | ((k->wslice & 0xfu) << 12) |
                                 ((k->phase & 1u) << 16) | ((k->layer & 0x7fffu) << 17)}};
    return ctr;
}

void cim__noise_group(const cim_noise_key *k, uint32_t group, double z[4])
{
    philox4x32_key_t key = {{(uint32_t)k->seed, (uint32_t)(k->seed >> 32)}};
    philox4x32_ctr_t r = philox4x32(make_ctr(k, group), key);
    for (int h = 0; h < 2; h++) {
        double u = ((double)r.v[2 * h] + 0.5) * (1.0 / 4294967296.0);
        double rad = sqrt(-2.0 * det_log(u));
        double c, s;
        det_sincos_turn(r.v[2 * h + 1], &c, &s);
        z[2 * h] = rad * c;
        z[2 * h + 1] = rad * s;
    }
}

void cim__noise_normals(const cim_noise_key *k, uint32_t n0, int count, double *z)
{
    double g[4];
    int i = 0;
    while (i < count) {
        uint32_t n = n0 + (uint32_t)i;
        cim__noise_group(k, n >> 2, g);
        for (uint32_t lane = n & 3u; lane < 4 && i < count; lane++, i++)
            z[i] = g[lane];
    }
}

double cim__noise_normal(const cim_noise_key *k, uint32_t n)
{
    double g[4];
    cim__noise_group(k, n >> 2, g);
    return g[n & 3u];
}
