/* eval.c: cim_net (include/cimsim/net.h): a model loaded twice, one graph
 * run digitally (the reference) and one with its weight layers on simulated
 * crossbars (analog.c); top-1 accuracy, per-layer counters and output error. */
#include <omp.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "cimsim/net.h"
#include "nn.h"
#include "analog.h"
#include "eval_internal.h"
#include "cimsim/compile.h"
#include "onnx/onnx.h"
#include "data/dataset.h"
#include "../lib/internal.h"


void cim_eval_options_default(cim_eval_options *o)
{
    memset(o, 0, sizeof *o);
    o->batch = 64;
    o->histogram = 1;
}

cim_status nn_set_batch(nn_graph *g, int64_t batch)
{
    for (int i = 0; i < g->n_inputs; i++) {
        nn_value *v = &g->t[g->inputs[i]].v;
        if (v->rank < 1)
            return nn_err(g, NULL, CIM_ERR_SHAPE, "input '%s' has no batch dimension", g->t[g->inputs[i]].name);
        v->dims[0] = batch;
        for (int d = 1; d < v->rank; d++)
            if (v->dims[d] < 0)
                return nn_err(g, NULL, CIM_ERR_SHAPE,
                              "input '%s': dimension %d is symbolic; only the batch (dimension 0) may be",
                              g->t[g->inputs[i]].name, d);
    }
    g->batch = batch;
    return nn_graph_infer(g);
}

cim_status cim_net_load(cim_ctx *ctx, const char *path, cim_net **out)
{
    if (!ctx || !path || !out)
        return cim__err(ctx, CIM_ERR_ARG, "cim_net_load: NULL argument");
    *out = NULL;
    cim_net *net = cim__calloc(ctx, 1, sizeof *net);
    if (!net)
        return CIM_ERR_NOMEM;
    net->ctx = ctx;
    cim_status st = nn_onnx_load(ctx, path, &net->ref);
    if (st == CIM_OK)
        st = nn_graph_canonicalize(net->ref);
    if (st == CIM_OK && net->ref->n_inputs != 1)
        st = nn_err(net->ref, NULL, CIM_ERR_UNSUPPORTED, "the model has %d inputs; cimsim runs models with one",
                    net->ref->n_inputs);
    if (st == CIM_OK && net->ref->n_outputs < 1)
        st = nn_err(net->ref, NULL, CIM_ERR_FORMAT, "the model has no outputs");
    if (st == CIM_OK) /* static shapes and supported ops, checked once at load */
        st = nn_set_batch(net->ref, 1);
    if (st != CIM_OK) {
        cim_net_free(net);
        return st;
    }
    for (int k = 0; k < net->ref->nn; k++)
        net->n_weight_layers += nn_node_is_weight_layer(net->ref, &net->ref->nodes[k]);
    *out = net;
    return CIM_OK;
}

void cim_net_free(cim_net *net)
{
    if (!net)
        return;
    nn_graph_free(net->ref);
    cim__free(net->ctx, net);
}

int cim_net_nodes(const cim_net *net) { return net->ref->nn; }
int cim_net_weight_layers(const cim_net *net) { return net->n_weight_layers; }

void cim_eval_result_free(cim_ctx *ctx, cim_eval_result *res)
{
    if (res) {
        cim__free(ctx, res->layers);
        res->layers = NULL;
        res->n_layers = 0;
        cim__free(ctx, res->breakdown);
        res->breakdown = NULL;
        res->n_breakdown = 0;
    }
}

