/* exp_analog.c: `cimsim experiment analog-vs-digital` (issue 6 section 3,
 * seed 000: is analog compute-in-memory worth its noise?).
 *
 * The knob a designer turns is the integrator capacitor C. With the
 * integrator's full-scale swing V fixed, the ADC's full scale (2^bits ADC
 * steps of 2^drop_lsbs level units) must hold C V of charge, so one level
 * unit is q_LU = C V / S_fs: a larger C needs more signal charge per level,
 * bought with more device conductance (here: G_on and G_off scaled together,
 * the same as a longer pulse for energy and noise). Per conversion:
 *   kT/C noise         sqrt(k T C) / q_LU = S_fs sqrt(kT / (C V^2)) LU
 *   device thermal     var = 2 k T G t per device and pulse -> gaussian_colsum
 *                      with E = sqrt(2 k T / (v_read q_LU)) (G_off part left out)
 *   ADC thermal noise  AV_ADC_NOISE_FRACTION x the kT/C sigma (the ENOB rule)
 *   integrator energy  C V^2
 *   ADC energy         at ENOB = bits - 0.5 log2(1 + 12 (sigma_adc / step)^2),
 *                      under the survey envelope, Andrulis' best design at the
 *                      spec's rate and node, and a "typical" design
 *                      typical-gap-db below Andrulis
 *   crossbar energy    the spec's, x the conductance scale
 * and every other part is the arch's energy spec priced on the run's
 * counters. The network runs at every C with several seeds; digital-cim is
 * the exact reference with its own energy. docs/analog_vs_digital.md. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "exp_analog.h"
#include "plot.h"

#define AV_MAX_ARCHS 8
#define AV_MAX_ROWS 8
#define AV_MAX_CAPS 40
#define AV_MODELS 3

static const char *const model_key[AV_MODELS] = {"envelope", "andrulis", "typical"};
static const char *const model_label[AV_MODELS] = {"survey envelope (best designs, rate-free)",
                                                   "Andrulis best design at 1.28 GS/s",
                                                   "typical design (Andrulis - gap)"};
static const double targets[] = {0.5, 1.0, 2.0};
#define NTARGETS ((int)(sizeof targets / sizeof targets[0]))

typedef struct av_params {
    int n_archs, n_rows, n_caps;
    char archs[AV_MAX_ARCHS][EXP_PATH_MAX];
    int rows[AV_MAX_ROWS];
    double caps[AV_MAX_CAPS]; /* fF, increasing */
    double swing_v, gap_db;
    int thermal;
} av_params;

/* One design: what C and the swing make of a config's ADC. */
typedef struct av_design {
    double s_fs;      /* ADC full scale, LU */
    double step;      /* ADC step, LU */
    double q_lu;      /* C, one level unit */
    double q_lu0;     /* the preset's level unit */
    double g_scale;   /* q_lu / q_lu0 */
    double sigma_ktc; /* LU */
    double sigma_adc; /* LU */
    double enob;
    double e_thermal; /* gaussian_colsum level of the device thermal noise */
} av_design;

typedef struct av_point {
    double top1[EXP_MAX_SEEDS];
    double mean, sd, min, max;
    double e[AV_MODELS];          /* pJ per inference, seed mean */
    double e_adc[AV_MODELS], e_int, e_xbar, e_rest, converts;
    av_design d;                  /* of the base config */
} av_point;

/* ---- options ---- */

