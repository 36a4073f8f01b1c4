/* components.c: the component library: data/components/NAME.yaml (built in)
 * and users' component files, parsed with libyaml's document API. Every
 * number must name its source; every error names the file, line, entry and
 * key (docs/cost.md gives the format). */
#include <errno.h>
#include <stddef.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>
#include "cost_internal.h"
#include "../lib/yaml_read.h"

#define COMPONENT_FILE_MAX (1 << 20)

typedef struct {
    cim_ctx *ctx;
    const char *file;    /* as named in messages */
    yaml_document_t *doc;
    cim_components *lib;
    const char *entry;   /* the entry being read (NULL at top level) */
} cy;

static cim_status cyerr(cy *y, const yaml_node_t *n, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static cim_status cyerr(cy *y, const yaml_node_t *n, const char *key, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cim_status st = cim__yaml_verr(y->ctx, CIM_ERR_CONFIG, y->file, y->entry, n, key, fmt, ap);
    va_end(ap);
    return st;
}

static yaml_node_t *node_of(cy *y, int id) { return yaml_document_get_node(y->doc, id); }

/* Grow an array of `size`-byte items to hold one more. */
static cim_status grow(cim_ctx *ctx, void **arr, int *cap, int n, size_t size)
{
    if (n < *cap)
        return CIM_OK;
    int nc = *cap ? *cap * 2 : 16;
    void *p = cim__malloc(ctx, (size_t)nc * size);
    if (!p)
        return CIM_ERR_NOMEM;
    if (*arr)
        memcpy(p, *arr, (size_t)n * size);
    cim__free(ctx, *arr);
    *arr = p;
    *cap = nc;
    return CIM_OK;
}

/* A copy of s owned by the library. */
static cim_status own(cy *y, const char *s, const char **out)
{
    cim_components *lib = y->lib;
    cim_status st = grow(y->ctx, (void **)&lib->strs, &lib->cap_strs, lib->n_strs, sizeof *lib->strs);
    if (st)
        return st;
    size_t len = strlen(s);
    char *c = cim__malloc(y->ctx, len + 1);
    if (!c)
        return CIM_ERR_NOMEM;
    memcpy(c, s, len + 1);
    lib->strs[lib->n_strs++] = c;
    *out = c;
    return CIM_OK;
}

static cim_status get_str(cy *y, const yaml_node_t *n, const char *key, const char **out)
{
    const char *s = cim__yaml_scalar(n);
    if (!s)
        return cyerr(y, n, key, "expected a string");
    return own(y, s, out);
}

/* A finite number >= lo (lo_open: > lo). */
static cim_status cyerr_msg(void *y, const yaml_node_t *n, const char *key, const char *msg)
{
    return cyerr(y, n, key, "%s", msg);
}

static cim_status get_num(cy *y, const yaml_node_t *n, const char *key, double lo, int lo_open, double *out)
{
    return cim__yaml_double(y, cyerr_msg, n, key, lo, INFINITY, lo_open, out);
}

static cim_status get_int(cy *y, const yaml_node_t *n, const char *key, long lo, long hi, int *out)
{
    return cim__yaml_int(y, cyerr_msg, n, key, lo, hi, out);
}

static cim_status need_source(cy *y, const yaml_node_t *n, const char *source)
{
    if (!source || !source[0])
        return cyerr(y, n, "source", "missing: every number must name its source (paper, table, section)");
    return CIM_OK;
}

/* ---- components ---- */

static cim_status by_bits_entry(cy *y, const yaml_node_t *k, const yaml_node_t *v, cim_component *c)
{
    if (c->n_by_bits == (int)(sizeof c->by_bits / sizeof c->by_bits[0]))
        return cyerr(y, k, "by_bits", "more than 16 resolutions");
    int i = c->n_by_bits;
    cim_status st = get_int(y, k, "by_bits", 1, 32, &c->by_bits[i]);
    if (st)
        return st;
    if (!v || v->type != YAML_MAPPING_NODE)
        return cyerr(y, v, "by_bits", "expected {energy_pj: E, area_um2: A} for %d bits", c->by_bits[i]);
    c->by_bits_energy_pj[i] = NAN;
    c->by_bits_area_um2[i] = NAN;
    for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
        const yaml_node_t *kk = node_of(y, p->key), *vv = node_of(y, p->value);
        const char *ks = cim__yaml_scalar(kk);
        if (ks && strcmp(ks, "energy_pj") == 0)
            st = get_num(y, vv, "by_bits.energy_pj", 0, 0, &c->by_bits_energy_pj[i]);
        else if (ks && strcmp(ks, "area_um2") == 0)
            st = get_num(y, vv, "by_bits.area_um2", 0, 0, &c->by_bits_area_um2[i]);
        else
            st = cyerr(y, kk, ks ? ks : "by_bits", "unknown key in by_bits (known: energy_pj, area_um2)");
        if (st)
            return st;
    }
    if (isnan(c->by_bits_energy_pj[i]))
        return cyerr(y, v, "by_bits", "%d bits: missing energy_pj", c->by_bits[i]);
    for (int j = 0; j < i; j++)
        if (c->by_bits[j] == c->by_bits[i])
            return cyerr(y, k, "by_bits", "%d bits given twice", c->by_bits[i]);
    c->n_by_bits++;
    return CIM_OK;
}

