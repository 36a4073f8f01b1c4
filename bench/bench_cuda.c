/* bench_cuda.c: the CUDA column-sum kernel (src/kernels/cuda.h), checked and
 * timed on the GPU, in one run (issue 7's GPU row). Needs a CUDA GPU of compute
 * capability 8.0 or later; exits 2 with the reason where there is none.
 *
 * 1. Exactness. The contract calls of cim_kernel_cuda (host pointers) against
 *    the reference kernel on random and edge shapes (M 1..300, Np 16..528, Kp
 *    4..2048 and the deepest the contract allows, padded lda, ldc > Np, extreme
 *    values), gather_dots and dot_u8s8 likewise; every timed product below is
 *    also compared with cuBLAS's int8 GEMM and with the best CPU kernel. Any
 *    difference: exit 1.
 * 2. A layer's column sums on the GPU. For each preset and M, every (input
 *    slice x weight slice) product of the 512x512 layer (tools/synth_layer.h,
 *    seed 1, as bench_mvm) as one GEMM on operands already in GPU memory: rows =
 *    M x input slices, columns = 512 x weight slices, depth 512. Reported: the
 *    median kernel time (CUDA events), logical 8-bit GMAC/s (M*512*512 / time),
 *    slice GMAC/s, cuBLAS's int8 GEMM (cublasGemmEx, s8 x s8 -> s32) on the
 *    logical M x 512 x 512 shape and the slice efficiency against it (slice
 *    products x cuBLAS time / ours, issue 7's measure with the GPU's own int8
 *    GEMM as the bound), cuBLAS on the same stacked shape (ours / cuBLAS), and
 *    the best CPU kernel on this machine's CPU on the same product (1 thread
 *    and all threads).
 * 3. Contract calls from the engine: one 32 x 128 x 512 tile (the engine's
 *    TILE_M x TILE_N) and one 4096 x 512 x 512 call through cim_kernel_cuda
 *    (upload, kernel, download, synchronize) against the CPU kernel.
 *
 * usage: bench_cuda [--reps R] [--m M[,M...]] [--presets a,b,...] [--md FILE] [--tsv FILE] */
#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cimsim/cimsim.h"
#include "kernels/cuda.h"
#include "kernels/kernel.h"
#include "synth_layer.h"
#include "bench_util.h"

enum { K = 512, N = 512, MAXM = 4, MAXP = 4, MAXREPS = 1000 };

