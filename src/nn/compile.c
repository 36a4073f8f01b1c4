/* compile.c: Adaptive Weight Slicing over a network (include/cimsim/compile.h).
 *
 * One reference run of the calibration samples records, for every weight
 * layer (node, group), its integer inputs, weights and exact products (a
 * capturing nn_mvm hook). Each candidate slicing is then programmed and run
 * on those inputs alone, and the layer's 8-bit outputs are recomputed by
 * re-running just the node and the few nodes between it and its 8-bit output
 * (bias Add, Relu/Clip, QuantizeLinear) with the candidate's products in
 * place of the exact ones. Every other tensor keeps its reference value, so
 * each layer is judged on the activations the reference network gives it. */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <zlib.h>
#include "cimsim/compile.h"
#include "nn.h"
#include "analog.h"
#include "eval_internal.h"
#include "onnx/onnx.h"
#include "data/dataset.h"
#include "../lib/internal.h"

void cim_compile_options_default(cim_compile_options *o)
{
    memset(o, 0, sizeof *o);
    o->budget = 0.09;
    o->calib = 10;
    o->staged_min_macs = (uint64_t)1 << 24;
}

/* ---- slicings ---- */

/* Visit the compositions of `left` bits with exactly `parts` parts of 1..cb,
 * widths in lexicographically descending order; returns the running index. */
static int compositions(int left, int parts, int cb, int *w, int depth, int *idx, int want, int out[CIM_MAX_SLICES])
{
    if (parts == 0) {
        if (left == 0) {
            if (*idx == want)
                memcpy(out, w, (size_t)depth * sizeof *w);
            (*idx)++;
        }
        return *idx;
    }
    for (int v = cb; v >= 1; v--)
        if (v <= left && left - v >= parts - 1 && left - v <= (parts - 1) * cb) {
            w[depth] = v;
            compositions(left - v, parts - 1, cb, w, depth + 1, idx, want, out);
        }
    return *idx;
}

int cim_slicing_count(int bits, int cell_bits)
{
    if (bits < 1 || bits > CIM_MAX_SLICES || cell_bits < 1)
        return 0;
    int total = 0, w[CIM_MAX_SLICES], out[CIM_MAX_SLICES];
    for (int p = 1; p <= bits; p++) {
        int idx = 0;
        total += compositions(bits, p, cell_bits, w, 0, &idx, -1, out);
    }
    return total;
}

int cim_slicing_get(int bits, int cell_bits, int index, int w[CIM_MAX_SLICES])
{
    if (bits < 1 || bits > CIM_MAX_SLICES || cell_bits < 1 || index < 0)
        return 0;
    int tmp[CIM_MAX_SLICES];
    for (int p = 1; p <= bits; p++) {
        int idx = 0;
        int n = compositions(bits, p, cell_bits, tmp, 0, &idx, index, w);
        if (index < n)
            return p;
        index -= n;
    }
    return 0;
}

/* ---- the calibration run: every product recorded ---- */

typedef struct {
    int node, group, M, K, N, rows_per_sample;
    int32_t zx;
    nn_dtype wtype;
    uint8_t *x;       /* [M][K] */
    void *w;          /* [K][N] */
    int32_t *zw;      /* [N] or NULL */
    int32_t *exact;   /* [M][N] */
    int32_t *analog;  /* [M][N]: the candidate's products */
} product;

typedef struct {
    cim_ctx *ctx;
    product *p;
    int n, cap;
    int replay;       /* 0: record; 1: hand out recorded products */
    int target;       /* replay: this node's products come from `analog` */
} recorder;

static product *find_product(recorder *r, int node, int group)
{
    for (int i = 0; i < r->n; i++)
        if (r->p[i].node == node && r->p[i].group == group)
            return &r->p[i];
    return NULL;
}

static void *dup_bytes(cim_ctx *ctx, const void *src, size_t n)
{
    void *d = cim__malloc(ctx, n ? n : 1);
    if (d && n)
        memcpy(d, src, n);
    return d;
}

