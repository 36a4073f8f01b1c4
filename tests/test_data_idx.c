/* test_data_idx.c: the IDX reader (src/data/idx.h): the real Fashion-MNIST
 * files, the tiny gzip fixtures in tests/data/idx, and every malformed-input
 * path (bad magic, truncation at each part of the file, trailing bytes, zero
 * and huge dimensions, corrupt gzip streams, missing files, failed
 * allocations), each with the right status, a message naming the file and the
 * field, and nothing leaked. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "testutil.h"
#include "data/idx.h"

#define PATH_LEN 600
#define FMNIST "/usr/share/datasets/fashion-mnist"
#define FIXTURES CIMSIM_TEST_DATA "/idx"

typedef tu_fx fx; /* the counting, failing allocator and a fresh directory (testutil.h) */

static int setup(void **state)
{
    return tu_fx_setup(state, "idx");
}

static int teardown(void **state)
{
    return tu_fx_teardown(state);
}

/* The whole of a (small) file. */
static unsigned char *slurp(const char *path, size_t *n)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    unsigned char *buf = malloc(1 << 16);
    assert_non_null(buf);
    *n = fread(buf, 1, 1 << 16, fp);
    assert_true(*n > 0 && *n < (1 << 16));
    fclose(fp);
    return buf;
}

static int is_zeroed(const nn_idx *a)
{
    nn_idx z;
    memset(&z, 0, sizeof z);
    return memcmp(a, &z, sizeof z) == 0;
}

/* Reading path must fail with `want`; out zeroed; message names the file and
 * contains `needle`. */
static void expect_fail(fx *f, const char *path, int rank, cim_status want, const char *needle)
{
    nn_idx a;
    memset(&a, 0xab, sizeof a);
    cim_status st = nn_idx_read(f->ctx, path, rank, "images", &a);
    const char *msg = cim_ctx_errmsg(f->ctx);
    if (st != want)
        fail_msg("%s: status %d, expected %d (message \"%s\")", needle, st, want, msg);
    if (!is_zeroed(&a))
        fail_msg("%s: output not zeroed", needle);
    if (!strstr(msg, path) || !strstr(msg, needle))
        fail_msg("message \"%s\" lacks the path or \"%s\"", msg, needle);
}

/* A plain IDX image file of n images rows x cols (pattern as the fixture). */
static size_t make_images(unsigned char *buf, uint32_t n, uint32_t rows, uint32_t cols)
{
    const uint32_t h[4] = {0x803, n, rows, cols};
    for (int i = 0; i < 4; i++)
        for (int b = 0; b < 4; b++)
            buf[4 * i + b] = (unsigned char)(h[i] >> (24 - 8 * b));
    size_t k = 16;
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t r = 0; r < rows; r++)
            for (uint32_t c = 0; c < cols; c++)
                buf[k++] = (unsigned char)((i * 60 + r * 13 + c * 7) % 256);
    return k;
}

static void fpath(const fx *f, char *buf, const char *name)
{
    snprintf(buf, PATH_LEN, "%s/%s", f->dir, name);
}

static void test_real_test_set(void **state)
{
    fx *f = *state;
    nn_idx img, lab;
    cim_status st = nn_idx_read(f->ctx, FMNIST "/t10k-images-idx3-ubyte.gz", 3, "images", &img);
    if (st)
        fail_msg("%s (is the Debian package dataset-fashion-mnist installed? scripts/setup.sh "
                 "installs it)", cim_ctx_errmsg(f->ctx));
    assert_int_equal(img.rank, 3);
    assert_int_equal(img.dims[0], 10000);
    assert_int_equal(img.dims[1], 28);
    assert_int_equal(img.dims[2], 28);
    assert_int_equal(img.count, 10000 * 28 * 28);
    /* Known facts from numpy: image 0's pixel sum, two pixels, the total. */
    long s0 = 0;
    long long total = 0;
    for (size_t i = 0; i < 784; i++)
        s0 += img.data[i];
    for (size_t i = 0; i < img.count; i++)
        total += img.data[i];
    assert_int_equal(s0, 33456);
    assert_int_equal(img.data[14 * 28 + 14], 110);
    assert_int_equal(img.data[20 * 28 + 10], 126);
    assert_int_equal(total, 573469082LL);
    nn_idx_free(f->ctx, &img);
    assert_true(is_zeroed(&img));

    assert_int_equal(nn_idx_read(f->ctx, FMNIST "/t10k-labels-idx1-ubyte.gz", 1, "labels", &lab),
                     CIM_OK);
    assert_int_equal(lab.rank, 1);
    assert_int_equal(lab.dims[0], 10000);
    static const int first[10] = {9, 2, 1, 1, 6, 1, 4, 6, 5, 7};
    for (int i = 0; i < 10; i++)
        assert_int_equal(lab.data[i], first[i]);
    int hist[256] = {0};
    for (size_t i = 0; i < lab.count; i++)
        hist[lab.data[i]]++;
    for (int c = 0; c < 256; c++)
        assert_int_equal(hist[c], c < 10 ? 1000 : 0);
    nn_idx_free(f->ctx, &lab);
}

