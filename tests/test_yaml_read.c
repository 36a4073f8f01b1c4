/* test_yaml_read.c: the scalar readers every YAML loader shares
 * (src/lib/yaml_read.h): accepted forms, range checks, and the reason each
 * bad value gets, passed to the loader's error function with its key. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "lib/yaml_read.h"

typedef struct {
    char key[64], msg[256];
    int calls;
} sink;

static cim_status record(void *y, const yaml_node_t *n, const char *key, const char *msg)
{
    sink *s = y;
    (void)n;
    snprintf(s->key, sizeof s->key, "%s", key);
    snprintf(s->msg, sizeof s->msg, "%s", msg);
    s->calls++;
    return CIM_ERR_CONFIG;
}

/* The value node of `key` in a one-level mapping document. */
static yaml_node_t *value(yaml_document_t *doc, const char *key)
{
    yaml_node_t *root = yaml_document_get_root_node(doc);
    assert_non_null(root);
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++)
        if (strcmp(cim__yaml_scalar(yaml_document_get_node(doc, p->key)), key) == 0)
            return yaml_document_get_node(doc, p->value);
    fail_msg("no key %s", key);
    return NULL;
}

static void load(yaml_document_t *doc, const char *text)
{
    yaml_parser_t p;
    assert_true(yaml_parser_initialize(&p));
    yaml_parser_set_input_string(&p, (const unsigned char *)text, strlen(text));
    assert_true(yaml_parser_load(&p, doc));
    yaml_parser_delete(&p);
}

static void expect_bad(sink *s, cim_status st, const char *key, const char *needle)
{
    assert_int_equal(st, CIM_ERR_CONFIG);
    assert_string_equal(s->key, key);
    if (!strstr(s->msg, needle))
        fail_msg("%s: message '%s' lacks '%s'", key, s->msg, needle);
}

static void test_readers(void **state)
{
    (void)state;
    yaml_document_t doc;
    load(&doc, "i: 42\nneg: -7\nbig: 99999999999999999999\nhex: 0x10\nf: 2.5e-3\ninf: .inf\nnan: nan\n"
               "word: abc\nlist: [1, 2]\nmap: {a: 1}\nt: Yes\nz: off\nb: maybe\nu: 18446744073709551615\n");
    sink s = {0};
    int i = 0;
    long l = 0;
    double d = 0;
    uint64_t u = 0;
    assert_int_equal(cim__yaml_int(&s, record, value(&doc, "i"), "i", 0, 100, &i), CIM_OK);
    assert_int_equal(i, 42);
    assert_int_equal(cim__yaml_long(&s, record, value(&doc, "neg"), "neg", -10, 10, &l), CIM_OK);
    assert_int_equal(l, -7);
    assert_int_equal(s.calls, 0);
    expect_bad(&s, cim__yaml_int(&s, record, value(&doc, "i"), "i", 0, 10, &i), "i", "42 is not in 0..10");
    expect_bad(&s, cim__yaml_int(&s, record, value(&doc, "big"), "big", 0, 10, &i), "big", "expected an integer");
    expect_bad(&s, cim__yaml_int(&s, record, value(&doc, "hex"), "hex", 0, 100, &i), "hex", "got '0x10'");
    expect_bad(&s, cim__yaml_int(&s, record, value(&doc, "list"), "list", 0, 1, &i), "list", "got a list");
    expect_bad(&s, cim__yaml_int(&s, record, value(&doc, "map"), "map", 0, 1, &i), "map", "got a mapping");
    assert_int_equal(i, 42); /* untouched by failures */

    assert_int_equal(cim__yaml_u64(&s, record, value(&doc, "u"), "u", 0, UINT64_MAX, &u), CIM_OK);
    assert_true(u == UINT64_MAX);
    expect_bad(&s, cim__yaml_u64(&s, record, value(&doc, "neg"), "neg", 0, 9, &u), "neg", "is negative");
    expect_bad(&s, cim__yaml_u64(&s, record, value(&doc, "i"), "i", 1, 9, &u), "i", "42 is not in 1..9");

    assert_int_equal(cim__yaml_double(&s, record, value(&doc, "f"), "f", 0, 1, 0, &d), CIM_OK);
    assert_true(d == 2.5e-3);
    expect_bad(&s, cim__yaml_double(&s, record, value(&doc, "inf"), "inf", -INFINITY, INFINITY, 0, &d), "inf",
               "expected a number, got '.inf'");
    expect_bad(&s, cim__yaml_double(&s, record, value(&doc, "nan"), "nan", -INFINITY, INFINITY, 0, &d), "nan",
               "expected a number");
    expect_bad(&s, cim__yaml_double(&s, record, value(&doc, "word"), "word", 0, 1, 0, &d), "word", "got 'abc'");
    expect_bad(&s, cim__yaml_double(&s, record, value(&doc, "neg"), "neg", 0, INFINITY, 0, &d), "neg",
               "-7 must be >= 0");
    expect_bad(&s, cim__yaml_double(&s, record, value(&doc, "neg"), "neg", -7, INFINITY, 1, &d), "neg",
               "-7 must be > -7");
    expect_bad(&s, cim__yaml_double(&s, record, value(&doc, "i"), "i", 0, 1, 0, &d), "i", "42 is not in 0..1");
    expect_bad(&s, cim__yaml_double(&s, record, value(&doc, "i"), "i", 0, 1, 1, &d), "i", "must be > 0 and <= 1");
    assert_true(d == 2.5e-3);

    int b = -1;
    assert_int_equal(cim__yaml_bool(&s, record, value(&doc, "t"), "t", &b), CIM_OK);
    assert_int_equal(b, 1);
    assert_int_equal(cim__yaml_bool(&s, record, value(&doc, "z"), "z", &b), CIM_OK);
    assert_int_equal(b, 0);
    expect_bad(&s, cim__yaml_bool(&s, record, value(&doc, "b"), "b", &b), "b", "expected true or false, got 'maybe'");
    expect_bad(&s, cim__yaml_bool(&s, record, value(&doc, "list"), "list", &b), "list", "got a list");
    assert_string_equal(cim__yaml_kind(NULL), "nothing");
    assert_null(cim__yaml_scalar(NULL));
    yaml_document_delete(&doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_readers)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
