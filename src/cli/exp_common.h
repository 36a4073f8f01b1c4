/* exp_common.h: what the `cimsim experiment` commands share (the thesis'
 * experiments reproduced; docs/experiments.md): options, the environment of
 * one run (context, model, output folder), setups, evaluation and compile
 * helpers, result summaries as JSON, and all-or-nothing output files.
 * Only the public API (include/cimsim) is used. */
#ifndef CIMSIM_EXP_COMMON_H
#define CIMSIM_EXP_COMMON_H

#include <jansson.h>
#include <stdio.h>
#include "cli.h"

#define EXP_MAX_LEVELS 64
#define EXP_MAX_SEEDS 100
#define EXP_MAX_FILES 16
#define EXP_PATH_MAX 4096

typedef struct exp_opts {
    const char *model;     /* --model (required) */
    const char *dataset;   /* --dataset, default fashion-mnist:test */
    const char *labels;    /* --labels for an .npy dataset */
    const char *calib_dataset; /* --calib-dataset: default fashion-mnist:train for fashion-mnist, else dataset */
    const char *out;       /* --out, default results/experiments/<model>/ */
    const char *archs_dir; /* --archs-dir, default: found (exp_find_archs) */
    long limit;            /* --limit, default 1000; 0 = every sample */
    long calib;            /* --calib, default 10 */
    double budget;         /* --budget, default 0.09 */
    long seeds;            /* --seeds (noise), default 3 */
    long long seed;        /* --seed: the first seed (noise), default 1 */
    int n_levels;          /* --levels (noise), default 0,0.02,...,0.12 */
    double levels[EXP_MAX_LEVELS];
    long threads;          /* --threads, default: the context's */
    int progress;          /* --progress */
    int compile_per_seed;  /* --compile-per-seed (noise) */
    int plot;              /* 0 with --no-plot */
    /* analog-vs-digital (exp_analog.c), checked there: --archs, --caps, --rows,
     * --swing, --typical-gap-db, --no-device-thermal, --no-irdrop; av_given: any of them */
    const char *av_archs, *av_caps, *av_rows, *av_swing, *av_gap_db;
    int av_no_thermal, av_no_irdrop, av_given;
} exp_opts;

/* A file written under a temporary name and renamed when the whole
 * experiment has succeeded (exp_commit), so that a failure leaves nothing. */
typedef struct exp_file {
    char tmp[EXP_PATH_MAX];
    char final[EXP_PATH_MAX];
    FILE *f;
} exp_file;

typedef struct exp_env {
    const char *cmd;       /* "experiment colsum" ... for messages */
    const char *name;      /* "colsum", "ablation", "noise" */
    cim_ctx *ctx;
    cim_net *net;
    exp_opts o;
    char model_name[256];  /* the model's file name without directory and .onnx */
    char out_dir[EXP_PATH_MAX];
    char archs_dir[EXP_PATH_MAX];
    json_t *timing;        /* [{what, seconds}]: wall times, kept out of <name>.json */
    int n_files;
    exp_file files[EXP_MAX_FILES];
} exp_env;

/* One architecture setup of an experiment. `arch` is a preset name, or
 * "@NAME" for the file NAME.yaml in the archs folder (experiments/archs). */
typedef struct exp_setup {
    const char *key;    /* id in JSON and CSV */
    const char *label;  /* for tables and plots */
    const char *arch;
    int plan;           /* nonzero: run with the compiled plan (Adaptive Weight Slicing) */
    const char *source; /* where the thesis defines it */
} exp_setup;

/* The command (also declared in cli.h for main.c). */
int cli_experiment(int argc, char **argv);

/* The experiments (exp_colsum.c, exp_ablation.c, exp_noise.c). */
int exp_colsum(exp_env *e);
int exp_ablation(exp_env *e);
int exp_noise(exp_env *e);
int exp_efficiency(exp_env *e); /* exp_efficiency.c */
int exp_analog(exp_env *e);     /* exp_analog.c: analog-vs-digital */

/* The arch of a setup with noise E (E > 0: gaussian_colsum, else none) and a
 * seed applied to the base and every per-layer override. Returns 0, or 1
 * with a message. */
int exp_arch(exp_env *e, const char *spec, double noise, long long seed, cim_arch *out);
/* The path an arch spec names (preset names are returned as they are). */
void exp_arch_path(const exp_env *e, const char *spec, char *buf, size_t size);

/* cim_net_eval with the experiment's dataset, limit and progress; `what`
 * labels the progress and timing entry. Returns 0, or 1 with a message. */
int exp_eval(exp_env *e, const cim_arch *arch, const cim_plan *plan, int histogram, const char *what,
             cim_eval_result *res);
/* cim_compile with the experiment's dataset, calib and budget. */
int exp_compile(exp_env *e, const cim_arch *arch, const char *what, cim_plan **plan);

/* Accuracy of a result in percent: top-1 against labels, or against the
 * reference's top-1 when the dataset has no labels (reference then 100). */
double exp_ref_top1(const cim_eval_result *r);
double exp_analog_top1(const cim_eval_result *r);
static inline double exp_drop(const cim_eval_result *r) { return exp_ref_top1(r) - exp_analog_top1(r); }

/* Rates of a run's totals (0 where the denominator is 0):
 * saturation: conversions whose code hit an end of the ADC range / conversions;
 * accepted saturation: saturated codes that entered a result / codes that
 *   entered a result (static slicing: as saturation; speculation: recovery
 *   saturations over successful speculative plus recovery conversions);
 * speculation success: 1 - failures / speculative conversions (-1 without speculation);
 * le7: column sums needing at most 7 bits signed / all converted column sums. */
double exp_rate(uint64_t a, uint64_t b);
double exp_sat_rate(const cim_stats *s);
double exp_accepted_sat_rate(const cim_stats *s);
double exp_spec_success(const cim_stats *s, int speculation);
double exp_le_bits(const cim_stats *s, int bits);
/* Whether any layer of a result ran with speculation. */
int exp_has_speculation(const cim_eval_result *r);

/* Slicing as "4,2,2". */
void exp_slices_str(const int *w, int n, char *buf, size_t size);
/* A plan's slicings: the most common slicing of the searched layers, and
 * the mean number of slices over searched layers (into *mean). */
void exp_plan_summary(const cim_plan *p, char *common, size_t size, double *mean);

/* JSON summaries (new references). */
json_t *exp_result_json(const cim_eval_result *r, int layers, int histogram);
json_t *exp_plan_json(const cim_plan *p);
json_t *exp_header_json(const exp_env *e);
void exp_timing(exp_env *e, const char *what, double seconds);

/* Output files: exp_create opens DIR/NAME under a temporary name (the output
 * folder is created on first use); exp_commit closes and renames all of them
 * and writes DIR/<experiment>.timing.json; exp_abort removes them. */
FILE *exp_create(exp_env *e, const char *name);
int exp_write_json(exp_env *e, const char *name, json_t *root);
int exp_commit(exp_env *e);
void exp_abort(exp_env *e);

/* CSV fields: a string quoted when it holds a comma or quote. */
void exp_csv_str(FILE *f, const char *s);

#endif
