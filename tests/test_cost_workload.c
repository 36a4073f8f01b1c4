/* test_cost_workload.c: workloads (include/cimsim/workload.h): the bundled
 * files load with their published totals, every layer's M*K*N*groups is its
 * MACs, malformed files give errors naming file, line and key, the writer
 * round-trips, and allocation failures are survived without leaks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "testutil.h"

static int setup(void **state) { return tu_fx_setup(state, "wl"); }
static int teardown(void **state) { return tu_fx_teardown(state); }

static void check_sums(const cim_workload *wl)
{
    uint64_t total = 0;
    assert_true(wl->n_layers >= 1);
    for (int i = 0; i < wl->n_layers; i++) {
        const cim_workload_layer *L = &wl->layers[i];
        if (L->M * (uint64_t)L->K * (uint64_t)L->N * (uint64_t)L->groups != L->macs)
            fail_msg("%s: layer %s: M*K*N*groups != macs", wl->name, L->name);
        assert_true(L->K >= 1 && L->N >= 1 && L->groups >= 1 && L->M >= 1);
        total += L->macs;
    }
    assert_int_equal(total, wl->total_macs);
}

static void test_bundled_totals(void **state)
{
    tu_fx *fx = *state;
    /* the published numbers: ResNet-18 1.814 GMACs (issue 5), ResNet-50 ~4.1,
     * MobileNetV2 ~0.30, BERT-Large FFN 48 x 384 x 1024 x 4096 */
    static const struct {
        const char *name;
        double expect, tol;
        int layers;
    } want[] = {{"resnet18", 1.814e9, 0.001, 21},
                {"resnet50", 4.1e9, 0.01, 54},
                {"mobilenetv2", 0.30e9, 0.01, 53},
                {"bert-large-ffn", 48.0 * 384 * 1024 * 4096, 0.0, 48}};
    int seen = 0;
    for (const char *const *n = cim_workload_names(); *n; n++)
        seen++;
    assert_int_equal(seen, 4);
    for (size_t w = 0; w < sizeof want / sizeof *want; w++) {
        cim_workload wl;
        cim_status st = cim_workload_load(fx->ctx, want[w].name, &wl);
        if (st)
            fail_msg("%s: %s", want[w].name, cim_ctx_errmsg(fx->ctx));
        assert_string_equal(wl.name, want[w].name);
        assert_int_equal(wl.n_layers, want[w].layers);
        double rel = ((double)wl.total_macs - want[w].expect) / want[w].expect;
        if (rel > want[w].tol || rel < -want[w].tol)
            fail_msg("%s: %llu MACs, %.4f%% from %g", want[w].name, (unsigned long long)wl.total_macs, 100 * rel,
                     want[w].expect);
        check_sums(&wl);
        cim_workload_free(fx->ctx, &wl);
        assert_null(wl.layers);
    }
}

static void test_resnet18_layers(void **state)
{
    tu_fx *fx = *state;
    cim_workload wl;
    assert_int_equal(cim_workload_load(fx->ctx, "resnet18", &wl), CIM_OK);
    assert_int_equal(wl.total_macs, 1814073344ULL); /* with the fc's 512,000 */
    const cim_workload_layer *c1 = &wl.layers[0], *fc = &wl.layers[wl.n_layers - 1];
    assert_string_equal(c1->name, "conv1");
    assert_int_equal(c1->type, CIM_WL_CONV);
    assert_int_equal(c1->K, 3 * 7 * 7);
    assert_int_equal(c1->N, 64);
    assert_int_equal(c1->M, 112 * 112);
    assert_int_equal(c1->kernel[0], 7);
    assert_int_equal(c1->stride[1], 2);
    assert_int_equal(c1->padding[0], 3);
    assert_int_equal(c1->n_input, 4);
    assert_int_equal(c1->input[1], 3);
    assert_int_equal(c1->output[3], 112);
    assert_int_equal(c1->stats.present, 0);
    assert_string_equal(fc->name, "fc");
    assert_int_equal(fc->type, CIM_WL_LINEAR);
    assert_int_equal(fc->K, 512);
    assert_int_equal(fc->N, 1000);
    assert_int_equal(fc->M, 1);
    assert_int_equal(fc->macs, 512000);
    cim_workload_free(fx->ctx, &wl);
}

