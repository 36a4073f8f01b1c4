/* cmd_compare.c: `cimsim compare`: several architecture configs on one layer,
 * counters and error side by side (the default main job). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "cli.h"

static const char usage[] =
    "usage: cimsim compare [--configs A,B,...] [--weights W.npy] [--inputs X.npy]\n"
    "                      [--json FILE] [--csv FILE] [--threads T] [--noise E] [--seed S]\n"
    "\n"
    "Runs one layer through each config and prints their counters and their error\n"
    "against the exact integer product side by side.\n"
    "\n"
    "  --configs LIST   comma-separated presets or YAML files (default: isaac,raella)\n"
    "  --weights W.npy  int8 [K, N] (default: data/layer512/W.npy)\n"
    "  --inputs X.npy   uint8 [M, K] (default: data/layer512/X.npy)\n"
    "  --json FILE      also write every metric as JSON ('-' = stdout)\n"
    "  --csv FILE       also write the table as CSV\n"
    "  --noise E        add gaussian_colsum noise of level E to every config\n"
    "  --seed S         noise seed (default: each config's own)\n"
    "  --threads T      worker threads (default: all cores)\n";

#define MAXCFG 16

typedef struct {
    char name[128];
    char summary[256];
    cim_stats *st;
    cim_layer_info info;
    double seconds, gmacs;
    double exact_frac, mean_abs_err, max_abs_err, rel_rms_err;
} result;

typedef struct {
    const char *label;
    const char *fmt; /* "u" integer, "f" fixed, "e" small fraction, "s" string */
} metric;

static const metric metrics[] = {
    {"config", "s"},
    {"crossbars", "u"},
    {"cells (weight slices)", "u"},
    {"devices", "u"},
    {"cell level sum", "u"},
    {"utilization", "f"},
    {"MACs", "u"},
    {"ADC converts", "u"},
    {"  speculative/static", "u"},
    {"  recovery", "u"},
    {"converts per MAC", "e"},
    {"speculation failures", "u"},
    {"  failure rate", "e"},
    {"saturations (flag)", "u"},
    {"  saturation rate", "e"},
    {"true clips", "u"},
    {"DAC pulses", "u"},
    {"device activations", "u"},
    {"crossbar cycles", "u"},
    {"psums exact", "e"},
    {"mean |psum error|", "f"},
    {"max |psum error|", "f"},
    {"relative RMS error", "e"},
    {"run time (s)", "f"},
    {"logical GMAC/s", "f"},
};
enum { NMETRIC = sizeof metrics / sizeof metrics[0] };

static double metric_value(const result *r, int m, const char **s)
{
    const cim_stats *st = r->st;
    *s = NULL;
    switch (m) {
    case 0: *s = r->name; return 0;
    case 1: return (double)r->info.crossbars;
    case 2: return (double)r->info.cells;
    case 3: return (double)r->info.devices;
    case 4: return (double)r->info.cell_level_sum;
    case 5: return r->info.utilization;
    case 6: return (double)st->macs;
    case 7: return (double)st->adc_converts;
    case 8: return (double)st->adc_converts_speculative;
    case 9: return (double)st->adc_converts_recovery;
    case 10: return cim_stats_converts_per_mac(st);
    case 11: return (double)st->speculation_failures;
    case 12: return st->adc_converts_speculative ? (double)st->speculation_failures / (double)st->adc_converts_speculative : 0;
    case 13: return (double)st->saturations;
    case 14: return st->adc_converts ? (double)st->saturations / (double)st->adc_converts : 0;
    case 15: return (double)st->true_clips;
    case 16: return (double)st->dac_pulses;
    case 17: return (double)st->device_activations;
    case 18: return (double)st->crossbar_cycles;
    case 19: return r->exact_frac;
    case 20: return r->mean_abs_err;
    case 21: return r->max_abs_err;
    case 22: return r->rel_rms_err;
    case 23: return r->seconds;
    case 24: return r->gmacs;
    }
    return 0;
}

static void format_metric(const result *r, int m, char *buf, size_t size)
{
    const char *s;
    double v = metric_value(r, m, &s);
    switch (metrics[m].fmt[0]) {
    case 's': {
        size_t l = s ? strlen(s) : 0;
        if (l >= size)
            l = size - 1;
        memcpy(buf, s ? s : "", l);
        buf[l] = '\0';
        break;
    }
    case 'u': snprintf(buf, size, "%.0f", v); break;
    case 'f': snprintf(buf, size, "%.4g", v); break;
    default: snprintf(buf, size, "%.4g", v); break;
    }
}

