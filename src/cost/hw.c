/* hw.c: hardware files (data/hw/NAME.yaml built in, or a user's YAML): the
 * crossbar -> IMA -> tile -> chip hierarchy, parsed with libyaml's document
 * API. Every error names the file, line and key (docs/cost.md gives the
 * format); every component is checked against the component library. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>
#include "cost_internal.h"
#include "cimsim/hw.h"
#include "../lib/yaml_read.h"

#define HW_FILE_MAX (1 << 20)

/* The built-in files (generated from data/hw/NAME.yaml by cmake/embed_yaml.cmake). */
extern const char *const cim__hw_names[];
extern const char *const cim__hw_texts[];

typedef struct {
    cim_ctx *ctx;
    const char *file;
    yaml_document_t *doc;
    const cim_components *lib;
    const char *section; /* "crossbar", "ima", ... (NULL at top level) */
} hy;

static cim_status hyerr(hy *y, const yaml_node_t *n, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static cim_status hyerr(hy *y, const yaml_node_t *n, const char *key, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    unsigned long line = n ? (unsigned long)n->start_mark.line + 1 : 0UL;
    if (y->section)
        return cim__err(y->ctx, CIM_ERR_CONFIG, "%s:%lu: key '%s.%s': %s", y->file, line, y->section, key, msg);
    return cim__err(y->ctx, CIM_ERR_CONFIG, "%s:%lu: key '%s': %s", y->file, line, key, msg);
}

static yaml_node_t *node_of(hy *y, int id) { return yaml_document_get_node(y->doc, id); }

static cim_status get_str(hy *y, const yaml_node_t *n, const char *key, char *out, size_t size)
{
    const char *s = cim__yaml_scalar(n);
    if (!s)
        return hyerr(y, n, key, "expected a string");
    if (strlen(s) >= size)
        return hyerr(y, n, key, "longer than %zu characters", size - 1);
    memcpy(out, s, strlen(s) + 1);
    return CIM_OK;
}

/* A finite number > 0 (or >= 0 with zero_ok). */
static cim_status hyerr_msg(void *y, const yaml_node_t *n, const char *key, const char *msg)
{
    return hyerr(y, n, key, "%s", msg);
}

static cim_status get_pos(hy *y, const yaml_node_t *n, const char *key, int zero_ok, double *out)
{
    return cim__yaml_double(y, hyerr_msg, n, key, 0.0, INFINITY, !zero_ok, out);
}

static cim_status get_int(hy *y, const yaml_node_t *n, const char *key, long lo, long hi, int *out)
{
    return cim__yaml_int(y, hyerr_msg, n, key, lo, hi, out);
}

static int is(const char *a, const char *b) { return strcmp(a, b) == 0; }

static cim_status need_map(hy *y, const yaml_node_t *n, const char *key)
{
    if (!n || n->type != YAML_MAPPING_NODE)
        return hyerr(y, n, key, "expected a mapping");
    return CIM_OK;
}

/* A component name that the library has. */
static cim_status check_component(hy *y, const yaml_node_t *n, const char *key, const char *name,
                                  const cim_component **out)
{
    for (int i = 0; i < cim_components_count(y->lib); i++) {
        const cim_component *c = cim_components_at(y->lib, i);
        if (is(c->name, name)) {
            if (out)
                *out = c;
            return CIM_OK;
        }
    }
    return hyerr(y, n, key, "unknown component '%s' (not in the component library; cimsim components lists them)",
                 name);
}

/* components: {NAME: COUNT | {count, bits, rate_hz, power}} */
static cim_status uses_key(hy *y, const yaml_node_t *v, cim_hw_level_spec *spec)
{
    cim_status st = need_map(y, v, "components");
    if (st)
        return st;
    for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
        const yaml_node_t *k = node_of(y, p->key), *n = node_of(y, p->value);
        const char *name = cim__yaml_scalar(k);
        if (!name || !name[0])
            return hyerr(y, k, "components", "a component name must be a non-empty string");
        if (spec->n_uses == CIM_HW_MAX_USES)
            return hyerr(y, k, "components", "more than %d components at one level", CIM_HW_MAX_USES);
        const cim_component *c = NULL;
        if ((st = check_component(y, k, "components", name, &c)))
            return st;
        cim_hw_use *u = &spec->use[spec->n_uses];
        memset(u, 0, sizeof *u);
        if (strlen(name) >= sizeof u->component)
            return hyerr(y, k, "components", "component name too long");
        memcpy(u->component, name, strlen(name) + 1);
        u->rate_hz = NAN;
        u->line = (int)k->start_mark.line + 1;
        if (n && n->type == YAML_SCALAR_NODE) {
            if ((st = get_pos(y, n, name, 0, &u->count)))
                return st;
        } else if (n && n->type == YAML_MAPPING_NODE) {
            u->count = NAN;
            for (yaml_node_pair_t *q = n->data.mapping.pairs.start; q < n->data.mapping.pairs.top && !st; q++) {
                const yaml_node_t *kk = node_of(y, q->key), *vv = node_of(y, q->value);
                const char *ks = cim__yaml_scalar(kk);
                if (!ks)
                    return hyerr(y, kk, name, "a key is not a plain string");
                if (is(ks, "count"))
                    st = get_pos(y, vv, "count", 0, &u->count);
                else if (is(ks, "rate_hz"))
                    st = get_pos(y, vv, "rate_hz", 0, &u->rate_hz);
                else if (is(ks, "bits"))
                    st = get_int(y, vv, "bits", 1, 32, &u->bits);
                else if (is(ks, "power")) {
                    const char *s = cim__yaml_scalar(vv);
                    if (s && is(s, "table"))
                        u->power_from_events = 0;
                    else if (s && is(s, "events"))
                        u->power_from_events = 1;
                    else
                        st = hyerr(y, vv, "power", "expected table or events");
                } else
                    st = hyerr(y, kk, ks, "unknown key in component '%s' (known: count, bits, rate_hz, power)", name);
            }
            if (st)
                return st;
            if (isnan(u->count))
                return hyerr(y, n, "count", "component '%s': missing", name);
        } else
            return hyerr(y, n, name, "expected a count or {count, bits, rate_hz, power}");
        if (u->bits && c->bits <= 0)
            return hyerr(y, k, "bits", "component '%s' has no resolution to scale (not an ADC part)", name);
        if (u->power_from_events && isnan(u->rate_hz))
            return hyerr(y, n, "rate_hz", "component '%s': power: events needs rate_hz", name);
        spec->n_uses++;
    }
    return CIM_OK;
}

