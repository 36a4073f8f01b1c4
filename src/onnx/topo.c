/* topo.c: the loader's tensor-name table and the topological sort of nodes.
 *
 * Models can have up to NN_ONNX_MAX_TENSORS names, so names are hashed
 * (open addressing, FNV-1a) rather than searched linearly. The sort is Kahn's
 * algorithm with a min-heap of ready nodes keyed by file position, so the
 * result is the smallest topological order: a file that is already sorted
 * keeps its order exactly. */
#include <string.h>
#include "onnx_internal.h"

static uint64_t hash_name(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

cim_status nn_onnx__names_init(cim_ctx *ctx, nn_onnx_names *m, size_t max_entries)
{
    size_t cap = 16;
    while (cap < 2 * max_entries)
        cap *= 2;
    m->mask = cap - 1;
    m->slot = cim__calloc(ctx, cap, sizeof *m->slot);
    return m->slot ? CIM_OK : CIM_ERR_NOMEM;
}

void nn_onnx__names_free(cim_ctx *ctx, nn_onnx_names *m)
{
    cim__free(ctx, m->slot);
    m->slot = NULL;
}

int nn_onnx__names_get(const nn_onnx_names *m, const nn_graph *g, const char *name)
{
    for (size_t i = hash_name(name) & m->mask;; i = (i + 1) & m->mask) {
        int s = m->slot[i];
        if (!s)
            return -1;
        if (strcmp(g->t[s - 1].name, name) == 0)
            return s - 1;
    }
}

void nn_onnx__names_put(nn_onnx_names *m, const nn_graph *g, int idx)
{
    size_t i = hash_name(g->t[idx].name) & m->mask;
    while (m->slot[i])
        i = (i + 1) & m->mask;
    m->slot[i] = idx + 1;
}

/* A binary min-heap of node indices. */
static void heap_push(int *h, int *n, int v)
{
    int i = (*n)++;
    while (i > 0 && h[(i - 1) / 2] > v) {
        h[i] = h[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h[i] = v;
}

static int heap_pop(int *h, int *n)
{
    int top = h[0], v = h[--*n], i = 0;
    for (;;) {
        int c = 2 * i + 1;
        if (c >= *n)
            break;
        if (c + 1 < *n && h[c + 1] < h[c])
            c++;
        if (h[c] >= v)
            break;
        h[i] = h[c];
        i = c;
    }
    if (*n > 0)
        h[i] = v;
    return top;
}

cim_status nn_onnx__toposort(nn_graph *g)
{
    cim_ctx *ctx = g->ctx;
    const int nn = g->nn, nt = g->nt;
    size_t edges = 0;
    for (int k = 0; k < nn; k++)
        edges += (size_t)g->nodes[k].n_in;
    int *indeg = cim__calloc(ctx, (size_t)nn + 1, sizeof *indeg);
    int *heap = cim__calloc(ctx, (size_t)nn + 1, sizeof *heap);
    int *pos = cim__calloc(ctx, (size_t)nn + 1, sizeof *pos);
    size_t *start = cim__calloc(ctx, (size_t)nt + 2, sizeof *start);
    int *cons = cim__calloc(ctx, edges + 1, sizeof *cons);
    nn_node *sorted = cim__calloc(ctx, (size_t)nn + 1, sizeof *sorted);
    cim_status st = CIM_OK;
    if (!indeg || !heap || !pos || !start || !cons || !sorted) {
        st = CIM_ERR_NOMEM;
        goto done;
    }
    /* consumers of each tensor (CSR), and each node's count of produced inputs */
    for (int k = 0; k < nn; k++)
        for (int i = 0; i < g->nodes[k].n_in; i++) {
            int t = g->nodes[k].in[i];
            if (t >= 0 && g->t[t].producer >= 0) {
                start[t + 1]++;
                indeg[k]++;
            }
        }
    for (int t = 0; t < nt; t++)
        start[t + 1] += start[t];
    for (int k = 0; k < nn; k++)
        for (int i = 0; i < g->nodes[k].n_in; i++) {
            int t = g->nodes[k].in[i];
            if (t >= 0 && g->t[t].producer >= 0)
                cons[start[t]++] = k;
        }
    for (int t = nt; t > 0; t--) /* undo the fill's shift */
        start[t] = start[t - 1];
    start[0] = 0;

    int nh = 0, done_n = 0;
    for (int k = 0; k < nn; k++) {
        pos[k] = -1;
        if (indeg[k] == 0)
            heap_push(heap, &nh, k);
    }
    while (nh > 0) {
        int k = heap_pop(heap, &nh);
        pos[k] = done_n++;
        for (int o = 0; o < g->nodes[k].n_out; o++) {
            int t = g->nodes[k].out[o];
            if (t < 0)
                continue;
            for (size_t e = start[t]; e < start[t + 1]; e++)
                if (--indeg[cons[e]] == 0)
                    heap_push(heap, &nh, cons[e]);
        }
    }
    if (done_n < nn) {
        /* Walk back from a blocked node through unsorted producers: after nn
         * steps the walk is inside a cycle. */
        int cur = 0;
        while (pos[cur] >= 0)
            cur++;
        for (int step = 0; step < nn; step++) {
            const nn_node *n = &g->nodes[cur];
            for (int i = 0; i < n->n_in; i++) {
                int t = n->in[i];
                if (t >= 0 && g->t[t].producer >= 0 && pos[g->t[t].producer] < 0) {
                    cur = g->t[t].producer;
                    break;
                }
            }
        }
        st = cim__err(ctx, CIM_ERR_FORMAT, "%s: graph has a cycle through node '%s' (%s)", g->path,
                      g->nodes[cur].name, g->nodes[cur].op_type);
        goto done;
    }
    for (int k = 0; k < nn; k++)
        sorted[pos[k]] = g->nodes[k];
    memcpy(g->nodes, sorted, (size_t)nn * sizeof *sorted);
    for (int t = 0; t < nt; t++)
        if (g->t[t].producer >= 0)
            g->t[t].producer = pos[g->t[t].producer];
done:
    cim__free(ctx, indeg);
    cim__free(ctx, heap);
    cim__free(ctx, pos);
    cim__free(ctx, start);
    cim__free(ctx, cons);
    cim__free(ctx, sorted);
    return st;
}
