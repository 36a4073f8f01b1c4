/* plot.c: gnuplot scripts and the gnuplot child process (plot.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include "cli.h"
#include "plot.h"

void plot_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

void plot_begin(FILE *f, const char *name, const char *title, int width, int height)
{
    fprintf(f, "# %s.gp: made by cimsim (cimsim experiment); data in %s.dat.\n", name, name);
    fprintf(f, "# Re-plot after editing: cd into this folder, then: gnuplot %s.gp\n", name);
    fprintf(f, "# Title: %s\n\n", title);
    fprintf(f, "do for [fmt in \"svg png\"] {\n");
    fprintf(f, "  if (fmt eq \"svg\") {\n");
    fprintf(f, "    set terminal svg size %d,%d dynamic enhanced font \"Sans,12\" background rgb \"white\"\n",
            width, height);
    fprintf(f, "    set output \"%s.svg\"\n", name);
    fprintf(f, "  } else {\n");
    fprintf(f, "    if (strstrt(GPVAL_TERMINALS, \"pngcairo\") > 0) {\n");
    fprintf(f, "      set terminal pngcairo size %d,%d enhanced font \"Sans,11\" background rgb \"white\"\n",
            width, height);
    fprintf(f, "    } else {\n");
    fprintf(f, "      set terminal png size %d,%d enhanced background rgb \"white\"\n", width, height);
    fprintf(f, "    }\n");
    fprintf(f, "    set output \"%s.png\"\n", name);
    fprintf(f, "  }\n");
    fprintf(f, "  reset\n");
}

void plot_end(FILE *f)
{
    fprintf(f, "  unset multiplot\n");
    fprintf(f, "  unset output\n");
    fprintf(f, "}\n");
}

static int exists(const char *dir, const char *name, const char *ext)
{
    char p[4096];
    struct stat s;
    snprintf(p, sizeof p, "%s/%s.%s", dir, name, ext);
    return stat(p, &s) == 0 && S_ISREG(s.st_mode) && s.st_size > 0;
}

int plot_run(const char *cmd, const char *dir, const char *name)
{
    const char *prog = getenv("CIMSIM_GNUPLOT");
    if (!prog || !*prog)
        prog = "gnuplot";
    char script[512];
    snprintf(script, sizeof script, "%s.gp", name);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        cli_error(cmd, "cannot start %s: %s", prog, strerror(errno));
        return 1;
    }
    if (pid == 0) {
        if (chdir(dir) != 0)
            _exit(126);
        execlp(prog, prog, script, (char *)NULL);
        _exit(127); /* not found (or not executable) */
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) {
            cli_error(cmd, "waiting for %s: %s", prog, strerror(errno));
            return 1;
        }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
        fprintf(stderr,
                "cimsim %s: warning: %s is not installed (Debian: apt-get install gnuplot-nox), so %s/%s.svg "
                "and .png were not made; the data and the script are written: cd %s && gnuplot %s\n",
                cmd, prog, dir, name, dir, script);
        return 2;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        cli_error(cmd, "%s %s (in %s) failed (status %d)", prog, script, dir,
                  WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        return 1;
    }
    if (!exists(dir, name, "svg") || !exists(dir, name, "png")) {
        cli_error(cmd, "%s %s (in %s) did not make %s.svg and %s.png", prog, script, dir, name, name);
        return 1;
    }
    return 0;
}
