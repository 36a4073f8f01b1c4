/* cimsim/cost.h: component models for energy and area (docs/cost.md).
 *
 * The building blocks of the cost model: what one event of each hardware
 * component costs (an ADC conversion, a DAC pulse, a device read, a buffer
 * access, an add) and how much area one instance takes, with the source of
 * every number. Architecture and mapping code multiplies these by the counters
 * of a run (cim_stats) and the mapping of a layer (cim_layer_info).
 *
 * Three kinds of model live here:
 *   - equations: the ADC model of Andrulis et al. 2024, the thermal-noise floor
 *     and the survey envelope, the per-device read energy G V^2 t, technology
 *     scaling;
 *   - a component library: published numbers (ISAAC's Table 1, Horowitz's 45 nm
 *     table, RAELLA's choices, Colonnade's digital CiM macro, device
 *     parameters, the node table), loaded from YAML files that name the source
 *     of every number. The files of data/components/ are built into the
 *     library; a user file adds entries or replaces entries of the same name;
 *   - helpers that turn run counters into energy (crossbar reads).
 *
 * Units are in the names: _pj (picojoules), _um2 (square micrometres), _mw
 * (milliwatts), _nm, _hz, _ohm, _v, _ns. A number a source does not publish is
 * NAN (test with isnan()). Every fallible call returns a cim_status with a
 * message in the context naming the file, component and key; nothing aborts.
 * The functions are pure: no state outside their arguments.
 */
#ifndef CIMSIM_COST_H
#define CIMSIM_COST_H

#include <stdint.h>
#include "ctx.h"
#include "config.h"
#include "stats.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ ADCs */

/* Energy of one conversion and area of one ADC. */
typedef struct cim_adc_estimate {
    double energy_pj; /* per conversion */
    double area_um2;  /* one ADC */
} cim_adc_estimate;

/* Andrulis et al. 2024, "Modeling Analog-Digital-Converter Energy and Area for
 * Compute-In-Memory Accelerator Design" (fitted to Murmann's ADC survey):
 *   FOM  = min(213.7807 - 2.87190 ln f, 128.3068 + 3.22051 ceil(B))   dB
 *   SNDR = 6.0206 B + 1.7609                                         dB
 *   E0   = 1 / (2 * 10^((FOM - SNDR) / 10))
 *   E_pJ = E0 * exp(26.04962 + 1.880037 ln T - 2.829126 ln B - 1.470202)
 *   area_um2 = exp(1.346192 + 0.993279 ln T + 0.180715 ln f + 0.299124 ln E_pJ)
 * with resolution B (bits, 1..24, may be fractional), node T (nm, 1..1000)
 * and the rate of one ADC f (conversions/s, 1e3..1e12). 8 bits at
 * 1.28 GS/s in 32 nm gives 1.93 pJ and 6469 um2. Estimates are optimistic: the
 * best published design for the parameters. CIM_ERR_RANGE for an argument out
 * of range. */
cim_status cim_adc_andrulis(cim_ctx *ctx, double bits, double node_nm, double rate_hz, cim_adc_estimate *out);

/* The area regression of Andrulis et al. 2024 alone, for an ADC of energy
 * energy_pj per conversion (used to give the floor and envelope an area). */
cim_status cim_adc_andrulis_area(cim_ctx *ctx, double node_nm, double rate_hz, double energy_pj, double *area_um2);

/* The thermal-noise floor of one conversion: 8 k T SNR, SNR = 10^((6.02 B +
 * 1.76) / 10) for B bits (1..32) at temp_k kelvin (> 0; 300 is usual). */
cim_status cim_adc_thermal_floor(cim_ctx *ctx, double bits, double temp_k, double *energy_pj);

/* The best-design envelope of Murmann's ADC survey as the issue gives it:
 * 0.27 pJ + 0.145 aJ * 4^ENOB (ENOB 1..32). */
