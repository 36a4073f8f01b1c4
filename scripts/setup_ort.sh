#!/bin/sh
# setup_ort.sh: install ONNX Runtime's C library (the trusted int8 reference
# that tools/ort/ort_run.c runs) into a cache directory, and print the
# directory that holds onnxruntime_c_api.h and libonnxruntime.so.
#
#   scripts/setup_ort.sh            # prints e.g. /root/.cache/cimsim/ort/onnxruntime-unity-0.4.9
#   cmake -DCIMSIM_ORT_DIR="$(scripts/setup_ort.sh)" ...
#
# ONNX Runtime comes from the npm package com.github.asus4.onnxruntime (a Unity
# plugin that ships ORT's prebuilt libraries for every platform, and its C
# headers), pinned below. Version 0.4.9 carries ONNX Runtime 1.29.0 (C API
# version 29): Plugins/Linux/x64/libonnxruntime.so and, inside the iOS
# framework, the platform-independent headers. The tarball is about 150 MB
# (400 MB unpacked); only the Linux x64 libraries and the headers (about
# 30 MB) are kept.
#
# Environment: CIMSIM_ORT_DIR, the cache directory (default
# $HOME/.cache/cimsim/ort). Idempotent: when the pinned version is already
# there, nothing is downloaded. Messages go to stderr, the path to stdout.
set -eu

PKG=com.github.asus4.onnxruntime
VERSION=0.4.9
ORT_VERSION=1.29.0
# sha1 of the npm tarball, as the registry lists it (dist.shasum)
SHASUM=3659f34012db8208ffb7f67d704204cb08792fed
HEADERS='package/Plugins/iOS~/onnxruntime.xcframework/ios-arm64/onnxruntime.framework/Headers'
LIBS='package/Plugins/Linux/x64'

say() { echo "setup_ort: $*" >&2; }
die() { say "error: $*"; exit 1; }

CACHE="${CIMSIM_ORT_DIR:-${HOME:-/root}/.cache/cimsim/ort}"
DEST="$CACHE/onnxruntime-unity-$VERSION"

if [ -f "$DEST/.complete" ] && [ -f "$DEST/onnxruntime_c_api.h" ] && [ -f "$DEST/libonnxruntime.so" ]; then
    echo "$DEST"
    exit 0
fi

command -v npm >/dev/null 2>&1 || die "npm is not installed (apt-get install npm), needed to fetch $PKG@$VERSION"
command -v tar >/dev/null 2>&1 || die "tar is not installed"
mkdir -p "$CACHE" || die "cannot create $CACHE"
WORK=$(mktemp -d "$CACHE/.download.XXXXXX") || die "cannot create a temporary directory in $CACHE"
trap 'rm -rf "$WORK"' EXIT
trap 'exit 1' INT TERM

say "downloading $PKG@$VERSION (ONNX Runtime $ORT_VERSION, about 150 MB) into $CACHE"
# npm pack fetches the registry tarball and checks its integrity hash; its
# cache is kept in the temporary directory so no second 150 MB copy stays in ~/.npm.
if ! (cd "$WORK" && npm pack --loglevel=error --cache "$WORK/npm-cache" "$PKG@$VERSION" >pack.out 2>pack.err); then
    cat "$WORK/pack.err" >&2 || true
    die "npm pack $PKG@$VERSION failed (is the npm registry reachable?)"
fi
TGZ="$WORK/$PKG-$VERSION.tgz"
[ -f "$TGZ" ] || die "npm pack did not produce $TGZ"
if command -v sha1sum >/dev/null 2>&1; then
    got=$(sha1sum "$TGZ" | cut -d' ' -f1)
    [ "$got" = "$SHASUM" ] || die "$TGZ: sha1 $got, expected $SHASUM"
fi

mkdir -p "$WORK/x"
tar -xzf "$TGZ" -C "$WORK/x" "$LIBS" "$HEADERS" || die "cannot unpack $TGZ"
STAGE="$WORK/stage"
mkdir -p "$STAGE"
cp "$WORK/x/$HEADERS"/*.h "$STAGE/"
cp "$WORK/x/$LIBS"/*.so "$STAGE/"
[ -f "$STAGE/onnxruntime_c_api.h" ] || die "the package has no onnxruntime_c_api.h"
[ -f "$STAGE/libonnxruntime.so" ] || die "the package has no Linux x64 libonnxruntime.so"
grep -q "define ORT_API_VERSION" "$STAGE/onnxruntime_c_api.h" || die "onnxruntime_c_api.h has no ORT_API_VERSION"
echo "$PKG@$VERSION onnxruntime $ORT_VERSION" >"$STAGE/VERSION"
touch "$STAGE/.complete"

rm -rf "$DEST"
mv "$STAGE" "$DEST" || die "cannot move the files to $DEST"
say "installed ONNX Runtime $ORT_VERSION in $DEST"
echo "$DEST"
