/* analog_dump.c: one weight layer's crossbar weights and first-batch inputs
 * written as NPY files (`cimsim eval --dump-layer`; see analog.h), so that
 * the engine can be measured on a real layer (`cimsim mvm`, bench_mvm). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "analog.h"
#include "../lib/internal.h"

/* The files of a dump, in the order they are renamed (layer.txt last). */
static const char *const dump_files[] = {"W.npy", "X.npy", "layer.txt"};
enum { NDUMP = 3, DUMP_PATH = 4096 };

static int dump_path(char *buf, const char *dir, const char *file, const char *suffix)
{
    int n = snprintf(buf, DUMP_PATH, "%s/%s%s", dir, file, suffix);
    return n > 0 && n < DUMP_PATH;
}

cim_status nn_analog_dump_check(const nn_graph *g, const char *name, const char *dir)
{
    if (!name || !dir)
        return cim__err(g->ctx, CIM_ERR_ARG, "--dump-layer needs both a layer name and a directory");
    int found = 0, nlayers = 0;
    for (int k = 0; k < g->nn; k++)
        if (nn_node_is_weight_layer(g, &g->nodes[k])) {
            nlayers++;
            found |= strcmp(g->nodes[k].name, name) == 0;
        }
    if (!found) {
        /* the valid names, as many as the message holds */
        char list[320];
        size_t o = 0;
        int shown = 0;
        list[0] = 0;
        for (int k = 0; k < g->nn; k++) {
            if (!nn_node_is_weight_layer(g, &g->nodes[k]))
                continue;
            size_t len = strlen(g->nodes[k].name) + 2;
            if (o + len + 1 >= sizeof list)
                break;
            o += (size_t)snprintf(list + o, sizeof list - o, "%s%s", shown ? ", " : "", g->nodes[k].name);
            shown++;
        }
        char more[96] = "";
        if (shown < nlayers)
            snprintf(more, sizeof more, " and %d more (the per-layer table of cimsim eval names them all)",
                     nlayers - shown);
        return nn_err(g, NULL, CIM_ERR_ARG,
                      "--dump-layer: no weight layer is named '%s'; the %d weight layers are: %s%s", name, nlayers,
                      list, more);
    }
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return cim__err(g->ctx, CIM_ERR_IO, "--dump-dir %s: not a directory", dir);
    if (access(dir, W_OK) != 0)
        return cim__err(g->ctx, CIM_ERR_IO, "--dump-dir %s: not writable", dir);
    char p[DUMP_PATH];
    for (int i = 0; i < NDUMP; i++) {
        if (!dump_path(p, dir, dump_files[i], ".part"))
            return cim__err(g->ctx, CIM_ERR_ARG, "--dump-dir %s: path too long", dir);
        unlink(p); /* a stale one from an interrupted run must not be renamed */
    }
    return CIM_OK;
}

cim_status nn_analog_dump_finish(cim_ctx *ctx, const char *name, const char *dir, cim_status st)
{
    char src[DUMP_PATH], dst[DUMP_PATH];
    if (st != CIM_OK) {
        for (int i = 0; i < NDUMP; i++)
            if (dump_path(src, dir, dump_files[i], ".part"))
                unlink(src);
        return st;
    }
    for (int i = 0; i < NDUMP; i++) {
        if (!dump_path(src, dir, dump_files[i], ".part") || !dump_path(dst, dir, dump_files[i], ""))
            st = cim__err(ctx, CIM_ERR_ARG, "--dump-dir %s: path too long", dir);
        else if (access(src, F_OK) != 0)
            st = cim__err(ctx, CIM_ERR_INTERNAL, "--dump-layer: layer '%s' did not run on crossbars in the first "
                          "batch; nothing was dumped", name);
        if (st != CIM_OK)
            break;
    }
    for (int i = 0; i < NDUMP && st == CIM_OK; i++) {
        dump_path(src, dir, dump_files[i], ".part");
        dump_path(dst, dir, dump_files[i], "");
        if (rename(src, dst) != 0) {
            st = cim__err(ctx, CIM_ERR_IO, "--dump-layer: cannot rename %s to %s: %s", src, dst, strerror(errno));
            for (int j = 0; j < i; j++) /* no partial set under the final names */
                if (dump_path(dst, dir, dump_files[j], ""))
                    unlink(dst);
        }
    }
    if (st != CIM_OK)
        for (int i = 0; i < NDUMP; i++)
            if (dump_path(src, dir, dump_files[i], ".part"))
                unlink(src);
    return st;
}

