#!/bin/sh
# bench/eval.sh: wall time of the whole Fashion-MNIST test set (10,000 images)
# through each bundled model under `raella` with noise on (E = 0.04), digital
# reference and analog run together, as `cimsim eval` does. The accuracies and
# the ADC conversion count are the checksum: they must not change between
# runs or machines. Table to stdout and results/bench_eval.md.
#   bench/eval.sh [--limit N] [--threads T] [more cimsim eval options]
set -eu
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
mkdir -p results
out=results/bench_eval.md
{
    echo "| model | samples | seconds | images/s | reference top-1 | analog top-1 | ADC converts | converts/MAC |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|"
} >"$out"
for m in models/*.onnx; do
    name=$(basename "$m" .onnx)
    json=results/bench_eval_$name.json
    # the preset's own slicing on purpose (no plan): keep eval's note about it out of the table
    if ! build/cimsim eval --model "$m" --arch raella --noise 0.04 --seed 1 --json "$json" "$@" >/dev/null \
        2>results/bench_eval_$name.err; then
        cat results/bench_eval_$name.err >&2
        exit 1
    fi
    rm -f results/bench_eval_$name.err
    # one line from the JSON without a JSON tool: jansson writes one key per line
    line=$(awk -v name="$name" '
        /"samples":/ && !s { gsub(/[ ,]/, ""); split($0, a, ":"); s = a[2] }
        /"reference":/ && !r { gsub(/[ ,]/, ""); split($0, a, ":"); r = a[2] }
        /"analog":/ && !an { gsub(/[ ,]/, ""); split($0, a, ":"); an = a[2] }
        /"adc_converts":/ && !c { gsub(/[ ,]/, ""); split($0, a, ":"); c = a[2] }
        /"converts_per_mac":/ && !cpm { gsub(/[ ,]/, ""); split($0, a, ":"); cpm = a[2] }
        /"seconds":/ { gsub(/[ ,]/, ""); split($0, a, ":"); sec = a[2] }
        END { printf "| %s | %d | %.1f | %.0f | %.2f%% | %.2f%% | %s | %.4f |\n",
              name, s, sec, s / sec, 100 * r, 100 * an, c, cpm }' "$json")
    echo "$line" >>"$out"
done
cat "$out"
