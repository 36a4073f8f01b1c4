/* plan.c: compiled plans as JSON (include/cimsim/compile.h). */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>
#include "cimsim/compile.h"
#include "nn.h"
#include "analog.h"
#include "eval_internal.h"
#include "../lib/internal.h"
#include "../lib/json_out.h"

static json_t *int_array(const int *w, int n)
{
    json_t *a = json_array();
    for (int i = 0; a && i < n; i++)
        if (json_array_append_new(a, json_integer(w[i])) != 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

static json_t *layer_json(const cim_plan_layer *L)
{
    json_t *o = json_object(), *c = json_array();
    if (!o || !c) {
        json_decref(o);
        json_decref(c);
        return NULL;
    }
    int bad = 0;
    bad |= json_object_set_new(o, "name", json_string(L->name));
    bad |= json_object_set_new(o, "node", json_integer(L->node));
    bad |= json_object_set_new(o, "groups", json_integer(L->groups));
    bad |= json_object_set_new(o, "K", json_integer(L->K));
    bad |= json_object_set_new(o, "N", json_integer(L->N));
    bad |= json_object_set_new(o, "weight_slices", int_array(L->weight_slices, L->n_weight_slices));
    bad |= json_object_set_new(o, "error", isfinite(L->error) ? json_real(L->error) : json_null());
    bad |= json_object_set_new(o, "within_budget", json_boolean(L->within_budget));
    bad |= json_object_set_new(o, "tried", json_integer(L->tried));
    bad |= json_object_set_new(o, "whole", json_integer(L->whole));
    bad |= json_object_set_new(o, "searched", json_boolean(L->searched));
    bad |= json_object_set_new(o, "ms", json_real(1e3 * L->seconds));
    bad |= json_object_set_new(o, "nchunks", json_integer(L->nchunks));
    if (L->centers) {
        size_t n = (size_t)L->groups * (size_t)L->nchunks * (size_t)L->N;
        for (size_t i = 0; i < n && !bad; i++)
            bad |= json_array_append_new(c, json_integer(L->centers[i]));
        bad |= json_object_set_new(o, "centers", c);
    } else {
        json_decref(c);
        bad |= json_object_set_new(o, "centers", json_null());
    }
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

cim_status cim_plan_write_json(cim_ctx *ctx, const char *path, const cim_plan *p)
{
    if (!ctx || !path || !p)
        return cim__err(ctx, CIM_ERR_ARG, "cim_plan_write_json: NULL argument");
    json_t *o = json_object(), *layers = json_array();
    int bad = !o || !layers;
    if (!bad) {
        bad |= json_object_set_new(o, "model", json_string(p->model));
        bad |= json_object_set_new(o, "model_crc32", json_integer(p->model_crc));
        bad |= json_object_set_new(o, "arch", json_string(p->arch));
        bad |= json_object_set_new(o, "dataset", json_string(p->dataset));
        bad |= json_object_set_new(o, "calib", json_integer(p->calib));
        bad |= json_object_set_new(o, "budget", json_real(p->budget));
        bad |= json_object_set_new(o, "noise_level", json_real(p->noise_level));
        bad |= json_object_set_new(o, "seconds", json_real(p->seconds));
        for (int i = 0; i < p->n_layers && !bad; i++)
            bad |= json_array_append_new(layers, layer_json(&p->layers[i]));
        bad |= json_object_set(o, "layers", layers);
    }
    json_decref(layers);
    cim_status st = bad ? cim__err(ctx, CIM_ERR_NOMEM, "%s: out of memory building the plan", path)
                        : cim__json_write(ctx, path, o);
    json_decref(o);
    return st;
}

/* ---- reading ---- */

static cim_status need(cim_ctx *ctx, const char *path, const json_t *o, const char *key, int type, const char *where,
                       json_t **out)
{
    json_t *v = json_object_get(o, key);
    int ok = v && (type == JSON_REAL ? json_is_number(v) : (int)json_typeof(v) == type);
    if (!ok)
        return cim__err(ctx, CIM_ERR_FORMAT, "%s: %s%s: missing or of the wrong type", path, where, key);
    *out = v;
    return CIM_OK;
}

static cim_status int_field(cim_ctx *ctx, const char *path, const json_t *o, const char *key, const char *where,
                            long long lo, long long hi, long long *out)
{
    json_t *v = NULL;
    cim_status st = need(ctx, path, o, key, JSON_INTEGER, where, &v);
    if (st != CIM_OK)
        return st;
    long long x = json_integer_value(v);
    if (x < lo || x > hi)
        return cim__err(ctx, CIM_ERR_FORMAT, "%s: %s%s = %lld is outside %lld..%lld", path, where, key, x, lo, hi);
    *out = x;
    return CIM_OK;
}

static cim_status read_layer(cim_ctx *ctx, const char *path, const json_t *o, int i, const nn_graph *g,
                             cim_plan_layer *L)
{
    char where[64];
    snprintf(where, sizeof where, "layers[%d].", i);
    json_t *v = NULL;
    long long x;
    cim_status st;
    if ((st = need(ctx, path, o, "name", JSON_STRING, where, &v)) != CIM_OK)
        return st;
    snprintf(L->name, sizeof L->name, "%s", json_string_value(v));
    if ((st = int_field(ctx, path, o, "node", where, 0, g->nn - 1, &x)) != CIM_OK)
        return st;
    L->node = (int)x;
    const nn_node *n = &g->nodes[L->node];
    if (strcmp(n->name, L->name) != 0 || !nn_node_is_weight_layer(g, n))
        return cim__err(ctx, CIM_ERR_FORMAT,
                        "%s: %sname: node %d of the model is '%s' (%s), not the weight layer '%s': the plan was made "
                        "for another model",
                        path, where, L->node, n->name, n->op_type, L->name);
    if ((st = int_field(ctx, path, o, "groups", where, 1, 1 << 20, &x)) != CIM_OK)
        return st;
    L->groups = (int)x;
    if ((st = int_field(ctx, path, o, "K", where, 1, 1 << 24, &x)) != CIM_OK)
        return st;
    L->K = (int)x;
    if ((st = int_field(ctx, path, o, "N", where, 1, 1 << 24, &x)) != CIM_OK)
        return st;
    L->N = (int)x;
    if ((st = int_field(ctx, path, o, "nchunks", where, 1, 1 << 24, &x)) != CIM_OK)
        return st;
    L->nchunks = (int)x;
    if ((st = int_field(ctx, path, o, "tried", where, 0, 1 << 20, &x)) != CIM_OK)
        return st;
    L->tried = (int)x;
    L->whole = L->tried; /* optional: plans before staged candidates lack it */
    if (json_object_get(o, "whole")) {
        if ((st = int_field(ctx, path, o, "whole", where, 0, L->tried, &x)) != CIM_OK)
            return st;
        L->whole = (int)x;
    }
    if ((st = need(ctx, path, o, "weight_slices", JSON_ARRAY, where, &v)) != CIM_OK)
        return st;
    size_t ns = json_array_size(v);
    int sum = 0;
    if (ns < 1 || ns > CIM_MAX_SLICES)
        return cim__err(ctx, CIM_ERR_FORMAT, "%s: %sweight_slices: %zu slices (1..%d)", path, where, ns,
                        CIM_MAX_SLICES);
    for (size_t s = 0; s < ns; s++) {
        json_t *e = json_array_get(v, s);
        long long w = json_is_integer(e) ? json_integer_value(e) : -1;
        if (w < 1 || w > CIM_OPERAND_BITS)
            return cim__err(ctx, CIM_ERR_FORMAT, "%s: %sweight_slices[%zu]: not a width 1..%d", path, where, s,
                            CIM_OPERAND_BITS);
        L->weight_slices[s] = (int)w;
        sum += (int)w;
    }
    if (sum != CIM_OPERAND_BITS)
        return cim__err(ctx, CIM_ERR_FORMAT, "%s: %sweight_slices: widths sum to %d, not %d", path, where, sum,
                        CIM_OPERAND_BITS);
    L->n_weight_slices = (int)ns;
    v = json_object_get(o, "error");
    L->error = json_is_number(v) ? json_number_value(v) : NAN;
    v = json_object_get(o, "within_budget");
    L->within_budget = json_is_true(v);
    v = json_object_get(o, "searched");
    L->searched = json_is_true(v);
    v = json_object_get(o, "ms");
    L->seconds = json_is_number(v) ? 1e-3 * json_number_value(v) : 0;
    v = json_object_get(o, "centers");
    if (v && !json_is_null(v)) {
        if (!json_is_array(v))
            return cim__err(ctx, CIM_ERR_FORMAT, "%s: %scenters: not an array", path, where);
        size_t want = (size_t)L->groups * (size_t)L->nchunks * (size_t)L->N;
        if (json_array_size(v) != want)
            return cim__err(ctx, CIM_ERR_FORMAT, "%s: %scenters: %zu values, groups x nchunks x N = %zu", path, where,
                            json_array_size(v), want);
        if (!(L->centers = cim__malloc(ctx, want * sizeof *L->centers)))
            return CIM_ERR_NOMEM;
        for (size_t c = 0; c < want; c++) {
            json_t *e = json_array_get(v, c);
            long long cv = json_is_integer(e) ? json_integer_value(e) : 100000;
            if (cv < -255 || cv > 255)
                return cim__err(ctx, CIM_ERR_FORMAT, "%s: %scenters[%zu]: not a weight code -255..255", path, where,
                                c);
            L->centers[c] = (int16_t)cv;
        }
    }
    return CIM_OK;
}

cim_status cim_plan_load(cim_ctx *ctx, const char *path, const cim_net *net, cim_plan **out)
{
    if (!ctx || !path || !net || !out)
        return cim__err(ctx, CIM_ERR_ARG, "cim_plan_load: NULL argument");
    *out = NULL;
    json_error_t je;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return cim__err(ctx, CIM_ERR_FORMAT, "%s: line %d: %s", path, je.line, je.text);
    cim_plan *p = cim__calloc(ctx, 1, sizeof *p);
    cim_status st = p ? CIM_OK : CIM_ERR_NOMEM;
    json_t *v = NULL;
    long long x;
    if (st == CIM_OK && !json_is_object(root))
        st = cim__err(ctx, CIM_ERR_FORMAT, "%s: not a JSON object", path);
    if (st == CIM_OK && (st = need(ctx, path, root, "model", JSON_STRING, "", &v)) == CIM_OK)
        snprintf(p->model, sizeof p->model, "%s", json_string_value(v));
    if (st == CIM_OK && (st = int_field(ctx, path, root, "model_crc32", "", 0, 0xffffffffll, &x)) == CIM_OK)
        p->model_crc = (uint32_t)x;
    if (st == CIM_OK) { /* the same model bytes */
        const char *mp = net->ref->path;
        FILE *f = fopen(mp, "rb");
        uLong c = crc32(0L, Z_NULL, 0);
        unsigned char buf[65536];
        size_t n;
        if (!f) {
            st = cim__err(ctx, CIM_ERR_IO, "%s: cannot open", mp);
        } else {
            while ((n = fread(buf, 1, sizeof buf, f)) > 0)
                c = crc32(c, buf, (uInt)n);
            fclose(f);
            if ((uint32_t)c != p->model_crc)
                st = cim__err(ctx, CIM_ERR_FORMAT,
                              "%s: model_crc32: the plan was made for '%s' (CRC-32 %08x), not for %s (CRC-32 %08x)",
                              path, p->model, p->model_crc, mp, (unsigned)c);
        }
    }
    if (st == CIM_OK && (v = json_object_get(root, "arch")) && json_is_string(v))
        snprintf(p->arch, sizeof p->arch, "%s", json_string_value(v));
    if (st == CIM_OK && (v = json_object_get(root, "dataset")) && json_is_string(v))
        snprintf(p->dataset, sizeof p->dataset, "%s", json_string_value(v));
    if (st == CIM_OK && (st = int_field(ctx, path, root, "calib", "", 1, 100000, &x)) == CIM_OK)
        p->calib = (int)x;
    if (st == CIM_OK && (st = need(ctx, path, root, "budget", JSON_REAL, "", &v)) == CIM_OK)
        p->budget = json_number_value(v);
    if (st == CIM_OK && (v = json_object_get(root, "noise_level")) && json_is_number(v))
        p->noise_level = json_number_value(v);
    if (st == CIM_OK && (v = json_object_get(root, "seconds")) && json_is_number(v))
        p->seconds = json_number_value(v);
    if (st == CIM_OK && (st = need(ctx, path, root, "layers", JSON_ARRAY, "", &v)) == CIM_OK) {
        size_t nl = json_array_size(v);
        if (nl < 1 || nl > (size_t)net->n_weight_layers)
            st = cim__err(ctx, CIM_ERR_FORMAT, "%s: layers: %zu layers, the model has %d weight layers", path, nl,
                          net->n_weight_layers);
        else if (!(p->layers = cim__calloc(ctx, nl, sizeof *p->layers)))
            st = CIM_ERR_NOMEM;
        for (size_t i = 0; st == CIM_OK && i < nl; i++) {
            json_t *e = json_array_get(v, i);
            if (!json_is_object(e)) {
                st = cim__err(ctx, CIM_ERR_FORMAT, "%s: layers[%zu]: not an object", path, i);
                break;
            }
            p->n_layers++;
            st = read_layer(ctx, path, e, (int)i, net->ref, &p->layers[i]);
            for (size_t j = 0; st == CIM_OK && j < i; j++)
                if (p->layers[j].node == p->layers[i].node)
                    st = cim__err(ctx, CIM_ERR_FORMAT, "%s: layers[%zu]: node %d appears twice", path, i,
                                  p->layers[i].node);
        }
    }
    json_decref(root);
    if (st != CIM_OK) {
        cim_plan_free(ctx, p);
        return st;
    }
    *out = p;
    return CIM_OK;
}
