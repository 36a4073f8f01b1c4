# analog_vs_digital.gp: made by cimsim (cimsim experiment); data in analog_vs_digital.dat.
# Re-plot after editing: cd into this folder, then: gnuplot analog_vs_digital.gp
# Title: Analog vs digital CiM, lenet5 on fashion-mnist:test (500 samples, 3 seeds)

do for [fmt in "svg png"] {
  if (fmt eq "svg") {
    set terminal svg size 1500,560 dynamic enhanced font "Sans,12" background rgb "white"
    set output "analog_vs_digital.svg"
  } else {
    if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
      set terminal pngcairo size 1500,560 enhanced font "Sans,11" background rgb "white"
    } else {
      set terminal png size 1500,560 enhanced background rgb "white"
    }
    set output "analog_vs_digital.png"
  }
  reset
  set multiplot layout 1,3 title "Analog vs digital CiM, lenet5 on fashion-mnist:test (500 samples, 3 seeds)"
  set logscale y
  set grid
  set key top left font ",8"
  set xlabel "top-1 (%): mean over seeds, bars one s.d."
  set ylabel "energy per inference (nJ)"
  # analog_vs_digital.dat: block (model x 6 + arch x 3 + rows): C fF, top-1 mean, s.d., nJ;
  # block 18: digital-cim (top-1, 0, nJ)
  set title "ADC: survey envelope (best designs, rate-free)"
  plot "analog_vs_digital.dat" index 0 using 2:4:3 with xerrorlines lw 1.5 pt 5 dt 1 lc rgb "#d62728" title "raella, 128 rows", \
       "analog_vs_digital.dat" index 1 using 2:4:3 with xerrorlines lw 1.5 pt 7 dt 2 lc rgb "#d62728" title "raella, 256 rows", \
       "analog_vs_digital.dat" index 2 using 2:4:3 with xerrorlines lw 1.5 pt 9 dt 3 lc rgb "#d62728" title "raella, 512 rows", \
       "analog_vs_digital.dat" index 3 using 2:4:3 with xerrorlines lw 1.5 pt 5 dt 1 lc rgb "#1f77b4" title "isaac, 128 rows", \
       "analog_vs_digital.dat" index 4 using 2:4:3 with xerrorlines lw 1.5 pt 7 dt 2 lc rgb "#1f77b4" title "isaac, 256 rows", \
       "analog_vs_digital.dat" index 5 using 2:4:3 with xerrorlines lw 1.5 pt 9 dt 3 lc rgb "#1f77b4" title "isaac, 512 rows", \
       "analog_vs_digital.dat" index 18 using 1:3 with points pt 13 ps 2.5 lc rgb "black" title "digital-cim (exact)"
  set title "ADC: Andrulis best design at 1.28 GS/s"
  plot "analog_vs_digital.dat" index 6 using 2:4:3 with xerrorlines lw 1.5 pt 5 dt 1 lc rgb "#d62728" title "raella, 128 rows", \
       "analog_vs_digital.dat" index 7 using 2:4:3 with xerrorlines lw 1.5 pt 7 dt 2 lc rgb "#d62728" title "raella, 256 rows", \
       "analog_vs_digital.dat" index 8 using 2:4:3 with xerrorlines lw 1.5 pt 9 dt 3 lc rgb "#d62728" title "raella, 512 rows", \
       "analog_vs_digital.dat" index 9 using 2:4:3 with xerrorlines lw 1.5 pt 5 dt 1 lc rgb "#1f77b4" title "isaac, 128 rows", \
       "analog_vs_digital.dat" index 10 using 2:4:3 with xerrorlines lw 1.5 pt 7 dt 2 lc rgb "#1f77b4" title "isaac, 256 rows", \
       "analog_vs_digital.dat" index 11 using 2:4:3 with xerrorlines lw 1.5 pt 9 dt 3 lc rgb "#1f77b4" title "isaac, 512 rows", \
       "analog_vs_digital.dat" index 18 using 1:3 with points pt 13 ps 2.5 lc rgb "black" title "digital-cim (exact)"
  set title "ADC: typical design (Andrulis - gap)"
  plot "analog_vs_digital.dat" index 12 using 2:4:3 with xerrorlines lw 1.5 pt 5 dt 1 lc rgb "#d62728" title "raella, 128 rows", \
       "analog_vs_digital.dat" index 13 using 2:4:3 with xerrorlines lw 1.5 pt 7 dt 2 lc rgb "#d62728" title "raella, 256 rows", \
       "analog_vs_digital.dat" index 14 using 2:4:3 with xerrorlines lw 1.5 pt 9 dt 3 lc rgb "#d62728" title "raella, 512 rows", \
       "analog_vs_digital.dat" index 15 using 2:4:3 with xerrorlines lw 1.5 pt 5 dt 1 lc rgb "#1f77b4" title "isaac, 128 rows", \
       "analog_vs_digital.dat" index 16 using 2:4:3 with xerrorlines lw 1.5 pt 7 dt 2 lc rgb "#1f77b4" title "isaac, 256 rows", \
       "analog_vs_digital.dat" index 17 using 2:4:3 with xerrorlines lw 1.5 pt 9 dt 3 lc rgb "#1f77b4" title "isaac, 512 rows", \
       "analog_vs_digital.dat" index 18 using 1:3 with points pt 13 ps 2.5 lc rgb "black" title "digital-cim (exact)"
  unset multiplot
  unset multiplot
  unset output
}
