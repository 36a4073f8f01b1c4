/* cmd_presets.c: `cimsim archs` (one line per architecture preset) and
 * `cimsim presets` (each preset's parameters, or one preset's YAML file). The
 * presets are the YAML files of presets/, built into the library. */
#include <stdio.h>
#include <stdlib.h>
#include "cli.h"

static int help_asked(int argc, char **argv)
{
    return argc > 1 && (cli_flag(argv, 1, "--help") || cli_flag(argv, 1, "-h"));
}

int cli_archs(int argc, char **argv)
{
    if (help_asked(argc, argv)) {
        fputs("usage: cimsim archs\n\nLists the architecture presets, one line each: name and description.\n"
              "`cimsim presets` shows their parameters, `cimsim presets NAME` the YAML file.\n", stdout);
        return 0;
    }
    if (argc > 1) {
        cli_error("archs", "unexpected argument '%s' (try --help)", argv[1]);
        return 2;
    }
    for (const char *const *p = cim_config_preset_names(); *p; p++)
        printf("%-14s %s\n", *p, cim_config_preset_description(*p));
    return 0;
}

/* One preset in the long form: description, base config, adaptive slicing,
 * per-layer overrides. */
static int show(const char *name)
{
    cim_ctx *ctx = cli_ctx("presets", 1, 0);
    if (!ctx)
        return 1;
    cim_arch *a = malloc(sizeof *a);
    if (!a) {
        cim_ctx_destroy(ctx);
        cli_error("presets", "out of memory");
        return 1;
    }
    cim_status st = cim_arch_load(ctx, name, a);
    if (st) {
        int rc = cli_fail("presets", ctx, st);
        free(a);
        cim_ctx_destroy(ctx);
        return rc;
    }
    char summary[256];
    cim_config_summary(&a->base, summary, sizeof summary);
    printf("%-14s %s\n%-14s %s%s\n", name, cim_config_preset_description(name), "", summary,
           a->adaptive_slicing ? " adaptive-weight-slicing" : "");
    for (int i = 0; i < a->n_overrides; i++) {
        cim_config_summary(&a->over[i].cfg, summary, sizeof summary);
        printf("%-14s layer %s: %s\n", "", a->over[i].layer, summary);
    }
    putchar('\n');
    free(a);
    cim_ctx_destroy(ctx);
    return 0;
}

int cli_presets(int argc, char **argv)
{
    if (help_asked(argc, argv)) {
        fputs("usage: cimsim presets [NAME]\n\nLists the built-in architecture presets with their parameters;\n"
              "with NAME, prints that preset's YAML file (presets/NAME.yaml as built in).\n"
              "Use a name with --config or --arch, or `base: NAME` in a YAML config.\n"
              "`cimsim archs` lists them one line each.\n", stdout);
        return 0;
    }
    if (argc > 2) {
        cli_error("presets", "give at most one preset name (try --help)");
        return 2;
    }
    if (argc == 2) {
        const char *text = cim_config_preset_text(argv[1]);
        if (!text) {
            cli_error("presets", "'%s' is not a preset (cimsim archs lists them)", argv[1]);
            return 1;
        }
        fputs(text, stdout);
        return 0;
    }
    for (const char *const *p = cim_config_preset_names(); *p; p++)
        if (show(*p))
            return 1;
    return 0;
}
