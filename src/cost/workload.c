/* workload.c: network workloads (layer shapes plus optional value
 * statistics) from YAML, bundled or from files (docs/workloads.md), and
 * their YAML writer. libyaml's document API, as src/lib/config_yaml.c; every
 * error names the file, the line and the key. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>
#include "lib/internal.h"
#include "../lib/yaml_read.h"

/* The bundled workloads: workloads/NAME.yaml, embedded by cmake/embed_yaml.cmake
 * into the generated workloads.c (NULL-terminated, same order). */
extern const char *const cim__workload_names[];
extern const char *const cim__workload_texts[];

const char *const *cim_workload_names(void) { return cim__workload_names; }

const char *cim_workload_text(const char *name)
{
    if (name)
        for (int i = 0; cim__workload_names[i]; i++)
            if (strcmp(cim__workload_names[i], name) == 0)
                return cim__workload_texts[i];
    return NULL;
}

typedef struct {
    cim_ctx *ctx;
    const char *file;
    const char *dir; /* anchors a relative stats.eval_json; NULL: leave it as written */
    yaml_document_t *doc;
} wctx;

static cim_status werr(wctx *y, const yaml_node_t *node, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static cim_status werr(wctx *y, const yaml_node_t *node, const char *key, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cim_status st = cim__yaml_verr(y->ctx, CIM_ERR_FORMAT, y->file, NULL, node, key, fmt, ap);
    va_end(ap);
    return st;
}

static cim_status werr_msg(void *y, const yaml_node_t *n, const char *key, const char *msg)
{
    return werr(y, n, key, "%s", msg);
}

static cim_status get_u64(wctx *y, const yaml_node_t *n, const char *key, uint64_t lo, uint64_t hi, uint64_t *out)
{
    return cim__yaml_u64(y, werr_msg, n, key, lo, hi, out);
}

static cim_status get_int(wctx *y, const yaml_node_t *n, const char *key, long lo, long hi, int *out)
{
    uint64_t v;
    cim_status st = get_u64(y, n, key, (uint64_t)lo, (uint64_t)hi, &v);
    if (st == CIM_OK)
        *out = (int)v;
    return st;
}

static cim_status get_double(wctx *y, const yaml_node_t *n, const char *key, double lo, double hi, double *out)
{
    return cim__yaml_double(y, werr_msg, n, key, lo, hi, 0, out);
}

static cim_status get_bool(wctx *y, const yaml_node_t *n, const char *key, int *out)
{
    return cim__yaml_bool(y, werr_msg, n, key, out);
}

static cim_status get_str(wctx *y, const yaml_node_t *n, const char *key, char *out, size_t size, int nonempty)
{
    const char *s = cim__yaml_scalar(n);
    if (!s)
        return werr(y, n, key, "expected a string, got %s", cim__yaml_kind(n));
    size_t len = strlen(s);
    if (len >= size)
        return werr(y, n, key, "%zu characters is longer than %zu", len, size - 1);
    if (nonempty && !len)
        return werr(y, n, key, "empty");
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20)
            return werr(y, n, key, "contains a control character");
    memcpy(out, s, len + 1);
    return CIM_OK;
}

/* A list of 1..max integers in lo..hi. */
static cim_status get_dims(wctx *y, const yaml_node_t *n, const char *key, int max, long lo, long hi, int64_t *out,
                           int *count)
{
    if (!n || n->type != YAML_SEQUENCE_NODE)
        return werr(y, n, key, "expected a list of integers, got %s", cim__yaml_kind(n));
    int i = 0;
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
        char sub[96];
        snprintf(sub, sizeof sub, "%s[%d]", key, i);
        if (i >= max)
            return werr(y, n, key, "more than %d entries", max);
        uint64_t v = 0;
        cim_status st = get_u64(y, yaml_document_get_node(y->doc, *it), sub, (uint64_t)lo, (uint64_t)hi, &v);
        if (st)
            return st;
        out[i++] = (int64_t)v;
    }
    if (!i)
        return werr(y, n, key, "empty list");
    *count = i;
    return CIM_OK;
}

