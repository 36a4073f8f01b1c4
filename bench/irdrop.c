/* irdrop.c: speed of the time-dependent IR-drop column model (issue 6,
 * section 2; src/lib/irdrop.h, docs/irdrop.md).
 *
 * One conversion = the charge one 512-row column integrates for one input
 * vector of pulse widths (Luquin et al.: 0.15 Ohm per cell, rows at 0.6/0.2 V
 * by sign or 0.4 V idle, column held at 0.4005 V). Columns are 2T2R pairs of
 * PCM-like conductances (0.1 .. 25 uS), inputs are signed pulse widths drawn
 * uniformly from 0 .. 2^b - 1 for b = 8 and b = 4. Timed forms:
 *   stepwise  IBM's scheme: the ladder re-collapsed in every unit step, O(n W)
 *   event     one ladder solve per distinct pulse end, O(n D)
 *   default   cim_ir_column_charge: transfer weights on the fly, O(n)
 *   weights   the weights kept per column (static), one O(n) sum per conversion
 * Single thread, fixed seed; median of --reps rounds; a checksum per form
 * (sum of charges in level units) and the largest difference between forms
 * relative to the charge scale, so a faster form that changes the answer
 * shows.
 *
 * usage: bench_irdrop [--reps R] [--scale S]  (S multiplies the work per round) */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "lib/irdrop.h"

#define ROWS 512
#define COLS 8
#define VECS 32

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static uint64_t rng_state = 0x1234567887654321ull;
static double urand(void) /* splitmix64, [0, 1) */
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return (double)(z >> 11) * 0x1.0p-53;
}

enum { F_STEP, F_EVENT, F_DEFAULT, F_WEIGHTS, NFORMS };
static const char *form_name[NFORMS] = {"stepwise (IBM)", "event-driven", "default (weights on the fly)",
                                        "weights kept per column"};

static double gp[COLS][ROWS], gm[COLS][ROWS], wts[COLS][ROWS], work[4 * ROWS];
static uint16_t width[VECS][ROWS];
static int8_t sign_[VECS][ROWS];

static double convert(int form, const cim_ir_params *p, int c, int v)
{
    switch (form) {
    case F_STEP:
        return cim_ir_column_charge_stepwise(p, ROWS, gp[c], gm[c], width[v], sign_[v], -1);
    case F_EVENT:
        return cim_ir_column_charge_event(p, ROWS, gp[c], gm[c], width[v], sign_[v], -1, work);
    case F_DEFAULT:
        return cim_ir_column_charge(p, ROWS, gp[c], gm[c], width[v], sign_[v], work);
    default:
        return cim_ir_charge_weights(p, ROWS, gp[c], gm[c], wts[c], width[v], sign_[v], -1);
    }
}

