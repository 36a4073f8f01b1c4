/* test_data_dataset.c: datasets (src/data/dataset.h): Fashion-MNIST test and
 * train splits, the CIMSIM_FASHION_MNIST_DIR override, NPY inputs with and
 * without labels (good, mismatched, wrong dtype), preprocessing from model
 * metadata (exact float32 values against numpy, shape fitting, bad metadata),
 * and failed allocations without leaks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "testutil.h"
#include "data/dataset.h"

#define PATH_LEN 600
#define FIXTURES CIMSIM_TEST_DATA "/idx"
#define ENV "CIMSIM_FASHION_MNIST_DIR"

typedef tu_fx fx; /* the counting, failing allocator and a fresh directory (testutil.h) */

static int setup(void **state)
{
    unsetenv(ENV);
    return tu_fx_setup(state, "ds");
}

static int teardown(void **state)
{
    unsetenv(ENV);
    return tu_fx_teardown(state);
}

static void fpath(const fx *f, char *buf, const char *name)
{
    snprintf(buf, PATH_LEN, "%s/%s", f->dir, name);
}

/* Opening must fail with `want`, *out NULL, message containing both needles. */
static void expect_open_fail(fx *f, const char *spec, const char *labels, cim_status want,
                             const char *n1, const char *n2)
{
    nn_dataset *ds = (nn_dataset *)f; /* anything non-NULL */
    cim_status st = nn_dataset_open(f->ctx, spec, labels, &ds);
    const char *msg = cim_ctx_errmsg(f->ctx);
    if (st != want)
        fail_msg("%s: status %d, expected %d (message \"%s\")", spec, st, want, msg);
    assert_null(ds);
    if ((n1 && !strstr(msg, n1)) || (n2 && !strstr(msg, n2)))
        fail_msg("message \"%s\" lacks \"%s\" or \"%s\"", msg, n1, n2 ? n2 : "");
}

static void check_fmnist(fx *f, const char *spec, int64_t count, int first_label)
{
    nn_dataset *ds;
    cim_status st = nn_dataset_open(f->ctx, spec, NULL, &ds);
    if (st)
        fail_msg("%s (is the Debian package dataset-fashion-mnist installed?)", cim_ctx_errmsg(f->ctx));
    assert_int_equal(nn_dataset_count(ds), count);
    assert_int_equal(nn_dataset_rank(ds), 2);
    assert_int_equal(nn_dataset_dims(ds)[0], 28);
    assert_int_equal(nn_dataset_dims(ds)[1], 28);
    assert_int_equal(nn_dataset_dtype(ds), NN_UINT8);
    assert_true(nn_dataset_has_labels(ds));
    assert_int_equal(nn_dataset_label(ds, 0), first_label);
    assert_int_equal(nn_dataset_label(ds, -1), -1);
    assert_int_equal(nn_dataset_label(ds, count), -1);
    int64_t hist[10] = {0};
    for (int64_t i = 0; i < count; i++) {
        int32_t l = nn_dataset_label(ds, i);
        assert_true(l >= 0 && l < 10);
        hist[l]++;
    }
    for (int c = 0; c < 10; c++)
        assert_int_equal(hist[c], count / 10);
    nn_dataset_close(ds);
}

static void test_fmnist_splits(void **state)
{
    fx *f = *state;
    check_fmnist(f, "fashion-mnist", 10000, 9);
    check_fmnist(f, "fashion-mnist:test", 10000, 9);
    check_fmnist(f, "fashion-mnist:train", 60000, 9);
    nn_dataset *ds;
    assert_int_equal(nn_dataset_open(f->ctx, "fashion-mnist", NULL, &ds), CIM_OK);
    assert_string_equal(nn_dataset_name(ds), "fashion-mnist:test");
    const uint8_t *px = nn_dataset_data(ds);
    assert_int_equal(px[14 * 28 + 14], 110); /* image 0, numpy's value */
    assert_int_equal(px[784 + 0], 0);
    nn_dataset_close(ds);

    expect_open_fail(f, "fashion-mnist:valid", NULL, CIM_ERR_ARG, "unknown split 'valid'", NULL);
    expect_open_fail(f, "fashion-mnist", "labels.npy", CIM_ERR_ARG, "only goes with an .npy", NULL);
    expect_open_fail(f, "", NULL, CIM_ERR_ARG, "no dataset", NULL);
}

