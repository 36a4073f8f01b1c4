/* cuda.cu: the column-sum kernel contract (kernel.h) on an NVIDIA GPU (cuda.h).
 *
 * gemm: int8 tensor cores, mma.sync m16n8k32 with u8 A and s8 B and exact
 * int32 accumulation, so the sums are the reference kernel's integers (the
 * contract bounds them below 2^31). Block tile 128 x 128 x 64 bytes, 8 warps
 * of 64 x 32, four shared-memory stages filled by cp.async; A fragments by
 * ldmatrix. B stays in the p16k4 layout of kernel.h: one 32-bit word is 4
 * consecutive k of one column, which is exactly one register of mma's B
 * fragment, so B needs no repacking. Shared-memory rows are padded so that
 * every fragment load of a warp is free of bank conflicts (A: 80-byte rows;
 * B: 8 words after every second k-group).
 *
 * dot and gather_dots: dp4a (u8 x s8 -> s32), one warp per dot product.
 *
 * Contract calls take host pointers: operands go up, sums come back, on the
 * calling thread's stream (cudaStreamPerThread) with stream-ordered
 * allocations, so concurrent callers do not serialize on each other. */
#include <cuda_runtime.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

extern "C" {
#include "kernel.h"
#include "cuda.h"
}

namespace {

constexpr int A_PAD = 16;                      /* bytes after each 64-byte A row in shared memory */
constexpr int A_LD = 64 + A_PAD;               /* 80: fragment loads of 8 rows hit 8 distinct 16-byte units */
constexpr int B_PANEL_WORDS = 16 * 16 + 8 * 8; /* one panel's 16 k-groups (64 k), padded */
constexpr int MAX_GRID_Y = 65535;

/* Word of (k-group g, column n) in a panel of B in shared memory. */
__device__ __forceinline__ int bword(int g, int n) { return g * 16 + (g >> 1) * 8 + n; }

/* 16 bytes global -> shared, asynchronously; zeros when !ok (nothing read). */
__device__ __forceinline__ void cp16(void *smem, const void *gmem, bool ok)
{
    unsigned s = (unsigned)__cvta_generic_to_shared(smem);
    int n = ok ? 16 : 0;
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(s), "l"(gmem), "r"(n));
}
__device__ __forceinline__ void cp_commit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int N> __device__ __forceinline__ void cp_wait() { asm volatile("cp.async.wait_group %0;\n" ::"n"(N)); }

/* The A fragment of one m16 x k32 step: four 8 x 16-byte matrices (rows 0-7
 * and 8-15, bytes 0-15 and 16-31), lane l addressing row l & 15, half l >> 4. */
__device__ __forceinline__ void ldmatrix_x4(uint32_t r[4], const void *smem)
{
    unsigned s = (unsigned)__cvta_generic_to_shared(smem);
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(s));
}

