# ablation.gp: made by cimsim (cimsim experiment); data in ablation.dat.
# Re-plot after editing: cd into this folder, then: gnuplot ablation.gp
# Title: Ablation, resnet8 on fashion-mnist:test (1000 samples)

do for [fmt in "svg png"] {
  if (fmt eq "svg") {
    set terminal svg size 1200,800 dynamic enhanced font "Sans,12" background rgb "white"
    set output "ablation.svg"
  } else {
    if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
      set terminal pngcairo size 1200,800 enhanced font "Sans,11" background rgb "white"
    } else {
      set terminal png size 1200,800 enhanced background rgb "white"
    }
    set output "ablation.png"
  }
  reset
  set multiplot layout 2,2 title "Ablation, resnet8 on fashion-mnist:test (1000 samples)"
  set style fill solid 0.8 border -1
  set boxwidth 0.7
  set grid ytics
  unset key
  set xtics rotate by -20 font ",9"
  set xrange [-0.6:4.6]
  # columns: 1 index, 2 label, 3 converts/MAC, 4 saturation %, 5 accepted saturation %,
  #          6 speculation success % (NaN: none), 7 accuracy drop (points), 8 colour
  set title "ADC conversions per MAC"
  set yrange [0:*]
  plot "ablation.dat" using 1:3:8:xtic(2) with boxes lc rgb variable, "" using 1:3:(sprintf("%.3f", $3)) with labels offset 0,0.7 font ",9"
  set title "ADC saturation (% of conversions; log scale)"
  set logscale y
  set yrange [*:*]
  set key top right font ",9"
  set boxwidth 0.35
  plot "ablation.dat" using ($1-0.18):($4 > 0 ? $4 : NaN):xtic(2) with boxes lc rgb "#d62728" title "saturation flags", "" using ($1+0.18):($5 > 0 ? $5 : NaN) with boxes lc rgb "#ff9896" title "accepted into results"
  unset logscale y
  unset key
  set boxwidth 0.7
  set title "Speculation success (%)"
  set yrange [0:105]
  plot "ablation.dat" using 1:6:8:xtic(2) with boxes lc rgb variable, "" using 1:6:(sprintf("%.1f", $6)) with labels offset 0,0.7 font ",9"
  set title "Top-1 accuracy drop (points)"
  set yrange [-0.375:0.5]
  plot "ablation.dat" using 1:7:8:xtic(2) with boxes lc rgb variable, "" using 1:7:(sprintf("%.2f", $7)) with labels offset 0,0.7 font ",9"
  unset multiplot
  unset output
}
