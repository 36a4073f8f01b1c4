/* library_example.c: libcimsim from a program of your own, in about fifty lines.
 * Programs a random 300x40 layer under the `raella` preset and under a YAML
 * config, runs 8 input vectors through each, and prints the error against the
 * exact product and a few counters. Build: it is part of the CMake build
 * (build/cimsim-example [CONFIG.yaml]). */
#include <stdio.h>
#include <stdlib.h>
#include "cimsim/cimsim.h"

enum { K = 300, N = 40, M = 8 };

static int run(cim_ctx *ctx, const char *spec, const int8_t *w, const uint8_t *x)
{
    cim_xbar_config cfg;
    cim_layer *layer = NULL;
    static int32_t psum[M * N], exact[M * N];
    cim_stats *st = malloc(sizeof *st); /* ~70 KB with its histogram: not for the stack */
    cim_weights wt = {w, CIM_INT8, K, N, NULL};
    cim_status s;
    if (!st)
        return 1;
    if ((s = cim_config_load(ctx, spec, &cfg)) || (s = cim_layer_program(ctx, &cfg, &wt, 0, NULL, &layer)) ||
        (s = cim_layer_run(ctx, layer, x, M, psum, st, NULL)) || (s = cim_layer_run_exact(ctx, layer, x, M, exact))) {
        fprintf(stderr, "%s: %s\n", cim_status_str(s), cim_ctx_errmsg(ctx));
        cim_layer_free(ctx, layer);
        free(st);
        return 1;
    }
    long long err = 0;
    for (int i = 0; i < M * N; i++)
        err += llabs((long long)psum[i] - exact[i]);
    char summary[256];
    cim_config_summary(&cfg, summary, sizeof summary);
    printf("%s\n  mean |psum - exact| = %.3f, %.4f converts/MAC, %llu saturations, %llu speculation failures\n",
           summary, (double)err / (M * N), cim_stats_converts_per_mac(st), (unsigned long long)st->saturations,
           (unsigned long long)st->speculation_failures);
    cim_layer_free(ctx, layer);
    free(st);
    return 0;
}

int main(int argc, char **argv)
{
    static int8_t w[K * N];
    static uint8_t x[M * K];
    srand(1);
    for (int i = 0; i < K * N; i++)
        w[i] = (int8_t)(rand() % 101 - 50);
    for (int i = 0; i < M * K; i++)
        x[i] = (uint8_t)(rand() % 2 ? 0 : rand() % 128);
    cim_ctx *ctx = NULL;
    if (cim_ctx_create(NULL, &ctx) != CIM_OK)
        return 1;
    int rc = run(ctx, "raella", w, x);
    if (!rc && argc > 1)
        rc = run(ctx, argv[1], w, x);
    cim_ctx_destroy(ctx);
    return rc;
}
