/* cmd_components.c: `cimsim components`: the component library (energy per
 * event, area, source of each component, scaled to a node), the devices, and
 * the ADC models at several resolutions next to the thermal floor and the
 * survey envelope (docs/cost.md). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "cli.h"

static const char help[] =
    "usage: cimsim components [--node NM] [--rate HZ] [--components FILE] [--json OUT]\n"
    "\n"
    "Prints the component library: every component's energy per event (pJ), area\n"
    "(um2) and power (mW, at its source's activity), scaled to --node (default 32 nm,\n"
    "by energy ~ C V^2, area ~ node^2), with what one event is and its source; the\n"
    "devices of the crossbar model; and the ADC models at 4..10 bits (Andrulis et al.\n"
    "2024 at --rate conversions/s per ADC, default 1.28e9; ISAAC's part scaled x2 per\n"
    "bit; ISAAC's part by Saberi's table) next to the thermal-noise floor 8 kT SNR and\n"
    "the survey's best-design envelope. '-' is a number the source does not publish.\n"
    "\n"
    "  --node NM          technology node for every number (within the technology table)\n"
    "  --rate HZ          conversions per second of one ADC, for the Andrulis model\n"
    "  --components FILE  a component file on top of the built-in library (docs/cost.md)\n"
    "  --json OUT         the same as JSON ('-' for stdout)\n";

static json_t *num(double v) { return isnan(v) ? json_null() : json_real(v); }

static void fmt(char *buf, size_t n, double v)
{
    if (isnan(v))
        snprintf(buf, n, "-");
    else
        snprintf(buf, n, "%.4g", v);
}

/* The components table; adds each to arr when it is not NULL. */
static cim_status print_components(cim_ctx *ctx, const cim_components *lib, double node, json_t *arr, int quiet)
{
    if (!quiet)
        printf("%-28s %-12s %12s %12s %10s  %s\n", "component", "kind", "pJ/event", "area um2", "mW", "event; source");
    for (int i = 0; i < cim_components_count(lib); i++) {
        const cim_component *c = cim_components_at(lib, i);
        cim_component_cost k;
        cim_status st = cim_component_at_node(ctx, lib, c, node, &k);
        if (st)
            return st;
        char e[32], a[32], p[32];
        fmt(e, sizeof e, k.energy_pj);
        fmt(a, sizeof a, k.area_um2);
        fmt(p, sizeof p, k.power_mw);
        if (!quiet)
            printf("%-28s %-12s %12s %12s %10s  %s; %s [%g nm]\n", c->name, c->kind, e, a, p, c->event, c->source,
                   c->node_nm);
        if (arr)
            json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:f, s:o, s:i, s:s?, s:s?, s:s?, s:i}",
                                                 "name", c->name, "kind", c->kind, "event", c->event,
                                                 "energy_pj", num(k.energy_pj), "area_um2", num(k.area_um2),
                                                 "power_mw", num(k.power_mw), "source_node_nm", c->node_nm,
                                                 "source_vdd_v", num(c->vdd_v), "bits", c->bits, "source", c->source,
                                                 "notes", c->notes, "file", c->file, "line", c->line));
    }
    return CIM_OK;
}

