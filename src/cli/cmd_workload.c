/* cmd_workload.c: `cimsim workload`: list and check workloads (layer shapes
 * for `cimsim cost`), and write one for an ONNX model. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"

static const char usage[] =
    "usage: cimsim workload --model M.onnx --out W.yaml [--dataset D] [--name NAME]\n"
    "                       [--eval-json E.json] [--threads T]\n"
    "       cimsim workload NAME|W.yaml      (check a workload and print its layers)\n"
    "       cimsim workload --list           (the bundled workloads)\n"
    "\n"
    "A workload is a network as the GEMMs its crossbars see, one entry per weight\n"
    "layer in execution order: K rows, N columns and M vectors per group, groups,\n"
    "and macs = M * K * N * groups per inference, plus optional value statistics\n"
    "(docs/workloads.md). `cimsim cost --workload` costs it without running data.\n"
    "Bundled: resnet18, resnet50, mobilenetv2 (from torchvision's definitions) and\n"
    "bert-large-ffn (BERT-Large's feed-forward layers at 384 tokens).\n"
    "\n"
    "With --model, the model's weight layers are read from one sample run through\n"
    "it (cim_net_eval, the first sample of the dataset; the architecture does not\n"
    "change the shapes). Kernel geometry and tensor shapes are not in the public\n"
    "net API, so the written file has K, N, groups, M and macs only.\n"
    "\n"
    "  --model M.onnx      an int8 ONNX model (QDQ or QOperator form)\n"
    "  --out W.yaml        the workload file to write\n"
    "  --dataset D         as for cimsim eval (default fashion-mnist:test)\n"
    "  --name NAME         the workload's name (default: the model file's base name)\n"
    "  --eval-json E.json  point the file's stats at a `cimsim eval --json` result of\n"
    "                      this model (measured counters per layer, by name)\n"
    "  --threads T         threads (default: all cores)\n"
    "  --list              print the bundled workloads with their layer counts and MACs\n"
    "\n"
    "example:\n"
    "  cimsim workload --model models/lenet5.onnx --out lenet5.yaml\n"
    "  cimsim workload resnet18\n";

static void print_workload(const cim_workload *wl)
{
    printf("workload %s: %d layers, %llu MACs per inference (%.4f G)\n", wl->name, wl->n_layers,
           (unsigned long long)wl->total_macs, (double)wl->total_macs / 1e9);
    if (wl->source[0])
        printf("source: %s\n", wl->source);
    printf("%-40s %-6s %7s %7s %6s %9s %14s\n", "layer", "type", "K", "N", "groups", "M", "MACs");
    for (int i = 0; i < wl->n_layers; i++) {
        const cim_workload_layer *L = &wl->layers[i];
        printf("%-40.40s %-6s %7d %7d %6d %9llu %14llu\n", L->name, L->type == CIM_WL_CONV ? "conv" : "linear", L->K,
               L->N, L->groups, (unsigned long long)L->M, (unsigned long long)L->macs);
    }
}

static int list_bundled(void)
{
    cim_ctx *ctx = cli_ctx("workload", 1, 0);
    if (!ctx)
        return 1;
    int rc = 0;
    for (const char *const *n = cim_workload_names(); *n; n++) {
        cim_workload wl;
        cim_status st = cim_workload_load(ctx, *n, &wl);
        if (st) {
            rc = cli_fail("workload", ctx, st);
            continue;
        }
        printf("%-16s %4d layers %16llu MACs  %s\n", *n, wl.n_layers, (unsigned long long)wl.total_macs,
               wl.description);
        cim_workload_free(ctx, &wl);
    }
    cim_ctx_destroy(ctx);
    return rc;
}

static int show(const char *spec)
{
    cim_ctx *ctx = cli_ctx("workload", 1, 0);
    if (!ctx)
        return 1;
    cim_workload wl;
    cim_status st = cim_workload_load(ctx, spec, &wl);
    int rc = 0;
    if (st)
        rc = cli_fail("workload", ctx, st);
    else
        print_workload(&wl);
    cim_workload_free(ctx, &wl);
    cim_ctx_destroy(ctx);
    return rc;
}

/* The weight layers of one sample through the model, as a workload (cli.h).
 * wl->layers is malloc'ed: free it with free(). */
