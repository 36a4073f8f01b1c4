/* test_npy.c: .npy reading and writing (cimsim/npy.h): round trips, hand-made
 * files of every format version, and every malformed-input path. */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include "testutil.h"

#define PATH_LEN 600

typedef tu_fx fx; /* the counting, failing allocator and a fresh directory (testutil.h) */

static int setup(void **state)
{
    return tu_fx_setup(state, "t");
}

static int teardown(void **state)
{
    return tu_fx_teardown(state);
}

static void fpath(const fx *f, char *buf, const char *name)
{
    snprintf(buf, PATH_LEN, "%s/%s", f->dir, name);
}

/* Files in the test directory whose name contains ".tmp" (left-over temporaries). */
static int count_tmp(const fx *f)
{
    DIR *d = opendir(f->dir);
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += strstr(e->d_name, ".tmp") != NULL;
    closedir(d);
    return n;
}

#define assert_contains(hay, needle)                                                    \
    do {                                                                                \
        if (!strstr((hay), (needle)))                                                   \
            fail_msg("message \"%s\" does not contain \"%s\"", (hay), (needle));        \
    } while (0)

/* Write an NPY file by hand: magic, version, header length (declared, or -1 for
 * the header's real length), hl bytes of header, then n data bytes. */
static void craft_n(const char *path, int major, int minor, long declared, const char *header,
                    size_t hl, const void *data, size_t n)
{
    size_t lb = major == 1 ? 2 : 4;
    unsigned long len = declared < 0 ? (unsigned long)hl : (unsigned long)declared;
    unsigned char *buf = malloc(8 + lb + hl + n + 1);
    assert_non_null(buf);
    memcpy(buf, "\x93NUMPY", 6);
    buf[6] = (unsigned char)major;
    buf[7] = (unsigned char)minor;
    for (size_t i = 0; i < lb; i++)
        buf[8 + i] = (unsigned char)(len >> (8 * i));
    memcpy(buf + 8 + lb, header, hl);
    if (n)
        memcpy(buf + 8 + lb + hl, data, n);
    tu_write_file(path, buf, 8 + lb + hl + n);
    free(buf);
}

static void craft(const char *path, int major, int minor, long declared, const char *header,
                  const void *data, size_t n)
{
    craft_n(path, major, minor, declared, header, strlen(header), data, n);
}

static int is_zeroed(const cim_npy *a)
{
    cim_npy z;
    memset(&z, 0, sizeof z);
    return memcmp(a, &z, sizeof z) == 0;
}

/* Read must fail with `want`; *out zeroed; the message names the file and
 * `needle`. `label` says which case failed. */
static void expect_fail_l(fx *f, const char *label, const char *path, size_t max_bytes,
                          cim_status want, const char *needle)
{
    cim_npy a;
    memset(&a, 0xab, sizeof a);
    cim_status st = cim_npy_read(f->ctx, path, max_bytes, &a);
    const char *msg = cim_ctx_errmsg(f->ctx);
    if (st != want)
        fail_msg("%s: status %d, expected %d (message \"%s\")", label, st, want, msg);
    if (!is_zeroed(&a))
        fail_msg("%s: output not zeroed", label);
    if (!strstr(msg, path) || (needle && !strstr(msg, needle)))
        fail_msg("%s: message \"%s\" lacks the path or \"%s\"", label, msg, needle);
}

#define expect_fail(f, path, max, want, needle) expect_fail_l(f, needle, path, max, want, needle)

static const int64_t shapes[4][3] = {{0}, {5}, {3, 4}, {2, 3, 4}};

