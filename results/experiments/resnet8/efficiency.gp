# efficiency.gp: made by cimsim (cimsim experiment); data in efficiency.dat.
# Re-plot after editing: cd into this folder, then: gnuplot efficiency.gp
# Title: Energy and throughput, resnet8 on fashion-mnist:test (1000 samples)

do for [fmt in "svg png"] {
  if (fmt eq "svg") {
    set terminal svg size 1300,600 dynamic enhanced font "Sans,12" background rgb "white"
    set output "efficiency.svg"
  } else {
    if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
      set terminal pngcairo size 1300,600 enhanced font "Sans,11" background rgb "white"
    } else {
      set terminal png size 1300,600 enhanced background rgb "white"
    }
    set output "efficiency.png"
  }
  reset
  set multiplot layout 1,2 title "Energy and throughput, resnet8 on fashion-mnist:test (1000 samples)"
  set style data histograms
  set style histogram rowstacked
  set style fill solid 0.85 border -1
  set boxwidth 0.7
  set grid ytics
  set key outside right top font ",9"
  set xtics rotate by -20 font ",9"
  # efficiency.dat block 0: 1 index, 2 label, then nJ per inference by component:
  # 3 adc, 4 crossbar, 5 dac, 6 sample_hold, 7 shift_add, 8 input_sum, 9 buffer, 10 bus, 11 other
  set title "Energy per inference by component (nJ; thesis Fig. 7-1)"
  set yrange [0:*]
  plot "efficiency.dat" index 0 using 3:xtic(2) title "adc" noenhanced lc rgb "#d62728", "" index 0 using 4 title "crossbar" noenhanced lc rgb "#1f77b4", "" index 0 using 5 title "dac" noenhanced lc rgb "#aec7e8", "" index 0 using 6 title "sample_hold" noenhanced lc rgb "#9467bd", "" index 0 using 7 title "shift_add" noenhanced lc rgb "#ff7f0e", "" index 0 using 8 title "input_sum" noenhanced lc rgb "#8c564b", "" index 0 using 9 title "buffer" noenhanced lc rgb "#2ca02c", "" index 0 using 10 title "bus" noenhanced lc rgb "#7f7f7f", "" index 0 using 11 title "other" noenhanced lc rgb "#dddddd"
  # block 1: 1 index, 2 label, 3 efficiency ratio, 4 throughput ratio (NaN: missing)
  set style histogram clustered gap 1
  set title "Against ISAAC (thesis Fig. 6-1)"
  set key inside left top
  set yrange [0:*]
  plot "efficiency.dat" index 1 using 3:xtic(2) title "energy efficiency (x)" lc rgb "#2ca02c", "" index 1 using 4 title "throughput (x)" lc rgb "#1f77b4"
  unset multiplot
  unset output
}
