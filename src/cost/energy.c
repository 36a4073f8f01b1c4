/* energy.c: energy of a layer run from its counters (include/cimsim/energy.h,
 * docs/energy.md): energy specs (data/energy/NAME.yaml built in, or a user's
 * file) naming components of the library, and the per-event sums. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>
#include "cimsim/energy.h"
#include "cost_internal.h"
#include "../lib/yaml_read.h"

#define SPEC_FILE_MAX (1 << 20)

/* The built-in specs (generated from data/energy/NAME.yaml). */
extern const char *const cim__energy_names[];
extern const char *const cim__energy_texts[];

/* What a spec prices per event, after scaling to its node. */
enum { EV_DAC, EV_SH, EV_SA, EV_ISUM, EV_QUANT, EV_BUFFER, EV_BUS, EV_DIGITAL, EV_N };
static const char *const ev_key[EV_N] = {"dac", "sample_hold", "shift_add", "input_sum",
                                         "quantizer", "buffer", "bus", "digital"};

struct cim_energy_spec {
    cim_components *lib;
    char name[256];
    char description[256];
    double node_nm;
    int has_adc;
    int adc_bits;             /* > 0: pinned by the spec; 0: the layer's */
    cim_adc_spec adc;         /* model, node, rate, part (adc.part points into part_name) */
    char part_name[128];
    const cim_device *device; /* NULL: crossbar energy not counted */
    int has[EV_N];
    double pj[EV_N];          /* per event at node_nm; buffer: per byte; bus: per bit */
    int digital_per_mac;      /* digital: 1 = per MAC, 0 = per digital read */
};

static const char *const part_names[CIM_ENERGY_PARTS] = {
    "adc", "crossbar", "dac", "sample_hold", "shift_add", "input_sum", "quantization", "buffer", "bus", "digital"};

const char *cim_energy_part_name(cim_energy_part p)
{
    return (int)p >= 0 && p < CIM_ENERGY_PARTS ? part_names[p] : NULL;
}

/* ------------------------------------------------------------ parsing */

typedef struct {
    cim_ctx *ctx;
    const char *file;
    yaml_document_t *doc;
} ey;

