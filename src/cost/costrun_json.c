/* costrun_json.c: cim_cost_write_json and the JSON pieces eval shares
 * (include/cimsim/costrun.h, src/cost/costrun_json.h). */
#include <string.h>
#include "costrun_json.h"
#include "../lib/internal.h"
#include "../lib/json_out.h"

int cim__energy_json(json_t *o, const cim_energy *e, int has)
{
    if (!has)
        return json_object_set_new(o, "energy_pj_per_inference", json_null());
    json_t *by = json_object(), *ti = json_object();
    int bad = !by || !ti;
    for (int i = 0; i < CIM_ENERGY_PARTS && !bad; i++)
        bad |= json_object_set_new(by, cim_energy_part_name((cim_energy_part)i), json_real(e->pj[i]));
    if (!bad) {
        bad |= json_object_set_new(ti, "energy_per_convert_pj", json_real(e->titanium.energy_per_convert_pj));
        bad |= json_object_set_new(ti, "converts_per_mac", json_real(e->titanium.converts_per_mac));
        bad |= json_object_set_new(ti, "macs", json_real(e->titanium.macs));
        bad |= json_object_set_new(ti, "utilization", json_real(e->titanium.utilization));
    }
    bad |= json_object_set_new(o, "energy_pj_per_inference", json_real(e->total_pj));
    bad |= json_object_set(o, "energy_by_component", by);
    bad |= json_object_set(o, "titanium", ti);
    json_decref(by);
    json_decref(ti);
    return bad;
}

int cim__hw_json(json_t *o, const cim_cost_hw_result *h, int has)
{
    if (!has)
        return json_object_set_new(o, "chip", json_null());
    json_t *tile = json_object(), *chip = json_object(), *area = json_object();
    int bad = !tile || !chip || !area;
    if (!bad) {
        bad |= json_object_set_new(o, "hw", json_string(h->hw));
        bad |= json_object_set_new(tile, "power_mw", json_real(h->tile_power_mw));
        bad |= json_object_set_new(tile, "area_mm2", json_real(h->tile_area_mm2));
        bad |= json_object_set_new(chip, "tiles", json_integer(h->tiles));
        bad |= json_object_set_new(chip, "chips", json_integer(h->chips));
        bad |= json_object_set_new(chip, "power_w", json_real(h->power_w));
        bad |= json_object_set_new(chip, "peak_power_w", json_real(h->peak_power_w));
        bad |= json_object_set_new(chip, "area_mm2", json_real(h->area_mm2));
        bad |= json_object_set_new(chip, "latency_ns", json_real(h->latency_ns));
        bad |= json_object_set_new(chip, "tops", json_real(h->tops));
        bad |= json_object_set_new(chip, "tops_per_w", json_real(h->tops_per_w));
        bad |= json_object_set_new(chip, "tops_per_mm2", json_real(h->tops_per_mm2));
        bad |= json_object_set_new(chip, "inferences_per_s", json_real(h->inferences_per_s));
        bad |= json_object_set_new(chip, "crossbars_used", json_integer((json_int_t)h->crossbars_used));
        /* mm2 per chip by level and component: a part's area x its level's units per chip */
        const cim_hw_cost *c = &h->cost;
        for (int i = 0; i < c->n_parts && !bad; i++) {
            const cim_hw_part *p = &c->part[i];
            char key[CIM_HW_NAME_MAX + 16];
            snprintf(key, sizeof key, "%s/%s", cim_hw_level_name(p->level), p->component);
            double v = p->area_um2 * 1e-6 * h->units_per_chip[p->level];
            json_t *prev = json_object_get(area, key);
            if (prev)
                v += json_real_value(prev);
            bad |= json_object_set_new(area, key, json_real(v));
        }
    }
    bad |= json_object_set(o, "tile", tile);
    bad |= json_object_set(o, "chip", chip);
    bad |= json_object_set(o, "area_by_component_mm2", area);
    json_decref(tile);
    json_decref(chip);
    json_decref(area);
    return bad;
}

