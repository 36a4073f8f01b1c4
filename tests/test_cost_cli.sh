#!/bin/sh
# test_cost_cli.sh: `cimsim cost` and eval's hardware side through the binary:
# ResNet-18 on raella with an eval JSON of ResNet-8 as statistics (1.814
# GMACs), the JSON fields, and bad input (missing workload, unknown arch, a
# stats JSON of the wrong shape) failing with messages naming file and field.
set -u
CLI=$1
SRC=$2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$CLI" eval --model "$SRC/models/resnet8.onnx" --arch raella --limit 4 --threads 1 --json "$T/e.json" >"$T/eval.txt" 2>&1 \
    || fail "eval: $(cat "$T/eval.txt")"
grep -q "TOPS/W" "$T/eval.txt" || fail "eval prints no hardware figures"
python3 - "$T/e.json" <<'PY' || fail "eval JSON"
import json, sys
d = json.load(open(sys.argv[1]))
c = d["chip"]
for k in ("tiles", "power_w", "area_mm2", "tops", "tops_per_w", "tops_per_mm2", "inferences_per_s"):
    assert c[k] > 0, k
assert d["tile"]["power_mw"] > 0 and d["tile"]["area_mm2"] > 0
assert abs(c["tops_per_w"] - 2 * d["titanium"]["macs"] / d["energy_pj_per_inference"]) < 1e-9 * c["tops_per_w"]
for l in d["layers"]:
    assert l["crossbars"] >= 1 and l["copies"] >= 1 and l["cycles_per_vector"] >= 1
PY
# a preset given by its file path has no built-in hardware file
"$CLI" eval --model "$SRC/models/resnet8.onnx" --arch "$SRC/presets/timely-like.yaml" --limit 2 --threads 1 >"$T/t.txt" 2>&1 \
    || fail "eval timely-like.yaml: $(cat "$T/t.txt")"
grep -q "no hardware file for arch .*timely-like.yaml" "$T/t.txt" || fail "no note for an arch without hardware"

"$CLI" cost --arch raella --workload resnet18 --stats "$T/e.json" --json "$T/c.json" >"$T/cost.txt" 2>&1 \
    || fail "cost: $(cat "$T/cost.txt")"
grep -q "1.814 GMACs" "$T/cost.txt" || fail "ResNet-18 MACs: $(head -1 "$T/cost.txt")"
grep -q "eval conv average" "$T/cost.txt" || fail "rates source not said"
python3 - "$T/c.json" <<'PY' || fail "cost JSON"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["macs"] == 1814073344, d["macs"]
assert d["titanium"]["macs"] == 1814073344
for k in ("tiles", "power_w", "area_mm2", "tops", "tops_per_w", "tops_per_mm2", "inferences_per_s"):
    assert d["chip"][k] > 0, k
assert len(d["layers"]) == 21 and all(l["rates_from"] == "eval conv average" or l["rates_from"] == "eval linear average" for l in d["layers"])
PY
"$CLI" cost --arch isaac --workload resnet18 >"$T/a.txt" 2>&1 || fail "cost assumed: $(cat "$T/a.txt")"
grep -q "ASSUMED" "$T/a.txt" || fail "assumptions not printed"

# bad input
if "$CLI" cost --arch raella --workload "$T/none.yaml" >"$T/b1.txt" 2>&1; then fail "missing workload accepted"; fi
grep -q "none.yaml" "$T/b1.txt" || fail "missing workload not named: $(cat "$T/b1.txt")"
if "$CLI" cost --arch no-such-arch --workload resnet18 >"$T/b2.txt" 2>&1; then fail "unknown arch accepted"; fi
grep -q "no-such-arch" "$T/b2.txt" || fail "unknown arch not named: $(cat "$T/b2.txt")"
echo '{"arch": "raella", "layers": [{"name": "x", "op_type": "Conv", "stats": {"macs": 5}}]}' >"$T/bad.json"
if "$CLI" cost --arch raella --workload resnet18 --stats "$T/bad.json" >"$T/b3.txt" 2>&1; then fail "bad stats accepted"; fi
grep -q "bad.json: layers\[0\].stats.adc_converts" "$T/b3.txt" || fail "bad stats not named: $(cat "$T/b3.txt")"
if "$CLI" cost --arch raella --workload resnet18 --hw /nonexistent/hw.yaml >"$T/b4.txt" 2>&1; then fail "bad hw accepted"; fi
grep -q "/nonexistent/hw.yaml" "$T/b4.txt" || fail "bad hw not named: $(cat "$T/b4.txt")"
# --model: the shapes of one sample through the model, as `cimsim workload --model` writes them
"$CLI" cost --arch raella --model "$SRC/models/resnet8.onnx" --stats "$T/e.json" --json "$T/m.json" >"$T/m.txt" 2>&1 \
    || fail "cost --model: $(cat "$T/m.txt")"
"$CLI" workload --model "$SRC/models/resnet8.onnx" --out "$T/r8.yaml" >/dev/null 2>&1 || fail "workload --model"
"$CLI" cost --arch raella --workload "$T/r8.yaml" --stats "$T/e.json" --json "$T/w.json" >/dev/null 2>&1 \
    || fail "cost --workload of the same model"
python3 - "$T/m.json" "$T/w.json" <<'PY' || fail "cost --model differs from cost --workload of its workload file"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
assert a["energy_pj_per_inference"] == b["energy_pj_per_inference"]
assert a["titanium"]["macs"] == b["titanium"]["macs"] == 9345920
PY
if "$CLI" cost --arch raella --model "$T/nope.onnx" >"$T/b5.txt" 2>&1; then fail "missing model accepted"; fi
grep -q "nope.onnx" "$T/b5.txt" || fail "missing model not named: $(cat "$T/b5.txt")"
if "$CLI" cost --arch raella --model "$SRC/models/resnet8.onnx" --workload resnet18 >"$T/b6.txt" 2>&1; then
    fail "--model with --workload accepted"
fi
echo "ok"
