/* cimsim/ctx.h: the library context.
 *
 * All state hangs off a cim_ctx: the allocator, the last error message, the
 * thread count and the column-sum kernel chosen for this CPU. There are no
 * mutable globals, so independent contexts may be used from different threads
 * at once; one context must not be used by two threads at the same time.
 */
#ifndef CIMSIM_CTX_H
#define CIMSIM_CTX_H

#include <stddef.h>
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cim_ctx cim_ctx;

/* A realloc-style allocator (Lua's lua_Alloc): realloc_fn(ud, NULL, n) allocates,
 * realloc_fn(ud, p, 0) frees and returns NULL, anything else reallocates. It must
 * return NULL on failure. Memory returned must be aligned to at least 16 bytes;
 * libcimsim aligns its own large buffers to 64 bytes on top of it. */
typedef void *(*cim_realloc_fn)(void *ud, void *ptr, size_t size);

/* Called with one line of text (no trailing newline) for diagnostics such as the
 * kernel choice. */
typedef void (*cim_log_fn)(void *ud, const char *line);

typedef struct cim_ctx_options {
    int threads;            /* worker threads; 0 = OpenMP's default (OMP_NUM_THREADS or cores) */
    const char *kernel;     /* column-sum kernel by name ("ref", "avx2", "avx512vnni",
                               "cuda"); NULL = best for this CPU, or the environment variable
                               CIMSIM_KERNEL when it is set */
    int log_kernel;         /* nonzero: log the kernel choice (also: CIMSIM_KERNEL_DEBUG=1) */
    cim_realloc_fn alloc;   /* NULL = the C library's realloc/free */
    void *alloc_ud;
    cim_log_fn log;         /* NULL = write diagnostics to stderr */
    void *log_ud;
} cim_ctx_options;

/* Fill *o with the defaults described above. */
void cim_ctx_options_default(cim_ctx_options *o);

/* Create a context. On failure *out is NULL and the status says why; an unknown
 * or unsupported kernel name is CIM_ERR_UNSUPPORTED (message via errmsg is lost
 * with the context, so the log callback receives it). opts may be NULL. */
cim_status cim_ctx_create(const cim_ctx_options *opts, cim_ctx **out);

/* Free a context. NULL is allowed. Layers created from it must be freed first. */
void cim_ctx_destroy(cim_ctx *ctx);

/* The message of the last failed call on this context ("" if none). Valid until
 * the next call on the context. */
const char *cim_ctx_errmsg(const cim_ctx *ctx);

/* Name of the column-sum kernel in use ("ref", "avx2", "avx512vnni", "cuda"). */
const char *cim_ctx_kernel_name(const cim_ctx *ctx);

/* Name of the ADC and noise stages in use, compiled for the kernel's ISA
 * ("ref", "avx2", "avx512", "avx512vbmi"; the same bits on every one). */
const char *cim_ctx_stage_name(const cim_ctx *ctx);

/* Number of threads runs will use (resolved, >= 1). */
int cim_ctx_threads(const cim_ctx *ctx);

/* Change the thread count (0 = default). Results never depend on it. */
cim_status cim_ctx_set_threads(cim_ctx *ctx, int threads);

/* Names of all kernels compiled in, NULL-terminated, and whether this machine
 * can run kernel `name` (1) or not (0); -1 if no such kernel exists. "cuda"
 * is compiled in when the build found nvcc, and runs where a GPU of compute
 * capability 8.0 or later is present; it is used only when named. */
const char *const *cim_kernel_names(void);
int cim_kernel_supported(const char *name);

/* Library version string, e.g. "0.1.0". */
const char *cim_version(void);

#ifdef __cplusplus
}
#endif
#endif