static cim_status eyerr(ey *y, const yaml_node_t *n, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static cim_status eyerr(ey *y, const yaml_node_t *n, const char *key, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cim_status st = cim__yaml_verr(y->ctx, CIM_ERR_CONFIG, y->file, NULL, n, key, fmt, ap);
    va_end(ap);
    return st;
}

static yaml_node_t *node_of(ey *y, int id) { return yaml_document_get_node(y->doc, id); }

static cim_status eyerr_msg(void *y, const yaml_node_t *n, const char *key, const char *msg)
{
    return eyerr(y, n, key, "%s", msg);
}

static cim_status get_num(ey *y, const yaml_node_t *n, const char *key, double lo, double hi, double *out)
{
    return cim__yaml_double(y, eyerr_msg, n, key, lo, hi, 0, out);
}

/* A component of the library, scaled to the spec's node: its energy per
 * event. `none` leaves *has 0. */
static cim_status get_component(ey *y, cim_energy_spec *s, const yaml_node_t *n, const char *key, int *has,
                                const cim_component **out)
{
    const char *v = cim__yaml_scalar(n);
    *has = 0;
    *out = NULL;
    if (!v || !v[0])
        return eyerr(y, n, key, "expected a component name of the library (cimsim components lists them) or none");
    if (strcmp(v, "none") == 0)
        return CIM_OK;
    const cim_component *c = NULL;
    for (int i = 0; i < cim_components_count(s->lib); i++)
        if (strcmp(cim_components_at(s->lib, i)->name, v) == 0)
            c = cim_components_at(s->lib, i);
    if (!c)
        return eyerr(y, n, key, "component '%s' is not in the component library (cimsim components lists them)", v);
    *has = 1;
    *out = c;
    return CIM_OK;
}

static cim_status event_energy(ey *y, cim_energy_spec *s, const yaml_node_t *n, const char *key,
                               const cim_component *c, double *pj)
{
    cim_component_cost cc;
    cim_status st = cim_component_at_node(y->ctx, s->lib, c, s->node_nm, &cc);
    if (st)
        return eyerr(y, n, key, "component '%s' at %g nm: %s", c->name, s->node_nm, cim_ctx_errmsg(y->ctx));
    if (isnan(cc.energy_pj))
        return eyerr(y, n, key, "component '%s' has no energy per event (%s)", c->name, c->event ? c->event : "");
    *pj = cc.energy_pj;
    return CIM_OK;
}

static cim_status adc_key(ey *y, cim_energy_spec *s, const yaml_node_t *v)
{
    const char *sv = cim__yaml_scalar(v);
    if (sv && strcmp(sv, "none") == 0)
        return CIM_OK;
    if (!v || v->type != YAML_MAPPING_NODE)
        return eyerr(y, v, "adc", "expected {model: andrulis|part|envelope|floor, part, rate_hz, bits} or none");
    s->has_adc = 1;
    s->adc.model = CIM_ADC_MODEL_ANDRULIS;
    s->adc.rate_hz = NAN;
    int have_model = 0;
    const yaml_node_t *model_node = v;
    cim_status st = CIM_OK;
    for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top && !st; p++) {
        const yaml_node_t *k = node_of(y, p->key), *n = node_of(y, p->value);
        const char *ks = cim__yaml_scalar(k);
        if (!ks)
            return eyerr(y, k, "adc", "a key is not a plain string");
        if (strcmp(ks, "model") == 0) {
            const char *m = cim__yaml_scalar(n);
            if (!m || cim_adc_model_parse(y->ctx, m, &s->adc.model) != CIM_OK)
                return eyerr(y, n, "adc.model", "'%s' is not a model (andrulis, part, envelope, floor)", m ? m : "");
            have_model = 1;
            model_node = n;
        } else if (strcmp(ks, "part") == 0) {
            const char *m = cim__yaml_scalar(n);
            int has;
            const cim_component *c;
            if ((st = get_component(y, s, n, "adc.part", &has, &c)) != CIM_OK)
                return st;
            if (!has || !c->bits || !c->kind || strcmp(c->kind, "adc") != 0)
                return eyerr(y, n, "adc.part", "'%s' is not an ADC part with `bits`", m ? m : "");
            snprintf(s->part_name, sizeof s->part_name, "%s", c->name);
        } else if (strcmp(ks, "rate_hz") == 0) {
            st = get_num(y, n, "adc.rate_hz", 1e3, 1e12, &s->adc.rate_hz);
        } else if (strcmp(ks, "bits") == 0) {
            double b;
            st = get_num(y, n, "adc.bits", 1, CIM_MAX_ADC_BITS, &b);
            if (!st && b != floor(b))
                st = eyerr(y, n, "adc.bits", "expected an integer");
            s->adc_bits = (int)b;
        } else {
            st = eyerr(y, k, ks, "unknown key in adc (known: model, part, rate_hz, bits)");
        }
    }
    if (st)
        return st;
    if (!have_model)
        return eyerr(y, v, "adc.model", "missing (andrulis, part, envelope or floor)");
    if (s->adc.model == CIM_ADC_MODEL_PART && !s->part_name[0])
        return eyerr(y, model_node, "adc.part", "model 'part' needs a part (a component of kind adc, e.g. isaac.adc)");
    if (isnan(s->adc.rate_hz))
        return eyerr(y, v, "adc.rate_hz", "missing: the conversion rate of one ADC (the Andrulis model and the "
                     "areas need it)");
    s->adc.part = s->part_name[0] ? s->part_name : NULL;
    return CIM_OK;
}

static cim_status digital_key(ey *y, cim_energy_spec *s, const yaml_node_t *v, const yaml_node_t **comp_node,
                              const cim_component **comp)
{
    const char *sv = cim__yaml_scalar(v);
    *comp = NULL;
    if (sv && strcmp(sv, "none") == 0)
        return CIM_OK;
    if (!v || v->type != YAML_MAPPING_NODE)
        return eyerr(y, v, "digital", "expected {component: NAME, per: mac|read} or none");
    int have_per = 0;
    cim_status st = CIM_OK;
    for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top && !st; p++) {
        const yaml_node_t *k = node_of(y, p->key), *n = node_of(y, p->value);
        const char *ks = cim__yaml_scalar(k);
        if (!ks)
            return eyerr(y, k, "digital", "a key is not a plain string");
        if (strcmp(ks, "component") == 0) {
            st = get_component(y, s, n, "digital.component", &s->has[EV_DIGITAL], comp);
            *comp_node = n;
        } else if (strcmp(ks, "per") == 0) {
            const char *m = cim__yaml_scalar(n);
            if (m && strcmp(m, "mac") == 0)
                s->digital_per_mac = 1;
            else if (m && strcmp(m, "read") == 0)
                s->digital_per_mac = 0;
            else
                return eyerr(y, n, "digital.per", "'%s': expected mac or read", m ? m : "");
            have_per = 1;
        } else {
            st = eyerr(y, k, ks, "unknown key in digital (known: component, per)");
        }
    }
    if (st)
        return st;
    if (!*comp)
        return eyerr(y, v, "digital.component", "missing");
    if (!have_per)
        return eyerr(y, v, "digital.per", "missing (mac or read)");
    return CIM_OK;
}