static void error_metrics(result *r, const int32_t *P, const int32_t *E, size_t n)
{
    size_t exact = 0;
    double sum = 0, maxe = 0, se = 0, sref = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)P[i] - (double)E[i];
        exact += d == 0;
        sum += fabs(d);
        if (fabs(d) > maxe)
            maxe = fabs(d);
        se += d * d;
        sref += (double)E[i] * (double)E[i];
    }
    r->exact_frac = n ? (double)exact / (double)n : 1;
    r->mean_abs_err = n ? sum / (double)n : 0;
    r->max_abs_err = maxe;
    r->rel_rms_err = sref > 0 ? sqrt(se / sref) : 0;
}

static int write_outputs(const char *json_path, const char *csv_path, result *res, int n)
{
    int rc = 0;
    if (csv_path) {
        FILE *f = fopen(csv_path, "w");
        if (!f) {
            cli_error("compare", "%s: cannot write", csv_path);
            return 1;
        }
        fprintf(f, "metric");
        for (int c = 0; c < n; c++)
            fprintf(f, ",%s", res[c].name);
        fputc('\n', f);
        for (int m = 1; m < NMETRIC; m++) {
            fprintf(f, "\"%s\"", metrics[m].label[0] == ' ' ? metrics[m].label + 2 : metrics[m].label);
            for (int c = 0; c < n; c++) {
                char buf[64];
                format_metric(&res[c], m, buf, sizeof buf);
                fprintf(f, ",%s", buf);
            }
            fputc('\n', f);
        }
        if (fclose(f) != 0) {
            cli_error("compare", "%s: write failed", csv_path);
            rc = 1;
        }
    }
    if (json_path) {
        json_t *arr = json_array();
        for (int c = 0; c < n && arr; c++) {
            const cim_stats *st = res[c].st;
            json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:f, s:f, s:f, s:f, s:f, s:f}",
                                  "config", res[c].name, "summary", res[c].summary,
                                  "crossbars", (json_int_t)res[c].info.crossbars, "cells", (json_int_t)res[c].info.cells,
                                  "devices", (json_int_t)res[c].info.devices,
                                  "cell_level_sum", (json_int_t)res[c].info.cell_level_sum, "macs", (json_int_t)st->macs,
                                  "adc_converts", (json_int_t)st->adc_converts,
                                  "adc_converts_speculative", (json_int_t)st->adc_converts_speculative,
                                  "converts_per_mac", cim_stats_converts_per_mac(st),
                                  "adc_converts_recovery", (json_int_t)st->adc_converts_recovery,
                                  "speculation_failures", (json_int_t)st->speculation_failures,
                                  "saturations", (json_int_t)st->saturations, "true_clips", (json_int_t)st->true_clips,
                                  "dac_pulses", (json_int_t)st->dac_pulses,
                                  "device_activations", (json_int_t)st->device_activations,
                                  "crossbar_cycles", (json_int_t)st->crossbar_cycles, "vectors", (json_int_t)st->vectors,
                                  "psums_exact_fraction", res[c].exact_frac, "mean_abs_psum_error", res[c].mean_abs_err,
                                  "max_abs_psum_error", res[c].max_abs_err, "relative_rms_error", res[c].rel_rms_err,
                                  "utilization", res[c].info.utilization, "run_seconds", res[c].seconds,
                                  "gmac_per_s", res[c].gmacs);
            if (!o || json_array_append_new(arr, o)) {
                json_decref(arr);
                arr = NULL;
            }
        }
        int bad = !arr;
        if (arr) {
            if (strcmp(json_path, "-") == 0)
                bad = json_dumpf(arr, stdout, JSON_INDENT(2)) != 0 || fputc('\n', stdout) == EOF;
            else
                bad = json_dump_file(arr, json_path, JSON_INDENT(2)) != 0;
        }
        json_decref(arr);
        if (bad) {
            cli_error("compare", "%s: cannot write JSON", json_path);
            rc = 1;
        }
    }
    return rc;
}

static void print_table(result *res, int n)
{
    int w0 = 24, wc[MAXCFG];
    for (int c = 0; c < n; c++) {
        wc[c] = 14;
        for (int m = 0; m < NMETRIC; m++) {
            char buf[64];
            format_metric(&res[c], m, buf, sizeof buf);
            if ((int)strlen(buf) + 2 > wc[c])
                wc[c] = (int)strlen(buf) + 2;
        }
    }
    for (int m = 0; m < NMETRIC; m++) {
        printf("%-*s", w0, metrics[m].label);
        for (int c = 0; c < n; c++) {
            char buf[64];
            format_metric(&res[c], m, buf, sizeof buf);
            printf("%*s", wc[c], buf);
        }
        putchar('\n');
        if (m == 0) {
            int tot = w0;
            for (int c = 0; c < n; c++)
                tot += wc[c];
            for (int i = 0; i < tot; i++)
                putchar('-');
            putchar('\n');
        }
    }
}

