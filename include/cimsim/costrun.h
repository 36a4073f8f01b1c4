/* cimsim/costrun.h: a network's cost on a hardware architecture (docs/energy.md,
 * "Hardware side" and "Cost without data").
 *
 * Two steps, shared by `cimsim eval` (counters measured by a run) and
 * `cimsim cost` (counters estimated from layer shapes and value statistics):
 *
 * 1. cim_cost_hw: the layers mapped onto a hardware file (hw.h, cim_hw_map:
 *    crossbars, weight copies, cycles, the pipeline's slowest layer), and the
 *    chip's figures: area by component, latency (one inference through every
 *    layer), throughput (inferences/s, TOPS = 2 x MACs x inferences/s), power
 *    at that throughput from the energy per inference, TOPS/W (= operations
 *    per pJ of the energy per inference) and TOPS/mm2.
 *
 * 2. cim_cost_estimate_layer: the counters a layer would produce (cim_stats,
 *    cim_layer_info) from its shape and per-layer rates: conversions per MAC at
 *    full utilization, DAC pulses per driven row, device activations per MAC,
 *    input-sum adds per input value. The rates come from a previous
 *    `cimsim eval --json` (cim_cost_rates_from_eval) or from stated assumptions
 *    (cim_cost_rates_assumed). cim_energy_layer prices the result.
 *
 * Errors are cim_status with messages naming the file and field; nothing aborts.
 */
#ifndef CIMSIM_COSTRUN_H
#define CIMSIM_COSTRUN_H

#include <stdint.h>
#include "ctx.h"
#include "config.h"
#include "stats.h"
#include "hw.h"
#include "energy.h"
#include "workload.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The chip-level result of cim_cost_hw. */
typedef struct cim_cost_hw_result {
    char hw[CIM_HW_TEXT_MAX];  /* hardware name (built in) or file */
    cim_hw_cost cost;          /* area and peak power by component and level */
    int chips;                 /* chips needed for one copy of every layer */
    int tiles;                 /* tiles per chip */
    double tile_power_mw;      /* peak power of one tile (hw.h) */
    double tile_area_mm2;
    double area_mm2;           /* chips x chip area */
    double peak_power_w;       /* chips x chip peak power (hw.h) */
    double power_w;            /* energy per inference x inferences/s (0 without energy) */
    double inferences_per_s;   /* pipeline throughput: 1 / the slowest layer's time */
    double latency_ns;         /* one inference: sum of the layers' times */
    double tops;               /* 2 x MACs per inference x inferences/s / 1e12 */
    double tops_per_w;         /* 2 x MACs / energy per inference in pJ (0 without energy) */
    double tops_per_mm2;
    double macs;               /* per inference */
    uint64_t crossbars_used;
    int bottleneck;            /* the slowest layer */
    double units_per_chip[CIM_HW_LEVELS]; /* crossbars, IMAs, tiles, 1 per chip */
} cim_cost_hw_result;

/* The built-in hardware file for an arch preset name: "isaac" for isaac,
 * "raella" for raella and raella-*, "isaac-16b" for isaac-16b, else NULL. */
const char *cim_cost_hw_default(const char *arch_name);

/* Map n layers onto hardware `hw_spec` (a built-in name or YAML path) with
 * the built-in component library; energy_pj_per_inference <= 0: no energy
 * (power_w and tops_per_w 0). maps (may be NULL) gets n per-layer mappings. */
cim_status cim_cost_hw(cim_ctx *ctx, const char *hw_spec, const cim_hw_layer *layers, int n,
                       double energy_pj_per_inference, cim_cost_hw_result *out, cim_hw_layer_map *maps);

/* Per-layer rates that turn a shape into counters. */
typedef struct cim_cost_rates {
    double converts_per_mac;     /* ADC conversions per MAC at full row utilization */
    double dac_pulses_per_row;   /* DAC pulses per row drive (one input value on one crossbar) */
    double activations_per_mac;  /* device activations per MAC */
    double input_sum_per_input;  /* input-sum adds per input value (K per vector) */
    double level_mean;           /* mean programmed level per device */
    double speculation_failure_rate; /* documentation: failed speculative conversions (assumed only) */
    int assumed;                 /* 1: stated assumptions, 0: measured */
} cim_cost_rates;

/* The assumed rates for cfg (docs/energy.md "Cost without data"): static
 * slicing converts every used column once per input slice and phase (exact);
 * speculation adds 2% failed columns x recovery slices (the thesis' failure
 * rate, giving RAELLA 0.0185 conversions/MAC); inputs of mean code
 * `input_mean` (|x - zx|, <= 0: 20) on `input_density` of the rows (<= 0: 0.5);
 * devices at a quarter of their top level; one input-sum add per input value
 * for center_offset. */
