/* cmd_experiment.c: `cimsim experiment colsum|ablation|noise`, the RAELLA
 * thesis' experiments on any int8 ONNX model (docs/experiments.md): option
 * parsing and the helpers the experiments share (setups, evaluation,
 * summaries, all-or-nothing output files). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "exp_common.h"

static const char usage[] =
    "usage: cimsim experiment colsum|ablation|noise|efficiency|analog-vs-digital --model M.onnx [options]\n"
    "\n"
    "The RAELLA thesis' experiments on your network (docs/experiments.md):\n"
    "  colsum    column-sum distributions and ADC saturation (thesis Fig. 3-1): a 512x512\n"
    "            offset baseline with 4-bit slices, then +Center+Offset, +Adaptive Weight\n"
    "            Slicing, +Dynamic Input Slicing (its speculation and recovery cycles)\n"
    "  ablation  ISAAC, +Center+Offset, +Adaptive Weight Slicing, +Dynamic Input Slicing\n"
    "            (thesis ch. 7): conversions per MAC, saturation, speculation success,\n"
    "            accuracy drop; and Zero+Offset vs Center+Offset with the same slicings\n"
    "            (thesis Table 6.1)\n"
    "  noise     accuracy drop against gaussian_colsum noise E for the four ablation setups\n"
    "            (thesis Fig. 7-2), slicings recompiled at every level and seed\n"
    "  efficiency  energy per inference by component through the four ablation setups\n"
    "            (thesis Fig. 7-1) and RAELLA against ISAAC, with and without speculation:\n"
    "            energy efficiency and throughput (thesis Fig. 6-1)\n"
    "  analog-vs-digital  is analog worth its noise (seed 000)? the integrator capacitor C swept\n"
    "            (kT/C, device thermal and ADC noise bought with C V^2 and ADC ENOB) for analog\n"
    "            archs and array sizes, top-1 over seeds and energy/inference under three ADC\n"
    "            assumptions, against digital-cim; the crossover; column currents and IR drop by\n"
    "            encoding (docs/analog_vs_digital.md). Options: --archs LIST (raella,isaac),\n"
    "            --rows LIST (128,256,512), --caps LIST in fF (1e-3..1e2, 2 per decade; 1e3, 1e4),\n"
    "            --swing V (0.9: integrator full-scale swing), --typical-gap-db DB (10: the\n"
    "            survey's typical ADC below the best-design fit), --no-device-thermal,\n"
    "            --no-irdrop, --seeds K\n"
    "\n"
    "Each prints a table and writes DIR/<experiment>.json (deterministic: the same\n"
    "bits for the same options and seeds), .csv, .dat and .gp (gnuplot data and script:\n"
    "re-plot with `cd DIR && gnuplot <experiment>.gp`), .svg and .png (made by gnuplot),\n"
    "and <experiment>.timing.json (wall times, kept out of the JSON).\n"
    "\n"
    "  --model M.onnx   an int8 ONNX model (QDQ or QOperator form)\n"
    "  --dataset D      fashion-mnist:test (default), fashion-mnist:train, or an .npy of inputs\n"
    "  --labels L.npy   labels for an .npy dataset (without: accuracy = agreement with the\n"
    "                   digital reference)\n"
    "  --limit N        evaluate the first N samples (default 1000; 0 = all)\n"
    "  --calib N        calibration samples for Adaptive Weight Slicing (default 10)\n"
    "  --calib-dataset D  where they come from (default fashion-mnist:train for Fashion-MNIST,\n"
    "                   else the --dataset itself: the first N samples)\n"
    "  --budget B       the compiler's error budget (default 0.09, thesis 4.2.1)\n"
    "  --levels LIST    noise: comma-separated levels E (default 0,0.02,0.04,...,0.12)\n"
    "  --seeds K        noise: seeds per level (default 3): --seed S, S+1, ..., S+K-1\n"
    "  --seed S         noise: the first seed (default 1)\n"
    "  --compile-per-seed  noise: compile a plan for every level and seed (default: one per\n"
    "                   level, under the first seed's noise, used for every seed)\n"
    "  --threads T      worker threads (default: all cores)\n"
    "  --out DIR        output folder (default results/experiments/<model name>/)\n"
    "  --archs-dir DIR  the experiment setups' YAML files (default: experiments/archs in the\n"
    "                   current folder, else ../experiments/archs next to the executable)\n"
    "  --no-plot        skip gnuplot (data and script are still written)\n"
    "  --progress       progress on stderr even when it is not a terminal\n"
    "\n"
    "Exit status: 0 done (also when gnuplot is not installed: a warning says so and every\n"
    "data file and the .gp script are written); 1 a run, a file or gnuplot failed; 2 bad\n"
    "usage or input. On 1 or 2 no data file is left behind.\n"
    "\n"
    "example:\n"
    "  cimsim experiment ablation --model models/resnet8.onnx --limit 1000\n";

/* ---- options ---- */