static cim_status record_mvm(void *ud, const nn_graph *g, const nn_mvm_args *a)
{
    recorder *r = ud;
    const int node = (int)(a->node - g->nodes);
    const size_t mn = (size_t)a->M * (size_t)a->N;
    product *p = find_product(r, node, a->group);
    if (r->replay) {
        if (!p || p->M != a->M || p->K != a->K || p->N != a->N)
            return nn_err(g, a->node, CIM_ERR_INTERNAL, "product of group %d changed since calibration", a->group);
        memcpy(a->psum, node == r->target ? p->analog : p->exact, mn * sizeof(int32_t));
        return CIM_OK;
    }
    if (p)
        return nn_err(g, a->node, CIM_ERR_INTERNAL, "group %d computed twice in one run", a->group);
    cim_status st = nn_mvm_fast(g, a);
    if (st != CIM_OK)
        return st;
    if (r->n == r->cap) {
        int cap = r->cap ? 2 * r->cap : 32;
        product *np = cim__calloc(r->ctx, (size_t)cap, sizeof *np);
        if (!np)
            return CIM_ERR_NOMEM;
        if (r->n)
            memcpy(np, r->p, (size_t)r->n * sizeof *np);
        cim__free(r->ctx, r->p);
        r->p = np;
        r->cap = cap;
    }
    p = &r->p[r->n++];
    memset(p, 0, sizeof *p);
    p->node = node;
    p->group = a->group;
    p->M = a->M;
    p->K = a->K;
    p->N = a->N;
    p->rows_per_sample = a->rows_per_sample;
    p->zx = a->zx;
    p->wtype = a->wtype;
    p->x = dup_bytes(r->ctx, a->x, (size_t)a->M * (size_t)a->K);
    p->w = dup_bytes(r->ctx, a->w, (size_t)a->K * (size_t)a->N);
    p->zw = a->zw ? dup_bytes(r->ctx, a->zw, (size_t)a->N * sizeof(int32_t)) : NULL;
    p->exact = dup_bytes(r->ctx, a->psum, mn * sizeof(int32_t));
    p->analog = cim__malloc(r->ctx, mn ? mn * sizeof(int32_t) : 1);
    if (!p->x || !p->w || (a->zw && !p->zw) || !p->exact || !p->analog)
        return CIM_ERR_NOMEM;
    return CIM_OK;
}

static void recorder_free(recorder *r)
{
    for (int i = 0; i < r->n; i++) {
        cim__free(r->ctx, r->p[i].x);
        cim__free(r->ctx, r->p[i].w);
        cim__free(r->ctx, r->p[i].zw);
        cim__free(r->ctx, r->p[i].exact);
        cim__free(r->ctx, r->p[i].analog);
    }
    cim__free(r->ctx, r->p);
}

/* ---- one layer ---- */

typedef struct {
    cim_ctx *ctx;
    cim_ctx **wctx;           /* one single-threaded context per worker */
    int nw;
    nn_graph *g;
    recorder *rec;
    int node, groups;
    int chain[5], nchain;
    int out, zp;              /* 8-bit output tensor (or -1) and its zero point tensor */
    uint8_t *yref;            /* the reference output codes */
    size_t ybytes;
} layer_job;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Program every group of the layer under cfg on context wc and, when psum is
 * not NULL, run vectors [M num0 / den, M num1 / den) of each group's M into
 * psum[g] ([M][N] each; rows outside the range are not touched). The noise
 * is keyed by the global vector index, so pieces give the bits of one whole
 * run. centers (if not NULL) receive [groups][chunks][N]. */
