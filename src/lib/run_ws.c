/* run_ws.c: the buffers of a run. They live in the context between runs (a
 * context is used by one thread at a time), so runs of many small batches
 * allocate nothing; they grow when a larger layer comes. */
#include <stdlib.h>
#include <string.h>
#include "run_internal.h"

static void free_worker(cim_ctx *ctx, worker *w)
{
    void *aligned[] = {w->S, w->St, w->Ab, w->At, w->R, w->Ra, w->acc32, w->rplane, w->z, w->qu};
    void *plain[] = {w->hist, w->frow, w->fpart, w->fs, w->fa, w->facc, w->facc32, w->fconst, w->frest, w->frest_abs, w->fvec,
                     w->fch, w->fz, w->mag, w->pulses, w->fail, w->ftot, w->dev, w->zp, w->fdev, w->fzp,
                     w->fds, w->fvar, w->fdt, w->fvt, w->fwhich, w->pscr, w->pks};
    for (size_t i = 0; i < sizeof aligned / sizeof aligned[0]; i++)
        cim__aligned_free(ctx, aligned[i]);
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
        cim__free(ctx, plain[i]);
}

void cim__run_ws_free(cim_ctx *ctx)
{
    cim_run_ws *ws = ctx->ws;
    if (!ws)
        return;
    if (ws->w)
        for (int t = 0; t < ws->nworkers; t++)
            free_worker(ctx, &ws->w[t]);
    cim__free(ctx, ws->w);
    cim__aligned_free(ctx, ws->planes);
    cim__free(ctx, ws->rs);
    cim__free(ctx, ws->insum);
    cim__free(ctx, ws->acc);
    cim__free(ctx, ws);
    ctx->ws = NULL;
}

/* The tile-sized buffers of one worker. */
static cim_status alloc_worker(cim_ctx *ctx, worker *w)
{
    const size_t nt = (size_t)TILE_M * TILE_N, tile = nt * sizeof(int32_t);
    w->S = cim__aligned_alloc(ctx, tile);
    w->St = cim__aligned_alloc(ctx, tile);
    w->Ab = cim__aligned_calloc(ctx, tile); /* read (not used) by the ADC stage with noise off */
    w->At = cim__aligned_alloc(ctx, tile);
    w->R = cim__aligned_alloc(ctx, tile);
    w->Ra = cim__aligned_alloc(ctx, tile);
    w->acc32 = cim__aligned_alloc(ctx, tile);
    w->fail = cim__malloc(ctx, nt * sizeof(uint16_t));
    w->z = cim__aligned_calloc(ctx, nt * sizeof(float)); /* 64-byte rows for the noise stage's stores */
    w->qu = cim__aligned_calloc(ctx, nt * sizeof(uint16_t));
    w->ftot = cim__calloc(ctx, TILE_TALL, sizeof(int64_t));
    w->hist = cim__calloc(ctx, CIM_HIST_TABLE, sizeof(uint32_t));
    /* a speculative slice has at most CIM_OPERAND_BITS recovery slices */
    w->frow = cim__malloc(ctx, nt * sizeof(uint32_t));
    w->fpart = cim__malloc(ctx, 2 * CIM_OPERAND_BITS * nt * sizeof(int32_t));
    w->fs = cim__malloc(ctx, CIM_OPERAND_BITS * nt * sizeof(int32_t));
    w->fa = cim__calloc(ctx, CIM_OPERAND_BITS * nt, sizeof(int32_t));
    w->facc = cim__malloc(ctx, nt * sizeof(int64_t));
    w->facc32 = cim__malloc(ctx, nt * sizeof(int32_t));
    w->fconst = cim__malloc(ctx, nt * sizeof(int64_t));
    w->frest = cim__malloc(ctx, nt * sizeof(int32_t));
    w->frest_abs = cim__calloc(ctx, nt, sizeof(int32_t));
    w->fvec = cim__malloc(ctx, nt * sizeof(uint64_t));
    w->fch = cim__malloc(ctx, nt * sizeof(uint32_t));
    w->fz = cim__calloc(ctx, CIM_OPERAND_BITS * nt, sizeof(float));
    if (!w->S || !w->St || !w->Ab || !w->At || !w->R || !w->Ra || !w->acc32 || !w->fail || !w->z || !w->qu || !w->ftot ||
        !w->hist || !w->frow || !w->fpart || !w->fs || !w->fa || !w->facc || !w->facc32 || !w->fconst || !w->frest || !w->frest_abs || !w->fvec ||
        !w->fch || !w->fz)
        return CIM_ERR_NOMEM;
    return CIM_OK;
}

/* Make *p hold at least `need` bytes (contents not kept). */
static int grow(cim_ctx *ctx, void **p, size_t *cap, size_t need, int aligned)
{
    if (*cap >= need && *p)
        return 0;
    if (aligned)
        cim__aligned_free(ctx, *p);
    else
        cim__free(ctx, *p);
    *p = aligned ? cim__aligned_alloc(ctx, need) : cim__malloc(ctx, need);
    *cap = *p ? need : 0;
    return *p ? 0 : -1;
}