static int parse_levels(const char *cmd, const char *s, exp_opts *o)
{
    o->n_levels = 0;
    const char *p = s;
    for (;;) {
        char *end;
        errno = 0;
        double v = strtod(p, &end);
        if (end == p || errno || !(v >= 0.0 && v <= 100.0) || (*end && *end != ',')) {
            cli_error(cmd, "--levels: '%s' is not a comma-separated list of noise levels in 0..100", s);
            return 2;
        }
        if (o->n_levels == EXP_MAX_LEVELS) {
            cli_error(cmd, "--levels: at most %d levels", EXP_MAX_LEVELS);
            return 2;
        }
        for (int i = 0; i < o->n_levels; i++)
            if (o->levels[i] == v) {
                cli_error(cmd, "--levels: level %g appears twice", v);
                return 2;
            }
        o->levels[o->n_levels++] = v;
        if (!*end)
            return 0;
        p = end + 1;
    }
}

static int parse(const char *cmd, int argc, char **argv, exp_opts *o)
{
    const char *v;
    int err = 0;
    long l;
    memset(o, 0, sizeof *o);
    o->dataset = "fashion-mnist:test";
    o->limit = 1000;
    o->calib = 10;
    o->budget = 0.09;
    o->seeds = 3;
    o->seed = 1;
    o->plot = 1;
    for (int i = 0; i <= 6; i++)
        o->levels[o->n_levels++] = 0.02 * i;
    for (int i = 1; i < argc; i++) {
        if (cli_flag(argv, i, "--help") || cli_flag(argv, i, "-h")) {
            fputs(usage, stdout);
            return -1;
        } else if ((v = cli_opt(argc, argv, &i, "--model", &err))) {
            o->model = v;
        } else if ((v = cli_opt(argc, argv, &i, "--dataset", &err))) {
            o->dataset = v;
        } else if ((v = cli_opt(argc, argv, &i, "--calib-dataset", &err))) {
            o->calib_dataset = v;
        } else if ((v = cli_opt(argc, argv, &i, "--labels", &err))) {
            o->labels = v;
        } else if ((v = cli_opt(argc, argv, &i, "--out", &err))) {
            o->out = v;
        } else if ((v = cli_opt(argc, argv, &i, "--archs-dir", &err))) {
            o->archs_dir = v;
        } else if ((v = cli_opt(argc, argv, &i, "--limit", &err))) {
            if (cli_int(v, 0, 1000000000L, "--limit", &o->limit))
                return 2;
        } else if ((v = cli_opt(argc, argv, &i, "--calib", &err))) {
            if (cli_int(v, 1, 100000, "--calib", &o->calib))
                return 2;
        } else if ((v = cli_opt(argc, argv, &i, "--seeds", &err))) {
            if (cli_int(v, 1, EXP_MAX_SEEDS, "--seeds", &o->seeds))
                return 2;
        } else if ((v = cli_opt(argc, argv, &i, "--seed", &err))) {
            if (cli_int(v, 0, 2000000000L, "--seed", &l))
                return 2;
            o->seed = l;
        } else if ((v = cli_opt(argc, argv, &i, "--threads", &err))) {
            if (cli_int(v, 1, 1024, "--threads", &o->threads))
                return 2;
        } else if ((v = cli_opt(argc, argv, &i, "--levels", &err))) {
            if (parse_levels(cmd, v, o))
                return 2;
        } else if ((v = cli_opt(argc, argv, &i, "--budget", &err))) {
            char *end;
            o->budget = strtod(v, &end);
            if (end == v || *end || !(o->budget > 0.0 && o->budget <= 1000.0)) {
                cli_error(cmd, "--budget: '%s' is not a positive error budget", v);
                return 2;
            }
        } else if (cli_flag(argv, i, "--progress")) {
            o->progress = 1;
        } else if (cli_flag(argv, i, "--compile-per-seed")) {
            o->compile_per_seed = 1;
        } else if (cli_flag(argv, i, "--no-plot")) {
            o->plot = 0;
        } else if ((v = cli_opt(argc, argv, &i, "--archs", &err))) { /* analog-vs-digital (exp_analog.c) */
            o->av_archs = v, o->av_given = 1;
        } else if ((v = cli_opt(argc, argv, &i, "--caps", &err))) {
            o->av_caps = v, o->av_given = 1;
        } else if ((v = cli_opt(argc, argv, &i, "--rows", &err))) {
            o->av_rows = v, o->av_given = 1;
        } else if ((v = cli_opt(argc, argv, &i, "--swing", &err))) {
            o->av_swing = v, o->av_given = 1;
        } else if ((v = cli_opt(argc, argv, &i, "--typical-gap-db", &err))) {
            o->av_gap_db = v, o->av_given = 1;
        } else if (cli_flag(argv, i, "--no-device-thermal")) {
            o->av_no_thermal = 1, o->av_given = 1;
        } else if (cli_flag(argv, i, "--no-irdrop")) {
            o->av_no_irdrop = 1, o->av_given = 1;
        } else {
            if (!err)
                cli_error(cmd, "unknown option '%s' (see cimsim experiment --help)", argv[i]);
            return 2;
        }
        if (err)
            return 2;
    }
    if (!o->model) {
        cli_error(cmd, "--model is required (see cimsim experiment --help)");
        return 2;
    }
    if (!o->calib_dataset) /* calibrate on training data where there is some */
        o->calib_dataset = strncmp(o->dataset, "fashion-mnist", 13) == 0 ? "fashion-mnist:train" : o->dataset;
    return 0;
}

