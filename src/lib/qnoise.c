/* qnoise.c: the threshold table of the ADC-output noise draw (qnoise.h). */
#include <math.h>
#include "qnoise.h"
#include "internal.h"

/* U_j(na): V >= U_j(na) with probability P(|Z| >= (j + 1/2) / (E sqrt(na))) */
static uint64_t threshold(double level, int na, int j)
{
    const double one = ldexp(1.0, 47);
    if (na == 0)
        return (uint64_t)1 << 47;
    double tail = erfc((j + 0.5) / (level * sqrt((double)na) * sqrt(2.0)));
    long long above = llround(tail * one); /* draws V in [U, 2^47) */
    if (above < 0)
        above = 0;
    if (above > (1ll << 47))
        above = 1ll << 47;
    return ((uint64_t)1 << 47) - (uint64_t)above;
}

cim_status cim__qtab_build(cim_ctx *ctx, double level, int namax, cim_qtab **out)
{
    *out = NULL;
    if (!(level > 0.0) || namax < 0 || namax > CIM_QNOISE_MAXNA)
        return CIM_OK;
    /* thresholds in reach: those below 2^47 for the largest sigma */
    int nthr = 0;
    while (nthr <= CIM_QNOISE_MAXJ && threshold(level, namax, nthr) < ((uint64_t)1 << 47))
        nthr++;
    if (nthr > CIM_QNOISE_MAXJ)
        return CIM_OK;
    if (nthr == 0) /* keep one row, all out of reach, so the loops need no special case */
        nthr = 1;
    cim_qtab *t = cim__calloc(ctx, 1, sizeof *t);
    if (!t)
        return CIM_ERR_NOMEM;
    t->namax = namax;
    t->stride = (namax + 1 + 63) & ~63;
    t->nthr = nthr;
    t->hi = cim__aligned_alloc(ctx, (size_t)nthr * (size_t)t->stride * sizeof(uint16_t));
    t->lo = cim__malloc(ctx, (size_t)nthr * (size_t)t->stride * sizeof(uint32_t));
    if (!t->hi || !t->lo) {
        cim__qtab_free(ctx, t);
        return CIM_ERR_NOMEM;
    }
    for (int j = 0; j < nthr; j++)
        for (int na = 0; na < t->stride; na++) {
            uint64_t u = na <= namax ? threshold(level, na, j) : (uint64_t)1 << 47;
            size_t idx = (size_t)j * (size_t)t->stride + (size_t)na;
            /* monotone whatever erfc's last bits do: U_j >= U_(j-1), U_j(na) <= U_j(na - 1) */
            if (j > 0) {
                uint64_t prev = ((uint64_t)t->hi[idx - t->stride] << 32) | t->lo[idx - t->stride];
                u = u < prev ? prev : u;
            }
            if (na > 0 && na <= namax) {
                uint64_t left = ((uint64_t)t->hi[idx - 1] << 32) | t->lo[idx - 1];
                u = u > left && na > 1 ? left : u;
            }
            t->hi[idx] = (uint16_t)(u >> 32);
            t->lo[idx] = (uint32_t)u;
        }
    for (int na = 0; na <= namax; na++) { /* thresholds are nondecreasing in j: reach is the first out of reach */
        int r = 0;
        while (r < nthr && t->hi[(size_t)r * (size_t)t->stride + (size_t)na] < 0x8000u)
            r++;
        t->reach[na] = (uint8_t)r;
    }
    if (namax <= 255) {
        t->planes = cim__aligned_alloc(ctx, (size_t)nthr * 512);
        if (!t->planes) {
            cim__qtab_free(ctx, t);
            return CIM_ERR_NOMEM;
        }
        for (int j = 0; j < nthr; j++)
            for (int na = 0; na < 256; na++) {
                uint16_t h = na < t->stride ? t->hi[(size_t)j * (size_t)t->stride + (size_t)na] : 0x8000u;
                t->planes[(size_t)j * 512 + (size_t)na] = (uint8_t)(h >> 8);
                t->planes[(size_t)j * 512 + 256 + (size_t)na] = (uint8_t)h;
            }
    }
    *out = t;
    return CIM_OK;
}

void cim__qtab_free(cim_ctx *ctx, cim_qtab *t)
{
    if (!t)
        return;
    cim__aligned_free(ctx, t->hi);
    cim__aligned_free(ctx, t->planes);
    cim__free(ctx, t->lo);
    cim__free(ctx, t);
}

int cim__qtab_in_range(const cim_qtab *t, int64_t P, int64_t Nn, int64_t qmin, int64_t qmax)
{
    if (P < 0 || Nn < 0 || P + Nn > t->namax)
        return 0;
    if (Nn == 0 || P == 0) { /* S = +-(N+ + N-): each N+ + N- with its own reach */
        const int64_t sign = Nn == 0 ? 1 : -1;
        for (int64_t na = 0; na <= P + Nn; na++)
            if (sign * na - t->reach[na] < qmin || sign * na + t->reach[na] > qmax)
                return 0;
        return 1;
    }
    int kmax = 0;
    for (int64_t na = 0; na <= P + Nn; na++)
        kmax = t->reach[na] > kmax ? t->reach[na] : kmax;
    return -Nn - kmax >= qmin && P + kmax <= qmax;
}
