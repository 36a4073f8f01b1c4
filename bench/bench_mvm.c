/* bench_mvm.c: the crossbar engine's speed against the digital bound, in one run.
 *
 * W: 512x512 int8 normal-like, X: M x 512 uint8 ReLU-like (about half zeros):
 * tools/synth_layer.h with seed 1, the bundled data/layer512 for M = 256. Each preset runs with noise off and on
 * (E = 0.04); in the same run oneDNN's dnnl_gemm_u8s8s32 computes the same
 * shape. Reported: median time, logical 8-bit GMAC/s (M*K*N / time), the ratio
 * to oneDNN's int8 GEMM, slice products per second, and an FNV-1a checksum of
 * the psums so a faster kernel that changes the answer shows at once.
 *
 * usage: bench_mvm [--threads T] [--reps R] [--m M] [--kernel NAME] [--md FILE]
 *                  [--presets a,b,...] [--noise off|on|both] [--no-hist]
 *                  [--xsigma S]   (nonzero inputs |N(0, S)|, default 40) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <dnnl.h>
#include <omp.h>
#include "cimsim/cimsim.h"
#include "synth_layer.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static uint64_t fnv1a(const void *p, size_t n)
{
    const unsigned char *b = p;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

int main(int argc, char **argv)
{
    double xsigma = 40.0;
    int threads = 2, reps = 15, M = 256, K = 512, N = 512, hist = 1, noise_lo = 0, noise_hi = 1;
    const char *kernel = NULL, *md = NULL, *presets = "isaac,raella-nospec,raella,zero-offset";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--m") && i + 1 < argc)
            M = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--kernel") && i + 1 < argc)
            kernel = argv[++i];
        else if (!strcmp(argv[i], "--md") && i + 1 < argc)
            md = argv[++i];
        else if (!strcmp(argv[i], "--presets") && i + 1 < argc)
            presets = argv[++i];
        else if (!strcmp(argv[i], "--noise") && i + 1 < argc) {
            i++;
            noise_lo = strcmp(argv[i], "on") == 0;
            noise_hi = strcmp(argv[i], "off") != 0;
        } else if (!strcmp(argv[i], "--xsigma") && i + 1 < argc)
            xsigma = atof(argv[++i]);
        else if (!strcmp(argv[i], "--no-hist"))
            hist = 0;
        else {
            fprintf(stderr, "usage: %s [--threads T] [--reps R] [--m M] [--kernel NAME] [--md FILE] [--presets LIST] [--noise off|on|both] [--no-hist] [--xsigma S]\n", argv[0]);
            return 2;
        }
    }
    if (reps < 1 || reps > 1000 || M < 1 || threads < 1) {
        fprintf(stderr, "bench_mvm: bad arguments\n");
        return 2;
    }
    int8_t *W = malloc((size_t)K * N);
    uint8_t *X = malloc((size_t)M * K);
    int32_t *P = malloc(sizeof(int32_t) * (size_t)M * N);
    double *t = malloc(sizeof(double) * (size_t)reps);
    if (!W || !X || !P || !t)
        return 1;
    if (synth_layer(K, N, M, 1, xsigma, W, X))
        return 1;

    /* Program every configuration first; then each repetition times oneDNN and
     * every configuration once, in turn, so that the phases of a shared,
     * noisy machine fall on all of them alike. Medians per configuration. */
    omp_set_num_threads(threads); /* oneDNN here uses the OpenMP runtime */
    cim_ctx_options o;
    cim_ctx_options_default(&o);
    o.threads = threads;
    o.kernel = kernel;
    cim_ctx *ctx = NULL;
    if (cim_ctx_create(&o, &ctx)) {
        fprintf(stderr, "bench_mvm: cannot create a context (kernel %s?)\n", kernel ? kernel : "auto");
        return 1;
    }
    enum { MAXRUN = 32 };
    cim_layer *layers[MAXRUN];
    cim_xbar_config cfgs[MAXRUN];
    char names[MAXRUN][64];
    int noisy[MAXRUN], nrun = 0;
    const char *p = presets;
    while (*p) {
        size_t len = strcspn(p, ",");
        if (len >= sizeof names[0] || nrun + 2 > MAXRUN)
            return 2;
        for (int noise = noise_lo; noise <= noise_hi; noise++) {
            memcpy(names[nrun], p, len);
            names[nrun][len] = 0;
            cim_xbar_config *c = &cfgs[nrun];
            if (cim_config_load(ctx, names[nrun], c)) {
                fprintf(stderr, "bench_mvm: %s\n", cim_ctx_errmsg(ctx));
                return 1;
            }
            if (noise) {
                c->noise.model = CIM_NOISE_GAUSSIAN_COLSUM;
                c->noise.level = 0.04;
                c->noise.seed = 1;
            }
            cim_weights w = {W, CIM_INT8, K, N, NULL};
            if (cim_layer_program(ctx, c, &w, 0, NULL, &layers[nrun])) {
                fprintf(stderr, "bench_mvm: %s\n", cim_ctx_errmsg(ctx));
                return 1;
            }
            noisy[nrun++] = noise;
        }
        p += len + (p[len] == ',');
    }
    double *tt = malloc(sizeof(double) * (size_t)reps * (size_t)(nrun + 1));
    uint64_t sums[MAXRUN];
    double cpm[MAXRUN];
    cim_stats *st = malloc(sizeof *st);
    if (!tt || !st)
        return 1;
    cim_run_options ro;
    cim_run_options_default(&ro);
    ro.histogram = hist;
    int32_t co = 0;
    for (int r = -3; r < reps; r++) { /* three untimed warm-up rounds (oneDNN's JIT) */
        double t0 = 0;
        for (int warm = 0; warm < 2; warm++) { /* time oneDNN's second call: warm caches */
            t0 = now();
            if (dnnl_gemm_u8s8s32('N', 'N', 'F', M, N, K, 1.0f, X, K, 0, W, N, 0, 0.0f, P, N, &co) != dnnl_success) {
                fprintf(stderr, "bench_mvm: oneDNN gemm failed\n");
                return 1;
            }
        }
        if (r >= 0)
            tt[(size_t)r * (size_t)(nrun + 1)] = now() - t0;
        for (int k = 0; k < nrun; k++) {
            t0 = now();
            if (cim_layer_run(ctx, layers[k], X, M, P, st, &ro)) {
                fprintf(stderr, "bench_mvm: %s\n", cim_ctx_errmsg(ctx));
                return 1;
            }
            if (r >= 0)
                tt[(size_t)r * (size_t)(nrun + 1) + 1 + (size_t)k] = now() - t0;
            sums[k] = fnv1a(P, sizeof(int32_t) * (size_t)M * N);
            cpm[k] = cim_stats_converts_per_mac(st);
        }
    }
    double macs = (double)M * K * N;
    for (int r = 0; r < reps; r++)
        t[r] = tt[(size_t)r * (size_t)(nrun + 1)];
    double t_dnnl = median(t, reps);
    FILE *out = md ? fopen(md, "w") : NULL;
    if (md && !out) {
        fprintf(stderr, "bench_mvm: cannot write %s\n", md);
        return 1;
    }
    char head[512];
    snprintf(head, sizeof head,
             "W %dx%d int8, X %dx%d uint8 (ReLU-like, |N(0, %g)|); kernel %s; %d threads; median of %d interleaved "
             "rounds; histogram %s\noneDNN dnnl_gemm_u8s8s32: %.3f ms = %.1f GMAC/s\n\n",
             K, N, M, K, xsigma, cim_ctx_kernel_name(ctx), threads, reps, hist ? "on" : "off", t_dnnl * 1e3,
             macs / t_dnnl / 1e9);
    printf("%s", head);
    const char *hdr = "| preset | noise | ms | min ms | logical GMAC/s | slice products | slice GMAC/s | vs oneDNN time | converts/MAC | checksum |\n"
                      "|---|---|---:|---:|---:|---:|---:|---:|---:|---|\n";
    printf("%s", hdr);
    if (out)
        fprintf(out, "%s%s", head, hdr);
    for (int k = 0; k < nrun; k++) {
        double ratio[1000];
        for (int r = 0; r < reps; r++) {
            t[r] = tt[(size_t)r * (size_t)(nrun + 1) + 1 + (size_t)k];
            ratio[r] = t[r] / tt[(size_t)r * (size_t)(nrun + 1)];
        }
        double tm = median(t, reps), rm = median(ratio, reps), tmin = t[0]; /* t is sorted by median() */
        /* slice products: weight slices x input slice cycles that convert, per MAC */
        double slices = (double)cfgs[k].n_weight_slices * (double)cfgs[k].n_input_slices;
        char line[512];
        snprintf(line, sizeof line, "| %s | %s | %.3f | %.3f | %.2f | %.0f | %.1f | %.1fx | %.4f | %016llx |\n", names[k],
                 noisy[k] ? "E=0.04" : "off", tm * 1e3, tmin * 1e3, macs / tm / 1e9, slices, slices * macs / tm / 1e9, rm,
                 cpm[k], (unsigned long long)sums[k]);
        printf("%s", line);
        if (out)
            fprintf(out, "%s", line);
        cim_layer_free(ctx, layers[k]);
    }
    free(tt);
    if (out)
        fclose(out);
    free(st);
    free(W);
    free(X);
    free(P);
    free(t);
    cim_ctx_destroy(ctx);
    return 0;
}
