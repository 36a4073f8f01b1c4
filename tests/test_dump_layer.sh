#!/bin/sh
# test_dump_layer.sh CIMSIM SRCDIR: `cimsim eval --dump-layer NAME --dump-dir DIR`.
# A layer of LeNet-5 is dumped on 8 images; layer.txt and the NPY headers have
# its shapes; `cimsim mvm` on W.npy and X.npy counts exactly what eval counted
# for that layer (so the files are what the crossbars got); a layer whose
# inputs have a zero point (the transformer's) runs through a YAML `zx:`; an
# unknown name, a missing directory, two archs and a failure after the run
# are errors that leave no dump files.
set -u
CIMSIM=$1
SRC=$2
. "$(dirname "$0")/cli_lib.sh"
cli_init dump

# no_dump NAME DIR: no dump file, final or partial, in DIR
no_dump() {
    left=$(ls "$2" | grep -E '^(W\.npy|X\.npy|layer\.txt)' || true)
    if [ -n "$left" ]; then bad "$1: left $left"; else ok; fi
}
fact() { awk -v k="$1" '$1 == k { print $2 }' "$2"; }
# npy_header FILE: the header dict of an .npy file
npy_header() { head -c 128 "$1" | tr -d '\000' | tr '\n' ' '; }

# check_layer MODEL LAYER K N M: dump LAYER on 8 images, check shapes, run it
# through cimsim mvm and compare its counters with eval's for that layer
check_layer() {
    model=$1; layer=$2; K=$3; N=$4; M=$5
    D=$T/d$pass
    mkdir -p "$D"
    if ! "$CIMSIM" eval --model "$SRC/models/$model" --arch raella --limit 8 --threads 2 --dump-layer "$layer" \
        --dump-dir "$D" --csv "$D/e.csv" > "$D/out" 2> "$D/err"; then
        bad "$model $layer: eval --dump-layer failed"; cat "$D/err"; return
    fi
    for f in W.npy X.npy layer.txt; do [ -f "$D/$f" ] || bad "$model $layer: no $f"; done
    ls "$D" | grep -q '\.part$' && bad "$model $layer: .part files left"
    got="$(fact name "$D/layer.txt") $(fact K "$D/layer.txt") $(fact N "$D/layer.txt") $(fact M "$D/layer.txt")"
    if [ "$got" = "$layer $K $N $M" ]; then ok; else bad "$model $layer: layer.txt says '$got', want '$layer $K $N $M'"; fi
    case "$(npy_header "$D/W.npy")" in
    *"'descr': '|i1'"*"'shape': ($K, $N)"*) ok ;;
    *) bad "$model $layer: W.npy header: $(npy_header "$D/W.npy")" ;;
    esac
    case "$(npy_header "$D/X.npy")" in
    *"'descr': '|u1'"*"'shape': ($M, $K)"*) ok ;;
    *) bad "$model $layer: X.npy header: $(npy_header "$D/X.npy")" ;;
    esac
    zx=$(fact zx "$D/layer.txt")
    cfg=raella
    if [ "$zx" != 0 ]; then # signed inputs cross with their zero point (docs/config.md: zx)
        printf 'base: raella\nzx: %s\n' "$zx" > "$D/zx.yaml"
        cfg=$D/zx.yaml
    fi
    if ! "$CIMSIM" mvm --config "$cfg" --weights "$D/W.npy" --inputs "$D/X.npy" --out "$D/P.npy" \
        --stats "$D/S.json" --threads 1 2> "$D/err"; then
        bad "$model $layer: mvm on the dump failed"; cat "$D/err"; return
    fi
    # eval's CSV row of the layer: macs, converts/MAC, saturation and speculation
    # failure rates (after the two quoted slicings)
    row=$(grep "^raella,$layer," "$D/e.csv" | awk -F'"' '{ split($1, a, ","); split($5, b, ","); print a[4], b[2], b[3], b[4] }')
    num() { sed -n "s/^ *\"$1\": \([0-9.e+-]*\),*\$/\1/p" "$D/S.json"; }
    mine=$(awk -v m="$(num macs)" -v c="$(num adc_converts)" -v cs="$(num adc_converts_speculative)" \
        -v s="$(num saturations)" -v f="$(num speculation_failures)" \
        'BEGIN { printf "%d %.6g %.6g %.6g", m, c / m, s / c, cs ? f / cs : 0 }')
    if [ -n "$row" ] && awk -v a="$row" -v b="$mine" 'BEGIN {
            n = split(a, x, " "); split(b, y, " ")
            if (n != 4 || x[1] != y[1]) exit 1
            for (i = 2; i <= 4; i++) { d = x[i] - y[i]; if (d < 0) d = -d; if (d > 1e-5 * (x[i] + 1e-12)) exit 1 }
        }'; then
        ok
    else
        bad "$model $layer: eval counted '$row' (macs conv/MAC sat spec-fail), mvm on the dump '$mine'"
    fi
}

# 1. LeNet-5's second convolution (post-ReLU inputs: zx 0): K = 6*5*5, N 16, M = 8 images x 10x10
check_layer lenet5.onnx /conv2/Conv 150 16 800
# 2. a transformer MatMul whose inputs are signed (zx != 0): 8 images x 16 tokens
check_layer transformer.onnx /blocks/0/attn/qkv/fc/MatMul 64 192 128
if [ "${zx:-0}" != 0 ]; then ok; else bad "transformer qkv: zx is 0, so the zx: config was not exercised"; fi

# 3. an unknown name: an error naming it and listing the valid ones; no files
mkdir -p "$T/bad"
expect_fail "unknown layer" "no weight layer is named '/conv9/Conv'.*/conv1/Conv, /conv2/Conv" \
    "$CIMSIM" eval --model "$SRC/models/lenet5.onnx" --arch raella --limit 8 --dump-layer /conv9/Conv --dump-dir "$T/bad"
no_dump "unknown layer" "$T/bad"
# many layers: the list is cut and points to the table
expect_fail "unknown layer, long list" "more (the per-layer table" \
    "$CIMSIM" eval --model "$SRC/models/mobilenetv2.onnx" --arch raella --limit 8 --dump-layer x --dump-dir "$T/bad"
# 4. the other bad uses
expect_fail "no directory" "not a directory" \
    "$CIMSIM" eval --model "$SRC/models/lenet5.onnx" --arch raella --limit 8 --dump-layer /conv1/Conv --dump-dir "$T/nodir"
expect_fail "two archs" "one --arch" \
    "$CIMSIM" eval --model "$SRC/models/lenet5.onnx" --arch isaac,raella --limit 8 --dump-layer /conv1/Conv --dump-dir "$T/bad"
expect_fail "no --dump-dir" "go together" \
    "$CIMSIM" eval --model "$SRC/models/lenet5.onnx" --limit 8 --dump-layer /conv1/Conv
no_dump "bad uses" "$T/bad"
# 5. a step after the evaluation fails (an unwritable --json): the dump goes too
expect_fail "later failure" "nodir" \
    "$CIMSIM" eval --model "$SRC/models/lenet5.onnx" --arch raella --limit 8 --dump-layer /conv1/Conv --dump-dir "$T/bad" \
    --json "$T/nodir/e.json"
no_dump "later failure" "$T/bad"

cli_finish test_dump_layer
