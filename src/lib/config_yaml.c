/* config_yaml.c: architecture configs from YAML (libyaml's document API):
 * files, and the presets, which are YAML files embedded at build time
 * (presets/NAME.yaml, presets/embed.cmake). Every error names the file, the
 * line and the key. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>
#include "internal.h"
#include "yaml_read.h"

typedef struct {
    cim_ctx *ctx;
    const char *file;
    yaml_document_t *doc;
    const char *preset_desc; /* loading a preset: the description embedded at build time */
} yctx;

static cim_status yerr(yctx *y, const yaml_node_t *node, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static cim_status yerr(yctx *y, const yaml_node_t *node, const char *key, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cim_status st = cim__yaml_verr(y->ctx, CIM_ERR_CONFIG, y->file, NULL, node, key, fmt, ap);
    va_end(ap);
    return st;
}

/* yerr for the shared readers (yaml_read.h) */
static cim_status yerr_msg(void *y, const yaml_node_t *n, const char *key, const char *msg)
{
    return yerr(y, n, key, "%s", msg);
}

static cim_status get_int(yctx *y, const yaml_node_t *n, const char *key, long lo, long hi, int *out)
{
    return cim__yaml_int(y, yerr_msg, n, key, lo, hi, out);
}

static cim_status get_u64(yctx *y, const yaml_node_t *n, const char *key, uint64_t *out)
{
    return cim__yaml_u64(y, yerr_msg, n, key, 0, UINT64_MAX, out);
}

static cim_status get_double(yctx *y, const yaml_node_t *n, const char *key, double *out)
{
    return cim__yaml_double(y, yerr_msg, n, key, -INFINITY, INFINITY, 0, out);
}

static cim_status get_bool(yctx *y, const yaml_node_t *n, const char *key, int *out)
{
    return cim__yaml_bool(y, yerr_msg, n, key, out);
}

static cim_status get_slices(yctx *y, const yaml_node_t *n, const char *key, int *count, int *w)
{
    if (!n || n->type != YAML_SEQUENCE_NODE)
        return yerr(y, n, key, "expected a list of bit widths such as [4, 2, 2]");
    int i = 0;
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
        if (i >= CIM_MAX_SLICES)
            return yerr(y, n, key, "more than %d slices", CIM_MAX_SLICES);
        char sub[64];
        snprintf(sub, sizeof sub, "%s[%d]", key, i);
        cim_status st = get_int(y, yaml_document_get_node(y->doc, *it), sub, 1, 8, &w[i]);
        if (st)
            return st;
        i++;
    }
    if (i == 0)
        return yerr(y, n, key, "empty list");
    *count = i;
    return CIM_OK;
}

static cim_status get_enum(yctx *y, const yaml_node_t *n, const char *key, const char *const *names,
                           int count, int *out)
{
    const char *s = cim__yaml_scalar(n);
    if (s)
        for (int i = 0; i < count; i++)
            if (names[i] && strcmp(s, names[i]) == 0) {
                *out = i;
                return CIM_OK;
            }
    char opts[160] = "";
    for (int i = 0, len = 0; i < count; i++)
        if (names[i])
            len += snprintf(opts + len, sizeof opts - (size_t)len, "%s%s", len ? ", " : "", names[i]);
    return yerr(y, n, key, "'%s' is not one of: %s", s ? s : "(not a scalar)", opts);
}

typedef cim_status (*map_fn)(yctx *y, const char *key, const yaml_node_t *val, cim_xbar_config *c,
                             void *state);

/* Call fn for each key of mapping node n; `prefix` names the parent in messages. */
static cim_status each_key(yctx *y, const yaml_node_t *n, const char *prefix, map_fn fn,
                           cim_xbar_config *c, void *state)
{
    if (!n || n->type != YAML_MAPPING_NODE)
        return yerr(y, n, prefix, "expected a mapping of keys");
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        const yaml_node_t *k = yaml_document_get_node(y->doc, p->key);
        const yaml_node_t *v = yaml_document_get_node(y->doc, p->value);
        const char *ks = cim__yaml_scalar(k);
        if (!ks)
            return yerr(y, k, prefix, "a key is not a plain string");
        cim_status st = fn(y, ks, v, c, state);
        if (st)
            return st;
    }
    return CIM_OK;
}

