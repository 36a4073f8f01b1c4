/* cimsim/net.h: whole quantized networks (ONNX) on simulated hardware.
 *
 * A cim_net is an ONNX model (QDQ or QOperator int8 form) loaded into a
 * graph with static shapes. cim_net_eval runs a dataset through it twice:
 * once digitally (the exact integer semantics of each ONNX op: the
 * reference) and once with every Conv/Gemm/MatMul whose weights are constant
 * on simulated crossbars under a cim_arch (docs/semantics.md), the rest
 * digital. It reports top-1 accuracy of both, and per weight layer the
 * counters of semantics.md section 9 and the error of its 8-bit outputs.
 */
#ifndef CIMSIM_NET_H
#define CIMSIM_NET_H

#include <stdint.h>
#include "config.h"
#include "stats.h"
#include "energy.h"
#include "costrun.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cim_net cim_net;

/* Load an ONNX model. Errors name the file and the node, op or field:
 * CIM_ERR_IO, CIM_ERR_FORMAT (malformed, cyclic, missing initializer...),
 * CIM_ERR_UNSUPPORTED (an op or attribute cimsim does not implement),
 * CIM_ERR_SHAPE. */
cim_status cim_net_load(cim_ctx *ctx, const char *path, cim_net **out);
void cim_net_free(cim_net *net);

/* Nodes, and the number of weight layers (nodes whose products may run on
 * crossbars). */
int cim_net_nodes(const cim_net *net);
int cim_net_weight_layers(const cim_net *net);

typedef struct cim_eval_options {
    const char *labels;   /* NPY of labels for an NPY dataset, or NULL */
    uint64_t limit;       /* evaluate the first `limit` samples; 0 = all */
    int batch;            /* samples per graph run (default 64) */
    int histogram;        /* fill column-sum histograms (default 1) */
    int normal_noise;     /* nonzero: Box-Muller normals everywhere (cim_run_options.normal_noise) */
    int progress;         /* nonzero: a progress bar on stderr */
    const struct cim_plan *plan; /* per-layer weight slicings and centers (cimsim/compile.h), or NULL */
    int analog_only;      /* nonzero: do not run the digital reference (to time the analog run
                             alone); needs labels; no agreement and no per-layer error */
    const char *dump_layer; /* with dump_dir: the weight layer (ONNX node name) whose group-0
                               crossbar weights (int8 [K][N], w - zw) and first-batch inputs
                               (uint8 [M][K], im2col'd) are written as dump_dir/W.npy, X.npy and
                               layer.txt (name, K, N, M, zx, ...) when the evaluation succeeds;
                               an unknown name is CIM_ERR_ARG listing the valid ones. NULL: none */
    const char *dump_dir;
} cim_eval_options;

void cim_eval_options_default(cim_eval_options *o);

/* Per weight layer (one ONNX node; groups summed). */
typedef struct cim_eval_layer {
    char name[128];
    char op_type[32];
    int groups;
    int K, N;                 /* per group */
    uint64_t macs;            /* logical MACs run (all samples) */
    cim_xbar_config cfg;      /* the config used (group 0; zx from the model) */
    cim_layer_info info;      /* mapping summed over groups */
    cim_stats stats;          /* counters summed over groups and samples */
    double abs_err_sum;       /* sum |y_analog - y_reference| over the 8-bit outputs ... */
    uint64_t err_count;       /* ... whose reference value is not the output zero point;
                                 0 when the layer has no 8-bit output to compare */
    cim_energy energy;        /* per inference, by component, with its Titanium factors
                                 (cim_eval_energy; zero until then) */
    cim_hw_layer_map map;     /* on the hardware (cim_eval_hw; zero until then) */
} cim_eval_layer;

/* One row of an analog breakdown (cim_net_eval_analog_breakdown). */
typedef struct cim_eval_breakdown {
    char model[32];        /* "none", a model group (cim_analog_group_names) or "all" */
    uint64_t samples;
    uint64_t correct;      /* analog top-1 right (labels), or agreeing with the reference (no labels) */
    uint64_t agree;        /* analog top-1 == reference top-1 */
    cim_stats totals;      /* all layers */
    double seconds;
} cim_eval_breakdown;

