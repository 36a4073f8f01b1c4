/* cmd_compile.c: `cimsim compile`: RAELLA's Adaptive Weight Slicing for a
 * network, written as a plan that `cimsim eval --plan` runs with. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

static const char usage[] =
    "usage: cimsim compile --model M.onnx [--arch A] [--calib DATASET[:N]] [--budget B]\n"
    "                      [--noise E] [--seed S] [--exhaustive] [--threads T] --out PLAN.json\n"
    "\n"
    "Chooses each weight layer's weight slicing as RAELLA's Adaptive Weight Slicing\n"
    "does (thesis section 4.2, Algorithm 1): the layer is simulated alone on the\n"
    "activations N calibration samples give it in the digital reference, with 1-bit\n"
    "input slices, under every slicing of the 8 weight magnitude bits into pieces of\n"
    "at most the arch's cell bits (108 for 4-bit cells), from the fewest slices up,\n"
    "each with its own Center+Offset centers (Eq. 4.2). The error is the mean\n"
    "|y_analog - y_exact| of the layer's 8-bit outputs that are not the zero point\n"
    "(docs/semantics.md section 10). The first slice count with a slicing under the\n"
    "budget wins, with its lowest-error slicing. The last weight layer keeps the\n"
    "arch's `last` slicing (eight 1-bit slices in the RAELLA presets); an arch\n"
    "without adaptive_weight_slicing keeps its slicings everywhere (both measured).\n"
    "With noise in the arch (--noise), candidates are judged under that noise.\n"
    "In large layers candidates are judged in stages, with the same choice: each\n"
    "first runs on an eighth of the vectors, which bounds its error from below, and\n"
    "one whose bound exceeds the budget or a finished candidate's error is not\n"
    "finished (the table's `whole` column counts the finished ones).\n"
    "\n"
    "  --model M.onnx     an int8 ONNX model (QDQ or QOperator form)\n"
    "  --arch A           a preset or YAML file (default raella)\n"
    "  --calib D[:N]      calibration data and sample count (default fashion-mnist:train:10;\n"
    "                     D as for cimsim eval --dataset)\n"
    "  --budget B         error budget (default 0.09, the thesis' value)\n"
    "  --noise E          gaussian_colsum noise level in the arch; --seed S its seed\n"
    "  --exhaustive       simulate all slicings whole (no early stop, no stages; the\n"
    "                     same choice, slower)\n"
    "  --threads T        threads (default: all cores)\n"
    "  --out PLAN.json    the plan: per layer slicing, error, time, centers\n"
    "\n"
    "example:\n"
    "  cimsim compile --model models/resnet8.onnx --arch raella --out plan.json\n"
    "  cimsim eval --model models/resnet8.onnx --arch raella --plan plan.json\n";

/* "D:N" -> dataset D and count N when the part after the last ':' is a number. */
static int split_calib(const char *spec, char *ds, size_t size, long *n)
{
    const char *c = strrchr(spec, ':');
    if (c && c[1]) {
        const char *q = c + 1;
        while (*q && isdigit((unsigned char)*q))
            q++;
        if (!*q) {
            if (cli_int(c + 1, 1, 100000, "--calib count", n))
                return 2;
            snprintf(ds, size, "%.*s", (int)(c - spec), spec);
            return 0;
        }
    }
    snprintf(ds, size, "%s", spec);
    return 0;
}