static cim_status adc_key(yctx *y, const char *key, const yaml_node_t *v, cim_xbar_config *c, void *s)
{
    (void)s;
    if (strcmp(key, "bits") == 0) /* 0: no ADC, as `adc: none` */
        return get_int(y, v, "adc.bits", 0, CIM_MAX_ADC_BITS, &c->adc.bits);
    if (strcmp(key, "signed") == 0)
        return get_bool(y, v, "adc.signed", &c->adc.is_signed);
    if (strcmp(key, "drop_lsbs") == 0)
        return get_int(y, v, "adc.drop_lsbs", 0, 24, &c->adc.drop_lsbs);
    return yerr(y, v, key, "unknown key in 'adc' (known: bits, signed, drop_lsbs)");
}

static cim_status noise_key(yctx *y, const char *key, const yaml_node_t *v, cim_xbar_config *c, void *s)
{
    static const char *const models[] = {"none", "gaussian_colsum"};
    (void)s;
    if (strcmp(key, "model") == 0) {
        int m = 0;
        cim_status st = get_enum(y, v, "noise.model", models, 2, &m);
        c->noise.model = (cim_noise_model)m;
        return st;
    }
    if (strcmp(key, "level") == 0)
        return get_double(y, v, "noise.level", &c->noise.level);
    if (strcmp(key, "seed") == 0)
        return get_u64(y, v, "noise.seed", &c->noise.seed);
    return yerr(y, v, key, "unknown key in 'noise' (known: model, level, seed)");
}

/* `analog:` (cimsim/analog.h): one row per key. Numbers are checked against
 * their range here, so the message has the line; cim_analog_validate checks
 * the same for configs built in code, and the relations between keys. */
enum { AK_NUM, AK_INT, AK_BOOL, AK_DRIVE, AK_IR, AK_PCMREAD };
typedef struct {
    const char *key;
    int kind;
    size_t off;
    double lo;  /* numbers: the least value, excluded when lo_open */
    int lo_open;
    double hi;  /* the greatest value (included) */
    const char *unit;
} analog_key_def;

#define AOFF(f) offsetof(cim_analog_config, f)
static const analog_key_def analog_keys[] = {
    {"g_on_us", AK_NUM, AOFF(g_on_us), 0, 1, HUGE_VAL, "uS"},
    {"g_off_us", AK_NUM, AOFF(g_off_us), 0, 0, HUGE_VAL, "uS"},
    {"v_read", AK_NUM, AOFF(v_read), 0, 1, HUGE_VAL, "V"},
    {"t_pulse_ns", AK_NUM, AOFF(t_pulse_ns), 0, 1, HUGE_VAL, "ns"},
    {"drive", AK_DRIVE, AOFF(drive), 0, 0, 0, NULL},
    {"temperature_k", AK_NUM, AOFF(temperature_k), 0, 1, HUGE_VAL, "K"},
    {"adcs_per_crossbar", AK_INT, AOFF(adcs_per_crossbar), 0, 0, CIM_MAX_COLS, NULL},
    {"read_noise_rel", AK_NUM, AOFF(read_noise_rel), 0, 0, HUGE_VAL, "fraction of G"},
    {"read_noise_us", AK_NUM, AOFF(read_noise_us), 0, 0, HUGE_VAL, "uS"},
    {"c_int_ff", AK_NUM, AOFF(c_int_ff), 0, 0, HUGE_VAL, "fF"},
    {"adc_noise_lsb", AK_NUM, AOFF(adc_noise_lsb), 0, 0, HUGE_VAL, "ADC steps"},
    {"prog_sigma_us", AK_NUM, AOFF(prog_sigma_us), 0, 0, HUGE_VAL, "uS"},
    {"prog_sigma_rel", AK_NUM, AOFF(prog_sigma_rel), 0, 0, HUGE_VAL, "fraction of G"},
    {"pcm_prog_noise", AK_BOOL, AOFF(pcm_prog_noise), 0, 0, 0, NULL},
    {"stuck_on", AK_NUM, AOFF(stuck_on), 0, 0, 1, "probability"},
    {"stuck_off", AK_NUM, AOFF(stuck_off), 0, 0, 1, "probability"},
    {"adc_offset_lsb", AK_NUM, AOFF(adc_offset_lsb), 0, 0, HUGE_VAL, "ADC steps"},
    {"adc_gain_sigma", AK_NUM, AOFF(adc_gain_sigma), 0, 0, HUGE_VAL, "relative"},
    {"zero_leak", AK_BOOL, AOFF(zero_leak), 0, 0, 0, NULL},
    {"pcm_drift", AK_BOOL, AOFF(pcm_drift), 0, 0, 0, NULL},
    {"t_inference_s", AK_NUM, AOFF(t_inference_s), 0, 0, HUGE_VAL, "s"},
    {"t0_s", AK_NUM, AOFF(t0_s), 0, 1, HUGE_VAL, "s"},
    {"drift_compensation", AK_BOOL, AOFF(drift_compensation), 0, 0, 0, NULL},
    {"pcm_read_noise", AK_PCMREAD, AOFF(pcm_read_noise), 0, 0, 0, NULL},
    {"t_read_ns", AK_NUM, AOFF(t_read_ns), 0, 1, HUGE_VAL, "ns"},
    {"ir_drop", AK_IR, AOFF(ir_drop), 0, 0, 0, NULL},
    {"r_wire_ohm", AK_NUM, AOFF(r_wire_ohm), 0, 0, HUGE_VAL, "Ohm per cell"},
    {"v_col", AK_NUM, AOFF(v_col), 0, 1, HUGE_VAL, "V"},
    {"v_idle", AK_NUM, AOFF(v_idle), 0, 1, HUGE_VAL, "V"},
};
#undef AOFF
#define N_ANALOG_KEYS (sizeof analog_keys / sizeof analog_keys[0])

