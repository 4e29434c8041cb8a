#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# freqpilot run: with no input, a simulated sweep through the whole pipeline, labelled
# simulated; on measured_runs.csv, recommendations identical to `freqpilot optimize`, and the
# A100 ViT/Whisper data-quality findings in the summary.
. "$(dirname "$0")/lib.sh"

# A smaller sweep than the default (every 4th clock, two workloads) keeps the test short.
cat >"$tmp/run.ini" <<'INI'
[run]
objectives = energy,edp
max_slowdown = none,0.05
[simulate]
gpus = A100,H100
workloads = vit,llama
runs = 3
clock_step = 4
INI
"$FP" -q run -o "$tmp/sim" --config "$tmp/run.ini" --runs 2
check "simulated run: exit 0" test $? -eq 0
check "simulated run: --runs 2 overrides the config (repetitions 1 and 2 only)" \
    test "$(cut -d, -f5 "$tmp/sim/runs.csv" | tail -n +2 | sort -u | tr '\n' ' ')" = "1 2 "
for f in runs.csv aggregated.csv optimal.json pareto.json report.html report.pdf commands.txt; do
    check "simulated run: $f written" test -s "$tmp/sim/$f"
done
check "simulated run: figures as PNG and SVG" \
    bash -c "ls '$tmp/sim/figures/'sweep-A100-vit.png '$tmp/sim/figures/'heatmap-H100.svg >/dev/null"
check "simulated run: 2 GPUs x 2 apps x 2 objectives x 2 budgets = 16 recommendations" \
    test "$(grep -o '"objective"' "$tmp/sim/optimal.json" | wc -l)" = 16
check "simulated run: the HTML says simulated" grep -q "SIMULATED DATA" "$tmp/sim/report.html"
pages=$(pdfinfo "$tmp/sim/report.pdf" | awk '/^Pages:/ { print $2 }')
missing=0
for i in $(seq 1 "$pages"); do
    pdftotext -f "$i" -l "$i" "$tmp/sim/report.pdf" - | grep -q "SIMULATED DATA" || missing=$((missing + 1))
done
check "simulated run: SIMULATED DATA on all $pages PDF pages" test "$missing" = 0
check "simulated run: commands.txt lists the optimize command" grep -q '^freqpilot optimize ' "$tmp/sim/commands.txt"
check "simulated run: model fit writes the curves the report reads" \
    bash -c "test -s '$tmp/sim/model-curves.json' && grep -q '^freqpilot model fit .* --curves .*model-curves.json' '$tmp/sim/commands.txt' && grep -q '^freqpilot report .*model-curves.json' '$tmp/sim/commands.txt'"
for p in A100-vit A100-llama H100-vit H100-llama; do
    check "simulated run: model figure for $p (PNG and SVG)" \
        test -s "$tmp/sim/figures/model-$p.png" -a -s "$tmp/sim/figures/model-$p.svg"
done
check "simulated run: the HTML has the model section and the model figures" \
    bash -c "grep -q 'id=\"model\"' '$tmp/sim/report.html' && test \$(grep -c 'model vs measurements' '$tmp/sim/report.html') -ge 4"
check "simulated run: the PDF pair pages carry the model figure" \
    bash -c "pdftotext '$tmp/sim/report.pdf' - | grep -q 'model vs measurements'"
# The commands listed reproduce the outputs: rerun optimize from commands.txt.
optline=$(grep '^freqpilot optimize ' "$tmp/sim/commands.txt" | sed "s|$tmp/sim/optimal.json|$tmp/reopt.json|")
eval "\"\$FP\" -q ${optline#freqpilot }"
check "simulated run: the listed optimize command gives optimal.json byte for byte" \
    cmp -s "$tmp/reopt.json" "$tmp/sim/optimal.json"
"$FP" run --config "$tmp/nonexistent.ini" -o "$tmp/x" 2>/dev/null
check "missing config: exit 1" test $? -eq 1

M=$REAL/ai-inference-energy/measured_runs.csv
if [ ! -f "$M" ]; then
    echo "# skip: real data not found (set FREQPILOT_DATA_DIR) - real-data checks skipped"
    done_testing
fi
"$FP" -q run "$M" -o "$tmp/real"
check "real run: exit 0" test $? -eq 0
"$FP" -q optimize "$M" --objective energy,edp,ed2p,time --max-slowdown none,0.05,0.10 -o "$tmp/opt.json"
check "real run: optimal.json identical to freqpilot optimize on the same data" \
    cmp -s "$tmp/opt.json" "$tmp/real/optimal.json"
clock=$(python3 -c "import json; r=[x for x in json.load(open('$tmp/opt.json'))['results'] if x['gpu']=='A100' and x['app']=='vit' and x['objective']=='energy' and x['max_slowdown'] is None][0]; print('%.0f' % r['freq_mhz'])" 2>/dev/null)
check "real run: the report shows optimize's A100 vit clock ($clock MHz)" \
    bash -c "pdftotext -f 1 -l 2 '$tmp/real/report.pdf' - | grep -q 'vit' && grep -q '<td class=\"n\">$clock</td>' '$tmp/real/report.html'"
summary=$(pdftotext -f 1 -l 2 "$tmp/real/report.pdf" -)
check "real run: the summary flags A100 vit" bash -c "grep -q 'A100 vit: not_clock_bound' <<<\"\$0\"" "$summary"
check "real run: the summary flags A100 whisper" bash -c "grep -q 'A100 whisper: not_clock_bound' <<<\"\$0\"" "$summary"
# The ~70 % ViT "savings" are not presented as a DVFS effect in any recommendation row.
check "real run: A100 vit rows say suspect (or no change), never deployable" \
    bash -c "pdftotext -layout '$tmp/real/report.pdf' - | grep -E '^ *A100 +vit +energy' | grep -q 'suspect: not a DVFS effect' &&
             ! pdftotext -layout '$tmp/real/report.pdf' - | grep -E '^ *A100 +vit +energy' | grep -q 'deployable'"
check "real run: the report has the validation run computed" \
    bash -c "grep -q 'id=\"validation\"' '$tmp/real/report.html' && pdftotext '$tmp/real/report.pdf' - | grep -q '^Validation'"
check "real run: not labelled simulated" bash -c "! grep -q 'SIMULATED DATA' '$tmp/real/report.html'"
check "real run: the model section says H100 vit time is not explained by the clock" \
    bash -c "grep -q '<tr><td>H100</td><td>vit</td><td>none: time not explained by the clock' '$tmp/real/report.html'"
check "real run: model figures" test -s "$tmp/real/figures/model-A100-llama.png"
"$FP" -q pareto "$M" --format json -o "$tmp/pareto.json"
check "real run: pareto.json identical to freqpilot pareto" cmp -s "$tmp/pareto.json" "$tmp/real/pareto.json"
done_testing
