/* exp_ablation.c: `cimsim experiment ablation`, thesis chapter 7 (7.1-7.2):
 * ISAAC, then +Center+Offset, +Adaptive Weight Slicing and +Dynamic Input
 * Slicing one after another, with conversions per MAC, saturation,
 * speculation success and accuracy; and thesis Table 6.1: Zero+Offset
 * (differential encoding, centers zero) against Center+Offset with the same
 * slicings (the compiled plan's; its centers apply to Center+Offset only). */
#include <string.h>
#include "exp_common.h"
#include "plot.h"

static const exp_setup setups[] = {
    {"isaac", "ISAAC", "isaac", 0, "thesis 7.1: 128x128, offset, 2b weight and 1b input slices, 8b ADC"},
    {"center_offset", "+Center+Offset", "@ablation-center-offset", 0,
     "thesis 7.1: 512x512 2T2R Center+Offset, 7b ADC, ISAAC's slicings"},
    {"adaptive_slicing", "+Adaptive Weight Slicing", "raella-nospec", 1, "thesis 7.1, 4.2 (Algorithm 1)"},
    {"raella", "+Dynamic Input Slicing (RAELLA)", "raella", 1, "thesis 7.1, 4.3"},
    {"zero_offset", "Zero+Offset, RAELLA's slicings", "zero-offset", 1, "thesis 6.5, Table 6.1"},
};
#define NSETUPS ((int)(sizeof setups / sizeof setups[0]))
#define NABL 4 /* the ablation proper; the last setup is Table 6.1's comparison */

static void write_gp(FILE *f, const exp_env *e, uint64_t samples, double dmin, double dmax)
{
    char title[512];
    snprintf(title, sizeof title, "Ablation, %s on %s (%llu samples)", e->model_name, e->o.dataset,
             (unsigned long long)samples);
    plot_begin(f, "ablation", title, 1200, 800);
    fprintf(f, "  set multiplot layout 2,2 title ");
    plot_str(f, title);
    fprintf(f, "\n  set style fill solid 0.8 border -1\n  set boxwidth 0.7\n  set grid ytics\n  unset key\n");
    fprintf(f, "  set xtics rotate by -20 font \",9\"\n  set xrange [-0.6:%d.6]\n", NSETUPS - 1);
    fprintf(f, "  # columns: 1 index, 2 label, 3 converts/MAC, 4 saturation %%, 5 accepted saturation %%,\n"
               "  #          6 speculation success %% (NaN: none), 7 accuracy drop (points), 8 colour\n");
    fprintf(f, "  set title \"ADC conversions per MAC\"\n  set yrange [0:*]\n");
    fprintf(f, "  plot \"ablation.dat\" using 1:3:8:xtic(2) with boxes lc rgb variable, \"\" using 1:3:(sprintf(\"%%.3f\", "
               "$3)) with labels offset 0,0.7 font \",9\"\n");
    fprintf(f, "  set title \"ADC saturation (%% of conversions; log scale)\"\n  set logscale y\n  set yrange [*:*]\n");
    fprintf(f, "  set key top right font \",9\"\n  set boxwidth 0.35\n");
    fprintf(f, "  plot \"ablation.dat\" using ($1-0.18):($4 > 0 ? $4 : NaN):xtic(2) with boxes lc rgb \"#d62728\" title "
               "\"saturation flags\", \"\" using ($1+0.18):($5 > 0 ? $5 : NaN) with boxes lc rgb \"#ff9896\" title "
               "\"accepted into results\"\n");
    fprintf(f, "  unset logscale y\n  unset key\n  set boxwidth 0.7\n");
    fprintf(f, "  set title \"Speculation success (%%)\"\n  set yrange [0:105]\n");
    fprintf(f, "  plot \"ablation.dat\" using 1:6:8:xtic(2) with boxes lc rgb variable, \"\" using 1:6:(sprintf(\"%%.1f\", "
               "$6)) with labels offset 0,0.7 font \",9\"\n");
    fprintf(f, "  set title \"Top-1 accuracy drop (points)\"\n  set yrange [%g:%g]\n",
            dmin < 0 ? 1.25 * dmin : 0.0, dmax > 0.4 ? 1.25 * dmax : 0.5);
    fprintf(f, "  plot \"ablation.dat\" using 1:7:8:xtic(2) with boxes lc rgb variable, \"\" using 1:7:(sprintf(\"%%.2f\", "
               "$7)) with labels offset 0,0.7 font \",9\"\n");
    plot_end(f);
}