typedef struct cim_eval_result {
    uint64_t samples;
    int has_labels;
    int has_reference;                    /* the reference ran (not analog_only) */
    uint64_t ref_correct, analog_correct; /* top-1 against labels (when has_labels) */
    uint64_t agree;                       /* analog top-1 == reference top-1 */
    cim_stats totals;                     /* all layers */
    int n_layers;
    cim_eval_layer *layers;               /* in graph order */
    double seconds;                       /* wall time of the evaluation */
    char dataset[256];
    char arch[128];
    int has_energy;                       /* cim_eval_energy filled the energies */
    char energy_spec[256];                /* the energy spec's name or path */
    cim_energy energy;                    /* all layers, per inference (totals / samples) */
    int has_hw;                           /* cim_eval_hw filled hw and the layers' map */
    cim_cost_hw_result hw;                /* area, throughput, TOPS/W on a hardware file */
    int n_breakdown;                      /* cim_net_eval_analog_breakdown's rows (0: none) */
    cim_eval_breakdown *breakdown;
} cim_eval_result;

/* Run `dataset` (fashion-mnist[:test|:train] or an .npy of inputs in the
 * model's layout) through the reference and the analog network. The dataset
 * is preprocessed as the model's metadata_props say (cimsim.input_scale,
 * cimsim.input_mean, cimsim.input_std). Free the result with
 * cim_eval_result_free. */
cim_status cim_net_eval(cim_ctx *ctx, cim_net *net, const cim_arch *arch, const char *dataset,
                        const cim_eval_options *opts, cim_eval_result *res);
void cim_eval_result_free(cim_ctx *ctx, cim_eval_result *res);

/* Each analog model's contribution (cimsim/analog.h): res is cim_net_eval's
 * result for arch, the run with every model as configured. Runs the network
 * again with every analog model off ("none"), then with each model group that
 * is on in any layer alone (cim_arch_analog_only: each layer keeps the rest of
 * its config, its gaussian_colsum noise included), and fills res->breakdown
 * with the rows none, the groups in cim_analog_group_names order, and "all"
 * (res itself). An arch with no analog model on gets no rows (CIM_OK,
 * n_breakdown 0). The runs skip the column-sum histogram. Freed with res. */
cim_status cim_net_eval_analog_breakdown(cim_ctx *ctx, cim_net *net, const cim_arch *arch, const char *dataset,
                                         const cim_eval_options *opts, cim_eval_result *res);

/* The digital reference alone on the first `limit` samples (0 = all):
 * writes the preprocessed inputs (inputs_out, may be NULL; the model's input
 * dtype and shape) and the model's first output (outputs_out) as NPY, for
 * comparisons with other runtimes such as ONNX Runtime. */
cim_status cim_net_reference(cim_ctx *ctx, cim_net *net, const char *dataset, const char *labels, uint64_t limit,
                             const char *inputs_out, const char *outputs_out);

/* Price a result's counters with an energy spec (cimsim/energy.h): every
 * layer's energy from its config, counters and mapping, divided by the
 * samples (pJ per inference), and their sum with its Titanium factors.
 * Sets has_energy; on error the result is left without energy. */
cim_status cim_eval_energy(cim_ctx *ctx, const cim_energy_spec *spec, cim_eval_result *res);

/* Map a result's layers onto hardware `hw_spec` (a built-in name or YAML
 * path, cimsim/costrun.h cim_cost_hw): each layer with its K, N, groups,
 * config and M = MACs per inference / (K x N x groups) vectors per group.
 * Call after cim_eval_energy for TOPS/W and power (energy per inference).
 * Sets has_hw; on error the result is left without it. */
cim_status cim_eval_hw(cim_ctx *ctx, const char *hw_spec, cim_eval_result *res);

/* Write results as JSON (n == 1: one object; n > 1: an array of them, one
 * per arch): samples, accuracy {reference, analog, agreement},
 * totals (as cim_stats_write_json), layers [{name, op_type, macs,
 * weight_slices, input_slices, converts_per_mac, saturation_rate,
 * speculation_failure_rate, mean_abs_error, ...}]; with energy (has_energy):
 * energy_spec, energy_pj_per_inference, energy_by_component {adc, crossbar,
 * ...} (pJ per inference), titanium {energy_per_convert_pj, converts_per_mac,
 * macs (per inference), utilization}, at top level and per layer; without:
 * energy_pj_per_inference null. With hardware (has_hw): hw, tile {power_mw,
 * area_mm2}, chip {tiles, chips, power_w, peak_power_w, area_mm2,
 * latency_ns, tops, tops_per_w, tops_per_mm2, inferences_per_s},
 * area_by_component {level/component: mm2 per chip}, and per layer
 * crossbars, copies, cycles_per_vector, time_ns; without: chip null. With an
 * analog breakdown: analog_breakdown [{model, top1, delta_top1 (points of
 * top-1 against the "none" row), agreement, converts_per_mac,
 * saturation_rate, saturations, adc_converts, seconds}]. Written to a temporary
 * name and renamed: no partial file on failure. */
cim_status cim_eval_write_json(cim_ctx *ctx, const char *path, const cim_eval_result *res, int n);

#ifdef __cplusplus
}
#endif
#endif