static cim_status analog_key(yctx *y, const char *key, const yaml_node_t *v, cim_xbar_config *c, void *s)
{
    static const char *const drives[] = {"pulse_count", "pulse_width", "amplitude"};
    static const char *const irs[] = {"none", "static", "time"};
    static const char *const pcmr[] = {"off", "static", "per_read"};
    (void)s;
    const analog_key_def *d = NULL;
    for (size_t i = 0; i < N_ANALOG_KEYS && !d; i++)
        if (strcmp(analog_keys[i].key, key) == 0)
            d = &analog_keys[i];
    char full[64];
    snprintf(full, sizeof full, "analog.%.50s", key);
    if (!d) /* the full list (29 keys) would not fit a message */
        return yerr(y, v, full, "unknown key in 'analog' (docs/config.md lists them: g_on_us, g_off_us, v_read, "
                    "t_pulse_ns, drive, ..., read_noise_rel, c_int_ff, prog_sigma_us, stuck_on, pcm_drift, ir_drop, ...)");
    char *field = (char *)&c->analog + d->off;
    int e = 0;
    cim_status st;
    switch (d->kind) {
    case AK_INT:
        return get_int(y, v, full, (long)d->lo, (long)d->hi, (int *)(void *)field);
    case AK_BOOL:
        return get_bool(y, v, full, (int *)(void *)field);
    case AK_DRIVE:
        st = get_enum(y, v, full, drives, 3, &e);
        if (st == CIM_OK)
            c->analog.drive = (cim_drive)e;
        return st;
    case AK_IR:
        st = get_enum(y, v, full, irs, 3, &e);
        if (st == CIM_OK)
            c->analog.ir_drop = (cim_ir_drop)e;
        return st;
    case AK_PCMREAD:
        st = get_enum(y, v, full, pcmr, 3, &e);
        if (st == CIM_OK)
            c->analog.pcm_read_noise = (cim_pcm_read)e;
        return st;
    default: {
        double x;
        st = get_double(y, v, full, &x);
        if (st)
            return st;
        if (d->lo_open ? !(x > d->lo) : !(x >= d->lo))
            return yerr(y, v, full, "%g must be %s %g (%s)", x, d->lo_open ? ">" : ">=", d->lo, d->unit);
        if (x > d->hi)
            return yerr(y, v, full, "%g must be <= %g (%s)", x, d->hi, d->unit);
        *(double *)(void *)field = x;
        return CIM_OK;
    }
    }
}

