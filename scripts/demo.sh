#!/bin/sh
# make demo: `freqpilot run` with no input sweeps the simulated V100, A100 and H100 over the
# built-in workloads and runs the whole pipeline into OUT (report.html, report.pdf, figures,
# CSV/JSON). Everything it writes is labelled SIMULATED DATA.
set -eu
bin=$1
out=$2
"$bin" run -o "$out"
echo "demo: report (SIMULATED DATA) in $out/report.html and $out/report.pdf"
echo "demo: figures in $out/figures/, data in $out/*.csv and $out/*.json"