/* Write and read back ranks 0..3 of one dtype; elem is the element size. */
static void roundtrip(fx *f, int dtype, size_t elem, const void *pattern)
{
    char path[PATH_LEN];
    fpath(f, path, "rt.npy");
    unsigned char data[24 * 4];
    for (int rank = 0; rank <= 3; rank++) {
        size_t count = 1;
        for (int i = 0; i < rank; i++)
            count *= (size_t)shapes[rank][i];
        memcpy(data, pattern, count * elem);
        assert_int_equal(cim_npy_write(f->ctx, path, dtype, rank, shapes[rank], data), CIM_OK);
        struct stat sb;
        assert_int_equal(stat(path, &sb), 0);
        assert_int_equal(((size_t)sb.st_size - count * elem) % 64, 0); /* aligned preamble */
        cim_npy a;
        assert_int_equal(cim_npy_read(f->ctx, path, 0, &a), CIM_OK);
        assert_int_equal(a.dtype, dtype);
        assert_int_equal(a.rank, rank);
        assert_int_equal(a.count, count);
        for (int i = 0; i < rank; i++)
            assert_int_equal(a.shape[i], shapes[rank][i]);
        assert_memory_equal(a.data, data, count * elem);
        cim_npy_free(f->ctx, &a);
        assert_true(is_zeroed(&a));
        assert_int_equal(cim_npy_read_expect(f->ctx, path, dtype, rank, shapes[rank], &a), CIM_OK);
        cim_npy_free(f->ctx, &a);
    }
    assert_int_equal(count_tmp(f), 0);
}

static void test_roundtrip_int8(void **state)
{
    int8_t v[24];
    for (int i = 0; i < 24; i++)
        v[i] = (int8_t)(i * 11 - 128);
    roundtrip(*state, CIM_INT8, 1, v);
}

static void test_roundtrip_uint8(void **state)
{
    uint8_t v[24];
    for (int i = 0; i < 24; i++)
        v[i] = (uint8_t)(255 - i * 10);
    roundtrip(*state, CIM_UINT8, 1, v);
}

static void test_roundtrip_int32(void **state)
{
    int32_t v[24];
    for (int i = 0; i < 24; i++)
        v[i] = (int32_t)(i * 123456789u);
    v[0] = INT32_MIN;
    v[1] = INT32_MAX;
    roundtrip(*state, CIM_INT32, 4, v);
}

static void test_roundtrip_float32(void **state)
{
    float v[24];
    for (int i = 0; i < 24; i++)
        v[i] = (float)i * -0.37f + 1e-30f;
    v[0] = -0.0f;
    v[1] = 3.4e38f;
    roundtrip(*state, CIM_FLOAT32, 4, v);
}

static void test_roundtrip_empty_and_rank8(void **state)
{
    fx *f = *state;
    char path[PATH_LEN];
    fpath(f, path, "e.npy");
    const int64_t empty[2] = {3, 0};
    cim_npy a;
    assert_int_equal(cim_npy_write(f->ctx, path, CIM_INT32, 2, empty, NULL), CIM_OK);
    assert_int_equal(cim_npy_read(f->ctx, path, 0, &a), CIM_OK);
    assert_int_equal(a.rank, 2);
    assert_int_equal(a.count, 0);
    assert_int_equal(a.shape[1], 0);
    cim_npy_free(f->ctx, &a);

    const int64_t r8[8] = {1, 2, 1, 2, 1, 2, 1, 3};
    uint8_t d[24];
    for (int i = 0; i < 24; i++)
        d[i] = (uint8_t)i;
    assert_int_equal(cim_npy_write(f->ctx, path, CIM_UINT8, 8, r8, d), CIM_OK);
    assert_int_equal(cim_npy_read(f->ctx, path, 0, &a), CIM_OK);
    assert_int_equal(a.rank, 8);
    assert_int_equal(a.count, 24);
    assert_memory_equal(a.shape, r8, sizeof r8);
    assert_memory_equal(a.data, d, 24);
    cim_npy_free(f->ctx, &a);
    cim_npy_free(f->ctx, &a); /* safe on a zeroed struct */
    cim_npy_free(f->ctx, NULL);
}

/* numpy's layout: version 1.0, the dict numpy writes, space padding and a
 * final newline so that the data starts at byte 128. */
static void test_write_format(void **state)
{
    fx *f = *state;
    char path[PATH_LEN];
    fpath(f, path, "fmt.npy");
    const int64_t shape[2] = {3, 4};
    int32_t d[12] = {0};
    assert_int_equal(cim_npy_write(f->ctx, path, CIM_INT32, 2, shape, d), CIM_OK);
    unsigned char buf[256];
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    size_t n = fread(buf, 1, sizeof buf, fp);
    fclose(fp);
    assert_int_equal(n, 128 + 48);
    assert_memory_equal(buf, "\x93NUMPY\x01\x00", 8);
    assert_int_equal(buf[8] | buf[9] << 8, 128 - 10);
    const char *dict = "{'descr': '<i4', 'fortran_order': False, 'shape': (3, 4), }";
    assert_memory_equal(buf + 10, dict, strlen(dict));
    for (size_t i = 10 + strlen(dict); i < 127; i++)
        assert_int_equal(buf[i], ' ');
    assert_int_equal(buf[127], '\n');

    /* Rank 1 is written (5,), rank 0 (). */
    const int64_t s1[1] = {5};
    assert_int_equal(cim_npy_write(f->ctx, path, CIM_INT8, 1, s1, d), CIM_OK);
    fp = fopen(path, "rb");
    assert_non_null(fp);
    n = fread(buf, 1, sizeof buf, fp);
    fclose(fp);
    assert_int_equal(n, 128 + 5);
    assert_memory_equal(buf + 10, "{'descr': '|i1', 'fortran_order': False, 'shape': (5,), }", 57);
}