/* kernel/stride/padding: [h, w] or one number for both. */
static cim_status get_pair(wctx *y, const yaml_node_t *n, const char *key, long lo, int out[2])
{
    int64_t v[2] = {0, 0};
    int c = 0;
    if (cim__yaml_scalar(n)) {
        int one = 0;
        cim_status st = get_int(y, n, key, lo, CIM_WORKLOAD_MAX_DIM, &one);
        out[0] = out[1] = one;
        return st;
    }
    cim_status st = get_dims(y, n, key, 2, lo, CIM_WORKLOAD_MAX_DIM, v, &c);
    if (st)
        return st;
    out[0] = (int)v[0];
    out[1] = (int)(c == 2 ? v[1] : v[0]);
    return CIM_OK;
}

/* Each pair of a mapping, with duplicate keys refused. */
typedef cim_status (*key_fn)(wctx *y, const char *key, const char *path, const yaml_node_t *val, void *state);

static cim_status each_key(wctx *y, const yaml_node_t *n, const char *prefix, key_fn fn, void *state)
{
    if (!n || n->type != YAML_MAPPING_NODE)
        return werr(y, n, prefix, "expected a mapping of keys, got %s", cim__yaml_kind(n));
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        const yaml_node_t *k = yaml_document_get_node(y->doc, p->key);
        const char *ks = cim__yaml_scalar(k);
        if (!ks)
            return werr(y, k, prefix, "a key is not a plain string");
        for (yaml_node_pair_t *q = n->data.mapping.pairs.start; q < p; q++) {
            const char *qs = cim__yaml_scalar(yaml_document_get_node(y->doc, q->key));
            if (qs && strcmp(qs, ks) == 0)
                return werr(y, k, ks, "given twice in '%s'", prefix);
        }
        char path[256];
        int len = strcmp(prefix, "(top level)") == 0 ? snprintf(path, sizeof path, "%s", ks)
                                                      : snprintf(path, sizeof path, "%s.%s", prefix, ks);
        if (len < 0 || (size_t)len >= sizeof path)
            return werr(y, k, prefix, "a key of %zu characters is too long", strlen(ks));
        cim_status st = fn(y, ks, path, yaml_document_get_node(y->doc, p->value), state);
        if (st)
            return st;
    }
    return CIM_OK;
}

static void stats_unset(cim_workload_stats *s)
{
    memset(s, 0, sizeof *s);
    s->assumed = s->input_signed = -1;
    s->input_density = s->input_mean = s->weight_mean_abs = -1;
}

typedef struct {
    cim_workload_stats *s;
    const yaml_node_t *first_number; /* for "numbers need a source" */
} stats_state;

static cim_status stats_key(wctx *y, const char *key, const char *path, const yaml_node_t *v, void *state)
{
    stats_state *ss = state;
    cim_workload_stats *s = ss->s;
    cim_status st;
    s->present = 1;
    if (strcmp(key, "source") == 0)
        return get_str(y, v, path, s->source, sizeof s->source, 1);
    if (strcmp(key, "assumed") == 0)
        return get_bool(y, v, path, &s->assumed);
    if (strcmp(key, "eval_json") == 0) {
        char rel[CIM_WORKLOAD_TEXT_MAX];
        if ((st = get_str(y, v, path, rel, sizeof rel, 1)))
            return st;
        if (rel[0] != '/' && y->dir) {
            if ((size_t)snprintf(s->eval_json, sizeof s->eval_json, "%s/%s", y->dir, rel) >= sizeof s->eval_json)
                return werr(y, v, path, "the path is too long");
        } else {
            memcpy(s->eval_json, rel, strlen(rel) + 1);
        }
        if (y->dir && access(s->eval_json, R_OK) != 0)
            return werr(y, v, path, "cannot read '%s': %s", s->eval_json, strerror(errno));
        return CIM_OK;
    }
    if (!ss->first_number)
        ss->first_number = v;
    if (strcmp(key, "input_signed") == 0)
        return get_bool(y, v, path, &s->input_signed);
    if (strcmp(key, "input_density") == 0)
        return get_double(y, v, path, 0, 1, &s->input_density);
    if (strcmp(key, "input_mean") == 0)
        return get_double(y, v, path, 0, 255, &s->input_mean);
    if (strcmp(key, "weight_mean_abs") == 0)
        return get_double(y, v, path, 0, 128, &s->weight_mean_abs);
    return werr(y, v, path,
                "unknown key in 'stats' (known: source, assumed, eval_json, input_signed, input_density, "
                "input_mean, weight_mean_abs)");
}

