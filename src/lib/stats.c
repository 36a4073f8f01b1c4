/* stats.c: run counters and their JSON form (jansson). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <jansson.h>
#include "internal.h"
#include "json_out.h"

void cim_stats_reset(cim_stats *s) { memset(s, 0, sizeof *s); }

void cim_stats_add(cim_stats *d, const cim_stats *s)
{
    d->vectors += s->vectors;
    d->macs += s->macs;
    d->adc_converts += s->adc_converts;
    d->adc_converts_speculative += s->adc_converts_speculative;
    d->adc_converts_recovery += s->adc_converts_recovery;
    d->digital_reads += s->digital_reads;
    d->saturations += s->saturations;
    d->saturations_recovery += s->saturations_recovery;
    d->true_clips += s->true_clips;
    d->speculation_failures += s->speculation_failures;
    d->dac_pulses += s->dac_pulses;
    d->device_activations += s->device_activations;
    d->crossbar_cycles += s->crossbar_cycles;
    d->input_sum_adds += s->input_sum_adds;
    d->hist.below += s->hist.below;
    d->hist.above += s->hist.above;
    for (int i = 0; i < CIM_HIST_BINS; i++)
        d->hist.bins[i] += s->hist.bins[i];
    for (int i = 0; i < CIM_HIST_BITS; i++)
        d->hist.bits[i] += s->hist.bits[i];
}

double cim_stats_converts_per_mac(const cim_stats *s)
{
    return s->macs ? (double)s->adc_converts / (double)s->macs : 0.0;
}

/* JSON integers are int64 in jansson; counters stay far below 2^63. */
static int set_u64(json_t *o, const char *k, uint64_t v)
{
    return json_object_set_new(o, k, json_integer((json_int_t)v));
}

json_t *cim__stats_json(const cim_stats *s, const cim_layer_info *info)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    int bad = 0;
    bad |= set_u64(o, "vectors", s->vectors);
    bad |= set_u64(o, "macs", s->macs);
    bad |= set_u64(o, "adc_converts", s->adc_converts);
    bad |= set_u64(o, "adc_converts_speculative", s->adc_converts_speculative);
    bad |= set_u64(o, "adc_converts_recovery", s->adc_converts_recovery);
    bad |= set_u64(o, "digital_reads", s->digital_reads);
    bad |= set_u64(o, "saturations", s->saturations);
    bad |= set_u64(o, "saturations_recovery", s->saturations_recovery);
    bad |= set_u64(o, "true_clips", s->true_clips);
    bad |= set_u64(o, "speculation_failures", s->speculation_failures);
    bad |= json_object_set_new(o, "converts_per_mac", json_real(cim_stats_converts_per_mac(s)));
    bad |= json_object_set_new(o, "saturation_rate",
                               json_real(s->adc_converts ? (double)s->saturations / (double)s->adc_converts : 0.0));
    bad |= set_u64(o, "dac_pulses", s->dac_pulses);
    bad |= set_u64(o, "device_activations", s->device_activations);
    bad |= set_u64(o, "crossbar_cycles", s->crossbar_cycles);
    bad |= set_u64(o, "input_sum_adds", s->input_sum_adds);
    if (info) {
        bad |= json_object_set_new(o, "K", json_integer(info->K));
        bad |= json_object_set_new(o, "N", json_integer(info->N));
        bad |= json_object_set_new(o, "chunks", json_integer(info->chunks));
        bad |= json_object_set_new(o, "filters_per_crossbar", json_integer(info->filters_per_crossbar));
        bad |= set_u64(o, "crossbars", info->crossbars);
        bad |= set_u64(o, "cells", info->cells);
        bad |= set_u64(o, "devices", info->devices);
        bad |= set_u64(o, "cell_level_sum", info->cell_level_sum);
        bad |= set_u64(o, "rows_used", info->rows_used);
        bad |= set_u64(o, "cols_used", info->cols_used);
        bad |= json_object_set_new(o, "utilization", json_real(info->utilization));
        bad |= set_u64(o, "flipped_columns", info->flipped_columns);
    }
    json_t *h = json_object(), *bins = json_array(), *bits = json_array();
    bad |= !h || !bins || !bits;
    if (!bad) {
        bad |= json_object_set_new(h, "min", json_integer(CIM_HIST_MIN));
        bad |= json_object_set_new(h, "max", json_integer(CIM_HIST_MAX));
        bad |= set_u64(h, "below", s->hist.below);
        bad |= set_u64(h, "above", s->hist.above);
        for (int i = 0; i < CIM_HIST_BINS && !bad; i++)
            if (s->hist.bins[i])
                bad |= json_array_append_new(bins, json_pack("[II]", (json_int_t)(i + CIM_HIST_MIN),
                                                             (json_int_t)s->hist.bins[i])) != 0;
        for (int b = 0; b < CIM_HIST_BITS && !bad; b++)
            if (s->hist.bits[b])
                bad |= json_array_append_new(bits, json_pack("[iI]", b, (json_int_t)s->hist.bits[b])) != 0;
    }
    if (!bad) {
        bad |= json_object_set_new(h, "bins", bins);
        bins = NULL;
        bad |= json_object_set_new(o, "column_sum_histogram", h);
        h = NULL;
        bad |= json_object_set_new(o, "column_sum_bits", bits);
        bits = NULL;
    }
    json_decref(bins);
    json_decref(bits);
    json_decref(h);
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

