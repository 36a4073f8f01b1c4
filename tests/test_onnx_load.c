/* test_onnx_load.c: the ONNX loader (src/onnx/onnx.h).
 *
 * Models are built in memory with the protobuf-c structs generated from
 * onnx.proto, packed into temporary files and loaded: valid models must give
 * the right tensors, shapes, dtypes, data, attributes, metadata, folded
 * Constants and a topological order; every malformed model must fail with the
 * right status and a message naming the file and the field, node or tensor;
 * truncated and bit-flipped files must fail cleanly or load, never crash; a
 * failing allocator must never leak. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "testutil.h"
#include "onnx/onnx.h"
#include "onnx/onnx.pb-c.h"

#define PATH_LEN 600

typedef tu_fx fx; /* the counting, failing allocator and a fresh directory (testutil.h) */

static int setup(void **state)
{
    return tu_fx_setup(state, "onnx");
}

static int teardown(void **state)
{
    return tu_fx_teardown(state);
}

static void fpath(const fx *f, char *buf, const char *name) { snprintf(buf, PATH_LEN, "%s/%s", f->dir, name); }

/* ---- a model builder over fixed arrays (no allocation to free) ---- */

enum { MAXN = 8, MAXIO = 8, MAXA = 8, MAXT = 8, MAXV = 8 };

typedef struct mb {
    Onnx__ModelProto model;
    Onnx__GraphProto graph;
    Onnx__OperatorSetIdProto opset;
    Onnx__OperatorSetIdProto *opsetp[1];
    Onnx__NodeProto node[MAXN];
    Onnx__NodeProto *nodep[MAXN];
    char *nin[MAXN][MAXIO], *nout[MAXN][MAXIO];
    Onnx__AttributeProto attr[MAXN][MAXA];
    Onnx__AttributeProto *attrp[MAXN][MAXA];
    Onnx__TensorProto init[MAXT];
    Onnx__TensorProto *initp[MAXT];
    int64_t idims[MAXT][NN_MAX_RANK + 2];
    Onnx__ValueInfoProto vi[2 * MAXV];
    Onnx__ValueInfoProto *inp[MAXV], *outp[MAXV];
    Onnx__TypeProto type[MAXV];
    Onnx__TypeProto__Tensor tt[MAXV];
    Onnx__TensorShapeProto shape[MAXV];
    Onnx__TensorShapeProto__Dimension dim[MAXV][NN_MAX_RANK + 2];
    Onnx__TensorShapeProto__Dimension *dimp[MAXV][NN_MAX_RANK + 2];
    Onnx__StringStringEntryProto meta[2];
    Onnx__StringStringEntryProto *metap[2];
} mb;

static mb *mb_new(void)
{
    mb *m = calloc(1, sizeof *m);
    assert_non_null(m);
    onnx__model_proto__init(&m->model);
    onnx__graph_proto__init(&m->graph);
    onnx__operator_set_id_proto__init(&m->opset);
    m->model.has_ir_version = 1;
    m->model.ir_version = 8;
    m->opset.domain = (char *)"";
    m->opset.has_version = 1;
    m->opset.version = 13;
    m->opsetp[0] = &m->opset;
    m->model.n_opset_import = 1;
    m->model.opset_import = m->opsetp;
    m->graph.name = (char *)"g";
    m->model.graph = &m->graph;
    m->graph.node = m->nodep;
    m->graph.initializer = m->initp;
    m->graph.input = m->inp;
    m->graph.output = m->outp;
    return m;
}

/* A graph input (dims: -1 = the symbolic "N"; rank -1 = no shape). */
static Onnx__ValueInfoProto *mb_input(mb *m, const char *name, int elem, int rank, const int64_t *dims)
{
    size_t i = m->graph.n_input++;
    assert_true(i < MAXV);
    Onnx__ValueInfoProto *v = &m->vi[i];
    onnx__value_info_proto__init(v);
    v->name = (char *)name;
    onnx__type_proto__init(&m->type[i]);
    onnx__type_proto__tensor__init(&m->tt[i]);
    m->type[i].value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    m->type[i].tensor_type = &m->tt[i];
    m->tt[i].has_elem_type = 1;
    m->tt[i].elem_type = elem;
    if (rank >= 0) {
        onnx__tensor_shape_proto__init(&m->shape[i]);
        for (int d = 0; d < rank; d++) {
            Onnx__TensorShapeProto__Dimension *x = &m->dim[i][d];
            onnx__tensor_shape_proto__dimension__init(x);
            if (dims[d] < 0) {
                x->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
                x->dim_param = (char *)"N";
            } else {
                x->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
                x->dim_value = dims[d];
            }
            m->dimp[i][d] = x;
        }
        m->shape[i].n_dim = (size_t)rank;
        m->shape[i].dim = m->dimp[i];
        m->tt[i].shape = &m->shape[i];
    }
    v->type = &m->type[i];
    m->inp[i] = v;
    return v;
}

static void mb_output(mb *m, const char *name)
{
    size_t i = m->graph.n_output++;
    assert_true(i < MAXV);
    Onnx__ValueInfoProto *v = &m->vi[MAXV + i];
    onnx__value_info_proto__init(v);
    v->name = (char *)name;
    m->outp[i] = v;
}

/* An initializer with dims; the caller sets its data fields. */
static Onnx__TensorProto *mb_init(mb *m, const char *name, int dtype, int rank, const int64_t *dims)
{
    size_t i = m->graph.n_initializer++;
    assert_true(i < MAXT);
    Onnx__TensorProto *t = &m->init[i];
    onnx__tensor_proto__init(t);
    t->name = (char *)name;
    t->has_data_type = 1;
    t->data_type = dtype;
    memcpy(m->idims[i], dims, (size_t)rank * sizeof *dims);
    t->n_dims = (size_t)rank;
    t->dims = m->idims[i];
    m->initp[i] = t;
    return t;
}

static void set_raw(Onnx__TensorProto *t, const void *data, size_t len)
{
    t->has_raw_data = 1;
    t->raw_data.len = len;
    t->raw_data.data = (uint8_t *)data;
}

/* A node; ins/outs are NULL-terminated lists ("" = omitted). */
static Onnx__NodeProto *mb_node(mb *m, const char *op, const char *name, const char *const *ins,
                                const char *const *outs)
{
    size_t k = m->graph.n_node++;
    assert_true(k < MAXN);
    Onnx__NodeProto *n = &m->node[k];
    onnx__node_proto__init(n);
    n->op_type = (char *)op;
    n->name = (char *)name;
    for (; ins && *ins; ins++)
        m->nin[k][n->n_input++] = (char *)*ins;
    for (; outs && *outs; outs++)
        m->nout[k][n->n_output++] = (char *)*outs;
    n->input = m->nin[k];
    n->output = m->nout[k];
    n->attribute = m->attrp[k];
    m->nodep[k] = n;
    return n;
}

