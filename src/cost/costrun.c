/* costrun.c: a network's cost on hardware, and counters estimated from
 * shapes and rates (include/cimsim/costrun.h, docs/energy.md). */
#include <math.h>
#include <string.h>
#include <jansson.h>
#include "cimsim/costrun.h"
#include "cimsim/energy.h"
#include "../lib/internal.h"

const char *cim_cost_hw_default(const char *arch)
{
    if (!arch)
        return NULL;
    if (!strcmp(arch, "isaac") || !strcmp(arch, "isaac-16b") || !strcmp(arch, "digital-cim") ||
        !strcmp(arch, "timely-like") || !strcmp(arch, "ibm-pcm-like"))
        return arch;
    if (!strncmp(arch, "raella", 6) && (arch[6] == 0 || arch[6] == '-'))
        return "raella";
    return NULL;
}

cim_status cim_cost_hw(cim_ctx *ctx, const char *hw_spec, const cim_hw_layer *layers, int n,
                       double energy_pj, cim_cost_hw_result *out, cim_hw_layer_map *maps)
{
    if (!hw_spec || !layers || n < 1 || !out)
        return cim__err(ctx, CIM_ERR_ARG, "cost: NULL argument or no layers");
    memset(out, 0, sizeof *out);
    cim_components *lib = NULL;
    cim_hw *hw = cim__malloc(ctx, sizeof *hw);
    cim_hw_mapping m;
    memset(&m, 0, sizeof m);
    if (!hw)
        return cim__err(ctx, CIM_ERR_NOMEM, "cost: out of memory");
    cim_status st = cim_components_load(ctx, NULL, &lib);
    if (!st)
        st = cim_hw_load(ctx, lib, hw_spec, hw);
    if (!st)
        st = cim_hw_cost_compute(ctx, lib, hw, &out->cost);
    if (!st)
        st = cim_hw_map(ctx, hw, &out->cost, layers, n, &m);
    if (!st) {
        snprintf(out->hw, sizeof out->hw, "%s", hw->file[0] ? hw->file : hw->name);
        out->chips = m.chips;
        out->tiles = out->cost.tiles;
        out->tile_power_mw = out->cost.tile_power_mw;
        out->tile_area_mm2 = out->cost.tile_area_mm2;
        out->area_mm2 = m.area_mm2;
        out->peak_power_w = m.power_w;
        out->inferences_per_s = m.inferences_per_s;
        out->tops = m.tops;
        out->tops_per_mm2 = m.tops_per_mm2;
        out->macs = (double)m.macs;
        out->crossbars_used = m.crossbars_used;
        out->bottleneck = m.bottleneck;
        out->units_per_chip[CIM_HW_CHIP] = 1;
        out->units_per_chip[CIM_HW_TILE] = out->cost.tiles;
        out->units_per_chip[CIM_HW_IMA] = (double)out->cost.tiles * hw->imas_per_tile;
        out->units_per_chip[CIM_HW_CROSSBAR] = (double)out->cost.tiles * hw->imas_per_tile * hw->crossbars_per_ima;
        for (int i = 0; i < n; i++) {
            out->latency_ns += m.layer[i].time_ns;
            if (maps)
                maps[i] = m.layer[i];
        }
        if (energy_pj > 0) {
            out->power_w = energy_pj * 1e-12 * m.inferences_per_s;
            out->tops_per_w = 2.0 * out->macs / energy_pj;
        }
    }
    cim_hw_mapping_free(ctx, &m);
    cim_components_free(ctx, lib);
    cim__free(ctx, hw);
    return st;
}

static int phases(const cim_xbar_config *cfg)
{
    return cim_config_input_encoding(cfg) == CIM_IN_SIGNED_SPLIT ? 2 : 1;
}

void cim_cost_rates_assumed(const cim_xbar_config *cfg, double input_mean, double density, cim_cost_rates *r)
{
    memset(r, 0, sizeof *r);
    r->assumed = 1;
    if (input_mean <= 0)
        input_mean = 20.0;
    if (density <= 0 || density > 1)
        density = 0.5;
    int nws = cfg->n_weight_slices;
    double per_col = cfg->n_input_slices;
    if (cfg->speculation) {
        r->speculation_failure_rate = 0.02;
        per_col += 0.02 * (double)((CIM_OPERAND_BITS + cfg->recovery_bits - 1) / cfg->recovery_bits);
    }
    per_col *= phases(cfg);
    r->converts_per_mac = per_col * (double)nws / (double)cfg->rows;
    /* slices most significant first: slice i's digit of a nonzero value of mean m */
    double m = input_mean / density, pulses = 0;
    int shift = 0;
    for (int i = cfg->n_input_slices - 1; i >= 0; i--) {
        double top = (double)((1 << cfg->input_slices[i]) - 1);
        double d = m / (double)(1 << shift);
        pulses += density * (d < top / 2 ? d : top / 2);
        shift += cfg->input_slices[i];
    }
    r->dac_pulses_per_row = pulses;
    r->level_mean = (double)((1 << cfg->cell_bits) - 1) / 4.0;
    r->activations_per_mac = pulses * nws * cim_cell_devices(cfg->encoding) * r->level_mean;
    r->input_sum_per_input = cfg->encoding == CIM_ENC_CENTER_OFFSET ? 1.0 : 0.0;
}