static void test_depthwise_and_bert(void **state)
{
    tu_fx *fx = *state;
    cim_workload wl;
    assert_int_equal(cim_workload_load(fx->ctx, "mobilenetv2", &wl), CIM_OK);
    const cim_workload_layer *dw = &wl.layers[1]; /* features.1.conv.0.0: 3x3 depthwise on 32 channels */
    assert_int_equal(dw->groups, 32);
    assert_int_equal(dw->K, 9);
    assert_int_equal(dw->N, 1);
    assert_int_equal(dw->M, 112 * 112);
    cim_workload_free(fx->ctx, &wl);

    assert_int_equal(cim_workload_load(fx->ctx, "bert-large-ffn", &wl), CIM_OK);
    for (int i = 0; i < wl.n_layers; i++) {
        const cim_workload_layer *L = &wl.layers[i];
        assert_int_equal(L->M, 384);
        assert_int_equal(L->K, i % 2 ? 4096 : 1024);
        assert_int_equal(L->N, i % 2 ? 1024 : 4096);
        /* the file-level stats reach every layer: signed inputs, stated with a source */
        assert_int_equal(L->stats.present, 1);
        assert_int_equal(L->stats.input_signed, 1);
        assert_int_equal(L->stats.assumed, 1);
        assert_non_null(strstr(L->stats.source, "thesis"));
        assert_true(L->stats.input_density < 0); /* not given */
    }
    cim_workload_free(fx->ctx, &wl);
}

/* Parse `text` as file "bad.yaml": must fail with `st`, naming the file, the
 * line and the key. */
static void expect_bad(tu_fx *fx, const char *text, cim_status want, int line, const char *key)
{
    cim_workload wl;
    cim_status st = cim_workload_parse(fx->ctx, "bad.yaml", text, strlen(text), &wl);
    const char *msg = cim_ctx_errmsg(fx->ctx);
    if (st != want)
        fail_msg("status %d (want %d) for:\n%s\nmessage: %s", st, want, text, msg);
    assert_null(wl.layers);
    char where[64];
    snprintf(where, sizeof where, "bad.yaml:%d", line);
    if (!strstr(msg, where))
        fail_msg("message '%s' does not name %s", msg, where);
    if (key) {
        char k[96];
        snprintf(k, sizeof k, "key '%s'", key);
        if (!strstr(msg, k))
            fail_msg("message '%s' does not name %s", msg, k);
    }
}

#define HEAD "workload: t\n"
#define L1 "layers:\n  - {name: a, type: linear, K: 4, N: 3, M: 2}\n"