static cim_status component_entry(cy *y, const char *name, const yaml_node_t *v, cim_component *c)
{
    memset(c, 0, sizeof *c);
    c->energy_pj = c->power_mw = c->area_um2 = c->node_nm = c->vdd_v = NAN;
    c->energy_per_bit = c->area_per_bit = NAN;
    c->notes = "";
    if (!v || v->type != YAML_MAPPING_NODE)
        return cyerr(y, v, name, "expected a mapping of keys (kind, event, energy_pj, ..., source)");
    double rate = NAN, area_mm2 = NAN, count = 1;
    int have_count = 0;
    cim_status st = CIM_OK;
    for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top && !st; p++) {
        const yaml_node_t *k = node_of(y, p->key), *n = node_of(y, p->value);
        const char *ks = cim__yaml_scalar(k);
        if (!ks)
            return cyerr(y, k, name, "a key is not a plain string");
        if (strcmp(ks, "kind") == 0)
            st = get_str(y, n, ks, &c->kind);
        else if (strcmp(ks, "event") == 0)
            st = get_str(y, n, ks, &c->event);
        else if (strcmp(ks, "source") == 0)
            st = get_str(y, n, ks, &c->source);
        else if (strcmp(ks, "notes") == 0)
            st = get_str(y, n, ks, &c->notes);
        else if (strcmp(ks, "energy_pj") == 0)
            st = get_num(y, n, ks, 0, 0, &c->energy_pj);
        else if (strcmp(ks, "power_mw") == 0)
            st = get_num(y, n, ks, 0, 0, &c->power_mw);
        else if (strcmp(ks, "rate_hz") == 0)
            st = get_num(y, n, ks, 0, 1, &rate);
        else if (strcmp(ks, "table_count") == 0) {
            int tc = 0;
            st = get_int(y, n, ks, 1, 1000000000L, &tc);
            count = tc;
            have_count = 1;
        } else if (strcmp(ks, "area_um2") == 0)
            st = get_num(y, n, ks, 0, 0, &c->area_um2);
        else if (strcmp(ks, "area_mm2") == 0)
            st = get_num(y, n, ks, 0, 0, &area_mm2);
        else if (strcmp(ks, "node_nm") == 0)
            st = get_num(y, n, ks, 0, 1, &c->node_nm);
        else if (strcmp(ks, "vdd_v") == 0)
            st = get_num(y, n, ks, 0, 1, &c->vdd_v);
        else if (strcmp(ks, "bits") == 0)
            st = get_int(y, n, ks, 0, 1 << 30, &c->bits);
        else if (strcmp(ks, "energy_per_bit") == 0)
            st = get_num(y, n, ks, 0, 1, &c->energy_per_bit);
        else if (strcmp(ks, "area_per_bit") == 0)
            st = get_num(y, n, ks, 0, 1, &c->area_per_bit);
        else if (strcmp(ks, "by_bits") == 0) {
            if (!n || n->type != YAML_MAPPING_NODE)
                return cyerr(y, n, ks, "expected a mapping from bits to {energy_pj, area_um2}");
            for (yaml_node_pair_t *q = n->data.mapping.pairs.start; q < n->data.mapping.pairs.top && !st; q++)
                st = by_bits_entry(y, node_of(y, q->key), node_of(y, q->value), c);
        } else
            return cyerr(y, k, ks,
                         "unknown key (known: kind, event, energy_pj, power_mw, rate_hz, table_count, area_um2, "
                         "area_mm2, node_nm, vdd_v, bits, energy_per_bit, area_per_bit, by_bits, source, notes)");
    }
    if (st)
        return st;
    if ((st = need_source(y, v, c->source)))
        return st;
    if (!c->kind)
        return cyerr(y, v, "kind", "missing (adc, dac, crossbar, buffer, digital, ...)");
    if (!c->event)
        return cyerr(y, v, "event", "missing: say what one event is");
    if (isnan(c->node_nm))
        return cyerr(y, v, "node_nm", "missing: the technology node the numbers are for");
    if (!isnan(c->area_um2) && !isnan(area_mm2))
        return cyerr(y, v, "area_mm2", "give area_um2 or area_mm2, not both");
    if (!isnan(area_mm2))
        c->area_um2 = area_mm2 * 1e6;
    if (!isnan(rate) && isnan(c->power_mw))
        return cyerr(y, v, "rate_hz", "needs power_mw (energy per event = power / rate)");
    if (have_count && isnan(c->power_mw) && isnan(c->area_um2))
        return cyerr(y, v, "table_count", "needs power_mw or an area to divide");
    /* Table totals to one instance. */
    if (!isnan(c->power_mw))
        c->power_mw /= count;
    if (!isnan(c->area_um2))
        c->area_um2 /= count;
    if (isnan(c->energy_pj) && !isnan(rate))
        c->energy_pj = c->power_mw * 1e-3 / rate * 1e12; /* W / (events/s) = J per event */
    if (isnan(c->energy_pj) && isnan(c->power_mw))
        return cyerr(y, v, "energy_pj", "missing: give energy_pj, or power_mw (with rate_hz for an energy per event)");
    if ((c->n_by_bits || !isnan(c->energy_per_bit) || !isnan(c->area_per_bit)) && c->bits <= 0)
        return cyerr(y, v, "bits", "an ADC part (energy_per_bit, area_per_bit or by_bits) needs its resolution in bits");
    return CIM_OK;
}