/* The relations between analog keys, at the mapping's line (the whole config
 * is validated again later, cim_config_validate). */
static cim_status analog_block(yctx *y, const yaml_node_t *v, cim_xbar_config *c)
{
    cim_status st = each_key(y, v, "analog", analog_key, c, NULL);
    if (st)
        return st;
    const cim_analog_config *a = &c->analog;
    if (!(a->g_on_us > a->g_off_us))
        return yerr(y, v, "analog.g_on_us", "%g uS must be above analog.g_off_us = %g uS", a->g_on_us, a->g_off_us);
    if (a->stuck_on + a->stuck_off > 1.0)
        return yerr(y, v, "analog.stuck_on", "stuck_on + stuck_off = %g exceeds 1", a->stuck_on + a->stuck_off);
    return CIM_OK;
}

static cim_status spec_key(yctx *y, const char *key, const yaml_node_t *v, cim_xbar_config *c, void *s)
{
    int *seen_slices = s;
    if (strcmp(key, "slices") == 0) {
        *seen_slices = 1;
        return get_slices(y, v, "speculation.slices", &c->n_input_slices, c->input_slices);
    }
    if (strcmp(key, "recovery_bits") == 0)
        return get_int(y, v, "speculation.recovery_bits", 1, 8, &c->recovery_bits);
    return yerr(y, v, key, "unknown key in 'speculation' (known: slices, recovery_bits)");
}

typedef struct {
    int have_input_slices, have_speculation;
} top_state;

/* `description`, `name`, `sources`: documentation, but scalars; a preset's
 * description must be the one embedded for it at build time. */
static cim_status doc_key(yctx *y, const char *key, const yaml_node_t *v)
{
    const char *sv = cim__yaml_scalar(v);
    if (!sv)
        return yerr(y, v, key, "expected a string");
    if (strcmp(key, "description") == 0 && y->preset_desc && strcmp(sv, y->preset_desc) != 0)
        return yerr(y, v, key, "'%s' differs from the embedded one-line description '%s' (presets/embed.cmake "
                    "reads one double-quoted line without escapes)", sv, y->preset_desc);
    return CIM_OK;
}

