#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The original project's budgets as a preset (--constraints ai-inference-energy) in optimize,
# pareto, plot, report and run, the same choice everywhere and stated on the page; the
# impact's assumptions from options and the run config; the simulated label following a
# dataset recorded with --backend sim into every output made from it; a folder with one clock
# gives one line, not a table of zeros.
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || skip_all "jq not installed (scripts/install-deps.sh)"
command -v pdftotext >/dev/null || skip_all "poppler-utils not installed (scripts/install-deps.sh)"

fp -q profile --backend sim --gpu A100 --workload whisper --clocks 600:1410:45 --runs 3 \
    --out "$tmp/ds"
check "profile (sim): exit 0" test $? -eq 0

# ---- budgets: the preset by name, the same choice in every command ----
fp -q optimize "$tmp/ds" --constraints ai-inference-energy -o "$tmp/opt.json"
check "optimize --constraints ai-inference-energy: whisper's budget is the original's 40 % (batch-processing)" \
    test "$(jq -r '.results[0] | "\(.max_slowdown) \(.category)"' "$tmp/opt.json")" = "0.4 batch-processing"
clock=$(jq -r '.results[0].freq_mhz | round' "$tmp/opt.json")
saving=$(jq -r '.results[0].energy_saving' "$tmp/opt.json")
fp -q optimize "$tmp/ds" --max-slowdown 0.4 -o "$tmp/opt40.json"
check "...the same clock as --max-slowdown 0.4 ($clock MHz)" \
    test "$(jq -r '.results[0].freq_mhz | round' "$tmp/opt40.json")" = "$clock"
fp -q pareto "$tmp/ds" --constraints ai-inference-energy --format json -o "$tmp/pareto.json"
check "pareto --constraints: the energy choice is optimize's" \
    test "$(jq -r '.curves[0].choices.energy | round' "$tmp/pareto.json")" = "$clock"
fp pareto "$tmp/ds" --constraints ai-inference-energy --max-slowdown 0.05 >/dev/null 2>&1
check "pareto: --constraints with --max-slowdown is a usage error" test $? -eq 2
fp -q plot savings "$tmp/ds" --constraints ai-inference-energy --data >"$tmp/savings.csv"
# (panel,series,x,y,lo,hi: the series name holds a comma, so fields count from the end)
check "plot savings --constraints: the constrained bar is optimize's saving" \
    bash -c "grep '^0,\"Constrained (each app.s budget, ai-inference-energy)\"' '$tmp/savings.csv' |
        awk -F, -v s='$saving' '{ d = \$(NF - 2) - s; if (d < 0) d = -d; if (d < 1e-9) ok = 1 } END { exit !ok }'"
check "plot savings --constraints: no empty 'Unconstrained' series ('none' is each app's budget)" \
    bash -c "! grep -q Unconstrained '$tmp/savings.csv'"
fp -q plot pareto "$tmp/ds" --constraints ai-inference-energy -o "$tmp/pareto.pdf"
check "plot pareto --constraints: the choice within 40 %, labelled with its clock" \
    bash -c "pdftotext '$tmp/pareto.pdf' - | grep -q 'Choice (.40% slower)' && pdftotext '$tmp/pareto.pdf' - | grep -q '^$clock MHz'"
fp -q report "$tmp/ds" --constraints ai-inference-energy -o "$tmp/rep"
check "report --constraints: the budgets used are stated" \
    grep -q 'Budgets used: preset ai-inference-energy (built in): whisper 40 %' "$tmp/rep/report.html"
check "report --constraints: the deploy row is optimize's choice" \
    grep -q "data-app=\"whisper\" data-clock=\"$clock\"" "$tmp/rep/report.html"
for cmd in optimize pareto report; do
    fp $cmd "$tmp/ds" --constraints no-such-preset -o "$tmp/x-$cmd" >/dev/null 2>"$tmp/err"
    check "$cmd --constraints no-such-preset: exit 1 listing the presets" \
        bash -c "test $? -eq 1 && grep -q 'no preset of that name (presets: ai-inference-energy)' '$tmp/err'"
done

# ---- run: the preset and the impact's assumptions from the config; options override ----
cat >"$tmp/run.ini" <<'INI'
[run]
objectives = energy
max_slowdown = none
constraints = ai-inference-energy
[impact]
utilisation = 80%
price_per_kwh = 0.25
currency = EUR
grid_gco2_per_kwh = 100
INI
fp run "$tmp/ds" --config "$tmp/run.ini" --gpus 4 -o "$tmp/run" >"$tmp/run.out" 2>"$tmp/run.err"
check "run --config (constraints, [impact]): exit 0" test $? -eq 0
check "run: the deploy table on stdout names the preset's budget" \
    grep -Eq "^A100 +whisper +$clock .*40 % \(ai-inference-energy: batch-processing\) +deployable" "$tmp/run.out"
check "run: optimize got --constraints (commands.txt)" \
    grep -q '^freqpilot optimize .*--constraints ai-inference-energy' "$tmp/run/commands.txt"
