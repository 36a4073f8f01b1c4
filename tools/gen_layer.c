/* gen_layer.c: makes the synthetic layer bundled in data/layer512 (see
 * synth_layer.h; the benchmarks make the same one).
 *
 * usage: cimsim-gen-layer K N M SEED OUTDIR  -> OUTDIR/W.npy, OUTDIR/X.npy */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "cimsim/cimsim.h"
#include "synth_layer.h"

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
    if (!W || !X || synth_layer(K, N, M, seed, 40.0, W, X))
        return 1;
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
    return rc;
}