static cim_status parse_stats(wctx *y, const yaml_node_t *v, const char *prefix, cim_workload_stats *s,
                              const yaml_node_t **first_number)
{
    stats_state ss = {s, NULL};
    cim_status st = each_key(y, v, prefix, stats_key, &ss);
    *first_number = ss.first_number;
    return st;
}

/* A layer's stats: the file's, overridden key by key by its own. Numbers
 * (anything but source/assumed/eval_json) need a source and assumed. */
static cim_status merge_stats(wctx *y, const cim_workload_stats *file, const cim_workload_stats *own,
                              const yaml_node_t *num_node, const char *prefix, cim_workload_stats *out)
{
    *out = *file;
    if (own->present) {
        out->present = 1;
        if (own->assumed >= 0)
            out->assumed = own->assumed;
        if (own->input_signed >= 0)
            out->input_signed = own->input_signed;
        if (own->input_density >= 0)
            out->input_density = own->input_density;
        if (own->input_mean >= 0)
            out->input_mean = own->input_mean;
        if (own->weight_mean_abs >= 0)
            out->weight_mean_abs = own->weight_mean_abs;
        if (own->source[0])
            memcpy(out->source, own->source, sizeof out->source);
        if (own->eval_json[0])
            memcpy(out->eval_json, own->eval_json, sizeof out->eval_json);
    }
    if (num_node && !out->source[0])
        return werr(y, num_node, prefix, "value statistics need a 'source' (where the numbers come from)");
    if (num_node && out->assumed < 0)
        return werr(y, num_node, prefix,
                    "value statistics need 'assumed: true' (stated distributions) or 'assumed: false' (measured)");
    return CIM_OK;
}

typedef struct {
    cim_workload_layer *L;
    const yaml_node_t *node[16]; /* where each key was, for cross-checks */
    int have_type, have_K, have_N, have_M, have_macs, have_name;
    cim_workload_stats own;
    const yaml_node_t *stats_num;
} layer_state;

enum { LK_NAME, LK_TYPE, LK_K, LK_N, LK_GROUPS, LK_M, LK_MACS, LK_KERNEL, LK_STRIDE, LK_PADDING, LK_INPUT,
       LK_OUTPUT, LK_STATS };

static cim_status layer_key(wctx *y, const char *key, const char *path, const yaml_node_t *v, void *state)
{
    static const char *const keys[] = {"name", "type", "K", "N", "groups", "M", "macs", "kernel", "stride",
                                       "padding", "input", "output", "stats"};
    layer_state *ls = state;
    cim_workload_layer *L = ls->L;
    int k = -1;
    for (int i = 0; i < (int)(sizeof keys / sizeof *keys); i++)
        if (strcmp(key, keys[i]) == 0)
            k = i;
    if (k < 0)
        return werr(y, v, path,
                    "unknown layer key (known: name, type, K, N, groups, M, macs, kernel, stride, padding, input, "
                    "output, stats)");
    ls->node[k] = v;
    uint64_t u;
    cim_status st = CIM_OK;
    switch (k) {
    case LK_NAME:
        ls->have_name = 1;
        return get_str(y, v, path, L->name, sizeof L->name, 1);
    case LK_TYPE: {
        const char *s = cim__yaml_scalar(v);
        ls->have_type = 1;
        if (s && strcmp(s, "conv") == 0)
            L->type = CIM_WL_CONV;
        else if (s && strcmp(s, "linear") == 0)
            L->type = CIM_WL_LINEAR;
        else
            return werr(y, v, path, "'%s' is not one of: conv, linear", s ? s : cim__yaml_kind(v));
        return CIM_OK;
    }
    case LK_K:
        ls->have_K = 1;
        return get_int(y, v, path, 1, CIM_WORKLOAD_MAX_DIM, &L->K);
    case LK_N:
        ls->have_N = 1;
        return get_int(y, v, path, 1, CIM_WORKLOAD_MAX_DIM, &L->N);
    case LK_GROUPS:
        return get_int(y, v, path, 1, CIM_WORKLOAD_MAX_DIM, &L->groups);
    case LK_M:
        ls->have_M = 1;
        return get_u64(y, v, path, 1, CIM_WORKLOAD_MAX_M, &L->M);
    case LK_MACS:
        ls->have_macs = 1;
        st = get_u64(y, v, path, 1, CIM_WORKLOAD_MAX_MACS, &u);
        L->macs = u;
        return st;
    case LK_KERNEL:
        return get_pair(y, v, path, 1, L->kernel);
    case LK_STRIDE:
        return get_pair(y, v, path, 1, L->stride);
    case LK_PADDING:
        return get_pair(y, v, path, 0, L->padding);
    case LK_INPUT:
        return get_dims(y, v, path, CIM_WORKLOAD_MAX_DIMS, 1, CIM_WORKLOAD_MAX_DIM, L->input, &L->n_input);
    case LK_OUTPUT:
        return get_dims(y, v, path, CIM_WORKLOAD_MAX_DIMS, 1, CIM_WORKLOAD_MAX_DIM, L->output, &L->n_output);
    default:
        return parse_stats(y, v, path, &ls->own, &ls->stats_num);
    }
}

