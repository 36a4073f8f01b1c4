/* npy.c: NumPy .npy files (cimsim/npy.h).
 *
 * Layout (numpy/lib/format.py): the magic "\x93NUMPY", a major and a minor
 * version byte, the header length (uint16 LE in 1.0, uint32 LE in 2.0 and 3.0),
 * the header itself, an ASCII Python dict literal such as
 *   {'descr': '<i4', 'fortran_order': False, 'shape': (3, 4), }
 * padded with spaces and ended by '\n', and then the raw C-order data.
 * The header is parsed as the small subset of Python literal syntax that those
 * three keys need, not with string matching, so key order, quoting, whitespace
 * and trailing commas may vary as they do in files from other writers.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "internal.h"

/* Data is copied between file and memory as is: '<' (little-endian) is the
 * host order. A big-endian port would need byte swapping in read and write. */
#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "npy.c assumes a little-endian host"
#endif

#define NPY_MAGIC "\x93NUMPY"
#define NPY_MAGIC_LEN 6
#define NPY_ALIGN 64
/* Headers we accept are a few hundred bytes; this only bounds the allocation
 * a hostile header length can cause. */
#define NPY_MAX_HEADER (1u << 20)
#define NPY_DEFAULT_MAX_BYTES ((uint64_t)16 << 30)
#define NPY_WANT "want |i1, |u1, <i4 or <f4"

typedef struct npy_type {
    int dtype;
    char kind; /* numpy type character: 'i', 'u', 'f' */
    unsigned size;
    const char *descr; /* what cim_npy_write puts in the header */
    const char *name;
} npy_type;

static const npy_type npy_types[] = {
    {CIM_INT8, 'i', 1, "|i1", "int8"},
    {CIM_UINT8, 'u', 1, "|u1", "uint8"},
    {CIM_INT32, 'i', 4, "<i4", "int32"},
    {CIM_DTYPE_FLOAT32, 'f', 4, "<f4", "float32"},
};

static const npy_type *type_of(int dtype)
{
    for (size_t i = 0; i < sizeof npy_types / sizeof npy_types[0]; i++)
        if (npy_types[i].dtype == dtype)
            return &npy_types[i];
    return NULL;
}

/* strerror is not guaranteed thread-safe; contexts may be used concurrently. */
static const char *errstr(int e, char *buf, size_t n)
{
    if (strerror_r(e, buf, n) != 0)
        snprintf(buf, n, "error %d", e);
    return buf;
}

/* A shape as Python writes the tuple: (), (5,), (3, 4). -1 (any) prints as '?'. */
static const char *fmt_shape(char *buf, size_t n, int rank, const int64_t *shape)
{
    size_t len = (size_t)snprintf(buf, n, "(");
    for (int i = 0; i < rank && len < n; i++) {
        const char *sep = i + 1 < rank ? ", " : rank == 1 ? "," : "";
        if (shape[i] < 0)
            len += (size_t)snprintf(buf + len, n - len, "?%s", sep);
        else
            len += (size_t)snprintf(buf + len, n - len, "%" PRId64 "%s", shape[i], sep);
    }
    if (len < n)
        snprintf(buf + len, n - len, ")");
    return buf;
}

/* Element count and byte size of a shape (dims >= 0); -1 on overflow. Any zero
 * dimension makes the array empty, however large the others are. */
static int shape_size(int rank, const int64_t *shape, unsigned size, uint64_t *count,
                      uint64_t *bytes)
{
    uint64_t c = 1;
    int overflow = 0;
    for (int i = 0; i < rank; i++) {
        if (shape[i] == 0) {
            *count = *bytes = 0;
            return 0;
        }
        overflow |= __builtin_mul_overflow(c, (uint64_t)shape[i], &c);
    }
    if (overflow || __builtin_mul_overflow(c, (uint64_t)size, bytes))
        return -1;
    *count = c;
    return 0;
}

/* ---- header parser ---- */

typedef struct hdr_parser {
    cim_ctx *ctx;
    const char *path;
    const char *start, *p, *end; /* header text, cursor, end */
} hdr_parser;

typedef struct npy_header {
    const npy_type *type;
    int fortran_order;
    int rank;
    int64_t shape[CIM_NPY_MAX_RANK];
} npy_header;

