#!/bin/sh
# run.sh: set up, build, and run the main job: the ISAAC and RAELLA presets (and
# RAELLA without speculation, and Zero+Offset) on the bundled 512x512 layer,
# counters and error side by side. Results also go to results/compare.{json,csv}.
set -eu
cd "$(dirname "$0")/.."
scripts/setup.sh
mkdir -p results
build/cimsim compare --configs isaac,raella-nospec,raella,zero-offset \
    --weights data/layer512/W.npy --inputs data/layer512/X.npy \
    --json results/compare.json --csv results/compare.csv