/* Parse a document into s (s->lib loaded). */
static cim_status parse_spec(ey *y, cim_energy_spec *s)
{
    yaml_node_t *root = yaml_document_get_root_node(y->doc);
    if (!root)
        return cim__err(y->ctx, CIM_ERR_CONFIG, "%s: empty energy spec (docs/energy.md gives the format)", y->file);
    if (root->type != YAML_MAPPING_NODE)
        return eyerr(y, root, "(top level)", "the document must be a mapping (docs/energy.md)");
    enum { K_NODE, K_SOURCE, K_ADC, K_DEVICE, K_N };
    const char *const req[K_N] = {"node_nm", "source", "adc", "device"};
    int seen[K_N] = {0}, seen_ev[EV_N] = {0};
    const yaml_node_t *ev_node[EV_N] = {0}, *adc_node = NULL, *dev_node = NULL;
    const cim_component *ev_comp[EV_N] = {0};
    cim_status st = CIM_OK;
    /* node_nm first: the components are scaled to it */
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top && !st; p++) {
        const char *ks = cim__yaml_scalar(node_of(y, p->key));
        if (ks && strcmp(ks, "node_nm") == 0) {
            st = get_num(y, node_of(y, p->value), "node_nm", 1, 1000, &s->node_nm);
            seen[K_NODE] = 1;
        }
    }
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top && !st; p++) {
        const yaml_node_t *k = node_of(y, p->key), *v = node_of(y, p->value);
        const char *ks = cim__yaml_scalar(k);
        if (!ks) {
            st = eyerr(y, k, "(top level)", "a key is not a plain string");
            break;
        }
        int e = -1;
        for (int i = 0; i < EV_N; i++)
            if (strcmp(ks, ev_key[i]) == 0)
                e = i;
        if (strcmp(ks, "node_nm") == 0) {
            continue;
        } else if (strcmp(ks, "description") == 0) {
            const char *d = cim__yaml_scalar(v);
            if (!d)
                st = eyerr(y, v, ks, "expected a string");
            else
                snprintf(s->description, sizeof s->description, "%s", d);
        } else if (strcmp(ks, "source") == 0) {
            const char *d = cim__yaml_scalar(v);
            if (!d || !d[0])
                st = eyerr(y, v, ks, "expected a non-empty string: why these components (paper, section)");
            seen[K_SOURCE] = 1;
        } else if (strcmp(ks, "archs") == 0) {
            if (!v || v->type != YAML_SEQUENCE_NODE)
                st = eyerr(y, v, ks, "expected a list of preset names");
            for (yaml_node_item_t *it = v && v->type == YAML_SEQUENCE_NODE ? v->data.sequence.items.start : NULL;
                 it && it < v->data.sequence.items.top && !st; it++)
                if (!cim__yaml_scalar(node_of(y, *it)))
                    st = eyerr(y, node_of(y, *it), ks, "expected a preset name");
        } else if (strcmp(ks, "adc") == 0) {
            adc_node = v;
            st = adc_key(y, s, v);
            seen[K_ADC] = 1;
        } else if (strcmp(ks, "device") == 0) {
            const char *d = cim__yaml_scalar(v);
            dev_node = v;
            seen[K_DEVICE] = 1;
            if (!d || !d[0])
                st = eyerr(y, v, ks, "expected a device name of the library or none");
            else if (strcmp(d, "none") != 0 && cim_components_device(y->ctx, s->lib, d, &s->device) != CIM_OK)
                st = eyerr(y, v, ks, "device '%s' is not in the component library (cimsim components lists them)", d);
        } else if (e == EV_DIGITAL) {
            ev_node[e] = v;
            seen_ev[e] = 1;
            st = digital_key(y, s, v, &ev_node[e], &ev_comp[e]);
        } else if (e >= 0) {
            ev_node[e] = v;
            seen_ev[e] = 1;
            st = get_component(y, s, v, ks, &s->has[e], &ev_comp[e]);
        } else {
            st = eyerr(y, k, ks, "unknown key (known: description, source, archs, node_nm, adc, device, dac, "
                       "sample_hold, shift_add, input_sum, quantizer, buffer, bus, digital)");
        }
    }
    if (st)
        return st;
    for (int i = 0; i < K_N; i++)
        if (!seen[i])
            return eyerr(y, root, req[i], "missing (every component is named, or none)");
    for (int i = 0; i < EV_N; i++)
        if (!seen_ev[i])
            return eyerr(y, root, ev_key[i], "missing (a component name or none)");
    (void)adc_node;
    (void)dev_node;
    if (s->has_adc)
        s->adc.node_nm = s->node_nm;
    for (int i = 0; i < EV_N; i++) {
        if (!s->has[i])
            continue;
        const cim_component *c = ev_comp[i];
        if ((st = event_energy(y, s, ev_node[i], ev_key[i], c, &s->pj[i])) != CIM_OK)
            return st;
        if (i == EV_BUFFER) { /* per access of `bits` bits -> per byte */
            if (c->bits < 8)
                return eyerr(y, ev_node[i], ev_key[i], "buffer '%s' needs `bits` (the width of one access, >= 8)",
                             c->name);
            s->pj[i] /= (double)c->bits / 8.0;
        }
    }
    return CIM_OK;
}