static uint64_t prod(const int64_t *d, int n, int from)
{
    uint64_t p = 1;
    for (int i = from; i < n; i++)
        if (__builtin_mul_overflow(p, (uint64_t)d[i], &p))
            return UINT64_MAX;
    return p;
}

/* What must hold between a layer's keys (docs/workloads.md). */
static cim_status check_layer(wctx *y, layer_state *ls, const char *pre, const yaml_node_t *ln)
{
    cim_workload_layer *L = ls->L;
    char key[192];
#define MISSING(flag, what)                                                                  \
    if (!(flag)) {                                                                           \
        snprintf(key, sizeof key, "%s.%s", pre, what);                                      \
        return werr(y, ln, key, "missing (a layer needs name, type, K, N, M; groups is 1 " \
                                "when left out)");                                           \
    }
    MISSING(ls->have_name, "name");
    MISSING(ls->have_type, "type");
    MISSING(ls->have_K, "K");
    MISSING(ls->have_N, "N");
    MISSING(ls->have_M, "M");
#undef MISSING
    uint64_t macs;
    if (__builtin_mul_overflow(L->M, (uint64_t)L->K, &macs) || __builtin_mul_overflow(macs, (uint64_t)L->N, &macs) ||
        __builtin_mul_overflow(macs, (uint64_t)L->groups, &macs) || macs > CIM_WORKLOAD_MAX_MACS) {
        snprintf(key, sizeof key, "%s.M", pre);
        return werr(y, ls->node[LK_M], key, "M * K * N * groups is more than %llu MACs",
                    (unsigned long long)CIM_WORKLOAD_MAX_MACS);
    }
    if (ls->have_macs && L->macs != macs) {
        snprintf(key, sizeof key, "%s.macs", pre);
        return werr(y, ls->node[LK_MACS], key,
                    "%" PRIu64 " is not M * K * N * groups = %" PRIu64 " * %d * %d * %d = %" PRIu64, L->macs, L->M,
                    L->K, L->N, L->groups, macs);
    }
    L->macs = macs;
    if (L->type == CIM_WL_LINEAR) {
        static const int geo[] = {LK_KERNEL, LK_STRIDE, LK_PADDING};
        static const char *const gname[] = {"kernel", "stride", "padding"};
        for (int i = 0; i < 3; i++)
            if (ls->node[geo[i]]) {
                snprintf(key, sizeof key, "%s.%s", pre, gname[i]);
                return werr(y, ls->node[geo[i]], key, "only a conv layer has a %s", gname[i]);
            }
        /* [..., K] -> [..., N]: the last dimension, and M rows */
        if (L->n_input && L->input[L->n_input - 1] != L->K * (int64_t)L->groups) {
            snprintf(key, sizeof key, "%s.input", pre);
            return werr(y, ls->node[LK_INPUT], key, "the last dimension %" PRId64 " is not K * groups = %lld",
                        L->input[L->n_input - 1], (long long)L->K * L->groups);
        }
        if (L->n_output && (L->output[L->n_output - 1] != L->N * (int64_t)L->groups ||
                            prod(L->output, L->n_output - 1, 0) != L->M)) {
            snprintf(key, sizeof key, "%s.output", pre);
            return werr(y, ls->node[LK_OUTPUT], key, "expected [..., N * groups = %lld] with M = %" PRIu64 " rows",
                        (long long)L->N * L->groups, L->M);
        }
        return CIM_OK;
    }
    /* conv: K = Cin/groups * kh * kw, N = Cout/groups, M = batch * H * W of NCHW */
    int kk = L->kernel[0] * L->kernel[1];
    if (kk && L->K % kk) {
        snprintf(key, sizeof key, "%s.K", pre);
        return werr(y, ls->node[LK_K], key, "%d is not a multiple of the kernel's %dx%d", L->K, L->kernel[0],
                    L->kernel[1]);
    }
    if (L->n_input) {
        snprintf(key, sizeof key, "%s.input", pre);
        if (L->n_input != 4)
            return werr(y, ls->node[LK_INPUT], key, "a conv's input is [batch, C, H, W]");
        if (kk && L->input[1] != (int64_t)(L->K / kk) * L->groups)
            return werr(y, ls->node[LK_INPUT], key, "%" PRId64 " channels is not K / (kh*kw) * groups = %lld",
                        L->input[1], (long long)(L->K / kk) * L->groups);
    }
    if (L->n_output) {
        snprintf(key, sizeof key, "%s.output", pre);
        if (L->n_output != 4)
            return werr(y, ls->node[LK_OUTPUT], key, "a conv's output is [batch, C, H, W]");
        if (L->output[1] != (int64_t)L->N * L->groups)
            return werr(y, ls->node[LK_OUTPUT], key, "%" PRId64 " channels is not N * groups = %lld", L->output[1],
                        (long long)L->N * L->groups);
        if (prod(L->output, 4, 2) * (uint64_t)L->output[0] != L->M)
            return werr(y, ls->node[LK_OUTPUT], key, "batch * H * W = %" PRIu64 " is not M = %" PRIu64,
                        prod(L->output, 4, 2) * (uint64_t)L->output[0], L->M);
    }
    return CIM_OK;
}