int cli_compile(int argc, char **argv)
{
    const char *model = NULL, *archspec = "raella", *calib = "fashion-mnist:train:10", *out = NULL;
    const char *noise_s = NULL, *seed_s = NULL, *budget_s = NULL, *v;
    long threads = 0;
    int exhaustive = 0, err = 0;
    for (int i = 1; i < argc; i++) {
        if (cli_flag(argv, i, "--help") || cli_flag(argv, i, "-h")) {
            fputs(usage, stdout);
            return 0;
        } else if ((v = cli_opt(argc, argv, &i, "--model", &err))) {
            model = v;
        } else if ((v = cli_opt(argc, argv, &i, "--arch", &err))) {
            archspec = v;
        } else if ((v = cli_opt(argc, argv, &i, "--calib", &err))) {
            calib = v;
        } else if ((v = cli_opt(argc, argv, &i, "--budget", &err))) {
            budget_s = v;
        } else if ((v = cli_opt(argc, argv, &i, "--out", &err))) {
            out = v;
        } else if ((v = cli_opt(argc, argv, &i, "--noise", &err))) {
            noise_s = v;
        } else if ((v = cli_opt(argc, argv, &i, "--seed", &err))) {
            seed_s = v;
        } else if ((v = cli_opt(argc, argv, &i, "--threads", &err))) {
            if (cli_int(v, 1, 1024, "--threads", &threads))
                return 2;
        } else if (cli_flag(argv, i, "--exhaustive")) {
            exhaustive = 1;
        } else {
            if (!err)
                cli_error("compile", "unknown option '%s' (see cimsim compile --help)", argv[i]);
            return 2;
        }
        if (err)
            return 2;
    }
    if (!model || !out) {
        cli_error("compile", "--model and --out are required (see cimsim compile --help)");
        return 2;
    }
    cim_compile_options o;
    cim_compile_options_default(&o);
    o.exhaustive = exhaustive;
    o.progress = 1;
    if (budget_s) {
        char *end;
        o.budget = strtod(budget_s, &end);
        if (end == budget_s || *end || !(o.budget >= 0 && o.budget <= 255)) {
            cli_error("compile", "--budget: '%s' is not an error in 0..255", budget_s);
            return 2;
        }
    }
    char ds[512];
    long n = o.calib;
    if (split_calib(calib, ds, sizeof ds, &n))
        return 2;
    o.calib = (int)n;
    double noise;
    long long seed;
    if (cli_noise_args("compile", noise_s, seed_s, &noise, &seed))
        return 2;

    cim_ctx *ctx = cli_ctx("compile", (int)threads, 0);
    if (!ctx)
        return 1;
    int rc = 1;
    cim_net *net = NULL;
    cim_plan *plan = NULL;
    cim_arch *arch = calloc(1, sizeof *arch);
    if (!arch) {
        cli_error("compile", "out of memory");
        goto done;
    }
    cim_status st = cim_arch_load(ctx, archspec, arch);
    if (st) {
        cli_fail("compile", ctx, st);
        rc = 2;
        goto done;
    }
    cli_apply_noise(&arch->base, noise, seed);
    for (int a = 0; a < arch->n_overrides; a++)
        cli_apply_noise(&arch->over[a].cfg, noise, seed);
    if ((st = cim_net_load(ctx, model, &net)) != CIM_OK) {
        cli_fail("compile", ctx, st);
        goto done;
    }
    fprintf(stderr, "compiling %s for %s: %d weight layers, %d calibration samples of %s, budget %g%s\n", model,
            arch->name, cim_net_weight_layers(net), o.calib, ds, o.budget, exhaustive ? ", exhaustive" : "");
    if ((st = cim_compile(ctx, net, arch, ds, &o, &plan)) != CIM_OK) {
        cli_fail("compile", ctx, st);
        goto done;
    }
    printf("%-32s %6s %6s %5s %-10s %9s %6s %6s %9s\n", "layer", "K", "N", "groups", "slicing", "error", "tried", "whole",
           "ms");
    int slices = 0, under = 0;
    for (int i = 0; i < plan->n_layers; i++) {
        const cim_plan_layer *L = &plan->layers[i];
        char sl[64] = "";
        for (int s = 0; s < L->n_weight_slices; s++)
            snprintf(sl + strlen(sl), sizeof sl - strlen(sl), "%s%d", s ? "," : "", L->weight_slices[s]);
        char e[32];
        if (isfinite(L->error))
            snprintf(e, sizeof e, "%.4f%s", L->error, L->within_budget ? "" : "!");
        else
            snprintf(e, sizeof e, "-");
        printf("%-32.32s %6d %6d %5d %-10s %9s %6d %6d %9.1f%s\n", L->name, L->K, L->N, L->groups, sl, e, L->tried,
               L->whole, 1e3 * L->seconds, L->searched ? "" : "  (kept)");
        slices += L->n_weight_slices;
        under += L->within_budget;
    }
    printf("%d layers, %.2f weight slices on average, %d within budget %g; %.2f s in all\n", plan->n_layers,
           plan->n_layers ? (double)slices / plan->n_layers : 0.0, under, plan->budget, plan->seconds);
    if ((st = cim_plan_write_json(ctx, out, plan)) != CIM_OK) {
        cli_fail("compile", ctx, st);
        goto done;
    }
    printf("plan written to %s\n", out);
    rc = 0;
done:
    cim_plan_free(ctx, plan);
    cim_net_free(net);
    free(arch);
    cim_ctx_destroy(ctx);
    return rc;
}
