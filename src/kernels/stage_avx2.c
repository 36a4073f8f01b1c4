/* stage_avx2.c: the ADC and noise stages (stage_impl.inc) compiled for avx2. */
#include "cpu.h"

CIM_BASELINE_ISA static int stage_supported(void)
{
    cim_cpu c;
    cim_cpu_detect(&c);
    return c.os_avx && c.avx2;
}

#define CIM_STAGE_SYM cim_stage_avx2
#define CIM_STAGE_NAME "avx2"
#include "stage_impl.inc"
