/* testutil.c: see testutil.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kernels/stage.h"
#include <unistd.h>
#include <sys/stat.h>
#include "testutil.h"

uint64_t tu_next(tu_rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

int tu_range(tu_rng *r, int lo, int hi)
{
    return lo + (int)(tu_next(r) % (uint64_t)(hi - lo + 1));
}

double tu_uniform(tu_rng *r) { return (double)(tu_next(r) >> 11) * 0x1.0p-53; }

double tu_normal(tu_rng *r)
{
    double u1 = tu_uniform(r), u2 = tu_uniform(r);
    if (u1 < 1e-300)
        u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

static char tmpdir_buf[256];

static void cleanup_tmpdir(void)
{
    if (tmpdir_buf[0]) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir_buf);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", tmpdir_buf);
    }
}

const char *tu_tmpdir(void)
{
    if (!tmpdir_buf[0]) {
        const char *base = getenv("TMPDIR");
        snprintf(tmpdir_buf, sizeof tmpdir_buf, "%s/cimsim-test-XXXXXX", base && *base ? base : "/tmp");
        if (!mkdtemp(tmpdir_buf)) {
            perror("mkdtemp");
            abort();
        }
        atexit(cleanup_tmpdir);
    }
    return tmpdir_buf;
}

void tu_path(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "%s/%s", tu_tmpdir(), name);
}

void tu_write_file(const char *path, const void *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    if (size)
        assert_int_equal(fwrite(data, 1, size, f), size);
    assert_int_equal(fclose(f), 0);
}

int tu_file_exists(const char *path) { return access(path, F_OK) == 0; }

cim_ctx *tu_ctx(void)
{
    cim_ctx *ctx = NULL;
    assert_int_equal(cim_ctx_create(NULL, &ctx), CIM_OK);
    return ctx;
}

cim_ctx *tu_ctx_with(const char *kernel, int threads)
{
    cim_ctx_options o;
    cim_ctx *ctx = NULL;
    cim_ctx_options_default(&o);
    o.kernel = kernel;
    o.threads = threads;
    assert_int_equal(cim_ctx_create(&o, &ctx), CIM_OK);
    return ctx;
}

void tu_fill_layer(uint64_t seed, int K, int N, int M, int8_t *W, uint8_t *X)
{
    tu_rng r = {seed};
    for (long i = 0; i < (long)K * N; i++)
        W[i] = (int8_t)lround(fmax(-128, fmin(127, tu_normal(&r) * 30)));
    for (long i = 0; i < (long)M * K; i++)
        X[i] = (uint8_t)(tu_range(&r, 0, 1) ? 0 : tu_range(&r, 0, 255));
}

void tu_noisy_preset(cim_ctx *ctx, const char *preset, double level, uint64_t seed, cim_xbar_config *c)
{
    assert_int_equal(cim_config_preset(ctx, preset, c), CIM_OK);
    c->noise.model = CIM_NOISE_GAUSSIAN_COLSUM;
    c->noise.level = level;
    c->noise.seed = seed;
}

void tu_arch_noise(cim_arch *arch, double level, uint64_t seed)
{
    if (!(level > 0))
        return;
    arch->base.noise.model = CIM_NOISE_GAUSSIAN_COLSUM;
    arch->base.noise.level = level;
    arch->base.noise.seed = seed;
    for (int i = 0; i < arch->n_overrides; i++)
        arch->over[i].cfg.noise = arch->base.noise;
}

static void *fx_alloc(void *ud, void *ptr, size_t size)
{
    tu_fx *f = ud;
    if (size == 0) {
        if (ptr)
            f->live--;
        free(ptr);
        return NULL;
    }
    if (++f->calls >= f->fail_at && f->fail_at)
        return NULL;
    if (size > f->max_size)
        f->max_size = size;
    void *p = realloc(ptr, size);
    if (p && !ptr)
        f->live++;
    return p;
}

int tu_fx_setup(void **state, const char *prefix)
{
    static int n;
    tu_fx *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    cim_ctx_options o;
    cim_ctx_options_default(&o);
    o.alloc = fx_alloc;
    o.alloc_ud = f;
    char name[64];
    snprintf(name, sizeof name, "%s%d", prefix, n++);
    tu_path(f->dir, sizeof f->dir, name);
    if (cim_ctx_create(&o, &f->ctx) != CIM_OK || mkdir(f->dir, 0777) != 0) {
        cim_ctx_destroy(f->ctx);
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

int tu_fx_teardown(void **state)
{
    tu_fx *f = *state;
    cim_ctx_destroy(f->ctx);
    long live = f->live;
    free(f);
    if (live != 0)
        fprintf(stderr, "teardown: %ld blocks leaked\n", live);
    return live != 0;
}

void tu_restride(void *dst, size_t dld, const void *src, size_t ld, int rows, int count, size_t elem)
{
    for (int r = 0; r < rows; r++)
        memcpy((char *)dst + (size_t)r * dld * elem, (const char *)src + (size_t)r * ld * elem, (size_t)count * elem);
}

const struct cim_stage *tu_stage(const char *name)
{
    for (const cim_stage *const *s = cim_stage_list(); *s; s++)
        if (strcmp((*s)->name, name) == 0)
            return (*s)->supported() ? *s : NULL;
    return NULL;
}

void *tu_failing_realloc(void *ud, void *ptr, size_t size)
{
    tu_failing *f = ud;
    if (size == 0) {
        if (ptr)
            f->live--;
        free(ptr);
        return NULL;
    }
    f->count++;
    if (f->fail_at && f->count == f->fail_at)
        return NULL;
    void *p = realloc(ptr, size);
    if (p && !ptr)
        f->live++;
    return p;
}
