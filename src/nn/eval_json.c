/* eval_json.c: cim_eval_write_json (include/cimsim/net.h). */
#include <string.h>
#include "cimsim/net.h"
#include "../lib/internal.h"
#include "../lib/json_out.h"
#include "../cost/costrun_json.h"

static json_t *slices(const int *w, int n)
{
    json_t *a = json_array();
    for (int i = 0; a && i < n; i++)
        json_array_append_new(a, json_integer(w[i]));
    return a;
}

static double ratio(uint64_t a, uint64_t b) { return b ? (double)a / (double)b : 0.0; }

/* energy_pj_per_inference, energy_by_component, titanium (null without energy):
 * src/cost/costrun_json.c, shared with `cimsim cost`. */
#define energy_json cim__energy_json

static json_t *layer_json(const cim_eval_layer *L, int has_energy, int has_hw)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    const cim_stats *s = &L->stats;
    char summary[256];
    cim_config_summary(&L->cfg, summary, sizeof summary);
    int bad = 0;
    bad |= json_object_set_new(o, "name", json_string(L->name));
    bad |= json_object_set_new(o, "op_type", json_string(L->op_type));
    bad |= json_object_set_new(o, "groups", json_integer(L->groups));
    bad |= json_object_set_new(o, "K", json_integer(L->K));
    bad |= json_object_set_new(o, "N", json_integer(L->N));
    bad |= json_object_set_new(o, "macs", json_integer((json_int_t)L->macs));
    bad |= json_object_set_new(o, "config", json_string(summary));
    bad |= json_object_set_new(o, "weight_slices", slices(L->cfg.weight_slices, L->cfg.n_weight_slices));
    bad |= json_object_set_new(o, "input_slices", slices(L->cfg.input_slices, L->cfg.n_input_slices));
    bad |= json_object_set_new(o, "speculation", json_boolean(L->cfg.speculation));
    bad |= json_object_set_new(o, "input_encoding", json_string(cim_input_encoding_name(cim_config_input_encoding(&L->cfg))));
    bad |= json_object_set_new(o, "zx", json_integer(L->cfg.zx));
    bad |= json_object_set_new(o, "converts_per_mac", json_real(cim_stats_converts_per_mac(s)));
    bad |= json_object_set_new(o, "saturation_rate", json_real(ratio(s->saturations, s->adc_converts)));
    bad |= json_object_set_new(o, "true_clip_rate", json_real(ratio(s->true_clips, s->adc_converts)));
    bad |= json_object_set_new(o, "speculation_failure_rate",
                               json_real(ratio(s->speculation_failures, s->adc_converts_speculative)));
    if (L->err_count)
        bad |= json_object_set_new(o, "mean_abs_error", json_real(L->abs_err_sum / (double)L->err_count));
    else
        bad |= json_object_set_new(o, "mean_abs_error", json_null());
    bad |= json_object_set_new(o, "error_outputs", json_integer((json_int_t)L->err_count));
    bad |= energy_json(o, &L->energy, has_energy);
    bad |= cim__map_json(o, &L->map, has_hw);
    json_t *st = cim__stats_json(s, &L->info);
    bad |= json_object_set_new(o, "stats", st);
    if (bad || !st) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* analog_breakdown: one object per row; delta_top1 in points against "none". */