/* ---- paths ---- */

static int is_dir(const char *p)
{
    struct stat s;
    return stat(p, &s) == 0 && S_ISDIR(s.st_mode);
}

/* experiments/archs from the current folder, else next to the executable
 * (build/cimsim -> build/../experiments/archs). */
static int find_archs(exp_env *e)
{
    if (e->o.archs_dir) {
        if (!is_dir(e->o.archs_dir)) {
            cli_error(e->cmd, "--archs-dir %s: not a folder", e->o.archs_dir);
            return 2;
        }
        snprintf(e->archs_dir, sizeof e->archs_dir, "%s", e->o.archs_dir);
        return 0;
    }
    if (is_dir("experiments/archs")) {
        snprintf(e->archs_dir, sizeof e->archs_dir, "experiments/archs");
        return 0;
    }
    char exe[EXP_PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = 0;
            int len = snprintf(e->archs_dir, sizeof e->archs_dir, "%s/../experiments/archs", exe);
            if (len > 0 && (size_t)len < sizeof e->archs_dir && is_dir(e->archs_dir))
                return 0;
        }
    }
    cli_error(e->cmd, "cannot find the setups folder experiments/archs (run from the repository root or "
                      "give --archs-dir)");
    return 2;
}

static void model_name(const char *path, char *buf, size_t size)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    snprintf(buf, size, "%s", b);
    size_t n = strlen(buf);
    if (n > 5 && strcmp(buf + n - 5, ".onnx") == 0)
        buf[n - 5] = 0;
}

void exp_arch_path(const exp_env *e, const char *spec, char *buf, size_t size)
{
    int n = spec[0] == '@' ? snprintf(buf, size, "%s/%s.yaml", e->archs_dir, spec + 1)
                           : snprintf(buf, size, "%s", spec);
    if (n < 0 || (size_t)n >= size)
        buf[0] = 0; /* too long: loading "" fails with a message */
}

/* ---- running ---- */

int exp_arch(exp_env *e, const char *spec, double noise, long long seed, cim_arch *out)
{
    char path[EXP_PATH_MAX];
    exp_arch_path(e, spec, path, sizeof path);
    cim_status st = cim_arch_load(e->ctx, path, out);
    if (st) {
        cli_fail(e->cmd, e->ctx, st);
        return 1;
    }
    /* as cimsim eval's --noise/--seed: the base and every override */
    cli_apply_noise(&out->base, noise, seed);
    for (int o = 0; o < out->n_overrides; o++)
        cli_apply_noise(&out->over[o].cfg, noise, seed);
    return 0;
}