static Onnx__AttributeProto *mb_attr(mb *m, Onnx__NodeProto *n, const char *name, int type)
{
    size_t k = (size_t)(n - m->node), a = n->n_attribute++;
    assert_true(a < MAXA);
    Onnx__AttributeProto *x = &m->attr[k][a];
    onnx__attribute_proto__init(x);
    x->name = (char *)name;
    if (type) {
        x->has_type = 1;
        x->type = (Onnx__AttributeProto__AttributeType)type;
    }
    /* proto2 optional scalars are packed only when has_* is set */
    x->has_f = type == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
    x->has_i = type == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
    m->attrp[k][a] = x;
    return x;
}

static size_t pack_to(const ProtobufCMessage *msg, uint8_t **buf)
{
    size_t len = protobuf_c_message_get_packed_size(msg);
    *buf = malloc(len + 1);
    assert_non_null(*buf);
    assert_int_equal(protobuf_c_message_pack(msg, *buf), len);
    return len;
}

static void mb_write(mb *m, const char *path)
{
    uint8_t *buf;
    size_t len = pack_to(&m->model.base, &buf);
    tu_write_file(path, buf, len);
    free(buf);
}

#define assert_contains(hay, needle)                                                         \
    do {                                                                                     \
        if (!strstr((hay), (needle)))                                                        \
            fail_msg("message \"%s\" does not contain \"%s\"", (hay), (needle));             \
    } while (0)

/* Loading `path` must fail with `want`, leave *out NULL, and say the path and
 * every needle (NULL-terminated). */
static void expect_fail(fx *f, const char *path, cim_status want, const char *n1, const char *n2)
{
    nn_graph *g = (nn_graph *)1;
    cim_status st = nn_onnx_load(f->ctx, path, &g);
    const char *msg = cim_ctx_errmsg(f->ctx);
    if (st != want)
        fail_msg("status %d (%s), expected %d; message \"%s\"", st, cim_status_str(st), want, msg);
    assert_null(g);
    if (strncmp(msg, path, strlen(path)) != 0)
        fail_msg("message \"%s\" does not start with the path", msg);
    if (n1)
        assert_contains(msg, n1);
    if (n2)
        assert_contains(msg, n2);
}

static void expect_model_fail(fx *f, mb *m, cim_status want, const char *n1, const char *n2)
{
    char path[PATH_LEN];
    fpath(f, path, "bad.onnx");
    mb_write(m, path);
    expect_fail(f, path, want, n1, n2);
    free(m);
}

static nn_graph *load_ok(fx *f, mb *m)
{
    char path[PATH_LEN];
    fpath(f, path, "ok.onnx");
    mb_write(m, path);
    nn_graph *g = NULL;
    cim_status st = nn_onnx_load(f->ctx, path, &g);
    if (st != CIM_OK)
        fail_msg("load failed: %s", cim_ctx_errmsg(f->ctx));
    assert_non_null(g);
    return g;
}

static const int64_t d3[1] = {3};
static const float bias[3] = {0.5f, -1.0f, 2.25f};

/* X [N,3] float + B [3] (raw_data) -> Add -> Y. */
static mb *model_add(void)
{
    mb *m = mb_new();
    static const int64_t xd[2] = {-1, 3};
    mb_input(m, "X", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 2, xd);
    set_raw(mb_init(m, "B", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 1, d3), bias, sizeof bias);
    static const char *const ins[] = {"X", "B", NULL}, *const outs[] = {"Y", NULL};
    mb_node(m, "Add", NULL, ins, outs);
    mb_output(m, "Y");
    return m;
}

/* ---- valid models ---- */

static void test_add_model(void **state)
{
    fx *f = *state;
    mb *m = model_add();
    nn_graph *g = load_ok(f, m);
    free(m);
    assert_int_equal(g->opset, 13);
    assert_int_equal(g->nt, 3);
    assert_int_equal(g->nn, 1);
    assert_int_equal(g->n_inputs, 1);
    assert_int_equal(g->n_outputs, 1);
    int x = nn_graph_find(g, "X"), b = nn_graph_find(g, "B"), y = nn_graph_find(g, "Y");
    assert_true(x >= 0 && b >= 0 && y >= 0);
    assert_int_equal(g->inputs[0], x);
    assert_int_equal(g->outputs[0], y);
    assert_int_equal(g->t[x].v.dtype, NN_FLOAT);
    assert_int_equal(g->t[x].v.rank, 2);
    assert_int_equal(g->t[x].v.dims[0], -1);
    assert_int_equal(g->t[x].v.dims[1], 3);
    assert_false(g->t[x].is_const);
    assert_int_equal(g->t[x].producer, -1);
    assert_true(g->t[b].is_init && g->t[b].is_const);
    assert_int_equal(g->t[b].v.rank, 1);
    assert_int_equal(g->t[b].v.dims[0], 3);
    assert_memory_equal(g->t[b].v.data, bias, sizeof bias);
    assert_int_equal(g->t[y].producer, 0);
    const nn_node *n = &g->nodes[0];
    assert_string_equal(n->name, "Add#0");
    assert_string_equal(n->op_type, "Add");
    assert_string_equal(n->domain, "");
    assert_null(n->op);
    assert_int_equal(n->n_in, 2);
    assert_int_equal(n->in[0], x);
    assert_int_equal(n->in[1], b);
    assert_int_equal(n->n_out, 1);
    assert_int_equal(n->out[0], y);
    /* Add is computed once the glue operators exist */
    if (nn_op_find("", "Add")) {
        g->t[x].v.dims[0] = 2;
        assert_int_equal(nn_graph_infer(g), CIM_OK);
        assert_int_equal(g->t[y].v.dims[0], 2);
        float xv[6] = {1, 2, 3, 4, 5, 6};
        nn_value in = g->t[x].v, out;
        in.data = xv;
        assert_int_equal(nn_graph_run(g, &in, &out), CIM_OK);
        for (int i = 0; i < 6; i++)
            assert_float_equal(((float *)out.data)[i], xv[i] + bias[i % 3], 0);
        nn_value_free(f->ctx, &out);
    }
    nn_graph_free(g);
}

