/* exp_analog_ir.c: analog-vs-digital's engine probes and its IR-drop part:
 * the RAELLA thesis' claim (5.6, "Nonidealities") that Center+Offset lowers
 * column currents, and so IR drop, measured on a network: isaac (offset,
 * 1T1R), zero-offset (differential 2T2R) and raella (center_offset 2T2R).
 * docs/analog_vs_digital.md. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "exp_analog.h"

/* ---- probes ---- */

enum { PROBE_KTC, PROBE_ADC, PROBE_IR };

/* 1: the model moved the result; 0: it did not; -1: refused (msg). */
static int probe_one(exp_env *e, int which, char *msg, size_t size)
{
    enum { K = 300, N = 8, M = 16 };
    int8_t w[K * N];
    uint8_t x[M * K];
    int32_t p0[M * N], p1[M * N];
    uint64_t s = 0x9e3779b97f4a7c15ull; /* xorshift64: fixed test data */
    for (int i = 0; i < K * N; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        w[i] = (int8_t)(int)((s >> 24) % 61) - 30;
    }
    for (int i = 0; i < M * K; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        x[i] = (uint8_t)((s >> 24) % 40);
    }
    cim_xbar_config cfg;
    cim_status st = cim_config_preset(e->ctx, "raella", &cfg);
    cim_weights wt = {w, CIM_INT8, K, N, NULL};
    cim_layer *l0 = NULL, *l1 = NULL;
    int moved = -1;
    if (st)
        goto out;
    cfg.noise.seed = 1;
    st = cim_layer_program(e->ctx, &cfg, &wt, 0, NULL, &l0);
    if (!st)
        st = cim_layer_run(e->ctx, l0, x, M, p0, NULL, NULL);
    if (st)
        goto out;
    if (which == PROBE_KTC)
        cfg.analog.c_int_ff = 1e9; /* 1 uF: sqrt(kT C) = 64 fC, about 7 LU of RAELLA's device */
    else if (which == PROBE_ADC)
        cfg.analog.adc_noise_lsb = 3.0;
    else {
        cfg.analog.ir_drop = CIM_IR_TIME;
        cfg.analog.r_wire_ohm = 20.0; /* a wire bad enough to move codes */
    }
    st = cim_layer_program(e->ctx, &cfg, &wt, 0, NULL, &l1);
    if (!st)
        st = cim_layer_run(e->ctx, l1, x, M, p1, NULL, NULL);
    if (!st) {
        moved = memcmp(p0, p1, sizeof p0) != 0;
        snprintf(msg, size, "%s", moved ? "the probe layer's results moved" : "the probe layer's results did not move");
    }
out:
    if (st)
        snprintf(msg, size, "refused: %s", cim_ctx_errmsg(e->ctx));
    cim_layer_free(e->ctx, l0);
    cim_layer_free(e->ctx, l1);
    return moved;
}

void av_probe_engine(exp_env *e, av_probe *p)
{
    p->ktc = probe_one(e, PROBE_KTC, p->ktc_msg, sizeof p->ktc_msg);
    p->adc_noise = probe_one(e, PROBE_ADC, p->adc_msg, sizeof p->adc_msg);
    p->ir_time = probe_one(e, PROBE_IR, p->ir_msg, sizeof p->ir_msg);
}

/* ---- column currents ---- */

typedef struct ir_setup {
    const char *key, *arch, *encoding;
} ir_setup;

static const ir_setup setups[] = {
    {"isaac", "isaac", "offset (1T1R)"},
    {"zero-offset", "zero-offset", "differential (2T2R)"},
    {"raella", "raella", "center_offset (2T2R)"},
};
#define NSETUPS ((int)(sizeof setups / sizeof setups[0]))

typedef struct ir_rec {
    double mean_abs, p99_abs, max_abs; /* |S| per conversion, LU */
    double gross;                      /* (N+ + N-) per column and input cycle, LU */
    double leak;                       /* 1T1R: G_off charge per column and cycle, LU */
    double i_lu_ua;                    /* current of one level unit in one pulse, uA */
    double top1, top1_ir, err, err_ir; /* err: mean |y - y_ref| of the 8-bit outputs */
    int ir_done;
} ir_rec;

