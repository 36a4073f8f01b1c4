/* tech.c: technology scaling between nodes. Dynamic energy is C V^2 with the
 * capacitance proportional to the feature size, area goes with its square;
 * supplies come from the library's technology table (data/components/
 * technology.yaml), interpolated linearly in log(node). A documented simple
 * rule (docs/cost.md), not a fitted model such as Stillmaker & Baas 2017. */
#include <math.h>
#include "cost_internal.h"

cim_status cim_tech_vdd(cim_ctx *ctx, const cim_components *lib, double node_nm, double *vdd_v)
{
    if (!lib || !vdd_v)
        return cim__err(ctx, CIM_ERR_ARG, "technology: NULL argument");
    int n = lib->n_node;
    if (n == 0)
        return cim__err(ctx, CIM_ERR_CONFIG, "technology: the component library has no technology table");
    const cim_tech_node *t = lib->node; /* sorted by decreasing node */
    if (!isfinite(node_nm) || node_nm > t[0].node_nm || node_nm < t[n - 1].node_nm)
        return cim__err(ctx, CIM_ERR_RANGE, "technology: node %g nm is outside the technology table (%g..%g nm)",
                        node_nm, t[n - 1].node_nm, t[0].node_nm);
    for (int i = 0; i < n; i++) {
        if (t[i].node_nm == node_nm) {
            *vdd_v = t[i].vdd_v;
            return CIM_OK;
        }
        if (i + 1 < n && t[i + 1].node_nm < node_nm) { /* between t[i] (larger) and t[i+1] */
            double w = (log(node_nm) - log(t[i + 1].node_nm)) / (log(t[i].node_nm) - log(t[i + 1].node_nm));
            *vdd_v = t[i + 1].vdd_v + w * (t[i].vdd_v - t[i + 1].vdd_v);
            return CIM_OK;
        }
    }
    return cim__err(ctx, CIM_ERR_INTERNAL, "technology: node %g nm not placed in the table", node_nm);
}

cim_status cim_tech_scale(cim_ctx *ctx, const cim_components *lib, double from_nm, double from_vdd, double to_nm,
                          double *energy_factor, double *area_factor)
{
    if (!energy_factor || !area_factor)
        return cim__err(ctx, CIM_ERR_ARG, "technology: NULL argument");
    double v_to;
    cim_status st = cim_tech_vdd(ctx, lib, to_nm, &v_to);
    if (!st && isnan(from_vdd))
        st = cim_tech_vdd(ctx, lib, from_nm, &from_vdd);
    if (st)
        return st;
    if (!isfinite(from_nm) || from_nm <= 0 || !(from_vdd > 0))
        return cim__err(ctx, CIM_ERR_RANGE, "technology: bad source node %g nm / %g V", from_nm, from_vdd);
    double l = to_nm / from_nm, v = v_to / from_vdd;
    *energy_factor = l * v * v;
    *area_factor = l * l;
    return CIM_OK;
}

cim_status cim_component_at_node(cim_ctx *ctx, const cim_components *lib, const cim_component *c, double node_nm,
                                 cim_component_cost *out)
{
    if (!lib || !c || !out)
        return cim__err(ctx, CIM_ERR_ARG, "component: NULL argument");
    double fe = 1, fa = 1;
    /* By the ratio of nominal supplies (from_vdd NAN): a design keeps its
     * operating point relative to nominal, and at its own node a component
     * is exactly as published; its vdd_v documents the measurement. */
    if (node_nm > 0 && node_nm != c->node_nm) {
        cim_status st = cim_tech_scale(ctx, lib, c->node_nm, NAN, node_nm, &fe, &fa);
        if (st)
            return st;
    }
    /* Power at the source's activity scales like energy per event. */
    out->energy_pj = c->energy_pj * fe;
    out->power_mw = c->power_mw * fe;
    out->area_um2 = c->area_um2 * fa;
    return CIM_OK;
}
