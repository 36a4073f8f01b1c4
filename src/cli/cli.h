/* cli.h: the cimsim command-line tool. It uses only the public API
 * (include/cimsim), like any other program would. */
#ifndef CIMSIM_CLI_H
#define CIMSIM_CLI_H

#include <stdint.h>
#include <stdio.h>
#include "cimsim/cimsim.h"

/* Subcommands: each returns the process exit status (0 ok, 1 error, 2 usage). */
int cli_mvm(int argc, char **argv);
int cli_compare(int argc, char **argv);
int cli_presets(int argc, char **argv);
int cli_archs(int argc, char **argv);
int cli_eval(int argc, char **argv);
int cli_reference(int argc, char **argv);
int cli_compile(int argc, char **argv);
int cli_experiment(int argc, char **argv);
int cli_components(int argc, char **argv);
int cli_workload(int argc, char **argv);
int cli_hw(int argc, char **argv);
int cli_cost(int argc, char **argv);
struct cim_cost_hw_result;
void cli_print_hw(const struct cim_cost_hw_result *h, int has_energy); /* cmd_cost.c */

/* Options: "--name value" or "--name=value". cli_opt returns the value of
 * argv[*i] if it is option `name` (advancing *i past a separate value), NULL
 * otherwise; a missing value sets *err. */
const char *cli_opt(int argc, char **argv, int *i, const char *name, int *err);
int cli_flag(char **argv, int i, const char *name);
/* Parse a whole integer in [lo, hi]; prints an error naming `what` on failure. */
int cli_int(const char *s, long lo, long hi, const char *what, long *out);

/* Print "cimsim <cmd>: message" to stderr (and the context's message when ctx
 * is given and st != CIM_OK). */
void cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int cli_fail(const char *cmd, cim_ctx *ctx, cim_status st);

/* --noise E and --seed S (either may be NULL): parse (2 and a message on a bad
 * value; -1 for "not given"), then apply to a config. */
int cli_noise_args(const char *cmd, const char *noise_s, const char *seed_s, double *noise, long long *seed);
void cli_apply_noise(cim_xbar_config *cfg, double noise, long long seed);

/* A workload (cimsim/workload.h) from one sample of `dataset` through an
 * ONNX model: its weight layers as GEMMs. out->layers is malloc'ed (free()).
 * Errors are printed as "cimsim <cmd>: ...". Returns 0 or 1. */
struct cim_workload;
int cli_workload_from_model(cim_ctx *ctx, const char *cmd, const char *model, const char *dataset, const char *name,
                            const char *eval_json, struct cim_workload *out);

/* A context with `threads` threads (0 = default). */
cim_ctx *cli_ctx(const char *cmd, int threads, int verbose);

/* Wall-clock seconds. */
double cli_now(void);

/* Progress on stderr for long runs, when stderr is a terminal or forced. */
typedef struct {
    const char *label;
    double start, last;
    int enabled;
} cli_progress;
void cli_progress_init(cli_progress *p, const char *label, int force);
int cli_progress_cb(void *ud, uint64_t done, uint64_t total);
void cli_progress_done(cli_progress *p);

/* Read W.npy (int8 [K, N]) and X.npy (uint8 [M, K]) and check they agree. */
int cli_read_layer(const char *cmd, cim_ctx *ctx, const char *wpath, const char *xpath, cim_npy *W, cim_npy *X);

#endif