static cim_status run_groups(const layer_job *J, cim_ctx *wc, const cim_xbar_config *cfg, int32_t **psum,
                             int16_t *centers, int num0, int num1, int den)
{
    for (int gi = 0; gi < J->groups; gi++) {
        const product *p = find_product(J->rec, J->node, gi);
        if (!p)
            return cim__err(wc, CIM_ERR_INTERNAL, "node '%s': group %d was not recorded", J->g->nodes[J->node].name,
                            gi);
        cim_xbar_config c = *cfg;
        c.zx = (int)p->zx;
        cim_weights w = {p->w, p->wtype == NN_INT8 ? CIM_INT8 : CIM_UINT8, p->K, p->N, p->zw};
        cim_layer *L = NULL;
        uint32_t id = (uint32_t)J->node * 1024u + (uint32_t)gi; /* as the analog executor keys noise */
        cim_status st = cim_layer_program(wc, &c, &w, id, NULL, &L);
        const int m0 = (int)((int64_t)p->M * num0 / den), m1 = (int)((int64_t)p->M * num1 / den);
        if (st == CIM_OK && psum && m1 > m0) {
            cim_run_options ro;
            cim_run_options_default(&ro);
            ro.histogram = 0;
            ro.vector_offset = (uint64_t)m0; /* calibration samples 0..calib-1 */
            st = cim_layer_run(wc, L, p->x + (size_t)m0 * (size_t)p->K, m1 - m0,
                               psum[gi] + (size_t)m0 * (size_t)p->N, NULL, &ro);
        }
        if (st == CIM_OK && centers) {
            const int16_t *ce = cim_layer_centers(L);
            const size_t n = (size_t)((p->K + c.rows - 1) / c.rows) * (size_t)p->N;
            if (ce)
                memcpy(centers + (size_t)gi * n, ce, n * sizeof *ce);
        }
        cim_layer_free(wc, L);
        if (st != CIM_OK)
            return st;
    }
    return CIM_OK;
}

/* Re-run the node and its chain to the 8-bit output; target: whose products
 * are the analog ones (-1: none, which restores the reference values). */
static cim_status rerun_chain(layer_job *J, int target)
{
    J->rec->replay = 1;
    J->rec->target = target;
    for (int i = 0; i < J->nchain; i++) {
        cim_status st = nn_graph_run_node(J->g, J->chain[i]);
        if (st != CIM_OK)
            return st;
    }
    return CIM_OK;
}

/* semantics.md section 10: mean |y - y_ref| over outputs with y_ref != zp. */
static double output_error(const layer_job *J)
{
    const nn_value *v = &J->g->t[J->out].v;
    const int32_t zp = nn_zp_value(J->g, J->zp);
    const size_t n = J->ybytes;
    double sum = 0;
    uint64_t cnt = 0;
    for (size_t e = 0; e < n; e++) {
        int32_t a = v->dtype == NN_INT8 ? ((const int8_t *)J->yref)[e] : J->yref[e];
        int32_t y = v->dtype == NN_INT8 ? ((const int8_t *)v->data)[e] : ((const uint8_t *)v->data)[e];
        if (a != zp) {
            sum += a > y ? a - y : y - a;
            cnt++;
        }
    }
    return cnt ? sum / (double)cnt : 0.0;
}

/* The config of one slicing (widths w[0..n-1]) on top of base. */
static cim_status slicing_config(cim_ctx *ctx, const cim_xbar_config *base, const int *w, int n, cim_xbar_config *c)
{
    *c = *base;
    c->n_weight_slices = n;
    memcpy(c->weight_slices, w, (size_t)n * sizeof *w);
    return cim_config_validate(ctx, c, "candidate slicing");
}

#define STAGE1_DEN 8 /* the first stage: the first eighth of every group's vectors */

/* One candidate's products of every group through the node's chain: the
 * output error (semantics.md section 10) with psum[g] as the node's products. */
static cim_status chain_error(layer_job *J, int32_t *const *psum, double *err)
{
    for (int gi = 0; gi < J->groups; gi++) {
        product *p = find_product(J->rec, J->node, gi);
        memcpy(p->analog, psum[gi], (size_t)p->M * (size_t)p->N * sizeof(int32_t));
    }
    cim_status st = rerun_chain(J, J->node);
    if (st == CIM_OK)
        *err = output_error(J);
    return st;
}

/* Run the given (candidate, vector range) tasks over the workers: task t runs
 * candidate cand[t] (slicing idx0 + cand[t]) on vectors [num0[t], num1[t]) / den
 * of every group into ps[cand[t]]. */
