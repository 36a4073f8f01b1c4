/* ort_run.c: run an ONNX model with ONNX Runtime, the trusted reference for
 * cimsim's int8 networks.
 *
 *   ort_run MODEL.onnx INPUT.npy OUTPUT.npy [--threads T]
 *           [--opt-level disable|basic|extended|all] [--lib libonnxruntime.so]
 *           [--time R [--batch B]]
 *
 * INPUT.npy (float32, uint8, int8 or int32, a shape that fits the model's one
 * input; symbolic dims take the array's) is fed to the model's only input and
 * the first output is written to OUTPUT.npy in its own dtype (float32, uint8,
 * int8, int32, int64; where libcimsim's NPY writer lacks int64, int64 goes out
 * as int32 when every value fits, e.g. ArgMax). NPY files go
 * through libcimsim's reader and writer (cimsim/npy.h).
 *
 * ONNX Runtime is loaded at run time with dlopen, from --lib, else the
 * environment variable CIMSIM_ORT_LIB, else the library found at build time
 * (CIMSIM_ORT_DEFAULT_LIB), else "libonnxruntime.so" on the loader's path;
 * scripts/setup_ort.sh installs it. Compiled against the C API header of the
 * same release (ORT_API_VERSION); an older library is refused with both
 * versions named. --opt-level defaults to ORT's own default (all); "disable"
 * runs the graph exactly as written. --threads sets the intra-op threads
 * (default 1, so results never depend on the machine).
 *
 * --time R (benchmarks: bench/eval.sh): after the run that writes OUTPUT,
 * run every sample (the first axis of INPUT) through the model again R times,
 * in batches of B samples (--batch, default 64, as `cimsim eval`; the last
 * batch may be smaller), and print one line
 *   ort_run: time: S samples, batch B, T threads, R runs: median X s, min Y s, Z samples/s
 * with the median wall time of a whole pass (session creation and the first
 * run excluded; tensors wrap INPUT's memory, no copies). The model's batch
 * dimension must be symbolic unless B equals it.
 *
 * Exit status: 0 on success, 1 on any error (message on stderr), 2 on usage.
 */
#include <dlfcn.h>
#include <inttypes.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <onnxruntime_c_api.h>
#include "cimsim/cimsim.h"

#ifndef CIMSIM_ORT_DEFAULT_LIB
#define CIMSIM_ORT_DEFAULT_LIB "libonnxruntime.so"
#endif

typedef struct ort_run {
    const OrtApi *api;
    OrtEnv *env;
    OrtSessionOptions *opts;
    OrtSession *session;
    OrtAllocator *alloc;  /* ORT's default allocator: not released */
    OrtMemoryInfo *mem;
    OrtTypeInfo *in_type;
    OrtValue *in, *out;
    OrtTensorTypeAndShapeInfo *out_info;
    char *in_name, *out_name;
} ort_run;

/* Report a failed OrtStatus (and release it); returns 1 for failure. */
static int ort_failed(const OrtApi *api, OrtStatus *st, const char *what)
{
    if (!st)
        return 0;
    fprintf(stderr, "ort_run: %s: %s\n", what, api->GetErrorMessage(st));
    api->ReleaseStatus(st);
    return 1;
}
#define ORT(call, what)                         \
    do {                                        \
        if (ort_failed(r->api, (call), (what))) \
            return 1;                           \
    } while (0)

static void ort_release(ort_run *r)
{
    const OrtApi *api = r->api;
    if (!api)
        return;
    if (r->alloc && r->in_name)
        ort_failed(api, api->AllocatorFree(r->alloc, r->in_name), "freeing a name");
    if (r->alloc && r->out_name)
        ort_failed(api, api->AllocatorFree(r->alloc, r->out_name), "freeing a name");
    api->ReleaseTensorTypeAndShapeInfo(r->out_info);
    api->ReleaseValue(r->out);
    api->ReleaseValue(r->in);
    api->ReleaseTypeInfo(r->in_type);
    api->ReleaseMemoryInfo(r->mem);
    api->ReleaseSession(r->session);
    api->ReleaseSessionOptions(r->opts);
    api->ReleaseEnv(r->env);
}

static int ort_type(int dtype, ONNXTensorElementDataType *t)
{
    switch (dtype) {
    case CIM_FLOAT32: *t = ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT; return 0;
    case CIM_UINT8: *t = ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8; return 0;
    case CIM_INT8: *t = ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8; return 0;
    case CIM_INT32: *t = ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32; return 0;
    }
    return -1;
}

static const char *type_name(ONNXTensorElementDataType t)
{
    switch (t) {
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT: return "float32";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8: return "uint8";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8: return "int8";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32: return "int32";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64: return "int64";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE: return "float64";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL: return "bool";
    default: return "another type";
    }
}

