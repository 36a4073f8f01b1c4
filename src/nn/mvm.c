/* mvm.c: the digital integer product of weight layers (nn_mvm without an
 * analog executor), on the context's column-sum kernel (VNNI/AVX2/reference,
 * the same kernels the crossbar engine uses), threaded over rows.
 *
 *   sum_k (x - zx)(w - zw) = sum_k x w' - zx sum_k w' - zw' sum_k x + K zx zw'
 *
 * with w' = w as int8 (uint8 weights: w' = w - 128, zw' = zw - 128), so the
 * kernel only sees uint8 x int8 products. Sums wrap in int32 as ONNX's integer
 * ops do; the kernel's own sums are exact for K <= CIM_MAX_ROWS (kernel.h),
 * longer rows are cut into chunks of that many. Products with few terms per
 * row (a depthwise group) are summed directly instead (mvm_direct). */
#include <omp.h>
#include <string.h>
#include "nn.h"
#include "../lib/internal.h"

#define MVM_ROWS 128 /* rows of x per kernel call */

/* Pack w' (chunk k0..k0+kc) into the kernel's p16k4 layout. */
static void pack(const nn_mvm_args *a, int k0, int kc, int Kp, int8_t *Bp)
{
    const int N = a->N;
    const int sub = a->wtype == NN_UINT8 ? 128 : 0;
    for (int k = 0; k < kc; k++) {
        const uint8_t *wu = (const uint8_t *)a->w + (size_t)(k0 + k) * (size_t)N;
        const int8_t *ws = (const int8_t *)a->w + (size_t)(k0 + k) * (size_t)N;
        for (int n = 0; n < N; n++)
            Bp[cim_kernel_pack_offset(k, n, Kp)] = (int8_t)(sub ? (int)wu[n] - sub : ws[n]);
    }
}

/* Few products per row (a depthwise convolution: K = kh kw, N = the channel
 * multiplier): padded to the kernel's 64 x 16 block, most of a kernel call
 * would multiply zeros, so each row's N dot products of length K are summed
 * directly. The same formula and the same wrapping sums as the kernel path. */
static cim_status mvm_direct(const nn_graph *g, const nn_mvm_args *a)
{
    cim_ctx *ctx = g->ctx;
    const int M = a->M, K = a->K, N = a->N;
    const int sub = a->wtype == NN_UINT8 ? 128 : 0;
    int32_t *wt = cim__malloc(ctx, (size_t)K * (size_t)N * sizeof *wt); /* w' by channel: [N][K] */
    int64_t *colsum = cim__calloc(ctx, (size_t)N, sizeof *colsum);
    if (!wt || !colsum) {
        cim__free(ctx, wt);
        cim__free(ctx, colsum);
        return nn_err(g, a->node, CIM_ERR_NOMEM, "out of memory for a %dx%dx%d product", M, K, N);
    }
    for (int k = 0; k < K; k++)
        for (int n = 0; n < N; n++) {
            const size_t e = (size_t)k * (size_t)N + (size_t)n;
            const int32_t v = sub ? (int32_t)((const uint8_t *)a->w)[e] - sub : ((const int8_t *)a->w)[e];
            wt[(size_t)n * (size_t)K + (size_t)k] = v;
            colsum[n] += v;
        }
#pragma omp parallel for num_threads(ctx->threads) schedule(static)
    for (int m = 0; m < M; m++) {
        const uint8_t *x = a->x + (size_t)m * (size_t)K;
        int32_t *p = a->psum + (size_t)m * (size_t)N;
        int64_t rowsum = 0;
        for (int k = 0; k < K; k++)
            rowsum += x[k];
        for (int n = 0; n < N; n++) {
            const int32_t *w = wt + (size_t)n * (size_t)K;
            int64_t dot = 0;
            for (int k = 0; k < K; k++)
                dot += (int64_t)x[k] * w[k];
            int64_t zw = (a->zw ? a->zw[n] : 0) - sub;
            uint64_t corr = (uint64_t)(-(int64_t)a->zx * colsum[n]) + (uint64_t)(-zw * rowsum) +
                            (uint64_t)((int64_t)K * a->zx * zw);
            p[n] = (int32_t)(uint32_t)((uint64_t)dot + corr);
        }
    }
    cim__free(ctx, wt);
    cim__free(ctx, colsum);
    return CIM_OK;
}