static void test_fmnist_env_dir(void **state)
{
    fx *f = *state;
    setenv(ENV, FIXTURES, 1);
    nn_dataset *ds;
    assert_int_equal(nn_dataset_open(f->ctx, "fashion-mnist:test", NULL, &ds), CIM_OK);
    assert_int_equal(nn_dataset_count(ds), 3);
    assert_int_equal(nn_dataset_dims(ds)[0], 4);
    assert_int_equal(nn_dataset_dims(ds)[1], 5);
    assert_int_equal(nn_dataset_label(ds, 0), 7);
    assert_int_equal(nn_dataset_label(ds, 2), 255);
    const uint8_t *px = nn_dataset_data(ds);
    assert_int_equal(px[20 + 2 * 5 + 3], (60 + 26 + 21) % 256); /* image 1, row 2, col 3 */
    nn_dataset_close(ds);
    /* No train files there: an I/O error naming the path. */
    expect_open_fail(f, "fashion-mnist:train", NULL, CIM_ERR_IO,
                     FIXTURES "/train-images-idx3-ubyte.gz", "No such file");

    /* Uncompressed files (no .gz) are found too; a label count that differs
     * from the image count is a shape error naming both files. */
    char p[PATH_LEN];
    unsigned char img[16 + 2 * 4] = {0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2, 1, 2, 3, 4, 5, 6, 7, 8};
    unsigned char lab[8 + 3] = {0, 0, 8, 1, 0, 0, 0, 3, 1, 2, 3};
    fpath(f, p, "t10k-images-idx3-ubyte");
    tu_write_file(p, img, sizeof img);
    fpath(f, p, "t10k-labels-idx1-ubyte");
    tu_write_file(p, lab, sizeof lab);
    setenv(ENV, f->dir, 1);
    expect_open_fail(f, "fashion-mnist", NULL, CIM_ERR_SHAPE, "3 labels for the 2 images",
                     "t10k-labels-idx1-ubyte");
    lab[7] = 2;
    tu_write_file(p, lab, sizeof lab - 1);
    assert_int_equal(nn_dataset_open(f->ctx, "fashion-mnist", NULL, &ds), CIM_OK);
    assert_int_equal(nn_dataset_count(ds), 2);
    assert_int_equal(nn_dataset_label(ds, 1), 2);
    nn_dataset_close(ds);
    /* A malformed labels file: FORMAT naming it. */
    tu_write_file(p, lab, sizeof lab - 2);
    expect_open_fail(f, "fashion-mnist", NULL, CIM_ERR_FORMAT, p, "labels: data: truncated");
}

/* An int64 NPY written by hand (the project's writer has no int64). */
static void write_i64_npy(const char *path, const int64_t *v, int n)
{
    char hdr[128];
    int hl = snprintf(hdr, sizeof hdr, "{'descr': '<i8', 'fortran_order': False, 'shape': (%d,), }", n);
    unsigned char buf[256 + 8 * 16];
    size_t total = 10 + 118; /* header padded to 128 bytes in all */
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    buf[8] = 118;
    buf[9] = 0;
    memset(buf + 10, ' ', 118);
    memcpy(buf + 10, hdr, (size_t)hl);
    buf[127] = '\n';
    memcpy(buf + total, v, (size_t)n * 8);
    tu_write_file(path, buf, total + (size_t)n * 8);
}

