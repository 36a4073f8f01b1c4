/* bench_kernels.c: microbenchmark of the column-sum kernels' gemm_u8s8 against
 * oneDNN's dnnl_gemm_u8s8s32 on the tile shapes the simulator uses.
 *
 * Everything runs on one thread: the cimsim kernels are single-threaded, and
 * oneDNN's OpenMP runtime is limited to one thread (omp_set_num_threads(1),
 * looked up at run time so this file needs no -fopenmp).
 *
 * Usage: bench_kernels [--quick] [--reps N] [--min-ms T] [M Np Kp]
 *   Default: all shapes M in {32, 64, 256} x Np in {64, 128, 512} x
 *   Kp in {128, 512}. With M Np Kp: that one shape.
 *
 * For each shape and each kernel supported on this CPU (plus oneDNN) it prints
 * the median GMAC/s over the repetitions (one repetition is as many calls as
 * fill --min-ms; the kernels' repetitions are interleaved with oneDNN's), the
 * median of the per-repetition ratios to oneDNN, and a checksum of the output C; every
 * kernel's C is compared element by element with the reference kernel's.
 * Exit status 1 if any kernel's output differs.
 */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "dnnl.h"
#include "kernels/kernel.h"

#define MAX_KERNELS 8

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static uint64_t rng_state = 0x1234567887654321ull;

static uint64_t rng_next(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void *xalloc(size_t size)
{
    size = (size + 63) / 64 * 64;
    void *p = aligned_alloc(64, size ? size : 64);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return p;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* FNV-1a over the M x N block of C. */
static uint64_t checksum(const int32_t *C, int M, int N, size_t ldc)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) {
            uint32_t v = (uint32_t)C[(size_t)m * ldc + (size_t)n];
            for (int i = 0; i < 4; i++) {
                h ^= (v >> (8 * i)) & 0xffu;
                h *= 0x100000001b3ull;
            }
        }
    return h;
}

static void limit_threads(void)
{
    /* libdnnl pulls in the OpenMP runtime; find omp_set_num_threads in the
     * process's global scope. */
    void *self = dlopen(NULL, RTLD_NOW);
    void (*set_threads)(int) = NULL;
    if (self) {
        void *sym = dlsym(self, "omp_set_num_threads");
        memcpy(&set_threads, &sym, sizeof set_threads);
    }
    if (set_threads)
        set_threads(1);
    else
        fprintf(stderr, "warning: omp_set_num_threads not found; set OMP_NUM_THREADS=1\n");
}

typedef struct {
    int M, Np, Kp;
    const uint8_t *A;
    size_t lda;
    const int8_t *Bp; /* packed p16k4 */
    const int8_t *Brm; /* row-major K x N for oneDNN */
    int32_t *C;
    size_t ldc;
    const cim_kernel *k; /* NULL: oneDNN */
} job;

static int run_job(const job *j)
{
    if (j->k) {
        j->k->gemm_u8s8(j->M, j->Np, j->Kp, j->A, j->lda, j->Bp, j->C, j->ldc);
        return 0;
    }
    const int32_t co = 0;
    dnnl_status_t st = dnnl_gemm_u8s8s32('N', 'N', 'F', j->M, j->Np, j->Kp, 1.0f, j->A,
                                         (dnnl_dim_t)j->lda, 0, j->Brm, j->Np, 0, 0.0f, j->C,
                                         (dnnl_dim_t)j->ldc, &co);
    return st == dnnl_success ? 0 : -1;
}

