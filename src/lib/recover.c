/* recover.c: dynamic input slicing's recovery (semantics.md section 7). */
#include <string.h>
#include "run_internal.h"

/* Recovery of the failed columns of one (chunk c, weight slice i, speculative
 * slice j) tile: each failed column's bits of slice j are re-run as recovery
 * slices and only that column converts; a saturated recovery is kept clamped.
 *
 * The failures come in the order the ADC stage found them, by vector and
 * then column, so the gathered dot-product kernel reads a vector's input
 * bytes once for several of its failed columns (ordering them by column
 * instead, so that each weight column is read once, measured 7% slower on
 * the whole run). The exact sums of all recovery slices but the last come from that
 * kernel, every such slice of a failure in one pass (or, when many failed,
 * from whole-tile kernel calls); the last (least significant) one is the
 * speculative sum minus the others, exactly. The normals of all recovery
 * slices are drawn at once, all failures of one recovery slice go through the
 * ADC stage together, and each failure's total is added once. Results do not
 * depend on the order. */
CIM_CLONES void cim__recover(run_state *R, worker *w, uint64_t sb_vector, int tm0, int mc, int n0, int nc, int np, int c,
                    int i, int j, int phase, int nfail, const uint8_t *flip, cim_noise_key key)
{
    const cim_layer *L = R->L;
    int64_t sign = phase ? -1 : 1, flipmax = cim__pow2(L->ws[i].width) - 1;
    int rc = L->rec_count[j];
    cim_adc_counts cnt = {0, 0};
    uint32_t *hist = R->hist ? w->hist : NULL;
    const uint16_t *fail = w->fail;
    const int ld = cim__tile_ld(R, nc); /* the tile's sums: row mm at mm * ld */

    {
        uint32_t *restrict frow = w->frow, *restrict fch = w->fch;
        int32_t *restrict frest = w->frest;
        const int32_t *restrict S = w->S;
        for (int f = 0; f < nfail; f++) {
            frow[f] = (uint32_t)(tm0 + fail[f] / TILE_N);
            fch[f] = (uint32_t)(n0 + fail[f] % TILE_N);
        }
        if (ld == TILE_N) /* the failure index is the tile index */
            for (int f = 0; f < nfail; f++)
                frest[f] = S[fail[f]];
        else
            for (int f = 0; f < nfail; f++)
                frest[f] = S[fail[f] / TILE_N * ld + fail[f] % TILE_N];
    }
    if (R->acc32)
        memset(w->facc32, 0, (size_t)nfail * sizeof(int32_t));
    else
        memset(w->facc, 0, (size_t)nfail * sizeof(int64_t));
    if (flip)
        memset(w->fconst, 0, (size_t)nfail * sizeof(int64_t));
    const cim_phys *P = R->phys;
    if (R->noise || (P && P->per_op)) {
        uint64_t *restrict fvec = w->fvec;
        const uint32_t *restrict frow = w->frow;
        for (int f = 0; f < nfail; f++)
            fvec[f] = sb_vector + (uint64_t)frow[f];
    }
    if (R->noise) {
        int32_t *restrict frest_abs = w->frest_abs;
        const int32_t *restrict Ab = w->Ab;
        if (ld == TILE_N)
            for (int f = 0; f < nfail; f++)
                frest_abs[f] = Ab[fail[f]];
        else
            for (int f = 0; f < nfail; f++)
                frest_abs[f] = Ab[fail[f] / TILE_N * ld + fail[f] % TILE_N];
    }
    key.islice = 0x100u | (uint32_t)j << 4;
    if (R->noise) /* every recovery slice's normals at once */
        R->stage->noise_recovery(&key, w->fvec, w->fch, nfail, rc, w->fz);
    if (P) { /* the physical models: every recovery slice's sums with D and V in one pass (phys.h) */
        if (P->per_op) {
            cim_noise_key kp = key;
            kp.islice |= CIM_PHYS_STREAM;
            R->stage->noise_recovery(&kp, w->fvec, w->fch, nfail, rc, w->fzp);
        }
        uint8_t shift[CIM_OPERAND_BITS], mask[CIM_OPERAND_BITS];
        for (int r = 0; r < rc; r++) {
            cim_slice b = L->rec[L->rec_first[j] + r].bits;
            shift[r] = (uint8_t)(b.lo - L->is[j].lo);
            mask[r] = (uint8_t)((1u << b.width) - 1);
        }
        if (P->D || P->V) {
            /* A vector with at least ceil(nc / 16) failures: all its channels at
             * once, vectorized (one block of 16 channels costs about what one
             * failure summed alone does; thresholds from nc / 32 to nc / 8
             * measured alike on ResNet-8); the others one by one. The same bits
             * either way. */
            const uint8_t *A = R->planes + (size_t)j * R->plane_stride + (size_t)L->chunk_off[c];
            const size_t nt = (size_t)TILE_M * TILE_N;
            int per_row[TILE_M], lone = 0, *which = w->fwhich;
            memset(per_row, 0, sizeof per_row);
            for (int f = 0; f < nfail; f++)
                per_row[fail[f] / TILE_N]++;
            const int thr = (nc + 15) / 16;
            for (int mm = 0; mm < mc; mm++)
                if (per_row[mm] >= thr && per_row[mm] > 0)
                    cim__phys_row_fields(L, P, A + (size_t)(tm0 + mm) * (size_t)L->kp_total, c, i, rc, shift, mask,
                                         n0, nc, w->fdt + (size_t)mm * TILE_N, P->V ? w->fvt + (size_t)mm * TILE_N : NULL,
                                         nt, w->pscr, w->pks);
            for (int f = 0; f < nfail; f++) {
                const int mm = fail[f] / TILE_N;
                if (per_row[mm] >= thr) {
                    for (int r = 0; r < rc; r++) {
                        w->fds[(size_t)r * (size_t)nfail + (size_t)f] = w->fdt[(size_t)r * nt + fail[f]];
                        if (P->V)
                            w->fvar[(size_t)r * (size_t)nfail + (size_t)f] = w->fvt[(size_t)r * nt + fail[f]];
                    }
                } else {
                    which[lone++] = f;
                }
            }
            if (lone)
                cim__phys_gather(L, P, A, (size_t)L->kp_total, c, i, rc, shift, mask, nfail, w->frow, w->fch, which,
                                 lone, w->fds, P->V ? w->fvar : NULL);
        } else {
            memset(w->fds, 0, (size_t)rc * (size_t)nfail * sizeof(float));
        }
    }
    const int q0 = L->nis + L->rec_first[j];
    /* A gathered dot product costs about three times a tile entry's share of a
     * whole-tile kernel call (measured): above a third of the tile failed,
     * whole-tile calls are cheaper. */
    if (rc > 1 && nfail * 3 > mc * nc && mc <= TILE_M) { /* (its buffers hold TILE_M rows) */
        for (int r = 0; r < rc - 1; r++) {
            int32_t *restrict fs = w->fs + (size_t)r * (size_t)nfail, *restrict fa = w->fa + (size_t)r * (size_t)nfail;
            cim__tile_colsums_rec(R, w, j, r, c, i, tm0, mc, n0, np, w->R, w->Ra);
            for (int f = 0; f < nfail; f++)
                fs[f] = w->R[fail[f]];
            if (R->noise)
                for (int f = 0; f < nfail; f++)
                    fa[f] = w->Ra[fail[f]];
        }
    } else if (rc > 1) { /* every recovery slice but the last, all at once */
        cim__gather_colsums(R, w, j, 0, rc - 1, c, i, nfail, w->frow, w->fch, w->fs, w->fa);
    }
    for (int r = 0; r < rc; r++) {
        int q = q0 + r;
        const cim_recovery_slice *rec = &L->rec[L->rec_first[j] + r];
        int rel = rec->bits.lo - L->is[j].lo; /* place value inside the speculative slice */
        const int32_t *fs = w->fs + (size_t)r * (size_t)nfail, *fa = w->fa + (size_t)r * (size_t)nfail;
        if (r == rc - 1) { /* the last slice sits at the bottom (rel == 0): what is left */
            fs = w->frest;
            fa = w->frest_abs;
        } else {
            int32_t *restrict rest = w->frest, *restrict rest_abs = w->frest_abs;
            for (int f = 0; f < nfail; f++)
                rest[f] -= fs[f] * (1 << rel);
            if (R->noise)
                for (int f = 0; f < nfail; f++)
                    rest_abs[f] -= fa[f] * (1 << rel);
        }
        int64_t weight = sign * cim__pow2(L->ws[i].lo + rec->bits.lo);
        cim_adc_row a = {(int32_t)R->adc.qmin, (int32_t)R->adc.qmax, R->adc.t, weight, NULL, 0, R->adc.level,
                         R->hist_base, 0, NULL, NULL, NULL, {0, 0, 0, 0, 0, 0, 0}, 0};
        if (P) {
            float *dev = w->fdev + (size_t)r * (size_t)nfail;
            cim__phys_finish(L, P, c, i, cim__phys_window(&L->cfg.analog, rec->bits.width), nfail, w->fch, fs,
                             w->fds + (size_t)r * (size_t)nfail, P->V ? w->fvar + (size_t)r * (size_t)nfail : NULL,
                             P->per_op ? w->fzp + (size_t)r * (size_t)nfail : NULL, dev);
            a.dev = dev;
        }
        const float *fz = w->fz + (size_t)r * (size_t)nfail;
        if (R->acc32) /* the bound of fits_int32 covers a failure's recovery terms */
            R->stage->adc_tile32(&a, NULL, 1, nfail, fs, fa, fz, 0, w->facc32, 0, NULL, 0, hist, w->bits_out, &cnt);
        else
            R->stage->adc_tile(&a, NULL, 1, nfail, fs, fa, fz, 0, w->facc, 0, NULL, 0, hist, w->bits_out, &cnt);
        if (flip) /* a complemented column's value is weight * (S_total - q 2^t) */
            for (int f = 0; f < nfail; f++)
                w->fconst[f] += weight * flipmax *
                                R->rs[((size_t)q * (size_t)R->ms + (size_t)w->frow[f]) * (size_t)L->nchunks + (size_t)c];
    }
    /* into the tile's 32-bit accumulators when the run uses them (the bound of
     * fits_int32 covers recoveries), else into the run's */
    const int64_t *restrict fconst = w->fconst;
    if (R->acc32) {
        const int32_t *restrict facc = w->facc32;
        int32_t *restrict acc32 = w->acc32;
        if (!flip && ld == TILE_N)
            for (int f = 0; f < nfail; f++)
                acc32[fail[f]] += facc[f];
        else
            for (int f = 0; f < nfail; f++) {
                int nn = fail[f] % TILE_N;
                int64_t v = flip && flip[nn] ? fconst[f] - facc[f] : facc[f];
                acc32[fail[f] / TILE_N * ld + nn] += (int32_t)v;
            }
    } else {
        const int64_t *restrict facc = w->facc;
        const uint32_t *restrict frow = w->frow;
        for (int f = 0; f < nfail; f++) {
            int nn = fail[f] % TILE_N;
            int64_t v = flip && flip[nn] ? fconst[f] - facc[f] : facc[f];
            R->acc[(size_t)frow[f] * (size_t)L->N + (size_t)(n0 + nn)] += v;
        }
    }
    w->hist_pending += (uint64_t)nfail * (uint64_t)rc;
    w->st.adc_converts_recovery += (uint64_t)nfail * (uint64_t)rc;
    w->st.saturations += cnt.saturations;
    w->st.saturations_recovery += cnt.saturations;
    w->st.true_clips += cnt.clips;
}
