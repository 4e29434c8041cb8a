#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# freqpilot report: the PDF opens with the expected page count, every page says SIMULATED DATA
# when asked, the HTML is self-contained and loads in headless Chromium.
. "$(dirname "$0")/lib.sh"
TD=$DATA

R=$TD/report
"$FP" -q report "$R/aggregated.csv" "$R/optimal.json" "$R/model-curves.json" -o "$tmp/out" --simulated \
    --command "freqpilot report aggregated.csv optimal.json -o out"
check "exit 0" test $? -eq 0
pdf=$tmp/out/report.pdf
html=$tmp/out/report.html
# 1 GPU, 2 (gpu, app) pairs: the decision, the workload cards, overview, heatmaps, 2 pair
# pages, quality, glossary (2 pages), method, appendix, reproduce.
pages=$(pdfinfo "$pdf" | awk '/^Pages:/ { print $2 }')
check "PDF has 12 pages (got $pages)" test "$pages" = 12
pdftoppm -png -r 20 "$pdf" "$tmp/pg"
check "pdftoppm renders every page" test "$(ls "$tmp"/pg*.png | wc -l)" = "$pages"
missing=0
for i in $(seq 1 "$pages"); do
    pdftotext -f "$i" -l "$i" "$pdf" - | grep -q "SIMULATED DATA" || missing=$((missing + 1))
done
check "SIMULATED DATA on every page" test "$missing" = 0
check "the reproduce command is in the PDF" bash -c "pdftotext '$pdf' - | grep -q 'freqpilot report aggregated.csv optimal.json -o out'"
check "page one shows the deploy choice (energy within 5 %: 1200 MHz) and its interval" \
    bash -c "pdftotext -f 1 -l 1 '$pdf' - | grep -q '15.0 % \[10.0, 19.0\]' && pdftotext -f 1 -l 1 '$pdf' - | grep -qx '1200'"
check "the appendix has every recommendation (the unconstrained one too)" \
    bash -c "pdftotext '$pdf' - | grep -q '25.0 % \[20.0, 29.0\]'"
check "the verdict optimize gave: a saving whose interval reaches 0 is no significant saving" grep -q "no significant saving" "$html"
check "the flagged clocks are listed" bash -c "grep -q 'clock_not_held' '$html' && grep -q 'high_cv' '$html'"

check "the model section lists both curves" \
    bash -c "grep -q 'id=\"model\"' '$html' && test \$(grep -c '<tr><td>A100</td><td>' '$html') -ge 2"
check "a curve that is not clock-bound is said so, with the model's note" \
    bash -c "grep -q 'none: time not explained by the clock' '$html' && grep -q 'the fit leaves 9.0 % RMS' '$html'"
check "the model figures are in the HTML (one per pair)" \
    test "$(grep -c 'model vs measurements' "$html")" -ge 2
check "the PDF shows the model's note on the whisper page" \
    bash -c "pdftotext '$pdf' - | grep -q 'Model: time not explained by the clock'"

# Without an optimize JSON the report computes optimize's own recommendations: the same
# report as with the JSON of `freqpilot optimize` (same objective and budgets).
"$FP" -q optimize "$R/aggregated.csv" --objective energy --max-slowdown none,0.05 -o "$tmp/opt.json"
"$FP" -q report "$R/aggregated.csv" "$tmp/opt.json" -o "$tmp/with"
"$FP" -q report "$R/aggregated.csv" -o "$tmp/without"
check "report without optimize JSON = report with freqpilot optimize's JSON" \
    cmp -s "$tmp/with/report.html" "$tmp/without/report.html"
check "...and not a plain minimum: A100 vit within 5 % is optimize's choice" \
    bash -c "grep -q 'plain minimum' '$tmp/without/report.html' && exit 1; exit 0"

# A model.json (fitted parameters) instead of the curves is refused with a hint.
printf '{"format": "freqpilot-model", "version": 1, "curves": []}\n' >"$tmp/params.json"
"$FP" report "$R/aggregated.csv" "$tmp/params.json" -o "$tmp/p" 2>"$tmp/err"
check "model.json instead of the curves: exit 1 naming --curves" \
    bash -c "test $? -eq 1 && grep -q -- '--curves' '$tmp/err'"

# Self-contained: no reference to anything outside the file.
check "HTML: no external src/href" bash -c "! grep -Eiq '(src|href)=\"(https?:|//|file:)' '$html'"
check "HTML: no url() other than #fragment" bash -c "! grep -Eo 'url\([^)]*\)' '$html' | grep -vq '^url(#'"
check "HTML: no @import, <script src>, <link>" bash -c "! grep -Eiq '@import|<script[^>]*src|<link ' '$html'"
check "HTML: inline SVG figures" test "$(grep -c '<svg' "$html")" -ge 5

# Headless Chromium loads the page.
if command -v chromium >/dev/null 2>&1; then
    prof=$(mktemp -d)
    timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$prof" --dump-dom "file://$html" >"$tmp/dom.html" 2>"$tmp/chromium.err"
    rc=$?
    rm -rf "$prof"
    check "chromium: exit 0" test $rc -eq 0
    check "chromium: the DOM has the title, the summary table and the SVGs" \
        bash -c "grep -q '<h1>freqpilot report</h1>' '$tmp/dom.html' && grep -q 'id=\"deploy-table\"' '$tmp/dom.html' && test \$(grep -c '<svg' '$tmp/dom.html') -ge 5"
    check "chromium: no load errors" bash -c "! grep -Eiq 'ERR_FILE_NOT_FOUND|net::ERR|Uncaught' '$tmp/chromium.err'"
else
    echo "# skip: chromium not installed (scripts/install-deps.sh installs it)"
fi

"$FP" report "$R/optimal.json" -o "$tmp/bad" 2>"$tmp/err"
check "no aggregated data: exit 1 with a message" bash -c "test $? -eq 1 && grep -q 'no aggregated data' '$tmp/err'"
done_testing
