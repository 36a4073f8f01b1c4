/* test_onnx_conformance.c: ONNX's own operator tests (Debian's
 * libonnx-testdata: data/node/<test>/model.onnx and test_data_set_N/
 * {input_i.pb, output_i.pb}) through the loader, nn_graph_infer and
 * nn_graph_run.
 *
 * Every test directory is tried (sorted by name). It is SKIPPED when the
 * model does not load as unsupported (a data type, a sequence input, a
 * GRAPH attribute...), when one of its ops is not in the operator tables,
 * when an op reports CIM_ERR_UNSUPPORTED for the variant at inference, or
 * when its data exceed SIZE_LIMIT bytes (the test also runs under ASan).
 * Otherwise it RUNS: input 0 is the graph's runtime input and the other
 * inputs (weights, scales, zero points, shapes, axes) are set as
 * initializers, the way a deployed model holds them; every output must equal
 * output_i.pb, exactly for integer types and within 1e-4 + 1e-4*|want| for
 * float32. All tests run before the verdict, so one run lists every failure.
 *
 * The REQUIRED list below must run and pass. CIMSIM_CONFORMANCE_REQUIRED=0
 * only reports the required tests that did not (while operators are being
 * written); the default enforces it. Other knobs: CIMSIM_ONNX_TESTDATA (the
 * data/node directory), CIMSIM_CONFORMANCE_FILTER (a substring of test names
 * to run), CIMSIM_CONFORMANCE_VERBOSE=1 (list skipped tests and why). The
 * list of tests that ran goes to CIMSIM_BUILD_DIR/conformance.txt too. */
#include <dirent.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "testutil.h"
#include "onnx/onnx.h"

#define DEFAULT_DATA "/usr/share/libonnx-testdata/data/node"
#define SIZE_LIMIT (4L << 20) /* bytes of model + test data per test */
#define ATOL 1e-4
#define RTOL 1e-4

/* ONNX tests that must run and pass: the quantized layers cimsim simulates
 * (QLinear*, *Integer, Quantize/DequantizeLinear), the float layers of
 * quantize-dequantize models (Conv, Gemm), and the glue of CNNs and
 * transformer-style blocks (pooling, activations, elementwise arithmetic,
 * shape ops, Softmax, LayerNormalization). All exist in Debian's
 * libonnx-testdata 1.12. */
static const char *const REQUIRED[] = {
    "test_qlinearconv",
    "test_qlinearmatmul_2D",
    "test_qlinearmatmul_3D",
    "test_convinteger_with_padding",
    "test_convinteger_without_padding",
    "test_matmulinteger",
    "test_quantizelinear",
    "test_dequantizelinear",
    "test_conv_with_strides_padding",
    "test_gemm_default_single_elem_vector_bias",
    "test_gemm_all_attributes",
    "test_maxpool_2d_default",
    "test_averagepool_2d_default",
    "test_globalaveragepool",
    "test_relu",
    "test_add",
    "test_add_bcast",
    "test_softmax_axis_1",
    "test_transpose_default",
    "test_reshape_reordered_all_dims",
    "test_reshape_negative_dim",
    "test_concat_2d_axis_1",
    "test_flatten_axis1",
    "test_clip",
    "test_leakyrelu",
    "test_sigmoid",
    "test_hardsigmoid",
    "test_hardswish",
    "test_erf",
    "test_mul",
    "test_sub",
    "test_div",
    "test_squeeze",
    "test_unsqueeze_axis_0",
    "test_gather_0",
    "test_shape",
    "test_identity",
    "test_layer_normalization_2d_axis0",
};

enum outcome { PASSED, FAILED, SKIP_SIZE, SKIP_LOAD, SKIP_OP, SKIP_UNSUPPORTED };
static const char *const OUTCOME[] = {"ok", "FAILED", "skipped (data too large)", "skipped (model not loadable)",
                                      "skipped (operator missing)", "skipped (variant unsupported)"};

typedef struct result {
    char name[128];
    enum outcome outcome;
    int folded; /* ran with every input constant */
    char why[640];
} result;