static int is_file(const char *spec)
{
    size_t n = strlen(spec);
    return strchr(spec, '/') || (n > 5 && strcmp(spec + n - 5, ".yaml") == 0) ||
           (n > 4 && strcmp(spec + n - 4, ".yml") == 0);
}

const char *const *cim_energy_spec_names(void) { return cim__energy_names; }

const char *cim_energy_spec_text(const char *name)
{
    for (int i = 0; name && cim__energy_names[i]; i++)
        if (strcmp(cim__energy_names[i], name) == 0)
            return cim__energy_texts[i];
    return NULL;
}

/* Read a file of at most SPEC_FILE_MAX bytes into a NUL-terminated buffer. */
static cim_status read_file(cim_ctx *ctx, const char *path, char **out)
{
    struct stat sb;
    if (stat(path, &sb) != 0)
        return cim__err(ctx, CIM_ERR_IO, "%s: cannot open energy spec: %s", path, strerror(errno));
    if (!S_ISREG(sb.st_mode))
        return cim__err(ctx, CIM_ERR_IO, "%s: not a regular file", path);
    if (sb.st_size > SPEC_FILE_MAX)
        return cim__err(ctx, CIM_ERR_CONFIG, "%s: %lld bytes is too large for an energy spec", path,
                        (long long)sb.st_size);
    FILE *f = fopen(path, "rb");
    if (!f)
        return cim__err(ctx, CIM_ERR_IO, "%s: cannot open energy spec: %s", path, strerror(errno));
    char *buf = cim__malloc(ctx, (size_t)sb.st_size + 1);
    if (!buf) {
        fclose(f);
        return CIM_ERR_NOMEM;
    }
    size_t got = fread(buf, 1, (size_t)sb.st_size, f);
    int bad = ferror(f);
    fclose(f);
    if (bad || got != (size_t)sb.st_size) {
        cim__free(ctx, buf);
        return cim__err(ctx, CIM_ERR_IO, "%s: read failed", path);
    }
    buf[got] = 0;
    *out = buf;
    return CIM_OK;
}

