/* recover.c: dynamic input slicing's recovery (semantics.md section 7). */
#include <string.h>
#include "run_internal.h"

/* Recovery of the failed columns of one (chunk c, weight slice i, speculative
 * slice j) tile: each failed column's bits of slice j are re-run as recovery
 * slices and only that column converts; a saturated recovery is kept clamped.
 * The exact sums of all recovery slices but the last come from the kernels
 * (one dot product per failure when failures are few, whole-tile calls when
 * they are many); the last (least significant) one is the speculative sum
 * minus the others, exactly. All failures of one recovery slice go through the
 * ADC stage together, and each failure's total is added once. */
CIM_CLONES void cim__recover(run_state *R, worker *w, uint64_t sb_vector, int tm0, int mc, int n0, int nc, int np, int c,
                    int i, int j, int phase, int nfail, const uint8_t *flip, cim_noise_key key)
{
    const cim_layer *L = R->L;
    int64_t sign = phase ? -1 : 1, flipmax = cim__pow2(L->ws[i].width) - 1;
    int dense = nfail * 8 > mc * nc, rc = L->rec_count[j];
    cim_adc_counts cnt = {0, 0};
    uint32_t *hist = R->hist ? w->hist : NULL;
    for (int f = 0; f < nfail; f++) {
        w->fch[f] = (uint32_t)(n0 + w->fail[f] % TILE_N);
        w->frest[f] = w->S[w->fail[f]];
    }
    memset(w->facc, 0, (size_t)nfail * sizeof(int64_t));
    if (flip)
        memset(w->fconst, 0, (size_t)nfail * sizeof(int64_t));
    if (R->noise)
        for (int f = 0; f < nfail; f++) {
            w->fvec[f] = sb_vector + (uint64_t)(tm0 + w->fail[f] / TILE_N);
            w->frest_abs[f] = w->Ab[w->fail[f]];
        }
    for (int r = 0; r < rc; r++) {
        int q = L->nis + L->rec_first[j] + r;
        const cim_recovery_slice *rec = &L->rec[L->rec_first[j] + r];
        int rel = rec->bits.lo - L->is[j].lo; /* place value inside the speculative slice */
        const int32_t *fs = w->fs, *fa = w->fa;
        if (r == rc - 1) { /* the last slice sits at the bottom (rel == 0): what is left */
            fs = w->frest;
            fa = w->frest_abs;
        } else {
            if (dense) {
                cim__tile_colsums(R, w, q, c, i, tm0, mc, n0, np, w->R, w->Ra);
                for (int f = 0; f < nfail; f++)
                    w->fs[f] = w->R[w->fail[f]];
                if (R->noise)
                    for (int f = 0; f < nfail; f++)
                        w->fa[f] = w->Ra[w->fail[f]];
            } else {
                for (int f = 0; f < nfail; f++)
                    cim__dot_colsum(R, q, c, i, tm0 + w->fail[f] / TILE_N, (int)w->fch[f], &w->fs[f], &w->fa[f]);
            }
            for (int f = 0; f < nfail; f++)
                w->frest[f] -= w->fs[f] * (1 << rel);
            if (R->noise)
                for (int f = 0; f < nfail; f++)
                    w->frest_abs[f] -= w->fa[f] * (1 << rel);
        }
        if (R->noise) {
            key.islice = 0x100u | (uint32_t)j << 4 | (uint32_t)rec->index;
            R->stage->noise_points(&key, w->fvec, w->fch, nfail, w->fz);
        }
        int64_t weight = sign * cim__pow2(L->ws[i].lo + rec->bits.lo);
        cim_adc_row a = {(int32_t)R->adc.qmin, (int32_t)R->adc.qmax, R->adc.t, weight, NULL, 0, R->adc.level,
                         R->hist_base};
        R->stage->adc_tile(&a, NULL, 1, nfail, fs, fa, w->fz, 0, w->facc, 0, NULL, 0, hist, w->bits_out, &cnt);
        if (flip) /* a complemented column's value is weight * (S_total - q 2^t) */
            for (int f = 0; f < nfail; f++)
                w->fconst[f] += weight * flipmax *
                                R->rs[((size_t)q * (size_t)R->ms + (size_t)(tm0 + w->fail[f] / TILE_N)) * (size_t)L->nchunks + (size_t)c];
    }
    for (int f = 0; f < nfail; f++) {
        int nn = w->fail[f] % TILE_N;
        int64_t v = flip && flip[nn] ? w->fconst[f] - w->facc[f] : w->facc[f];
        R->acc[(size_t)(tm0 + w->fail[f] / TILE_N) * (size_t)L->N + (size_t)(n0 + nn)] += v;
    }
    w->hist_pending += (uint64_t)nfail * (uint64_t)rc;
    w->st.adc_converts_recovery += (uint64_t)nfail * (uint64_t)rc;
    w->st.saturations += cnt.saturations;
    w->st.saturations_recovery += cnt.saturations;
    w->st.true_clips += cnt.clips;
}