static void skip_ws(hdr_parser *h)
{
    while (h->p < h->end && (*h->p == ' ' || *h->p == '\t' || *h->p == '\n' || *h->p == '\r' ||
                             *h->p == '\f'))
        h->p++;
}

/* A syntax error at the cursor: what was expected and what is there. */
static cim_status syntax(hdr_parser *h, const char *field, const char *expected)
{
    ptrdiff_t off = h->p - h->start;
    if (h->p >= h->end)
        return cim__err(h->ctx, CIM_ERR_FORMAT, "%s: %s: expected %s, found the end of the header",
                        h->path, field, expected);
    unsigned char c = (unsigned char)*h->p;
    if (c >= 0x20 && c < 0x7f)
        return cim__err(h->ctx, CIM_ERR_FORMAT, "%s: %s: expected %s at offset %td, found '%c'",
                        h->path, field, expected, off, c);
    return cim__err(h->ctx, CIM_ERR_FORMAT, "%s: %s: expected %s at offset %td, found byte 0x%02x",
                    h->path, field, expected, off, c);
}

static int at(hdr_parser *h, char c) { return h->p < h->end && *h->p == c; }

/* A quoted string ('...' or "...") of printable ASCII into buf. Escapes never
 * occur in the strings we accept, so a backslash is an error. */
static cim_status parse_string(hdr_parser *h, const char *field, char *buf, size_t cap)
{
    if (!at(h, '\'') && !at(h, '"'))
        return syntax(h, field, "a quoted string");
    char q = *h->p++;
    size_t n = 0;
    while (h->p < h->end && *h->p != q) {
        unsigned char c = (unsigned char)*h->p;
        if (c < 0x20 || c >= 0x7f || c == '\\')
            return syntax(h, field, "a plain ASCII string");
        if (n + 1 >= cap)
            return cim__err(h->ctx, CIM_ERR_FORMAT, "%s: %s: string at offset %td is too long",
                            h->path, field, h->p - h->start);
        buf[n++] = (char)c;
        h->p++;
    }
    if (h->p >= h->end)
        return syntax(h, field, "a closing quote");
    h->p++;
    buf[n] = '\0';
    return CIM_OK;
}

