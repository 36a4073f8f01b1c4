# noise.gp: made by cimsim (cimsim experiment); data in noise.dat.
# Re-plot after editing: cd into this folder, then: gnuplot noise.gp
# Title: Accuracy under analog noise, transformer on fashion-mnist:test (300 samples, 3 seeds)

do for [fmt in "svg png"] {
  if (fmt eq "svg") {
    set terminal svg size 960,600 dynamic enhanced font "Sans,12" background rgb "white"
    set output "noise.svg"
  } else {
    if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
      set terminal pngcairo size 960,600 enhanced font "Sans,11" background rgb "white"
    } else {
      set terminal png size 960,600 enhanced background rgb "white"
    }
    set output "noise.png"
  }
  reset
  set title "Accuracy under analog noise, transformer on fashion-mnist:test (300 samples, 3 seeds)"
  set xlabel "noise level E (gaussian\\_colsum: {/Symbol s} = E sqrt(N_+ + N_-))"
  set ylabel "top-1 accuracy drop (points): median, bars min..max over seeds"
  set grid
  set key top left
  set xrange [*:*]
  set offsets graph 0.03, graph 0.03, graph 0.05, graph 0.05
  # blocks: one per setup; columns E, median, min, max, mean, sd
  plot "noise.dat" index 0 using 1:2:3:4 with yerrorlines lw 2 pt 5 lc rgb "#555555" title "ISAAC", \
       "noise.dat" index 1 using 1:2:3:4 with yerrorlines lw 2 pt 7 lc rgb "#1f77b4" title "+Center+Offset", \
       "noise.dat" index 2 using 1:2:3:4 with yerrorlines lw 2 pt 9 lc rgb "#2ca02c" title "+Adaptive Weight Slicing", \
       "noise.dat" index 3 using 1:2:3:4 with yerrorlines lw 2 pt 11 lc rgb "#d62728" title "+Dynamic Input Slicing (RAELLA)"
  unset multiplot
  unset output
}