static cim_status run_tasks(layer_job *J, const cim_xbar_config *base, int cb, int idx0, int ntask, const int *cand,
                            const int *num0, const int *num1, int den, int32_t **ps)
{
    const size_t per = (size_t)J->groups;
    cim_status *sts = cim__calloc(J->ctx, (size_t)(ntask ? ntask : 1), sizeof *sts);
    if (!sts)
        return CIM_ERR_NOMEM;
#pragma omp parallel for num_threads(J->nw) schedule(dynamic, 1)
    for (int t = 0; t < ntask; t++) {
        cim_ctx *wc = J->wctx[omp_get_thread_num()];
        int w[CIM_MAX_SLICES];
        int n = cim_slicing_get(CIM_OPERAND_BITS, cb, idx0 + cand[t], w);
        cim_xbar_config cfg;
        cim_status s = slicing_config(wc, base, w, n, &cfg);
        if (s == CIM_OK)
            s = run_groups(J, wc, &cfg, ps + (size_t)cand[t] * per, NULL, num0[t], num1[t], den);
        if (s != CIM_OK) {
#pragma omp critical(cim_compile_err)
            {
                cim__err(J->ctx, s, "%s", cim_ctx_errmsg(wc));
                sts[t] = s;
            }
        }
    }
    cim_status st = CIM_OK;
    for (int t = 0; t < ntask && st == CIM_OK; t++)
        st = sts[t];
    cim__free(J->ctx, sts);
    return st;
}

/* The errors of slicings idx0 .. idx0 + count - 1 (enumeration order), the
 * crossbar runs spread over the workers. err[c] is exact where known[c] is set.
 *
 * Without staging every candidate runs whole. With it (staged, and a layer of
 * at least staged_min_macs), every candidate first runs the first eighth of
 * the vectors, the rest of its products taken exact: the output error is a sum
 * of nonnegative per-output terms over a fixed count, each output depends on
 * one vector's products (the chain is elementwise: nn_layer_output), and
 * outputs of exact products equal the reference, so that error is a lower
 * bound of the whole one (also in floating point: adding nonnegative terms
 * rounds monotonically). Candidates are then finished in increasing order of
 * their bound, each split over the workers, and a candidate whose bound is
 * above the budget, or above the exact error of a finished candidate within
 * the budget, is not finished (known[c] = 0, err[c] its bound): it can be
 * neither within budget nor the best. The choice is the one whole runs give
 * (search; --exhaustive runs every candidate whole, and tests compare). */
static cim_status try_range(layer_job *J, const cim_xbar_config *base, int cb, int idx0, int count, double budget,
                            uint64_t staged_min_macs, int staged, double *err, uint8_t *known)
{
    const size_t per = (size_t)J->groups;
    uint64_t macs = 0;
    for (int gi = 0; gi < J->groups; gi++) {
        const product *p = find_product(J->rec, J->node, gi);
        if (p)
            macs += (uint64_t)p->M * (uint64_t)p->K * (uint64_t)p->N;
    }
    staged = staged && macs >= staged_min_macs;
    const int nw = J->nw;
    const int ntmax = count > nw ? count : nw;
    int32_t **ps = cim__calloc(J->ctx, (size_t)count * per, sizeof *ps);
    int *tc = cim__calloc(J->ctx, (size_t)ntmax, sizeof *tc), *t0 = cim__calloc(J->ctx, (size_t)ntmax, sizeof *t0);
    int *t1 = cim__calloc(J->ctx, (size_t)ntmax, sizeof *t1), *order = cim__calloc(J->ctx, (size_t)count, sizeof *order);
    cim_status st = ps && tc && t0 && t1 && order ? CIM_OK : CIM_ERR_NOMEM;
    for (int c = 0; st == CIM_OK && c < count; c++)
        for (int gi = 0; gi < J->groups; gi++) {
            const product *p = find_product(J->rec, J->node, gi);
            size_t mn = p ? (size_t)p->M * (size_t)p->N : 1;
            int32_t *b = cim__malloc(J->ctx, (mn ? mn : 1) * sizeof(int32_t));
            if (!(ps[(size_t)c * per + (size_t)gi] = b))
                st = CIM_ERR_NOMEM;
            else if (p && staged) /* the vectors past the first stage: exact until run */
                memcpy(b, p->exact, mn * sizeof(int32_t));
        }
    /* every candidate whole, or its first stage */
    for (int c = 0; c < count; c++) {
        tc[c] = c;
        t0[c] = 0;
        t1[c] = staged ? 1 : STAGE1_DEN;
        known[c] = 0;
    }
    if (st == CIM_OK)
        st = run_tasks(J, base, cb, idx0, count, tc, t0, t1, STAGE1_DEN, ps);
    for (int c = 0; st == CIM_OK && c < count; c++)
        if ((st = chain_error(J, ps + (size_t)c * per, &err[c])) == CIM_OK)
            known[c] = !staged;
    if (st == CIM_OK && staged) {
        for (int c = 0; c < count; c++) { /* by bound, then enumeration order (an insertion sort) */
            int i = c;
            for (; i > 0 && err[order[i - 1]] > err[c]; i--)
                order[i] = order[i - 1];
            order[i] = c;
        }
        double bound = budget;
        for (int r = 0; r < count && st == CIM_OK; r++) {
            const int c = order[r];
            if (err[c] > bound)
                continue; /* proven out of budget, or worse than a finished candidate within it */
            for (int w = 0; w < nw; w++) { /* the other seven eighths, split over the workers */
                tc[w] = c;
                t0[w] = nw + (STAGE1_DEN - 1) * w;
                t1[w] = nw + (STAGE1_DEN - 1) * (w + 1);
            }
            st = run_tasks(J, base, cb, idx0, nw, tc, t0, t1, STAGE1_DEN * nw, ps);
            if (st == CIM_OK && (st = chain_error(J, ps + (size_t)c * per, &err[c])) == CIM_OK) {
                known[c] = 1;
                if (err[c] <= budget && err[c] < bound)
                    bound = err[c];
            }
        }
    }
    for (size_t i = 0; ps && i < (size_t)count * per; i++)
        cim__free(J->ctx, ps[i]);
    cim__free(J->ctx, ps);
    cim__free(J->ctx, tc);
    cim__free(J->ctx, t0);
    cim__free(J->ctx, t1);
    cim__free(J->ctx, order);
    return st;
}