static int is_ident(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* True or False, as a whole word. */
static cim_status parse_bool(hdr_parser *h, const char *field, int *v)
{
    static const char *const words[2] = {"False", "True"};
    for (int b = 0; b < 2; b++) {
        size_t n = strlen(words[b]);
        if ((size_t)(h->end - h->p) >= n && memcmp(h->p, words[b], n) == 0 &&
            (h->p + n == h->end || !is_ident(h->p[n]))) {
            h->p += n;
            *v = b;
            return CIM_OK;
        }
    }
    return syntax(h, field, "True or False");
}

/* A dimension: a Python int literal (no leading zeros), optionally with the 'L'
 * suffix that numpy under Python 2 wrote. A sign is parsed so that a negative
 * dimension gets its own message. */
static cim_status parse_dim(hdr_parser *h, const char *field, int64_t *v)
{
    int neg = 0;
    if (at(h, '-') || at(h, '+')) {
        neg = *h->p++ == '-';
        skip_ws(h);
    }
    const char *digits = h->p;
    uint64_t x = 0;
    int overflow = 0;
    while (h->p < h->end && *h->p >= '0' && *h->p <= '9') {
        unsigned d = (unsigned)(*h->p++ - '0');
        if (x > (UINT64_MAX - d) / 10)
            overflow = 1;
        else
            x = x * 10 + d;
    }
    if (h->p == digits)
        return syntax(h, field, "an integer");
    if (h->p - digits > 1 && *digits == '0') {
        h->p = digits;
        return syntax(h, field, "an integer without leading zeros");
    }
    if (at(h, 'L') || at(h, 'l'))
        h->p++;
    if (h->p < h->end && is_ident(*h->p))
        return syntax(h, field, "',' or ')' after an integer");
    if (neg && (x != 0 || overflow))
        return cim__err(h->ctx, CIM_ERR_FORMAT, "%s: %s: dimension -%.*s is negative", h->path,
                        field, (int)(h->p - digits), digits);
    if (overflow || x > (uint64_t)INT64_MAX)
        return cim__err(h->ctx, CIM_ERR_FORMAT, "%s: %s: dimension %.*s is too large", h->path,
                        field, (int)(h->p - digits), digits);
    *v = (int64_t)x;
    return CIM_OK;
}

/* A tuple of dimensions: (), (5,), (3, 4), (3, 4,). (5) is an int in Python,
 * not a tuple, and numpy rejects it too. */
static cim_status parse_shape(hdr_parser *h, npy_header *hd)
{
    static const char field[] = "header field 'shape'";
    const char *open = h->p;
    if (!at(h, '('))
        return syntax(h, field, "a tuple such as (3, 4)");
    h->p++;
    hd->rank = 0;
    int comma = 0; /* a comma followed the last element */
    for (;;) {
        skip_ws(h);
        if (at(h, ')'))
            break;
        if (hd->rank > 0 && !comma)
            return syntax(h, field, "',' or ')'");
        if (hd->rank == CIM_NPY_MAX_RANK)
            return cim__err(h->ctx, CIM_ERR_FORMAT, "%s: %s: more than %d dimensions", h->path,
                            field, CIM_NPY_MAX_RANK);
        cim_status st = parse_dim(h, field, &hd->shape[hd->rank]);
        if (st)
            return st;
        hd->rank++;
        skip_ws(h);
        comma = at(h, ',');
        if (comma)
            h->p++;
    }
    if (hd->rank == 1 && !comma)
        return cim__err(h->ctx, CIM_ERR_FORMAT,
                        "%s: %s: %.*s is not a tuple (a 1-d shape is written (n,))", h->path, field,
                        (int)(h->p + 1 - open), open);
    h->p++;
    return CIM_OK;
}

/* Map a numpy type string ([byte order] kind size, e.g. '<i4') to our dtypes. */
static cim_status parse_descr(hdr_parser *h, npy_header *hd)
{
    static const char field[] = "header field 'descr'";
    char d[64];
    if (at(h, '['))
        return cim__err(h->ctx, CIM_ERR_FORMAT,
                        "%s: %s: structured dtypes are not supported (" NPY_WANT ")", h->path, field);
    cim_status st = parse_string(h, field, d, sizeof d);
    if (st)
        return st;
    const char *s = d;
    char order = '=';
    if (*s && strchr("<>|=", *s))
        order = *s++;
    char kind = *s ? *s++ : '\0';
    unsigned size = 0;
    if (strcmp(s, "1") == 0)
        size = 1;
    else if (strcmp(s, "4") == 0)
        size = 4;
    for (size_t i = 0; size && i < sizeof npy_types / sizeof npy_types[0]; i++) {
        if (npy_types[i].kind != kind || npy_types[i].size != size)
            continue;
        /* Byte order is meaningless for one byte; '=' and '|' are the host's. */
        if (size > 1 && order == '>')
            return cim__err(h->ctx, CIM_ERR_FORMAT,
                            "%s: %s: dtype '%s' is big-endian, which is not supported (" NPY_WANT ")",
                            h->path, field, d);
        hd->type = &npy_types[i];
        return CIM_OK;
    }
    return cim__err(h->ctx, CIM_ERR_FORMAT, "%s: %s: dtype '%s' is not supported (" NPY_WANT ")",
                    h->path, field, d);
}

static cim_status parse_header(cim_ctx *ctx, const char *path, const char *text, size_t len,
                               npy_header *hd)
{
    static const char *const keys[3] = {"descr", "fortran_order", "shape"};
    hdr_parser h = {ctx, path, text, text, text + len};
    int seen[3] = {0, 0, 0};
    skip_ws(&h);
    if (!at(&h, '{'))
        return syntax(&h, "header", "a dict '{'");
    h.p++;
    for (;;) {
        skip_ws(&h);
        if (at(&h, '}'))
            break;
        char key[32];
        cim_status st = parse_string(&h, "header", key, sizeof key);
        if (st)
            return st;
        int k = 0;
        while (k < 3 && strcmp(key, keys[k]) != 0)
            k++;
        if (k == 3)
            return cim__err(ctx, CIM_ERR_FORMAT,
                            "%s: header: unknown key '%s' (want 'descr', 'fortran_order', 'shape')",
                            path, key);
        if (seen[k]++)
            return cim__err(ctx, CIM_ERR_FORMAT, "%s: header field '%s' appears twice", path, key);
        skip_ws(&h);
        if (!at(&h, ':'))
            return syntax(&h, "header", "':' after a key");
        h.p++;
        skip_ws(&h);
        if (k == 0)
            st = parse_descr(&h, hd);
        else if (k == 1)
            st = parse_bool(&h, "header field 'fortran_order'", &hd->fortran_order);
        else
            st = parse_shape(&h, hd);
        if (st)
            return st;
        skip_ws(&h);
        if (at(&h, ','))
            h.p++;
        else if (!at(&h, '}'))
            return syntax(&h, "header", "',' or '}'");
    }
    h.p++;
    skip_ws(&h); /* the padding and the final '\n' */
    if (h.p != h.end)
        return syntax(&h, "header", "only padding after the dict");
    for (int k = 0; k < 3; k++)
        if (!seen[k])
            return cim__err(ctx, CIM_ERR_FORMAT, "%s: header field '%s' is missing", path, keys[k]);
    if (hd->fortran_order)
        return cim__err(ctx, CIM_ERR_FORMAT,
                        "%s: header field 'fortran_order': True is not supported (C order only)",
                        path);
    return CIM_OK;
}

/* ---- reading ---- */

/* Everything after fopen. On failure nothing is left allocated. */
static cim_status read_stream(cim_ctx *ctx, const char *path, FILE *f, size_t max_bytes,
                              cim_npy *out)
{
    char eb[128];
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0)
        return cim__err(ctx, CIM_ERR_IO, "%s: %s", path, errstr(errno, eb, sizeof eb));
    if (S_ISDIR(sb.st_mode))
        return cim__err(ctx, CIM_ERR_IO, "%s: is a directory", path);
    /* For regular files the size lets truncation be found before allocating. */
    int sized = S_ISREG(sb.st_mode);
    uint64_t fsize = sized ? (uint64_t)sb.st_size : 0;

    unsigned char pre[12];
    size_t n = fread(pre, 1, 8, f);
    if (n < 8) {
        if (ferror(f))
            return cim__err(ctx, CIM_ERR_IO, "%s: read error", path);
        return cim__err(ctx, CIM_ERR_FORMAT, "%s: %s", path,
                        n == 0 ? "file is empty" : "file is too short for the NPY magic");
    }
    if (memcmp(pre, NPY_MAGIC, NPY_MAGIC_LEN) != 0)
        return cim__err(ctx, CIM_ERR_FORMAT, "%s: magic: not an NPY file (no \\x93NUMPY)", path);
    unsigned major = pre[6], minor = pre[7];
    if (minor != 0 || major < 1 || major > 3)
        return cim__err(ctx, CIM_ERR_FORMAT,
                        "%s: version: %u.%u is not supported (want 1.0, 2.0 or 3.0)", path, major,
                        minor);
    size_t lenbytes = major == 1 ? 2 : 4;
    if (fread(pre + 8, 1, lenbytes, f) != lenbytes)
        return cim__err(ctx, CIM_ERR_FORMAT, "%s: header length: file ends inside it", path);
    uint32_t hlen = (uint32_t)pre[8] | (uint32_t)pre[9] << 8;
    if (lenbytes == 4)
        hlen |= (uint32_t)pre[10] << 16 | (uint32_t)pre[11] << 24;
    uint64_t data_off = 8 + lenbytes + (uint64_t)hlen;
    if (sized && data_off > fsize)
        return cim__err(ctx, CIM_ERR_FORMAT,
                        "%s: header length: %" PRIu32 " bytes goes past the end of the file (%" PRIu64
                        " bytes)", path, hlen, fsize);
    if (hlen > NPY_MAX_HEADER)
        return cim__err(ctx, CIM_ERR_FORMAT, "%s: header length: %" PRIu32 " is more than %u",
                        path, hlen, NPY_MAX_HEADER);

    char *text = cim__malloc(ctx, hlen);
    if (!text)
        return cim__err(ctx, CIM_ERR_NOMEM, "%s: out of memory reading the header", path);
    if (fread(text, 1, hlen, f) != hlen) {
        cim__free(ctx, text);
        return cim__err(ctx, CIM_ERR_FORMAT, "%s: header length: file ends inside the header", path);
    }
    npy_header hd;
    memset(&hd, 0, sizeof hd);
    cim_status st = parse_header(ctx, path, text, hlen, &hd);
    cim__free(ctx, text);
    if (st)
        return st;

    /* Size checks, all before the data is allocated. */
    char sb1[256];
    uint64_t count, bytes;
    if (shape_size(hd.rank, hd.shape, hd.type->size, &count, &bytes))
        return cim__err(ctx, CIM_ERR_FORMAT, "%s: header field 'shape': %s is absurdly large",
                        path, fmt_shape(sb1, sizeof sb1, hd.rank, hd.shape));
    uint64_t limit = max_bytes ? (uint64_t)max_bytes : NPY_DEFAULT_MAX_BYTES;
    if (bytes > limit || bytes != (size_t)bytes)
        return cim__err(ctx, CIM_ERR_FORMAT,
                        "%s: header field 'shape': %s %s is %" PRIu64
                        " bytes, more than the limit of %" PRIu64,
                        path, fmt_shape(sb1, sizeof sb1, hd.rank, hd.shape), hd.type->name, bytes,
                        limit);
    if (sized && fsize - data_off < bytes)
        return cim__err(ctx, CIM_ERR_FORMAT,
                        "%s: data: truncated (%" PRIu64 " bytes, shape %s %s needs %" PRIu64 ")",
                        path, fsize - data_off, fmt_shape(sb1, sizeof sb1, hd.rank, hd.shape),
                        hd.type->name, bytes);
    if (sized && fsize - data_off > bytes)
        return cim__err(ctx, CIM_ERR_FORMAT, "%s: data: %" PRIu64 " trailing bytes after the array",
                        path, fsize - data_off - bytes);

    void *data = cim__malloc(ctx, (size_t)bytes);
    if (!data)
        return cim__err(ctx, CIM_ERR_NOMEM, "%s: out of memory allocating %" PRIu64 " bytes", path,
                        bytes);
    /* Checked again while reading: the file may not be regular, or may change. */
    if (fread(data, 1, (size_t)bytes, f) != bytes) {
        st = ferror(f) ? cim__err(ctx, CIM_ERR_IO, "%s: read error", path)
                       : cim__err(ctx, CIM_ERR_FORMAT, "%s: data: truncated", path);
    } else if (fgetc(f) != EOF) {
        st = cim__err(ctx, CIM_ERR_FORMAT, "%s: data: trailing bytes after the array", path);
    } else if (ferror(f)) {
        st = cim__err(ctx, CIM_ERR_IO, "%s: read error", path);
    }
    if (st) {
        cim__free(ctx, data);
        return st;
    }
    out->dtype = hd.type->dtype;
    out->rank = hd.rank;
    memcpy(out->shape, hd.shape, sizeof hd.shape);
    out->count = (size_t)count;
    out->data = data;
    return CIM_OK;
}

