/* cpu.c: CPUID and XCR0, compiled for baseline x86-64. The __cpuid macros of
 * <cpuid.h> are plain inline asm. */
#include <string.h>
#include "cpu.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <stdint.h>

static uint64_t read_xcr0(void)
{
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

void cim_cpu_detect(cim_cpu *c)
{
    unsigned a, b, cx, d;
    memset(c, 0, sizeof *c);
    __cpuid(0, a, b, cx, d);
    if (a < 7)
        return;
    __cpuid(1, a, b, cx, d);
    if (!(cx & (1u << 27))) /* OSXSAVE: XGETBV is usable */
        return;
    int avx = (cx & (1u << 28)) != 0;
    c->fma = (cx & (1u << 12)) != 0;
    uint64_t xcr0 = read_xcr0();
    c->os_avx = avx && (xcr0 & 0x6) == 0x6;
    c->os_avx512 = c->os_avx && (xcr0 & 0xe0) == 0xe0;
    __cpuid_count(7, 0, a, b, cx, d);
    c->avx2 = (b & (1u << 5)) != 0;
    c->bmi2 = (b & (1u << 8)) != 0;
    c->avx512f = (b & (1u << 16)) != 0;
    c->avx512dq = (b & (1u << 17)) != 0;
    c->avx512bw = (b & (1u << 30)) != 0;
    c->avx512vl = (b & (1u << 31)) != 0;
    c->avx512vnni = (cx & (1u << 11)) != 0;
    c->avx512vbmi = (cx & (1u << 1)) != 0;
}
#else
void cim_cpu_detect(cim_cpu *c) { memset(c, 0, sizeof *c); }
#endif