static void test_fixture_gz_and_plain(void **state)
{
    fx *f = *state;
    nn_idx a;
    assert_int_equal(nn_idx_read(f->ctx, FIXTURES "/t10k-images-idx3-ubyte.gz", 0, NULL, &a), CIM_OK);
    unsigned char want[16 + 60];
    size_t n = make_images(want, 3, 4, 5);
    assert_int_equal(a.rank, 3);
    assert_int_equal(a.dims[0], 3);
    assert_int_equal(a.dims[1], 4);
    assert_int_equal(a.dims[2], 5);
    assert_int_equal(a.count, 60);
    assert_memory_equal(a.data, want + 16, 60);
    nn_idx_free(f->ctx, &a);

    assert_int_equal(nn_idx_read(f->ctx, FIXTURES "/t10k-labels-idx1-ubyte.gz", 1, NULL, &a), CIM_OK);
    assert_int_equal(a.count, 3);
    assert_int_equal(a.data[0], 7);
    assert_int_equal(a.data[1], 0);
    assert_int_equal(a.data[2], 255); /* stored as is */
    nn_idx_free(f->ctx, &a);

    /* The same images uncompressed: gzread passes them through. */
    char path[PATH_LEN];
    fpath(f, path, "plain-idx3-ubyte");
    tu_write_file(path, want, n);
    assert_int_equal(nn_idx_read(f->ctx, path, 3, NULL, &a), CIM_OK);
    assert_memory_equal(a.data, want + 16, 60);
    nn_idx_free(f->ctx, &a);
}

