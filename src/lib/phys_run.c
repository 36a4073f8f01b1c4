/* phys_run.c: the physical models at run time (phys.h): a conversion's
 * deviation from the input slice values and the layer's static arrays.
 *
 * The sums sum_k a_k D_kn (and sum_k w(a_k) V_kn) are float dot products
 * over the rows of a chunk. Every one of them is accumulated row by row in
 * ascending order into its own accumulator, adding a_k D_kn (0 when a_k = 0:
 * skipping such a row or not gives the same bits); the loops vectorize
 * across channels, never across rows, and the build does not contract
 * multiply-adds (-ffp-contract=off). So the register-blocked tile kernel,
 * the per-vector recovery kernel and the scalar one give the same bits, on
 * every ISA clone, for any thread count and batch split. */
#include <math.h>
#include <string.h>
#include "phys.h"
#include "run_internal.h"

/* dev = g (S + ds + W leak) + o - S + sqrt(g^2 (var + var_ktc) + var_adc) z, written
 * so that it is exactly 0 when g = 1 and everything else is 0. */
static inline float finish_one(float g, float o, float lk, float W, int32_t S, float ds, float var, float vk,
                               float va, const float *z, size_t at)
{
    float x = ds + W * lk;
    float d = (g - 1.0f) * (float)S + g * x + o;
    if (z)
        d += sqrtf(g * g * (var + vk) + va) * z[at];
    return d;
}

/* out[j * ldo + nn] = sum_t v[4 t + j] M[ks[t] * ldm + nn] for j < 4, nn < nc:
 * four dot products at once, CIM_PHYS_NB channels per block held in
 * registers (M's rows are padded to whole blocks). GCC's vector extension
 * lowers the 16-float block to one AVX-512, two AVX2 or four SSE registers:
 * the same operations per lane, so the same bits on every clone. */
typedef float cim_f16 __attribute__((vector_size(CIM_PHYS_NB * sizeof(float))));

static inline void dot4(const float *restrict M, size_t ldm, int nk, const int *restrict ks,
                        const float *restrict v, int nc, float *restrict out, size_t ldo)
{
    for (int nb = 0; nb < nc; nb += CIM_PHYS_NB) {
        cim_f16 a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0}, d;
        for (int t = 0; t < nk; t++) {
            memcpy(&d, M + (size_t)ks[t] * ldm + (size_t)nb, sizeof d);
            a0 += v[4 * t] * d;
            a1 += v[4 * t + 1] * d;
            a2 += v[4 * t + 2] * d;
            a3 += v[4 * t + 3] * d;
        }
        float o[4][CIM_PHYS_NB];
        memcpy(o[0], &a0, sizeof a0);
        memcpy(o[1], &a1, sizeof a1);
        memcpy(o[2], &a2, sizeof a2);
        memcpy(o[3], &a3, sizeof a3);
        const int w = nc - nb < CIM_PHYS_NB ? nc - nb : CIM_PHYS_NB;
        for (int j = 0; j < 4; j++)
            memcpy(out + (size_t)j * ldo + (size_t)nb, o[j], (size_t)w * sizeof(float));
    }
}