/* Versions 1.0, 2.0 and 3.0 (the last two with a 4-byte header length). The
 * preamble here is 72 or 74 bytes: readers must accept any alignment. */
static void test_read_versions(void **state)
{
    fx *f = *state;
    char path[PATH_LEN];
    fpath(f, path, "v.npy");
    const float d[3] = {1.5f, -2.0f, 0.25f};
    const char *hdr = "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }    \n";
    for (int major = 1; major <= 3; major++) {
        craft(path, major, 0, -1, hdr, d, sizeof d);
        cim_npy a;
        assert_int_equal(cim_npy_read(f->ctx, path, 0, &a), CIM_OK);
        assert_int_equal(a.dtype, CIM_FLOAT32);
        assert_int_equal(a.rank, 1);
        assert_int_equal(a.shape[0], 3);
        assert_memory_equal(a.data, d, sizeof d);
        cim_npy_free(f->ctx, &a);
    }
}

/* Headers other writers produce: any key order, double quotes, odd whitespace,
 * no trailing comma or newline, Python 2 'L' suffixes, other spellings of our dtypes. */
static void test_read_header_variants(void **state)
{
    static const struct { const char *hdr; int dtype, rank; int64_t d0; } ok[] = {
        {"{\"shape\": (2,), \"fortran_order\": False, \"descr\": \"<i4\"}", CIM_INT32, 1, 2},
        {"\n{ 'descr' :'<i4' ,\t'shape':( 2 , ) ,'fortran_order':False,}\r\n  ", CIM_INT32, 1, 2},
        {"{'descr': '=i4', 'fortran_order': False, 'shape': (2L,), }\n", CIM_INT32, 1, 2},
        {"{'descr': 'i4', 'fortran_order': False, 'shape': (1, 2,)}", CIM_INT32, 2, 1},
        {"{'descr': '<i1', 'fortran_order': False, 'shape': (8,), }\n", CIM_INT8, 1, 8},
        {"{'descr': '>u1', 'fortran_order': False, 'shape': (2, 4), }\n", CIM_UINT8, 2, 2},
        {"{'descr': 'u1', 'fortran_order': False, 'shape': (), }\n", CIM_UINT8, 0, 0},
    };
    fx *f = *state;
    char path[PATH_LEN];
    fpath(f, path, "var.npy");
    const unsigned char d[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        size_t n = ok[i].rank == 0 ? 1 : 8;
        craft(path, 1, 0, -1, ok[i].hdr, d, n);
        cim_npy a;
        cim_status st = cim_npy_read(f->ctx, path, 0, &a);
        if (st != CIM_OK)
            fail_msg("case %zu: %s", i, cim_ctx_errmsg(f->ctx));
        assert_int_equal(a.dtype, ok[i].dtype);
        assert_int_equal(a.rank, ok[i].rank);
        assert_int_equal(a.shape[0], ok[i].d0);
        assert_memory_equal(a.data, d, n);
        cim_npy_free(f->ctx, &a);
    }
}

