/* pb.c: reading ONNX files and unpacking them with protobuf-c.
 *
 * protobuf-c allocates through the context's allocator (so tests can count
 * and fail allocations), and its unpacker recurses once per nested message
 * without a limit, so a hostile file of a few MB of nested attribute graphs
 * could exhaust the stack: a linear pre-scan of the wire format, guided by
 * the same generated descriptors, rejects nesting deeper than
 * NN_ONNX_MAX_DEPTH first. Also nn_onnx_load_tensor (TensorProto files). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include "onnx_internal.h"

static void *pb_alloc(void *ud, size_t size)
{
    nn_onnx_alloc *a = ud;
    void *p = cim__malloc(a->ctx, size);
    if (!p)
        a->failed = 1;
    return p;
}

static void pb_free(void *ud, void *p)
{
    nn_onnx_alloc *a = ud;
    cim__free(a->ctx, p);
}

void nn_onnx__alloc_init(nn_onnx_alloc *a, cim_ctx *ctx)
{
    a->pb.alloc = pb_alloc;
    a->pb.free = pb_free;
    a->pb.allocator_data = a;
    a->ctx = ctx;
    a->failed = 0;
}

char *nn_onnx__strdup(cim_ctx *ctx, const char *s)
{
    if (!s)
        s = "";
    size_t n = strlen(s) + 1;
    char *r = cim__malloc(ctx, n);
    if (r)
        memcpy(r, s, n);
    return r;
}

cim_status nn_onnx__read_file(cim_ctx *ctx, const char *path, uint8_t **buf, size_t *len)
{
    *buf = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return cim__err(ctx, CIM_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    cim_status st = CIM_OK;
    long size = -1;
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        st = cim__err(ctx, CIM_ERR_IO, "%s: not a regular file", path);
        goto done;
    }
    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        st = cim__err(ctx, CIM_ERR_IO, "%s: cannot determine the file's size: %s", path, strerror(errno));
        goto done;
    }
    if ((long long)size > NN_ONNX_MAX_FILE_BYTES) {
        st = cim__err(ctx, CIM_ERR_UNSUPPORTED, "%s: the file has %ld bytes, more than the limit of %lld", path,
                      size, NN_ONNX_MAX_FILE_BYTES);
        goto done;
    }
    if (!(*buf = cim__malloc(ctx, (size_t)size))) {
        st = CIM_ERR_NOMEM;
        goto done;
    }
    size_t got = size ? fread(*buf, 1, (size_t)size, f) : 0;
    if (got != (size_t)size || ferror(f)) {
        st = cim__err(ctx, CIM_ERR_IO, "%s: read failed after %zu of %ld bytes%s%s", path, got, size,
                      ferror(f) ? ": " : "", ferror(f) ? strerror(errno) : "");
        goto done;
    }
    if (fgetc(f) != EOF) { /* the file grew while we read it */
        st = cim__err(ctx, CIM_ERR_IO, "%s: the file changed while it was read", path);
        goto done;
    }
    *len = (size_t)size;
done:
    if (fclose(f) != 0 && st == CIM_OK)
        st = cim__err(ctx, CIM_ERR_IO, "%s: close failed: %s", path, strerror(errno));
    if (st != CIM_OK) {
        cim__free(ctx, *buf);
        *buf = NULL;
        *len = 0;
    }
    return st;
}

/* A varint at *p (< end); 0 and *p advanced on success, -1 if malformed. */
static int read_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    uint64_t r = 0;
    for (int shift = 0; shift < 64 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;
        r |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = r;
            return 0;
        }
    }
    return -1;
}

/* 0 when messages in [p, end) (a message of type d at `depth`) nest at most
 * NN_ONNX_MAX_DEPTH deep, 1 when deeper. Malformed wire data ends the scan
 * with 0: the unpacker reports it. Every byte is read once. */
static int too_deep(const ProtobufCMessageDescriptor *d, const uint8_t *p, const uint8_t *end, int depth)
{
    if (depth > NN_ONNX_MAX_DEPTH)
        return 1;
    while (p < end) {
        uint64_t key, v;
        if (read_varint(&p, end, &key))
            return 0;
        switch (key & 7) {
        case 0:
            if (read_varint(&p, end, &v))
                return 0;
            break;
        case 1:
            if (end - p < 8)
                return 0;
            p += 8;
            break;
        case 5:
            if (end - p < 4)
                return 0;
            p += 4;
            break;
        case 2: {
            if (read_varint(&p, end, &v) || v > (uint64_t)(end - p))
                return 0;
            const ProtobufCFieldDescriptor *fd =
                key >> 3 <= 0xffffffffu ? protobuf_c_message_descriptor_get_field(d, (unsigned)(key >> 3)) : NULL;
            if (fd && fd->type == PROTOBUF_C_TYPE_MESSAGE && too_deep(fd->descriptor, p, p + v, depth + 1))
                return 1;
            p += v;
            break;
        }
        default: /* groups (3, 4) and invalid wire types: protobuf-c rejects them */
            return 0;
        }
    }
    return 0;
}

cim_status nn_onnx__unpack(cim_ctx *ctx, const char *path, const char *what, const ProtobufCMessageDescriptor *desc,
                           const uint8_t *buf, size_t len, nn_onnx_alloc *a, ProtobufCMessage **out)
{
    *out = NULL;
    if (too_deep(desc, buf, buf + len, 1))
        return cim__err(ctx, CIM_ERR_FORMAT, "%s: not a valid %s (messages nested more than %d deep)", path, what,
                        NN_ONNX_MAX_DEPTH);
    a->failed = 0;
    *out = protobuf_c_message_unpack(desc, &a->pb, len, buf);
    if (*out)
        return CIM_OK;
    if (a->failed)
        return cim__err(ctx, CIM_ERR_NOMEM, "%s: out of memory while parsing the %s", path, what);
    return cim__err(ctx, CIM_ERR_FORMAT, "%s: not a valid %s (protobuf parse failed)", path, what);
}

cim_status nn_onnx_load_tensor(cim_ctx *ctx, const char *path, nn_value *out)
{
    memset(out, 0, sizeof *out);
    uint8_t *buf;
    size_t len;
    cim_status st = nn_onnx__read_file(ctx, path, &buf, &len);
    if (st != CIM_OK)
        return st;
    nn_onnx_alloc a;
    nn_onnx__alloc_init(&a, ctx);
    ProtobufCMessage *m;
    st = nn_onnx__unpack(ctx, path, "ONNX tensor", &onnx__tensor_proto__descriptor, buf, len, &a, &m);
    cim__free(ctx, buf);
    if (st != CIM_OK)
        return st;
    const Onnx__TensorProto *tp = (const Onnx__TensorProto *)m;
    char what[300];
    if (tp->name && tp->name[0])
        snprintf(what, sizeof what, "tensor '%.256s'", tp->name);
    else
        snprintf(what, sizeof what, "tensor");
    st = nn_onnx__tensor_value(ctx, path, what, tp, out);
    protobuf_c_message_free_unpacked(m, &a.pb);
    return st;
}
