/* attr.c: ONNX AttributeProto -> nn_attr (FLOAT, INT, STRING, TENSOR,
 * FLOATS, INTS; the other types are CIM_ERR_UNSUPPORTED naming node and
 * attribute). Files from before IR version 3 may leave `type` out: the field
 * that is set decides. */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "onnx_internal.h"

static cim_status node_err(cim_ctx *ctx, const char *path, const char *node, const char *op, cim_status st,
                           const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static cim_status node_err(cim_ctx *ctx, const char *path, const char *node, const char *op, cim_status st,
                           const char *fmt, ...)
{
    char msg[CIM_ERRMSG_SIZE];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return cim__err(ctx, st, "%s: node '%s' (%s): %s", path, node, op, msg);
}

static const char *attr_type_name(int t)
{
    static const char *const names[] = {"UNDEFINED", "FLOAT",  "INT",     "STRING",  "TENSOR",
                                        "GRAPH",     "FLOATS", "INTS",    "STRINGS", "TENSORS",
                                        "GRAPHS",    "SPARSE_TENSOR", "SPARSE_TENSORS", "TYPE_PROTO", "TYPE_PROTOS"};
    return t >= 0 && t < (int)(sizeof names / sizeof names[0]) ? names[t] : "unknown";
}

/* The attribute's type; older files may leave `type` out: then the field that is set. */
static int attr_kind(const Onnx__AttributeProto *ap)
{
    if (ap->has_type && ap->type != ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED)
        return (int)ap->type;
    if (ap->has_f) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
    if (ap->has_i) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
    if (ap->has_s) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING;
    if (ap->t) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR;
    if (ap->g) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH;
    if (ap->sparse_tensor) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__SPARSE_TENSOR;
    if (ap->n_floats) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS;
    if (ap->n_ints) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
    if (ap->n_strings) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS;
    if (ap->n_tensors) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSORS;
    if (ap->n_graphs) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPHS;
    return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED;
}

cim_status nn_onnx__attr(cim_ctx *ctx, const char *path, const char *node, const char *op,
                        const Onnx__AttributeProto *ap, nn_attr *a)
{
    if (!ap->name || !ap->name[0])
        return node_err(ctx, path, node, op, CIM_ERR_FORMAT, "an attribute has no name");
    if (!(a->name = nn_onnx__strdup(ctx, ap->name)))
        return CIM_ERR_NOMEM;
    if (ap->ref_attr_name && ap->ref_attr_name[0])
        return node_err(ctx, path, node, op, CIM_ERR_UNSUPPORTED, "attribute '%s' refers to a function attribute", ap->name);
    int kind = attr_kind(ap);
    switch (kind) {
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT:
        a->type = NN_ATTR_FLOAT;
        a->f = ap->f;
        return CIM_OK;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT:
        a->type = NN_ATTR_INT;
        a->i = ap->i;
        return CIM_OK;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING:
        a->type = NN_ATTR_STRING;
        if (!(a->s = cim__malloc(ctx, ap->s.len + 1)))
            return CIM_ERR_NOMEM;
        if (ap->s.len)
            memcpy(a->s, ap->s.data, ap->s.len);
        a->s[ap->s.len] = 0;
        return CIM_OK;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR: {
        a->type = NN_ATTR_TENSOR;
        if (!ap->t)
            return node_err(ctx, path, node, op, CIM_ERR_FORMAT, "attribute '%s' of type TENSOR has no tensor", ap->name);
        if (!(a->t = cim__calloc(ctx, 1, sizeof *a->t)))
            return CIM_ERR_NOMEM;
        char what[700];
        snprintf(what, sizeof what, "node '%.256s' (%.128s): attribute '%.128s'", node, op, ap->name);
        return nn_onnx__tensor_value(ctx, path, what, ap->t, a->t);
    }
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS:
        a->type = NN_ATTR_FLOATS;
        if (ap->n_floats > INT_MAX)
            return node_err(ctx, path, node, op, CIM_ERR_FORMAT, "attribute '%s' has too many values", ap->name);
        a->n = (int)ap->n_floats;
        if (a->n && !(a->floats = cim__calloc(ctx, ap->n_floats, sizeof *a->floats)))
            return CIM_ERR_NOMEM;
        if (a->n)
            memcpy(a->floats, ap->floats, ap->n_floats * sizeof *a->floats);
        return CIM_OK;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS:
        a->type = NN_ATTR_INTS;
        if (ap->n_ints > INT_MAX)
            return node_err(ctx, path, node, op, CIM_ERR_FORMAT, "attribute '%s' has too many values", ap->name);
        a->n = (int)ap->n_ints;
        if (a->n && !(a->ints = cim__calloc(ctx, ap->n_ints, sizeof *a->ints)))
            return CIM_ERR_NOMEM;
        if (a->n)
            memcpy(a->ints, ap->ints, ap->n_ints * sizeof *a->ints);
        return CIM_OK;
    default:
        return node_err(ctx, path, node, op, CIM_ERR_UNSUPPORTED, "attribute '%s' has type %s, which is not supported",
                        ap->name, attr_type_name(kind));
    }
}