CIM_CLONES void cim__phys_tile(const cim_layer *L, const cim_phys *P, const uint8_t *A, size_t lda, int c, int i,
                               int width, int mc, int n0, int nc, const int32_t *S, const float *z, float *dev,
                               size_t ld, float *scratch, int *ks)
{
    const int k0 = L->chunk_k0[c], rows = L->chunk_k0[c + 1] - k0;
    const size_t col = ((size_t)c * (size_t)L->nws + (size_t)i) * (size_t)L->N + (size_t)n0;
    const float *D = P->D ? P->D + ((size_t)i * (size_t)L->K + (size_t)k0) * P->ld + (size_t)n0 : NULL;
    const float *V = P->V ? P->V + ((size_t)i * (size_t)L->K + (size_t)k0) * P->ld + (size_t)n0 : NULL;
    const float *restrict g = P->gain + col, *restrict o = P->off + col;
    const float *restrict lk = P->leak ? P->leak + col : NULL;
    const float W = (float)cim__phys_window(&L->cfg.analog, width), vk = (float)P->var_ktc,
                va = (float)P->var_adc;
    const int square = P->square;
    float *restrict va4 = scratch, *restrict vw4 = scratch + 4 * (size_t)rows;
    for (int m4 = 0; m4 < mc; m4 += 4) {
        float ds[4][TILE_N], var[4][TILE_N];
        const int nm = mc - m4 < 4 ? mc - m4 : 4;
        /* the rows where one of the four vectors is driven, and their values */
        int nk = 0;
        if (D || V) {
            /* a group of fewer than four vectors reads the first one again, masked to 0 */
            const uint8_t *r0 = A + (size_t)m4 * lda, *r1 = nm > 1 ? r0 + lda : r0, *r2 = nm > 2 ? r0 + 2 * lda : r0,
                          *r3 = nm > 3 ? r0 + 3 * lda : r0;
            const unsigned k1 = nm > 1 ? 0xffu : 0, k2 = nm > 2 ? 0xffu : 0, k3 = nm > 3 ? 0xffu : 0;
            for (int kk = 0; kk < rows; kk++) { /* branch-free: the driven rows are irregular */
                const unsigned x0 = r0[kk], x1 = r1[kk] & k1, x2 = r2[kk] & k2, x3 = r3[kk] & k3;
                const float f0 = (float)x0, f1 = (float)x1, f2 = (float)x2, f3 = (float)x3;
                ks[nk] = kk;
                va4[4 * nk] = f0;
                va4[4 * nk + 1] = f1;
                va4[4 * nk + 2] = f2;
                va4[4 * nk + 3] = f3;
                vw4[4 * nk] = square ? f0 * f0 : f0;
                vw4[4 * nk + 1] = square ? f1 * f1 : f1;
                vw4[4 * nk + 2] = square ? f2 * f2 : f2;
                vw4[4 * nk + 3] = square ? f3 * f3 : f3;
                nk += (x0 | x1 | x2 | x3) != 0;
            }
        }
        if (D)
            dot4(D, P->ld, nk, ks, va4, nc, &ds[0][0], TILE_N);
        else
            memset(ds, 0, sizeof ds);
        if (V)
            dot4(V, P->ld, nk, ks, vw4, nc, &var[0][0], TILE_N);
        else
            memset(var, 0, sizeof var);
        for (int j = 0; j < nm; j++) {
            const size_t r = (size_t)(m4 + j) * ld;
            const int32_t *restrict s = S + r;
            float *restrict out = dev + r;
            const float *zr = z ? z + r : NULL;
            for (int nn = 0; nn < nc; nn++)
                out[nn] = finish_one(g[nn], o[nn], lk ? lk[nn] : 0.0f, W, s[nn], ds[j][nn], var[j][nn], vk, va, zr,
                                     (size_t)nn);
        }
    }
}