typedef struct {
    cim_workload *wl;
    const yaml_node_t *layers, *stats_num;
    int have_total;
    uint64_t total;
    const yaml_node_t *total_node;
} top_state;

static cim_status top_key(wctx *y, const char *key, const char *path, const yaml_node_t *v, void *state)
{
    top_state *ts = state;
    cim_workload *wl = ts->wl;
    if (strcmp(key, "workload") == 0)
        return get_str(y, v, path, wl->name, sizeof wl->name, 1);
    if (strcmp(key, "description") == 0)
        return get_str(y, v, path, wl->description, sizeof wl->description, 0);
    if (strcmp(key, "source") == 0)
        return get_str(y, v, path, wl->source, sizeof wl->source, 0);
    if (strcmp(key, "total_macs") == 0) {
        ts->have_total = 1;
        ts->total_node = v;
        return get_u64(y, v, path, 1, CIM_WORKLOAD_MAX_MACS, &ts->total);
    }
    if (strcmp(key, "stats") == 0)
        return parse_stats(y, v, path, &wl->stats, &ts->stats_num);
    if (strcmp(key, "layers") == 0) {
        ts->layers = v;
        return CIM_OK; /* after the file's stats */
    }
    return werr(y, v, path, "unknown key (known: workload, description, source, total_macs, stats, layers)");
}