int exp_eval(exp_env *e, const cim_arch *arch, const cim_plan *plan, int histogram, const char *what,
             cim_eval_result *res)
{
    cim_eval_options o;
    cim_eval_options_default(&o);
    o.labels = e->o.labels;
    o.limit = (uint64_t)e->o.limit;
    o.histogram = histogram;
    o.plan = plan;
    o.progress = e->o.progress || isatty(STDERR_FILENO);
    if (o.progress)
        fprintf(stderr, "%s: %s\n", e->name, what);
    double t0 = cli_now();
    cim_status st = cim_net_eval(e->ctx, e->net, arch, e->o.dataset, &o, res);
    if (st) {
        cli_fail(e->cmd, e->ctx, st);
        return 1;
    }
    exp_timing(e, what, cli_now() - t0);
    return 0;
}

int exp_compile(exp_env *e, const cim_arch *arch, const char *what, cim_plan **plan)
{
    cim_compile_options o;
    cim_compile_options_default(&o);
    o.budget = e->o.budget;
    o.calib = (int)e->o.calib;
    o.progress = e->o.progress;
    if (e->o.progress || isatty(STDERR_FILENO))
        fprintf(stderr, "%s: %s\n", e->name, what);
    double t0 = cli_now();
    cim_status st = cim_compile(e->ctx, e->net, arch, e->o.calib_dataset, &o, plan);
    if (st) {
        cli_fail(e->cmd, e->ctx, st);
        return 1;
    }
    exp_timing(e, what, cli_now() - t0);
    return 0;
}

/* ---- numbers ---- */

double exp_rate(uint64_t a, uint64_t b) { return b ? (double)a / (double)b : 0.0; }

double exp_ref_top1(const cim_eval_result *r)
{
    return r->has_labels ? 100.0 * exp_rate(r->ref_correct, r->samples) : 100.0;
}

double exp_analog_top1(const cim_eval_result *r)
{
    return 100.0 * exp_rate(r->has_labels ? r->analog_correct : r->agree, r->samples);
}

double exp_sat_rate(const cim_stats *s) { return exp_rate(s->saturations, s->adc_converts); }

double exp_accepted_sat_rate(const cim_stats *s)
{
    /* a speculative conversion whose flag is set fails and is replaced by
     * recovery conversions (semantics.md section 7); without speculation,
     * failures and recovery counters are 0 and this is saturations/converts */
    uint64_t accepted = s->adc_converts - s->speculation_failures;
    uint64_t sat = s->saturations - (s->speculation_failures < s->saturations ? s->speculation_failures : s->saturations);
    return exp_rate(sat, accepted);
}

double exp_spec_success(const cim_stats *s, int speculation)
{
    if (!speculation)
        return -1;
    return 1.0 - exp_rate(s->speculation_failures, s->adc_converts_speculative);
}

double exp_le_bits(const cim_stats *s, int bits)
{
    uint64_t le = 0, all = 0;
    for (int b = 0; b < CIM_HIST_BITS; b++) {
        all += s->hist.bits[b];
        if (b <= bits)
            le += s->hist.bits[b];
    }
    return exp_rate(le, all);
}

int exp_has_speculation(const cim_eval_result *r)
{
    for (int i = 0; i < r->n_layers; i++)
        if (r->layers[i].cfg.speculation)
            return 1;
    return 0;
}

void exp_slices_str(const int *w, int n, char *buf, size_t size)
{
    size_t o = 0;
    buf[0] = 0;
    for (int i = 0; i < n && o + 4 < size; i++)
        o += (size_t)snprintf(buf + o, size - o, "%s%d", i ? "," : "", w[i]);
}

void exp_plan_summary(const cim_plan *p, char *common, size_t size, double *mean)
{
    int best = -1, best_count = 0, searched = 0, slices = 0;
    for (int i = 0; i < p->n_layers; i++) {
        const cim_plan_layer *L = &p->layers[i];
        if (!L->searched)
            continue;
        searched++;
        slices += L->n_weight_slices;
        int count = 0;
        for (int j = 0; j < p->n_layers; j++)
            if (p->layers[j].searched && p->layers[j].n_weight_slices == L->n_weight_slices &&
                memcmp(p->layers[j].weight_slices, L->weight_slices, sizeof(int) * (size_t)L->n_weight_slices) == 0)
                count++;
        if (count > best_count) {
            best = i;
            best_count = count;
        }
    }
    if (best >= 0) {
        char s[64];
        exp_slices_str(p->layers[best].weight_slices, p->layers[best].n_weight_slices, s, sizeof s);
        snprintf(common, size, "%s (%d/%d)", s, best_count, searched);
    } else {
        snprintf(common, size, "-");
    }
    *mean = searched ? (double)slices / searched : 0.0;
}

