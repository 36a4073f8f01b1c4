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
