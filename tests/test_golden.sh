#!/bin/sh
# test_golden.sh CIMSIM HELPER SRCDIR: the bundled layer under every preset, with
# noise off and on, must reproduce tests/data/golden.txt exactly: the psums'
# checksum and the counters. These pin the arithmetic of docs/semantics.md as
# built today, on every kernel and thread count. After an intended change of
# semantics, regenerate with: tests/test_golden.sh CIMSIM HELPER SRCDIR --update
set -u
CIMSIM=$1
HELPER=$2
SRC=$3
T=$(mktemp -d "${TMPDIR:-/tmp}/cimsim-golden-XXXXXX")
trap 'rm -rf "$T"' EXIT
W=$SRC/data/layer512/W.npy
X=$SRC/data/layer512/X.npy
GOLDEN=$SRC/tests/data/golden.txt
for preset in isaac raella raella-nospec zero-offset; do
    for noise in 0 0.04; do
        "$CIMSIM" mvm --config $preset --noise $noise --seed 7 --weights "$W" --inputs "$X" --out "$T/P.npy" \
            --stats "$T/S.json" || exit 1
        echo "$preset noise=$noise psum=$("$HELPER" fnv "$T/P.npy") $("$HELPER" counters "$T/S.json")"
    done
done > "$T/now.txt"
if [ "${4:-}" = "--update" ]; then
    cp "$T/now.txt" "$GOLDEN"
    echo "updated $GOLDEN"
    exit 0
fi
fail=0
pass=0
while read -r line; do
    key=$(echo "$line" | cut -d' ' -f1-2)
    want=$(grep "^$key " "$GOLDEN")
    if [ "$line" = "$want" ]; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL $key"
        echo "  want: $want"
        echo "  got:  $line"
    fi
done < "$T/now.txt"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -eq 8 ]
