#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Command-line basics: help for every command, help CMD == CMD --help, --version,
# unknown commands and options are usage errors (exit 2), and every help's OPTIONS section
# is the command's option table (src/cli/parse_options.c), which also parses its options.
. "$(dirname "$0")/lib.sh"

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
for c in $cmds main; do
    h=$tmp/help-$c
    for s in NAME SYNOPSIS DESCRIPTION 'EXIT STATUS'; do
        grep -q "^$s" "$h" || nok "$c --help has no $s section"
    done
    grep -qE '^(OPTIONS|COMMANDS)' "$h" || nok "$c --help has no OPTIONS or COMMANDS section"
    long=$(awk 'length > 100' "$h" | head -1)
    [ -z "$long" ] || nok "$c --help has a line over 100 columns: $long"
done
ok "help pages checked for sections and line length"

# The option tables. `help --options-json CMD` prints CMD's table (long, takes_value, hidden
# of each entry, one key a line); the OPTIONS section of CMD --help must list exactly the
# visible entries, and the parser must take exactly those: a value option given without its
# value and a flag given one are usage errors naming the option, in the table's words.
table() { # JSON on stdin -> "long takes_value hidden" lines
    awk -F'"' '/^      "long":/ { l = $4 } /^      "takes_value":/ { t = ($0 ~ /true/) }
               /^      "hidden":/ { print l, t, ($0 ~ /true/) }'
}
help_options() { # the --long names that start an entry of the OPTIONS section
    awk '/^OPTIONS/ { on = 1; next } /^[A-Z]/ { on = 0 } on' "$1" |
        grep -oE '^    (-[a-zA-Z], )?--[a-z][a-z0-9-]*' | sed -E 's/.*--//' | sort -u
}
nopts=0
for c in $cmds main; do
    if [ "$c" = main ]; then
        status "$FP" --options-json >/dev/null
        args=()
    else
        status "$FP" help --options-json "$c" >/dev/null
        # a command with subcommands parses its options after one of them ("[]": none)
        sub=$(awk '/"subcommands": \[\]/ { exit } /"subcommands": \[/ { on = 1; next }
                   on { gsub(/[",[:space:]]/, ""); print; exit }' "$tmp/out")
        case $sub in "]" | "") args=("$c") ;; *) args=("$c" "$sub") ;; esac
    fi
    cp "$tmp/out" "$tmp/json-$c"
    grep -q '"options": \[' "$tmp/json-$c" || { nok "$c: no option table from --options-json"; continue; }
    table <"$tmp/json-$c" >"$tmp/table-$c"
    awk '$3 == 0 { print $1 }' "$tmp/table-$c" | sort -u >"$tmp/visible-$c"
    help_options "$tmp/help-$c" >"$tmp/helpopts-$c"
    [ "$c" = main ] || cmp -s "$tmp/visible-$c" "$tmp/helpopts-$c" ||
        nok "$c: OPTIONS section and option table differ: $(diff "$tmp/visible-$c" "$tmp/helpopts-$c" | grep '^[<>]' | tr '\n' ' ')"
    while read -r name takes hidden; do
        case $name in help | options-json) continue ;; esac
        nopts=$((nopts + 1))
        if [ "$takes" = 1 ]; then
            rc=$(status "$FP" "${args[@]}" "--$name")
            [ "$rc" = 2 ] && grep -q -- "--$name: needs a value" "$tmp/err" ||
                nok "$c --$name without a value: exit $rc, $(head -1 "$tmp/err")"
        else
            rc=$(status "$FP" "${args[@]}" "--$name=1")
            [ "$rc" = 2 ] && grep -q -- "--$name: takes no value" "$tmp/err" ||
                nok "$c --$name=1: exit $rc, $(head -1 "$tmp/err")"
        fi
    done <"$tmp/table-$c"
done
check "the option tables name options ($nopts of them)" test "$nopts" -ge 150
check "an option not in the table is refused" test "$(status "$FP" optimize x.csv --no-such-option)" -eq 2
check "... as unknown" grep -q -- "unknown option '--no-such-option'" "$tmp/err"
check "a unique abbreviation is taken (as getopt_long does)" \
    test "$(status "$FP" aggregate x.csv --confid 2)" -eq 2
check "... and checked as the option it names" grep -q -- '--confidence: expected a number in (0, 1)' "$tmp/err"

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
check "... naming the choices" grep -q -- "--format: expected csv, json or ai-inference-energy, got 'xml'" "$tmp/err"
check "aggregate --confidence 1.5 exits 2" test "$(status "$FP" aggregate x.csv --confidence 1.5)" -eq 2
check "aggregate --bootstrap ten exits 2" test "$(status "$FP" aggregate x.csv --bootstrap ten)" -eq 2
check "aggregate --input-format nope exits 2" test "$(status "$FP" aggregate x.csv --input-format nope)" -eq 2
check "aggregate -o on a folder exits 2" test "$(status "$FP" aggregate x.csv -o "$tmp")" -eq 2
check "usage errors point at --help" grep -q -- '--help' "$tmp/err"

done_testing
