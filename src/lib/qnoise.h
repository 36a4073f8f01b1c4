/* qnoise.h: gaussian_colsum drawn at the ADC's output (semantics.md section 8).
 *
 * The ADC never sees the noise itself, only r = round_half_even(S + sigma Z)
 * (drop_lsbs 0), sigma = E sqrt(N+ + N-). Its distribution is known exactly:
 * r = S + k with P(|k| >= j + 1) = P(|Z| >= (j + 1/2) / sigma) =
 * erfc((j + 1/2) / (sigma sqrt 2)). Where N+ + N- has a small bound (ISAAC-like
 * layers: 1-bit inputs, at most 128 rows x 3 levels), cimsim draws k directly
 * by inverse transform: a 47-bit uniform V and a sign, and |k| = the number of
 * thresholds U_j(N+ + N-) that V reaches, from a table built once per
 * programmed layer. No logarithm, square root or sine per conversion; the
 * result has the same distribution as rounding S + sigma Z for a normal Z
 * (with tails to 8 sigma instead of Box-Muller's 5.9), though not the same
 * bits as the Box-Muller draw other layers use.
 *
 * Where it applies (cim__qtab_build): noise gaussian_colsum with E > 0, an ADC
 * with drop_lsbs 0, no physical models in the run, and N+ + N- <= 511 for
 * every static or speculative slice (bounds from programming). Recovery
 * conversions keep the Box-Muller normals (noise.h).
 *
 * The draw of a conversion (vector v, channel n, chunk, weight slice, input
 * slice j, phase, layer): Philox4x32-10 with the noise.h counter, islice =
 * j | CIM_QNOISE_STREAM, counter word 1 = n / 8; of its four words, word
 * (n / 2) % 4, and of that its low (n even) or high 16-bit half, is u: a
 * block's 16 bytes (little-endian) are channels 8b .. 8b + 7 in order, so a
 * tile of any width draws about count / 8 blocks per vector. The sign is u's top bit (1: k >= 0) and V's top 15 bits are
 * u's low 15 bits when the sign bit is set, their complement when not. V's
 * low 32 bits are drawn only when they matter (V's top bits equal a
 * threshold's, about 2^-15 of draws per threshold in reach): word 0 of the
 * block with counter word 1 = n and islice = j | CIM_QNOISE_REFINE. So one
 * Philox block serves eight conversions. */
#ifndef CIMSIM_QNOISE_H
#define CIMSIM_QNOISE_H

#include <stdint.h>
#include "cimsim/cimsim.h"

#define CIM_QNOISE_STREAM 0x200u
#define CIM_QNOISE_REFINE 0x400u
#define CIM_QNOISE_MAXNA 511 /* largest N+ + N- a table covers */
#define CIM_QNOISE_MAXJ 64   /* most thresholds per N+ + N- (sigma up to about 7.8) */

typedef struct cim_qtab {
    int namax;      /* N+ + N- in 0 .. namax */
    int stride;     /* entries per threshold row: namax + 1 rounded up to 64 */
    int nthr;       /* thresholds j = 0 .. nthr - 1 (U_nthr would be 2^47 for every N+ + N-) */
    uint16_t *hi;   /* [nthr][stride]: U_j(na) >> 32 (2^15: out of reach); padding 2^15 */
    uint32_t *lo;   /* [nthr][stride]: U_j(na) & 0xffffffff */
    uint8_t reach[CIM_QNOISE_MAXNA + 1]; /* reach[na]: the largest |k| a draw can give (thresholds below 2^47) */
    uint8_t *planes; /* namax <= 255: [nthr][2][256], the high then the low byte of
                        hi[j][na] (64-lane byte lookups); NULL otherwise */
} cim_qtab;

/* The table for noise level E > 0 and N+ + N- <= namax <= CIM_QNOISE_MAXNA:
 * U_j(na) = 2^47 - llround(2^47 erfc((j + 1/2) / (E sqrt(na) sqrt 2))), at
 * most 2^47, nondecreasing in j and nonincreasing in na. *out = NULL (and
 * CIM_OK) when more than CIM_QNOISE_MAXJ thresholds would be needed. */
cim_status cim__qtab_build(cim_ctx *ctx, double level, int namax, cim_qtab **out);
void cim__qtab_free(cim_ctx *ctx, cim_qtab *t);

/* Whether every output r = S + k of the draw lies in [qmin, qmax] for column
 * sums whose positive part is at most P and negated negative part at most Nn
 * (P + Nn <= t->namax): S in [-Nn, P] and N+ + N- <= P + Nn, and exactly
 * S = N+ + N- when Nn = 0, S = -(N+ + N-) when P = 0. Then the ADC needs no
 * clamp for them (adc_row.h, in_range). */
int cim__qtab_in_range(const cim_qtab *t, int64_t P, int64_t Nn, int64_t qmin, int64_t qmax);

#endif
