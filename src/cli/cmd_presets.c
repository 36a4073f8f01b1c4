/* cmd_presets.c: `cimsim presets`: the built-in architecture presets. */
#include <stdio.h>
#include "cli.h"

int cli_presets(int argc, char **argv)
{
    if (argc > 1 && (cli_flag(argv, 1, "--help") || cli_flag(argv, 1, "-h"))) {
        fputs("usage: cimsim presets\n\nLists the built-in crossbar presets with their parameters.\n"
              "Use a name with --config, or `base: NAME` in a YAML config.\n", stdout);
        return 0;
    }
    for (const char *const *p = cim_config_preset_names(); *p; p++) {
        cim_xbar_config c;
        char summary[256];
        if (cim_config_preset(NULL, *p, &c) != CIM_OK)
            return 1;
        cim_config_summary(&c, summary, sizeof summary);
        printf("%-14s %s\n%-14s %s\n\n", *p, cim_config_preset_description(*p), "", summary);
    }
    return 0;
}