/* The named entries of a `components:` or `devices:` mapping, each parsed by
 * fn(y, name, key node, value node) with y->entry naming it in messages. */
typedef cim_status (*entry_fn)(cy *y, const char *name, const yaml_node_t *k, const yaml_node_t *v);

static cim_status each_entry(cy *y, const yaml_node_t *v, const char *section, const char *what, entry_fn fn)
{
    if (!v || v->type != YAML_MAPPING_NODE)
        return cyerr(y, v, section, "expected a mapping from %s names to their keys", what);
    for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
        const yaml_node_t *k = node_of(y, p->key);
        const char *name = cim__yaml_scalar(k);
        if (!name || !name[0])
            return cyerr(y, k, section, "a %s name must be a non-empty string", what);
        y->entry = name;
        cim_status st = fn(y, name, k, node_of(y, p->value));
        y->entry = NULL;
        if (st)
            return st;
    }
    return CIM_OK;
}

/* The slot of entry `name` in an array of n items of `size` bytes whose name
 * and file pointers sit at name_off and file_off: an entry of a later file
 * replaces the earlier one, the same name twice in one file is an error; a
 * new name gets a new slot at the end (the array grown, *n counted). */
static cim_status entry_slot(cy *y, const yaml_node_t *k, const char *name, const char *what, void **arr, int *n,
                             int *cap, size_t size, size_t name_off, size_t file_off, int *slot)
{
    for (int i = 0; i < *n; i++) {
        const char *item = (const char *)*arr + (size_t)i * size;
        const char *iname = *(const char *const *)(const void *)(item + name_off);
        const char *ifile = *(const char *const *)(const void *)(item + file_off);
        if (strcmp(iname, name) == 0) {
            if (strcmp(ifile, y->file) == 0)
                return cyerr(y, k, name, "%s given twice in this file", what);
            *slot = i; /* a later file replaces it */
            return CIM_OK;
        }
    }
    cim_status st = grow(y->ctx, arr, cap, *n, size);
    if (st)
        return st;
    *slot = (*n)++;
    return CIM_OK;
}

