/* mapping.c: layers onto a hardware hierarchy (RAELLA thesis 5.5): crossbars
 * per layer as the engine programs them, greedy weight replication of the
 * slowest layer, and the layer pipeline's throughput (cimsim/hw.h). */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "cost_internal.h"
#include "cimsim/hw.h"

static uint64_t ceil_div(uint64_t a, uint64_t b) { return (a + b - 1) / b; }

cim_status cim_hw_map_layer(cim_ctx *ctx, const cim_hw *hw, const cim_hw_layer *L, cim_hw_layer_map *out)
{
    if (!hw || !L || !out || !L->cfg)
        return cim__err(ctx, CIM_ERR_ARG, "hw map: NULL argument");
    memset(out, 0, sizeof *out);
    const cim_xbar_config *cfg = L->cfg;
    const char *name = L->name ? L->name : "(layer)";
    if (L->K < 1 || L->N < 1 || L->groups < 1 || L->M < 1)
        return cim__err(ctx, CIM_ERR_ARG, "layer '%s': K %d, N %d, groups %d and M %llu must be >= 1", name, L->K,
                        L->N, L->groups, (unsigned long long)L->M);
    if (cfg->rows != hw->rows || cfg->cols != hw->cols)
        return cim__err(ctx, CIM_ERR_CONFIG, "layer '%s': its config has %dx%d crossbars, the hardware '%s' %dx%d",
                        name, cfg->rows, cfg->cols, hw->name, hw->rows, hw->cols);
    if (cim_cell_devices(cfg->encoding) > hw->devices_per_cell)
        return cim__err(ctx, CIM_ERR_CONFIG, "layer '%s': encoding %s needs 2T2R cells, the hardware '%s' has 1T1R",
                        name, cim_encoding_name(cfg->encoding), hw->name);
    if (cfg->cell_bits > hw->cell_bits)
        return cim__err(ctx, CIM_ERR_CONFIG, "layer '%s': its config has %d-bit cells, the hardware '%s' %d-bit", name,
                        cfg->cell_bits, hw->name, hw->cell_bits);
    int nws = L->n_weight_slices > 0 ? L->n_weight_slices : cfg->n_weight_slices;
    if (nws < 1 || nws > hw->cols)
        return cim__err(ctx, CIM_ERR_CONFIG, "layer '%s': %d weight slices do not fit %d columns", name, nws, hw->cols);

    /* Crossbars: as cim_layer_info counts a programmed layer, per group. */
    out->chunks = (L->K + hw->rows - 1) / hw->rows;
    out->filters_per_crossbar = hw->cols / nws;
    uint64_t per_group = (uint64_t)out->chunks * ceil_div((uint64_t)L->N, (uint64_t)out->filters_per_crossbar);
    out->groups_per_crossbar = 1;
    if (per_group == 1 && L->groups > 1) {
        /* Groups that fit one crossbar each share crossbars block-diagonally. */
        int by_rows = hw->rows / L->K, by_cols = out->filters_per_crossbar / L->N;
        out->groups_per_crossbar = by_rows < by_cols ? by_rows : by_cols;
        if (out->groups_per_crossbar > L->groups)
            out->groups_per_crossbar = L->groups;
        out->crossbars = ceil_div((uint64_t)L->groups, (uint64_t)out->groups_per_crossbar);
    } else
        out->crossbars = per_group * (uint64_t)L->groups;
    double cells = (double)L->K * L->N * nws * L->groups;
    out->utilization = cells / ((double)out->crossbars * hw->rows * hw->cols);

    /* Cycles per vector: input slices per phase x phases. */
    int is_signed;
    if (cfg->input_encoding == CIM_IN_AUTO && L->input_signed >= 0)
        is_signed = L->input_signed != 0;
    else
        is_signed = cim_config_input_encoding(cfg) == CIM_IN_SIGNED_SPLIT;
    out->phases = is_signed ? 2 : 1;
    int slices = cfg->n_input_slices;
    if (cfg->speculation)
        slices += (CIM_OPERAND_BITS + cfg->recovery_bits - 1) / cfg->recovery_bits;
    out->cycles_per_vector = slices * out->phases;
    out->vector_ns = out->cycles_per_vector * cim_hw_cycle_ns(hw);
    out->copies = 1;
    out->time_ns = (double)L->M * out->vector_ns;
    out->macs = L->M * (uint64_t)L->K * (uint64_t)L->N * (uint64_t)L->groups;
    return CIM_OK;
}

