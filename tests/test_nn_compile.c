/* test_nn_compile.c: RAELLA's compiler (include/cimsim/compile.h).
 *
 * - Slicing enumeration: 108 slicings of 8 bits into 1..4-bit pieces (thesis
 *   4.2.2), each valid, all distinct, fewest slices first.
 * - Early stop gives the same choice as the exhaustive search, and so do
 *   candidates judged in stages.
 * - A plan survives a JSON round trip; eval --plan uses its slicings.
 * - A plan for another model, or a malformed plan, is rejected with a
 *   message naming the file and field.
 * - Compiling twice gives the same plan; under heavy noise the compiler
 *   needs at least as many slices as without. */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "cimsim/cimsim.h"
#include "testutil.h"

#define MODELS CIMSIM_TEST_DATA "/../../models/"
#define CALIB "fashion-mnist:train"

static void test_slicing_enumeration(void **state)
{
    (void)state;
    assert_int_equal(cim_slicing_count(8, 4), 108);
    assert_int_equal(cim_slicing_count(8, 8), 128); /* every composition: 2^7 */
    assert_int_equal(cim_slicing_count(8, 2), 34);  /* parts of 1 and 2: Fibonacci */
    assert_int_equal(cim_slicing_count(8, 1), 1);
    assert_int_equal(cim_slicing_count(4, 4), 8);
    int seen[108][CIM_MAX_SLICES + 1];
    int prev_n = 0;
    for (int i = 0; i < 108; i++) {
        int w[CIM_MAX_SLICES];
        int n = cim_slicing_get(8, 4, i, w);
        assert_true(n >= 2 && n <= 8);
        assert_true(n >= prev_n); /* fewest slices first */
        int sum = 0;
        for (int s = 0; s < n; s++) {
            assert_true(w[s] >= 1 && w[s] <= 4);
            sum += w[s];
        }
        assert_int_equal(sum, 8);
        seen[i][0] = n;
        memcpy(&seen[i][1], w, (size_t)n * sizeof *w);
        for (int j = 0; j < i; j++) /* distinct */
            assert_false(seen[j][0] == n && memcmp(&seen[j][1], w, (size_t)n * sizeof *w) == 0);
        if (i > 0 && seen[i - 1][0] == n) { /* lexicographically descending within a count */
            int d = 0;
            while (d < n && seen[i - 1][1 + d] == w[d])
                d++;
            assert_true(d < n && seen[i - 1][1 + d] > w[d]);
        }
        prev_n = n;
    }
    int w[CIM_MAX_SLICES];
    assert_int_equal(cim_slicing_get(8, 4, 0, w), 2);
    assert_int_equal(w[0], 4);
    assert_int_equal(w[1], 4);
    assert_int_equal(cim_slicing_get(8, 4, 107, w), 8);
    assert_int_equal(cim_slicing_get(8, 4, 108, w), 0);
    assert_int_equal(cim_slicing_get(8, 4, -1, w), 0);
}

/* staged_min_macs: -1 the default, else cim_compile_options.staged_min_macs;
 * calib: 0 the default, else the calibration samples */
static cim_plan *compile_staged(cim_ctx *ctx, cim_net *net, const char *arch_spec, double noise, int exhaustive,
                                long long staged_min_macs, int calib)
{
    cim_arch arch;
    assert_int_equal(cim_arch_load(ctx, arch_spec, &arch), CIM_OK);
    tu_arch_noise(&arch, noise, 3);
    cim_compile_options o;
    cim_compile_options_default(&o);
    o.exhaustive = exhaustive;
    if (staged_min_macs >= 0)
        o.staged_min_macs = (uint64_t)staged_min_macs;
    if (calib > 0)
        o.calib = calib;
    cim_plan *p = NULL;
    if (cim_compile(ctx, net, &arch, CALIB, &o, &p) != CIM_OK)
        fail_msg("compile: %s", cim_ctx_errmsg(ctx));
    return p;
}

static cim_plan *compile(cim_ctx *ctx, cim_net *net, const char *arch_spec, double noise, int exhaustive)
{
    return compile_staged(ctx, net, arch_spec, noise, exhaustive, -1, 0);
}

