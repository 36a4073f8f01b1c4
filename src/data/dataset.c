/* dataset.c: opening datasets (Fashion-MNIST IDX files or NPY arrays) and
 * their accessors; see dataset.h. Preprocessing lives in preprocess.c. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "lib/internal.h"
#include "dataset_internal.h"

#define FMNIST_DEFAULT_DIR "/usr/share/datasets/fashion-mnist"
#define FMNIST_ENV "CIMSIM_FASHION_MNIST_DIR"
#define FMNIST_SPEC "fashion-mnist"

static char *dup_str(cim_ctx *ctx, const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = cim__malloc(ctx, n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* "<dir>/<prefix>-<kind>-<idx>-ubyte.gz", or the same without .gz when only
 * that exists. */
static cim_status fmnist_path(cim_ctx *ctx, const char *dir, const char *prefix, const char *kind,
                              char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "%s/%s-%s-ubyte.gz", dir, prefix, kind);
    if (n < 0 || (size_t)n >= cap)
        return cim__err(ctx, CIM_ERR_ARG, "%s: the directory name in %s is too long", FMNIST_SPEC,
                        FMNIST_ENV);
    if (access(buf, F_OK) != 0) {
        buf[n - 3] = '\0';
        if (access(buf, F_OK) != 0)
            buf[n - 3] = '.'; /* report the .gz name */
    }
    return CIM_OK;
}

static cim_status open_fmnist(nn_dataset *ds, const char *split)
{
    cim_ctx *ctx = ds->ctx;
    const char *prefix;
    if (!split || strcmp(split, "test") == 0)
        prefix = "t10k";
    else if (strcmp(split, "train") == 0)
        prefix = "train";
    else
        return cim__err(ctx, CIM_ERR_ARG, "dataset '%s:%s': unknown split '%s' (want test or train)",
                        FMNIST_SPEC, split, split);
    const char *dir = getenv(FMNIST_ENV);
    if (!dir || !*dir)
        dir = FMNIST_DEFAULT_DIR;
    char ipath[1024], lpath[1024];
    cim_status st = fmnist_path(ctx, dir, prefix, "images-idx3", ipath, sizeof ipath);
    if (!st)
        st = fmnist_path(ctx, dir, prefix, "labels-idx1", lpath, sizeof lpath);
    if (!st)
        st = nn_idx_read(ctx, ipath, 3, "images", &ds->idx);
    nn_idx lab = {0};
    if (!st)
        st = nn_idx_read(ctx, lpath, 1, "labels", &lab);
    if (st)
        return st;
    if (lab.dims[0] != ds->idx.dims[0]) {
        st = cim__err(ctx, CIM_ERR_SHAPE, "%s: labels: %" PRId64 " labels for the %" PRId64
                      " images of %s", lpath, lab.dims[0], ds->idx.dims[0], ipath);
        nn_idx_free(ctx, &lab);
        return st;
    }
    ds->count = ds->idx.dims[0];
    ds->rank = 2;
    ds->dims[0] = ds->idx.dims[1];
    ds->dims[1] = ds->idx.dims[2];
    ds->dtype = NN_UINT8;
    ds->data = ds->idx.data;
    ds->labels = cim__calloc(ctx, (size_t)ds->count, sizeof *ds->labels);
    if (!ds->labels)
        st = cim__err(ctx, CIM_ERR_NOMEM, "%s: out of memory for %" PRId64 " labels", lpath,
                      ds->count);
    for (int64_t i = 0; !st && i < ds->count; i++)
        ds->labels[i] = lab.data[i];
    nn_idx_free(ctx, &lab);
    return st;
}

/* Labels from an NPY of one integer class per sample. */
static cim_status load_npy_labels(nn_dataset *ds, const char *path)
{
    cim_ctx *ctx = ds->ctx;
    cim_npy a = {0};
    cim_status st = cim_npy_read(ctx, path, 0, &a);
    if (st)
        return st;
    int ok_type = a.dtype == CIM_UINT8 || a.dtype == CIM_INT32;
#ifdef CIM_NPY_HAS_INT64
    ok_type = ok_type || a.dtype == CIM_INT64;
#endif
    if (!ok_type)
        st = cim__err(ctx, CIM_ERR_SHAPE, "%s: dtype: labels must be integer classes (uint8, "
                      "int32 or int64), not %s", path,
                      a.dtype == CIM_FLOAT32 ? "float32" : a.dtype == CIM_INT8 ? "int8" : "this type");
    else if (a.rank != 1)
        st = cim__err(ctx, CIM_ERR_SHAPE, "%s: shape: labels must have rank 1 ([%" PRId64
                      "]), not rank %d", path, ds->count, a.rank);
    else if (a.shape[0] != ds->count)
        st = cim__err(ctx, CIM_ERR_SHAPE, "%s: shape: %" PRId64 " labels for the %" PRId64
                      " samples of %s", path, a.shape[0], ds->count, ds->name);
    if (!st && !(ds->labels = cim__calloc(ctx, (size_t)ds->count, sizeof *ds->labels)))
        st = cim__err(ctx, CIM_ERR_NOMEM, "%s: out of memory for %" PRId64 " labels", path,
                      ds->count);
    for (int64_t i = 0; !st && i < ds->count; i++) {
        int64_t v;
        if (a.dtype == CIM_UINT8)
            v = ((const uint8_t *)a.data)[i];
        else if (a.dtype == CIM_INT32)
            v = ((const int32_t *)a.data)[i];
        else
            v = ((const int64_t *)a.data)[i];
        if (v < 0 || v > INT32_MAX)
            st = cim__err(ctx, CIM_ERR_FORMAT, "%s: label %" PRId64 ": %" PRId64
                          " is not a class index (0..2^31-1)", path, i, v);
        else
            ds->labels[i] = (int32_t)v;
    }
    cim_npy_free(ctx, &a);
    return st;
}

