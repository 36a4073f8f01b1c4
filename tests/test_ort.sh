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
# ort_run's own bad input: a clear message, a non-zero exit, no output file
m="$repo/models/lenet5.onnx"
"$cimsim" reference --model "$m" --limit 4 --out "$tmp/ref.npy" --inputs-out "$tmp/x.npy"
printf 'not a model' > "$tmp/junk.onnx"
printf 'not npy' > "$tmp/junk.npy"
for case in "missing model|$tmp/nope.onnx|$tmp/x.npy|nope.onnx" "junk model|$tmp/junk.onnx|$tmp/x.npy|junk.onnx" \
            "missing input|$m|$tmp/nope.npy|nope.npy" "junk input|$m|$tmp/junk.npy|junk.npy" \
            "wrong input dtype|$m|$tmp/ref.npy|ref.npy"; do
    name=${case%%|*}; rest=${case#*|}
    model=${rest%%|*}; rest=${rest#*|}
    input=${rest%%|*}; needle=${rest#*|}
    rm -f "$tmp/out.npy"
    if "$ort" "$model" "$input" "$tmp/out.npy" > "$tmp/err" 2>&1; then
        echo "ort_run $name: exit 0"; status=1
    elif ! grep -q -- "$needle" "$tmp/err"; then
        echo "ort_run $name: message lacks '$needle':"; cat "$tmp/err"; status=1
    elif [ -e "$tmp/out.npy" ]; then
        echo "ort_run $name: left an output file"; status=1
    fi
done
"$ort" > /dev/null 2>&1 && { echo "ort_run without arguments: exit 0"; status=1; }
exit $status