static void test_bad_magic(void **state)
{
    fx *f = *state;
    unsigned char buf[16 + 60];
    size_t n = make_images(buf, 3, 4, 5);
    char path[PATH_LEN];
    fpath(f, path, "magic");
    static const struct { unsigned char m[4]; int rank; const char *needle; } cases[] = {
        {{0x1f, 0x8c, 0x08, 0x03}, 3, "not an IDX magic"},  /* neither IDX nor gzip */
        {{0x00, 0x01, 0x08, 0x03}, 3, "not an IDX magic"},
        {{0x00, 0x00, 0x08, 0x00}, 3, "not an IDX magic"},  /* rank 0 */
        {{0x00, 0x00, 0x0d, 0x03}, 3, "element type 0x0d"}, /* float32 IDX */
        {{0x00, 0x00, 0x08, 0x01}, 3, "rank 1, want 3"},    /* labels given as images */
        {{0x00, 0x00, 0x08, 0x09}, 0, "rank 9 is more than"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memcpy(buf, cases[i].m, 4);
        tu_write_file(path, buf, n);
        expect_fail(f, path, cases[i].rank, CIM_ERR_FORMAT, cases[i].needle);
        expect_fail(f, path, cases[i].rank, CIM_ERR_FORMAT, "images: magic");
    }
}

static void test_truncated(void **state)
{
    fx *f = *state;
    unsigned char buf[16 + 60];
    size_t n = make_images(buf, 3, 4, 5);
    char path[PATH_LEN];
    fpath(f, path, "trunc");
    static const struct { size_t len; const char *needle; } cases[] = {
        {0, "file is empty"},       {2, "magic: truncated"},     {7, "dimensions: truncated"},
        {15, "dimensions: truncated"}, {16, "data: truncated (0 of 60"},
        {46, "data: truncated (30 of 60"}, {75, "data: truncated (59 of 60"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tu_write_file(path, buf, cases[i].len);
        expect_fail(f, path, 3, CIM_ERR_FORMAT, cases[i].needle);
    }
    /* The full file reads. */
    tu_write_file(path, buf, n);
    nn_idx a;
    assert_int_equal(nn_idx_read(f->ctx, path, 3, NULL, &a), CIM_OK);
    nn_idx_free(f->ctx, &a);
}

static void test_trailing(void **state)
{
    fx *f = *state;
    unsigned char buf[16 + 60 + 1000] = {0};
    size_t n = make_images(buf, 3, 4, 5);
    char path[PATH_LEN];
    fpath(f, path, "trail");
    tu_write_file(path, buf, n + 1);
    expect_fail(f, path, 3, CIM_ERR_FORMAT, "data: 1 trailing byte after the 60 bytes");
    tu_write_file(path, buf, n + 1000);
    expect_fail(f, path, 3, CIM_ERR_FORMAT, "data: at least 256 trailing bytes");
}

static void test_dims(void **state)
{
    fx *f = *state;
    unsigned char buf[16 + 60];
    size_t n = make_images(buf, 3, 4, 5);
    char path[PATH_LEN];
    fpath(f, path, "dims");
    for (int d = 0; d < 3; d++) { /* a zero in each position */
        unsigned char b[sizeof buf];
        memcpy(b, buf, n);
        memset(b + 4 + 4 * d, 0, 4);
        tu_write_file(path, b, n);
        char needle[32];
        snprintf(needle, sizeof needle, "dimension %d: is zero", d);
        expect_fail(f, path, 3, CIM_ERR_FORMAT, needle);
    }
    /* Huge: 100000 x 100000 x 5 and 0xffffffff x 4 x 5, caught before allocating. */
    unsigned char b[sizeof buf];
    memcpy(b, buf, n);
    const unsigned char big[4] = {0x00, 0x01, 0x86, 0xa0}; /* 100000 */
    memcpy(b + 4, big, 4);
    memcpy(b + 8, big, 4);
    tu_write_file(path, b, n);
    expect_fail(f, path, 3, CIM_ERR_FORMAT, "dimensions: 100000x100000x... is more than the limit");
    memcpy(b, buf, n);
    memset(b + 4, 0xff, 4);
    tu_write_file(path, b, n);
    expect_fail(f, path, 3, CIM_ERR_FORMAT, "dimensions: 4294967295x... is more than the limit");
    /* Within the limit but far more than the file holds: truncated, not NOMEM. */
    memcpy(b, buf, n);
    memcpy(b + 4, big, 4);
    tu_write_file(path, b, n);
    expect_fail(f, path, 3, CIM_ERR_FORMAT, "data: truncated (60 of 2000000 bytes for dimensions 100000x4x5)");
}

static void test_corrupt_gzip(void **state)
{
    fx *f = *state;
    size_t n;
    unsigned char *gz = slurp(FIXTURES "/t10k-images-idx3-ubyte.gz", &n);
    char path[PATH_LEN];
    fpath(f, path, "bad.gz");
    /* Cut short: inside the gzip header, inside the deflate data, in the trailer. */
    const size_t cuts[] = {5, 30, n - 4};
    for (size_t i = 0; i < 3; i++) {
        tu_write_file(path, gz, cuts[i]);
        expect_fail(f, path, 3, CIM_ERR_FORMAT, "corrupt gzip stream");
    }
    /* A wrong CRC-32 (trailer bytes n-8..n-5) and a wrong length (n-4..n-1). */
    const size_t flips[] = {n - 8, n - 2};
    for (size_t i = 0; i < 2; i++) {
        unsigned char *b = malloc(n);
        assert_non_null(b);
        memcpy(b, gz, n);
        b[flips[i]] ^= 0x5a;
        tu_write_file(path, b, n);
        expect_fail(f, path, 3, CIM_ERR_FORMAT, "corrupt gzip stream");
        free(b);
    }
    /* Garbage in the deflate data: some error, always FORMAT naming the file. */
    for (size_t at = 12; at < n - 8; at += 7) {
        unsigned char *b = malloc(n);
        assert_non_null(b);
        memcpy(b, gz, n);
        b[at] ^= 0xff;
        tu_write_file(path, b, n);
        expect_fail(f, path, 3, CIM_ERR_FORMAT, "images: ");
        free(b);
    }
    free(gz);
}

static void test_missing(void **state)
{
    fx *f = *state;
    char path[PATH_LEN];
    fpath(f, path, "no-such-idx3-ubyte.gz");
    expect_fail(f, path, 3, CIM_ERR_IO, "No such file");
    expect_fail(f, f->dir, 3, CIM_ERR_IO, "directory");
    nn_idx a;
    assert_int_equal(nn_idx_read(f->ctx, NULL, 3, NULL, &a), CIM_ERR_ARG);
    assert_int_equal(nn_idx_read(f->ctx, path, 3, NULL, NULL), CIM_ERR_ARG);
}

/* Every allocation failing in turn: NOMEM (or success once enough succeed),
 * never a leak (teardown checks). */
static void test_alloc_failures(void **state)
{
    fx *f = *state;
    int ok = 0;
    for (long k = 1; k < 50 && !ok; k++) {
        f->calls = 0;
        f->fail_at = k;
        nn_idx a;
        cim_status st = nn_idx_read(f->ctx, FIXTURES "/t10k-images-idx3-ubyte.gz", 3, NULL, &a);
        if (st == CIM_OK) {
            ok = 1;
            nn_idx_free(f->ctx, &a);
        } else {
            assert_int_equal(st, CIM_ERR_NOMEM);
            assert_true(is_zeroed(&a));
        }
    }
    f->fail_at = 0;
    assert_true(ok);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_real_test_set), T(test_fixture_gz_and_plain), T(test_bad_magic), T(test_truncated),
        T(test_trailing),      T(test_dims),        T(test_corrupt_gzip),       T(test_missing),
        T(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
