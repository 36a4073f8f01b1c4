/* cmd_cost.c: `cimsim cost`, a network's energy, area and throughput
 * without data (include/cimsim/costrun.h, docs/energy.md "Cost without
 * data"), and the hardware table `cimsim eval` prints too. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cimsim/cimsim.h"
#include "cimsim/costrun.h"
#include "cli.h"

static const char usage[] =
    "usage: cimsim cost --arch A (--workload W | --model M.onnx [--dataset D]) [--stats EVAL.json]\n"
    "                   [--hw NAME|FILE] [--energy SPEC] [--json OUT]\n"
    "\n"
    "Energy per inference (by component, Titanium factors), area, latency, throughput,\n"
    "TOPS/W and TOPS/mm2 of a network on an architecture, from its layer shapes and\n"
    "value statistics instead of a run (docs/energy.md, \"Cost without data\").\n"
    "\n"
    "  --arch A         a preset or YAML architecture (per-layer configs from its layers:)\n"
    "  --workload W     a bundled workload (resnet18, resnet50, mobilenetv2, bert-large-ffn)\n"
    "                   or a workload YAML file (docs/workloads.md)\n"
    "  --model M.onnx   an ONNX model: its layers' shapes from one sample of --dataset\n"
    "                   (as `cimsim workload --model` writes them)\n"
    "  --dataset D      the dataset for --model (default fashion-mnist:test)\n"
    "  --stats E.json   rates from a previous `cimsim eval --json`: a layer of the same name,\n"
    "                   else the MAC-weighted average of the eval's layers of the same kind\n"
    "                   (conv or linear). Without it the rates are stated assumptions\n"
    "  --hw NAME|FILE   hardware file (default: isaac for isaac, raella for raella*; none)\n"
    "  --energy SPEC    energy spec (default: the arch's, as in `cimsim eval`)\n"
    "  --json OUT       write the result as JSON (- for stdout)\n";

void cli_print_hw(const cim_cost_hw_result *h, int has_energy)
{
    printf("hardware %s: %d tile(s) of %.4g mm2, %.4g mW peak; %d chip(s) of %.4g mm2 in all, %.4g W peak\n",
           h->hw, h->tiles, h->tile_area_mm2, h->tile_power_mw, h->chips, h->area_mm2, h->peak_power_w);
    printf("  latency %.4g us/inference, throughput %.4g inferences/s = %.4g TOPS, %.4g TOPS/mm2", h->latency_ns * 1e-3,
           h->inferences_per_s, h->tops, h->tops_per_mm2);
    if (has_energy)
        printf(", %.4g TOPS/W (%.4g W at that rate)", h->tops_per_w, h->power_w);
    printf("\n  %-26s %12s %7s\n", "area by component", "mm2/chip", "share");
    const cim_hw_cost *c = &h->cost;
    double chip = c->chip_area_mm2 > 0 ? c->chip_area_mm2 : 1;
    for (int i = 0; i < c->n_parts; i++) {
        const cim_hw_part *p = &c->part[i];
        double mm2 = p->area_um2 * 1e-6 * h->units_per_chip[p->level];
        char key[CIM_HW_NAME_MAX + 16];
        snprintf(key, sizeof key, "%s/%s", cim_hw_level_name(p->level), p->component);
        printf("  %-26.26s %12.4g %6.1f%%\n", key, mm2, 100.0 * mm2 / chip);
    }
}

int cli_cost(int argc, char **argv)
{
    const char *dataset = "fashion-mnist:test";
    const char *arch_s = NULL, *wl_s = NULL, *model = NULL, *stats = NULL, *hw = NULL, *energy = NULL, *json = NULL;
    const char *v;
    int err = 0;
    for (int i = 1; i < argc; i++) {
        if (cli_flag(argv, i, "--help") || cli_flag(argv, i, "-h")) {
            fputs(usage, stdout);
            return 0;
        } else if ((v = cli_opt(argc, argv, &i, "--arch", &err))) {
            arch_s = v;
        } else if ((v = cli_opt(argc, argv, &i, "--workload", &err))) {
            wl_s = v;
        } else if ((v = cli_opt(argc, argv, &i, "--model", &err))) {
            model = v;
        } else if ((v = cli_opt(argc, argv, &i, "--dataset", &err))) {
            dataset = v;
        } else if ((v = cli_opt(argc, argv, &i, "--stats", &err))) {
            stats = v;
        } else if ((v = cli_opt(argc, argv, &i, "--hw", &err))) {
            hw = v;
        } else if ((v = cli_opt(argc, argv, &i, "--energy", &err))) {
            energy = v;
        } else if ((v = cli_opt(argc, argv, &i, "--json", &err))) {
            json = v;
        } else {
            if (!err)
                fprintf(stderr, "cimsim cost: unknown argument '%s'\n", argv[i]);
            fputs(usage, stderr);
            return 2;
        }
    }
    if (!arch_s || (!wl_s && !model)) {
        fprintf(stderr, "cimsim cost: --arch and --workload are required\n%s", usage);
        return 2;
    }
    if (model && wl_s) {
        fprintf(stderr, "cimsim cost: give --workload or --model, not both\n");
        return 2;
    }
    cim_ctx *ctx = NULL;
    if (cim_ctx_create(NULL, &ctx) != CIM_OK) {
        fprintf(stderr, "cimsim cost: cannot create a context\n");
        return 1;
    }
    cim_arch arch;
    cim_workload wl;
    memset(&wl, 0, sizeof wl);
    cim_cost_result r;
    memset(&r, 0, sizeof r);
    int rc = 1;
    cim_status st = cim_arch_load(ctx, arch_s, &arch);
    if (st) {
        rc = cli_fail("cost", ctx, st);
        goto done;
    }
    if (model) { /* the model's shapes, as `cimsim workload --model` reads them */
        if (cli_workload_from_model(ctx, "cost", model, dataset, NULL, NULL, &wl) != 0)
            goto done; /* wl.layers is malloc'ed: freed below */
    } else {
        st = cim_workload_load(ctx, wl_s, &wl);
    }
    cim_cost_options o = {energy, hw, stats};
    if (!st)
        st = cim_cost_network(ctx, &arch, &wl, &o, &r);
    if (st) {
        rc = cli_fail("cost", ctx, st);
        goto done;
    }
    const cim_energy *e = &r.energy;
    printf("cost of %s (%d layers, %.4g GMACs per inference) on %s\n", r.workload, r.n_layers, e->macs * 1e-9, r.arch);
    printf("rates: %s; %d layer(s) matched by name, %d on assumptions\n", r.stats_source, r.matched_layers,
           r.assumed_layers);
    if (r.assumed_layers)
        printf("  ASSUMED (no measured statistics): static slicing converts every used column per input slice;\n"
               "  speculation fails on 2%% of columns (thesis); inputs of mean |x-zx| 20 on half the rows;\n"
               "  devices at a quarter of their top level; one input-sum add per input (center_offset)\n");
    printf("energy (%s): %.4g pJ/inference = %.1f fJ/MAC; ADC %.1f fJ/MAC\n", r.energy_spec, e->total_pj,
           e->macs > 0 ? 1e3 * e->total_pj / e->macs : 0.0, e->macs > 0 ? 1e3 * e->pj[CIM_ENERGY_ADC] / e->macs : 0.0);
    printf("  %-14s %14s %7s\n", "component", "pJ/inference", "share");
    for (int i = 0; i < CIM_ENERGY_PARTS; i++)
        if (e->pj[i] > 0)
            printf("  %-14s %14.4g %6.1f%%\n", cim_energy_part_name((cim_energy_part)i), e->pj[i],
                   e->total_pj > 0 ? 100.0 * e->pj[i] / e->total_pj : 0.0);
    const cim_titanium *t = &e->titanium;
    printf("Titanium: %.4g pJ/convert x %.4g converts/MAC x %.4g MACs / %.3f utilization\n", t->energy_per_convert_pj,
           t->converts_per_mac, t->macs, t->utilization);
    printf("  %-24s %12s %10s %10s %9s %9s %s\n", "layer", "MACs", "conv/MAC", "fJ/MAC", "crossbars", "copies",
           "rates from");
    for (int i = 0; i < r.n_layers; i++) {
        const cim_cost_layer *L = &r.layers[i];
        printf("  %-24.24s %12llu %10.4f %10.1f %9llu %9llu %s\n", L->name, (unsigned long long)L->macs,
               L->energy.titanium.converts_per_mac,
               L->energy.macs > 0 ? 1e3 * L->energy.total_pj / L->energy.macs : 0.0,
               (unsigned long long)(r.has_hw ? L->map.crossbars : L->info.crossbars),
               (unsigned long long)(r.has_hw ? L->map.copies : 0), L->rates_from);
    }
    if (r.has_hw)
        cli_print_hw(&r.hw, 1);
    else
        printf("no hardware file for arch %s: no area or throughput (give --hw NAME|FILE)\n", r.arch);
    if (json && (st = cim_cost_write_json(ctx, json, &r)) != CIM_OK) {
        rc = cli_fail("cost", ctx, st);
        goto done;
    }
    rc = 0;
done:
    cim_cost_result_free(ctx, &r);
    if (model)
        free(wl.layers);
    else
        cim_workload_free(ctx, &wl);
    cim_ctx_destroy(ctx);
    return rc;
}
