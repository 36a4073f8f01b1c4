/* test_nn_eval.c: whole networks (include/cimsim/net.h) on the bundled models.
 *
 * - An ideal crossbar (tests/data/arch/ideal.yaml: no slicing loss, an ADC
 *   that cannot saturate, no noise) must reproduce the digital reference bit
 *   for bit: the same top-1 on every sample and zero error in every layer.
 * - With noise on, results are identical for any batch size and thread count.
 * - Bad inputs (missing or malformed model, missing dataset, wrong shapes)
 *   fail with a status and a message naming the file. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "cimsim/cimsim.h"
#include "testutil.h"

#define MODELS CIMSIM_TEST_DATA "/../../models/"
#define IDEAL CIMSIM_TEST_DATA "/arch/ideal.yaml"

static const char *const models[] = {"lenet5", "resnet8", "mobilenetv2", "transformer", "resnet8_qop"};

static int model_path(const char *name, char *buf, size_t size)
{
    snprintf(buf, size, MODELS "%s.onnx", name);
    return tu_file_exists(buf);
}

static void eval(cim_ctx *ctx, cim_net *net, const char *arch_spec, double noise, int batch, uint64_t limit,
                 cim_eval_result *r)
{
    cim_arch arch;
    assert_int_equal(cim_arch_load(ctx, arch_spec, &arch), CIM_OK);
    tu_arch_noise(&arch, noise, 0);
    cim_eval_options o;
    cim_eval_options_default(&o);
    o.batch = batch;
    o.limit = limit;
    cim_status st = cim_net_eval(ctx, net, &arch, "fashion-mnist:test", &o, r);
    if (st != CIM_OK)
        fail_msg("eval: %s", cim_ctx_errmsg(ctx));
}

static void test_ideal_is_exact(void **state)
{
    (void)state;
    cim_ctx *ctx = tu_ctx();
    int found = 0;
    for (size_t m = 0; m < sizeof models / sizeof models[0]; m++) {
        char path[1024];
        if (!model_path(models[m], path, sizeof path))
            continue;
        found++;
        cim_net *net = NULL;
        if (cim_net_load(ctx, path, &net) != CIM_OK)
            fail_msg("%s: %s", path, cim_ctx_errmsg(ctx));
        cim_eval_result r;
        eval(ctx, net, IDEAL, 0, 16, 48, &r);
        printf("%-12s ideal: %llu samples, reference %llu correct, analog %llu, agree %llu, %d layers\n",
               models[m], (unsigned long long)r.samples, (unsigned long long)r.ref_correct,
               (unsigned long long)r.analog_correct, (unsigned long long)r.agree, r.n_layers);
        assert_int_equal(r.samples, 48);
        assert_true(r.n_layers >= 1);
        assert_int_equal(r.agree, r.samples);
        assert_int_equal(r.analog_correct, r.ref_correct);
        assert_true(r.ref_correct >= 30); /* a trained model, not noise */
        assert_int_equal(r.totals.saturations - r.totals.saturations_recovery, r.totals.saturations);
        assert_int_equal(r.totals.true_clips, 0);
        uint64_t compared = 0;
        for (int l = 0; l < r.n_layers; l++) {
            if (r.layers[l].abs_err_sum != 0.0)
                fail_msg("%s layer %s: error %g with an ideal crossbar", models[m], r.layers[l].name,
                         r.layers[l].abs_err_sum);
            compared += r.layers[l].err_count;
            assert_true(r.layers[l].macs > 0);
        }
        assert_true(compared > 0);
        cim_eval_result_free(ctx, &r);
        cim_net_free(net);
    }
    assert_true(found >= 1);
    cim_ctx_destroy(ctx);
}

static void same_result(const cim_eval_result *a, const cim_eval_result *b)
{
    assert_int_equal(a->samples, b->samples);
    assert_int_equal(a->analog_correct, b->analog_correct);
    assert_int_equal(a->agree, b->agree);
    assert_int_equal(a->n_layers, b->n_layers);
    assert_memory_equal(&a->totals, &b->totals, sizeof a->totals);
    for (int l = 0; l < a->n_layers; l++)
        assert_true(a->layers[l].abs_err_sum == b->layers[l].abs_err_sum);
}

static void test_noise_batch_threads(void **state)
{
    (void)state;
    char path[1024];
    if (!model_path("lenet5", path, sizeof path))
        skip();
    cim_ctx *ctx = tu_ctx();
    cim_net *net = NULL;
    assert_int_equal(cim_net_load(ctx, path, &net), CIM_OK);
    cim_eval_result a, b, c;
    eval(ctx, net, "raella", 0.08, 32, 40, &a);
    eval(ctx, net, "raella", 0.08, 7, 40, &b);
    same_result(&a, &b);
    assert_int_equal(cim_ctx_set_threads(ctx, 1), CIM_OK);
    eval(ctx, net, "raella", 0.08, 40, 40, &c);
    same_result(&a, &c);
    /* the noise does something: some layer's outputs differ from the reference */
    double err = 0;
    for (int l = 0; l < a.n_layers; l++)
        err += a.layers[l].abs_err_sum;
    assert_true(err > 0);
    cim_eval_result_free(ctx, &a);
    cim_eval_result_free(ctx, &b);
    cim_eval_result_free(ctx, &c);
    cim_net_free(net);
    cim_ctx_destroy(ctx);
}

/* analog_only skips the reference: the analog top-1 and every counter are
 * those of the full evaluation, no agreement or layer error is reported, and
 * a dataset without labels is refused. */
