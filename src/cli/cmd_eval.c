/* cmd_eval.c: `cimsim eval`: a quantized ONNX network on a dataset, digital
 * reference and simulated analog hardware side by side. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"

static const char usage[] =
    "usage: cimsim eval --model M.onnx [--dataset D] [--labels L.npy] [--limit N]\n"
    "                   [--arch A[,B...]] [--noise E] [--seed S] [--threads T]\n"
    "                   [--batch B] [--plan P.json] [--json OUT] [--csv OUT] [--progress]\n"
    "                   [--no-histogram] [--energy SPEC[,SPEC...]] [--hw NAME|FILE]\n"
    "                   [--analog-breakdown] [--analog-only] [--normal-noise]\n"
    "                   [--dump-layer NAME --dump-dir DIR]\n"
    "\n"
    "Runs every sample through the model twice: digitally with the exact integer\n"
    "semantics of each ONNX op (the reference), and with every Conv/Gemm/MatMul whose\n"
    "weights are constant on simulated crossbars under the architecture (the rest\n"
    "stays digital). Prints top-1 accuracy of both, the drop, and per weight layer:\n"
    "MACs, slicings, ADC conversions per MAC, saturation-flag rate (codes at the\n"
    "ADC's ends: for an unsigned ADC this includes exact zeros), true-clip rate\n"
    "(values beyond the range), speculation failure rate and the mean |error| of its 8-bit outputs against the reference (outputs\n"
    "whose reference value is not the zero point; errors accumulate through the\n"
    "analog network, as they would on the chip).\n"
    "\n"
    "  --model M.onnx   an int8 ONNX model (QDQ or QOperator form)\n"
    "  --dataset D      fashion-mnist, fashion-mnist:test (default), fashion-mnist:train,\n"
    "                   or an .npy of inputs in the model's layout and dtype\n"
    "                   (float32 or uint8, first axis = samples)\n"
    "  --labels L.npy   integer class per sample for an .npy dataset; without labels,\n"
    "                   accuracy is top-1 agreement with the reference\n"
    "  --limit N        only the first N samples\n"
    "  --arch LIST      comma-separated presets or YAML files, run one after another\n"
    "                   and shown side by side (default: raella; cimsim archs lists\n"
    "                   them). raella, raella-nospec and zero-offset put the last layer\n"
    "                   on 1-bit weight slices (thesis 4.2.2); files may give per-layer\n"
    "                   overrides under `layers:` (docs/config.md)\n"
    "  --noise E        gaussian_colsum noise of level E on every layer (e.g. 0.04)\n"
    "  --seed S         noise seed (default: the config's)\n"
    "  --normal-noise   draw the noise as Box-Muller normals added before the ADC\n"
    "                   everywhere; by default layers whose N+ + N- is at most 511\n"
    "                   (ISAAC-like) draw the ADC's output directly (docs/decisions.md):\n"
    "                   the same distribution, other bits, faster\n"

    "  --threads T      worker threads (default: all cores)\n"
    "  --batch B        samples per graph run (default 64; results do not depend on it)\n"
    "  --plan P.json    per-layer weight slicings and centers from `cimsim compile`\n"
    "                   (must be for this model). Applies to the archs that allow\n"
    "                   adaptive weight slicing (adaptive_weight_slicing: true, as\n"
    "                   raella and raella-nospec); the others keep their slicings\n"
    "  --json OUT       write the results as JSON (one arch: an object; several: an array)\n"
    "  --csv OUT        write the per-layer table as CSV (all archs)\n"
    "  --progress       show a progress bar even when stderr is not a terminal\n"
    "  --no-histogram   skip the column-sum histogram (faster; its JSON bins are empty)\n"
    "  --energy SPECS   energy specs (docs/energy.md): a built-in name (isaac, raella,\n"
    "                   digital-cim) or a YAML file, one for every arch or one per arch\n"
    "                   in --arch order. Default: the spec that lists the arch's preset\n"
    "                   name (raella for raella, raella-nospec, raella-static,\n"
    "                   zero-offset); an arch with none gets a note and no energy\n"
    "  --hw NAME|FILE   hardware (docs/cost.md) to map the layers onto for area, latency,\n"
    "                   throughput, TOPS/W, TOPS/mm2: a built-in name (isaac, isaac-16b,\n"
    "                   raella), a YAML file, or none. Default: isaac for isaac, raella\n"
    "                   for raella*; other archs get a note and no hardware figures\n"
    "  --analog-breakdown  for an arch whose layers turn analog models on (YAML\n"
    "                   `analog:`, docs/config.md): run the network again with no\n"
    "                   analog model and with each model group alone (programming,\n"
    "                   stuck, drift, pcm_read, read_noise, ktc, adc_noise,\n"
    "                   adc_offset_gain, zero_leak, ir_drop), and print top-1, its\n"
    "                   change against no model, conversions/MAC and saturations of\n"
    "                   each, and of all together (JSON: analog_breakdown). The\n"
    "                   gaussian_colsum noise (--noise) stays on in every row\n"
    "  --analog-only    do not run the digital reference (to time the analog network\n"
    "                   alone, as bench/eval.sh does): needs labels; no agreement and\n"
    "                   no per-layer error\n"
    "  --dump-layer NAME  with --dump-dir DIR (an existing directory): write the weight\n"
    "                   layer whose ONNX node name is NAME (in full: the table cuts names\n"
    "                   at 28 characters, --csv/--json do not; group 0 of a grouped\n"
    "                   convolution) as the analog run saw it in its first batch\n"
    "                   (samples 0 .. --batch - 1): DIR/W.npy int8 [K, N] (the crossbar's\n"
    "                   weights w - zw; an error if one does not fit), DIR/X.npy uint8\n"
    "                   [M, K] (the integer input rows, im2col'd, exactly what the\n"
    "                   crossbars got) and DIR/layer.txt (`key value` lines: name, op,\n"
    "                   group, K, N, M, zx, rows_per_sample, samples, wtype). Then\n"
    "                   `cimsim mvm --weights DIR/W.npy --inputs DIR/X.npy` runs that\n"
    "                   layer alone (with a YAML config setting `zx:` when zx is not 0).\n"
    "                   The files are written under .part names and renamed when the\n"
    "                   evaluation succeeds; if it or a later step (--json, --energy,\n"
    "                   --hw...) fails, none is left. One --arch only; the\n"
    "                   --analog-breakdown runs do not dump.\n"
    "                   An unknown NAME is an error listing the valid names\n"
    "\n"
    "example:\n"
    "  cimsim eval --model models/resnet8.onnx --arch isaac,raella --limit 1000\n";

#define MAXARCH 8

static double pct(uint64_t a, uint64_t b) { return b ? 100.0 * (double)a / (double)b : 0.0; }
static double rate(uint64_t a, uint64_t b) { return b ? (double)a / (double)b : 0.0; }

static void slices_str(const int *w, int n, char *buf, size_t size)
{
    size_t o = 0;
    buf[0] = 0;
    for (int i = 0; i < n && o + 4 < size; i++)
        o += (size_t)snprintf(buf + o, size - o, "%s%d", i ? "," : "", w[i]);
}

static void print_result(const cim_eval_result *r)
{
    printf("\n== %s on %s: %llu samples, %.1f s ==\n", r->arch, r->dataset, (unsigned long long)r->samples,
           r->seconds);
    if (!r->has_reference)
        printf("top-1: analog %.2f%% (--analog-only: the reference was not run)\n", pct(r->analog_correct, r->samples));
    else if (r->has_labels)
        printf("top-1: reference %.2f%%, analog %.2f%%, drop %+.2f points; analog agrees with reference on %.2f%%\n",
               pct(r->ref_correct, r->samples), pct(r->analog_correct, r->samples),
               pct(r->ref_correct, r->samples) - pct(r->analog_correct, r->samples), pct(r->agree, r->samples));
    else
        printf("top-1 agreement with the reference: %.2f%% (no labels)\n", pct(r->agree, r->samples));
    printf("%-28s %-13s %12s %-16s %-14s %9s %9s %9s %9s %8s\n", "layer", "op", "MACs", "weight slices",
           "input slices", "conv/MAC", "sat flag", "clip", "spec fail", "|err|");
    for (int i = 0; i < r->n_layers; i++) {
        const cim_eval_layer *L = &r->layers[i];
        char ws[64], is[64], err[32];
        slices_str(L->cfg.weight_slices, L->cfg.n_weight_slices, ws, sizeof ws);
        slices_str(L->cfg.input_slices, L->cfg.n_input_slices, is, sizeof is);
        if (L->cfg.speculation)
            snprintf(is + strlen(is), sizeof is - strlen(is), "/r%d", L->cfg.recovery_bits);
        if (L->err_count)
            snprintf(err, sizeof err, "%.4f", L->abs_err_sum / (double)L->err_count);
        else
            snprintf(err, sizeof err, "-");
        printf("%-28.28s %-13.13s %12llu %-16s %-14s %9.4f %9.4f %9.4f %9.4f %8s\n", L->name, L->op_type,
               (unsigned long long)L->macs, ws, is, cim_stats_converts_per_mac(&L->stats),
               rate(L->stats.saturations, L->stats.adc_converts), rate(L->stats.true_clips, L->stats.adc_converts),
               rate(L->stats.speculation_failures, L->stats.adc_converts_speculative), err);
    }
    const cim_stats *t = &r->totals;
    printf("%-28s %-13s %12llu %-16s %-14s %9.4f %9.4f %9.4f %9.4f\n", "total", "", (unsigned long long)t->macs, "",
           "", cim_stats_converts_per_mac(t), rate(t->saturations, t->adc_converts), rate(t->true_clips, t->adc_converts),
           rate(t->speculation_failures, t->adc_converts_speculative));
}

/* The analog breakdown: each model group alone against none and all. */
static void print_breakdown(const cim_eval_result *r)
{
    if (r->n_breakdown < 1)
        return;
    double base = 0.0;
    for (int i = 0; i < r->n_breakdown; i++)
        if (strcmp(r->breakdown[i].model, "none") == 0)
            base = pct(r->breakdown[i].correct, r->breakdown[i].samples);
    printf("analog breakdown (%s top-1; each model alone, then all):\n", r->has_labels ? "analog" : "agreement");
    printf("  %-16s %9s %9s %10s %10s %12s %8s\n", "model", "top-1", "delta", "conv/MAC", "sat rate", "saturations",
           "seconds");
    for (int i = 0; i < r->n_breakdown; i++) {
        const cim_eval_breakdown *b = &r->breakdown[i];
        double t = pct(b->correct, b->samples);
        printf("  %-16s %8.2f%% %+9.2f %10.4f %10.4f %12llu %8.1f\n", b->model, t, t - base,
               cim_stats_converts_per_mac(&b->totals), rate(b->totals.saturations, b->totals.adc_converts),
               (unsigned long long)b->totals.saturations, b->seconds);
    }
}

