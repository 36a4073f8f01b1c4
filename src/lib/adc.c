/* adc.c: ADC set-up: the code range of a resolution and signedness. */
#include <stdint.h>
#include "adc.h"
#include "cimsim/config.h"

/* The largest |column sum|: 8-bit slices of 8-bit magnitudes (at most 255)
 * times 8-bit input slices, over CIM_MAX_ROWS rows; an exact digital read's
 * "code range" [INT32_MIN, INT32_MAX] must never be reached. */
_Static_assert((int64_t)255 * 255 * CIM_MAX_ROWS < INT32_MAX, "digital reads: column sums must stay below INT32_MAX");

void cim__adc_init(cim_adc *a, int bits, int is_signed, int drop_lsbs, double level)
{
    a->digital = bits == 0;
    if (a->digital) { /* no ADC: exact reads (validation keeps drop_lsbs 0 and the noise off) */
        a->qmin = INT32_MIN;
        a->qmax = INT32_MAX;
        a->t = 0;
        a->level = 0.0;
        return;
    }
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
