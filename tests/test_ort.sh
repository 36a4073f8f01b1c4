#!/bin/sh
# test_ort.sh: the digital reference against ONNX Runtime (the trusted int8
# reference) on every bundled model: the same preprocessed inputs through
# `cimsim reference` and tools/ort/ort_run, then how many output values and
# top-1 decisions differ. docs/networks.md explains each difference; the test
# fails if more than 1% of top-1 decisions differ.
#   test_ort.sh CIMSIM ORT_RUN CLI_HELPER REPO
set -eu
cimsim=$1 ort=$2 helper=$3 repo=$4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=${CIMSIM_ORT_SAMPLES:-500}
status=0
for m in "$repo"/models/*.onnx; do
    name=$(basename "$m" .onnx)
    "$cimsim" reference --model "$m" --limit "$n" --out "$tmp/ref.npy" --inputs-out "$tmp/x.npy"
    "$ort" "$m" "$tmp/x.npy" "$tmp/ort.npy" >/dev/null 2>&1 || { echo "$name: ort_run failed"; status=1; continue; }
    printf '%-14s ' "$name"
    "$helper" cmpout "$tmp/ref.npy" "$tmp/ort.npy" $((n / 100)) || status=1
done
exit $status
