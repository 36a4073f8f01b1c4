#!/bin/sh
# test_cost_presets.sh: the built-in hardware files and energy specs of the
# digital-cim, timely-like and ibm-pcm-like presets (data/hw, data/energy):
# each loads (`cimsim hw NAME`), and eval of LeNet-5 (8 images) under each
# preset picks them by the arch's name and reports energy > 0, chip area > 0
# and throughput > 0; a hardware file that does not match the arch fails.
set -u
CLI=$1
SRC=$2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

for a in digital-cim timely-like ibm-pcm-like; do
    "$CLI" hw "$a" >"$T/hw.txt" 2>&1 || fail "hw $a: $(cat "$T/hw.txt")"
    grep -q "per tile:" "$T/hw.txt" || fail "hw $a prints no tile"
    "$CLI" eval --model "$SRC/models/lenet5.onnx" --arch "$a" --limit 8 --threads 1 --json "$T/$a.json" \
        >"$T/$a.txt" 2>&1 || fail "eval $a: $(cat "$T/$a.txt")"
    grep -q "no hardware file" "$T/$a.txt" && fail "eval $a: no hardware file"
    grep -q "energy is not reported" "$T/$a.txt" && fail "eval $a: no energy"
    python3 - "$T/$a.json" "$a" <<'PY' || fail "eval JSON of $a"
import json, sys
d = json.load(open(sys.argv[1]))
if isinstance(d, list):
    d = d[0]
assert d["energy_spec"] == sys.argv[2], d["energy_spec"]
assert d["energy_pj_per_inference"] > 0
c = d["chip"]
for k in ("tiles", "area_mm2", "tops", "inferences_per_s"):
    assert c[k] > 0, k
PY
done

# the wrong hardware for an arch (timely-like's 4096-row file under ibm-pcm-like) is an error
"$CLI" eval --model "$SRC/models/lenet5.onnx" --arch ibm-pcm-like --hw timely-like --limit 2 --threads 1 \
    >"$T/bad.txt" 2>&1 && fail "ibm-pcm-like on timely-like hardware accepted"
grep -q "timely-like" "$T/bad.txt" || fail "error does not name the hardware: $(cat "$T/bad.txt")"
exit 0
