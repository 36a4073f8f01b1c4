/* cmd_mvm.c: `cimsim mvm`: one layer's matrix-vector products through the
 * simulated crossbar, the CLI contract other tools rely on. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"

static const char usage[] =
    "usage: cimsim mvm --config CFG --weights W.npy --inputs X.npy --out P.npy\n"
    "                  [--stats S.json] [--threads T] [--kernel NAME] [--noise E] [--seed S]\n"
    "                  [--normal-noise] [--progress] [--verbose]\n"
    "\n"
    "Computes psum[m][n] = sum_k (X[m][k] - zx) * W[k][n] through the simulated crossbar:\n"
    "weights sliced into cells, inputs into DAC cycles, every column sum through the ADC\n"
    "(docs/semantics.md). No bias, no requantization.\n"
    "\n"
    "  --config CFG     a preset (isaac, raella, raella-nospec, zero-offset; see `cimsim presets`)\n"
    "                   or a YAML file (examples/*.yaml; keys in docs/config.md)\n"
    "  --weights W.npy  int8, shape [K, N]: row k, output channel n\n"
    "  --inputs X.npy   uint8, shape [M, K]: one input vector per row\n"
    "  --out P.npy      int32, shape [M, N]: written only if everything succeeds\n"
    "  --stats S.json   counters: ADC conversions (speculative, recovery), saturations, clips,\n"
    "                   speculation failures, DAC pulses, cells, crossbars, column-sum histogram\n"
    "  --threads T      worker threads (default: all cores); results never depend on it\n"
    "  --kernel NAME    column-sum kernel: ref, avx2, avx512vnni (default: best for this CPU;\n"
    "                   also CIMSIM_KERNEL=NAME, and CIMSIM_KERNEL_DEBUG=1 logs the choice);\n"
    "                   cuda (builds with nvcc, a GPU of compute capability >= 8.0): the same\n"
    "                   integers computed on the GPU, slower here (each 32x128 tile goes\n"
    "                   through PCIe; bench/cuda.sh measures it)\n"
    "  --noise E        turn on gaussian_colsum noise with level E (overrides the config)\n"
    "  --seed S         noise seed (overrides the config)\n"
    "  --normal-noise   draw the noise as Box-Muller normals added before the ADC\n"
    "                   everywhere; by default layers whose N+ + N- is at most 511\n"
    "                   (ISAAC-like) draw the ADC's output directly (docs/decisions.md):\n"
    "                   the same distribution, other bits, faster\n"
    "  --progress       show progress even when stderr is not a terminal\n"
    "  --verbose        log the kernel and a one-line summary\n"
    "\n"
    "example:\n"
    "  cimsim mvm --config raella --weights data/layer512/W.npy --inputs data/layer512/X.npy \\\n"
    "             --out /tmp/P.npy --stats /tmp/S.json\n";

int cli_mvm(int argc, char **argv)
{
    const char *cfg_spec = NULL, *wpath = NULL, *xpath = NULL, *out = NULL, *stats_path = NULL,
               *kernel = NULL, *noise_s = NULL, *seed_s = NULL;
    long threads = 0;
    int err = 0, progress = 0, verbose = 0, normal_noise = 0;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if (cli_flag(argv, i, "--help") || cli_flag(argv, i, "-h")) {
            fputs(usage, stdout);
            return 0;
        } else if ((v = cli_opt(argc, argv, &i, "--config", &err)))
            cfg_spec = v;
        else if ((v = cli_opt(argc, argv, &i, "--weights", &err)))
            wpath = v;
        else if ((v = cli_opt(argc, argv, &i, "--inputs", &err)))
            xpath = v;
        else if ((v = cli_opt(argc, argv, &i, "--out", &err)))
            out = v;
        else if ((v = cli_opt(argc, argv, &i, "--stats", &err)))
            stats_path = v;
        else if ((v = cli_opt(argc, argv, &i, "--kernel", &err)))
            kernel = v;
        else if ((v = cli_opt(argc, argv, &i, "--noise", &err)))
            noise_s = v;
        else if ((v = cli_opt(argc, argv, &i, "--seed", &err)))
            seed_s = v;
        else if ((v = cli_opt(argc, argv, &i, "--threads", &err))) {
            if (cli_int(v, 0, 1024, "--threads", &threads))
                return 2;
        } else if (cli_flag(argv, i, "--progress"))
            progress = 1;
        else if (cli_flag(argv, i, "--normal-noise"))
            normal_noise = 1;
        else if (cli_flag(argv, i, "--verbose"))
            verbose = 1;
        else if (!err) {
            cli_error("mvm", "unknown argument '%s' (see cimsim mvm --help)", argv[i]);
            return 2;
        }
        if (err)
            return 2;
    }
    if (!cfg_spec || !wpath || !xpath || !out) {
        cli_error("mvm", "missing %s (see cimsim mvm --help)",
                  !cfg_spec ? "--config" : !wpath ? "--weights" : !xpath ? "--inputs" : "--out");
        return 2;
    }
    if (kernel && setenv("CIMSIM_KERNEL", kernel, 1) != 0) {
        cli_error("mvm", "cannot set the kernel");
        return 1;
    }
    cim_ctx *ctx = cli_ctx("mvm", (int)threads, verbose);
    if (!ctx)
        return 1;
    int rc = 1;
    cim_npy W = {0}, X = {0};
    cim_layer *layer = NULL;
    int32_t *P = NULL;
    cim_stats *stats = NULL;
    cim_xbar_config cfg;
    cim_status st = cim_config_load(ctx, cfg_spec, &cfg);
    if (st) {
        rc = cli_fail("mvm", ctx, st);
        goto done;
    }
    double noise;
    long long seed;
    if (cli_noise_args("mvm", noise_s, seed_s, &noise, &seed)) {
        rc = 2;
        goto done;
    }
    cli_apply_noise(&cfg, noise, seed);
    if (cli_read_layer("mvm", ctx, wpath, xpath, &W, &X))
        goto done;
    int K = (int)W.shape[0], N = (int)W.shape[1], M = (int)X.shape[0];
    cim_weights w = {W.data, CIM_INT8, K, N, NULL};
    double t0 = cli_now();
    st = cim_layer_program(ctx, &cfg, &w, 0, NULL, &layer);
    if (st) {
        rc = cli_fail("mvm", ctx, st);
        goto done;
    }
    double t1 = cli_now();
    P = malloc((size_t)(M ? M : 1) * (size_t)N * sizeof(int32_t));
    stats = malloc(sizeof *stats);
    if (!P || !stats) {
        cli_error("mvm", "out of memory for a [%d, %d] output", M, N);
        goto done;
    }
    cli_progress prog;
    cli_progress_init(&prog, "mvm", progress);
    cim_run_options ro;
    cim_run_options_default(&ro);
    ro.histogram = stats_path != NULL; /* only S.json shows it */
    ro.normal_noise = normal_noise;
    ro.progress = cli_progress_cb;
    ro.progress_ud = &prog;
    st = cim_layer_run(ctx, layer, X.data, M, P, stats, &ro);
    cli_progress_done(&prog);
    if (st) {
        rc = cli_fail("mvm", ctx, st);
        goto done;
    }
    double t2 = cli_now();
    int64_t pshape[2] = {M, N};
    st = cim_npy_write(ctx, out, CIM_INT32, 2, pshape, P);
    if (st) {
        rc = cli_fail("mvm", ctx, st);
        goto done;
    }
    if (stats_path) {
        cim_layer_info info;
        char summary[256], extra[1024];
        cim_layer_info_get(layer, &info);
        cim_config_summary(&cfg, summary, sizeof summary);
        snprintf(extra, sizeof extra,
                 "{\"config\": \"%s\", \"config_summary\": \"%s\", \"kernel\": \"%s\", \"threads\": %d, "
                 "\"program_seconds\": %.6f, \"run_seconds\": %.6f}",
                 strchr(cfg_spec, '"') ? "(name with quote)" : cfg_spec, summary, cim_ctx_kernel_name(ctx),
                 cim_ctx_threads(ctx), t1 - t0, t2 - t1);
        st = cim_stats_write_json(ctx, stats_path, stats, &info, extra);
        if (st) {
            rc = cli_fail("mvm", ctx, st);
            unlink(out); /* no output passed off as complete without its stats */
            goto done;
        }
    }
    if (verbose) {
        char summary[256];
        cim_config_summary(&cfg, summary, sizeof summary);
        fprintf(stderr, "cimsim mvm: %s: [%d x %d] x [%d x %d], %.3f s, %.2f GMAC/s, %.4f converts/MAC\n",
                summary, M, K, K, N, t2 - t1, (double)M * K * N / (t2 - t1 > 0 ? t2 - t1 : 1e-9) / 1e9,
                cim_stats_converts_per_mac(stats));
    }
    rc = 0;
done:
    free(P);
    free(stats);
    cim_layer_free(ctx, layer);
    cim_npy_free(ctx, &W);
    cim_npy_free(ctx, &X);
    cim_ctx_destroy(ctx);
    return rc;
}