cim_status cim_npy_read(cim_ctx *ctx, const char *path, size_t max_bytes, cim_npy *out)
{
    if (out)
        memset(out, 0, sizeof *out);
    if (!ctx || !path || !out)
        return cim__err(ctx, CIM_ERR_ARG, "cim_npy_read: %s is NULL",
                        !ctx ? "ctx" : !path ? "path" : "out");
    FILE *f = fopen(path, "rb");
    if (!f) {
        char eb[128];
        return cim__err(ctx, CIM_ERR_IO, "%s: cannot open: %s", path, errstr(errno, eb, sizeof eb));
    }
    cim_status st = read_stream(ctx, path, f, max_bytes, out);
    fclose(f); /* read-only: nothing to lose */
    return st;
}

cim_status cim_npy_read_expect(cim_ctx *ctx, const char *path, int dtype, int rank,
                               const int64_t *shape, cim_npy *out)
{
    if (out)
        memset(out, 0, sizeof *out);
    if (!ctx || !path || !out)
        return cim__err(ctx, CIM_ERR_ARG, "cim_npy_read_expect: %s is NULL",
                        !ctx ? "ctx" : !path ? "path" : "out");
    const npy_type *want = type_of(dtype);
    if (!want)
        return cim__err(ctx, CIM_ERR_ARG, "%s: expected dtype %d is not a cim_dtype", path, dtype);
    if (rank < 0 || rank > CIM_NPY_MAX_RANK)
        return cim__err(ctx, CIM_ERR_ARG, "%s: expected rank %d is not in 0..%d", path, rank,
                        CIM_NPY_MAX_RANK);
    for (int i = 0; shape && i < rank; i++)
        if (shape[i] < -1)
            return cim__err(ctx, CIM_ERR_ARG, "%s: expected dimension %d is %" PRId64
                            " (want >= 0, or -1 for any)", path, i, shape[i]);
    cim_status st = cim_npy_read(ctx, path, 0, out);
    if (st)
        return st;
    char s1[256], s2[256];
    if (out->dtype != dtype) {
        st = cim__err(ctx, CIM_ERR_SHAPE, "%s: dtype is %s, expected %s", path,
                      type_of(out->dtype)->name, want->name);
    } else if (out->rank != rank) {
        fmt_shape(s1, sizeof s1, out->rank, out->shape);
        if (shape)
            st = cim__err(ctx, CIM_ERR_SHAPE, "%s: rank %d (shape %s), expected %d (shape %s)",
                          path, out->rank, s1, rank, fmt_shape(s2, sizeof s2, rank, shape));
        else
            st = cim__err(ctx, CIM_ERR_SHAPE, "%s: rank %d (shape %s), expected %d", path,
                          out->rank, s1, rank);
    } else {
        for (int i = 0; shape && i < rank && !st; i++)
            if (shape[i] >= 0 && out->shape[i] != shape[i])
                st = cim__err(ctx, CIM_ERR_SHAPE,
                              "%s: shape %s, expected %s (dimension %d is %" PRId64
                              ", expected %" PRId64 ")",
                              path, fmt_shape(s1, sizeof s1, rank, out->shape),
                              fmt_shape(s2, sizeof s2, rank, shape), i, out->shape[i], shape[i]);
    }
    if (st)
        cim_npy_free(ctx, out);
    return st;
}

