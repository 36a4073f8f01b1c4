#!/bin/sh
# test_analog_cli.sh CIMSIM SRCDIR: the `analog:` block of architecture files
# and `cimsim eval --analog-breakdown`, driving the real binary. An arch with
# analog models loads and names them; bad keys and values fail naming the file,
# the key and the line; the breakdown prints one row per model group that is
# on (plus none and all) and writes them to the JSON.
set -u
CIMSIM=$1
SRC=$2
. "$(dirname "$0")/cli_lib.sh"
cli_init analog
M=$SRC/models/lenet5.onnx
W=$SRC/data/layer512/W.npy
X=$SRC/data/layer512/X.npy


# 1. an arch with an analog block (base and per layer) loads and runs
cat > "$T/an.yaml" <<'Y'
base: raella-nospec
analog:
  read_noise_rel: 0.02
  stuck_off: 0.001
  c_int_ff: 50
layers:
  last: {analog: {adc_noise_lsb: 0.5}}
Y
"$CIMSIM" mvm --config "$T/an.yaml" --weights "$W" --inputs "$X" --out "$T/P.npy" --threads 1 2> "$T/err" \
    && ok || { bad "mvm with an analog block"; cat "$T/err"; }

# 1b. the bundled example (README) loads and its breakdown names its five model groups
if "$CIMSIM" eval --model "$M" --arch "$SRC/examples/pcm-analog.yaml" --analog-breakdown --limit 8 > "$T/ex" 2> "$T/exerr"; then
    n=0
    for g in programming drift pcm_read ktc adc_noise; do
        grep -q "^  $g " "$T/ex" && n=$((n + 1))
    done
    if [ $n -eq 5 ]; then ok; else bad "examples/pcm-analog.yaml: breakdown lists $n of 5 groups"; cat "$T/ex"; fi
else
    bad "examples/pcm-analog.yaml does not run"; cat "$T/exerr"
fi

# 2. bad analog keys and values name the file, the key and the line
printf 'base: raella\nanalog:\n  g_on_us: 100\n  v_reed: 0.2\n' > "$T/b1.yaml"
expect_fail "unknown key" "b1.yaml:4: key 'analog.v_reed'" "$CIMSIM" mvm --config "$T/b1.yaml" --weights "$W" --inputs "$X" --out "$T/P.npy"
printf 'analog:\n  drive: pwm\n' > "$T/b2.yaml"
expect_fail "bad enum" "b2.yaml:2: key 'analog.drive'" "$CIMSIM" mvm --config "$T/b2.yaml" --weights "$W" --inputs "$X" --out "$T/P.npy"
printf 'analog:\n  read_noise_rel: -1\n' > "$T/b3.yaml"
expect_fail "negative sigma" "analog.read_noise_rel" "$CIMSIM" mvm --config "$T/b3.yaml" --weights "$W" --inputs "$X" --out "$T/P.npy"
printf 'analog: {stuck_on: 0.7, stuck_off: 0.4}\n' > "$T/b4.yaml"
expect_fail "stuck sum" "stuck_on + stuck_off" "$CIMSIM" mvm --config "$T/b4.yaml" --weights "$W" --inputs "$X" --out "$T/P.npy"
printf 'base: digital-cim\nanalog: {read_noise_us: 0.1}\n' > "$T/b5.yaml"
expect_fail "adc none" "analog.read_noise_us with adc: none" "$CIMSIM" mvm --config "$T/b5.yaml" --weights "$W" --inputs "$X" --out "$T/P.npy"
printf 'base: raella\nanalog: {zero_leak: true}\n' > "$T/b6.yaml"
expect_fail "zero_leak 2T2R" "analog.zero_leak" "$CIMSIM" eval --model "$M" --arch "$T/b6.yaml" --limit 2
printf 'base: raella\nlayers:\n  last:\n    analog: {t0_s: 0}\n' > "$T/b7.yaml"
expect_fail "per-layer bad value" "b7.yaml:4: key 'analog.t0_s'" "$CIMSIM" eval --model "$M" --arch "$T/b7.yaml" --limit 2
printf 'analog: {pcm_drift: often}\n' > "$T/b8.yaml"
expect_fail "bad bool" "analog.pcm_drift" "$CIMSIM" mvm --config "$T/b8.yaml" --weights "$W" --inputs "$X" --out "$T/P.npy"

# 3. eval --analog-breakdown: rows none, each group that is on, all; JSON keys
if "$CIMSIM" eval --model "$M" --arch "$T/an.yaml" --limit 16 --threads 1 --no-histogram --analog-breakdown \
        --json "$T/e.json" > "$T/out" 2> "$T/err"; then
    ok
    grep -q "analog breakdown" "$T/out" && ok || bad "no breakdown table"
    for m in none stuck read_noise ktc adc_noise all; do
        grep -q "^  $m  " "$T/out" && ok || bad "breakdown row $m missing"
    done
    for m in programming drift pcm_read adc_offset_gain zero_leak ir_drop; do
        grep -q "^  $m  " "$T/out" && bad "breakdown row $m is off but listed" || ok
    done
    [ "$(grep -c '"model":' "$T/e.json")" -eq 6 ] && ok || bad "JSON: $(grep -c '"model":' "$T/e.json") breakdown rows, want 6"
    for k in analog_breakdown model top1 delta_top1 agreement converts_per_mac saturation_rate saturations adc_converts; do
        grep -q "\"$k\"" "$T/e.json" && ok || bad "JSON key $k missing"
    done
    grep -q '"model": "none"' "$T/e.json" && grep -q '"model": "all"' "$T/e.json" && ok || bad "JSON none/all rows"
    grep -q '"delta_top1": 0' "$T/e.json" && ok || bad "JSON: the none row's delta is not 0"
    grep -q 'analog\[stuck,read_noise,ktc\]' "$T/e.json" && ok || bad "layer config summary lacks the analog models"
else
    bad "eval --analog-breakdown"; cat "$T/err"
fi
# the same arch again gives the same numbers (seeded)
"$CIMSIM" eval --model "$M" --arch "$T/an.yaml" --limit 16 --threads 1 --no-histogram --analog-breakdown > "$T/out2" 2>&1 \
    && [ "$(grep '^  [a-z_]*  ' "$T/out" | awk '{print $1, $2, $3, $4, $5, $6}')" = \
         "$(grep '^  [a-z_]*  ' "$T/out2" | awk '{print $1, $2, $3, $4, $5, $6}')" ] && ok || bad "breakdown not reproducible"
# an arch without analog models: a note, no table, no JSON key
"$CIMSIM" eval --model "$M" --arch raella --limit 4 --threads 1 --no-histogram --analog-breakdown --json "$T/r.json" \
    > "$T/out" 2> "$T/err" && grep -q "no analog model" "$T/err" && ! grep -q "analog breakdown" "$T/out" \
    && ! grep -q analog_breakdown "$T/r.json" && ok || bad "breakdown of an arch without models"
"$CIMSIM" eval --help | grep -q -- "--analog-breakdown" && ok || bad "eval --help lacks --analog-breakdown"

cli_finish test_analog_cli
