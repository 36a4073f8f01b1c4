/* hw_cost.c: area and peak power of a hardware hierarchy by component and
 * level, and its peak throughput (cimsim/hw.h, docs/cost.md). */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "cost_internal.h"
#include "cimsim/hw.h"

double cim_hw_cycle_ns(const cim_hw *hw)
{
    double t = hw->cycle_ns;
    if (hw->adc[0] && hw->adcs_per_crossbar > 0 && hw->adc_rate_hz > 0) {
        double adc_ns = (double)hw->cols / (hw->adcs_per_crossbar * hw->adc_rate_hz) * 1e9;
        if (adc_ns > t)
            t = adc_ns;
    }
    return t;
}

/* One use's area and power per instance at the hardware's node. */
static cim_status use_cost(cim_ctx *ctx, const cim_components *lib, const cim_hw *hw, const cim_hw_use *u,
                           const char *what, double *area_um2, double *power_mw, int *from_events, const char **kind)
{
    const cim_component *c;
    cim_status st = cim_components_get(ctx, lib, u->component, &c);
    if (st)
        return cim__err(ctx, CIM_ERR_CONFIG, "%s:%d: key '%s': unknown component '%s'", hw->file, u->line, what,
                        u->component);
    *kind = c->kind;
    cim_component_cost k;
    if ((st = cim_component_at_node(ctx, lib, c, hw->node_nm, &k)))
        return st;
    int rescaled = u->bits > 0 && u->bits != c->bits;
    if (rescaled) {
        cim_adc_estimate e;
        if ((st = cim_adc_part(ctx, lib, c, u->bits, hw->node_nm, &e)))
            return st;
        k.energy_pj = e.energy_pj;
        k.area_um2 = e.area_um2;
    }
    if (isnan(k.area_um2))
        return cim__err(ctx, CIM_ERR_CONFIG, "%s:%d: key '%s': component '%s' has no published area (%s)", hw->file,
                        u->line, what, u->component, c->source);
    *area_um2 = k.area_um2;
    if (!u->power_from_events && !rescaled && !isnan(k.power_mw)) {
        *power_mw = k.power_mw;
        *from_events = 0;
        return CIM_OK;
    }
    if (isnan(u->rate_hz) || isnan(k.energy_pj))
        return cim__err(ctx, CIM_ERR_CONFIG,
                        "%s:%d: key '%s': component '%s'%s has no power figure: give rate_hz (events/s of one "
                        "instance when busy) for energy x rate", hw->file, u->line, what, u->component,
                        rescaled ? " scaled to other bits" : "");
    *power_mw = k.energy_pj * u->rate_hz * 1e-9; /* pJ x 1/s = 1e-12 W */
    *from_events = 1;
    return CIM_OK;
}

static cim_status add_part(cim_hw_cost *out, cim_hw_level l, const char *name, const char *kind, double count,
                           double area_one, double power_one, int from_events)
{
    if (out->n_parts == CIM_HW_MAX_PARTS)
        return CIM_ERR_INTERNAL;
    cim_hw_part *p = &out->part[out->n_parts++];
    p->level = l;
    snprintf(p->component, sizeof p->component, "%s", name);
    p->kind = kind;
    p->count = count;
    p->area_um2 = count * area_one;
    p->power_mw = count * power_one;
    p->from_events = from_events;
    out->level_area_um2[l] += p->area_um2;
    if (isnan(p->power_mw))
        out->power_data_dependent = 1;
    else
        out->level_power_mw[l] += p->power_mw;
    return CIM_OK;
}