/* d += a (16 x 32 u8, row) * b (32 x 8 s8, col), exact in int32. */
__device__ __forceinline__ void mma_u8s8(int32_t d[4], const uint32_t a[4], const uint32_t b[2])
{
    asm volatile("mma.sync.aligned.m16n8k32.row.col.s32.u8.s8.s32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
                 "{%0,%1,%2,%3};\n"
                 : "+r"(d[0]), "+r"(d[1]), "+r"(d[2]), "+r"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

/* Sum of the four products of u8 bytes of a with s8 bytes of b, plus c. */
__device__ __forceinline__ int32_t dp4a_us(uint32_t a, uint32_t b, int32_t c)
{
    int32_t d;
    asm("dp4a.u32.s32 %0, %1, %2, %3;\n" : "=r"(d) : "r"(a), "r"(b), "r"(c));
    return d;
}

/* A tile shape: block BM x BN, warps of WM x WN, S shared-memory stages of 64 k. */
template <int BM, int BN, int WM, int WN, int S> struct tile {
    static constexpr int WARPS = (BM / WM) * (BN / WN), THREADS = WARPS * 32;
    static constexpr int MI = WM / 16, NI = WN / 8;
    static constexpr int A_BYTES = BM * A_LD, B_BYTES = (BN / 16) * B_PANEL_WORDS * 4;
    static constexpr int STAGE = A_BYTES + B_BYTES, SMEM = S * STAGE;
};

template <class T, int BM, int BN, int WM, int WN, int S>
__global__ void __launch_bounds__(T::THREADS) gemm_kernel(int M, int Np, int Kp, const uint8_t *__restrict__ A,
                                                           size_t lda, const int8_t *__restrict__ Bp,
                                                           int32_t *__restrict__ C, size_t ldc, int vec)
{
    extern __shared__ __align__(16) uint8_t smem[];
    const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
    const int gid = lane >> 2, tig = lane & 3;
    const int m0 = blockIdx.y * BM, n0 = blockIdx.x * BN;
    const int wm = (warp / (BN / WN)) * WM, wn = (warp % (BN / WN)) * WN;
    const int kgroups = Kp / 4, npanels = Np / 16, ktiles = (Kp + 63) / 64;

    auto load = [&](int st, int kt) {
        uint8_t *sa = smem + st * T::STAGE;
        uint32_t *sb = (uint32_t *)(sa + T::A_BYTES);
        const int k0 = kt * 64;
        /* A: BM rows x 4 chunks of 16 bytes; k0 + 63 < lda (lda is a multiple
         * of 64 >= Kp, and bytes past Kp are zero by contract) */
        for (int c = tid; c < BM * 4; c += T::THREADS) {
            int r = c >> 2, q = c & 3;
            bool ok = m0 + r < M;
            cp16(sa + r * A_LD + q * 16, ok ? A + (size_t)(m0 + r) * lda + k0 + q * 16 : A, ok);
        }
        /* B: BN / 16 panels x 16 k-groups x 4 chunks; k-groups past Kp are zero */
        for (int c = tid; c < (BN / 16) * 64; c += T::THREADS) {
            int p = c >> 6, g = (c >> 2) & 15, q = c & 3;
            int gp = n0 / 16 + p, gg = k0 / 4 + g;
            bool ok = gp < npanels && gg < kgroups;
            cp16(sb + p * B_PANEL_WORDS + bword(g, q * 4),
                 ok ? Bp + ((size_t)gp * (size_t)kgroups + (size_t)gg) * 64 + q * 16 : Bp, ok);
        }
    };

    int32_t acc[T::MI][T::NI][4];
#pragma unroll
    for (int i = 0; i < T::MI; i++)
#pragma unroll
        for (int j = 0; j < T::NI; j++)
#pragma unroll
            for (int e = 0; e < 4; e++)
                acc[i][j][e] = 0;

#pragma unroll
    for (int s = 0; s < S - 1; s++) {
        if (s < ktiles)
            load(s, s);
        cp_commit();
    }
    for (int kt = 0; kt < ktiles; kt++) {
        cp_wait<S - 2>();
        __syncthreads(); /* stage kt is in; everyone is done with stage kt - 1 */
        if (kt + S - 1 < ktiles)
            load((kt + S - 1) % S, kt + S - 1);
        cp_commit();
        const uint8_t *a = smem + (kt % S) * T::STAGE;
        const uint32_t *b = (const uint32_t *)(a + T::A_BYTES);
#pragma unroll
        for (int ks = 0; ks < 2; ks++) {
            uint32_t af[T::MI][4], bf[T::NI][2];
#pragma unroll
            for (int mi = 0; mi < T::MI; mi++)
                ldmatrix_x4(af[mi], a + (wm + mi * 16 + (lane & 15)) * A_LD + ks * 32 + (lane >> 4) * 16);
#pragma unroll
            for (int ni = 0; ni < T::NI; ni++) {
                const int col = wn + ni * 8 + gid, p = col >> 4, n = col & 15, g = ks * 8 + tig;
                bf[ni][0] = b[p * B_PANEL_WORDS + bword(g, n)];
                bf[ni][1] = b[p * B_PANEL_WORDS + bword(g + 4, n)];
            }
#pragma unroll
            for (int mi = 0; mi < T::MI; mi++)
#pragma unroll
                for (int ni = 0; ni < T::NI; ni++)
                    mma_u8s8(acc[mi][ni], af[mi], bf[ni]);
        }
    }
    cp_wait<0>();
#pragma unroll
    for (int mi = 0; mi < T::MI; mi++)
#pragma unroll
        for (int ni = 0; ni < T::NI; ni++) {
            const int r = m0 + wm + mi * 16 + gid, c = n0 + wn + ni * 8 + tig * 2;
            if (c >= Np) /* Np is a multiple of 16: c + 1 < Np when c < Np */
                continue;
            int32_t *c0 = C + (size_t)r * ldc + c, *c8 = c0 + 8 * ldc;
            if (vec) { /* C 8-byte aligned and ldc even */
                if (r < M)
                    *(int2 *)c0 = make_int2(acc[mi][ni][0], acc[mi][ni][1]);
                if (r + 8 < M)
                    *(int2 *)c8 = make_int2(acc[mi][ni][2], acc[mi][ni][3]);
            } else {
                if (r < M)
                    c0[0] = acc[mi][ni][0], c0[1] = acc[mi][ni][1];
                if (r + 8 < M)
                    c8[0] = acc[mi][ni][2], c8[1] = acc[mi][ni][3];
            }
        }
}

/* Bit fields of the recovery planes (kernel.h gather_dots), by value. */
struct planes {
    uint32_t shift[8], mask[8]; /* mask replicated into all 4 bytes */
};

/* One warp per entry f: out[p * count + f] (and out2) over Kp64 bytes of the
 * gathered row a + f * Kp64 and column b + f * Kp64. Fields: (a >> shift) &
 * mask per byte; bits shifted in from the next byte lie above mask. */
__global__ void gather_kernel(int Kp64, int nplanes, planes pl, const uint8_t *__restrict__ a,
                              const int8_t *__restrict__ b, const int8_t *__restrict__ b2, int count,
                              int32_t *__restrict__ out, int32_t *__restrict__ out2)
{
    const int f = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5), lane = threadIdx.x & 31;
    if (f >= count)
        return;
    const uint32_t *aw = (const uint32_t *)(a + (size_t)f * Kp64);
    const uint32_t *bw = (const uint32_t *)(b + (size_t)f * Kp64);
    const uint32_t *bw2 = b2 ? (const uint32_t *)(b2 + (size_t)f * Kp64) : nullptr;
    int32_t s[8] = {0}, s2[8] = {0};
    for (int w = lane; w < Kp64 / 4; w += 32) {
        const uint32_t x = aw[w], y = bw[w], y2 = bw2 ? bw2[w] : 0u;
#pragma unroll
        for (int p = 0; p < 8; p++)
            if (p < nplanes) {
                const uint32_t v = (x >> pl.shift[p]) & pl.mask[p];
                s[p] = dp4a_us(v, y, s[p]);
                s2[p] = dp4a_us(v, y2, s2[p]);
            }
    }
#pragma unroll
    for (int p = 0; p < 8; p++)
        if (p < nplanes) {
            int32_t v = s[p], v2 = s2[p];
            for (int o = 16; o; o >>= 1) {
                v += __shfl_xor_sync(0xffffffffu, v, o);
                v2 += __shfl_xor_sync(0xffffffffu, v2, o);
            }
            if (lane == 0) {
                out[(size_t)p * count + f] = v;
                if (out2)
                    out2[(size_t)p * count + f] = v2;
            }
        }
}

unsigned long long fallbacks_count; /* cim_cuda_fallbacks(); atomic */

void note_fallback(void) { __atomic_fetch_add(&fallbacks_count, 1ULL, __ATOMIC_RELAXED); }

size_t align256(size_t v) { return (v + 255) / 256 * 256; }

/* One stream-ordered device buffer per contract call, freed on every path. */
struct dev_buf {
    void *p = nullptr;
    cudaStream_t s;
    explicit dev_buf(cudaStream_t st) : s(st) {}
    cudaError_t alloc(size_t n) { return cudaMallocAsync(&p, n, s); }
    ~dev_buf()
    {
        if (p)
            cudaFreeAsync(p, s);
    }
    uint8_t *at(size_t off) const { return (uint8_t *)p + off; }
};

#define TRY(call)                                                                                             \
    do {                                                                                                      \
        cudaError_t e_ = (call);                                                                              \
        if (e_ != cudaSuccess)                                                                                \
            return (int)e_;                                                                                   \
    } while (0)

template <int BM, int BN, int WM, int WN, int S>
int launch_tile(int M, int Np, int Kp, const uint8_t *A, size_t lda, const int8_t *Bp, int32_t *C, size_t ldc,
                cudaStream_t s)
{
    using T = tile<BM, BN, WM, WN, S>;
    auto *k = gemm_kernel<T, BM, BN, WM, WN, S>;
    if (T::SMEM > 48 * 1024)
        TRY(cudaFuncSetAttribute(k, cudaFuncAttributeMaxDynamicSharedMemorySize, T::SMEM));
    const int vec = ((uintptr_t)C % 8 == 0) && ldc % 2 == 0;
    for (int m = 0; m < M; m += MAX_GRID_Y * BM) { /* more rows than one grid holds: in slices */
        const int mc = M - m < MAX_GRID_Y * BM ? M - m : MAX_GRID_Y * BM;
        dim3 grid((unsigned)((Np + BN - 1) / BN), (unsigned)((mc + BM - 1) / BM));
        k<<<grid, T::THREADS, T::SMEM, s>>>(mc, Np, Kp, A + (size_t)m * lda, lda, Bp, C + (size_t)m * ldc, ldc, vec);
        TRY(cudaGetLastError());
    }
    return 0;
}

/* The tile: measured on an H100 (bench_cuda, 2026-11-22) against 128 x 128
 * with 2 and 3 stages, 128 x 256 and 256 x 128 (warps 64 x 64), 64 x 128
 * (warps 32 x 32 and 32 x 64): all within 10% of each other on the four
 * benchmark products; this one was at or near the fastest on each. */
int launch_gemm(int M, int Np, int Kp, const uint8_t *A, size_t lda, const int8_t *Bp, int32_t *C, size_t ldc,
                cudaStream_t s)
{
    return launch_tile<128, 128, 64, 32, 4>(M, Np, Kp, A, lda, Bp, C, ldc, s);
}

int host_gemm(int M, int Np, int Kp, const uint8_t *A, size_t lda, const int8_t *Bp, int32_t *C, size_t ldc)
{
    cudaStream_t s = cudaStreamPerThread;
    const size_t la = ((size_t)Kp + 63) / 64 * 64; /* device row pitch: the bytes the kernel reads */
    const size_t na = align256((size_t)M * la), nb = align256((size_t)Kp * (size_t)Np);
    const size_t nc = (size_t)M * (size_t)Np * sizeof(int32_t);
    dev_buf d(s);
    TRY(d.alloc(na + nb + nc));
    TRY(cudaMemcpy2DAsync(d.at(0), la, A, lda, la, (size_t)M, cudaMemcpyHostToDevice, s));
    TRY(cudaMemcpyAsync(d.at(na), Bp, (size_t)Kp * (size_t)Np, cudaMemcpyHostToDevice, s));
    int32_t *dc = (int32_t *)d.at(na + nb);
    int e = launch_gemm(M, Np, Kp, d.at(0), la, (const int8_t *)d.at(na), dc, (size_t)Np, s);
    if (e)
        return e;
    TRY(cudaMemcpy2DAsync(C, ldc * sizeof(int32_t), dc, (size_t)Np * sizeof(int32_t), (size_t)Np * sizeof(int32_t),
                          (size_t)M, cudaMemcpyDeviceToHost, s));
    TRY(cudaStreamSynchronize(s));
    return 0;
}

/* gather_dots with its rows and columns gathered on the host into one
 * upload: the GPU never sees the whole input plane. */
int host_gather(int Kp64, int nplanes, const uint8_t *A, size_t lda, const uint8_t *shift, const uint8_t *mask,
                const int8_t *Bc, const int8_t *Bc2, size_t ldb, int count, const uint32_t *row,
                const uint32_t *col, int32_t *out, int32_t *out2)
{
    if (nplanes > 8)
        return -1;
    cudaStream_t s = cudaStreamPerThread;
    const size_t rowb = (size_t)count * (size_t)Kp64, nout = (size_t)nplanes * (size_t)count * sizeof(int32_t);
    const int nb = Bc2 ? 2 : 1;
    const size_t host_bytes = rowb * (size_t)(1 + nb);
    uint8_t *h = (uint8_t *)malloc(host_bytes);
    if (!h)
        return -1;
    for (int f = 0; f < count; f++) {
        memcpy(h + (size_t)f * Kp64, A + (size_t)row[f] * lda, (size_t)Kp64);
        memcpy(h + rowb + (size_t)f * Kp64, Bc + (size_t)col[f] * ldb, (size_t)Kp64);
        if (Bc2)
            memcpy(h + 2 * rowb + (size_t)f * Kp64, Bc2 + (size_t)col[f] * ldb, (size_t)Kp64);
    }
    planes pl;
    for (int p = 0; p < 8; p++) {
        pl.shift[p] = p < nplanes ? shift[p] : 0;
        pl.mask[p] = p < nplanes ? 0x01010101u * mask[p] : 0;
    }
    int e = 0;
    {
        dev_buf d(s);
        const size_t nin = align256(host_bytes);
        cudaError_t ce = d.alloc(nin + 2 * nout);
        if (ce == cudaSuccess)
            ce = cudaMemcpyAsync(d.at(0), h, host_bytes, cudaMemcpyHostToDevice, s);
        if (ce == cudaSuccess) {
            const int warps = 8;
            int32_t *o1 = (int32_t *)d.at(nin), *o2 = Bc2 ? (int32_t *)d.at(nin + nout) : nullptr;
            gather_kernel<<<(unsigned)((count + warps - 1) / warps), warps * 32, 0, s>>>(
                Kp64, nplanes, pl, d.at(0), (const int8_t *)d.at(rowb), Bc2 ? (const int8_t *)d.at(2 * rowb) : nullptr,
                count, o1, o2);
            ce = cudaGetLastError();
            if (ce == cudaSuccess)
                ce = cudaMemcpyAsync(out, o1, nout, cudaMemcpyDeviceToHost, s);
            if (ce == cudaSuccess && Bc2)
                ce = cudaMemcpyAsync(out2, o2, nout, cudaMemcpyDeviceToHost, s);
            if (ce == cudaSuccess)
                ce = cudaStreamSynchronize(s);
        }
        e = (int)ce;
    }
    cudaStreamSynchronize(s); /* h may still be read by a failed call's copy */
    free(h);
    return e;
}

/* ---- the contract (kernel.h) ---- */

void cuda_gemm_u8s8(int M, int Np, int Kp, const uint8_t *A, size_t lda, const int8_t *Bp, int32_t *C, size_t ldc)
{
    if (host_gemm(M, Np, Kp, A, lda, Bp, C, ldc) != 0) {
        note_fallback();
        cim_kernel_ref.gemm_u8s8(M, Np, Kp, A, lda, Bp, C, ldc);
    }
}

int32_t cuda_dot_u8s8(int Kp64, const uint8_t *a, const int8_t *b)
{
    const uint8_t shift = 0, mask = 0xff;
    const uint32_t zero = 0;
    int32_t out = 0;
    if (host_gather(Kp64, 1, a, 0, &shift, &mask, b, nullptr, 0, 1, &zero, &zero, &out, nullptr) != 0) {
        note_fallback();
        return cim_kernel_ref.dot_u8s8(Kp64, a, b);
    }
    return out;
}

void cuda_gather_dots(int Kp64, int nplanes, const uint8_t *A, size_t lda, int abits, const uint8_t *shift,
                      const uint8_t *mask, const int8_t *Bc, const int8_t *Bc2, size_t ldb, int count,
                      const uint32_t *row, const uint32_t *col, int32_t *out, int32_t *out2)
{
    if (host_gather(Kp64, nplanes, A, lda, shift, mask, Bc, Bc2, ldb, count, row, col, out, out2) != 0) {
        note_fallback();
        cim_kernel_ref.gather_dots(Kp64, nplanes, A, lda, abits, shift, mask, Bc, Bc2, ldb, count, row, col, out,
                                   out2);
    }
}

/* One column's sums: host work, as small as the layers that use it. */
void cuda_dots(int M, int Kp, const uint8_t *A, size_t lda, const int8_t *b, int32_t *out)
{
    cim_kernel_ref.dots(M, Kp, A, lda, b, out);
}

int cuda_supported(void)
{
    char buf[8];
    return cim_cuda_describe(buf, sizeof buf);
}

} /* namespace */

