/* preprocess.c: from dataset samples to a model's input (see dataset.h):
 * the shape check, the cimsim.input_* metadata, and the float32 arithmetic
 *     x = ((float)pixel * scale - mean[c]) / std[c]
 * done step by step in float32 (the build uses -ffp-contract=off, so no step
 * is fused), which makes the result the same bits on every machine and equal
 * to numpy's ((p.astype(float32) * scale) - mean) / std with float32 scalars.
 * Numbers in metadata are parsed with strtof in the C locale's format. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/internal.h"
#include "dataset_internal.h"

#define KEY_SCALE "cimsim.input_scale"
#define KEY_MEAN "cimsim.input_mean"
#define KEY_STD "cimsim.input_std"
#define KEY_LAYOUT "cimsim.input_layout"

/* "[N,1,28,28]" (a batch dim of -1 shows as N). */
static const char *fmt_shape(char *buf, size_t n, const int64_t *dims, int rank, int batch)
{
    size_t at = 0;
    at += (size_t)snprintf(buf, n, "[");
    for (int i = 0; i < rank && at < n; i++) {
        if (batch && i == 0 && dims[0] < 0)
            at += (size_t)snprintf(buf + at, n - at, "N");
        else
            at += (size_t)snprintf(buf + at, n - at, "%s%" PRId64, i ? "," : "", dims[i]);
    }
    if (at < n)
        snprintf(buf + at, n - at, "]");
    return buf;
}

/* dims without leading 1s. */
static int strip_ones(const int64_t *dims, int rank, const int64_t **rest)
{
    int i = 0;
    while (i < rank && dims[i] == 1)
        i++;
    *rest = dims + i;
    return rank - i;
}

/* Parse a comma-separated list of finite numbers into v (at most cap). */
static cim_status parse_list(cim_ctx *ctx, const char *model, const char *key, const char *s,
                             float *v, int cap, int *count)
{
    int n = 0;
    const char *p = s;
    for (;;) {
        while (isspace((unsigned char)*p))
            p++;
        char *end;
        errno = 0;
        float x = strtof(p, &end);
        if (end == p || !isfinite(x))
            return cim__err(ctx, CIM_ERR_FORMAT, "%s: metadata '%s': '%s' is not a list of "
                            "finite numbers (item %d)", model, key, s, n + 1);
        if (n == cap)
            return cim__err(ctx, CIM_ERR_UNSUPPORTED, "%s: metadata '%s': more than %d values",
                            model, key, cap);
        v[n++] = x;
        p = end;
        while (isspace((unsigned char)*p))
            p++;
        if (*p == '\0')
            break;
        if (*p != ',')
            return cim__err(ctx, CIM_ERR_FORMAT, "%s: metadata '%s': '%s' is not a "
                            "comma-separated list of numbers", model, key, s);
        p++;
    }
    *count = n;
    return CIM_OK;
}

/* mean or std: absent -> def for every channel; present -> exactly C values. */
static cim_status parse_per_channel(cim_ctx *ctx, const char *model, const char *key,
                                    const char *s, int channels, float def, float *v)
{
    if (!s) {
        for (int c = 0; c < NN_PREPROC_MAX_CH; c++)
            v[c] = def;
        return CIM_OK;
    }
    if (channels > NN_PREPROC_MAX_CH)
        return cim__err(ctx, CIM_ERR_UNSUPPORTED, "%s: metadata '%s': the input has %d channels, "
                        "more than the %d supported", model, key, channels, NN_PREPROC_MAX_CH);
    int n;
    cim_status st = parse_list(ctx, model, key, s, v, NN_PREPROC_MAX_CH, &n);
    if (st)
        return st;
    if (n != channels)
        return cim__err(ctx, CIM_ERR_FORMAT, "%s: metadata '%s': %d value%s for an input of %d "
                        "channel%s", model, key, n, n == 1 ? "" : "s", channels,
                        channels == 1 ? "" : "s");
    return CIM_OK;
}

static cim_status check_shape(const nn_dataset *ds, const char *model, nn_dtype dtype,
                              const int64_t *dims, int rank, nn_preproc *pp)
{
    cim_ctx *ctx = ds->ctx;
    char mb[160], sb[160];
    fmt_shape(mb, sizeof mb, dims, rank, 1);
    fmt_shape(sb, sizeof sb, ds->dims, ds->rank, 0);
    if (dtype != NN_FLOAT && dtype != NN_UINT8)
        return cim__err(ctx, CIM_ERR_UNSUPPORTED, "%s: input %s is %s; datasets feed float32 or "
                        "uint8 inputs", model, mb, nn_dtype_name(dtype));
    if (dtype == NN_UINT8 && ds->dtype == NN_FLOAT)
        return cim__err(ctx, CIM_ERR_SHAPE, "%s: input %s is uint8 but the samples of %s are "
                        "float32", model, mb, ds->name);
    for (int i = 1; i < rank; i++)
        if (dims[i] < 1)
            return cim__err(ctx, CIM_ERR_SHAPE, "%s: input %s: dimension %d is %s", model, mb, i,
                            dims[i] < 0 ? "not known (symbolic)" : "zero");
    const int64_t *a, *b;
    int ra = strip_ones(dims + 1, rank - 1, &a), rb = strip_ones(ds->dims, ds->rank, &b);
    int fit = ra == rb;
    for (int i = 0; fit && i < ra; i++)
        fit = a[i] == b[i];
    if (!fit)
        return cim__err(ctx, CIM_ERR_SHAPE, "%s: input shape %s does not fit the samples of %s, "
                        "shape %s", model, mb, ds->name, sb);
    pp->dtype = dtype;
    pp->rank = rank;
    memcpy(pp->dims, dims, (size_t)rank * sizeof *dims);
    pp->sample_elems = (int64_t)ds->sample_elems;
    /* NCHW: the channel axis is 1 for rank >= 4; below that there is none. */
    pp->channels = rank >= 4 ? (int)dims[1] : 1;
    pp->plane = pp->sample_elems / pp->channels;
    return CIM_OK;
}

