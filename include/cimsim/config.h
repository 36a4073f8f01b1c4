/* cimsim/config.h: what a crossbar architecture computes (docs/semantics.md).
 *
 * A cim_xbar_config is a transparent struct: start from cim_config_default()
 * or cim_config_preset(), change fields, then cim_config_validate(). Every
 * layer is programmed and run under one validated config.
 */
#ifndef CIMSIM_CONFIG_H
#define CIMSIM_CONFIG_H

#include <stdint.h>
#include "ctx.h"
#include "analog.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CIM_MAX_SLICES 8   /* most slices of an 8-bit operand (eight 1-bit slices) */
#define CIM_OPERAND_BITS 8 /* weight magnitudes and input magnitudes are 8-bit */
#define CIM_MAX_ROWS 32768 /* keeps every exact column sum inside int32 */
#define CIM_MAX_COLS 65536
#define CIM_MAX_ADC_BITS 24

/* How weights become non-negative cell levels (semantics.md section 3). */
typedef enum cim_encoding {
    CIM_ENC_OFFSET = 0,        /* ISAAC: u = w' + 128 in unsigned cells, one cell per slice */
    CIM_ENC_DIFFERENTIAL = 1,  /* Zero+Offset, 2T2R: w+ = max(w',0), w- = max(-w',0) */
    CIM_ENC_CENTER_OFFSET = 2  /* RAELLA, 2T2R: offsets from a per-filter-chunk center */
} cim_encoding;

/* How activations reach the rows (semantics.md section 2). */
typedef enum cim_input_encoding {
    CIM_IN_AUTO = 0,         /* unsigned when zx == 0, signed_split otherwise */
    CIM_IN_UNSIGNED = 1,     /* raw codes x; -zx * sum_k w' is a digital constant */
    CIM_IN_SIGNED_SPLIT = 2  /* |x - zx|, positive and negative entries in two phases */
} cim_input_encoding;

typedef enum cim_noise_model {
    CIM_NOISE_NONE = 0,
    CIM_NOISE_GAUSSIAN_COLSUM = 1  /* S~ = S + E sqrt(N+ + N-) z, thesis 7.3 */
} cim_noise_model;

typedef struct cim_adc_config {
    int bits;      /* resolution, 1..24; 0: no ADC (exact digital accumulation, below) */
    int is_signed; /* codes [-2^(b-1), 2^(b-1)-1] if nonzero, else [0, 2^b - 1] */
    int drop_lsbs; /* t >= 0: the ADC step is 2^t column-sum units (0..24) */
} cim_adc_config;

typedef struct cim_noise_config {
    cim_noise_model model;
    double level;  /* E, >= 0 (the thesis sweeps 0 .. 0.12) */
    uint64_t seed;
} cim_noise_config;

typedef struct cim_xbar_config {
    int rows;                /* crossbar rows R: K is cut into chunks of at most R rows */
    int cols;                /* crossbar columns C (logical: a 2T2R pair is one column) */
    cim_encoding encoding;
    int flip;                /* offset only: ISAAC's per-column complement (section 3) */
    cim_input_encoding input_encoding;
    int zx;                  /* activation zero point, 0..255 */
    int n_weight_slices;     /* weight slicing, widths most significant first, sum 8 */
    int weight_slices[CIM_MAX_SLICES];
    int n_input_slices;      /* static input slicing, or the speculative slicing when
                                speculation is on; widths MSB first, sum 8 */
    int input_slices[CIM_MAX_SLICES];
    int speculation;         /* nonzero: dynamic input slicing (section 7) */
    int recovery_bits;       /* width of recovery slices (RAELLA: 1) */
    int cell_bits;           /* bits per cell: every weight slice width <= cell_bits */
    int dac_bits;            /* bits per DAC: every input slice width <= dac_bits */
    cim_adc_config adc;      /* bits = 0 (YAML `adc: none`): column sums are read exactly
                                by digital adders (digital CiM): no rounding, clipping or
                                saturation, counted as cim_stats.digital_reads instead of
                                ADC conversions; needs drop_lsbs 0, noise off and
                                speculation off (is_signed is ignored) */
    cim_noise_config noise;
    cim_analog_config analog; /* physical non-idealities (analog.h; YAML `analog:`), all off by default */
} cim_xbar_config;

/* The defaults used for keys a YAML config leaves out: 512x512 center_offset,
 * input auto, zx 0, weight slices 4,2,2, input slices eight 1s, no speculation,
 * recovery_bits 1, cell_bits 4, dac_bits 4, signed 7-bit ADC, drop_lsbs 0,
 * noise none (level 0, seed 0). That is the `raella-nospec` preset. */
void cim_config_default(cim_xbar_config *cfg);