cim_status cim_adc_envelope(cim_ctx *ctx, double enob, double *energy_pj);

/* How far an assumed ADC is from physics. */
typedef struct cim_adc_bounds {
    double energy_pj;   /* the assumed ADC, per conversion */
    double floor_pj;    /* 8 k T SNR at its resolution */
    double envelope_pj; /* the survey's best designs at its ENOB */
    double x_floor;     /* energy_pj / floor_pj (>= 1 for a physical ADC) */
    double x_envelope;  /* energy_pj / envelope_pj (< 1: better than any published design) */
} cim_adc_bounds;

/* Compare an ADC of `bits` resolution and `enob` effective bits (<= bits;
 * give enob = bits for an ideal one) costing energy_pj per conversion with
 * the floor at temp_k and the envelope. */
cim_status cim_adc_compare(cim_ctx *ctx, double bits, double enob, double energy_pj, double temp_k,
                           cim_adc_bounds *out);

/* ---------------------------------------------------- component library */

/* One component: published numbers for one instance and one event. */
typedef struct cim_component {
    const char *name;   /* unique in a library, e.g. "isaac.adc", "horowitz.add_int8" */
    const char *kind;   /* adc, dac, crossbar, sample_hold, shift_add, register, buffer, memory,
                           network, digital, quantizer, input_sum, digital_cim, ... (free text) */
    const char *event;  /* what one event is ("one conversion", "one 64-bit read") */
    double energy_pj;   /* per event at node_nm and vdd_v; NAN: not published */
    double power_mw;    /* one instance at the activity its source assumed; NAN: not published */
    double area_um2;    /* one instance; NAN: not published */
    double node_nm;     /* technology the numbers are for */
    double vdd_v;       /* supply they were measured at (documentation); NAN: not stated */
    int bits;           /* resolution or width where it matters (ADCs, adders), else 0 */
    double energy_per_bit; /* ADC parts: energy factor per extra bit (ISAAC's part: 2) */
    double area_per_bit;   /* ADC parts: area factor per extra bit */
    int n_by_bits;         /* ADC parts: a published table by resolution, used when it has the bits */
    int by_bits[16];
    double by_bits_energy_pj[16];
    double by_bits_area_um2[16];
    const char *source; /* paper, table, page or section (never empty) */
    const char *notes;  /* derivations and assumptions ("" if none) */
    const char *file;   /* the file it came from ("data/components/isaac.yaml (built in)") */
    int line;           /* and its line there */
} cim_component;

/* A ReRAM (or other resistive) device and its cell. */
typedef struct cim_device {
    const char *name;
    double r_on_ohm;      /* lowest resistance: the highest programmed level */
    double r_off_ohm;     /* highest resistance: level 0 */
    double read_v;        /* voltage across a device during a read pulse */
    double pulse_ns;      /* width of one DAC pulse */
    double cell_area_um2; /* one 1T1R cell (a 2T2R pair is two; cim_cell_area) */
    double node_nm;
    const char *source;
    const char *notes;
    const char *file;
    int line;
} cim_device;

/* One entry of the technology table: a node and its nominal supply. */
typedef struct cim_tech_node {
    double node_nm;
    double vdd_v;
    const char *source;
} cim_tech_node;

typedef struct cim_components cim_components; /* opaque: a loaded library */

