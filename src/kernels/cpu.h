/* cpu.h: what this CPU and OS can run (CPUID and XCR0), for the kernels'
 * supported() functions. Compiled for baseline x86-64 (cpu.c). */
#ifndef CIMSIM_CPU_H
#define CIMSIM_CPU_H

typedef struct cim_cpu {
    int fma, avx2, bmi2;                                     /* instruction sets */
    int avx512f, avx512dq, avx512bw, avx512vl, avx512vnni, avx512vbmi;
    int os_avx;    /* XCR0: the OS saves SSE and AVX state (bits 1, 2) */
    int os_avx512; /* XCR0: ... and opmask, ZMM_Hi256, Hi16_ZMM (bits 5, 6, 7) */
} cim_cpu;

/* Fill *c (all zero on a CPU without CPUID leaf 7 or XSAVE). */
void cim_cpu_detect(cim_cpu *c);

/* supported() functions run before anything has checked the CPU: keep the
 * compiler from using their file's extensions in them. */
#if defined(__GNUC__) && !defined(__clang__)
#define CIM_BASELINE_ISA                                                                        \
    __attribute__((target("no-avx512f,no-avx512bw,no-avx512vl,no-avx512dq,no-avx512vnni,no-avx512vbmi,"      \
                          "no-avx2,no-avx,no-fma,no-bmi2")))
#else
#define CIM_BASELINE_ISA
#endif

#endif