static void test_malformed(void **state)
{
    tu_fx *fx = *state;
    cim_workload wl;
    /* the good file first: the cases below each break one thing */
    assert_int_equal(cim_workload_parse(fx->ctx, "good.yaml", HEAD L1, strlen(HEAD L1), &wl), CIM_OK);
    assert_int_equal(wl.total_macs, 24);
    assert_int_equal(wl.layers[0].groups, 1);
    cim_workload_free(fx->ctx, &wl);

    expect_bad(fx, HEAD "colour: red\n" L1, CIM_ERR_FORMAT, 2, "colour");
    expect_bad(fx, HEAD "layers:\n  - {name: a, type: linear, K: 4, N: 3, M: 2, bias: 1}\n", CIM_ERR_FORMAT, 3,
               "layers[0].bias");
    expect_bad(fx, HEAD "layers:\n  - {name: a, type: linear, K: -4, N: 3, M: 2}\n", CIM_ERR_FORMAT, 3,
               "layers[0].K");
    expect_bad(fx, HEAD "description: no layers\n", CIM_ERR_FORMAT, 1, "layers");
    expect_bad(fx, HEAD "layers: []\n", CIM_ERR_FORMAT, 2, "layers");
    expect_bad(fx, HEAD "layers: 3\n", CIM_ERR_FORMAT, 2, "layers");
    expect_bad(fx, HEAD "layers:\n  - {name: a, type: linear, K: 1073741824, N: 3, M: 2}\n", CIM_ERR_FORMAT, 3,
               "layers[0].K");
    expect_bad(fx, HEAD "layers:\n  - {name: a, type: linear, K: 4, N: 3, M: 99999999999999}\n", CIM_ERR_FORMAT, 3,
               "layers[0].M");
    /* each within its limit, their product beyond the MAC limit */
    expect_bad(fx, HEAD "layers:\n  - {name: a, type: linear, K: 16000000, N: 16000000, M: 4000000000}\n",
               CIM_ERR_FORMAT, 3, "layers[0].M");
    expect_bad(fx, HEAD "layers:\n  - {name: a, type: linear, K: 4, N: 3, M: 2, macs: 25}\n", CIM_ERR_FORMAT, 3,
               "layers[0].macs");
    expect_bad(fx, HEAD "total_macs: 23\n" L1, CIM_ERR_FORMAT, 2, "total_macs");
    expect_bad(fx, HEAD "layers:\n  - {type: linear, K: 4, N: 3, M: 2}\n", CIM_ERR_FORMAT, 3, "layers[0].name");
    expect_bad(fx, HEAD "layers:\n  - {name: a, K: 4, N: 3, M: 2}\n", CIM_ERR_FORMAT, 3, "layers[0].type");
    expect_bad(fx, HEAD "layers:\n  - {name: a, type: pool, K: 4, N: 3, M: 2}\n", CIM_ERR_FORMAT, 3,
               "layers[0].type");
    expect_bad(fx, HEAD "layers:\n  - {name: a, type: linear, K: 4, N: 3, M: 2}\n  - {name: a, type: linear, K: 4, "
                       "N: 3, M: 2}\n",
               CIM_ERR_FORMAT, 4, "layers[1].name");
    expect_bad(fx, HEAD "layers:\n  - {name: a, type: linear, K: 4, K: 5, N: 3, M: 2}\n", CIM_ERR_FORMAT, 3, "K");
    expect_bad(fx, HEAD "layers:\n  - {name: a, type: linear, K: 4, N: 3, M: 2, kernel: [3, 3]}\n", CIM_ERR_FORMAT,
               3, "layers[0].kernel");
    expect_bad(fx, HEAD "layers:\n  - {name: a, type: linear, K: 4, N: 3, M: 2, groups: 0}\n", CIM_ERR_FORMAT, 3,
               "layers[0].groups");
    expect_bad(fx, HEAD "layers:\n  - {name: a, type: linear, K: 4, N: 3, M: 2, output: [2, 4]}\n", CIM_ERR_FORMAT,
               3, "layers[0].output");
    expect_bad(fx, HEAD "layers:\n  - {name: a, type: linear, K: 4, N: 3, M: 2, input: [2, 4, 0]}\n",
               CIM_ERR_FORMAT, 3, "layers[0].input[2]");
    /* conv geometry: K must hold whole kernels, shapes must agree with K, N, M */
    expect_bad(fx, HEAD "layers:\n  - {name: c, type: conv, K: 10, N: 8, M: 4, kernel: [3, 3]}\n", CIM_ERR_FORMAT, 3,
               "layers[0].K");
    expect_bad(fx,
               HEAD "layers:\n  - {name: c, type: conv, K: 18, N: 8, M: 4, kernel: [3, 3], input: [1, 3, 4, 4]}\n",
               CIM_ERR_FORMAT, 3, "layers[0].input");
    expect_bad(fx,
               HEAD "layers:\n  - {name: c, type: conv, K: 18, N: 8, M: 4, kernel: 3, output: [1, 8, 2, 3]}\n",
               CIM_ERR_FORMAT, 3, "layers[0].output");
    /* value statistics: numbers need a source and assumed; unknown keys, ranges */
    expect_bad(fx, HEAD "stats:\n  input_density: 0.5\n" L1, CIM_ERR_FORMAT, 3, "stats");
    expect_bad(fx, HEAD "stats:\n  source: a guess\n  input_density: 0.5\n" L1, CIM_ERR_FORMAT, 4, "stats");
    expect_bad(fx, HEAD "stats:\n  source: s\n  assumed: true\n  input_density: 1.5\n" L1, CIM_ERR_FORMAT, 5,
               "stats.input_density");
    expect_bad(fx, HEAD "stats:\n  source: s\n  sparsity: 0.5\n" L1, CIM_ERR_FORMAT, 4, "stats.sparsity");
    expect_bad(fx, HEAD "layers:\n  - {name: a, type: linear, K: 4, N: 3, M: 2, stats: {input_mean: 3}}\n",
               CIM_ERR_FORMAT, 3, "layers[0].stats");
    expect_bad(fx, HEAD "stats:\n  eval_json: /nonexistent/e.json\n" L1, CIM_ERR_FORMAT, 3, "stats.eval_json");
    /* more layers than the limit */
    size_t cap = (size_t)(CIM_WORKLOAD_MAX_LAYERS + 1) * 64 + 64, len = 0;
    char *big = malloc(cap);
    assert_non_null(big);
    len += (size_t)snprintf(big, cap, "workload: big\nlayers:\n");
    for (int i = 0; i <= CIM_WORKLOAD_MAX_LAYERS; i++)
        len += (size_t)snprintf(big + len, cap - len, "  - {name: l%d, type: linear, K: 1, N: 1, M: 1}\n", i);
    expect_bad(fx, big, CIM_ERR_FORMAT, 3, "layers");
    free(big);
    /* not YAML, not a mapping */
    expect_bad(fx, HEAD "layers: [\n", CIM_ERR_FORMAT, 3, NULL);
    expect_bad(fx, "- 1\n- 2\n", CIM_ERR_FORMAT, 1, "(top level)");
    assert_int_equal(cim_workload_parse(fx->ctx, "empty.yaml", "", 0, &wl), CIM_ERR_FORMAT);
    assert_non_null(strstr(cim_ctx_errmsg(fx->ctx), "empty.yaml"));
}

