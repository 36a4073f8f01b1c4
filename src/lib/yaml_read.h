/* yaml_read.h: scalar readers shared by every YAML loader (architecture
 * configs, the component library, hardware files, energy specs, workloads).
 *
 * Each loader keeps its own error function, which knows how to name the file,
 * line and section; the readers here parse and range-check a scalar and, on
 * bad input, call it with the key and a reason, so every loader gives the
 * same wording ("expected a number, got 'x'", "7 is not in 1..4"). */
#ifndef CIMSIM_YAML_READ_H
#define CIMSIM_YAML_READ_H

#include <stdint.h>
#include <stdio.h>
#include <yaml.h>
#include <stdarg.h>
#include "internal.h"

/* A loader's error function: a CIM_ERR_CONFIG naming the file, the node's
 * line and `key`, with `msg` as the reason (y is the loader's own context). */
typedef cim_status (*cim_yaml_err_fn)(void *y, const yaml_node_t *n, const char *key, const char *msg);

/* The loaders' one message format: `code` with "FILE:LINE: key 'KEY': REASON"
 * ("FILE:LINE: 'ENTRY': key ..." when entry is not NULL), LINE that of node n
 * (0 without one), REASON from fmt and ap. */
cim_status cim__yaml_verr(cim_ctx *ctx, cim_status code, const char *file, const char *entry, const yaml_node_t *n,
                          const char *key, const char *fmt, va_list ap);

/* Parse one YAML document into *doc from the open file f, or (f NULL) from
 * text[0..len). A syntax error is `code` with "FILE:LINE:COL: YAML syntax
 * error: ..." (file names the source in messages). f is not closed. On
 * success the caller owns *doc (yaml_document_delete). */
cim_status cim__yaml_load(cim_ctx *ctx, const char *file, FILE *f, const char *text, size_t len, cim_status code,
                          yaml_document_t *doc);

/* The scalar's text, or NULL for a list, a mapping or no node. */
const char *cim__yaml_scalar(const yaml_node_t *n);

/* "a list", "a mapping", "a scalar" or "nothing": for messages. */
const char *cim__yaml_kind(const yaml_node_t *n);

/* A decimal integer in lo..hi. */
cim_status cim__yaml_long(void *y, cim_yaml_err_fn err, const yaml_node_t *n, const char *key, long lo, long hi,
                          long *out);
cim_status cim__yaml_int(void *y, cim_yaml_err_fn err, const yaml_node_t *n, const char *key, long lo, long hi,
                         int *out);
/* A non-negative decimal integer in lo..hi (the full uint64 range). */
cim_status cim__yaml_u64(void *y, cim_yaml_err_fn err, const yaml_node_t *n, const char *key, uint64_t lo,
                         uint64_t hi, uint64_t *out);
/* A finite number with lo <= v <= hi (lo < v when lo_open); -INFINITY and
 * INFINITY leave a side open. */
cim_status cim__yaml_double(void *y, cim_yaml_err_fn err, const yaml_node_t *n, const char *key, double lo,
                            double hi, int lo_open, double *out);
/* true/yes/on/1 or false/no/off/0 (any case). */
cim_status cim__yaml_bool(void *y, cim_yaml_err_fn err, const yaml_node_t *n, const char *key, int *out);

#endif