void cim_cost_rates_measured(const cim_xbar_config *cfg, const cim_stats *st, const cim_layer_info *info,
                             cim_cost_rates *r)
{
    memset(r, 0, sizeof *r);
    double macs = (double)st->macs, u = cim_energy_row_utilization(info, cfg);
    double reads = (double)(st->adc_converts + st->digital_reads);
    r->converts_per_mac = macs > 0 ? reads * u / macs : 0;
    /* row drives: every vector of a group drives its group's rows; info sums groups,
       so drives = vectors x rows_used / groups; groups = crossbars / (chunks x column blocks) */
    double groups = 1;
    if (info->chunks > 0 && info->filters_per_crossbar > 0 && info->N > 0) {
        double blocks = ceil((double)info->N / info->filters_per_crossbar) * info->chunks;
        groups = blocks > 0 ? (double)info->crossbars / blocks : 1;
        if (groups < 1)
            groups = 1;
    }
    double drives = (double)st->vectors * (double)info->rows_used / groups;
    r->dac_pulses_per_row = drives > 0 ? (double)st->dac_pulses / drives : 0;
    r->activations_per_mac = macs > 0 ? (double)st->device_activations / macs : 0;
    r->input_sum_per_input = st->vectors && info->K ? (double)st->input_sum_adds / ((double)st->vectors * info->K) : 0;
    r->level_mean = info->devices ? (double)info->cell_level_sum / (double)info->devices : 0;
}

cim_status cim_cost_estimate_layer(cim_ctx *ctx, const cim_xbar_config *cfg, int K, int N, int groups, uint64_t M,
                                   const cim_cost_rates *r, cim_stats *st, cim_layer_info *info)
{
    if (!cfg || !r || !st || !info || K < 1 || N < 1 || groups < 1 || M < 1)
        return cim__err(ctx, CIM_ERR_ARG, "cost: bad layer (K %d, N %d, groups %d, M %llu)", K, N, groups,
                        (unsigned long long)M);
    int nws = cfg->n_weight_slices, fpc = cfg->cols / nws;
    if (fpc < 1)
        return cim__err(ctx, CIM_ERR_CONFIG, "cost: %d weight slices do not fit %d columns", nws, cfg->cols);
    memset(st, 0, sizeof *st);
    memset(info, 0, sizeof *info);
    uint64_t g = (uint64_t)groups, chunks = (uint64_t)((K + cfg->rows - 1) / cfg->rows);
    uint64_t blocks = (uint64_t)((N + fpc - 1) / fpc);
    info->K = K;
    info->N = N;
    info->chunks = (int)chunks;
    info->filters_per_crossbar = fpc;
    info->crossbars = chunks * blocks * g;
    info->cells = (uint64_t)K * (uint64_t)N * (uint64_t)nws * g;
    info->devices = info->cells * (uint64_t)cim_cell_devices(cfg->encoding);
    info->cell_level_sum = (uint64_t)llround(r->level_mean * (double)info->devices);
    info->rows_used = (uint64_t)K * blocks * g;
    info->cols_used = chunks * (uint64_t)N * (uint64_t)nws * g;
    info->utilization = (double)info->cells / ((double)info->crossbars * cfg->rows * cfg->cols);
    st->vectors = M * g;
    st->macs = M * (uint64_t)K * (uint64_t)N * g;
    double u = cim_energy_row_utilization(info, cfg), macs = (double)st->macs;
    uint64_t reads = (uint64_t)llround(r->converts_per_mac * macs / (u > 0 ? u : 1));
    if (cfg->adc.bits > 0) {
        st->adc_converts = reads;
        st->adc_converts_speculative = reads;
    } else {
        st->digital_reads = reads;
    }
    st->dac_pulses = (uint64_t)llround(r->dac_pulses_per_row * (double)M * (double)info->rows_used);
    st->device_activations = (uint64_t)llround(r->activations_per_mac * macs);
    st->input_sum_adds = (uint64_t)llround(r->input_sum_per_input * (double)st->vectors * K);
    int cyc = cfg->n_input_slices;
    if (cfg->speculation)
        cyc += (CIM_OPERAND_BITS + cfg->recovery_bits - 1) / cfg->recovery_bits;
    st->crossbar_cycles = M * info->crossbars * (uint64_t)(cyc * phases(cfg));
    return CIM_OK;
}

/* ------------------------------------------------------ eval JSON rates */