/* The context's allocator counts live blocks, so each test's leaks are seen. */
typedef struct counter {
    long live;
} counter;

static void *count_alloc(void *ud, void *ptr, size_t size)
{
    counter *c = ud;
    if (size == 0) {
        if (ptr)
            c->live--;
        free(ptr);
        return NULL;
    }
    void *p = realloc(ptr, size);
    if (p && !ptr)
        c->live++;
    return p;
}

/* snprintf that truncates quietly (messages and paths here are bounded by
 * the test data's names, and a truncated message is still a message). */
static int fmt(char *buf, size_t size, const char *f, ...) __attribute__((format(printf, 3, 4)));
static int fmt(char *buf, size_t size, const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    int n = vsnprintf(buf, size, f, ap);
    va_end(ap);
    return n;
}

static int env_int(const char *name, int def)
{
    const char *s = getenv(name);
    return s && *s ? atoi(s) : def;
}

static long file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (long)sb.st_size : -1;
}

/* Bytes of the files in dir and its subdirectories (one level). */
static long dir_bytes(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    long total = 0;
    char path[1200];
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        fmt(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat sb;
        if (stat(path, &sb) != 0)
            continue;
        if (S_ISDIR(sb.st_mode)) {
            DIR *sub = opendir(path);
            char p2[1500];
            for (struct dirent *f; sub && (f = readdir(sub));) {
                fmt(p2, sizeof p2, "%s/%s", path, f->d_name);
                long s = f->d_name[0] == '.' ? 0 : file_size(p2);
                total += s > 0 ? s : 0;
            }
            if (sub)
                closedir(sub);
        } else {
            total += (long)sb.st_size;
        }
    }
    closedir(d);
    return total;
}

static double elem_f(const nn_value *v, int64_t i)
{
    switch (v->dtype) {
    case NN_FLOAT: return ((const float *)v->data)[i];
    case NN_UINT8: case NN_BOOL: return ((const uint8_t *)v->data)[i];
    case NN_INT8: return ((const int8_t *)v->data)[i];
    case NN_INT32: return ((const int32_t *)v->data)[i];
    case NN_INT64: return (double)((const int64_t *)v->data)[i];
    default: return NAN;
    }
}

static int64_t elem_i(const nn_value *v, int64_t i)
{
    return v->dtype == NN_INT64 ? ((const int64_t *)v->data)[i] : (int64_t)elem_f(v, i);
}

static void shape_str(const nn_value *v, char *buf, size_t size)
{
    size_t n = (size_t)fmt(buf, size, "%s[", nn_dtype_name(v->dtype));
    for (int i = 0; i < v->rank && n < size; i++)
        n += (size_t)fmt(buf + n, size - n, "%s%lld", i ? "," : "", (long long)v->dims[i]);
    if (n < size)
        fmt(buf + n, size - n, "]");
}

/* 0 when got matches want; else a description in why. */
static int compare(const nn_value *got, const nn_value *want, int out, char *why, size_t size)
{
    char gs[160], ws[160];
    shape_str(got, gs, sizeof gs);
    shape_str(want, ws, sizeof ws);
    if (got->dtype != want->dtype || got->rank != want->rank ||
        memcmp(got->dims, want->dims, (size_t)want->rank * sizeof want->dims[0]) != 0) {
        fmt(why, size, "output %d: got %s, want %s", out, gs, ws);
        return 1;
    }
    int64_t n = nn_value_count(want), bad = 0, first = -1, worst_i = -1;
    double worst = 0;
    for (int64_t i = 0; i < n; i++) {
        int differ;
        if (want->dtype == NN_FLOAT) {
            double a = elem_f(got, i), b = elem_f(want, i);
            if (isnan(b) || isnan(a))
                differ = !(isnan(a) && isnan(b));
            else if (isinf(b) || isinf(a))
                differ = a != b;
            else {
                double d = fabs(a - b);
                differ = d > ATOL + RTOL * fabs(b);
                if (d > worst) {
                    worst = d;
                    worst_i = i;
                }
            }
        } else {
            differ = elem_i(got, i) != elem_i(want, i);
        }
        if (differ) {
            bad++;
            if (first < 0)
                first = i;
        }
    }
    if (!bad)
        return 0;
    if (want->dtype == NN_FLOAT)
        fmt(why, size,
                 "output %d %s: %lld of %lld elements differ; first at %lld: got %.9g want %.9g; worst |diff| %.3g at "
                 "%lld",
                 out, ws, (long long)bad, (long long)n, (long long)first, elem_f(got, first), elem_f(want, first),
                 worst, (long long)worst_i);
    else
        fmt(why, size, "output %d %s: %lld of %lld elements differ; first at %lld: got %lld want %lld", out, ws,
                 (long long)bad, (long long)n, (long long)first, (long long)elem_i(got, first),
                 (long long)elem_i(want, first));
    return 1;
}

