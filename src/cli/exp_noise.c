/* exp_noise.c: `cimsim experiment noise`, thesis Fig. 7-2 (section 7.3):
 * top-1 accuracy drop against gaussian_colsum noise of level E for the four
 * ablation setups, several seeds per level. Adaptive Weight Slicing is
 * noise-aware: the compiler runs again for every level with that noise in
 * the arch (under the first seed; every seed with --compile-per-seed), and
 * both slicing setups use that plan. With E = 0 the noise is off and every
 * seed gives the same result, so it runs once. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "exp_common.h"
#include "plot.h"

static const exp_setup setups[] = {
    {"isaac", "ISAAC", "isaac", 0, "thesis 7.1"},
    {"center_offset", "+Center+Offset", "@ablation-center-offset", 0, "thesis 7.1"},
    {"adaptive_slicing", "+Adaptive Weight Slicing", "raella-nospec", 1, "thesis 7.1, 4.2"},
    {"raella", "+Dynamic Input Slicing (RAELLA)", "raella", 1, "thesis 7.1, 4.3"},
};
#define NSETUPS 4

typedef struct {
    double drop, top1, cpm, sat, spec; /* spec: speculation success, -1 without */
} run_rec;

typedef struct {
    double min, median, max, mean, sd;
} spread;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static spread spread_of(const run_rec *r, int n)
{
    double v[EXP_MAX_SEEDS], sum = 0, ss = 0;
    for (int i = 0; i < n; i++) {
        v[i] = r[i].drop;
        sum += v[i];
    }
    qsort(v, (size_t)n, sizeof v[0], cmp_double);
    spread s;
    s.min = v[0];
    s.max = v[n - 1];
    s.median = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
    s.mean = sum / n;
    for (int i = 0; i < n; i++)
        ss += (v[i] - s.mean) * (v[i] - s.mean);
    s.sd = n > 1 ? sqrt(ss / (n - 1)) : 0.0;
    return s;
}

static void write_gp(FILE *f, const exp_env *e, uint64_t samples, int nseeds)
{
    char title[512];
    snprintf(title, sizeof title, "Accuracy under analog noise, %s on %s (%llu samples, %d seed%s)", e->model_name,
             e->o.dataset, (unsigned long long)samples, nseeds, nseeds == 1 ? "" : "s");
    plot_begin(f, "noise", title, 960, 600);
    fprintf(f, "  set title ");
    plot_str(f, title);
    fprintf(f, "\n  set xlabel \"noise level E (gaussian\\\\_colsum: {/Symbol s} = E sqrt(N_+ + N_-))\"\n");
    fprintf(f, "  set ylabel \"top-1 accuracy drop (points): median, bars min..max over seeds\"\n");
    fprintf(f, "  set grid\n  set key top left\n  set xrange [*:*]\n  set offsets graph 0.03, graph 0.03, "
               "graph 0.05, graph 0.05\n");
    static const char *colour[NSETUPS] = {"#555555", "#1f77b4", "#2ca02c", "#d62728"};
    static const int pt[NSETUPS] = {5, 7, 9, 11};
    fprintf(f, "  # blocks: one per setup; columns E, median, min, max, mean, sd\n  plot ");
    for (int s = 0; s < NSETUPS; s++) {
        fprintf(f, "%s\"noise.dat\" index %d using 1:2:3:4 with yerrorlines lw 2 pt %d lc rgb \"%s\" title ",
                s ? ", \\\n       " : "", s, pt[s], colour[s]);
        plot_str(f, setups[s].label);
    }
    fprintf(f, "\n");
    plot_end(f);
}