static cim_status adc_key(hy *y, const yaml_node_t *v, cim_hw *hw)
{
    cim_status st = need_map(y, v, "adc");
    if (st)
        return st;
    const yaml_node_t *comp = NULL;
    for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top && !st; p++) {
        const yaml_node_t *k = node_of(y, p->key), *n = node_of(y, p->value);
        const char *ks = cim__yaml_scalar(k);
        if (!ks)
            return hyerr(y, k, "adc", "a key is not a plain string");
        if (is(ks, "component")) {
            comp = n;
            st = get_str(y, n, "adc.component", hw->adc, sizeof hw->adc);
        } else if (is(ks, "bits"))
            st = get_int(y, n, "adc.bits", 1, CIM_MAX_ADC_BITS, &hw->adc_bits);
        else if (is(ks, "per_crossbar"))
            st = get_pos(y, n, "adc.per_crossbar", 0, &hw->adcs_per_crossbar);
        else if (is(ks, "rate_hz"))
            st = get_pos(y, n, "adc.rate_hz", 0, &hw->adc_rate_hz);
        else
            st = hyerr(y, k, ks, "unknown key in adc (known: component, bits, per_crossbar, rate_hz)");
    }
    if (st)
        return st;
    if (!hw->adc[0])
        return hyerr(y, v, "adc.component", "missing (a name in the component library)");
    const cim_component *c = NULL;
    if ((st = check_component(y, comp, "adc.component", hw->adc, &c)))
        return st;
    if (hw->adc_bits && c->bits <= 0)
        return hyerr(y, v, "adc.bits", "component '%s' has no resolution to scale", hw->adc);
    if (hw->adcs_per_crossbar <= 0)
        return hyerr(y, v, "adc.per_crossbar", "missing: ADCs per crossbar (fractional when shared)");
    if (hw->adc_rate_hz <= 0)
        return hyerr(y, v, "adc.rate_hz", "missing: conversions per second of one ADC");
    return CIM_OK;
}

