/* bench_mvm.c: the crossbar engine's speed against the digital bound, in one run.
 *
 * W: 512x512 int8 normal-like, X: M x 512 uint8 ReLU-like (about half zeros):
 * tools/synth_layer.h with seed 1, the bundled data/layer512 for M = 256. Each preset runs with noise off and on
 * (E = 0.04), with the exact column-sum histogram on and/or off, on each of the
 * given thread counts; in the same run oneDNN's dnnl_gemm_u8s8s32 computes the
 * same shape on the same thread counts. Every round times oneDNN and every
 * configuration once, in turn (thread counts interleaved too), so the phases of
 * a shared, noisy machine fall on all of them alike; every ratio is taken per
 * round and its median reported.
 *
 * Reported per configuration: median (and min) time, logical 8-bit GMAC/s
 * (M*K*N / time), slice products (weight slices x input slices of the static
 * or speculative slicing; recovery slices not counted), slice GMAC/s, oneDNN's
 * median time at the same thread count, the slice efficiency (slice products x
 * oneDNN time / our time, issue 7), the noise-on / noise-off throughput ratio,
 * the speedup from the smallest thread count, converts/MAC and an FNV-1a
 * checksum of the psums, with marks against issue 7's targets (efficiency >=
 * 0.67 with noise off, noise on >= 0.5 x noise off, >= 1.8x from 1 to 2
 * threads). The psums of one preset and noise setting must be bit-identical
 * across thread counts, histogram settings and rounds: exit status 1 if not.
 *
 * With --weights W.npy --inputs X.npy (a real layer: `cimsim eval --dump-layer`
 * writes them; W int8 [K, N], X uint8 [M, K]) every measure runs on that layer
 * instead, its shape from the files, with activation zero point --zx Z (layer.txt's
 * zx; default 0): each config gets zx = Z and oneDNN subtracts Z from A (its ao),
 * so both compute (X - Z) @ W. The header names the files.
 *
 * usage: bench_mvm [--threads T[,T...]] [--reps R] [--m M] [--kernel NAME] [--md FILE]
 *                  [--presets a,b,...] [--noise off|on|both] [--hist on|off|both]
 *                  [--no-hist] (= --hist off) [--xsigma S] (nonzero inputs |N(0, S)|, default 40)
 *                  [--tsv FILE]  (one machine-readable line per configuration)
 *                  [--weights W.npy --inputs X.npy [--zx Z]]  (a real layer; not with --m, --xsigma)
 *
 * After the table, each preset with speculation gets its speculation failure rate
 * (failures / speculative converts) on the layer; TSV column spec_fail_rate.
 * TSV column converted_products: the slice products actually converted per
 * MAC, speculative and recovery (the slice products times (speculative +
 * recovery converts) / speculative converts; equal to slices without
 * speculation), for efficiency counted on the work done rather than the
 * static count.
 *
 * Run it with OMP_WAIT_POLICY=active (bench/run.sh does) when thread counts are
 * mixed on a shared machine: with the default policy libgomp's idle thread sleeps
 * during the 1-thread runs, and when another process holds the second core the
 * woken thread lands on the first one, so every 2-thread call (oneDNN's and ours)
 * took a whole scheduler slice (a constant 8 ms here instead of 0.09 ms). The
 * policy is printed in the table's header. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <dnnl.h>
#include <omp.h>
#include "cimsim/cimsim.h"
#include "synth_layer.h"
#include "bench_util.h"

enum { MAXT = 4, MAXRUN = 128, MAXREPS = 1000 };
#define EFF_TARGET 0.67
#define NOISE_TARGET 0.5
#define THREAD_TARGET 1.8

typedef struct run {
    char name[64];
    int preset, noise, hist, tidx; /* tidx: index into the thread list */
    cim_layer *layer;              /* owned by the run with hist == hist_lo */
    double slices, cpm, spec_fail; /* spec_fail: failures / speculative converts (NAN: no speculation) */
    double conv;                   /* slice products converted per MAC: speculative and recovery */
    uint64_t sum;
    int off, base; /* the same config with noise off / on the first thread count (or -1) */
    int spec;      /* the config speculates */
} run;