int nn_layer_output(const nn_graph *g, int node, int *zp_tensor, int *chain, int *nchain)
{
    *zp_tensor = -1;
    if (chain) {
        chain[0] = node;
        *nchain = 1;
    }
    const nn_node *n = &g->nodes[node];
    int t = n->n_out > 0 ? n->out[0] : -1;
    for (int depth = 0; depth < 4 && t >= 0; depth++) {
        nn_dtype dt = g->t[t].v.dtype;
        const nn_node *p = g->t[t].producer >= 0 ? &g->nodes[g->t[t].producer] : NULL;
        if (dt == NN_UINT8 || dt == NN_INT8) {
            if (p && (strcmp(p->op_type, "QLinearConv") == 0 || strcmp(p->op_type, "QLinearMatMul") == 0))
                *zp_tensor = p->n_in > 7 ? p->in[7] : -1;
            else if (p && strcmp(p->op_type, "QGemm") == 0)
                *zp_tensor = p->n_in > 8 ? p->in[8] : -1;
            else if (p && strcmp(p->op_type, "QuantizeLinear") == 0)
                *zp_tensor = p->n_in > 2 ? p->in[2] : -1;
            return t;
        }
        /* the single consumer of t */
        int next = -1, consumers = 0;
        for (int k = 0; k < g->nn; k++)
            for (int i = 0; i < g->nodes[k].n_in; i++)
                if (g->nodes[k].in[i] == t && (i == 0 || consumers == 0)) {
                    consumers++;
                    next = k;
                }
        if (consumers != 1)
            return -1;
        const nn_node *c = &g->nodes[next];
        /* a bias Add: the other operand constant */
        int bias = strcmp(c->op_type, "Add") == 0 && c->n_in == 2 && c->in[0] >= 0 && c->in[1] >= 0 &&
                   g->t[c->in[c->in[0] == t ? 1 : 0]].is_const;
        if (strcmp(c->op_type, "QuantizeLinear") != 0 && strcmp(c->op_type, "Relu") != 0 &&
            strcmp(c->op_type, "Clip") != 0 && !bias)
            return -1;
        if (chain)
            chain[(*nchain)++] = next;
        t = c->n_out > 0 ? c->out[0] : -1;
    }
    return -1;
}