static cim_status top_key(yctx *y, const char *key, const yaml_node_t *v, cim_xbar_config *c, void *s)
{
    static const char *const encs[] = {"offset", "differential", "center_offset"};
    static const char *const inencs[] = {"auto", "unsigned", "signed_split"};
    top_state *ts = s;
    int e = 0;
    cim_status st;
    if (strcmp(key, "base") == 0)
        return CIM_OK; /* applied before the other keys */
    if (strcmp(key, "name") == 0 || strcmp(key, "description") == 0 || strcmp(key, "sources") == 0)
        return doc_key(y, key, v);
    if (strcmp(key, "adaptive_weight_slicing") == 0) { /* cim_arch's; read by load_yaml */
        int on;
        return get_bool(y, v, key, &on);
    }
    if (strcmp(key, "layers") == 0)
        return CIM_OK; /* per-layer overrides: applied after the base (load_yaml) */
    if (strcmp(key, "rows") == 0)
        return get_int(y, v, key, 1, CIM_MAX_ROWS, &c->rows);
    if (strcmp(key, "cols") == 0)
        return get_int(y, v, key, 1, CIM_MAX_COLS, &c->cols);
    if (strcmp(key, "encoding") == 0) {
        st = get_enum(y, v, key, encs, 3, &e);
        c->encoding = (cim_encoding)e;
        return st;
    }
    if (strcmp(key, "flip") == 0)
        return get_bool(y, v, key, &c->flip);
    if (strcmp(key, "input_encoding") == 0) {
        st = get_enum(y, v, key, inencs, 3, &e);
        c->input_encoding = (cim_input_encoding)e;
        return st;
    }
    if (strcmp(key, "zx") == 0)
        return get_int(y, v, key, 0, 255, &c->zx);
    if (strcmp(key, "weight_slices") == 0)
        return get_slices(y, v, key, &c->n_weight_slices, c->weight_slices);
    if (strcmp(key, "input_slices") == 0) {
        if (ts->have_speculation)
            return yerr(y, v, key, "give either input_slices or speculation, not both");
        ts->have_input_slices = 1;
        c->speculation = 0;
        return get_slices(y, v, key, &c->n_input_slices, c->input_slices);
    }
    if (strcmp(key, "speculation") == 0) {
        if (ts->have_input_slices)
            return yerr(y, v, key, "give either input_slices or speculation, not both");
        ts->have_speculation = 1;
        const char *sv = cim__yaml_scalar(v);
        if (sv) { /* speculation: false turns it off */
            int on;
            st = get_bool(y, v, key, &on);
            if (st)
                return st;
            if (on)
                return yerr(y, v, key, "give {slices: [..], recovery_bits: n} to turn it on");
            c->speculation = 0;
            return CIM_OK;
        }
        int seen = 0;
        st = each_key(y, v, "speculation", spec_key, c, &seen);
        if (st)
            return st;
        if (!seen)
            return yerr(y, v, key, "missing 'slices' (e.g. slices: [4, 2, 2])");
        c->speculation = 1;
        return CIM_OK;
    }
    if (strcmp(key, "cell_bits") == 0)
        return get_int(y, v, key, 1, 8, &c->cell_bits);
    if (strcmp(key, "dac_bits") == 0)
        return get_int(y, v, key, 1, 8, &c->dac_bits);
    if (strcmp(key, "adc") == 0) {
        const char *sv = cim__yaml_scalar(v);
        if (sv && strcmp(sv, "none") == 0) { /* exact digital reads (no ADC) */
            c->adc.bits = 0;
            c->adc.drop_lsbs = 0;
            return CIM_OK;
        }
        if (sv)
            return yerr(y, v, key, "'%s': give a mapping {bits, signed, drop_lsbs} or none", sv);
        return each_key(y, v, "adc", adc_key, c, NULL);
    }
    if (strcmp(key, "noise") == 0)
        return each_key(y, v, "noise", noise_key, c, NULL);
    if (strcmp(key, "analog") == 0)
        return analog_block(y, v, c);
    return yerr(y, v, key,
                "unknown key (known: base, rows, cols, encoding, flip, input_encoding, zx, "
                "weight_slices, input_slices, speculation, cell_bits, dac_bits, adc, noise, analog, layers, "
                "adaptive_weight_slicing, name, description, sources)");
}

/* `layers:` of an arch file: each selector's keys on top of the base c. */
static cim_status load_layers(yctx *y, const yaml_node_t *layers, const cim_xbar_config *c, cim_arch *arch)
{
    if (layers->type != YAML_MAPPING_NODE)
        return yerr(y, layers, "layers", "expected a mapping from layer names (or first, last) to config keys");
    for (yaml_node_pair_t *p = layers->data.mapping.pairs.start; p < layers->data.mapping.pairs.top; p++) {
        const yaml_node_t *k = yaml_document_get_node(y->doc, p->key);
        const yaml_node_t *v = yaml_document_get_node(y->doc, p->value);
        const char *sel = cim__yaml_scalar(k);
        if (!sel || !sel[0] || strlen(sel) >= CIM_LAYER_NAME_MAX)
            return yerr(y, k, "layers", "a layer selector must be a name of 1 to %d characters",
                        CIM_LAYER_NAME_MAX - 1);
        if (arch->n_overrides == CIM_MAX_LAYER_OVERRIDES)
            return yerr(y, k, "layers", "more than %d layer overrides", CIM_MAX_LAYER_OVERRIDES);
        for (int i = 0; i < arch->n_overrides; i++)
            if (strcmp(arch->over[i].layer, sel) == 0)
                return yerr(y, k, "layers", "layer '%s' is given twice", sel);
        cim_layer_override *o = &arch->over[arch->n_overrides];
        o->cfg = *c;
        top_state ts = {0, 0};
        char prefix[CIM_LAYER_NAME_MAX + 16];
        snprintf(prefix, sizeof prefix, "layers.%s", sel);
        if (v && v->type == YAML_MAPPING_NODE)
            for (yaml_node_pair_t *q = v->data.mapping.pairs.start; q < v->data.mapping.pairs.top; q++) {
                const char *ks = cim__yaml_scalar(yaml_document_get_node(y->doc, q->key));
                if (ks && (strcmp(ks, "base") == 0 || strcmp(ks, "layers") == 0 ||
                           strcmp(ks, "adaptive_weight_slicing") == 0))
                    return yerr(y, v, prefix, "'%s' cannot be given per layer", ks);
            }
        cim_status st = each_key(y, v, prefix, top_key, &o->cfg, &ts);
        if (st)
            return st;
        char what[CIM_LAYER_NAME_MAX + 600];
        snprintf(what, sizeof what, "%s: %s", y->file, prefix);
        st = cim_config_validate(y->ctx, &o->cfg, what);
        if (st)
            return st;
        memcpy(o->layer, sel, strlen(sel) + 1);
        arch->n_overrides++;
    }
    return CIM_OK;
}

