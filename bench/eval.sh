#!/bin/sh
# bench/eval.sh: whole networks. For each bundled model (models/*.onnx), on the
# first --limit Fashion-MNIST test images, in --reps interleaved rounds:
#   eval  `cimsim eval --arch raella --noise 0.04 --seed 1 --threads T`: its own
#         "seconds" (dataset, per-worker graph loading and crossbar programming,
#         the digital reference AND the analog run of every image; model
#         parsing before it excluded)
#   analog  the same with --analog-only (the reference is not run): the
#         simulated network alone, its own "seconds", same top-1 and counters
#   ort   ONNX Runtime's int8 run of the same model on exactly the same
#         preprocessed inputs (`cimsim reference --inputs-out`), T intra-op
#         threads, batches of 64 as eval's (tools/ort/ort_run --time 5: median
#         of 5 passes, session creation excluded)
# and reports medians: eval images/s, analog-only images/s, ORT's images/s and
# the ratios ORT / cimsim.
# Checksums: the accuracies and the ADC conversion count of eval (they must
# not change between runs, thread counts or machines) and an md5 prefix of
# ORT's output file (the same for a given ORT build and thread count).
# Table to stdout and results/bench_eval.md; one TSV line per model to
# results/bench_eval.tsv (bench/run.sh reads it). Per-model JSON:
# results/bench_eval_<model>.json.
#   bench/eval.sh [--limit N (default 1000)] [--threads T (default 2)] [--reps R (default 3)]
# Build directory: $CIMSIM_BUILD_DIR (default build), made by scripts/setup.sh.
set -eu
cd "$(dirname "$0")/.."
limit=1000 threads=2 reps=3
while [ $# -gt 0 ]; do
    case "$1" in
    --limit) limit=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    *) echo "usage: bench/eval.sh [--limit N] [--threads T] [--reps R]" >&2; exit 2 ;;
    esac
done
BUILD=${CIMSIM_BUILD_DIR:-build}
[ -n "${CIMSIM_BENCH_NO_SETUP:-}" ] || scripts/setup.sh >/dev/null
ORT=""
if [ -x "$BUILD/ort_run" ]; then
    ORT=$BUILD/ort_run
else
    echo "bench/eval.sh: $BUILD/ort_run is not built (scripts/setup_ort.sh, then rebuild): no ONNX Runtime column" >&2
fi
mkdir -p results
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cimsim-bench-eval-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
now() { date +%s.%N; }
med() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
out=results/bench_eval.md tsv=results/bench_eval.tsv
{
    echo "First $limit Fashion-MNIST test images; raella, noise E = 0.04, seed 1; $threads threads for eval and ONNX Runtime; median of $reps interleaved rounds."
    echo
    echo "| model | samples | eval s | eval images/s | analog-only s | analog images/s | ORT int8 images/s | ORT / eval | ORT / analog | reference top-1 | analog top-1 | ADC converts | ORT output md5 |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
} >"$out"
printf 'model\tsamples\teval_s\teval_ips\tanalog_s\tanalog_ips\tort_ips\tort_over_eval\tort_over_analog\tref_top1\tanalog_top1\tadc_converts\tort_md5\n' >"$tsv"
for m in models/*.onnx; do
    name=$(basename "$m" .onnx)
    json=results/bench_eval_$name.json
    # the inputs ORT gets: the same preprocessed tensors as cimsim's
    "$BUILD/cimsim" reference --model "$m" --limit "$limit" --out "$tmp/ref.npy" --inputs-out "$tmp/x.npy" >/dev/null
    : >"$tmp/eval_s"; : >"$tmp/ref_s"; : >"$tmp/ort_ips"
    r=0
    while [ "$r" -lt "$reps" ]; do
        # the preset's own slicing on purpose (no plan): eval's note about it goes to .err
        if ! "$BUILD/cimsim" eval --model "$m" --arch raella --noise 0.04 --seed 1 --threads "$threads" \
            --limit "$limit" --json "$json" >/dev/null 2>"$tmp/err"; then
            cat "$tmp/err" >&2
            exit 1
        fi
        jq -r '.seconds' "$json" >>"$tmp/eval_s"
        check=$(jq -r '"\(.accuracy.reference) \(.accuracy.analog) \(.totals.adc_converts)"' "$json")
        if [ "$r" -gt 0 ] && [ "$check" != "$(cat "$tmp/check")" ]; then
            echo "bench/eval.sh: $name: eval's checksum changed between rounds: $check vs $(cat "$tmp/check")" >&2
            exit 1
        fi
        echo "$check" >"$tmp/check"
        if ! "$BUILD/cimsim" eval --model "$m" --arch raella --noise 0.04 --seed 1 --threads "$threads" \
            --limit "$limit" --analog-only --json "$tmp/ao.json" >/dev/null 2>"$tmp/err"; then
            cat "$tmp/err" >&2
            exit 1
        fi
        jq -r '.seconds' "$tmp/ao.json" >>"$tmp/ref_s"
        ao=$(jq -r '"\(.accuracy.analog) \(.totals.adc_converts)"' "$tmp/ao.json")
        if [ "$ao" != "$(jq -r '"\(.accuracy.analog) \(.totals.adc_converts)"' "$json")" ]; then
            echo "bench/eval.sh: $name: --analog-only gave $ao, eval $(jq -r '"\(.accuracy.analog) \(.totals.adc_converts)"' "$json")" >&2
            exit 1
        fi
        if [ -n "$ORT" ]; then
            "$ORT" "$m" "$tmp/x.npy" "$tmp/ort.npy" --threads "$threads" --time 5 >"$tmp/ort.out" 2>&1 ||
                { cat "$tmp/ort.out" >&2; exit 1; }
            sed -n 's/.* \([0-9.]*\) samples\/s$/\1/p' "$tmp/ort.out" >>"$tmp/ort_ips"
        fi
        r=$((r + 1))
    done
    ort_md5=-
    [ -z "$ORT" ] || ort_md5=$(md5sum "$tmp/ort.npy" | cut -c1-12)
    eval_s=$(med <"$tmp/eval_s") ref_s=$(med <"$tmp/ref_s") ort_ips=$(med <"$tmp/ort_ips")
    set -- $(cat "$tmp/check")
    samples=$(jq -r '.samples' "$json")
    awk -v name="$name" -v n="$samples" -v es="$eval_s" -v rs="$ref_s" -v oi="$ort_ips" -v T="$threads" \
        -v rt="$1" -v at="$2" -v cv="$3" -v md5="$ort_md5" -v md="$out" -v tsv="$tsv" 'BEGIN {
        eips = n / es; aips = (rs > 0) ? n / rs : 0
        ort = oi == "nan" ? "-" : sprintf("%.0f", oi)
        r1 = oi == "nan" ? "-" : sprintf("%.1f", oi / eips)
        r2 = (oi == "nan" || aips == 0) ? "-" : sprintf("%.1f", oi / aips)
        as = (aips > 0) ? sprintf("%.0f", aips) : "-"
        printf "| %s | %d | %.2f | %.0f | %.2f | %s | %s | %s | %s | %.2f%% | %.2f%% | %s | %s |\n", name, n, es, eips, rs,
            as, ort, r1, r2, 100 * rt, 100 * at, cv, md5 >> md
        printf "%s\t%d\t%.4f\t%.2f\t%.4f\t%.2f\t%s\t%s\t%s\t%.4f\t%.4f\t%s\t%s\n", name, n, es, eips, rs, aips,
            oi, r1, r2, rt, at, cv, md5 >> tsv
    }'
done
cat "$out"
