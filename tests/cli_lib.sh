# cli_lib.sh: what the shell tests of the CLI share, sourced after their
# arguments are read:
#   . "$(dirname "$0")/cli_lib.sh"
#   cli_init NAME      a temporary directory $T (removed on exit), counters
#   ok / bad MESSAGE   count a check that passed / failed (bad prints why)
#   expect_fail NAME NEEDLE CMD...   CMD must exit non-zero with NEEDLE in its
#                      stderr and no sign of a crash (a script may define its own)
#   cli_finish NAME    print the counts; the exit status is 0 only if none failed
cli_init() {
    T=$(mktemp -d "${TMPDIR:-/tmp}/cimsim-$1-XXXXXX") || exit 1
    trap 'rm -rf "$T"' EXIT
    pass=0
    fail=0
}
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
expect_fail() {
    name=$1; needle=$2; shift 2
    "$@" > "$T/out" 2> "$T/err"
    rc=$?
    if [ $rc -eq 0 ]; then bad "$name: exit 0"; return; fi
    if ! grep -q -- "$needle" "$T/err"; then bad "$name: stderr lacks '$needle':"; cat "$T/err"; return; fi
    if grep -qi "sanitizer\|segmentation\|core dumped" "$T/err"; then bad "$name: crashed"; return; fi
    ok
}
cli_finish() {
    echo "$1: $pass passed, $fail failed"
    [ "$fail" -eq 0 ]
}
