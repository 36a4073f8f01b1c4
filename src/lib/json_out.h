/* json_out.h: JSON output shared by the library's writers (jansson). */
#ifndef CIMSIM_JSON_OUT_H
#define CIMSIM_JSON_OUT_H

#include <jansson.h>
#include "cimsim/cimsim.h"

/* The counters (and the mapping, when info is not NULL) as a new object, or
 * NULL when out of memory. Keys as cim_stats_write_json documents. */
json_t *cim__stats_json(const cim_stats *s, const cim_layer_info *info);

/* Write o to path ("-": stdout) through a temporary file and a rename, so a
 * failure leaves no partial file. */
cim_status cim__json_write(cim_ctx *ctx, const char *path, const json_t *o);

#endif
