/* test_nn_qconformance.c: the quantized and linear-algebra operators
 * (src/nn/ops_quant*.c, ops_conv.c, ops_pool.c) against ONNX's own node
 * test data (/usr/share/libonnx-testdata/data/node/<case>/: model.onnx and
 * test_data_set_N/input_I.pb, output_I.pb). Each model is read with
 * protobuf-c and built into an nn_graph here (independently of src/onnx/),
 * run by nn_graph_run, and compared: integer outputs exactly, float outputs
 * with ONNX's backend tolerance (rtol 1e-3, atol 1e-7). Cases whose data is
 * not installed are skipped. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "test_nn_qutil.h"
#include "onnx/onnx.pb-c.h"

#define NODE_DIR "/usr/share/libonnx-testdata/data/node"

static uint8_t *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc((size_t)sz + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)sz, f), (size_t)sz);
    fclose(f);
    *len = (size_t)sz;
    return buf;
}

/* TensorProto -> dtype, shape and a malloc'd copy of the data. */
static void *tensor_data(const Onnx__TensorProto *tp, nn_value *v)
{
    memset(v, 0, sizeof *v);
    v->dtype = (nn_dtype)tp->data_type;
    v->rank = (int)tp->n_dims;
    for (size_t i = 0; i < tp->n_dims; i++)
        v->dims[i] = tp->dims[i];
    size_t es = nn_dtype_size(v->dtype);
    assert_true(es > 0);
    size_t cnt = (size_t)nn_value_count(v);
    uint8_t *d = calloc(cnt * es + 1, 1);
    assert_non_null(d);
    if (tp->has_raw_data) {
        assert_int_equal(tp->raw_data.len, cnt * es);
        memcpy(d, tp->raw_data.data, cnt * es);
    } else if (v->dtype == NN_FLOAT) {
        assert_int_equal(tp->n_float_data, cnt);
        memcpy(d, tp->float_data, cnt * es);
    } else if (v->dtype == NN_INT64) {
        assert_int_equal(tp->n_int64_data, cnt);
        memcpy(d, tp->int64_data, cnt * es);
    } else {
        assert_int_equal(tp->n_int32_data, cnt);
        for (size_t i = 0; i < cnt; i++) {
            if (v->dtype == NN_INT32)
                ((int32_t *)d)[i] = tp->int32_data[i];
            else if (v->dtype == NN_INT8)
                ((int8_t *)d)[i] = (int8_t)tp->int32_data[i];
            else
                d[i] = (uint8_t)tp->int32_data[i];
        }
    }
    v->data = d;
    return d;
}

static Onnx__TensorProto *read_tensor(const char *path)
{
    size_t len;
    uint8_t *buf = read_all(path, &len);
    if (!buf)
        return NULL;
    Onnx__TensorProto *tp = onnx__tensor_proto__unpack(NULL, len, buf);
    free(buf);
    assert_non_null(tp);
    return tp;
}

static int find_or_add(nn_graph *g, const char *name)
{
    if (!name[0])
        return -1;
    int i = nn_graph_find(g, name);
    return i >= 0 ? i : qb_tensor(g, name, NN_UNDEFINED, 0, NULL, NULL, 0);
}

