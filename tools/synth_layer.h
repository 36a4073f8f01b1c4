/* synth_layer.h: the synthetic layer of data/layer512 and of the benchmarks,
 * so that both make the same numbers. W int8 [K, N] normal-like (sigma 24, with
 * a per-filter mean from N(0, 6): trained filters are not all zero-mean), X
 * uint8 [M, K] ReLU-like (half zeros, the rest |N(0, xsigma)| clipped to 255).
 * Deterministic for a given seed (splitmix64 + Box-Muller). */
#ifndef CIMSIM_SYNTH_LAYER_H
#define CIMSIM_SYNTH_LAYER_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

static inline uint64_t synth_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static inline double synth_uniform(uint64_t *s) { return ((double)(synth_next(s) >> 11) + 0.5) * 0x1.0p-53; }

static inline double synth_normal(uint64_t *s)
{
    return sqrt(-2.0 * log(synth_uniform(s))) * cos(6.283185307179586 * synth_uniform(s));
}

static inline long synth_clamp(long v, long lo, long hi) { return v < lo ? lo : v > hi ? hi : v; }

/* Returns 0, or -1 if out of memory. */
static inline int synth_layer(long K, long N, long M, uint64_t seed, double xsigma, int8_t *W, uint8_t *X)
{
    double *mu = malloc(sizeof(double) * (size_t)N);
    if (!mu)
        return -1;
    for (long n = 0; n < N; n++)
        mu[n] = 6.0 * synth_normal(&seed);
    for (long k = 0; k < K; k++)
        for (long n = 0; n < N; n++)
            W[k * N + n] = (int8_t)synth_clamp(lround(mu[n] + 24.0 * synth_normal(&seed)), -128, 127);
    for (long i = 0; i < M * K; i++)
        X[i] = synth_uniform(&seed) < 0.5 ? 0 : (uint8_t)synth_clamp(lround(fabs(xsigma * synth_normal(&seed))), 0, 255);
    free(mu);
    return 0;
}

#endif
