#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Man pages (build/man, written at build time by scripts/gen-man.sh from the built tool's own
# help): one page per command plus freqpilot(1); each renders to exactly its --help text
# (every line, in order), and whatis sees "freqpilot-COMMAND - summary" with the summary of
# the command's own NAME line.
. "$(dirname "$0")/lib.sh"
MAN=$BUILD/man
[ -f "$MAN/freqpilot.1" ] || skip_all "$MAN/freqpilot.1 not built (FP_MAN=OFF?)"
# Render without a pager, plain ASCII (\- stays -), wide enough for every help line.
render() {
    if command -v man >/dev/null; then
        LC_ALL=C MANWIDTH=200 man -P cat -l "$1" 2>/dev/null
    elif command -v groff >/dev/null; then
        LC_ALL=C groff -man -Tascii -P-cbou -rLL=200n "$1" 2>/dev/null
    else
        return 2
    fi
}
render "$MAN/freqpilot.1" >/dev/null || skip_all "neither man nor groff to render the pages"
# The help text, each non-empty line trimmed, against the rendered page's lines in order
# (the page's NAME line is "freqpilot-CMD - ..." where the help has "freqpilot CMD - ...").
same_text() {
    local page=$1
    shift
    "$FP" "$@" | sed 's/^ *//; s/ *$//' | grep -v '^$' | tail -n +3 >"$tmp/help.txt"
    render "$page" | sed 's/^ *//; s/ *$//' | grep -v '^$' >"$tmp/page.txt"
    # help minus its NAME section (2 lines) must appear in the page, in order
    in_order "$tmp/help.txt" "$tmp/page.txt"
}
in_order() {
    awk 'NR == FNR { want[++n] = $0; next } i < n && $0 == want[i + 1] { i++ }
         END { if (i < n) { print "# missing from the page: " want[i + 1]; exit 1 } }' "$1" "$2"
}
cmds=$("$FP" help | awk '/^COMMANDS$/ { on = 1; next } /^[A-Z]/ { on = 0 } on && NF { print $1 }')
check "commands listed" test -n "$cmds"
check "freqpilot(1) renders the top-level help" same_text "$MAN/freqpilot.1" help
for c in $cmds; do
    check "freqpilot-$c(1) exists" test -f "$MAN/freqpilot-$c.1"
    check "freqpilot-$c(1) renders 'freqpilot help $c'" same_text "$MAN/freqpilot-$c.1" help "$c"
done
check "no page for a command that is not there" \
    test "$(ls "$MAN"/*.1 | wc -l)" -eq $(($(wc -w <<<"$cmds") + 1))
whatis_is() { lexgrog "$1" | grep -qF -- "\"$2\""; }
if command -v lexgrog >/dev/null; then
    for c in $cmds; do
        # "    freqpilot profile - text" -> "freqpilot-profile - text"
        name=$("$FP" help "$c" | sed -n 2p | sed 's/^ *freqpilot \([a-z]*\) - /freqpilot-\1 - /')
        check "whatis: $name" whatis_is "$MAN/freqpilot-$c.1" "$name"
    done
fi
done_testing
