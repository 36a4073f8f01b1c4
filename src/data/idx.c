/* idx.c: the IDX reader (see idx.h). Everything is read through zlib's gz*
 * functions, which pass uncompressed files through unchanged.
 *
 * Order of checks: open (CIM_ERR_IO), magic and rank, dimensions, size limit,
 * then the payload, then one more read that must find the end of the data.
 * That last read also makes zlib check the gzip trailer (CRC-32 and length),
 * so a corrupted stream is reported even if its bytes happened to inflate. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include "lib/internal.h"
#include "idx.h"

/* gzread takes an unsigned length; read in pieces well below INT_MAX. */
#define IDX_CHUNK (1u << 28)

typedef struct idx_file {
    cim_ctx *ctx;
    const char *path;
    const char *what; /* "images: " etc., or "" */
    gzFile gz;
} idx_file;

static const char *errstr(int e, char *buf, size_t n)
{
    if (strerror_r(e, buf, n) != 0)
        snprintf(buf, n, "error %d", e);
    return buf;
}

/* Read up to len bytes; *got receives how many came. Returns CIM_OK at a
 * clean end of data (even if short), or an error naming the file and `field`
 * for a read error or a corrupt / cut gzip stream. */
static cim_status read_full(idx_file *f, void *buf, uint64_t len, uint64_t *got, const char *field)
{
    unsigned char *p = buf;
    *got = 0;
    while (*got < len) {
        uint64_t want = len - *got < IDX_CHUNK ? len - *got : IDX_CHUNK;
        int n = gzread(f->gz, p + *got, (unsigned)want);
        if (n > 0)
            *got += (uint64_t)n;
        int zerr = Z_OK;
        const char *zmsg = gzerror(f->gz, &zerr);
        if (zerr != Z_OK && zerr != Z_STREAM_END) {
            char eb[128];
            if (zerr == Z_ERRNO)
                return cim__err(f->ctx, CIM_ERR_IO, "%s: %s%s: read error: %s", f->path, f->what,
                                field, errstr(errno, eb, sizeof eb));
            if (zerr == Z_MEM_ERROR)
                return cim__err(f->ctx, CIM_ERR_NOMEM, "%s: %s%s: out of memory in zlib", f->path,
                                f->what, field);
            /* Z_BUF_ERROR: the compressed stream ends early; Z_DATA_ERROR: bad
             * deflate data or a bad CRC / length in the gzip trailer. zlib
             * inflates ahead of what we ask for, so the field being read says
             * nothing about where the damage is: no field is named. zlib's
             * message starts with its name for the file ("<fd:3>: "). */
            const char *colon = zmsg ? strstr(zmsg, ": ") : NULL;
            if (zmsg && zmsg[0] == '<' && colon)
                zmsg = colon + 2;
            return cim__err(f->ctx, CIM_ERR_FORMAT,
                            "%s: %scorrupt gzip stream (%s)", f->path, f->what,
                            zmsg && *zmsg ? zmsg : "zlib error");
        }
        if (n <= 0)
            break; /* end of data */
    }
    return CIM_OK;
}

static void fmt_dims(char *buf, size_t n, int rank, const int64_t *dims)
{
    size_t at = 0;
    buf[0] = '\0';
    for (int i = 0; i < rank && at < n; i++) {
        int w = snprintf(buf + at, n - at, "%s%" PRId64, i ? "x" : "", dims[i]);
        if (w < 0)
            break;
        at += (size_t)w;
    }
}

