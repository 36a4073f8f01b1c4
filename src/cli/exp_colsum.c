/* exp_colsum.c: `cimsim experiment colsum`, thesis Fig. 3-1: the column-sum
 * distribution of a whole network as RAELLA's strategies are added one by
 * one, against a signed 7-bit ADC's range [-64, 63], with saturation rates.
 * The setups are YAML files in experiments/archs (colsum-*.yaml), each
 * naming its thesis section; Adaptive Weight Slicing comes from the compiler
 * (cim_compile, thesis Algorithm 1) run once for the `raella` arch. */
#include <math.h>
#include <string.h>
#include "exp_common.h"
#include "plot.h"

static const exp_setup setups[] = {
    {"baseline", "Baseline (offset, 4b slices)", "@colsum-baseline", 0, "thesis 3.1"},
    {"center_offset", "+Center+Offset", "@colsum-center-offset", 0, "thesis 3.2"},
    {"adaptive_slicing", "+Adaptive Weight Slicing", "@colsum-adaptive-slicing", 1, "thesis 3.3"},
    {"speculation", "+DIS: speculation cycles", "@colsum-speculation", 1, "thesis 3.4"},
    {"recovery", "+DIS: recovery cycles", "@colsum-recovery", 1, "thesis 3.4, footnote 2"},
    {"raella", "RAELLA (speculation+recovery)", "raella", 1, "thesis 4.3"},
};
#define NSETUPS ((int)(sizeof setups / sizeof setups[0]))
#define NPLOT 5 /* the last setup is the combined run: in the table, not in the plot */

/* value bins of the plot: width 8 over [-1024, 1024) */
#define VBIN 8
#define VLO (-1024)
#define VHI 1024

static void input_str(const cim_xbar_config *c, char *buf, size_t size)
{
    char s[40];
    exp_slices_str(c->input_slices, c->n_input_slices, s, sizeof s);
    if (c->speculation)
        snprintf(buf, size, "spec %s/r%d", s, c->recovery_bits);
    else
        snprintf(buf, size, "%s", s);
}

static void write_dat(FILE *f, const cim_eval_result *res)
{
    fprintf(f, "# column-sum distributions (cimsim experiment colsum); noise-free sums S at the ADC,\n"
               "# all weight layers and samples. Blocks 0..%d: S (bin centre, width %d) and the fraction\n"
               "# of conversions per unit S; blocks %d..%d: bits needed (signed) and the fraction.\n",
            NPLOT - 1, VBIN, NPLOT, 2 * NPLOT - 1);
    for (int s = 0; s < NPLOT; s++) {
        const cim_histogram *h = &res[s].totals.hist;
        uint64_t total = h->below + h->above;
        for (int i = 0; i < CIM_HIST_BINS; i++)
            total += h->bins[i];
        fprintf(f, "# %s\n", setups[s].label);
        for (int lo = VLO; lo < VHI; lo += VBIN) {
            uint64_t c = 0;
            for (int v = lo; v < lo + VBIN; v++)
                c += h->bins[v - CIM_HIST_MIN];
            double d = total ? (double)c / (double)total / VBIN : 0.0;
            if (c)
                fprintf(f, "%g\t%.6e\n", lo + VBIN / 2.0 - 0.5, d);
            else
                fprintf(f, "%g\tNaN\n", lo + VBIN / 2.0 - 0.5);
        }
        fprintf(f, "\n\n");
    }
    for (int s = 0; s < NPLOT; s++) {
        const cim_stats *t = &res[s].totals;
        uint64_t total = 0;
        int top = 0;
        for (int b = 0; b < CIM_HIST_BITS; b++) {
            total += t->hist.bits[b];
            if (t->hist.bits[b])
                top = b;
        }
        fprintf(f, "# %s\n", setups[s].label);
        for (int b = 0; b <= top; b++) {
            if (t->hist.bits[b])
                fprintf(f, "%d\t%.6e\n", b, (double)t->hist.bits[b] / (double)total);
            else
                fprintf(f, "%d\tNaN\n", b);
        }
        fprintf(f, "\n\n");
    }
}