static void test_npy_inputs(void **state)
{
    fx *f = *state;
    char x[PATH_LEN], y[PATH_LEN], bad[PATH_LEN];
    fpath(f, x, "x.npy");
    fpath(f, y, "y.npy");
    float xf[4 * 2 * 3];
    for (int i = 0; i < 24; i++)
        xf[i] = (float)i * 0.5f - 3.0f;
    const int64_t xs[3] = {4, 2, 3};
    assert_int_equal(cim_npy_write(f->ctx, x, CIM_FLOAT32, 3, xs, xf), CIM_OK);

    /* No labels. */
    nn_dataset *ds;
    assert_int_equal(nn_dataset_open(f->ctx, x, NULL, &ds), CIM_OK);
    assert_int_equal(nn_dataset_count(ds), 4);
    assert_int_equal(nn_dataset_rank(ds), 2);
    assert_int_equal(nn_dataset_dims(ds)[0], 2);
    assert_int_equal(nn_dataset_dims(ds)[1], 3);
    assert_int_equal(nn_dataset_dtype(ds), NN_FLOAT);
    assert_false(nn_dataset_has_labels(ds));
    assert_int_equal(nn_dataset_label(ds, 0), -1);
    assert_string_equal(nn_dataset_name(ds), x);
    nn_dataset_close(ds);

    /* int32 and uint8 labels. */
    const int32_t l32[4] = {3, 1, 4, 1};
    const int64_t ls[1] = {4};
    assert_int_equal(cim_npy_write(f->ctx, y, CIM_INT32, 1, ls, l32), CIM_OK);
    assert_int_equal(nn_dataset_open(f->ctx, x, y, &ds), CIM_OK);
    assert_true(nn_dataset_has_labels(ds));
    for (int i = 0; i < 4; i++)
        assert_int_equal(nn_dataset_label(ds, i), l32[i]);
    nn_dataset_close(ds);
    const uint8_t l8[4] = {200, 0, 9, 5};
    assert_int_equal(cim_npy_write(f->ctx, y, CIM_UINT8, 1, ls, l8), CIM_OK);
    assert_int_equal(nn_dataset_open(f->ctx, x, y, &ds), CIM_OK);
    assert_int_equal(nn_dataset_label(ds, 0), 200);
    assert_int_equal(nn_dataset_label(ds, 3), 5);
    nn_dataset_close(ds);

    /* int64 labels, numpy's default integer type. */
    const int64_t l64[4] = {9, 8, 7, 0};
    write_i64_npy(y, l64, 4);
#ifdef CIM_NPY_HAS_INT64
    assert_int_equal(nn_dataset_open(f->ctx, x, y, &ds), CIM_OK);
    assert_int_equal(nn_dataset_label(ds, 1), 8);
    nn_dataset_close(ds);
    const int64_t l64bad[4] = {9, 8, (int64_t)1 << 40, 0};
    write_i64_npy(y, l64bad, 4);
    expect_open_fail(f, x, y, CIM_ERR_FORMAT, "label 2: 1099511627776 is not a class index", y);
#else
    expect_open_fail(f, x, y, CIM_ERR_FORMAT, "<i8", y); /* the NPY reader's own message */
#endif

    /* Mismatched count, wrong rank, wrong dtype, negative class. */
    const int64_t ls3[1] = {3};
    assert_int_equal(cim_npy_write(f->ctx, y, CIM_INT32, 1, ls3, l32), CIM_OK);
    expect_open_fail(f, x, y, CIM_ERR_SHAPE, "3 labels for the 4 samples", y);
    const int64_t ls22[2] = {2, 2};
    assert_int_equal(cim_npy_write(f->ctx, y, CIM_INT32, 2, ls22, l32), CIM_OK);
    expect_open_fail(f, x, y, CIM_ERR_SHAPE, "rank 1", y);
    assert_int_equal(cim_npy_write(f->ctx, y, CIM_FLOAT32, 1, ls, xf), CIM_OK);
    expect_open_fail(f, x, y, CIM_ERR_SHAPE, "not float32", y);
    assert_int_equal(cim_npy_write(f->ctx, y, CIM_INT8, 1, ls, l8), CIM_OK);
    expect_open_fail(f, x, y, CIM_ERR_SHAPE, "not int8", y);
    const int32_t lneg[4] = {1, 2, -1, 3};
    assert_int_equal(cim_npy_write(f->ctx, y, CIM_INT32, 1, ls, lneg), CIM_OK);
    expect_open_fail(f, x, y, CIM_ERR_FORMAT, "label 2: -1 is not a class index", y);

    /* Inputs of a wrong dtype, a scalar, missing files. */
    fpath(f, bad, "bad.npy");
    assert_int_equal(cim_npy_write(f->ctx, bad, CIM_INT32, 1, ls, l32), CIM_OK);
    expect_open_fail(f, bad, NULL, CIM_ERR_SHAPE, "float32 or uint8, not int32", bad);
    assert_int_equal(cim_npy_write(f->ctx, bad, CIM_FLOAT32, 0, NULL, xf), CIM_OK);
    expect_open_fail(f, bad, NULL, CIM_ERR_SHAPE, "scalar", bad);
    fpath(f, bad, "missing.npy");
    expect_open_fail(f, bad, NULL, CIM_ERR_IO, bad, NULL);
    expect_open_fail(f, x, bad, CIM_ERR_IO, bad, NULL);
    expect_open_fail(f, "fashion-mnistx", NULL, CIM_ERR_IO, "fashion-mnistx", NULL);
}

/* Known pixels through the Fashion-MNIST normalization; expected bits from
 * numpy: ((np.float32(p) * s) - m) / d with float32 s, m, d. */
