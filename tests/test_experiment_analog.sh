#!/bin/sh
# test_experiment_analog.sh CIMSIM SRCDIR: `cimsim experiment analog-vs-digital` on LeNet-5
# with a tiny limit: it runs and writes its files with the expected keys; the digital point's
# energy is what `cimsim eval --arch digital-cim` prices; the analog energy per conversion
# rises with C under every ADC model, and so does the energy per inference of a static-slicing
# arch (isaac) over capacitors where the network is intact; the crossover table has every
# target; a second run gives the same bits; bad arguments fail with exit 2 and no output file.
set -u
CIMSIM=$1
SRC=$2
. "$(dirname "$0")/cli_lib.sh"
cli_init av
cd "$SRC" || exit 1
M=models/lenet5.onnx
ARGS="--limit 12 --calib 2 --seeds 2 --archs isaac,raella --rows 128 --caps 0.01,10,1000,100000"

if "$CIMSIM" experiment analog-vs-digital --model $M $ARGS --threads 2 --out "$T/a" --no-plot > "$T/out" 2> "$T/err"; then
    ok
else
    bad "the experiment failed:"; cat "$T/err"
fi
for f in analog_vs_digital.json analog_vs_digital.csv analog_vs_digital.dat analog_vs_digital.gp \
    analog_vs_digital_crossover.csv analog_vs_digital_irdrop.csv analog-vs-digital.timing.json; do
    [ -s "$T/a/$f" ] && ok || bad "$f missing"
done
ls -a "$T/a" | grep -q '\.tmp' && bad "a temporary file was left" || ok
J=$T/a/analog_vs_digital.json
for k in '.experiment == "analog-vs-digital"' '.points | length == 8' '.crossover | length == 18' \
    '.best_at_digital_energy | length == 6' '.irdrop | length == 3' '.digital.energy_pj_per_inference > 0' \
    '.engine | has("ktc_applied")' '.parameters.swing_v == 0.9' \
    '[.points[] | .top1 | length == 2] | all' \
    '[.points[] | .energy_pj_per_inference | has("envelope") and has("andrulis") and has("typical")] | all' \
    '[.points[] | .design.sigma_ktc_lu > 0 and .design.adc_enob >= 1] | all' \
    '[.irdrop[] | .mean_abs_colsum_lu > 0 and .p99_current_ua > 0] | all'; do
    [ "$(jq "$k" "$J")" = true ] && ok || bad "analog_vs_digital.json: $k is not true"
done
head -1 "$T/a/analog_vs_digital.csv" | grep -q '^arch,rows,c_int_ff,.*,adc_enob,.*,top1_mean,top1_sd,.*,adc_model,adc_pj,energy_pj_per_inference,energy_vs_digital,analog_pj_per_convert$' &&
    ok || bad "analog_vs_digital.csv header"
[ "$(grep -c '^digital-cim,' "$T/a/analog_vs_digital.csv")" = 1 ] && ok || bad "csv lacks the digital row"
[ "$(tail -n +2 "$T/a/analog_vs_digital.csv" | wc -l)" = 25 ] && ok || bad "csv: not 1 + 2 x 4 x 3 rows"
head -1 "$T/a/analog_vs_digital_crossover.csv" | grep -q '^target_points,arch,rows,adc_model,c_int_ff,' && ok ||
    bad "crossover.csv header"
head -1 "$T/a/analog_vs_digital_irdrop.csv" | grep -q '^arch,encoding,mean_abs_colsum_lu,p99_abs_colsum_lu,' && ok ||
    bad "irdrop.csv header"

# the digital point's energy is eval's for digital-cim on the same samples
"$CIMSIM" eval --model $M --arch digital-cim --limit 12 --threads 2 --json "$T/dig.json" > /dev/null 2> "$T/err" ||
    { bad "eval digital-cim failed:"; cat "$T/err"; }
e1=$(jq '.digital.energy_pj_per_inference' "$J")
e2=$(jq 'if type == "array" then .[0] else . end | .energy_pj_per_inference' "$T/dig.json")
awk -v a="$e1" -v b="$e2" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(b > 0 && d <= 1e-6 * b) }' && ok ||
    bad "digital energy $e1 is not eval's $e2"
t1=$(jq '.digital.top1' "$J")
t2=$(jq '.reference_top1' "$J")
[ "$t1" = "$t2" ] && ok || bad "digital-cim top-1 $t1 is not the reference's $t2"

# energy rises with C: per conversion everywhere, per inference for isaac where it is intact
for m in envelope andrulis typical; do
    for a in isaac raella; do
        awk -F, -v m=$m -v a=$a '$1 == a && $20 == m { v = $24 + 0; if (n++ && v <= last) bad = 1; last = v }
            END { exit !(n == 4 && !bad) }' "$T/a/analog_vs_digital.csv" && ok ||
            bad "$a/$m: energy per conversion does not rise with C"
    done
    awk -F, -v m=$m '$1 == "isaac" && $20 == m && $3 >= 10 { v = $22 + 0; if (n++ && v <= last) bad = 1; last = v }
        END { exit !(n == 3 && !bad) }' "$T/a/analog_vs_digital.csv" && ok ||
        bad "isaac/$m: energy per inference does not rise with C"
done
# kT/C: noise falls as C rises (sigma ~ 1/sqrt(C) at a fixed swing)
[ "$(jq '[.points[] | select(.arch == "isaac") | .design.sigma_ktc_lu] | (.[0] / .[1] | . > 31 and . < 32)' "$J")" = true ] &&
    ok || bad "sigma_kTC does not scale as 1/sqrt(C)"

# same options, one thread: the same bits
"$CIMSIM" experiment analog-vs-digital --model $M $ARGS --threads 1 --out "$T/b" --no-plot > /dev/null 2> "$T/err" ||
    { bad "second run failed:"; cat "$T/err"; }
for f in analog_vs_digital.json analog_vs_digital.csv analog_vs_digital.dat analog_vs_digital_crossover.csv; do
    cmp -s "$T/a/$f" "$T/b/$f" && ok || bad "$f differs between two runs"
done

# bad arguments: exit 2, a message, no output folder
n=0
for args in "--caps 0" "--caps abc" "--caps 1,1" "--rows 0" "--rows 12.5" "--archs digital-cim" \
    "--archs nosuch" "--archs isaac," "--swing -1" "--typical-gap-db 100" "--seeds 0"; do
    n=$((n + 1))
    # shellcheck disable=SC2086
    "$CIMSIM" experiment analog-vs-digital --model $M --limit 4 $args --out "$T/bad$n" > /dev/null 2> "$T/err"
    rc=$?
    [ $rc = 2 ] && ok || bad "'$args' exit $rc, not 2"
    [ -s "$T/err" ] && ok || bad "'$args' no message"
    [ -e "$T/bad$n" ] && bad "'$args' left $T/bad$n" || ok
done
"$CIMSIM" experiment noise --model $M --limit 4 --caps 1 --out "$T/badn" > /dev/null 2> "$T/err"
[ $? = 2 ] && grep -q "analog-vs-digital" "$T/err" && ok || bad "--caps accepted by another experiment"

cli_finish test_experiment_analog