static void test_bad_file_level(void **state)
{
    fx *f = *state;
    char path[PATH_LEN];
    fpath(f, path, "missing.npy");
    expect_fail(f, path, 0, CIM_ERR_IO, "cannot open");
    expect_fail(f, f->dir, 0, CIM_ERR_IO, "directory");
    fpath(f, path, "bad.npy");
    tu_write_file(path, "", 0);
    expect_fail(f, path, 0, CIM_ERR_FORMAT, "empty");
    tu_write_file(path, "\x93NUM", 4);
    expect_fail(f, path, 0, CIM_ERR_FORMAT, "too short");
    tu_write_file(path, "PK\x03\x04 this is a zip file, not npy", 32);
    expect_fail(f, path, 0, CIM_ERR_FORMAT, "magic");
    const char *hdr = "{'descr': '<i4', 'fortran_order': False, 'shape': (), }\n";
    const int v[4][2] = {{4, 0}, {1, 1}, {0, 0}, {2, 5}};
    for (int i = 0; i < 4; i++) {
        craft(path, v[i][0], v[i][1], -1, hdr, "abcd", 4);
        expect_fail(f, path, 0, CIM_ERR_FORMAT, "version");
    }
    tu_write_file(path, "\x93NUMPY\x01\x00\x40", 9); /* ends inside the length */
    expect_fail(f, path, 0, CIM_ERR_FORMAT, "header length");
    craft(path, 1, 0, 200, hdr, "abcd", 4); /* length past EOF */
    expect_fail(f, path, 0, CIM_ERR_FORMAT, "header length");
    craft(path, 2, 0, 0xffffffffl, hdr, "abcd", 4);
    expect_fail(f, path, 0, CIM_ERR_FORMAT, "header length");
}

/* Malformed headers: each must fail with CIM_ERR_FORMAT naming the file and the field. */
static void test_bad_headers(void **state)
{
#define H(descr, fo, shape) "{'descr': " descr ", 'fortran_order': " fo ", 'shape': " shape ", }\n"
    static const struct { const char *hdr, *needle; } bad[] = {
        {"", "expected a dict"},
        {"hello world\n", "expected a dict"},
        {"{'descr': '<i4', 'fortran_order': False, 'shape': (2,)\n", "',' or '}'"},
        {"{'descr': '<i4' 'fortran_order': False, 'shape': (2,)}", "',' or '}'"},
        {"{'descr' '<i4', 'fortran_order': False, 'shape': (2,)}", "':'"},
        {"{'descr': '<i4, 'fortran_order': False, 'shape': (2,)}", "header"},
        {"{'descr': <i4, 'fortran_order': False, 'shape': (2,)}", "'descr'"},
        {"{descr: '<i4', 'fortran_order': False, 'shape': (2,)}", "quoted string"},
        {H("'<i4'", "False", "(2,)") "junk", "padding"},
        {H("'<i4'", "False", "(2,)") "\0", "byte 0x00"},
        {H("'<i\\x34'", "False", "(2,)"), "'descr'"},
        {H("'<i4\xc3\xa9'", "False", "(2,)"), "byte 0xc3"},
        {H("'<i4'", "false", "(2,)"), "True or False"},
        {H("'<i4'", "0", "(2,)"), "'fortran_order'"},
        {H("'<i4'", "Falsey", "(2,)"), "'fortran_order'"},
        {H("'<i4'", "True", "(2,)"), "'fortran_order': True"},
        {H("'<i4'", "False", "(2)"), "not a tuple"},
        {H("'<i4'", "False", "[2]"), "'shape'"},
        {H("'<i4'", "False", "2"), "'shape'"},
        {H("'<i4'", "False", "(2,,)"), "'shape'"},
        {H("'<i4'", "False", "(2 2)"), "'shape'"},
        {H("'<i4'", "False", "(02,)"), "leading zeros"},
        {H("'<i4'", "False", "(2.0,)"), "'shape'"},
        {H("'<i4'", "False", "(2,"), "'shape'"},
        {H("'<i4'", "False", "(-3, 4)"), "-3 is negative"},
        {H("'<i4'", "False", "(1,1,1,1,1,1,1,1,1)"), "more than 8"},
        {H("'<i4'", "False", "(99999999999999999999,)"), "too large"},
        {H("'<i4'", "False", "(9223372036854775808,)"), "too large"},
        {H("'>i4'", "False", "(2,)"), "big-endian"},
        {H("'>f4'", "False", "(2,)"), "big-endian"},
        {H("'<f8'", "False", "(2,)"), "'descr': dtype '<f8' is not supported"},
        {H("'<u8'", "False", "(2,)"), "'<u8' is not supported"},
        {H("'<i2'", "False", "(2,)"), "'<i2' is not supported"},
        {H("'<u4'", "False", "(2,)"), "'<u4' is not supported"},
        {H("'|b1'", "False", "(2,)"), "'|b1' is not supported"},
        {H("'|O'", "False", "(2,)"), "'|O' is not supported"},
        {H("'<U3'", "False", "(2,)"), "'<U3' is not supported"},
        {H("'int32'", "False", "(2,)"), "'int32' is not supported"},
        {H("[('a', '<i4')]", "False", "(2,)"), "structured"},
        {"{'fortran_order': False, 'shape': (2,), }\n", "'descr' is missing"},
        {"{'descr': '<i4', 'shape': (2,), }\n", "'fortran_order' is missing"},
        {"{'descr': '<i4', 'fortran_order': False, }\n", "'shape' is missing"},
        {"{}", "'descr' is missing"},
        {"{'descr': '<i4', 'fortran_order': False, 'shape': (2,), 'x': 1}", "unknown key 'x'"},
        {"{'descr': '<i4', 'fortran_order': False, 'shape': (2,), 'shape': (2,)}", "twice"},
    };
#undef H
    fx *f = *state;
    char path[PATH_LEN];
    fpath(f, path, "hdr.npy");
    const unsigned char d[8] = {0};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        /* strlen stops at an embedded NUL: give that case its real length. */
        size_t hl = strlen(bad[i].hdr) + (strstr(bad[i].needle, "0x00") != NULL);
        craft_n(path, 1, 0, -1, bad[i].hdr, hl, d, sizeof d);
        char label[32];
        snprintf(label, sizeof label, "bad header %zu", i);
        expect_fail_l(f, label, path, 0, CIM_ERR_FORMAT, bad[i].needle);
    }
}

