#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# freqpilot validate: a clean recommendation passes, a doctored one fails with the reason,
# --warn-only reports without failing, -o writes the checks.
. "$(dirname "$0")/lib.sh"
TD=$DATA
agg=$TD/optimize/clean_agg.csv

"$FP" -q optimize "$agg" --objective energy --max-slowdown 0.05 -o "$tmp/opt.json"
check "optimize on the clean fixture: exit 0" test $? -eq 0
check "clean: chooses 1200 MHz (energy 1500 J at 3 % slowdown)" grep -q '"freq_mhz": 1200' "$tmp/opt.json"
"$FP" validate "$agg" "$tmp/opt.json" -o "$tmp/val.json" >"$tmp/val.txt" 2>&1
check "clean: validate exit 0" test $? -eq 0
check "clean: verdict deployable" grep -q "toy energy.*: deployable" "$tmp/val.txt"
check "clean: the saving test shows a p-value" grep -q "saving.*p = " "$tmp/val.txt"
check "clean: -o JSON with the checks" \
    bash -c "grep -q '\"clock_dependence\"' '$tmp/val.json' && grep -q '\"verdict\": \"deployable\"' '$tmp/val.json' && grep -q '\"status\": \"pass\"' '$tmp/val.json'"

# Doctored: claim 1100 MHz (slowdown 12 %) under a 5 % budget.
sed 's/"freq_mhz": 1200/"freq_mhz": 1100/' "$tmp/opt.json" >"$tmp/bad.json"
"$FP" validate "$agg" "$tmp/bad.json" >"$tmp/bad.txt" 2>&1
check "doctored: validate exit 1" test $? -eq 1
check "doctored: the budget check fails" grep -q "fail budget" "$tmp/bad.txt"
check "doctored: verdict insufficient data, saying why" \
    grep -q "toy energy.*1100 MHz.*: insufficient data" "$tmp/bad.txt"
"$FP" validate --warn-only "$agg" "$tmp/bad.json" >/dev/null 2>&1
check "doctored --warn-only: exit 0" test $? -eq 0

# A workload whose time does not scale with the clock.
"$FP" -q optimize "$TD/optimize/flat_agg.csv" --objective energy --max-slowdown 0.05 -o "$tmp/flat.json"
"$FP" validate --warn-only "$TD/optimize/flat_agg.csv" "$tmp/flat.json" >"$tmp/flat.txt" 2>&1
check "flat: says the workload is host-, I/O- or memory-bound" grep -q "host-, I/O- or memory-bound" "$tmp/flat.txt"

"$FP" validate "$agg" >/dev/null 2>&1
check "usage: missing OPTIMAL.json -> exit 2" test $? -eq 2
echo '{"results": 3}' >"$tmp/junk.json"
"$FP" validate "$agg" "$tmp/junk.json" >/dev/null 2>"$tmp/junk.err"
check "junk JSON -> exit 1" test $? -eq 1
check "junk JSON: the message names the file" grep -q junk.json "$tmp/junk.err"
done_testing