static void test_preprocess_values(void **state)
{
    fx *f = *state;
    nn_dataset *ds;
    assert_int_equal(nn_dataset_open(f->ctx, "fashion-mnist", NULL, &ds), CIM_OK);
    char *keys[4] = {"cimsim.input_scale", "cimsim.input_mean", "cimsim.input_std", "cimsim.input_layout"};
    char *vals[4] = {"0.00392156862745098", "0.2860", " 0.3530 ", "NCHW"};
    const int64_t in[4] = {-1, 1, 28, 28};
    nn_preproc pp;
    assert_int_equal(nn_preproc_init(ds, "m.onnx", keys, vals, 4, NN_FLOAT, in, 4, &pp), CIM_OK);
    assert_int_equal(pp.channels, 1);
    assert_int_equal(pp.sample_elems, 784);
    float *buf = malloc(2 * 784 * sizeof *buf);
    assert_non_null(buf);
    assert_int_equal(nn_dataset_fill(ds, &pp, 0, 2, buf), CIM_OK);
    const uint8_t *px = nn_dataset_data(ds);
    assert_int_equal(px[0], 0);
    assert_true(buf[0] == -0x1.9ed252p-1f);             /* pixel 0 */
    assert_true(buf[14 * 28 + 14] == 0x1.a5b43ap-2f);   /* pixel 110 */
    assert_true(buf[20 * 28 + 10] == 0x1.2ddbecp-1f);   /* pixel 126 */
    /* Every pixel of both images: the same formula, and monotonic in the pixel. */
    for (int i = 0; i < 2 * 784; i++) {
        float v = (float)px[i] * pp.scale;
        v = (v - 0.2860f) / 0.3530f;
        assert_true(buf[i] == v);
    }
    /* uint8 model input: the raw codes; other batch spellings fit as well. */
    uint8_t *raw = malloc(3 * 784);
    assert_non_null(raw);
    const int64_t in3[3] = {1, 28, 28};
    assert_int_equal(nn_preproc_init(ds, "m.onnx", keys, vals, 4, NN_UINT8, in3, 3, &pp), CIM_OK);
    assert_int_equal(nn_dataset_fill(ds, &pp, 9997, 3, raw), CIM_OK);
    assert_memory_equal(raw, px + 9997 * 784, 3 * 784);
    /* Out of range. */
    assert_int_equal(nn_dataset_fill(ds, &pp, 9998, 3, raw), CIM_ERR_ARG);
    assert_int_equal(nn_dataset_fill(ds, &pp, -1, 1, raw), CIM_ERR_ARG);
    assert_int_equal(nn_dataset_fill(ds, &pp, 10000, 0, raw), CIM_OK);
    /* No metadata: scale 1, mean 0, std 1. */
    assert_int_equal(nn_preproc_init(ds, "m.onnx", NULL, NULL, 0, NN_FLOAT, in, 4, &pp), CIM_OK);
    assert_int_equal(nn_dataset_fill(ds, &pp, 0, 1, buf), CIM_OK);
    assert_true(buf[14 * 28 + 14] == 110.0f);
    free(raw);
    free(buf);
    nn_dataset_close(ds);
}

