/* eval_breakdown.c: cim_net_eval_analog_breakdown (include/cimsim/net.h):
 * the network with no analog model, with each model group alone, and with
 * all of them (the result already computed), side by side. */
#include <stdio.h>
#include <string.h>
#include "cimsim/net.h"
#include "../lib/internal.h"

/* Whether group g is on in any layer config of the arch. */
static int arch_group_active(const cim_arch *a, const char *g)
{
    if (cim_analog_group_active(&a->base.analog, g))
        return 1;
    for (int i = 0; i < a->n_overrides; i++)
        if (cim_analog_group_active(&a->over[i].cfg.analog, g))
            return 1;
    return 0;
}

static void fill_row(cim_eval_breakdown *row, const char *model, const cim_eval_result *r)
{
    memset(row, 0, sizeof *row);
    snprintf(row->model, sizeof row->model, "%s", model);
    row->samples = r->samples;
    row->correct = r->has_labels ? r->analog_correct : r->agree;
    row->agree = r->agree;
    row->totals = r->totals;
    row->seconds = r->seconds;
}

cim_status cim_net_eval_analog_breakdown(cim_ctx *ctx, cim_net *net, const cim_arch *arch, const char *dataset,
                                         const cim_eval_options *opts, cim_eval_result *res)
{
    if (!ctx || !net || !arch || !dataset || !res)
        return cim__err(ctx, CIM_ERR_ARG, "cim_net_eval_analog_breakdown: NULL argument");
    const char *const *groups = cim_analog_group_names();
    int ng = 0, active = 0;
    for (; groups[ng]; ng++)
        active += arch_group_active(arch, groups[ng]);
    cim__free(ctx, res->breakdown);
    res->breakdown = NULL;
    res->n_breakdown = 0;
    if (!active)
        return CIM_OK;
    cim_eval_breakdown *rows = cim__calloc(ctx, (size_t)active + 2, sizeof *rows);
    cim_arch *sub = cim__malloc(ctx, sizeof *sub);
    cim_eval_result r;
    memset(&r, 0, sizeof r);
    cim_status st = rows && sub ? CIM_OK : CIM_ERR_NOMEM;
    cim_eval_options o;
    if (opts)
        o = *opts;
    else
        cim_eval_options_default(&o);
    o.histogram = 0; /* only the accuracy and the counters are reported */
    int n = 0;
    for (int g = -1; st == CIM_OK && g < ng; g++) { /* -1: none */
        const char *name = g < 0 ? "none" : groups[g];
        if (g >= 0 && !arch_group_active(arch, name))
            continue;
        st = cim_arch_analog_only(ctx, arch, name, sub);
        if (st == CIM_OK)
            st = cim_net_eval(ctx, net, sub, dataset, &o, &r);
        if (st == CIM_OK) {
            fill_row(&rows[n++], name, &r);
            cim_eval_result_free(ctx, &r);
        }
    }
    if (st == CIM_OK) {
        fill_row(&rows[n++], "all", res);
        res->breakdown = rows;
        res->n_breakdown = n;
    } else {
        cim__free(ctx, rows);
    }
    cim__free(ctx, sub);
    return st;
}
