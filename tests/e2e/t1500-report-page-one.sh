#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The report decides in 30 seconds: on the demo (the simulated sweep of `make demo`, with the
# original project's budgets) and on measured_runs.csv, the deploy table is in the first
# viewport of report.html (headless Chromium, 1400 px wide: a screenshot, and the table's box
# measured in the page) and on page 1 of report.pdf (pdftoppm, pdftotext); its rows are
# optimize's choices under the stated rule, with optimize's verdicts, and `run` prints the
# same table. Screenshots are kept in build/test-artifacts/t1500/.
. "$(dirname "$0")/lib.sh"
command -v chromium >/dev/null || skip_all "chromium not installed (scripts/install-deps.sh)"
for t in pdftoppm pdftotext jq; do
    command -v $t >/dev/null || skip_all "$t not installed (scripts/install-deps.sh)"
done
ART=$BUILD/test-artifacts/t1500
mkdir -p "$ART"

chrome() {
    local prof
    prof=$(mktemp -d)
    timeout 90 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$prof" --window-size=1400,900 "$@" 2>/dev/null
    local rc=$?
    rm -rf "$prof"
    return $rc
}

# The rule's row per (gpu, app) among optimize's results: the app's own budget (a category
# from --constraints) where it has one, else the 5 % default. "gpu app clock verdict", sorted.
expected_rows() {
    jq -r '.results | map(select(.objective == "energy")) | group_by([.gpu, .app])[] |
        (map(select(.category != null)) + map(select(.category == null and .max_slowdown == 0.05)))[0] |
        "\(.gpu) \(.app) \(.freq_mhz | round) \(.verdict)"' "$1" | sort
}

# The deploy table of report.html, as the page carries it (data attributes of each row).
html_rows() {
    grep -o 'data-gpu="[^"]*" data-app="[^"]*" data-clock="[^"]*" data-verdict="[^"]*"' "$1" |
        sed 's/data-gpu="\([^"]*\)" data-app="\([^"]*\)" data-clock="\([^"]*\)" data-verdict="\([^"]*\)"/\1 \2 \3 \4/' |
        sort
}

