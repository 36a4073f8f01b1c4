/* npy.c: NumPy .npy files (cimsim/npy.h).
 *
 * Layout (numpy/lib/format.py): the magic "\x93NUMPY", a major and a minor
 * version byte, the header length (uint16 LE in 1.0, uint32 LE in 2.0 and 3.0),
 * the header, an ASCII Python dict literal such as
 *   {'descr': '<i4', 'fortran_order': False, 'shape': (3, 4), }
 * padded with spaces and ended by '\n', and then the raw C-order data.
 * The header is parsed as the subset of Python literal syntax those three keys
 * need (not by string matching), so key order, quotes, whitespace and trailing
 * commas may vary as they do between writers.
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

/* Data is copied between file and memory as is, so '<' must be host order.
 * A big-endian port would need byte swapping in read and write. */
#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "npy.c assumes a little-endian host"
#endif

#define NPY_MAGIC "\x93NUMPY"
#define NPY_ALIGN 64
/* Headers we accept are a few hundred bytes; this only bounds what a hostile
 * header length can make us allocate. */
#define NPY_MAX_HEADER (1u << 20)
#define NPY_DEFAULT_MAX_BYTES ((uint64_t)16 << 30)
#define NPY_WANT "(want |i1, |u1, <i4, <f4 or <i8)"

typedef struct npy_type {
    int dtype;
    char kind; /* numpy type character */
    unsigned size;
    const char *descr, *name;
} npy_type;

#define NPY_NTYPES 5
static const npy_type npy_types[NPY_NTYPES] = {
    {CIM_INT8, 'i', 1, "|i1", "int8"},
    {CIM_UINT8, 'u', 1, "|u1", "uint8"},
    {CIM_INT32, 'i', 4, "<i4", "int32"},
    {CIM_FLOAT32, 'f', 4, "<f4", "float32"},
    {CIM_INT64, 'i', 8, "<i8", "int64"},
};

static const npy_type *type_of(int dtype)
{
    for (int i = 0; i < NPY_NTYPES; i++)
        if (npy_types[i].dtype == dtype)
            return &npy_types[i];
    return NULL;
}

/* strerror need not be thread-safe, and contexts may be used concurrently. */
static const char *errstr(int e, char *buf, size_t n)
{
    if (strerror_r(e, buf, n) != 0)
        snprintf(buf, n, "error %d", e);
    return buf;
}

/* A shape as Python writes the tuple: (), (5,), (3, 4); -1 (any) prints as '?'. */
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

/* Element count and byte size of a shape (dims >= 0); -1 on overflow. A zero
 * dimension makes the array empty however large the others are. */
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
    const char *path, *field;    /* for messages: the file, "header" or "header field 'x'" */
    const char *start, *p, *end; /* header text, cursor, end */
    const npy_type *type;        /* what was parsed */
    int fortran_order, rank;
    int64_t shape[CIM_NPY_MAX_RANK];
} hdr_parser;

