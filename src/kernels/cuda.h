/* cuda.h: the CUDA column-sum kernel (kernels/cuda.cu), built when CMake finds
 * nvcc (CIMSIM_CUDA=AUTO|ON|OFF) and compiled in as CIMSIM_HAVE_CUDA.
 *
 * cim_kernel_cuda (kernel.h) implements the kernel contract with host pointers:
 * each call copies its operands to the GPU, runs there and copies the sums
 * back, on the calling thread's own stream (cudaStreamPerThread), so the
 * engine's worker threads may call it concurrently. It is chosen only by name
 * ("cuda": --kernel cuda, CIMSIM_KERNEL=cuda), never automatically: the engine
 * calls the kernel on 32 x 128 tiles, where a round trip over PCIe costs more
 * than the CPU kernels take (bench/bench_cuda.c measures both). If any CUDA
 * call fails inside a contract call, that call's sums are computed by the
 * reference kernel on the CPU instead: same integers, and the failure is
 * counted (cim_cuda_fallbacks()).
 *
 * The functions below run the same kernels on operands already in GPU memory,
 * for callers that keep a layer on the GPU (and for the benchmark). */
#ifndef CIMSIM_KERNELS_CUDA_H
#define CIMSIM_KERNELS_CUDA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* gemm_u8s8 of kernel.h on device pointers, enqueued on `stream` (a
 * cudaStream_t; NULL: the calling thread's per-thread stream), not waited
 * for. Same contract as kernel.h: Bp packed p16k4, lda a multiple of 64 and
 * >= Kp with A's bytes in [Kp, lda) zero, Np a multiple of 16, M >= 1,
 * Kp >= 4 a multiple of 4. Returns 0, or a cudaError_t (as int) if the launch
 * failed, or -1 for arguments outside the contract. */
int cim_cuda_gemm_u8s8_dev(int M, int Np, int Kp, const uint8_t *A, size_t lda, const int8_t *Bp, int32_t *C,
                           size_t ldc, void *stream);

/* The GPU in use, as "NAME, N SMs, compute capability X.Y" into buf (always
 * NUL-terminated). Returns 1 if it can run the kernel (compute capability
 * 8.0 or later), else 0 with the reason in buf. */
int cim_cuda_describe(char *buf, size_t size);

/* Contract calls whose sums came from the reference kernel because a CUDA
 * call failed, since the program started (atomic; for tests and benchmarks). */
unsigned long cim_cuda_fallbacks(void);

#ifdef __cplusplus
}
#endif

#endif
