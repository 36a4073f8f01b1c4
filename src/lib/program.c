/* program.c: programming a layer: weight encodings (semantics.md section 3),
 * slicing, ISAAC's flip, centers, row chunks and the packed operands the
 * column-sum kernels read. */
#include <stdlib.h>
#include <string.h>
#include "adc.h"
#include "layer_internal.h"
#include "phys.h"
#include "qnoise.h"

#define CIM_MAX_DIM (1 << 26)

void cim_layer_free(cim_ctx *ctx, cim_layer *L)
{
    if (!L)
        return;
    cim__free(ctx, L->chunk_k0);
    cim__free(ctx, L->chunk_off);
    cim__free(ctx, L->chunk_kp);
    cim__free(ctx, L->bp_off);
    cim__free(ctx, L->bp_stride);
    cim__aligned_free(ctx, L->Bp);
    cim__aligned_free(ctx, L->Babs);
    cim__aligned_free(ctx, L->Bc);
    cim__aligned_free(ctx, L->Bcabs);
    cim__free(ctx, L->flip);
    cim__free(ctx, L->sum_pos);
    cim__free(ctx, L->sum_neg);
    cim__free(ctx, L->centers);
    cim__free(ctx, L->colconst);
    cim__free(ctx, L->rowlevel);
    cim__free(ctx, L->wprime);
    cim__phys_free(ctx, L->phys);
    cim__qtab_free(ctx, L->qtab);
    cim__free(ctx, L->qinr);
    cim__free(ctx, L);
}

void cim_layer_info_get(const cim_layer *L, cim_layer_info *info) { *info = L->info; }

const cim_xbar_config *cim_layer_config(const cim_layer *L) { return &L->cfg; }

const int16_t *cim_layer_centers(const cim_layer *L) { return L->centers; }

/* Slices of an 8-bit operand from widths listed most significant first. */
static void make_slices(const int *w, int n, cim_slice *out)
{
    int top = CIM_OPERAND_BITS;
    for (int i = 0; i < n; i++) {
        top -= w[i];
        out[i].lo = top;
        out[i].width = w[i];
    }
}

/* Dynamic input slicing: each speculative slice wider than recovery_bits is
 * re-run as recovery_bits-wide slices, most significant first; the last one
 * takes the remainder (e.g. 3 bits with 2-bit recovery: 2 then 1). */
static void make_recovery(cim_layer *L)
{
    L->nrec = 0;
    for (int j = 0; j < L->nis; j++) {
        L->rec_first[j] = L->nrec;
        L->rec_count[j] = 0;
        if (!L->cfg.speculation || L->is[j].width <= L->cfg.recovery_bits)
            continue;
        int hi = L->is[j].lo + L->is[j].width, idx = 0;
        while (hi > L->is[j].lo) {
            int w = hi - L->is[j].lo < L->cfg.recovery_bits ? hi - L->is[j].lo : L->cfg.recovery_bits;
            cim_recovery_slice *r = &L->rec[L->nrec++];
            r->spec = j;
            r->index = idx++;
            r->bits.lo = hi - w;
            r->bits.width = w;
            hi -= w;
        }
        L->rec_count[j] = L->nrec - L->rec_first[j];
    }
}

static cim_status check_weights(cim_ctx *ctx, const cim_weights *w)
{
    if (!w || !w->data)
        return cim__err(ctx, CIM_ERR_ARG, "weights: NULL data");
    if (w->dtype != CIM_INT8 && w->dtype != CIM_UINT8)
        return cim__err(ctx, CIM_ERR_ARG, "weights: dtype must be int8 or uint8");
    if (w->K < 1 || w->K > CIM_MAX_DIM || w->N < 1 || w->N > CIM_MAX_DIM)
        return cim__err(ctx, CIM_ERR_SHAPE, "weights: shape [%d, %d] is not in [1..%d, 1..%d]", w->K,
                        w->N, CIM_MAX_DIM, CIM_MAX_DIM);
    if (w->zero_point) {
        int lo = w->dtype == CIM_INT8 ? -128 : 0, hi = w->dtype == CIM_INT8 ? 127 : 255;
        for (int n = 0; n < w->N; n++)
            if (w->zero_point[n] < lo || w->zero_point[n] > hi)
                return cim__err(ctx, CIM_ERR_RANGE,
                                "weights: zero point %d of channel %d is outside the %s range", (int)w->zero_point[n],
                                n, w->dtype == CIM_INT8 ? "int8" : "uint8");
    }
    return CIM_OK;
}