static cim_status open_npy(nn_dataset *ds, const char *path, const char *labels)
{
    cim_ctx *ctx = ds->ctx;
    cim_status st = cim_npy_read(ctx, path, 0, &ds->npy);
    if (st)
        return st;
    const cim_npy *a = &ds->npy;
    if (a->dtype != CIM_FLOAT32 && a->dtype != CIM_UINT8)
        return cim__err(ctx, CIM_ERR_SHAPE, "%s: dtype: inputs must be float32 or uint8, not %s",
                        path, a->dtype == CIM_INT8 ? "int8" : a->dtype == CIM_INT32 ? "int32"
                                                                                    : "this type");
    if (a->rank < 1)
        return cim__err(ctx, CIM_ERR_SHAPE, "%s: shape: a scalar is not a dataset (the first "
                        "axis is the samples)", path);
    if (a->shape[0] < 1)
        return cim__err(ctx, CIM_ERR_SHAPE, "%s: shape: no samples (first axis is 0)", path);
    ds->count = a->shape[0];
    ds->rank = a->rank - 1;
    for (int i = 1; i < a->rank; i++)
        ds->dims[i - 1] = a->shape[i];
    ds->dtype = a->dtype == CIM_FLOAT32 ? NN_FLOAT : NN_UINT8;
    ds->data = a->data;
    return labels ? load_npy_labels(ds, labels) : CIM_OK;
}

cim_status nn_dataset_open(cim_ctx *ctx, const char *spec, const char *labels_npy, nn_dataset **out)
{
    if (!out)
        return cim__err(ctx, CIM_ERR_ARG, "nn_dataset_open: out is NULL");
    *out = NULL;
    if (!spec || !*spec)
        return cim__err(ctx, CIM_ERR_ARG, "dataset: no dataset given (want fashion-mnist[:test|:train] "
                        "or a path to an .npy file)");
    nn_dataset *ds = cim__calloc(ctx, 1, sizeof *ds);
    if (!ds)
        return CIM_ERR_NOMEM;
    ds->ctx = ctx;
    size_t pl = strlen(FMNIST_SPEC);
    int fmnist = strncmp(spec, FMNIST_SPEC, pl) == 0 && (spec[pl] == '\0' || spec[pl] == ':');
    cim_status st = CIM_OK;
    if (fmnist) {
        const char *split = spec[pl] == ':' ? spec + pl + 1 : NULL;
        char name[64];
        snprintf(name, sizeof name, "%s:%s", FMNIST_SPEC, split ? split : "test");
        ds->name = dup_str(ctx, name);
        if (!ds->name)
            st = CIM_ERR_NOMEM;
        else if (labels_npy)
            st = cim__err(ctx, CIM_ERR_ARG, "dataset '%s': a labels file (%s) only goes with an "
                          ".npy dataset", spec, labels_npy);
        else
            st = open_fmnist(ds, split);
    } else {
        ds->name = dup_str(ctx, spec);
        st = ds->name ? open_npy(ds, spec, labels_npy) : CIM_ERR_NOMEM;
    }
    if (st) {
        nn_dataset_close(ds);
        return st;
    }
    size_t elems = 1;
    for (int i = 0; i < ds->rank; i++)
        elems *= (size_t)ds->dims[i]; /* bounded by the reader's size limit */
    ds->sample_elems = elems;
    *out = ds;
    return CIM_OK;
}

void nn_dataset_close(nn_dataset *ds)
{
    if (!ds)
        return;
    cim_ctx *ctx = ds->ctx;
    nn_idx_free(ctx, &ds->idx);
    cim_npy_free(ctx, &ds->npy);
    cim__free(ctx, ds->labels);
    cim__free(ctx, ds->name);
    cim__free(ctx, ds);
}

const char *nn_dataset_name(const nn_dataset *ds) { return ds->name; }
int64_t nn_dataset_count(const nn_dataset *ds) { return ds->count; }
int nn_dataset_rank(const nn_dataset *ds) { return ds->rank; }
const int64_t *nn_dataset_dims(const nn_dataset *ds) { return ds->dims; }
nn_dtype nn_dataset_dtype(const nn_dataset *ds) { return ds->dtype; }
const void *nn_dataset_data(const nn_dataset *ds) { return ds->data; }
int nn_dataset_has_labels(const nn_dataset *ds) { return ds->labels != NULL; }

int32_t nn_dataset_label(const nn_dataset *ds, int64_t i)
{
    if (!ds->labels || i < 0 || i >= ds->count)
        return -1;
    return ds->labels[i];
}
