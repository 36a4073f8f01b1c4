/* stage_ref.c: the ADC and noise stages (stage_impl.inc) compiled for ref. */
static int stage_supported(void) { return 1; }

#define CIM_STAGE_SYM cim_stage_ref
#define CIM_STAGE_NAME "ref"
#include "stage_impl.inc"
