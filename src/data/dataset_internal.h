/* dataset_internal.h: the dataset struct, shared by dataset.c (opening) and
 * preprocess.c (filling model inputs). */
#ifndef CIMSIM_DATA_DATASET_INTERNAL_H
#define CIMSIM_DATA_DATASET_INTERNAL_H

#include "dataset.h"
#include "idx.h"

struct nn_dataset {
    cim_ctx *ctx;              /* allocator and messages */
    char *name;                /* "fashion-mnist:test" or the NPY path */
    nn_dtype dtype;            /* NN_UINT8 or NN_FLOAT */
    int rank;                  /* one sample's rank and dims */
    int64_t dims[NN_MAX_RANK];
    int64_t count;             /* samples */
    size_t sample_elems;       /* product of dims */
    const void *data;          /* [count][dims...], in idx or npy below */
    int32_t *labels;           /* count classes, or NULL */
    nn_idx idx;                /* IDX images (zeroed otherwise) */
    cim_npy npy;               /* NPY inputs (zeroed otherwise) */
};

#endif