cim_status cim__json_write(cim_ctx *ctx, const char *path, const json_t *o)
{
    cim_status st = CIM_OK;
    if (strcmp(path, "-") == 0) {
        if (json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) || fputc('\n', stdout) == EOF)
            st = cim__err(ctx, CIM_ERR_IO, "stdout: cannot write JSON");
        return st;
    }
    size_t len = strlen(path);
    char *tmp = cim__malloc(ctx, len + 16);
    if (!tmp)
        return CIM_ERR_NOMEM;
    memcpy(tmp, path, len);
    memcpy(tmp + len, ".tmpXXXXXX", 11);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        st = cim__err(ctx, CIM_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
    } else {
        (void)fchmod(fd, 0644); /* mkstemp creates 0600; results are meant to be shared */
        FILE *f = fdopen(fd, "w");
        if (!f) {
            close(fd);
            st = cim__err(ctx, CIM_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
        } else {
            int bad = json_dumpf(o, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0;
            bad |= fputc('\n', f) == EOF;
            bad |= fclose(f) != 0;
            if (bad)
                st = cim__err(ctx, CIM_ERR_IO, "%s: write failed: %s", path, strerror(errno));
            else if (rename(tmp, path) != 0)
                st = cim__err(ctx, CIM_ERR_IO, "%s: cannot rename into place: %s", path, strerror(errno));
        }
        if (st)
            unlink(tmp);
    }
    cim__free(ctx, tmp);
    return st;
}

cim_status cim_stats_write_json(cim_ctx *ctx, const char *path, const cim_stats *s,
                                const cim_layer_info *info, const char *extra_json)
{
    if (!path || !s)
        return cim__err(ctx, CIM_ERR_ARG, "stats: NULL argument");
    json_t *o = cim__stats_json(s, info);
    if (!o)
        return cim__err(ctx, CIM_ERR_NOMEM, "%s: out of memory building JSON", path);
    if (extra_json) {
        json_error_t jerr;
        json_t *x = json_loads(extra_json, 0, &jerr);
        if (!x || !json_is_object(x) || json_object_update(o, x)) {
            json_decref(x);
            json_decref(o);
            return cim__err(ctx, CIM_ERR_INTERNAL, "%s: extra JSON is not an object: %s", path, jerr.text);
        }
        json_decref(x);
    }
    cim_status st = cim__json_write(ctx, path, o);
    json_decref(o);
    return st;
}