/* Calls per repetition so that one repetition takes at least min_s. */
static long calibrate(const job *j, double min_s)
{
    long iters = 1;
    for (;;) {
        double t0 = now_s();
        for (long i = 0; i < iters; i++)
            if (run_job(j))
                return -1;
        double dt = now_s() - t0;
        if (dt >= min_s)
            return iters;
        iters = dt <= 0 ? iters * 16 : (long)((double)iters * (1.2 * min_s / dt)) + 1;
    }
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof v[0], cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

#define MAX_REPS 101

/* Times oneDNN (job 0) and each kernel, interleaving their repetitions so that
 * a busy neighbour or a clock change hits all of them alike. The ratio is the
 * median of the per-repetition ratios to oneDNN. */
static int bench_shape(int M, int Np, int Kp, int reps, double min_s, const cim_kernel **ks, int nk)
{
    size_t lda = (size_t)(Kp + 63) / 64 * 64, ldc = (size_t)Np;
    size_t csize = sizeof(int32_t) * (size_t)M * ldc;
    uint8_t *A = xalloc((size_t)M * lda);
    int8_t *Bp = xalloc((size_t)Kp * (size_t)Np);
    int8_t *Brm = xalloc((size_t)Kp * (size_t)Np);
    int32_t *Cref = xalloc(csize);
    memset(A, 0, (size_t)M * lda);
    for (int m = 0; m < M; m++)
        for (int k = 0; k < Kp; k++)
            A[(size_t)m * lda + (size_t)k] = (uint8_t)rng_next();
    for (int k = 0; k < Kp; k++)
        for (int n = 0; n < Np; n++) {
            int8_t v = (int8_t)(int)(rng_next() % 256u - 128u);
            Brm[(size_t)k * (size_t)Np + (size_t)n] = v;
            Bp[cim_kernel_pack_offset(k, n, Kp)] = v;
        }
    cim_kernel_ref.gemm_u8s8(M, Np, Kp, A, lda, Bp, Cref, ldc);

    int nj = nk + 1;
    job jobs[MAX_KERNELS + 1];
    long iters[MAX_KERNELS + 1] = {0};
    static double rate[MAX_KERNELS + 1][MAX_REPS], ratio[MAX_KERNELS + 1][MAX_REPS];
    int ok[MAX_KERNELS + 1];
    for (int i = 0; i < nj; i++) {
        jobs[i] = (job){M, Np, Kp, A, lda, Bp, Brm, xalloc(csize), ldc, i ? ks[i - 1] : NULL};
        memset(jobs[i].C, 0, csize);
        iters[i] = calibrate(&jobs[i], min_s);
        ok[i] = iters[i] > 0 && memcmp(jobs[i].C, Cref, csize) == 0;
    }
    if (iters[0] < 0) {
        fprintf(stderr, "dnnl_gemm_u8s8s32 failed\n");
        exit(2);
    }
    const double macs = (double)M * Np * Kp;
    for (int r = 0; r < reps; r++)
        for (int i = 0; i < nj; i++) {
            double t0 = now_s();
            for (long it = 0; it < iters[i]; it++)
                run_job(&jobs[i]);
            rate[i][r] = macs * (double)iters[i] / (now_s() - t0) * 1e-9;
        }
    for (int r = 0; r < reps; r++)
        for (int i = 0; i < nj; i++)
            ratio[i][r] = rate[i][r] / rate[0][r];

    int bad = 0;
    for (int i = 0; i < nj; i++) {
        double g = median(rate[i], reps), q = median(ratio[i], reps);
        const char *note = "";
        if (!ok[i])
            note = i ? "  MISMATCH vs ref" : "  (differs from ref)";
        if (i)
            bad |= !ok[i];
        printf("%4d %4d %4d  %-11s %8.1f   %5.2f  %016llx%s\n", M, Np, Kp,
               i ? ks[i - 1]->name : "onednn", g, q,
               (unsigned long long)checksum(jobs[i].C, M, Np, ldc), note);
        free(jobs[i].C);
    }
    fflush(stdout);
    free(A);
    free(Bp);
    free(Brm);
    free(Cref);
    return bad;
}

int main(int argc, char **argv)
{
    int reps = 11;
    double min_s = 0.02;
    int shape[3], nshape = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick")) {
            reps = 5;
            min_s = 0.005;
        } else if (!strcmp(argv[i], "--reps") && i + 1 < argc) {
            reps = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--min-ms") && i + 1 < argc) {
            min_s = atof(argv[++i]) * 1e-3;
        } else if (nshape < 3) {
            shape[nshape++] = atoi(argv[i]);
        } else {
            fprintf(stderr, "usage: %s [--quick] [--reps N] [--min-ms T] [M Np Kp]\n", argv[0]);
            return 2;
        }
    }
    if (reps < 1)
        reps = 1;
    if (reps > MAX_REPS)
        reps = MAX_REPS;
    if (nshape != 0 && (nshape != 3 || shape[0] < 1 || shape[1] < 16 || shape[1] % 16 ||
                        shape[2] < 4 || shape[2] % 4)) {
        fprintf(stderr, "shape: M >= 1, Np a multiple of 16, Kp a multiple of 4\n");
        return 2;
    }
    limit_threads();

    const cim_kernel *ks[MAX_KERNELS];
    int nk = 0;
    for (const cim_kernel *const *p = cim_kernel_list(); *p && nk < MAX_KERNELS; p++) {
        if ((*p)->supported())
            ks[nk++] = *p;
        else
            printf("# kernel %s: not supported on this CPU, skipped\n", (*p)->name);
    }
    const dnnl_version_t *v = dnnl_version();
    printf("# oneDNN %d.%d.%d (%s), one thread; median of %d repetitions of >= %.0f ms\n", v->major,
           v->minor, v->patch, v->cpu_runtime == DNNL_RUNTIME_OMP ? "omp" : "other", reps,
           min_s * 1e3);
    printf("%4s %4s %4s  %-11s %8s   %6s  %s\n", "M", "Np", "Kp", "kernel", "GMAC/s", "ratio",
           "checksum");

    int bad = 0;
    if (nshape) {
        bad |= bench_shape(shape[0], shape[1], shape[2], reps, min_s, ks, nk);
    } else {
        static const int Ms[] = {32, 64, 256}, Ns[] = {64, 128, 512}, Ks[] = {128, 512};
        for (int a = 0; a < 3; a++)
            for (int b = 0; b < 3; b++)
                for (int c = 0; c < 2; c++)
                    bad |= bench_shape(Ms[a], Ns[b], Ks[c], reps, min_s, ks, nk);
    }
    return bad ? 1 : 0;
}
