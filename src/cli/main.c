/* main.c: `cimsim`, the command-line front end of libcimsim. */
#include <stdio.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include "cli.h"

static const char usage[] =
    "cimsim: a fast, bit-exact simulator of analog compute-in-memory crossbars\n"
    "\n"
    "usage: cimsim COMMAND [options]   (cimsim COMMAND --help for each)\n"
    "\n"
    "commands:\n"
    "  eval      a quantized ONNX network on a dataset: reference vs simulated hardware\n"
    "  compile   RAELLA's adaptive weight slicing for a network: a plan for eval --plan\n"
    "  experiment colsum|ablation|noise: the RAELLA thesis' experiments on a network\n"
    "  reference the digital reference alone: a model's outputs (and inputs) as NPY\n"
    "  workload  network workloads (layer shapes for cost): list, check, or write one for a model\n"
    "  compare   run several architecture configs on one layer; counters and error side by side\n"
    "  mvm       one layer's products through a simulated crossbar (NPY in, NPY + JSON out)\n"
    "  components the component library (energy per event, area, sources) and the ADC models\n"
    "  hw        hardware architectures (crossbar/IMA/tile/chip): area, power, mapping a workload\n"
    "  cost      a network's energy, area and throughput without data (shapes + statistics)\n"
    "  archs     list the architecture presets, one line each\n"
    "  presets   the architecture presets with their parameters (or one preset's YAML)\n"
    "  version   print the version, the kernels this CPU can run and the one chosen\n"
    "\n"
    "The arithmetic is fixed bit for bit in docs/semantics.md; configs in docs/config.md.\n"
    "Environment: CIMSIM_KERNEL=ref|avx2|avx512vnni forces a kernel, CIMSIM_KERNEL_DEBUG=1\n"
    "logs the choice (and the ADC/noise stages that go with it; `cimsim version` lists\n"
    "both), OMP_NUM_THREADS sets the default thread count.\n"
    "\n"
    "example (the bundled 512x512 layer under ISAAC and RAELLA):\n"
    "  cimsim compare --configs isaac,raella-nospec,raella,zero-offset\n";

static int version(void)
{
    cim_ctx *ctx = cli_ctx(NULL, 0, 0);
    printf("cimsim %s\nkernels:", cim_version());
    for (const char *const *k = cim_kernel_names(); *k; k++)
        printf(" %s%s", *k, cim_kernel_supported(*k) == 1 ? "" : "(unsupported-here)");
    printf("\nchosen: %s (stages %s), %d threads\n", ctx ? cim_ctx_kernel_name(ctx) : "?",
           ctx ? cim_ctx_stage_name(ctx) : "?", ctx ? cim_ctx_threads(ctx) : 0);
    cim_ctx_destroy(ctx);
    return ctx ? 0 : 1;
}

int main(int argc, char **argv)
{
#ifdef __GLIBC__
    /* The graph runs and crossbar runs allocate and free buffers of a few MB
     * per node and batch; glibc's defaults hand such blocks back to the
     * kernel (mmap, heap trimming), and each new one then pays its page
     * faults again (7% of MobileNetV2's eval). This process keeps them:
     * blocks up to 64 MB come from the heap, which is trimmed only past
     * 256 MB free. The library itself never changes the allocator. */
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
#endif
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "mvm") == 0)
        return cli_mvm(argc - 1, argv + 1);
    if (strcmp(cmd, "eval") == 0)
        return cli_eval(argc - 1, argv + 1);
    if (strcmp(cmd, "compile") == 0)
        return cli_compile(argc - 1, argv + 1);
    if (strcmp(cmd, "experiment") == 0)
        return cli_experiment(argc - 1, argv + 1);
    if (strcmp(cmd, "reference") == 0)
        return cli_reference(argc - 1, argv + 1);
    if (strcmp(cmd, "workload") == 0)
        return cli_workload(argc - 1, argv + 1);
    if (strcmp(cmd, "compare") == 0)
        return cli_compare(argc - 1, argv + 1);
    if (strcmp(cmd, "presets") == 0)
        return cli_presets(argc - 1, argv + 1);
    if (strcmp(cmd, "components") == 0)
        return cli_components(argc - 1, argv + 1);
    if (strcmp(cmd, "hw") == 0)
        return cli_hw(argc - 1, argv + 1);
    if (strcmp(cmd, "cost") == 0)
        return cli_cost(argc - 1, argv + 1);
    if (strcmp(cmd, "archs") == 0)
        return cli_archs(argc - 1, argv + 1);
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0)
        return version();
    fprintf(stderr, "cimsim: unknown command '%s'\n\n%s", cmd, usage);
    return 2;
}