/* Absurd and over-limit shapes are rejected from the header alone: the only
 * allocation is the header's. */
static void test_bad_shape_size(void **state)
{
    fx *f = *state;
    char path[PATH_LEN];
    fpath(f, path, "big.npy");
    static const struct { const char *shape, *descr; size_t max; const char *needle; } c[] = {
        {"(1099511627776, 1099511627776)", "|i1", 1u << 20, "absurdly large"},
        {"(4294967296, 4294967296, 4294967296)", "|i1", 0, "absurdly large"},
        {"(4611686018427387904,)", "<i4", 0, "absurdly large"}, /* bytes overflow */
        {"(1099511627776, 1048576)", "|i1", 0, "more than the limit of 17179869184"},
        {"(100,)", "<i4", 399, "is 400 bytes, more than the limit of 399"},
        {"(17179869184,)", "|u1", 0, "truncated"}, /* at the limit: then too short */
    };
    char hdr[200];
    unsigned char d[400] = {0};
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        snprintf(hdr, sizeof hdr, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }\n",
                 c[i].descr, c[i].shape);
        craft(path, 1, 0, -1, hdr, d, sizeof d);
        f->max_size = 0;
        expect_fail(f, path, c[i].max, CIM_ERR_FORMAT, c[i].needle);
        assert_true(f->max_size < 1024);
    }
    /* Exactly at the limit is fine. */
    cim_npy a;
    craft(path, 1, 0, -1, "{'descr': '<i4', 'fortran_order': False, 'shape': (100,), }", d, 400);
    assert_int_equal(cim_npy_read(f->ctx, path, 400, &a), CIM_OK);
    assert_int_equal(a.count, 100);
    cim_npy_free(f->ctx, &a);
}

static void test_bad_data(void **state)
{
    fx *f = *state;
    char path[PATH_LEN];
    fpath(f, path, "data.npy");
    const char *h34 = "{'descr': '<i4', 'fortran_order': False, 'shape': (3, 4), }\n";
    unsigned char d[64] = {0};
    craft(path, 1, 0, -1, h34, d, 47);
    expect_fail(f, path, 0, CIM_ERR_FORMAT, "truncated (47 bytes, shape (3, 4) int32 needs 48)");
    craft(path, 1, 0, -1, h34, d, 0);
    expect_fail(f, path, 0, CIM_ERR_FORMAT, "data: truncated");
    craft(path, 1, 0, -1, h34, d, 49);
    expect_fail(f, path, 0, CIM_ERR_FORMAT, "1 trailing byte after");
    craft(path, 3, 0, -1, "{'descr': '|u1', 'fortran_order': False, 'shape': (), }", d, 0);
    expect_fail(f, path, 0, CIM_ERR_FORMAT, "truncated");
    craft(path, 1, 0, -1, "{'descr': '|u1', 'fortran_order': False, 'shape': (0,), }", d, 1);
    expect_fail(f, path, 0, CIM_ERR_FORMAT, "trailing");
}

