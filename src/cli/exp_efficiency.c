/* exp_efficiency.c: `cimsim experiment efficiency`, thesis Fig. 6-1 (RAELLA
 * against ISAAC: energy efficiency and throughput per network, with and
 * without speculation) and Fig. 7-1 (energy per inference by component through
 * the ablation: ISAAC, +Center+Offset, +Adaptive Weight Slicing, +Dynamic
 * Input Slicing). The setups and the compile flow are exp_ablation.c's; every
 * run's counters are priced with its setup's energy spec (cimsim/energy.h)
 * and its layers mapped onto its setup's hardware (cimsim/hw.h) for the
 * throughput. +Center+Offset is RAELLA's crossbar with ISAAC's slicings, so it
 * is priced with the raella spec and mapped onto the raella hardware. */
#include <math.h>
#include <string.h>
#include "exp_common.h"
#include "plot.h"

typedef struct eff_setup {
    exp_setup s;
    const char *energy; /* energy spec (data/energy) */
    const char *hw;     /* hardware (data/hw) */
} eff_setup;

static const eff_setup setups[] = {
    {{"isaac", "ISAAC", "isaac", 0, "thesis 7.1: 128x128, offset, 2b weight and 1b input slices, 8b ADC"},
     "isaac", "isaac"},
    {{"center_offset", "+Center+Offset", "@ablation-center-offset", 0,
      "thesis 7.1: 512x512 2T2R Center+Offset, 7b ADC, ISAAC's slicings (priced as RAELLA's crossbar)"},
     "raella", "raella"},
    {{"adaptive_slicing", "+Adaptive Weight Slicing (RAELLA, no speculation)", "raella-nospec", 1,
      "thesis 7.1, 4.2 (Algorithm 1); Fig. 6-1 'RAELLA without speculation'"},
     "raella", "raella"},
    {{"raella", "+Dynamic Input Slicing (RAELLA)", "raella", 1, "thesis 7.1, 4.3; Fig. 6-1 'RAELLA'"}, "raella",
     "raella"},
};
#define NSETUPS ((int)(sizeof setups / sizeof setups[0]))

/* Parts shown in the chart (the others are summed into "other"). */
static const cim_energy_part shown[] = {CIM_ENERGY_ADC,       CIM_ENERGY_CROSSBAR, CIM_ENERGY_DAC,
                                        CIM_ENERGY_SAMPLE_HOLD, CIM_ENERGY_SHIFT_ADD, CIM_ENERGY_INPUT_SUM,
                                        CIM_ENERGY_BUFFER,    CIM_ENERGY_BUS};
#define NSHOWN ((int)(sizeof shown / sizeof shown[0]))

typedef struct eff_hw {
    int ok;                 /* the mapping succeeded */
    double inferences_per_s, tops, area_mm2;
    int chips, tiles_used;
    uint64_t crossbars_used;
    char error[256];
} eff_hw;

/* Map a result's layers (their K, N, groups, vectors per inference and
 * configs) onto the hardware `name`. */