static cim_status preset_load(cim_ctx *ctx, const char *name, cim_xbar_config *c, int *adaptive, cim_arch *arch,
                              int depth);

/* Presets may start from other presets with `base:`; a chain this long is a cycle. */
#define PRESET_DEPTH_MAX 8

static void preset_list(char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = 0;
    for (const char *const *p = cim_config_preset_names(); *p && len < size; p++) {
        int n = snprintf(buf + len, size - len, "%s%s", len ? ", " : "", *p);
        len += n > 0 ? (size_t)n : 0;
    }
}

/* Parse a YAML config: the file `file` (text NULL), or the embedded text of a
 * preset (then `file` names it in messages and preset_desc is its embedded
 * description). Fills c (and, when not NULL, arch's overrides and *adaptive). */
static cim_status load_yaml(cim_ctx *ctx, const char *file, const char *text, const char *preset_desc,
                            cim_xbar_config *c, int *adaptive, cim_arch *arch, int depth)
{
    FILE *f = NULL;
    if (!text) {
        f = fopen(file, "rb");
        if (!f)
            return cim__err(ctx, CIM_ERR_IO, "%s: cannot open config: %s", file, strerror(errno));
    }
    yaml_document_t doc;
    cim_status st0 = cim__yaml_load(ctx, file, f, text, text ? strlen(text) : 0, CIM_ERR_CONFIG, &doc);
    if (f)
        fclose(f);
    if (st0)
        return st0;

    yctx y = {ctx, file, &doc, preset_desc};
    cim_status st = CIM_OK;
    int adapt = 0;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root) {
        st = cim__err(ctx, CIM_ERR_CONFIG, "%s: empty document (expected a mapping of config keys)",
                      file);
        goto done;
    }
    if (root->type != YAML_MAPPING_NODE) {
        st = cim__err(ctx, CIM_ERR_CONFIG, "%s:%lu: the document must be a mapping of config keys",
                      file, (unsigned long)root->start_mark.line + 1);
        goto done;
    }
    cim_config_default(c);
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
        const char *ks = cim__yaml_scalar(yaml_document_get_node(&doc, p->key));
        if (ks && strcmp(ks, "base") == 0) {
            yaml_node_t *v = yaml_document_get_node(&doc, p->value);
            const char *name = cim__yaml_scalar(v);
            if (!name || !cim_config_preset_description(name)) {
                char list[512];
                preset_list(list, sizeof list);
                st = yerr(&y, v, "base", "'%s' is not a preset (%s)", name ? name : "(not a scalar)", list);
                goto done;
            }
            if (depth >= PRESET_DEPTH_MAX) {
                st = yerr(&y, v, "base", "presets starting from presets %d deep: a cycle?", depth);
                goto done;
            }
            st = preset_load(ctx, name, c, &adapt, NULL, depth + 1); /* its config, not its layers */
            if (st)
                goto done;
        }
    }
    top_state ts = {0, 0};
    st = each_key(&y, root, "(top level)", top_key, c, &ts);
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; st == CIM_OK && p < root->data.mapping.pairs.top;
         p++) {
        const char *ks = cim__yaml_scalar(yaml_document_get_node(&doc, p->key));
        yaml_node_t *v = yaml_document_get_node(&doc, p->value);
        if (ks && strcmp(ks, "adaptive_weight_slicing") == 0)
            st = get_bool(&y, v, ks, &adapt);
        else if (ks && strcmp(ks, "layers") == 0 && arch) {
            st = cim_config_validate(ctx, c, file); /* the base first */
            if (st == CIM_OK)
                st = load_layers(&y, v, c, arch);
        }
    }
    if (st == CIM_OK && adaptive)
        *adaptive = adapt;