static void hist_abs(const cim_histogram *h, ir_rec *r)
{
    uint64_t n = h->below + h->above, acc = 0;
    double sum = 0;
    for (int i = 0; i < CIM_HIST_BINS; i++)
        n += h->bins[i];
    r->mean_abs = r->p99_abs = r->max_abs = 0;
    if (!n)
        return;
    /* |S| counts: bins folded; below/above counted at |S| = 4096 (a lower bound) */
    for (int v = 0; v <= CIM_HIST_MAX + 1; v++) {
        uint64_t c = 0;
        if (v <= CIM_HIST_MAX) {
            c += h->bins[v - CIM_HIST_MIN];
            if (v > 0 && -v >= CIM_HIST_MIN)
                c += h->bins[-v - CIM_HIST_MIN];
        } else {
            c = h->below + h->above;
        }
        if (!c)
            continue;
        sum += (double)c * v;
        if (acc < (uint64_t)ceil(0.99 * (double)n) && acc + c >= (uint64_t)ceil(0.99 * (double)n))
            r->p99_abs = v;
        acc += c;
        r->max_abs = v;
    }
    r->mean_abs = sum / (double)n;
}

static double mean_err(const cim_eval_result *r)
{
    double s = 0;
    uint64_t n = 0;
    for (int i = 0; i < r->n_layers; i++) {
        s += r->layers[i].abs_err_sum;
        n += r->layers[i].err_count;
    }
    return n ? s / (double)n : 0.0;
}

