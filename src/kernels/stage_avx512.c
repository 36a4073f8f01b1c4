/* stage_avx512.c: the ADC and noise stages (stage_impl.inc) compiled for avx512
 * (F, BW, VL, DQ). */
#include "cpu.h"

CIM_BASELINE_ISA static int stage_supported(void)
{
    cim_cpu c;
    cim_cpu_detect(&c);
    return c.os_avx512 && c.avx2 && c.avx512f && c.avx512dq && c.avx512bw && c.avx512vl;
}

#define CIM_STAGE_SYM cim_stage_avx512
#define CIM_STAGE_NAME "avx512"
#include "stage_impl.inc"
