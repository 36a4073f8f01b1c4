/* analog.c: integer products of weight layers on simulated crossbars (see
 * analog.h). */
#include <string.h>
#include "analog.h"
#include "cimsim/compile.h"
#include "../lib/internal.h"

/* Index of the weight operand of an op whose products go through nn_mvm, or -1. */
static int weight_input(const nn_node *n)
{
    static const struct {
        const char *domain, *op;
        int w;
    } t[] = {{"", "QLinearConv", 3},  {"", "QLinearMatMul", 3}, {"", "ConvInteger", 1}, {"", "MatMulInteger", 1},
             {"com.microsoft", "QGemm", 3}, {"", "Conv", 1},     {"", "Gemm", 1},        {"", "MatMul", 1}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (strcmp(n->domain, t[i].domain) == 0 && strcmp(n->op_type, t[i].op) == 0)
            return t[i].w;
    return -1;
}

int nn_node_is_weight_layer(const nn_graph *g, const nn_node *n)
{
    int w = weight_input(n);
    if (w < 0 || w >= n->n_in || n->in[w] < 0)
        return 0;
    const nn_tensor *t = &g->t[n->in[w]];
    if (n->domain[0] == 0 && (strcmp(n->op_type, "Conv") == 0 || strcmp(n->op_type, "Gemm") == 0 ||
                              strcmp(n->op_type, "MatMul") == 0)) {
        /* float op: weights from a DequantizeLinear of a constant */
        if (t->producer < 0)
            return 0;
        const nn_node *p = &g->nodes[t->producer];
        return strcmp(p->op_type, "DequantizeLinear") == 0 && p->n_in > 0 && p->in[0] >= 0 &&
               g->t[p->in[0]].is_init && g->t[p->in[0]].v.dtype != NN_INT32;
    }
    return t->is_init;
}

static nn_analog_layer *find_layer(nn_analog *a, int node, int group)
{
    for (int i = 0; i < a->n_layers; i++)
        if (a->layers[i].node == node && a->layers[i].group == group)
            return &a->layers[i];
    return NULL;
}

/* The plan's slicing (and, for center_offset, its centers) for this product. */
static cim_status apply_plan(const nn_analog *a, const nn_graph *g, const nn_mvm_args *m, cim_xbar_config *cfg,
                             const int16_t **centers)
{
    const cim_plan *p = a->plan;
    const int node = (int)(m->node - g->nodes);
    for (int i = 0; p && i < p->n_layers; i++) {
        const cim_plan_layer *pl = &p->layers[i];
        if (pl->node != node)
            continue;
        if (strcmp(pl->name, m->node->name) != 0 || pl->K != m->K || pl->N != m->N || m->group >= pl->groups)
            return nn_err(g, m->node, CIM_ERR_SHAPE,
                          "the plan's layer '%s' (%d groups of %dx%d) does not match this node (group %d, %dx%d)",
                          pl->name, pl->groups, pl->K, pl->N, m->group, m->K, m->N);
        cfg->n_weight_slices = pl->n_weight_slices;
        memcpy(cfg->weight_slices, pl->weight_slices, sizeof cfg->weight_slices);
        cim_status st = cim_config_validate(a->ctx, cfg, "the plan's slicing");
        if (st != CIM_OK)
            return nn_err(g, m->node, st, "%s", cim_ctx_errmsg(a->ctx));
        if (cfg->encoding == CIM_ENC_CENTER_OFFSET && pl->centers) {
            int nc = (m->K + cfg->rows - 1) / cfg->rows;
            if (nc != pl->nchunks)
                return nn_err(g, m->node, CIM_ERR_SHAPE,
                              "the plan's centers are for %d row chunks; %d-row crossbars make %d", pl->nchunks,
                              cfg->rows, nc);
            *centers = pl->centers + (size_t)m->group * (size_t)nc * (size_t)m->N;
        }
        return CIM_OK;
    }
    return CIM_OK;
}

/* Program (node, group) from the weights of its first product. */
static cim_status program(nn_analog *a, const nn_graph *g, const nn_mvm_args *m, nn_analog_layer **out)
{
    const int node = (int)(m->node - g->nodes);
    if (a->n_layers == a->cap) {
        int cap = a->cap ? 2 * a->cap : 16;
        nn_analog_layer *l = cim__calloc(a->ctx, (size_t)cap, sizeof *l);
        if (!l)
            return CIM_ERR_NOMEM;
        if (a->n_layers)
            memcpy(l, a->layers, (size_t)a->n_layers * sizeof *l);
        cim__free(a->ctx, a->layers);
        a->layers = l;
        a->cap = cap;
    }
    nn_analog_layer *L = &a->layers[a->n_layers];
    memset(L, 0, sizeof *L);
    L->node = node;
    L->group = m->group;
    L->K = m->K;
    L->N = m->N;
    L->cfg = *cim_arch_layer_config(a->arch, m->node->name, node == a->first_node, node == a->last_node);
    if (m->zx < 0 || m->zx > 255)
        return nn_err(g, m->node, CIM_ERR_RANGE, "activation zero point %d is outside 0..255", (int)m->zx);
    L->cfg.zx = (int)m->zx;
    const int16_t *centers = NULL;
    cim_status st = apply_plan(a, g, m, &L->cfg, &centers);
    if (st != CIM_OK)
        return st;
    cim_weights w = {m->w, m->wtype == NN_INT8 ? CIM_INT8 : CIM_UINT8, m->K, m->N, m->zw};
    uint32_t id = (uint32_t)node * 1024u + (uint32_t)m->group;
    st = cim_layer_program(a->ctx, &L->cfg, &w, id, centers, &L->layer);
    if (st != CIM_OK) {
        char msg[CIM_ERRMSG_SIZE];
        snprintf(msg, sizeof msg, "%s", cim_ctx_errmsg(a->ctx));
        return nn_err(g, m->node, st, "programming the crossbars failed: %s", msg);
    }
    cim_layer_info_get(L->layer, &L->info);
    cim_stats_reset(&L->stats);
    a->n_layers++;
    *out = L;
    return CIM_OK;
}

static cim_status analog_mvm(void *ud, const nn_graph *g, const nn_mvm_args *m)
{
    nn_analog *a = ud;
    const int node = (int)(m->node - g->nodes);
    nn_analog_layer *L = find_layer(a, node, m->group);
    cim_status st;
    if (!L && (st = program(a, g, m, &L)) != CIM_OK)
        return st;
    if (L->K != m->K || L->N != m->N || L->cfg.zx != m->zx)
        return nn_err(g, m->node, CIM_ERR_INTERNAL, "layer shape or zero point changed between runs");
    cim_run_options o;
    cim_run_options_default(&o);
    o.vector_offset = a->sample_offset * (uint64_t)m->rows_per_sample;
    o.histogram = a->histogram;
    o.normal_noise = a->normal_noise;
    cim_stats s;
    st = cim_layer_run(a->ctx, L->layer, m->x, m->M, m->psum, &s, &o);
    if (st != CIM_OK) {
        char msg[CIM_ERRMSG_SIZE];
        snprintf(msg, sizeof msg, "%s", cim_ctx_errmsg(a->ctx));
        return nn_err(g, m->node, st, "crossbar run failed: %s", msg);
    }
    cim_stats_add(&L->stats, &s);
    if (a->dump_layer && !a->dumped && m->group == 0 && a->sample_offset == 0 &&
        strcmp(m->node->name, a->dump_layer) == 0) {
        a->dumped = 1; /* the first product of the first batch only */
        return nn_analog_dump_write(a, g, m);
    }
    return CIM_OK;
}

cim_status nn_analog_attach(cim_ctx *ctx, nn_graph *g, const cim_arch *arch, nn_analog **out)
{
    *out = NULL;
    nn_analog *a = cim__calloc(ctx, 1, sizeof *a);
    if (!a)
        return CIM_ERR_NOMEM;
    a->ctx = ctx;
    a->arch = arch;
    a->histogram = 1;
    a->first_node = a->last_node = -1;
    for (int k = 0; k < g->nn; k++)
        if (nn_node_is_weight_layer(g, &g->nodes[k])) {
            if (a->first_node < 0)
                a->first_node = k;
            a->last_node = k;
        }
    g->mvm = analog_mvm;
    g->mvm_ud = a;
    *out = a;
    return CIM_OK;
}

void nn_analog_free(nn_graph *g, nn_analog *a)
{
    if (!a)
        return;
    if (g && g->mvm_ud == a) {
        g->mvm = NULL;
        g->mvm_ud = NULL;
    }
    for (int i = 0; i < a->n_layers; i++)
        cim_layer_free(a->ctx, a->layers[i].layer);
    cim__free(a->ctx, a->layers);
    cim__free(a->ctx, a);
}