page_one() { # name dir expected.json run.stdout
    local name=$1 dir=$2 exp=$3 out=$4 html=$2/report.html pdf=$2/report.pdf
    expected_rows "$exp" >"$tmp/$name.exp"
    html_rows "$html" >"$tmp/$name.html.rows"
    check "$name: $(wc -l <"$tmp/$name.exp") deploy rows, one per (gpu, app)" \
        test "$(wc -l <"$tmp/$name.exp")" -gt 0 -a \
        "$(wc -l <"$tmp/$name.exp")" = "$(jq -r '.results[] | "\(.gpu) \(.app)"' "$exp" | sort -u | wc -l)"
    check "$name: the deploy rows are optimize's choices and verdicts" \
        cmp -s "$tmp/$name.exp" "$tmp/$name.html.rows"
    grep ' deployable$' "$tmp/$name.exp" >"$tmp/$name.dep" || true
    check "$name: the deployable ones are optimize's deployable choices ($(wc -l <"$tmp/$name.dep"))" \
        cmp -s "$tmp/$name.dep" <(grep ' deployable$' "$tmp/$name.html.rows")

    # The first viewport, 1400 px wide: a screenshot, and the table's box measured in the page.
    chrome --screenshot="$ART/$name-viewport.png" "file://$html" >/dev/null
    check "$name: chromium screenshot of the first viewport" test -s "$ART/$name-viewport.png"
    local w
    w=$(od -An -tu1 -j16 -N4 "$ART/$name-viewport.png" | awk '{ print $1 * 16777216 + $2 * 65536 + $3 * 256 + $4 }')
    check "$name: the screenshot is 1400 px wide (got $w)" test "$w" = 1400
    sed 's|</body>|<script>(function(){var t=document.getElementById("deploy-table").getBoundingClientRect();document.body.setAttribute("data-layout",[Math.round(t.top),Math.round(t.bottom),Math.round(t.right),window.innerWidth,window.innerHeight].join(" "));})();</script></body>|' \
        "$html" >"$tmp/$name-probe.html"
    chrome --dump-dom "file://$tmp/$name-probe.html" >"$tmp/$name-dom.html"
    read -r top bottom right vw vh <<<"$(grep -o 'data-layout="[^"]*"' "$tmp/$name-dom.html" | tr -d '"' | cut -d= -f2)"
    check "$name: the deploy table is in the first viewport (rows $top..$bottom px of $vh, right edge $right of $vw)" \
        test -n "$vh" -a "${top:-9999}" -ge 0 -a "${bottom:-9999}" -le "${vh:-0}" -a "${right:-9999}" -le "${vw:-0}"
    check "$name: page one states the rule and the budgets" \
        bash -c "grep -q 'Deploy choice: per (GPU, app)' '$html' && grep -q 'Budgets used:' '$html'"

    # Page 1 of the PDF: rendered, and its text has the header and every row.
    pdftoppm -png -r 60 -f 1 -l 1 "$pdf" "$ART/$name-pdf-page1"
    check "$name: pdftoppm renders page 1" bash -c "ls '$ART/$name-pdf-page1'*.png >/dev/null"
    pdftotext -layout -f 1 -l 1 "$pdf" "$tmp/$name-p1.txt"
    check "$name: PDF page 1 has the deploy table's header (no cut 'Clock MH')" \
        bash -c "grep -q 'Which clock to set' '$tmp/$name-p1.txt' && grep -q 'Set SM' '$tmp/$name-p1.txt' && grep -q 'Verdict' '$tmp/$name-p1.txt' && ! grep -q 'Clock MH\$' '$tmp/$name-p1.txt'"
    local missing=0 g a f v
    while read -r g a f v; do
        if [ "$v" = deployable ]; then
            grep -Eq "^ *$g +$a +$f +.*deployable" "$tmp/$name-p1.txt" || missing=$((missing + 1))
        else
            grep -Eq "^ *$g +$a +keep default +.*${v%% *}" "$tmp/$name-p1.txt" || missing=$((missing + 1))
        fi
    done <"$tmp/$name.exp"
    check "$name: every deploy row is on PDF page 1 with its clock and verdict ($missing missing)" \
        test "$missing" = 0

    # run's stdout: the same table.
    missing=0
    while read -r g a f v; do
        if [ "$v" = deployable ]; then
            grep -Eq "^$g +$a +$f +.* deployable$" "$out" || missing=$((missing + 1))
        else
            grep -Eq "^$g +$a +keep default +.* $v$" "$out" || missing=$((missing + 1))
        fi
    done <"$tmp/$name.exp"
    check "$name: run prints the same deploy table ($missing rows differ)" test "$missing" = 0
}

# The demo: `make demo` (scripts/demo.sh) runs this.
fp run --constraints ai-inference-energy -o "$tmp/demo" >"$tmp/demo.out" 2>"$tmp/demo.err"
check "demo: run exit 0" test $? -eq 0
fp -q optimize "$tmp/demo/runs.csv" --objective energy --constraints ai-inference-energy \
    --max-slowdown none,0.05 -o "$tmp/demo-exp.json"
page_one demo "$tmp/demo" "$tmp/demo-exp.json" "$tmp/demo.out"
check "demo: labelled SIMULATED DATA (page, PDF page 1, stdout)" \
    bash -c "grep -q 'SIMULATED DATA' '$tmp/demo/report.html' && grep -q 'SIMULATED DATA' '$tmp/demo-p1.txt' && grep -q 'SIMULATED DATA' '$tmp/demo.out'"
check "demo: the original project's budgets are stated (llama 15 %, stablediffusion 30 %, vit 50 %, whisper 40 %)" \
    bash -c "grep -q 'llama 15 %, lstm 5 % (default), stablediffusion 30 %, vit 50 %, whisper 40 %' '$tmp/demo/report.html'"

M=$REAL/ai-inference-energy/measured_runs.csv
if [ -f "$M" ]; then
    fp run "$M" -o "$tmp/real" >"$tmp/real.out" 2>"$tmp/real.err"
    check "measured_runs.csv: run exit 0" test $? -eq 0
    fp -q optimize "$M" --objective energy --max-slowdown 0.05 -o "$tmp/real-exp.json"
    page_one real "$tmp/real" "$tmp/real-exp.json" "$tmp/real.out"
    # optimize's warnings on the same data, printed by run too (once each)
    fp optimize "$M" --objective energy,edp,ed2p,time --max-slowdown none,0.05,0.10 \
        >/dev/null 2>"$tmp/opt.err"
    check "measured_runs.csv: run prints optimize's warnings ($(grep -c '^warning' "$tmp/opt.err") of them)" \
        bash -c "test \$(grep -c '^warning' '$tmp/opt.err') -gt 0 && cmp -s <(grep '^warning' '$tmp/opt.err' | sort -u) <(grep '^warning' '$tmp/real.err' | sort -u)"
    check "measured_runs.csv: not labelled simulated" bash -c "! grep -q 'SIMULATED DATA' '$tmp/real/report.html'"
else
    echo "# skip: real data not found (set FREQPILOT_DATA_DIR): measured_runs.csv checks skipped"
fi
done_testing
