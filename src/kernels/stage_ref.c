/* stage_ref.c: the ADC and noise stages (stage_impl.inc) compiled for ref. */
#define CIM_STAGE_SYM cim_stage_ref
#define CIM_STAGE_NAME "ref"
#include "stage_impl.inc"
