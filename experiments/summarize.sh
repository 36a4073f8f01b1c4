#!/bin/sh
# experiments/summarize.sh [RESULTS]: markdown tables of results/experiments/*/{colsum,ablation,noise}.json
# (the tables of docs/experiments.md). Needs jq.
set -eu
R=${1:-results/experiments}
pct() { echo "(. * 10000 | round / 100 | tostring) + \"%\""; }
echo "### colsum: <=7b / sat flag (accepted) per setup; RAELLA's speculation success"
echo
echo "| model | samples | baseline | +Center+Offset | +AWS | +DIS speculation | +DIS recovery | RAELLA spec ok | RAELLA accepted sat |"
echo "|---|---:|---|---|---|---|---|---:|---:|"
for f in "$R"/*/colsum.json; do
    [ -f "$f" ] || continue
    jq -r '[.model, (.setups[0].samples|tostring)] + [.setups[0:5][] | ((.totals.column_sums_le_7b*1000|round/10|tostring) + "% / " + (.totals.saturation_rate*1000|round/10|tostring) + "%")] + [(.setups[5].totals.speculation_success_rate*1000|round/10|tostring)+"%", (.setups[5].totals.accepted_saturation_rate*10000|round/100|tostring)+"%"] | "| " + join(" | ") + " |"' "$f"
done
echo
echo "### ablation: conversions/MAC, sat flag, accepted saturation, speculation success, top-1 drop"
echo
echo "| model | samples | ref top-1 | setup | conv/MAC | sat flag | accepted | spec ok | drop (points) |"
echo "|---|---:|---:|---|---:|---:|---:|---:|---:|"
for f in "$R"/*/ablation.json; do
    [ -f "$f" ] || continue
    jq -r '.model as $m | .setups[] | "| \($m) | \(.samples) | \(.reference_top1*100|round/100) | \(.label) | \(.totals.converts_per_mac*10000|round/10000) | \(.totals.saturation_rate*10000|round/100)% | \(.totals.accepted_saturation_rate*10000|round/100)% | \(if .totals.speculation_success_rate == null then "-" else ((.totals.speculation_success_rate*1000|round/10|tostring)+"%") end) | \(.accuracy_drop_points*100|round/100) |"' "$f"
done
echo
echo "### noise: top-1 drop in points, median [min, max] over seeds; AWS mean slices"
for f in "$R"/*/noise.json; do
    [ -f "$f" ] || continue
    echo
    jq -r '"\(.model): \(.setups[0].points[0].runs) run at E=0, \(.seeds.count) seeds, limit \(.limit), calib \(.calib)"' "$f"
    echo
    echo "| E | ISAAC | +Center+Offset | +AWS | RAELLA | AWS mean slices |"
    echo "|---:|---|---|---|---|---:|"
    jq -r '. as $r | range(0; .levels|length) as $i | [($r.levels[$i]|tostring)] + [$r.setups[] | .points[$i] | if .runs > 1 then "\(.median*100|round/100) [\(.min*100|round/100), \(.max*100|round/100)]" else "\(.median*100|round/100)" end] + [([$r.plans[] | select(.noise_level == $r.levels[$i]) | .mean_slices] | add / length * 100 | round / 100 | tostring)] | "| " + join(" | ") + " |"' "$f"
done