void cim_cost_rates_assumed(const cim_xbar_config *cfg, double input_mean, double input_density,
                            cim_cost_rates *out);

/* Rates measured by a run: counters st on mapping info under cfg. */
void cim_cost_rates_measured(const cim_xbar_config *cfg, const cim_stats *st, const cim_layer_info *info,
                             cim_cost_rates *out);

/* The counters and mapping of one inference of a layer (K x N per group,
 * groups, M vectors per group) under cfg with rates r. */
cim_status cim_cost_estimate_layer(cim_ctx *ctx, const cim_xbar_config *cfg, int K, int N, int groups, uint64_t M,
                                   const cim_cost_rates *r, cim_stats *st, cim_layer_info *info);

/* Rates from a `cimsim eval --json` file (an object, or the first element of
 * an array): n layer rates with their names, MACs and op types (free
 * with cim_cost_eval_rates_free) ("Conv", "Gemm"...);
 * errors name the file and field. */
typedef struct cim_cost_eval_rates {
    int n;
    char (*name)[128];
    char (*op_type)[32];
    uint64_t *macs;
    cim_cost_rates *rates;
    char arch[128];
} cim_cost_eval_rates;

cim_status cim_cost_rates_from_eval(cim_ctx *ctx, const char *path, cim_cost_eval_rates *out);
void cim_cost_eval_rates_free(cim_ctx *ctx, cim_cost_eval_rates *r);

/* ------------------------------------------- a network without data */

/* One costed layer: its shape, config, the rates used and where they came
 * from, the estimated counters and mapping, its energy per inference and its
 * place on the hardware. */
typedef struct cim_cost_layer {
    char name[CIM_WORKLOAD_NAME_MAX];
    char kind[16];              /* "conv" or "linear" */
    int K, N, groups;
    uint64_t M, macs;           /* per inference */
    cim_xbar_config cfg;
    cim_cost_rates rates;
    char rates_from[192];       /* "eval layer NAME", "eval conv average", "assumed" ... */
    cim_stats stats;            /* estimated counters of one inference */
    cim_layer_info info;
    cim_energy energy;          /* per inference */
    cim_hw_layer_map map;       /* valid when the result has_hw */
} cim_cost_layer;

typedef struct cim_cost_result {
    char arch[128];
    char workload[CIM_WORKLOAD_TEXT_MAX];
    char energy_spec[256];
    char stats_source[CIM_WORKLOAD_TEXT_MAX]; /* the eval JSON, or "assumed (docs/energy.md)" */
    int assumed_layers;         /* layers on assumed rates */
    int matched_layers;         /* layers matched by name in the eval JSON */
    int n_layers;
    cim_cost_layer *layers;     /* free with cim_cost_result_free */
    cim_energy energy;          /* per inference, all layers */
    int has_hw;
    cim_cost_hw_result hw;
} cim_cost_result;

typedef struct cim_cost_options {
    const char *energy_spec;    /* NULL: cim_energy_spec_default(arch name) */
    const char *hw;             /* NULL: cim_cost_hw_default(arch name); "none": no hardware */
    const char *stats_json;     /* a `cimsim eval --json` result, or NULL: assumed rates */
} cim_cost_options;

/* Cost workload wl under arch: per layer the config (cim_arch_layer_config),
 * rates (the eval JSON's layer of the same name; else the MAC-weighted average
 * of its layers of the same kind, conv or linear; else of all its layers;
 * without a JSON, cim_cost_rates_assumed with the workload's input_mean and
 * input_density when given), counters, energy; then the hardware. An arch
 * without an energy spec or hardware file is an error naming it. */
cim_status cim_cost_network(cim_ctx *ctx, const cim_arch *arch, const cim_workload *wl, const cim_cost_options *opt,
                            cim_cost_result *out);
void cim_cost_result_free(cim_ctx *ctx, cim_cost_result *r);

/* JSON as `cimsim eval --json`'s cost part: arch, workload, energy_spec,
 * stats_source, energy_pj_per_inference, energy_by_component, titanium,
 * tile, chip, area_by_component, layers [{name, kind, K, N, groups, M, macs,
 * rates, rates_from, energy..., crossbars, copies, cycles_per_vector,
 * time_ns}]. Temporary name and rename: no partial file. */
cim_status cim_cost_write_json(cim_ctx *ctx, const char *path, const cim_cost_result *r);

#ifdef __cplusplus
}
#endif
#endif