/* ---- JSON ---- */

static json_t *histogram_json(const cim_histogram *h)
{
    json_t *bins = json_array(), *bits = json_array();
    for (int i = 0; i < CIM_HIST_BINS; i++)
        if (h->bins[i])
            json_array_append_new(bins, json_pack("[iI]", CIM_HIST_MIN + i, (json_int_t)h->bins[i]));
    for (int b = 0; b < CIM_HIST_BITS; b++)
        if (h->bits[b])
            json_array_append_new(bits, json_pack("[iI]", b, (json_int_t)h->bits[b]));
    return json_pack("{s:i, s:i, s:I, s:I, s:o, s:o}", "min", CIM_HIST_MIN, "max", CIM_HIST_MAX, "below",
                     (json_int_t)h->below, "above", (json_int_t)h->above, "bins", bins, "bits", bits);
}

static json_t *stats_json(const cim_stats *s, int speculation, int hist)
{
    json_t *o = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:f, s:f, s:f}", "macs",
                          (json_int_t)s->macs, "adc_converts", (json_int_t)s->adc_converts, "adc_converts_speculative",
                          (json_int_t)s->adc_converts_speculative, "adc_converts_recovery",
                          (json_int_t)s->adc_converts_recovery, "saturations", (json_int_t)s->saturations,
                          "saturations_recovery", (json_int_t)s->saturations_recovery, "true_clips",
                          (json_int_t)s->true_clips, "speculation_failures", (json_int_t)s->speculation_failures,
                          "dac_pulses", (json_int_t)s->dac_pulses, "device_activations",
                          (json_int_t)s->device_activations, "converts_per_mac", cim_stats_converts_per_mac(s),
                          "saturation_rate", exp_sat_rate(s), "accepted_saturation_rate", exp_accepted_sat_rate(s),
                          "true_clip_rate", exp_rate(s->true_clips, s->adc_converts));
    double ss = exp_spec_success(s, speculation);
    json_object_set_new(o, "speculation_success_rate", ss < 0 ? json_null() : json_real(ss));
    if (hist) {
        json_object_set_new(o, "column_sums_le_7b", json_real(exp_le_bits(s, 7)));
        json_object_set_new(o, "column_sum_histogram", histogram_json(&s->hist));
    }
    return o;
}

json_t *exp_result_json(const cim_eval_result *r, int layers, int histogram)
{
    int spec = exp_has_speculation(r);
    json_t *o = json_pack("{s:s, s:I, s:b, s:f, s:f, s:f, s:f}", "arch", r->arch, "samples", (json_int_t)r->samples,
                          "has_labels", r->has_labels, "reference_top1", exp_ref_top1(r), "analog_top1",
                          exp_analog_top1(r), "accuracy_drop_points", exp_drop(r), "agreement",
                          100.0 * exp_rate(r->agree, r->samples));
    json_object_set_new(o, "totals", stats_json(&r->totals, spec, histogram));
    if (layers) {
        json_t *a = json_array();
        for (int i = 0; i < r->n_layers; i++) {
            const cim_eval_layer *L = &r->layers[i];
            char ws[64], is[64], sum[256];
            exp_slices_str(L->cfg.weight_slices, L->cfg.n_weight_slices, ws, sizeof ws);
            exp_slices_str(L->cfg.input_slices, L->cfg.n_input_slices, is, sizeof is);
            cim_config_summary(&L->cfg, sum, sizeof sum);
            json_t *l = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:f, s:f, s:f}", "name", L->name, "op_type",
                                  L->op_type, "config", sum, "weight_slices", ws, "input_slices", is, "macs",
                                  (json_int_t)L->macs, "converts_per_mac", cim_stats_converts_per_mac(&L->stats),
                                  "saturation_rate", exp_sat_rate(&L->stats), "accepted_saturation_rate",
                                  exp_accepted_sat_rate(&L->stats));
            double ss = exp_spec_success(&L->stats, L->cfg.speculation);
            json_object_set_new(l, "speculation_success_rate", ss < 0 ? json_null() : json_real(ss));
            json_object_set_new(l, "mean_abs_error",
                                L->err_count ? json_real(L->abs_err_sum / (double)L->err_count) : json_null());
            json_array_append_new(a, l);
        }
        json_object_set_new(o, "layers", a);
    }
    return o;
}