static cim_status component_one(cy *y, const char *name, const yaml_node_t *k, const yaml_node_t *v)
{
    cim_components *lib = y->lib;
    cim_component c;
    int slot = 0;
    cim_status st = component_entry(y, name, v, &c);
    if (st == CIM_OK) /* the strings live in the library (own), so an error below leaks nothing */
        st = own(y, name, &c.name);
    if (st == CIM_OK)
        st = own(y, y->file, &c.file);
    if (st == CIM_OK) /* last: a new slot is counted at once, and is filled right below */
        st = entry_slot(y, k, name, "component", (void **)&lib->comp, &lib->n_comp, &lib->cap_comp, sizeof c,
                        offsetof(cim_component, name), offsetof(cim_component, file), &slot);
    if (st)
        return st;
    c.line = (int)k->start_mark.line + 1;
    lib->comp[slot] = c;
    return CIM_OK;
}

/* ---- devices ---- */

static cim_status device_entry(cy *y, const char *name, const yaml_node_t *v, cim_device *d)
{
    memset(d, 0, sizeof *d);
    d->r_on_ohm = d->r_off_ohm = d->read_v = d->pulse_ns = d->cell_area_um2 = d->node_nm = NAN;
    d->notes = "";
    if (!v || v->type != YAML_MAPPING_NODE)
        return cyerr(y, v, name, "expected a mapping of keys (r_on_ohm, r_off_ohm, read_v, pulse_ns, ...)");
    double f2 = NAN;
    cim_status st = CIM_OK;
    for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top && !st; p++) {
        const yaml_node_t *k = node_of(y, p->key), *n = node_of(y, p->value);
        const char *ks = cim__yaml_scalar(k);
        if (!ks)
            return cyerr(y, k, name, "a key is not a plain string");
        if (strcmp(ks, "r_on_ohm") == 0)
            st = get_num(y, n, ks, 0, 1, &d->r_on_ohm);
        else if (strcmp(ks, "r_off_ohm") == 0)
            st = get_num(y, n, ks, 0, 1, &d->r_off_ohm);
        else if (strcmp(ks, "read_v") == 0)
            st = get_num(y, n, ks, 0, 1, &d->read_v);
        else if (strcmp(ks, "pulse_ns") == 0)
            st = get_num(y, n, ks, 0, 1, &d->pulse_ns);
        else if (strcmp(ks, "cell_area_um2") == 0)
            st = get_num(y, n, ks, 0, 1, &d->cell_area_um2);
        else if (strcmp(ks, "cell_area_f2") == 0)
            st = get_num(y, n, ks, 0, 1, &f2);
        else if (strcmp(ks, "node_nm") == 0)
            st = get_num(y, n, ks, 0, 1, &d->node_nm);
        else if (strcmp(ks, "source") == 0)
            st = get_str(y, n, ks, &d->source);
        else if (strcmp(ks, "notes") == 0)
            st = get_str(y, n, ks, &d->notes);
        else
            return cyerr(y, k, ks, "unknown key (known: r_on_ohm, r_off_ohm, read_v, pulse_ns, cell_area_um2, "
                                   "cell_area_f2, node_nm, source, notes)");
    }
    if (st)
        return st;
    if ((st = need_source(y, v, d->source)))
        return st;
    static const char *const req[] = {"r_on_ohm", "r_off_ohm", "read_v", "pulse_ns", "node_nm"};
    const double vals[] = {d->r_on_ohm, d->r_off_ohm, d->read_v, d->pulse_ns, d->node_nm};
    for (int i = 0; i < 5; i++)
        if (isnan(vals[i]))
            return cyerr(y, v, req[i], "missing");
    if (d->r_on_ohm >= d->r_off_ohm)
        return cyerr(y, v, "r_on_ohm", "%g must be below r_off_ohm %g", d->r_on_ohm, d->r_off_ohm);
    if (!isnan(f2) && !isnan(d->cell_area_um2))
        return cyerr(y, v, "cell_area_f2", "give cell_area_um2 or cell_area_f2, not both");
    if (!isnan(f2))
        d->cell_area_um2 = f2 * (d->node_nm * 1e-3) * (d->node_nm * 1e-3);
    if (isnan(d->cell_area_um2))
        return cyerr(y, v, "cell_area_um2", "missing (or cell_area_f2)");
    return CIM_OK;
}