static cim_status alloc_layer(cim_ctx *ctx, cim_layer *L, int noise)
{
    size_t per_part = 0, total;
    L->chunk_k0 = cim__calloc(ctx, (size_t)L->nchunks + 1, sizeof(int));
    L->chunk_off = cim__calloc(ctx, (size_t)L->nchunks, sizeof(int));
    L->chunk_kp = cim__calloc(ctx, (size_t)L->nchunks, sizeof(int));
    L->bp_off = cim__calloc(ctx, (size_t)L->nchunks, sizeof(size_t));
    L->bp_stride = cim__calloc(ctx, (size_t)L->nchunks, sizeof(size_t));
    if (!L->chunk_k0 || !L->chunk_off || !L->chunk_kp || !L->bp_off || !L->bp_stride)
        return CIM_ERR_NOMEM;
    size_t off = 0;
    for (int c = 0; c < L->nchunks; c++) {
        int k0 = c * L->cfg.rows, k1 = k0 + L->cfg.rows < L->K ? k0 + L->cfg.rows : L->K;
        L->chunk_k0[c] = k0;
        L->chunk_kp[c] = (int)cim__round_up((size_t)(k1 - k0), 64);
        L->chunk_off[c] = (int)per_part;
        per_part += (size_t)L->chunk_kp[c];
        if (cim__mul_size((size_t)L->chunk_kp[c], (size_t)L->Np, &L->bp_stride[c]))
            return cim__err(ctx, CIM_ERR_NOMEM, "weights: layer too large");
        L->bp_off[c] = off;
        size_t chunk_bytes;
        if (cim__mul_size(L->bp_stride[c], (size_t)L->nparts, &chunk_bytes) ||
            __builtin_add_overflow(off, chunk_bytes, &off))
            return cim__err(ctx, CIM_ERR_NOMEM, "weights: layer too large");
    }
    L->chunk_k0[L->nchunks] = L->K;
    L->kp_total = (int)per_part;
    total = off;
    L->Bp = cim__aligned_calloc(ctx, total);
    L->Bc = cim__aligned_calloc(ctx, total);
    if (!L->Bp || !L->Bc)
        return CIM_ERR_NOMEM;
    if (noise) {
        L->Babs = cim__aligned_calloc(ctx, total);
        L->Bcabs = cim__aligned_calloc(ctx, total);
        if (!L->Babs || !L->Bcabs)
            return CIM_ERR_NOMEM;
    }
    L->flip = cim__calloc(ctx, (size_t)L->nchunks * (size_t)L->nws, (size_t)L->N);
    L->sum_pos = cim__calloc(ctx, (size_t)L->nchunks * (size_t)L->nws, sizeof(int64_t));
    L->sum_neg = cim__calloc(ctx, (size_t)L->nchunks * (size_t)L->nws, sizeof(int64_t));
    L->colconst = cim__calloc(ctx, (size_t)L->N, sizeof(int64_t));
    L->rowlevel = cim__calloc(ctx, (size_t)L->K, sizeof(uint64_t));
    L->wprime = cim__calloc(ctx, (size_t)L->K * (size_t)L->N, sizeof(int16_t));
    if (!L->flip || !L->sum_pos || !L->sum_neg || !L->colconst || !L->rowlevel || !L->wprime)
        return CIM_ERR_NOMEM;
    if (L->cfg.encoding == CIM_ENC_CENTER_OFFSET) {
        L->centers = cim__calloc(ctx, (size_t)L->nchunks * (size_t)L->N, sizeof(int16_t));
        if (!L->centers)
            return CIM_ERR_NOMEM;
    }
    return CIM_OK;
}

/* Store one column's signed slice values v[kk] (|v| <= 255) and magnitudes
 * mag[kk], kk < rows, into the packed and column-major operands of chunk c,
 * slice i, column n. Local restrict pointers: through L's fields, every
 * int8 store could alias them, and the compiler reloaded them per byte. */
