/* cli_helper.c: a tool for tests/test_cli.sh, independent of the crossbar engine.
 *   cli_helper matmul W.npy X.npy ZX OUT.npy   exact int32 (X - ZX) @ W
 *   cli_helper mknpy DTYPE OUT.npy D0 [D1 ...]  an array of a pattern (i*37 % 251)
 *   cli_helper same A.npy B.npy                 exit 0 iff same dtype, shape and data
 *   cli_helper fnv A.npy                        FNV-1a 64 of the data bytes, in hex
 *   cli_helper counters S.json                  the counters tests/data/golden.txt pins
 *   cli_helper cmpout A.npy B.npy MAXTOP1       two float32 [samples, classes] outputs: how many
 *                                               elements and top-1 decisions differ; exit 1 if
 *                                               more than MAXTOP1 top-1 decisions differ */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "cimsim/cimsim.h"

static int die(cim_ctx *ctx, const char *what)
{
    fprintf(stderr, "cli_helper: %s: %s\n", what, ctx ? cim_ctx_errmsg(ctx) : "");
    return 1;
}

static size_t esize(int dtype) { return dtype == CIM_INT32 || dtype == CIM_FLOAT32 ? 4 : 1; }

int main(int argc, char **argv)
{
    cim_ctx *ctx = NULL;
    if (argc < 2 || cim_ctx_create(NULL, &ctx))
        return 2;
    int rc = 2;
    if (strcmp(argv[1], "matmul") == 0 && argc == 6) {
        cim_npy W = {0}, X = {0};
        if (cim_npy_read(ctx, argv[2], 0, &W) || cim_npy_read(ctx, argv[3], 0, &X)) {
            rc = die(ctx, "read");
        } else {
            long K = (long)W.shape[0], N = (long)W.shape[1], M = (long)X.shape[0], zx = atol(argv[4]);
            int32_t *P = malloc(sizeof(int32_t) * (size_t)(M * N + 1));
            for (long m = 0; m < M; m++)
                for (long n = 0; n < N; n++) {
                    long long s = 0;
                    for (long k = 0; k < K; k++)
                        s += (long long)(((uint8_t *)X.data)[m * K + k] - zx) * ((int8_t *)W.data)[k * N + n];
                    P[m * N + n] = (int32_t)s;
                }
            int64_t shape[2] = {M, N};
            rc = cim_npy_write(ctx, argv[5], CIM_INT32, 2, shape, P) ? die(ctx, "write") : 0;
            free(P);
        }
        cim_npy_free(ctx, &W);
        cim_npy_free(ctx, &X);
    } else if (strcmp(argv[1], "mknpy") == 0 && argc >= 4) {
        int dtype = strcmp(argv[2], "int8") == 0 ? CIM_INT8 : strcmp(argv[2], "uint8") == 0 ? CIM_UINT8
                    : strcmp(argv[2], "int32") == 0 ? CIM_INT32 : CIM_FLOAT32;
        int64_t shape[8];
        int rank = argc - 4;
        size_t count = 1;
        for (int i = 0; i < rank && i < 8; i++) {
            shape[i] = atoll(argv[4 + i]);
            count *= (size_t)shape[i];
        }
        unsigned char *d = calloc(count ? count : 1, esize(dtype));
        for (size_t i = 0; i < count; i++) {
            int v = (int)((i * 37) % 251);
            if (esize(dtype) == 1)
                d[i] = (unsigned char)v;
            else
                memcpy(d + 4 * i, &v, 4);
        }
        rc = cim_npy_write(ctx, argv[3], dtype, rank, shape, d) ? die(ctx, "write") : 0;
        free(d);
    } else if (strcmp(argv[1], "same") == 0 && argc == 4) {
        cim_npy A = {0}, B = {0};
        if (cim_npy_read(ctx, argv[2], 0, &A) || cim_npy_read(ctx, argv[3], 0, &B))
            rc = die(ctx, "read");
        else
            rc = A.dtype == B.dtype && A.rank == B.rank && A.count == B.count &&
                         memcmp(A.shape, B.shape, sizeof A.shape) == 0 &&
                         memcmp(A.data, B.data, A.count * esize(A.dtype)) == 0
                     ? 0
                     : 1;
        cim_npy_free(ctx, &A);
        cim_npy_free(ctx, &B);
    } else if (strcmp(argv[1], "fnv") == 0 && argc == 3) {
        cim_npy A = {0};
        if (cim_npy_read(ctx, argv[2], 0, &A)) {
            rc = die(ctx, "read");
        } else {
            uint64_t h = 0xcbf29ce484222325ull;
            const unsigned char *b = A.data;
            for (size_t i = 0; i < A.count * esize(A.dtype); i++)
                h = (h ^ b[i]) * 0x100000001b3ull;
            printf("%016llx\n", (unsigned long long)h);
            rc = 0;
        }
        cim_npy_free(ctx, &A);
    } else if (strcmp(argv[1], "cmpout") == 0 && argc == 5) {
        cim_npy A = {0}, B = {0};
        if (cim_npy_read(ctx, argv[2], 0, &A) || cim_npy_read(ctx, argv[3], 0, &B)) {
            rc = die(ctx, "read");
        } else if (A.dtype != CIM_FLOAT32 || B.dtype != CIM_FLOAT32 || A.rank != 2 || B.rank != 2 ||
                   A.shape[0] != B.shape[0] || A.shape[1] != B.shape[1]) {
            rc = die(NULL, "cmpout: both must be float32 [samples, classes] of one shape");
        } else {
            const float *a = A.data, *b = B.data;
            size_t n = (size_t)A.shape[0], c = (size_t)A.shape[1], diff = 0, top = 0;
            double maxd = 0;
            for (size_t i = 0; i < n; i++) {
                size_t ta = 0, tb = 0;
                for (size_t j = 0; j < c; j++) {
                    float x = a[i * c + j], y = b[i * c + j];
                    diff += x != y;
                    if ((double)(x > y ? x - y : y - x) > maxd)
                        maxd = (double)(x > y ? x - y : y - x);
                    ta = x > a[i * c + ta] ? j : ta;
                    tb = y > b[i * c + tb] ? j : tb;
                }
                top += ta != tb;
            }
            printf("samples %zu, outputs differing %zu of %zu (max |diff| %g), top-1 differing %zu\n", n, diff,
                   n * c, maxd, top);
            rc = top > (size_t)atol(argv[4]);
        }
        cim_npy_free(ctx, &A);
        cim_npy_free(ctx, &B);
    } else if (strcmp(argv[1], "counters") == 0 && argc == 3) {
        json_error_t err;
        json_t *o = json_load_file(argv[2], 0, &err);
        const char *keys[] = {"adc_converts", "adc_converts_recovery", "saturations", "true_clips",
                              "speculation_failures", "dac_pulses", "device_activations", "cell_level_sum",
                              "crossbar_cycles"};
        rc = o ? 0 : die(NULL, err.text);
        for (size_t i = 0; o && i < sizeof keys / sizeof keys[0]; i++)
            printf("%s%s=%lld", i ? " " : "", keys[i], (long long)json_integer_value(json_object_get(o, keys[i])));
        if (o) { /* and a digest of the column-sum histogram */
            uint64_t h = 0xcbf29ce484222325ull;
            json_t *bins = json_object_get(json_object_get(o, "column_sum_histogram"), "bins"), *b;
            size_t i;
            json_array_foreach(bins, i, b) {
                long long pair[2] = {(long long)json_integer_value(json_array_get(b, 0)),
                                     (long long)json_integer_value(json_array_get(b, 1))};
                const unsigned char *p = (const unsigned char *)pair;
                for (size_t k = 0; k < sizeof pair; k++)
                    h = (h ^ p[k]) * 0x100000001b3ull;
            }
            printf(" hist=%016llx\n", (unsigned long long)h);
        }
        json_decref(o);
    }
    cim_ctx_destroy(ctx);
    return rc;
}
