/* stage_avx512.c: the ADC and noise stages (stage_impl.inc) compiled for avx512. */
#define CIM_STAGE_SYM cim_stage_avx512
#define CIM_STAGE_NAME "avx512"
#include "stage_impl.inc"