int cli_workload_from_model(cim_ctx *ctx, const char *cmd, const char *model, const char *dataset, const char *name,
                            const char *eval_json, cim_workload *out)
{
    int rc = 1;
    cim_net *net = NULL;
    cim_eval_result res;
    memset(&res, 0, sizeof res);
    cim_workload wl;
    memset(&wl, 0, sizeof wl);
    memset(out, 0, sizeof *out);
    cim_arch *arch = calloc(1, sizeof *arch);
    if (!arch) {
        cli_error(cmd, "out of memory");
        goto done;
    }
    cim_status st = cim_arch_load(ctx, "isaac", arch); /* any arch: the shapes do not depend on it */
    if (st == CIM_OK)
        st = cim_net_load(ctx, model, &net);
    cim_eval_options o;
    cim_eval_options_default(&o);
    o.limit = 1;
    o.batch = 1;
    o.histogram = 0;
    if (st == CIM_OK)
        st = cim_net_eval(ctx, net, arch, dataset, &o, &res);
    if (st) {
        cli_fail(cmd, ctx, st);
        goto done;
    }
    if (res.samples != 1 || res.n_layers < 1) {
        cli_error(cmd, "%s: %s weight layers in one sample of %s", model, res.n_layers < 1 ? "no" : "?",
                  dataset);
        goto done;
    }
    wl.n_layers = res.n_layers;
    wl.layers = calloc((size_t)res.n_layers, sizeof *wl.layers);
    if (!wl.layers) {
        cli_error(cmd, "out of memory");
        goto done;
    }
    const char *base = strrchr(model, '/');
    base = base ? base + 1 : model;
    size_t blen = strcspn(base, ".");
    if (name)
        snprintf(wl.name, sizeof wl.name, "%s", name);
    else
        snprintf(wl.name, sizeof wl.name, "%.*s", (int)(blen ? blen : strlen(base)), base);
    snprintf(wl.description, sizeof wl.description, "%s: %d weight layers, one sample of %s", base, res.n_layers,
             dataset);
    snprintf(wl.source, sizeof wl.source, "%s (cimsim workload --model, from cim_net_eval's layers)", model);
    wl.stats.assumed = wl.stats.input_signed = -1;
    wl.stats.input_density = wl.stats.input_mean = wl.stats.weight_mean_abs = -1;
    if (eval_json) {
        /* absolute, so the reference holds wherever the workload file goes */
        char cwd[PATH_MAX] = "";
        if (eval_json[0] != '/' && !getcwd(cwd, sizeof cwd)) {
            cli_error(cmd, "--eval-json: cannot get the current directory");
            goto done;
        }
        int n = snprintf(wl.stats.eval_json, sizeof wl.stats.eval_json, "%s%s%s", cwd, cwd[0] ? "/" : "", eval_json);
        int m = snprintf(wl.stats.source, sizeof wl.stats.source, "measured: cimsim eval --json %s", eval_json);
        if (n < 0 || (size_t)n >= sizeof wl.stats.eval_json || m < 0 || (size_t)m >= sizeof wl.stats.source) {
            cli_error(cmd, "--eval-json %s: the path is too long", eval_json);
            goto done;
        }
        if (access(wl.stats.eval_json, R_OK) != 0) {
            cli_error(cmd, "--eval-json %s: cannot read it", eval_json);
            goto done;
        }
        wl.stats.present = 1;
        wl.stats.assumed = 0;
    }
    for (int i = 0; i < res.n_layers; i++) {
        const cim_eval_layer *E = &res.layers[i];
        cim_workload_layer *L = &wl.layers[i];
        uint64_t per = (uint64_t)E->K * (uint64_t)E->N * (uint64_t)(E->groups > 0 ? E->groups : 1);
        if (E->K < 1 || E->N < 1 || !per || E->macs == 0 || E->macs % per) {
            cli_error(cmd, "%s: layer %s: %llu MACs is not a whole number of %d x %d x %d products", model,
                      E->name, (unsigned long long)E->macs, E->K, E->N, E->groups);
            goto done;
        }
        snprintf(L->name, sizeof L->name, "%s", E->name);
        L->type = strstr(E->op_type, "Conv") ? CIM_WL_CONV : CIM_WL_LINEAR;
        L->K = E->K;
        L->N = E->N;
        L->groups = E->groups > 0 ? E->groups : 1;
        L->M = E->macs / per;
        L->macs = E->macs;
        L->stats = wl.stats;
        wl.total_macs += L->macs;
    }
    *out = wl;
    wl.layers = NULL;
    rc = 0;
done:
    free(wl.layers);
    cim_eval_result_free(ctx, &res);
    cim_net_free(net);
    free(arch);
    return rc;
}

