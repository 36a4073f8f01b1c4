/* cmd_hw.c: `cimsim hw`: a hardware architecture's area and peak power per
 * tile and chip by component, and with a workload and an arch the mapping of
 * its layers (crossbars, copies, cycles, utilization) and the chip's
 * throughput (include/cimsim/hw.h, docs/cost.md). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "cli.h"

static const char help[] =
    "usage: cimsim hw [NAME|FILE] [--workload W] [--arch A] [--components FILE] [--json OUT]\n"
    "\n"
    "Prints a hardware architecture (crossbar -> IMA -> tile -> chip): each level's\n"
    "components with their counts, area (from the component library at the\n"
    "architecture's node) and peak power (the source's power figure, or energy per\n"
    "event x the rate of an always-busy component), the tile and chip totals and the\n"
    "chip's peak throughput. Without NAME it lists the built-in architectures.\n"
    "\n"
    "With --workload (a bundled name: resnet18, resnet50, mobilenetv2, bert-large-ffn,\n"
    "or a workload YAML file) it maps the layers onto the chip (RAELLA thesis 5.5:\n"
    "crossbars per layer, greedy replication of the slowest layer while crossbars are\n"
    "left, a layer pipeline) and prints per layer crossbars, copies, cycles per vector,\n"
    "time per inference and utilization, and the chip's inferences/s, TOPS, TOPS/mm2.\n"
    "\n"
    "  --arch A           crossbar config (preset or YAML) for the layers; default: the\n"
    "                     preset of the architecture's name (isaac, raella)\n"
    "  --components FILE  a component file on top of the built-in library\n"
    "  --json OUT         the same as JSON ('-' for stdout)\n";

static json_t *num(double v) { return isnan(v) ? json_null() : json_real(v); }

static int list_builtin(void)
{
    cim_ctx *ctx = cli_ctx("hw", 1, 0);
    if (!ctx)
        return 1;
    cim_components *lib = NULL;
    cim_status st = cim_components_load(ctx, NULL, &lib);
    for (const char *const *n = cim_hw_names(); !st && *n; n++) {
        cim_hw hw;
        st = cim_hw_load(ctx, lib, *n, &hw);
        if (!st)
            printf("%-12s %s\n", *n, hw.description);
    }
    int rc = st ? cli_fail("hw", ctx, st) : 0;
    cim_components_free(ctx, lib);
    cim_ctx_destroy(ctx);
    return rc;
}

static void print_cost(const cim_hw *hw, const cim_hw_cost *c)
{
    printf("%s: %s\n  file %s, %g nm\n  sources: %s\n\n", hw->name, hw->description, hw->file, hw->node_nm,
           hw->sources);
    printf("crossbar %dx%d %d-bit %s cells%s%s, cycle %g ns", hw->rows, hw->cols, hw->cell_bits,
           hw->devices_per_cell == 2 ? "2T2R" : "1T1R", hw->device[0] ? " of " : "", hw->device, c->cycle_ns);
    if (hw->adc[0])
        printf(", %g ADC(s) %s at %g GS/s", hw->adcs_per_crossbar, hw->adc, hw->adc_rate_hz * 1e-9);
    printf("\n%d crossbars per IMA, %d IMAs per tile, %d tiles per chip\n\n", hw->crossbars_per_ima,
           hw->imas_per_tile, hw->tiles);
    printf("%-9s %-28s %-12s %9s %14s %12s  %s\n", "level", "component", "kind", "count", "area um2", "power mW",
           "power from");
    for (int i = 0; i < c->n_parts; i++) {
        const cim_hw_part *p = &c->part[i];
        char pw[32];
        if (isnan(p->power_mw))
            snprintf(pw, sizeof pw, "-");
        else
            snprintf(pw, sizeof pw, "%.4g", p->power_mw);
        printf("%-9s %-28s %-12s %9g %14.5g %12s  %s\n", cim_hw_level_name(p->level), p->component, p->kind,
               p->count, p->area_um2, pw,
               isnan(p->power_mw) ? "data-dependent (run counters)" : p->from_events ? "energy x rate" : "table");
    }
    printf("\nper IMA:  %.5g mm2, %.4g mW\n", c->level_area_um2[CIM_HW_IMA] * 1e-6, c->level_power_mw[CIM_HW_IMA]);
    printf("per tile: %.5g mm2, %.4g mW\n", c->tile_area_mm2, c->tile_power_mw);
    printf("chip:     %d tiles, %.5g mm2, %.4g W%s\n", c->tiles, c->chip_area_mm2, c->chip_power_w,
           c->power_data_dependent ? " (without the data-dependent array power)" : "");
    if (hw->area_budget_mm2 > 0)
        printf("budget:   %g mm2 holds %d tiles of these components%s\n", hw->area_budget_mm2, c->tiles_fitting_budget,
               hw->tiles_given ? " (the file gives the tile count)" : "");
    printf("peak:     %.4g TOPS (%d weight slices, %d cycles per input), %.4g GOPS/s/mm2, %.4g GOPS/s/W\n",
           c->peak_tops, hw->peak_weight_slices, hw->peak_input_cycles, c->peak_gops_per_mm2,
           c->peak_tops_per_w * 1e3);
}

static json_t *cost_json(const cim_hw *hw, const cim_hw_cost *c)
{
    json_t *parts = json_array();
    for (int i = 0; i < c->n_parts; i++) {
        const cim_hw_part *p = &c->part[i];
        json_array_append_new(parts, json_pack("{s:s, s:s, s:s, s:f, s:f, s:o, s:s}", "level",
                                               cim_hw_level_name(p->level), "component", p->component, "kind",
                                               p->kind, "count", p->count, "area_um2", p->area_um2, "power_mw",
                                               num(p->power_mw), "power_from",
                                               isnan(p->power_mw) ? "data" : p->from_events ? "events" : "table"));
    }
    return json_pack("{s:s, s:s, s:f, s:{s:i, s:i, s:i, s:s, s:f, s:s, s:f}, s:{s:i, s:f, s:f}, s:{s:f, s:f}, "
                     "s:{s:i, s:f, s:f, s:i, s:o, s:f, s:f, s:o, s:o}, s:o}",
                     "name", hw->name, "file", hw->file, "node_nm", hw->node_nm,
                     "crossbar", "rows", hw->rows, "cols", hw->cols, "cell_bits", hw->cell_bits, "cell",
                     hw->devices_per_cell == 2 ? "2T2R" : "1T1R", "cycle_ns", c->cycle_ns, "adc", hw->adc,
                     "adcs_per_crossbar", hw->adcs_per_crossbar,
                     "ima", "crossbars", hw->crossbars_per_ima, "area_mm2", c->level_area_um2[CIM_HW_IMA] * 1e-6,
                     "power_mw", c->level_power_mw[CIM_HW_IMA],
                     "tile", "power_mw", c->tile_power_mw, "area_mm2", c->tile_area_mm2,
                     "chip", "tiles", c->tiles, "area_mm2", c->chip_area_mm2, "power_w", c->chip_power_w,
                     "tiles_fitting_budget", c->tiles_fitting_budget,
                     "area_budget_mm2", hw->area_budget_mm2 > 0 ? json_real(hw->area_budget_mm2) : json_null(),
                     "peak_tops", c->peak_tops, "peak_gops_per_mm2", c->peak_gops_per_mm2,
                     "peak_gops_per_w", num(c->peak_tops_per_w * 1e3),
                     "power_data_dependent", json_boolean(c->power_data_dependent),
                     "parts", parts);
}

/* Map the workload; prints the table and adds "mapping" to root. */
static cim_status map_workload(cim_ctx *ctx, const cim_hw *hw, const cim_hw_cost *cost, const char *wl_name,
                               const char *arch_name, json_t *root, int quiet)
{
    cim_workload wl;
    cim_status st = cim_workload_load(ctx, wl_name, &wl);
    if (st)
        return st;
    cim_arch *arch = malloc(sizeof *arch);
    cim_hw_layer *L = calloc((size_t)wl.n_layers, sizeof *L);
    cim_hw_mapping m;
    memset(&m, 0, sizeof m);
    if (!arch || !L) {
        st = CIM_ERR_NOMEM;
        goto done;
    }
    if ((st = cim_arch_load(ctx, arch_name, arch)))
        goto done;
    for (int i = 0; i < wl.n_layers; i++) {
        const cim_workload_layer *w = &wl.layers[i];
        L[i].name = w->name;
        L[i].K = w->K;
        L[i].N = w->N;
        L[i].groups = w->groups;
        L[i].M = w->M;
        L[i].input_signed = w->stats.input_signed;
        L[i].cfg = cim_arch_layer_config(arch, w->name, i == 0, i == wl.n_layers - 1);
    }
    if ((st = cim_hw_map(ctx, hw, cost, L, wl.n_layers, &m)))
        goto done;
    if (!quiet) {
        printf("\n%s on %s with arch %s: %d layers, %.4g GMACs per inference\n", wl.name, hw->name, arch_name,
               wl.n_layers, (double)m.macs * 1e-9);
        printf("%-28s %6s %6s %6s %8s %8s %7s %6s %10s %7s\n", "layer", "K", "N", "groups", "M", "xbars", "copies",
               "cyc/v", "time us", "util%");
        for (int i = 0; i < wl.n_layers; i++) {
            const cim_hw_layer_map *x = &m.layer[i];
            printf("%-28.28s %6d %6d %6d %8llu %8llu %7llu %6d %10.4g %7.2f%s\n", L[i].name, L[i].K, L[i].N,
                   L[i].groups, (unsigned long long)L[i].M, (unsigned long long)x->crossbars,
                   (unsigned long long)x->copies, x->cycles_per_vector, x->time_ns * 1e-3, 100 * x->utilization,
                   i == m.bottleneck ? "  <- slowest" : "");
        }
        printf("\nchips %d, crossbars %llu of %llu (one copy of each layer: %llu), tiles used %d, utilization "
               "%.2f%%\n", m.chips, (unsigned long long)m.crossbars_used, (unsigned long long)m.crossbars_available,
               (unsigned long long)m.crossbars_min, m.tiles_used, 100 * m.utilization);
        printf("throughput: %.5g inferences/s, %.4g TOPS, %.4g TOPS/mm2 (%.5g mm2), %.4g TOPS/W at peak power "
               "(%.4g W)\n", m.inferences_per_s, m.tops, m.tops_per_mm2, m.area_mm2, m.tops / m.power_w, m.power_w);
    }
    if (root) {
        json_t *layers = json_array();
        for (int i = 0; i < wl.n_layers; i++) {
            const cim_hw_layer_map *x = &m.layer[i];
            json_array_append_new(
                layers, json_pack("{s:s, s:i, s:i, s:i, s:I, s:I, s:I, s:I, s:i, s:i, s:f, s:f, s:f, s:i}", "name",
                                  L[i].name, "K", L[i].K, "N", L[i].N, "groups", L[i].groups, "M", (json_int_t)L[i].M,
                                  "macs", (json_int_t)x->macs, "crossbars", (json_int_t)x->crossbars, "copies",
                                  (json_int_t)x->copies, "cycles_per_vector", x->cycles_per_vector, "phases",
                                  x->phases, "vector_ns", x->vector_ns, "time_ns", x->time_ns, "utilization",
                                  x->utilization, "groups_per_crossbar", x->groups_per_crossbar));
        }
        json_object_set_new(root, "mapping",
                            json_pack("{s:s, s:s, s:I, s:i, s:I, s:I, s:I, s:i, s:i, s:f, s:f, s:f, s:f, s:f, s:f, "
                                      "s:o}",
                                      "workload", wl.name, "arch", arch_name, "macs", (json_int_t)m.macs, "chips",
                                      m.chips, "crossbars_available", (json_int_t)m.crossbars_available,
                                      "crossbars_min", (json_int_t)m.crossbars_min, "crossbars_used",
                                      (json_int_t)m.crossbars_used, "tiles_used", m.tiles_used, "bottleneck",
                                      m.bottleneck, "inferences_per_s", m.inferences_per_s, "tops", m.tops,
                                      "tops_per_mm2", m.tops_per_mm2, "tops_per_w", m.tops / m.power_w, "area_mm2",
                                      m.area_mm2, "utilization", m.utilization, "layers", layers));
        json_t *chip = json_object_get(root, "chip");
        json_object_set_new(chip, "tops", json_real(m.tops));
        json_object_set_new(chip, "tops_per_w", json_real(m.tops / m.power_w));
        json_object_set_new(chip, "tops_per_mm2", json_real(m.tops_per_mm2));
        json_object_set_new(chip, "inferences_per_s", json_real(m.inferences_per_s));
    }
done:
    cim_hw_mapping_free(ctx, &m);
    free(arch);
    free(L);
    cim_workload_free(ctx, &wl);
    return st;
}