cim_status cim_hw_cost_compute(cim_ctx *ctx, const cim_components *lib, const cim_hw *hw, cim_hw_cost *out)
{
    if (!lib || !hw || !out)
        return cim__err(ctx, CIM_ERR_ARG, "hw cost: NULL argument");
    memset(out, 0, sizeof *out);
    cim_status st;
    /* The array itself, from device cells. */
    if (hw->device[0]) {
        const cim_device *d;
        double cell;
        if ((st = cim_components_device(ctx, lib, hw->device, &d)))
            return st;
        if ((st = cim_cell_area(ctx, d, hw->devices_per_cell == 2 ? CIM_ENC_CENTER_OFFSET : CIM_ENC_OFFSET,
                                hw->node_nm, &cell)))
            return st;
        if ((st = add_part(out, CIM_HW_CROSSBAR, "array", "crossbar", 1, (double)hw->rows * hw->cols * cell, NAN, 0)))
            return st;
    }
    if (hw->adc[0]) {
        cim_hw_use u;
        memset(&u, 0, sizeof u);
        snprintf(u.component, sizeof u.component, "%s", hw->adc);
        u.count = hw->adcs_per_crossbar;
        u.bits = hw->adc_bits;
        u.rate_hz = hw->adc_rate_hz;
        double a = 0, p = 0;
        int ev = 0;
        const char *kind = "";
        if ((st = use_cost(ctx, lib, hw, &u, "crossbar.adc", &a, &p, &ev, &kind)))
            return st;
        if ((st = add_part(out, CIM_HW_CROSSBAR, hw->adc, kind, u.count, a, p, ev)))
            return st;
    }
    static const char *const what[] = {"crossbar.components", "ima.components", "tile.components",
                                       "chip.components"};
    for (int l = 0; l < CIM_HW_LEVELS; l++)
        for (int i = 0; i < hw->level[l].n_uses; i++) {
            const cim_hw_use *u = &hw->level[l].use[i];
            double a = 0, p = 0;
            int ev = 0;
            const char *kind = "";
            if ((st = use_cost(ctx, lib, hw, u, what[l], &a, &p, &ev, &kind)))
                return st;
            if ((st = add_part(out, (cim_hw_level)l, u->component, kind, u->count, a, p, ev)))
                return st;
        }
    /* Each level holds the levels below. */
    const double below[CIM_HW_LEVELS] = {0, hw->crossbars_per_ima, hw->imas_per_tile, hw->tiles};
    for (int l = 1; l < CIM_HW_LEVELS; l++) {
        out->level_area_um2[l] += below[l] * out->level_area_um2[l - 1];
        out->level_power_mw[l] += below[l] * out->level_power_mw[l - 1];
    }
    out->tiles = hw->tiles;
    out->tile_area_mm2 = out->level_area_um2[CIM_HW_TILE] * 1e-6;
    out->tile_power_mw = out->level_power_mw[CIM_HW_TILE];
    out->chip_area_mm2 = out->level_area_um2[CIM_HW_CHIP] * 1e-6;
    out->chip_power_w = out->level_power_mw[CIM_HW_CHIP] * 1e-3;
    if (hw->area_budget_mm2 > 0 && out->tile_area_mm2 > 0) {
        double chip_only = out->chip_area_mm2 - hw->tiles * out->tile_area_mm2;
        double fit = floor((hw->area_budget_mm2 - chip_only) / out->tile_area_mm2 + 1e-9);
        out->tiles_fitting_budget = fit < 0 ? 0 : fit > 1e9 ? 1000000000 : (int)fit;
    }
    out->crossbars = (uint64_t)hw->tiles * (uint64_t)hw->imas_per_tile * (uint64_t)hw->crossbars_per_ima;
    out->cycle_ns = cim_hw_cycle_ns(hw);
    int weights_per_row = hw->cols / hw->peak_weight_slices;
    out->peak_macs_per_s = (double)out->crossbars * hw->rows * weights_per_row /
                           (hw->peak_input_cycles * out->cycle_ns * 1e-9);
    out->peak_tops = 2 * out->peak_macs_per_s * 1e-12;
    out->peak_tops_per_w = out->chip_power_w > 0 ? out->peak_tops / out->chip_power_w : NAN;
    out->peak_gops_per_mm2 = out->chip_area_mm2 > 0 ? out->peak_tops * 1e3 / out->chip_area_mm2 : NAN;
    return CIM_OK;
}
