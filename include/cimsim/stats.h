/* cimsim/stats.h: the counters every run reports (semantics.md section 9).
 *
 * cim_layer_run() fills a cim_stats with the dynamic counters of that call;
 * cim_layer_info() gives the static mapping of a programmed layer (cells,
 * crossbars, utilization). The cost model is computed from these counts.
 * All counters are exact integers, so they never depend on thread count,
 * kernel or batch split: stats of two batches added with cim_stats_add() equal
 * the stats of the whole batch.
 */
#ifndef CIMSIM_STATS_H
#define CIMSIM_STATS_H

#include <stdint.h>
#include <stdio.h>
#include "ctx.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Exact column-sum histogram: one bin per integer S in [CIM_HIST_MIN, CIM_HIST_MAX],
 * plus counts below and above. S is the noise-free value presented to the ADC
 * (for flipped offset columns, the complemented sum the hardware actually holds). */
#define CIM_HIST_MIN (-4096)
#define CIM_HIST_MAX 4095
#define CIM_HIST_BINS (CIM_HIST_MAX - CIM_HIST_MIN + 1)
/* Resolution histogram: bits[b] counts column sums needing b bits as a signed
 * number (two's complement); b = 0 only for S = 0 ... b = 31. Thesis Fig. 3-1
 * quotes these ("<= 7b 98% of the time"). */
#define CIM_HIST_BITS 32

typedef struct cim_histogram {
    uint64_t below;              /* S < CIM_HIST_MIN */
    uint64_t above;              /* S > CIM_HIST_MAX */
    uint64_t bins[CIM_HIST_BINS];
    uint64_t bits[CIM_HIST_BITS];
} cim_histogram;

typedef struct cim_stats {
    uint64_t vectors;                  /* input vectors processed (M) */
    uint64_t macs;                     /* logical MACs: M * K * N (per phase not counted twice) */
    uint64_t adc_converts;             /* all conversions = speculative/static + recovery */
    uint64_t adc_converts_speculative; /* static slicing conversions are counted here too */
    uint64_t adc_converts_recovery;    /* conversions of failed columns in recovery */
    uint64_t digital_reads;            /* column sums read exactly by digital adders instead of
                                          an ADC (adc: none, digital CiM); not conversions */
    uint64_t saturations;              /* conversions whose code hit qmin or qmax (the flag) */
    uint64_t saturations_recovery;     /* ... of which in recovery (accepted clamped) */
    uint64_t true_clips;               /* conversions whose rounded value lay outside [qmin,qmax] */
    uint64_t speculation_failures;     /* speculative conversions that triggered recovery */
    uint64_t dac_pulses;               /* sum of input slice values driven on rows, over all
                                          crossbars and cycles (pulse-train DAC pulses) */
    uint64_t device_activations;       /* sum over cycles of pulses x programmed level over every
                                          device of every column (= sum of N+ + N- over all
                                          columns that ran, converted or not): charge in units
                                          of G_lsb V t_pulse */
    uint64_t crossbar_cycles;          /* input cycles summed over crossbars (phases included) */
    uint64_t input_sum_adds;           /* digital adds of activations for center/offset terms */
    cim_histogram hist;
} cim_stats;

/* The static mapping of a programmed layer (semantics.md section 5). */
typedef struct cim_layer_info {
    int K, N;                 /* layer rows (reduction length) and output channels */
    int chunks;               /* row chunks: ceil(K / rows) */
    int filters_per_crossbar; /* floor(cols / weight slices) */
    uint64_t crossbars;       /* chunks * ceil(N / filters_per_crossbar) */
    uint64_t cells;           /* weight cells: K * N * weight slices (a 2T2R pair is one) */
    uint64_t devices;         /* physical devices: cells, x2 for differential/center_offset */
    uint64_t cell_level_sum;  /* sum of programmed levels over all devices */
    uint64_t rows_used;       /* sum over crossbars of rows used */
    uint64_t cols_used;       /* sum over crossbars of columns used */
    double utilization;       /* sum(rows_used*cols_used) / (crossbars * rows * cols) */
    uint64_t flipped_columns; /* offset+flip: columns stored complemented */
} cim_layer_info;

/* Zero all counters. */
void cim_stats_reset(cim_stats *s);

/* dst += src, counter by counter (histograms included). */
void cim_stats_add(cim_stats *dst, const cim_stats *src);

/* adc_converts / macs (0 when macs is 0; 0 for digital reads, adc: none). */
double cim_stats_converts_per_mac(const cim_stats *s);

/* Write stats (and, when info is non-NULL, the layer mapping) as a JSON object
 * to `path` ("-" = stdout). Keys: macs, adc_converts, adc_converts_speculative,
 * adc_converts_recovery, digital_reads, saturations, saturations_recovery, true_clips,
 * speculation_failures, converts_per_mac, saturation_rate, dac_pulses,
 * device_activations, crossbar_cycles, input_sum_adds, vectors, cells, devices,
 * cell_level_sum, crossbars, rows_used, cols_used, utilization,
 * column_sum_histogram {min, max, below, above, bins: [[S, count], ...] (non-zero
 * only)}, column_sum_bits [[bits, count], ...], plus `extra` members (a JSON
 * object text, may be NULL) merged at top level. The file is written to a
 * temporary name and renamed, so a failure leaves no partial file. */
cim_status cim_stats_write_json(cim_ctx *ctx, const char *path, const cim_stats *s,
                                const cim_layer_info *info, const char *extra_json);

#ifdef __cplusplus
}
#endif
#endif
