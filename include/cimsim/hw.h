/* cimsim/hw.h: hardware architectures (crossbar -> IMA -> tile -> chip), their
 * area and peak power from the component library, and the mapping of a
 * network's layers onto them (docs/cost.md, "Architectures and mapping").
 *
 * A hardware file (YAML) describes one accelerator as a hierarchy: a crossbar
 * (rows x columns of cells, its cycle time, its ADCs and the components every
 * crossbar has), an in-situ MAC unit (IMA: so many crossbars and the IMA's
 * components), a tile (so many IMAs, buffers, network) and a chip (so many
 * tiles, or an area budget that decides how many fit, and chip-level parts).
 * Every component is a name in the component library (cost.h). The built-in
 * files are data/hw/NAME.yaml (embedded at build time): `isaac` (the RAELLA
 * thesis' 8-bit ISAAC baseline), `isaac-16b` (the ISAAC paper's chip: its
 * Table 1) and `raella` (thesis ch. 5 and 6.1).
 *
 * Area of a level = sum over its components of count x area at the node, plus
 * the levels below it times their counts. Peak power is the same sum with each
 * component at its peak: the library's power_mw (what the source's table
 * gives, e.g. ISAAC's Table 1) when it has one and the use keeps the part's
 * resolution, else energy per event x the use's rate_hz (an always-busy
 * component). The crossbar array itself may be a device (cost.h cim_device):
 * then its area is rows x cols x devices per cell x the cell area, and its
 * power is data-dependent (counted from a run, not a peak figure): NAN here.
 *
 * Mapping (cim_hw_map, thesis 5.5): every layer's weights are spread over
 * crossbars as the engine programs them (cim_layer_info: K in chunks of
 * `rows`, floor(cols / weight slices) filters per crossbar, 2T2R pairs as one
 * logical column); groups of a grouped convolution that fit one crossbar each
 * share crossbars block-diagonally. Then weights are replicated greedily: while
 * crossbars are left, the slowest layer (most time per inference) gets one more
 * copy. Layers run as a pipeline: the chip's throughput is the slowest layer's.
 * A layer's time per inference is ceil(M / copies) vectors x cycles per vector
 * x the crossbar cycle, cycles per vector = input slices per phase (static
 * slices, or speculative slices + 8 / recovery_bits recovery slices: RAELLA's
 * 3 + 8 = 11) x phases (2 for signed_split inputs).
 *
 * Errors are cim_status with a message naming the file, line and key; nothing
 * aborts. The structs are plain data; a cim_hw holds no pointers.
 */
#ifndef CIMSIM_HW_H
#define CIMSIM_HW_H

#include <stdint.h>
#include "ctx.h"
#include "config.h"
#include "cost.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CIM_HW_NAME_MAX 128
#define CIM_HW_TEXT_MAX 1024
#define CIM_HW_MAX_USES 24 /* components per level */

/* The levels of the hierarchy. */
typedef enum cim_hw_level {
    CIM_HW_CROSSBAR = 0,
    CIM_HW_IMA = 1,
    CIM_HW_TILE = 2,
    CIM_HW_CHIP = 3,
    CIM_HW_LEVELS = 4
} cim_hw_level;

/* One component used at a level: YAML `NAME: COUNT` or `NAME: {count, bits,
 * rate_hz, power}`. */
typedef struct cim_hw_use {
    char component[CIM_HW_NAME_MAX]; /* a name in the component library */
    double count;                    /* instances per unit of the level (> 0; fractional: shared) */
    int bits;                        /* ADC parts: resolution to scale the part to (0: the part's own) */
    double rate_hz;                  /* events/s of one instance when always busy; NAN: not given */
    int power_from_events;           /* `power: events`: energy x rate_hz even when the library has
                                        power_mw (`power: table`, the default, uses power_mw when
                                        the library has it and bits are the part's) */
    int line;                        /* in the hardware file */
} cim_hw_use;

typedef struct cim_hw_level_spec {
    int n_uses;
    cim_hw_use use[CIM_HW_MAX_USES];
} cim_hw_level_spec;