static void write_gp(FILE *f, const exp_env *e, const cim_eval_result *res)
{
    char title[512];
    snprintf(title, sizeof title, "Column sums, %s on %s (%llu samples)", e->model_name, e->o.dataset,
             (unsigned long long)res[0].samples);
    plot_begin(f, "colsum", title, 1200, 520);
    fprintf(f, "  set multiplot layout 1,2 title ");
    plot_str(f, title);
    fprintf(f, "\n  set logscale y\n  set format y \"10^{%%L}\"\n  set grid\n  set key top left font \",9\"\n");
    fprintf(f, "  set style line 1 lw 2 lc rgb \"#555555\"\n  set style line 2 lw 2 lc rgb \"#1f77b4\"\n"
               "  set style line 3 lw 2 lc rgb \"#2ca02c\"\n  set style line 4 lw 2 lc rgb \"#d62728\"\n"
               "  set style line 5 lw 2 lc rgb \"#9467bd\"\n");
    /* left: values, the signed 7-bit range [-64, 63] shaded */
    fprintf(f, "  set title \"Distribution of column sums (noise-free S at the ADC)\"\n");
    fprintf(f, "  set xlabel \"column sum S (bins of %d)\"\n  set ylabel \"fraction of conversions per unit S\"\n",
            VBIN);
    fprintf(f, "  set xrange [%d:%d]\n", VLO, VHI);
    fprintf(f, "  set object 1 rect from -64.5, graph 0 to 63.5, graph 1 fc rgb \"#e8e8e8\" fs solid noborder "
               "behind\n");
    fprintf(f, "  set label 1 \"7-bit ADC\\n[-64, 63]\" at 0, graph 0.06 center font \",9\"\n");
    fprintf(f, "  plot ");
    for (int s = 0; s < NPLOT; s++) {
        char key[256];
        snprintf(key, sizeof key, "%s (%.1f%% outside)", setups[s].label,
                 100.0 * (1.0 - exp_le_bits(&res[s].totals, 7)));
        fprintf(f, "%s\"colsum.dat\" index %d using 1:2 with lines ls %d title ", s ? ", \\\n       " : "", s, s + 1);
        plot_str(f, key);
    }
    fprintf(f, "\n  unset object 1\n  unset label 1\n");
    /* right: resolution */
    fprintf(f, "  set title \"Column-sum resolution\"\n  set key bottom left font \",9\"\n");
    fprintf(f, "  set xlabel \"bits needed (signed)\"\n  set ylabel \"fraction of conversions\"\n");
    fprintf(f, "  set xrange [-0.5:*]\n  set xtics 1\n");
    fprintf(f, "  set arrow 1 from 7.5, graph 0 to 7.5, graph 1 nohead dt 2 lw 2 lc rgb \"black\"\n");
    fprintf(f, "  set label 2 \"7-bit ADC\" at 7.7, graph 0.95 left font \",9\"\n");
    fprintf(f, "  plot ");
    for (int s = 0; s < NPLOT; s++) {
        char key[256];
        snprintf(key, sizeof key, "%s (%.1f%% <= 7b)", setups[s].label, 100.0 * exp_le_bits(&res[s].totals, 7));
        fprintf(f, "%s\"colsum.dat\" index %d using 1:2 with linespoints ls %d pt 7 ps 0.6 title ",
                s ? ", \\\n       " : "", NPLOT + s, s + 1);
        plot_str(f, key);
    }
    fprintf(f, "\n");
    plot_end(f);
}