static void test_analog_only(void **state)
{
    (void)state;
    char path[1024];
    if (!model_path("lenet5", path, sizeof path))
        skip();
    cim_ctx *ctx = tu_ctx();
    cim_net *net = NULL;
    assert_int_equal(cim_net_load(ctx, path, &net), CIM_OK);
    cim_arch arch;
    assert_int_equal(cim_arch_load(ctx, "raella", &arch), CIM_OK);
    tu_arch_noise(&arch, 0.08, 0);
    cim_eval_options o;
    cim_eval_options_default(&o);
    o.batch = 16;
    o.limit = 40;
    cim_eval_result full, only;
    assert_int_equal(cim_net_eval(ctx, net, &arch, "fashion-mnist:test", &o, &full), CIM_OK);
    o.analog_only = 1;
    assert_int_equal(cim_net_eval(ctx, net, &arch, "fashion-mnist:test", &o, &only), CIM_OK);
    assert_true(full.has_reference);
    assert_false(only.has_reference);
    assert_int_equal(only.samples, full.samples);
    assert_int_equal(only.analog_correct, full.analog_correct);
    assert_true(full.ref_correct > 0);
    assert_int_equal(only.ref_correct, 0);
    assert_int_equal(only.agree, 0);
    assert_memory_equal(&only.totals, &full.totals, sizeof only.totals);
    for (int l = 0; l < only.n_layers; l++)
        assert_int_equal(only.layers[l].err_count, 0);
    cim_eval_result_free(ctx, &full);
    cim_eval_result_free(ctx, &only);
    /* no labels: refused, naming the dataset */
    char npy[600];
    tu_path(npy, sizeof npy, "nolabels.npy");
    int64_t shape[4] = {4, 1, 28, 28};
    static uint8_t px[4 * 28 * 28];
    assert_int_equal(cim_npy_write(ctx, npy, CIM_UINT8, 4, shape, px), CIM_OK);
    assert_int_equal(cim_net_eval(ctx, net, &arch, npy, &o, &only), CIM_ERR_ARG);
    assert_non_null(strstr(cim_ctx_errmsg(ctx), "needs labels"));
    o.analog_only = 0; /* the same file evaluates without analog_only */
    assert_int_equal(cim_net_eval(ctx, net, &arch, npy, &o, &only), CIM_OK);
    cim_eval_result_free(ctx, &only);
    cim_net_free(net);
    cim_ctx_destroy(ctx);
}

static void expect_load_error(cim_ctx *ctx, const char *path, cim_status want)
{
    cim_net *net = (cim_net *)1;
    cim_status st = cim_net_load(ctx, path, &net);
    if (st != want)
        fail_msg("%s: status %d, expected %d (%s)", path, (int)st, (int)want, cim_ctx_errmsg(ctx));
    assert_null(net);
    if (!strstr(cim_ctx_errmsg(ctx), path))
        fail_msg("message '%s' does not name %s", cim_ctx_errmsg(ctx), path);
}

static void test_bad_inputs(void **state)
{
    (void)state;
    cim_ctx *ctx = tu_ctx();
    char path[1024], bad[600];
    expect_load_error(ctx, "/nonexistent/model.onnx", CIM_ERR_IO);
    tu_path(bad, sizeof bad, "garbage.onnx");
    tu_write_file(bad, "this is not protobuf\xff\xff\xff\xff", 24);
    expect_load_error(ctx, bad, CIM_ERR_FORMAT);
    if (!model_path("lenet5", path, sizeof path)) {
        cim_ctx_destroy(ctx);
        skip();
    }
    /* truncated copies of a real model */
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static unsigned char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    assert_true(n > 1000);
    tu_path(bad, sizeof bad, "truncated.onnx");
    for (size_t cut = 1; cut < n; cut += n / 7) {
        tu_write_file(bad, buf, cut);
        cim_net *net = NULL;
        cim_status st = cim_net_load(ctx, bad, &net);
        assert_int_not_equal(st, CIM_OK);
        assert_null(net);
    }
    /* a dataset that does not exist, an .npy of the wrong shape, an unknown preset */
    cim_net *net = NULL;
    assert_int_equal(cim_net_load(ctx, path, &net), CIM_OK);
    cim_arch arch;
    assert_int_equal(cim_arch_load(ctx, "raella", &arch), CIM_OK);
    cim_eval_result r;
    cim_status st = cim_net_eval(ctx, net, &arch, "/nonexistent/x.npy", NULL, &r);
    assert_int_not_equal(st, CIM_OK);
    assert_non_null(strstr(cim_ctx_errmsg(ctx), "/nonexistent/x.npy"));
    tu_path(bad, sizeof bad, "wrong_shape.npy");
    int64_t shape[2] = {4, 27};
    static uint8_t px[4 * 27];
    assert_int_equal(cim_npy_write(ctx, bad, CIM_UINT8, 2, shape, px), CIM_OK);
    st = cim_net_eval(ctx, net, &arch, bad, NULL, &r);
    assert_int_equal(st, CIM_ERR_SHAPE);
    assert_int_not_equal(cim_arch_load(ctx, "no-such-preset", &arch), CIM_OK);
    cim_net_free(net);
    cim_ctx_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ideal_is_exact),
        cmocka_unit_test(test_noise_batch_threads),
        cmocka_unit_test(test_analog_only),
        cmocka_unit_test(test_bad_inputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