static cim_status crossbar_key(hy *y, const yaml_node_t *v, cim_hw *hw)
{
    cim_status st = need_map(y, v, "crossbar");
    if (st)
        return st;
    for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top && !st; p++) {
        const yaml_node_t *k = node_of(y, p->key), *n = node_of(y, p->value);
        const char *ks = cim__yaml_scalar(k);
        if (!ks)
            return hyerr(y, k, "crossbar", "a key is not a plain string");
        if (is(ks, "rows"))
            st = get_int(y, n, ks, 1, CIM_MAX_ROWS, &hw->rows);
        else if (is(ks, "cols"))
            st = get_int(y, n, ks, 1, CIM_MAX_COLS, &hw->cols);
        else if (is(ks, "cell_bits"))
            st = get_int(y, n, ks, 1, 8, &hw->cell_bits);
        else if (is(ks, "cell")) {
            const char *s = cim__yaml_scalar(n);
            if (s && (is(s, "1T1R") || is(s, "1t1r")))
                hw->devices_per_cell = 1;
            else if (s && (is(s, "2T2R") || is(s, "2t2r")))
                hw->devices_per_cell = 2;
            else
                st = hyerr(y, n, ks, "expected 1T1R or 2T2R");
        } else if (is(ks, "device")) {
            if (!(st = get_str(y, n, ks, hw->device, sizeof hw->device))) {
                const cim_device *d;
                if (cim_components_device(y->ctx, y->lib, hw->device, &d))
                    st = hyerr(y, n, ks, "unknown device '%s' (cimsim components lists the devices)", hw->device);
            }
        } else if (is(ks, "cycle_ns"))
            st = get_pos(y, n, ks, 0, &hw->cycle_ns);
        else if (is(ks, "adc"))
            st = adc_key(y, n, hw);
        else if (is(ks, "components"))
            st = uses_key(y, n, &hw->level[CIM_HW_CROSSBAR]);
        else
            st = hyerr(y, k, ks, "unknown key (known: rows, cols, cell_bits, cell, device, cycle_ns, adc, components)");
    }
    if (st)
        return st;
    static const char *const req[] = {"rows", "cols", "cell_bits", "cell"};
    const int have[] = {hw->rows, hw->cols, hw->cell_bits, hw->devices_per_cell};
    for (int i = 0; i < 4; i++)
        if (!have[i])
            return hyerr(y, v, req[i], "missing");
    if (hw->cycle_ns <= 0)
        return hyerr(y, v, "cycle_ns", "missing: the crossbar cycle in ns");
    return CIM_OK;
}

/* ima: {crossbars, components}, tile: {imas, components}. */
static cim_status count_level_key(hy *y, const yaml_node_t *v, const char *count_key, int *count,
                                  cim_hw_level_spec *spec)
{
    cim_status st = need_map(y, v, y->section);
    if (st)
        return st;
    for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top && !st; p++) {
        const yaml_node_t *k = node_of(y, p->key), *n = node_of(y, p->value);
        const char *ks = cim__yaml_scalar(k);
        if (!ks)
            return hyerr(y, k, y->section, "a key is not a plain string");
        if (is(ks, count_key))
            st = get_int(y, n, ks, 1, 1 << 20, count);
        else if (is(ks, "components"))
            st = uses_key(y, n, spec);
        else
            st = hyerr(y, k, ks, "unknown key (known: %s, components)", count_key);
    }
    if (!st && *count <= 0)
        return hyerr(y, v, count_key, "missing");
    return st;
}

static cim_status chip_key(hy *y, const yaml_node_t *v, cim_hw *hw)
{
    cim_status st = need_map(y, v, "chip");
    if (st)
        return st;
    for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top && !st; p++) {
        const yaml_node_t *k = node_of(y, p->key), *n = node_of(y, p->value);
        const char *ks = cim__yaml_scalar(k);
        if (!ks)
            return hyerr(y, k, "chip", "a key is not a plain string");
        if (is(ks, "tiles")) {
            st = get_int(y, n, ks, 1, 1 << 24, &hw->tiles);
            hw->tiles_given = 1;
        } else if (is(ks, "area_budget_mm2"))
            st = get_pos(y, n, ks, 0, &hw->area_budget_mm2);
        else if (is(ks, "components"))
            st = uses_key(y, n, &hw->level[CIM_HW_CHIP]);
        else
            st = hyerr(y, k, ks, "unknown key (known: tiles, area_budget_mm2, components)");
    }
    if (!st && !hw->tiles_given && hw->area_budget_mm2 <= 0)
        return hyerr(y, v, "tiles", "missing: give tiles, area_budget_mm2, or both");
    return st;
}