static json_t *breakdown_json(const cim_eval_result *r)
{
    json_t *a = json_array();
    double base = 0.0;
    for (int i = 0; i < r->n_breakdown; i++)
        if (strcmp(r->breakdown[i].model, "none") == 0)
            base = ratio(r->breakdown[i].correct, r->breakdown[i].samples);
    for (int i = 0; a && i < r->n_breakdown; i++) {
        const cim_eval_breakdown *b = &r->breakdown[i];
        json_t *o = json_object();
        double top1 = ratio(b->correct, b->samples);
        int bad = !o;
        if (!bad) {
            bad |= json_object_set_new(o, "model", json_string(b->model));
            bad |= json_object_set_new(o, "top1", json_real(top1));
            bad |= json_object_set_new(o, "delta_top1", json_real(100.0 * (top1 - base)));
            bad |= json_object_set_new(o, "agreement", json_real(ratio(b->agree, b->samples)));
            bad |= json_object_set_new(o, "samples", json_integer((json_int_t)b->samples));
            bad |= json_object_set_new(o, "converts_per_mac", json_real(cim_stats_converts_per_mac(&b->totals)));
            bad |= json_object_set_new(o, "saturation_rate", json_real(ratio(b->totals.saturations, b->totals.adc_converts)));
            bad |= json_object_set_new(o, "saturations", json_integer((json_int_t)b->totals.saturations));
            bad |= json_object_set_new(o, "adc_converts", json_integer((json_int_t)b->totals.adc_converts));
            bad |= json_object_set_new(o, "seconds", json_real(b->seconds));
        }
        if (bad) {
            json_decref(o);
            json_decref(a);
            return NULL;
        }
        if (json_array_append_new(a, o)) { /* steals o even on failure */
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

static json_t *result_json(const cim_eval_result *r)
{
    json_t *o = json_object(), *acc = json_object(), *layers = json_array();
    json_t *tot = cim__stats_json(&r->totals, NULL);
    int bad = !o || !acc || !layers || !tot;
    if (!bad) {
        bad |= json_object_set_new(o, "dataset", json_string(r->dataset));
        bad |= json_object_set_new(o, "arch", json_string(r->arch));
        bad |= json_object_set_new(o, "samples", json_integer((json_int_t)r->samples));
        if (!r->has_reference) { /* analog_only: labels, no reference */
            bad |= json_object_set_new(acc, "reference", json_null());
            bad |= json_object_set_new(acc, "analog", json_real(ratio(r->analog_correct, r->samples)));
        } else if (r->has_labels) {
            bad |= json_object_set_new(acc, "reference", json_real(ratio(r->ref_correct, r->samples)));
            bad |= json_object_set_new(acc, "analog", json_real(ratio(r->analog_correct, r->samples)));
        } else { /* without labels: agreement with the reference's top-1 */
            bad |= json_object_set_new(acc, "reference", json_real(1.0));
            bad |= json_object_set_new(acc, "analog", json_real(ratio(r->agree, r->samples)));
        }
        bad |= json_object_set_new(acc, "agreement",
                                   r->has_reference ? json_real(ratio(r->agree, r->samples)) : json_null());
        bad |= json_object_set_new(acc, "labels", json_boolean(r->has_labels));
        bad |= json_object_set(o, "accuracy", acc);
        bad |= json_object_set(o, "totals", tot);
        if (r->has_energy)
            bad |= json_object_set_new(o, "energy_spec", json_string(r->energy_spec));
        bad |= energy_json(o, &r->energy, r->has_energy);
        bad |= cim__hw_json(o, &r->hw, r->has_hw);
        for (int i = 0; i < r->n_layers && !bad; i++) {
            json_t *l = layer_json(&r->layers[i], r->has_energy, r->has_hw);
            bad |= !l || json_array_append_new(layers, l);
        }
        bad |= json_object_set(o, "layers", layers);
        if (!bad && r->n_breakdown > 0) {
            json_t *b = breakdown_json(r);
            bad |= !b || json_object_set_new(o, "analog_breakdown", b);
        }
        bad |= json_object_set_new(o, "seconds", json_real(r->seconds));
    }
    json_decref(acc);
    json_decref(tot);
    json_decref(layers);
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

cim_status cim_eval_write_json(cim_ctx *ctx, const char *path, const cim_eval_result *res, int n)
{
    if (!path || !res || n < 1)
        return cim__err(ctx, CIM_ERR_ARG, "eval JSON: NULL argument");
    json_t *o = n == 1 ? result_json(res) : json_array();
    for (int i = 0; o && n > 1 && i < n; i++) {
        json_t *r = result_json(&res[i]);
        if (!r || json_array_append_new(o, r)) {
            json_decref(o);
            o = NULL;
        }
    }
    if (!o)
        return cim__err(ctx, CIM_ERR_NOMEM, "%s: out of memory building JSON", path);
    cim_status st = cim__json_write(ctx, path, o);
    json_decref(o);
    return st;
}