/* Initializers of every dtype from the typed fields and from raw_data. */
static void test_initializer_dtypes(void **state)
{
    fx *f = *state;
    mb *m = mb_new();
    static const int64_t d2[2] = {2, 2};
    static const float fd[4] = {1.5f, -2, 0, 3e38f};
    static const int32_t i32[4] = {-7, 2147483647, 0, -2147483647 - 1};
    static const int32_t u8[4] = {0, 255, 7, 128};
    static const int32_t s8[4] = {-128, 127, -1, 0};
    static const int32_t bl[4] = {1, 0, 1, 1};
    static const int64_t i64[4] = {-1, 1LL << 40, 0, INT64_MIN};
    static const uint8_t rawb[4] = {0, 1, 2, 0}; /* bool raw: nonzero is true */
    Onnx__TensorProto *t;
    t = mb_init(m, "f", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 2, d2);
    t->n_float_data = 4;
    t->float_data = (float *)fd;
    t = mb_init(m, "i32", ONNX__TENSOR_PROTO__DATA_TYPE__INT32, 2, d2);
    t->n_int32_data = 4;
    t->int32_data = (int32_t *)i32;
    t = mb_init(m, "u8", ONNX__TENSOR_PROTO__DATA_TYPE__UINT8, 2, d2);
    t->n_int32_data = 4;
    t->int32_data = (int32_t *)u8;
    t = mb_init(m, "s8", ONNX__TENSOR_PROTO__DATA_TYPE__INT8, 2, d2);
    t->n_int32_data = 4;
    t->int32_data = (int32_t *)s8;
    t = mb_init(m, "b", ONNX__TENSOR_PROTO__DATA_TYPE__BOOL, 2, d2);
    t->n_int32_data = 4;
    t->int32_data = (int32_t *)bl;
    t = mb_init(m, "i64", ONNX__TENSOR_PROTO__DATA_TYPE__INT64, 2, d2);
    t->n_int64_data = 4;
    t->int64_data = (int64_t *)i64;
    set_raw(mb_init(m, "rawb", ONNX__TENSOR_PROTO__DATA_TYPE__BOOL, 2, d2), rawb, 4);
    set_raw(mb_init(m, "scalar", ONNX__TENSOR_PROTO__DATA_TYPE__INT64, 0, d2), i64, 8);
    static const char *const ins[] = {"f", NULL}, *const outs[] = {"Y", NULL};
    mb_node(m, "Relu", "r", ins, outs);
    mb_output(m, "Y");
    nn_graph *g = load_ok(f, m);
    free(m);
    assert_int_equal(g->n_inputs, 0);
    const nn_value *v = &g->t[nn_graph_find(g, "f")].v;
    assert_int_equal(v->dtype, NN_FLOAT);
    assert_memory_equal(v->data, fd, sizeof fd);
    v = &g->t[nn_graph_find(g, "i32")].v;
    assert_int_equal(v->dtype, NN_INT32);
    assert_memory_equal(v->data, i32, sizeof i32);
    v = &g->t[nn_graph_find(g, "u8")].v;
    assert_int_equal(v->dtype, NN_UINT8);
    const uint8_t wu8[4] = {0, 255, 7, 128};
    assert_memory_equal(v->data, wu8, 4);
    v = &g->t[nn_graph_find(g, "s8")].v;
    assert_int_equal(v->dtype, NN_INT8);
    const int8_t ws8[4] = {-128, 127, -1, 0};
    assert_memory_equal(v->data, ws8, 4);
    v = &g->t[nn_graph_find(g, "b")].v;
    assert_int_equal(v->dtype, NN_BOOL);
    const uint8_t wb[4] = {1, 0, 1, 1}, wrawb[4] = {0, 1, 1, 0};
    assert_memory_equal(v->data, wb, 4);
    v = &g->t[nn_graph_find(g, "i64")].v;
    assert_int_equal(v->dtype, NN_INT64);
    assert_memory_equal(v->data, i64, sizeof i64);
    v = &g->t[nn_graph_find(g, "rawb")].v;
    assert_memory_equal(v->data, wrawb, 4);
    v = &g->t[nn_graph_find(g, "scalar")].v;
    assert_int_equal(v->rank, 0);
    assert_int_equal(nn_value_count(v), 1);
    assert_int_equal(*(int64_t *)v->data, -1);
    nn_graph_free(g);
}

