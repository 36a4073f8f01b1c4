/* onnx_internal.h: what the ONNX loader's files share (pb.c, tensor.c,
 * attr.c, load.c, topo.c). Includes the protobuf-c code generated from
 * onnx.proto. */
#ifndef CIMSIM_ONNX_INTERNAL_H
#define CIMSIM_ONNX_INTERNAL_H

#include <protobuf-c/protobuf-c.h>
#include "onnx/onnx.pb-c.h"
#include "onnx.h"
#include "../lib/internal.h"

/* ---- pb.c: files and protobuf-c ---- */

/* A protobuf-c allocator over the context's allocator; `failed` records an
 * allocation failure (so that a failed unpack can be told from bad bytes). */
typedef struct nn_onnx_alloc {
    ProtobufCAllocator pb;
    cim_ctx *ctx;
    int failed;
} nn_onnx_alloc;
void nn_onnx__alloc_init(nn_onnx_alloc *a, cim_ctx *ctx);

/* Read the whole file (at most NN_ONNX_MAX_FILE_BYTES) into *buf (context
 * allocator; *buf non-NULL even when the file is empty). */
cim_status nn_onnx__read_file(cim_ctx *ctx, const char *path, uint8_t **buf, size_t *len);

/* Unpack `desc` from the file's bytes, after checking that messages nest at
 * most NN_ONNX_MAX_DEPTH deep (protobuf-c recurses once per level). `what`
 * names the message in the error ("ONNX model", "ONNX tensor"). */
cim_status nn_onnx__unpack(cim_ctx *ctx, const char *path, const char *what, const ProtobufCMessageDescriptor *desc,
                           const uint8_t *buf, size_t len, nn_onnx_alloc *a, ProtobufCMessage **out);

/* ---- tensor.c ---- */

/* ONNX data type code -> nn_dtype, NN_UNDEFINED when unsupported; and a name
 * for any ONNX data type code (for messages). */
nn_dtype nn_onnx__dtype(int64_t onnx_type);
const char *nn_onnx__dtype_name(int64_t onnx_type);

/* Convert a TensorProto into *out (dims, dtype, data from raw_data or the
 * typed fields, allocated with the context's allocator). `what` names the
 * tensor in messages ("initializer 'W'"); messages start with path. On error
 * *out is zeroed and holds nothing. */
cim_status nn_onnx__tensor_value(cim_ctx *ctx, const char *path, const char *what, const Onnx__TensorProto *tp,
                                 nn_value *out);

/* A NUL-terminated copy of s (NULL: ""), or NULL when out of memory. */
char *nn_onnx__strdup(cim_ctx *ctx, const char *s);

/* ---- attr.c ---- */

/* Convert one attribute of node `node` (op type `op`) into *a, which must be
 * zeroed; on error *a may hold parts (free them as nn_graph_free does). */
cim_status nn_onnx__attr(cim_ctx *ctx, const char *path, const char *node, const char *op,
                         const Onnx__AttributeProto *ap, nn_attr *a);

/* ---- topo.c: names and order ---- */

/* An open-addressing table of tensor names -> tensor indices in g->t. */
typedef struct nn_onnx_names {
    int *slot;   /* tensor index + 1; 0 = empty */
    size_t mask; /* capacity - 1 (a power of two) */
} nn_onnx_names;
cim_status nn_onnx__names_init(cim_ctx *ctx, nn_onnx_names *m, size_t max_entries);
void nn_onnx__names_free(cim_ctx *ctx, nn_onnx_names *m);
/* Index of `name` in g->t, or -1. */
int nn_onnx__names_get(const nn_onnx_names *m, const nn_graph *g, const char *name);
/* Record g->t[idx] (whose name is set and not yet in the table). */
void nn_onnx__names_put(nn_onnx_names *m, const nn_graph *g, int idx);

/* Sort g->nodes topologically (Kahn's algorithm, smallest file index first,
 * so a sorted file keeps its order) and update every tensor's producer. A
 * cycle is CIM_ERR_FORMAT naming a node on it. */
cim_status nn_onnx__toposort(nn_graph *g);

#endif