static cim_status device_one(cy *y, const char *name, const yaml_node_t *k, const yaml_node_t *v)
{
    cim_components *lib = y->lib;
    cim_device d;
    int slot = 0;
    cim_status st = device_entry(y, name, v, &d);
    if (st == CIM_OK) /* the strings live in the library (own), so an error below leaks nothing */
        st = own(y, name, &d.name);
    if (st == CIM_OK)
        st = own(y, y->file, &d.file);
    if (st == CIM_OK) /* last: a new slot is counted at once, and is filled right below */
        st = entry_slot(y, k, name, "device", (void **)&lib->dev, &lib->n_dev, &lib->cap_dev, sizeof d,
                        offsetof(cim_device, name), offsetof(cim_device, file), &slot);
    if (st)
        return st;
    d.line = (int)k->start_mark.line + 1;
    lib->dev[slot] = d;
    return CIM_OK;
}

/* ---- technology ---- */

static cim_status technology_key(cy *y, const yaml_node_t *v)
{
    if (!v || v->type != YAML_SEQUENCE_NODE)
        return cyerr(y, v, "technology", "expected a list of {node_nm, vdd_v, source}");
    cim_components *lib = y->lib;
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
        const yaml_node_t *e = node_of(y, *it);
        if (!e || e->type != YAML_MAPPING_NODE)
            return cyerr(y, e, "technology", "expected {node_nm, vdd_v, source}");
        cim_tech_node t = {NAN, NAN, NULL};
        cim_status st = CIM_OK;
        for (yaml_node_pair_t *p = e->data.mapping.pairs.start; p < e->data.mapping.pairs.top && !st; p++) {
            const yaml_node_t *k = node_of(y, p->key), *n = node_of(y, p->value);
            const char *ks = cim__yaml_scalar(k);
            if (ks && strcmp(ks, "node_nm") == 0)
                st = get_num(y, n, "technology.node_nm", 0, 1, &t.node_nm);
            else if (ks && strcmp(ks, "vdd_v") == 0)
                st = get_num(y, n, "technology.vdd_v", 0, 1, &t.vdd_v);
            else if (ks && strcmp(ks, "source") == 0)
                st = get_str(y, n, "technology.source", &t.source);
            else
                st = cyerr(y, k, ks ? ks : "technology", "unknown key in technology (known: node_nm, vdd_v, source)");
        }
        if (st)
            return st;
        if (isnan(t.node_nm) || isnan(t.vdd_v))
            return cyerr(y, e, "technology", "each entry needs node_nm and vdd_v");
        if (!t.source || !t.source[0])
            return cyerr(y, e, "technology.source", "missing: every number must name its source");
        int slot = -1;
        for (int i = 0; i < lib->n_node; i++)
            if (lib->node[i].node_nm == t.node_nm)
                slot = i;
        if (slot < 0) {
            st = grow(y->ctx, (void **)&lib->node, &lib->cap_node, lib->n_node, sizeof *lib->node);
            if (st)
                return st;
            slot = lib->n_node++;
        }
        lib->node[slot] = t;
        /* keep sorted by decreasing node */
        for (int i = slot; i > 0 && lib->node[i - 1].node_nm < lib->node[i].node_nm; i--) {
            cim_tech_node tmp = lib->node[i];
            lib->node[i] = lib->node[i - 1];
            lib->node[i - 1] = tmp;
        }
        for (int i = slot; i + 1 < lib->n_node && lib->node[i + 1].node_nm > lib->node[i].node_nm; i++) {
            cim_tech_node tmp = lib->node[i];
            lib->node[i] = lib->node[i + 1];
            lib->node[i + 1] = tmp;
        }
    }
    return CIM_OK;
}

