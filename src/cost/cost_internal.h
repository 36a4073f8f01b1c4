/* cost_internal.h: what the component-model files of src/cost/ share. */
#ifndef CIMSIM_COST_INTERNAL_H
#define CIMSIM_COST_INTERNAL_H

#include "lib/internal.h"

/* A loaded component library. Every string the entries point to is owned
 * here (strs) and freed with it. Technology nodes are kept sorted by
 * decreasing node_nm. */
struct cim_components {
    cim_component *comp;
    int n_comp, cap_comp;
    cim_device *dev;
    int n_dev, cap_dev;
    cim_tech_node *node;
    int n_node, cap_node;
    char **strs;
    int n_strs, cap_strs;
};

/* The built-in files (generated from data/components/NAME.yaml). */
extern const char *const cim__component_files[];
extern const char *const cim__component_texts[];

#endif
