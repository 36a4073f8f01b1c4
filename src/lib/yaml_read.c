/* yaml_read.c: scalar readers shared by the YAML loaders (yaml_read.h). */
#include "yaml_read.h"
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

cim_status cim__yaml_verr(cim_ctx *ctx, cim_status code, const char *file, const char *entry, const yaml_node_t *n,
                          const char *key, const char *fmt, va_list ap)
{
    char msg[320];
    vsnprintf(msg, sizeof msg, fmt, ap);
    unsigned long line = n ? (unsigned long)n->start_mark.line + 1 : 0UL;
    if (entry)
        return cim__err(ctx, code, "%s:%lu: '%s': key '%s': %s", file, line, entry, key, msg);
    return cim__err(ctx, code, "%s:%lu: key '%s': %s", file, line, key, msg);
}

cim_status cim__yaml_load(cim_ctx *ctx, const char *file, FILE *f, const char *text, size_t len, cim_status code,
                          yaml_document_t *doc)
{
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        return cim__err(ctx, CIM_ERR_NOMEM, "%s: cannot initialize the YAML parser", file);
    if (f)
        yaml_parser_set_input_file(&parser, f);
    else
        yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    cim_status st = CIM_OK;
    if (!yaml_parser_load(&parser, doc))
        st = cim__err(ctx, code, "%s:%lu:%lu: YAML syntax error: %s", file,
                      (unsigned long)parser.problem_mark.line + 1, (unsigned long)parser.problem_mark.column + 1,
                      parser.problem ? parser.problem : "unknown");
    yaml_parser_delete(&parser);
    return st;
}

const char *cim__yaml_scalar(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

const char *cim__yaml_kind(const yaml_node_t *n)
{
    return !n ? "nothing"
              : n->type == YAML_SEQUENCE_NODE ? "a list" : n->type == YAML_MAPPING_NODE ? "a mapping" : "a scalar";
}

cim_status cim__yaml_long(void *y, cim_yaml_err_fn err, const yaml_node_t *n, const char *key, long lo, long hi,
                          long *out)
{
    char msg[200];
    const char *s = cim__yaml_scalar(n);
    if (!s) {
        snprintf(msg, sizeof msg, "expected an integer, got %s", cim__yaml_kind(n));
        return err(y, n, key, msg);
    }
    errno = 0;
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno) {
        snprintf(msg, sizeof msg, "expected an integer, got '%.120s'", s);
        return err(y, n, key, msg);
    }
    if (v < lo || v > hi) {
        snprintf(msg, sizeof msg, "%ld is not in %ld..%ld", v, lo, hi);
        return err(y, n, key, msg);
    }
    *out = v;
    return CIM_OK;
}

cim_status cim__yaml_int(void *y, cim_yaml_err_fn err, const yaml_node_t *n, const char *key, long lo, long hi,
                         int *out)
{
    long v = 0;
    cim_status st = cim__yaml_long(y, err, n, key, lo, hi, &v);
    if (st == CIM_OK)
        *out = (int)v;
    return st;
}

cim_status cim__yaml_u64(void *y, cim_yaml_err_fn err, const yaml_node_t *n, const char *key, uint64_t lo,
                         uint64_t hi, uint64_t *out)
{
    char msg[200];
    const char *s = cim__yaml_scalar(n);
    if (!s) {
        snprintf(msg, sizeof msg, "expected an integer, got %s", cim__yaml_kind(n));
        return err(y, n, key, msg);
    }
    if (*s == '-') {
        snprintf(msg, sizeof msg, "'%.120s' is negative (expected %" PRIu64 "..%" PRIu64 ")", s, lo, hi);
        return err(y, n, key, msg);
    }
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || *end || errno) {
        snprintf(msg, sizeof msg, "expected an integer, got '%.120s'", s);
        return err(y, n, key, msg);
    }
    if (v < lo || v > hi) {
        snprintf(msg, sizeof msg, "%llu is not in %" PRIu64 "..%" PRIu64, v, lo, hi);
        return err(y, n, key, msg);
    }
    *out = (uint64_t)v;
    return CIM_OK;
}

cim_status cim__yaml_double(void *y, cim_yaml_err_fn err, const yaml_node_t *n, const char *key, double lo,
                            double hi, int lo_open, double *out)
{
    char msg[200];
    const char *s = cim__yaml_scalar(n);
    if (!s) {
        snprintf(msg, sizeof msg, "expected a number, got %s", cim__yaml_kind(n));
        return err(y, n, key, msg);
    }
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || errno || !isfinite(v)) {
        snprintf(msg, sizeof msg, "expected a number, got '%.120s'", s);
        return err(y, n, key, msg);
    }
    if (v < lo || (lo_open && v == lo) || v > hi) {
        if (isinf(hi))
            snprintf(msg, sizeof msg, "%.120s must be %s %g", s, lo_open ? ">" : ">=", lo);
        else if (lo_open)
            snprintf(msg, sizeof msg, "%.120s must be > %g and <= %g", s, lo, hi);
        else
            snprintf(msg, sizeof msg, "%.120s is not in %g..%g", s, lo, hi);
        return err(y, n, key, msg);
    }
    *out = v;
    return CIM_OK;
}

cim_status cim__yaml_bool(void *y, cim_yaml_err_fn err, const yaml_node_t *n, const char *key, int *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    const char *s = cim__yaml_scalar(n);
    if (s)
        for (int i = 0; i < 4; i++) {
            if (strcasecmp(s, yes[i]) == 0) {
                *out = 1;
                return CIM_OK;
            }
            if (strcasecmp(s, no[i]) == 0) {
                *out = 0;
                return CIM_OK;
            }
        }
    char msg[200];
    if (s)
        snprintf(msg, sizeof msg, "expected true or false, got '%.120s'", s);
    else
        snprintf(msg, sizeof msg, "expected true or false, got %s", cim__yaml_kind(n));
    return err(y, n, key, msg);
}
