/* onnx.h: loading ONNX models and tensors into the network layer (internal to
 * cimsim).
 *
 * Files are parsed with protobuf-c from the C code that protoc-c generates at
 * build time from Debian's official onnx.proto (never a hand-written parser).
 * Every allocation, protobuf-c's included, goes through the context's
 * allocator. Errors are a cim_status plus a message in the context that starts
 * with the file's path and names the field, node or tensor that was wrong;
 * bad input never aborts and never leaks.
 */
#ifndef CIMSIM_ONNX_H
#define CIMSIM_ONNX_H

#include "nn/nn.h"

/* Limits on hostile input (a real model stays far below them). */
#define NN_ONNX_MAX_FILE_BYTES ((long long)512 << 20) /* 512 MiB */
#define NN_ONNX_MAX_NODES 1000000                     /* nodes in the graph */
#define NN_ONNX_MAX_TENSORS 1000000                   /* distinct tensor names */
#define NN_ONNX_MAX_DEPTH 64                          /* nesting of protobuf messages */

/* Load the ONNX ModelProto file `path` into a new graph (*out; NULL on error;
 * free it with nn_graph_free).
 *
 * Tensors: one per distinct name among graph inputs, initializers and node
 * outputs. Initializers, and the outputs of ai.onnx Constant nodes (folded at
 * load: they do not appear as nodes), are is_init = is_const = 1 with data.
 * Graph inputs that are also initializers are constants; the other graph
 * inputs (g->inputs, in file order) take their dtype and shape from their
 * ValueInfoProto, a symbolic or missing dimension loading as -1 for the
 * caller to set (the batch size) before nn_graph_infer. Nodes are
 * topologically sorted (the file's order is kept when it already is one), an
 * unnamed node is called "<op_type>#<index in the file>", the domain
 * "ai.onnx" is stored as "", an omitted optional input or output is -1 and
 * node->op is left NULL (nn_graph_infer resolves it). g->opset is the default
 * domain's opset version; metadata_props go to g->meta_key/meta_value. The
 * graph is returned before shape inference.
 *
 * Errors:
 * - CIM_ERR_IO: the file cannot be opened or read, or is not a regular file.
 * - CIM_ERR_FORMAT: not a protobuf ModelProto; messages nested deeper than
 *   NN_ONNX_MAX_DEPTH; no graph, no nodes or no outputs; no default-domain
 *   opset while a node is in the default domain (without such nodes g->opset
 *   is 0); a graph input without a tensor type or shape; a tensor whose data
 *   do not match its dims, or with negative dims or more than NN_MAX_ELEMS
 *   elements; a node input that no graph input, initializer or node provides;
 *   a tensor produced twice; a cycle; an unknown graph output; more than
 *   NN_ONNX_MAX_NODES nodes or NN_ONNX_MAX_TENSORS tensor names.
 * - CIM_ERR_UNSUPPORTED: a file larger than NN_ONNX_MAX_FILE_BYTES; a data
 *   type other than float32, uint8, int8, int32, int64 and bool; external,
 *   segmented or sparse data; a graph input that is not a tensor; attributes
 *   of type GRAPH, SPARSE_TENSOR, STRINGS, TENSORS...; a rank above
 *   NN_MAX_RANK; a Constant other than value, value_float(s), value_int(s).
 * - CIM_ERR_NOMEM. */
cim_status nn_onnx_load(cim_ctx *ctx, const char *path, nn_graph **out);

/* Read a serialized TensorProto file (such as ONNX's test data
 * test_data_set_0/input_0.pb) into *out: dtype, shape and data allocated with
 * the context's allocator (free it with nn_value_free). On error *out is
 * zeroed. Errors as for nn_onnx_load's tensors, plus CIM_ERR_IO. */
cim_status nn_onnx_load_tensor(cim_ctx *ctx, const char *path, nn_value *out);

#endif
