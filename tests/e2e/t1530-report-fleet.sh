#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# A fleet's report: 600 (GPU, app) pairs. Its tables list the first FP_REPORT_LIST_PAIRS_MAX
# (500) pairs and its workload cards the first FP_REPORT_PAIRS_MAX (100), each saying how many
# it left out, while the summaries count all 600 (before, every table and card grew with the
# fleet: minutes and gigabytes at 10^6 runs).
. "$(dirname "$0")/lib.sh"
command -v pdftotext >/dev/null || skip_all "poppler-utils not installed (scripts/install-deps.sh)"

# 120 GPUs x 5 apps x 4 clocks x 3 runs; energy falls with the clock (the lowest saves).
awk 'BEGIN {
    srand(11)
    print "gpu,workload,freq_mhz,run_index,repetition,time_s,avg_power_w,energy_j"
    for (g = 0; g < 120; g++) for (a = 0; a < 5; a++) {
        pos = 0
        for (r = 1; r <= 3; r++) for (c = 0; c < 4; c++) {
            f = 1410 - 200 * c
            t = (10 + a) * (0.7 + 0.3 * 1410 / f) * (1 + 0.004 * (rand() - 0.5))
            p = 100 + 200 * (f / 1410) ^ 2 * (1 + 0.004 * (rand() - 0.5))
            printf "N%03d,app%d,%d,%d,%d,%.4f,%.3f,%.3f\n", g, a, f, ++pos, r, t, p, t * p
        }
    }
}' >"$tmp/runs.csv"
fp -q report "$tmp/runs.csv" -o "$tmp/out" 2>"$tmp/err"
check "report of 600 pairs: exit 0" test $? -eq 0
H=$tmp/out/report.html
pdftotext -layout "$tmp/out/report.pdf" "$tmp/report.txt"
check "page one's deploy table lists 500 rows" \
    test "$(grep -c '<tr class="row ' "$H")" -eq 500
check "... the first 500 pairs in the data's order (N099 app4 last, no N100)" \
    bash -c "grep -q 'data-gpu=\"N099\" data-app=\"app4\"' '$H' && ! grep -q 'data-gpu=\"N100\"' '$H'"
check "... and says that 100 are left out and where they all are" \
    grep -q 'Listed: the first 500 of 600 (GPU, app) pairs (100 left out); every total above counts them all, and optimal.json holds every one' "$H"
check "the summary counts all 600 pairs" grep -Eq '(All 600|of 600)</b>? \(GPU, app\) choices|600 \(GPU, app\) choices' "$H"
check "100 workload cards, and the note for the 500 without one" \
    bash -c "test \$(grep -c '<div class=\"card\">' '$H') -eq 100 && grep -q 'the first 100 of 600 (GPU, app) pairs (500 left out)' '$H'"
appendix_pairs=$(sed -n '/id="all-recommendations"/,/<\/table>/p' "$H" | grep -o '<tr><td>N[0-9]*</td><td>app[0-9]' | sort -u | wc -l)
check "the appendix lists the recommendations of the same 500 pairs ($appendix_pairs)" test "$appendix_pairs" -eq 500
check "the PDF says the same" \
    bash -c "tr -s ' \n' ' ' <'$tmp/report.txt' | grep -q 'Listed: the first 500 of 600 (GPU, app) pairs (100 left out)'"
check "the PDF's deploy table stops at N099 (no N100 row before the cards)" \
    bash -c "! sed -n '1,/^ *Workloads/p' '$tmp/report.txt' | grep -q '^ *N100 '"
done_testing