static cim_status num(cim_ctx *ctx, const char *path, int i, json_t *o, const char *key, double *v)
{
    json_t *x = json_object_get(o, key);
    if (!json_is_number(x))
        return cim__err(ctx, CIM_ERR_FORMAT, "%s: layers[%d].stats.%s: missing or not a number", path, i, key);
    *v = json_number_value(x);
    if (*v < 0 || !isfinite(*v))
        return cim__err(ctx, CIM_ERR_FORMAT, "%s: layers[%d].stats.%s: negative", path, i, key);
    return CIM_OK;
}

void cim_cost_eval_rates_free(cim_ctx *ctx, cim_cost_eval_rates *r)
{
    if (!r)
        return;
    cim__free(ctx, r->name);
    cim__free(ctx, r->op_type);
    cim__free(ctx, r->macs);
    cim__free(ctx, r->rates);
    memset(r, 0, sizeof *r);
}

cim_status cim_cost_rates_from_eval(cim_ctx *ctx, const char *path, cim_cost_eval_rates *out)
{
    if (!path || !out)
        return cim__err(ctx, CIM_ERR_ARG, "cost: NULL argument");
    memset(out, 0, sizeof *out);
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (!root)
        return cim__err(ctx, CIM_ERR_FORMAT, "%s: line %d: %s", path, je.line, je.text);
    json_t *o = json_is_array(root) ? json_array_get(root, 0) : root;
    json_t *layers = json_object_get(o, "layers");
    cim_status st = CIM_OK;
    size_t n = json_array_size(layers);
    if (!json_is_object(o) || !json_is_array(layers) || n == 0) {
        st = cim__err(ctx, CIM_ERR_FORMAT, "%s: layers: missing or empty (not a `cimsim eval --json` result)", path);
        goto done;
    }
    const char *arch = json_string_value(json_object_get(o, "arch"));
    snprintf(out->arch, sizeof out->arch, "%s", arch ? arch : "?");
    out->name = cim__calloc(ctx, n, sizeof *out->name);
    out->op_type = cim__calloc(ctx, n, sizeof *out->op_type);
    out->macs = cim__calloc(ctx, n, sizeof *out->macs);
    out->rates = cim__calloc(ctx, n, sizeof *out->rates);
    if (!out->name || !out->op_type || !out->macs || !out->rates) {
        st = cim__err(ctx, CIM_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    out->n = (int)n;
    for (int i = 0; i < (int)n && !st; i++) {
        json_t *L = json_array_get(layers, (size_t)i), *s = json_object_get(L, "stats");
        const char *nm = json_string_value(json_object_get(L, "name"));
        const char *op = json_string_value(json_object_get(L, "op_type"));
        if (!nm || !op || !json_is_object(s)) {
            st = cim__err(ctx, CIM_ERR_FORMAT, "%s: layers[%d]: missing name, op_type or stats", path, i);
            break;
        }
        snprintf(out->name[i], sizeof out->name[i], "%s", nm);
        snprintf(out->op_type[i], sizeof out->op_type[i], "%s", op);
        double macs = 0, conv = 0, dread = 0, vec = 0, dac = 0, act = 0, isum = 0, rows_used = 0, cls = 0, dev = 0;
        double K = 0, cpm = 0, util = 0, xb = 0, chunks = 0, fpc = 0, N = 0;
        const char *keys[] = {"macs", "adc_converts", "digital_reads", "vectors", "dac_pulses", "device_activations",
                              "input_sum_adds", "rows_used", "cell_level_sum", "devices", "K", "N", "crossbars",
                              "chunks", "filters_per_crossbar"};
        double *vals[] = {&macs, &conv, &dread, &vec, &dac, &act, &isum, &rows_used, &cls, &dev, &K, &N, &xb,
                          &chunks, &fpc};
        for (int k = 0; k < 15 && !st; k++)
            st = num(ctx, path, i, s, keys[k], vals[k]);
        if (st)
            break;
        json_t *ti = json_object_get(L, "titanium");
        if (json_is_object(ti) && json_is_number(json_object_get(ti, "converts_per_mac"))) {
            cpm = json_number_value(json_object_get(ti, "converts_per_mac"));
        } else { /* without energy: raw reads per MAC times the cell utilization */
            if ((st = num(ctx, path, i, s, "utilization", &util)) != CIM_OK)
                break;
            cpm = macs > 0 ? (conv + dread) * util / macs : 0;
        }
        double blocks = fpc > 0 ? ceil(N / fpc) * chunks : 0, groups = blocks > 0 ? xb / blocks : 1;
        if (groups < 1)
            groups = 1;
        cim_cost_rates *r = &out->rates[i];
        r->converts_per_mac = cpm;
        r->dac_pulses_per_row = vec * rows_used > 0 ? dac * groups / (vec * rows_used) : 0;
        r->activations_per_mac = macs > 0 ? act / macs : 0;
        r->input_sum_per_input = vec * K > 0 ? isum / (vec * K) : 0;
        r->level_mean = dev > 0 ? cls / dev : 0;
        out->macs[i] = (uint64_t)macs;
    }
done:
    json_decref(root);
    if (st)
        cim_cost_eval_rates_free(ctx, out);
    return st;
}
