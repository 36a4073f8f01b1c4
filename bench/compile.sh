#!/bin/sh
# bench/compile.sh: time of RAELLA's Adaptive Weight Slicing (`cimsim compile`,
# arch raella, budget 0.09, 10 calibration samples) per layer, on every
# bundled model and on ResNet-18-shaped 3x3 layers with synthetic weights
# (64 ch at 56x56, 128 at 28x28, 256 at 14x14, 512 at 7x7; bench/synth_conv.py).
# The thesis reports 10-1000 ms per layer on an RTX 2060 GPU (section 4.2.2).
# The chosen slicings and their errors are the checksum: they must not change
# between runs or machines (nor between whole and staged candidates: large
# layers judge candidates on an eighth of the vectors first, and "finished
# whole" counts those simulated on every vector; include/cimsim/compile.h). Table to stdout and results/bench_compile.md.
#   bench/compile.sh   (threads: OMP_NUM_THREADS, default all cores)
# Build directory: $CIMSIM_BUILD_DIR (default build), made by scripts/setup.sh.
set -eu
cd "$(dirname "$0")/.."
BUILD=${CIMSIM_BUILD_DIR:-build}
[ -n "${CIMSIM_BENCH_NO_SETUP:-}" ] || scripts/setup.sh >/dev/null
# the synthetic layers are written with Debian's python3-onnx and python3-numpy
if ! /usr/bin/python3 -c 'import onnx, numpy' 2>/dev/null; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-onnx python3-numpy >/dev/null
fi
mkdir -p results
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cimsim-bench-compile-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
out=results/bench_compile.md
summary() { # plan.json name -> one table row (per-layer ms over the searched layers)
    /usr/bin/python3 - "$1" "$2" <<'EOF'
import json, statistics, sys, zlib
p = json.load(open(sys.argv[1]))
L = [l for l in p["layers"] if l["searched"]]
ms = [l["ms"] for l in L] or [0.0]
check = ";".join("%s:%s:%.6f" % (l["name"], ",".join(map(str, l["weight_slices"])),
                                 l["error"] if l["error"] is not None else -1) for l in p["layers"])
sl = [len(l["weight_slices"]) for l in L] or [0]
print("| %s | %d | %d | %.0f | %.0f | %.0f | %.1f | %.1f | %.2f | %08x |" % (
    sys.argv[2], len(p["layers"]), len(L), statistics.median(ms), max(ms), 1e3 * p["seconds"],
    sum(l["tried"] for l in L) / max(len(L), 1), sum(l.get("whole", l["tried"]) for l in L) / max(len(L), 1),
    sum(sl) / len(sl), zlib.crc32(check.encode())))
EOF
}
{
    echo "| model | layers | searched | median ms/layer | max ms/layer | total ms | slicings tried/layer | finished whole/layer | weight slices/layer | checksum |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"
} >"$out"
for m in models/*.onnx; do
    name=$(basename "$m" .onnx)
    "$BUILD/cimsim" compile --model "$m" --arch raella --out "$tmp/$name.json" >/dev/null 2>&1
    summary "$tmp/$name.json" "$name" >>"$out"
done
for shape in "64 56" "128 28" "256 14" "512 7"; do
    set -- $shape
    /usr/bin/python3 bench/synth_conv.py "$1" "$2" "$tmp" >/dev/null
    name=conv${1}x${2}
    "$BUILD/cimsim" compile --model "$tmp/$name.onnx" --calib "$tmp/${name}_x.npy:10" --arch raella \
        --out "$tmp/$name.json" >/dev/null 2>&1
    summary "$tmp/$name.json" "$name (ResNet-18 3x3, synthetic)" >>"$out"
done
cat "$out"