/* `cimsim workload --model`: the workload written as YAML. */
static int from_model(const char *model, const char *dataset, const char *name, const char *eval_json, long threads,
                      const char *out)
{
    cim_ctx *ctx = cli_ctx("workload", (int)threads, 0);
    if (!ctx)
        return 1;
    cim_workload wl;
    cim_status st;
    int rc = cli_workload_from_model(ctx, "workload", model, dataset, name, eval_json, &wl);
    if (rc == 0) {
        rc = 1;
        char header[1024];
        snprintf(header, sizeof header,
                 "%s: the weight layers of %s as the GEMMs a crossbar sees (docs/workloads.md),\n"
                 "read from one sample of %s run through it.\n"
                 "Generated by: cimsim workload --model %s --out %s",
                 out, model, dataset, model, out);
        /* the library's allocator did not make wl.layers: write, then free it here */
        if ((st = cim_workload_write_yaml(ctx, out, &wl, header)) != CIM_OK) {
            cli_fail("workload", ctx, st);
            goto wdone;
        }
        printf("%s: %d layers, %llu MACs per inference\n", out, wl.n_layers, (unsigned long long)wl.total_macs);
        rc = 0;
    }
wdone:
    free(wl.layers);
    cim_ctx_destroy(ctx);
    return rc;
}

int cli_workload(int argc, char **argv)
{
    const char *model = NULL, *out = NULL, *dataset = "fashion-mnist:test", *name = NULL, *eval_json = NULL;
    const char *spec = NULL, *v;
    long threads = 0;
    int err = 0, list = 0;
    for (int i = 1; i < argc; i++) {
        if (cli_flag(argv, i, "--help") || cli_flag(argv, i, "-h")) {
            fputs(usage, stdout);
            return 0;
        } else if ((v = cli_opt(argc, argv, &i, "--model", &err))) {
            model = v;
        } else if ((v = cli_opt(argc, argv, &i, "--out", &err))) {
            out = v;
        } else if ((v = cli_opt(argc, argv, &i, "--dataset", &err))) {
            dataset = v;
        } else if ((v = cli_opt(argc, argv, &i, "--name", &err))) {
            name = v;
        } else if ((v = cli_opt(argc, argv, &i, "--eval-json", &err))) {
            eval_json = v;
        } else if ((v = cli_opt(argc, argv, &i, "--threads", &err))) {
            if (cli_int(v, 1, 1024, "--threads", &threads))
                return 2;
        } else if (cli_flag(argv, i, "--list")) {
            list = 1;
        } else if (argv[i][0] != '-' && !spec) {
            spec = argv[i];
        } else {
            if (!err)
                cli_error("workload", "unknown option '%s' (see cimsim workload --help)", argv[i]);
            return 2;
        }
        if (err)
            return 2;
    }
    if (list + !!spec + !!model != 1 || (!model && (out || name || eval_json))) {
        cli_error("workload", "give one of --model M.onnx --out W.yaml, a workload to check, or --list "
                              "(see cimsim workload --help)");
        return 2;
    }
    if (list)
        return list_bundled();
    if (spec)
        return show(spec);
    if (!out) {
        cli_error("workload", "--model needs --out W.yaml");
        return 2;
    }
    return from_model(model, dataset, name, eval_json, threads, out);
}
