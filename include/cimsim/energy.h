/* cimsim/energy.h: energy of a layer run from its counters (docs/energy.md).
 *
 * The component models of cost.h priced by what a run counted (cim_stats)
 * on the mapping it used (cim_layer_info): no averages stand in for the data.
 * An energy spec names which components of the library an architecture is
 * built from (its ADC model, its device, DAC, sample-and-hold, shift-and-add,
 * input-sum adders, quantization multiplier, buffer, bus, digital CiM macro)
 * and the technology node. Built-in specs (data/energy/NAME.yaml, embedded
 * like the component library) give each preset sensible defaults with their
 * sources; a user file of the same format replaces them.
 *
 * Per layer, every component's energy is (events counted) x (pJ per event):
 *   adc          adc_converts                x ADC energy per conversion at the
 *                                              layer's ADC bits (cost.h cim_adc_spec)
 *   crossbar     device_activations, pulses  -> cim_crossbar_read_energy
 *   dac          dac_pulses                  x DAC energy per pulse
 *   sample_hold  adc_converts                x S+H energy per column sample
 *   shift_add    adc_converts + digital_reads x shift-and-add energy per output
 *   input_sum    input_sum_adds              x adder energy
 *   quantization vectors x N (outputs)       x multiplier energy per output
 *   buffer       vectors x (K + N) bytes     x buffer energy per access / bytes per access
 *   bus          vectors x (K + N) x 8 bits  x bus energy per bit
 *   digital      macs (per: mac) or digital_reads (per: read) x digital energy
 * (docs/energy.md says what each assumes.) A component the spec leaves out
 * (`none`) costs 0.
 *
 * The Titanium Law (RAELLA thesis 2.8): ADC energy = energy/convert x
 * converts/MAC x MACs x 1/utilization. Here utilization is the row
 * utilization of the crossbars weighted by the columns converted
 * (sum rows_used x cols_used over crossbars / (rows x cols_used)), and
 * converts/MAC is what the run counted at full utilization
 * (adc_converts x utilization / macs), so the four factors multiply back to
 * the ADC energy exactly, per layer and summed over layers.
 *
 * Units: _pj picojoules. Errors are cim_status with a message naming the
 * file, line and key; nothing aborts. */
#ifndef CIMSIM_ENERGY_H
#define CIMSIM_ENERGY_H

#include "ctx.h"
#include "config.h"
#include "stats.h"
#include "cost.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The components energy is reported by, in this order. */
typedef enum cim_energy_part {
    CIM_ENERGY_ADC = 0,
    CIM_ENERGY_CROSSBAR,
    CIM_ENERGY_DAC,
    CIM_ENERGY_SAMPLE_HOLD,
    CIM_ENERGY_SHIFT_ADD,
    CIM_ENERGY_INPUT_SUM,
    CIM_ENERGY_QUANTIZATION,
    CIM_ENERGY_BUFFER,
    CIM_ENERGY_BUS,
    CIM_ENERGY_DIGITAL,
    CIM_ENERGY_PARTS
} cim_energy_part;

/* "adc", "crossbar", "dac", "sample_hold", "shift_add", "input_sum",
 * "quantization", "buffer", "bus", "digital" (NULL out of range). */
const char *cim_energy_part_name(cim_energy_part p);

/* The four factors of the Titanium Law. */
typedef struct cim_titanium {
    double energy_per_convert_pj; /* ADC energy / conversions (0 without conversions) */
    double converts_per_mac;      /* conversions x utilization / MACs: at full utilization */
    double macs;
    double utilization;           /* row utilization weighted by column reads, 0..1 (1 without reads) */
} cim_titanium;

/* Energy of one run (a layer, or layers added with cim_energy_add). */
typedef struct cim_energy {
    double pj[CIM_ENERGY_PARTS];
    double total_pj;
    double converts;       /* ADC conversions */
    double reads;          /* column reads: conversions + digital reads */
    double reads_util;     /* sum of reads x their layer's utilization (to add layers) */
    double macs;
    cim_titanium titanium;
} cim_energy;

typedef struct cim_energy_spec cim_energy_spec; /* opaque: a loaded spec and its component library */

/* Load a spec: `spec` is a built-in name (data/energy/NAME.yaml: "isaac",
 * "raella", "digital-cim") or a YAML file path (anything with a '/' or ending
 * in .yaml is a file). components_path (may be NULL) is a component file read
 * on top of the built-in library (cim_components_load). Format
 * (docs/energy.md):
 *   description: "..."            source: "..." (required)
 *   archs: [preset, ...]          presets this spec is the default for
 *   node_nm: 32                   technology every component is scaled to
 *   adc: {model: andrulis|part|envelope|floor, part: NAME, rate_hz: HZ, bits: B}
 *        or none (bits: omitted = the layer's ADC bits)
 *   device: NAME | none           crossbar device (devices: of the library)
 *   dac, sample_hold, shift_add, input_sum, quantizer, buffer, bus: NAME | none
 *   digital: {component: NAME, per: mac|read} | none
 * A name not in the library, an unknown key, a missing source or node, a
 * buffer without `bits` are CIM_ERR_CONFIG naming the file, line and key. */
cim_status cim_energy_spec_load(cim_ctx *ctx, const char *spec, const char *components_path, cim_energy_spec **out);
void cim_energy_spec_free(cim_ctx *ctx, cim_energy_spec *s);

/* The built-in spec that is the default for an architecture preset name
 * (its file's `archs:` list), or NULL when there is none. */
const char *cim_energy_spec_default(const char *arch_name);

/* NULL-terminated built-in spec names, and the full text of one (or NULL). */
const char *const *cim_energy_spec_names(void);
const char *cim_energy_spec_text(const char *name);

/* The spec's name (built-in name or path), description and node. */
const char *cim_energy_spec_name(const cim_energy_spec *s);
const char *cim_energy_spec_description(const cim_energy_spec *s);
double cim_energy_spec_node(const cim_energy_spec *s);

/* pJ per conversion of the spec's ADC at `bits` (its own bits if it pins
 * them); 0 for bits 0 or a spec without an ADC. */
cim_status cim_energy_adc_pj(cim_ctx *ctx, const cim_energy_spec *s, int bits, double *pj);

/* The energy of one run of a layer under cfg with counters st on mapping
 * info (rows_used, cols_used, crossbars, devices, K, N); *out is
 * overwritten. CIM_ERR_CONFIG when the spec has no ADC but the run converted,
 * or no digital part but the run read digitally. */
cim_status cim_energy_layer(cim_ctx *ctx, const cim_energy_spec *s, const cim_xbar_config *cfg, const cim_stats *st,
                            const cim_layer_info *info, cim_energy *out);

/* dst += src, part by part, and dst's Titanium factors recomputed so they
 * multiply back to dst's ADC energy. */
void cim_energy_add(cim_energy *dst, const cim_energy *src);

/* Every energy and the MACs x f (per inference: f = 1 / samples); the
 * per-event factors stay. */
void cim_energy_scale(cim_energy *e, double f);

/* The column-weighted row utilization of a mapping (1 when it has no
 * columns). */
double cim_energy_row_utilization(const cim_layer_info *info, const cim_xbar_config *cfg);

#ifdef __cplusplus
}
#endif
#endif