check "run: the report line reproduces the budgets and the assumptions" \
    grep -q '^freqpilot report .*--constraints ai-inference-energy --utilisation 0.8 --price 0.25 --currency .EUR. --grid-intensity 100 --gpus 4' "$tmp/run/commands.txt"
check "run: the page states the assumptions (80 %, 0.25 EUR/kWh, 100 g, 4 GPUs)" \
    grep -q '80 % of the year (7008 h) at the baseline clock on 4 GPUs.*0.25 EUR/kWh; grid 100 g CO2e/kWh' "$tmp/run/report.html"
# kWh a year = 0.8 x 8760 h x P_base x saving x 4 GPUs / 1000, P_base from optimize's estimates
want=$(jq -r '.results[0] | (.energy_j / (1 - .energy_saving)) / (.time_s / (1 + .slowdown)) * .energy_saving * 0.8 * 8760 * 4 / 1000 | round' "$tmp/run/optimal.json")
check "run: the kWh a year on stdout are the stated arithmetic ($want kWh)" \
    grep -q "^# worth a year: $want kWh" "$tmp/run.out"
fp run "$tmp/ds" --utilisation 2 -o "$tmp/bad" >/dev/null 2>&1
check "run --utilisation 2: usage error" test $? -eq 2
fp report "$tmp/ds" --price=-1 -o "$tmp/bad" >/dev/null 2>&1
check "report --price -1: usage error" test $? -eq 2

# ---- the simulated label follows the data ----
check "profile --backend sim: the manifest says \"simulated\": true" \
    jq -e '.simulated == true' "$tmp/ds/manifest.json" >/dev/null
fp -q aggregate "$tmp/ds" -o "$tmp/agg.csv"
check "aggregated.csv: the device name says (simulated)" \
    bash -c "tail -n +2 '$tmp/agg.csv' | grep -q '(simulated)'"
check "optimize JSON: \"simulated\": true" jq -e '.simulated == true' "$tmp/opt.json" >/dev/null
fp optimize "$tmp/agg.csv" >"$tmp/opt.txt" 2>/dev/null
check "optimize's table on aggregated.csv: SIMULATED DATA" grep -q '^# SIMULATED DATA' "$tmp/opt.txt"
check "pareto JSON: \"simulated\": true" jq -e '.simulated == true' "$tmp/pareto.json" >/dev/null
check "validate JSON (run's): \"simulated\": true" jq -e '.simulated == true' "$tmp/run/validation.json" >/dev/null
# (figures as PDF: their text can be read back)
fp -q plot sweep "$tmp/agg.csv" -o "$tmp/sweep.pdf"
check "plot of aggregated.csv without --simulated: SIMULATED DATA" \
    bash -c "pdftotext '$tmp/sweep.pdf' - | grep -q 'SIMULATED DATA'"
run1=$(find "$tmp/ds" -name run.json | head -1)
fp -q plot timeseries "$(dirname "$run1")" -o "$tmp/ts.pdf"
check "plot timeseries of a simulated run: SIMULATED DATA" \
    bash -c "pdftotext '$tmp/ts.pdf' - | grep -q 'SIMULATED DATA'"
fp -q report "$tmp/agg.csv" -o "$tmp/rep2"
check "report of aggregated.csv without --simulated: the HTML says SIMULATED DATA" \
    grep -q 'SIMULATED DATA' "$tmp/rep2/report.html"
pages=$(pdfinfo "$tmp/rep2/report.pdf" | awk '/^Pages:/ { print $2 }')
missing=0
for i in $(seq 1 "$pages"); do
    pdftotext -f "$i" -l "$i" "$tmp/rep2/report.pdf" - | grep -q "SIMULATED DATA" || missing=$((missing + 1))
done
check "...and every one of its $pages PDF pages" test "$missing" = 0
check "run of the dataset: stdout and the report say SIMULATED DATA" \
    bash -c "grep -q '^# SIMULATED DATA' '$tmp/run.out' && grep -q 'SIMULATED DATA' '$tmp/run/report.html'"

# ---- one clock: one line ----
fp -q profile --backend sim --gpu A100 --workload vit --clocks 1410 --runs 3 --out "$tmp/one"
fp run "$tmp/one" -o "$tmp/onerun" >"$tmp/one.out" 2>/dev/null
check "one clock: run exit 0" test $? -eq 0
check "one clock: run prints one line, no table" \
    bash -c "test \$(grep -vc '^#' '$tmp/one.out') = 1 && grep -q '^Nothing to optimise: one clock measured (1410 MHz)' '$tmp/one.out'"
check "one clock: page one says so, with no deploy table and no table of zeros" \
    bash -c "grep -q 'id=\"nothing\"' '$tmp/onerun/report.html' && ! grep -q 'id=\"deploy-table\"' '$tmp/onerun/report.html' && ! grep -q 'id=\"all-recommendations\"' '$tmp/onerun/report.html'"
check "one clock: PDF page 1 says so" \
    bash -c "pdftotext -f 1 -l 1 '$tmp/onerun/report.pdf' - | grep -q 'Nothing to optimise: one clock measured'"
done_testing
