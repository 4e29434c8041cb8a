#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# A report of one raw telemetry file at one clock: every heatmap cell is empty, and the report
# is still written (once, it looped forever on the colour bar of an all-empty heatmap).
. "$(dirname "$0")/lib.sh"
fp sim run --gpu A100 --workload llama --clock 1005 -o "$tmp/t.csv"
rc=$(status timeout 60 "$FP" report "$tmp/t.csv" -o "$tmp/rep")
check "report of one clock ends with exit 0 (rc $rc: $(tail -2 "$tmp/err"))" test "$rc" -eq 0
check "report.html written" test -s "$tmp/rep/report.html"
check "report.pdf written" test -s "$tmp/rep/report.pdf"
done_testing