static void store_column(cim_layer *L, int c, int i, int n, int rows, const int16_t *restrict v,
                         const int16_t *restrict mag)
{
    const int kp = L->chunk_kp[c], p0 = L->part_first[i], two = L->part_count[i] == 2;
    const size_t col = (size_t)n * (size_t)kp, kpanel = cim_kernel_pack_offset(0, n, kp);
    for (int q = 0; q <= two; q++) {
        const size_t base = L->bp_off[c] + (size_t)(p0 + q) * L->bp_stride[c];
        int8_t *restrict bp = L->Bp + base, *restrict bc = L->Bc + base + col;
        int8_t *restrict ap = L->Babs ? L->Babs + base : NULL, *restrict ac = L->Babs ? L->Bcabs + base + col : NULL;
        for (int kk = 0; kk < rows; kk++) {
            /* an 8-bit slice is two parts: v = 16 hi + lo with hi, lo carrying v's sign */
            int x = v[kk], m = mag[kk];
            if (two) {
                const int sg = x < 0 ? -1 : 1, a = x < 0 ? -x : x;
                x = sg * (q == 0 ? a >> 4 : a & 15);
                m = q == 0 ? m >> 4 : m & 15;
            }
            const size_t pk = kpanel + (size_t)(kk >> 2) * 64 + (size_t)(kk & 3); /* cim_kernel_pack_offset */
            bp[pk] = (int8_t)x;
            bc[kk] = (int8_t)x;
            if (ap) {
                ap[pk] = (int8_t)m;
                ac[kk] = (int8_t)m;
            }
        }
    }
}

/* w' column-major ([N][K]: column n at wT + n K), by 64 x 64 blocks. The
 * per-column passes (centers, encoding) read it contiguously; reading w'
 * ([K][N]) down a column instead strode N entries per row, a cache line
 * per weight on wide layers (programming a 4608 x 512 layer took 130 ms). */
static int16_t *transpose_wprime(cim_ctx *ctx, const cim_layer *L)
{
    const size_t K = (size_t)L->K, N = (size_t)L->N;
    int16_t *wT = cim__malloc(ctx, K * N * sizeof *wT);
    if (!wT)
        return NULL;
    for (size_t k0 = 0; k0 < K; k0 += 64)
        for (size_t n0 = 0; n0 < N; n0 += 64) {
            const size_t k1 = k0 + 64 < K ? k0 + 64 : K, n1 = n0 + 64 < N ? n0 + 64 : N;
            for (size_t k = k0; k < k1; k++)
                for (size_t n = n0; n < n1; n++)
                    wT[n * K + k] = L->wprime[k * N + n];
        }
    return wT;
}

static cim_status compute_centers(cim_ctx *ctx, cim_layer *L, const cim_weights *w, const int16_t *wT,
                                  const int16_t *given)
{
    int n_total = L->nchunks * L->N;
    for (int idx = 0; idx < n_total; idx++) {
        int c = idx / L->N, n = idx % L->N;
        int zw = w->zero_point ? w->zero_point[n] : 0;
        int lo = (w->dtype == CIM_INT8 ? -128 : 0) - zw, hi = (w->dtype == CIM_INT8 ? 127 : 255) - zw;
        if (given) {
            int phi = given[idx];
            if (phi < lo || phi > hi)
                return cim__err(ctx, CIM_ERR_RANGE,
                                "centers[%d][%d] = %d is outside the weight code range %d..%d", c, n,
                                phi, lo, hi);
            L->centers[idx] = (int16_t)phi;
        }
    }
    if (given)
        return CIM_OK;
#pragma omp parallel for schedule(dynamic, 16) num_threads(ctx->threads)
    for (int idx = 0; idx < n_total; idx++) {
        int c = idx / L->N, n = idx % L->N;
        int zw = w->zero_point ? w->zero_point[n] : 0;
        int lo = (w->dtype == CIM_INT8 ? -128 : 0) - zw, hi = (w->dtype == CIM_INT8 ? 127 : 255) - zw;
        int k0 = L->chunk_k0[c], k1 = L->chunk_k0[c + 1];
        L->centers[idx] = (int16_t)cim_center_search(wT + (size_t)n * (size_t)L->K + (size_t)k0, k1 - k0, 1,
                                                     L->cfg.weight_slices, L->cfg.n_weight_slices, lo, hi);
    }
    return CIM_OK;
}

