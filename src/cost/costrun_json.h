/* costrun_json.h: JSON pieces shared by eval and cost results (private). */
#ifndef CIMSIM_COSTRUN_JSON_H
#define CIMSIM_COSTRUN_JSON_H
#include <jansson.h>
#include "cimsim/costrun.h"

/* energy_pj_per_inference, energy_by_component, titanium (null without energy). */
int cim__energy_json(json_t *o, const cim_energy *e, int has);
/* hw, tile, chip, area_by_component (chip null without hardware). */
int cim__hw_json(json_t *o, const cim_cost_hw_result *h, int has);
/* crossbars, copies, cycles_per_vector, time_ns of a layer's mapping. */
int cim__map_json(json_t *o, const cim_hw_layer_map *m, int has);
#endif