/* Load the built-in library (data/components/NAME.yaml as built in) and, when
 * `path` is not NULL, a user file on top of it: its components, devices and
 * nodes add to the built-in ones, and an entry with a name (or node) already
 * there replaces it. File format (docs/cost.md):
 *   description: "..."                         (optional)
 *   technology: [{node_nm, vdd_v, source}, ...]
 *   devices:    {NAME: {r_on_ohm, r_off_ohm, read_v, pulse_ns, cell_area_um2 | cell_area_f2,
 *                       node_nm, source, notes}}
 *   components: {NAME: {kind, event, energy_pj, power_mw, rate_hz, table_count, area_um2 |
 *                       area_mm2, node_nm, vdd_v, bits, energy_per_bit, area_per_bit,
 *                       by_bits: {B: {energy_pj, area_um2}}, source, notes}}
 * power_mw and area are what the source's table gives for table_count
 * instances (default 1); energy_pj, when not given, is power / table_count /
 * rate_hz (rate_hz: events per second of one instance at that power). Every
 * entry needs a non-empty `source`; unknown keys, negative or non-finite
 * numbers, a component with neither energy_pj nor power_mw, a missing node_nm
 * are CIM_ERR_CONFIG naming the file, line, entry and key. */
cim_status cim_components_load(cim_ctx *ctx, const char *path, cim_components **out);

/* Free a library (NULL is allowed); pointers obtained from it die with it. */
void cim_components_free(cim_ctx *ctx, cim_components *lib);

/* The entries, in file order (built-in files first); NULL past the end. */
int cim_components_count(const cim_components *lib);
const cim_component *cim_components_at(const cim_components *lib, int i);
int cim_components_device_count(const cim_components *lib);
const cim_device *cim_components_device_at(const cim_components *lib, int i);
int cim_components_node_count(const cim_components *lib);
const cim_tech_node *cim_components_node_at(const cim_components *lib, int i);

/* Look up by name: CIM_ERR_CONFIG naming it when there is none. */
cim_status cim_components_get(cim_ctx *ctx, const cim_components *lib, const char *name, const cim_component **out);
cim_status cim_components_device(cim_ctx *ctx, const cim_components *lib, const char *name, const cim_device **out);

/* The names of the built-in component files, NULL-terminated
 * ("data/components/isaac.yaml", ...), and the text of one (NULL if none). */
const char *const *cim_components_builtin_files(void);
const char *cim_components_builtin_text(const char *file);

/* ---------------------------------------------------- technology scaling */

/* Factors that take numbers from one node to another. Dynamic energy is
 * C V^2 with C proportional to the feature size, area goes with its square:
 *   energy x (to_nm / from_nm) * (V(to_nm) / from_vdd)^2,  area x (to_nm / from_nm)^2
 * V(node) is the library's technology table, interpolated linearly in log(node)
 * between its entries (no extrapolation: a node outside the table is
 * CIM_ERR_RANGE). from_vdd NAN means V(from_nm). A documented simple rule, not
 * a fitted one (docs/cost.md). */
cim_status cim_tech_scale(cim_ctx *ctx, const cim_components *lib, double from_nm, double from_vdd, double to_nm,
                          double *energy_factor, double *area_factor);

/* The nominal supply of a node by the same interpolation. */
cim_status cim_tech_vdd(cim_ctx *ctx, const cim_components *lib, double node_nm, double *vdd_v);

/* A component's energy per event, power and area at node_nm (node_nm <= 0:
 * its own node), by cim_tech_scale with from_vdd NAN: the ratio of the nominal
 * supplies, so a design keeps its operating point relative to nominal and at
 * its own node a component is exactly as published (vdd_v documents the
 * conditions of the measurement; it does not enter the scaling). Unpublished
 * numbers stay NAN. */
typedef struct cim_component_cost {
    double energy_pj;
    double power_mw;
    double area_um2;
} cim_component_cost;
cim_status cim_component_at_node(cim_ctx *ctx, const cim_components *lib, const cim_component *c, double node_nm,
                                 cim_component_cost *out);

/* ------------------------------------------------ ADCs from the library */

typedef enum cim_adc_model {
    CIM_ADC_MODEL_ANDRULIS = 0, /* the equations of Andrulis et al. 2024 */
    CIM_ADC_MODEL_PART = 1,     /* a published part from the library, scaled to bits and node */
    CIM_ADC_MODEL_ENVELOPE = 2, /* the survey's best-design envelope (area: Andrulis' regression) */
    CIM_ADC_MODEL_FLOOR = 3     /* the thermal-noise floor at 300 K (area: Andrulis' regression) */
} cim_adc_model;

