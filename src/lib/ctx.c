/* ctx.c: the library context: allocator, error messages, threads, kernel choice. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <omp.h>
#include "internal.h"

#ifndef CIMSIM_VERSION
#define CIMSIM_VERSION "0.0.0"
#endif

const char *cim_version(void) { return CIMSIM_VERSION; }

const char *cim_status_str(cim_status s)
{
    switch (s) {
    case CIM_OK: return "ok";
    case CIM_ERR_NOMEM: return "out of memory";
    case CIM_ERR_ARG: return "invalid argument";
    case CIM_ERR_CONFIG: return "invalid configuration";
    case CIM_ERR_IO: return "input/output error";
    case CIM_ERR_FORMAT: return "malformed file";
    case CIM_ERR_SHAPE: return "shape or dtype mismatch";
    case CIM_ERR_RANGE: return "value out of range";
    case CIM_ERR_UNSUPPORTED: return "unsupported";
    case CIM_ERR_INTERNAL: return "internal error";
    }
    return "unknown status";
}

static void *default_realloc(void *ud, void *ptr, size_t size)
{
    (void)ud;
    if (size == 0) {
        free(ptr);
        return NULL;
    }
    return realloc(ptr, size);
}

static void default_log(void *ud, const char *line)
{
    (void)ud;
    fprintf(stderr, "cimsim: %s\n", line);
}

cim_status cim__err(cim_ctx *ctx, cim_status st, const char *fmt, ...)
{
    if (ctx) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ctx->errmsg, sizeof ctx->errmsg, fmt, ap);
        va_end(ap);
    }
    return st;
}

void cim__log(const cim_ctx *ctx, const char *fmt, ...)
{
    char line[CIM_ERRMSG_SIZE];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (ctx && ctx->log)
        ctx->log(ctx->log_ud, line);
    else
        default_log(NULL, line);
}

void *cim__malloc(cim_ctx *ctx, size_t size)
{
    if (size == 0)
        size = 1;
    void *p = ctx->alloc(ctx->alloc_ud, NULL, size);
    if (!p)
        cim__err(ctx, CIM_ERR_NOMEM, "out of memory (allocating %zu bytes)", size);
    return p;
}

void *cim__calloc(cim_ctx *ctx, size_t n, size_t size)
{
    size_t total;
    if (cim__mul_size(n, size, &total)) {
        cim__err(ctx, CIM_ERR_NOMEM, "out of memory (size overflow: %zu x %zu)", n, size);
        return NULL;
    }
    void *p = cim__malloc(ctx, total);
    if (p)
        memset(p, 0, total);
    return p;
}

void cim__free(cim_ctx *ctx, void *p)
{
    if (p)
        ctx->alloc(ctx->alloc_ud, p, 0);
}

/* Aligned blocks: [pad][offset byte count as size_t][64-byte aligned user data]. */
void *cim__aligned_alloc(cim_ctx *ctx, size_t size)
{
    size_t total;
    if (__builtin_add_overflow(size, (size_t)64 + sizeof(size_t), &total)) {
        cim__err(ctx, CIM_ERR_NOMEM, "out of memory (size overflow: %zu bytes)", size);
        return NULL;
    }
    unsigned char *raw = cim__malloc(ctx, total);
    if (!raw)
        return NULL;
    uintptr_t start = (uintptr_t)raw + sizeof(size_t);
    uintptr_t aligned = (start + 63) & ~(uintptr_t)63;
    size_t off = (size_t)(aligned - (uintptr_t)raw);
    memcpy((unsigned char *)aligned - sizeof(size_t), &off, sizeof off);
    return (void *)aligned;
}

void *cim__aligned_calloc(cim_ctx *ctx, size_t size)
{
    void *p = cim__aligned_alloc(ctx, size);
    if (p)
        memset(p, 0, size);
    return p;
}

void cim__aligned_free(cim_ctx *ctx, void *p)
{
    if (!p)
        return;
    size_t off;
    memcpy(&off, (unsigned char *)p - sizeof(size_t), sizeof off);
    cim__free(ctx, (unsigned char *)p - off);
}

void cim_ctx_options_default(cim_ctx_options *o)
{
    memset(o, 0, sizeof *o);
}

static int resolve_threads(int threads)
{
    if (threads > 0)
        return threads;
    int t = omp_get_max_threads();
    return t > 0 ? t : 1;
}