typedef struct cim_hw {
    char name[CIM_HW_NAME_MAX];
    char description[CIM_HW_TEXT_MAX];
    char sources[CIM_HW_TEXT_MAX];   /* where the organisation comes from (required) */
    char file[CIM_HW_TEXT_MAX];      /* path loaded, or "data/hw/NAME.yaml (built in)" */
    double node_nm;                  /* technology every component is scaled to */
    /* crossbar */
    int rows, cols;                  /* logical: a 2T2R pair is one column (config.h) */
    int cell_bits;                   /* bits per cell */
    int devices_per_cell;            /* 1 (1T1R / crosspoint) or 2 (2T2R) */
    char device[CIM_HW_NAME_MAX];    /* "" or a cost.h device: the array's area from its cells */
    double cycle_ns;                 /* crossbar cycle (DACs, array, sample+hold) */
    char adc[CIM_HW_NAME_MAX];       /* the ADC component ("" for none: digital reads) */
    int adc_bits;                    /* its resolution (0: the part's own) */
    double adcs_per_crossbar;        /* ADCs serving one crossbar (fractional: shared) */
    double adc_rate_hz;              /* conversions/s of one ADC */
    /* counts */
    int crossbars_per_ima;
    int imas_per_tile;
    int tiles;                       /* per chip; 0 in the file with an area budget: how many fit */
    int tiles_given;                 /* 1 when the file gives `tiles` */
    double area_budget_mm2;          /* chip area budget; 0: none */
    /* nominal operation for the peak figures (TOPS): weight slices per weight
     * (crossbar columns per weight) and crossbar cycles per input vector */
    int peak_weight_slices;
    int peak_input_cycles;
    int operand_bits;                /* the design's operand width (documentation and ops) */
    cim_hw_level_spec level[CIM_HW_LEVELS];
} cim_hw;

/* Load a hardware file: a built-in name (cim_hw_names()) or a YAML path
 * (write ./NAME for a file with a built-in name). Checks every component name
 * against `lib` (cim_components_load), so an unknown component is an error
 * naming file, line and key. With an area budget and no `tiles`, the tile count
 * is the most tiles whose chip (tiles x tile area + chip-level area) fits.
 * YAML (docs/cost.md):
 *   name, description, sources, node_nm, operand_bits,
 *   crossbar: {rows, cols, cell_bits, cell: 1T1R|2T2R, device, cycle_ns,
 *              adc: {component, bits, per_crossbar, rate_hz}, components: {...}}
 *   ima:  {crossbars, components: {...}}
 *   tile: {imas, components: {...}}
 *   chip: {tiles | area_budget_mm2 (or both), components: {...}}
 *   peak: {weight_slices, input_cycles}
 * Unknown keys, missing required keys, counts <= 0, non-numbers and unknown
 * components are CIM_ERR_CONFIG naming the file, line and key. */
cim_status cim_hw_load(cim_ctx *ctx, const cim_components *lib, const char *name_or_path, cim_hw *hw);

/* Parse hardware YAML from memory (`file` names it in messages). */
cim_status cim_hw_parse(cim_ctx *ctx, const cim_components *lib, const char *file, const char *text, size_t len,
                        cim_hw *hw);

/* The built-in hardware files: a NULL-terminated list of names, and one's text
 * (NULL for an unknown name). */
const char *const *cim_hw_names(void);
const char *cim_hw_text(const char *name);

/* The crossbar cycle actually used: max(cycle_ns, the time the ADCs take to
 * convert every column: cols / (adcs_per_crossbar x adc_rate_hz)). */
double cim_hw_cycle_ns(const cim_hw *hw);

/* One component's contribution to a level (per one unit of that level). */
typedef struct cim_hw_part {
    cim_hw_level level;
    char component[CIM_HW_NAME_MAX]; /* the library name, or "array" (device cells), "adc" uses the ADC's name */
    const char *kind;                /* the library's kind (static or library-owned) */
    double count;                    /* instances per unit of the level */
    double area_um2;                 /* count x one instance's area */
    double power_mw;                 /* count x one instance's peak power; NAN: data-dependent */
    int from_events;                 /* power is energy x rate (1) or the library's power_mw (0) */
} cim_hw_part;

#define CIM_HW_MAX_PARTS (CIM_HW_LEVELS * CIM_HW_MAX_USES + 2)