/* argmax over the last axis of row r of a [rows][classes] output (ties: the first). */
static int top1(const nn_value *v, int64_t r)
{
    int64_t c = v->rank >= 1 ? v->dims[v->rank - 1] : 1;
    int best = 0;
    for (int64_t j = 1; j < c; j++) {
        int64_t a = r * c + j, b = r * c + best;
        int better = 0;
        switch (v->dtype) {
        case NN_FLOAT: better = ((const float *)v->data)[a] > ((const float *)v->data)[b]; break;
        case NN_UINT8: better = ((const uint8_t *)v->data)[a] > ((const uint8_t *)v->data)[b]; break;
        case NN_INT8: better = ((const int8_t *)v->data)[a] > ((const int8_t *)v->data)[b]; break;
        case NN_INT32: better = ((const int32_t *)v->data)[a] > ((const int32_t *)v->data)[b]; break;
        case NN_INT64: better = ((const int64_t *)v->data)[a] > ((const int64_t *)v->data)[b]; break;
        default: break;
        }
        if (better)
            best = (int)j;
    }
    return best;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void progress(uint64_t done, uint64_t total, double t0, const cim_eval_result *r)
{
    int w = 30, fill = total ? (int)((double)w * (double)done / (double)total) : w;
    double el = now() - t0;
    fprintf(stderr, "\r  [");
    for (int i = 0; i < w; i++)
        fputc(i < fill ? '#' : '.', stderr);
    fprintf(stderr, "] %llu/%llu  %.1f s", (unsigned long long)done, (unsigned long long)total, el);
    if (done && r->has_labels && r->has_reference)
        fprintf(stderr, "  ref %.2f%%  analog %.2f%%", 100.0 * (double)r->ref_correct / (double)done,
                100.0 * (double)r->analog_correct / (double)done);
    else if (done && r->has_labels)
        fprintf(stderr, "  analog %.2f%%", 100.0 * (double)r->analog_correct / (double)done);
    fprintf(stderr, done == total ? "\n" : "   ");
    fflush(stderr);
}

typedef struct {
    int node, out, zp; /* weight-layer node, its 8-bit output tensor, zero-point tensor */
} layer_map;

int32_t nn_zp_value(const nn_graph *g, int zp)
{
    if (zp < 0 || !g->t[zp].v.data || nn_value_count(&g->t[zp].v) < 1)
        return 0;
    return g->t[zp].v.dtype == NN_INT8 ? ((const int8_t *)g->t[zp].v.data)[0]
                                       : ((const uint8_t *)g->t[zp].v.data)[0];
}

/* One worker: its own context (one thread), both graphs and an analog
 * executor; samples are split between workers by batch, and since noise is
 * keyed by the sample index, results do not depend on the split. */
typedef struct {
    cim_ctx *ctx;
    nn_graph *ref, *ana;
    nn_analog *an;
    uint8_t *buf;
    nn_value *outs;
    int cur;                  /* batch size the graphs are inferred for */
    uint64_t ref_correct, analog_correct, agree;
    uint64_t shown_ref, shown_analog; /* the counts of finished batches (progress) */
    double *err_sum;          /* per weight layer */
    uint64_t *err_count;
    cim_status st;
    char msg[CIM_ERRMSG_SIZE];
} worker;

static cim_status worker_init(cim_ctx *parent, const cim_net *net, const cim_arch *arch, const nn_preproc *pp,
                              int batch, int nmap, const cim_eval_options *o, worker *w)
{
    cim_ctx_options co;
    cim_ctx_options_default(&co);
    co.threads = 1;
    co.kernel = cim_ctx_kernel_name(parent);
    co.alloc = parent->alloc;
    co.alloc_ud = parent->alloc_ud;
    co.log = parent->log;
    co.log_ud = parent->log_ud;
    cim_status st = cim_ctx_create(&co, &w->ctx);
    if (st != CIM_OK)
        return cim__err(parent, st, "cannot create a worker context");
    cim_ctx *ctx = w->ctx;
    const char *path = net->ref->path;
    if ((st = nn_onnx_load(ctx, path, &w->ref)) != CIM_OK || (st = nn_onnx_load(ctx, path, &w->ana)) != CIM_OK ||
        (st = nn_graph_canonicalize(w->ref)) != CIM_OK || (st = nn_graph_canonicalize(w->ana)) != CIM_OK ||
        (st = nn_set_batch(w->ref, batch)) != CIM_OK || (st = nn_set_batch(w->ana, batch)) != CIM_OK ||
        (st = nn_analog_attach(ctx, w->ana, arch, &w->an)) != CIM_OK)
        return st;
    w->an->histogram = o->histogram;
    w->an->normal_noise = o->normal_noise;
    w->an->plan = o->plan;
    w->cur = batch;
    w->buf = cim__malloc(ctx, (size_t)pp->sample_elems * nn_dtype_size(pp->dtype) * (size_t)batch);
    w->outs = cim__calloc(ctx, 2 * (size_t)w->ref->n_outputs, sizeof *w->outs);
    w->err_sum = cim__calloc(ctx, (size_t)(nmap ? nmap : 1), sizeof *w->err_sum);
    w->err_count = cim__calloc(ctx, (size_t)(nmap ? nmap : 1), sizeof *w->err_count);
    if (!w->buf || !w->outs || !w->err_sum || !w->err_count)
        return CIM_ERR_NOMEM;
    return CIM_OK;
}

static void worker_free(worker *w)
{
    if (!w->ctx)
        return;
    nn_analog_free(w->ana, w->an);
    nn_graph_free(w->ref);
    nn_graph_free(w->ana);
    cim__free(w->ctx, w->buf);
    cim__free(w->ctx, w->outs);
    cim__free(w->ctx, w->err_sum);
    cim__free(w->ctx, w->err_count);
    cim_ctx_destroy(w->ctx);
    w->ctx = NULL;
}

/* Sum of |y_analog - y_exact| over the outputs whose exact code is not the
 * zero point zp (semantics.md 10), their number in *count. Exact in
 * integers; one loop per code type (the codes of both graphs have the same
 * type). */
static uint64_t abs_err(const nn_value *vr, const nn_value *va, int32_t zp, uint64_t *count)
{
    const int64_t ne = nn_value_count(vr);
    uint64_t sum = 0, c = 0;
#define CIM_ABS_ERR(T)                                                                                             \
    do {                                                                                                           \
        const T *a = vr->data, *y = va->data;                                                                      \
        for (int64_t e = 0; e < ne; e++) {                                                                         \
            const int32_t d = (int32_t)a[e] - (int32_t)y[e], keep = a[e] != zp;                                    \
            sum += (uint64_t)(keep * (d < 0 ? -d : d));                                                            \
            c += (uint64_t)keep;                                                                                   \
        }                                                                                                          \
    } while (0)
    if (vr->dtype == NN_INT8)
        CIM_ABS_ERR(int8_t);
    else
        CIM_ABS_ERR(uint8_t);
#undef CIM_ABS_ERR
    *count = c;
    return sum;
}

/* Samples i0 .. i0 + b - 1 through both graphs of worker w. */
static cim_status run_batch(worker *w, nn_dataset *ds, const nn_preproc *pp, uint64_t i0, int b, int has_labels,
                            int analog_only, const layer_map *map, int nmap)
{
    cim_ctx *ctx = w->ctx;
    nn_graph *ref = w->ref, *ana = w->ana;
    cim_status st;
    if (b != w->cur) { /* the last, shorter batch */
        if ((st = nn_set_batch(ref, b)) != CIM_OK || (st = nn_set_batch(ana, b)) != CIM_OK)
            return st;
        w->cur = b;
    }
    if ((st = nn_dataset_fill(ds, pp, (int64_t)i0, b, w->buf)) != CIM_OK)
        return st;
    nn_value in = ref->t[ref->inputs[0]].v;
    in.data = w->buf;
    nn_value *outs = w->outs;
    const int no = ref->n_outputs;
    /* analog_only (timing): the digital reference is not run, so there is no
     * agreement and no per-layer error; accuracy is against the labels */
    if (!analog_only && (st = nn_graph_run(ref, &in, outs)) != CIM_OK)
        return st;
    w->an->sample_offset = i0;
    if ((st = nn_graph_run(ana, &in, outs + no)) != CIM_OK) {
        for (int i = 0; i < no; i++)
            nn_value_free(ctx, &outs[i]);
        return st;
    }
    /* the first output holds the class scores */
    const nn_value *out_ref = &outs[0], *out_ana = &outs[no];
    int64_t rows = nn_value_count(out_ana) / (out_ana->rank ? out_ana->dims[out_ana->rank - 1] : 1);
    if (rows != b) {
        st = nn_err(ana, NULL, CIM_ERR_SHAPE, "output 0 has %lld rows for a batch of %d (expected [batch, classes])",
                    (long long)rows, b);
    } else {
        for (int r = 0; r < b; r++) {
            int pr = analog_only ? -1 : top1(out_ref, r), pa = top1(out_ana, r);
            w->agree += pr == pa;
            if (has_labels) {
                int32_t lab = nn_dataset_label(ds, (int64_t)i0 + r);
                w->ref_correct += pr == lab;
                w->analog_correct += pa == lab;
            }
        }
    }
    for (int i = analog_only ? no : 0; i < 2 * no; i++)
        nn_value_free(ctx, &outs[i]);
    for (int l = 0; l < nmap && st == CIM_OK && !analog_only; l++) {
        if (map[l].out < 0)
            continue;
        const nn_value *vr = &ref->t[map[l].out].v, *va = &ana->t[map[l].out].v;
        uint64_t c = 0;
        const double sum = (double)abs_err(vr, va, nn_zp_value(ref, map[l].zp), &c);
        w->err_sum[l] += sum;
        w->err_count[l] += c;
    }
    return st;
}

/* All batches, spread over the workers (dynamic: the next free worker takes
 * the next batch). */
static cim_status eval_loop(cim_net *net, const cim_arch *arch, nn_dataset *ds, const nn_preproc *pp,
                            uint64_t count, int batch, const cim_eval_options *o, const layer_map *map, int nmap,
                            cim_eval_result *res, nn_analog_layer **layers_out, int *nlayers_out)
{
    cim_ctx *ctx = net->ctx;
    const uint64_t nbatches = (count + (uint64_t)batch - 1) / (uint64_t)batch;
    int T = cim_ctx_threads(ctx);
    if ((uint64_t)T > nbatches)
        T = (int)nbatches;
    worker *ws = cim__calloc(ctx, (size_t)T, sizeof *ws);
    if (!ws)
        return CIM_ERR_NOMEM;
    cim_status st = CIM_OK;
    for (int t = 0; t < T && st == CIM_OK; t++)
        if ((st = worker_init(ctx, net, arch, pp, batch, nmap, o, &ws[t])) != CIM_OK && ws[t].ctx) {
            char msg[CIM_ERRMSG_SIZE];
            snprintf(msg, sizeof msg, "%s", cim_ctx_errmsg(ws[t].ctx));
            cim__err(ctx, st, "%s", msg[0] ? msg : "out of memory");
        }
    for (int t = 0; t < T && st == CIM_OK; t++) { /* --dump-layer (analog_dump.c) */
        ws[t].an->dump_layer = o->dump_layer;
        ws[t].an->dump_dir = o->dump_dir;
    }
    uint64_t next = 0, done = 0;
    int failed = st != CIM_OK;
    double t0 = now();
    if (!failed) {
#pragma omp parallel num_threads(T)
        {
            worker *w = &ws[omp_get_thread_num()];
            for (;;) {
                uint64_t bi;
                int stop;
#pragma omp atomic read
                stop = failed;
                if (stop)
                    break;
#pragma omp atomic capture
                bi = next++;
                if (bi >= nbatches)
                    break;
                uint64_t i0 = bi * (uint64_t)batch;
                int b = count - i0 < (uint64_t)batch ? (int)(count - i0) : batch;
                cim_status s = run_batch(w, ds, pp, i0, b, res->has_labels, o->analog_only, map, nmap);
                if (s != CIM_OK) {
                    w->st = s;
                    snprintf(w->msg, sizeof w->msg, "%s", cim_ctx_errmsg(w->ctx));
#pragma omp atomic write
                    failed = 1;
                    break;
                }
#pragma omp critical(cim_eval_progress)
                {
                    done += (uint64_t)b;
                    /* only whole batches count: another worker's batch in flight has
                     * added to its counters but not to `done` */
                    w->shown_ref = w->ref_correct;
                    w->shown_analog = w->analog_correct;
                    if (o->progress) {
                        cim_eval_result r = *res;
                        r.ref_correct = r.analog_correct = 0;
                        for (int t = 0; t < T; t++) {
                            r.ref_correct += ws[t].shown_ref;
                            r.analog_correct += ws[t].shown_analog;
                        }
                        progress(done, count, t0, &r);
                    }
                }
            }
        }
    }
    /* merge: counts, layer errors, the analog layers' counters (by node and group) */
    for (int t = 0; t < T && st == CIM_OK; t++) {
        worker *w = &ws[t];
        if (w->st != CIM_OK) {
            st = cim__err(ctx, w->st, "%s", w->msg);
            break;
        }
        res->ref_correct += w->ref_correct;
        res->analog_correct += w->analog_correct;
        res->agree += w->agree;
        for (int l = 0; l < nmap; l++) {
            res->layers[l].abs_err_sum += w->err_sum[l];
            res->layers[l].err_count += w->err_count[l];
        }
    }
    res->samples = st == CIM_OK ? count : done;
    if (st == CIM_OK) {
        /* workers' layers: the first worker's list, every other worker's counters added */
        nn_analog *a0 = ws[0].an;
        nn_analog_layer *L = cim__calloc(ctx, (size_t)(a0->n_layers ? a0->n_layers : 1), sizeof *L);
        if (!L) {
            st = CIM_ERR_NOMEM;
        } else {
            for (int i = 0; i < a0->n_layers; i++) {
                L[i] = a0->layers[i];
                L[i].layer = NULL;
                for (int t = 1; t < T; t++)
                    for (int j = 0; j < ws[t].an->n_layers; j++)
                        if (ws[t].an->layers[j].node == L[i].node && ws[t].an->layers[j].group == L[i].group)
                            cim_stats_add(&L[i].stats, &ws[t].an->layers[j].stats);
            }
            *layers_out = L;
            *nlayers_out = a0->n_layers;
        }
    }
    for (int t = 0; t < T; t++)
        worker_free(&ws[t]);
    cim__free(ctx, ws);
    return st;
}

cim_status cim_net_eval(cim_ctx *ctx, cim_net *net, const cim_arch *arch, const char *dataset,
                        const cim_eval_options *opts, cim_eval_result *res)
{
    if (!ctx || !net || !arch || !dataset || !res)
        return cim__err(ctx, CIM_ERR_ARG, "cim_net_eval: NULL argument");
    cim_eval_options o;
    if (opts)
        o = *opts;
    else
        cim_eval_options_default(&o);
    if (o.batch < 1 || o.batch > 65536)
        return cim__err(ctx, CIM_ERR_ARG, "batch %d is outside 1..65536", o.batch);
    memset(res, 0, sizeof *res);
    snprintf(res->dataset, sizeof res->dataset, "%s", dataset);
    snprintf(res->arch, sizeof res->arch, "%s", arch->name);
    double t0 = now();

    nn_dataset *ds = NULL;
    layer_map *map = NULL;
    cim_status st = nn_dataset_open(ctx, dataset, o.labels, &ds);
    if (st != CIM_OK)
        return st;
    nn_graph *ref = net->ref;
    const nn_value *inv = &ref->t[ref->inputs[0]].v;
    nn_preproc pp;
    int64_t dims[NN_MAX_RANK];
    memcpy(dims, inv->dims, sizeof dims);
    dims[0] = -1;
    st = nn_preproc_init(ds, ref->path, ref->meta_key, ref->meta_value, ref->n_meta, inv->dtype, dims, inv->rank,
                         &pp);
    if (st != CIM_OK)
        goto done;
    uint64_t count = (uint64_t)nn_dataset_count(ds);
    if (o.limit && o.limit < count)
        count = o.limit;
    if (count == 0) {
        st = cim__err(ctx, CIM_ERR_ARG, "%s: no samples to evaluate", dataset);
        goto done;
    }
    res->has_labels = nn_dataset_has_labels(ds);
    res->has_reference = !o.analog_only;
    if (o.analog_only && !res->has_labels) {
        st = cim__err(ctx, CIM_ERR_ARG, "%s: an analog-only evaluation needs labels (without them accuracy is "
                      "agreement with the reference, which it does not run)", dataset);
        goto done;
    }
    int batch = (uint64_t)o.batch < count ? o.batch : (int)count;

    /* the weight layers, in graph order */
    int nmap = 0;
    map = cim__calloc(ctx, (size_t)(net->n_weight_layers ? net->n_weight_layers : 1), sizeof *map);
    res->layers = cim__calloc(ctx, (size_t)(net->n_weight_layers ? net->n_weight_layers : 1), sizeof *res->layers);
    if (!map || !res->layers) {
        st = CIM_ERR_NOMEM;
        goto done;
    }
    for (int k = 0; k < ref->nn; k++)
        if (nn_node_is_weight_layer(ref, &ref->nodes[k])) {
            map[nmap].node = k;
            map[nmap].out = nn_layer_output(ref, k, &map[nmap].zp, NULL, NULL);
            snprintf(res->layers[nmap].name, sizeof res->layers[nmap].name, "%s", ref->nodes[k].name);
            snprintf(res->layers[nmap].op_type, sizeof res->layers[nmap].op_type, "%s", ref->nodes[k].op_type);
            nmap++;
        }
    res->n_layers = nmap;

    nn_analog_layer *alayers = NULL;
    int n_alayers = 0;
    if (o.dump_layer && (st = nn_analog_dump_check(ref, o.dump_layer, o.dump_dir)) != CIM_OK)
        goto done;
    st = eval_loop(net, arch, ds, &pp, count, batch, &o, map, nmap, res, &alayers, &n_alayers);
    if (o.dump_layer) /* renamed into place only now that the evaluation succeeded */
        st = nn_analog_dump_finish(ctx, o.dump_layer, o.dump_dir, st);
    if (st != CIM_OK) {
        cim__free(ctx, alayers);
        goto done;
    }

    /* counters per node (groups summed), and the totals */
    cim_stats_reset(&res->totals);
    for (int l = 0; l < nmap; l++) {
        cim_eval_layer *L = &res->layers[l];
        cim_stats_reset(&L->stats);
        for (int i = 0; i < n_alayers; i++) {
            const nn_analog_layer *A = &alayers[i];
            if (A->node != map[l].node)
                continue;
            if (L->groups == 0) {
                L->cfg = A->cfg;
                L->K = A->K;
                L->N = A->N;
                L->info = A->info;
            } else {
                L->info.crossbars += A->info.crossbars;
                L->info.cells += A->info.cells;
                L->info.devices += A->info.devices;
                L->info.cell_level_sum += A->info.cell_level_sum;
                L->info.rows_used += A->info.rows_used;
                L->info.cols_used += A->info.cols_used;
                L->info.flipped_columns += A->info.flipped_columns;
            }
            L->groups++;
            cim_stats_add(&L->stats, &A->stats);
        }
        L->macs = L->stats.macs;
        cim_stats_add(&res->totals, &L->stats);
    }
    cim__free(ctx, alayers);
done:
    res->seconds = now() - t0;
    cim__free(ctx, map);
    nn_dataset_close(ds);
    if (st != CIM_OK)
        cim_eval_result_free(ctx, res);
    return st;
}

static int npy_dtype(nn_dtype t)
{
    switch (t) {
    case NN_FLOAT: return CIM_FLOAT32;
    case NN_UINT8: return CIM_UINT8;
    case NN_INT8: return CIM_INT8;
    case NN_INT32: return CIM_INT32;
    case NN_INT64: return CIM_INT64;
    default: return -1;
    }
}

cim_status cim_net_reference(cim_ctx *ctx, cim_net *net, const char *dataset, const char *labels, uint64_t limit,
                             const char *inputs_out, const char *outputs_out)
{
    if (!ctx || !net || !dataset || !outputs_out)
        return cim__err(ctx, CIM_ERR_ARG, "cim_net_reference: NULL argument");
    nn_dataset *ds = NULL;
    cim_status st = nn_dataset_open(ctx, dataset, labels, &ds);
    if (st != CIM_OK)
        return st;
    nn_graph *g = net->ref;
    const nn_value *inv = &g->t[g->inputs[0]].v;
    nn_preproc pp;
    int64_t dims[NN_MAX_RANK];
    memcpy(dims, inv->dims, sizeof dims);
    dims[0] = -1;
    uint8_t *xin = NULL, *yout = NULL;
    nn_value *outs = NULL;
    int64_t ydims[NN_MAX_RANK] = {0};
    int yrank = 0;
    nn_dtype ydt = NN_UNDEFINED;
    size_t yper = 0;
    st = nn_preproc_init(ds, g->path, g->meta_key, g->meta_value, g->n_meta, inv->dtype, dims, inv->rank, &pp);
    uint64_t count = (uint64_t)nn_dataset_count(ds);
    if (limit && limit < count)
        count = limit;
    const int batch = 64;
    const size_t xper = (size_t)pp.sample_elems * nn_dtype_size(pp.dtype);
    if (st == CIM_OK && count == 0)
        st = cim__err(ctx, CIM_ERR_ARG, "%s: no samples", dataset);
    if (st == CIM_OK && (!(xin = cim__malloc(ctx, xper * count)) ||
                         !(outs = cim__calloc(ctx, (size_t)g->n_outputs, sizeof *outs))))
        st = CIM_ERR_NOMEM;
    if (st == CIM_OK)
        st = nn_dataset_fill(ds, &pp, 0, (int64_t)count, xin);
    for (uint64_t i0 = 0; i0 < count && st == CIM_OK; i0 += batch) {
        int b = count - i0 < (uint64_t)batch ? (int)(count - i0) : batch;
        if (g->batch != b && (st = nn_set_batch(g, b)) != CIM_OK)
            break;
        nn_value in = *inv;
        in.data = xin + xper * i0;
        if ((st = nn_graph_run(g, &in, outs)) != CIM_OK)
            break;
        if (!yout) { /* the first output, per sample */
            ydt = outs[0].dtype;
            yrank = outs[0].rank;
            memcpy(ydims, outs[0].dims, sizeof ydims);
            yper = (size_t)(nn_value_count(&outs[0]) / b) * nn_dtype_size(ydt);
            if (npy_dtype(ydt) < 0 || yrank < 1 || ydims[0] != b)
                st = nn_err(g, NULL, CIM_ERR_UNSUPPORTED, "output 0 (%s) cannot be written as NPY per sample",
                            nn_dtype_name(ydt));
            else if (!(yout = cim__malloc(ctx, yper * count)))
                st = CIM_ERR_NOMEM;
        }
        if (st == CIM_OK)
            memcpy(yout + yper * i0, outs[0].data, yper * (size_t)b);
        for (int i = 0; i < g->n_outputs; i++)
            nn_value_free(ctx, &outs[i]);
    }
    if (st == CIM_OK && inputs_out) {
        int64_t xd[NN_MAX_RANK];
        memcpy(xd, inv->dims, sizeof xd);
        xd[0] = (int64_t)count;
        st = cim_npy_write(ctx, inputs_out, npy_dtype(pp.dtype), inv->rank, xd, xin);
    }
    if (st == CIM_OK) {
        ydims[0] = (int64_t)count;
        st = cim_npy_write(ctx, outputs_out, npy_dtype(ydt), yrank, ydims, yout);
    }
    if (g->batch != 1) {
        cim_status s2 = nn_set_batch(g, 1);
        if (st == CIM_OK)
            st = s2;
    }
    cim__free(ctx, xin);
    cim__free(ctx, yout);
    cim__free(ctx, outs);
    nn_dataset_close(ds);
    return st;
}
