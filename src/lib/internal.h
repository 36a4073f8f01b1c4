/* internal.h: what library modules share and users never see. */
#ifndef CIMSIM_INTERNAL_H
#define CIMSIM_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include "cimsim/cimsim.h"
#include "../kernels/kernel.h"
#include "../kernels/stage.h"

#define CIM_ERRMSG_SIZE 512

/* The framework's own loops (building input planes, handling failures, the
 * digital terms, the center search) are integer code that compilers vectorize: clone them for
 * wider ISAs, chosen at load time by CPU feature (GCC's target_clones). Their
 * results are the same bits on every clone. The widest clone is x86-64-v4
 * (AVX-512 F, BW, DQ, VL): with F alone, byte loops such as build_vectors'
 * stay 256 bits wide (measured: raella at M = 4096 3.5% faster). */
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__) && !defined(CIMSIM_NO_CLONES)
#define CIM_CLONES __attribute__((target_clones("default", "avx2", "arch=x86-64-v4")))
#else
#define CIM_CLONES
#endif

struct cim_ctx {
    cim_realloc_fn alloc;
    void *alloc_ud;
    cim_log_fn log;
    void *log_ud;
    int threads;                /* resolved, >= 1 */
    const cim_kernel *kernel;   /* chosen column-sum kernel */
    const cim_stage *stage;     /* ADC and noise stages for the same ISA */
    struct cim_run_ws *ws;      /* run buffers kept between runs (run.c) */
    char errmsg[CIM_ERRMSG_SIZE];
};

typedef struct cim_run_ws cim_run_ws;
/* Free the context's run buffers (run.c). */
void cim__run_ws_free(cim_ctx *ctx);

/* Set the context's message (printf-style) and return `st`. ctx may be NULL. */
cim_status cim__err(cim_ctx *ctx, cim_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Allocation through the context's allocator. cim__malloc returns NULL on
 * failure (and sets "out of memory" in ctx). Sizes are checked for overflow. */
void *cim__malloc(cim_ctx *ctx, size_t size);
void *cim__calloc(cim_ctx *ctx, size_t n, size_t size);
void cim__free(cim_ctx *ctx, void *p);
/* 64-byte aligned allocation (over-allocates and stores the offset). */
void *cim__aligned_alloc(cim_ctx *ctx, size_t size);
void *cim__aligned_calloc(cim_ctx *ctx, size_t size);
void cim__aligned_free(cim_ctx *ctx, void *p);

/* Overflow-checked size arithmetic: returns 0 and sets *r on success, -1 on overflow. */
static inline int cim__mul_size(size_t a, size_t b, size_t *r)
{
    return __builtin_mul_overflow(a, b, r) ? -1 : 0;
}

void cim__log(const cim_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static inline size_t cim__round_up(size_t v, size_t m) { return (v + m - 1) / m * m; }

#endif