cim_status nn_preproc_init(const nn_dataset *ds, const char *model, char *const *keys,
                           char *const *values, int n_meta, nn_dtype dtype, const int64_t *dims,
                           int rank, nn_preproc *out)
{
    if (!ds || !out || !dims || rank < 1 || rank > NN_MAX_RANK || n_meta < 0 ||
        (n_meta > 0 && (!keys || !values)))
        return cim__err(ds ? ds->ctx : NULL, CIM_ERR_ARG, "nn_preproc_init: bad arguments");
    cim_ctx *ctx = ds->ctx;
    if (!model)
        model = "model";
    nn_preproc pp;
    memset(&pp, 0, sizeof pp);
    cim_status st = check_shape(ds, model, dtype, dims, rank, &pp);
    if (st)
        return st;
    const char *scale = NULL, *mean = NULL, *sd = NULL, *layout = NULL;
    for (int i = 0; i < n_meta; i++) {
        if (!keys[i] || !values[i])
            continue;
        if (strcmp(keys[i], KEY_SCALE) == 0)
            scale = values[i];
        else if (strcmp(keys[i], KEY_MEAN) == 0)
            mean = values[i];
        else if (strcmp(keys[i], KEY_STD) == 0)
            sd = values[i];
        else if (strcmp(keys[i], KEY_LAYOUT) == 0)
            layout = values[i];
    }
    if (layout && strcmp(layout, "NCHW") != 0)
        return cim__err(ctx, CIM_ERR_UNSUPPORTED, "%s: metadata '%s': layout '%s' is not "
                        "supported (want NCHW)", model, KEY_LAYOUT, layout);
    pp.scale = 1.0f;
    if (scale) {
        int n;
        if ((st = parse_list(ctx, model, KEY_SCALE, scale, &pp.scale, 1, &n)))
            return st == CIM_ERR_UNSUPPORTED
                       ? cim__err(ctx, CIM_ERR_FORMAT, "%s: metadata '%s': '%s' is not one number",
                                  model, KEY_SCALE, scale)
                       : st;
    }
    if ((st = parse_per_channel(ctx, model, KEY_MEAN, mean, pp.channels, 0.0f, pp.mean)) ||
        (st = parse_per_channel(ctx, model, KEY_STD, sd, pp.channels, 1.0f, pp.std)))
        return st;
    for (int c = 0; sd && c < pp.channels; c++)
        if (pp.std[c] == 0.0f)
            return cim__err(ctx, CIM_ERR_FORMAT, "%s: metadata '%s': channel %d is 0", model,
                            KEY_STD, c);
    *out = pp;
    return CIM_OK;
}

cim_status nn_dataset_fill(const nn_dataset *ds, const nn_preproc *pp, int64_t i0, int64_t n,
                           void *dst)
{
    if (!ds || !pp)
        return cim__err(ds ? ds->ctx : NULL, CIM_ERR_ARG, "nn_dataset_fill: NULL argument");
    cim_ctx *ctx = ds->ctx;
    if (i0 < 0 || n < 0 || i0 > ds->count || n > ds->count - i0)
        return cim__err(ctx, CIM_ERR_ARG, "%s: samples %" PRId64 "..%" PRId64 " are outside 0..%"
                        PRId64, ds->name, i0, i0 + n - 1, ds->count - 1);
    if (n > 0 && !dst)
        return cim__err(ctx, CIM_ERR_ARG, "nn_dataset_fill: dst is NULL");
    if (pp->sample_elems != (int64_t)ds->sample_elems ||
        (pp->dtype == NN_UINT8 && ds->dtype != NN_UINT8) ||
        (pp->dtype != NN_UINT8 && pp->dtype != NN_FLOAT))
        return cim__err(ctx, CIM_ERR_ARG, "nn_dataset_fill: the preprocessing was set up for "
                        "another dataset than %s", ds->name);
    size_t se = ds->sample_elems, esz = ds->dtype == NN_FLOAT ? 4 : 1;
    const unsigned char *src = (const unsigned char *)ds->data + (size_t)i0 * se * esz;
    if (pp->dtype == ds->dtype) {
        /* uint8 -> uint8 (raw codes) or float32 -> float32 (already preprocessed). */
        if (n > 0)
            memcpy(dst, src, (size_t)n * se * esz);
        return CIM_OK;
    }
    /* uint8 -> float32 */
    float *o = dst;
    size_t plane = (size_t)pp->plane;
    for (int64_t s = 0; s < n; s++) {
        for (int c = 0; c < pp->channels; c++) {
            float mean = pp->mean[c < NN_PREPROC_MAX_CH ? c : 0];
            float sd = pp->std[c < NN_PREPROC_MAX_CH ? c : 0];
            for (size_t k = 0; k < plane; k++) {
                float v = (float)src[k];
                v = v * pp->scale;
                v = v - mean;
                v = v / sd;
                o[k] = v;
            }
            src += plane;
            o += plane;
        }
    }
    return CIM_OK;
}