/* Read `src` through a FIFO, where the size is not known up front and the
 * checks made while reading must catch what fstat would have. */
static void via_fifo(fx *f, const char *src, cim_status want, const char *needle)
{
    char path[PATH_LEN];
    fpath(f, path, "fifo.npy");
    unlink(path);
    assert_int_equal(mkfifo(path, 0600), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) { /* child: copy src into the FIFO; no cmocka here */
        alarm(20);  /* never outlive a parent that failed before opening the FIFO */
        int in = open(src, O_RDONLY), out = open(path, O_WRONLY);
        char buf[4096];
        ssize_t n;
        while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof buf)) > 0)
            if (write(out, buf, (size_t)n) != n)
                break;
        _exit(0);
    }
    if (want == CIM_OK) {
        cim_npy a;
        cim_status st = cim_npy_read(f->ctx, path, 0, &a);
        if (st != CIM_OK)
            fail_msg("%s", cim_ctx_errmsg(f->ctx));
        assert_int_equal(a.count, 12);
        cim_npy_free(f->ctx, &a);
    } else {
        expect_fail(f, path, 0, want, needle);
    }
    assert_int_equal(waitpid(pid, NULL, 0), pid);
}

static void test_read_fifo(void **state)
{
    fx *f = *state;
    char src[PATH_LEN];
    fpath(f, src, "src.npy");
    const char *h34 = "{'descr': '<i4', 'fortran_order': False, 'shape': (3, 4), }\n";
    unsigned char d[64] = {0};
    craft(src, 1, 0, -1, h34, d, 48);
    via_fifo(f, src, CIM_OK, NULL);
    craft(src, 1, 0, -1, h34, d, 47);
    via_fifo(f, src, CIM_ERR_FORMAT, "data: truncated");
    craft(src, 1, 0, -1, h34, d, 50);
    via_fifo(f, src, CIM_ERR_FORMAT, "trailing");
    craft(src, 1, 0, 300, h34, d, 0);
    via_fifo(f, src, CIM_ERR_FORMAT, "header length");
    craft(src, 2, 0, 0x7fffffffl, h34, d, 0);
    via_fifo(f, src, CIM_ERR_FORMAT, "is more than");
}

static void test_nomem(void **state)
{
    fx *f = *state;
    char path[PATH_LEN];
    fpath(f, path, "nomem.npy");
    const int64_t shape[1] = {4};
    const int32_t d[4] = {1, 2, 3, 4};
    assert_int_equal(cim_npy_write(f->ctx, path, CIM_INT32, 1, shape, d), CIM_OK);
    for (long n = 1; n <= 2; n++) { /* the header buffer, then the data */
        f->calls = 0;
        f->fail_at = n;
        expect_fail(f, path, 0, CIM_ERR_NOMEM, "out of memory");
        f->fail_at = 0;
    }
    char other[PATH_LEN];
    fpath(f, other, "nomem2.npy");
    f->calls = 0;
    f->fail_at = 1;
    assert_int_equal(cim_npy_write(f->ctx, other, CIM_INT32, 1, shape, d), CIM_ERR_NOMEM);
    f->fail_at = 0;
    assert_contains(cim_ctx_errmsg(f->ctx), other);
    assert_false(tu_file_exists(other));
    assert_int_equal(count_tmp(f), 0);
}

