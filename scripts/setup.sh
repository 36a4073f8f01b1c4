#!/bin/sh
# setup.sh: install the Debian packages cimsim builds against (idempotent: does
# nothing when they are all present), then configure and build into ./build.
#   scripts/setup.sh [cmake options...]
set -eu
cd "$(dirname "$0")/.."
PKGS="gcc make cmake pkg-config libyaml-dev libjansson-dev libcmocka-dev librandom123-dev libdnnl-dev protobuf-c-compiler libprotobuf-c-dev libonnx-dev libonnx-testdata zlib1g-dev dataset-fashion-mnist gnuplot-nox jq"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "setup: installing$missing"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
fi
BUILD=${CIMSIM_BUILD_DIR:-build}
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
# (a later -DCMAKE_BUILD_TYPE in "$@" wins)
cmake --build "$BUILD" -j "$(nproc)"
