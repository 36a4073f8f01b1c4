#!/bin/sh
# run.sh: set up, build, and run the main job: the bundled ResNet-style model
# (models/resnet8.onnx, int8) on the first 2,000 Fashion-MNIST test images (pass
# --limit 10000 for all),
# digital reference vs simulated ISAAC and RAELLA crossbars, side by side, with
# per-layer counters; then the two presets' counters on the bundled 512x512
# layer. Results also go to results/eval.{json,csv} and results/compare.{json,csv}.
#   scripts/run.sh [more cimsim eval options, e.g. --limit 1000 --noise 0.04]
set -eu
cd "$(dirname "$0")/.."
scripts/setup.sh
mkdir -p results
build/cimsim eval --model models/resnet8.onnx --dataset fashion-mnist:test --arch isaac,raella \
    --limit 2000 --progress --json results/eval.json --csv results/eval.csv "$@"
echo
build/cimsim compare --configs isaac,raella-nospec,raella,zero-offset \
    --weights data/layer512/W.npy --inputs data/layer512/X.npy \
    --json results/compare.json --csv results/compare.csv