static void test_read_expect(void **state)
{
    fx *f = *state;
    char path[PATH_LEN];
    fpath(f, path, "W.npy");
    const int64_t s34[2] = {3, 4};
    int8_t d[12] = {0};
    assert_int_equal(cim_npy_write(f->ctx, path, CIM_INT8, 2, s34, d), CIM_OK);
    cim_npy a;
    static const int64_t any4[2] = {-1, 4}, s35[2] = {3, 5}, s12[1] = {12};
    assert_int_equal(cim_npy_read_expect(f->ctx, path, CIM_INT8, 2, any4, &a), CIM_OK);
    assert_int_equal(a.count, 12);
    cim_npy_free(f->ctx, &a);
    assert_int_equal(cim_npy_read_expect(f->ctx, path, CIM_INT8, 2, NULL, &a), CIM_OK);
    cim_npy_free(f->ctx, &a);

    static const struct {
        int dtype, rank;
        const int64_t *shape;
        cim_status st;
        const char *msg;
    } c[] = {
        {CIM_UINT8, 2, NULL, CIM_ERR_SHAPE, "W.npy: dtype is int8, expected uint8"},
        {CIM_FLOAT32, 2, NULL, CIM_ERR_SHAPE, "expected float32"},
        {CIM_INT8, 1, s12, CIM_ERR_SHAPE, "W.npy: rank 2 (shape (3, 4)), expected 1 (shape (12,))"},
        {CIM_INT8, 3, NULL, CIM_ERR_SHAPE, "rank 2 (shape (3, 4)), expected 3"},
        {CIM_INT8, 2, s35, CIM_ERR_SHAPE, "shape (3, 4), expected (3, 5) (dimension 1 is 4, "
                                          "expected 5)"},
        {7, 2, NULL, CIM_ERR_ARG, "dtype 7"},
        {CIM_INT8, 9, NULL, CIM_ERR_ARG, "rank 9"},
        {CIM_INT8, -1, NULL, CIM_ERR_ARG, "rank -1"},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        memset(&a, 0xab, sizeof a);
        assert_int_equal(cim_npy_read_expect(f->ctx, path, c[i].dtype, c[i].rank, c[i].shape, &a),
                         c[i].st);
        assert_true(is_zeroed(&a));
        assert_contains(cim_ctx_errmsg(f->ctx), path);
        assert_contains(cim_ctx_errmsg(f->ctx), c[i].msg);
    }
    const int64_t bad[2] = {-2, 4};
    assert_int_equal(cim_npy_read_expect(f->ctx, path, CIM_INT8, 2, bad, &a), CIM_ERR_ARG);
    fpath(f, path, "none.npy");
    assert_int_equal(cim_npy_read_expect(f->ctx, path, CIM_INT8, 2, s34, &a), CIM_ERR_IO);
    assert_contains(cim_ctx_errmsg(f->ctx), path);
    assert_true(is_zeroed(&a));
}

static void test_write_errors(void **state)
{
    fx *f = *state;
    char path[PATH_LEN];
    fpath(f, path, "out.npy");
    const int64_t s2[2] = {2, 2}, neg[2] = {2, -1}, huge[2] = {INT64_MAX, 4};
    const int32_t d[4] = {0};
    static const struct { int dtype, rank; int null_shape, null_data; const char *msg; } c[] = {
        {5, 2, 0, 0, "dtype 5"},  {-1, 2, 0, 0, "dtype -1"},      {CIM_INT32, 9, 0, 0, "rank 9"},
        {CIM_INT32, -1, 0, 0, "rank -1"}, {CIM_INT32, 2, 1, 0, "shape is NULL"},
        {CIM_INT32, 2, 0, 1, "data is NULL"},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        assert_int_equal(cim_npy_write(f->ctx, path, c[i].dtype, c[i].rank,
                                       c[i].null_shape ? NULL : s2, c[i].null_data ? NULL : d),
                         CIM_ERR_ARG);
        assert_contains(cim_ctx_errmsg(f->ctx), path);
        assert_contains(cim_ctx_errmsg(f->ctx), c[i].msg);
    }
    assert_int_equal(cim_npy_write(f->ctx, path, CIM_INT32, 2, neg, d), CIM_ERR_ARG);
    assert_contains(cim_ctx_errmsg(f->ctx), "negative");
    assert_int_equal(cim_npy_write(f->ctx, path, CIM_INT32, 2, huge, d), CIM_ERR_ARG);
    assert_contains(cim_ctx_errmsg(f->ctx), "too large");
    assert_false(tu_file_exists(path));

    /* A directory that does not exist, and a path that is a directory. */
    fpath(f, path, "no/such/dir.npy");
    assert_int_equal(cim_npy_write(f->ctx, path, CIM_INT32, 2, s2, d), CIM_ERR_IO);
    assert_contains(cim_ctx_errmsg(f->ctx), path);
    fpath(f, path, "adir");
    assert_int_equal(mkdir(path, 0777), 0);
    assert_int_equal(cim_npy_write(f->ctx, path, CIM_INT32, 2, s2, d), CIM_ERR_IO);
    assert_contains(cim_ctx_errmsg(f->ctx), path);
    assert_contains(cim_ctx_errmsg(f->ctx), "rename");
    assert_int_equal(count_tmp(f), 0);
}