/* The bounds of column sums per (chunk, weight slice): with input slice values
 * at most a, every column sum lies in [-a sum_neg, a sum_pos]. */
static void slice_bounds(cim_layer *L)
{
    for (int c = 0; c < L->nchunks; c++) {
        size_t kp = (size_t)L->chunk_kp[c];
        for (int i = 0; i < L->nws; i++) {
            int64_t pmax = 0, nmax = 0;
            for (int n = 0; n < L->N; n++) {
                int64_t pos = 0, neg = 0;
                for (int p = 0; p < L->part_count[i]; p++) {
                    const int8_t *col = L->Bc + L->bp_off[c] + (size_t)(L->part_first[i] + p) * L->bp_stride[c] +
                                        (size_t)n * kp;
                    int64_t scale = L->part_count[i] == 2 && p == 0 ? 16 : 1;
                    /* branch-free in int32 (kp * 128 < 2^31), so it vectorizes: the
                     * branches on random signs cost more than the rest of programming */
                    int32_t ps = 0, ns = 0;
                    for (size_t k = 0; k < kp; k++) {
                        const int32_t x = col[k];
                        ps += x > 0 ? x : 0;
                        ns += x < 0 ? -x : 0;
                    }
                    pos += scale * ps;
                    neg += scale * ns;
                }
                pmax = pos > pmax ? pos : pmax;
                nmax = neg > nmax ? neg : nmax;
            }
            L->sum_pos[c * L->nws + i] = pmax;
            L->sum_neg[c * L->nws + i] = nmax;
        }
    }
}

/* gaussian_colsum drawn at the ADC's output (qnoise.h) where it applies:
 * drop_lsbs 0 and N+ + N- <= CIM_QNOISE_MAXNA for every static or speculative
 * slice, by the slice bounds (with input slice values at most a, N+ + N- of a
 * column is at most a (sum_pos + sum_neg)). */
static cim_status build_qtab(cim_ctx *ctx, cim_layer *L)
{
    const cim_xbar_config *c = &L->cfg;
    if (c->noise.model != CIM_NOISE_GAUSSIAN_COLSUM || !(c->noise.level > 0.0) || c->adc.bits == 0 ||
        c->adc.drop_lsbs != 0)
        return CIM_OK;
    int64_t namax = 0;
    for (int ch = 0; ch < L->nchunks; ch++)
        for (int i = 0; i < L->nws; i++)
            for (int j = 0; j < L->nis; j++) {
                int64_t a = ((int64_t)1 << L->is[j].width) - 1;
                int64_t b = a * (L->sum_pos[ch * L->nws + i] + L->sum_neg[ch * L->nws + i]);
                namax = b > namax ? b : namax;
            }
    if (namax > CIM_QNOISE_MAXNA)
        return CIM_OK;
    cim_status st = cim__qtab_build(ctx, c->noise.level, (int)namax, &L->qtab);
    if (st || !L->qtab)
        return st;
    /* which slice pairs' draws provably stay in the ADC's code range */
    cim_adc adc;
    cim__adc_init(&adc, c->adc.bits, c->adc.is_signed, c->adc.drop_lsbs, c->noise.level);
    L->qinr = cim__malloc(ctx, (size_t)L->nchunks * (size_t)L->nws * (size_t)L->nis);
    if (!L->qinr)
        return CIM_ERR_NOMEM;
    for (int ch = 0; ch < L->nchunks; ch++)
        for (int i = 0; i < L->nws; i++)
            for (int j = 0; j < L->nis; j++) {
                int64_t a = ((int64_t)1 << L->is[j].width) - 1;
                L->qinr[((size_t)ch * (size_t)L->nws + (size_t)i) * (size_t)L->nis + (size_t)j] =
                    (uint8_t)cim__qtab_in_range(L->qtab, a * L->sum_pos[ch * L->nws + i],
                                                a * L->sum_neg[ch * L->nws + i], adc.qmin, adc.qmax);
            }
    return CIM_OK;
}

