/* dispatch.c: the table of compiled-in kernels, best first. The context picks
 * the first one whose supported() is true, unless CIMSIM_KERNEL or the
 * cim_ctx_options.kernel field names one (src/lib/ctx.c). */
#include <stddef.h>
#include "kernel.h"
#include <string.h>
#include "cimsim/ctx.h"
#include "stage.h"

static const cim_kernel *const kernel_table[] = {
#ifdef CIMSIM_HAVE_X86_KERNELS
    &cim_kernel_avx512vnni,
    &cim_kernel_avx2,
#endif
    &cim_kernel_ref,
#ifdef CIMSIM_HAVE_CUDA
    &cim_kernel_cuda, /* after ref: only by name (cuda.h) */
#endif
    NULL,
};

static const char *const kernel_name_table[] = {
#ifdef CIMSIM_HAVE_X86_KERNELS
    "avx512vnni",
    "avx2",
#endif
    "ref",
#ifdef CIMSIM_HAVE_CUDA
    "cuda",
#endif
    NULL,
};

const cim_kernel *const *cim_kernel_list(void) { return kernel_table; }

const char *const *cim_kernel_names(void) { return kernel_name_table; }

const cim_stage *cim_stage_for(const char *kernel_name)
{
#ifdef CIMSIM_HAVE_X86_KERNELS
    if (strcmp(kernel_name, "cuda") == 0) /* the GPU sums; the stages run on this CPU's best ISA */
        kernel_name = cim_kernel_avx512vnni.supported() ? "avx512vnni"
                      : cim_kernel_avx2.supported()     ? "avx2"
                                                        : "ref";
    if (strcmp(kernel_name, "avx512vnni") == 0)
        return cim_stage_avx512vbmi.supported() ? &cim_stage_avx512vbmi : &cim_stage_avx512;
    if (strcmp(kernel_name, "avx2") == 0)
        return &cim_stage_avx2;
#endif
    (void)kernel_name;
    return &cim_stage_ref;
}

static const cim_stage *const stage_table[] = {
    &cim_stage_ref,
#ifdef CIMSIM_HAVE_X86_KERNELS
    &cim_stage_avx2,
    &cim_stage_avx512,
    &cim_stage_avx512vbmi,
#endif
    NULL,
};

const cim_stage *const *cim_stage_list(void) { return stage_table; }