cim_status cim_energy_spec_load(cim_ctx *ctx, const char *spec, const char *components_path, cim_energy_spec **out)
{
    if (!spec || !out)
        return cim__err(ctx, CIM_ERR_ARG, "energy spec: NULL argument");
    *out = NULL;
    char *buf = NULL;
    const char *text = NULL;
    char file[300];
    cim_status st = CIM_OK;
    if (is_file(spec)) {
        if ((st = read_file(ctx, spec, &buf)) != CIM_OK)
            return st;
        text = buf;
        snprintf(file, sizeof file, "%s", spec);
    } else {
        text = cim_energy_spec_text(spec);
        if (!text) {
            char names[256] = "";
            for (int i = 0; cim__energy_names[i]; i++)
                snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? ", " : "",
                         cim__energy_names[i]);
            return cim__err(ctx, CIM_ERR_CONFIG, "energy spec '%s': not a built-in spec (%s) nor a file (a path "
                            "with '/' or ending in .yaml)", spec, names);
        }
        snprintf(file, sizeof file, "data/energy/%s.yaml (built in)", spec);
    }
    cim_energy_spec *s = cim__calloc(ctx, 1, sizeof *s);
    if (!s) {
        cim__free(ctx, buf);
        return CIM_ERR_NOMEM;
    }
    snprintf(s->name, sizeof s->name, "%s", spec);
    if ((st = cim_components_load(ctx, components_path, &s->lib)) != CIM_OK)
        goto fail;
    yaml_document_t doc;
    if ((st = cim__yaml_load(ctx, file, NULL, text, strlen(text), CIM_ERR_CONFIG, &doc)) != CIM_OK)
        goto fail;
    ey y = {ctx, file, &doc};
    st = parse_spec(&y, s);
    yaml_document_delete(&doc);
    if (st)
        goto fail;
    cim__free(ctx, buf);
    *out = s;
    return CIM_OK;
fail:
    cim__free(ctx, buf);
    cim_energy_spec_free(ctx, s);
    return st;
}

void cim_energy_spec_free(cim_ctx *ctx, cim_energy_spec *s)
{
    if (!s)
        return;
    cim_components_free(ctx, s->lib);
    cim__free(ctx, s);
}

/* Does the built-in text list `arch` under archs:? */
static int lists_arch(const char *text, const char *arch)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&parser))
        return 0;
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, strlen(text));
    int ok = yaml_parser_load(&parser, &doc), found = 0;
    yaml_parser_delete(&parser);
    if (!ok)
        return 0;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    for (yaml_node_pair_t *p = root && root->type == YAML_MAPPING_NODE ? root->data.mapping.pairs.start : NULL;
         p && p < root->data.mapping.pairs.top; p++) {
        const char *ks = cim__yaml_scalar(yaml_document_get_node(&doc, p->key));
        yaml_node_t *v = yaml_document_get_node(&doc, p->value);
        if (!ks || strcmp(ks, "archs") != 0 || !v || v->type != YAML_SEQUENCE_NODE)
            continue;
        for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
            const char *a = cim__yaml_scalar(yaml_document_get_node(&doc, *it));
            if (a && strcmp(a, arch) == 0)
                found = 1;
        }
    }
    yaml_document_delete(&doc);
    return found;
}

const char *cim_energy_spec_default(const char *arch_name)
{
    for (int i = 0; arch_name && cim__energy_names[i]; i++)
        if (lists_arch(cim__energy_texts[i], arch_name))
            return cim__energy_names[i];
    return NULL;
}

const char *cim_energy_spec_name(const cim_energy_spec *s) { return s ? s->name : NULL; }
const char *cim_energy_spec_description(const cim_energy_spec *s) { return s ? s->description : NULL; }
double cim_energy_spec_node(const cim_energy_spec *s) { return s ? s->node_nm : NAN; }

/* ------------------------------------------------------------- energy */

cim_status cim_energy_adc_pj(cim_ctx *ctx, const cim_energy_spec *s, int bits, double *pj)
{
    if (!s || !pj)
        return cim__err(ctx, CIM_ERR_ARG, "energy: NULL argument");
    *pj = 0;
    if (!s->has_adc || (bits <= 0 && s->adc_bits <= 0))
        return CIM_OK;
    cim_adc_spec a = s->adc;
    a.bits = s->adc_bits > 0 ? s->adc_bits : bits;
    cim_adc_estimate e;
    cim_status st = cim_adc_estimate_spec(ctx, s->lib, &a, &e);
    if (st)
        return st;
    *pj = e.energy_pj;
    return CIM_OK;
}

double cim_energy_row_utilization(const cim_layer_info *info, const cim_xbar_config *cfg)
{
    if (!info || !cfg || info->cols_used == 0 || info->crossbars == 0)
        return 1.0;
    /* sum(rows_used x cols_used) = utilization x crossbars x rows x cols */
    double u = info->utilization * (double)info->crossbars * (double)cfg->cols / (double)info->cols_used;
    return u > 1.0 ? 1.0 : u;
}