/* ---- files ---- */

/* Parse one file (text NULL: read `file` from disk) into lib. */
static cim_status load_one(cim_ctx *ctx, cim_components *lib, const char *file, const char *text)
{
    FILE *f = NULL;
    if (!text) {
        struct stat sb;
        if (stat(file, &sb) != 0)
            return cim__err(ctx, CIM_ERR_IO, "%s: cannot open component file: %s", file, strerror(errno));
        if (!S_ISREG(sb.st_mode))
            return cim__err(ctx, CIM_ERR_IO, "%s: not a regular file", file);
        if (sb.st_size > COMPONENT_FILE_MAX)
            return cim__err(ctx, CIM_ERR_CONFIG, "%s: %lld bytes is too large for a component file", file,
                            (long long)sb.st_size);
        f = fopen(file, "rb");
        if (!f)
            return cim__err(ctx, CIM_ERR_IO, "%s: cannot open component file: %s", file, strerror(errno));
    }
    yaml_document_t doc;
    cim_status st = cim__yaml_load(ctx, file, f, text, text ? strlen(text) : 0, CIM_ERR_CONFIG, &doc);
    if (f)
        fclose(f);
    if (st)
        return st;

    cy y = {ctx, file, &doc, lib, NULL};
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root)
        st = cim__err(ctx, CIM_ERR_CONFIG, "%s: empty document (expected components:, devices:, technology:)", file);
    else if (root->type != YAML_MAPPING_NODE)
        st = cim__err(ctx, CIM_ERR_CONFIG, "%s:%lu: the document must be a mapping (components:, devices:, "
                      "technology:)", file, (unsigned long)root->start_mark.line + 1);
    for (yaml_node_pair_t *p = root && !st ? root->data.mapping.pairs.start : NULL;
         p && p < root->data.mapping.pairs.top && !st; p++) {
        const yaml_node_t *k = node_of(&y, p->key), *v = node_of(&y, p->value);
        const char *ks = cim__yaml_scalar(k);
        if (!ks)
            st = cyerr(&y, k, "(top level)", "a key is not a plain string");
        else if (strcmp(ks, "components") == 0)
            st = each_entry(&y, v, "components", "component", component_one);
        else if (strcmp(ks, "devices") == 0)
            st = each_entry(&y, v, "devices", "device", device_one);
        else if (strcmp(ks, "technology") == 0)
            st = technology_key(&y, v);
        else if (strcmp(ks, "description") == 0)
            st = cim__yaml_scalar(v) ? CIM_OK : cyerr(&y, v, ks, "expected a string");
        else
            st = cyerr(&y, k, ks, "unknown key (known: description, technology, devices, components)");
    }
    yaml_document_delete(&doc);
    return st;
}

