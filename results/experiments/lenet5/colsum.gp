# colsum.gp: made by cimsim (cimsim experiment); data in colsum.dat.
# Re-plot after editing: cd into this folder, then: gnuplot colsum.gp
# Title: Column sums, lenet5 on fashion-mnist:test (1000 samples)

do for [fmt in "svg png"] {
  if (fmt eq "svg") {
    set terminal svg size 1200,520 dynamic enhanced font "Sans,12" background rgb "white"
    set output "colsum.svg"
  } else {
    if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
      set terminal pngcairo size 1200,520 enhanced font "Sans,11" background rgb "white"
    } else {
      set terminal png size 1200,520 enhanced background rgb "white"
    }
    set output "colsum.png"
  }
  reset
  set multiplot layout 1,2 title "Column sums, lenet5 on fashion-mnist:test (1000 samples)"
  set logscale y
  set format y "10^{%L}"
  set grid
  set key top left font ",9"
  set style line 1 lw 2 lc rgb "#555555"
  set style line 2 lw 2 lc rgb "#1f77b4"
  set style line 3 lw 2 lc rgb "#2ca02c"
  set style line 4 lw 2 lc rgb "#d62728"
  set style line 5 lw 2 lc rgb "#9467bd"
  set title "Distribution of column sums (noise-free S at the ADC)"
  set xlabel "column sum S (bins of 8)"
  set ylabel "fraction of conversions per unit S"
  set xrange [-1024:1024]
  set object 1 rect from -64.5, graph 0 to 63.5, graph 1 fc rgb "#e8e8e8" fs solid noborder behind
  set label 1 "7-bit ADC\n[-64, 63]" at 0, graph 0.06 center font ",9"
  plot "colsum.dat" index 0 using 1:2 with lines ls 1 title "Baseline (offset, 4b slices) (70.1% outside)", \
       "colsum.dat" index 1 using 1:2 with lines ls 2 title "+Center+Offset (32.7% outside)", \
       "colsum.dat" index 2 using 1:2 with lines ls 3 title "+Adaptive Weight Slicing (29.3% outside)", \
       "colsum.dat" index 3 using 1:2 with lines ls 4 title "+DIS: speculation cycles (8.7% outside)", \
       "colsum.dat" index 4 using 1:2 with lines ls 5 title "+DIS: recovery cycles (0.1% outside)"
  unset object 1
  unset label 1
  set title "Column-sum resolution"
  set key bottom left font ",9"
  set xlabel "bits needed (signed)"
  set ylabel "fraction of conversions"
  set xrange [-0.5:*]
  set xtics 1
  set arrow 1 from 7.5, graph 0 to 7.5, graph 1 nohead dt 2 lw 2 lc rgb "black"
  set label 2 "7-bit ADC" at 7.7, graph 0.95 left font ",9"
  plot "colsum.dat" index 5 using 1:2 with linespoints ls 1 pt 7 ps 0.6 title "Baseline (offset, 4b slices) (29.9% <= 7b)", \
       "colsum.dat" index 6 using 1:2 with linespoints ls 2 pt 7 ps 0.6 title "+Center+Offset (67.3% <= 7b)", \
       "colsum.dat" index 7 using 1:2 with linespoints ls 3 pt 7 ps 0.6 title "+Adaptive Weight Slicing (70.7% <= 7b)", \
       "colsum.dat" index 8 using 1:2 with linespoints ls 4 pt 7 ps 0.6 title "+DIS: speculation cycles (91.3% <= 7b)", \
       "colsum.dat" index 9 using 1:2 with linespoints ls 5 pt 7 ps 0.6 title "+DIS: recovery cycles (99.9% <= 7b)"
  unset multiplot
  unset output
}