/* The error of one given slicing (the arch's own), on the first worker. */
static cim_status try_one(layer_job *J, const cim_xbar_config *base, const int *w, int n, double *err)
{
    cim_xbar_config cfg;
    int32_t *ps[1] = {NULL};
    int32_t **psum = J->groups == 1 ? ps : cim__calloc(J->ctx, (size_t)J->groups, sizeof *psum);
    if (!psum)
        return CIM_ERR_NOMEM;
    for (int gi = 0; gi < J->groups; gi++)
        psum[gi] = find_product(J->rec, J->node, gi)->analog;
    cim_status st = slicing_config(J->ctx, base, w, n, &cfg);
    if (st == CIM_OK && (st = run_groups(J, J->wctx[0], &cfg, psum, NULL, 0, 1, 1)) != CIM_OK)
        cim__err(J->ctx, st, "%s", cim_ctx_errmsg(J->wctx[0]));
    if (st == CIM_OK && (st = rerun_chain(J, J->node)) == CIM_OK)
        *err = output_error(J);
    if (psum != ps)
        cim__free(J->ctx, psum);
    return st;
}

/* The candidate config: the layer's arch config with 1-bit input slices and
 * no speculation (thesis 4.2.2). */
static void candidate_base(const cim_xbar_config *layer_cfg, cim_xbar_config *c)
{
    *c = *layer_cfg;
    c->speculation = 0;
    c->n_input_slices = CIM_OPERAND_BITS;
    for (int i = 0; i < CIM_OPERAND_BITS; i++)
        c->input_slices[i] = 1;
}

/* Algorithm 1 for one layer: fills the plan layer's slicing, error, tried.
 * The slicings of one count are simulated together (in parallel); the
 * search stops after the first count with a slicing under budget. */