/* Run one data set of a loaded graph whose original graph inputs are
 * inputs[0..n_in). Returns the outcome; why says what went wrong. */
static enum outcome run_set(cim_ctx *ctx, nn_graph *g, const int *inputs, int n_in, int all_const, const char *set,
                            char *why, size_t size)
{
    char path[1400];
    enum outcome res = PASSED;
    nn_value in0;
    memset(&in0, 0, sizeof in0);
    nn_value *outs = calloc((size_t)g->n_outputs + 1, sizeof *outs);
    assert_non_null(outs);
    int n_outs = 0;
    for (int i = 0; i < n_in; i++) {
        fmt(path, sizeof path, "%s/input_%d.pb", set, i);
        nn_value v;
        cim_status st = nn_onnx_load_tensor(ctx, path, &v);
        if (st != CIM_OK) {
            fmt(why, size, "%s", cim_ctx_errmsg(ctx));
            res = st == CIM_ERR_UNSUPPORTED ? SKIP_LOAD : FAILED;
            goto done;
        }
        nn_tensor *t = &g->t[inputs[i]];
        if (v.dtype != t->v.dtype || v.rank != t->v.rank) {
            fmt(why, size, "%s: does not match graph input '%s'", path, t->name);
            nn_value_free(ctx, &v);
            res = FAILED;
            goto done;
        }
        if (i == 0 && !all_const) { /* the runtime input: its shape now, its data at run */
            in0 = v;
            nn_value_free(ctx, &t->v);
            memcpy(t->v.dims, v.dims, sizeof v.dims);
            t->is_init = t->is_const = 0;
        } else { /* a constant, as in a deployed model */
            nn_value_free(ctx, &t->v);
            t->v = v;
            t->is_init = t->is_const = 1;
        }
    }
    g->n_inputs = all_const || n_in == 0 ? 0 : 1;
    cim_status st = nn_graph_infer(g);
    if (st != CIM_OK) {
        fmt(why, size, "infer: %s", cim_ctx_errmsg(ctx));
        res = st == CIM_ERR_UNSUPPORTED ? SKIP_UNSUPPORTED : FAILED;
        goto done;
    }
    if ((st = nn_graph_run(g, &in0, outs)) != CIM_OK) {
        fmt(why, size, "run: %s", cim_ctx_errmsg(ctx));
        res = st == CIM_ERR_UNSUPPORTED ? SKIP_UNSUPPORTED : FAILED;
        goto done;
    }
    n_outs = g->n_outputs;
    for (int o = 0; o < g->n_outputs; o++) {
        fmt(path, sizeof path, "%s/output_%d.pb", set, o);
        nn_value want;
        if ((st = nn_onnx_load_tensor(ctx, path, &want)) != CIM_OK) {
            fmt(why, size, "%s", cim_ctx_errmsg(ctx));
            res = st == CIM_ERR_UNSUPPORTED ? SKIP_LOAD : FAILED;
            goto done;
        }
        int differ = compare(&outs[o], &want, o, why, size);
        nn_value_free(ctx, &want);
        if (differ) {
            res = FAILED;
            goto done;
        }
    }
done:
    for (int o = 0; o < n_outs; o++)
        nn_value_free(ctx, &outs[o]);
    free(outs);
    nn_value_free(ctx, &in0);
    return res;
}