static void test_files(void **state)
{
    tu_fx *fx = *state;
    cim_workload wl;
    char path[512];
    /* neither bundled nor a file */
    assert_int_equal(cim_workload_load(fx->ctx, "resnet19", &wl), CIM_ERR_IO);
    assert_non_null(strstr(cim_ctx_errmsg(fx->ctx), "resnet19"));
    assert_non_null(strstr(cim_ctx_errmsg(fx->ctx), "resnet18")); /* the list of bundled ones */
    /* a directory */
    assert_int_equal(cim_workload_load(fx->ctx, fx->dir, &wl), CIM_ERR_IO);
    /* too large: a sparse file past the limit */
    snprintf(path, sizeof path, "%s/huge.yaml", fx->dir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(ftruncate(fileno(f), CIM_WORKLOAD_MAX_FILE + 1), 0);
    fclose(f);
    assert_int_equal(cim_workload_load(fx->ctx, path, &wl), CIM_ERR_FORMAT);
    assert_non_null(strstr(cim_ctx_errmsg(fx->ctx), "huge.yaml"));
    /* a file with stats: file-level and per-layer merged, eval_json resolved beside the file */
    char ej[512];
    snprintf(ej, sizeof ej, "%s/e.json", fx->dir);
    tu_write_file(ej, "{}", 2);
    static const char text[] = "workload: s\n"
                               "stats: {source: \"measured on 10 images\", assumed: false, input_density: 0.25,\n"
                               "        eval_json: e.json}\n"
                               "layers:\n"
                               "  - {name: a, type: conv, K: 18, N: 8, M: 4, kernel: 3, input: [1, 2, 4, 4],\n"
                               "     output: [1, 8, 2, 2], stride: 2, padding: 1}\n"
                               "  - {name: b, type: linear, K: 32, N: 10, M: 1,\n"
                               "     stats: {input_mean: 12.5, source: \"assumed: half-normal\", assumed: true}}\n";
    snprintf(path, sizeof path, "%s/s.yaml", fx->dir);
    tu_write_file(path, text, sizeof text - 1);
    assert_int_equal(cim_workload_load(fx->ctx, path, &wl), CIM_OK);
    assert_int_equal(wl.total_macs, 4 * 18 * 8 + 320);
    const cim_workload_stats *a = &wl.layers[0].stats, *b = &wl.layers[1].stats;
    assert_int_equal(a->assumed, 0);
    assert_true(a->input_density == 0.25);
    assert_true(a->input_mean < 0);
    assert_string_equal(a->eval_json, ej);
    assert_int_equal(b->assumed, 1);
    assert_true(b->input_density == 0.25); /* from the file */
    assert_true(b->input_mean == 12.5);    /* its own */
    assert_string_equal(b->source, "assumed: half-normal");
    assert_int_equal(wl.layers[0].stride[0], 2);
    assert_int_equal(wl.layers[0].kernel[1], 3);

    /* the writer round-trips */
    char out[512];
    snprintf(out, sizeof out, "%s/rt.yaml", fx->dir);
    assert_int_equal(cim_workload_write_yaml(fx->ctx, out, &wl, "a header\nof two lines"), CIM_OK);
    cim_workload back;
    if (cim_workload_load(fx->ctx, out, &back))
        fail_msg("%s", cim_ctx_errmsg(fx->ctx));
    assert_int_equal(back.n_layers, 2);
    assert_int_equal(back.total_macs, wl.total_macs);
    assert_memory_equal(&back.layers[0], &wl.layers[0], sizeof wl.layers[0]);
    assert_memory_equal(&back.layers[1], &wl.layers[1], sizeof wl.layers[1]);
    cim_workload_free(fx->ctx, &back);
    cim_workload_free(fx->ctx, &wl);

    /* a bundled workload through the writer and back: the same layers */
    assert_int_equal(cim_workload_load(fx->ctx, "resnet50", &wl), CIM_OK);
    assert_int_equal(cim_workload_write_yaml(fx->ctx, out, &wl, NULL), CIM_OK);
    assert_int_equal(cim_workload_load(fx->ctx, out, &back), CIM_OK);
    assert_int_equal(back.n_layers, wl.n_layers);
    for (int i = 0; i < wl.n_layers; i++)
        assert_memory_equal(&back.layers[i], &wl.layers[i], sizeof wl.layers[i]);
    cim_workload_free(fx->ctx, &back);
    cim_workload_free(fx->ctx, &wl);
    /* a write that cannot happen: an error naming the path, no file */
    assert_int_equal(cim_workload_load(fx->ctx, "resnet18", &wl), CIM_OK);
    snprintf(out, sizeof out, "%s/no/such/dir.yaml", fx->dir);
    assert_int_equal(cim_workload_write_yaml(fx->ctx, out, &wl, NULL), CIM_ERR_IO);
    assert_non_null(strstr(cim_ctx_errmsg(fx->ctx), out));
    assert_false(tu_file_exists(out));
    assert_int_equal(cim_workload_write_yaml(fx->ctx, out, &back, NULL), CIM_ERR_ARG); /* freed: no layers */
    cim_workload_free(fx->ctx, &wl);
}

/* Every allocation of a load can fail: CIM_ERR_NOMEM, nothing leaked. */
static void test_alloc_failures(void **state)
{
    tu_fx *fx = *state;
    cim_workload wl;
    char path[512];
    snprintf(path, sizeof path, "%s/r18.yaml", fx->dir);
    const char *text = cim_workload_text("resnet18");
    assert_non_null(text);
    assert_null(cim_workload_text("resnet19"));
    tu_write_file(path, text, strlen(text));
    const char *specs[] = {"resnet18", path}; /* embedded, and from a file */
    for (int s = 0; s < 2; s++) {
        long calls0 = fx->calls;
        assert_int_equal(cim_workload_load(fx->ctx, specs[s], &wl), CIM_OK);
        long need = fx->calls - calls0;
        cim_workload_free(fx->ctx, &wl);
        assert_true(need >= 1);
        for (long n = 0; n < need; n++) {
            long live = fx->live;
            fx->fail_at = fx->calls + 1 + n;
            cim_status st = cim_workload_load(fx->ctx, specs[s], &wl);
            fx->fail_at = 0;
            assert_int_equal(st, CIM_ERR_NOMEM);
            assert_null(wl.layers);
            assert_int_equal(fx->live, live);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bundled_totals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resnet18_layers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_depthwise_and_bert, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alloc_failures, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