cim_status cim__run_alloc(cim_ctx *ctx, run_state *R, int M)
{
    const cim_layer *L = R->L;
    /* planes are kept for the static or speculative slices only */
    size_t row = (size_t)L->kp_total * (size_t)L->nis;
    size_t ms = PLANE_BUDGET / (row ? row : 1);
    ms = ms / TILE_M * TILE_M;
    if (ms < TILE_M)
        ms = TILE_M;
    if (ms > 256)
        ms = 256;
    if (ms > (size_t)M)
        ms = (size_t)M;
    R->ms = (int)ms;
    R->plane_stride = ms * (size_t)L->kp_total;
    R->nworkers = ctx->threads;

    cim_run_ws *ws = ctx->ws;
    if (ws && ws->nworkers != R->nworkers) {
        cim__run_ws_free(ctx);
        ws = NULL;
    }
    if (!ws) {
        ws = cim__calloc(ctx, 1, sizeof *ws);
        if (!ws)
            return CIM_ERR_NOMEM;
        ctx->ws = ws;
        ws->nworkers = R->nworkers;
        ws->w = cim__calloc(ctx, (size_t)R->nworkers, sizeof(worker));
        if (!ws->w) {
            cim__run_ws_free(ctx);
            return CIM_ERR_NOMEM;
        }
        for (int t = 0; t < R->nworkers; t++)
            if (alloc_worker(ctx, &ws->w[t])) {
                cim__run_ws_free(ctx);
                return CIM_ERR_NOMEM;
            }
    }
    size_t rows = (size_t)L->cfg.rows;
    int bad = grow(ctx, (void **)&ws->planes, &ws->planes_cap, R->plane_stride * (size_t)L->nis, 1) ||
              grow(ctx, (void **)&ws->rs, &ws->rs_cap, (size_t)R->nplanes * ms * (size_t)L->nchunks * sizeof(int32_t), 0) ||
              grow(ctx, (void **)&ws->insum, &ws->insum_cap, ms * (size_t)L->nchunks * sizeof(int64_t), 0) ||
              grow(ctx, (void **)&ws->acc, &ws->acc_cap, ms * (size_t)L->N * sizeof(int64_t), 0);
    for (int t = 0; t < R->nworkers && !bad; t++) {
        size_t mcap = ws->mag_cap, pcap = ws->pulses_cap, rcap = ws->rplane_cap;
        bad = grow(ctx, (void **)&ws->w[t].mag, &mcap, (size_t)L->K, 0) ||
              grow(ctx, (void **)&ws->w[t].pulses, &pcap, rows * sizeof(uint16_t), 0) ||
              (L->nrec && grow(ctx, (void **)&ws->w[t].rplane, &rcap, TILE_M * cim__round_up(rows, 64), 1));
        if (t == R->nworkers - 1 && !bad) {
            ws->mag_cap = mcap;
            ws->pulses_cap = pcap;
            ws->rplane_cap = rcap;
        }
    }
    if (bad) { /* keep nothing half-grown */
        cim__run_ws_free(ctx);
        return CIM_ERR_NOMEM;
    }
    for (int t = 0; t < R->nworkers && R->phys && !bad; t++) { /* the physical models' buffers, once */
        worker *w = &ws->w[t];
        const size_t nt = (size_t)TILE_M * TILE_N;
        if (w->pscr_rows < (size_t)L->cfg.rows) {
            cim__free(ctx, w->pscr);
            cim__free(ctx, w->pks);
            w->pscr = cim__malloc(ctx, 8 * (size_t)L->cfg.rows * sizeof(float));
            w->pks = cim__malloc(ctx, (size_t)L->cfg.rows * sizeof(int));
            w->pscr_rows = w->pscr && w->pks ? (size_t)L->cfg.rows : 0;
            if (!w->pscr_rows) {
                bad = 1;
                break;
            }
        }
        if (w->dev)
            continue;
        w->dev = cim__calloc(ctx, nt, sizeof(float));
        w->zp = cim__calloc(ctx, nt, sizeof(float));
        w->fdev = cim__calloc(ctx, CIM_OPERAND_BITS * nt, sizeof(float));
        w->fzp = cim__calloc(ctx, CIM_OPERAND_BITS * nt, sizeof(float));
        w->fds = cim__calloc(ctx, CIM_OPERAND_BITS * nt, sizeof(float));
        w->fvar = cim__calloc(ctx, CIM_OPERAND_BITS * nt, sizeof(float));
        w->fdt = cim__calloc(ctx, CIM_OPERAND_BITS * nt, sizeof(float));
        w->fvt = cim__calloc(ctx, CIM_OPERAND_BITS * nt, sizeof(float));
        w->fwhich = cim__calloc(ctx, nt, sizeof(int));
        bad = !w->dev || !w->zp || !w->fdev || !w->fzp || !w->fds || !w->fvar || !w->fdt || !w->fvt || !w->fwhich;
    }
    if (bad) {
        cim__run_ws_free(ctx);
        return CIM_ERR_NOMEM;
    }
    R->planes = ws->planes;
    R->rs = ws->rs;
    R->insum = ws->insum;
    R->acc = ws->acc;
    R->w = ws->w;
    for (int t = 0; t < R->nworkers; t++) {
        memset(&R->w[t].st, 0, sizeof R->w[t].st);
        R->w[t].hist_pending = 0;
        R->w[t].bad = 0;
    }
    return CIM_OK;
}

