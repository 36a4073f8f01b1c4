/* plot.h: gnuplot scripts for the experiments, and running gnuplot as a
 * child process. A script NAME.gp sits next to its data (NAME.dat) and makes
 * NAME.svg and NAME.png when run in that folder (`cd DIR && gnuplot NAME.gp`),
 * so users can edit and re-plot. */
#ifndef CIMSIM_PLOT_H
#define CIMSIM_PLOT_H

#include <stdio.h>

/* Start a script: a comment naming how it was made, then a loop over the two
 * outputs (SVG, then PNG via pngcairo, or gd's png where cairo is missing)
 * of width x height pixels; the plot commands follow, then plot_end(). */
void plot_begin(FILE *f, const char *name, const char *title, int width, int height);
void plot_end(FILE *f);

/* A gnuplot string literal (double quotes, escaped). */
void plot_str(FILE *f, const char *s);

/* Run gnuplot (or $CIMSIM_GNUPLOT) on DIR/NAME.gp in DIR. Returns 0 when
 * NAME.svg and NAME.png were made; 2 when gnuplot is not installed (a
 * warning says so); 1 when it failed (a message says so). */
int plot_run(const char *cmd, const char *dir, const char *name);

#endif
