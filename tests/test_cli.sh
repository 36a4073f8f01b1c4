#!/bin/sh
# test_cli.sh CIMSIM HELPER SRCDIR: the `cimsim mvm` contract and its bad-input
# paths, driving the real binary. Every failure case must exit non-zero, print
# an error naming the file or field, and leave no output file behind.
set -u
CIMSIM=$1
HELPER=$2
SRC=$3
. "$(dirname "$0")/cli_lib.sh"
cli_init cli

# expect_fail NAME NEEDLE CMD...: non-zero exit, NEEDLE in stderr, no $T/P.npy
expect_fail() {
    name=$1; needle=$2; shift 2
    rm -f "$T/P.npy" "$T/S.json"
    "$@" > "$T/out" 2> "$T/err"
    rc=$?
    if [ $rc -eq 0 ]; then bad "$name: exit 0"; return; fi
    if ! grep -q -- "$needle" "$T/err"; then bad "$name: stderr lacks '$needle':"; cat "$T/err"; return; fi
    if [ -e "$T/P.npy" ] || [ -e "$T/S.json" ]; then bad "$name: left an output file"; return; fi
    if grep -qi "sanitizer\|segmentation\|core dumped" "$T/err"; then bad "$name: crashed"; return; fi
    ok
}

W=$SRC/data/layer512/W.npy
X=$SRC/data/layer512/X.npy
"$HELPER" mknpy int8 "$T/w.npy" 300 70 && "$HELPER" mknpy uint8 "$T/x.npy" 33 300 || { echo "helper failed"; exit 1; }

# 1. the contract: P.npy int32 [M, N] and the stats keys
if "$CIMSIM" mvm --config raella --weights "$T/w.npy" --inputs "$T/x.npy" --out "$T/P.npy" --stats "$T/S.json"; then
    for k in macs adc_converts adc_converts_speculative adc_converts_recovery saturations true_clips \
             speculation_failures converts_per_mac dac_pulses cells cell_level_sum crossbars column_sum_histogram; do
        grep -q "\"$k\"" "$T/S.json" && ok || bad "stats key $k missing"
    done
    "$HELPER" mknpy int32 "$T/shape.npy" 33 70
    python_free_shape=$(head -c 128 "$T/P.npy" | tr -d '\000' | grep -o "'shape': ([0-9, ]*)")
    [ "$python_free_shape" = "'shape': (33, 70)" ] && ok || bad "P.npy shape header: $python_free_shape"
    grep -q "'descr': '<i4'" "$T/P.npy" && ok || bad "P.npy is not int32"
else
    bad "mvm raella failed"
fi

# 2. a wide ADC gives exactly X @ W (an independent matmul), for each encoding
for enc in offset differential center_offset; do
    printf 'rows: 128\ncols: 256\nencoding: %s\nweight_slices: [4, 2, 2]\ninput_slices: [2, 2, 2, 2]\ndac_bits: 2\nadc: {bits: 20, signed: true}\n' "$enc" > "$T/wide.yaml"
    "$CIMSIM" mvm --config "$T/wide.yaml" --weights "$T/w.npy" --inputs "$T/x.npy" --out "$T/P.npy" &&
        "$HELPER" matmul "$T/w.npy" "$T/x.npy" 0 "$T/E.npy" && "$HELPER" same "$T/P.npy" "$T/E.npy" && ok || bad "wide ADC $enc is not exact"
done
printf 'base: raella-nospec\nzx: 37\nadc: {bits: 20}\n' > "$T/zx.yaml"
"$CIMSIM" mvm --config "$T/zx.yaml" --weights "$T/w.npy" --inputs "$T/x.npy" --out "$T/P.npy" &&
    "$HELPER" matmul "$T/w.npy" "$T/x.npy" 37 "$T/E.npy" && "$HELPER" same "$T/P.npy" "$T/E.npy" && ok || bad "zx=37 signed_split is not exact"

# 3. identical bits for 1 and 2 threads and every kernel, noise off and on
for noise in 0 0.06; do
    "$CIMSIM" mvm --config raella --noise $noise --seed 5 --threads 1 --kernel ref --weights "$W" --inputs "$X" --out "$T/P1.npy" || bad "ref run"
    for k in $("$CIMSIM" version | sed -n 's/^kernels://p'); do
        case $k in *unsupported*) continue ;; esac
        "$CIMSIM" mvm --config raella --noise $noise --seed 5 --threads 2 --kernel "$k" --weights "$W" --inputs "$X" --out "$T/P2.npy" &&
            "$HELPER" same "$T/P1.npy" "$T/P2.npy" && ok || bad "noise=$noise kernel $k differs from ref/1 thread"
    done
