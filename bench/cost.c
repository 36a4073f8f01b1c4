/* cost.c: speed of costing a layer from its counters (cost issue, section 5:
 * at least 100,000 layer-evaluations per second on one core; CiMLoop about
 * 83/s for single mappings).
 *
 * One layer-evaluation = the energy of one layer from its counters
 * (cim_energy_layer: every component priced, Titanium factors) plus its
 * mapping onto the hardware (cim_hw_map_layer: crossbars, cycles, time). The
 * counters are those `cimsim cost` estimates for the 21 layers of ResNet-18
 * (bundled workload) under raella and isaac with assumed rates; specs,
 * hardware and counters are prepared once, outside the timing. Also timed:
 * a whole network costed by cim_cost_network (spec and hardware loading,
 * estimation, energy, greedy replication) per second. Single thread; median
 * of --reps rounds; a checksum (sum of the energies and crossbar counts) so a
 * faster build that changes the answer shows.
 *
 * usage: bench_cost [--reps R] [--iters I] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cimsim/cimsim.h"
#include "cimsim/costrun.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

#define MAXL 64

int main(int argc, char **argv)
{
    int reps = 5, iters = 20000;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--reps"))
            reps = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--iters"))
            iters = atoi(argv[i + 1]);
    }
    if (reps < 1 || reps > 99 || iters < 1) {
        fprintf(stderr, "usage: bench_cost [--reps R (1-99)] [--iters I]\n");
        return 2;
    }
    cim_ctx *ctx;
    if (cim_ctx_create(NULL, &ctx))
        return 1;
    const char *archs[] = {"raella", "isaac"};
    cim_workload wl;
    if (cim_workload_load(ctx, "resnet18", &wl)) {
        fprintf(stderr, "bench_cost: %s\n", cim_ctx_errmsg(ctx));
        return 1;
    }
    printf("bench_cost: ResNet-18 (%d layers), one thread, %d rounds of %d passes\n", wl.n_layers, reps, iters);
    int rc = 0;
    for (int a = 0; a < 2 && !rc; a++) {
        cim_arch arch;
        cim_energy_spec *spec = NULL;
        cim_components *lib = NULL;
        static cim_hw hw;
        cim_xbar_config cfg[MAXL];
        cim_stats st[MAXL];
        cim_layer_info info[MAXL];
        cim_hw_layer hl[MAXL];
        int n = wl.n_layers < MAXL ? wl.n_layers : MAXL;
        if (cim_arch_load(ctx, archs[a], &arch) || cim_energy_spec_load(ctx, archs[a], NULL, &spec) ||
            cim_components_load(ctx, NULL, &lib) || cim_hw_load(ctx, lib, archs[a], &hw)) {
            fprintf(stderr, "bench_cost: %s\n", cim_ctx_errmsg(ctx));
            return 1;
        }
        for (int i = 0; i < n; i++) {
            const cim_workload_layer *W = &wl.layers[i];
            cfg[i] = *cim_arch_layer_config(&arch, W->name, i == 0, i == n - 1);
            cim_cost_rates r;
            cim_cost_rates_assumed(&cfg[i], 0, 0, &r);
            if (cim_cost_estimate_layer(ctx, &cfg[i], W->K, W->N, W->groups, W->M, &r, &st[i], &info[i]))
                return 1;
            hl[i] = (cim_hw_layer){W->name, W->K, W->N, W->groups, W->M, 0, -1, &cfg[i]};
        }
        double t[99], check = 0;
        for (int k = 0; k < reps && !rc; k++) {
            double sum = 0, t0 = now();
            for (int it = 0; it < iters && !rc; it++)
                for (int i = 0; i < n; i++) {
                    cim_energy e;
                    cim_hw_layer_map m;
                    if (cim_energy_layer(ctx, spec, &cfg[i], &st[i], &info[i], &e) ||
                        cim_hw_map_layer(ctx, &hw, &hl[i], &m)) {
                        fprintf(stderr, "bench_cost: %s\n", cim_ctx_errmsg(ctx));
                        rc = 1;
                        break;
                    }
                    sum += e.total_pj + (double)m.crossbars + m.time_ns;
                }
            t[k] = now() - t0;
            check = sum / iters;
        }
        qsort(t, (size_t)reps, sizeof t[0], cmp);
        double per_s = (double)iters * n / t[reps / 2];
        /* whole networks: cim_cost_network from the workload, loading included */
        int nets = 20;
        double t0 = now(), ncheck = 0;
        for (int k = 0; k < nets && !rc; k++) {
            cim_cost_result res;
            if (cim_cost_network(ctx, &arch, &wl, NULL, &res)) {
                fprintf(stderr, "bench_cost: %s\n", cim_ctx_errmsg(ctx));
                rc = 1;
                break;
            }
            ncheck = res.energy.total_pj + res.hw.inferences_per_s;
            cim_cost_result_free(ctx, &res);
        }
        double net_s = (now() - t0) / nets;
        printf("%-7s %12.0f layer-evaluations/s (energy + mapping, median)   whole network %8.2f ms "
               "(%.0f layers/s)   checksum %.9e %.9e\n",
               archs[a], per_s, 1e3 * net_s, n / net_s, check, ncheck);
        cim_energy_spec_free(ctx, spec);
        cim_components_free(ctx, lib);
    }
    cim_workload_free(ctx, &wl);
    cim_ctx_destroy(ctx);
    return rc;
}
