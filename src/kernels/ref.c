/* ref.c: the portable reference kernel. Plain C, the definition every other
 * kernel is tested against. */
#include "kernel.h"

static void ref_gemm_u8s8(int M, int Np, int Kp, const uint8_t *A, size_t lda, const int8_t *Bp,
                          int32_t *C, size_t ldc)
{
    for (int m = 0; m < M; m++) {
        const uint8_t *a = A + (size_t)m * lda;
        int32_t *c = C + (size_t)m * ldc;
        for (int p = 0; p < Np / CIM_KERNEL_NR; p++) {
            int32_t acc[CIM_KERNEL_NR] = {0};
            const int8_t *panel = Bp + (size_t)p * (size_t)(Kp / CIM_KERNEL_KR) * 64;
            for (int g = 0; g < Kp / CIM_KERNEL_KR; g++) {
                const int8_t *b = panel + (size_t)g * 64;
                const uint8_t *ak = a + (size_t)g * CIM_KERNEL_KR;
                for (int j = 0; j < CIM_KERNEL_NR; j++)
                    for (int kk = 0; kk < CIM_KERNEL_KR; kk++)
                        acc[j] += (int32_t)ak[kk] * (int32_t)b[j * CIM_KERNEL_KR + kk];
            }
            for (int j = 0; j < CIM_KERNEL_NR; j++)
                c[p * CIM_KERNEL_NR + j] = acc[j];
        }
    }
}

static int32_t ref_dot_u8s8(int Kp64, const uint8_t *a, const int8_t *b)
{
    int32_t s = 0;
    for (int k = 0; k < Kp64; k++)
        s += (int32_t)a[k] * (int32_t)b[k];
    return s;
}

static void ref_gather_dots(int Kp64, int nplanes, const uint8_t *A, size_t lda, int abits,
                            const uint8_t *shift,
                            const uint8_t *mask, const int8_t *Bc, const int8_t *Bc2, size_t ldb, int count,
                            const uint32_t *row, const uint32_t *col, int32_t *out, int32_t *out2)
{
    (void)abits;
    for (int pass = 0; pass < (Bc2 ? 2 : 1); pass++) {
        const int8_t *B = pass ? Bc2 : Bc;
        int32_t *o = pass ? out2 : out;
        for (int p = 0; p < nplanes; p++)
            for (int f = 0; f < count; f++) {
                const uint8_t *a = A + (size_t)row[f] * lda;
                const int8_t *b = B + (size_t)col[f] * ldb;
                int32_t sum = 0;
                for (int k = 0; k < Kp64; k++)
                    sum += (int32_t)((a[k] >> shift[p]) & mask[p]) * b[k];
                o[(size_t)p * (size_t)count + (size_t)f] = sum;
            }
    }
}

static void ref_dots(int M, int Kp, const uint8_t *A, size_t lda, const int8_t *b, int32_t *out)
{
    for (int m = 0; m < M; m++) {
        const uint8_t *a = A + (size_t)m * lda;
        int32_t s = 0;
        for (int k = 0; k < Kp; k++)
            s += (int32_t)a[k] * (int32_t)b[k];
        out[m] = s;
    }
}

static int ref_supported(void) { return 1; }

const cim_kernel cim_kernel_ref = {
    .name = "ref",
    .gemm_u8s8 = ref_gemm_u8s8,
    .dot_u8s8 = ref_dot_u8s8,
    .gather_dots = ref_gather_dots,
    .supported = ref_supported,
    .dots = ref_dots,
};