/* Built-in presets by name: "isaac", "raella", "raella-nospec",
 * "raella-static", "zero-offset", "timely-like", "ibm-pcm-like", "digital-cim"
 * (docs/config.md). Each is a YAML file in the repository's presets/ folder,
 * embedded into the library at build time and parsed with the YAML loader;
 * this gives its base config (cim_arch_load also its `layers:` and
 * adaptive_weight_slicing). Returns CIM_ERR_CONFIG (message in ctx) for an
 * unknown name; ctx may be NULL. */
cim_status cim_config_preset(cim_ctx *ctx, const char *name, cim_xbar_config *cfg);

/* NULL-terminated list of preset names, and the one-line description of each
 * (its file's `description:`); NULL for a name that is not a preset. */
const char *const *cim_config_preset_names(void);
const char *cim_config_preset_description(const char *name);

/* The full YAML text of a preset (presets/NAME.yaml as built in), or NULL. */
const char *cim_config_preset_text(const char *name);

/* Check every field (ranges, slicings summing to 8, widths within cell/DAC bits,
 * flip only with offset, a filter's slices fitting one crossbar). `what` names
 * the source in messages (a file name or preset name; may be NULL). */
cim_status cim_config_validate(cim_ctx *ctx, const cim_xbar_config *cfg, const char *what);

/* Load a config: `spec` is a preset name or a YAML file path (a preset name
 * always means the preset; write ./raella for a file of that name). YAML keys: rows,
 * cols, encoding (offset|differential|center_offset), flip, input_encoding
 * (auto|unsigned|signed_split), zx, weight_slices [..], input_slices [..] or
 * speculation {slices: [..], recovery_bits: n}, cell_bits, dac_bits,
 * adc {bits, signed, drop_lsbs} or `adc: none` (bits 0: exact digital reads),
 * noise {model: none|gaussian_colsum, level, seed}, adaptive_weight_slicing
 * (cim_arch), name, description and sources (documentation), and
 * `base: PRESET` to start from a preset's config instead of the defaults. Unknown
 * keys and bad values are CIM_ERR_CONFIG naming the file, key and line. The
 * result is validated. */
cim_status cim_config_load(cim_ctx *ctx, const char *spec, cim_xbar_config *cfg);

/* A network's architecture: a base crossbar config and per-layer overrides.
 * A YAML config may carry `layers:`, a mapping from a layer selector to
 * config keys applied on top of the base (the file's other keys): the
 * selector is a layer (node) name, `first` or `last` (the first and last
 * weight layer in graph order). A name beats first/last, and last beats
 * first. The presets raella, raella-nospec and zero-offset give the last
 * layer eight 1-bit weight slices (RAELLA thesis 4.2.2); the others have none.
 * `cimsim mvm` uses only the base. */
#define CIM_MAX_LAYER_OVERRIDES 64
#define CIM_LAYER_NAME_MAX 128
typedef struct cim_layer_override {
    char layer[CIM_LAYER_NAME_MAX]; /* node name, "first" or "last" */
    cim_xbar_config cfg;            /* complete (base + the override's keys), validated */
} cim_layer_override;

typedef struct cim_arch {
    char name[CIM_LAYER_NAME_MAX]; /* the preset name or file path it came from */
    cim_xbar_config base;
    int adaptive_slicing; /* the compiler may choose weight slicings (YAML: adaptive_weight_slicing: true) */
    int n_overrides;
    cim_layer_override over[CIM_MAX_LAYER_OVERRIDES];
} cim_arch;

/* Load an arch: a preset name or a YAML file as for cim_config_load, plus
 * its `layers:` overrides (each validated; errors name file, selector, key)
 * and its top-level `adaptive_weight_slicing` (default false; a file with
 * `base: PRESET` starts from that preset's value, but not from its layers).
 * True in the presets raella and raella-nospec only. */
cim_status cim_arch_load(cim_ctx *ctx, const char *spec, cim_arch *arch);

/* The config for a layer: its name's override, else `last` (if is_last),
 * else `first` (if is_first), else the base. */
const cim_xbar_config *cim_arch_layer_config(const cim_arch *arch, const char *layer, int is_first, int is_last);

/* The input encoding actually used (resolves CIM_IN_AUTO). */
cim_input_encoding cim_config_input_encoding(const cim_xbar_config *cfg);

/* Names for enums ("offset", "signed_split", "gaussian_colsum", ...). */
const char *cim_encoding_name(cim_encoding e);
const char *cim_input_encoding_name(cim_input_encoding e);
const char *cim_noise_model_name(cim_noise_model m);

/* Write a one-line human summary, e.g. "512x512 center_offset w[4,2,2]
 * spec[4,2,2]/1 adc 7b signed", into buf (always NUL-terminated). */
void cim_config_summary(const cim_xbar_config *cfg, char *buf, size_t size);

#ifdef __cplusplus
}
#endif
#endif