json_t *exp_plan_json(const cim_plan *p)
{
    char common[96];
    double mean;
    exp_plan_summary(p, common, sizeof common, &mean);
    json_t *a = json_array();
    for (int i = 0; i < p->n_layers; i++) {
        const cim_plan_layer *L = &p->layers[i];
        char ws[64];
        exp_slices_str(L->weight_slices, L->n_weight_slices, ws, sizeof ws);
        json_array_append_new(a, json_pack("{s:s, s:s, s:f, s:b, s:b, s:i}", "name", L->name, "weight_slices", ws,
                                           "error", L->error, "within_budget", L->within_budget, "searched",
                                           L->searched, "tried", L->tried));
    }
    return json_pack("{s:s, s:f, s:f, s:i, s:s, s:f, s:o}", "arch", p->arch, "budget", p->budget, "noise_level",
                     p->noise_level, "calib", p->calib, "most_common_slicing", common, "mean_slices", mean,
                     "layers", a);
}

json_t *exp_header_json(const exp_env *e)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:I, s:s, s:I, s:f, s:s}", "experiment", e->name, "model",
                     e->model_name, "model_path", e->o.model, "dataset", e->o.dataset, "limit",
                     (json_int_t)e->o.limit, "calib_dataset", e->o.calib_dataset, "calib", (json_int_t)e->o.calib,
                     "budget", e->o.budget, "cimsim_version", cim_version());
}

void exp_timing(exp_env *e, const char *what, double seconds)
{
    json_array_append_new(e->timing, json_pack("{s:s, s:f}", "what", what, "seconds", seconds));
}

/* ---- output files ---- */

static int mkdirs(const char *path)
{
    char p[EXP_PATH_MAX];
    snprintf(p, sizeof p, "%s", path);
    for (char *s = p + 1; *s; s++)
        if (*s == '/') {
            *s = 0;
            if (mkdir(p, 0777) != 0 && errno != EEXIST)
                return -1;
            *s = '/';
        }
    if (mkdir(p, 0777) != 0 && errno != EEXIST)
        return -1;
    return is_dir(p) ? 0 : -1;
}

FILE *exp_create(exp_env *e, const char *name)
{
    if (e->n_files == EXP_MAX_FILES) {
        cli_error(e->cmd, "too many output files");
        return NULL;
    }
    if (mkdirs(e->out_dir) != 0) {
        cli_error(e->cmd, "%s: cannot create the output folder: %s", e->out_dir, strerror(errno));
        return NULL;
    }
    exp_file *f = &e->files[e->n_files];
    int a = snprintf(f->final, sizeof f->final, "%s/%s", e->out_dir, name);
    int b = snprintf(f->tmp, sizeof f->tmp, "%s/.%s.tmp%ld", e->out_dir, name, (long)getpid());
    if (a < 0 || b < 0 || (size_t)a >= sizeof f->final || (size_t)b >= sizeof f->tmp) {
        cli_error(e->cmd, "%s: path too long", e->out_dir);
        return NULL;
    }
    f->f = fopen(f->tmp, "w");
    if (!f->f) {
        cli_error(e->cmd, "%s: cannot write: %s", f->tmp, strerror(errno));
        return NULL;
    }
    e->n_files++;
    return f->f;
}

int exp_write_json(exp_env *e, const char *name, json_t *root)
{
    FILE *f = exp_create(e, name);
    if (!f)
        return 1;
    if (json_dumpf(root, f, JSON_INDENT(1) | JSON_REAL_PRECISION(10)) != 0) {
        cli_error(e->cmd, "%s: cannot write JSON", name);
        return 1;
    }
    fputc('\n', f);
    return 0;
}

