/* stage.h: the per-row stages around the column-sum kernels: the ADC with
 * shift-and-add and histogram (src/lib/adc_row.h) and the noise generator
 * (src/lib/noise_impl.h). Their semantics are written once, in portable C;
 * stage_*.c compile that same source with each ISA's flags so the compiler
 * vectorizes it, and the results are bit-identical on every ISA. */
#ifndef CIMSIM_STAGE_H
#define CIMSIM_STAGE_H

#include "../lib/adc_row.h"
#include "../lib/noise.h"

typedef struct cim_stage {
    const char *name;
    int (*supported)(void); /* this CPU and OS run it (CPUID, XCR0) */
    /* The ADC over a tile of column sums (adc_row_body.inc), with 64- or 32-bit
     * accumulators. */
    int (*adc_tile)(const cim_adc_row *a, const int64_t *flip_totals, int rows, int count, const int32_t *S,
                    const int32_t *nabs, const float *z, size_t ld, int64_t *acc, size_t ldacc, uint16_t *fail,
                    int fail_ld, uint32_t *hist, uint64_t *bits_out, cim_adc_counts *cnt);
    int (*adc_tile32)(const cim_adc_row *a, const int64_t *flip_totals, int rows, int count, const int32_t *S,
                      const int32_t *nabs, const float *z, size_t ld, int32_t *acc, size_t ldacc, uint16_t *fail,
                      int fail_ld, uint32_t *hist, uint64_t *bits_out, cim_adc_counts *cnt);
    /* Normals of channels n0 .. n0 + count - 1 for vectors key->vector + r, r < rows,
     * row r at z + r * ldz. */
    void (*noise_tile)(const cim_noise_key *k, int rows, uint32_t n0, int count, float *z, size_t ldz);
    /* The same tile's 16-bit uniforms of the ADC-output draw (qnoise.h), row r
     * at u + r * ldu. */
    void (*qnoise_tile)(const cim_noise_key *k, int rows, uint32_t n0, int count, uint16_t *u, size_t ldu);
    /* Normals of recovery slices r < nrec of scattered conversions f < count
     * (vectors[f], channels[f]) into z[r * count + f] (noise_impl.h). */
    void (*noise_recovery)(const cim_noise_key *k, const uint64_t *vectors, const uint32_t *channels, int count,
                           int nrec, float *z);
} cim_stage;

extern const cim_stage cim_stage_ref;
#ifdef CIMSIM_HAVE_X86_KERNELS
extern const cim_stage cim_stage_avx2;
extern const cim_stage cim_stage_avx512;
extern const cim_stage cim_stage_avx512vbmi; /* avx512 and VBMI's byte permutes (qnoise_impl.h) */
#endif

/* The stage for kernel `kernel_name`: compiled for the same ISA, or (avx512vnni)
 * for the best of its stages that this CPU runs. */
const cim_stage *cim_stage_for(const char *kernel_name);

/* Every compiled-in stage, ref first, NULL-terminated (tests and benchmarks:
 * check supported() before calling one). */
const cim_stage *const *cim_stage_list(void);

#endif