static cim_status peak_key(hy *y, const yaml_node_t *v, cim_hw *hw)
{
    cim_status st = need_map(y, v, "peak");
    if (st)
        return st;
    for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top && !st; p++) {
        const yaml_node_t *k = node_of(y, p->key), *n = node_of(y, p->value);
        const char *ks = cim__yaml_scalar(k);
        if (!ks)
            return hyerr(y, k, "peak", "a key is not a plain string");
        if (is(ks, "weight_slices"))
            st = get_int(y, n, ks, 1, 64, &hw->peak_weight_slices);
        else if (is(ks, "input_cycles"))
            st = get_int(y, n, ks, 1, 1024, &hw->peak_input_cycles);
        else
            st = hyerr(y, k, ks, "unknown key (known: weight_slices, input_cycles)");
    }
    return st;
}

static cim_status parse_root(hy *y, yaml_node_t *root, cim_hw *hw)
{
    if (!root)
        return cim__err(y->ctx, CIM_ERR_CONFIG, "%s: empty document (expected name:, crossbar:, ima:, tile:, chip:)",
                        y->file);
    if (root->type != YAML_MAPPING_NODE)
        return cim__err(y->ctx, CIM_ERR_CONFIG, "%s:%lu: the document must be a mapping", y->file,
                        (unsigned long)root->start_mark.line + 1);
    int seen[6] = {0};
    cim_status st = CIM_OK;
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top && !st; p++) {
        const yaml_node_t *k = node_of(y, p->key), *v = node_of(y, p->value);
        const char *ks = cim__yaml_scalar(k);
        y->section = NULL;
        if (!ks)
            st = hyerr(y, k, "(top level)", "a key is not a plain string");
        else if (is(ks, "name"))
            st = get_str(y, v, ks, hw->name, sizeof hw->name);
        else if (is(ks, "description"))
            st = get_str(y, v, ks, hw->description, sizeof hw->description);
        else if (is(ks, "sources"))
            st = get_str(y, v, ks, hw->sources, sizeof hw->sources);
        else if (is(ks, "node_nm"))
            st = get_pos(y, v, ks, 0, &hw->node_nm);
        else if (is(ks, "operand_bits"))
            st = get_int(y, v, ks, 1, 64, &hw->operand_bits);
        else if (is(ks, "crossbar")) {
            y->section = "crossbar";
            st = crossbar_key(y, v, hw);
            seen[0] = 1;
        } else if (is(ks, "ima")) {
            y->section = "ima";
            st = count_level_key(y, v, "crossbars", &hw->crossbars_per_ima, &hw->level[CIM_HW_IMA]);
            seen[1] = 1;
        } else if (is(ks, "tile")) {
            y->section = "tile";
            st = count_level_key(y, v, "imas", &hw->imas_per_tile, &hw->level[CIM_HW_TILE]);
            seen[2] = 1;
        } else if (is(ks, "chip")) {
            y->section = "chip";
            st = chip_key(y, v, hw);
            seen[3] = 1;
        } else if (is(ks, "peak")) {
            y->section = "peak";
            st = peak_key(y, v, hw);
        } else
            st = hyerr(y, k, ks, "unknown key (known: name, description, sources, node_nm, operand_bits, crossbar, "
                                 "ima, tile, chip, peak)");
    }
    y->section = NULL;
    if (st)
        return st;
    static const char *const lv[] = {"crossbar", "ima", "tile", "chip"};
    for (int i = 0; i < 4; i++)
        if (!seen[i])
            return hyerr(y, root, lv[i], "missing");
    if (!hw->sources[0])
        return hyerr(y, root, "sources", "missing: say where the organisation comes from");
    if (hw->node_nm <= 0)
        return hyerr(y, root, "node_nm", "missing: the technology node");
    if (!hw->operand_bits)
        hw->operand_bits = 8;
    if (!hw->peak_weight_slices)
        hw->peak_weight_slices = (hw->operand_bits + hw->cell_bits - 1) / hw->cell_bits;
    if (!hw->peak_input_cycles)
        hw->peak_input_cycles = hw->operand_bits;
    if (hw->peak_weight_slices > hw->cols)
        return hyerr(y, root, "peak.weight_slices", "%d is more than the crossbar's %d columns",
                     hw->peak_weight_slices, hw->cols);
    return CIM_OK;
}