/* Magic, rank and dimensions into out (no data yet). */
static cim_status read_header(idx_file *f, int want_rank, nn_idx *out)
{
    unsigned char m[4];
    uint64_t got;
    cim_status st = read_full(f, m, 4, &got, "magic");
    if (st)
        return st;
    if (got < 4)
        return cim__err(f->ctx, CIM_ERR_FORMAT, "%s: %smagic: %s (%" PRIu64 " of 4 bytes)",
                        f->path, f->what, got ? "truncated" : "file is empty", got);
    uint32_t magic = (uint32_t)m[0] << 24 | (uint32_t)m[1] << 16 | (uint32_t)m[2] << 8 | m[3];
    if (m[0] != 0 || m[1] != 0 || m[3] == 0)
        return cim__err(f->ctx, CIM_ERR_FORMAT,
                        "%s: %smagic: 0x%08" PRIx32 " is not an IDX magic (want 0x00000803 for "
                        "images, 0x00000801 for labels)", f->path, f->what, magic);
    if (m[2] != 0x08)
        return cim__err(f->ctx, CIM_ERR_FORMAT,
                        "%s: %smagic: 0x%08" PRIx32 ": element type 0x%02x is not supported "
                        "(want 0x08, uint8)", f->path, f->what, magic, m[2]);
    int rank = m[3];
    if (want_rank > 0 ? rank != want_rank : rank > NN_IDX_MAX_RANK) {
        if (want_rank > 0)
            return cim__err(f->ctx, CIM_ERR_FORMAT,
                            "%s: %smagic: 0x%08" PRIx32 " has rank %d, want %d (0x%08x)", f->path,
                            f->what, magic, rank, want_rank, 0x800u | (unsigned)want_rank);
        return cim__err(f->ctx, CIM_ERR_FORMAT, "%s: %smagic: rank %d is more than %d", f->path,
                        f->what, rank, NN_IDX_MAX_RANK);
    }

    unsigned char d[4 * NN_IDX_MAX_RANK];
    uint64_t need = 4u * (unsigned)rank;
    if ((st = read_full(f, d, need, &got, "dimensions")))
        return st;
    if (got < need)
        return cim__err(f->ctx, CIM_ERR_FORMAT,
                        "%s: %sdimensions: truncated (%" PRIu64 " of %" PRIu64 " bytes for %d "
                        "dimensions)", f->path, f->what, got, need, rank);
    uint64_t count = 1;
    out->rank = rank;
    for (int i = 0; i < rank; i++) {
        const unsigned char *q = d + 4 * i;
        uint32_t v = (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | q[3];
        if (v == 0)
            return cim__err(f->ctx, CIM_ERR_FORMAT, "%s: %sdimension %d: is zero", f->path,
                            f->what, i);
        out->dims[i] = v;
        /* v < 2^32 and count <= 2^31 before the multiply: no overflow in 64 bits. */
        count *= v;
        if (count > NN_IDX_MAX_BYTES) {
            char db[128];
            fmt_dims(db, sizeof db, i + 1, out->dims);
            return cim__err(f->ctx, CIM_ERR_FORMAT,
                            "%s: %sdimensions: %s%s is more than the limit of %" PRIu64 " bytes",
                            f->path, f->what, db, i + 1 < rank ? "x..." : "", NN_IDX_MAX_BYTES);
        }
    }
    out->count = (size_t)count;
    return CIM_OK;
}

static cim_status read_payload(idx_file *f, nn_idx *out)
{
    char db[128];
    fmt_dims(db, sizeof db, out->rank, out->dims);
    out->data = cim__malloc(f->ctx, out->count);
    if (!out->data)
        return cim__err(f->ctx, CIM_ERR_NOMEM, "%s: %sdata: out of memory for %zu bytes", f->path,
                        f->what, out->count);
    uint64_t got;
    cim_status st = read_full(f, out->data, out->count, &got, "data");
    if (st)
        return st;
    if (got < out->count)
        return cim__err(f->ctx, CIM_ERR_FORMAT,
                        "%s: %sdata: truncated (%" PRIu64 " of %zu bytes for dimensions %s)",
                        f->path, f->what, got, out->count, db);
    /* The end of the data must come now (this also checks the gzip trailer). */
    unsigned char extra[256];
    if ((st = read_full(f, extra, sizeof extra, &got, "data")))
        return st;
    if (got)
        return cim__err(f->ctx, CIM_ERR_FORMAT,
                        "%s: %sdata: %s%" PRIu64 " trailing byte%s after the %zu bytes of "
                        "dimensions %s", f->path, f->what, got == sizeof extra ? "at least " : "",
                        got, got == 1 ? "" : "s", out->count, db);
    return CIM_OK;
}

cim_status nn_idx_read(cim_ctx *ctx, const char *path, int rank, const char *what, nn_idx *out)
{
    if (!out)
        return cim__err(ctx, CIM_ERR_ARG, "nn_idx_read: out is NULL");
    memset(out, 0, sizeof *out);
    if (!path || rank < 0 || rank > NN_IDX_MAX_RANK)
        return cim__err(ctx, CIM_ERR_ARG, "nn_idx_read: %s", path ? "rank out of range" : "path is NULL");
    char eb[128], wb[64];
    snprintf(wb, sizeof wb, "%s%s", what ? what : "", what ? ": " : "");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cim__err(ctx, CIM_ERR_IO, "%s: %scannot open: %s", path, wb,
                        errstr(errno, eb, sizeof eb));
    struct stat fs;
    if (fstat(fd, &fs) != 0 || S_ISDIR(fs.st_mode)) {
        int e = S_ISDIR(fs.st_mode) ? EISDIR : errno;
        close(fd);
        return cim__err(ctx, CIM_ERR_IO, "%s: %scannot read: %s", path, wb, errstr(e, eb, sizeof eb));
    }
    gzFile gz = gzdopen(fd, "rb");
    if (!gz) {
        close(fd);
        return cim__err(ctx, CIM_ERR_NOMEM, "%s: %sout of memory opening the file", path, wb);
    }
    gzbuffer(gz, 1u << 17);
    idx_file f = {ctx, path, wb, gz};
    cim_status st = read_header(&f, rank, out);
    if (!st)
        st = read_payload(&f, out);
    gzclose_r(gz); /* also closes fd */
    if (st)
        nn_idx_free(ctx, out);
    return st;
}

void nn_idx_free(cim_ctx *ctx, nn_idx *a)
{
    if (!a)
        return;
    cim__free(ctx, a->data);
    memset(a, 0, sizeof *a);
}