static int write_json(json_t *root, const char *out)
{
    if (strcmp(out, "-") == 0)
        return json_dumpf(root, stdout, JSON_INDENT(1) | JSON_REAL_PRECISION(10)) != 0 || putchar('\n') == EOF;
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", out);
    if (json_dump_file(root, tmp, JSON_INDENT(1) | JSON_REAL_PRECISION(10)) != 0 || rename(tmp, out) != 0) {
        remove(tmp);
        return 1;
    }
    return 0;
}

int cli_hw(int argc, char **argv)
{
    const char *name = NULL, *wl = NULL, *arch = NULL, *file = NULL, *json_out = NULL;
    for (int i = 1; i < argc; i++) {
        int err = 0;
        const char *v;
        if (cli_flag(argv, i, "--help") || cli_flag(argv, i, "-h")) {
            fputs(help, stdout);
            return 0;
        } else if ((v = cli_opt(argc, argv, &i, "--workload", &err)))
            wl = v;
        else if ((v = cli_opt(argc, argv, &i, "--arch", &err)))
            arch = v;
        else if ((v = cli_opt(argc, argv, &i, "--components", &err)))
            file = v;
        else if ((v = cli_opt(argc, argv, &i, "--json", &err)))
            json_out = v;
        else if (argv[i][0] != '-' && !name && !err)
            name = argv[i];
        else {
            cli_error("hw", "unexpected argument '%s' (try --help)", argv[i]);
            return 2;
        }
        if (err)
            return 2;
    }
    if (!name) {
        if (wl || arch || json_out) {
            cli_error("hw", "give an architecture: NAME or FILE (cimsim hw lists them)");
            return 2;
        }
        return list_builtin();
    }
    if (arch && !wl) {
        cli_error("hw", "--arch applies to --workload");
        return 2;
    }
    cim_ctx *ctx = cli_ctx("hw", 1, 0);
    if (!ctx)
        return 1;
    cim_components *lib = NULL;
    cim_hw hw;
    cim_hw_cost cost;
    json_t *root = NULL;
    int quiet = json_out && strcmp(json_out, "-") == 0;
    cim_status st = cim_components_load(ctx, file, &lib);
    if (!st)
        st = cim_hw_load(ctx, lib, name, &hw);
    if (!st)
        st = cim_hw_cost_compute(ctx, lib, &hw, &cost);
    if (!st && !quiet)
        print_cost(&hw, &cost);
    if (!st && json_out)
        root = cost_json(&hw, &cost);
    if (!st && wl) {
        if (!arch) {
            if (!cim_config_preset_description(hw.name)) {
                cli_error("hw", "no preset is named '%s': give --arch", hw.name);
                json_decref(root);
                cim_components_free(ctx, lib);
                cim_ctx_destroy(ctx);
                return 2;
            }
            arch = hw.name;
        }
        st = map_workload(ctx, &hw, &cost, wl, arch, root, quiet);
    }
    int rc = 0;
    if (st)
        rc = cli_fail("hw", ctx, st);
    else if (root && write_json(root, json_out)) {
        cli_error("hw", "%s: cannot write JSON", json_out);
        rc = 1;
    }
    json_decref(root);
    cim_components_free(ctx, lib);
    cim_ctx_destroy(ctx);
    return rc;
}