done
"$CIMSIM" mvm --config raella --noise 0.06 --seed 6 --weights "$W" --inputs "$X" --out "$T/P3.npy" &&
    ! "$HELPER" same "$T/P1.npy" "$T/P3.npy" && ok || bad "another seed gave the same bits"
# --normal-noise: isaac's ADC-output draw gives way to Box-Muller normals (other
# bits, the same on every kernel); raella always draws normals (same bits)
"$CIMSIM" mvm --config isaac --noise 0.06 --seed 5 --kernel ref --weights "$W" --inputs "$X" --out "$T/I1.npy" &&
    "$CIMSIM" mvm --config isaac --noise 0.06 --seed 5 --kernel ref --normal-noise --weights "$W" --inputs "$X" --out "$T/I2.npy" &&
    ! "$HELPER" same "$T/I1.npy" "$T/I2.npy" && ok || bad "isaac --normal-noise gave the ADC-output draw's bits"
for k in $("$CIMSIM" version | sed -n 's/^kernels://p'); do
    case $k in *unsupported*) continue ;; esac
    "$CIMSIM" mvm --config isaac --noise 0.06 --seed 5 --kernel "$k" --normal-noise --threads 2 --weights "$W" --inputs "$X" --out "$T/I3.npy" &&
        "$HELPER" same "$T/I2.npy" "$T/I3.npy" && ok || bad "isaac --normal-noise kernel $k differs from ref"
done
"$CIMSIM" mvm --config raella --noise 0.06 --seed 5 --normal-noise --weights "$W" --inputs "$X" --out "$T/P4.npy" &&
    "$HELPER" same "$T/P1.npy" "$T/P4.npy" && ok || bad "raella --normal-noise changed the bits"
"$CIMSIM" mvm --help | grep -q -- "--normal-noise" && "$CIMSIM" eval --help | grep -q -- "--normal-noise" && ok ||
    bad "--help does not teach --normal-noise"