static cim_status parse_doc(wctx *y, const yaml_node_t *root, cim_workload *wl)
{
    cim_ctx *ctx = y->ctx;
    if (!root)
        return cim__err(ctx, CIM_ERR_FORMAT, "%s: empty document (expected a workload: layers: [...])", y->file);
    if (root->type != YAML_MAPPING_NODE)
        return werr(y, root, "(top level)", "the document must be a mapping (workload, layers, ...)");
    top_state ts = {wl, NULL, NULL, 0, 0, NULL};
    stats_unset(&wl->stats);
    cim_status st = each_key(y, root, "(top level)", top_key, &ts);
    if (st)
        return st;
    cim_workload_stats none, merged;
    stats_unset(&none);
    if ((st = merge_stats(y, &none, &wl->stats, ts.stats_num, "stats", &merged)))
        return st;
    const yaml_node_t *ls = ts.layers;
    if (!ls)
        return werr(y, root, "layers", "missing (a list of the weight layers)");
    if (ls->type != YAML_SEQUENCE_NODE)
        return werr(y, ls, "layers", "expected a list of layers, got %s", cim__yaml_kind(ls));
    ptrdiff_t n = ls->data.sequence.items.top - ls->data.sequence.items.start;
    if (n < 1)
        return werr(y, ls, "layers", "empty: a workload has at least one layer");
    if (n > CIM_WORKLOAD_MAX_LAYERS)
        return werr(y, ls, "layers", "%td layers is more than %d", n, CIM_WORKLOAD_MAX_LAYERS);
    wl->layers = cim__calloc(ctx, (size_t)n, sizeof *wl->layers);
    if (!wl->layers)
        return CIM_ERR_NOMEM;
    for (ptrdiff_t i = 0; i < n; i++) {
        const yaml_node_t *ln = yaml_document_get_node(y->doc, ls->data.sequence.items.start[i]);
        cim_workload_layer *L = &wl->layers[i];
        layer_state lst;
        memset(&lst, 0, sizeof lst);
        lst.L = L;
        L->groups = 1;
        stats_unset(&lst.own);
        char pre[64];
        snprintf(pre, sizeof pre, "layers[%td]", i);
        if ((st = each_key(y, ln, pre, layer_key, &lst)) || (st = check_layer(y, &lst, pre, ln)))
            return st;
        char sp[80];
        snprintf(sp, sizeof sp, "%s.stats", pre);
        if ((st = merge_stats(y, &wl->stats, &lst.own, lst.stats_num, sp, &L->stats)))
            return st;
        for (ptrdiff_t j = 0; j < i; j++)
            if (strcmp(wl->layers[j].name, L->name) == 0) {
                snprintf(sp, sizeof sp, "%s.name", pre);
                return werr(y, lst.node[LK_NAME], sp, "'%s' is also the name of layers[%td]", L->name, j);
            }
        if (__builtin_add_overflow(wl->total_macs, L->macs, &wl->total_macs) ||
            wl->total_macs > CIM_WORKLOAD_MAX_MACS)
            return werr(y, ln, pre, "the layers come to more than %llu MACs",
                        (unsigned long long)CIM_WORKLOAD_MAX_MACS);
        wl->n_layers = (int)i + 1;
    }
    if (ts.have_total && ts.total != wl->total_macs)
        return werr(y, ts.total_node, "total_macs", "%" PRIu64 " is not the sum of the layers' macs, %" PRIu64,
                    ts.total, wl->total_macs);
    return CIM_OK;
}

static cim_status parse(cim_ctx *ctx, const char *file, const char *dir, const char *text, size_t len,
                        cim_workload *wl)
{
    memset(wl, 0, sizeof *wl);
    if (!text)
        return cim__err(ctx, CIM_ERR_ARG, "workload: NULL text");
    yaml_document_t doc;
    cim_status st0 = cim__yaml_load(ctx, file, NULL, text, len, CIM_ERR_FORMAT, &doc);
    if (st0)
        return st0;
    wctx y = {ctx, file, dir, &doc};
    snprintf(wl->file, sizeof wl->file, "%s", file);
    cim_status st = parse_doc(&y, yaml_document_get_root_node(&doc), wl);
    yaml_document_delete(&doc);
    if (st == CIM_OK && !wl->name[0]) { /* no `workload:`: the file's base name */
        const char *b = strrchr(file, '/');
        b = b ? b + 1 : file;
        size_t n = strcspn(b, ".");
        snprintf(wl->name, sizeof wl->name, "%.*s", (int)(n ? n : strlen(b)), b);
    }
    if (st)
        cim_workload_free(ctx, wl);
    return st;
}

cim_status cim_workload_parse(cim_ctx *ctx, const char *file, const char *text, size_t len, cim_workload *wl)
{
    if (!wl)
        return cim__err(ctx, CIM_ERR_ARG, "workload: NULL argument");
    char dir[CIM_WORKLOAD_TEXT_MAX] = ".";
    const char *slash = file ? strrchr(file, '/') : NULL;
    if (slash)
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - file ? slash - file : 1), file);
    return parse(ctx, file ? file : "(workload)", dir, text, len, wl);
}

