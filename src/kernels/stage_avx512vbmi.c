/* stage_avx512vbmi.c: the ADC and noise stages (stage_impl.inc) compiled for
 * avx512 with VBMI, whose two-register byte permute (vpermt2b) looks up the
 * ADC-output draw's thresholds for 64 sums at once (qnoise_impl.h). The same
 * bits as every other stage. */
#include "cpu.h"

CIM_BASELINE_ISA static int stage_supported(void)
{
    cim_cpu c;
    cim_cpu_detect(&c);
    return c.os_avx512 && c.avx2 && c.avx512f && c.avx512dq && c.avx512bw && c.avx512vl && c.avx512vbmi;
}

#define CIM_STAGE_SYM cim_stage_avx512vbmi
#define CIM_STAGE_NAME "avx512vbmi"
#include "stage_impl.inc"
