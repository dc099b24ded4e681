#!/bin/sh
# Counts the assertions in each test binary's source, for checking that a refactoring of the
# tests dropped none. Run from the repository root: sh tests/support/count_asserts.sh
#
#   macros  assert!, assert_eq!, assert_ne!, assert_matches!, debug_assert*!, panic!,
#           unreachable! (a panic! in a test is a failed check with a message)
#   helpers calls of helpers that assert: assert_*(…), expect_*(…) (including Result's
#           expect_err), wait_for_*(…) (a flow/line that must appear, or a panic); their
#           definitions (`fn assert_…`) are not calls and are left out
#
# Lines whose first non-blank characters are `//` are left out. Every test binary compiles
# all of tests/support/ (`mod support;`), so support/ is counted once, below the binaries.
# Textual counts only: a check inside a loop over go versions or a table of cases runs
# once per row; see the note that goes with a change for executed counts.
set -eu
cd "$(dirname "$0")/../.."

macros='\b(assert|assert_eq|assert_ne|assert_matches|debug_assert|debug_assert_eq|debug_assert_ne|panic|unreachable)!'
helpers='\b((assert|expect)_[a-z0-9_]+|wait_for_[a-z0-9_]+)\('

count() {
    # $1 file, $2 pattern
    grep -vE '^[[:space:]]*//' "$1" | grep -vE '\bfn[[:space:]]+(assert|expect|wait_for)_' |
        grep -oE "$2" | wc -l | tr -d ' '
}

row() {
    m=$(count "$1" "$macros")
    h=$(count "$1" "$helpers")
    printf '%-34s %7s %8s %6s\n' "$1" "$m" "$h" "$((m + h))"
}

printf '%-34s %7s %8s %6s\n' file macros helpers total
tm=0
th=0
for f in tests/*.rs; do
    row "$f"
    tm=$((tm + $(count "$f" "$macros")))
    th=$((th + $(count "$f" "$helpers")))
done
printf '%-34s %7s %8s %6s\n' "tests/*.rs" "$tm" "$th" "$((tm + th))"
echo
sm=0
sh_=0
for f in tests/support/*.rs; do
    row "$f"
    sm=$((sm + $(count "$f" "$macros")))
    sh_=$((sh_ + $(count "$f" "$helpers")))
done
printf '%-34s %7s %8s %6s\n' "tests/support/*.rs" "$sm" "$sh_" "$((sm + sh_))"