void cim_npy_free(cim_ctx *ctx, cim_npy *a)
{
    if (!a)
        return;
    if (ctx)
        cim__free(ctx, a->data);
    memset(a, 0, sizeof *a);
}

/* ---- writing ---- */

/* Create path.tmpXXXXXXXXXXXX exclusively. Not mkstemp: that makes the file
 * 0600, and the renamed result should get the usual 0666 & ~umask. */
static int open_temp(const char *path, char *tmp, size_t cap)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t x = (uint64_t)ts.tv_nsec ^ (uint64_t)ts.tv_sec << 30 ^ (uint64_t)getpid() << 12 ^
                 (uint64_t)(uintptr_t)tmp;
    for (int tries = 0; tries < 100; tries++) {
        x += 0x9e3779b97f4a7c15ull; /* splitmix64 step */
        uint64_t z = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        snprintf(tmp, cap, "%s.tmp%012" PRIx64, path, (uint64_t)((z ^ (z >> 31)) & 0xffffffffffffu));
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    return -1;
}

/* The magic, version, length and header padded so the data starts on a
 * multiple of 64. Returns the length, 0 if buf is too small. */
static size_t build_preamble(char *buf, size_t cap, const npy_type *t, int rank,
                             const int64_t *shape)
{
    char dict[320], sb[256];
    int dl = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }",
                      t->descr, fmt_shape(sb, sizeof sb, rank, shape));
    if (dl < 0 || (size_t)dl >= sizeof dict)
        return 0;
    /* Version 1.0 holds up to 65535 header bytes; ours are far smaller, but
     * follow numpy and switch to 2.0 if that is ever exceeded. */
    size_t lenbytes = 2, total = cim__round_up(NPY_MAGIC_LEN + 2 + 2 + (size_t)dl + 1, NPY_ALIGN);
    if (total - 10 > 65535) {
        lenbytes = 4;
        total = cim__round_up(NPY_MAGIC_LEN + 2 + 4 + (size_t)dl + 1, NPY_ALIGN);
    }
    if (total > cap)
        return 0;
    size_t hlen = total - NPY_MAGIC_LEN - 2 - lenbytes;
    memcpy(buf, NPY_MAGIC, NPY_MAGIC_LEN);
    buf[6] = lenbytes == 2 ? 1 : 2;
    buf[7] = 0;
    for (size_t i = 0; i < lenbytes; i++)
        buf[8 + i] = (char)(hlen >> (8 * i) & 0xff);
    char *h = buf + 8 + lenbytes;
    memcpy(h, dict, (size_t)dl);
    memset(h + dl, ' ', hlen - (size_t)dl - 1);
    h[hlen - 1] = '\n';
    return total;
}

