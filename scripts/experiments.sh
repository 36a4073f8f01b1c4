#!/bin/sh
# scripts/experiments.sh [CIMSIM]: the RAELLA thesis' experiments (docs/experiments.md) on
# every bundled model (models/*.onnx), results in results/experiments/<model>/.
#
# CIMSIM is the binary (default build/cimsim; build it first: scripts/run.sh or cmake).
# Limits keep the whole script near 10 minutes on this project's 2-core machine (9 min 22 s,
# 2 threads); they are
# sample counts from the start of the Fashion-MNIST test split (the compiler calibrates on
# the first samples of the training split). With n test images, an accuracy p has a standard
# error of sqrt(p(1-p)/n): at p = 0.9, 0.95 points for n = 1000, 1.3 for 500, 1.7 for 300,
# 3.0 for 100; a drop between two setups on the same images is far tighter than that
# (only images whose prediction changes count), but a drop under about 1 point at n <= 500
# is not distinguishable from zero. Raise the limits for tighter numbers
# (--limit 0 = all 10,000 images).
#
# Per model: colsum/ablation/noise limits, noise seeds, noise levels, noise calibration
# samples (the noise experiment recompiles at every level, and at high noise the compiler
# tries all 108 slicings of every layer: on MobileNetV2 that took 284 s (now 37 s) at E = 0.12 with
# 10 calibration samples, so noise calibrates on fewer).
set -eu
CIMSIM=${1:-build/cimsim}
cd "$(dirname "$0")/.."
[ -x "$CIMSIM" ] || { echo "experiments.sh: $CIMSIM not found: build first (cmake -S . -B build && cmake --build build)" >&2; exit 2; }
THREADS=${THREADS:-2}
ALL_LEVELS=0,0.02,0.04,0.06,0.08,0.1,0.12
FEW_LEVELS=0,0.04,0.08,0.12

run() { # model colsum_limit ablation_limit noise_limit seeds levels noise_calib
    m=$1
    out=results/experiments/$m
    mkdir -p "$out"
    for exp in colsum ablation noise efficiency; do
        case $exp in
        colsum) extra="--limit $2" ;;
        ablation | efficiency) extra="--limit $3" ;;
        noise) extra="--limit $4 --seeds $5 --levels $6 --calib $7" ;;
        esac
        echo "== $m: cimsim experiment $exp $extra"
        t0=$(date +%s)
        # shellcheck disable=SC2086
        "$CIMSIM" experiment $exp --model "models/$m.onnx" --threads "$THREADS" $extra > "$out/$exp.txt"
        echo "   $(($(date +%s) - t0)) s; table in $out/$exp.txt"
    done
}

#   model        colsum ablation noise seeds levels       noise-calib
run lenet5        1000   2000     500   3     $ALL_LEVELS  10
run resnet8        500   1000     300   3     $ALL_LEVELS  5
run transformer    500   1000     300   3     $ALL_LEVELS  5
run mobilenetv2    200    500     100   2     $FEW_LEVELS  3
run resnet8_qop    500   1000     200   2     $FEW_LEVELS  5

# Is analog worth its noise? (docs/analog_vs_digital.md): the capacitor sweep on LeNet-5 (6 min)
echo "== lenet5: cimsim experiment analog-vs-digital --limit 500 --seeds 3"
"$CIMSIM" experiment analog-vs-digital --model models/lenet5.onnx --threads "$THREADS" --limit 500 --seeds 3 \
    > results/experiments/lenet5/analog_vs_digital.txt
