/* adc.c: ADC set-up and the rounding of noisy column sums. */
#include <math.h>
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

int64_t cim__rhe_double(double x, int t)
{
    /* Scaling by a power of two is exact; floor and the difference below are
     * exact for |y| < 2^52, so ties are detected exactly. Independent of the
     * FPU rounding mode. */
    double y = ldexp(x, -t);
    const double lim = 1099511627776.0; /* 2^40 */
    if (!(y > -lim))
        return -(int64_t)1099511627776;
    if (y > lim)
        return (int64_t)1099511627776;
    double f = floor(y), d = y - f;
    int64_t q = (int64_t)f;
    if (d > 0.5 || (d == 0.5 && (q & 1)))
        q++;
    return q;
}
