/* kernel.h: the column-sum kernel contract.
 *
 * Everything about crossbars (chunking, slicing, encodings, the ADC, noise,
 * accumulation) is portable C in src/lib. A kernel only computes exact integer
 * column sums: products of input-slice values (uint8, 0..255) with stored
 * weight-slice values (int8, -128..127). Every kernel must return bit-identical
 * results to the reference kernel (kernels/ref.c) for all inputs that satisfy
 * this contract; tests/test_kernels.c checks it on random and edge shapes.
 *
 * Packed B ("p16k4"): a Kp x Np matrix of int8, Kp = round_up(K, 4),
 * Np = round_up(N, 16). Columns are grouped in panels of 16; inside a panel,
 * each group of 4 consecutive k is 64 bytes: 16 columns x 4 k. The byte offset
 * of element (k, n) is
 *
 *     ((n / 16) * (Kp / 4) + k / 4) * 64 + (n % 16) * 4 + (k % 4)
 *
 * which is one 512-bit vector per (panel, k-group), the operand layout of
 * AVX-512 VNNI vpdpbusd. Padding elements (k >= K or n >= N) are zero.
 *
 * A (the input slice values): uint8, row-major, row m starts at A + m * lda.
 * lda is a multiple of 64 and >= Kp; elements k in [K, lda) are zero. A is
 * 64-byte aligned.
 *
 * Column-major B for dot products (recovery): column n starts at
 * Bc + n * ldb, ldb a multiple of 64, entries past K zero, 64-byte aligned.
 *
 * Exactness: sums are exact in int32. The framework guarantees
 * Kp * 255 * 128 < 2^31 (at most CIM_MAX_ROWS rows per chunk).
 */
#ifndef CIMSIM_KERNEL_H
#define CIMSIM_KERNEL_H

#include <stddef.h>
#include <stdint.h>

#define CIM_KERNEL_NR 16 /* panel width of packed B */
#define CIM_KERNEL_KR 4  /* k interleave of packed B */

typedef struct cim_kernel {
    const char *name; /* "ref", "avx2", "avx512vnni", "cuda" */

    /* C[m * ldc + n] = sum_{k < Kp} A[m * lda + k] * B(k, n)
     * for 0 <= m < M, 0 <= n < Np (whole panels; Np multiple of 16).
     * M >= 1, Kp >= 4 and a multiple of 4, ldc >= Np. C is overwritten. */
    void (*gemm_u8s8)(int M, int Np, int Kp, const uint8_t *A, size_t lda, const int8_t *Bp,
                      int32_t *C, size_t ldc);

    /* sum_{k < Kp64} a[k] * b[k], where Kp64 is a multiple of 64 (>= 64);
     * a and b are 64-byte aligned. */
    int32_t (*dot_u8s8)(int Kp64, const uint8_t *a, const int8_t *b);

    /* Gathered dot products, for scattered column sums such as recoveries:
     *   out[p * count + f] = sum_{k < Kp64} ((A[row[f] * lda + k] >> shift[p]) & mask[p])
     *                                        * Bc[col[f] * ldb + k]
     * for 0 <= f < count, 0 <= p < nplanes: several bit fields of the same
     * input bytes (the recovery slices inside a speculative slice) against the
     * same column, the bytes read once for all of them. When Bc2 is not NULL,
     * out2 gets the same sums against Bc2 (a second matrix of the same layout,
     * such as the magnitudes |w| whose sums N+ + N- set the noise). shift[p]
     * <= 7 and mask[p] <= 255 >> shift[p] (the field lies inside the byte);
     * every byte of A is below 2^abits (1 <= abits <= 8; kernels may use a
     * 16-entry table when abits <= 4); Kp64, lda and ldb are multiples of 64; A, Bc and Bc2 are 64-byte
     * aligned; count >= 1, nplanes >= 1. Runs of entries with the same row run
     * faster (the input bytes are read once for several columns) but any
     * order is correct. */
    void (*gather_dots)(int Kp64, int nplanes, const uint8_t *A, size_t lda, int abits, const uint8_t *shift,
                        const uint8_t *mask, const int8_t *Bc, const int8_t *Bc2, size_t ldb, int count,
                        const uint32_t *row, const uint32_t *col, int32_t *out, int32_t *out2);

    /* Nonzero if this CPU and OS can run the kernel (CPUID and XCR0). */
    int (*supported)(void);

    /* One column's sums (a layer of one channel, such as each group of a
     * depthwise convolution, where gemm_u8s8 would compute a whole 16-wide
     * panel to keep one column):
     *   out[m] = sum_{k < Kp} A[m * lda + k] * b[k]   for 0 <= m < M,
     * M >= 1, Kp >= 4 and a multiple of 4, lda >= Kp. Only the first Kp
     * bytes of each row and of b are read (a row may end where the next
     * chunk's bytes begin), and neither needs any alignment. */
    void (*dots)(int M, int Kp, const uint8_t *A, size_t lda, const int8_t *b, int32_t *out);
} cim_kernel;

/* The kernels compiled into this build; each file defines one. */
extern const cim_kernel cim_kernel_ref;
#ifdef CIMSIM_HAVE_X86_KERNELS
extern const cim_kernel cim_kernel_avx2;
extern const cim_kernel cim_kernel_avx512vnni;
#endif
#ifdef CIMSIM_HAVE_CUDA
extern const cim_kernel cim_kernel_cuda; /* cuda.h: an NVIDIA GPU, chosen only by name */
#endif

/* All kernels, best first, NULL-terminated (the CUDA kernel last: automatic
 * choice never takes it, see cuda.h). */
const cim_kernel *const *cim_kernel_list(void);

/* Byte offset of (k, n) in packed B with padded depth Kp. */
static inline size_t cim_kernel_pack_offset(int k, int n, int Kp)
{
    return ((size_t)(n / CIM_KERNEL_NR) * (size_t)(Kp / CIM_KERNEL_KR) + (size_t)(k / CIM_KERNEL_KR)) *
               (CIM_KERNEL_NR * CIM_KERNEL_KR) +
           (size_t)(n % CIM_KERNEL_NR) * CIM_KERNEL_KR + (size_t)(k % CIM_KERNEL_KR);
}

#endif