static void titanium(cim_energy *e)
{
    cim_titanium *t = &e->titanium;
    t->macs = e->macs;
    t->energy_per_convert_pj = e->converts > 0 ? e->pj[CIM_ENERGY_ADC] / e->converts : 0.0;
    /* utilization weighted by the column reads (conversions, or digital reads) */
    t->utilization = e->reads_util > 0 && e->reads > 0 ? e->reads_util / e->reads : 1.0;
    t->converts_per_mac = e->macs > 0 ? e->converts * t->utilization / e->macs : 0.0;
}

cim_status cim_energy_layer(cim_ctx *ctx, const cim_energy_spec *s, const cim_xbar_config *cfg, const cim_stats *st,
                            const cim_layer_info *info, cim_energy *out)
{
    if (!s || !cfg || !st || !info || !out)
        return cim__err(ctx, CIM_ERR_ARG, "energy: NULL argument");
    memset(out, 0, sizeof *out);
    const char *name = s->name;
    double conv = (double)st->adc_converts, dread = (double)st->digital_reads;
    if (conv > 0 && !s->has_adc)
        return cim__err(ctx, CIM_ERR_CONFIG, "energy spec %s: the run made %llu ADC conversions but the spec has "
                        "adc: none", name, (unsigned long long)st->adc_converts);
    if (dread > 0 && !s->has[EV_DIGITAL])
        return cim__err(ctx, CIM_ERR_CONFIG, "energy spec %s: the run read %llu column sums digitally (adc: none) "
                        "but the spec has digital: none", name, (unsigned long long)st->digital_reads);
    double adc_pj = 0;
    cim_status rc;
    if (conv > 0 && (rc = cim_energy_adc_pj(ctx, s, cfg->adc.bits, &adc_pj)) != CIM_OK)
        return rc;
    out->pj[CIM_ENERGY_ADC] = conv * adc_pj;
    if (s->device && st->dac_pulses > 0 && info->rows_used > 0) {
        double e;
        rc = cim_crossbar_read_energy(ctx, s->device, cfg->cell_bits, (double)st->device_activations,
                                      cim_crossbar_device_pulses(st, info), &e);
        if (rc)
            return rc;
        out->pj[CIM_ENERGY_CROSSBAR] = e;
    }
    double outputs = (double)st->vectors * (double)info->N;
    double bytes = (double)st->vectors * ((double)info->K + (double)info->N);
    out->pj[CIM_ENERGY_DAC] = (double)st->dac_pulses * s->pj[EV_DAC];
    out->pj[CIM_ENERGY_SAMPLE_HOLD] = conv * s->pj[EV_SH];
    out->pj[CIM_ENERGY_SHIFT_ADD] = (conv + dread) * s->pj[EV_SA];
    out->pj[CIM_ENERGY_INPUT_SUM] = (double)st->input_sum_adds * s->pj[EV_ISUM];
    out->pj[CIM_ENERGY_QUANTIZATION] = outputs * s->pj[EV_QUANT];
    out->pj[CIM_ENERGY_BUFFER] = bytes * s->pj[EV_BUFFER];
    out->pj[CIM_ENERGY_BUS] = bytes * 8.0 * s->pj[EV_BUS];
    out->pj[CIM_ENERGY_DIGITAL] = (s->digital_per_mac ? (double)st->macs : dread) * s->pj[EV_DIGITAL];
    for (int i = 0; i < CIM_ENERGY_PARTS; i++)
        out->total_pj += out->pj[i];
    out->converts = conv;
    out->reads = conv + dread;
    out->reads_util = out->reads * cim_energy_row_utilization(info, cfg);
    out->macs = (double)st->macs;
    titanium(out);
    return CIM_OK;
}

void cim_energy_add(cim_energy *dst, const cim_energy *src)
{
    if (!dst || !src)
        return;
    for (int i = 0; i < CIM_ENERGY_PARTS; i++)
        dst->pj[i] += src->pj[i];
    dst->total_pj += src->total_pj;
    dst->converts += src->converts;
    dst->reads += src->reads;
    dst->reads_util += src->reads_util;
    dst->macs += src->macs;
    titanium(dst);
}

void cim_energy_scale(cim_energy *e, double f)
{
    if (!e)
        return;
    for (int i = 0; i < CIM_ENERGY_PARTS; i++)
        e->pj[i] *= f;
    e->total_pj *= f;
    e->converts *= f;
    e->reads *= f;
    e->reads_util *= f;
    e->macs *= f;
    titanium(e);
}
