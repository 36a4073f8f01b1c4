#!/bin/sh
# test_experiment.sh CIMSIM SRCDIR: `cimsim experiment colsum|ablation|noise|efficiency` on LeNet-5 with a
# tiny limit: each runs and writes its files; a second run (other thread count) gives
# byte-identical JSON, CSV and plot data; without gnuplot the data is still written with a
# warning and exit 0; bad input fails with a message, a non-zero exit and no output file.
set -u
CIMSIM=$1
SRC=$2
. "$(dirname "$0")/cli_lib.sh"
cli_init exp
cd "$SRC" || exit 1
M=models/lenet5.onnx
have_gnuplot=0
command -v gnuplot > /dev/null 2>&1 && have_gnuplot=1

args() { # experiment -> its tiny options
    case $1 in
    noise) echo "--limit 48 --calib 2 --seeds 1 --levels 0,0.06" ;;
    *) echo "--limit 48 --calib 2" ;;
    esac
}

for exp in colsum ablation noise efficiency; do
    # shellcheck disable=SC2046
    if "$CIMSIM" experiment $exp --model $M $(args $exp) --threads 2 --out "$T/a" > "$T/out" 2> "$T/err"; then
        ok
    else
        bad "$exp failed:"; cat "$T/err"; continue
    fi
    for ext in json csv dat gp timing.json; do
        [ -s "$T/a/$exp.$ext" ] && ok || bad "$exp: $exp.$ext missing"
    done
    if [ $have_gnuplot = 1 ]; then
        for ext in svg png; do [ -s "$T/a/$exp.$ext" ] && ok || bad "$exp: $exp.$ext missing"; done
    fi
    grep -q "\"experiment\": \"$exp\"" "$T/a/$exp.json" && ok || bad "$exp.json lacks its name"
    ls -a "$T/a" | grep -q '\.tmp' && bad "$exp left a temporary file" || ok
    # the same bits again, on one thread
    # shellcheck disable=SC2046
    "$CIMSIM" experiment $exp --model $M $(args $exp) --threads 1 --out "$T/b" --no-plot > /dev/null 2> "$T/err" ||
        { bad "$exp second run failed:"; cat "$T/err"; continue; }
    for ext in json csv dat gp; do
        cmp -s "$T/a/$exp.$ext" "$T/b/$exp.$ext" && ok || bad "$exp.$ext differs between two runs"
    done
done
grep -q '"setup": "zero_offset"' "$T/a/ablation.json" && ok || bad "ablation lacks Zero+Offset"
grep -q '"setup": "recovery"' "$T/a/colsum.json" && ok || bad "colsum lacks the recovery setup"
grep -q '"level": 0.059999999999999998\|"level": 0.06' "$T/a/noise.json" && ok || bad "noise lacks level 0.06"
# efficiency: the four setups priced (energy by component, the isaac and raella specs), the
# RAELLA/ISAAC ratios, and no wall times in its JSON
for k in '"setup": "isaac"' '"setup": "raella"' '"energy_by_component"' '"energy_spec": "raella"' \
    '"energy_spec": "isaac"' '"raella_vs_isaac"' '"throughput_vs_isaac"'; do
    grep -q "$k" "$T/a/efficiency.json" && ok || bad "efficiency.json lacks $k"
done
grep -q '"seconds"' "$T/a/efficiency.json" && bad "efficiency.json holds wall times" || ok
[ "$(grep -c '"energy_pj_per_inference": [1-9]' "$T/a/efficiency.json")" = 4 ] && ok ||
    bad "efficiency.json: not four setups with energy"

# no gnuplot: a warning, exit 0, data and script written, no plot
CIMSIM_GNUPLOT=/nonexistent/gnuplot "$CIMSIM" experiment ablation --model $M --limit 16 --calib 1 --out "$T/c" \
    > /dev/null 2> "$T/err"
rc=$?
[ $rc -eq 0 ] && ok || bad "without gnuplot: exit $rc"
grep -q "warning: .*not installed" "$T/err" && ok || { bad "without gnuplot: no warning"; cat "$T/err"; }
[ -s "$T/c/ablation.json" ] && [ -s "$T/c/ablation.gp" ] && ok || bad "without gnuplot: data not written"
[ -e "$T/c/ablation.svg" ] && bad "without gnuplot: an svg appeared" || ok

# bad input: non-zero, a message naming the problem, nothing written
expect_fail() { # name needle args...
    name=$1; needle=$2; shift 2
    rm -rf "$T/bad"
    "$CIMSIM" "$@" --out "$T/bad" > "$T/out" 2> "$T/err"
    rc=$?
    if [ $rc -eq 0 ]; then bad "$name: exit 0"; return; fi
    grep -q -- "$needle" "$T/err" || { bad "$name: stderr lacks '$needle':"; cat "$T/err"; return; }
    if [ -e "$T/bad" ] && [ -n "$(ls -A "$T/bad")" ]; then bad "$name: left files: $(ls -A "$T/bad")"; return; fi
    grep -qi "sanitizer\|segmentation\|core dumped" "$T/err" && { bad "$name: crashed"; return; }
    ok
}
expect_fail "missing model" "nope.onnx" experiment colsum --model "$T/nope.onnx" --limit 8
expect_fail "no model" "--model is required" experiment ablation --limit 8
expect_fail "unknown experiment" "unknown experiment 'fig9'" experiment fig9 --model $M
expect_fail "bad levels" "--levels" experiment noise --model $M --levels 0,abc
expect_fail "negative level" "--levels" experiment noise --model $M --levels 0,-0.1
expect_fail "empty levels" "--levels" experiment noise --model $M --levels ""
expect_fail "repeated level" "appears twice" experiment noise --model $M --levels 0.02,0.02
expect_fail "zero seeds" "--seeds" experiment noise --model $M --seeds 0
expect_fail "bad limit" "--limit" experiment colsum --model $M --limit -3
expect_fail "unknown option" "unknown option" experiment colsum --model $M --frobnicate
expect_fail "bad archs dir" "archs-dir" experiment colsum --model $M --archs-dir "$T/none"
mkdir -p "$T/archs"
cp experiments/archs/*.yaml "$T/archs/"
printf 'rows: 512\nencoding: sideways\n' > "$T/archs/colsum-baseline.yaml"
expect_fail "bad setup file" "colsum-baseline.yaml" experiment colsum --model $M --archs-dir "$T/archs" --limit 8
expect_fail "bad dataset" "nope.npy" experiment ablation --model $M --dataset "$T/nope.npy" --limit 8

cli_finish test_experiment
