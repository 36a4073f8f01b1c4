/* load.c: ONNX ModelProto -> nn_graph (see onnx.h for the rules).
 *
 * The file is unpacked with protobuf-c (pb.c), then copied into the graph in
 * passes: initializers (tensor.c), graph inputs, nodes with their outputs and
 * attributes (attr.c; Constant nodes become initializers here), node inputs,
 * the topological sort (topo.c), graph outputs and metadata. The graph is kept consistent for nn_graph_free at
 * every step (counts grow over zeroed entries), so every error path just
 * frees the graph and the unpacked message. */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "onnx_internal.h"

typedef struct loader {
    cim_ctx *ctx;
    const char *path;
    nn_graph *g;
    nn_onnx_names names;
    size_t cap_t; /* capacity of g->t */
} loader;

static int is_default_domain(const char *d) { return !d || !d[0] || strcmp(d, "ai.onnx") == 0; }

/* "<path>: node '<name>' (<op>): <message>" for nodes not yet in the graph. */
static cim_status node_err(const loader *L, const char *node, const char *op, cim_status st, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static cim_status node_err(const loader *L, const char *node, const char *op, cim_status st, const char *fmt, ...)
{
    char msg[CIM_ERRMSG_SIZE];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return cim__err(L->ctx, st, "%s: node '%s' (%s): %s", L->path, node, op, msg);
}

/* What already holds tensor t's name (for "produced twice" messages). */
static void describe(const loader *L, int t, char *buf, size_t size)
{
    const nn_tensor *x = &L->g->t[t];
    if (x->producer >= 0)
        snprintf(buf, size, "the output of node '%s'", L->g->nodes[x->producer].name);
    else if (x->is_init)
        snprintf(buf, size, "an initializer or Constant");
    else
        snprintf(buf, size, "a graph input");
}

/* Append a tensor named `name` (not yet present). */
static cim_status add_tensor(loader *L, const char *name, int *idx)
{
    nn_graph *g = L->g;
    if ((size_t)g->nt >= L->cap_t)
        return cim__err(L->ctx, CIM_ERR_INTERNAL, "%s: tensor table overflow", L->path);
    nn_tensor *t = &g->t[g->nt];
    memset(t, 0, sizeof *t);
    t->producer = -1;
    if (!(t->name = nn_onnx__strdup(L->ctx, name)))
        return CIM_ERR_NOMEM;
    *idx = g->nt++;
    nn_onnx__names_put(&L->names, g, *idx);
    return CIM_OK;
}

static cim_status load_initializer(loader *L, const Onnx__TensorProto *tp, size_t j)
{
    if (!tp->name || !tp->name[0])
        return cim__err(L->ctx, CIM_ERR_FORMAT, "%s: initializer %zu has no name", L->path, j);
    if (nn_onnx__names_get(&L->names, L->g, tp->name) >= 0)
        return cim__err(L->ctx, CIM_ERR_FORMAT, "%s: initializer '%s' appears twice", L->path, tp->name);
    char what[300];
    snprintf(what, sizeof what, "initializer '%.256s'", tp->name);
    nn_value v;
    cim_status st = nn_onnx__tensor_value(L->ctx, L->path, what, tp, &v);
    int idx = -1;
    if (st == CIM_OK && (st = add_tensor(L, tp->name, &idx)) != CIM_OK)
        nn_value_free(L->ctx, &v);
    if (st != CIM_OK)
        return st;
    nn_tensor *t = &L->g->t[idx];
    t->v = v;
    t->is_init = t->is_const = 1;
    return CIM_OK;
}

/* A graph input: a constant when an initializer has its name, else a runtime
 * input whose dtype and shape come from its ValueInfoProto. */
static cim_status load_input(loader *L, const Onnx__ValueInfoProto *vi, size_t j)
{
    nn_graph *g = L->g;
    if (!vi->name || !vi->name[0])
        return cim__err(L->ctx, CIM_ERR_FORMAT, "%s: graph input %zu has no name", L->path, j);
    int idx = nn_onnx__names_get(&L->names, g, vi->name);
    if (idx >= 0) {
        if (g->t[idx].is_init)
            return CIM_OK; /* an old-style model listing its initializers as inputs */
        return cim__err(L->ctx, CIM_ERR_FORMAT, "%s: graph input '%s' is listed twice", L->path, vi->name);
    }
    const Onnx__TypeProto *tp = vi->type;
    if (tp && tp->value_case != ONNX__TYPE_PROTO__VALUE__NOT_SET && tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE)
        return cim__err(L->ctx, CIM_ERR_UNSUPPORTED,
                        "%s: graph input '%s' is a sequence, map, optional or sparse tensor, which is not supported",
                        L->path, vi->name);
    if (!tp || tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type)
        return cim__err(L->ctx, CIM_ERR_FORMAT, "%s: graph input '%s' has no tensor type", L->path, vi->name);
    const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
    int64_t code = tt->has_elem_type ? tt->elem_type : 0;
    nn_dtype dt = nn_onnx__dtype(code);
    if (dt == NN_UNDEFINED)
        return cim__err(L->ctx, CIM_ERR_UNSUPPORTED, "%s: graph input '%s': data type %s (%lld) is not supported",
                        L->path, vi->name, nn_onnx__dtype_name(code), (long long)code);
    if (!tt->shape)
        return cim__err(L->ctx, CIM_ERR_FORMAT, "%s: graph input '%s' has no shape", L->path, vi->name);
    if (tt->shape->n_dim > NN_MAX_RANK)
        return cim__err(L->ctx, CIM_ERR_UNSUPPORTED, "%s: graph input '%s': rank %zu is not supported (at most %d)",
                        L->path, vi->name, tt->shape->n_dim, NN_MAX_RANK);
    nn_value v;
    memset(&v, 0, sizeof v);
    v.dtype = dt;
    v.rank = (int)tt->shape->n_dim;
    int64_t count = 1;
    for (int i = 0; i < v.rank; i++) {
        const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[i];
        v.dims[i] = -1; /* dim_param or no value: set by the caller */
        if (d->value_case != ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE)
            continue;
        if (d->dim_value < 0)
            return cim__err(L->ctx, CIM_ERR_FORMAT, "%s: graph input '%s': dimension %d is negative (%lld)", L->path,
                            vi->name, i, (long long)d->dim_value);
        if (d->dim_value > NN_MAX_ELEMS || (count *= d->dim_value) > NN_MAX_ELEMS)
            return cim__err(L->ctx, CIM_ERR_FORMAT, "%s: graph input '%s': more than 2^31 elements (dimension %d)",
                            L->path, vi->name, i);
        v.dims[i] = d->dim_value;
    }
    cim_status st = add_tensor(L, vi->name, &idx);
    if (st != CIM_OK)
        return st;
    g->t[idx].v = v;
    g->inputs[g->n_inputs++] = idx;
    return CIM_OK;
}

/* A Constant node's value becomes an initializer named after its output. */
static cim_status fold_constant(loader *L, const Onnx__NodeProto *np, const char *node)
{
    cim_ctx *ctx = L->ctx;
    const char *op = "Constant";
    if (np->n_output != 1 || !np->output[0] || !np->output[0][0])
        return node_err(L, node, op, CIM_ERR_FORMAT, "a Constant needs exactly one named output");
    if (np->n_input != 0)
        return node_err(L, node, op, CIM_ERR_FORMAT, "a Constant has no inputs (it has %zu)", np->n_input);
    if (np->n_attribute != 1)
        return node_err(L, node, op, CIM_ERR_FORMAT, "a Constant needs exactly one attribute (it has %zu)",
                        np->n_attribute);
    const char *name = np->output[0];
    int idx = nn_onnx__names_get(&L->names, L->g, name);
    if (idx >= 0) {
        char d[400];
        describe(L, idx, d, sizeof d);
        return node_err(L, node, op, CIM_ERR_FORMAT, "output '%s' is produced twice (it is already %s)", name, d);
    }
    nn_attr a;
    memset(&a, 0, sizeof a);
    nn_value v;
    memset(&v, 0, sizeof v);
    cim_status st = nn_onnx__attr(L->ctx, L->path, node, op, np->attribute[0], &a);
    if (st != CIM_OK)
        goto done;
    const char *an = a.name;
    int want = strcmp(an, "value") == 0 ? NN_ATTR_TENSOR
             : strcmp(an, "value_float") == 0 ? NN_ATTR_FLOAT
             : strcmp(an, "value_int") == 0 ? NN_ATTR_INT
             : strcmp(an, "value_floats") == 0 ? NN_ATTR_FLOATS
             : strcmp(an, "value_ints") == 0 ? NN_ATTR_INTS : 0;
    if (!want) {
        st = node_err(L, node, op, CIM_ERR_UNSUPPORTED, "Constant attribute '%s' is not supported", an);
        goto done;
    }
    if ((int)a.type != want) {
        st = node_err(L, node, op, CIM_ERR_FORMAT, "attribute '%s' has the wrong type", an);
        goto done;
    }
    if (want == NN_ATTR_TENSOR) {
        v = *a.t; /* take the tensor's data */
        a.t->data = NULL;
    } else {
        int list = want == NN_ATTR_FLOATS || want == NN_ATTR_INTS;
        v.dtype = want == NN_ATTR_FLOAT || want == NN_ATTR_FLOATS ? NN_FLOAT : NN_INT64;
        v.rank = list;
        v.dims[0] = list ? a.n : 1;
        size_t n = list ? (size_t)a.n : 1, es = nn_dtype_size(v.dtype);
        if (!(v.data = cim__malloc(ctx, n * es))) {
            st = CIM_ERR_NOMEM;
            goto done;
        }
        const void *src = want == NN_ATTR_FLOAT ? (const void *)&a.f
                        : want == NN_ATTR_INT   ? (const void *)&a.i
                        : want == NN_ATTR_FLOATS ? (const void *)a.floats : (const void *)a.ints;
        if (n)
            memcpy(v.data, src, n * es);
    }
    if ((st = add_tensor(L, name, &idx)) != CIM_OK)
        goto done;
    L->g->t[idx].v = v;
    L->g->t[idx].is_init = L->g->t[idx].is_const = 1;
    memset(&v, 0, sizeof v);
done:
    nn_value_free(ctx, &v);
    cim__free(ctx, a.name);
    cim__free(ctx, a.s);
    cim__free(ctx, a.ints);
    cim__free(ctx, a.floats);
    if (a.t) {
        cim__free(ctx, a.t->data);
        cim__free(ctx, a.t);
    }
    return st;
}

/* A node's strings, attributes and outputs (inputs are resolved later, when
 * every producer is known). `j` is its index in the file. */
static cim_status load_node(loader *L, const Onnx__NodeProto *np, size_t j)
{
    cim_ctx *ctx = L->ctx;
    nn_graph *g = L->g;
    const char *op = np->op_type;
    char auto_name[300];
    const char *node = np->name;
    if (!node || !node[0]) {
        snprintf(auto_name, sizeof auto_name, "%.256s#%zu", op && op[0] ? op : "node", j);
        node = auto_name;
    }
    if (!op || !op[0])
        return cim__err(ctx, CIM_ERR_FORMAT, "%s: node '%s' has no op_type", L->path, node);
    if (is_default_domain(np->domain) && strcmp(op, "Constant") == 0)
        return fold_constant(L, np, node);
    if (np->n_input > INT_MAX || np->n_output > INT_MAX || np->n_attribute > INT_MAX)
        return node_err(L, node, op, CIM_ERR_FORMAT, "too many inputs, outputs or attributes");
    int k = g->nn++;
    nn_node *n = &g->nodes[k]; /* zeroed */
    if (!(n->name = nn_onnx__strdup(ctx, node)) || !(n->op_type = nn_onnx__strdup(ctx, op)) ||
        !(n->domain = nn_onnx__strdup(ctx, is_default_domain(np->domain) ? "" : np->domain)))
        return CIM_ERR_NOMEM;
    n->n_in = (int)np->n_input;
    n->n_out = (int)np->n_output;
    if (!(n->in = cim__calloc(ctx, np->n_input + 1, sizeof *n->in)) ||
        !(n->out = cim__calloc(ctx, np->n_output + 1, sizeof *n->out)) ||
        !(n->attr = cim__calloc(ctx, np->n_attribute + 1, sizeof *n->attr)))
        return CIM_ERR_NOMEM;
    for (int i = 0; i < n->n_in; i++)
        n->in[i] = -1;
    for (size_t a = 0; a < np->n_attribute; a++) {
        n->n_attr++;
        cim_status st = nn_onnx__attr(L->ctx, L->path, node, op, np->attribute[a], &n->attr[a]);
        if (st != CIM_OK)
            return st;
    }
    for (int o = 0; o < n->n_out; o++) {
        const char *name = np->output[o];
        n->out[o] = -1;
        if (!name || !name[0])
            continue; /* an omitted optional output */
        int idx = nn_onnx__names_get(&L->names, g, name);
        if (idx >= 0) {
            char d[400];
            describe(L, idx, d, sizeof d);
            return node_err(L, node, op, CIM_ERR_FORMAT, "output '%s' is produced twice (it is already %s)", name, d);
        }
        cim_status st = add_tensor(L, name, &idx);
        if (st != CIM_OK)
            return st;
        g->t[idx].producer = k;
        n->out[o] = idx;
    }
    return CIM_OK;
}

static cim_status resolve_inputs(loader *L, nn_node *n, const Onnx__NodeProto *np)
{
    for (int i = 0; i < n->n_in; i++) {
        const char *name = np->input[i];
        if (!name || !name[0])
            continue; /* an omitted optional input */
        int idx = nn_onnx__names_get(&L->names, L->g, name);
        if (idx < 0)
            return nn_err(L->g, n, CIM_ERR_FORMAT, "missing initializer or input '%s' (input %d)", name, i);
        n->in[i] = idx;
    }
    return CIM_OK;
}

static cim_status build(loader *L, const Onnx__ModelProto *m)
{
    cim_ctx *ctx = L->ctx;
    nn_graph *g = L->g;
    const char *path = L->path;
    int have_opset = 0;
    for (size_t i = 0; i < m->n_opset_import; i++) {
        const Onnx__OperatorSetIdProto *o = m->opset_import[i];
        if (is_default_domain(o->domain) && o->has_version) {
            g->opset = o->version;
            have_opset = 1;
        }
    }
    const Onnx__GraphProto *gp = m->graph;
    if (!gp)
        return cim__err(ctx, CIM_ERR_FORMAT, "%s: the model has no graph", path);
    /* the default opset is needed by default-domain nodes (a graph of only
     * ai.onnx.preview.training ops, say, does without) */
    for (size_t j = 0; j < gp->n_node && !have_opset; j++)
        if (is_default_domain(gp->node[j]->domain))
            return cim__err(ctx, CIM_ERR_FORMAT,
                            "%s: opset_import has no version for the default domain (ai.onnx), which node '%s' (%s) "
                            "uses",
                            path, gp->node[j]->name && gp->node[j]->name[0] ? gp->node[j]->name : "",
                            gp->node[j]->op_type ? gp->node[j]->op_type : "");
    if (gp->n_node == 0)
        return cim__err(ctx, CIM_ERR_FORMAT, "%s: graph has no nodes", path);
    if (gp->n_node > NN_ONNX_MAX_NODES)
        return cim__err(ctx, CIM_ERR_FORMAT, "%s: graph has %zu nodes, more than the limit of %d", path, gp->n_node,
                        NN_ONNX_MAX_NODES);
    if (gp->n_output == 0)
        return cim__err(ctx, CIM_ERR_FORMAT, "%s: graph has no outputs", path);
    if (gp->n_sparse_initializer)
        return cim__err(ctx, CIM_ERR_UNSUPPORTED, "%s: sparse initializers are not supported ('%s')", path,
                        gp->sparse_initializer[0]->values && gp->sparse_initializer[0]->values->name
                            ? gp->sparse_initializer[0]->values->name : "");
    /* every name occurrence that can create a tensor, bounded */
    size_t names = gp->n_initializer;
    if (gp->n_input > NN_ONNX_MAX_TENSORS || gp->n_output > NN_ONNX_MAX_TENSORS)
        names = (size_t)NN_ONNX_MAX_TENSORS + 1;
    names += gp->n_input;
    for (size_t j = 0; j < gp->n_node && names <= NN_ONNX_MAX_TENSORS; j++)
        names += gp->node[j]->n_output > NN_ONNX_MAX_TENSORS ? (size_t)NN_ONNX_MAX_TENSORS + 1 : gp->node[j]->n_output;
    if (names > NN_ONNX_MAX_TENSORS)
        return cim__err(ctx, CIM_ERR_FORMAT, "%s: graph names more than %d tensors", path, NN_ONNX_MAX_TENSORS);
    L->cap_t = names;
    cim_status st;
    if ((st = nn_onnx__names_init(ctx, &L->names, names)) != CIM_OK)
        return st;
    int *file_idx = NULL;
    if (!(g->t = cim__calloc(ctx, names + 1, sizeof *g->t)) ||
        !(g->nodes = cim__calloc(ctx, gp->n_node, sizeof *g->nodes)) ||
        !(g->inputs = cim__calloc(ctx, gp->n_input + 1, sizeof *g->inputs)) ||
        !(g->outputs = cim__calloc(ctx, gp->n_output, sizeof *g->outputs)) ||
        !(file_idx = cim__calloc(ctx, gp->n_node, sizeof *file_idx)))
        return CIM_ERR_NOMEM;
    for (size_t j = 0; j < gp->n_initializer; j++)
        if ((st = load_initializer(L, gp->initializer[j], j)) != CIM_OK)
            goto done;
    for (size_t j = 0; j < gp->n_input; j++)
        if ((st = load_input(L, gp->input[j], j)) != CIM_OK)
            goto done;
    for (size_t j = 0; j < gp->n_node; j++) {
        int before = g->nn;
        if ((st = load_node(L, gp->node[j], j)) != CIM_OK)
            goto done;
        if (g->nn > before)
            file_idx[before] = (int)j;
    }
    for (int k = 0; k < g->nn; k++)
        if ((st = resolve_inputs(L, &g->nodes[k], gp->node[file_idx[k]])) != CIM_OK)
            goto done;
    if ((st = nn_onnx__toposort(g)) != CIM_OK)
        goto done;
    for (size_t j = 0; j < gp->n_output; j++) {
        const char *name = gp->output[j]->name;
        int idx = name ? nn_onnx__names_get(&L->names, g, name) : -1;
        if (idx < 0) {
            st = cim__err(ctx, CIM_ERR_FORMAT,
                          "%s: graph output '%s' is not produced by any node, graph input or initializer", path,
                          name ? name : "");
            goto done;
        }
        g->outputs[g->n_outputs++] = idx;
    }
    if (m->n_metadata_props) {
        if (m->n_metadata_props > NN_ONNX_MAX_TENSORS) {
            st = cim__err(ctx, CIM_ERR_FORMAT, "%s: too many metadata_props", path);
            goto done;
        }
        if (!(g->meta_key = cim__calloc(ctx, m->n_metadata_props, sizeof *g->meta_key)) ||
            !(g->meta_value = cim__calloc(ctx, m->n_metadata_props, sizeof *g->meta_value))) {
            st = CIM_ERR_NOMEM;
            goto done;
        }
        for (size_t j = 0; j < m->n_metadata_props; j++) {
            g->n_meta++;
            if (!(g->meta_key[j] = nn_onnx__strdup(ctx, m->metadata_props[j]->key)) ||
                !(g->meta_value[j] = nn_onnx__strdup(ctx, m->metadata_props[j]->value))) {
                st = CIM_ERR_NOMEM;
                goto done;
            }
        }
    }
done:
    cim__free(ctx, file_idx);
    return st;
}

cim_status nn_onnx_load(cim_ctx *ctx, const char *path, nn_graph **out)
{
    *out = NULL;
    uint8_t *buf;
    size_t len;
    cim_status st = nn_onnx__read_file(ctx, path, &buf, &len);
    if (st != CIM_OK)
        return st;
    nn_onnx_alloc a;
    nn_onnx__alloc_init(&a, ctx);
    ProtobufCMessage *m;
    st = nn_onnx__unpack(ctx, path, "ONNX model", &onnx__model_proto__descriptor, buf, len, &a, &m);
    cim__free(ctx, buf);
    if (st != CIM_OK)
        return st;
    loader L;
    memset(&L, 0, sizeof L);
    L.ctx = ctx;
    L.path = path;
    if ((st = nn_graph_new(ctx, path, &L.g)) == CIM_OK)
        st = build(&L, (const Onnx__ModelProto *)m);
    nn_onnx__names_free(ctx, &L.names);
    protobuf_c_message_free_unpacked(m, &a.pb);
    if (st != CIM_OK) {
        nn_graph_free(L.g);
        return st;
    }
    *out = L.g;
    return CIM_OK;
}
