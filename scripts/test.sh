#!/bin/sh
# test.sh: set up, build with warnings as errors, and run every test; then the
# same tests again under AddressSanitizer + UndefinedBehaviorSanitizer.
set -eu
cd "$(dirname "$0")/.."
scripts/setup.sh -DCIMSIM_WERROR=ON
(cd build && ctest --output-on-failure)
echo "== the same tests under ASan + UBSan =="
CIMSIM_BUILD_DIR=build-asan scripts/setup.sh -DCIMSIM_WERROR=ON -DCIMSIM_SANITIZE=ON -DCIMSIM_BENCH=OFF \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure)