/* Encode every column (chunk c, slice i, channel n) into cell levels. */
static cim_status encode(cim_ctx *ctx, cim_layer *L, const int16_t *wT)
{
    const cim_xbar_config *cfg = &L->cfg;
    uint64_t level_sum = 0, flipped = 0;
    int maxrows = 1;
    for (int c = 0; c < L->nchunks; c++)
        maxrows = L->chunk_k0[c + 1] - L->chunk_k0[c] > maxrows ? L->chunk_k0[c + 1] - L->chunk_k0[c] : maxrows;
    int16_t *vbuf = cim__malloc(ctx, 2 * (size_t)maxrows * sizeof *vbuf), *mbuf = vbuf + maxrows;
    uint64_t *restrict rowlevel = L->rowlevel;
    if (!vbuf)
        return CIM_ERR_NOMEM;
    cim_status st = CIM_OK;
    for (int c = 0; c < L->nchunks && st == CIM_OK; c++) {
        int k0 = L->chunk_k0[c], rows = L->chunk_k0[c + 1] - k0;
        for (int n = 0; n < L->N && st == CIM_OK; n++) {
            int phi = L->centers ? L->centers[(size_t)c * (size_t)L->N + (size_t)n] : 0;
            const int16_t *wcol = wT + (size_t)n * (size_t)L->K + (size_t)k0;
            for (int i = 0; i < L->nws; i++) {
                cim_slice s = L->ws[i];
                int smax = (1 << s.width) - 1, do_flip = 0;
                if (cfg->flip) {
                    /* ISAAC: complement a column whose levels sum to more than half its maximum */
                    int64_t sum = 0;
                    for (int kk = 0; kk < rows; kk++)
                        sum += cim__slice_val(wcol[kk] + 128, s);
                    do_flip = 2 * sum > (int64_t)rows * smax;
                    L->flip[((size_t)c * (size_t)L->nws + (size_t)i) * (size_t)L->N + (size_t)n] = (uint8_t)do_flip;
                    flipped += (uint64_t)do_flip;
                }
                /* branch-free loops that vectorize; an offset past 8 bits is
                 * found after the loop (then the layer is not programmed) */
                const int sh = s.lo, mk = smax;
                int bad = 0;
                uint32_t lsum = 0; /* rows * 255 < 2^32 */
                if (cfg->encoding == CIM_ENC_OFFSET) {
                    for (int kk = 0; kk < rows; kk++) {
                        const int v0 = ((wcol[kk] + 128) >> sh) & mk, v = do_flip ? mk - v0 : v0;
                        vbuf[kk] = (int16_t)v;
                        mbuf[kk] = (int16_t)v;
                    }
                } else {
                    for (int kk = 0; kk < rows; kk++) {
                        const int d = wcol[kk] - phi, a = d < 0 ? -d : d, m = (a >> sh) & mk;
                        bad |= a > 255;
                        vbuf[kk] = (int16_t)(d < 0 ? -m : m);
                        mbuf[kk] = (int16_t)m;
                    }
                }
                if (bad) {
                    int kk = 0;
                    while (wcol[kk] - phi <= 255 && wcol[kk] - phi >= -255)
                        kk++;
                    st = cim__err(ctx, CIM_ERR_RANGE,
                                  "weights: row %d channel %d: offset %d from center %d needs more than 8 bits",
                                  k0 + kk, n, wcol[kk] - phi, phi);
                    break;
                }
                for (int kk = 0; kk < rows; kk++) {
                    lsum += (uint32_t)mbuf[kk];
                    rowlevel[k0 + kk] += (uint64_t)mbuf[kk];
                }
                level_sum += lsum;
                if (st == CIM_OK)
                    store_column(L, c, i, n, rows, vbuf, mbuf);
            }
        }
    }
    cim__free(ctx, vbuf);
    L->info.cell_level_sum = level_sum;
    L->info.flipped_columns = flipped;
    return st;
}