static cim_status search(layer_job *J, const cim_xbar_config *base, const cim_compile_options *o,
                         cim_plan_layer *pl)
{
    const int cb = base->cell_bits < CIM_OPERAND_BITS ? base->cell_bits : CIM_OPERAND_BITS;
    const int total = cim_slicing_count(CIM_OPERAND_BITS, cb);
    int best = -1, end = 0;
    double best_err = INFINITY;
    double *err = cim__calloc(J->ctx, (size_t)total, sizeof *err);
    uint8_t *known = cim__calloc(J->ctx, (size_t)total, 1);
    if (!err || !known) {
        cim__free(J->ctx, err);
        cim__free(J->ctx, known);
        return CIM_ERR_NOMEM;
    }
    cim_status st = CIM_OK;
    for (int idx0 = 0; idx0 < total && st == CIM_OK;) {
        int w[CIM_MAX_SLICES];
        const int n = cim_slicing_get(CIM_OPERAND_BITS, cb, idx0, w);
        int idx1 = idx0;
        while (idx1 < total && cim_slicing_get(CIM_OPERAND_BITS, cb, idx1, w) == n)
            idx1++;
        /* staged only while the choice can still fall in this count (see try_range) */
        const int staged = !o->exhaustive && best < 0;
        if ((st = try_range(J, base, cb, idx0, idx1 - idx0, o->budget, o->staged_min_macs, staged, err + idx0,
                             known + idx0)) != CIM_OK)
            break;
        pl->tried += idx1 - idx0;
        end = idx1;
        const int open = best < 0; /* the first count with a slicing within budget decides */
        if (open)
            for (int i = idx0; i < idx1; i++) /* ties: the first in enumeration order */
                if (known[i] && err[i] <= o->budget && err[i] < best_err) {
                    best_err = err[i];
                    best = i;
                }
        idx0 = idx1;
        if (best >= 0 && !o->exhaustive)
            break;
    }
    /* none within budget: the least error of all tried, every one exact */
    for (int i = 0; st == CIM_OK && best < 0 && i < end; i++)
        if (!known[i])
            st = try_range(J, base, cb, i, 1, o->budget, 0, 0, err + i, known + i);
    if (st == CIM_OK) {
        int pick = best;
        if (pick < 0) {
            pick = 0;
            for (int i = 1; i < end; i++)
                if (err[i] < err[pick])
                    pick = i;
        }
        pl->n_weight_slices = cim_slicing_get(CIM_OPERAND_BITS, cb, pick, pl->weight_slices);
        pl->error = err[pick];
        for (int i = 0; i < end; i++)
            pl->whole += known[i];
        pl->within_budget = pl->error <= o->budget;
    }
    cim__free(J->ctx, err);
    cim__free(J->ctx, known);
    return st;
}

static cim_status file_crc(cim_ctx *ctx, const char *path, uint32_t *crc)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return cim__err(ctx, CIM_ERR_IO, "%s: cannot open", path);
    unsigned char buf[65536];
    uLong c = crc32(0L, Z_NULL, 0);
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        c = crc32(c, buf, (uInt)n);
    int bad = ferror(f);
    fclose(f);
    if (bad)
        return cim__err(ctx, CIM_ERR_IO, "%s: read error", path);
    *crc = (uint32_t)c;
    return CIM_OK;
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

void cim_plan_free(cim_ctx *ctx, cim_plan *plan)
{
    if (!plan)
        return;
    for (int i = 0; i < plan->n_layers; i++)
        cim__free(ctx, plan->layers[i].centers);
    cim__free(ctx, plan->layers);
    cim__free(ctx, plan);
}

/* Load the calibration samples into g's input (batch = count). */
static cim_status load_calib(cim_ctx *ctx, nn_graph *g, const char *dataset, int calib, void **buf, int *count)
{
    nn_dataset *ds = NULL;
    cim_status st = nn_dataset_open(ctx, dataset, NULL, &ds);
    if (st != CIM_OK)
        return st;
    const nn_value *inv = &g->t[g->inputs[0]].v;
    nn_preproc pp;
    int64_t dims[NN_MAX_RANK];
    memcpy(dims, inv->dims, sizeof dims);
    dims[0] = -1;
    st = nn_preproc_init(ds, g->path, g->meta_key, g->meta_value, g->n_meta, inv->dtype, dims, inv->rank, &pp);
    if (st == CIM_OK) {
        int64_t avail = nn_dataset_count(ds);
        *count = avail < calib ? (int)avail : calib;
        if (*count < 1)
            st = cim__err(ctx, CIM_ERR_ARG, "%s: no samples to calibrate with", dataset);
    }
    if (st == CIM_OK && (st = nn_set_batch(g, *count)) == CIM_OK) {
        *buf = cim__malloc(ctx, (size_t)pp.sample_elems * nn_dtype_size(pp.dtype) * (size_t)*count);
        if (!*buf)
            st = CIM_ERR_NOMEM;
        else
            st = nn_dataset_fill(ds, &pp, 0, *count, *buf);
    }
    nn_dataset_close(ds);
    return st;
}

