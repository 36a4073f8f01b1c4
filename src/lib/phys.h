/* phys.h: the physical models of cimsim/analog.h inside a programmed layer
 * (internal; docs/analog.md has every equation and its source).
 *
 * At programming time (cim__phys_build, phys.c) every device of the layer
 * gets its static conductance (programming error, PCM programming noise,
 * drift at t_inference, a static 1/f draw, stuck cells, static IR drop or the
 * exact per-row transfer weights of the time-dependent IR model), and the
 * layer keeps, per cell (row k, weight slice i, channel n), float
 *   D[i][k][n]  its deviation per unit input, in level units (LU): what one
 *               unit of input on row k adds to the column charge beyond the
 *               exact level (v+ - v-), so S~ = S + sum_k a_k D_kn;
 *   V[i][k][n]  its per-read variance, LU^2 (device read noise, PCM 1/f per
 *               read): a conversion adds sum_k a_k V_kn (pulse_count) or
 *               sum_k a_k^2 V_kn (amplitude, pulse_width) of variance;
 * and per column (chunk c, weight slice i, channel n) the gain the ADC input
 * sees (drift compensation x (1 + ADC gain error)), its offset (ADC offset,
 * LU) and, with time-dependent IR drop, the idle rows' leak per unit of
 * window (LU). Nothing noisy is ever materialized per read: at run time
 * (phys_run.c) a conversion's deviation is two dot products of the input
 * slice values with D and V, and one normal for all per-operation noise:
 *   S~ = g (S + sum_k a_k D_k + W b) + o
 *        + sqrt(g^2 (sum_k w(a_k) V_k + var_ktc) + var_adc) z'
 * (W: the cycle's window in units of t_pulse, b: the leak per unit window).
 * Static draws are keyed by (seed, layer, row, channel, weight slice,
 * device, source); z' by the conversion (noise.h) in a stream of its own. */
#ifndef CIMSIM_PHYS_H
#define CIMSIM_PHYS_H

#include "layer_internal.h"

/* Channels per block of the run's dot products (phys_run.c); D and V rows are
 * padded to a multiple of it. */
#define CIM_PHYS_NB 16

typedef struct cim_phys {
    float *D;       /* [nws][K][ld] LU per unit input; NULL: no static device model */
    float *V;       /* [nws][K][ld] LU^2 per read; NULL: no per-read device noise */
    size_t ld;      /* N rounded up to CIM_PHYS_NB (the padding is 0) */
    float *gain;    /* [nchunks][nws][N] */
    float *off;     /* [nchunks][nws][N] LU */
    float *leak;    /* [nchunks][nws][N] LU per unit of window (time-dependent IR drop); NULL: none */
    double var_ktc; /* integrator kT/C noise variance, LU^2 (before the gain) */
    double var_adc; /* ADC input-referred noise variance, LU^2 (after the gain) */
    double drift_gain; /* the layer's global drift compensation gain (1: none) */
    double lu_us;   /* one level step of conductance, uS: (G_on - G_off) / (2^s - 1) */
    double q_lu;    /* one level unit of charge, C */
    int per_op;     /* some per-operation noise: draw z' */
    int square;     /* read-noise variance weighs a^2 (amplitude, pulse_width), else a */
} cim_phys;

/* One device's static state (uS), for the layer build and for tests. */
typedef struct cim_phys_device {
    double g_target; /* G(v) = G_off + v/(2^s - 1) (G_on - G_off) */
    double g_prog;   /* after programming error and PCM programming noise (>= 0) */
    double nu;       /* PCM drift exponent (0 without pcm_drift) */
    double g_drift;  /* g_prog (t / t0)^-nu */
    double g_final;  /* after the static 1/f draw and stuck cells (before IR drop) */
    double var_read; /* per-read variance, uS^2: read noise and PCM 1/f per read */
    int stuck;       /* 0, 1 stuck on, 2 stuck off */
} cim_phys_device;

/* The static draws of device `dev` (0: G+ or the 1T1R cell, 1: G-) at row k,
 * weight slice i, channel n of layer `layer`, programmed at `level`. */
void cim__phys_device(const cim_analog_config *a, int cell_bits, uint64_t seed, uint32_t layer, int k, int n, int i,
                      int dev, int level, cim_phys_device *out);

/* Per-ADC static draws: offset (in ADC steps, times adc_offset_lsb) and the
 * relative gain error, of ADC `adc` of crossbar `xbar` in chunk c. */
void cim__phys_adc(const cim_analog_config *a, uint64_t seed, uint32_t layer, int c, int xbar, int adc,
                   double *offset_lsb, double *gain);

/* The ADC a column uses: channel n, weight slice i (semantics.md section 5:
 * filters packed in channel order, a filter's slices side by side). */
void cim__phys_adc_of(const cim_layer *L, int n, int i, int *xbar, int *adc);

/* Build L->phys when the layer's analog models are on (program.c); frees
 * nothing on failure (cim_layer_free does). */
cim_status cim__phys_build(cim_ctx *ctx, cim_layer *L);
void cim__phys_free(cim_ctx *ctx, cim_phys *P);

/* The window of a DAC cycle of `width` input bits, in units of t_pulse. */
static inline int cim__phys_window(const cim_analog_config *a, int width)
{
    return a->drive == CIM_DRIVE_AMPLITUDE ? 1 : (1 << width) - 1;
}

/* Run time (phys_run.c). The ADC-input deviation dev (S~ = S + dev) of a
 * tile: mc vectors whose input-slice values on chunk c are A + mm * lda
 * (chunk rows), weight slice i, channels n0 .. n0 + nc - 1; S and z' (NULL
 * without per-operation noise) and dev at mm * ld + nn. scratch: 8 x the
 * chunk's rows floats, ks: its rows ints (both also for row_fields). */
void cim__phys_tile(const cim_layer *L, const cim_phys *P, const uint8_t *A, size_t lda, int c, int i, int width,
                    int mc, int n0, int nc, const int32_t *S, const float *z, float *dev, size_t ld, float *scratch,
                    int *ks);

/* The static and per-read sums of scattered conversions: failure f (vector
 * row A + row[f] * lda, channel col[f]) and recovery field r < nr (bits
 * (byte >> shift[r]) & mask[r] of the speculative byte): sum_k a D into
 * ds[r * count + f], sum_k w(a) V into var[r * count + f] (when P->V and
 * var). which: only failures which[x], x < nwhich (NULL: all). */
void cim__phys_gather(const cim_layer *L, const cim_phys *P, const uint8_t *A, size_t lda, int c, int i, int nr,
                      const uint8_t *shift, const uint8_t *mask, int count, const uint32_t *row,
                      const uint32_t *col, const int *which, int nwhich, float *ds, float *var);

/* The same sums for one vector (speculative bytes a, the chunk's rows) and
 * every channel n0 .. n0 + nc - 1: field r's into ds[r * ldr + nn] (and var).
 * Vectorized across channels; the same bits as cim__phys_gather (both add
 * row by row, in order). */
void cim__phys_row_fields(const cim_layer *L, const cim_phys *P, const uint8_t *a, int c, int i, int nr,
                          const uint8_t *shift, const uint8_t *mask, int n0, int nc, float *ds, float *var,
                          size_t ldr, float *scratch, int *ks);

/* dev[f] from those sums for conversions f < count of chunk c, weight slice
 * i, channels col[f], window W, with exact sums S[f] and normals z (NULL: none). */
void cim__phys_finish(const cim_layer *L, const cim_phys *P, int c, int i, int window, int count,
                      const uint32_t *col, const int32_t *S, const float *ds, const float *var, const float *z,
                      float *dev);

#endif