const char *const *cim_components_builtin_files(void) { return cim__component_files; }

const char *cim_components_builtin_text(const char *file)
{
    for (int i = 0; file && cim__component_files[i]; i++)
        if (strcmp(cim__component_files[i], file) == 0)
            return cim__component_texts[i];
    return NULL;
}

void cim_components_free(cim_ctx *ctx, cim_components *lib)
{
    if (!lib)
        return;
    for (int i = 0; i < lib->n_strs; i++)
        cim__free(ctx, lib->strs[i]);
    cim__free(ctx, lib->strs);
    cim__free(ctx, lib->comp);
    cim__free(ctx, lib->dev);
    cim__free(ctx, lib->node);
    cim__free(ctx, lib);
}

cim_status cim_components_load(cim_ctx *ctx, const char *path, cim_components **out)
{
    if (!out)
        return cim__err(ctx, CIM_ERR_ARG, "components: NULL argument");
    *out = NULL;
    cim_components *lib = cim__calloc(ctx, 1, sizeof *lib);
    if (!lib)
        return CIM_ERR_NOMEM;
    cim_status st = CIM_OK;
    for (int i = 0; !st && cim__component_files[i]; i++) {
        char name[256];
        snprintf(name, sizeof name, "%s (built in)", cim__component_files[i]);
        st = load_one(ctx, lib, name, cim__component_texts[i]);
    }
    if (!st && path)
        st = load_one(ctx, lib, path, NULL);
    if (st) {
        cim_components_free(ctx, lib);
        return st;
    }
    *out = lib;
    return CIM_OK;
}

int cim_components_count(const cim_components *lib) { return lib ? lib->n_comp : 0; }
int cim_components_device_count(const cim_components *lib) { return lib ? lib->n_dev : 0; }
int cim_components_node_count(const cim_components *lib) { return lib ? lib->n_node : 0; }

const cim_component *cim_components_at(const cim_components *lib, int i)
{
    return lib && i >= 0 && i < lib->n_comp ? &lib->comp[i] : NULL;
}

const cim_device *cim_components_device_at(const cim_components *lib, int i)
{
    return lib && i >= 0 && i < lib->n_dev ? &lib->dev[i] : NULL;
}

const cim_tech_node *cim_components_node_at(const cim_components *lib, int i)
{
    return lib && i >= 0 && i < lib->n_node ? &lib->node[i] : NULL;
}

cim_status cim_components_get(cim_ctx *ctx, const cim_components *lib, const char *name, const cim_component **out)
{
    if (!lib || !name || !out)
        return cim__err(ctx, CIM_ERR_ARG, "components: NULL argument");
    for (int i = 0; i < lib->n_comp; i++)
        if (strcmp(lib->comp[i].name, name) == 0) {
            *out = &lib->comp[i];
            return CIM_OK;
        }
    *out = NULL;
    return cim__err(ctx, CIM_ERR_CONFIG, "component '%s' is not in the component library (cimsim components lists them)",
                    name);
}

cim_status cim_components_device(cim_ctx *ctx, const cim_components *lib, const char *name, const cim_device **out)
{
    if (!lib || !name || !out)
        return cim__err(ctx, CIM_ERR_ARG, "components: NULL argument");
    for (int i = 0; i < lib->n_dev; i++)
        if (strcmp(lib->dev[i].name, name) == 0) {
            *out = &lib->dev[i];
            return CIM_OK;
        }
    *out = NULL;
    return cim__err(ctx, CIM_ERR_CONFIG, "device '%s' is not in the component library (cimsim components lists them)",
                    name);
}