cim_status cim_npy_write(cim_ctx *ctx, const char *path, int dtype, int rank,
                         const int64_t *shape, const void *data)
{
    if (!ctx || !path)
        return cim__err(ctx, CIM_ERR_ARG, "cim_npy_write: %s is NULL", !ctx ? "ctx" : "path");
    const npy_type *t = type_of(dtype);
    if (!t)
        return cim__err(ctx, CIM_ERR_ARG, "%s: dtype %d is not int8, uint8, int32 or float32",
                        path, dtype);
    if (rank < 0 || rank > CIM_NPY_MAX_RANK)
        return cim__err(ctx, CIM_ERR_ARG, "%s: rank %d is not in 0..%d", path, rank,
                        CIM_NPY_MAX_RANK);
    if (rank > 0 && !shape)
        return cim__err(ctx, CIM_ERR_ARG, "%s: shape is NULL", path);
    for (int i = 0; i < rank; i++)
        if (shape[i] < 0)
            return cim__err(ctx, CIM_ERR_ARG, "%s: dimension %d is negative (%" PRId64 ")", path,
                            i, shape[i]);
    uint64_t count, bytes;
    if (shape_size(rank, shape, t->size, &count, &bytes) || bytes != (size_t)bytes)
        return cim__err(ctx, CIM_ERR_ARG, "%s: shape is too large", path);
    if (bytes > 0 && !data)
        return cim__err(ctx, CIM_ERR_ARG, "%s: data is NULL", path);
    char pre[512];
    size_t plen = build_preamble(pre, sizeof pre, t, rank, shape);
    if (!plen)
        return cim__err(ctx, CIM_ERR_INTERNAL, "%s: header does not fit", path);

    size_t cap = strlen(path) + 32;
    char *tmp = cim__malloc(ctx, cap);
    if (!tmp)
        return cim__err(ctx, CIM_ERR_NOMEM, "%s: out of memory", path);
    char eb[128];
    int fd = open_temp(path, tmp, cap);
    if (fd < 0) {
        int e = errno;
        cim__err(ctx, CIM_ERR_IO, "%s: cannot create a temporary file next to it: %s", path,
                 errstr(e, eb, sizeof eb));
        cim__free(ctx, tmp);
        return CIM_ERR_IO;
    }
    /* Every failure from here on removes the temporary file. */
    FILE *f = fdopen(fd, "wb");
    const char *step = f ? "cannot write" : "cannot open";
    int ok = f && fwrite(pre, 1, plen, f) == plen &&
             (bytes == 0 || fwrite(data, 1, (size_t)bytes, f) == bytes) && fflush(f) == 0;
    /* On disk before the rename, so a crash cannot leave an empty file at path. */
    if (ok && fsync(fileno(f)) != 0) {
        ok = 0;
        step = "cannot sync";
    }
    int e = errno;
    if (!f) {
        close(fd);
    } else if (fclose(f) != 0 && ok) {
        ok = 0;
        e = errno;
        step = "cannot close";
    }
    if (ok && rename(tmp, path) != 0) {
        ok = 0;
        e = errno;
        step = "cannot rename the temporary file to it";
    }
    if (ok) {
        cim__free(ctx, tmp);
        return CIM_OK;
    }
    unlink(tmp);
    cim__free(ctx, tmp);
    return cim__err(ctx, CIM_ERR_IO, "%s: %s: %s", path, step, errstr(e, eb, sizeof eb));
}