extern "C" {

const cim_kernel cim_kernel_cuda = {
    "cuda", cuda_gemm_u8s8, cuda_dot_u8s8, cuda_gather_dots, cuda_supported, cuda_dots,
};

int cim_cuda_gemm_u8s8_dev(int M, int Np, int Kp, const uint8_t *A, size_t lda, const int8_t *Bp, int32_t *C,
                           size_t ldc, void *stream)
{
    if (M < 1 || Np < 16 || Np % 16 || Kp < 4 || Kp % 4 || lda % 64 || lda < (size_t)Kp || ldc < (size_t)Np ||
        !A || !Bp || !C)
        return -1;
    return launch_gemm(M, Np, Kp, A, lda, Bp, C, ldc, stream ? (cudaStream_t)stream : cudaStreamPerThread);
}

int cim_cuda_describe(char *buf, size_t size)
{
    int n = 0, dev = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess || n < 1) {
        snprintf(buf, size, "no CUDA device (%s)", e != cudaSuccess ? cudaGetErrorString(e) : "none found");
        return 0;
    }
    cudaDeviceProp p;
    if ((e = cudaGetDevice(&dev)) != cudaSuccess || (e = cudaGetDeviceProperties(&p, dev)) != cudaSuccess) {
        snprintf(buf, size, "CUDA device unreadable (%s)", cudaGetErrorString(e));
        return 0;
    }
    int ok = p.major >= 8;
    snprintf(buf, size, "%s, %d SMs, compute capability %d.%d%s", p.name, p.multiProcessorCount, p.major, p.minor,
             ok ? "" : " (int8 mma.sync m16n8k32 needs 8.0 or later)");
    return ok;
}

unsigned long cim_cuda_fallbacks(void)
{
    return (unsigned long)__atomic_load_n(&fallbacks_count, __ATOMIC_RELAXED);
}

} /* extern "C" */