int exp_noise(exp_env *e)
{
    const exp_opts *o = &e->o;
    int rc = 1, nl = o->n_levels, ns = (int)o->seeds;
    cim_arch *arch = calloc(NSETUPS + 1, sizeof *arch);
    run_rec *rec = calloc((size_t)NSETUPS * (size_t)nl * (size_t)ns, sizeof *rec);
    int *nruns = calloc((size_t)nl, sizeof *nruns);
    double *slices = calloc((size_t)nl, sizeof *slices);
    json_t *root = exp_header_json(e), *plans = json_array();
    uint64_t samples = 0;
    cim_plan *plan = NULL;
    if (!arch || !rec || !nruns || !slices || !root || !plans) {
        cli_error(e->cmd, "out of memory");
        goto done;
    }
#define REC(s, l, k) rec[((size_t)(s) * (size_t)nl + (size_t)(l)) * (size_t)ns + (size_t)(k)]
    for (int s = 0; s < NSETUPS; s++) /* every setup loads before anything runs */
        if (exp_arch(e, setups[s].arch, -1, -1, &arch[s])) {
            rc = 2;
            goto done;
        }
    for (int l = 0; l < nl; l++) {
        double E = o->levels[l];
        nruns[l] = E > 0 ? ns : 1;
        int ncompiled = 0;
        char common[96];
        for (int k = 0; k < nruns[l]; k++) {
            long long seed = o->seed + k;
            char what[160];
            for (int s = 0; s < NSETUPS; s++)
                if (exp_arch(e, setups[s].arch, E, seed, &arch[s]))
                    goto done;
            if (k == 0 || o->compile_per_seed) {
                if (plan)
                    cim_plan_free(e->ctx, plan);
                plan = NULL;
                snprintf(what, sizeof what, "E=%g seed %lld: compile raella", E, seed);
                if (exp_compile(e, &arch[3], what, &plan))
                    goto done;
                json_t *pj = exp_plan_json(plan);
                json_object_set_new(pj, "seed", json_integer(seed));
                json_array_append_new(plans, pj);
                double mean;
                exp_plan_summary(plan, common, sizeof common, &mean);
                slices[l] = (slices[l] * ncompiled + mean) / (ncompiled + 1);
                ncompiled++;
            }
            for (int s = 0; s < NSETUPS; s++) {
                cim_eval_result r;
                memset(&r, 0, sizeof r);
                snprintf(what, sizeof what, "E=%g seed %lld: %s", E, seed, setups[s].label);
                if (exp_eval(e, &arch[s], setups[s].plan ? plan : NULL, 0, what, &r))
                    goto done;
                run_rec *x = &REC(s, l, k);
                x->drop = exp_drop(&r);
                x->top1 = exp_analog_top1(&r);
                x->cpm = cim_stats_converts_per_mac(&r.totals);
                x->sat = exp_sat_rate(&r.totals);
                x->spec = exp_spec_success(&r.totals, exp_has_speculation(&r));
                samples = r.samples;
                if (l == 0 && k == 0 && s == 0)
                    json_object_set_new(root, "reference_top1", json_real(exp_ref_top1(&r)));
                cim_eval_result_free(e->ctx, &r);
            }
            if (E > 0 || k == 0) {
                printf("E=%-5g seed %-3lld drop:", E, seed);
                for (int s = 0; s < NSETUPS; s++)
                    printf(" %s %.2f%s", setups[s].key, REC(s, l, k).drop, s < NSETUPS - 1 ? "," : "");
                printf("; slicing %s\n", common);
                fflush(stdout);
            }
        }
    }

    printf("\nTop-1 accuracy drop (points) under gaussian_colsum noise (thesis Fig. 7-2), %s on %s,\n"
           "%llu samples, %d seed%s from %lld (E = 0: noise off, one run): median [min, max]\n\n",
           e->model_name, o->dataset, (unsigned long long)samples, ns, ns == 1 ? "" : "s", o->seed);
    printf("%-6s", "E");
    for (int s = 0; s < NSETUPS; s++)
        printf(" %-24.24s", setups[s].key);
    printf(" %s\n", "AWS slices");
    FILE *csv = exp_create(e, "noise.csv"), *dat = csv ? exp_create(e, "noise.dat") : NULL;
    if (!dat)
        goto done;
    fprintf(csv, "setup,label,level,seed,accuracy_drop_points,analog_top1,converts_per_mac,saturation_rate,"
                 "speculation_success_rate,adaptive_mean_slices\n");
    fprintf(dat, "# noise (cimsim experiment noise): one block per setup; columns E, median, min, max, mean, sd\n"
                 "# of the top-1 accuracy drop in points over the seeds\n");
    json_t *arr = json_array();
    json_object_set_new(root, "levels", json_array());
    for (int l = 0; l < nl; l++)
        json_array_append_new(json_object_get(root, "levels"), json_real(o->levels[l]));
    json_object_set_new(root, "seeds", json_pack("{s:I, s:i}", "first", (json_int_t)o->seed, "count", ns));
    json_object_set_new(root, "compile_per_seed", json_boolean(o->compile_per_seed));
    json_object_set_new(root, "setups", arr);
    for (int l = 0; l < nl; l++) {
        printf("%-6g", o->levels[l]);
        for (int s = 0; s < NSETUPS; s++) {
            spread sp = spread_of(&REC(s, l, 0), nruns[l]);
            char cell[64];
            if (nruns[l] > 1)
                snprintf(cell, sizeof cell, "%.2f [%.2f, %.2f]", sp.median, sp.min, sp.max);
            else
                snprintf(cell, sizeof cell, "%.2f", sp.median);
            printf(" %-24s", cell);
        }
        printf(" %.2f\n", slices[l]);
    }
    for (int s = 0; s < NSETUPS; s++) {
        json_t *pts = json_array();
        fprintf(dat, "# %s\n", setups[s].label);
        for (int l = 0; l < nl; l++) {
            spread sp = spread_of(&REC(s, l, 0), nruns[l]);
            fprintf(dat, "%g\t%.6g\t%.6g\t%.6g\t%.6g\t%.6g\n", o->levels[l], sp.median, sp.min, sp.max, sp.mean,
                    sp.sd);
            json_t *runs = json_array();
            for (int k = 0; k < nruns[l]; k++) {
                const run_rec *x = &REC(s, l, k);
                json_t *r = json_pack("{s:I, s:f, s:f, s:f, s:f}", "seed", (json_int_t)(o->seed + k),
                                      "accuracy_drop_points", x->drop, "analog_top1", x->top1, "converts_per_mac",
                                      x->cpm, "saturation_rate", x->sat);
                json_object_set_new(r, "speculation_success_rate", x->spec < 0 ? json_null() : json_real(x->spec));
                json_array_append_new(runs, r);
                fprintf(csv, "%s,", setups[s].key);
                exp_csv_str(csv, setups[s].label);
                fprintf(csv, ",%g,%lld,%.6g,%.6g,%.6g,%.6g,", o->levels[l], o->seed + k, x->drop, x->top1, x->cpm,
                        x->sat);
                if (x->spec >= 0)
                    fprintf(csv, "%.6g", x->spec);
                fputc(',', csv);
                if (setups[s].plan)
                    fprintf(csv, "%.6g", slices[l]);
                fputc('\n', csv);
            }
            json_array_append_new(pts, json_pack("{s:f, s:i, s:f, s:f, s:f, s:f, s:f, s:o}", "level", o->levels[l],
                                                 "runs", nruns[l], "median", sp.median, "min", sp.min, "max", sp.max,
                                                 "mean", sp.mean, "sd", sp.sd, "per_seed", runs));
        }
        fprintf(dat, "\n\n");
        char path[EXP_PATH_MAX];
        exp_arch_path(e, setups[s].arch, path, sizeof path);
        json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s, s:b, s:o}", "setup", setups[s].key, "label",
                                             setups[s].label, "arch_file", path, "source", setups[s].source,
                                             "adaptive_slicing", setups[s].plan, "points", pts));
    }
    printf("\nAWS slices: mean weight slices per searched layer of the plans compiled at that level.\n");
    json_object_set_new(root, "plans", plans);
    plans = NULL;
    FILE *gp;
    if (exp_write_json(e, "noise.json", root) || !(gp = exp_create(e, "noise.gp")))
        goto done;
    write_gp(gp, e, samples, ns);
    if (exp_commit(e))
        goto done;
    printf("wrote %s/noise.{json,csv,dat,gp}\n", e->out_dir);
    rc = 0;
    if (o->plot) {
        int p = plot_run(e->cmd, e->out_dir, "noise");
        if (p == 0)
            printf("plotted %s/noise.{svg,png}\n", e->out_dir);
        rc = p == 1 ? 1 : 0;
    }
done:
    if (plan)
        cim_plan_free(e->ctx, plan);
    json_decref(root);
    json_decref(plans);
    free(arch);
    free(rec);
    free(nruns);
    free(slices);
    return rc;
#undef REC
}