static int map_result(exp_env *e, const cim_components *lib, const char *name, const cim_eval_result *r, eff_hw *out)
{
    cim_hw hw;
    cim_hw_cost cost;
    cim_hw_mapping m;
    memset(&m, 0, sizeof m);
    memset(out, 0, sizeof *out);
    cim_hw_layer *L = calloc(r->n_layers ? (size_t)r->n_layers : 1, sizeof *L);
    if (!L) {
        cli_error(e->cmd, "out of memory");
        return 1;
    }
    cim_status st = cim_hw_load(e->ctx, lib, name, &hw);
    if (!st)
        st = cim_hw_cost_compute(e->ctx, lib, &hw, &cost);
    for (int i = 0; !st && i < r->n_layers; i++) {
        const cim_eval_layer *y = &r->layers[i];
        uint64_t per = (uint64_t)y->K * (uint64_t)y->N * (uint64_t)(y->groups > 0 ? y->groups : 1) *
                       (r->samples ? r->samples : 1);
        L[i].name = y->name;
        L[i].K = y->K;
        L[i].N = y->N;
        L[i].groups = y->groups > 0 ? y->groups : 1;
        L[i].M = per ? (y->macs + per - 1) / per : 1;
        if (L[i].M < 1)
            L[i].M = 1;
        L[i].input_signed = -1;
        L[i].cfg = &y->cfg;
    }
    if (!st)
        st = cim_hw_map(e->ctx, &hw, &cost, L, r->n_layers, &m);
    if (st) {
        /* throughput is reported missing for this setup; energy stands */
        snprintf(out->error, sizeof out->error, "%s", cim_ctx_errmsg(e->ctx));
        fprintf(stderr, "cimsim %s: warning: no throughput for hardware %s: %s\n", e->cmd, name, out->error);
    } else {
        out->ok = 1;
        out->inferences_per_s = m.inferences_per_s;
        out->tops = m.tops;
        out->area_mm2 = m.area_mm2;
        out->chips = m.chips;
        out->tiles_used = m.tiles_used;
        out->crossbars_used = m.crossbars_used;
    }
    cim_hw_mapping_free(e->ctx, &m);
    free(L);
    return 0;
}

static double other_pj(const cim_energy *en)
{
    double o = en->total_pj;
    for (int k = 0; k < NSHOWN; k++)
        o -= en->pj[shown[k]];
    return o > 0 ? o : 0;
}

static void write_gp(FILE *f, const exp_env *e, uint64_t samples)
{
    char title[512];
    snprintf(title, sizeof title, "Energy and throughput, %s on %s (%llu samples)", e->model_name, e->o.dataset,
             (unsigned long long)samples);
    plot_begin(f, "efficiency", title, 1300, 600);
    fprintf(f, "  set multiplot layout 1,2 title ");
    plot_str(f, title);
    fprintf(f, "\n  set style data histograms\n  set style histogram rowstacked\n"
               "  set style fill solid 0.85 border -1\n  set boxwidth 0.7\n  set grid ytics\n"
               "  set key outside right top font \",9\"\n  set xtics rotate by -20 font \",9\"\n");
    fprintf(f, "  # efficiency.dat block 0: 1 index, 2 label, then nJ per inference by component:\n  #");
    for (int k = 0; k < NSHOWN; k++)
        fprintf(f, " %d %s,", k + 3, cim_energy_part_name(shown[k]));
    fprintf(f, " %d other\n", NSHOWN + 3);
    fprintf(f, "  set title \"Energy per inference by component (nJ; thesis Fig. 7-1)\"\n  set yrange [0:*]\n");
    static const char *const colour[NSHOWN + 1] = {"#d62728", "#1f77b4", "#aec7e8", "#9467bd", "#ff7f0e",
                                                   "#8c564b", "#2ca02c", "#7f7f7f", "#dddddd"};
    for (int k = 0; k <= NSHOWN; k++)
        fprintf(f, "%s%s index 0 using %d%s title \"%s\" noenhanced lc rgb \"%s\"%s",
                k ? "" : "  plot ", k ? "\"\"" : "\"efficiency.dat\"", k + 3, k ? "" : ":xtic(2)",
                k < NSHOWN ? cim_energy_part_name(shown[k]) : "other", colour[k], k < NSHOWN ? ", " : "\n");
    fprintf(f, "  # block 1: 1 index, 2 label, 3 efficiency ratio, 4 throughput ratio (NaN: missing)\n");
    fprintf(f, "  set style histogram clustered gap 1\n  set title \"Against ISAAC (thesis Fig. 6-1)\"\n"
               "  set key inside left top\n  set yrange [0:*]\n");
    fprintf(f, "  plot \"efficiency.dat\" index 1 using 3:xtic(2) title \"energy efficiency (x)\" lc rgb \"#2ca02c\", "
               "\"\" index 1 using 4 title \"throughput (x)\" lc rgb \"#1f77b4\"\n");
    plot_end(f);
}