static int parse_list(const char *cmd, const char *opt, const char *s, double lo, double hi, int max, double *v,
                      int *n)
{
    *n = 0;
    const char *p = s;
    for (;;) {
        char *end;
        double x = strtod(p, &end);
        if (end == p || (*end && *end != ',') || !(x >= lo && x <= hi)) {
            cli_error(cmd, "%s: '%s' is not a comma-separated list of numbers in %g..%g", opt, s, lo, hi);
            return 2;
        }
        if (*n == max) {
            cli_error(cmd, "%s: at most %d values", opt, max);
            return 2;
        }
        for (int i = 0; i < *n; i++)
            if (v[i] == x) {
                cli_error(cmd, "%s: %g appears twice", opt, x);
                return 2;
            }
        v[(*n)++] = x;
        if (!*end)
            return 0;
        p = end + 1;
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int parse_params(exp_env *e, av_params *p)
{
    const exp_opts *o = &e->o;
    memset(p, 0, sizeof *p);
    const char *archs = o->av_archs ? o->av_archs : "raella,isaac";
    const char *s = archs;
    while (*s) {
        size_t n = strcspn(s, ",");
        if (n == 0 || n >= EXP_PATH_MAX || p->n_archs == AV_MAX_ARCHS) {
            cli_error(e->cmd, "--archs: '%s' is not a list of at most %d archs", archs, AV_MAX_ARCHS);
            return 2;
        }
        memcpy(p->archs[p->n_archs], s, n);
        p->archs[p->n_archs++][n] = 0;
        s += n;
        if (*s == ',' && !*++s) {
            cli_error(e->cmd, "--archs: '%s' ends with a comma", archs);
            return 2;
        }
    }
    double v[AV_MAX_CAPS];
    int n;
    if (parse_list(e->cmd, "--rows", o->av_rows ? o->av_rows : "128,256,512", 1, CIM_MAX_ROWS, AV_MAX_ROWS, v, &n))
        return 2;
    for (int i = 0; i < n; i++) {
        if (v[i] != floor(v[i])) {
            cli_error(e->cmd, "--rows: %g is not a whole number of rows", v[i]);
            return 2;
        }
        p->rows[i] = (int)v[i];
    }
    p->n_rows = n;
    if (o->av_caps) {
        if (parse_list(e->cmd, "--caps", o->av_caps, 1e-9, 1e9, AV_MAX_CAPS, p->caps, &p->n_caps))
            return 2;
        if (p->caps[0] <= 0) {
            cli_error(e->cmd, "--caps: capacitances must be > 0 fF");
            return 2;
        }
    } else { /* 1e-3 .. 1e2 fF, two per decade (broken to exact), then 1e3, 1e4 (the presets' own devices) */
        for (int i = 0; i <= 10; i++)
            p->caps[p->n_caps++] = pow(10.0, -3.0 + 0.5 * i);
        p->caps[p->n_caps++] = 1e3;
        p->caps[p->n_caps++] = 1e4;
    }
    qsort(p->caps, (size_t)p->n_caps, sizeof p->caps[0], cmp_double);
    if (parse_list(e->cmd, "--swing", o->av_swing ? o->av_swing : "0.9", 0.01, 10, 1, &p->swing_v, &n) ||
        parse_list(e->cmd, "--typical-gap-db", o->av_gap_db ? o->av_gap_db : "10", 0, 60, 1, &p->gap_db, &n))
        return 2;
    p->thermal = !o->av_no_thermal;
    return 0;
}

/* ---- physics ---- */

static int adc_design(const cim_xbar_config *cfg, double c_ff, double swing, av_design *d)
{
    const cim_analog_config *a = &cfg->analog;
    memset(d, 0, sizeof *d);
    if (cfg->adc.bits <= 0)
        return 1;
    double kT = AV_KB * a->temperature_k, C = c_ff * 1e-15;
    d->step = ldexp(1.0, cfg->adc.drop_lsbs);
    d->s_fs = ldexp(1.0, cfg->adc.bits) * d->step;
    d->q_lu0 = (a->g_on_us - a->g_off_us) * 1e-6 / (ldexp(1.0, cfg->cell_bits) - 1) * a->v_read * a->t_pulse_ns * 1e-9;
    if (!(d->q_lu0 > 0) || !(a->v_read > 0))
        return 1;
    d->q_lu = C * swing / d->s_fs;
    d->g_scale = d->q_lu / d->q_lu0;
    d->sigma_ktc = sqrt(kT * C) / d->q_lu;
    d->sigma_adc = AV_ADC_NOISE_FRACTION * d->sigma_ktc;
    double r = d->sigma_adc / d->step;
    d->enob = cfg->adc.bits - 0.5 * log2(1.0 + 12.0 * r * r);
    if (d->enob < 1.0)
        d->enob = 1.0;
    d->e_thermal = sqrt(2.0 * kT / (a->v_read * d->q_lu));
    return 0;
}

/* Apply a design to one config: rows, the scaled device, kT/C, ADC noise,
 * device thermal noise (gaussian_colsum) and the seed. */
static int apply(exp_env *e, const av_params *p, cim_xbar_config *cfg, const cim_analog_config *dev, int rows,
                 double c_ff, long long seed)
{
    if (cfg->analog.g_on_us != dev->g_on_us || cfg->analog.g_off_us != dev->g_off_us ||
        cfg->analog.v_read != dev->v_read || cfg->analog.t_pulse_ns != dev->t_pulse_ns) {
        cli_error(e->cmd, "an arch with per-layer devices is not supported (every layer must use the base's)");
        return 2;
    }
    av_design d;
    if (adc_design(cfg, c_ff, p->swing_v, &d)) {
        cli_error(e->cmd, "an analog arch needs an ADC and a device with g_on > g_off and v_read > 0");
        return 2;
    }
    cfg->rows = rows;
    cfg->analog.g_on_us *= d.g_scale;
    cfg->analog.g_off_us *= d.g_scale;
    cfg->analog.c_int_ff = c_ff;
    cfg->analog.adc_noise_lsb = d.sigma_adc / d.step;
    cfg->noise.model = p->thermal ? CIM_NOISE_GAUSSIAN_COLSUM : CIM_NOISE_NONE;
    cfg->noise.level = p->thermal ? d.e_thermal : 0.0;
    cfg->noise.seed = (uint64_t)seed;
    return 0;
}

static int make_arch(exp_env *e, const av_params *p, const char *spec, int rows, double c_ff, long long seed,
                     cim_arch *arch)
{
    if (exp_arch(e, spec, -1, -1, arch))
        return 2;
    cim_analog_config dev = arch->base.analog;
    if (c_ff <= 0) { /* noise-free, rows only (compile, IR) */
        arch->base.rows = rows;
        for (int o = 0; o < arch->n_overrides; o++)
            arch->over[o].cfg.rows = rows;
        return 0;
    }
    int rc = apply(e, p, &arch->base, &dev, rows, c_ff, seed);
    for (int o = 0; !rc && o < arch->n_overrides; o++)
        rc = apply(e, p, &arch->over[o].cfg, &dev, rows, c_ff, seed);
    return rc;
}

/* ADC pJ per conversion at enob under model m. */
static int adc_pj(exp_env *e, int m, double enob, double gap_db, double *pj)
{
    cim_status st;
    if (m == 0) {
        st = cim_adc_envelope(e->ctx, enob, pj);
    } else {
        cim_adc_estimate est;
        /* a converter has whole bits: ceil(ENOB) (Andrulis' FOM steps with ceil(B), so a
         * fractional B would make the energy a sawtooth in the noise) */
        st = cim_adc_andrulis(e->ctx, ceil(enob - 1e-9), AV_NODE_NM, AV_ADC_RATE_HZ, &est);
        *pj = est.energy_pj * (m == 2 ? pow(10.0, gap_db / 10.0) : 1.0);
    }
    if (st) {
        cli_fail(e->cmd, e->ctx, st);
        return 1;
    }
    return 0;
}

/* Energy per inference of a priced result at capacitor c_ff: every layer's
 * spec energy with its ADC replaced by the model's at the layer's ENOB, its
 * crossbar scaled by the conductance scale, and C V^2 per conversion. */
static int point_energy(exp_env *e, const av_params *p, const cim_eval_result *r, double c_ff, av_point *pt,
                        double w)
{
    double C = c_ff * 1e-15, eint = C * p->swing_v * p->swing_v * 1e12; /* pJ */
    double ns = r->samples ? (double)r->samples : 1.0;
    for (int i = 0; i < r->n_layers; i++) {
        const cim_eval_layer *L = &r->layers[i];
        const cim_energy *en = &L->energy;
        double conv = (double)L->stats.adc_converts / ns;
        double xbar = en->pj[CIM_ENERGY_CROSSBAR];
        pt->e_rest += w * (en->total_pj - en->pj[CIM_ENERGY_ADC] - xbar);
        pt->converts += w * conv;
        if (L->cfg.adc.bits <= 0) { /* read digitally: nothing analog to replace */
            for (int m = 0; m < AV_MODELS; m++)
                pt->e_adc[m] += w * en->pj[CIM_ENERGY_ADC];
            pt->e_xbar += w * xbar;
            continue;
        }
        /* the layer's cfg holds the scaled device: its design at the same C
         * gives the same q_lu, and the scale against the preset is the
         * base's (one device for every layer, checked by apply) */
        av_design d;
        adc_design(&L->cfg, c_ff, p->swing_v, &d);
        pt->e_xbar += w * xbar * pt->d.g_scale;
        pt->e_int += w * conv * eint;
        for (int m = 0; m < AV_MODELS; m++) {
            double pj;
            if (adc_pj(e, m, d.enob, p->gap_db, &pj))
                return 1;
            pt->e_adc[m] += w * conv * pj;
        }
    }
    for (int m = 0; m < AV_MODELS; m++)
        pt->e[m] = pt->e_rest + pt->e_xbar + pt->e_int + pt->e_adc[m];
    return 0;
}

static void spread_of(av_point *pt, int n)
{
    double s = 0, ss = 0;
    pt->min = pt->max = pt->top1[0];
    for (int i = 0; i < n; i++) {
        s += pt->top1[i];
        if (pt->top1[i] < pt->min)
            pt->min = pt->top1[i];
        if (pt->top1[i] > pt->max)
            pt->max = pt->top1[i];
    }
    pt->mean = s / n;
    for (int i = 0; i < n; i++)
        ss += (pt->top1[i] - pt->mean) * (pt->top1[i] - pt->mean);
    pt->sd = n > 1 ? sqrt(ss / (n - 1)) : 0.0;
}

/* ---- output ---- */

static void write_gp(FILE *f, const exp_env *e, const av_params *p, const char names[][CIM_LAYER_NAME_MAX],
                     uint64_t samples, int nseeds)
{
    char title[512];
    snprintf(title, sizeof title, "Analog vs digital CiM, %s on %s (%llu samples, %d seed%s)", e->model_name,
             e->o.dataset, (unsigned long long)samples, nseeds, nseeds == 1 ? "" : "s");
    plot_begin(f, "analog_vs_digital", title, 1500, 560);
    fprintf(f, "  set multiplot layout 1,%d title ", AV_MODELS);
    plot_str(f, title);
    fprintf(f, "\n  set logscale y\n  set grid\n  set key top left font \",8\"\n"
               "  set xlabel \"top-1 (%%): mean over seeds, bars one s.d.\"\n"
               "  set ylabel \"energy per inference (nJ)\"\n");
    static const char *colour[] = {"#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf",
                                   "#7f7f7f"};
    int nl = p->n_archs * p->n_rows, dig = AV_MODELS * nl;
    fprintf(f, "  # analog_vs_digital.dat: block (model x %d + arch x %d + rows): C fF, top-1 mean, s.d., nJ;\n"
               "  # block %d: digital-cim (top-1, 0, nJ)\n",
            nl, p->n_rows, dig);
    for (int m = 0; m < AV_MODELS; m++) {
        fprintf(f, "  set title \"ADC: %s\"\n  plot ", model_label[m]);
        for (int a = 0; a < p->n_archs; a++)
            for (int r = 0; r < p->n_rows; r++) {
                char t[600];
                snprintf(t, sizeof t, "%s, %d rows", names[a], p->rows[r]);
                fprintf(f, "\"analog_vs_digital.dat\" index %d using 2:4:3 with xerrorlines lw 1.5 pt %d dt %d "
                           "lc rgb \"%s\" title ",
                        m * nl + a * p->n_rows + r, 5 + 2 * r, 1 + r, colour[a % 8]);
                plot_str(f, t);
                fprintf(f, ", \\\n       ");
            }
        fprintf(f, "\"analog_vs_digital.dat\" index %d using 1:3 with points pt 13 ps 2.5 lc rgb \"black\" "
                   "title \"digital-cim (exact)\"\n",
                dig);
    }
    fprintf(f, "  unset multiplot\n");
    plot_end(f);
}

static json_t *design_json(const av_design *d)
{
    return json_pack("{s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f}", "adc_full_scale_lu", d->s_fs, "q_lu_fc",
                     d->q_lu * 1e15, "conductance_scale", d->g_scale, "sigma_ktc_lu", d->sigma_ktc,
                     "sigma_adc_lu", d->sigma_adc, "adc_enob", d->enob, "device_thermal_level", d->e_thermal,
                     "preset_q_lu_fc", d->q_lu0 * 1e15);
}

int exp_analog(exp_env *e)
{
    const exp_opts *o = &e->o;
    av_params P;
    int rc = parse_params(e, &P);
    if (rc)
        return rc;
    const int nA = P.n_archs, nR = P.n_rows, nC = P.n_caps, nS = (int)o->seeds;
    av_point *pts = calloc((size_t)nA * nR * nC, sizeof *pts);
    cim_arch *arch = calloc(1, sizeof *arch);
    cim_energy_spec *spec[AV_MAX_ARCHS] = {0}, *dspec = NULL;
    char names[AV_MAX_ARCHS][CIM_LAYER_NAME_MAX];
    double cpreset[AV_MAX_ARCHS];
    cim_xbar_config base0[AV_MAX_ARCHS]; /* the archs' base configs as loaded */
    cim_eval_result dres;
    memset(&dres, 0, sizeof dres);
    int have_dres = 0;
    json_t *root = NULL, *irj = NULL;
    cim_plan *plan = NULL;
    uint64_t samples = 0;
    rc = 1;
    if (!pts || !arch) {
        cli_error(e->cmd, "out of memory");
        goto done;
    }
#define PT(a, r, c) pts[((size_t)(a) * nR + (size_t)(r)) * nC + (size_t)(c)]
    /* every arch loads, is analog and has an energy spec before anything runs */
    for (int a = 0; a < nA; a++) {
        if (exp_arch(e, P.archs[a], -1, -1, arch)) {
            rc = 2;
            goto done;
        }
        snprintf(names[a], sizeof names[a], "%s", arch->name);
        base0[a] = arch->base;
        av_design d;
        if (adc_design(&arch->base, 1.0, P.swing_v, &d)) {
            cli_error(e->cmd, "--archs: %s has no ADC (or no device): not an analog arch", P.archs[a]);
            rc = 2;
            goto done;
        }
        cpreset[a] = d.q_lu0 * d.s_fs / P.swing_v * 1e15;
        const char *sn = cim_energy_spec_default(arch->name);
        if (!sn) {
            cli_error(e->cmd, "--archs: %s has no built-in energy spec (presets: isaac, raella, raella-nospec, "
                              "raella-static, zero-offset, timely-like, ibm-pcm-like)", P.archs[a]);
            rc = 2;
            goto done;
        }
        cim_status st = cim_energy_spec_load(e->ctx, sn, NULL, &spec[a]);
        if (st) {
            cli_fail(e->cmd, e->ctx, st);
            goto done;
        }
    }
    cim_status st = cim_energy_spec_load(e->ctx, "digital-cim", NULL, &dspec);
    if (st) {
        cli_fail(e->cmd, e->ctx, st);
        goto done;
    }

    av_probe probe;
    av_probe_engine(e, &probe);
    printf("engine: kT/C noise %s; ADC input noise %s; time-dependent IR drop %s\n",
           probe.ktc == 1 ? "applied" : "NOT applied (results exclude it)",
           probe.adc_noise == 1 ? "applied" : "NOT applied (results exclude it)",
           probe.ir_time == 1 ? "applied" : "not available");
    fflush(stdout);

    /* the digital reference */
    if (exp_arch(e, "digital-cim", -1, -1, arch) || exp_eval(e, arch, NULL, 0, "digital-cim", &dres))
        goto done;
    have_dres = 1;
    if ((st = cim_eval_energy(e->ctx, dspec, &dres))) {
        cli_fail(e->cmd, e->ctx, st);
        goto done;
    }
    samples = dres.samples;
    const double ref = exp_ref_top1(&dres), dtop = exp_analog_top1(&dres), dE = dres.energy.total_pj;
    printf("digital-cim: top-1 %.2f%% (reference %.2f%%), %.4g nJ per inference\n", dtop, ref, dE * 1e-3);

    for (int a = 0; a < nA; a++)
        for (int r = 0; r < nR; r++) {
            if (make_arch(e, &P, P.archs[a], P.rows[r], 0, 0, arch))
                goto done;
            if (plan)
                cim_plan_free(e->ctx, plan);
            plan = NULL;
            if (arch->adaptive_slicing) {
                char what[1400];
                snprintf(what, sizeof what, "compile %s, %d rows", names[a], P.rows[r]);
                if (exp_compile(e, arch, what, &plan))
                    goto done;
            }
            for (int c = 0; c < nC; c++) {
                av_point *pt = &PT(a, r, c);
                for (int k = 0; k < nS; k++) {
                    char what[1400];
                    cim_eval_result res;
                    memset(&res, 0, sizeof res);
                    snprintf(what, sizeof what, "%s %d rows C=%g fF seed %lld", names[a], P.rows[r], P.caps[c],
                             o->seed + k);
                    if ((rc = make_arch(e, &P, P.archs[a], P.rows[r], P.caps[c], o->seed + k, arch)) != 0 ||
                        (rc = exp_eval(e, arch, plan, 0, what, &res)) != 0)
                        goto done;
                    rc = 1;
                    if ((st = cim_eval_energy(e->ctx, spec[a], &res))) {
                        cli_fail(e->cmd, e->ctx, st);
                        cim_eval_result_free(e->ctx, &res);
                        goto done;
                    }
                    pt->top1[k] = exp_analog_top1(&res);
                    adc_design(&base0[a], P.caps[c], P.swing_v, &pt->d); /* against the preset's device */
                    int bad = point_energy(e, &P, &res, P.caps[c], pt, 1.0 / nS);
                    cim_eval_result_free(e->ctx, &res);
                    if (bad)
                        goto done;
                }
                spread_of(pt, nS);
                printf("%-10s %4d rows  C=%-8.3g fF  sigma_kTC %.3g LU  ENOB %.2f  top-1 %6.2f%% (sd %.2f)  "
                       "nJ/inf %.4g | %.4g | %.4g\n",
                       names[a], P.rows[r], P.caps[c], pt->d.sigma_ktc, pt->d.enob, pt->mean, pt->sd,
                       pt->e[0] * 1e-3, pt->e[1] * 1e-3, pt->e[2] * 1e-3);
                fflush(stdout);
            }
        }

    /* ---- crossover ---- */
    printf("\nAnalog vs digital-cim (%.4g nJ/inference, top-1 %.2f%%), %s on %s, %llu samples, %d seed%s\n",
           dE * 1e-3, dtop, e->model_name, o->dataset, (unsigned long long)samples, nS, nS == 1 ? "" : "s");
    printf("Cheapest C whose mean top-1 is within the target of digital; x dig = its energy / digital's\n\n");
    printf("%-7s %-10s %5s %-9s %10s %9s %11s %8s %s\n", "target", "arch", "rows", "ADC", "C fF", "top-1",
           "nJ/inf", "x dig", "analog pays?");
    root = exp_header_json(e);
    json_t *cross = json_array(), *points = json_array(), *parity = json_array();
    FILE *cc = exp_create(e, "analog_vs_digital_crossover.csv");
    if (!cc)
        goto done;
    fprintf(cc, "target_points,arch,rows,adc_model,c_int_ff,top1_mean,energy_pj_per_inference,energy_vs_digital,"
                "analog_pays\n");
    for (int t = 0; t < NTARGETS; t++)
        for (int a = 0; a < nA; a++)
            for (int r = 0; r < nR; r++)
                for (int m = 0; m < AV_MODELS; m++) {
                    int best = -1;
                    for (int c = 0; c < nC; c++)
                        if (PT(a, r, c).mean >= dtop - targets[t] &&
                            (best < 0 || PT(a, r, c).e[m] < PT(a, r, best).e[m]))
                            best = c;
                    json_t *j = json_pack("{s:f, s:s, s:i, s:s}", "target_points", targets[t], "arch", names[a],
                                          "rows", P.rows[r], "adc_model", model_key[m]);
                    fprintf(cc, "%g,", targets[t]);
                    exp_csv_str(cc, names[a]);
                    fprintf(cc, ",%d,%s,", P.rows[r], model_key[m]);
                    if (best < 0) {
                        printf("%-7g %-10s %5d %-9s %10s %9s %11s %8s %s\n", targets[t], names[a], P.rows[r],
                               model_key[m], "-", "-", "-", "-", "no: never within target");
                        fprintf(cc, ",,,,no\n");
                        json_object_set_new(j, "c_int_ff", json_null());
                        json_object_set_new(j, "analog_pays", json_false());
                    } else {
                        const av_point *b = &PT(a, r, best);
                        double x = b->e[m] / dE;
                        printf("%-7g %-10s %5d %-9s %10.3g %8.2f%% %11.4g %8.3f %s\n", targets[t], names[a],
                               P.rows[r], model_key[m], P.caps[best], b->mean, b->e[m] * 1e-3, x,
                               x < 1 ? "yes" : "no");
                        fprintf(cc, "%g,%.6g,%.6g,%.6g,%s\n", P.caps[best], b->mean, b->e[m], x, x < 1 ? "yes" : "no");
                        json_object_set_new(j, "c_int_ff", json_real(P.caps[best]));
                        json_object_set_new(j, "top1_mean", json_real(b->mean));
                        json_object_set_new(j, "energy_pj_per_inference", json_real(b->e[m]));
                        json_object_set_new(j, "energy_vs_digital", json_real(x));
                        json_object_set_new(j, "analog_pays", json_boolean(x < 1));
                    }
                    json_array_append_new(cross, j);
                }
    /* the best accuracy each analog config reaches at no more than digital's energy */
    printf("\nBest mean top-1 at energy <= digital-cim's (the crossover: a tighter target costs more than digital)\n");
    printf("%-10s %5s %-9s %10s %9s %12s\n", "arch", "rows", "ADC", "C fF", "top-1", "pts below dig");
    for (int a = 0; a < nA; a++)
        for (int r = 0; r < nR; r++)
            for (int m = 0; m < AV_MODELS; m++) {
                int best = -1;
                for (int c = 0; c < nC; c++)
                    if (PT(a, r, c).e[m] <= dE && (best < 0 || PT(a, r, c).mean > PT(a, r, best).mean))
                        best = c;
                json_t *j = json_pack("{s:s, s:i, s:s}", "arch", names[a], "rows", P.rows[r], "adc_model",
                                      model_key[m]);
                if (best < 0) {
                    printf("%-10s %5d %-9s %10s %9s %12s\n", names[a], P.rows[r], model_key[m], "-", "-",
                           "(all dearer)");
                    json_object_set_new(j, "c_int_ff", json_null());
                } else {
                    const av_point *b = &PT(a, r, best);
                    printf("%-10s %5d %-9s %10.3g %8.2f%% %12.2f\n", names[a], P.rows[r], model_key[m], P.caps[best],
                           b->mean, dtop - b->mean);
                    json_object_set_new(j, "c_int_ff", json_real(P.caps[best]));
                    json_object_set_new(j, "top1_mean", json_real(b->mean));
                    json_object_set_new(j, "points_below_digital", json_real(dtop - b->mean));
                }
                json_array_append_new(parity, j);
            }

    /* ---- files ---- */
    FILE *csv = exp_create(e, "analog_vs_digital.csv"), *dat = csv ? exp_create(e, "analog_vs_digital.dat") : NULL;
    if (!dat)
        goto done;
    fprintf(csv, "arch,rows,c_int_ff,swing_v,q_lu_fc,conductance_scale,sigma_ktc_lu,sigma_adc_lu,adc_enob,"
                 "device_thermal_level,seeds,top1_mean,top1_sd,top1_min,top1_max,converts_per_inference,"
                 "integrator_pj,crossbar_pj,rest_pj,adc_model,adc_pj,energy_pj_per_inference,energy_vs_digital,"
                 "analog_pj_per_convert\n");
    fprintf(csv, "digital-cim,128,,,,,,,,,1,%.6g,0,%.6g,%.6g,0,0,0,%.6g,none,0,%.6g,1,\n", dtop, dtop, dtop, dE, dE);
    fprintf(dat, "# analog_vs_digital (cimsim experiment analog-vs-digital): per ADC model, arch and rows:\n"
                 "# C fF, top-1 mean, top-1 s.d., nJ per inference\n");
    for (int m = 0; m < AV_MODELS; m++)
        for (int a = 0; a < nA; a++)
            for (int r = 0; r < nR; r++) {
                fprintf(dat, "# %s, %s, %d rows\n", model_key[m], names[a], P.rows[r]);
                for (int c = 0; c < nC; c++) {
                    const av_point *q = &PT(a, r, c);
                    fprintf(dat, "%.6g\t%.6g\t%.6g\t%.6g\n", P.caps[c], q->mean, q->sd, q->e[m] * 1e-3);
                    exp_csv_str(csv, names[a]);
                    fprintf(csv, ",%d,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%d,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,"
                                 "%.6g,%s,%.6g,%.6g,%.6g,%.6g\n",
                            P.rows[r], P.caps[c], P.swing_v, q->d.q_lu * 1e15, q->d.g_scale, q->d.sigma_ktc,
                            q->d.sigma_adc, q->d.enob, P.thermal ? q->d.e_thermal : 0.0, nS, q->mean, q->sd, q->min,
                            q->max, q->converts, q->e_int, q->e_xbar, q->e_rest, model_key[m], q->e_adc[m], q->e[m],
                            q->e[m] / dE, q->converts > 0 ? (q->e_adc[m] + q->e_int + q->e_xbar) / q->converts : 0.0);
                }
                fprintf(dat, "\n\n");
            }
    fprintf(dat, "# digital-cim: top-1, 0, nJ per inference\n%.6g\t0\t%.6g\n", dtop, dE * 1e-3);

    json_t *params = json_pack(
        "{s:f, s:f, s:f, s:f, s:f, s:b, s:f, s:f}", "swing_v", P.swing_v, "typical_gap_db", P.gap_db,
        "adc_noise_fraction", AV_ADC_NOISE_FRACTION, "node_nm", AV_NODE_NM, "adc_rate_hz", AV_ADC_RATE_HZ,
        "device_thermal", P.thermal, "temperature_k", arch->base.analog.temperature_k, "boltzmann", AV_KB);
    json_object_set_new(root, "parameters", params);
    json_object_set_new(root, "engine",
                        json_pack("{s:b, s:b, s:b, s:s, s:s, s:s}", "ktc_applied", probe.ktc == 1, "adc_noise_applied",
                                  probe.adc_noise == 1, "ir_time_applied", probe.ir_time == 1, "ktc_note",
                                  probe.ktc_msg, "adc_noise_note", probe.adc_msg, "ir_note", probe.ir_msg));
    json_object_set_new(root, "seeds", json_integer(nS));
    json_object_set_new(root, "first_seed", json_integer(o->seed));
    json_object_set_new(root, "samples", json_integer((json_int_t)samples));
    json_object_set_new(root, "reference_top1", json_real(ref));
    json_object_set_new(root, "digital",
                        json_pack("{s:s, s:f, s:f, s:s, s:f}", "arch", "digital-cim", "top1", dtop,
                                  "energy_pj_per_inference", dE, "energy_spec", "digital-cim", "digital_pj",
                                  dres.energy.pj[CIM_ENERGY_DIGITAL]));
    json_t *archs = json_array();
    for (int a = 0; a < nA; a++)
        json_array_append_new(archs, json_pack("{s:s, s:s, s:f}", "arch", names[a], "energy_spec",
                                               cim_energy_spec_name(spec[a]), "preset_c_int_ff", cpreset[a]));
    json_object_set_new(root, "archs", archs);
    for (int a = 0; a < nA; a++)
        for (int r = 0; r < nR; r++)
            for (int c = 0; c < nC; c++) {
                const av_point *q = &PT(a, r, c);
                json_t *tops = json_array(), *en = json_object(), *ad = json_object();
                for (int k = 0; k < nS; k++)
                    json_array_append_new(tops, json_real(q->top1[k]));
                for (int m = 0; m < AV_MODELS; m++) {
                    json_object_set_new(en, model_key[m], json_real(q->e[m]));
                    json_object_set_new(ad, model_key[m], json_real(q->e_adc[m]));
                }
                json_array_append_new(
                    points, json_pack("{s:s, s:i, s:f, s:o, s:o, s:f, s:f, s:f, s:f, s:o, s:o, s:f, s:f, s:f, s:f}",
                                      "arch", names[a], "rows", P.rows[r], "c_int_ff", P.caps[c], "design",
                                      design_json(&q->d), "top1", tops, "top1_mean", q->mean, "top1_sd", q->sd,
                                      "top1_min", q->min, "top1_max", q->max, "energy_pj_per_inference", en,
                                      "adc_pj", ad, "integrator_pj", q->e_int, "crossbar_pj", q->e_xbar, "rest_pj",
                                      q->e_rest, "converts_per_inference", q->converts));
            }
    json_object_set_new(root, "points", points);
    json_object_set_new(root, "crossover", cross);
    json_object_set_new(root, "best_at_digital_energy", parity);

    irj = av_irdrop(e, &probe, !o->av_no_irdrop);
    if (!irj)
        goto done;
    json_object_set_new(root, "irdrop", irj);
    FILE *gp;
    if (exp_write_json(e, "analog_vs_digital.json", root) || !(gp = exp_create(e, "analog_vs_digital.gp")))
        goto done;
    write_gp(gp, e, &P, (const char(*)[CIM_LAYER_NAME_MAX])names, samples, nS);
    if (exp_commit(e))
        goto done;
    printf("wrote %s/analog_vs_digital.{json,csv,dat,gp}, analog_vs_digital_{crossover,irdrop}.csv\n", e->out_dir);
    rc = 0;
    if (o->plot) {
        int pr = plot_run(e->cmd, e->out_dir, "analog_vs_digital");
        if (pr == 0)
            printf("plotted %s/analog_vs_digital.{svg,png}\n", e->out_dir);
        rc = pr == 1 ? 1 : 0;
    }
done:
    json_decref(root);
    if (have_dres)
        cim_eval_result_free(e->ctx, &dres);
    for (int a = 0; a < nA; a++)
        if (spec[a])
            cim_energy_spec_free(e->ctx, spec[a]);
    if (dspec)
        cim_energy_spec_free(e->ctx, dspec);
    if (plan)
        cim_plan_free(e->ctx, plan);
    free(arch);
    free(pts);
    return rc;
}