void cim_hw_mapping_free(cim_ctx *ctx, cim_hw_mapping *m)
{
    if (!m)
        return;
    cim__free(ctx, m->layer);
    memset(m, 0, sizeof *m);
}

cim_status cim_hw_map(cim_ctx *ctx, const cim_hw *hw, const cim_hw_cost *cost, const cim_hw_layer *layers, int n,
                      cim_hw_mapping *out)
{
    if (!hw || !cost || !layers || !out || n < 1)
        return cim__err(ctx, CIM_ERR_ARG, "hw map: NULL argument or no layers");
    memset(out, 0, sizeof *out);
    if (cost->crossbars < 1)
        return cim__err(ctx, CIM_ERR_CONFIG, "hw '%s': no crossbars", hw->name);
    out->layer = cim__calloc(ctx, (size_t)n, sizeof *out->layer);
    if (!out->layer)
        return CIM_ERR_NOMEM;
    out->n_layers = n;
    cim_status st;
    uint64_t need = 0;
    for (int i = 0; i < n; i++) {
        if ((st = cim_hw_map_layer(ctx, hw, &layers[i], &out->layer[i]))) {
            cim_hw_mapping_free(ctx, out);
            return st;
        }
        need += out->layer[i].crossbars;
        out->macs += out->layer[i].macs;
    }
    out->crossbars_min = need;
    out->chips = (int)ceil_div(need, cost->crossbars);
    out->crossbars_available = (uint64_t)out->chips * cost->crossbars;
    uint64_t left = out->crossbars_available - need;

    /* Greedy replication: the slowest layer gets copies while crossbars are
     * left. One step goes to the fewest copies that make it faster (copies that
     * do not cut ceil(M / copies) would change nothing); when the slowest layer
     * cannot get faster, or its next copies do not fit, nothing can raise the
     * pipeline's throughput and replication stops. */
    for (;;) {
        int s = 0;
        for (int i = 1; i < n; i++)
            if (out->layer[i].time_ns > out->layer[s].time_ns)
                s = i;
        cim_hw_layer_map *m = &out->layer[s];
        uint64_t M = layers[s].M, q = ceil_div(M, m->copies);
        if (q <= 1)
            break;
        uint64_t r = ceil_div(M, q - 1);
        uint64_t cost_x = (r - m->copies) * m->crossbars;
        if (cost_x > left)
            break;
        left -= cost_x;
        m->copies = r;
        m->time_ns = (double)ceil_div(M, r) * m->vector_ns;
    }

    double used_cells = 0, worst = 0;
    out->bottleneck = 0;
    for (int i = 0; i < n; i++) {
        const cim_hw_layer_map *m = &out->layer[i];
        out->crossbars_used += m->crossbars * m->copies;
        used_cells += m->utilization * (double)m->crossbars * hw->rows * hw->cols * (double)m->copies;
        if (m->time_ns > worst) {
            worst = m->time_ns;
            out->bottleneck = i;
        }
    }
    uint64_t per_tile = (uint64_t)hw->imas_per_tile * (uint64_t)hw->crossbars_per_ima;
    out->tiles_used = (int)ceil_div(out->crossbars_used, per_tile);
    out->utilization = used_cells / ((double)out->crossbars_used * hw->rows * hw->cols);
    out->inferences_per_s = 1e9 / worst;
    out->tops = 2.0 * (double)out->macs * out->inferences_per_s * 1e-12;
    out->area_mm2 = out->chips * cost->chip_area_mm2;
    out->power_w = out->chips * cost->chip_power_w;
    out->tops_per_mm2 = out->tops / out->area_mm2;
    return CIM_OK;
}