#define CK(call)                                                                                              \
    do {                                                                                                      \
        cudaError_t e_ = (call);                                                                              \
        if (e_ != cudaSuccess) {                                                                              \
            fprintf(stderr, "bench_cuda: %s: %s (line %d)\n", #call, cudaGetErrorString(e_), __LINE__);       \
            exit(1);                                                                                          \
        }                                                                                                     \
    } while (0)
#define CB(call)                                                                                              \
    do {                                                                                                      \
        cublasStatus_t s_ = (call);                                                                           \
        if (s_ != CUBLAS_STATUS_SUCCESS) {                                                                    \
            fprintf(stderr, "bench_cuda: %s: cuBLAS status %d (line %d)\n", #call, (int)s_, __LINE__);        \
            exit(1);                                                                                          \
        }                                                                                                     \
    } while (0)

static void *xmalloc(size_t n)
{
    void *p = aligned_alloc(64, (n + 63) / 64 * 64);
    if (!p) {
        fprintf(stderr, "bench_cuda: out of memory (%zu bytes)\n", n);
        exit(1);
    }
    return p;
}

static uint64_t rng_state = 12345;
static int rnd(int lo, int hi) { return lo + (int)(synth_next(&rng_state) % (uint64_t)(hi - lo + 1)); }

/* Pack row-major Kp x Np int8 into p16k4 (kernel.h). */
static void pack(const int8_t *Bu, int Kp, int Np, int8_t *Bp)
{
    for (int k = 0; k < Kp; k++)
        for (int n = 0; n < Np; n++)
            Bp[cim_kernel_pack_offset(k, n, Kp)] = Bu[(size_t)k * Np + n];
}

/* The best CPU kernel this machine runs (not cuda). */
static const cim_kernel *cpu_kernel(void)
{
    for (const cim_kernel *const *k = cim_kernel_list(); *k; k++)
        if (strcmp((*k)->name, "cuda") != 0 && (*k)->supported())
            return *k;
    return &cim_kernel_ref;
}

/* The CPU kernel over rows split among threads (each call independent). */
static void cpu_gemm(const cim_kernel *kern, int threads, int M, int Np, int Kp, const uint8_t *A, size_t lda,
                     const int8_t *Bp, int32_t *C, size_t ldc)
{
    int blocks = (M + 63) / 64;
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int b = 0; b < blocks; b++) {
        int m0 = b * 64, mc = M - m0 < 64 ? M - m0 : 64;
        kern->gemm_u8s8(mc, Np, Kp, A + (size_t)m0 * lda, lda, Bp, C + (size_t)m0 * ldc, ldc);
    }
}

/* ---- 1. exactness of the contract calls ---- */

static int check_gemm_shape(int M, int Np, int Kp, int extreme)
{
    size_t lda = ((size_t)Kp + 63) / 64 * 64 + (size_t)(rnd(0, 1) * 64), ldc = (size_t)Np + (size_t)rnd(0, 5);
    uint8_t *A = xmalloc((size_t)M * lda);
    int8_t *Bu = xmalloc((size_t)Kp * Np), *Bp = xmalloc((size_t)Kp * Np);
    int32_t *C1 = xmalloc(sizeof(int32_t) * (size_t)M * ldc), *C2 = xmalloc(sizeof(int32_t) * (size_t)M * ldc);
    memset(A, 0, (size_t)M * lda);
    for (int m = 0; m < M; m++)
        for (int k = 0; k < Kp; k++)
            A[(size_t)m * lda + k] = (uint8_t)(extreme ? (rnd(0, 3) ? 255 : rnd(0, 255)) : rnd(0, 255));
    for (size_t i = 0; i < (size_t)Kp * Np; i++)
        Bu[i] = (int8_t)(extreme ? (rnd(0, 3) ? (rnd(0, 1) ? -128 : 127) : rnd(-128, 127)) : rnd(-128, 127));
    pack(Bu, Kp, Np, Bp);
    for (size_t i = 0; i < (size_t)M * ldc; i++)
        C1[i] = C2[i] = 0x5a5a5a5a; /* untouched between rows: the padding must stay */
    cim_kernel_ref.gemm_u8s8(M, Np, Kp, A, lda, Bp, C1, ldc);
    cim_kernel_cuda.gemm_u8s8(M, Np, Kp, A, lda, Bp, C2, ldc);
    int bad = memcmp(C1, C2, sizeof(int32_t) * (size_t)M * ldc) != 0;
    if (bad)
        fprintf(stderr, "bench_cuda: cuda gemm_u8s8 differs from ref at M=%d Np=%d Kp=%d\n", M, Np, Kp);
    free(A), free(Bu), free(Bp), free(C1), free(C2);
    return bad;
}

static int check_gather(int Kp64, int nplanes, int abits, int count, int two)
{
    int rows = 40, cols = 70;
    size_t lda = (size_t)Kp64 + 64, ldb = (size_t)Kp64;
    uint8_t *A = xmalloc((size_t)rows * lda), shift[8], mask[8];
    int8_t *B = xmalloc((size_t)cols * ldb), *B2 = xmalloc((size_t)cols * ldb);
    uint32_t *row = xmalloc(sizeof(uint32_t) * (size_t)count), *col = xmalloc(sizeof(uint32_t) * (size_t)count);
    size_t no = (size_t)nplanes * (size_t)count;
    int32_t *o1 = xmalloc(sizeof(int32_t) * no * 2), *o2 = xmalloc(sizeof(int32_t) * no * 2);
    for (size_t i = 0; i < (size_t)rows * lda; i++)
        A[i] = (uint8_t)rnd(0, (1 << abits) - 1);
    for (size_t i = 0; i < (size_t)cols * ldb; i++)
        B[i] = (int8_t)rnd(-128, 127), B2[i] = (int8_t)rnd(0, 127);
    for (int p = 0; p < nplanes; p++) {
        shift[p] = (uint8_t)rnd(0, abits - 1);
        mask[p] = (uint8_t)((1u << rnd(1, abits - shift[p])) - 1);
    }
    for (int f = 0; f < count; f++)
        row[f] = (uint32_t)rnd(0, rows - 1), col[f] = (uint32_t)rnd(0, cols - 1);
    cim_kernel_ref.gather_dots(Kp64, nplanes, A, lda, abits, shift, mask, B, two ? B2 : NULL, ldb, count, row, col,
                               o1, o1 + no);
    cim_kernel_cuda.gather_dots(Kp64, nplanes, A, lda, abits, shift, mask, B, two ? B2 : NULL, ldb, count, row, col,
                                o2, o2 + no);
    int bad = memcmp(o1, o2, sizeof(int32_t) * no * (two ? 2 : 1)) != 0;
    int32_t d1 = cim_kernel_ref.dot_u8s8(Kp64, A, B), d2 = cim_kernel_cuda.dot_u8s8(Kp64, A, B);
    bad |= d1 != d2;
    if (bad)
        fprintf(stderr, "bench_cuda: cuda gather_dots/dot differs from ref at Kp64=%d planes=%d count=%d\n", Kp64,
                nplanes, count);
    free(A), free(B), free(B2), free(row), free(col), free(o1), free(o2);
    return bad;
}

static int check_contract(void)
{
    const int kp_max = (int)((2147483647 / (255 * 128)) / 4 * 4);
    int bad = 0, n = 0;
    static const int Ms[] = {1, 2, 15, 16, 17, 33, 127, 128, 129, 300};
    static const int Nps[] = {16, 32, 112, 128, 144, 256, 528};
    static const int Kps[] = {4, 8, 60, 64, 68, 124, 512, 516, 1028, 2048};
    for (int i = 0; i < 10; i++)
        for (int j = 0; j < 7; j++, n++)
            bad += check_gemm_shape(Ms[i], Nps[j], Kps[(i + 3 * j) % 10], 0);
    bad += check_gemm_shape(65, 48, kp_max, 1), n++;
    bad += check_gemm_shape(200, 144, 512, 1), n++;
    for (int t = 0; t < 12; t++, n++)
        bad += check_gather(64 * rnd(1, 9), rnd(1, 8), rnd(1, 8), rnd(1, 300), t & 1);
    printf("exactness: %d contract calls of cuda against ref (gemm_u8s8 on %d shapes, gather_dots and dot): %s\n",
           n, 72, bad ? "DIFFERENT" : "bit-identical");
    return bad;
}

/* ---- 2. a layer's slice products on the GPU ---- */

typedef struct {
    const char *preset;
    int M, pin, pw;
    double ms, cublas_ms, cublas_stack_ms, cpu1_ms, cpun_ms;
    uint64_t sum;
} row_t;

static double time_events(int reps, void (*fn)(void *), void *arg)
{
    cudaEvent_t a, b;
    double t[MAXREPS];
    CK(cudaEventCreate(&a));
    CK(cudaEventCreate(&b));
    for (int i = 0; i < 3; i++)
        fn(arg);
    CK(cudaDeviceSynchronize());
    for (int r = 0; r < reps; r++) {
        float ms;
        CK(cudaEventRecord(a, cudaStreamPerThread));
        fn(arg);
        CK(cudaEventRecord(b, cudaStreamPerThread));
        CK(cudaEventSynchronize(b));
        CK(cudaEventElapsedTime(&ms, a, b));
        t[r] = ms;
    }
    CK(cudaEventDestroy(a));
    CK(cudaEventDestroy(b));
    return bench_median(t, reps);
}

typedef struct {
    int M, Np, Kp;
    const uint8_t *A;
    const int8_t *B; /* ours: p16k4; cuBLAS: column-major Kp x Np */
    int32_t *C;
    cublasHandle_t h;
} gemm_arg;

static void run_ours(void *p)
{
    gemm_arg *g = p;
    int e = cim_cuda_gemm_u8s8_dev(g->M, g->Np, g->Kp, g->A, (size_t)g->Kp, g->B, g->C, (size_t)g->Np, NULL);
    if (e) {
        fprintf(stderr, "bench_cuda: cim_cuda_gemm_u8s8_dev: error %d\n", e);
        exit(1);
    }
}

/* C (row-major M x Np) = A (row-major M x Kp) B: column-major C^T = B^T A^T,
 * "TN" for cuBLAS, s8 x s8 -> s32. */
static void run_cublas(void *p)
{
    gemm_arg *g = p;
    const int32_t one = 1, zero = 0;
    CB(cublasGemmEx(g->h, CUBLAS_OP_T, CUBLAS_OP_N, g->Np, g->M, g->Kp, &one, g->B, CUDA_R_8I, g->Kp, g->A,
                    CUDA_R_8I, g->Kp, &zero, g->C, CUDA_R_32I, g->Np, CUBLAS_COMPUTE_32I, CUBLAS_GEMM_DEFAULT));
}

static int layer_row(cim_ctx *ctx, cublasHandle_t h, const char *preset, int M, int reps, const int8_t *W,
                     const uint8_t *X, row_t *out)
{
    cim_xbar_config c;
    if (cim_config_load(ctx, preset, &c)) {
        fprintf(stderr, "bench_cuda: %s\n", cim_ctx_errmsg(ctx));
        return -1;
    }
    const int pin = c.n_input_slices, pw = c.n_weight_slices, rows = M * pin, cols = N * pw;
    /* A: input slice s of vector m in row s * M + m; B: weight slice t of
     * column n in column t * N + n, as the unsigned field of w + 128 (the
     * offset code's levels; values do not change the tensor cores' time) */
    uint8_t *A = xmalloc((size_t)rows * K);
    int8_t *Bu = xmalloc((size_t)K * cols), *Bp = xmalloc((size_t)K * cols), *Bc = xmalloc((size_t)K * cols);
    int32_t *C1 = xmalloc(sizeof(int32_t) * (size_t)rows * cols), *C2 = xmalloc(sizeof(int32_t) * (size_t)rows * cols);
    for (int s = 0, lo = 8; s < pin; s++) {
        lo -= c.input_slices[s];
        for (int m = 0; m < M; m++)
            for (int k = 0; k < K; k++)
                A[((size_t)s * M + m) * K + k] = (uint8_t)((X[(size_t)m * K + k] >> lo) & ((1 << c.input_slices[s]) - 1));
    }
    for (int t = 0, lo = 8; t < pw; t++) {
        lo -= c.weight_slices[t];
        for (int k = 0; k < K; k++)
            for (int n = 0; n < N; n++) {
                int8_t v = (int8_t)(((W[(size_t)k * N + n] + 128) >> lo) & ((1 << c.weight_slices[t]) - 1));
                Bu[(size_t)k * cols + (size_t)t * N + n] = v;
                Bc[((size_t)t * N + n) * K + k] = v;
            }
    }
    pack(Bu, K, cols, Bp);
    uint8_t *dA, *dX;
    int8_t *dBp, *dBc, *dW;
    int32_t *dC;
    CK(cudaMalloc((void **)&dA, (size_t)rows * K));
    CK(cudaMalloc((void **)&dX, (size_t)M * K));
    CK(cudaMalloc((void **)&dBp, (size_t)K * cols));
    CK(cudaMalloc((void **)&dBc, (size_t)K * cols));
    CK(cudaMalloc((void **)&dW, (size_t)K * N));
    CK(cudaMalloc((void **)&dC, sizeof(int32_t) * (size_t)rows * cols));
    CK(cudaMemcpy(dA, A, (size_t)rows * K, cudaMemcpyHostToDevice));
    CK(cudaMemcpy(dBp, Bp, (size_t)K * cols, cudaMemcpyHostToDevice));
    CK(cudaMemcpy(dBc, Bc, (size_t)K * cols, cudaMemcpyHostToDevice));
    /* the logical layer for cuBLAS's time (values < 128: s8) */
    CK(cudaMemcpy(dX, A, (size_t)M * K, cudaMemcpyHostToDevice));
    CK(cudaMemcpy(dW, Bc, (size_t)K * N, cudaMemcpyHostToDevice));

    gemm_arg ours = {rows, cols, K, dA, dBp, dC, h}, ref = {rows, cols, K, dA, dBc, dC, h};
    gemm_arg logical = {M, N, K, dX, dW, dC, h};
    int bad = 0;
    /* every product checked: ours against cuBLAS and against the CPU kernel */
    CK(cudaMemset(dC, 0x5a, sizeof(int32_t) * (size_t)rows * cols));
    run_ours(&ours);
    CK(cudaStreamSynchronize(cudaStreamPerThread));
    CK(cudaMemcpy(C1, dC, sizeof(int32_t) * (size_t)rows * cols, cudaMemcpyDeviceToHost));
    CK(cudaMemset(dC, 0xa5, sizeof(int32_t) * (size_t)rows * cols));
    run_cublas(&ref);
    CK(cudaDeviceSynchronize());
    CK(cudaMemcpy(C2, dC, sizeof(int32_t) * (size_t)rows * cols, cudaMemcpyDeviceToHost));
    bad |= memcmp(C1, C2, sizeof(int32_t) * (size_t)rows * cols) != 0;
    const cim_kernel *kern = cpu_kernel();
    int nthr = omp_get_max_threads();
    double t1[MAXREPS], tn[MAXREPS];
    int creps = reps < 5 ? reps : 5;
    for (int r = 0; r < creps; r++) {
        double t0 = bench_now();
        cpu_gemm(kern, 1, rows, cols, K, A, K, Bp, C2, (size_t)cols);
        t1[r] = bench_now() - t0;
        t0 = bench_now();
        cpu_gemm(kern, nthr, rows, cols, K, A, K, Bp, C2, (size_t)cols);
        tn[r] = bench_now() - t0;
    }
    bad |= memcmp(C1, C2, sizeof(int32_t) * (size_t)rows * cols) != 0;
    if (bad)
        fprintf(stderr, "bench_cuda: %s M=%d: the GPU's column sums differ from cuBLAS's or the CPU kernel's\n",
                preset, M);
    out->preset = preset;
    out->M = M;
    out->pin = pin;
    out->pw = pw;
    out->sum = bench_fnv1a(C1, sizeof(int32_t) * (size_t)rows * cols);
    out->ms = time_events(reps, run_ours, &ours);
    out->cublas_stack_ms = time_events(reps, run_cublas, &ref);
    out->cublas_ms = time_events(reps, run_cublas, &logical);
    out->cpu1_ms = 1e3 * bench_median(t1, creps);
    out->cpun_ms = 1e3 * bench_median(tn, creps);
    CK(cudaFree(dA));
    CK(cudaFree(dX));
    CK(cudaFree(dBp));
    CK(cudaFree(dBc));
    CK(cudaFree(dW));
    CK(cudaFree(dC));
    free(A), free(Bu), free(Bp), free(Bc), free(C1), free(C2);
    return bad;
}

/* ---- 3. contract calls as the engine makes them ---- */

static void contract_row(int M, int Np, int reps, double *cuda_us, double *cpu_us, int *bad)
{
    const int Kp = K;
    uint8_t *A = xmalloc((size_t)M * Kp);
    int8_t *Bp = xmalloc((size_t)Kp * Np);
    int32_t *C1 = xmalloc(sizeof(int32_t) * (size_t)M * Np), *C2 = xmalloc(sizeof(int32_t) * (size_t)M * Np);
    for (size_t i = 0; i < (size_t)M * Kp; i++)
        A[i] = (uint8_t)rnd(0, 3);
    for (size_t i = 0; i < (size_t)Kp * Np; i++)
        Bp[i] = (int8_t)rnd(0, 3);
    const cim_kernel *kern = cpu_kernel();
    double tc[MAXREPS], tk[MAXREPS];
    cim_kernel_cuda.gemm_u8s8(M, Np, Kp, A, Kp, Bp, C1, (size_t)Np); /* warm-up */
    for (int r = 0; r < reps; r++) {
        double t0 = bench_now();
        cim_kernel_cuda.gemm_u8s8(M, Np, Kp, A, Kp, Bp, C1, (size_t)Np);
        tc[r] = bench_now() - t0;
        t0 = bench_now();
        kern->gemm_u8s8(M, Np, Kp, A, Kp, Bp, C2, (size_t)Np);
        tk[r] = bench_now() - t0;
    }
    *bad |= memcmp(C1, C2, sizeof(int32_t) * (size_t)M * Np) != 0;
    *cuda_us = 1e6 * bench_median(tc, reps);
    *cpu_us = 1e6 * bench_median(tk, reps);
    free(A), free(Bp), free(C1), free(C2);
}

static int split(const char *s, char out[][32], int max)
{
    int n = 0;
    while (*s && n < max) {
        size_t l = strcspn(s, ",");
        if (l == 0 || l >= 32)
            return -1;
        memcpy(out[n], s, l);
        out[n++][l] = 0;
        s += l + (s[l] == ',');
    }
    return n;
}

int main(int argc, char **argv)
{
    int reps = 50, nm = 0, Ms[MAXM];
    const char *md = NULL, *tsv = NULL, *mlist = "256,4096", *plist = "isaac,raella";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--reps") && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--m") && i + 1 < argc)
            mlist = argv[++i];
        else if (!strcmp(argv[i], "--presets") && i + 1 < argc)
            plist = argv[++i];
        else if (!strcmp(argv[i], "--md") && i + 1 < argc)
            md = argv[++i];
        else if (!strcmp(argv[i], "--tsv") && i + 1 < argc)
            tsv = argv[++i];
        else {
            fprintf(stderr, "usage: %s [--reps R] [--m M[,M...]] [--presets a,b,...] [--md FILE] [--tsv FILE]\n",
                    argv[0]);
            return 2;
        }
    }
    char mtxt[MAXM][32], presets[MAXP][32];
    int np = split(plist, presets, MAXP), nmt = split(mlist, mtxt, MAXM);
    for (int i = 0; i < nmt; i++) {
        Ms[nm] = atoi(mtxt[i]);
        if (Ms[nm] < 1 || Ms[nm] > 65536) {
            fprintf(stderr, "bench_cuda: --m %s: each M must be 1..65536\n", mtxt[i]);
            return 2;
        }
        nm++;
    }
    if (reps < 1 || reps > MAXREPS || np < 1 || nmt < 1) {
        fprintf(stderr, "bench_cuda: --reps must be 1..%d, --m and --presets non-empty lists\n", MAXREPS);
        return 2;
    }
    char gpu[256];
    if (!cim_cuda_describe(gpu, sizeof gpu)) {
        fprintf(stderr, "bench_cuda: no usable GPU: %s\n", gpu);
        return 2;
    }
    FILE *mf = md ? fopen(md, "w") : NULL, *tf = tsv ? fopen(tsv, "w") : NULL;
    if ((md && !mf) || (tsv && !tf)) {
        fprintf(stderr, "bench_cuda: cannot write %s\n", md && !mf ? md : tsv);
        return 1;
    }
    char cpu[256] = "unknown CPU";
    FILE *ci = fopen("/proc/cpuinfo", "r");
    if (ci) {
        char line[512];
        while (fgets(line, sizeof line, ci))
            if (!strncmp(line, "model name", 10) && strchr(line, ':')) {
                snprintf(cpu, sizeof cpu, "%s", strchr(line, ':') + 2);
                cpu[strcspn(cpu, "\n")] = 0;
                break;
            }
        fclose(ci);
    }
    const cim_kernel *kern = cpu_kernel();
    printf("bench_cuda: GPU %s; CPU %s (%d threads), CPU kernel %s; %d reps (median)\n", gpu, cpu,
           omp_get_max_threads(), kern->name, reps);
    int bad = check_contract();

    cim_ctx *ctx;
    if (cim_ctx_create(NULL, &ctx)) {
        fprintf(stderr, "bench_cuda: cannot create a context\n");
        return 1;
    }
    cublasHandle_t h;
    CB(cublasCreate(&h));
    CB(cublasSetStream(h, cudaStreamPerThread));
    int maxm = 0;
    for (int i = 0; i < nm; i++)
        maxm = Ms[i] > maxm ? Ms[i] : maxm;
    int8_t *W = xmalloc((size_t)K * N);
    uint8_t *X = xmalloc((size_t)maxm * K);
    if (synth_layer(K, N, maxm, 1, 40.0, W, X)) {
        fprintf(stderr, "bench_cuda: out of memory\n");
        return 1;
    }
    row_t rows[MAXP * MAXM];
    int nr = 0;
    for (int p = 0; p < np; p++)
        for (int i = 0; i < nm; i++) {
            int b = layer_row(ctx, h, presets[p], Ms[i], reps, W, X, &rows[nr]);
            if (b < 0)
                return 1;
            bad |= b;
            nr++;
        }
    double tile_cuda, tile_cpu, big_cuda, big_cpu;
    contract_row(32, 128, reps, &tile_cuda, &tile_cpu, &bad);
    contract_row(4096, 512, reps < 11 ? reps : 11, &big_cuda, &big_cpu, &bad);

    FILE *outs[2] = {stdout, mf};
    for (int o = 0; o < 2; o++) {
        FILE *f = outs[o];
        if (!f)
            continue;
        fprintf(f, "GPU: %s. CPU: %s, %d threads, CPU kernel `%s`. Median of %d runs (CUDA events; "
                   "operands already in GPU memory).\n\n", gpu, cpu, omp_get_max_threads(), kern->name, reps);
        fprintf(f, "| preset | M | slice products | GEMM rows x cols x depth | ms | logical GMAC/s | slice GMAC/s | "
                   "cuBLAS int8 M x 512 x 512 ms | slice efficiency | cuBLAS same GEMM ms | ours / cuBLAS | "
                   "CPU 1 thr ms | CPU %d thr ms | GPU / CPU %d thr | checksum |\n", omp_get_max_threads(),
                omp_get_max_threads());
        fprintf(f, "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
        for (int r = 0; r < nr; r++) {
            const row_t *q = &rows[r];
            double macs = (double)q->M * K * N, sl = (double)q->pin * q->pw;
            fprintf(f, "| %s | %d | %d x %d | %d x %d x %d | %.4f | %.0f | %.0f | %.4f | %.2f | %.4f | %.2f | %.1f | "
                       "%.2f | %.0fx | %016llx |\n",
                    q->preset, q->M, q->pin, q->pw, q->M * q->pin, N * q->pw, K, q->ms, macs / q->ms / 1e6,
                    sl * macs / q->ms / 1e6, q->cublas_ms, sl * q->cublas_ms / q->ms, q->cublas_stack_ms,
                    q->cublas_stack_ms / q->ms, q->cpu1_ms, q->cpun_ms, q->cpun_ms / q->ms,
                    (unsigned long long)q->sum);
        }
        fprintf(f, "\nContract calls (host memory: upload, kernel, download, synchronize; what `--kernel cuda` "
                   "does per engine tile):\n\n| call | cuda us | CPU `%s` 1 thr us | cuda / CPU |\n|---|---:|---:|---:|\n",
                kern->name);
        fprintf(f, "| 32 x 128 x 512 (one engine tile) | %.1f | %.1f | %.1fx slower |\n", tile_cuda, tile_cpu,
                tile_cuda / tile_cpu);
        fprintf(f, "| 4096 x 512 x 512 | %.0f | %.0f | %.2fx |\n", big_cuda, big_cpu, big_cpu / big_cuda);
        fprintf(f, "\nExactness: every product above equal to cuBLAS's and the CPU kernel's; %s. "
                   "Fallbacks to the CPU: %lu.\n", bad ? "**DIFFERENCES FOUND**" : "contract calls bit-identical to ref",
                cim_cuda_fallbacks());
    }
    if (tf) {
        fprintf(tf, "preset\tM\tslices\tms\tlogical_gmacs\tslice_gmacs\tcublas_ms\tefficiency\tcublas_same_ms\t"
                    "cpu1_ms\tcpun_ms\tchecksum\n");
        for (int r = 0; r < nr; r++) {
            const row_t *q = &rows[r];
            double macs = (double)q->M * K * N, sl = (double)q->pin * q->pw;
            fprintf(tf, "%s\t%d\t%.0f\t%.5f\t%.1f\t%.1f\t%.5f\t%.3f\t%.5f\t%.3f\t%.3f\t%016llx\n", q->preset, q->M, sl,
                    q->ms, macs / q->ms / 1e6, sl * macs / q->ms / 1e6, q->cublas_ms, sl * q->cublas_ms / q->ms,
                    q->cublas_stack_ms, q->cpu1_ms, q->cpun_ms, (unsigned long long)q->sum);
        }
        fclose(tf);
    }
    if (mf)
        fclose(mf);
    cublasDestroy(h);
    cim_ctx_destroy(ctx);
    free(W), free(X);
    return bad || cim_cuda_fallbacks() ? 1 : 0;
}