static const cim_kernel *find_kernel(const char *name)
{
    for (const cim_kernel *const *k = cim_kernel_list(); *k; k++)
        if (strcmp((*k)->name, name) == 0)
            return *k;
    return NULL;
}

int cim_kernel_supported(const char *name)
{
    const cim_kernel *k = find_kernel(name);
    if (!k)
        return -1;
    return k->supported() ? 1 : 0;
}

cim_status cim_ctx_create(const cim_ctx_options *opts, cim_ctx **out)
{
    cim_ctx_options d;
    if (!out)
        return CIM_ERR_ARG;
    *out = NULL;
    if (!opts) {
        cim_ctx_options_default(&d);
        opts = &d;
    }
    if (opts->threads < 0)
        return CIM_ERR_ARG;
    cim_realloc_fn alloc = opts->alloc ? opts->alloc : default_realloc;
    cim_ctx *ctx = alloc(opts->alloc_ud, NULL, sizeof *ctx);
    if (!ctx)
        return CIM_ERR_NOMEM;
    memset(ctx, 0, sizeof *ctx);
    ctx->alloc = alloc;
    ctx->alloc_ud = opts->alloc_ud;
    ctx->log = opts->log;
    ctx->log_ud = opts->log_ud;
    ctx->threads = resolve_threads(opts->threads);

    const char *want = opts->kernel;
    const char *origin = "option";
    if (!want || !*want) {
        const char *env = getenv("CIMSIM_KERNEL");
        if (env && *env && strcmp(env, "auto") != 0) {
            want = env;
            origin = "CIMSIM_KERNEL";
        }
    }
    if (want && *want && strcmp(want, "auto") != 0) {
        const cim_kernel *k = find_kernel(want);
        if (!k || !k->supported()) {
            cim__log(ctx, "%s: kernel '%s' is %s (available here:%s%s%s%s)", origin, want,
                     !k ? "unknown" : strcmp(want, "cuda") == 0 ? "not usable: no CUDA GPU of compute capability >= 8.0"
                                                                : "not supported by this CPU",
                     cim_kernel_supported("ref") == 1 ? " ref" : "",
                     cim_kernel_supported("avx2") == 1 ? " avx2" : "",
                     cim_kernel_supported("avx512vnni") == 1 ? " avx512vnni" : "",
                     cim_kernel_supported("cuda") == 1 ? " cuda" : "");
            alloc(opts->alloc_ud, ctx, 0);
            return CIM_ERR_UNSUPPORTED;
        }
        ctx->kernel = k;
    } else {
        origin = "auto";
        for (const cim_kernel *const *k = cim_kernel_list(); *k; k++)
            if ((*k)->supported()) {
                ctx->kernel = *k;
                break;
            }
    }
    if (!ctx->kernel)
        ctx->kernel = &cim_kernel_ref;
    ctx->stage = cim_stage_for(ctx->kernel->name);
    const char *dbg = getenv("CIMSIM_KERNEL_DEBUG");
    if (opts->log_kernel || (dbg && *dbg && strcmp(dbg, "0") != 0))
        cim__log(ctx, "kernel %s (chosen by %s), stage %s, %d thread%s", ctx->kernel->name, origin,
                 ctx->stage->name, ctx->threads, ctx->threads == 1 ? "" : "s");
    *out = ctx;
    return CIM_OK;
}

void cim_ctx_destroy(cim_ctx *ctx)
{
    if (!ctx)
        return;
    cim__run_ws_free(ctx);
    ctx->alloc(ctx->alloc_ud, ctx, 0);
}

const char *cim_ctx_errmsg(const cim_ctx *ctx) { return ctx ? ctx->errmsg : "no context"; }

const char *cim_ctx_kernel_name(const cim_ctx *ctx) { return ctx->kernel->name; }

const char *cim_ctx_stage_name(const cim_ctx *ctx) { return ctx->stage->name; }

int cim_ctx_threads(const cim_ctx *ctx) { return ctx->threads; }

cim_status cim_ctx_set_threads(cim_ctx *ctx, int threads)
{
    if (!ctx)
        return CIM_ERR_ARG;
    if (threads < 0 || threads > 1024)
        return cim__err(ctx, CIM_ERR_ARG, "threads: %d is not in 0..1024", threads);
    ctx->threads = resolve_threads(threads);
    return CIM_OK;
}
