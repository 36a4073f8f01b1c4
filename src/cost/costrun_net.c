/* costrun_net.c: cim_cost_network, a workload costed without data
 * (include/cimsim/costrun.h, docs/energy.md "Cost without data"). */
#include <string.h>
#include "cimsim/costrun.h"
#include "../lib/internal.h"

void cim_cost_result_free(cim_ctx *ctx, cim_cost_result *r)
{
    if (!r)
        return;
    cim__free(ctx, r->layers);
    memset(r, 0, sizeof *r);
}

static int is_conv_op(const char *op) { return strstr(op, "Conv") != NULL; }

/* MAC-weighted average rates of the eval layers of one kind (kind -1: all). */
static int average(const cim_cost_eval_rates *e, int kind, cim_cost_rates *out)
{
    memset(out, 0, sizeof *out);
    double w = 0;
    for (int i = 0; i < e->n; i++) {
        if (kind >= 0 && is_conv_op(e->op_type[i]) != (kind == CIM_WL_CONV))
            continue;
        double m = (double)e->macs[i];
        const cim_cost_rates *r = &e->rates[i];
        out->converts_per_mac += m * r->converts_per_mac;
        out->dac_pulses_per_row += m * r->dac_pulses_per_row;
        out->activations_per_mac += m * r->activations_per_mac;
        out->input_sum_per_input += m * r->input_sum_per_input;
        out->level_mean += m * r->level_mean;
        w += m;
    }
    if (w <= 0)
        return 0;
    out->converts_per_mac /= w;
    out->dac_pulses_per_row /= w;
    out->activations_per_mac /= w;
    out->input_sum_per_input /= w;
    out->level_mean /= w;
    return 1;
}

cim_status cim_cost_network(cim_ctx *ctx, const cim_arch *arch, const cim_workload *wl, const cim_cost_options *opt,
                            cim_cost_result *out)
{
    if (!arch || !wl || !out || wl->n_layers < 1)
        return cim__err(ctx, CIM_ERR_ARG, "cost: NULL argument or empty workload");
    memset(out, 0, sizeof *out);
    cim_cost_options none = {0};
    if (!opt)
        opt = &none;
    const char *es = opt->energy_spec ? opt->energy_spec : cim_energy_spec_default(arch->name);
    if (!es)
        return cim__err(ctx, CIM_ERR_CONFIG, "cost: arch %s has no default energy spec (give one: isaac, raella, "
                        "digital-cim or a YAML file)", arch->name);
    const char *hws = opt->hw ? (strcmp(opt->hw, "none") ? opt->hw : NULL) : cim_cost_hw_default(arch->name);
    cim_energy_spec *spec = NULL;
    cim_cost_eval_rates ev;
    memset(&ev, 0, sizeof ev);
    cim_hw_layer *hl = NULL;
    cim_hw_layer_map *maps = NULL;
    cim_status st = cim_energy_spec_load(ctx, es, NULL, &spec);
    if (!st && opt->stats_json)
        st = cim_cost_rates_from_eval(ctx, opt->stats_json, &ev);
    if (st)
        goto done;
    int n = wl->n_layers;
    out->layers = cim__calloc(ctx, (size_t)n, sizeof *out->layers);
    hl = cim__calloc(ctx, (size_t)n, sizeof *hl);
    maps = cim__calloc(ctx, (size_t)n, sizeof *maps);
    if (!out->layers || !hl || !maps) {
        st = cim__err(ctx, CIM_ERR_NOMEM, "cost: out of memory");
        goto done;
    }
    out->n_layers = n;
    snprintf(out->arch, sizeof out->arch, "%s", arch->name);
    snprintf(out->workload, sizeof out->workload, "%s", wl->file[0] ? wl->file : wl->name);
    snprintf(out->energy_spec, sizeof out->energy_spec, "%s", cim_energy_spec_name(spec));
    if (opt->stats_json)
        snprintf(out->stats_source, sizeof out->stats_source, "%s (arch %s)", opt->stats_json, ev.arch);
    else
        snprintf(out->stats_source, sizeof out->stats_source, "assumed (docs/energy.md, Cost without data)");
    cim_cost_rates avg_kind[2], avg_all;
    int has_kind[2] = {0, 0}, has_all = 0;
    if (ev.n) {
        has_kind[0] = average(&ev, CIM_WL_CONV, &avg_kind[0]);
        has_kind[1] = average(&ev, CIM_WL_LINEAR, &avg_kind[1]);
        has_all = average(&ev, -1, &avg_all);
    }
    for (int i = 0; i < n; i++) {
        const cim_workload_layer *W = &wl->layers[i];
        cim_cost_layer *L = &out->layers[i];
        const cim_xbar_config *cfg = cim_arch_layer_config(arch, W->name, i == 0, i == n - 1);
        L->cfg = *cfg;
        snprintf(L->name, sizeof L->name, "%s", W->name);
        snprintf(L->kind, sizeof L->kind, "%s", W->type == CIM_WL_CONV ? "conv" : "linear");
        L->K = W->K;
        L->N = W->N;
        L->groups = W->groups;
        L->M = W->M;
        L->macs = W->macs;
        int found = -1;
        for (int j = 0; j < ev.n && found < 0; j++)
            if (!strcmp(ev.name[j], W->name))
                found = j;
        if (found >= 0) {
            L->rates = ev.rates[found];
            snprintf(L->rates_from, sizeof L->rates_from, "eval layer %s", ev.name[found]);
            out->matched_layers++;
        } else if (ev.n && has_kind[W->type == CIM_WL_LINEAR]) {
            L->rates = avg_kind[W->type == CIM_WL_LINEAR];
            snprintf(L->rates_from, sizeof L->rates_from, "eval %s average", L->kind);
        } else if (ev.n && has_all) {
            L->rates = avg_all;
            snprintf(L->rates_from, sizeof L->rates_from, "eval average (no %s layers)", L->kind);
        } else {
            const cim_workload_stats *ws = &W->stats;
            cim_cost_rates_assumed(cfg, ws->input_mean, ws->input_density, &L->rates);
            snprintf(L->rates_from, sizeof L->rates_from, "assumed");
            out->assumed_layers++;
        }
        if ((st = cim_cost_estimate_layer(ctx, cfg, W->K, W->N, W->groups, W->M, &L->rates, &L->stats, &L->info)) ||
            (st = cim_energy_layer(ctx, spec, cfg, &L->stats, &L->info, &L->energy))) {
            char msg[400];
            snprintf(msg, sizeof msg, "%s", cim_ctx_errmsg(ctx));
            st = cim__err(ctx, st, "%s: layer %s: %s", out->workload, W->name, msg);
            goto done;
        }
        cim_energy_add(&out->energy, &L->energy);
        hl[i].name = L->name;
        hl[i].K = W->K;
        hl[i].N = W->N;
        hl[i].groups = W->groups;
        hl[i].M = W->M;
        hl[i].input_signed = W->stats.input_signed;
        hl[i].cfg = &L->cfg;
    }
    if (hws) {
        if ((st = cim_cost_hw(ctx, hws, hl, n, out->energy.total_pj, &out->hw, maps)) != CIM_OK)
            goto done;
        for (int i = 0; i < n; i++)
            out->layers[i].map = maps[i];
        out->has_hw = 1;
    }
done:
    cim__free(ctx, hl);
    cim__free(ctx, maps);
    cim_cost_eval_rates_free(ctx, &ev);
    cim_energy_spec_free(ctx, spec);
    if (st)
        cim_cost_result_free(ctx, out);
    return st;
}
