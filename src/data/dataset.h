/* dataset.h: the samples a model is run on, and how they become its input.
 *
 * A dataset is opened from a spec:
 *   "fashion-mnist", "fashion-mnist:test"  the Fashion-MNIST test set (10000)
 *   "fashion-mnist:train"                  the training set (60000)
 *       read from /usr/share/datasets/fashion-mnist/ (Debian's
 *       dataset-fashion-mnist), or from the directory in the environment
 *       variable CIMSIM_FASHION_MNIST_DIR; files t10k-images-idx3-ubyte.gz,
 *       t10k-labels-idx1-ubyte.gz, train-*.gz (an uncompressed file of the
 *       same name without .gz is used when the .gz is absent). Samples are
 *       uint8 [rows][cols] as stored ([28][28]), labels as stored (0..9).
 *   anything else                          a path to an .npy file of inputs,
 *       first axis = samples, dtype float32 or uint8; labels (optional) from
 *       a second .npy of one integer class per sample (uint8, int32, or int64
 *       where the NPY reader supports it), as many as there are samples.
 *
 * Preprocessing (nn_preproc_init, nn_dataset_fill) turns samples into a
 * model's input. It reads the model's metadata_props:
 *   cimsim.input_scale   one number (default 1)
 *   cimsim.input_mean    comma-separated, one per channel (default 0)
 *   cimsim.input_std     comma-separated, one per channel (default 1)
 *   cimsim.input_layout  "NCHW" (the only layout; the default)
 * and for a uint8 sample going into a float32 input computes, in float32 and
 * in this order (each step rounded to float32, no fused multiply-add):
 *     x = ((float)pixel * scale - mean[c]) / std[c]
 * where c is the channel (axis 1 of an NCHW input; 0 when the input has no
 * channel axis). Other cases: uint8 sample -> uint8 input: the raw codes;
 * float32 sample -> float32 input: copied as is (an NPY of floats is taken to
 * be preprocessed already); float32 sample -> uint8 input: CIM_ERR_SHAPE.
 *
 * Shapes: a sample fits a model input when the input's dims without the batch
 * dim (dims[0]) equal the sample's dims after leading 1s are dropped from
 * both: [28,28] images fit [N,28,28], [N,1,28,28] and [1,1,28,28] alike.
 */
#ifndef CIMSIM_DATA_DATASET_H
#define CIMSIM_DATA_DATASET_H

#include <stddef.h>
#include <stdint.h>
#include "cimsim/cimsim.h"
#include "nn/nn.h"

typedef struct nn_dataset nn_dataset;

/* Open a dataset (see above). labels_npy may be NULL; it is only valid with
 * an NPY spec (CIM_ERR_ARG otherwise). The dataset keeps ctx for its
 * allocator and messages. Errors: CIM_ERR_ARG (bad spec or split), CIM_ERR_IO
 * (a missing file, named), CIM_ERR_FORMAT (a malformed file, or a label out of
 * range), CIM_ERR_SHAPE (wrong dtype or rank, label count != sample count),
 * CIM_ERR_NOMEM. On error *out is NULL. */
cim_status nn_dataset_open(cim_ctx *ctx, const char *spec, const char *labels_npy, nn_dataset **out);
void nn_dataset_close(nn_dataset *ds);

/* What was opened, for messages: "fashion-mnist:test" or the NPY path. */
const char *nn_dataset_name(const nn_dataset *ds);
int64_t nn_dataset_count(const nn_dataset *ds);
/* One sample's shape (without the sample axis): rank and dims. */
int nn_dataset_rank(const nn_dataset *ds);
const int64_t *nn_dataset_dims(const nn_dataset *ds);
/* NN_UINT8 or NN_FLOAT. */
nn_dtype nn_dataset_dtype(const nn_dataset *ds);
/* Raw sample data, C order [count][dims...] (for tests and tools). */
const void *nn_dataset_data(const nn_dataset *ds);
int nn_dataset_has_labels(const nn_dataset *ds);
/* The class of sample i (>= 0), or -1 when there are no labels or i is out
 * of range. */
int32_t nn_dataset_label(const nn_dataset *ds, int64_t i);

#define NN_PREPROC_MAX_CH 16

/* How samples become one model input; filled by nn_preproc_init. */
typedef struct nn_preproc {
    nn_dtype dtype;          /* the model input's dtype: NN_FLOAT or NN_UINT8 */
    int rank;                /* the model input's rank and dims (dims[0] = batch) */
    int64_t dims[NN_MAX_RANK];
    int64_t sample_elems;    /* elements per sample */
    int channels;            /* C of an NCHW input, 1 without a channel axis */
    int64_t plane;           /* elements per channel of one sample (H*W) */
    float scale;
    float mean[NN_PREPROC_MAX_CH];
    float std[NN_PREPROC_MAX_CH];
} nn_preproc;

/* Check that ds's samples fit a model input of dtype `dtype` and shape
 * dims[0..rank) (dims[0] is the batch and may be -1; other dims must be
 * known), and parse the model's metadata (n_meta key/value pairs, such as
 * nn_graph's meta_key/meta_value; unknown keys are ignored). `model` names the
 * model in messages. Errors: CIM_ERR_SHAPE (shapes or dtypes that do not fit,
 * naming both), CIM_ERR_FORMAT (a metadata value that is not a number, a std
 * of 0, a channel count that differs from the input's, naming the key),
 * CIM_ERR_UNSUPPORTED (an input dtype other than float32/uint8, a layout
 * other than NCHW). */
cim_status nn_preproc_init(const nn_dataset *ds, const char *model, char *const *keys,
                           char *const *values, int n_meta, nn_dtype dtype, const int64_t *dims,
                           int rank, nn_preproc *out);

/* Write samples [i0, i0 + n) of ds, preprocessed, to dst: n * sample_elems
 * elements of pp->dtype in the model input's layout. CIM_ERR_ARG when the
 * range is outside the dataset. */
cim_status nn_dataset_fill(const nn_dataset *ds, const nn_preproc *pp, int64_t i0, int64_t n,
                           void *dst);

#endif