static int exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

static void run_one(cim_ctx *ctx, const char *root, result *r)
{
    char dir[1024], path[1200];
    fmt(dir, sizeof dir, "%s/%s", root, r->name);
    long bytes = dir_bytes(dir);
    if (bytes > SIZE_LIMIT) {
        r->outcome = SKIP_SIZE;
        fmt(r->why, sizeof r->why, "%ld bytes", bytes);
        return;
    }
    fmt(path, sizeof path, "%s/model.onnx", dir);
    nn_graph *g;
    cim_status st = nn_onnx_load(ctx, path, &g);
    if (st != CIM_OK) {
        r->outcome = st == CIM_ERR_UNSUPPORTED ? SKIP_LOAD : FAILED;
        fmt(r->why, sizeof r->why, "load: %s", cim_ctx_errmsg(ctx));
        return;
    }
    for (int k = 0; k < g->nn; k++)
        if (!nn_op_find(g->nodes[k].domain, g->nodes[k].op_type)) {
            r->outcome = SKIP_OP;
            fmt(r->why, sizeof r->why, "%s%s%s", g->nodes[k].domain, g->nodes[k].domain[0] ? "." : "",
                     g->nodes[k].op_type);
            nn_graph_free(g);
            return;
        }
    /* the original runtime inputs; all but the first become constants */
    int n_in = g->n_inputs, *inputs = calloc((size_t)n_in + 1, sizeof *inputs);
    assert_non_null(inputs);
    memcpy(inputs, g->inputs, (size_t)n_in * sizeof *inputs);
    r->outcome = PASSED;
    int sets = 0;
    for (int s = 0; r->outcome == PASSED; s++) {
        char set[1100];
        fmt(set, sizeof set, "%s/test_data_set_%d", dir, s);
        if (!exists(set))
            break;
        fmt(path, sizeof path, "%s/input_%d.pb", set, n_in);
        if (exists(path)) {
            r->outcome = FAILED;
            fmt(r->why, sizeof r->why, "%s: more input files than graph inputs (%d)", set, n_in);
            break;
        }
        r->outcome = run_set(ctx, g, inputs, n_in, 0, set, r->why, sizeof r->why);
        if (r->outcome == SKIP_UNSUPPORTED && n_in > 0) {
            /* an op that needs input 0 at inference (a shape, say): fold the
             * whole graph from constant inputs instead */
            r->why[0] = 0;
            r->outcome = run_set(ctx, g, inputs, n_in, 1, set, r->why, sizeof r->why);
            r->folded = 1;
        }
        if (r->outcome == FAILED) {
            char tmp[sizeof r->why];
            fmt(tmp, sizeof tmp, "test_data_set_%d: %s", s, r->why);
            memcpy(r->why, tmp, sizeof tmp);
        }
        sets++;
    }
    if (r->outcome == PASSED && sets == 0) {
        r->outcome = FAILED;
        fmt(r->why, sizeof r->why, "no test_data_set_0");
    }
    free(inputs);
    nn_graph_free(g);
}

static int by_name(const void *a, const void *b) { return strcmp(((const result *)a)->name, ((const result *)b)->name); }