static int usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s [--threads T[,T...]] [--reps R] [--m M] [--kernel NAME] [--md FILE] [--tsv FILE] "
            "[--presets LIST] [--noise off|on|both] [--hist on|off|both] [--no-hist] [--xsigma S] "
            "[--weights W.npy --inputs X.npy [--zx Z]]\n",
            argv0);
    return 2;
}

static int both_arg(const char *v, int *lo, int *hi)
{
    if (!strcmp(v, "off"))
        *lo = *hi = 0;
    else if (!strcmp(v, "on"))
        *lo = *hi = 1;
    else if (!strcmp(v, "both"))
        *lo = 0, *hi = 1;
    else
        return -1;
    return 0;
}

static const char *mark(int applies, double v, double target)
{
    return !applies ? "" : v >= target ? " met" : " **not met**";
}

int main(int argc, char **argv)
{
    double xsigma = 40.0;
    int nthr = 1, thr[MAXT] = {2}, reps = 15, M = 256, K = 512, N = 512;
    int hist_lo = 1, hist_hi = 1, noise_lo = 0, noise_hi = 1;
    const char *kernel = NULL, *md = NULL, *tsv = NULL, *presets = "isaac,raella-nospec,raella,zero-offset";
    const char *wpath = NULL, *xpath = NULL; /* a real layer instead of the synthetic one */
    int zx = 0, m_given = 0, xsigma_given = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
            const char *p = argv[++i];
            nthr = 0;
            while (*p) {
                char *end;
                long t = strtol(p, &end, 10);
                if (end == p || t < 1 || t > 1024 || nthr == MAXT || (*end && *end != ','))
                    return usage(argv[0]);
                thr[nthr++] = (int)t;
                p = end + (*end == ',');
            }
            if (!nthr)
                return usage(argv[0]);
        } else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--m") && i + 1 < argc)
            M = atoi(argv[++i]), m_given = 1;
        else if (!strcmp(argv[i], "--weights") && i + 1 < argc)
            wpath = argv[++i];
        else if (!strcmp(argv[i], "--inputs") && i + 1 < argc)
            xpath = argv[++i];
        else if (!strcmp(argv[i], "--zx") && i + 1 < argc) {
            char *end;
            long v = strtol(argv[++i], &end, 10);
            if (*end || end == argv[i] || v < 0 || v > 255) {
                fprintf(stderr, "bench_mvm: --zx %s: not an integer in 0..255\n", argv[i]);
                return 2;
            }
            zx = (int)v;
        }
        else if (!strcmp(argv[i], "--kernel") && i + 1 < argc)
            kernel = argv[++i];
        else if (!strcmp(argv[i], "--md") && i + 1 < argc)
            md = argv[++i];
        else if (!strcmp(argv[i], "--tsv") && i + 1 < argc)
            tsv = argv[++i];
        else if (!strcmp(argv[i], "--presets") && i + 1 < argc)
            presets = argv[++i];
        else if (!strcmp(argv[i], "--noise") && i + 1 < argc) {
            if (both_arg(argv[++i], &noise_lo, &noise_hi))
                return usage(argv[0]);
        } else if (!strcmp(argv[i], "--hist") && i + 1 < argc) {
            if (both_arg(argv[++i], &hist_lo, &hist_hi))
                return usage(argv[0]);
        } else if (!strcmp(argv[i], "--xsigma") && i + 1 < argc)
            xsigma = atof(argv[++i]), xsigma_given = 1;
        else if (!strcmp(argv[i], "--no-hist"))
            hist_lo = hist_hi = 0;
        else
            return usage(argv[0]);
    }
    if (reps < 1 || reps > MAXREPS || M < 1) {
        fprintf(stderr, "bench_mvm: bad arguments (reps 1..%d, M >= 1)\n", MAXREPS);
        return 2;
    }
    if (!wpath != !xpath || ((wpath || zx) && (m_given || xsigma_given)) || (zx && !wpath)) {
        fprintf(stderr, "bench_mvm: --weights and --inputs go together (with --zx), and not with --m or --xsigma\n");
        return 2;
    }
    int8_t *W;
    uint8_t *X;
    char layer_desc[1024];
    if (wpath) { /* a real layer: shapes from the files */
        cim_ctx *lctx;
        cim_npy wn = {0}, xn = {0};
        if (cim_ctx_create(NULL, &lctx))
            return 1;
        if (cim_npy_read_expect(lctx, wpath, CIM_INT8, 2, NULL, &wn) ||
            cim_npy_read_expect(lctx, xpath, CIM_UINT8, 2, NULL, &xn)) {
            fprintf(stderr, "bench_mvm: %s\n", cim_ctx_errmsg(lctx));
            return 1;
        }
        if (xn.shape[1] != wn.shape[0] || wn.shape[0] < 1 || wn.shape[1] < 1 || xn.shape[0] < 1 ||
            wn.shape[0] > (1 << 24) || wn.shape[1] > (1 << 24) || xn.shape[0] > (1 << 30)) {
            fprintf(stderr, "bench_mvm: %s is [%lld, %lld] and %s [%lld, %lld]: want W [K, N] and X [M, K]\n", wpath,
                    (long long)wn.shape[0], (long long)wn.shape[1], xpath, (long long)xn.shape[0],
                    (long long)xn.shape[1]);
            return 1;
        }
        K = (int)wn.shape[0], N = (int)wn.shape[1], M = (int)xn.shape[0];
        W = malloc(wn.count);
        X = malloc(xn.count);
        if (!W || !X)
            return 1;
        memcpy(W, wn.data, wn.count);
        memcpy(X, xn.data, xn.count);
        cim_npy_free(lctx, &wn);
        cim_npy_free(lctx, &xn);
        cim_ctx_destroy(lctx);
        snprintf(layer_desc, sizeof layer_desc, "real layer: W %s %dx%d int8, X %s %dx%d uint8, zx %d", wpath, K, N,
                 xpath, M, K, zx);
    } else {
        W = malloc((size_t)K * N);
        X = malloc((size_t)M * K);
        if (!W || !X || synth_layer(K, N, M, 1, xsigma, W, X))
            return 1;
        snprintf(layer_desc, sizeof layer_desc, "W %dx%d int8, X %dx%d uint8 (ReLU-like, |N(0, %g)|)", K, N, M, K,
                 xsigma);
    }
    int32_t *P = malloc(sizeof(int32_t) * (size_t)M * N);
    double *t = malloc(sizeof(double) * (size_t)reps);
    if (!P || !t)
        return 1;

    /* one context per thread count; every configuration is programmed first */
    cim_ctx *ctx[MAXT];
    for (int ti = 0; ti < nthr; ti++) {
        cim_ctx_options o;
        cim_ctx_options_default(&o);
        o.threads = thr[ti];
        o.kernel = kernel;
        if (cim_ctx_create(&o, &ctx[ti])) {
            fprintf(stderr, "bench_mvm: cannot create a context (kernel %s?)\n", kernel ? kernel : "auto");
            return 1;
        }
    }
    static run runs[MAXRUN];
    static char pnames[32][64];
    int nrun = 0, npreset = 0;
    for (const char *p = presets; *p; npreset++) {
        size_t len = strcspn(p, ",");
        if (len == 0 || len >= sizeof pnames[0] || npreset == 32)
            return usage(argv[0]);
        memcpy(pnames[npreset], p, len);
        pnames[npreset][len] = 0;
        p += len + (p[len] == ',');
        for (int noise = noise_lo; noise <= noise_hi; noise++)
            for (int hist = hist_lo; hist <= hist_hi; hist++)
                for (int ti = 0; ti < nthr; ti++) {
                    if (nrun == MAXRUN)
                        return usage(argv[0]);
                    run *r = &runs[nrun];
                    snprintf(r->name, sizeof r->name, "%s", pnames[npreset]);
                    r->preset = npreset, r->noise = noise, r->hist = hist, r->tidx = ti;
                    r->off = r->base = -1;
                    for (int j = 0; j < nrun; j++) {
                        run *q = &runs[j];
                        if (q->preset == npreset && q->hist == hist && q->tidx == ti && q->noise == 0 && noise)
                            r->off = j;
                        if (q->preset == npreset && q->hist == hist && q->noise == noise && q->tidx == 0 && ti)
                            r->base = j;
                        if (q->preset == npreset && q->noise == noise && q->tidx == ti && q->hist != hist)
                            r->layer = q->layer; /* the same programmed layer */
                    }
                    cim_xbar_config c;
                    if (cim_config_load(ctx[ti], r->name, &c)) {
                        fprintf(stderr, "bench_mvm: %s\n", cim_ctx_errmsg(ctx[ti]));
                        return 1;
                    }
                    c.zx = zx; /* the layer's activation zero point (0: the synthetic layer) */
                    if (noise) {
                        c.noise.model = CIM_NOISE_GAUSSIAN_COLSUM;
                        c.noise.level = 0.04;
                        c.noise.seed = 1;
                    }
                    /* slice products: weight slices x input slices of the static or
                     * speculative slicing, per MAC (recovery slices not counted) */
                    r->slices = (double)c.n_weight_slices * (double)c.n_input_slices;
                    r->spec = c.speculation;
                    if (!r->layer) {
                        cim_weights w = {W, CIM_INT8, K, N, NULL};
                        if (cim_layer_program(ctx[ti], &c, &w, 0, NULL, &r->layer)) {
                            fprintf(stderr, "bench_mvm: %s\n", cim_ctx_errmsg(ctx[ti]));
                            return 1;
                        }
                    }
                    nrun++;
                }
    }
    /* tt[r][0..nthr): oneDNN per thread count; tt[r][nthr + k]: run k */
    const size_t stride = (size_t)(nthr + nrun);
    double *tt = malloc(sizeof(double) * (size_t)reps * stride);
    cim_stats *st = malloc(sizeof *st);
    if (!tt || !st)
        return 1;
    cim_run_options ro;
    cim_run_options_default(&ro);
    int32_t co = 0;
    const uint8_t ao = (uint8_t)zx; /* oneDNN: C = (A - ao) (B - 0) */
    int bad = 0;
    for (int r = -3; r < reps; r++) { /* three untimed warm-up rounds (oneDNN's JIT) */
        for (int ti = 0; ti < nthr; ti++) {
            omp_set_num_threads(thr[ti]); /* oneDNN here uses the OpenMP runtime */
            double t0 = 0;
            for (int warm = 0; warm < 2; warm++) { /* time oneDNN's second call: warm caches */
                t0 = bench_now();
                if (dnnl_gemm_u8s8s32('N', 'N', 'F', M, N, K, 1.0f, X, K, ao, W, N, 0, 0.0f, P, N, &co) !=
                    dnnl_success) {
                    fprintf(stderr, "bench_mvm: oneDNN gemm failed\n");
                    return 1;
                }
            }
            if (r >= 0)
                tt[(size_t)r * stride + (size_t)ti] = bench_now() - t0;
            for (int k = 0; k < nrun; k++) {
                run *q = &runs[k];
                if (q->tidx != ti)
                    continue;
                ro.histogram = q->hist;
                t0 = bench_now();
                if (cim_layer_run(ctx[ti], q->layer, X, M, P, st, &ro)) {
                    fprintf(stderr, "bench_mvm: %s\n", cim_ctx_errmsg(ctx[ti]));
                    return 1;
                }
                if (r >= 0)
                    tt[(size_t)r * stride + (size_t)(nthr + k)] = bench_now() - t0;
                uint64_t h = bench_fnv1a(P, sizeof(int32_t) * (size_t)M * N);
                if (r > -3 && h != q->sum) {
                    fprintf(stderr, "bench_mvm: %s noise %s hist %d threads %d: psums changed between rounds\n",
                            q->name, q->noise ? "on" : "off", q->hist, thr[ti]);
                    bad = 1;
                }
                q->sum = h;
                q->cpm = cim_stats_converts_per_mac(st);
                q->conv = st->adc_converts_speculative
                              ? q->slices * (double)(st->adc_converts_speculative + st->adc_converts_recovery) /
                                    (double)st->adc_converts_speculative
                              : q->slices;
                q->spec_fail = q->spec && st->adc_converts_speculative
                                   ? (double)st->speculation_failures / (double)st->adc_converts_speculative
                                   : NAN;
            }
        }
    }
    /* bit-identical across thread counts and histogram settings */
    for (int k = 0; k < nrun; k++)
        for (int j = 0; j < k; j++)
            if (runs[j].preset == runs[k].preset && runs[j].noise == runs[k].noise && runs[j].sum != runs[k].sum) {
                fprintf(stderr, "bench_mvm: %s noise %s: checksum %016llx (hist %d, %d threads) != %016llx (hist %d, %d threads)\n",
                        runs[k].name, runs[k].noise ? "on" : "off", (unsigned long long)runs[k].sum, runs[k].hist,
                        thr[runs[k].tidx], (unsigned long long)runs[j].sum, runs[j].hist, thr[runs[j].tidx]);
                bad = 1;
            }
    double macs = (double)M * K * N, t_dnnl[MAXT];
    for (int ti = 0; ti < nthr; ti++) {
        for (int r = 0; r < reps; r++)
            t[r] = tt[(size_t)r * stride + (size_t)ti];
        t_dnnl[ti] = bench_median(t, reps);
    }
    FILE *out = md ? fopen(md, "w") : NULL, *tf = tsv ? fopen(tsv, "w") : NULL;
    if ((md && !out) || (tsv && !tf)) {
        fprintf(stderr, "bench_mvm: cannot write %s\n", md && !out ? md : tsv);
        return 1;
    }
    char head[1024];
    int at = snprintf(head, sizeof head,
                      "%s; kernel %s; median of %d interleaved rounds; OMP_WAIT_POLICY %s\n"
                      "oneDNN dnnl_gemm_u8s8s32:",
                      layer_desc, cim_ctx_kernel_name(ctx[0]), reps,
                      getenv("OMP_WAIT_POLICY") ? getenv("OMP_WAIT_POLICY") : "unset");
    for (int ti = 0; ti < nthr && at < (int)sizeof head; ti++)
        at += snprintf(head + at, sizeof head - (size_t)at, "%s %d thread%s %.3f ms = %.1f GMAC/s", ti ? ";" : "",
                       thr[ti], thr[ti] > 1 ? "s" : "", t_dnnl[ti] * 1e3, macs / t_dnnl[ti] / 1e9);
    if (at < (int)sizeof head)
        snprintf(head + at, sizeof head - (size_t)at, "\n\n");
    printf("%s", head);
    const char *hdr =
        "| preset | noise | hist | thr | ms | min ms | logical GMAC/s | slice products | slice GMAC/s | oneDNN ms | "
        "slice efficiency | noise on/off | speedup | converts/MAC | checksum |\n"
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n";
    printf("%s", hdr);
    if (out)
        fprintf(out, "%s%s", head, hdr);
    if (tf)
        fprintf(tf, "preset\tnoise\thist\tthreads\tM\tms\tmin_ms\tgmacs\tslices\tslice_gmacs\tdnnl_ms\tefficiency"
                    "\tnoise_ratio\tspeedup\tconverts_per_mac\tchecksum\tspec_fail_rate\tconverted_products\n");
    static double ratio[MAXREPS];
    for (int k = 0; k < nrun; k++) {
        run *q = &runs[k];
        const size_t col = (size_t)(nthr + k);
        for (int r = 0; r < reps; r++) {
            t[r] = tt[(size_t)r * stride + col];
            ratio[r] = q->slices * tt[(size_t)r * stride + (size_t)q->tidx] / t[r];
        }
        double eff = bench_median(ratio, reps), nr = NAN, sp = NAN;
        if (q->off >= 0) { /* throughput with noise on / off: per-round time off / on */
            for (int r = 0; r < reps; r++)
                ratio[r] = tt[(size_t)r * stride + (size_t)(nthr + q->off)] / tt[(size_t)r * stride + col];
            nr = bench_median(ratio, reps);
        }
        if (q->base >= 0) { /* speedup over the first thread count, per round */
            for (int r = 0; r < reps; r++)
                ratio[r] = tt[(size_t)r * stride + (size_t)(nthr + q->base)] / tt[(size_t)r * stride + col];
            sp = bench_median(ratio, reps);
        }
        double tm = bench_median(t, reps), tmin = t[0]; /* t is sorted by bench_median() */
        char snr[48] = "", ssp[48] = "", line[768];
        if (q->off >= 0)
            snprintf(snr, sizeof snr, "%.2f%s", nr, mark(1, nr, NOISE_TARGET));
        if (q->base >= 0)
            snprintf(ssp, sizeof ssp, "%.2fx%s", sp, mark(thr[0] == 1 && thr[q->tidx] == 2, sp, THREAD_TARGET));
        snprintf(line, sizeof line,
                 "| %.63s | %s | %s | %d | %.3f | %.3f | %.2f | %.0f | %.1f | %.3f | %.3f%s | %s | %s | %.4f | %016llx |\n",
                 q->name, q->noise ? "E=0.04" : "off", q->hist ? "on" : "off", thr[q->tidx], tm * 1e3, tmin * 1e3,
                 macs / tm / 1e9, q->slices, q->slices * macs / tm / 1e9, t_dnnl[q->tidx] * 1e3, eff,
                 mark(!q->noise, eff, EFF_TARGET), snr, ssp, q->cpm, (unsigned long long)q->sum);
        printf("%s", line);
        if (out)
            fprintf(out, "%s", line);
        if (tf)
            fprintf(tf,
                    "%s\t%s\t%s\t%d\t%d\t%.4f\t%.4f\t%.3f\t%.0f\t%.2f\t%.4f\t%.4f\t%.4f\t%.4f\t%.5f\t%016llx\t%.6f\t%.4f\n",
                    q->name, q->noise ? "on" : "off", q->hist ? "on" : "off", thr[q->tidx], M, tm * 1e3, tmin * 1e3,
                    macs / tm / 1e9, q->slices, q->slices * macs / tm / 1e9, t_dnnl[q->tidx] * 1e3, eff, nr, sp,
                    q->cpm, (unsigned long long)q->sum, q->spec_fail, q->conv);
    }
    /* speculation failure rates: one line per preset with speculation */
    char sf[1024];
    int sat = snprintf(sf, sizeof sf, "\nspeculation failures / speculative converts:");
    int any_spec = 0;
    for (int k = 0; k < nrun && sat < (int)sizeof sf; k++) {
        const run *q = &runs[k];
        if (isnan(q->spec_fail) || q->tidx != 0 || q->hist != hist_lo)
            continue;
        sat += snprintf(sf + sat, sizeof sf - (size_t)sat, "%s %s noise %s %.4f", any_spec ? ";" : "", q->name,
                        q->noise ? "on" : "off", q->spec_fail);
        any_spec = 1;
    }
    if (any_spec) {
        printf("%s\n", sf);
        if (out)
            fprintf(out, "%s\n", sf);
    }
    if (bad) {
        const char *msg = "\n**checksum mismatch: the psums differ between thread counts, histogram settings or rounds**\n";
        printf("%s", msg);
        if (out)
            fprintf(out, "%s", msg);
    }
    for (int k = 0; k < nrun; k++) { /* free each layer once (hist variants share it) */
        int dup = 0;
        for (int j = 0; j < k; j++)
            dup |= runs[j].layer == runs[k].layer;
        if (!dup)
            cim_layer_free(ctx[runs[k].tidx], runs[k].layer);
    }
    free(tt);
    if (out)
        fclose(out);
    if (tf)
        fclose(tf);
    free(st);
    free(W);
    free(X);
    free(P);
    free(t);
    for (int ti = 0; ti < nthr; ti++)
        cim_ctx_destroy(ctx[ti]);
    return bad;
}
