/* center.c: Center+Offset centers, Eq. (4.2) of the RAELLA thesis (section 4.1.3):
 *
 *   phi* = argmin_phi sum_i 2^(l_i) ( sum_{w in chunk} D(h_i, l_i, w' - phi) )^4
 *   D(h, l, v) = sign(v) * ((|v| >> l) & (2^(h-l+1) - 1))
 *
 * searched exhaustively over the allowed integer range, ties to the smallest
 * |phi| then the smaller phi (docs/semantics.md section 3). The filter chunk is
 * reduced to a histogram of its distinct values first, so each candidate costs
 * (distinct values x slices) instead of (rows x slices). Costs are exact in
 * 128-bit integers: |column sum| <= 32768 * 255 < 2^23, its 4th power < 2^92. */
#include <stdlib.h>
#include <string.h>
#include "internal.h"

__extension__ typedef unsigned __int128 cim_u128;

#define WRANGE 511 /* w' in [-255, 255] */
#define DRANGE 1021 /* w' - phi in [-510, 510] */

static inline int slice_d(int v, int lo, int width)
{
    int a = v < 0 ? -v : v;
    int d = (a >> lo) & ((1 << width) - 1);
    return v < 0 ? -d : d;
}

/* s[p] += c * r[p] for the WRANGE values of phi (vectorized). */
/* (not inlined: GCC would unroll-and-jam two calls into one scalar loop) */
__attribute__((noinline)) CIM_CLONES static void add_scaled(int32_t *restrict s, const short *restrict r, int32_t c)
{
    for (int p = 0; p < WRANGE; p++)
        s[p] += c * (int32_t)r[p];
}

/* The same for four values at once: s is loaded and stored once for four
 * products (the loop is bound by its loads and stores). */
__attribute__((noinline)) CIM_CLONES static void add_scaled4(int32_t *restrict s, const short *restrict r0, int32_t c0,
                                                             const short *restrict r1, int32_t c1,
                                                             const short *restrict r2, int32_t c2,
                                                             const short *restrict r3, int32_t c3)
{
    for (int p = 0; p < WRANGE; p++)
        s[p] += c0 * (int32_t)r0[p] + c1 * (int32_t)r1[p] + c2 * (int32_t)r2[p] + c3 * (int32_t)r3[p];
}

int cim_center_search(const int16_t *wprime, int n, int stride, const int *slices, int n_slices,
                      int phi_min, int phi_max)
{
    int count[WRANGE];
    int vals[WRANGE], cnts[WRANGE], nd = 0;
    int lo[CIM_MAX_SLICES];
    short dtab[CIM_MAX_SLICES][DRANGE];

    memset(count, 0, sizeof count);
    for (int k = 0; k < n; k++)
        count[wprime[(size_t)k * (size_t)stride] + 255]++;
    for (int v = 0; v < WRANGE; v++)
        if (count[v]) {
            vals[nd] = v - 255;
            cnts[nd] = count[v];
            nd++;
        }
    int top = CIM_OPERAND_BITS;
    for (int i = 0; i < n_slices; i++) {
        top -= slices[i];
        lo[i] = top;
        for (int d = -510; d <= 510; d++)
            dtab[i][d + 510] = (short)slice_d(d, lo[i], slices[i]);
    }
    if (phi_min < -255)
        phi_min = -255;
    if (phi_max > 255)
        phi_max = 255;

    /* s_i(phi) = sum_j cnts[j] D_i(vals[j] - phi) for every phi at once: for
     * each distinct value a contiguous run of a reversed table, added with
     * SIMD across phi (|s_i| <= rows * 255 < 2^24: int32 is exact). */
    int32_t sums[CIM_MAX_SLICES][WRANGE];
    for (int i = 0; i < n_slices; i++) {
        short rtab[DRANGE]; /* rtab[q] = D_i(510 - q): index 255 - v + (phi + 255) holds D_i(v - phi) */
        for (int q = 0; q < DRANGE; q++)
            rtab[q] = dtab[i][DRANGE - 1 - q];
        int32_t *si = sums[i]; /* phi in [-255, 255] at index phi + 255 */
        memset(si, 0, sizeof sums[i]);
        int j = 0;
        for (; j + 4 <= nd; j += 4)
            add_scaled4(si, rtab + 255 - vals[j], cnts[j], rtab + 255 - vals[j + 1], cnts[j + 1],
                        rtab + 255 - vals[j + 2], cnts[j + 2], rtab + 255 - vals[j + 3], cnts[j + 3]);
        for (; j < nd; j++)
            add_scaled(si, rtab + 255 - vals[j], cnts[j]);
    }

    int best = 0, have = 0;
    cim_u128 best_cost = 0;
    int amax = abs(phi_min) > abs(phi_max) ? abs(phi_min) : abs(phi_max);
    for (int a = 0; a <= amax; a++) {
        for (int sgn = -1; sgn <= 1; sgn += 2) {
            int phi = sgn * a;
            if (a == 0 && sgn > 0)
                continue;
            if (phi < phi_min || phi > phi_max)
                continue;
            cim_u128 cost = 0;
            for (int i = 0; i < n_slices; i++) {
                long long sv = sums[i][phi + 255];
                cim_u128 a2 = (cim_u128)(unsigned long long)(sv < 0 ? -sv : sv);
                a2 *= a2;
                cost += (a2 * a2) << lo[i];
            }
            if (!have || cost < best_cost) {
                best_cost = cost;
                best = phi;
                have = 1;
            }
        }
    }
    return best;
}
