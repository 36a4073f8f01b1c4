/* adc.h: an ADC's code range and noise level (semantics.md section 6); the
 * conversion itself is adc_row.h. */
#ifndef CIMSIM_ADC_H
#define CIMSIM_ADC_H

#include <stdint.h>

typedef struct cim_adc {
    int64_t qmin, qmax; /* code range */
    int t;              /* drop_lsbs */
    double level;       /* noise level E; 0 = noise off */
} cim_adc;

void cim__adc_init(cim_adc *a, int bits, int is_signed, int drop_lsbs, double level);

#endif
