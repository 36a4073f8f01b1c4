#!/bin/sh
# test_archs.sh CIMSIM SRCDIR: the architecture presets from the command line.
# `cimsim archs` lists every presets/*.yaml with its description, one line each;
# `cimsim presets NAME` prints the file as built in; presets load by name from
# any directory; digital-cim reads column sums digitally (no ADC conversions)
# and refuses noise; bad arguments fail with a message.
set -u
CIMSIM=$1
SRC=$2
. "$(dirname "$0")/cli_lib.sh"
cli_init archs

cd "$T" || exit 1   # presets must not depend on the working directory

"$CIMSIM" archs > "$T/archs" 2> "$T/err" || bad "archs: exit status"
files=0
for f in "$SRC"/presets/*.yaml; do
    files=$((files + 1))
    name=$(basename "$f" .yaml)
    desc=$(sed -n 's/^description: "\(.*\)".*$/\1/p' "$f")
    grep -q "^$name  *$desc\$" "$T/archs" && ok || bad "archs: no line '$name $desc'"
    "$CIMSIM" presets "$name" > "$T/text" && cmp -s "$T/text" "$f" && ok || bad "presets $name: not the file"
done
[ "$(wc -l < "$T/archs")" -eq "$files" ] && [ "$files" -eq 8 ] && ok || bad "archs: $(wc -l < "$T/archs") lines, $files files"
"$CIMSIM" presets > "$T/long" && grep -q "digital-cim" "$T/long" && grep -q "no adc" "$T/long" \
    && grep -q "adaptive-weight-slicing" "$T/long" && grep -q "layer last" "$T/long" && ok || bad "presets: long form"
"$CIMSIM" archs --help | grep -q "usage: cimsim archs" && ok || bad "archs --help"
"$CIMSIM" archs extra > /dev/null 2> "$T/err"; [ $? -eq 2 ] && grep -q "extra" "$T/err" && ok || bad "archs extra: not a usage error"
"$CIMSIM" presets tpu > /dev/null 2> "$T/err"; [ $? -ne 0 ] && grep -q "tpu" "$T/err" && ok || bad "presets tpu: no error"

# every preset runs the bundled layer by name
W=$SRC/data/layer512/W.npy
X=$SRC/data/layer512/X.npy
for f in "$SRC"/presets/*.yaml; do
    name=$(basename "$f" .yaml)
    "$CIMSIM" mvm --config "$name" --weights "$W" --inputs "$X" --out "$T/P.npy" --stats "$T/S.json" --threads 2 \
        2> "$T/err" && ok || { bad "mvm --config $name"; cat "$T/err"; }
done
# digital-cim: digital reads, no conversions, converts_per_mac 0
"$CIMSIM" mvm --config digital-cim --weights "$W" --inputs "$X" --out "$T/P.npy" --stats "$T/S.json" --threads 2
grep -q '"adc_converts": 0,' "$T/S.json" && grep -q '"digital_reads": [1-9]' "$T/S.json" \
    && grep -q '"converts_per_mac": 0' "$T/S.json" && ok || bad "digital-cim counters"
"$CIMSIM" mvm --config digital-cim --noise 0.04 --weights "$W" --inputs "$X" --out "$T/P.npy" 2> "$T/err"
[ $? -ne 0 ] && grep -q "noise" "$T/err" && ok || bad "digital-cim with noise: no error"

cli_finish test_archs