static void test_attributes_and_metadata(void **state)
{
    fx *f = *state;
    mb *m = model_add();
    Onnx__NodeProto *n = m->nodep[0];
    n->name = (char *)"adder";
    n->domain = (char *)"ai.onnx";
    mb_attr(m, n, "alpha", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT)->f = 0.25f;
    Onnx__AttributeProto *a = mb_attr(m, n, "axis", 0); /* no type: inferred from the field */
    a->has_i = 1;
    a->i = -3;
    a = mb_attr(m, n, "mode", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);
    a->has_s = 1;
    a->s.data = (uint8_t *)"nearest";
    a->s.len = 7;
    static int64_t ints[3] = {1, -2, 1LL << 33};
    static float floats[2] = {0.5f, -4};
    a = mb_attr(m, n, "pads", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
    a->n_ints = 3;
    a->ints = ints;
    a = mb_attr(m, n, "scales", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS);
    a->n_floats = 2;
    a->floats = floats;
    static Onnx__TensorProto tv;
    static int32_t tdata[3] = {4, 5, 6};
    onnx__tensor_proto__init(&tv);
    tv.has_data_type = 1;
    tv.data_type = ONNX__TENSOR_PROTO__DATA_TYPE__INT32;
    tv.n_dims = 1;
    tv.dims = (int64_t *)d3;
    tv.n_int32_data = 3;
    tv.int32_data = tdata;
    mb_attr(m, n, "value", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR)->t = &tv;
    m->meta[0].base = (ProtobufCMessage)PROTOBUF_C_MESSAGE_INIT(&onnx__string_string_entry_proto__descriptor);
    m->meta[1].base = m->meta[0].base;
    m->meta[0].key = (char *)"author";
    m->meta[0].value = (char *)"cimsim";
    m->meta[1].key = (char *)"calibration";
    m->meta[1].value = (char *)"";
    m->metap[0] = &m->meta[0];
    m->metap[1] = &m->meta[1];
    m->model.n_metadata_props = 2;
    m->model.metadata_props = m->metap;
    nn_graph *g = load_ok(f, m);
    free(m);
    const nn_node *nd = &g->nodes[0];
    assert_string_equal(nd->name, "adder");
    assert_string_equal(nd->domain, "");
    assert_int_equal(nd->n_attr, 6);
    float fv;
    int64_t iv;
    const char *sv;
    const int64_t *iv_list;
    int count;
    assert_int_equal(nn_attr_float(g, nd, "alpha", 0, &fv), CIM_OK);
    assert_float_equal(fv, 0.25f, 0);
    assert_int_equal(nn_attr_int(g, nd, "axis", 0, &iv), CIM_OK);
    assert_int_equal(iv, -3);
    assert_int_equal(nn_attr_string(g, nd, "mode", "", &sv), CIM_OK);
    assert_string_equal(sv, "nearest");
    assert_int_equal(nn_attr_ints(g, nd, "pads", &iv_list, &count), CIM_OK);
    assert_int_equal(count, 3);
    assert_memory_equal(iv_list, ints, sizeof ints);
    const nn_attr *fa = nn_attr_find(nd, "scales");
    assert_non_null(fa);
    assert_int_equal(fa->type, NN_ATTR_FLOATS);
    assert_int_equal(fa->n, 2);
    assert_memory_equal(fa->floats, floats, sizeof floats);
    const nn_attr *ta = nn_attr_find(nd, "value");
    assert_non_null(ta);
    assert_int_equal(ta->type, NN_ATTR_TENSOR);
    assert_int_equal(ta->t->dtype, NN_INT32);
    assert_int_equal(ta->t->dims[0], 3);
    assert_memory_equal(ta->t->data, tdata, sizeof tdata);
    /* a wrong-type getter fails, naming node and attribute */
    assert_int_equal(nn_attr_int(g, nd, "alpha", 0, &iv), CIM_ERR_FORMAT);
    assert_contains(cim_ctx_errmsg(f->ctx), "adder");
    assert_int_equal(g->n_meta, 2);
    assert_string_equal(g->meta_key[0], "author");
    assert_string_equal(g->meta_value[0], "cimsim");
    assert_string_equal(g->meta_key[1], "calibration");
    assert_string_equal(g->meta_value[1], "");
    nn_graph_free(g);
}

/* Constant nodes of every value kind become initializers, not nodes. */
static void test_constant_folding(void **state)
{
    fx *f = *state;
    mb *m = mb_new();
    static const int64_t d1[1] = {2};
    mb_input(m, "X", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 1, d1);
    static const char *const o1[] = {"c_t", NULL}, *const o2[] = {"c_f", NULL}, *const o3[] = {"c_i", NULL},
                              *const o4[] = {"c_fs", NULL}, *const o5[] = {"c_is", NULL};
    static Onnx__TensorProto tv;
    static const float tdata[3] = {1, 2, 3};
    onnx__tensor_proto__init(&tv);
    tv.has_data_type = 1;
    tv.data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    tv.n_dims = 1;
    tv.dims = (int64_t *)d3;
    set_raw(&tv, tdata, sizeof tdata);
    static const char *const ins[] = {"X", "c_t", "c_f", "c_i", "c_fs", "c_is", NULL}, *const outs[] = {"Y", NULL};
    mb_node(m, "Sum", "s", ins, outs); /* the consumer first: the sort must not care */
    mb_attr(m, mb_node(m, "Constant", "k1", NULL, o1), "value", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR)->t = &tv;
    mb_attr(m, mb_node(m, "Constant", NULL, NULL, o2), "value_float", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT)
        ->f = 2.5f;
    mb_attr(m, mb_node(m, "Constant", NULL, NULL, o3), "value_int", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT)->i =
        -9;
    static float fs[2] = {7, 8};
    static int64_t is[4] = {1, 2, 3, 4};
    Onnx__AttributeProto *a =
        mb_attr(m, mb_node(m, "Constant", NULL, NULL, o4), "value_floats", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS);
    a->n_floats = 2;
    a->floats = fs;
    a = mb_attr(m, mb_node(m, "Constant", NULL, NULL, o5), "value_ints", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
    a->n_ints = 4;
    a->ints = is;
    mb_output(m, "Y");
    nn_graph *g = load_ok(f, m);
    free(m);
    assert_int_equal(g->nn, 1);
    assert_string_equal(g->nodes[0].op_type, "Sum");
    assert_int_equal(g->nt, 7);
    const nn_tensor *t = &g->t[nn_graph_find(g, "c_t")];
    assert_true(t->is_init && t->is_const);
    assert_int_equal(t->producer, -1);
    assert_int_equal(t->v.dtype, NN_FLOAT);
    assert_int_equal(t->v.dims[0], 3);
    assert_memory_equal(t->v.data, tdata, sizeof tdata);
    t = &g->t[nn_graph_find(g, "c_f")];
    assert_int_equal(t->v.dtype, NN_FLOAT);
    assert_int_equal(t->v.rank, 0);
    assert_float_equal(*(float *)t->v.data, 2.5f, 0);
    t = &g->t[nn_graph_find(g, "c_i")];
    assert_int_equal(t->v.dtype, NN_INT64);
    assert_int_equal(t->v.rank, 0);
    assert_int_equal(*(int64_t *)t->v.data, -9);
    t = &g->t[nn_graph_find(g, "c_fs")];
    assert_int_equal(t->v.rank, 1);
    assert_int_equal(t->v.dims[0], 2);
    assert_memory_equal(t->v.data, fs, sizeof fs);
    t = &g->t[nn_graph_find(g, "c_is")];
    assert_int_equal(t->v.dtype, NN_INT64);
    assert_int_equal(t->v.dims[0], 4);
    assert_memory_equal(t->v.data, is, sizeof is);
    for (int i = 0; i < 6; i++)
        assert_int_equal(g->nodes[0].in[i], nn_graph_find(g, ins[i]));
    nn_graph_free(g);
}

/* Nodes given out of order come out sorted; a sorted file keeps its order;
 * omitted optional inputs and outputs are -1; an old-style graph input that
 * is an initializer is a constant. */
static void test_topological_order(void **state)
{
    fx *f = *state;
    mb *m = mb_new();
    static const int64_t d2[2] = {-1, 3};
    mb_input(m, "X", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 2, d2);
    mb_input(m, "B", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 1, d3); /* also an initializer */
    set_raw(mb_init(m, "B", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 1, d3), bias, sizeof bias);
    static const char *const i3[] = {"c", "B", NULL}, *const o3[] = {"Y", "", NULL};
    static const char *const i2[] = {"a", "", "b", NULL}, *const o2[] = {"c", NULL};
    static const char *const i1[] = {"a", NULL}, *const o1[] = {"b", NULL};
    static const char *const i0[] = {"X", NULL}, *const o0[] = {"a", NULL};
    mb_node(m, "Add", "n3", i3, o3);
    mb_node(m, "Clip", "n2", i2, o2);
    mb_node(m, "Relu", "n1", i1, o1);
    mb_node(m, "Relu", "n0", i0, o0);
    mb_output(m, "Y");
    mb_output(m, "b");
    nn_graph *g = load_ok(f, m);
    assert_int_equal(g->nn, 4);
    const char *want[4] = {"n0", "n1", "n2", "n3"};
    for (int k = 0; k < 4; k++) {
        assert_string_equal(g->nodes[k].name, want[k]);
        for (int o = 0; o < g->nodes[k].n_out; o++)
            if (g->nodes[k].out[o] >= 0)
                assert_int_equal(g->t[g->nodes[k].out[o]].producer, k);
        for (int i = 0; i < g->nodes[k].n_in; i++) { /* every input comes from before */
            int t = g->nodes[k].in[i];
            if (t >= 0)
                assert_true(g->t[t].producer < k);
        }
    }
    assert_int_equal(g->nodes[2].in[1], -1);
    assert_int_equal(g->nodes[3].n_out, 2);
    assert_int_equal(g->nodes[3].out[1], -1);
    assert_int_equal(g->n_inputs, 1);
    assert_int_equal(g->inputs[0], nn_graph_find(g, "X"));
    assert_true(g->t[nn_graph_find(g, "B")].is_init);
    assert_int_equal(g->n_outputs, 2);
    assert_int_equal(g->outputs[1], nn_graph_find(g, "b"));
    nn_graph_free(g);
    free(m);
    /* independent nodes: the smallest file index goes first, so a sorted
     * file keeps its order */
    for (int order = 0; order < 2; order++) {
        m = mb_new();
        mb_input(m, "X", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 1, d3);
        static const char *const ix[] = {"X", NULL}, *const ou[] = {"u", NULL}, *const ov[] = {"v", NULL};
        static const char *const iuv[] = {"u", "v", NULL}, *const ow[] = {"w", NULL};
        if (order == 0) {
            mb_node(m, "Relu", "q", ix, ou);
            mb_node(m, "Relu", "p", ix, ov);
            mb_node(m, "Add", "r", iuv, ow);
        } else {
            mb_node(m, "Add", "r", iuv, ow);
            mb_node(m, "Relu", "p", ix, ov);
            mb_node(m, "Relu", "q", ix, ou);
        }
        mb_output(m, "w");
        g = load_ok(f, m);
        free(m);
        assert_string_equal(g->nodes[0].name, order == 0 ? "q" : "p");
        assert_string_equal(g->nodes[1].name, order == 0 ? "p" : "q");
        assert_string_equal(g->nodes[2].name, "r");
        assert_int_equal(g->t[nn_graph_find(g, "w")].producer, 2);
        nn_graph_free(g);
    }
}

/* A graph whose nodes are all outside the default domain needs no ai.onnx opset. */
static void test_custom_domain(void **state)
{
    fx *f = *state;
    mb *m = model_add();
    m->opset.domain = (char *)"com.microsoft";
    m->opset.version = 1;
    m->nodep[0]->domain = (char *)"com.microsoft";
    m->nodep[0]->op_type = (char *)"QGemm";
    nn_graph *g = load_ok(f, m);
    free(m);
    assert_int_equal(g->opset, 0);
    assert_string_equal(g->nodes[0].domain, "com.microsoft");
    assert_string_equal(g->nodes[0].name, "QGemm#0");
    nn_graph_free(g);
}

/* nn_onnx_load_tensor on a packed TensorProto and on ONNX's own test data. */
static void test_load_tensor(void **state)
{
    fx *f = *state;
    char path[PATH_LEN];
    fpath(f, path, "t.pb");
    Onnx__TensorProto t;
    onnx__tensor_proto__init(&t);
    static const int64_t dims[3] = {1, 2, 2};
    static const int8_t data[4] = {-1, 2, -128, 127};
    t.has_data_type = 1;
    t.data_type = ONNX__TENSOR_PROTO__DATA_TYPE__INT8;
    t.n_dims = 3;
    t.dims = (int64_t *)dims;
    t.name = (char *)"x";
    set_raw(&t, data, 4);
    uint8_t *buf;
    size_t len = pack_to(&t.base, &buf);
    tu_write_file(path, buf, len);
    nn_value v;
    assert_int_equal(nn_onnx_load_tensor(f->ctx, path, &v), CIM_OK);
    assert_int_equal(v.dtype, NN_INT8);
    assert_int_equal(v.rank, 3);
    assert_int_equal(v.dims[2], 2);
    assert_memory_equal(v.data, data, 4);
    nn_value_free(f->ctx, &v);
    /* bad ones: wrong raw length, garbage, missing */
    t.raw_data.len = 3;
    free(buf);
    len = pack_to(&t.base, &buf);
    tu_write_file(path, buf, len);
    free(buf);
    assert_int_equal(nn_onnx_load_tensor(f->ctx, path, &v), CIM_ERR_FORMAT);
    assert_null(v.data);
    assert_contains(cim_ctx_errmsg(f->ctx), path);
    assert_contains(cim_ctx_errmsg(f->ctx), "tensor 'x'");
    assert_contains(cim_ctx_errmsg(f->ctx), "raw_data");
    tu_write_file(path, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 12);
    assert_int_equal(nn_onnx_load_tensor(f->ctx, path, &v), CIM_ERR_FORMAT);
    assert_contains(cim_ctx_errmsg(f->ctx), "not a valid ONNX tensor");
    fpath(f, path, "none.pb");
    assert_int_equal(nn_onnx_load_tensor(f->ctx, path, &v), CIM_ERR_IO);
    assert_contains(cim_ctx_errmsg(f->ctx), path);
    const char *real = "/usr/share/libonnx-testdata/data/node/test_relu/test_data_set_0/input_0.pb";
    if (tu_file_exists(real)) {
        assert_int_equal(nn_onnx_load_tensor(f->ctx, real, &v), CIM_OK);
        assert_int_equal(v.dtype, NN_FLOAT);
        assert_int_equal(v.rank, 3);
        assert_int_equal(v.dims[0] * v.dims[1] * v.dims[2], 60);
        nn_value_free(f->ctx, &v);
    }
}

/* ---- files that are not models ---- */

static void test_not_a_model(void **state)
{
    fx *f = *state;
    char path[PATH_LEN];
    fpath(f, path, "missing.onnx");
    expect_fail(f, path, CIM_ERR_IO, "cannot open", NULL);
    expect_fail(f, f->dir, CIM_ERR_IO, "not a regular file", NULL);
    fpath(f, path, "garbage.onnx");
    tu_write_file(path, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 14);
    expect_fail(f, path, CIM_ERR_FORMAT, "not a valid ONNX model (protobuf parse failed)", NULL);
    tu_write_file(path, "hello, world: this is not protobuf\n", 35);
    expect_fail(f, path, CIM_ERR_FORMAT, NULL, NULL);
    tu_write_file(path, "", 0);
    expect_fail(f, path, CIM_ERR_FORMAT, "the model has no graph", NULL);
    /* larger than the limit: refused before reading (a sparse file) */
    fpath(f, path, "huge.onnx");
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(ftruncate(fileno(fp), (off_t)NN_ONNX_MAX_FILE_BYTES + 1), 0);
    assert_int_equal(fclose(fp), 0);
    expect_fail(f, path, CIM_ERR_UNSUPPORTED, "limit", NULL);
    assert_int_equal(unlink(path), 0);
}

/* Every prefix of a valid model (no metadata, so its last field is needed)
 * fails with CIM_ERR_FORMAT. */
static void test_truncated(void **state)
{
    fx *f = *state;
    mb *m = model_add();
    uint8_t *buf;
    size_t len = pack_to(&m->model.base, &buf);
    free(m);
    char path[PATH_LEN];
    fpath(f, path, "cut.onnx");
    for (size_t cut = 0; cut < len; cut++) {
        tu_write_file(path, buf, cut);
        expect_fail(f, path, CIM_ERR_FORMAT, NULL, NULL);
    }
    tu_write_file(path, buf, len);
    nn_graph *g;
    assert_int_equal(nn_onnx_load(f->ctx, path, &g), CIM_OK);
    nn_graph_free(g);
    free(buf);
}

/* Flip every bit of a model with attributes, Constants and several dtypes in
 * turn: each load succeeds or fails cleanly with a message naming the file,
 * and never allocates much more than the file's size. */
static void test_bit_flips(void **state)
{
    fx *f = *state;
    mb *m = model_add();
    static const int64_t d2[2] = {2, 2};
    static const int32_t u8[4] = {1, 2, 3, 4};
    Onnx__TensorProto *t = mb_init(m, "Q", ONNX__TENSOR_PROTO__DATA_TYPE__UINT8, 2, d2);
    t->n_int32_data = 4;
    t->int32_data = (int32_t *)u8;
    static const char *const ins[] = {"Y", "Q", "", NULL}, *const outs[] = {"Z", NULL}, *const co[] = {"k", NULL};
    Onnx__NodeProto *n = mb_node(m, "Clip", "clip", ins, outs);
    Onnx__AttributeProto *a = mb_attr(m, n, "min", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
    a->f = 1;
    static int64_t ints[2] = {3, 4};
    a = mb_attr(m, n, "perm", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
    a->n_ints = 2;
    a->ints = ints;
    mb_attr(m, mb_node(m, "Constant", "c", NULL, co), "value_int", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT)->i = 5;
    mb_output(m, "Z");
    uint8_t *buf;
    size_t len = pack_to(&m->model.base, &buf);
    free(m);
    char path[PATH_LEN];
    fpath(f, path, "flip.onnx");
    int ok = 0, failed = 0;
    f->max_size = 0;
    for (size_t i = 0; i < len; i++)
        for (int bit = 0; bit < 8; bit++) {
            buf[i] ^= (uint8_t)(1u << bit);
            tu_write_file(path, buf, len);
            buf[i] ^= (uint8_t)(1u << bit);
            nn_graph *g = NULL;
            long live = f->live;
            cim_status st = nn_onnx_load(f->ctx, path, &g);
            if (st == CIM_OK) {
                assert_non_null(g);
                nn_graph_free(g);
                ok++;
            } else {
                assert_null(g);
                const char *msg = cim_ctx_errmsg(f->ctx);
                if (strncmp(msg, path, strlen(path)) != 0 || (st != CIM_ERR_FORMAT && st != CIM_ERR_UNSUPPORTED))
                    fail_msg("byte %zu bit %d: status %d, message \"%s\"", i, bit, st, msg);
                failed++;
            }
            assert_int_equal(f->live, live);
        }
    assert_true(ok > 0 && failed > 0);
    if (f->max_size > (1u << 16)) /* the names table of a small graph is the largest block */
        fail_msg("a flipped bit made the loader allocate %zu bytes at once", f->max_size);
    free(buf);
}

/* ---- malformed tensors ---- */

static void test_bad_tensors(void **state)
{
    fx *f = *state;
    static const int64_t huge[2] = {1LL << 40, 1LL << 40}, neg[1] = {-1}, deep[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    static const float fd[3] = {1, 2, 3};
    mb *m = model_add();
    mb_init(m, "W", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 2, huge);
    expect_model_fail(f, m, CIM_ERR_FORMAT, "initializer 'W'", "2^31");
    m = model_add();
    mb_init(m, "W", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 1, neg);
    expect_model_fail(f, m, CIM_ERR_FORMAT, "initializer 'W'", "negative");
    m = model_add();
    mb_init(m, "W", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 9, deep)->n_float_data = 0;
    expect_model_fail(f, m, CIM_ERR_UNSUPPORTED, "initializer 'W'", "rank 9");
    m = model_add();
    m->init[0].raw_data.len = 11;
    expect_model_fail(f, m, CIM_ERR_FORMAT, "initializer 'B'", "raw_data has 11 bytes but dims need 12");
    m = model_add();
    m->init[0].has_raw_data = 0;
    m->init[0].n_float_data = 2;
    m->init[0].float_data = (float *)fd;
    expect_model_fail(f, m, CIM_ERR_FORMAT, "initializer 'B'", "float_data has 2 values but dims need 3");
    m = model_add();
    m->init[0].has_raw_data = 0; /* no data at all */
    expect_model_fail(f, m, CIM_ERR_FORMAT, "initializer 'B'", "float_data has 0 values");
    m = model_add();
    static const int32_t big[3] = {1, 256, 3};
    Onnx__TensorProto *t = mb_init(m, "U", ONNX__TENSOR_PROTO__DATA_TYPE__UINT8, 1, d3);
    t->n_int32_data = 3;
    t->int32_data = (int32_t *)big;
    expect_model_fail(f, m, CIM_ERR_FORMAT, "initializer 'U'", "int32_data[1] = 256 is out of range for uint8");
    m = model_add();
    m->init[0].has_data_location = 1;
    m->init[0].data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    expect_model_fail(f, m, CIM_ERR_UNSUPPORTED, "initializer 'B'", "external data");
    m = model_add();
    m->init[0].data_type = ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE;
    expect_model_fail(f, m, CIM_ERR_UNSUPPORTED, "initializer 'B'", "double");
    m = model_add();
    m->init[0].name = (char *)"";
    expect_model_fail(f, m, CIM_ERR_FORMAT, "initializer 0 has no name", NULL);
    m = model_add();
    set_raw(mb_init(m, "B", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 1, d3), bias, sizeof bias);
    expect_model_fail(f, m, CIM_ERR_FORMAT, "initializer 'B' appears twice", NULL);
}

/* ---- malformed graphs ---- */

static void test_bad_inputs(void **state)
{
    fx *f = *state;
    static const int64_t huge[2] = {1LL << 40, 1LL << 40}, two[2] = {2, 5};
    mb *m = model_add();
    m->tt[0].shape = NULL;
    expect_model_fail(f, m, CIM_ERR_FORMAT, "graph input 'X' has no shape", NULL);
    m = model_add();
    m->vi[0].type = NULL;
    expect_model_fail(f, m, CIM_ERR_FORMAT, "graph input 'X' has no tensor type", NULL);
    m = model_add();
    m->tt[0].elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16;
    expect_model_fail(f, m, CIM_ERR_UNSUPPORTED, "graph input 'X'", "float16");
    m = model_add();
    mb_input(m, "H", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 2, huge);
    expect_model_fail(f, m, CIM_ERR_FORMAT, "graph input 'H'", "2^31");
    m = model_add();
    mb_input(m, "H", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 2, two);
    m->dim[1][1].dim_value = -5;
    expect_model_fail(f, m, CIM_ERR_FORMAT, "graph input 'H'", "dimension 1 is negative (-5)");
    m = model_add();
    mb_input(m, "X", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 1, d3);
    expect_model_fail(f, m, CIM_ERR_FORMAT, "graph input 'X' is listed twice", NULL);
}

static void test_bad_graphs(void **state)
{
    fx *f = *state;
    static const char *const ix[] = {"X", NULL}, *const ia[] = {"a", NULL}, *const ib[] = {"b", NULL};
    static const char *const oa[] = {"a", NULL}, *const ob[] = {"b", NULL}, *const oy[] = {"Y", NULL};
    static const int64_t d1[1] = {3};
    /* a cycle a -> b -> a, with a node downstream of it listed first */
    mb *m = mb_new();
    mb_input(m, "X", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 1, d1);
    mb_node(m, "Relu", "ny", ia, oy);
    mb_node(m, "Relu", "na", ib, oa);
    mb_node(m, "Relu", "nb", ia, ob);
    mb_output(m, "Y");
    char path[PATH_LEN];
    fpath(f, path, "cycle.onnx");
    mb_write(m, path);
    free(m);
    expect_fail(f, path, CIM_ERR_FORMAT, "graph has a cycle through node 'n", NULL);
    assert_null(strstr(cim_ctx_errmsg(f->ctx), "'ny'"));
    /* a node feeding itself */
    m = mb_new();
    mb_input(m, "X", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 1, d1);
    static const char *const is[] = {"X", "s", NULL}, *const os[] = {"s", NULL};
    mb_node(m, "Add", "self", is, os);
    mb_output(m, "s");
    expect_model_fail(f, m, CIM_ERR_FORMAT, "graph has a cycle through node 'self'", NULL);
    /* missing initializer */
    m = model_add();
    m->nodep[0]->name = (char *)"adder";
    m->nin[0][1] = (char *)"W";
    expect_model_fail(f, m, CIM_ERR_FORMAT, "node 'adder' (Add)", "missing initializer or input 'W'");
    /* produced twice: by two nodes, by a node and an initializer, by a Constant and a graph input */
    m = model_add();
    mb_node(m, "Relu", "again", ix, oy);
    expect_model_fail(f, m, CIM_ERR_FORMAT, "node 'again' (Relu)", "output 'Y' is produced twice (it is already the output of node 'Add#0')");
    m = model_add();
    static const char *const obias[] = {"B", NULL};
    mb_node(m, "Relu", "r", ix, obias);
    expect_model_fail(f, m, CIM_ERR_FORMAT, "node 'r' (Relu)", "produced twice");
    m = model_add();
    static const char *const ox[] = {"X", NULL};
    mb_attr(m, mb_node(m, "Constant", "k", NULL, ox), "value_int", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    expect_model_fail(f, m, CIM_ERR_FORMAT, "node 'k' (Constant)", "already a graph input");
    /* opset */
    m = model_add();
    m->model.n_opset_import = 0;
    expect_model_fail(f, m, CIM_ERR_FORMAT, "opset_import", "node '' (Add)");
    m = model_add();
    m->opset.domain = (char *)"com.microsoft";
    m->nodep[0]->name = (char *)"adder";
    expect_model_fail(f, m, CIM_ERR_FORMAT, "opset_import has no version for the default domain (ai.onnx)",
                      "node 'adder' (Add)");
    /* outputs, nodes, graph */
    m = model_add();
    m->vi[MAXV].name = (char *)"Z";
    expect_model_fail(f, m, CIM_ERR_FORMAT, "graph output 'Z'", NULL);
    m = model_add();
    m->graph.n_output = 0;
    expect_model_fail(f, m, CIM_ERR_FORMAT, "no outputs", NULL);
    m = model_add();
    m->graph.n_node = 0;
    expect_model_fail(f, m, CIM_ERR_FORMAT, "graph has no nodes", NULL);
    m = model_add();
    m->model.graph = NULL;
    expect_model_fail(f, m, CIM_ERR_FORMAT, "no graph", NULL);
    m = model_add();
    m->nodep[0]->op_type = (char *)"";
    expect_model_fail(f, m, CIM_ERR_FORMAT, "node 'node#0' has no op_type", NULL);
    (void)ib;
}

static void test_bad_attributes(void **state)
{
    fx *f = *state;
    static Onnx__GraphProto body;
    onnx__graph_proto__init(&body);
    mb *m = model_add();
    m->nodep[0]->name = (char *)"adder";
    mb_attr(m, m->nodep[0], "body", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH)->g = &body;
    expect_model_fail(f, m, CIM_ERR_UNSUPPORTED, "node 'adder' (Add)", "attribute 'body' has type GRAPH");
    m = model_add();
    static ProtobufCBinaryData strs[1] = {{1, (uint8_t *)"a"}};
    Onnx__AttributeProto *a = mb_attr(m, m->nodep[0], "names", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS);
    a->n_strings = 1;
    a->strings = strs;
    expect_model_fail(f, m, CIM_ERR_UNSUPPORTED, "node 'Add#0' (Add)", "attribute 'names' has type STRINGS");
    m = model_add();
    mb_attr(m, m->nodep[0], "t", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__SPARSE_TENSOR);
    expect_model_fail(f, m, CIM_ERR_UNSUPPORTED, "attribute 't' has type SPARSE_TENSOR", NULL);
    m = model_add();
    mb_attr(m, m->nodep[0], "", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    expect_model_fail(f, m, CIM_ERR_FORMAT, "node 'Add#0' (Add): an attribute has no name", NULL);
    m = model_add();
    mb_attr(m, m->nodep[0], "value", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR); /* no tensor */
    expect_model_fail(f, m, CIM_ERR_FORMAT, "attribute 'value' of type TENSOR has no tensor", NULL);
    /* a tensor attribute with bad data names node and attribute */
    static Onnx__TensorProto tv;
    onnx__tensor_proto__init(&tv);
    tv.has_data_type = 1;
    tv.data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    tv.n_dims = 1;
    tv.dims = (int64_t *)d3;
    m = model_add();
    mb_attr(m, m->nodep[0], "w", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR)->t = &tv;
    expect_model_fail(f, m, CIM_ERR_FORMAT, "node 'Add#0' (Add): attribute 'w'", "float_data has 0 values");
    /* Constants */
    static const char *const oc[] = {"c", NULL}, *const oc2[] = {"c", "d", NULL};
    m = model_add();
    a = mb_attr(m, mb_node(m, "Constant", "k", NULL, oc), "value_string", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);
    a->has_s = 1;
    expect_model_fail(f, m, CIM_ERR_UNSUPPORTED, "node 'k' (Constant)", "'value_string' is not supported");
    m = model_add();
    mb_attr(m, mb_node(m, "Constant", "k", NULL, oc2), "value_int", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    expect_model_fail(f, m, CIM_ERR_FORMAT, "node 'k' (Constant)", "exactly one named output");
    m = model_add();
    mb_attr(m, mb_node(m, "Constant", "k", NULL, oc), "value_int", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
    expect_model_fail(f, m, CIM_ERR_FORMAT, "node 'k' (Constant)", "attribute 'value_int' has the wrong type");
    m = model_add();
    mb_node(m, "Constant", "k", NULL, oc);
    expect_model_fail(f, m, CIM_ERR_FORMAT, "node 'k' (Constant)", "exactly one attribute");
}

/* Graphs nested in attributes deeper than NN_ONNX_MAX_DEPTH are refused
 * before protobuf-c recurses into them; shallow ones parse (and then fail
 * because GRAPH attributes are not supported). */
static void test_nesting(void **state)
{
    fx *f = *state;
    enum { LEVELS = 40 }; /* graph, node, attribute per level: 3 messages */
    static Onnx__GraphProto gs[LEVELS];
    static Onnx__NodeProto ns[LEVELS], *nps[LEVELS];
    static Onnx__AttributeProto as[LEVELS], *aps[LEVELS];
    for (int shallow = 0; shallow < 2; shallow++) {
        int levels = shallow ? 5 : LEVELS;
        mb *m = model_add();
        for (int i = 0; i < levels; i++) {
            onnx__graph_proto__init(&gs[i]);
            onnx__node_proto__init(&ns[i]);
            onnx__attribute_proto__init(&as[i]);
        }
        for (int i = 0; i < levels; i++) {
            ns[i].op_type = (char *)"Loop";
            as[i].name = (char *)"body";
            as[i].has_type = 1;
            as[i].type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH;
            aps[i] = &as[i];
            nps[i] = &ns[i];
            ns[i].n_attribute = 1;
            ns[i].attribute = &aps[i];
            if (i + 1 < levels) {
                as[i].g = &gs[i + 1];
                gs[i + 1].n_node = 1;
                gs[i + 1].node = &nps[i + 1];
            }
        }
        mb_attr(m, m->nodep[0], "body", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH)->g = &gs[0];
        gs[0].n_node = 1;
        gs[0].node = &nps[0];
        if (shallow)
            expect_model_fail(f, m, CIM_ERR_UNSUPPORTED, "attribute 'body' has type GRAPH", NULL);
        else
            expect_model_fail(f, m, CIM_ERR_FORMAT, "not a valid ONNX model (messages nested more than", NULL);
    }
}

/* Every allocation failure while loading is CIM_ERR_NOMEM and frees all. */
static void test_alloc_failures(void **state)
{
    fx *f = *state;
    mb *m = model_add();
    Onnx__NodeProto *n = m->nodep[0];
    static int64_t ints[2] = {1, 2};
    Onnx__AttributeProto *a = mb_attr(m, n, "pads", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
    a->n_ints = 2;
    a->ints = ints;
    a = mb_attr(m, n, "mode", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);
    a->has_s = 1;
    a->s.data = (uint8_t *)"x";
    a->s.len = 1;
    static const char *const oc[] = {"c", NULL}, *const ir[] = {"Y", "c", NULL}, *const oz[] = {"Z", NULL};
    mb_attr(m, mb_node(m, "Constant", NULL, NULL, oc), "value_int", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT)->i = 1;
    mb_node(m, "Add", "z", ir, oz);
    m->meta[0].base = (ProtobufCMessage)PROTOBUF_C_MESSAGE_INIT(&onnx__string_string_entry_proto__descriptor);
    m->meta[0].key = (char *)"k";
    m->meta[0].value = (char *)"v";
    m->metap[0] = &m->meta[0];
    m->model.n_metadata_props = 1;
    m->model.metadata_props = m->metap;
    char path[PATH_LEN];
    fpath(f, path, "alloc.onnx");
    mb_write(m, path);
    free(m);
    int failures = 0;
    for (long at = 1;; at++) {
        long live = f->live;
        f->calls = 0;
        f->fail_at = at;
        nn_graph *g = NULL;
        cim_status st = nn_onnx_load(f->ctx, path, &g);
        f->fail_at = 0;
        if (st == CIM_OK) {
            nn_graph_free(g);
            assert_int_equal(f->live, live);
            break;
        }
        if (st != CIM_ERR_NOMEM)
            fail_msg("allocation %ld: status %d, message \"%s\"", at, st, cim_ctx_errmsg(f->ctx));
        assert_null(g);
        assert_int_equal(f->live, live);
        failures++;
    }
    assert_true(failures > 20);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_add_model),       T(test_initializer_dtypes), T(test_attributes_and_metadata),
        T(test_constant_folding), T(test_topological_order), T(test_load_tensor),
        T(test_custom_domain),
        T(test_not_a_model),     T(test_truncated),          T(test_bit_flips),
        T(test_bad_tensors),     T(test_bad_inputs),         T(test_bad_graphs),
        T(test_bad_attributes),  T(test_nesting),            T(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