int cim__map_json(json_t *o, const cim_hw_layer_map *m, int has)
{
    if (!has)
        return 0;
    int bad = 0;
    bad |= json_object_set_new(o, "crossbars", json_integer((json_int_t)m->crossbars));
    bad |= json_object_set_new(o, "copies", json_integer((json_int_t)m->copies));
    bad |= json_object_set_new(o, "cycles_per_vector", json_integer(m->cycles_per_vector));
    bad |= json_object_set_new(o, "time_ns", json_real(m->time_ns));
    return bad;
}

static json_t *rates_json(const cim_cost_rates *r)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    int bad = 0;
    bad |= json_object_set_new(o, "converts_per_mac", json_real(r->converts_per_mac));
    bad |= json_object_set_new(o, "dac_pulses_per_row", json_real(r->dac_pulses_per_row));
    bad |= json_object_set_new(o, "activations_per_mac", json_real(r->activations_per_mac));
    bad |= json_object_set_new(o, "input_sum_per_input", json_real(r->input_sum_per_input));
    bad |= json_object_set_new(o, "level_mean", json_real(r->level_mean));
    bad |= json_object_set_new(o, "assumed", json_boolean(r->assumed));
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

cim_status cim_cost_write_json(cim_ctx *ctx, const char *path, const cim_cost_result *r)
{
    if (!path || !r)
        return cim__err(ctx, CIM_ERR_ARG, "cost JSON: NULL argument");
    json_t *o = json_object(), *layers = json_array();
    int bad = !o || !layers;
    if (!bad) {
        bad |= json_object_set_new(o, "arch", json_string(r->arch));
        bad |= json_object_set_new(o, "workload", json_string(r->workload));
        bad |= json_object_set_new(o, "energy_spec", json_string(r->energy_spec));
        bad |= json_object_set_new(o, "stats_source", json_string(r->stats_source));
        bad |= json_object_set_new(o, "layers_matched_by_name", json_integer(r->matched_layers));
        bad |= json_object_set_new(o, "layers_assumed", json_integer(r->assumed_layers));
        bad |= json_object_set_new(o, "macs", json_integer((json_int_t)r->energy.macs));
        bad |= cim__energy_json(o, &r->energy, 1);
        bad |= cim__hw_json(o, &r->hw, r->has_hw);
    }
    for (int i = 0; i < r->n_layers && !bad; i++) {
        const cim_cost_layer *L = &r->layers[i];
        json_t *l = json_object();
        bad |= !l;
        if (bad)
            break;
        bad |= json_object_set_new(l, "name", json_string(L->name));
        bad |= json_object_set_new(l, "kind", json_string(L->kind));
        bad |= json_object_set_new(l, "K", json_integer(L->K));
        bad |= json_object_set_new(l, "N", json_integer(L->N));
        bad |= json_object_set_new(l, "groups", json_integer(L->groups));
        bad |= json_object_set_new(l, "M", json_integer((json_int_t)L->M));
        bad |= json_object_set_new(l, "macs", json_integer((json_int_t)L->macs));
        bad |= json_object_set_new(l, "rates_from", json_string(L->rates_from));
        json_t *rt = rates_json(&L->rates);
        bad |= !rt || json_object_set_new(l, "rates", rt);
        bad |= cim__energy_json(l, &L->energy, 1);
        bad |= cim__map_json(l, &L->map, r->has_hw);
        bad |= json_array_append_new(layers, l);
    }
    bad |= !o || json_object_set(o, "layers", layers);
    json_decref(layers);
    if (bad) {
        json_decref(o);
        return cim__err(ctx, CIM_ERR_NOMEM, "%s: out of memory building JSON", path);
    }
    cim_status st = cim__json_write(ctx, path, o);
    json_decref(o);
    return st;
}