int main(int argc, char **argv)
{
    int reps = 5;
    double scale = 1.0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--reps"))
            reps = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--scale"))
            scale = atof(argv[i + 1]);
    }
    if (reps < 1 || reps > 99 || !(scale > 0.0 && scale <= 1000.0)) {
        fprintf(stderr, "usage: bench_irdrop [--reps R (1-99)] [--scale S (0-1000]]\n");
        return 2;
    }
    const cim_ir_params p = {0.15, 0.4005, 0.4, 0.2, 1e-9};
    const double g_on = 25e-6, g_off = 0.1e-6;
    /* one level unit of a 4-bit cell (analog.h): the checksum is in LU */
    const double q_lu = (g_on - g_off) / 15.0 * p.v_read * p.t_unit_s;
    for (int c = 0; c < COLS; c++) {
        for (int k = 0; k < ROWS; k++) {
            gp[c][k] = g_off + (g_on - g_off) * (double)(int)(urand() * 16) / 15.0;
            gm[c][k] = g_off + (g_on - g_off) * (double)(int)(urand() * 16) / 15.0;
        }
        if (cim_ir_weights(&p, ROWS, gp[c], gm[c], wts[c]) != 0) {
            fprintf(stderr, "bench_irdrop: cim_ir_weights failed\n");
            return 1;
        }
    }
    double wmin = 1.0;
    for (int c = 0; c < COLS; c++)
        for (int k = 0; k < ROWS; k++)
            wmin = wts[c][k] < wmin ? wts[c][k] : wmin;
    printf("bench_irdrop: %d-row columns (2T2R, %d columns x %d input vectors), r_wire %.2f Ohm, "
           "one thread, median of %d rounds\n\n",
           ROWS, COLS, VECS, p.r_wire_ohm, reps);
    printf("transfer weights: smallest %.4f (the far rows); 1 = no drop\n\n", wmin);
    printf("%-6s %-30s %14s %10s %22s\n", "input", "form", "conversions/s", "speedup", "checksum (LU)");
    const int bits_list[2] = {8, 4};
    /* conversions per round for each form (the slow ones need fewer) */
    const double base[NFORMS] = {64, 256, 32768, 65536};
    int rc = 0;
    for (int b = 0; b < 2; b++) {
        int bits = bits_list[b];
        for (int v = 0; v < VECS; v++)
            for (int k = 0; k < ROWS; k++) {
                width[v][k] = (uint16_t)(urand() * (double)(1 << bits));
                double s = urand();
                sign_[v][k] = (int8_t)(s < 0.45 ? 1 : s < 0.9 ? -1 : 0);
            }
        /* exactness across forms on every (column, vector) pair; the
         * checksums sum all pairs; the drop is the change from r = 0 */
        double maxrel = 0.0, checksum[NFORMS] = {0}, drop = 0.0, ideal = 0.0;
        cim_ir_params p0 = p;
        p0.r_wire_ohm = 0.0;
        for (int c = 0; c < COLS; c++)
            for (int v = 0; v < VECS; v++) {
                double ref = convert(F_STEP, &p, c, v), mag = 0.0;
                double q0 = cim_ir_column_charge(&p0, ROWS, gp[c], gm[c], width[v], sign_[v], work);
                drop += fabs(ref - q0) / q_lu;
                ideal += fabs(q0) / q_lu;
                checksum[F_STEP] += ref / q_lu;
                for (int k = 0; k < ROWS; k++)
                    mag += (fabs(p.v_read * (gp[c][k] - gm[c][k])) * width[v][k] +
                            fabs(p.v_idle - p.v_col) * (gp[c][k] + gm[c][k]) * ((1 << bits) - 1)) *
                           p.t_unit_s;
                for (int f = 1; f < NFORMS; f++) {
                    double q = convert(f, &p, c, v), d = fabs(q - ref) / mag;
                    checksum[f] += q / q_lu;
                    if (!(d <= maxrel))
                        maxrel = isnan(d) ? INFINITY : d;
                }
            }
        double rate[NFORMS];
        for (int f = 0; f < NFORMS && !rc; f++) {
            long iters = (long)(base[f] * scale * (bits == 4 && f < F_DEFAULT ? 8 : 1));
            if (iters < 1)
                iters = 1;
            double t[99], sum = 0.0;
            for (int r = 0; r < reps; r++) {
                double t0 = now();
                for (long i = 0; i < iters; i++) {
                    int c = (int)(i % COLS), v = (int)((i / COLS) % VECS);
                    sum += convert(f, &p, c, v);
                }
                t[r] = now() - t0;
            }
            if (!isfinite(sum)) {
                fprintf(stderr, "bench_irdrop: %s returned a non-finite charge\n", form_name[f]);
                rc = 1;
            }
            qsort(t, (size_t)reps, sizeof t[0], cmp);
            rate[f] = (double)iters / t[reps / 2];
            printf("%d-bit  %-30s %14.0f %9.1fx %22.12e\n", bits, form_name[f], rate[f], rate[f] / rate[F_STEP],
                   checksum[f]);
        }
        printf("%d-bit  largest |form - stepwise| / charge scale over %d conversions: %.2e\n", bits,
               COLS * VECS, maxrel);
        printf("%d-bit  IR drop: mean |Q - Q(r=0)| %.1f LU against mean |Q(r=0)| %.1f LU (%.2f%%)\n\n", bits,
               drop / (COLS * VECS), ideal / (COLS * VECS), 100.0 * drop / ideal);
        if (!(maxrel < 1e-12)) {
            fprintf(stderr, "bench_irdrop: the forms disagree (%.3g)\n", maxrel);
            rc = 1;
        }
    }
    return rc;
}
