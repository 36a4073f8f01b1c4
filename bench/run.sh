#!/bin/sh
# bench/run.sh: build (Release) and run the benchmarks; tables go to stdout and
# results/bench_mvm.md. Machines are shared and noisy: read medians and ratios.
#   bench/run.sh [--m M] [--threads T] [--reps R]
set -eu
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
mkdir -p results
echo "== crossbar engine vs oneDNN int8 GEMM (bench_mvm) =="
build/bench/bench_mvm --md results/bench_mvm.md "$@"
if [ -x build/bench/bench_kernels ]; then
    echo
    echo "== column-sum kernels vs oneDNN, one thread (bench_kernels) =="
    build/bench/bench_kernels 64 512 512
fi
echo
echo "== IR drop: IBM stepwise vs event-driven vs transfer weights, one column (bench_irdrop) =="
build/bench/bench_irdrop --reps 5
