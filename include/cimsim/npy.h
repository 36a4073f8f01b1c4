/* cimsim/npy.h: NumPy .npy files (format versions 1.0, 2.0 and 3.0).
 *
 * Only C-order arrays of the dtypes cimsim exchanges are accepted: int8 ('|i1'),
 * uint8 ('|u1'), int32 ('<i4'), float32 ('<f4'), int64 ('<i8'). Anything else (Fortran order,
 * big-endian, object arrays, a truncated file, a header that is not a valid
 * Python dict literal, absurd shapes) is an error naming the file and the
 * field, and nothing is returned.
 */
#ifndef CIMSIM_NPY_H
#define CIMSIM_NPY_H

#include <stddef.h>
#include <stdint.h>
#include "ctx.h"
#include "layer.h" /* cim_dtype */

#ifdef __cplusplus
extern "C" {
#endif

#define CIM_NPY_MAX_RANK 8
/* The reader and writer know CIM_INT64 ('<i8'). */
#define CIM_NPY_HAS_INT64 1

typedef struct cim_npy {
    int dtype;                         /* CIM_INT8, CIM_UINT8, CIM_INT32, CIM_FLOAT32 or CIM_INT64 */
    int rank;                          /* 0 .. CIM_NPY_MAX_RANK */
    int64_t shape[CIM_NPY_MAX_RANK];
    size_t count;                      /* product of shape (1 for rank 0) */
    void *data;                        /* count elements, owned; free with cim_npy_free */
} cim_npy;

/* Read `path`. On success *out holds the array (host byte order). Arrays larger
 * than max_bytes (0 = 16 GiB) are rejected as absurd before anything is
 * allocated. Errors: CIM_ERR_IO (missing/unreadable), CIM_ERR_FORMAT (bad magic,
 * header, truncated data, unsupported dtype/order), CIM_ERR_NOMEM. */
cim_status cim_npy_read(cim_ctx *ctx, const char *path, size_t max_bytes, cim_npy *out);

/* Like cim_npy_read (with the default size limit), and then require dtype and
 * rank (shape entries >= 0 are required exactly, -1 means any; shape NULL means
 * any shape). A mismatch is CIM_ERR_SHAPE with a message naming the file and
 * what differs, and nothing is returned. */
cim_status cim_npy_read_expect(cim_ctx *ctx, const char *path, int dtype, int rank,
                               const int64_t *shape, cim_npy *out);

/* Free the data of an array read by cim_npy_read (the struct itself is the
 * caller's). Safe on a zeroed struct. */
void cim_npy_free(cim_ctx *ctx, cim_npy *a);

/* Write a C-order array as .npy version 1.0 (2.0 if the header needs it). The
 * file is written to a temporary name in the same directory and renamed on
 * success, so a failure never leaves a partial file at `path`. */
cim_status cim_npy_write(cim_ctx *ctx, const char *path, int dtype, int rank,
                         const int64_t *shape, const void *data);

#ifdef __cplusplus
}
#endif
#endif