/* A CIM_ERR_FORMAT message "path: field: ...". */
static cim_status bad(hdr_parser *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static cim_status bad(hdr_parser *h, const char *fmt, ...)
{
    char msg[CIM_ERRMSG_SIZE];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return cim__err(h->ctx, CIM_ERR_FORMAT, "%s: %s: %s", h->path, h->field, msg);
}

/* A syntax error at the cursor: what was expected and what is there. */
static cim_status syntax(hdr_parser *h, const char *expected)
{
    if (h->p >= h->end)
        return bad(h, "expected %s, found the end of the header", expected);
    unsigned char c = (unsigned char)*h->p;
    char found[16];
    snprintf(found, sizeof found, c >= 0x20 && c < 0x7f ? "'%c'" : "byte 0x%02x", c);
    return bad(h, "expected %s at offset %td, found %s", expected, h->p - h->start, found);
}

static int at(const hdr_parser *h, char c) { return h->p < h->end && *h->p == c; }

static void skip_ws(hdr_parser *h)
{
    while (h->p < h->end && *h->p && strchr(" \t\n\r\f", *h->p))
        h->p++;
}

static int is_ident(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* A quoted string ('...' or "...") of printable ASCII into buf. The strings we
 * accept never need escapes, so a backslash is an error. */
static cim_status parse_string(hdr_parser *h, char *buf, size_t cap)
{
    if (!at(h, '\'') && !at(h, '"'))
        return syntax(h, "a quoted string");
    char q = *h->p++;
    size_t n = 0;
    for (; h->p < h->end && *h->p != q; h->p++) {
        if (*h->p < 0x20 || *h->p >= 0x7f || *h->p == '\\')
            return syntax(h, "a plain ASCII string");
        if (n + 1 >= cap)
            return bad(h, "string at offset %td is too long", h->p - h->start);
        buf[n++] = *h->p;
    }
    if (h->p >= h->end)
        return syntax(h, "a closing quote");
    h->p++;
    buf[n] = '\0';
    return CIM_OK;
}

/* True or False, as a whole word. */
static cim_status parse_bool(hdr_parser *h, int *v)
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
    return syntax(h, "True or False");
}

/* A dimension: a Python int literal (no leading zeros), optionally with the 'L'
 * suffix numpy wrote under Python 2. A sign is accepted so that a negative
 * dimension gets its own message. */
static cim_status parse_dim(hdr_parser *h, int64_t *v)
{
    int neg = at(h, '-');
    if (neg || at(h, '+')) {
        h->p++;
        skip_ws(h);
    }
    const char *digits = h->p;
    uint64_t x = 0;
    int overflow = 0;
    for (; h->p < h->end && *h->p >= '0' && *h->p <= '9'; h->p++)
        overflow |= __builtin_mul_overflow(x, 10, &x) ||
                    __builtin_add_overflow(x, (uint64_t)(*h->p - '0'), &x);
    int len = (int)(h->p - digits);
    if (len == 0)
        return syntax(h, "an integer");
    if (len > 1 && *digits == '0') {
        h->p = digits;
        return syntax(h, "an integer without leading zeros");
    }
    if (at(h, 'L') || at(h, 'l'))
        h->p++;
    if (h->p < h->end && is_ident(*h->p))
        return syntax(h, "',' or ')' after an integer");
    if (neg && (x != 0 || overflow))
        return bad(h, "dimension -%.*s is negative", len, digits);
    if (overflow || x > (uint64_t)INT64_MAX)
        return bad(h, "dimension %.*s is too large", len, digits);
    *v = (int64_t)x;
    return CIM_OK;
}

/* A tuple of dimensions: (), (5,), (3, 4), (3, 4,). (5) is an int in Python,
 * not a tuple, and numpy rejects it too. */
static cim_status parse_shape(hdr_parser *h)
{
    const char *open = h->p;
    if (!at(h, '('))
        return syntax(h, "a tuple such as (3, 4)");
    h->p++;
    int comma = 0; /* a comma followed the last element */
    for (h->rank = 0;; h->rank++) {
        skip_ws(h);
        if (at(h, ')'))
            break;
        if (h->rank > 0 && !comma)
            return syntax(h, "',' or ')'");
        if (h->rank == CIM_NPY_MAX_RANK)
            return bad(h, "more than %d dimensions", CIM_NPY_MAX_RANK);
        cim_status st = parse_dim(h, &h->shape[h->rank]);
        if (st)
            return st;
        skip_ws(h);
        if ((comma = at(h, ',')))
            h->p++;
    }
    h->p++;
    if (h->rank == 1 && !comma)
        return bad(h, "%.*s is not a tuple (a 1-d shape is written (n,))", (int)(h->p - open),
                   open);
    return CIM_OK;
}

/* A numpy type string, [byte order] kind size such as '<i4', to one of ours. */
static cim_status parse_descr(hdr_parser *h)
{
    char d[64];
    if (at(h, '['))
        return bad(h, "structured dtypes are not supported " NPY_WANT);
    cim_status st = parse_string(h, d, sizeof d);
    if (st)
        return st;
    const char *s = d;
    char order = *s && strchr("<>|=", *s) ? *s++ : '=';
    char kind = *s ? *s++ : '\0';
    unsigned size = strcmp(s, "1") == 0 ? 1 : strcmp(s, "4") == 0 ? 4 : strcmp(s, "8") == 0 ? 8 : 0;
    for (int i = 0; i < NPY_NTYPES; i++) {
        if (npy_types[i].kind != kind || npy_types[i].size != size)
            continue;
        /* Byte order means nothing for one byte; '=' and '|' are the host's. */
        if (size > 1 && order == '>')
            return bad(h, "dtype '%s' is big-endian, which is not supported " NPY_WANT, d);
        h->type = &npy_types[i];
        return CIM_OK;
    }
    return bad(h, "dtype '%s' is not supported " NPY_WANT, d);
}

/* Parse the whole header into h (set up by the caller). */
static cim_status parse_header(hdr_parser *h)
{
    static const char *const keys[3] = {"descr", "fortran_order", "shape"};
    static const char *const fields[3] = {"header field 'descr'", "header field 'fortran_order'",
                                          "header field 'shape'"};
    int seen[3] = {0, 0, 0};
    cim_status st;
    h->field = "header";
    skip_ws(h);
    if (!at(h, '{'))
        return syntax(h, "a dict '{'");
    for (h->p++;;) {
        skip_ws(h);
        if (at(h, '}'))
            break;
        char key[32];
        if ((st = parse_string(h, key, sizeof key)))
            return st;
        int k = 0;
        while (k < 3 && strcmp(key, keys[k]) != 0)
            k++;
        if (k == 3)
            return bad(h, "unknown key '%s' (want 'descr', 'fortran_order', 'shape')", key);
        if (seen[k]++)
            return bad(h, "key '%s' appears twice", key);
        skip_ws(h);
        if (!at(h, ':'))
            return syntax(h, "':' after a key");
        h->p++;
        skip_ws(h);
        h->field = fields[k];
        st = k == 0 ? parse_descr(h) : k == 1 ? parse_bool(h, &h->fortran_order) : parse_shape(h);
        if (st)
            return st;
        h->field = "header";
        skip_ws(h);
        if (at(h, ','))
            h->p++;
        else if (!at(h, '}'))
            return syntax(h, "',' or '}'");
    }
    h->p++;
    skip_ws(h); /* the padding and the final '\n' */
    if (h->p != h->end)
        return syntax(h, "only padding after the dict");
    for (int k = 0; k < 3; k++)
        if (!seen[k])
            return bad(h, "key '%s' is missing", keys[k]);
    h->field = fields[1];
    if (h->fortran_order)
        return bad(h, "True is not supported (C order only)");
    return CIM_OK;
}

/* ---- reading ---- */

/* Everything after fopen. On failure nothing is left allocated. */
static cim_status read_stream(cim_ctx *ctx, const char *path, FILE *f, size_t max_bytes,
                              cim_npy *out)
{
    char eb[128], sb[256];
    struct stat fs;
    if (fstat(fileno(f), &fs) != 0)
        return cim__err(ctx, CIM_ERR_IO, "%s: %s", path, errstr(errno, eb, sizeof eb));
    if (S_ISDIR(fs.st_mode))
        return cim__err(ctx, CIM_ERR_IO, "%s: is a directory", path);
    /* A regular file's size finds truncation before anything is allocated. */
    int sized = S_ISREG(fs.st_mode);
    uint64_t fsize = sized ? (uint64_t)fs.st_size : 0;

    unsigned char pre[12];
    size_t n = fread(pre, 1, 8, f);
    if (n < 8 && ferror(f))
        return cim__err(ctx, CIM_ERR_IO, "%s: read error", path);
    if (n < 8)
        return cim__err(ctx, CIM_ERR_FORMAT, "%s: %s", path,
                        n == 0 ? "file is empty" : "file is too short for the NPY magic");
    if (memcmp(pre, NPY_MAGIC, 6) != 0)
        return cim__err(ctx, CIM_ERR_FORMAT, "%s: magic: not an NPY file (no \\x93NUMPY)", path);
    unsigned major = pre[6], minor = pre[7];
    if (minor != 0 || major < 1 || major > 3)
        return cim__err(ctx, CIM_ERR_FORMAT,
                        "%s: version: %u.%u is not supported (want 1.0, 2.0 or 3.0)", path, major,
                        minor);
    size_t lenbytes = major == 1 ? 2 : 4;
    if (fread(pre + 8, 1, lenbytes, f) != lenbytes)
        return cim__err(ctx, CIM_ERR_FORMAT, "%s: header length: file ends inside it", path);
    uint32_t hlen = 0;
    for (size_t i = 0; i < lenbytes; i++)
        hlen |= (uint32_t)pre[8 + i] << (8 * i);
    uint64_t data_off = 8 + lenbytes + (uint64_t)hlen;
    if (sized && data_off > fsize)
        return cim__err(ctx, CIM_ERR_FORMAT,
                        "%s: header length: %" PRIu32 " goes past the end of the file (%" PRIu64
                        " bytes)", path, hlen, fsize);
    if (hlen > NPY_MAX_HEADER)
        return cim__err(ctx, CIM_ERR_FORMAT, "%s: header length: %" PRIu32 " is more than %u",
                        path, hlen, NPY_MAX_HEADER);

    char *text = cim__malloc(ctx, hlen);
    if (!text)
        return cim__err(ctx, CIM_ERR_NOMEM, "%s: out of memory reading the header", path);
    hdr_parser h = {.ctx = ctx, .path = path, .start = text, .p = text, .end = text + hlen};
    cim_status st = fread(text, 1, hlen, f) == hlen
                        ? parse_header(&h)
                        : cim__err(ctx, CIM_ERR_FORMAT, "%s: header length: %" PRIu32
                                   " goes past the end of the file", path, hlen);
    cim__free(ctx, text);
    if (st)
        return st;

    /* Size checks, all before the data is allocated. */
    uint64_t count, bytes, limit = max_bytes ? (uint64_t)max_bytes : NPY_DEFAULT_MAX_BYTES;
    fmt_shape(sb, sizeof sb, h.rank, h.shape);
    if (shape_size(h.rank, h.shape, h.type->size, &count, &bytes))
        return cim__err(ctx, CIM_ERR_FORMAT, "%s: header field 'shape': %s is absurdly large",
                        path, sb);
    if (bytes > limit || bytes != (size_t)bytes)
        return cim__err(ctx, CIM_ERR_FORMAT,
                        "%s: header field 'shape': %s %s is %" PRIu64
                        " bytes, more than the limit of %" PRIu64, path, sb, h.type->name, bytes,
                        limit);
    if (sized && fsize - data_off < bytes)
        return cim__err(ctx, CIM_ERR_FORMAT,
                        "%s: data: truncated (%" PRIu64 " bytes, shape %s %s needs %" PRIu64 ")",
                        path, fsize - data_off, sb, h.type->name, bytes);
    uint64_t extra = sized && fsize - data_off > bytes ? fsize - data_off - bytes : 0;
    if (extra)
        return cim__err(ctx, CIM_ERR_FORMAT,
                        "%s: data: %" PRIu64 " trailing byte%s after the array", path, extra,
                        extra == 1 ? "" : "s");

    void *data = cim__malloc(ctx, (size_t)bytes);
    if (!data)
        return cim__err(ctx, CIM_ERR_NOMEM, "%s: out of memory allocating %" PRIu64 " bytes", path,
                        bytes);
    /* Checked again while reading: the file may not be regular, or may change. */
    if (fread(data, 1, (size_t)bytes, f) != bytes)
        st = ferror(f) ? cim__err(ctx, CIM_ERR_IO, "%s: read error", path)
                       : cim__err(ctx, CIM_ERR_FORMAT, "%s: data: truncated (shape %s %s needs %"
                                  PRIu64 " bytes)", path, sb, h.type->name, bytes);
    else if (fgetc(f) != EOF)
        st = cim__err(ctx, CIM_ERR_FORMAT, "%s: data: trailing bytes after the array", path);
    else if (ferror(f))
        st = cim__err(ctx, CIM_ERR_IO, "%s: read error", path);
    if (st) {
        cim__free(ctx, data);
        return st;
    }
    out->dtype = h.type->dtype;
    out->rank = h.rank;
    memcpy(out->shape, h.shape, sizeof h.shape);
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
    fmt_shape(s1, sizeof s1, out->rank, out->shape);
    if (shape)
        fmt_shape(s2, sizeof s2, rank, shape);
    if (out->dtype != dtype) {
        st = cim__err(ctx, CIM_ERR_SHAPE, "%s: dtype is %s, expected %s", path,
                      type_of(out->dtype)->name, want->name);
    } else if (out->rank != rank) {
        st = cim__err(ctx, CIM_ERR_SHAPE, "%s: rank %d (shape %s), expected %d%s%s%s", path,
                      out->rank, s1, rank, shape ? " (shape " : "", shape ? s2 : "",
                      shape ? ")" : "");
    } else {
        for (int i = 0; shape && i < rank && !st; i++)
            if (shape[i] >= 0 && out->shape[i] != shape[i])
                st = cim__err(ctx, CIM_ERR_SHAPE,
                              "%s: shape %s, expected %s (dimension %d is %" PRId64
                              ", expected %" PRId64 ")", path, s1, s2, i, out->shape[i], shape[i]);
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

/* Create path.tmpXXXXXXXXXXXX exclusively. Not mkstemp: its files are 0600,
 * and the renamed result should get the usual 0666 & ~umask. */
static int open_temp(const char *path, char *tmp, size_t cap)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t x = (uint64_t)ts.tv_nsec ^ (uint64_t)ts.tv_sec << 30 ^ (uint64_t)getpid() << 12 ^
                 (uint64_t)(uintptr_t)tmp;
    for (int tries = 0; tries < 100; tries++) {
        x += 0x9e3779b97f4a7c15ull; /* splitmix64 */
        uint64_t z = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        z = (z ^ (z >> 31)) & 0xffffffffffffu;
        snprintf(tmp, cap, "%s.tmp%012" PRIx64, path, z);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    return -1;
}

/* Magic, version 1.0, header length and the header padded with spaces and '\n'
 * so that the data starts at a multiple of 64, as numpy writes it. With at most
 * CIM_NPY_MAX_RANK dimensions the header stays far below the 65535 bytes where
 * numpy switches to version 2.0. Returns the length. */
static size_t build_preamble(char buf[512], const npy_type *t, int rank, const int64_t *shape)
{
    char sb[256];
    int dl = snprintf(buf + 10, 400, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }",
                      t->descr, fmt_shape(sb, sizeof sb, rank, shape));
    size_t total = cim__round_up(10 + (size_t)dl + 1, NPY_ALIGN), hlen = total - 10;
    memcpy(buf, NPY_MAGIC "\x01\x00", 8);
    buf[8] = (char)(hlen & 0xff);
    buf[9] = (char)(hlen >> 8);
    memset(buf + 10 + dl, ' ', hlen - (size_t)dl - 1);
    buf[total - 1] = '\n';
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
    char pre[512], eb[128];
    size_t plen = build_preamble(pre, t, rank, shape);

    size_t cap = strlen(path) + 32;
    char *tmp = cim__malloc(ctx, cap);
    if (!tmp)
        return cim__err(ctx, CIM_ERR_NOMEM, "%s: out of memory", path);
    int fd = open_temp(path, tmp, cap);
    if (fd < 0) {
        cim__err(ctx, CIM_ERR_IO, "%s: cannot create a temporary file next to it: %s", path,
                 errstr(errno, eb, sizeof eb));
        cim__free(ctx, tmp);
        return CIM_ERR_IO;
    }
    /* From here on every failure removes the temporary file. */
    FILE *f = fdopen(fd, "wb");
    const char *step = f ? "cannot write" : "cannot open";
    int ok = f && fwrite(pre, 1, plen, f) == plen &&
             (bytes == 0 || fwrite(data, 1, (size_t)bytes, f) == bytes) && fflush(f) == 0;
    /* On disk before the rename, so that a crash cannot leave an empty file at
     * path. EINVAL: a file system without fsync, nothing to wait for. */
    if (ok && fsync(fileno(f)) != 0 && errno != EINVAL) {
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
    if (!ok)
        unlink(tmp);
    cim__free(ctx, tmp);
    if (!ok)
        return cim__err(ctx, CIM_ERR_IO, "%s: %s: %s", path, step, errstr(e, eb, sizeof eb));
    return CIM_OK;
}
