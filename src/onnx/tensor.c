/* tensor.c: ONNX TensorProto -> nn_value (initializers, Constant nodes,
 * tensor attributes and the .pb files of ONNX's test data).
 *
 * Supported types are the ones the network layer computes with: float32,
 * uint8, int8, int32, int64 and bool. Data comes from raw_data (little-endian,
 * exactly count * element size bytes) or from the typed field the ONNX spec
 * assigns to the type (float_data; int32_data for int32, uint8, int8 and
 * bool; int64_data), whose length must equal the element count. */
#include <stdio.h>
#include <string.h>
#include "onnx_internal.h"

nn_dtype nn_onnx__dtype(int64_t t)
{
    switch (t) {
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT: return NN_FLOAT;
    case ONNX__TENSOR_PROTO__DATA_TYPE__UINT8: return NN_UINT8;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT8: return NN_INT8;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT32: return NN_INT32;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT64: return NN_INT64;
    case ONNX__TENSOR_PROTO__DATA_TYPE__BOOL: return NN_BOOL;
    default: return NN_UNDEFINED;
    }
}

const char *nn_onnx__dtype_name(int64_t t)
{
    static const char *const names[] = {"undefined", "float32",   "uint8",      "int8",    "uint16", "int16",
                                        "int32",     "int64",     "string",     "bool",    "float16", "double",
                                        "uint32",    "uint64",    "complex64",  "complex128", "bfloat16",
                                        "float8e4m3fn", "float8e4m3fnuz", "float8e5m2", "float8e5m2fnuz",
                                        "uint4",     "int4"};
    if (t >= 0 && t < (int64_t)(sizeof names / sizeof names[0]))
        return names[t];
    return "unknown";
}

/* Copy n elements of `size` bytes from little-endian bytes to host order. */
static void copy_le(void *dst, const uint8_t *src, size_t n, size_t size)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(dst, src, n * size);
#else
    uint8_t *d = dst;
    for (size_t i = 0; i < n; i++)
        for (size_t b = 0; b < size; b++)
            d[i * size + b] = src[i * size + size - 1 - b];
#endif
}

/* Typed-field data (count already checked): check each value's range and convert. */
static cim_status typed_data(cim_ctx *ctx, const char *path, const char *what, const Onnx__TensorProto *tp,
                             nn_dtype dt, size_t count, void *data)
{
    if (count == 0)
        return CIM_OK;
    if (dt == NN_FLOAT) {
        memcpy(data, tp->float_data, count * sizeof(float));
        return CIM_OK;
    }
    if (dt == NN_INT64) {
        memcpy(data, tp->int64_data, count * sizeof(int64_t));
        return CIM_OK;
    }
    if (dt == NN_INT32) {
        memcpy(data, tp->int32_data, count * sizeof(int32_t));
        return CIM_OK;
    }
    int32_t lo = dt == NN_INT8 ? -128 : 0, hi = dt == NN_INT8 ? 127 : dt == NN_UINT8 ? 255 : 1;
    uint8_t *d = data;
    for (size_t i = 0; i < count; i++) {
        int32_t v = tp->int32_data[i];
        if (v < lo || v > hi)
            return cim__err(ctx, CIM_ERR_FORMAT, "%s: %s: int32_data[%zu] = %d is out of range for %s", path, what, i,
                            (int)v, nn_dtype_name(dt));
        d[i] = (uint8_t)v; /* int8: two's complement */
    }
    return CIM_OK;
}

cim_status nn_onnx__tensor_value(cim_ctx *ctx, const char *path, const char *what, const Onnx__TensorProto *tp,
                                 nn_value *out)
{
    memset(out, 0, sizeof *out);
    if ((tp->has_data_location && tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL) ||
        tp->n_external_data)
        return cim__err(ctx, CIM_ERR_UNSUPPORTED,
                        "%s: %s: uses external data (data_location EXTERNAL), which is not supported", path, what);
    if (tp->segment)
        return cim__err(ctx, CIM_ERR_UNSUPPORTED, "%s: %s: segmented tensors are not supported", path, what);
    int64_t code = tp->has_data_type ? tp->data_type : 0;
    nn_dtype dt = nn_onnx__dtype(code);
    if (dt == NN_UNDEFINED)
        return cim__err(ctx, CIM_ERR_UNSUPPORTED, "%s: %s: data type %s (%lld) is not supported", path, what,
                        nn_onnx__dtype_name(code), (long long)code);
    if (tp->n_dims > NN_MAX_RANK)
        return cim__err(ctx, CIM_ERR_UNSUPPORTED, "%s: %s: rank %zu is not supported (at most %d)", path, what,
                        tp->n_dims, NN_MAX_RANK);
    int64_t count = 1;
    for (size_t i = 0; i < tp->n_dims; i++) {
        int64_t d = tp->dims[i];
        if (d < 0)
            return cim__err(ctx, CIM_ERR_FORMAT, "%s: %s: dims[%zu] = %lld is negative", path, what, i, (long long)d);
        if (d > NN_MAX_ELEMS || (count *= d) > NN_MAX_ELEMS)
            return cim__err(ctx, CIM_ERR_FORMAT, "%s: %s: dims give more than 2^31 elements (dims[%zu] = %lld)",
                            path, what, i, (long long)d);
    }
    size_t esize = nn_dtype_size(dt), n = (size_t)count, bytes = n * esize;
    /* check the data's length before allocating for the dims (a hostile
     * file's dims must not make us allocate gigabytes for a few bytes) */
    if (tp->has_raw_data && tp->raw_data.len != bytes)
        return cim__err(ctx, CIM_ERR_FORMAT, "%s: %s: raw_data has %zu bytes but dims need %zu (%zu x %s)", path,
                        what, tp->raw_data.len, bytes, n, nn_dtype_name(dt));
    if (!tp->has_raw_data) {
        const char *field = dt == NN_FLOAT ? "float_data" : dt == NN_INT64 ? "int64_data" : "int32_data";
        size_t have = dt == NN_FLOAT ? tp->n_float_data : dt == NN_INT64 ? tp->n_int64_data : tp->n_int32_data;
        if (have != n)
            return cim__err(ctx, CIM_ERR_FORMAT, "%s: %s: %s has %zu values but dims need %zu", path, what, field,
                            have, n);
    }
    void *data = cim__malloc(ctx, bytes); /* at least 1 byte, so data is set for empty tensors too */
    if (!data)
        return CIM_ERR_NOMEM;
    cim_status st = CIM_OK;
    if (tp->has_raw_data) {
        if (bytes)
            copy_le(data, tp->raw_data.data, n, esize);
        if (dt == NN_BOOL)
            for (size_t i = 0; i < n; i++)
                ((uint8_t *)data)[i] = ((uint8_t *)data)[i] != 0;
    } else {
        st = typed_data(ctx, path, what, tp, dt, n, data);
    }
    if (st != CIM_OK) {
        cim__free(ctx, data);
        return st;
    }
    out->dtype = dt;
    out->rank = (int)tp->n_dims;
    for (size_t i = 0; i < tp->n_dims; i++)
        out->dims[i] = tp->dims[i];
    out->data = data;
    return CIM_OK;
}