# 4. bad inputs
rm -f "$T/P.npy"
expect_fail "missing weights" "nope.npy" "$CIMSIM" mvm --config raella --weights "$T/nope.npy" --inputs "$T/x.npy" --out "$T/P.npy"
"$HELPER" mknpy uint8 "$T/w_u8.npy" 300 70
expect_fail "weights dtype" "w_u8.npy" "$CIMSIM" mvm --config raella --weights "$T/w_u8.npy" --inputs "$T/x.npy" --out "$T/P.npy"
"$HELPER" mknpy int8 "$T/x_i8.npy" 33 300
expect_fail "inputs dtype" "x_i8.npy" "$CIMSIM" mvm --config raella --weights "$T/w.npy" --inputs "$T/x_i8.npy" --out "$T/P.npy"
"$HELPER" mknpy uint8 "$T/x_k.npy" 33 299
expect_fail "shape mismatch" "x_k.npy" "$CIMSIM" mvm --config raella --weights "$T/w.npy" --inputs "$T/x_k.npy" --out "$T/P.npy"
"$HELPER" mknpy uint8 "$T/x_r1.npy" 300
expect_fail "inputs rank" "x_r1.npy" "$CIMSIM" mvm --config raella --weights "$T/w.npy" --inputs "$T/x_r1.npy" --out "$T/P.npy"
"$HELPER" mknpy int8 "$T/w_r3.npy" 3 100 70
expect_fail "weights rank" "w_r3.npy" "$CIMSIM" mvm --config raella --weights "$T/w_r3.npy" --inputs "$T/x.npy" --out "$T/P.npy"
head -c 5000 "$T/x.npy" > "$T/x_trunc.npy"
expect_fail "truncated" "x_trunc.npy" "$CIMSIM" mvm --config raella --weights "$T/w.npy" --inputs "$T/x_trunc.npy" --out "$T/P.npy"
printf '\223NUMPY\001\000\020\000{garbage}      \n' > "$T/garbage.npy"
expect_fail "garbage header" "garbage.npy" "$CIMSIM" mvm --config raella --weights "$T/garbage.npy" --inputs "$T/x.npy" --out "$T/P.npy"
printf 'hello world, not numpy' > "$T/notnpy.npy"
expect_fail "bad magic" "notnpy.npy" "$CIMSIM" mvm --config raella --weights "$T/notnpy.npy" --inputs "$T/x.npy" --out "$T/P.npy"
printf "\223NUMPY\001\000\166\000{'descr': '|u1', 'fortran_order': False, 'shape': (1000000000000, 1000000000000), }" > "$T/huge.npy"
printf '%*s\n' 9 '' >> "$T/huge.npy"
expect_fail "absurd shape" "huge.npy" "$CIMSIM" mvm --config raella --weights "$T/w.npy" --inputs "$T/huge.npy" --out "$T/P.npy"
printf 'rows: 512\nbogus_key: 1\n' > "$T/badkey.yaml"
expect_fail "unknown config key" "bogus_key" "$CIMSIM" mvm --config "$T/badkey.yaml" --weights "$T/w.npy" --inputs "$T/x.npy" --out "$T/P.npy"
printf 'weight_slices: [4, 4, 4]\n' > "$T/badval.yaml"
expect_fail "bad slicing" "weight_slices" "$CIMSIM" mvm --config "$T/badval.yaml" --weights "$T/w.npy" --inputs "$T/x.npy" --out "$T/P.npy"
expect_fail "unknown preset" "tpu-v9" "$CIMSIM" mvm --config tpu-v9 --weights "$T/w.npy" --inputs "$T/x.npy" --out "$T/P.npy"
expect_fail "bad threads" "threads" "$CIMSIM" mvm --config raella --threads lots --weights "$T/w.npy" --inputs "$T/x.npy" --out "$T/P.npy"
expect_fail "bad noise" "noise" "$CIMSIM" mvm --config raella --noise -1 --weights "$T/w.npy" --inputs "$T/x.npy" --out "$T/P.npy"
expect_fail "unknown argument" "--frobnicate" "$CIMSIM" mvm --config raella --frobnicate --weights "$T/w.npy" --inputs "$T/x.npy" --out "$T/P.npy"
expect_fail "missing --out" "--out" "$CIMSIM" mvm --config raella --weights "$T/w.npy" --inputs "$T/x.npy"
expect_fail "unknown kernel" "kernel" "$CIMSIM" mvm --config raella --kernel sse9 --weights "$T/w.npy" --inputs "$T/x.npy" --out "$T/P.npy"
expect_fail "output dir missing" "nodir" "$CIMSIM" mvm --config raella --weights "$T/w.npy" --inputs "$T/x.npy" --out "$T/nodir/P.npy"
expect_fail "stats dir missing" "nodir" "$CIMSIM" mvm --config raella --weights "$T/w.npy" --inputs "$T/x.npy" --out "$T/P.npy" --stats "$T/nodir/S.json"
expect_fail "unknown command" "frob" "$CIMSIM" frob
expect_fail "compare: unknown config" "tpu-v9" "$CIMSIM" compare --configs isaac,tpu-v9 --weights "$T/w.npy" --inputs "$T/x.npy"
expect_fail "compare: missing weights" "nope.npy" "$CIMSIM" compare --weights "$T/nope.npy" --inputs "$T/x.npy"
expect_fail "compare: shape mismatch" "x_k.npy" "$CIMSIM" compare --weights "$T/w.npy" --inputs "$T/x_k.npy"
expect_fail "compare: json dir missing" "nodir" "$CIMSIM" compare --weights "$T/w.npy" --inputs "$T/x.npy" --json "$T/nodir/c.json"
expect_fail "compare: csv dir missing" "nodir" "$CIMSIM" compare --weights "$T/w.npy" --inputs "$T/x.npy" --csv "$T/nodir/c.csv"
expect_fail "compare: empty list" "configs" "$CIMSIM" compare --configs ",isaac" --weights "$T/w.npy" --inputs "$T/x.npy"