static void test_conformance(void **state)
{
    (void)state;
    const char *root = getenv("CIMSIM_ONNX_TESTDATA");
    if (!root || !*root)
        root = DEFAULT_DATA;
    const char *filter = getenv("CIMSIM_CONFORMANCE_FILTER");
    int enforce = env_int("CIMSIM_CONFORMANCE_REQUIRED", 1) != 0 && !(filter && *filter);
    int verbose = env_int("CIMSIM_CONFORMANCE_VERBOSE", 0);
    DIR *d = opendir(root);
    if (!d) {
        if (enforce)
            fail_msg("%s: cannot open ONNX's test data (install libonnx-testdata)", root);
        skip();
    }
    size_t n = 0, cap = 1024;
    result *rs = calloc(cap, sizeof *rs);
    assert_non_null(rs);
    for (struct dirent *e; (e = readdir(d));) {
        if (strncmp(e->d_name, "test_", 5) != 0 || strlen(e->d_name) >= sizeof rs[0].name)
            continue;
        if (filter && *filter && !strstr(e->d_name, filter))
            continue;
        if (n == cap) {
            rs = realloc(rs, (cap *= 2) * sizeof *rs);
            assert_non_null(rs);
        }
        memset(&rs[n], 0, sizeof rs[n]);
        fmt(rs[n].name, sizeof rs[n].name, "%s", e->d_name);
        n++;
    }
    closedir(d);
    qsort(rs, n, sizeof *rs, by_name);

    counter c = {0};
    cim_ctx_options o;
    cim_ctx_options_default(&o);
    o.alloc = count_alloc;
    o.alloc_ud = &c;
    cim_ctx *ctx;
    assert_int_equal(cim_ctx_create(&o, &ctx), CIM_OK);
    int count[6] = {0};
    for (size_t i = 0; i < n; i++) {
        long live = c.live;
        run_one(ctx, root, &rs[i]);
        if (c.live != live && rs[i].outcome != FAILED) {
            fmt(rs[i].why, sizeof rs[i].why, "%ld blocks leaked", c.live - live);
            rs[i].outcome = FAILED;
        }
        count[rs[i].outcome]++;
    }
    cim_ctx_destroy(ctx);

    char list_path[1024];
    fmt(list_path, sizeof list_path, "%s/conformance.txt", CIMSIM_BUILD_DIR);
    FILE *lf = fopen(list_path, "w");
    printf("ONNX conformance (%s):\n", root);
    for (size_t i = 0; i < n; i++) {
        const result *r = &rs[i];
        if (r->outcome == PASSED || r->outcome == FAILED) {
            printf("ran %-60s ... %s%s%s%s\n", r->name, OUTCOME[r->outcome], r->folded ? " (inputs constant)" : "",
                   r->why[0] ? ": " : "", r->why);
            if (lf)
                fprintf(lf, "ran %s ... %s\n", r->name, OUTCOME[r->outcome]);
        } else if (verbose) {
            printf("    %-60s ... %s: %s\n", r->name, OUTCOME[r->outcome], r->why);
        }
    }
    int skipped = count[SKIP_SIZE] + count[SKIP_LOAD] + count[SKIP_OP] + count[SKIP_UNSUPPORTED];
    char summary[400];
    fmt(summary, sizeof summary,
             "%zu tests: %d ran, %d passed, %d failed, %d skipped (%d operator missing, %d variant unsupported, "
             "%d model not loadable, %d data too large)",
             n, count[PASSED] + count[FAILED], count[PASSED], count[FAILED], skipped, count[SKIP_OP],
             count[SKIP_UNSUPPORTED], count[SKIP_LOAD], count[SKIP_SIZE]);
    printf("%s\n", summary);
    if (lf) {
        fprintf(lf, "%s\n", summary);
        fclose(lf);
    }

    int missing = 0;
    for (size_t k = 0; k < sizeof REQUIRED / sizeof REQUIRED[0]; k++) {
        const result *r = NULL;
        for (size_t i = 0; i < n && !r; i++)
            if (strcmp(rs[i].name, REQUIRED[k]) == 0)
                r = &rs[i];
        if (filter && *filter && !r)
            continue;
        if (!r || r->outcome != PASSED) {
            printf("required test %s did not pass: %s%s%s\n", REQUIRED[k], r ? OUTCOME[r->outcome] : "not found",
                   r && r->why[0] ? ": " : "", r ? r->why : "");
            missing++;
        }
    }
    free(rs);
    if (count[FAILED])
        fail_msg("%d ONNX conformance tests failed (listed above)", count[FAILED]);
    if (missing && enforce)
        fail_msg("%d required ONNX conformance tests did not run and pass (CIMSIM_CONFORMANCE_REQUIRED=0 only "
                 "reports them)", missing);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_conformance)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