static void fmt_dims(char *buf, size_t n, const int64_t *d, size_t rank)
{
    size_t at = (size_t)snprintf(buf, n, "[");
    for (size_t i = 0; i < rank && at < n; i++)
        at += (size_t)snprintf(buf + at, n - at, i ? ",%" PRId64 : "%" PRId64, d[i]);
    if (at < n)
        snprintf(buf + at, n - at, "]");
}

/* The model's input must take x: same element type, same rank, every fixed
 * dim equal. */
static int check_input(ort_run *r, const cim_npy *x, const char *model, const char *input)
{
    const OrtTensorTypeAndShapeInfo *ti;
    ORT(r->api->CastTypeInfoToTensorInfo(r->in_type, &ti), "input type");
    if (!ti) {
        fprintf(stderr, "ort_run: %s: input '%s' is not a tensor\n", model, r->in_name);
        return 1;
    }
    ONNXTensorElementDataType want, have;
    size_t rank;
    int64_t dims[16];
    ORT(r->api->GetTensorElementType(ti, &want), "input element type");
    ORT(r->api->GetDimensionsCount(ti, &rank), "input rank");
    if (rank > 16) {
        fprintf(stderr, "ort_run: %s: input rank %zu is too large\n", model, rank);
        return 1;
    }
    ORT(r->api->GetDimensions(ti, dims, rank), "input dims");
    char mb[256], xb[256];
    fmt_dims(mb, sizeof mb, dims, rank);
    fmt_dims(xb, sizeof xb, x->shape, (size_t)x->rank);
    if (ort_type(x->dtype, &have) || have != want) {
        fprintf(stderr, "ort_run: %s: input '%s' is %s %s but %s holds %s\n", model, r->in_name,
                type_name(want), mb, input,
                ort_type(x->dtype, &have) ? "an unsupported type" : type_name(have));
        return 1;
    }
    int fit = rank == (size_t)x->rank;
    for (size_t i = 0; fit && i < rank; i++)
        fit = dims[i] < 0 || dims[i] == x->shape[i];
    if (!fit) {
        fprintf(stderr, "ort_run: %s: input '%s' has shape %s (-1: any) but %s is %s\n", model,
                r->in_name, mb, input, xb);
        return 1;
    }
    return 0;
}