/* Build the model's graph; inputs' shapes come from the first data set. */
static nn_graph *build(cim_ctx *ctx, const Onnx__ModelProto *m, const char *case_dir)
{
    nn_graph *g = qb_new(ctx);
    const Onnx__GraphProto *gp = m->graph;
    for (size_t i = 0; i < gp->n_initializer; i++) {
        nn_value v;
        void *d = tensor_data(gp->initializer[i], &v);
        qb_tensor(g, gp->initializer[i]->name, v.dtype, v.rank, v.dims, d, 0);
        free(d);
    }
    int k = 0;
    for (size_t i = 0; i < gp->n_input; i++) {
        if (nn_graph_find(g, gp->input[i]->name) >= 0)
            continue;
        char path[600];
        snprintf(path, sizeof path, "%s/test_data_set_0/input_%d.pb", case_dir, k++);
        Onnx__TensorProto *tp = read_tensor(path);
        assert_non_null(tp);
        nn_value v;
        free(tensor_data(tp, &v));
        onnx__tensor_proto__free_unpacked(tp, NULL);
        qb_tensor(g, gp->input[i]->name, v.dtype, v.rank, v.dims, NULL, 1);
    }
    for (size_t j = 0; j < gp->n_node; j++) {
        const Onnx__NodeProto *np = gp->node[j];
        int in[16], out[8];
        assert_true(np->n_input <= 16 && np->n_output <= 8);
        for (size_t i = 0; i < np->n_input; i++)
            in[i] = find_or_add(g, np->input[i]);
        for (size_t i = 0; i < np->n_output; i++)
            out[i] = find_or_add(g, np->output[i]);
        nn_node *n = qb_node(g, np->op_type, np->domain ? np->domain : "", (int)np->n_input, in, (int)np->n_output,
                             out);
        for (size_t a = 0; a < np->n_attribute; a++) {
            const Onnx__AttributeProto *ap = np->attribute[a];
            switch (ap->type) {
            case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT: qb_attr_int(g, n, ap->name, ap->i); break;
            case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT: qb_attr_float(g, n, ap->name, ap->f); break;
            case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS:
                qb_attr_ints(g, n, ap->name, (int)ap->n_ints, ap->ints);
                break;
            case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS:
                qb_attr_floats(g, n, ap->name, (int)ap->n_floats, ap->floats);
                break;
            case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING: {
                char s[256];
                snprintf(s, sizeof s, "%.*s", (int)ap->s.len, (const char *)ap->s.data);
                qb_attr_string(g, n, ap->name, s);
                break;
            }
            default: fail_msg("attribute %s: unsupported type", ap->name);
            }
        }
    }
    for (size_t i = 0; i < gp->n_output; i++)
        qb_output(g, nn_graph_find(g, gp->output[i]->name));
    for (int i = 0; i < g->n_inputs; i++)
        if (g->t[g->inputs[i]].v.rank > 0)
            g->batch = g->t[g->inputs[i]].v.dims[0];
    return g;
}

static int compare(const char *name, const nn_value *got, const nn_value *want)
{
    if (got->dtype != want->dtype || got->rank != want->rank) {
        printf("%s: dtype/rank %d/%d, expected %d/%d\n", name, got->dtype, got->rank, want->dtype, want->rank);
        return 1;
    }
    for (int i = 0; i < got->rank; i++)
        if (got->dims[i] != want->dims[i]) {
            printf("%s: dimension %d is %lld, expected %lld\n", name, i, (long long)got->dims[i],
                   (long long)want->dims[i]);
            return 1;
        }
    const int64_t cnt = nn_value_count(got);
    int bad = 0;
    for (int64_t i = 0; i < cnt && bad < 5; i++) {
        if (got->dtype == NN_FLOAT) {
            float a = ((float *)got->data)[i], b = ((float *)want->data)[i];
            if (!(fabsf(a - b) <= 1e-7f + 1e-3f * fabsf(b))) {
                printf("%s[%lld] = %.9g, expected %.9g\n", name, (long long)i, a, b);
                bad++;
            }
        } else if (memcmp((char *)got->data + i * nn_dtype_size(got->dtype),
                          (char *)want->data + i * nn_dtype_size(got->dtype), nn_dtype_size(got->dtype)) != 0) {
            printf("%s[%lld] differs\n", name, (long long)i);
            bad++;
        }
    }
    return bad;
}

/* Run one case directory; returns the number of mismatching data sets. */
static int run_case(const char *name)
{
    char dir[512], path[700];
    snprintf(dir, sizeof dir, "%s/%s", NODE_DIR, name);
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    size_t len;
    uint8_t *buf = read_all(path, &len);
    if (!buf) {
        printf("SKIP %s (no test data)\n", name);
        return 0;
    }
    Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, len, buf);
    free(buf);
    assert_non_null(m);
    cim_ctx *ctx = tu_ctx();
    nn_graph *g = build(ctx, m, dir);
    int fails = 0;
    cim_status st = nn_graph_infer(g);
    if (st != CIM_OK) {
        printf("%s: infer: %s\n", name, cim_ctx_errmsg(ctx));
        fails++;
    }
    for (int set = 0; st == CIM_OK; set++) {
        nn_value ins[QB_MAX_IO], outs[QB_MAX_IO];
        snprintf(path, sizeof path, "%s/test_data_set_%d/input_0.pb", dir, set);
        Onnx__TensorProto *probe = read_tensor(path);
        if (!probe)
            break;
        onnx__tensor_proto__free_unpacked(probe, NULL);
        for (int i = 0; i < g->n_inputs; i++) {
            snprintf(path, sizeof path, "%s/test_data_set_%d/input_%d.pb", dir, set, i);
            Onnx__TensorProto *tp = read_tensor(path);
            assert_non_null(tp);
            tensor_data(tp, &ins[i]);
            onnx__tensor_proto__free_unpacked(tp, NULL);
        }
        if (nn_graph_run(g, ins, outs) != CIM_OK) {
            printf("%s: run: %s\n", name, cim_ctx_errmsg(ctx));
            fails++;
        } else {
            for (int o = 0; o < g->n_outputs; o++) {
                snprintf(path, sizeof path, "%s/test_data_set_%d/output_%d.pb", dir, set, o);
                Onnx__TensorProto *tp = read_tensor(path);
                assert_non_null(tp);
                nn_value want;
                tensor_data(tp, &want);
                onnx__tensor_proto__free_unpacked(tp, NULL);
                fails += compare(name, &outs[o], &want) != 0;
                free(want.data);
                nn_value_free(ctx, &outs[o]);
            }
        }
        for (int i = 0; i < g->n_inputs; i++)
            free(ins[i].data);
    }
    nn_graph_free(g);
    cim_ctx_destroy(ctx);
    onnx__model_proto__free_unpacked(m, NULL);
    if (!fails)
        printf("ok   %s\n", name);
    return fails;
}