/* The energy table: pJ per inference by component and the top layers. */
static void print_energy(const cim_eval_result *r)
{
    const cim_energy *e = &r->energy;
    if (!r->has_energy)
        return;
    double macs = e->macs;
    printf("energy (%s): %.4g pJ/inference = %.1f fJ/MAC; ADC %.1f fJ/MAC\n", r->energy_spec, e->total_pj,
           macs > 0 ? 1e3 * e->total_pj / macs : 0.0, macs > 0 ? 1e3 * e->pj[CIM_ENERGY_ADC] / macs : 0.0);
    printf("  %-14s %14s %7s %10s\n", "component", "pJ/inference", "share", "fJ/MAC");
    for (int i = 0; i < CIM_ENERGY_PARTS; i++)
        if (e->pj[i] > 0)
            printf("  %-14s %14.4g %6.1f%% %10.2f\n", cim_energy_part_name((cim_energy_part)i), e->pj[i],
                   e->total_pj > 0 ? 100.0 * e->pj[i] / e->total_pj : 0.0, macs > 0 ? 1e3 * e->pj[i] / macs : 0.0);
    const cim_titanium *t = &e->titanium;
    printf("  Titanium Law: ADC = %.4g pJ/convert x %.4g converts/MAC x %.4g MACs x 1/%.4f utilization = %.4g pJ\n",
           t->energy_per_convert_pj, t->converts_per_mac, t->macs, t->utilization,
           t->utilization > 0 ? t->energy_per_convert_pj * t->converts_per_mac * t->macs / t->utilization : 0.0);
    int order[8], n = 0; /* the top layers by energy */
    for (int i = 0; i < r->n_layers; i++) {
        int j = n < 8 ? n++ : 8;
        if (j == 8 && r->layers[i].energy.total_pj <= r->layers[order[7]].energy.total_pj)
            continue;
        if (j == 8)
            j = 7;
        while (j > 0 && r->layers[order[j - 1]].energy.total_pj < r->layers[i].energy.total_pj) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
    printf("  %-28s %14s %7s %10s %10s %12s %8s\n", "top layers", "pJ/inference", "share", "fJ/MAC", "ADC fJ/MAC",
           "pJ/convert", "util");
    for (int k = 0; k < n; k++) {
        const cim_eval_layer *L = &r->layers[order[k]];
        const cim_energy *le = &L->energy;
        printf("  %-28.28s %14.4g %6.1f%% %10.2f %10.2f %12.4g %8.4f\n", L->name, le->total_pj,
               e->total_pj > 0 ? 100.0 * le->total_pj / e->total_pj : 0.0,
               le->macs > 0 ? 1e3 * le->total_pj / le->macs : 0.0,
               le->macs > 0 ? 1e3 * le->pj[CIM_ENERGY_ADC] / le->macs : 0.0, le->titanium.energy_per_convert_pj,
               le->titanium.utilization);
    }
}

static int write_csv(const char *path, const cim_eval_result *res, int n)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        cli_error("eval", "%s: cannot write", path);
        return 1;
    }
    fprintf(f, "arch,layer,op,macs,weight_slices,input_slices,converts_per_mac,saturation_rate,"
               "speculation_failure_rate,mean_abs_error,reference_top1,analog_top1\n");
    for (int a = 0; a < n; a++)
        for (int i = 0; i < res[a].n_layers; i++) {
            const cim_eval_layer *L = &res[a].layers[i];
            char ws[64], is[64];
            slices_str(L->cfg.weight_slices, L->cfg.n_weight_slices, ws, sizeof ws);
            slices_str(L->cfg.input_slices, L->cfg.n_input_slices, is, sizeof is);
            fprintf(f, "%s,%s,%s,%llu,\"%s\",\"%s\",%.6g,%.6g,%.6g,", res[a].arch, L->name, L->op_type,
                    (unsigned long long)L->macs, ws, is, cim_stats_converts_per_mac(&L->stats),
                    rate(L->stats.saturations, L->stats.adc_converts),
                    rate(L->stats.speculation_failures, L->stats.adc_converts_speculative));
            if (L->err_count)
                fprintf(f, "%.6g", L->abs_err_sum / (double)L->err_count);
            if (res[a].has_reference)
                fprintf(f, ",%.6g", rate(res[a].ref_correct, res[a].samples));
            else
                fputc(',', f); /* --analog-only: no reference */
            fprintf(f, ",%.6g\n", rate(res[a].has_labels ? res[a].analog_correct : res[a].agree, res[a].samples));
        }
    if (fclose(f) != 0) {
        cli_error("eval", "%s: write failed", path);
        unlink(path);
        return 1;
    }
    return 0;
}