void exp_abort(exp_env *e)
{
    for (int i = 0; i < e->n_files; i++) {
        if (e->files[i].f)
            fclose(e->files[i].f);
        unlink(e->files[i].tmp);
    }
    e->n_files = 0;
}

int exp_commit(exp_env *e)
{
    char name[64];
    snprintf(name, sizeof name, "%s.timing.json", e->name);
    if (exp_write_json(e, name, e->timing)) {
        exp_abort(e);
        return 1;
    }
    for (int i = 0; i < e->n_files; i++) {
        int bad = ferror(e->files[i].f);
        if (fclose(e->files[i].f) != 0 || bad) {
            e->files[i].f = NULL;
            cli_error(e->cmd, "%s: write failed", e->files[i].final);
            exp_abort(e);
            return 1;
        }
        e->files[i].f = NULL;
    }
    for (int i = 0; i < e->n_files; i++)
        if (rename(e->files[i].tmp, e->files[i].final) != 0) {
            cli_error(e->cmd, "%s: cannot rename into place: %s", e->files[i].final, strerror(errno));
            exp_abort(e);
            return 1;
        }
    e->n_files = 0;
    return 0;
}

void exp_csv_str(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/* ---- the command ---- */

int cli_experiment(int argc, char **argv)
{
    if (argc < 2 || cli_flag(argv, 1, "--help") || cli_flag(argv, 1, "-h")) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    static const struct {
        const char *name;
        int (*run)(exp_env *);
    } exps[] = {{"colsum", exp_colsum}, {"ablation", exp_ablation}, {"noise", exp_noise}, {"efficiency", exp_efficiency},
                   {"analog-vs-digital", exp_analog}};
    int which = -1;
    for (int i = 0; i < (int)(sizeof exps / sizeof exps[0]); i++)
        if (strcmp(argv[1], exps[i].name) == 0)
            which = i;
    if (which < 0) {
        cli_error("experiment", "unknown experiment '%s' (experiments: colsum, ablation, noise, efficiency, analog-vs-digital)", argv[1]);
        return 2;
    }
    char cmd[64];
    snprintf(cmd, sizeof cmd, "experiment %s", exps[which].name);
    exp_env *e = calloc(1, sizeof *e);
    if (!e) {
        cli_error(cmd, "out of memory");
        return 1;
    }
    e->cmd = cmd;
    e->name = exps[which].name;
    int rc = parse(cmd, argc - 1, argv + 1, &e->o);
    if (!rc && e->o.av_given && exps[which].run != exp_analog) {
        cli_error(cmd, "--archs, --caps, --rows, --swing, --typical-gap-db, --no-device-thermal and --no-irdrop "
                       "belong to analog-vs-digital");
        rc = 2;
    }
    if (rc) {
        free(e);
        return rc < 0 ? 0 : rc;
    }
    if ((rc = find_archs(e)) != 0) {
        free(e);
        return rc;
    }
    model_name(e->o.model, e->model_name, sizeof e->model_name);
    if (e->o.out)
        snprintf(e->out_dir, sizeof e->out_dir, "%s", e->o.out);
    else
        snprintf(e->out_dir, sizeof e->out_dir, "results/experiments/%s", e->model_name);
    e->ctx = cli_ctx(cmd, (int)e->o.threads, 0);
    e->timing = json_array();
    if (!e->ctx || !e->timing) {
        rc = 1;
        goto done;
    }
    cim_status st = cim_net_load(e->ctx, e->o.model, &e->net);
    if (st) {
        rc = cli_fail(cmd, e->ctx, st);
        goto done;
    }
    char samples[64];
    if (e->o.limit)
        snprintf(samples, sizeof samples, "the first %ld samples", e->o.limit);
    else
        snprintf(samples, sizeof samples, "all samples");
    printf("experiment %s: model %s (%d weight layers), dataset %s, %s; calibration: %ld samples of %s; "
           "%d thread%s\n",
           e->name, e->o.model, cim_net_weight_layers(e->net), e->o.dataset, samples, e->o.calib,
           e->o.calib_dataset, cim_ctx_threads(e->ctx), cim_ctx_threads(e->ctx) == 1 ? "" : "s");
    fflush(stdout);
    rc = exps[which].run(e);
    if (rc)
        exp_abort(e);
done:
    json_decref(e->timing);
    cim_net_free(e->net);
    cim_ctx_destroy(e->ctx);
    free(e);
    return rc;
}