static int run_cases(const char *const *names, size_t count)
{
    int fails = 0;
    for (size_t i = 0; i < count; i++)
        fails += run_case(names[i]);
    return fails;
}

static void test_quantize(void **state)
{
    (void)state;
    static const char *const c[] = {"test_quantizelinear", "test_quantizelinear_axis", "test_dequantizelinear",
                                    "test_dequantizelinear_axis"};
    assert_int_equal(run_cases(c, sizeof c / sizeof c[0]), 0);
}

static void test_qlinear(void **state)
{
    (void)state;
    static const char *const c[] = {"test_qlinearconv",          "test_qlinearmatmul_2D",
                                    "test_qlinearmatmul_3D",     "test_convinteger_with_padding",
                                    "test_convinteger_without_padding", "test_basic_convinteger",
                                    "test_matmulinteger"};
    assert_int_equal(run_cases(c, sizeof c / sizeof c[0]), 0);
}

static void test_float_linear(void **state)
{
    (void)state;
    static const char *const c[] = {
        "test_basic_conv_with_padding", "test_basic_conv_without_padding", "test_conv_with_autopad_same",
        "test_conv_with_strides_and_asymmetric_padding", "test_conv_with_strides_no_padding",
        "test_conv_with_strides_padding", "test_gemm_all_attributes", "test_gemm_alpha", "test_gemm_beta",
        "test_gemm_default_matrix_bias", "test_gemm_default_no_bias", "test_gemm_default_scalar_bias",
        "test_gemm_default_single_elem_vector_bias", "test_gemm_default_vector_bias", "test_gemm_default_zero_bias",
        "test_gemm_transposeA", "test_gemm_transposeB", "test_matmul_2d", "test_matmul_3d", "test_matmul_4d"};
    assert_int_equal(run_cases(c, sizeof c / sizeof c[0]), 0);
}

static void test_pool(void **state)
{
    (void)state;
    static const char *const c[] = {
        "test_averagepool_1d_default", "test_averagepool_2d_ceil", "test_averagepool_2d_default",
        "test_averagepool_2d_pads", "test_averagepool_2d_pads_count_include_pad",
        "test_averagepool_2d_precomputed_pads", "test_averagepool_2d_precomputed_pads_count_include_pad",
        "test_averagepool_2d_precomputed_same_upper", "test_averagepool_2d_precomputed_strides",
        "test_averagepool_2d_same_lower", "test_averagepool_2d_same_upper", "test_averagepool_2d_strides",
        "test_maxpool_1d_default", "test_maxpool_2d_ceil", "test_maxpool_2d_default", "test_maxpool_2d_dilations",
        "test_maxpool_2d_pads", "test_maxpool_2d_precomputed_pads", "test_maxpool_2d_precomputed_same_upper",
        "test_maxpool_2d_precomputed_strides", "test_maxpool_2d_same_lower", "test_maxpool_2d_same_upper",
        "test_maxpool_2d_strides", "test_maxpool_2d_uint8", "test_maxpool_with_argmax_2d_precomputed_pads",
        "test_maxpool_with_argmax_2d_precomputed_strides", "test_globalaveragepool",
        "test_globalaveragepool_precomputed"};
    assert_int_equal(run_cases(c, sizeof c / sizeof c[0]), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quantize),
        cmocka_unit_test(test_qlinear),
        cmocka_unit_test(test_float_linear),
        cmocka_unit_test(test_pool),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
