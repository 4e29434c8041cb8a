#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Command-line basics: help for every command, help CMD == CMD --help, --version,
# unknown commands and options are usage errors (exit 2).
set -u
FP=${FREQPILOT:?set FREQPILOT to the freqpilot binary}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
ok() { echo "ok - $1"; }
nok() { echo "not ok - $1"; failed=1; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else nok "$d"; fi; }
status() { "$@" >"$tmp/out" 2>"$tmp/err"; echo $?; }

check "--help exits 0" test "$(status "$FP" --help)" -eq 0
cp "$tmp/out" "$tmp/help-main"
check "--help lists commands" grep -qE '^(COMMANDS|Commands:)' "$tmp/out"
cmds=$(awk '/^(COMMANDS|Commands:)/ { on = 1; next } on && /^ *$/ { exit } on { print $1 }' \
    "$tmp/out")
check "at least aggregate, help and version are listed" \
    bash -c "echo '$cmds' | grep -qx aggregate && echo '$cmds' | grep -qx help && echo '$cmds' | grep -qx version"
for c in $cmds; do
    check "$c --help exits 0" test "$(status "$FP" "$c" --help)" -eq 0
    cp "$tmp/out" "$tmp/help-$c"
    check "$c --help prints a usage or synopsis" grep -qiE 'usage|synopsis' "$tmp/help-$c"
    check "$c --help prints nothing on stderr" test ! -s "$tmp/err"
    "$FP" help "$c" >"$tmp/help2-$c" 2>/dev/null
    check "help $c is the same text as $c --help" cmp -s "$tmp/help-$c" "$tmp/help2-$c"
done
for s in NAME SYNOPSIS DESCRIPTION OPTIONS 'EXIT STATUS' EXAMPLES; do
    check "aggregate --help has a $s section" grep -q "^$s" "$tmp/help-aggregate"
done

# Every help is a manual page: the sections, and every --long option the command's source
# accepts. Options come from src/cli/CMD.c: its getopt_long table ({"name", ..._argument})
# and the "--name" string literals outside its help text (commands that parse by hand with
# strcmp), but not those handed to another command (stage_arg in run.c). help and version
# live in main.c with the global options, which `freqpilot --help` documents.
SRC=${FREQPILOT_SRC:-}
src_options() {
    {
        grep -oE '\{"[a-z][a-z0-9-]*", *(no|required|optional)_argument' "$1" |
            sed -E 's/^\{"([^"]*)".*/--\1/'
        grep -vE '\\n"[);]*[[:space:]]*$|stage_arg\(' "$1" |
            grep -oE '"--[a-z][a-z0-9-]*[="]' | sed -E 's/^"//; s/[="]$//'
    } | sort -u
}
has_option() { grep -qE -- "(^|[^a-z0-9-])$1([^a-z0-9-]|\$)" "$2"; }
for c in $cmds main; do
    h=$tmp/help-$c
    for s in NAME SYNOPSIS DESCRIPTION 'EXIT STATUS'; do
        grep -q "^$s" "$h" || nok "$c --help has no $s section"
    done
    grep -qE '^(OPTIONS|COMMANDS)' "$h" || nok "$c --help has no OPTIONS or COMMANDS section"
    long=$(awk 'length > 100' "$h" | head -1)
    [ -z "$long" ] || nok "$c --help has a line over 100 columns: $long"
    [ -n "$SRC" ] || continue
    case $c in help | version) continue ;; main) f=$SRC/src/cli/main.c ;; *) f=$SRC/src/cli/$c.c ;; esac
    if [ ! -r "$f" ]; then
        nok "$c: no source $f"
        continue
    fi
    missing=""
    n=0
    for o in $(src_options "$f"); do
        n=$((n + 1))
        has_option "$o" "$h" || missing="$missing $o"
    done
    [ -z "$missing" ] || nok "$c --help does not document$missing (options in $f)"
    [ "$c" = main ] || [ "$n" -gt 0 ] || nok "$c: found no options in $f"
done
ok "help pages checked for sections, line length and options"

check "aggregate --help states the cold start rule" grep -q 'max(6, floor(5 % of the runs))' "$tmp/help-aggregate"
check "aggregate --help states the outlier rule" grep -q 'max(K x 1.4826 x MAD, 0.25 x median)' "$tmp/help-aggregate"

check "--version exits 0" test "$(status "$FP" --version)" -eq 0
check "--version prints 'freqpilot X.Y.Z'" grep -qE '^freqpilot [0-9]+\.[0-9]+\.[0-9]+' "$tmp/out"
ver=$(cat "$tmp/out")
"$FP" version >"$tmp/out2"
check "version == --version" test "$(cat "$tmp/out2")" = "$ver"

check "unknown command exits 2" test "$(status "$FP" agregate)" -eq 2
check "unknown command suggests the nearest one" grep -q 'aggregate' "$tmp/err"
check "help of an unknown command exits 2" test "$(status "$FP" help agregate)" -eq 2
check "unknown global option exits 2" test "$(status "$FP" --bogus)" -eq 2
check "no command exits 2" test "$(status "$FP")" -eq 2
check "unknown aggregate option exits 2" test "$(status "$FP" aggregate --bogus x.csv)" -eq 2
check "unknown aggregate option is named" grep -q -- '--bogus' "$tmp/err"
check "aggregate without INPUT exits 2" test "$(status "$FP" aggregate)" -eq 2
check "aggregate option without its value exits 2" test "$(status "$FP" aggregate x.csv --format)" -eq 2
check "aggregate --format xml exits 2" test "$(status "$FP" aggregate x.csv --format xml)" -eq 2
check "aggregate --confidence 1.5 exits 2" test "$(status "$FP" aggregate x.csv --confidence 1.5)" -eq 2
check "aggregate --bootstrap ten exits 2" test "$(status "$FP" aggregate x.csv --bootstrap ten)" -eq 2
check "aggregate --input-format nope exits 2" test "$(status "$FP" aggregate x.csv --input-format nope)" -eq 2
check "aggregate -o on a folder exits 2" test "$(status "$FP" aggregate x.csv -o "$tmp")" -eq 2
check "usage errors point at --help" grep -q -- '--help' "$tmp/err"

exit $failed