static json_t *energy_json(const cim_energy *en)
{
    json_t *c = json_object();
    for (int k = 0; k < CIM_ENERGY_PARTS; k++)
        json_object_set_new(c, cim_energy_part_name((cim_energy_part)k), json_real(en->pj[k]));
    return c;
}

int exp_efficiency(exp_env *e)
{
    int rc = 1, n = 0;
    cim_arch *arch = calloc(NSETUPS, sizeof *arch);
    cim_eval_result *res = calloc(NSETUPS, sizeof *res);
    eff_hw hw[NSETUPS];
    cim_plan *plan = NULL;
    cim_components *lib = NULL;
    cim_energy_spec *spec[NSETUPS] = {0};
    json_t *root = NULL;
    if (!arch || !res) {
        cli_error(e->cmd, "out of memory");
        goto done;
    }
    for (int s = 0; s < NSETUPS; s++)
        if (exp_arch(e, setups[s].s.arch, -1, -1, &arch[s])) {
            rc = 2;
            goto done;
        }
    cim_status st = cim_components_load(e->ctx, NULL, &lib);
    for (int s = 0; !st && s < NSETUPS; s++)
        st = cim_energy_spec_load(e->ctx, setups[s].energy, NULL, &spec[s]);
    if (st) {
        cli_fail(e->cmd, e->ctx, st);
        goto done;
    }
    if (exp_compile(e, &arch[3], "compile raella (Adaptive Weight Slicing)", &plan))
        goto done;
    for (n = 0; n < NSETUPS; n++) {
        if (exp_eval(e, &arch[n], setups[n].s.plan ? plan : NULL, 0, setups[n].s.label, &res[n]))
            goto done;
        if ((st = cim_eval_energy(e->ctx, spec[n], &res[n]))) {
            n++;
            cli_fail(e->cmd, e->ctx, st);
            goto done;
        }
        if (map_result(e, lib, setups[n].hw, &res[n], &hw[n])) {
            n++;
            goto done;
        }
    }

    const double e0 = res[0].energy.total_pj;
    const double t0 = hw[0].ok ? hw[0].inferences_per_s : 0;
    printf("\nEnergy and throughput (thesis Fig. 6-1, 7-1), %s on %s, %llu samples\n\n", e->model_name, e->o.dataset,
           (unsigned long long)res[0].samples);
    printf("%-50s %11s %9s %9s %9s %9s %11s %8s %8s\n", "setup", "nJ/inf", "ADC %", "xbar %", "DAC %", "other %",
           "inf/s", "eff x", "thru x");
    FILE *csv = exp_create(e, "efficiency.csv"), *dat = csv ? exp_create(e, "efficiency.dat") : NULL;
    if (!dat)
        goto done;
    fprintf(csv, "setup,label,arch,energy_spec,hardware,energy_pj_per_inference");
    for (int k = 0; k < CIM_ENERGY_PARTS; k++)
        fprintf(csv, ",%s_pj", cim_energy_part_name((cim_energy_part)k));
    fprintf(csv, ",energy_per_convert_pj,converts_per_mac,macs_per_inference,utilization,tops_per_w,"
                 "inferences_per_s,tops,efficiency_vs_isaac,throughput_vs_isaac,analog_top1\n");
    fprintf(dat, "# efficiency (cimsim experiment efficiency)\n# block 0: index, label, nJ per inference:");
    for (int k = 0; k < NSHOWN; k++)
        fprintf(dat, " %s", cim_energy_part_name(shown[k]));
    fprintf(dat, " other\n");
    root = exp_header_json(e);
    json_object_set_new(root, "plan", exp_plan_json(plan));
    json_t *arr = json_array();
    json_object_set_new(root, "setups", arr);
    double eff[NSETUPS], thr[NSETUPS];
    for (int s = 0; s < NSETUPS; s++) {
        const cim_energy *en = &res[s].energy;
        const cim_titanium *ti = &en->titanium;
        eff[s] = en->total_pj > 0 ? e0 / en->total_pj : NAN;
        thr[s] = hw[s].ok && t0 > 0 ? hw[s].inferences_per_s / t0 : NAN;
        double tops_w = en->total_pj > 0 ? 2.0 * en->macs / en->total_pj : 0; /* ops/pJ = TOPS/W */
        double tot = en->total_pj > 0 ? en->total_pj : 1;
        char ips[32], thrs[16];
        if (hw[s].ok)
            snprintf(ips, sizeof ips, "%.4g", hw[s].inferences_per_s);
        else
            snprintf(ips, sizeof ips, "-");
        if (isnan(thr[s]))
            snprintf(thrs, sizeof thrs, "-");
        else
            snprintf(thrs, sizeof thrs, "%.2f", thr[s]);
        printf("%-50s %11.4g %8.1f%% %8.1f%% %8.1f%% %8.1f%% %11s %8.2f %8s\n", setups[s].s.label,
               en->total_pj * 1e-3, 100 * en->pj[CIM_ENERGY_ADC] / tot, 100 * en->pj[CIM_ENERGY_CROSSBAR] / tot,
               100 * en->pj[CIM_ENERGY_DAC] / tot,
               100 * (en->total_pj - en->pj[CIM_ENERGY_ADC] - en->pj[CIM_ENERGY_CROSSBAR] - en->pj[CIM_ENERGY_DAC]) /
                   tot,
               ips, eff[s], thrs);
        char path[EXP_PATH_MAX];
        exp_arch_path(e, setups[s].s.arch, path, sizeof path);
        fprintf(csv, "%s,", setups[s].s.key);
        exp_csv_str(csv, setups[s].s.label);
        fputc(',', csv);
        exp_csv_str(csv, path);
        fprintf(csv, ",%s,%s,%.6g", setups[s].energy, setups[s].hw, en->total_pj);
        for (int k = 0; k < CIM_ENERGY_PARTS; k++)
            fprintf(csv, ",%.6g", en->pj[k]);
        fprintf(csv, ",%.6g,%.6g,%.6g,%.6g,%.6g,", ti->energy_per_convert_pj, ti->converts_per_mac, ti->macs,
                ti->utilization, tops_w);
        if (hw[s].ok)
            fprintf(csv, "%.6g,%.6g", hw[s].inferences_per_s, hw[s].tops);
        else
            fputc(',', csv);
        fprintf(csv, ",%.6g,", eff[s]);
        if (!isnan(thr[s]))
            fprintf(csv, "%.6g", thr[s]);
        fprintf(csv, ",%.6g\n", exp_analog_top1(&res[s]));
        char lab[96];
        snprintf(lab, sizeof lab, "%s", setups[s].s.label);
        for (char *c = lab; *c; c++)
            if (*c == '"')
                *c = '\'';
        fprintf(dat, "%d\t\"%s\"", s, lab);
        for (int k = 0; k < NSHOWN; k++)
            fprintf(dat, "\t%.6g", en->pj[shown[k]] * 1e-3);
        fprintf(dat, "\t%.6g\n", other_pj(en) * 1e-3);

        json_t *o = exp_result_json(&res[s], 0, 0);
        json_object_set_new(o, "setup", json_string(setups[s].s.key));
        json_object_set_new(o, "label", json_string(setups[s].s.label));
        json_object_set_new(o, "arch_file", json_string(path));
        json_object_set_new(o, "source", json_string(setups[s].s.source));
        json_object_set_new(o, "adaptive_slicing", json_boolean(setups[s].s.plan));
        json_object_set_new(o, "energy_spec", json_string(setups[s].energy));
        json_object_set_new(o, "hardware", json_string(setups[s].hw));
        json_object_set_new(o, "energy_pj_per_inference", json_real(en->total_pj));
        json_object_set_new(o, "energy_by_component", energy_json(en));
        json_object_set_new(o, "titanium",
                            json_pack("{s:f, s:f, s:f, s:f}", "energy_per_convert_pj", ti->energy_per_convert_pj,
                                      "converts_per_mac", ti->converts_per_mac, "macs", ti->macs, "utilization",
                                      ti->utilization));
        json_object_set_new(o, "tops_per_w_compute", json_real(tops_w));
        if (hw[s].ok)
            json_object_set_new(o, "throughput",
                                json_pack("{s:f, s:f, s:f, s:i, s:i, s:I}", "inferences_per_s",
                                          hw[s].inferences_per_s, "tops", hw[s].tops, "area_mm2", hw[s].area_mm2,
                                          "chips", hw[s].chips, "tiles_used", hw[s].tiles_used, "crossbars_used",
                                          (json_int_t)hw[s].crossbars_used));
        else
            json_object_set_new(o, "throughput", json_pack("{s:n, s:s}", "inferences_per_s", "error", hw[s].error));
        json_object_set_new(o, "efficiency_vs_isaac", isnan(eff[s]) ? json_null() : json_real(eff[s]));
        json_object_set_new(o, "throughput_vs_isaac", isnan(thr[s]) ? json_null() : json_real(thr[s]));
        json_array_append_new(arr, o);
    }
    fprintf(dat, "\n\n# block 1: index, label, efficiency vs ISAAC, throughput vs ISAAC (NaN: missing)\n");
    for (int s = 2; s < NSETUPS; s++) {
        fprintf(dat, "%d\t\"%s\"\t%.6g\t", s - 2, s == 3 ? "RAELLA" : "RAELLA, no speculation", eff[s]);
        if (isnan(thr[s]))
            fprintf(dat, "NaN\n");
        else
            fprintf(dat, "%.6g\n", thr[s]);
    }
    json_t *fig = json_object();
    json_object_set_new(fig, "efficiency", isnan(eff[3]) ? json_null() : json_real(eff[3]));
    json_object_set_new(fig, "throughput", isnan(thr[3]) ? json_null() : json_real(thr[3]));
    json_object_set_new(fig, "efficiency_no_speculation", isnan(eff[2]) ? json_null() : json_real(eff[2]));
    json_object_set_new(fig, "throughput_no_speculation", isnan(thr[2]) ? json_null() : json_real(thr[2]));
    json_object_set_new(root, "raella_vs_isaac", fig);
    printf("\nnJ/inf: energy per inference priced from the run's counters (isaac spec for ISAAC, raella for the\n"
           "others: +Center+Offset is RAELLA's crossbar with ISAAC's slicings); inf/s: the pipelined mapping\n"
           "onto the isaac or raella chip (data/hw); eff x, thru x: against ISAAC.\n");
    FILE *gp;
    if (exp_write_json(e, "efficiency.json", root) || !(gp = exp_create(e, "efficiency.gp")))
        goto done;
    write_gp(gp, e, res[0].samples);
    if (exp_commit(e))
        goto done;
    printf("wrote %s/efficiency.{json,csv,dat,gp}\n", e->out_dir);
    rc = 0;
    if (e->o.plot) {
        int p = plot_run(e->cmd, e->out_dir, "efficiency");
        if (p == 0)
            printf("plotted %s/efficiency.{svg,png}\n", e->out_dir);
        rc = p == 1 ? 1 : 0;
    }
done:
    json_decref(root);
    for (int s = 0; s < n; s++)
        cim_eval_result_free(e->ctx, &res[s]);
    for (int s = 0; s < NSETUPS; s++)
        if (spec[s])
            cim_energy_spec_free(e->ctx, spec[s]);
    if (lib)
        cim_components_free(e->ctx, lib);
    if (plan)
        cim_plan_free(e->ctx, plan);
    free(arch);
    free(res);
    return rc;
}