CIM_CLONES void cim__phys_row_fields(const cim_layer *L, const cim_phys *P, const uint8_t *a, int c, int i, int nr,
                                     const uint8_t *shift, const uint8_t *mask, int n0, int nc, float *ds,
                                     float *var, size_t ldr, float *scratch, int *ks)
{
    const int k0 = L->chunk_k0[c], rows = L->chunk_k0[c + 1] - k0;
    const float *D = P->D ? P->D + ((size_t)i * (size_t)L->K + (size_t)k0) * P->ld + (size_t)n0 : NULL;
    const float *V = P->V ? P->V + ((size_t)i * (size_t)L->K + (size_t)k0) * P->ld + (size_t)n0 : NULL;
    const int square = P->square;
    float *restrict va4 = scratch, *restrict vw4 = scratch + 4 * (size_t)rows;
    int nk = 0;
    for (int kk = 0; kk < rows; kk++) { /* branch-free: the driven rows are irregular */
        ks[nk] = kk;
        nk += a[kk] != 0;
    }
    for (int r4 = 0; r4 < nr; r4 += 4) { /* four fields at a time */
        const int nf = nr - r4 < 4 ? nr - r4 : 4;
        float tmp[4][TILE_N];
        for (int t = 0; t < nk; t++) {
            const unsigned b = a[ks[t]];
            for (int j = 0; j < 4; j++) {
                const float fa = j < nf ? (float)((b >> shift[r4 + j]) & mask[r4 + j]) : 0.0f;
                va4[4 * t + j] = fa;
                vw4[4 * t + j] = square ? fa * fa : fa;
            }
        }
        if (D) {
            dot4(D, P->ld, nk, ks, va4, nc, &tmp[0][0], TILE_N);
            for (int j = 0; j < nf; j++)
                memcpy(ds + (size_t)(r4 + j) * ldr, tmp[j], (size_t)nc * sizeof(float));
        } else {
            for (int j = 0; j < nf; j++)
                memset(ds + (size_t)(r4 + j) * ldr, 0, (size_t)nc * sizeof(float));
        }
        if (var) {
            if (V)
                dot4(V, P->ld, nk, ks, vw4, nc, &tmp[0][0], TILE_N);
            else
                memset(tmp, 0, sizeof tmp);
            for (int j = 0; j < nf; j++)
                memcpy(var + (size_t)(r4 + j) * ldr, tmp[j], (size_t)nc * sizeof(float));
        }
    }
}

CIM_CLONES void cim__phys_gather(const cim_layer *L, const cim_phys *P, const uint8_t *A, size_t lda, int c, int i,
                                 int nr, const uint8_t *shift, const uint8_t *mask, int count, const uint32_t *row,
                                 const uint32_t *col, const int *which, int nwhich, float *ds, float *var)
{
    const int k0 = L->chunk_k0[c], rows = L->chunk_k0[c + 1] - k0;
    const size_t ldm = P->ld;
    const float *D = P->D ? P->D + ((size_t)i * (size_t)L->K + (size_t)k0) * ldm : NULL;
    const float *V = P->V ? P->V + ((size_t)i * (size_t)L->K + (size_t)k0) * ldm : NULL;
    const int square = P->square;
    for (int x = 0; x < (which ? nwhich : count); x++) {
        const int f = which ? which[x] : x;
        const uint8_t *a = A + (size_t)row[f] * lda;
        const size_t n = col[f];
        float s[CIM_OPERAND_BITS] = {0}, v[CIM_OPERAND_BITS] = {0};
        for (int kk = 0; kk < rows; kk++) {
            const unsigned b = a[kk];
            if (!b)
                continue;
            const float d = D ? D[(size_t)kk * ldm + n] : 0.0f, vv = V ? V[(size_t)kk * ldm + n] : 0.0f;
            for (int r = 0; r < nr; r++) {
                const float fa = (float)((b >> shift[r]) & mask[r]);
                s[r] += fa * d;
                v[r] += (square ? fa * fa : fa) * vv;
            }
        }
        for (int r = 0; r < nr; r++) {
            ds[(size_t)r * (size_t)count + (size_t)f] = s[r];
            if (var)
                var[(size_t)r * (size_t)count + (size_t)f] = v[r];
        }
    }
}

void cim__phys_finish(const cim_layer *L, const cim_phys *P, int c, int i, int window, int count,
                      const uint32_t *col, const int32_t *S, const float *ds, const float *var, const float *z,
                      float *dev)
{
    const size_t base = ((size_t)c * (size_t)L->nws + (size_t)i) * (size_t)L->N;
    const float W = (float)window, vk = (float)P->var_ktc, va = (float)P->var_adc;
    for (int f = 0; f < count; f++) {
        const size_t at = base + col[f];
        dev[f] = finish_one(P->gain[at], P->off[at], P->leak ? P->leak[at] : 0.0f, W, S[f], ds[f],
                            var ? var[f] : 0.0f, vk, va, z, (size_t)f);
    }
}