int exp_colsum(exp_env *e)
{
    int rc = 1, n = 0;
    cim_arch *arch = calloc(NSETUPS + 1, sizeof *arch);
    cim_eval_result *res = calloc(NSETUPS, sizeof *res);
    cim_plan *plan = NULL;
    json_t *root = NULL;
    if (!arch || !res) {
        cli_error(e->cmd, "out of memory");
        goto done;
    }
    /* every setup loads before anything runs: a bad file fails at once */
    for (int s = 0; s < NSETUPS; s++)
        if (exp_arch(e, setups[s].arch, -1, -1, &arch[s])) {
            rc = 2;
            goto done;
        }
    if (exp_arch(e, "raella", -1, -1, &arch[NSETUPS])) /* what the compiler slices for */
        goto done;
    if (exp_compile(e, &arch[NSETUPS], "compile raella (Adaptive Weight Slicing)", &plan))
        goto done;
    for (n = 0; n < NSETUPS; n++) {
        if (exp_eval(e, &arch[n], setups[n].plan ? plan : NULL, 1, setups[n].label, &res[n]))
            goto done;
    }

    char common[96];
    double mean_slices;
    exp_plan_summary(plan, common, sizeof common, &mean_slices);
    printf("\nColumn sums (thesis Fig. 3-1), %s on %s, %llu samples; Adaptive Weight Slicing chose %s,\n"
           "mean %.2f slices per searched layer (budget %g, %ld calibration samples)\n\n",
           e->model_name, e->o.dataset, (unsigned long long)res[0].samples, common, mean_slices, e->o.budget,
           e->o.calib);
    printf("%-31s %-14s %-10s %9s %8s %9s %9s %9s %9s\n", "setup", "input slices", "weights", "conv/MAC", "<=7b",
           "sat flag", "accepted", "spec ok", "top-1 drop");
    FILE *csv = exp_create(e, "colsum.csv");
    if (!csv)
        goto done;
    fprintf(csv, "setup,label,arch,input_slices,weight_slices,converts_per_mac,column_sums_le_7b,saturation_rate,"
                 "accepted_saturation_rate,true_clip_rate,speculation_success_rate,reference_top1,analog_top1,"
                 "accuracy_drop_points,histogram_below,histogram_above\n");
    root = exp_header_json(e);
    json_object_set_new(root, "plan", exp_plan_json(plan));
    json_t *arr = json_array();
    json_object_set_new(root, "setups", arr);
    for (int s = 0; s < NSETUPS; s++) {
        const cim_stats *t = &res[s].totals;
        char in[64], ws[96], path[EXP_PATH_MAX];
        input_str(&arch[s].base, in, sizeof in);
        if (setups[s].plan)
            snprintf(ws, sizeof ws, "AWS");
        else
            exp_slices_str(arch[s].base.weight_slices, arch[s].base.n_weight_slices, ws, sizeof ws);
        double ss = exp_spec_success(t, exp_has_speculation(&res[s]));
        char sss[16];
        if (ss < 0)
            snprintf(sss, sizeof sss, "-");
        else
            snprintf(sss, sizeof sss, "%.2f%%", 100 * ss);
        printf("%-31s %-14s %-10s %9.4f %7.2f%% %8.3f%% %8.3f%% %9s %9.2f\n", setups[s].label, in, ws,
               cim_stats_converts_per_mac(t), 100 * exp_le_bits(t, 7), 100 * exp_sat_rate(t),
               100 * exp_accepted_sat_rate(t), sss, exp_drop(&res[s]));
        exp_arch_path(e, setups[s].arch, path, sizeof path);
        fprintf(csv, "%s,", setups[s].key);
        exp_csv_str(csv, setups[s].label);
        fputc(',', csv);
        exp_csv_str(csv, path);
        fputc(',', csv);
        exp_csv_str(csv, in);
        fputc(',', csv);
        exp_csv_str(csv, setups[s].plan ? common : ws);
        fprintf(csv, ",%.6g,%.6g,%.6g,%.6g,%.6g,", cim_stats_converts_per_mac(t), exp_le_bits(t, 7),
                exp_sat_rate(t), exp_accepted_sat_rate(t), exp_rate(t->true_clips, t->adc_converts));
        if (ss >= 0)
            fprintf(csv, "%.6g", ss);
        fprintf(csv, ",%.6g,%.6g,%.6g,%llu,%llu\n", exp_ref_top1(&res[s]), exp_analog_top1(&res[s]),
                exp_drop(&res[s]), (unsigned long long)t->hist.below, (unsigned long long)t->hist.above);
        json_t *o = exp_result_json(&res[s], 1, 1);
        json_object_set_new(o, "setup", json_string(setups[s].key));
        json_object_set_new(o, "label", json_string(setups[s].label));
        json_object_set_new(o, "arch_file", json_string(path));
        json_object_set_new(o, "source", json_string(setups[s].source));
        json_object_set_new(o, "adaptive_slicing", json_boolean(setups[s].plan));
        json_object_set_new(o, "in_plot", json_boolean(s < NPLOT));
        json_array_append_new(arr, o);
    }
    printf("\n<=7b: column sums needing at most 7 bits signed (the ADC's range); sat flag: conversions whose\n"
           "code hit -64 or 63; accepted: saturated codes that entered a result (speculation: those of\n"
           "recovery); spec ok: speculative conversions that did not need recovery.\n");
    FILE *dat, *gp;
    if (exp_write_json(e, "colsum.json", root) || !(dat = exp_create(e, "colsum.dat")))
        goto done;
    write_dat(dat, res);
    if (!(gp = exp_create(e, "colsum.gp")))
        goto done;
    write_gp(gp, e, res);
    if (exp_commit(e))
        goto done;
    printf("wrote %s/colsum.{json,csv,dat,gp}\n", e->out_dir);
    rc = 0;
    if (e->o.plot) {
        int p = plot_run(e->cmd, e->out_dir, "colsum");
        if (p == 0)
            printf("plotted %s/colsum.{svg,png}\n", e->out_dir);
        rc = p == 1 ? 1 : 0;
    }
done:
    json_decref(root);
    for (int s = 0; s < n; s++)
        cim_eval_result_free(e->ctx, &res[s]);
    if (plan)
        cim_plan_free(e->ctx, plan);
    free(arch);
    free(res);
    return rc;
}