static void same_choice(const cim_plan *a, const cim_plan *b, int same_tried)
{
    assert_int_equal(a->n_layers, b->n_layers);
    for (int i = 0; i < a->n_layers; i++) {
        const cim_plan_layer *x = &a->layers[i], *y = &b->layers[i];
        assert_string_equal(x->name, y->name);
        assert_int_equal(x->n_weight_slices, y->n_weight_slices);
        assert_memory_equal(x->weight_slices, y->weight_slices, sizeof x->weight_slices);
        assert_true(x->error == y->error || (isnan(x->error) && isnan(y->error)));
        assert_int_equal(x->groups, y->groups);
        assert_int_equal(x->nchunks, y->nchunks);
        if (same_tried)
            assert_int_equal(x->tried, y->tried);
        assert_int_equal(!x->centers, !y->centers);
        if (x->centers)
            assert_memory_equal(x->centers, y->centers,
                                (size_t)x->groups * (size_t)x->nchunks * (size_t)x->N * sizeof *x->centers);
    }
}

static cim_net *load(cim_ctx *ctx, const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, MODELS "%s.onnx", name);
    cim_net *net = NULL;
    if (cim_net_load(ctx, path, &net) != CIM_OK)
        fail_msg("%s: %s", path, cim_ctx_errmsg(ctx));
    return net;
}

/* Early stop == exhaustive; a second compile is identical; every searched
 * layer's choice is under budget or the lowest error of all. */
static void test_early_stop_matches_exhaustive(void **state)
{
    (void)state;
    cim_ctx *ctx = tu_ctx();
    cim_net *net = load(ctx, "lenet5");
    cim_plan *fast = compile(ctx, net, "raella", 0, 0);
    cim_plan *again = compile(ctx, net, "raella", 0, 0);
    cim_plan *full = compile(ctx, net, "raella", 0, 1);
    same_choice(fast, full, 0);
    same_choice(fast, again, 1);
    int fewer = 0, searched = 0;
    for (int i = 0; i < fast->n_layers; i++) {
        const cim_plan_layer *L = &fast->layers[i];
        if (!L->searched)
            continue;
        searched++;
        assert_int_equal(full->layers[i].tried, 108);
        fewer += L->tried < 108;
        assert_true(L->within_budget || L->tried == 108);
    }
    assert_true(searched >= 3); /* LeNet-5: every layer but the last */
    assert_true(fewer == searched);
    /* the last layer kept the preset's eight 1-bit slices */
    const cim_plan_layer *last = &fast->layers[fast->n_layers - 1];
    assert_false(last->searched);
    assert_int_equal(last->n_weight_slices, 8);
    cim_plan_free(ctx, fast);
    cim_plan_free(ctx, again);
    cim_plan_free(ctx, full);
    cim_net_free(net);
    cim_ctx_destroy(ctx);
}

/* Staged candidates (every layer, staged_min_macs 0) give the choice and the
 * error of whole runs (none staged): without noise, with noise (pieces of a run draw the
 * noise of the whole run), and with so much noise that no slicing is within
 * budget (then every candidate is finished for the lowest error of all).
 * Staging must have ruled candidates out, or the test proves nothing. */
static void test_staged_matches_whole(void **state)
{
    (void)state;
    cim_ctx *ctx = tu_ctx();
    cim_net *net = load(ctx, "lenet5");
    static const double noise[] = {0, 0.04, 0.6};
    int ruled_out = 0, over_budget = 0;
    for (size_t i = 0; i < sizeof noise / sizeof noise[0]; i++) {
        const int calib = noise[i] > 0.5 ? 3 : 0; /* over budget, all 108 slicings run: fewer samples */
        cim_plan *staged = compile_staged(ctx, net, "raella", noise[i], 0, 0, calib);
        cim_plan *whole = compile_staged(ctx, net, "raella", noise[i], 0, (long long)1 << 62, calib);
        same_choice(staged, whole, 1); /* and the same counts tried (whole == exhaustive: above) */
        for (int l = 0; l < staged->n_layers; l++) {
            const cim_plan_layer *L = &staged->layers[l];
            assert_true(L->whole >= 1 && L->whole <= L->tried);
            assert_int_equal(whole->layers[l].whole, whole->layers[l].tried);
            ruled_out += L->tried - L->whole;
            if (L->searched && !L->within_budget) {
                over_budget++;
                assert_int_equal(L->whole, L->tried); /* the lowest error of all needs every one */
            }
        }
        print_message("E = %.2f: %d candidates ruled out after their first stage so far\n", noise[i], ruled_out);
        cim_plan_free(ctx, staged);
        cim_plan_free(ctx, whole);
    }
    assert_true(ruled_out > 0);
    assert_true(over_budget > 0);
    cim_net_free(net);
    cim_ctx_destroy(ctx);
}