cim_status cim_workload_load(cim_ctx *ctx, const char *spec, cim_workload *wl)
{
    if (!spec || !wl)
        return cim__err(ctx, CIM_ERR_ARG, "workload: NULL argument");
    memset(wl, 0, sizeof *wl);
    const char *text = cim_workload_text(spec);
    if (text) {
        char file[CIM_WORKLOAD_NAME_MAX + 64];
        snprintf(file, sizeof file, "workload %s (workloads/%s.yaml)", spec, spec);
        return parse(ctx, file, NULL, text, strlen(text), wl);
    }
    struct stat sb;
    if (stat(spec, &sb) != 0) {
        int err = errno;
        char list[256] = "";
        size_t o = 0;
        for (const char *const *p = cim_workload_names(); *p && o < sizeof list; p++) {
            int k = snprintf(list + o, sizeof list - o, "%s%s", o ? ", " : "", *p);
            o += k > 0 ? (size_t)k : 0;
        }
        return cim__err(ctx, CIM_ERR_IO, "workload '%s' is neither bundled (%s) nor a readable file: %s", spec,
                        list, strerror(err));
    }
    if (!S_ISREG(sb.st_mode))
        return cim__err(ctx, CIM_ERR_IO, "%s: not a regular file", spec);
    if (sb.st_size > CIM_WORKLOAD_MAX_FILE)
        return cim__err(ctx, CIM_ERR_FORMAT, "%s: %lld bytes is more than a workload file may have (%ld)", spec,
                        (long long)sb.st_size, CIM_WORKLOAD_MAX_FILE);
    FILE *f = fopen(spec, "rb");
    if (!f)
        return cim__err(ctx, CIM_ERR_IO, "%s: cannot open: %s", spec, strerror(errno));
    char *buf = cim__malloc(ctx, (size_t)sb.st_size + 1);
    if (!buf) {
        fclose(f);
        return CIM_ERR_NOMEM;
    }
    size_t got = fread(buf, 1, (size_t)sb.st_size, f);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        cim__free(ctx, buf);
        return cim__err(ctx, CIM_ERR_IO, "%s: read error", spec);
    }
    buf[got] = 0;
    cim_status st = cim_workload_parse(ctx, spec, buf, got, wl);
    cim__free(ctx, buf);
    return st;
}

void cim_workload_free(cim_ctx *ctx, cim_workload *wl)
{
    if (!wl)
        return;
    cim__free(ctx, wl->layers);
    memset(wl, 0, sizeof *wl);
}

/* ---- writing ---- */

/* A YAML double-quoted string. */
static void put_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\x%02x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static void put_dims(FILE *f, const char *key, const int64_t *d, int n)
{
    fprintf(f, ", %s: [", key);
    for (int i = 0; i < n; i++)
        fprintf(f, "%s%" PRId64, i ? ", " : "", d[i]);
    fputc(']', f);
}

/* One stats item: block style (indent, one per line) or inline (", "-separated). */
static void stats_item(FILE *f, const char *indent, int inline_, int *first)
{
    if (inline_)
        fputs(*first ? "" : ", ", f);
    else
        fputs(indent, f);
    *first = 0;
}

static void put_stats(FILE *f, const char *indent, const cim_workload_stats *s, int inline_)
{
    int first = 1;
    const char *end = inline_ ? "" : "\n";
    if (s->source[0]) {
        stats_item(f, indent, inline_, &first);
        fputs("source: ", f);
        put_str(f, s->source);
        fputs(end, f);
    }
    if (s->assumed >= 0) {
        stats_item(f, indent, inline_, &first);
        fprintf(f, "assumed: %s%s", s->assumed ? "true" : "false", end);
    }
    if (s->eval_json[0]) {
        stats_item(f, indent, inline_, &first);
        fputs("eval_json: ", f);
        put_str(f, s->eval_json);
        fputs(end, f);
    }
    if (s->input_signed >= 0) {
        stats_item(f, indent, inline_, &first);
        fprintf(f, "input_signed: %s%s", s->input_signed ? "true" : "false", end);
    }
    const char *const names[] = {"input_density", "input_mean", "weight_mean_abs"};
    const double vals[] = {s->input_density, s->input_mean, s->weight_mean_abs};
    for (int i = 0; i < 3; i++)
        if (vals[i] >= 0) {
            stats_item(f, indent, inline_, &first);
            fprintf(f, "%s: %.17g%s", names[i], vals[i], end);
        }
}

