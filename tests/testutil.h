/* testutil.h: small helpers shared by the test programs. */
#ifndef CIMSIM_TESTUTIL_H
#define CIMSIM_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include "cimsim/cimsim.h"

/* Deterministic test RNG (splitmix64). */
typedef struct { uint64_t s; } tu_rng;
uint64_t tu_next(tu_rng *r);
int tu_range(tu_rng *r, int lo, int hi); /* uniform integer in [lo, hi] */
double tu_uniform(tu_rng *r);            /* [0, 1) */
double tu_normal(tu_rng *r);

/* A fresh temporary directory for this process (created once, removed at exit),
 * and a path inside it. */
const char *tu_tmpdir(void);
void tu_path(char *buf, size_t size, const char *name);

/* Write raw bytes to a file (for malformed-input tests). */
void tu_write_file(const char *path, const void *data, size_t size);
int tu_file_exists(const char *path);

/* A test fixture: a context whose allocator counts live blocks and the
 * largest one, and fails every allocation from number fail_at on (0: never),
 * plus a fresh directory named prefix<n> in tu_tmpdir(). For cmocka's
 * setup/teardown: tu_fx_setup stores a tu_fx in *state; tu_fx_teardown
 * destroys the context and fails (returns nonzero) if a block leaked. */
typedef struct tu_fx {
    cim_ctx *ctx;
    long live;       /* blocks allocated through ctx and not yet freed */
    long calls;      /* allocations (not frees) so far */
    long fail_at;    /* nonzero: allocation number fail_at and later fail */
    size_t max_size; /* largest single allocation */
    char dir[400];
} tu_fx;
int tu_fx_setup(void **state, const char *prefix);
int tu_fx_teardown(void **state);

/* A context with the default options; asserts success. */
cim_ctx *tu_ctx(void);

/* A context with kernel `kernel` (NULL: the default choice) and `threads`
 * workers (0: OpenMP's default); asserts success. */
cim_ctx *tu_ctx_with(const char *kernel, int threads);

/* A random layer from `seed`: W [K x N] int8 normal-like (sigma 30, clipped),
 * X [M x K] uint8 ReLU-like (half zeros, the rest uniform 0..255). */
void tu_fill_layer(uint64_t seed, int K, int N, int M, int8_t *W, uint8_t *X);

/* Preset `preset` with gaussian_colsum noise of level E and seed into *c;
 * asserts the preset exists. */
void tu_noisy_preset(cim_ctx *ctx, const char *preset, double level, uint64_t seed, cim_xbar_config *c);

/* gaussian_colsum of level E and seed on an arch's base config and every
 * per-layer override (E = 0: unchanged). */
void tu_arch_noise(cim_arch *arch, double level, uint64_t seed);

/* The ADC/noise stage (src/kernels/stage.h) named `name` (ref, avx2, avx512,
 * avx512vbmi), or NULL where it is not compiled in or this CPU cannot run it. */
struct cim_stage;
const struct cim_stage *tu_stage(const char *name);

/* rows x count elements of elem bytes, rows ld apart in src, to rows dld
 * apart in dst: a tile laid out again at another row stride (elements). */
void tu_restride(void *dst, size_t dld, const void *src, size_t ld, int rows, int count, size_t elem);

/* A failing allocator for cim_ctx_options.alloc (ud: a tu_failing): allocation
 * number fail_at (1-based; 0: none) returns NULL; live counts the blocks held. */
typedef struct {
    long fail_at; /* the allocation number that fails (1-based); 0 = never */
    long count;   /* allocations so far */
    long live;    /* blocks currently allocated */
} tu_failing;
void *tu_failing_realloc(void *ud, void *ptr, size_t size);

#endif