typedef struct cim_adc_spec {
    cim_adc_model model;
    double bits;        /* resolution */
    double node_nm;     /* technology */
    double rate_hz;     /* conversions per second of one ADC (Andrulis, and the areas of the bounds) */
    const char *part;   /* CIM_ADC_MODEL_PART: a component name, e.g. "isaac.adc" */
} cim_adc_spec;

/* Names of the models ("andrulis", "part", "envelope", "floor") and back
 * (CIM_ERR_CONFIG for an unknown name). */
const char *cim_adc_model_name(cim_adc_model m);
cim_status cim_adc_model_parse(cim_ctx *ctx, const char *name, cim_adc_model *out);

/* A published part at `bits` and node_nm: from its by_bits table when it has
 * that resolution, else its energy x energy_per_bit^(bits - part bits) and
 * area x area_per_bit^(bits - part bits) (the "x2 per bit" for ISAAC's
 * part); then technology-scaled from the part's node. A component without
 * `bits` is CIM_ERR_CONFIG. */
cim_status cim_adc_part(cim_ctx *ctx, const cim_components *lib, const cim_component *part, double bits,
                        double node_nm, cim_adc_estimate *out);

/* Any model by spec (lib is needed for CIM_ADC_MODEL_PART only). */
cim_status cim_adc_estimate_spec(cim_ctx *ctx, const cim_components *lib, const cim_adc_spec *spec,
                                 cim_adc_estimate *out);

/* ------------------------------------------------------------ crossbars */

/* Conductance (siemens) of programmed level `level` of a cell of cell_bits
 * bits: levels are spaced evenly in conductance from G_off = 1/r_off (level 0)
 * to G_on = 1/r_on (level 2^cell_bits - 1). CIM_ERR_RANGE for a level out of
 * range. */
cim_status cim_device_conductance(cim_ctx *ctx, const cim_device *d, int cell_bits, int level, double *g_s);

/* Read energy of a crossbar from what a run counted. Every pulse on a row
 * drives every device on it for pulse_ns at read_v, so the energy is
 *   E = read_v^2 * pulse_ns * (G_off * device_pulses + G_lsb * device_activations)
 * with G_lsb = (G_on - G_off) / (2^cell_bits - 1): device_activations is
 * cim_stats.device_activations (sum over pulses of programmed levels, in units
 * of G_lsb V t) and device_pulses the number of (pulse, device) pairs, which
 * pays the level-0 conductance G_off (see cim_crossbar_device_pulses). The
 * energy is data-dependent through both counts. */
cim_status cim_crossbar_read_energy(cim_ctx *ctx, const cim_device *d, int cell_bits, double device_activations,
                                    double device_pulses, double *energy_pj);

/* (pulse, device) pairs of a run: dac_pulses x the devices per used row of
 * the layer (info->devices / info->rows_used). Exact when the layer has one
 * row chunk (K <= rows); otherwise an estimate that weights every chunk by its
 * rows. Devices in unused columns are not counted (assumed unselected). */
double cim_crossbar_device_pulses(const cim_stats *s, const cim_layer_info *info);

/* Devices per cell of an encoding: 1 (1T1R) for offset, 2 (2T2R) for
 * differential and center_offset. */
int cim_cell_devices(cim_encoding e);

/* Area of one cell (a 2T2R pair counts twice the 1T1R area, RAELLA thesis
 * 6.1.1: "the sum area of two ReRAMs and two min-sized transistors") at node
 * node_nm (<= 0: the device's own), scaled with the square of the node. */
cim_status cim_cell_area(cim_ctx *ctx, const cim_device *d, cim_encoding e, double node_nm, double *area_um2);

#ifdef __cplusplus
}
#endif
#endif