/* Three channels: per-channel mean and std, NCHW order. */
static void test_preprocess_channels(void **state)
{
    fx *f = *state;
    char x[PATH_LEN];
    fpath(f, x, "rgb.npy");
    uint8_t px[2 * 3 * 1 * 3];
    for (int i = 0; i < 18; i++)
        px[i] = (uint8_t)(i % 3 == 0 ? 0 : i % 3 == 1 ? 7 : 200);
    const int64_t xs[4] = {2, 3, 1, 3};
    assert_int_equal(cim_npy_write(f->ctx, x, CIM_UINT8, 4, xs, px), CIM_OK);
    nn_dataset *ds;
    assert_int_equal(nn_dataset_open(f->ctx, x, NULL, &ds), CIM_OK);
    char *keys[3] = {"cimsim.input_scale", "cimsim.input_mean", "cimsim.input_std"};
    char *vals[3] = {"0.1", "0.5,0.25,-1", "2, 0.5, 4"};
    const int64_t in[4] = {2, 3, 1, 3};
    nn_preproc pp;
    assert_int_equal(nn_preproc_init(ds, "rgb.onnx", keys, vals, 3, NN_FLOAT, in, 4, &pp), CIM_OK);
    assert_int_equal(pp.channels, 3);
    assert_int_equal(pp.plane, 3);
    float out[18];
    assert_int_equal(nn_dataset_fill(ds, &pp, 0, 2, out), CIM_OK);
    static const float want[3][3] = { /* [channel][pixel 0, 7, 200], from numpy */
        {-0x1p-2f, 0x1.999998p-4f, 0x1.38p+3f},
        {-0x1p-1f, 0x1.cccccc0p-1f, 0x1.3cp+5f},
        {0x1p-2f, 0x1.b33334p-2f, 0x1.5p+2f},
    };
    for (int s = 0; s < 2; s++)
        for (int c = 0; c < 3; c++)
            for (int k = 0; k < 3; k++) {
                int i = s * 9 + c * 3 + k;
                int p = px[i] == 0 ? 0 : px[i] == 7 ? 1 : 2;
                if (out[i] != want[c][p])
                    fail_msg("sample %d channel %d pixel %d: %a, want %a", s, c, k, (double)out[i],
                             (double)want[c][p]);
            }
    /* Wrong channel counts and bad numbers name the key. */
    vals[1] = "0.5,0.25";
    assert_int_equal(nn_preproc_init(ds, "rgb.onnx", keys, vals, 3, NN_FLOAT, in, 4, &pp), CIM_ERR_FORMAT);
    assert_non_null(strstr(cim_ctx_errmsg(f->ctx), "rgb.onnx: metadata 'cimsim.input_mean': 2 values for an input of 3 channels"));
    vals[1] = "0.5,0.25,-1";
    vals[2] = "2,0,4";
    assert_int_equal(nn_preproc_init(ds, "rgb.onnx", keys, vals, 3, NN_FLOAT, in, 4, &pp), CIM_ERR_FORMAT);
    assert_non_null(strstr(cim_ctx_errmsg(f->ctx), "'cimsim.input_std': channel 1 is 0"));
    nn_dataset_close(ds);
}

static void expect_pp_fail(fx *f, nn_dataset *ds, char **keys, char **vals, int n, nn_dtype dt,
                           const int64_t *dims, int rank, cim_status want, const char *needle)
{
    nn_preproc pp;
    cim_status st = nn_preproc_init(ds, "m.onnx", keys, vals, n, dt, dims, rank, &pp);
    const char *msg = cim_ctx_errmsg(f->ctx);
    if (st != want)
        fail_msg("%s: status %d, expected %d (message \"%s\")", needle, st, want, msg);
    if (!strstr(msg, "m.onnx") || !strstr(msg, needle))
        fail_msg("message \"%s\" lacks \"%s\"", msg, needle);
}