/* A write that fails midway (file size limit, as with a full disk) leaves the old
 * file at path untouched and no temporary behind. */
static void test_write_failure_keeps_old(void **state)
{
    fx *f = *state;
    char path[PATH_LEN];
    fpath(f, path, "keep.npy");
    const int64_t small[1] = {3}, big[1] = {1 << 20};
    const uint8_t old[3] = {7, 8, 9};
    assert_int_equal(cim_npy_write(f->ctx, path, CIM_UINT8, 1, small, old), CIM_OK);
    uint8_t *d = calloc(1 << 20, 1);
    assert_non_null(d);
    struct rlimit saved, lim;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &saved), 0);
    lim = saved;
    lim.rlim_cur = 65536;
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    int set = setrlimit(RLIMIT_FSIZE, &lim) == 0;
    cim_status st = set ? cim_npy_write(f->ctx, path, CIM_UINT8, 1, big, d) : CIM_OK;
    if (set)
        assert_int_equal(setrlimit(RLIMIT_FSIZE, &saved), 0);
    signal(SIGXFSZ, prev);
    free(d);
    if (!set)
        skip();
    assert_int_equal(st, CIM_ERR_IO);
    assert_contains(cim_ctx_errmsg(f->ctx), path);
    assert_int_equal(count_tmp(f), 0);
    cim_npy a;
    assert_int_equal(cim_npy_read(f->ctx, path, 0, &a), CIM_OK);
    assert_int_equal(a.count, 3);
    assert_memory_equal(a.data, old, 3);
    cim_npy_free(f->ctx, &a);
}

/* The renamed file gets the usual permissions (0666 & ~umask), not mkstemp's 0600. */
static void test_write_mode(void **state)
{
    fx *f = *state;
    char path[PATH_LEN];
    fpath(f, path, "mode.npy");
    mode_t prev = umask(022);
    cim_status st = cim_npy_write(f->ctx, path, CIM_INT8, 0, NULL, "x");
    umask(prev);
    assert_int_equal(st, CIM_OK);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0644);
}

/* The default context (tu_ctx) works too, and NULL arguments are errors, not crashes. */
static void test_default_ctx_and_null_args(void **state)
{
    (void)state;
    cim_ctx *ctx = tu_ctx();
    char path[PATH_LEN];
    tu_path(path, sizeof path, "default.npy");
    const int64_t s[1] = {2};
    const float d[2] = {1.0f, 2.0f};
    assert_int_equal(cim_npy_write(ctx, path, CIM_FLOAT32, 1, s, d), CIM_OK);
    cim_npy a;
    assert_int_equal(cim_npy_read(ctx, path, 0, &a), CIM_OK);
    assert_memory_equal(a.data, d, sizeof d);
    cim_npy_free(ctx, &a);
    assert_int_equal(cim_npy_read(NULL, path, 0, &a), CIM_ERR_ARG);
    assert_int_equal(cim_npy_read(ctx, NULL, 0, &a), CIM_ERR_ARG);
    assert_true(is_zeroed(&a));
    assert_int_equal(cim_npy_read(ctx, path, 0, NULL), CIM_ERR_ARG);
    assert_int_equal(cim_npy_read_expect(ctx, path, CIM_INT8, 1, NULL, NULL), CIM_ERR_ARG);
    assert_int_equal(cim_npy_write(ctx, NULL, CIM_INT8, 1, s, d), CIM_ERR_ARG);
    assert_int_equal(cim_npy_write(NULL, path, CIM_INT8, 1, s, d), CIM_ERR_ARG);
    cim_ctx_destroy(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
        T(test_roundtrip_int8),
        T(test_roundtrip_uint8),
        T(test_roundtrip_int32),
        T(test_roundtrip_float32),
        T(test_roundtrip_empty_and_rank8),
        T(test_write_format),
        T(test_read_versions),
        T(test_read_header_variants),
        T(test_bad_file_level),
        T(test_bad_headers),
        T(test_bad_shape_size),
        T(test_bad_data),
        T(test_read_fifo),
        T(test_nomem),
        T(test_read_expect),
        T(test_write_errors),
        T(test_write_failure_keeps_old),
        T(test_write_mode),
        T(test_default_ctx_and_null_args),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