static void test_plan_round_trip_and_eval(void **state)
{
    (void)state;
    cim_ctx *ctx = tu_ctx();
    cim_net *net = load(ctx, "lenet5");
    cim_plan *p = compile(ctx, net, "raella", 0, 0);
    char path[1024];
    snprintf(path, sizeof path, CIMSIM_BUILD_DIR "/plan_lenet5.json");
    assert_int_equal(cim_plan_write_json(ctx, path, p), CIM_OK);
    cim_plan *q = NULL;
    if (cim_plan_load(ctx, path, net, &q) != CIM_OK)
        fail_msg("load: %s", cim_ctx_errmsg(ctx));
    same_choice(p, q, 1);
    assert_int_equal(p->model_crc, q->model_crc);
    assert_string_equal(p->model, "lenet5.onnx");

    /* eval with the plan runs each layer with the plan's slicing */
    cim_arch arch;
    assert_int_equal(cim_arch_load(ctx, "raella", &arch), CIM_OK);
    cim_eval_options o;
    cim_eval_options_default(&o);
    o.limit = 64;
    o.plan = q;
    cim_eval_result r;
    if (cim_net_eval(ctx, net, &arch, "fashion-mnist:test", &o, &r) != CIM_OK)
        fail_msg("eval: %s", cim_ctx_errmsg(ctx));
    assert_int_equal(r.n_layers, q->n_layers);
    for (int i = 0; i < r.n_layers; i++) {
        assert_int_equal(r.layers[i].cfg.n_weight_slices, q->layers[i].n_weight_slices);
        assert_memory_equal(r.layers[i].cfg.weight_slices, q->layers[i].weight_slices,
                            (size_t)q->layers[i].n_weight_slices * sizeof(int));
    }
    cim_eval_result_free(ctx, &r);
    cim_plan_free(ctx, p);
    cim_plan_free(ctx, q);
    cim_net_free(net);
    cim_ctx_destroy(ctx);
}

/* Write text to path. */
static void put(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    b[n] = 0;
    fclose(f);
    return b;
}

/* Replace the first occurrence of `from` in s by `to` (into a new string). */
static char *replace(const char *s, const char *from, const char *to)
{
    const char *at = strstr(s, from);
    assert_non_null(at);
    size_t n = strlen(s) - strlen(from) + strlen(to) + 1;
    char *r = malloc(n);
    assert_non_null(r);
    snprintf(r, n, "%.*s%s%s", (int)(at - s), s, to, at + strlen(from));
    return r;
}

static void expect_reject(cim_ctx *ctx, cim_net *net, const char *path, const char *text, const char *needle)
{
    put(path, text);
    cim_plan *p = NULL;
    cim_status st = cim_plan_load(ctx, path, net, &p);
    assert_int_not_equal(st, CIM_OK);
    assert_null(p);
    const char *msg = cim_ctx_errmsg(ctx);
    if (!strstr(msg, needle) || !strstr(msg, path))
        fail_msg("message '%s' should name the file and '%s'", msg, needle);
}