# 4b. networks: bad models, datasets, archs (eval writes no JSON on failure)
M="$SRC/models/lenet5.onnx"
head -c 3000 "$M" > "$T/trunc.onnx"
printf 'not an onnx model at all' > "$T/junk.onnx"
printf 'layers:\n  last: {adc: {bits: 99}}\n' > "$T/badarch.yaml"
expect_fail "eval: missing --model" "--model" "$CIMSIM" eval --arch raella --json "$T/P.npy"
expect_fail "eval: missing model" "nope.onnx" "$CIMSIM" eval --model "$T/nope.onnx" --json "$T/P.npy"
expect_fail "eval: truncated model" "trunc.onnx" "$CIMSIM" eval --model "$T/trunc.onnx" --json "$T/P.npy"
expect_fail "eval: junk model" "junk.onnx" "$CIMSIM" eval --model "$T/junk.onnx" --json "$T/P.npy"
expect_fail "eval: unknown preset" "tpu-v9" "$CIMSIM" eval --model "$M" --arch tpu-v9 --json "$T/P.npy"
expect_fail "eval: bad layer override" "badarch.yaml:2" "$CIMSIM" eval --model "$M" --arch "$T/badarch.yaml" --json "$T/P.npy"
expect_fail "eval: missing dataset" "nope.npy" "$CIMSIM" eval --model "$M" --dataset "$T/nope.npy" --json "$T/P.npy"
expect_fail "eval: wrong input shape" "x.npy" "$CIMSIM" eval --model "$M" --dataset "$T/x.npy" --json "$T/P.npy"
expect_fail "eval: bad split" "fashion-mnist:valid" "$CIMSIM" eval --model "$M" --dataset fashion-mnist:valid --json "$T/P.npy"
expect_fail "eval: bad limit" "limit" "$CIMSIM" eval --model "$M" --limit 0 --json "$T/P.npy"
expect_fail "reference: missing --out" "--out" "$CIMSIM" reference --model "$M"
"$CIMSIM" eval --model "$M" --arch isaac,raella --limit 64 --json "$T/e.json" --csv "$T/e.csv" > "$T/eval.txt" &&
    grep -q "analog agrees with reference" "$T/eval.txt" && grep -q '"speculation_failure_rate"' "$T/e.json" &&
    grep -q "^raella,/fc3/Gemm" "$T/e.csv" && ok || bad "eval"
# --analog-only: the same analog top-1 without the reference
"$CIMSIM" eval --model "$M" --arch raella --limit 64 --json "$T/ar.json" > /dev/null &&
    "$CIMSIM" eval --model "$M" --arch raella --limit 64 --analog-only --json "$T/ao.json" > "$T/ao.txt" &&
    grep -q "the reference was not run" "$T/ao.txt" && grep -q '"reference": null' "$T/ao.json" &&
    [ "$(grep -m1 '"analog":' "$T/ao.json")" = "$(grep -m1 '"analog":' "$T/ar.json")" ] && ok || bad "eval --analog-only"

# 4c. compile: a plan, eval --plan, and bad input (no plan file left behind)
expect_fail "compile: missing --out" "--out" "$CIMSIM" compile --model "$M"
expect_fail "compile: missing model" "nope.onnx" "$CIMSIM" compile --model "$T/nope.onnx" --out "$T/P.npy"
expect_fail "compile: bad budget" "budget" "$CIMSIM" compile --model "$M" --budget -1 --out "$T/P.npy"
expect_fail "compile: bad calib count" "calib" "$CIMSIM" compile --model "$M" --calib fashion-mnist:train:0 --out "$T/P.npy"
expect_fail "compile: missing calib data" "nope.npy" "$CIMSIM" compile --model "$M" --calib "$T/nope.npy:5" --out "$T/P.npy"
expect_fail "compile: unknown arch" "tpu-v9" "$CIMSIM" compile --model "$M" --arch tpu-v9 --out "$T/P.npy"
if "$CIMSIM" compile --model "$M" --calib fashion-mnist:train:4 --out "$T/plan.json" > "$T/compile.txt"; then
    grep -q "within budget" "$T/compile.txt" && grep -q '"weight_slices"' "$T/plan.json" && ok || bad "compile output"
    "$CIMSIM" eval --model "$M" --plan "$T/plan.json" --limit 32 > "$T/evalp.txt" && ok || bad "eval --plan"
    expect_fail "eval: plan for another model" "model_crc32" "$CIMSIM" eval --model "$SRC/models/resnet8.onnx" \
        --plan "$T/plan.json" --limit 8 --json "$T/P.npy"
    printf '{"model": "x"' > "$T/badplan.json"
    expect_fail "eval: malformed plan" "badplan.json" "$CIMSIM" eval --model "$M" --plan "$T/badplan.json" --json "$T/P.npy"
else
    bad "compile failed"
fi

# 5. the main job and help
"$CIMSIM" compare --weights "$W" --inputs "$X" --json "$T/c.json" > "$T/cmp.txt" && grep -q "converts per MAC" "$T/cmp.txt" &&
    grep -q '"config": "raella"' "$T/c.json" && ok || bad "compare"
"$CIMSIM" --help | grep -q mvm && "$CIMSIM" mvm --help | grep -q -- "--weights" && "$CIMSIM" presets | grep -q raella-nospec && ok || bad "help"

cli_finish test_cli
