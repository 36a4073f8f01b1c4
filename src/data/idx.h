/* idx.h: reading IDX files (the MNIST / Fashion-MNIST format), gzip-compressed
 * or not.
 *
 * An IDX file is a 4-byte magic 0x00 0x00 <type> <rank>, then <rank> big-endian
 * uint32 dimensions, then the elements in C order. Only type 0x08 (uint8) is
 * read, which is what MNIST-style datasets use: images are 0x00000803
 * ([n][rows][cols]) and labels 0x00000801 ([n]). Files are read through zlib's
 * gzread, so "foo-idx3-ubyte.gz" and an uncompressed "foo-idx3-ubyte" both
 * work, and a corrupt gzip stream (bad data, bad CRC, cut short) is caught.
 *
 * The file must hold exactly the bytes its dimensions say: fewer is a
 * truncated file, more is trailing garbage; both are CIM_ERR_FORMAT naming the
 * file and what is short or left over.
 */
#ifndef CIMSIM_DATA_IDX_H
#define CIMSIM_DATA_IDX_H

#include <stddef.h>
#include <stdint.h>
#include "cimsim/cimsim.h"

#define NN_IDX_MAX_RANK 4
/* The largest payload accepted (2 GiB): checked on the header, before anything
 * is allocated, so a hostile header cannot make us allocate more. */
#define NN_IDX_MAX_BYTES ((uint64_t)1 << 31)

typedef struct nn_idx {
    int rank;                       /* 1 .. NN_IDX_MAX_RANK */
    int64_t dims[NN_IDX_MAX_RANK];  /* each >= 1 */
    size_t count;                   /* product of dims = bytes of data */
    uint8_t *data;                  /* owned; free with nn_idx_free */
} nn_idx;

/* Read the IDX file `path` (gzip or plain). rank > 0 requires that rank (3 for
 * images, 1 for labels); 0 accepts 1 .. NN_IDX_MAX_RANK. `what` names the file's
 * role in messages ("images", "labels"; NULL for none).
 * Errors (message "<path>: <field>: ..." in ctx):
 *   CIM_ERR_IO      the file is missing, a directory, or unreadable
 *   CIM_ERR_FORMAT  bad magic, unsupported element type, wrong rank, a zero or
 *                   too large dimension, truncated, trailing bytes, corrupt gzip
 *   CIM_ERR_NOMEM   allocation failed
 * On error *out is zeroed and nothing needs freeing. */
cim_status nn_idx_read(cim_ctx *ctx, const char *path, int rank, const char *what, nn_idx *out);

/* Free what nn_idx_read returned (safe on a zeroed struct). */
void nn_idx_free(cim_ctx *ctx, nn_idx *a);

#endif
