/* eval_energy.c: cim_eval_energy (include/cimsim/net.h): an eval result's
 * counters priced by an energy spec (include/cimsim/energy.h). */
#include <string.h>
#include "cimsim/net.h"
#include "../lib/internal.h"

cim_status cim_eval_energy(cim_ctx *ctx, const cim_energy_spec *spec, cim_eval_result *res)
{
    if (!spec || !res)
        return cim__err(ctx, CIM_ERR_ARG, "eval energy: NULL argument");
    res->has_energy = 0;
    memset(&res->energy, 0, sizeof res->energy);
    double per = res->samples ? 1.0 / (double)res->samples : 0.0;
    for (int i = 0; i < res->n_layers; i++) {
        cim_eval_layer *L = &res->layers[i];
        cim_status st = cim_energy_layer(ctx, spec, &L->cfg, &L->stats, &L->info, &L->energy);
        if (st) {
            char msg[400];
            snprintf(msg, sizeof msg, "%s", cim_ctx_errmsg(ctx));
            for (int j = 0; j <= i; j++)
                memset(&res->layers[j].energy, 0, sizeof res->layers[j].energy);
            memset(&res->energy, 0, sizeof res->energy);
            return cim__err(ctx, st, "%s: layer %s: %s", res->arch, L->name, msg);
        }
        cim_energy_scale(&L->energy, per);
        cim_energy_add(&res->energy, &L->energy);
    }
    snprintf(res->energy_spec, sizeof res->energy_spec, "%s", cim_energy_spec_name(spec));
    res->has_energy = 1;
    return CIM_OK;
}

cim_status cim_eval_hw(cim_ctx *ctx, const char *hw_spec, cim_eval_result *res)
{
    if (!hw_spec || !res || res->n_layers < 1 || !res->samples)
        return cim__err(ctx, CIM_ERR_ARG, "eval hw: NULL argument, no layers or no samples");
    res->has_hw = 0;
    cim_hw_layer *hl = cim__calloc(ctx, (size_t)res->n_layers, sizeof *hl);
    cim_hw_layer_map *maps = cim__calloc(ctx, (size_t)res->n_layers, sizeof *maps);
    if (!hl || !maps) {
        cim__free(ctx, hl);
        cim__free(ctx, maps);
        return cim__err(ctx, CIM_ERR_NOMEM, "eval hw: out of memory");
    }
    for (int i = 0; i < res->n_layers; i++) {
        const cim_eval_layer *L = &res->layers[i];
        double per_group = (double)L->K * (double)L->N * (double)(L->groups > 0 ? L->groups : 1);
        double M = per_group > 0 ? (double)L->macs / (double)res->samples / per_group : 1.0;
        hl[i].name = L->name;
        hl[i].K = L->K;
        hl[i].N = L->N;
        hl[i].groups = L->groups > 0 ? L->groups : 1;
        hl[i].M = M >= 1.0 ? (uint64_t)(M + 0.5) : 1;
        hl[i].input_signed = -1;
        hl[i].cfg = &L->cfg;
    }
    double e = res->has_energy ? res->energy.total_pj : 0.0;
    cim_status st = cim_cost_hw(ctx, hw_spec, hl, res->n_layers, e, &res->hw, maps);
    if (!st) {
        for (int i = 0; i < res->n_layers; i++)
            res->layers[i].map = maps[i];
        res->has_hw = 1;
    }
    cim__free(ctx, hl);
    cim__free(ctx, maps);
    return st;
}
