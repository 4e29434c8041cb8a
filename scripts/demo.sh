#!/bin/sh
# make demo: `freqpilot run` with no input sweeps the simulated V100, A100 and H100 over the
# built-in workloads (the original project's applications) and runs the whole pipeline into
# OUT (report.html, report.pdf, figures, CSV/JSON) under the original project's slowdown
# budgets (the ai-inference-energy preset). Everything it writes is labelled SIMULATED DATA.
# Page one of the PDF is then rendered to OUT/page1.png and to docs/img/report-page1.png, the
# image docs/report.md shows (pdftoppm, poppler-utils).
set -eu
bin=$1
out=$2
"$bin" run --constraints ai-inference-energy -o "$out"
echo "demo: report (SIMULATED DATA) in $out/report.html and $out/report.pdf"
echo "demo: figures in $out/figures/, data in $out/*.csv and $out/*.json"
if command -v pdftoppm >/dev/null 2>&1; then
    pdftoppm -png -r 72 -f 1 -l 1 -singlefile "$out/report.pdf" "$out/page1"
    docs=$(dirname "$0")/../docs/img
    if [ -d "$docs" ]; then
        cp "$out/page1.png" "$docs/report-page1.png"
        echo "demo: page one of the PDF in $out/page1.png (and docs/img/report-page1.png)"
    else
        echo "demo: page one of the PDF in $out/page1.png"
    fi
fi