static int stats_equal(const cim_workload_stats *a, const cim_workload_stats *b)
{
    return a->assumed == b->assumed && a->input_signed == b->input_signed && a->input_density == b->input_density &&
           a->input_mean == b->input_mean && a->weight_mean_abs == b->weight_mean_abs &&
           strcmp(a->source, b->source) == 0 && strcmp(a->eval_json, b->eval_json) == 0;
}

cim_status cim_workload_write_yaml(cim_ctx *ctx, const char *path, const cim_workload *wl, const char *header)
{
    if (!path || !wl || wl->n_layers < 1 || !wl->layers)
        return cim__err(ctx, CIM_ERR_ARG, "workload write: NULL argument or no layers");
    size_t plen = strlen(path);
    char *tmp = cim__malloc(ctx, plen + 16);
    if (!tmp)
        return CIM_ERR_NOMEM;
    snprintf(tmp, plen + 16, "%s.tmp%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        cim_status st = cim__err(ctx, CIM_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
        cim__free(ctx, tmp);
        return st;
    }
    if (header) {
        for (const char *p = header; *p;) {
            size_t n = strcspn(p, "\n");
            fprintf(f, "#%s%.*s\n", n ? " " : "", (int)n, p);
            p += n + (p[n] == '\n');
        }
        fputc('\n', f);
    }
    fputs("workload: ", f);
    put_str(f, wl->name[0] ? wl->name : "workload");
    fputs("\ndescription: ", f);
    put_str(f, wl->description);
    fputs("\nsource: ", f);
    put_str(f, wl->source);
    uint64_t total = 0;
    for (int i = 0; i < wl->n_layers; i++)
        total += wl->layers[i].macs;
    fprintf(f, "\ntotal_macs: %" PRIu64 "\n", total);
    if (wl->stats.present) {
        fputs("stats:\n", f);
        put_stats(f, "  ", &wl->stats, 0);
    }
    fputs("layers:\n", f);
    for (int i = 0; i < wl->n_layers; i++) {
        const cim_workload_layer *L = &wl->layers[i];
        fputs("  - {name: ", f);
        put_str(f, L->name);
        fprintf(f, ", type: %s, K: %d, N: %d, groups: %d, M: %" PRIu64 ", macs: %" PRIu64,
                L->type == CIM_WL_CONV ? "conv" : "linear", L->K, L->N, L->groups, L->M, L->macs);
        if (L->type == CIM_WL_CONV && L->kernel[0])
            fprintf(f, ", kernel: [%d, %d]", L->kernel[0], L->kernel[1]);
        if (L->type == CIM_WL_CONV && L->stride[0])
            fprintf(f, ", stride: [%d, %d]", L->stride[0], L->stride[1]);
        if (L->type == CIM_WL_CONV && L->kernel[0])
            fprintf(f, ", padding: [%d, %d]", L->padding[0], L->padding[1]);
        if (L->n_input)
            put_dims(f, "input", L->input, L->n_input);
        if (L->n_output)
            put_dims(f, "output", L->output, L->n_output);
        if (L->stats.present && !stats_equal(&L->stats, &wl->stats)) {
            fputs(", stats: {", f);
            put_stats(f, "", &L->stats, 1);
            fputc('}', f);
        }
        fputs("}\n", f);
    }
    int bad = ferror(f);
    bad |= fclose(f) != 0;
    cim_status st = CIM_OK;
    if (bad)
        st = cim__err(ctx, CIM_ERR_IO, "%s: write error", path);
    else if (rename(tmp, path) != 0)
        st = cim__err(ctx, CIM_ERR_IO, "%s: cannot rename from %s: %s", path, tmp, strerror(errno));
    if (st)
        remove(tmp);
    cim__free(ctx, tmp);
    return st;
}