static void test_bad_plans(void **state)
{
    (void)state;
    cim_ctx *ctx = tu_ctx();
    cim_net *lenet = load(ctx, "lenet5"), *resnet = load(ctx, "resnet8");
    cim_plan *p = compile(ctx, lenet, "raella", 0, 0);
    char good[1024], bad[1024];
    snprintf(good, sizeof good, CIMSIM_BUILD_DIR "/plan_good.json");
    snprintf(bad, sizeof bad, CIMSIM_BUILD_DIR "/plan_bad.json");
    assert_int_equal(cim_plan_write_json(ctx, good, p), CIM_OK);
    char *text = slurp(good);

    /* a plan for another model */
    cim_plan *q = NULL;
    assert_int_not_equal(cim_plan_load(ctx, good, resnet, &q), CIM_OK);
    assert_null(q);
    assert_non_null(strstr(cim_ctx_errmsg(ctx), "model_crc32"));
    assert_non_null(strstr(cim_ctx_errmsg(ctx), "lenet5.onnx"));

    expect_reject(ctx, lenet, bad, "{ not json", "line");
    expect_reject(ctx, lenet, bad, "[]", "not a JSON object");
    char *t;
    t = replace(text, "\"layers\"", "\"layerz\"");
    expect_reject(ctx, lenet, bad, t, "layers");
    free(t);
    /* a layer renamed: the plan no longer describes the model */
    t = replace(text, p->layers[0].name, "someone-else");
    expect_reject(ctx, lenet, bad, t, "layers[0].name");
    free(t);
    /* slices that do not sum to 8 */
    t = replace(text, "\"weight_slices\": [", "\"weight_slices\": [1, ");
    expect_reject(ctx, lenet, bad, t, "weight_slices");
    free(t);
    /* a center too many */
    t = replace(text, "\"centers\": [", "\"centers\": [0, ");
    expect_reject(ctx, lenet, bad, t, "centers");
    free(t);
    /* more candidates finished whole than tried */
    t = replace(text, "\"whole\": ", "\"whole\": 9");
    expect_reject(ctx, lenet, bad, t, "layers[0].whole");
    free(t);
    /* a plan without `whole` (older versions) reads as every candidate finished */
    t = replace(text, "\"whole\": ", "\"whole_\": ");
    put(bad, t);
    free(t);
    if (cim_plan_load(ctx, bad, lenet, &q) != CIM_OK)
        fail_msg("a plan without whole: %s", cim_ctx_errmsg(ctx));
    assert_int_equal(q->layers[0].whole, q->layers[0].tried);
    cim_plan_free(ctx, q);
    q = NULL;
    t = replace(text, "\"model_crc32\": ", "\"model_crc32\": 1");
    expect_reject(ctx, lenet, bad, t, "model_crc32");
    free(t);
    /* missing file */
    assert_int_not_equal(cim_plan_load(ctx, CIMSIM_BUILD_DIR "/no-such-plan.json", lenet, &q), CIM_OK);
    assert_non_null(strstr(cim_ctx_errmsg(ctx), "no-such-plan.json"));

    free(text);
    cim_plan_free(ctx, p);
    cim_net_free(lenet);
    cim_net_free(resnet);
    cim_ctx_destroy(ctx);
}

/* Thesis 7.3: at high noise, adaptive slicing picks more slices. */
static void test_noise_aware(void **state)
{
    (void)state;
    cim_ctx *ctx = tu_ctx();
    cim_net *net = load(ctx, "lenet5");
    cim_plan *quiet = compile(ctx, net, "raella", 0, 0), *noisy = compile(ctx, net, "raella", 0.12, 0);
    int sq = 0, sn = 0;
    for (int i = 0; i < quiet->n_layers; i++) {
        sq += quiet->layers[i].n_weight_slices;
        sn += noisy->layers[i].n_weight_slices;
    }
    print_message("weight slices in all: %d without noise, %d at E = 0.12\n", sq, sn);
    assert_true(sn > sq);
    assert_true(noisy->noise_level == 0.12);
    cim_plan_free(ctx, quiet);
    cim_plan_free(ctx, noisy);
    cim_net_free(net);
    cim_ctx_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slicing_enumeration),
        cmocka_unit_test(test_early_stop_matches_exhaustive),
        cmocka_unit_test(test_staged_matches_whole),
        cmocka_unit_test(test_plan_round_trip_and_eval),
        cmocka_unit_test(test_bad_plans),
        cmocka_unit_test(test_noise_aware),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