int exp_ablation(exp_env *e)
{
    int rc = 1, n = 0;
    cim_arch *arch = calloc(NSETUPS, sizeof *arch);
    cim_eval_result *res = calloc(NSETUPS, sizeof *res);
    cim_plan *plan = NULL;
    json_t *root = NULL;
    if (!arch || !res) {
        cli_error(e->cmd, "out of memory");
        goto done;
    }
    for (int s = 0; s < NSETUPS; s++)
        if (exp_arch(e, setups[s].arch, -1, -1, &arch[s])) {
            rc = 2;
            goto done;
        }
    /* the plan for raella's crossbars (the compiler ignores input slicing and
     * speculation, so raella-nospec would choose the same) */
    if (exp_compile(e, &arch[3], "compile raella (Adaptive Weight Slicing)", &plan))
        goto done;
    for (n = 0; n < NSETUPS; n++)
        if (exp_eval(e, &arch[n], setups[n].plan ? plan : NULL, 0, setups[n].label, &res[n]))
            goto done;

    char common[96];
    double mean_slices;
    exp_plan_summary(plan, common, sizeof common, &mean_slices);
    printf("\nAblation (thesis ch. 7), %s on %s, %llu samples; Adaptive Weight Slicing chose %s,\n"
           "mean %.2f slices per searched layer (budget %g, %ld calibration samples)\n\n",
           e->model_name, e->o.dataset, (unsigned long long)res[0].samples, common, mean_slices, e->o.budget,
           e->o.calib);
    printf("%-31s %9s %9s %9s %9s %9s %9s %9s\n", "setup", "conv/MAC", "sat flag", "accepted", "spec ok",
           "ref top-1", "top-1", "drop");
    FILE *csv = exp_create(e, "ablation.csv"), *dat = csv ? exp_create(e, "ablation.dat") : NULL;
    if (!dat)
        goto done;
    fprintf(csv, "setup,label,arch,weight_slices,converts_per_mac,saturation_rate,accepted_saturation_rate,"
                 "true_clip_rate,speculation_success_rate,reference_top1,analog_top1,accuracy_drop_points,"
                 "agreement\n");
    fprintf(dat, "# ablation (cimsim experiment ablation): index, label, converts/MAC, saturation %%,\n"
                 "# accepted saturation %%, speculation success %% (NaN: none), top-1 drop (points), colour\n");
    static const unsigned colours[NSETUPS] = {0x555555, 0x1f77b4, 0x2ca02c, 0xd62728, 0xff7f0e};
    root = exp_header_json(e);
    json_object_set_new(root, "plan", exp_plan_json(plan));
    json_t *arr = json_array();
    json_object_set_new(root, "setups", arr);
    for (int s = 0; s < NSETUPS; s++) {
        const cim_stats *t = &res[s].totals;
        double ss = exp_spec_success(t, exp_has_speculation(&res[s]));
        char sss[16], ws[96], path[EXP_PATH_MAX];
        if (ss < 0)
            snprintf(sss, sizeof sss, "-");
        else
            snprintf(sss, sizeof sss, "%.2f%%", 100 * ss);
        if (s == NABL)
            printf("\nZero+Offset vs Center+Offset with the same slicings (thesis Table 6.1):\n");
        printf("%-31s %9.4f %8.3f%% %8.3f%% %9s %8.2f%% %8.2f%% %9.2f\n", setups[s].label,
               cim_stats_converts_per_mac(t), 100 * exp_sat_rate(t), 100 * exp_accepted_sat_rate(t), sss,
               exp_ref_top1(&res[s]), exp_analog_top1(&res[s]), exp_drop(&res[s]));
        if (s == NABL)
            printf("%-31s %9s %9s %9s %9s %9s %9s %9.2f\n", "Center+Offset (RAELLA, above)", "", "", "", "", "", "",
                   exp_drop(&res[3]));
        if (setups[s].plan)
            snprintf(ws, sizeof ws, "%s", common);
        else
            exp_slices_str(arch[s].base.weight_slices, arch[s].base.n_weight_slices, ws, sizeof ws);
        exp_arch_path(e, setups[s].arch, path, sizeof path);
        fprintf(csv, "%s,", setups[s].key);
        exp_csv_str(csv, setups[s].label);
        fputc(',', csv);
        exp_csv_str(csv, path);
        fputc(',', csv);
        exp_csv_str(csv, ws);
        fprintf(csv, ",%.6g,%.6g,%.6g,%.6g,", cim_stats_converts_per_mac(t), exp_sat_rate(t),
                exp_accepted_sat_rate(t), exp_rate(t->true_clips, t->adc_converts));
        if (ss >= 0)
            fprintf(csv, "%.6g", ss);
        fprintf(csv, ",%.6g,%.6g,%.6g,%.6g\n", exp_ref_top1(&res[s]), exp_analog_top1(&res[s]), exp_drop(&res[s]),
                100.0 * exp_rate(res[s].agree, res[s].samples));
        char lab[64];
        snprintf(lab, sizeof lab, "%s", setups[s].label);
        for (char *c = lab; *c; c++)
            if (*c == '"')
                *c = '\'';
        fprintf(dat, "%d\t\"%s\"\t%.6g\t%.6g\t%.6g\t", s, lab, cim_stats_converts_per_mac(t), 100 * exp_sat_rate(t),
                100 * exp_accepted_sat_rate(t));
        if (ss >= 0)
            fprintf(dat, "%.6g", 100 * ss);
        else
            fprintf(dat, "NaN");
        fprintf(dat, "\t%.6g\t%u\n", exp_drop(&res[s]), colours[s]);
        json_t *o = exp_result_json(&res[s], 1, 0);
        json_object_set_new(o, "setup", json_string(setups[s].key));
        json_object_set_new(o, "label", json_string(setups[s].label));
        json_object_set_new(o, "arch_file", json_string(path));
        json_object_set_new(o, "source", json_string(setups[s].source));
        json_object_set_new(o, "adaptive_slicing", json_boolean(setups[s].plan));
        json_array_append_new(arr, o);
    }
    printf("\nsat flag: conversions whose code hit an end of the ADC range; accepted: saturated codes that\n"
           "entered a result (with speculation, those of recovery); spec ok: speculative conversions\n"
           "that needed no recovery; drop: reference top-1 minus analog top-1, in points.\n");
    json_object_set_new(root, "table_6_1",
                        json_pack("{s:f, s:f}", "center_offset_drop_points", exp_drop(&res[3]),
                                  "zero_offset_drop_points", exp_drop(&res[NABL])));
    FILE *gp;
    if (exp_write_json(e, "ablation.json", root) || !(gp = exp_create(e, "ablation.gp")))
        goto done;
    double dmin = 0, dmax = 0;
    for (int s = 0; s < NSETUPS; s++) {
        dmin = exp_drop(&res[s]) < dmin ? exp_drop(&res[s]) : dmin;
        dmax = exp_drop(&res[s]) > dmax ? exp_drop(&res[s]) : dmax;
    }
    write_gp(gp, e, res[0].samples, dmin, dmax);
    if (exp_commit(e))
        goto done;
    printf("wrote %s/ablation.{json,csv,dat,gp}\n", e->out_dir);
    rc = 0;
    if (e->o.plot) {
        int p = plot_run(e->cmd, e->out_dir, "ablation");
        if (p == 0)
            printf("plotted %s/ablation.{svg,png}\n", e->out_dir);
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
