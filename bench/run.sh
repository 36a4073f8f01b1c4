#!/bin/sh
# bench/run.sh: build (Release) and run every measure of issue 7, and write one
# table file, results/bench.md (plus the per-bench files results/bench_*.md):
#   1. slice efficiency, GMAC/s, noise-on/off and 1 -> 2 thread ratios, checksums
#      (bench_mvm: isaac and raella, 512x512 weights, 256 and 4096 vectors,
#      noise off/on, histogram off/on, 1 and 2 threads, interleaved rounds);
#      fails if the psums differ between thread counts, histogram settings or rounds
#   2. whole networks under raella with noise against ONNX Runtime int8 (bench/eval.sh)
#   3. adaptive weight slicing time per layer (bench/compile.sh)
#   4. IR drop (bench_irdrop), costing (bench_cost), the column-sum kernels
#      (bench_kernels) and the four-preset engine table (results/bench_mvm.md)
# Machines are shared and noisy: read medians and per-round ratios.
#   bench/run.sh [--limit N] [--reps R] [--reps-large R] [--eval-reps R] [--skip-eval] [--skip-compile]
#     --limit N        images per model for the whole-network bench (default 500)
#     --reps R         rounds of bench_mvm with 256 vectors (default 21)
#     --reps-large R   rounds of bench_mvm with 4096 vectors (default 7)
#     --eval-reps R    rounds of the whole-network bench (default 3)
# About 4-6 minutes on a shared 2-core machine with the defaults. Never more
# than 2 threads. Build directory: $CIMSIM_BUILD_DIR (default build), made by
# scripts/setup.sh (which installs the Debian packages, oneDNN among them);
# ONNX Runtime comes from scripts/setup_ort.sh (npm); without it the ORT
# column is left out.
set -eu
cd "$(dirname "$0")/.."
limit=500 reps=21 reps_large=7 eval_reps=3 skip_eval="" skip_compile=""
while [ $# -gt 0 ]; do
    case "$1" in
    --limit) limit=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    --reps-large) reps_large=$2; shift 2 ;;
    --eval-reps) eval_reps=$2; shift 2 ;;
    --skip-eval) skip_eval=1; shift ;;
    --skip-compile) skip_compile=1; shift ;;
    *) sed -n '2,/^set -eu/p' "$0" | sed '$d' >&2; exit 2 ;;
    esac
done
BUILD=${CIMSIM_BUILD_DIR:-build}
export CIMSIM_BUILD_DIR=$BUILD
if ort_dir=$(scripts/setup_ort.sh); then
    ort_dir=$(printf '%s\n' "$ort_dir" | tail -n 1)
else
    echo "bench/run.sh: WARNING: ONNX Runtime could not be installed; no ORT column" >&2
    ort_dir=""
fi
scripts/setup.sh -DCMAKE_BUILD_TYPE=Release -DCIMSIM_ORT_DIR="$ort_dir" >/dev/null
# OMP_WAIT_POLICY=active: idle OpenMP threads spin instead of sleeping, so that a
# 2-thread run right after 1-thread runs keeps both cores on a shared machine
# (see bench/bench_mvm.c); ONNX Runtime's own pool spins by default as well.
export CIMSIM_BENCH_NO_SETUP=1 OMP_NUM_THREADS=2 OMP_WAIT_POLICY=active
for b in bench_mvm bench_irdrop bench_cost; do
    [ -x "$BUILD/bench/$b" ] || { echo "bench/run.sh: $BUILD/bench/$b was not built (oneDNN: libdnnl-dev)" >&2; exit 1; }
done
mkdir -p results
raw=$(mktemp -d "${TMPDIR:-/tmp}/cimsim-bench-XXXXXX")
trap 'rm -rf "$raw"' EXIT
t_start=$(date +%s)

# the build measured
commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)
dirty=""
# (results/ is what this script writes: a rerun over a previous run's tables is not "dirty")
git diff-index --quiet HEAD -- . ':(exclude)results' 2>/dev/null || dirty=" + uncommitted changes (dirty)"
{
    echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "commit=$commit$dirty"
    echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores"
    echo "compiler=$(sed -n 's/^CMAKE_C_COMPILER:[A-Z]*=//p' "$BUILD/CMakeCache.txt") $(${CC:-cc} -dumpfullversion 2>/dev/null || true)"
    echo "build=$BUILD ($(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BUILD/CMakeCache.txt"))"
    echo "load_before=$(cut -d' ' -f1-3 /proc/loadavg)"
} >"$raw/info"

echo "== 1. slice efficiency: isaac and raella vs oneDNN, 1 and 2 threads (bench_mvm) =="
for m in 256 4096; do
    r=$reps
    [ "$m" -le 256 ] || r=$reps_large
    "$BUILD/bench/bench_mvm" --presets isaac,raella --threads 1,2 --hist both --noise both --m "$m" --reps "$r" \
        --md "results/bench_mvm_m$m.md" --tsv "$raw/mvm_$m.tsv"
    echo
done

echo "== 1b. the same measures on a real layer: ResNet-8 /stage3/conv2/0/Conv, first 64 test images =="
mkdir -p "$raw/real"
"$BUILD/cimsim" eval --model models/resnet8.onnx --arch raella --limit 64 --threads 2 \
    --dump-layer /stage3/conv2/0/Conv --dump-dir "$raw/real" >/dev/null
zx=$(sed -n 's/^zx //p' "$raw/real/layer.txt")
"$BUILD/bench/bench_mvm" --presets isaac,raella --threads 1,2 --hist off --noise both --reps "$reps_large" \
    --weights "$raw/real/W.npy" --inputs "$raw/real/X.npy" --zx "$zx" \
    --md results/bench_mvm_real.md --tsv "$raw/mvm_real.tsv"
cp "$raw/real/layer.txt" "$raw/real_layer.txt"
echo

echo "== 2. whole networks: raella with noise vs ONNX Runtime int8 (bench/eval.sh) =="
if [ -z "$skip_eval" ]; then
    bench/eval.sh --limit "$limit" --threads 2 --reps "$eval_reps"
    cp results/bench_eval.tsv "$raw/eval.tsv"
fi
echo

echo "== 3. adaptive weight slicing, ms per layer (bench/compile.sh) =="
[ -n "$skip_compile" ] || bench/compile.sh
echo

echo "== 4. IR drop: IBM stepwise vs event-driven vs transfer weights, one column (bench_irdrop) =="
"$BUILD/bench/bench_irdrop" --reps 5 | tee "$raw/irdrop.txt"
echo "== 4. costing from counters (bench_cost) =="
"$BUILD/bench/bench_cost" --reps 5 | tee "$raw/cost.txt"
if [ -x "$BUILD/bench/bench_kernels" ]; then
    echo "== column-sum kernels vs oneDNN, one thread (bench_kernels) =="
    "$BUILD/bench/bench_kernels" 64 512 512 | tee "$raw/kernels.txt"
fi
echo "== all four presets, 2 threads, histogram on (bench_mvm; results/bench_mvm.md) =="
"$BUILD/bench/bench_mvm" --md results/bench_mvm.md
echo "load_after=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$raw/info"
echo "seconds=$(($(date +%s) - t_start))" >>"$raw/info"

/usr/bin/python3 bench/table.py "$raw" "$limit" >results/bench.md
echo
echo "== results/bench.md =="
cat results/bench.md
