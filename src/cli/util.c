/* util.c: option parsing, errors, progress and file helpers for the CLI. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "cli.h"

const char *cli_opt(int argc, char **argv, int *i, const char *name, int *err)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0)
        return NULL;
    if (a[n] == '=')
        return a + n + 1;
    if (a[n] != '\0')
        return NULL;
    if (*i + 1 >= argc) {
        cli_error(NULL, "option %s needs a value", name);
        *err = 1;
        return NULL;
    }
    return argv[++*i];
}

int cli_flag(char **argv, int i, const char *name) { return strcmp(argv[i], name) == 0; }

int cli_int(const char *s, long lo, long hi, const char *what, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno || v < lo || v > hi) {
        cli_error(NULL, "%s: '%s' is not an integer in %ld..%ld", what, s, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

void cli_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "cimsim%s%s: error: ", cmd ? " " : "", cmd ? cmd : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int cli_fail(const char *cmd, cim_ctx *ctx, cim_status st)
{
    const char *msg = ctx ? cim_ctx_errmsg(ctx) : "";
    cli_error(cmd, "%s", msg && *msg ? msg : cim_status_str(st));
    return 1;
}

cim_ctx *cli_ctx(const char *cmd, int threads, int verbose)
{
    cim_ctx_options o;
    cim_ctx *ctx = NULL;
    cim_ctx_options_default(&o);
    o.threads = threads;
    o.log_kernel = verbose;
    cim_status st = cim_ctx_create(&o, &ctx);
    if (st) {
        cli_error(cmd, "cannot create a context: %s", cim_status_str(st));
        return NULL;
    }
    return ctx;
}

double cli_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

void cli_progress_init(cli_progress *p, const char *label, int force)
{
    p->label = label;
    p->start = p->last = cli_now();
    p->enabled = force || isatty(STDERR_FILENO);
}

int cli_progress_cb(void *ud, uint64_t done, uint64_t total)
{
    cli_progress *p = ud;
    double t = cli_now();
    if (!p->enabled || (t - p->last < 0.5 && done < total))
        return 0;
    p->last = t;
    double el = t - p->start, eta = done ? el * (double)(total - done) / (double)done : 0.0;
    fprintf(stderr, "\r%s: %llu/%llu vectors (%.0f%%), %.1f s, eta %.1f s   ", p->label,
            (unsigned long long)done, (unsigned long long)total, 100.0 * (double)done / (double)total, el, eta);
    fflush(stderr);
    return 0;
}

void cli_progress_done(cli_progress *p)
{
    if (p->enabled && cli_now() - p->start >= 0.5)
        fputc('\n', stderr);
}

int cli_read_layer(const char *cmd, cim_ctx *ctx, const char *wpath, const char *xpath, cim_npy *W, cim_npy *X)
{
    const int64_t any2[2] = {-1, -1};
    cim_status st = cim_npy_read_expect(ctx, wpath, CIM_INT8, 2, any2, W);
    if (st)
        return cli_fail(cmd, ctx, st);
    int64_t xshape[2] = {-1, W->shape[0]};
    st = cim_npy_read_expect(ctx, xpath, CIM_UINT8, 2, any2, X);
    if (st) {
        cim_npy_free(ctx, W);
        return cli_fail(cmd, ctx, st);
    }
    if (X->shape[1] != xshape[1]) {
        cli_error(cmd, "%s: shape [%lld, %lld] does not match %s [K=%lld, N=%lld]: inputs need K = %lld columns",
                  xpath, (long long)X->shape[0], (long long)X->shape[1], wpath, (long long)W->shape[0],
                  (long long)W->shape[1], (long long)W->shape[0]);
        cim_npy_free(ctx, W);
        cim_npy_free(ctx, X);
        return 1;
    }
    if (W->shape[0] < 1 || W->shape[1] < 1 || W->shape[0] > (1 << 26) || W->shape[1] > (1 << 26) ||
        X->shape[0] > INT32_MAX) {
        cli_error(cmd, "%s / %s: shapes [%lld, %lld] x [%lld, %lld] are empty or too large", wpath, xpath,
                  (long long)W->shape[0], (long long)W->shape[1], (long long)X->shape[0], (long long)X->shape[1]);
        cim_npy_free(ctx, W);
        cim_npy_free(ctx, X);
        return 1;
    }
    return 0;
}

int cli_noise_args(const char *cmd, const char *noise_s, const char *seed_s, double *noise, long long *seed)
{
    *noise = -1;
    *seed = -1;
    if (noise_s) {
        char *end;
        *noise = strtod(noise_s, &end);
        if (end == noise_s || *end || !(*noise >= 0.0 && *noise <= 100.0)) {
            cli_error(cmd, "--noise: '%s' is not a level in 0..100", noise_s);
            return 2;
        }
    }
    if (seed_s) {
        char *end;
        errno = 0;
        *seed = strtoll(seed_s, &end, 0);
        if (end == seed_s || *end || errno || *seed < 0) {
            cli_error(cmd, "--seed: '%s' is not a non-negative integer", seed_s);
            return 2;
        }
    }
    return 0;
}

void cli_apply_noise(cim_xbar_config *cfg, double noise, long long seed)
{
    if (noise >= 0) {
        cfg->noise.model = noise > 0 ? CIM_NOISE_GAUSSIAN_COLSUM : CIM_NOISE_NONE;
        cfg->noise.level = noise;
    }
    if (seed >= 0)
        cfg->noise.seed = (uint64_t)seed;
}