int cli_compare(int argc, char **argv)
{
    const char *configs = "isaac,raella", *wpath = "data/layer512/W.npy", *xpath = "data/layer512/X.npy",
               *json_path = NULL, *csv_path = NULL, *noise_s = NULL, *seed_s = NULL;
    long threads = 0;
    int err = 0;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if (cli_flag(argv, i, "--help") || cli_flag(argv, i, "-h")) {
            fputs(usage, stdout);
            return 0;
        } else if ((v = cli_opt(argc, argv, &i, "--configs", &err)))
            configs = v;
        else if ((v = cli_opt(argc, argv, &i, "--weights", &err)))
            wpath = v;
        else if ((v = cli_opt(argc, argv, &i, "--inputs", &err)))
            xpath = v;
        else if ((v = cli_opt(argc, argv, &i, "--json", &err)))
            json_path = v;
        else if ((v = cli_opt(argc, argv, &i, "--csv", &err)))
            csv_path = v;
        else if ((v = cli_opt(argc, argv, &i, "--noise", &err)))
            noise_s = v;
        else if ((v = cli_opt(argc, argv, &i, "--seed", &err)))
            seed_s = v;
        else if ((v = cli_opt(argc, argv, &i, "--threads", &err))) {
            if (cli_int(v, 0, 1024, "--threads", &threads))
                return 2;
        } else if (!err) {
            cli_error("compare", "unknown argument '%s' (see cimsim compare --help)", argv[i]);
            return 2;
        }
        if (err)
            return 2;
    }
    double noise;
    long long seed;
    if (cli_noise_args("compare", noise_s, seed_s, &noise, &seed))
        return 2;
    cim_ctx *ctx = cli_ctx("compare", (int)threads, 0);
    if (!ctx)
        return 1;
    int rc = 1, n = 0;
    cim_npy W = {0}, X = {0};
    result res[MAXCFG];
    memset(res, 0, sizeof res);
    int32_t *P = NULL, *E = NULL;
    if (cli_read_layer("compare", ctx, wpath, xpath, &W, &X))
        goto done;
    int K = (int)W.shape[0], N = (int)W.shape[1], M = (int)X.shape[0];
    P = malloc((size_t)(M ? M : 1) * (size_t)N * sizeof(int32_t));
    E = malloc((size_t)(M ? M : 1) * (size_t)N * sizeof(int32_t));
    if (!P || !E) {
        cli_error("compare", "out of memory");
        goto done;
    }
    printf("layer: %s [K=%d, N=%d] x %s [M=%d]; kernel %s, %d threads\n\n", wpath, K, N, xpath, M,
           cim_ctx_kernel_name(ctx), cim_ctx_threads(ctx));
    const char *p = configs;
    while (*p) {
        size_t len = strcspn(p, ",");
        if (n == MAXCFG || len == 0 || len >= sizeof res[n].name) {
            cli_error("compare", "--configs: bad list '%s' (at most %d names)", configs, MAXCFG);
            goto done;
        }
        memcpy(res[n].name, p, len);
        res[n].name[len] = 0;
        p += len + (p[len] == ',');
        cim_xbar_config cfg;
        cim_status st = cim_config_load(ctx, res[n].name, &cfg);
        if (st) {
            rc = cli_fail("compare", ctx, st);
            goto done;
        }
        cli_apply_noise(&cfg, noise, seed);
        cim_config_summary(&cfg, res[n].summary, sizeof res[n].summary);
        cim_weights w = {W.data, CIM_INT8, K, N, NULL};
        cim_layer *layer = NULL;
        res[n].st = malloc(sizeof(cim_stats));
        if (!res[n].st) {
            cli_error("compare", "out of memory");
            goto done;
        }
        n++;
        st = cim_layer_program(ctx, &cfg, &w, 0, NULL, &layer);
        if (st) {
            rc = cli_fail("compare", ctx, st);
            goto done;
        }
        double t0 = cli_now();
        st = cim_layer_run(ctx, layer, X.data, M, P, res[n - 1].st, NULL);
        double t1 = cli_now();
        if (!st)
            st = cim_layer_run_exact(ctx, layer, X.data, M, E);
        cim_layer_info_get(layer, &res[n - 1].info);
        cim_layer_free(ctx, layer);
        if (st) {
            rc = cli_fail("compare", ctx, st);
            goto done;
        }
        res[n - 1].seconds = t1 - t0;
        res[n - 1].gmacs = (double)M * K * N / (t1 - t0 > 0 ? t1 - t0 : 1e-9) / 1e9;
        error_metrics(&res[n - 1], P, E, (size_t)M * (size_t)N);
    }
    print_table(res, n);
    printf("\n");
    for (int c = 0; c < n; c++)
        printf("%-14s %s\n", res[c].name, res[c].summary);
    rc = write_outputs(json_path, csv_path, res, n);
done:
    for (int c = 0; c < n; c++)
        free(res[c].st);
    free(P);
    free(E);
    cim_npy_free(ctx, &W);
    cim_npy_free(ctx, &X);
    cim_ctx_destroy(ctx);
    return rc;
}
