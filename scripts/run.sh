#!/bin/sh
# run.sh: set up, build, and run the main job: the bundled ResNet-style model
# (models/resnet8.onnx, int8) on the first 2,000 Fashion-MNIST test images (pass
# --limit 10000 for all),
# digital reference vs simulated ISAAC and RAELLA crossbars (RAELLA's weight
# slicings compiled first, as the thesis does), side by side, with
# per-layer counters; then the two presets' counters on the bundled 512x512
# layer. Results also go to results/eval.{json,csv} and results/compare.{json,csv}.
#   scripts/run.sh [more cimsim eval options, e.g. --limit 1000 --noise 0.04]
set -eu
cd "$(dirname "$0")/.."
scripts/setup.sh
mkdir -p results
# RAELLA's adaptive weight slicing on 10 training images (docs/compiler.md)
build/cimsim compile --model models/resnet8.onnx --arch raella --calib fashion-mnist:train:10 \
    --out results/plan_resnet8_raella.json
echo
build/cimsim eval --model models/resnet8.onnx --dataset fashion-mnist:test --arch isaac,raella \
    --plan results/plan_resnet8_raella.json \
    --limit 2000 --progress --json results/eval.json --csv results/eval.csv "$@"
echo
build/cimsim compare --configs isaac,raella-nospec,raella,zero-offset \
    --weights data/layer512/W.npy --inputs data/layer512/X.npy \
    --json results/compare.json --csv results/compare.csv