done:
    yaml_document_delete(&doc);
    return st;
}

/* A preset: its embedded YAML text through the loader. */
static cim_status preset_load(cim_ctx *ctx, const char *name, cim_xbar_config *c, int *adaptive, cim_arch *arch,
                              int depth)
{
    const char *text = name ? cim_config_preset_text(name) : NULL;
    if (!text) {
        char list[512];
        preset_list(list, sizeof list);
        return cim__err(ctx, CIM_ERR_CONFIG, "unknown preset '%s' (presets: %s; or give a YAML file path)",
                        name ? name : "(null)", list);
    }
    char file[CIM_LAYER_NAME_MAX + 32];
    snprintf(file, sizeof file, "preset %s (presets/%s.yaml)", name, name);
    return load_yaml(ctx, file, text, cim_config_preset_description(name), c, adaptive, arch, depth);
}

cim_status cim_config_preset(cim_ctx *ctx, const char *name, cim_xbar_config *c)
{
    if (!name || !c)
        return cim__err(ctx, CIM_ERR_ARG, "preset: NULL argument");
    cim_status st = preset_load(ctx, name, c, NULL, NULL, 0);
    if (st == CIM_OK)
        st = cim_config_validate(ctx, c, name);
    return st;
}

static cim_status config_load(cim_ctx *ctx, const char *spec, cim_xbar_config *c, int *adaptive, cim_arch *arch)
{
    if (!spec || !c)
        return cim__err(ctx, CIM_ERR_ARG, "config: NULL argument");
    cim_status st;
    struct stat sb;
    if (cim_config_preset_description(spec)) { /* preset names win; load a file of that name as ./NAME */
        st = preset_load(ctx, spec, c, adaptive, arch, 0);
    } else if (stat(spec, &sb) == 0) {
        if (!S_ISREG(sb.st_mode))
            return cim__err(ctx, CIM_ERR_IO, "%s: not a regular file", spec);
        if (sb.st_size > (1 << 20))
            return cim__err(ctx, CIM_ERR_CONFIG, "%s: %lld bytes is too large for a config", spec,
                            (long long)sb.st_size);
        st = load_yaml(ctx, spec, NULL, NULL, c, adaptive, arch, 0);
    } else {
        char list[512];
        int err = errno;
        preset_list(list, sizeof list);
        return cim__err(ctx, CIM_ERR_CONFIG, "config '%s' is neither a preset (%s) nor a readable YAML file: %s",
                        spec, list, strerror(err));
    }
    if (st)
        return st;
    return cim_config_validate(ctx, c, spec);
}

cim_status cim_config_load(cim_ctx *ctx, const char *spec, cim_xbar_config *c)
{
    return config_load(ctx, spec, c, NULL, NULL);
}

cim_status cim_arch_load(cim_ctx *ctx, const char *spec, cim_arch *arch)
{
    if (!spec || !arch)
        return cim__err(ctx, CIM_ERR_ARG, "arch: NULL argument");
    memset(arch, 0, sizeof *arch);
    snprintf(arch->name, sizeof arch->name, "%s", spec);
    return config_load(ctx, spec, &arch->base, &arch->adaptive_slicing, arch);
}

const cim_xbar_config *cim_arch_layer_config(const cim_arch *arch, const char *layer, int is_first, int is_last)
{
    const cim_xbar_config *first = NULL, *last = NULL;
    for (int i = 0; i < arch->n_overrides; i++) {
        const cim_layer_override *o = &arch->over[i];
        if (layer && strcmp(o->layer, layer) == 0)
            return &o->cfg;
        if (strcmp(o->layer, "last") == 0)
            last = &o->cfg;
        if (strcmp(o->layer, "first") == 0)
            first = &o->cfg;
    }
    if (is_last && last)
        return last;
    if (is_first && first)
        return first;
    return &arch->base;
}