cim_status cim_hw_parse(cim_ctx *ctx, const cim_components *lib, const char *file, const char *text, size_t len,
                        cim_hw *hw)
{
    if (!lib || !text || !hw)
        return cim__err(ctx, CIM_ERR_ARG, "hw: NULL argument");
    if (!file)
        file = "(hardware)";
    memset(hw, 0, sizeof *hw);
    snprintf(hw->file, sizeof hw->file, "%s", file);
    yaml_document_t doc;
    cim_status st = cim__yaml_load(ctx, file, NULL, text, len, CIM_ERR_CONFIG, &doc);
    if (st)
        return st;
    hy y = {ctx, file, &doc, lib, NULL};
    st = parse_root(&y, yaml_document_get_root_node(&doc), hw);
    yaml_document_delete(&doc);
    if (st)
        return st;
    if (!hw->name[0])
        snprintf(hw->name, sizeof hw->name, "%s", file);
    /* Cost it once: every component must have an area and a power figure at
     * the node; an area budget without a tile count gives the tile count. */
    cim_hw_cost cost;
    if (!hw->tiles_given)
        hw->tiles = 1;
    if ((st = cim_hw_cost_compute(ctx, lib, hw, &cost)))
        return st;
    if (!hw->tiles_given) {
        if (cost.tiles_fitting_budget < 1)
            return cim__err(ctx, CIM_ERR_CONFIG, "%s: key 'chip.area_budget_mm2': %g mm2 does not hold one tile "
                            "(%.4g mm2) and the chip-level parts", file, hw->area_budget_mm2, cost.tile_area_mm2);
        hw->tiles = cost.tiles_fitting_budget;
    }
    return CIM_OK;
}

const char *const *cim_hw_names(void) { return cim__hw_names; }

const char *cim_hw_text(const char *name)
{
    for (int i = 0; name && cim__hw_names[i]; i++)
        if (is(cim__hw_names[i], name))
            return cim__hw_texts[i];
    return NULL;
}

cim_status cim_hw_load(cim_ctx *ctx, const cim_components *lib, const char *name_or_path, cim_hw *hw)
{
    if (!name_or_path || !hw)
        return cim__err(ctx, CIM_ERR_ARG, "hw: NULL argument");
    const char *text = cim_hw_text(name_or_path);
    if (text) {
        char file[CIM_HW_TEXT_MAX];
        snprintf(file, sizeof file, "data/hw/%s.yaml (built in)", name_or_path);
        return cim_hw_parse(ctx, lib, file, text, strlen(text), hw);
    }
    struct stat sb;
    if (stat(name_or_path, &sb) != 0)
        return cim__err(ctx, CIM_ERR_IO, "%s: not a built-in hardware name and cannot open it as a file: %s",
                        name_or_path, strerror(errno));
    if (!S_ISREG(sb.st_mode))
        return cim__err(ctx, CIM_ERR_IO, "%s: not a regular file", name_or_path);
    if (sb.st_size > HW_FILE_MAX)
        return cim__err(ctx, CIM_ERR_CONFIG, "%s: %lld bytes is too large for a hardware file", name_or_path,
                        (long long)sb.st_size);
    FILE *f = fopen(name_or_path, "rb");
    if (!f)
        return cim__err(ctx, CIM_ERR_IO, "%s: cannot open: %s", name_or_path, strerror(errno));
    size_t n = (size_t)sb.st_size;
    char *buf = cim__malloc(ctx, n + 1);
    if (!buf) {
        fclose(f);
        return CIM_ERR_NOMEM;
    }
    size_t got = fread(buf, 1, n, f);
    int err = ferror(f);
    fclose(f);
    if (err || got != n) {
        cim__free(ctx, buf);
        return cim__err(ctx, CIM_ERR_IO, "%s: read error", name_or_path);
    }
    buf[n] = 0;
    cim_status st = cim_hw_parse(ctx, lib, name_or_path, buf, n, hw);
    cim__free(ctx, buf);
    return st;
}

const char *cim_hw_level_name(cim_hw_level l)
{
    switch (l) {
    case CIM_HW_CROSSBAR: return "crossbar";
    case CIM_HW_IMA: return "ima";
    case CIM_HW_TILE: return "tile";
    case CIM_HW_CHIP: return "chip";
    default: return "?";
    }
}