/* The files of a --dump-layer (cim_eval_options.dump_layer). */
static void remove_dump(const char *dir)
{
    static const char *const files[] = {"layer.txt", "W.npy", "X.npy"};
    char p[4096];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        if (snprintf(p, sizeof p, "%s/%s", dir, files[i]) < (int)sizeof p)
            unlink(p);
}

int cli_eval(int argc, char **argv)
{
    const char *model = NULL, *dataset = "fashion-mnist:test", *labels = NULL, *archs = "raella";
    const char *json = NULL, *csv = NULL, *noise_s = NULL, *seed_s = NULL, *plan_path = NULL, *v;
    const char *energy_s = NULL, *hw_s = NULL, *dump_layer = NULL, *dump_dir = NULL;
    long limit = 0, threads = 0, batch = 64;
    int progress = 0, hist = 1, err = 0, breakdown = 0, analog_only = 0, dumped = 0, normal_noise = 0;
    for (int i = 1; i < argc; i++) {
        if (cli_flag(argv, i, "--help") || cli_flag(argv, i, "-h")) {
            fputs(usage, stdout);
            return 0;
        } else if ((v = cli_opt(argc, argv, &i, "--model", &err))) {
            model = v;
        } else if ((v = cli_opt(argc, argv, &i, "--dataset", &err))) {
            dataset = v;
        } else if ((v = cli_opt(argc, argv, &i, "--labels", &err))) {
            labels = v;
        } else if ((v = cli_opt(argc, argv, &i, "--arch", &err))) {
            archs = v;
        } else if ((v = cli_opt(argc, argv, &i, "--json", &err))) {
            json = v;
        } else if ((v = cli_opt(argc, argv, &i, "--plan", &err))) {
            plan_path = v;
        } else if ((v = cli_opt(argc, argv, &i, "--energy", &err))) {
            energy_s = v;
        } else if ((v = cli_opt(argc, argv, &i, "--hw", &err))) {
            hw_s = v;
        } else if ((v = cli_opt(argc, argv, &i, "--csv", &err))) {
            csv = v;
        } else if ((v = cli_opt(argc, argv, &i, "--dump-layer", &err))) {
            dump_layer = v;
        } else if ((v = cli_opt(argc, argv, &i, "--dump-dir", &err))) {
            dump_dir = v;
        } else if ((v = cli_opt(argc, argv, &i, "--noise", &err))) {
            noise_s = v;
        } else if ((v = cli_opt(argc, argv, &i, "--seed", &err))) {
            seed_s = v;
        } else if ((v = cli_opt(argc, argv, &i, "--limit", &err))) {
            if (cli_int(v, 1, 1000000000L, "--limit", &limit))
                return 2;
        } else if ((v = cli_opt(argc, argv, &i, "--threads", &err))) {
            if (cli_int(v, 1, 1024, "--threads", &threads))
                return 2;
        } else if ((v = cli_opt(argc, argv, &i, "--batch", &err))) {
            if (cli_int(v, 1, 65536, "--batch", &batch))
                return 2;
        } else if (cli_flag(argv, i, "--progress")) {
            progress = 1;
        } else if (cli_flag(argv, i, "--no-histogram")) {
            hist = 0;
        } else if (cli_flag(argv, i, "--analog-breakdown")) {
            breakdown = 1;
        } else if (cli_flag(argv, i, "--analog-only")) {
            analog_only = 1;
        } else if (cli_flag(argv, i, "--normal-noise")) {
            normal_noise = 1;
        } else {
            if (!err)
                cli_error("eval", "unknown option '%s' (see cimsim eval --help)", argv[i]);
            return 2;
        }
        if (err)
            return 2;
    }
    if (!model) {
        cli_error("eval", "--model is required (see cimsim eval --help)");
        return 2;
    }
    if (!dump_layer != !dump_dir) {
        cli_error("eval", "--dump-layer and --dump-dir go together (see cimsim eval --help)");
        return 2;
    }
    double noise;
    long long seed;
    if (cli_noise_args("eval", noise_s, seed_s, &noise, &seed))
        return 2;

    cim_ctx *ctx = cli_ctx("eval", (int)threads, 0);
    if (!ctx)
        return 1;
    int rc = 1, n = 0;
    cim_net *net = NULL;
    cim_plan *plan = NULL;
    cim_arch *arch = calloc(MAXARCH, sizeof *arch);
    cim_eval_result *res = calloc(MAXARCH, sizeof *res);
    cim_energy_spec *espec[MAXARCH] = {0};
    char *list = strdup(archs), *elist = energy_s ? strdup(energy_s) : NULL;
    if (!arch || !res || !list || (energy_s && !elist)) {
        cli_error("eval", "out of memory");
        goto done;
    }
    for (char *save = NULL, *a = strtok_r(list, ",", &save); a; a = strtok_r(NULL, ",", &save)) {
        if (n == MAXARCH) {
            cli_error("eval", "at most %d archs at once", MAXARCH);
            rc = 2;
            goto done;
        }
        cim_status st = cim_arch_load(ctx, a, &arch[n]);
        if (st) {
            cli_fail("eval", ctx, st);
            rc = 2;
            goto done;
        }
        cli_apply_noise(&arch[n].base, noise, seed);
        for (int o = 0; o < arch[n].n_overrides; o++)
            cli_apply_noise(&arch[n].over[o].cfg, noise, seed);
        n++;
    }
    if (n == 0) {
        cli_error("eval", "--arch names no architecture");
        rc = 2;
        goto done;
    }
    if (dump_layer && n > 1) { /* each arch's analog run feeds the layer different inputs */
        cli_error("eval", "--dump-layer takes one --arch (%d given)", n);
        rc = 2;
        goto done;
    }
    int ne = 0; /* energy specs: one for all, one per arch, or each arch's default */
    const char *ename[MAXARCH] = {0};
    for (char *save = NULL, *e = elist ? strtok_r(elist, ",", &save) : NULL; e; e = strtok_r(NULL, ",", &save)) {
        if (ne == MAXARCH) {
            cli_error("eval", "--energy: at most %d specs", MAXARCH);
            rc = 2;
            goto done;
        }
        ename[ne++] = e;
    }
    if (elist && ne != 1 && ne != n) {
        cli_error("eval", "--energy gives %d specs for %d archs (give one for all, or one per arch)", ne, n);
        rc = 2;
        goto done;
    }
    for (int a = 0; a < n; a++) {
        const char *es = ne ? ename[ne == 1 ? 0 : a] : cim_energy_spec_default(arch[a].name);
        if (!es) {
            fprintf(stderr, "note: no energy spec for arch %s: energy is not reported (give --energy FILE or a "
                    "built-in spec: isaac, raella, digital-cim; docs/energy.md)\n", arch[a].name);
            continue;
        }
        cim_status est = cim_energy_spec_load(ctx, es, NULL, &espec[a]);
        if (est) {
            cli_fail("eval", ctx, est);
            rc = 2;
            goto done;
        }
    }
    cim_status st = cim_net_load(ctx, model, &net);
    if (st) {
        cli_fail("eval", ctx, st);
        goto done;
    }
    if (plan_path && (st = cim_plan_load(ctx, plan_path, net, &plan)) != CIM_OK) {
        cli_fail("eval", ctx, st);
        goto done;
    }
    if (plan) {
        int any = 0;
        for (int a = 0; a < n; a++)
            any |= arch[a].adaptive_slicing;
        if (!any)
            fprintf(stderr, "warning: no arch allows adaptive weight slicing; the plan %s is not used\n", plan_path);
    }
    printf("model %s: %d nodes, %d weight layers; dataset %s; %d thread%s, kernel %s\n", model, cim_net_nodes(net),
           cim_net_weight_layers(net), dataset, cim_ctx_threads(ctx), cim_ctx_threads(ctx) == 1 ? "" : "s",
           cim_ctx_kernel_name(ctx));
    fflush(stdout);
    for (int a = 0; a < n; a++) {
        cim_eval_options o;
        cim_eval_options_default(&o);
        o.labels = labels;
        o.limit = (uint64_t)limit;
        o.batch = (int)batch;
        o.histogram = hist;
        o.normal_noise = normal_noise;
        o.analog_only = analog_only;
        o.dump_layer = dump_layer;
        o.dump_dir = dump_dir;
        o.plan = arch[a].adaptive_slicing ? plan : NULL;
        if (arch[a].adaptive_slicing && !plan)
            fprintf(stderr,
                    "note: %s allows adaptive weight slicing but no --plan was given: every layer runs the "
                    "arch's own slicing (make one with cimsim compile)\n",
                    arch[a].name);
        o.progress = progress || isatty(STDERR_FILENO);
        if (o.progress)
            fprintf(stderr, "%s:\n", arch[a].name);
        st = cim_net_eval(ctx, net, &arch[a], dataset, &o, &res[a]);
        if (st) {
            cli_fail("eval", ctx, st);
            for (int b = 0; b < a; b++)
                cim_eval_result_free(ctx, &res[b]);
            n = 0;
            goto done;
        }
        dumped = dump_layer != NULL;
        if (espec[a] && (st = cim_eval_energy(ctx, espec[a], &res[a])) != CIM_OK) {
            cli_fail("eval", ctx, st);
            for (int b = 0; b <= a; b++)
                cim_eval_result_free(ctx, &res[b]);
            n = 0;
            goto done;
        }
        const char *hws = hw_s ? (strcmp(hw_s, "none") ? hw_s : NULL) : cim_cost_hw_default(arch[a].name);
        if (!hws && !hw_s)
            fprintf(stderr, "note: no hardware file for arch %s: no area or throughput (give --hw NAME|FILE)\n",
                    arch[a].name);
        if (hws && (st = cim_eval_hw(ctx, hws, &res[a])) != CIM_OK) {
            if (hw_s) { /* asked for: an error */
                cli_fail("eval", ctx, st);
                for (int b = 0; b <= a; b++)
                    cim_eval_result_free(ctx, &res[b]);
                n = 0;
                goto done;
            }
            fprintf(stderr, "note: arch %s on hardware %s: %s (no hardware figures)\n", arch[a].name, hws,
                    cim_ctx_errmsg(ctx));
            st = CIM_OK;
        }
        if (breakdown) {
            o.dump_layer = o.dump_dir = NULL; /* the dump is of the run above */
            if (o.progress)
                fprintf(stderr, "%s: analog breakdown\n", arch[a].name);
            st = cim_net_eval_analog_breakdown(ctx, net, &arch[a], dataset, &o, &res[a]);
            if (st) {
                cli_fail("eval", ctx, st);
                for (int b = 0; b <= a; b++)
                    cim_eval_result_free(ctx, &res[b]);
                n = 0;
                goto done;
            }
            if (res[a].n_breakdown == 0)
                fprintf(stderr, "note: arch %s turns no analog model on: no analog breakdown (give `analog:` keys, "
                        "docs/config.md)\n", arch[a].name);
        }
        print_result(&res[a]);
        print_breakdown(&res[a]);
        print_energy(&res[a]);
        if (res[a].has_hw)
            cli_print_hw(&res[a].hw, res[a].has_energy);
        fflush(stdout);
    }
    if (n > 1) {
        printf("\n%-20s %12s %12s %8s %12s %12s %10s\n", "arch", "ref top-1", "analog top-1", "drop", "conv/MAC",
               "sat rate", "seconds");
        for (int a = 0; a < n; a++)
            if (!res[a].has_reference) /* --analog-only */
                printf("%-20.20s %12s %11.2f%% %8s %12.4f %12.4f %10.1f\n", res[a].arch, "-",
                       pct(res[a].analog_correct, res[a].samples), "-", cim_stats_converts_per_mac(&res[a].totals),
                       rate(res[a].totals.saturations, res[a].totals.adc_converts), res[a].seconds);
            else
                printf("%-20.20s %11.2f%% %11.2f%% %8.2f %12.4f %12.4f %10.1f\n", res[a].arch,
                       pct(res[a].ref_correct, res[a].samples),
                       pct(res[a].has_labels ? res[a].analog_correct : res[a].agree, res[a].samples),
                       pct(res[a].ref_correct, res[a].samples) -
                           pct(res[a].has_labels ? res[a].analog_correct : res[a].agree, res[a].samples),
                       cim_stats_converts_per_mac(&res[a].totals),
                       rate(res[a].totals.saturations, res[a].totals.adc_converts), res[a].seconds);
    }
    int any_energy = 0;
    for (int a = 0; a < n; a++)
        any_energy |= res[a].has_energy;
    if (n > 1 && any_energy) {
        const cim_eval_result *base = res[0].has_energy ? &res[0] : NULL;
        printf("\n%-20s %14s %10s %10s %12s %14s\n", "arch", "pJ/inference", "fJ/MAC", "ADC fJ/MAC", "pJ/convert",
               base ? "efficiency" : "");
        for (int a = 0; a < n; a++) {
            const cim_energy *e = &res[a].energy;
            if (!res[a].has_energy) {
                printf("%-20.20s %14s (no energy spec)\n", res[a].arch, "-");
                continue;
            }
            printf("%-20.20s %14.4g %10.1f %10.1f %12.4g", res[a].arch, e->total_pj,
                   e->macs > 0 ? 1e3 * e->total_pj / e->macs : 0.0,
                   e->macs > 0 ? 1e3 * e->pj[CIM_ENERGY_ADC] / e->macs : 0.0, e->titanium.energy_per_convert_pj);
            if (base && e->total_pj > 0)
                printf(" %10.2fx %s", base->energy.total_pj / e->total_pj, a ? "" : "(base)");
            printf("\n");
        }
    }
    rc = 0;
    if (json && (st = cim_eval_write_json(ctx, json, res, n)) != CIM_OK)
        rc = cli_fail("eval", ctx, st);
    if (csv && rc == 0)
        rc = write_csv(csv, res, n);
    for (int a = 0; a < n; a++)
        cim_eval_result_free(ctx, &res[a]);
done:
    if (rc != 0 && dumped) /* a later step failed: the dump does not stand either */
        remove_dump(dump_dir);
    cim_plan_free(ctx, plan);
    cim_net_free(net);
    for (int a = 0; a < MAXARCH; a++)
        cim_energy_spec_free(ctx, espec[a]);
    free(elist);
    free(list);
    free(arch);
    free(res);
    cim_ctx_destroy(ctx);
    return rc;
}

