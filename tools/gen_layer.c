/* gen_layer.c: makes the synthetic layer bundled in data/layer512 and used by
 * the benchmarks: W int8 [K, N] normal-like (sigma 24, with a per-filter mean
 * drawn from N(0, 6) so filters are not all zero-mean, as in trained networks),
 * X uint8 [M, K] ReLU-like (half zeros, the rest |N(0, 40)| clipped to 255).
 * Deterministic for a given seed.
 *
 * usage: cimsim-gen-layer K N M SEED OUTDIR  -> OUTDIR/W.npy, OUTDIR/X.npy */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "cimsim/cimsim.h"

static uint64_t next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double uniform(uint64_t *s) { return ((double)(next(s) >> 11) + 0.5) * 0x1.0p-53; }

static double normal(uint64_t *s) { return sqrt(-2.0 * log(uniform(s))) * cos(6.283185307179586 * uniform(s)); }

static long clampl(long v, long lo, long hi) { return v < lo ? lo : v > hi ? hi : v; }

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: %s K N M SEED OUTDIR\n", argv[0]);
        return 2;
    }
    long K = atol(argv[1]), N = atol(argv[2]), M = atol(argv[3]);
    uint64_t seed = strtoull(argv[4], NULL, 0);
    if (K < 1 || N < 1 || M < 1 || K > (1 << 20) || N > (1 << 20) || M > (1 << 24)) {
        fprintf(stderr, "gen_layer: bad sizes\n");
        return 2;
    }
    int8_t *W = malloc((size_t)(K * N));
    uint8_t *X = malloc((size_t)(M * K));
    double *mu = malloc(sizeof(double) * (size_t)N);
    if (!W || !X || !mu)
        return 1;
    for (long n = 0; n < N; n++)
        mu[n] = 6.0 * normal(&seed);
    for (long k = 0; k < K; k++)
        for (long n = 0; n < N; n++)
            W[k * N + n] = (int8_t)clampl(lround(mu[n] + 24.0 * normal(&seed)), -128, 127);
    for (long i = 0; i < M * K; i++)
        X[i] = uniform(&seed) < 0.5 ? 0 : (uint8_t)clampl(lround(fabs(40.0 * normal(&seed))), 0, 255);
    cim_ctx *ctx = NULL;
    if (cim_ctx_create(NULL, &ctx))
        return 1;
    char path[4096];
    int64_t ws[2] = {K, N}, xs[2] = {M, K};
    int rc = 0;
    snprintf(path, sizeof path, "%s/W.npy", argv[5]);
    if (cim_npy_write(ctx, path, CIM_INT8, 2, ws, W)) {
        fprintf(stderr, "gen_layer: %s\n", cim_ctx_errmsg(ctx));
        rc = 1;
    }
    snprintf(path, sizeof path, "%s/X.npy", argv[5]);
    if (!rc && cim_npy_write(ctx, path, CIM_UINT8, 2, xs, X)) {
        fprintf(stderr, "gen_layer: %s\n", cim_ctx_errmsg(ctx));
        rc = 1;
    }
    cim_ctx_destroy(ctx);
    free(W);
    free(X);
    free(mu);
    return rc;
}
