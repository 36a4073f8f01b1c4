#!/bin/sh
# test.sh: set up, build with warnings as errors, and run every test; then the
# same tests again under AddressSanitizer + UndefinedBehaviorSanitizer, built
# without the framework's per-ISA clones (CIMSIM_CLONES=OFF): the first build
# runs the clone this CPU picks (x86-64-v4 here), the second the baseline
# x86-64 code, so both must give the golden bits.
set -eu
cd "$(dirname "$0")/.."
# ONNX Runtime (npm package com.github.asus4.onnxruntime): the whole-model reference
if ort_dir=$(scripts/setup_ort.sh); then
    ort_dir=$(printf '%s\n' "$ort_dir" | tail -n 1)
else
    echo "test.sh: WARNING: ONNX Runtime could not be installed; test_ort will not run" >&2
    ort_dir=""
fi
scripts/setup.sh -DCIMSIM_WERROR=ON -DCIMSIM_ORT_DIR="$ort_dir"
(cd build && ctest --output-on-failure)
echo "== the same tests under ASan + UBSan =="
CIMSIM_BUILD_DIR=build-asan scripts/setup.sh -DCIMSIM_WERROR=ON -DCIMSIM_SANITIZE=ON -DCIMSIM_BENCH=OFF -DCIMSIM_ORT=OFF \
    -DCIMSIM_CLONES=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure)