/* layer.txt.part: one "key value" line per fact. */
static cim_status write_facts(const nn_graph *g, const nn_mvm_args *m, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return nn_err(g, m->node, CIM_ERR_IO, "--dump-layer: cannot write %s: %s", path, strerror(errno));
    const int rps = m->rows_per_sample > 0 ? m->rows_per_sample : 1;
    fprintf(f, "name %s\nop %s\ngroup %d\nK %d\nN %d\nM %d\nzx %d\nrows_per_sample %d\nsamples %d\nwtype %s\n",
            m->node->name, m->node->op_type, m->group, m->K, m->N, m->M, (int)m->zx, rps, m->M / rps,
            m->wtype == NN_INT8 ? "int8" : "uint8");
    if (ferror(f) | (fclose(f) != 0)) {
        unlink(path);
        return nn_err(g, m->node, CIM_ERR_IO, "--dump-layer: write to %s failed", path);
    }
    return CIM_OK;
}

cim_status nn_analog_dump_write(nn_analog *a, const nn_graph *g, const nn_mvm_args *m)
{
    const size_t K = (size_t)m->K, N = (size_t)m->N;
    int8_t *w = cim__malloc(a->ctx, K * N);
    if (!w)
        return CIM_ERR_NOMEM;
    cim_status st = CIM_OK;
    /* w' = w - zw: what the crossbars store, the psum's weight operand */
    for (size_t k = 0; k < K && st == CIM_OK; k++)
        for (size_t n = 0; n < N; n++) {
            int32_t v = m->wtype == NN_INT8 ? ((const int8_t *)m->w)[k * N + n] : ((const uint8_t *)m->w)[k * N + n];
            v -= m->zw ? m->zw[n] : 0;
            if (v < -128 || v > 127) {
                st = nn_err(g, m->node, CIM_ERR_RANGE,
                            "--dump-layer: weight w - zw = %d at [%zu][%zu] does not fit in int8 (W.npy is int8)",
                            (int)v, k, n);
                break;
            }
            w[k * N + n] = (int8_t)v;
        }
    char p[DUMP_PATH], msg[CIM_ERRMSG_SIZE];
    const int64_t ws[2] = {m->K, m->N}, xs[2] = {m->M, m->K};
    if (st == CIM_OK && dump_path(p, a->dump_dir, "W.npy", ".part") &&
        (st = cim_npy_write(a->ctx, p, CIM_INT8, 2, ws, w)) != CIM_OK) {
        snprintf(msg, sizeof msg, "%s", cim_ctx_errmsg(a->ctx));
        st = nn_err(g, m->node, st, "--dump-layer: %s", msg);
    }
    cim__free(a->ctx, w);
    if (st == CIM_OK && dump_path(p, a->dump_dir, "X.npy", ".part") &&
        (st = cim_npy_write(a->ctx, p, CIM_UINT8, 2, xs, m->x)) != CIM_OK) {
        snprintf(msg, sizeof msg, "%s", cim_ctx_errmsg(a->ctx));
        st = nn_err(g, m->node, st, "--dump-layer: %s", msg);
    }
    if (st == CIM_OK && dump_path(p, a->dump_dir, "layer.txt", ".part"))
        st = write_facts(g, m, p);
    return st;
}