static const char ref_usage[] =
    "usage: cimsim reference --model M.onnx [--dataset D] [--labels L.npy] [--limit N]\n"
    "                        --out Y.npy [--inputs-out X.npy]\n"
    "\n"
    "Runs the digital reference alone (the exact integer semantics of each ONNX op)\n"
    "and writes the model's first output for every sample as NPY, and optionally the\n"
    "preprocessed inputs, so other runtimes (ONNX Runtime: tools/ort/ort_run) can be\n"
    "compared on exactly the same tensors. --dataset as for cimsim eval.\n";

int cli_reference(int argc, char **argv)
{
    const char *model = NULL, *dataset = "fashion-mnist:test", *labels = NULL, *out = NULL, *xout = NULL, *v;
    long limit = 0;
    int err = 0;
    for (int i = 1; i < argc; i++) {
        if (cli_flag(argv, i, "--help") || cli_flag(argv, i, "-h")) {
            fputs(ref_usage, stdout);
            return 0;
        } else if ((v = cli_opt(argc, argv, &i, "--model", &err))) {
            model = v;
        } else if ((v = cli_opt(argc, argv, &i, "--dataset", &err))) {
            dataset = v;
        } else if ((v = cli_opt(argc, argv, &i, "--labels", &err))) {
            labels = v;
        } else if ((v = cli_opt(argc, argv, &i, "--out", &err))) {
            out = v;
        } else if ((v = cli_opt(argc, argv, &i, "--inputs-out", &err))) {
            xout = v;
        } else if ((v = cli_opt(argc, argv, &i, "--limit", &err))) {
            if (cli_int(v, 1, 1000000000L, "--limit", &limit))
                return 2;
        } else {
            if (!err)
                cli_error("reference", "unknown option '%s' (see cimsim reference --help)", argv[i]);
            return 2;
        }
        if (err)
            return 2;
    }
    if (!model || !out) {
        cli_error("reference", "--model and --out are required (see cimsim reference --help)");
        return 2;
    }
    cim_ctx *ctx = cli_ctx("reference", 0, 0);
    if (!ctx)
        return 1;
    cim_net *net = NULL;
    cim_status st = cim_net_load(ctx, model, &net);
    if (st == CIM_OK)
        st = cim_net_reference(ctx, net, dataset, labels, (uint64_t)limit, xout, out);
    int rc = st ? cli_fail("reference", ctx, st) : 0;
    cim_net_free(net);
    cim_ctx_destroy(ctx);
    return rc;
}