cim_status nn_mvm_fast(const nn_graph *g, const nn_mvm_args *a)
{
    cim_ctx *ctx = g->ctx;
    const cim_kernel *kern = ctx->kernel;
    const int M = a->M, K = a->K, N = a->N;
    const int Np = (int)cim__round_up((size_t)N, CIM_KERNEL_NR);
    const int kchunk = CIM_MAX_ROWS;
    const int nchunks = (K + kchunk - 1) / kchunk;
    const int Kc = K < kchunk ? K : kchunk;
    const int Kp = (int)cim__round_up((size_t)Kc, 64);
    const int sub = a->wtype == NN_UINT8 ? 128 : 0;
    const int T = ctx->threads;
    /* direct sums where the padded block is over 16 times the products: a
     * rough ratio of the kernel's per-product cost (64 products per vpdpbusd)
     * to a scalar loop's, not tuned. In a profile of MobileNetV2's eval
     * (depthwise groups: 9 x 1 against 64 x 16) nn_mvm_fast and its kernel's
     * one-panel tile fell from 6.7% of the run to 2.7%, the direct sums
     * taking 3.8% */
    if ((size_t)K * (size_t)N * 16 < (size_t)nchunks * (size_t)Kp * (size_t)Np)
        return mvm_direct(g, a);
    int8_t *Bp = cim__aligned_calloc(ctx, (size_t)nchunks * (size_t)Kp * (size_t)Np);
    int64_t *colsum = cim__calloc(ctx, (size_t)N, sizeof *colsum);
    uint8_t *A = cim__aligned_alloc(ctx, (size_t)T * MVM_ROWS * (size_t)Kp);
    int32_t *C = cim__aligned_alloc(ctx, (size_t)T * MVM_ROWS * (size_t)Np * sizeof(int32_t));
    if (!Bp || !colsum || !A || !C) {
        cim__aligned_free(ctx, Bp);
        cim__free(ctx, colsum);
        cim__aligned_free(ctx, A);
        cim__aligned_free(ctx, C);
        return nn_err(g, a->node, CIM_ERR_NOMEM, "out of memory for a %dx%dx%d product", M, K, N);
    }
    for (int c = 0; c < nchunks; c++) {
        int k0 = c * kchunk, kc = K - k0 < kchunk ? K - k0 : kchunk;
        pack(a, k0, kc, Kp, Bp + (size_t)c * (size_t)Kp * (size_t)Np);
    }
    for (int k = 0; k < K; k++)
        for (int n = 0; n < N; n++)
            colsum[n] += a->wtype == NN_UINT8 ? (int)((const uint8_t *)a->w)[(size_t)k * N + n] - sub
                                              : ((const int8_t *)a->w)[(size_t)k * N + n];
    const int nblocks = (M + MVM_ROWS - 1) / MVM_ROWS;
#pragma omp parallel for num_threads(T) schedule(dynamic, 1)
    for (int b = 0; b < nblocks; b++) {
        const int t = omp_in_parallel() ? omp_get_thread_num() : 0;
        const int m0 = b * MVM_ROWS, mc = M - m0 < MVM_ROWS ? M - m0 : MVM_ROWS;
        uint8_t *At = A + (size_t)t * MVM_ROWS * (size_t)Kp;
        int32_t *Ct = C + (size_t)t * MVM_ROWS * (size_t)Np;
        int64_t rowsum[MVM_ROWS];
        for (int mm = 0; mm < mc; mm++)
            rowsum[mm] = 0;
        for (int mm = 0; mm < mc; mm++) {
            int32_t *p = a->psum + (size_t)(m0 + mm) * (size_t)N;
            for (int n = 0; n < N; n++)
                p[n] = 0;
        }
        for (int c = 0; c < nchunks; c++) {
            int k0 = c * kchunk, kc = K - k0 < kchunk ? K - k0 : kchunk;
            for (int mm = 0; mm < mc; mm++) {
                const uint8_t *x = a->x + (size_t)(m0 + mm) * (size_t)K + (size_t)k0;
                uint8_t *d = At + (size_t)mm * (size_t)Kp;
                memcpy(d, x, (size_t)kc);
                memset(d + kc, 0, (size_t)(Kp - kc));
                int64_t s = 0;
                for (int k = 0; k < kc; k++)
                    s += x[k];
                rowsum[mm] += s;
            }
            kern->gemm_u8s8(mc, Np, Kp, At, (size_t)Kp, Bp + (size_t)c * (size_t)Kp * (size_t)Np, Ct, (size_t)Np);
            for (int mm = 0; mm < mc; mm++) {
                int32_t *p = a->psum + (size_t)(m0 + mm) * (size_t)N;
                const int32_t *cr = Ct + (size_t)mm * (size_t)Np;
                for (int n = 0; n < N; n++)
                    p[n] = (int32_t)((uint32_t)p[n] + (uint32_t)cr[n]);
            }
        }
        /* - zx colsum(w') - zw' rowsum(x) + K zx zw', wrapping in 32 bits */
        for (int mm = 0; mm < mc; mm++) {
            int32_t *p = a->psum + (size_t)(m0 + mm) * (size_t)N;
            for (int n = 0; n < N; n++) {
                int64_t zw = (a->zw ? a->zw[n] : 0) - sub;
                uint64_t corr = (uint64_t)(-(int64_t)a->zx * colsum[n]) + (uint64_t)(-zw * rowsum[mm]) +
                                (uint64_t)((int64_t)K * a->zx * zw);
                p[n] = (int32_t)(uint32_t)((uint64_t)(uint32_t)p[n] + corr);
            }
        }
    }
    cim__aligned_free(ctx, Bp);
    cim__free(ctx, colsum);
    cim__aligned_free(ctx, A);
    cim__aligned_free(ctx, C);
    return CIM_OK;
}