static void test_preprocess_errors(void **state)
{
    fx *f = *state;
    setenv(ENV, FIXTURES, 1); /* 3 images of 4x5 */
    nn_dataset *ds;
    assert_int_equal(nn_dataset_open(f->ctx, "fashion-mnist", NULL, &ds), CIM_OK);
    const int64_t ok4[4] = {-1, 1, 4, 5}, flat[2] = {-1, 20}, swapped[4] = {-1, 1, 5, 4};
    const int64_t sym[4] = {-1, 1, -1, 5}, three[4] = {-1, 3, 4, 5};
    expect_pp_fail(f, ds, NULL, NULL, 0, NN_FLOAT, flat, 2, CIM_ERR_SHAPE,
                   "input shape [N,20] does not fit the samples of fashion-mnist:test, shape [4,5]");
    expect_pp_fail(f, ds, NULL, NULL, 0, NN_FLOAT, swapped, 4, CIM_ERR_SHAPE, "[N,1,5,4]");
    expect_pp_fail(f, ds, NULL, NULL, 0, NN_FLOAT, sym, 4, CIM_ERR_SHAPE, "dimension 2 is not known");
    expect_pp_fail(f, ds, NULL, NULL, 0, NN_FLOAT, three, 4, CIM_ERR_SHAPE, "[N,3,4,5]");
    expect_pp_fail(f, ds, NULL, NULL, 0, NN_INT8, ok4, 4, CIM_ERR_UNSUPPORTED, "int8");

    char *keys[2] = {"cimsim.input_scale", "cimsim.input_mean"};
    char *vals[2] = {"abc", "0"};
    expect_pp_fail(f, ds, keys, vals, 2, NN_FLOAT, ok4, 4, CIM_ERR_FORMAT, "metadata 'cimsim.input_scale'");
    vals[0] = "1,2";
    expect_pp_fail(f, ds, keys, vals, 2, NN_FLOAT, ok4, 4, CIM_ERR_FORMAT, "'1,2' is not one number");
    vals[0] = "inf";
    expect_pp_fail(f, ds, keys, vals, 2, NN_FLOAT, ok4, 4, CIM_ERR_FORMAT, "'cimsim.input_scale'");
    vals[0] = "1";
    vals[1] = "0.5,";
    expect_pp_fail(f, ds, keys, vals, 2, NN_FLOAT, ok4, 4, CIM_ERR_FORMAT, "'cimsim.input_mean'");
    vals[1] = "0.5x";
    expect_pp_fail(f, ds, keys, vals, 2, NN_FLOAT, ok4, 4, CIM_ERR_FORMAT, "'cimsim.input_mean'");
    vals[1] = "";
    expect_pp_fail(f, ds, keys, vals, 2, NN_FLOAT, ok4, 4, CIM_ERR_FORMAT, "'cimsim.input_mean'");
    char *lk[1] = {"cimsim.input_layout"}, *lv[1] = {"NHWC"};
    expect_pp_fail(f, ds, lk, lv, 1, NN_FLOAT, ok4, 4, CIM_ERR_UNSUPPORTED, "'cimsim.input_layout'");
    /* Unknown keys are ignored. */
    char *uk[1] = {"producer.note"}, *uv[1] = {"anything"};
    nn_preproc pp;
    assert_int_equal(nn_preproc_init(ds, "m.onnx", uk, uv, 1, NN_FLOAT, ok4, 4, &pp), CIM_OK);
    nn_dataset_close(ds);

    /* Float samples cannot feed a uint8 input; they are copied to a float one. */
    char x[PATH_LEN];
    fpath(f, x, "f.npy");
    const float xf[2 * 4 * 5] = {1.5f, -2.25f};
    const int64_t xs[3] = {2, 4, 5};
    assert_int_equal(cim_npy_write(f->ctx, x, CIM_FLOAT32, 3, xs, xf), CIM_OK);
    assert_int_equal(nn_dataset_open(f->ctx, x, NULL, &ds), CIM_OK);
    expect_pp_fail(f, ds, NULL, NULL, 0, NN_UINT8, ok4, 4, CIM_ERR_SHAPE, "uint8 but the samples");
    char *sk[1] = {"cimsim.input_scale"}, *sv[1] = {"100"};
    assert_int_equal(nn_preproc_init(ds, "m.onnx", sk, sv, 1, NN_FLOAT, ok4, 4, &pp), CIM_OK);
    float out[40];
    assert_int_equal(nn_dataset_fill(ds, &pp, 0, 2, out), CIM_OK);
    assert_memory_equal(out, xf, sizeof xf);
    nn_dataset_close(ds);
}

/* Every allocation failing in turn while opening: NOMEM, *out NULL, no leak. */
static void test_alloc_failures(void **state)
{
    fx *f = *state;
    char x[PATH_LEN], y[PATH_LEN];
    fpath(f, x, "x.npy");
    fpath(f, y, "y.npy");
    const uint8_t px[3 * 4] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    const int64_t xs[2] = {3, 4}, ys[1] = {3};
    const int32_t l[3] = {0, 1, 2};
    assert_int_equal(cim_npy_write(f->ctx, x, CIM_UINT8, 2, xs, px), CIM_OK);
    assert_int_equal(cim_npy_write(f->ctx, y, CIM_INT32, 1, ys, l), CIM_OK);
    setenv(ENV, FIXTURES, 1);
    long base = f->live;
    for (int which = 0; which < 2; which++) {
        int ok = 0;
        for (long k = 1; k < 100 && !ok; k++) {
            f->calls = 0;
            f->fail_at = k;
            nn_dataset *ds = NULL;
            cim_status st = which ? nn_dataset_open(f->ctx, "fashion-mnist", NULL, &ds)
                                  : nn_dataset_open(f->ctx, x, y, &ds);
            f->fail_at = 0;
            if (st == CIM_OK) {
                ok = 1;
                assert_int_equal(nn_dataset_label(ds, 2), which ? 255 : 2);
                nn_dataset_close(ds);
            } else {
                assert_int_equal(st, CIM_ERR_NOMEM);
                assert_null(ds);
            }
            assert_int_equal(f->live, base);
        }
        assert_true(ok);
    }
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_fmnist_splits),     T(test_fmnist_env_dir),      T(test_npy_inputs),
        T(test_preprocess_values), T(test_preprocess_channels), T(test_preprocess_errors),
        T(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