json_t *av_irdrop(exp_env *e, const av_probe *probe, int run_ir)
{
    ir_rec rec[NSETUPS];
    cim_arch *arch = calloc(1, sizeof *arch);
    json_t *out = NULL;
    memset(rec, 0, sizeof rec);
    if (!arch) {
        cli_error(e->cmd, "out of memory");
        return NULL;
    }
    int do_ir = run_ir && probe->ir_time == 1;
    for (int s = 0; s < NSETUPS; s++) {
        cim_eval_result res;
        char what[128];
        memset(&res, 0, sizeof res);
        if (exp_arch(e, setups[s].arch, -1, -1, arch))
            goto done;
        const cim_analog_config *a = &arch->base.analog;
        rec[s].i_lu_ua = (a->g_on_us - a->g_off_us) / (ldexp(1.0, arch->base.cell_bits) - 1) * a->v_read;
        snprintf(what, sizeof what, "column currents: %s", setups[s].key);
        if (exp_eval(e, arch, NULL, 1, what, &res))
            goto done;
        hist_abs(&res.totals.hist, &rec[s]);
        /* per column and input cycle (every used column of a crossbar runs
         * every cycle): device charge and driven pulses */
        double colcyc = 0, act = 0, pulses = 0;
        for (int i = 0; i < res.n_layers; i++) {
            const cim_eval_layer *L = &res.layers[i];
            double cols = L->info.crossbars ? (double)L->info.cols_used / (double)L->info.crossbars : 0;
            colcyc += (double)L->stats.crossbar_cycles * cols;
            act += (double)L->stats.device_activations;
            pulses += (double)L->stats.dac_pulses * cols;
        }
        rec[s].gross = colcyc > 0 ? act / colcyc : 0;
        /* 1T1R: every driven device passes G_off too (a 2T2R pair's cancel) */
        rec[s].leak = arch->base.encoding == CIM_ENC_OFFSET && colcyc > 0
                          ? a->g_off_us / ((a->g_on_us - a->g_off_us) / (ldexp(1.0, arch->base.cell_bits) - 1)) *
                                pulses / colcyc
                          : 0;
        rec[s].top1 = exp_analog_top1(&res);
        rec[s].err = mean_err(&res);
        cim_eval_result_free(e->ctx, &res);
        if (do_ir) {
            arch->base.analog.ir_drop = CIM_IR_TIME;
            for (int o = 0; o < arch->n_overrides; o++)
                arch->over[o].cfg.analog.ir_drop = CIM_IR_TIME;
            snprintf(what, sizeof what, "IR drop (time): %s", setups[s].key);
            if (exp_eval(e, arch, NULL, 0, what, &res))
                goto done;
            rec[s].top1_ir = exp_analog_top1(&res);
            rec[s].err_ir = mean_err(&res);
            rec[s].ir_done = 1;
            cim_eval_result_free(e->ctx, &res);
        }
    }
    printf("\nColumn currents by encoding (thesis 5.6: Center+Offset lowers column currents and IR drop), noise-free\n"
           "|S|: net column charge per conversion in level units (the column-sum histogram); leak: 1T1R only, the\n"
           "G_off charge of the driven devices per column and cycle (2T2R pairs cancel it), in level units;\n"
           "I = (|S| + leak) x one level's current in one pulse (exact for 1-bit input slices, an upper bound of\n"
           "the mean current for multi-pulse slices); gross: (N+ + N-) per column and cycle, the devices' charge\n\n");
    printf("%-12s %-22s %9s %8s %8s %8s %10s %10s %10s", "arch", "encoding", "mean |S|", "p99 |S|", "max |S|",
           "leak", "mean I uA", "p99 I uA", "gross LU");
    if (do_ir)
        printf(" %9s %9s %9s %9s", "top-1", "top-1 IR", "err", "err IR");
    printf("\n");
    FILE *f = exp_create(e, "analog_vs_digital_irdrop.csv");
    if (!f)
        goto done;
    fprintf(f, "arch,encoding,mean_abs_colsum_lu,p99_abs_colsum_lu,max_abs_colsum_lu,leak_lu,mean_current_ua,p99_current_ua,"
               "gross_lu_per_convert,top1,top1_ir_time,mean_output_error,mean_output_error_ir_time\n");
    out = json_array();
    for (int s = 0; s < NSETUPS; s++) {
        const ir_rec *r = &rec[s];
        double im = (r->mean_abs + r->leak) * r->i_lu_ua, ip = (r->p99_abs + r->leak) * r->i_lu_ua;
        printf("%-12s %-22s %9.2f %8.0f %8.0f %8.2f %10.1f %10.1f %10.2f", setups[s].key, setups[s].encoding,
               r->mean_abs, r->p99_abs, r->max_abs, r->leak, im, ip, r->gross);
        if (r->ir_done)
            printf(" %8.2f%% %8.2f%% %9.4f %9.4f", r->top1, r->top1_ir, r->err, r->err_ir);
        printf("\n");
        fprintf(f, "%s,%s,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,", setups[s].key, setups[s].encoding, r->mean_abs,
                r->p99_abs, r->max_abs, r->leak, im, ip, r->gross, r->top1);
        if (r->ir_done)
            fprintf(f, "%.6g,%.6g,%.6g\n", r->top1_ir, r->err, r->err_ir);
        else
            fprintf(f, ",%.6g,\n", r->err);
        json_t *j = json_pack("{s:s, s:s, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f}", "arch", setups[s].key,
                              "encoding", setups[s].encoding, "mean_abs_colsum_lu", r->mean_abs, "p99_abs_colsum_lu",
                              r->p99_abs, "max_abs_colsum_lu", r->max_abs, "leak_lu", r->leak, "level_current_ua",
                              r->i_lu_ua, "mean_current_ua", im, "p99_current_ua", ip,
                              "gross_lu_per_convert", r->gross, "top1", r->top1, "mean_output_error", r->err);
        if (r->ir_done) {
            json_object_set_new(j, "top1_ir_time", json_real(r->top1_ir));
            json_object_set_new(j, "mean_output_error_ir_time", json_real(r->err_ir));
        } else {
            json_object_set_new(j, "top1_ir_time", json_null());
            json_object_set_new(j, "mean_output_error_ir_time", json_null());
        }
        json_array_append_new(out, j);
    }
    if (!do_ir)
        printf("(IR drop runs: %s)\n", !run_ir ? "skipped (--no-irdrop)" : "this engine has no time-dependent IR drop yet");
done:
    free(arch);
    return out;
}