static cim_status print_devices(cim_ctx *ctx, const cim_components *lib, double node, json_t *arr, int quiet)
{
    if (!quiet)
        printf("\n%-16s %10s %10s %7s %8s %14s %14s %16s  %s\n", "device", "r_on ohm", "r_off ohm", "read V",
               "pulse ns", "1T1R cell um2", "2T2R cell um2", "pJ/pulse on/off", "source");
    for (int i = 0; i < cim_components_device_count(lib); i++) {
        const cim_device *d = cim_components_device_at(lib, i);
        double a1, a2, e_on, e_off;
        int top = 15; /* a 4-bit cell's top level */
        cim_status st = cim_cell_area(ctx, d, CIM_ENC_OFFSET, node, &a1);
        if (!st)
            st = cim_cell_area(ctx, d, CIM_ENC_CENTER_OFFSET, node, &a2);
        /* One pulse on one device: at the top level (activations = top, pulses = 1) and at level 0. */
        if (!st)
            st = cim_crossbar_read_energy(ctx, d, 4, top, 1, &e_on);
        if (!st)
            st = cim_crossbar_read_energy(ctx, d, 4, 0, 1, &e_off);
        if (st)
            return st;
        if (!quiet)
            printf("%-16s %10g %10g %7g %8g %14.4g %14.4g %8.3g/%-7.3g  %s\n", d->name, d->r_on_ohm, d->r_off_ohm,
                   d->read_v, d->pulse_ns, a1, a2, e_on, e_off, d->source);
        if (arr)
            json_array_append_new(arr, json_pack("{s:s, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:s}", "name",
                                                 d->name, "r_on_ohm", d->r_on_ohm, "r_off_ohm", d->r_off_ohm,
                                                 "read_v", d->read_v, "pulse_ns", d->pulse_ns, "cell_1t1r_um2", a1,
                                                 "cell_2t2r_um2", a2, "pulse_energy_on_pj", e_on,
                                                 "pulse_energy_off_pj", e_off, "source", d->source));
    }
    return CIM_OK;
}

static cim_status print_adcs(cim_ctx *ctx, const cim_components *lib, double node, double rate, json_t *arr,
                             int quiet)
{
    const cim_component *isaac = NULL, *saberi = NULL;
    cim_components_get(ctx, lib, "isaac.adc", &isaac);
    cim_components_get(ctx, lib, "isaac.adc_saberi", &saberi);
    if (!quiet) {
        printf("\nADC per conversion at %g nm (pJ; area um2); floor = 8kT SNR at 300 K, envelope = 0.27 pJ + "
               "0.145 aJ 4^ENOB (ENOB = bits)\n", node);
        printf("%4s %20s %20s %20s %10s %10s %10s %10s\n", "bits", "andrulis @rate", "isaac x2/bit",
               "isaac saberi", "floor", "envelope", "andr/floor", "andr/env");
    }
    for (int b = 4; b <= 10; b++) {
        cim_adc_estimate an, ip = {NAN, NAN}, sp = {NAN, NAN};
        cim_adc_bounds bd;
        cim_status st = cim_adc_andrulis(ctx, b, node, rate, &an);
        if (!st && isaac)
            st = cim_adc_part(ctx, lib, isaac, b, node, &ip);
        if (!st && saberi)
            st = cim_adc_part(ctx, lib, saberi, b, node, &sp);
        if (!st)
            st = cim_adc_compare(ctx, b, b, an.energy_pj, 300.0, &bd);
        if (st)
            return st;
        if (!quiet) {
            char s1[32], s2[32], s3[32];
            snprintf(s1, sizeof s1, "%.3g; %.4g", an.energy_pj, an.area_um2);
            snprintf(s2, sizeof s2, "%.3g; %.4g", ip.energy_pj, ip.area_um2);
            snprintf(s3, sizeof s3, "%.3g; %.4g", sp.energy_pj, sp.area_um2);
            printf("%4d %20s %20s %20s %10.3g %10.3g %10.3g %10.3g\n", b, s1, s2, s3, bd.floor_pj,
                   bd.envelope_pj, bd.x_floor, bd.x_envelope);
        }
        if (arr)
            json_array_append_new(
                arr, json_pack("{s:i, s:{s:f, s:f}, s:{s:o, s:o}, s:{s:o, s:o}, s:f, s:f, s:f, s:f}", "bits", b,
                               "andrulis", "energy_pj", an.energy_pj, "area_um2", an.area_um2, "isaac_x2_per_bit",
                               "energy_pj", num(ip.energy_pj), "area_um2", num(ip.area_um2), "isaac_saberi",
                               "energy_pj", num(sp.energy_pj), "area_um2", num(sp.area_um2), "floor_pj", bd.floor_pj,
                               "envelope_pj", bd.envelope_pj, "andrulis_x_floor", bd.x_floor,
                               "andrulis_x_envelope", bd.x_envelope));
    }
    return CIM_OK;
}