/* Write the first output (int64 as int32 where the NPY writer has no int64). */
static int write_output(ort_run *r, cim_ctx *ctx, const char *path)
{
    ONNXTensorElementDataType t;
    size_t rank, count;
    int64_t dims[CIM_NPY_MAX_RANK];
    ORT(r->api->GetTensorTypeAndShape(r->out, &r->out_info), "output shape");
    ORT(r->api->GetTensorElementType(r->out_info, &t), "output element type");
    ORT(r->api->GetDimensionsCount(r->out_info, &rank), "output rank");
    if (rank > CIM_NPY_MAX_RANK) {
        fprintf(stderr, "ort_run: output rank %zu is more than NPY files here hold\n", rank);
        return 1;
    }
    ORT(r->api->GetDimensions(r->out_info, dims, rank), "output dims");
    ORT(r->api->GetTensorShapeElementCount(r->out_info, &count), "output size");
    void *data;
    ORT(r->api->GetTensorMutableData(r->out, &data), "output data");
    int dtype = t == ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT   ? CIM_FLOAT32
                : t == ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8 ? CIM_UINT8
                : t == ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8  ? CIM_INT8
                : t == ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32 ? CIM_INT32
                                                           : -1;
#ifdef CIM_NPY_HAS_INT64
    if (t == ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64)
        dtype = CIM_INT64;
#else
    if (t == ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64) {
        int64_t *v = data;
        int32_t *w = data; /* in place: element i is read before it is written */
        for (size_t i = 0; i < count; i++) {
            if (v[i] < INT32_MIN || v[i] > INT32_MAX) {
                fprintf(stderr, "ort_run: output '%s' element %zu = %" PRId64 " does not fit "
                        "int32\n", r->out_name, i, v[i]);
                return 1;
            }
            w[i] = (int32_t)v[i];
        }
        fprintf(stderr, "ort_run: output '%s' is int64; written as int32\n", r->out_name);
        dtype = CIM_INT32;
    }
#endif
    if (dtype < 0) {
        fprintf(stderr, "ort_run: output '%s' is %s, which NPY files here cannot hold\n",
                r->out_name, type_name(t));
        return 1;
    }
    if (cim_npy_write(ctx, path, dtype, (int)rank, dims, data)) {
        fprintf(stderr, "ort_run: %s\n", cim_ctx_errmsg(ctx));
        return 1;
    }
    char db[256];
    fmt_dims(db, sizeof db, dims, rank);
    printf("ort_run: output '%s' %s %s -> %s\n", r->out_name, type_name(t), db, path);
    return 0;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* --time: `reps` passes over every sample of x in batches of `batch`; prints the
 * median and minimum wall time of a pass. */
static int time_model(ort_run *r, const cim_npy *x, size_t esize, ONNXTensorElementDataType xt, int reps,
                      int batch, int threads)
{
    const OrtApi *api = r->api;
    int64_t n = x->shape[0], shape[CIM_NPY_MAX_RANK];
    size_t row = esize;
    for (int i = 1; i < x->rank; i++)
        row *= (size_t)x->shape[i];
    memcpy(shape, x->shape, sizeof(int64_t) * (size_t)x->rank);
    double *t = malloc(sizeof(double) * (size_t)reps);
    if (!t) {
        fprintf(stderr, "ort_run: out of memory\n");
        return 1;
    }
    const char *in_names[1] = {r->in_name}, *out_names[1] = {r->out_name};
    int rc = 0;
    for (int k = 0; k < reps && !rc; k++) {
        double t0 = now_s();
        for (int64_t at = 0; at < n && !rc; at += batch) {
            shape[0] = n - at < batch ? n - at : batch;
            OrtValue *in = NULL, *out = NULL;
            rc = ort_failed(api, api->CreateTensorWithDataAsOrtValue(r->mem, (char *)x->data + (size_t)at * row,
                                                                     (size_t)shape[0] * row, shape, (size_t)x->rank,
                                                                     xt, &in), "input tensor");
            const OrtValue *ins[1] = {in};
            if (!rc)
                rc = ort_failed(api, api->Run(r->session, NULL, in_names, ins, 1, out_names, 1, &out),
                                "running the model (--time)");
            api->ReleaseValue(out);
            api->ReleaseValue(in);
        }
        t[k] = now_s() - t0;
    }
    if (!rc) {
        double tmin;
        qsort(t, (size_t)reps, sizeof *t, cmp_double);
        tmin = t[0];
        double med = reps % 2 ? t[reps / 2] : 0.5 * (t[reps / 2 - 1] + t[reps / 2]);
        printf("ort_run: time: %" PRId64 " samples, batch %d, %d threads, %d runs: median %.6f s, min %.6f s, "
               "%.1f samples/s\n", n, batch, threads, reps, med, tmin, (double)n / med);
    }
    free(t);
    return rc;
}

static int run_model(ort_run *r, cim_ctx *ctx, const char *model, const char *input,
                     const char *output, int threads, GraphOptimizationLevel level, int reps, int batch)
{
    const OrtApi *api = r->api;
    cim_npy x = {0};
    if (cim_npy_read(ctx, input, 0, &x)) {
        fprintf(stderr, "ort_run: %s\n", cim_ctx_errmsg(ctx));
        return 1;
    }
    int rc = 1;
    size_t n_in, n_out, esize = x.dtype == CIM_FLOAT32 || x.dtype == CIM_INT32 ? 4 : 1;
    ONNXTensorElementDataType xt = ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED;
#define CK(call, what)                         \
    do {                                       \
        if (ort_failed(api, (call), (what)))   \
            goto done;                         \
    } while (0)
    CK(api->CreateEnv(ORT_LOGGING_LEVEL_WARNING, "ort_run", &r->env), "creating the environment");
    CK(api->CreateSessionOptions(&r->opts), "session options");
    CK(api->SetIntraOpNumThreads(r->opts, threads), "--threads");
    CK(api->SetInterOpNumThreads(r->opts, 1), "inter-op threads");
    CK(api->SetSessionGraphOptimizationLevel(r->opts, level), "--opt-level");
    CK(api->CreateSession(r->env, model, r->opts, &r->session), model);
    CK(api->GetAllocatorWithDefaultOptions(&r->alloc), "allocator");
    CK(api->SessionGetInputCount(r->session, &n_in), "input count");
    CK(api->SessionGetOutputCount(r->session, &n_out), "output count");
    if (n_in != 1 || n_out < 1) {
        fprintf(stderr, "ort_run: %s: %zu inputs and %zu outputs; ort_run feeds exactly one "
                "input and needs an output\n", model, n_in, n_out);
        goto done;
    }
    CK(api->SessionGetInputName(r->session, 0, r->alloc, &r->in_name), "input name");
    CK(api->SessionGetOutputName(r->session, 0, r->alloc, &r->out_name), "output name");
    CK(api->SessionGetInputTypeInfo(r->session, 0, &r->in_type), "input type");
    if (check_input(r, &x, model, input))
        goto done;
    ort_type(x.dtype, &xt);
    CK(api->CreateCpuMemoryInfo(OrtArenaAllocator, OrtMemTypeDefault, &r->mem), "memory info");
    CK(api->CreateTensorWithDataAsOrtValue(r->mem, x.data, x.count * esize, x.shape,
                                           (size_t)x.rank, xt, &r->in), "input tensor");
    const char *in_names[1] = {r->in_name}, *out_names[1] = {r->out_name};
    const OrtValue *ins[1] = {r->in};
    CK(api->Run(r->session, NULL, in_names, ins, 1, out_names, 1, &r->out), "running the model");
    rc = write_output(r, ctx, output);
    if (!rc && reps > 0)
        rc = time_model(r, &x, esize, xt, reps, batch, threads);
done:
#undef CK
    ort_release(r); /* before x: the input tensor points into x.data */
    cim_npy_free(ctx, &x);
    return rc;
}

static int usage(void)
{
    fprintf(stderr, "usage: ort_run MODEL.onnx INPUT.npy OUTPUT.npy [--threads T] "
            "[--opt-level disable|basic|extended|all] [--lib PATH] [--time R [--batch B]]\n");
    return 2;
}

int main(int argc, char **argv)
{
    const char *pos[3] = {NULL, NULL, NULL}, *lib = NULL;
    int npos = 0, threads = 1, reps = 0, batch = 64;
    GraphOptimizationLevel level = ORT_ENABLE_ALL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
            char *end;
            long t = strtol(argv[++i], &end, 10);
            if (*end || t < 1 || t > 1024) {
                fprintf(stderr, "ort_run: --threads: '%s' is not in 1..1024\n", argv[i]);
                return 2;
            }
            threads = (int)t;
        } else if (strcmp(argv[i], "--opt-level") == 0 && i + 1 < argc) {
            const char *v = argv[++i];
            if (strcmp(v, "disable") == 0)
                level = ORT_DISABLE_ALL;
            else if (strcmp(v, "basic") == 0)
                level = ORT_ENABLE_BASIC;
            else if (strcmp(v, "extended") == 0)
                level = ORT_ENABLE_EXTENDED;
            else if (strcmp(v, "all") == 0)
                level = ORT_ENABLE_ALL;
            else {
                fprintf(stderr, "ort_run: --opt-level: '%s' is not disable, basic, extended or all\n", v);
                return 2;
            }
        } else if ((strcmp(argv[i], "--time") == 0 || strcmp(argv[i], "--batch") == 0) && i + 1 < argc) {
            const char *opt = argv[i];
            char *end;
            long v = strtol(argv[++i], &end, 10);
            if (*end || v < 1 || v > 1000000) {
                fprintf(stderr, "ort_run: %s: '%s' is not in 1..1000000\n", opt, argv[i]);
                return 2;
            }
            if (opt[2] == 't')
                reps = (int)v;
            else
                batch = (int)v;
        } else if (strcmp(argv[i], "--lib") == 0 && i + 1 < argc) {
            lib = argv[++i];
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return usage();
        } else if (npos < 3) {
            pos[npos++] = argv[i];
        } else {
            return usage();
        }
    }
    if (npos != 3)
        return usage();
    if (!lib)
        lib = getenv("CIMSIM_ORT_LIB");
    if (!lib || !*lib)
        lib = CIMSIM_ORT_DEFAULT_LIB;

    void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "ort_run: cannot load ONNX Runtime from %s: %s (scripts/setup_ort.sh "
                "installs it; --lib or CIMSIM_ORT_LIB names it)\n", lib, dlerror());
        return 1;
    }
    const OrtApiBase *(*get_base)(void);
    *(void **)&get_base = dlsym(h, "OrtGetApiBase");
    const OrtApiBase *base = get_base ? get_base() : NULL;
    if (!base) {
        fprintf(stderr, "ort_run: %s has no OrtGetApiBase: not ONNX Runtime\n", lib);
        dlclose(h);
        return 1;
    }
    const char *version = base->GetVersionString();
    printf("ort_run: onnxruntime %s (%s)\n", version, lib);
    ort_run r;
    memset(&r, 0, sizeof r);
    r.api = base->GetApi(ORT_API_VERSION);
    if (!r.api) {
        fprintf(stderr, "ort_run: %s is onnxruntime %s, older than the C API version %d this "
                "tool was built for\n", lib, version, ORT_API_VERSION);
        dlclose(h);
        return 1;
    }
    cim_ctx *ctx;
    if (cim_ctx_create(NULL, &ctx)) {
        fprintf(stderr, "ort_run: cannot create a cimsim context\n");
        dlclose(h);
        return 1;
    }
    int rc = run_model(&r, ctx, pos[0], pos[1], pos[2], threads, level, reps, batch);
    cim_ctx_destroy(ctx);
    dlclose(h);
    return rc;
}
