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

/* A context with the default options; asserts success. */
cim_ctx *tu_ctx(void);

#endif
