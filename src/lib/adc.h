/* adc.h: the ADC and the shift-and-add of converted column sums
 * (semantics.md sections 6-8). */
#ifndef CIMSIM_ADC_H
#define CIMSIM_ADC_H

#include <math.h>
#include <stdint.h>
#include "noise.h"
#include "cimsim/stats.h"

typedef struct cim_adc {
    int64_t qmin, qmax; /* code range */
    int t;              /* drop_lsbs */
    double level;       /* noise level E; 0 = noise off */
} cim_adc;

void cim__adc_init(cim_adc *a, int bits, int is_signed, int drop_lsbs, double level);

/* round_half_even(s / 2^t) for an exact integer column sum. */
static inline int64_t cim__rhe_shift(int64_t s, int t)
{
    if (t == 0)
        return s;
    int64_t q = s >> t; /* floor (arithmetic shift) */
    int64_t rem = s - (q << t), half = (int64_t)1 << (t - 1);
    if (rem > half || (rem == half && (q & 1)))
        q++;
    return q;
}

/* round_half_even(x / 2^t) for a noisy column sum, saturated to +-2^40 so the
 * conversion to an integer is always defined. */
int64_t cim__rhe_double(double x, int t);

/* Bits a column sum needs as a signed number (0 for 0), for the histogram. */
static inline int cim__signed_bits(int32_t s)
{
    if (s == 0)
        return 0;
    uint32_t x = s > 0 ? (uint32_t)s : ~(uint32_t)s;
    return x ? 33 - __builtin_clz(x) : 1;
}

static inline void cim__hist_add(cim_histogram *h, int32_t s)
{
    if (s < CIM_HIST_MIN)
        h->below++;
    else if (s > CIM_HIST_MAX)
        h->above++;
    else
        h->bins[s - CIM_HIST_MIN]++;
    h->bits[cim__signed_bits(s)]++;
}

/* Convert one column sum s (noise-free, exact) whose noise magnitude is
 * sqrt(nabs) * E * z. Returns the code q and sets *sat (q at qmin or qmax) and
 * *clip (the rounded value lay outside the range). */
static inline int64_t cim__adc_convert(const cim_adc *a, int32_t s, int32_t nabs, double z, int *sat,
                                       int *clip)
{
    int64_t r;
    if (a->level > 0.0 && nabs > 0) {
        /* thesis 7.3: S~ = S + E sqrt(N+ + N-) z */
        double noisy = (double)s + a->level * sqrt((double)nabs) * z;
        r = cim__rhe_double(noisy, a->t);
    } else {
        r = cim__rhe_shift(s, a->t);
    }
    int64_t q = r < a->qmin ? a->qmin : (r > a->qmax ? a->qmax : r);
    *sat = (q == a->qmin) | (q == a->qmax);
    *clip = (r < a->qmin) | (r > a->qmax);
    return q;
}

#endif
