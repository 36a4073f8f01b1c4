/* adc.h: an ADC's code range and noise level (semantics.md section 6); the
 * conversion itself is adc_row.h. Without an ADC (bits 0: digital CiM) the
 * same row function reads column sums exactly: t = 0 and the code range is
 * all of int32, which no column sum reaches (|S| <= 255 x 255 x CIM_MAX_ROWS
 * < 2^31), so nothing rounds, clips or flags. */
#ifndef CIMSIM_ADC_H
#define CIMSIM_ADC_H

#include <stdint.h>

typedef struct cim_adc {
    int64_t qmin, qmax; /* code range */
    int t;              /* drop_lsbs */
    double level;       /* noise level E; 0 = noise off */
    int digital;        /* no ADC: exact digital reads (counted as digital_reads) */
} cim_adc;

void cim__adc_init(cim_adc *a, int bits, int is_signed, int drop_lsbs, double level);

#endif