cim_status cim_compile(cim_ctx *ctx, cim_net *net, const cim_arch *arch, const char *dataset,
                       const cim_compile_options *opts, cim_plan **out)
{
    if (!ctx || !net || !arch || !dataset || !out)
        return cim__err(ctx, CIM_ERR_ARG, "cim_compile: NULL argument");
    *out = NULL;
    cim_compile_options o;
    if (opts)
        o = *opts;
    else
        cim_compile_options_default(&o);
    if (!(o.budget >= 0) || o.budget > 255)
        return cim__err(ctx, CIM_ERR_ARG, "error budget %g is outside 0..255", o.budget);
    if (o.calib < 1 || o.calib > 100000)
        return cim__err(ctx, CIM_ERR_ARG, "calibration samples %d is outside 1..100000", o.calib);
    const double t0 = now_s();

    nn_graph *g = NULL;
    recorder rec = {ctx, NULL, 0, 0, 0, -1};
    void *buf = NULL;
    nn_value *outs = NULL;
    cim_plan *plan = cim__calloc(ctx, 1, sizeof *plan);
    if (!plan)
        return CIM_ERR_NOMEM;
    /* one single-threaded context per worker: candidates run side by side
     * (threads inside each small layer run would mostly wait) */
    const int nw = cim_ctx_threads(ctx);
    cim_ctx **wctx = cim__calloc(ctx, (size_t)nw, sizeof *wctx);
    if (!wctx) {
        cim__free(ctx, plan);
        return CIM_ERR_NOMEM;
    }
    const char *path = net->ref->path;
    cim_status st = CIM_OK;
    for (int i = 0; i < nw && st == CIM_OK; i++) {
        cim_ctx_options co;
        cim_ctx_options_default(&co);
        co.threads = 1;
        co.kernel = cim_ctx_kernel_name(ctx);
        co.alloc = ctx->alloc;
        co.alloc_ud = ctx->alloc_ud;
        co.log = ctx->log;
        co.log_ud = ctx->log_ud;
        if ((st = cim_ctx_create(&co, &wctx[i])) != CIM_OK)
            cim__err(ctx, st, "cannot create a worker context");
    }
    if (st == CIM_OK)
        st = file_crc(ctx, path, &plan->model_crc);
    int count = 0;
    if (st == CIM_OK && (st = nn_onnx_load(ctx, path, &g)) == CIM_OK && (st = nn_graph_canonicalize(g)) == CIM_OK)
        st = load_calib(ctx, g, dataset, o.calib, &buf, &count);
    if (st == CIM_OK && !(outs = cim__calloc(ctx, (size_t)g->n_outputs, sizeof *outs)))
        st = CIM_ERR_NOMEM;
    if (st == CIM_OK) { /* the reference run, recording every product */
        g->mvm = record_mvm;
        g->mvm_ud = &rec;
        nn_value in = g->t[g->inputs[0]].v;
        in.data = buf;
        st = nn_graph_run(g, &in, outs);
        for (int i = 0; st == CIM_OK && i < g->n_outputs; i++)
            nn_value_free(ctx, &outs[i]);
    }
    snprintf(plan->model, sizeof plan->model, "%s", base_name(path));
    snprintf(plan->arch, sizeof plan->arch, "%s", arch->name);
    snprintf(plan->dataset, sizeof plan->dataset, "%s", dataset);
    plan->calib = count;
    plan->budget = o.budget;
    plan->noise_level = arch->base.noise.model != CIM_NOISE_NONE ? arch->base.noise.level : 0.0;

    int first = -1, last = -1, nl = 0;
    for (int k = 0; st == CIM_OK && k < g->nn; k++)
        if (nn_node_is_weight_layer(g, &g->nodes[k])) {
            if (first < 0)
                first = k;
            last = k;
            nl++;
        }
    if (st == CIM_OK && nl == 0)
        st = nn_err(g, NULL, CIM_ERR_ARG, "the model has no weight layers to compile");
    if (st == CIM_OK && !(plan->layers = cim__calloc(ctx, (size_t)nl, sizeof *plan->layers)))
        st = CIM_ERR_NOMEM;

    for (int k = 0; st == CIM_OK && k < g->nn; k++) {
        if (!nn_node_is_weight_layer(g, &g->nodes[k]))
            continue;
        const double tl = now_s();
        cim_plan_layer *pl = &plan->layers[plan->n_layers++];
        snprintf(pl->name, sizeof pl->name, "%s", g->nodes[k].name);
        pl->node = k;
        layer_job J;
        memset(&J, 0, sizeof J);
        J.ctx = ctx;
        J.wctx = wctx;
        J.nw = nw;
        J.g = g;
        J.rec = &rec;
        J.node = k;
        for (int i = 0; i < rec.n; i++)
            if (rec.p[i].node == k) {
                J.groups++;
                pl->K = rec.p[i].K;
                pl->N = rec.p[i].N;
            }
        pl->groups = J.groups;
        if (J.groups == 0) { /* e.g. a product the op computes without nn_mvm */
            st = nn_err(g, &g->nodes[k], CIM_ERR_INTERNAL, "no products were recorded for this layer");
            break;
        }
        const cim_xbar_config *lc = cim_arch_layer_config(arch, g->nodes[k].name, k == first, k == last);
        cim_xbar_config base;
        candidate_base(lc, &base);
        J.out = nn_layer_output(g, k, &J.zp, J.chain, &J.nchain);
        if (J.out >= 0) {
            const nn_value *v = &g->t[J.out].v;
            J.ybytes = (size_t)nn_value_count(v);
            if (!(J.yref = dup_bytes(ctx, v->data, J.ybytes))) {
                st = CIM_ERR_NOMEM;
                break;
            }
        }
        const int search_it = arch->adaptive_slicing && k != last && J.out >= 0;
        if (search_it) {
            pl->searched = 1;
            st = search(&J, &base, &o, pl);
        } else { /* measured with the arch's own slicing */
            pl->n_weight_slices = lc->n_weight_slices;
            memcpy(pl->weight_slices, lc->weight_slices, sizeof pl->weight_slices);
            if (J.out >= 0) {
                st = try_one(&J, &base, lc->weight_slices, lc->n_weight_slices, &pl->error);
                pl->tried = 1;
                pl->whole = 1;
            } else {
                pl->error = NAN; /* no 8-bit output to compare */
            }
            pl->within_budget = pl->error <= o.budget;
        }
        /* the chosen slicing's centers */
        if (st == CIM_OK && base.encoding == CIM_ENC_CENTER_OFFSET) {
            cim_xbar_config c = base;
            c.n_weight_slices = pl->n_weight_slices;
            memcpy(c.weight_slices, pl->weight_slices, sizeof c.weight_slices);
            int nc = (pl->K + c.rows - 1) / c.rows;
            pl->nchunks = nc;
            pl->centers = cim__calloc(ctx, (size_t)J.groups * (size_t)nc * (size_t)pl->N, sizeof *pl->centers);
            if (!pl->centers)
                st = CIM_ERR_NOMEM;
            /* programming alone gives them (no run) */
            if (st == CIM_OK && (st = run_groups(&J, wctx[0], &c, NULL, pl->centers, 0, 0, 1)) != CIM_OK)
                cim__err(ctx, st, "%s", cim_ctx_errmsg(wctx[0]));
        } else if (st == CIM_OK) {
            pl->nchunks = (pl->K + base.rows - 1) / base.rows;
        }
        if (st == CIM_OK && J.out >= 0)
            st = rerun_chain(&J, -1); /* restore the reference values */
        cim__free(ctx, J.yref);
        pl->seconds = now_s() - tl;
        if (st == CIM_OK && o.progress) {
            char sl[64] = "";
            for (int i = 0; i < pl->n_weight_slices; i++)
                snprintf(sl + strlen(sl), sizeof sl - strlen(sl), "%s%d", i ? "," : "", pl->weight_slices[i]);
            fprintf(stderr, "  [%d/%d] %-32s w[%s] error %.4f%s  %d tried (%d whole)  %.0f ms\n", plan->n_layers, nl,
                    pl->name, sl, pl->error, pl->searched ? "" : " (kept)", pl->tried, pl->whole, 1e3 * pl->seconds);
        }
    }
    plan->seconds = now_s() - t0;
    for (int i = 0; i < nw; i++)
        cim_ctx_destroy(wctx[i]);
    cim__free(ctx, wctx);
    recorder_free(&rec);
    cim__free(ctx, buf);
    cim__free(ctx, outs);
    nn_graph_free(g);
    if (st != CIM_OK) {
        cim_plan_free(ctx, plan);
        return st;
    }
    *out = plan;
    return CIM_OK;
}