int cli_components(int argc, char **argv)
{
    const char *node_s = NULL, *rate_s = NULL, *file = NULL, *json_out = NULL;
    for (int i = 1; i < argc; i++) {
        int err = 0;
        const char *v;
        if (cli_flag(argv, i, "--help") || cli_flag(argv, i, "-h")) {
            fputs(help, stdout);
            return 0;
        } else if ((v = cli_opt(argc, argv, &i, "--node", &err)))
            node_s = v;
        else if ((v = cli_opt(argc, argv, &i, "--rate", &err)))
            rate_s = v;
        else if ((v = cli_opt(argc, argv, &i, "--components", &err)))
            file = v;
        else if ((v = cli_opt(argc, argv, &i, "--json", &err)))
            json_out = v;
        else {
            cli_error("components", "unexpected argument '%s' (try --help)", argv[i]);
            return 2;
        }
        if (err)
            return 2;
    }
    double node = 32, rate = 1.28e9;
    char *end;
    if (node_s && (node = strtod(node_s, &end), end == node_s || *end || !(node > 0) || !isfinite(node))) {
        cli_error("components", "--node '%s': expected a positive number of nanometres", node_s);
        return 2;
    }
    if (rate_s && (rate = strtod(rate_s, &end), end == rate_s || *end || !(rate > 0) || !isfinite(rate))) {
        cli_error("components", "--rate '%s': expected a positive number of conversions per second", rate_s);
        return 2;
    }
    cim_ctx *ctx = cli_ctx("components", 1, 0);
    if (!ctx)
        return 1;
    cim_components *lib = NULL;
    cim_status st = cim_components_load(ctx, file, &lib);
    json_t *root = NULL, *jc = NULL, *jd = NULL, *ja = NULL;
    int quiet = json_out && strcmp(json_out, "-") == 0;
    if (json_out) {
        root = json_object();
        jc = json_array();
        jd = json_array();
        ja = json_array();
    }
    if (!st) {
        double vdd;
        st = cim_tech_vdd(ctx, lib, node, &vdd); /* reject a node outside the table up front */
        if (!st && !quiet)
            printf("component library at %g nm (nominal %.3g V)%s%s\n\n", node, vdd, file ? " + " : "",
                   file ? file : "");
    }
    if (!st)
        st = print_components(ctx, lib, node, jc, quiet);
    if (!st)
        st = print_devices(ctx, lib, node, jd, quiet);
    if (!st)
        st = print_adcs(ctx, lib, node, rate, ja, quiet);
    int rc = 0;
    if (st)
        rc = cli_fail("components", ctx, st);
    else if (root) {
        json_object_set_new(root, "node_nm", json_real(node));
        json_object_set_new(root, "adc_rate_hz", json_real(rate));
        json_object_set_new(root, "components", jc);
        json_object_set_new(root, "devices", jd);
        json_object_set_new(root, "adc", ja);
        jc = jd = ja = NULL;
        int bad = quiet ? json_dumpf(root, stdout, JSON_INDENT(1) | JSON_REAL_PRECISION(10)) != 0 || putchar('\n') == EOF
                        : json_dump_file(root, json_out, JSON_INDENT(1) | JSON_REAL_PRECISION(10)) != 0;
        if (bad) {
            cli_error("components", "%s: cannot write JSON", json_out);
            if (!quiet)
                remove(json_out);
            rc = 1;
        }
    }
    json_decref(root);
    json_decref(jc);
    json_decref(jd);
    json_decref(ja);
    cim_components_free(ctx, lib);
    cim_ctx_destroy(ctx);
    return rc;
}