cim_status cim_layer_program(cim_ctx *ctx, const cim_xbar_config *cfg, const cim_weights *w,
                             uint32_t layer_id, const int16_t *centers, cim_layer **out)
{
    if (!ctx || !out)
        return cim__err(ctx, CIM_ERR_ARG, "cim_layer_program: NULL argument");
    *out = NULL;
    cim_status st = cim_config_validate(ctx, cfg, "config");
    if (st)
        return st;
    if ((st = check_weights(ctx, w)))
        return st;
    cim_layer *L = cim__calloc(ctx, 1, sizeof *L);
    if (!L)
        return CIM_ERR_NOMEM;
    L->cfg = *cfg;
    L->in_enc = cim_config_input_encoding(cfg);
    L->layer_id = layer_id;
    L->K = w->K;
    L->N = w->N;
    L->Np = (int)cim__round_up((size_t)w->N, CIM_KERNEL_NR);
    L->nchunks = (w->K + cfg->rows - 1) / cfg->rows;
    L->nws = cfg->n_weight_slices;
    make_slices(cfg->weight_slices, L->nws, L->ws);
    L->nparts = 0;
    for (int i = 0; i < L->nws; i++) {
        L->part_first[i] = L->nparts;
        L->part_count[i] = L->ws[i].width == 8 ? 2 : 1;
        L->nparts += L->part_count[i];
    }
    L->nis = cfg->n_input_slices;
    make_slices(cfg->input_slices, L->nis, L->is);
    make_recovery(L);

    /* |v| operands for N+ + N- (noise); offset levels are never negative, so
     * there N+ + N- is the column sum itself */
    if ((st = alloc_layer(ctx, L, cfg->noise.model != CIM_NOISE_NONE && cfg->encoding != CIM_ENC_OFFSET)))
        goto fail;

    /* w' = w - zw, and range checks for offset encoding */
    for (int k = 0; k < L->K; k++)
        for (int n = 0; n < L->N; n++) {
            size_t idx = (size_t)k * (size_t)L->N + (size_t)n;
            int code = w->dtype == CIM_INT8 ? ((const int8_t *)w->data)[idx] : ((const uint8_t *)w->data)[idx];
            int wp = code - (w->zero_point ? w->zero_point[n] : 0);
            if (cfg->encoding == CIM_ENC_OFFSET && (wp < -128 || wp > 127)) {
                st = cim__err(ctx, CIM_ERR_RANGE,
                              "weights: row %d channel %d: w - zw = %d cannot be stored by offset "
                              "encoding (needs -128..127)",
                              k, n, wp);
                goto fail;
            }
            L->wprime[idx] = (int16_t)wp;
        }
    if (L->in_enc == CIM_IN_UNSIGNED && cfg->zx != 0)
        for (int k = 0; k < L->K; k++)
            for (int n = 0; n < L->N; n++)
                L->colconst[n] -= (int64_t)cfg->zx * L->wprime[(size_t)k * (size_t)L->N + (size_t)n];
    int16_t *wT = transpose_wprime(ctx, L);
    if (!wT) {
        st = CIM_ERR_NOMEM;
        goto fail;
    }
    if (L->centers)
        st = compute_centers(ctx, L, w, wT, centers);
    if (st == CIM_OK)
        st = encode(ctx, L, wT);
    cim__free(ctx, wT);
    if (st)
        goto fail;
    slice_bounds(L);
    if ((st = build_qtab(ctx, L)))
        goto fail;
    /* the physical models' static arrays (phys.h), drawn once per programmed layer */
    if (cim_analog_active(&cfg->analog) && (st = cim__phys_build(ctx, L)))
        goto fail;

    int fpc = cfg->cols / L->nws;
    L->xbars_per_chunk = (L->N + fpc - 1) / fpc;
    cim_layer_info *in = &L->info;
    in->K = L->K;
    in->N = L->N;
    in->chunks = L->nchunks;
    in->filters_per_crossbar = fpc;
    in->crossbars = (uint64_t)L->nchunks * (uint64_t)L->xbars_per_chunk;
    in->cells = (uint64_t)L->K * (uint64_t)L->N * (uint64_t)L->nws;
    in->devices = in->cells * (cfg->encoding == CIM_ENC_OFFSET ? 1u : 2u);
    in->rows_used = (uint64_t)L->xbars_per_chunk * (uint64_t)L->K;
    in->cols_used = (uint64_t)L->nchunks * (uint64_t)L->N * (uint64_t)L->nws;
    in->utilization = (double)in->cells / ((double)in->crossbars * cfg->rows * cfg->cols);
    *out = L;
    return CIM_OK;
fail:
    cim_layer_free(ctx, L);
    return st;
}