/* Area and peak power by component and level, and the chip's peak figures. */
typedef struct cim_hw_cost {
    int n_parts;
    cim_hw_part part[CIM_HW_MAX_PARTS];
    double level_area_um2[CIM_HW_LEVELS];  /* one unit of each level, everything below included */
    double level_power_mw[CIM_HW_LEVELS];  /* same (parts with NAN power left out) */
    double tile_area_mm2, tile_power_mw;
    double chip_area_mm2, chip_power_w;
    int tiles;                             /* per chip */
    int tiles_fitting_budget;              /* with an area budget: the most tiles that fit it; else 0 */
    uint64_t crossbars;                    /* per chip */
    double cycle_ns;                       /* cim_hw_cycle_ns */
    double peak_macs_per_s;                /* crossbars x rows x floor(cols / peak_weight_slices) /
                                              (peak_input_cycles x cycle) */
    double peak_tops;                      /* 2 ops per MAC */
    double peak_tops_per_w;                /* peak_tops / chip_power_w */
    double peak_gops_per_mm2;              /* peak_tops / chip_area_mm2 x 1000 */
    int power_data_dependent;              /* some part's power is NAN (the device array) */
} cim_hw_cost;

/* Area and peak power of `hw` with the components of `lib`. */
cim_status cim_hw_cost_compute(cim_ctx *ctx, const cim_components *lib, const cim_hw *hw, cim_hw_cost *out);

/* ------------------------------------------------------------- mapping */

/* One layer as the mapper sees it (a workload layer, cimsim/workload.h). */
typedef struct cim_hw_layer {
    const char *name;           /* for messages (may be NULL) */
    int K, N, groups;           /* GEMM per group: K rows, N columns; groups >= 1 */
    uint64_t M;                 /* input vectors per group and inference (>= 1) */
    int n_weight_slices;        /* 0: the config's */
    int input_signed;           /* -1: from the config (signed_split, or auto with zx != 0);
                                   0/1: the inputs' sign when the config's encoding is auto */
    const cim_xbar_config *cfg; /* the layer's crossbar config (rows/cols must match the hw) */
} cim_hw_layer;

typedef struct cim_hw_layer_map {
    int chunks;                 /* ceil(K / rows) */
    int filters_per_crossbar;   /* floor(cols / weight slices) */
    int groups_per_crossbar;    /* groups sharing a crossbar block-diagonally (1 if none) */
    uint64_t crossbars;         /* one copy of the weights */
    uint64_t copies;            /* replication (>= 1) */
    int cycles_per_vector;      /* input slices per phase x phases */
    int phases;                 /* 2 for signed_split, else 1 */
    double vector_ns;           /* cycles_per_vector x cycle */
    double time_ns;             /* per inference: ceil(M / copies) x vector_ns */
    double utilization;         /* cells used / (crossbars x rows x cols), one copy */
    uint64_t macs;              /* M x K x N x groups */
} cim_hw_layer_map;

typedef struct cim_hw_mapping {
    int n_layers;
    cim_hw_layer_map *layer;    /* n_layers entries; free with cim_hw_mapping_free */
    int chips;                  /* chips needed to hold one copy of every layer (>= 1) */
    uint64_t crossbars_available; /* chips x crossbars per chip */
    uint64_t crossbars_min;     /* one copy of every layer */
    uint64_t crossbars_used;    /* with replication (<= available) */
    int tiles_used;             /* ceil(crossbars_used / crossbars per tile) */
    int bottleneck;             /* the slowest layer's index */
    double inferences_per_s;    /* 1 / the slowest layer's time */
    double tops;                /* 2 x MACs per inference x inferences_per_s / 1e12 */
    double utilization;         /* used cells of all copies / (crossbars_used x rows x cols) */
    double area_mm2;            /* chips x chip area */
    double power_w;             /* chips x chip peak power */
    double tops_per_mm2;
    uint64_t macs;              /* per inference */
} cim_hw_mapping;

/* Map n layers onto hw (cost from cim_hw_cost_compute). Fills *out (free with
 * cim_hw_mapping_free). When one copy of the layers needs more crossbars than
 * a chip has, it takes as many chips as needed (out->chips). A layer whose
 * config does not fit the hardware (rows, cols, a 2T2R encoding on 1T1R cells,
 * cell bits above the hardware's) is CIM_ERR_CONFIG naming the layer. */
cim_status cim_hw_map(cim_ctx *ctx, const cim_hw *hw, const cim_hw_cost *cost, const cim_hw_layer *layers, int n,
                      cim_hw_mapping *out);

/* Crossbars for one copy of a layer and the layer's per-vector timing without
 * replication (the first step of cim_hw_map). */
cim_status cim_hw_map_layer(cim_ctx *ctx, const cim_hw *hw, const cim_hw_layer *layer, cim_hw_layer_map *out);

void cim_hw_mapping_free(cim_ctx *ctx, cim_hw_mapping *m);

const char *cim_hw_level_name(cim_hw_level l);

#ifdef __cplusplus
}
#endif
#endif
