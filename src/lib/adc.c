/* adc.c: ADC set-up: the code range of a resolution and signedness. */
#include "adc.h"

void cim__adc_init(cim_adc *a, int bits, int is_signed, int drop_lsbs, double level)
{
    if (is_signed) {
        a->qmin = -((int64_t)1 << (bits - 1));
        a->qmax = ((int64_t)1 << (bits - 1)) - 1;
    } else {
        a->qmin = 0;
        a->qmax = ((int64_t)1 << bits) - 1;
    }
    a->t = drop_lsbs;
    a->level = level;
}
