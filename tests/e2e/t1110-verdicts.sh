#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# One verdict per recommendation, the same everywhere: optimize's table, its JSON and CSV,
# validate (text and JSON), and the report `freqpilot run` writes (which also carries the
# validation run computed); the deploy script applies only deployable recommendations unless
# --force, and says why it skips the others.
. "$(dirname "$0")/lib.sh"
command -v jq >/dev/null || skip_all "jq not installed (scripts/install-deps.sh)"

# A simulated sweep (A100 whisper, 19 clocks x 3 runs) and the real one when present.
fp -q profile --backend sim --gpu A100 --workload whisper --clocks 600:1410:45 --runs 3 \
    --out "$tmp/ds"
check "profile (sim): exit 0" test $? -eq 0
inputs=("$tmp/ds")
[ -f "$REAL/ai-inference-energy/measured_runs.csv" ] &&
    inputs+=("$REAL/ai-inference-energy/measured_runs.csv")

for input in "${inputs[@]}"; do
    name=$(basename "$input")
    out=$tmp/run-$name
    fp -q run "$input" -o "$out"
    check "$name: run exit 0" test $? -eq 0
    json=$out/optimal.json
    nres=$(jq '.results | length' "$json")
    check "$name: optimal.json has results ($nres)" test "$nres" -gt 0
    jq -r '.results[] | .verdict' "$json" >"$tmp/v_json"
    check "$name: every result has a verdict and its reason" \
        test "$(jq '[.results[] | select(.verdict == null or .verdict_reason == null)] | length' \
            "$json")" -eq 0

    # optimize's table on stdout, the same options as run's optimize stage
    fp optimize "$input" --objective energy,edp,ed2p,time --max-slowdown none,0.05,0.10 \
        >"$tmp/table" 2>/dev/null
    pos=$(grep '^gpu ' "$tmp/table" | awk '{ print index($0, "verdict") }')
    grep -E '^[A-Za-z0-9]' "$tmp/table" | grep -v '^gpu ' | cut -c"$pos-$((pos + 26))" |
        sed 's/ *$//' >"$tmp/v_table"
    check "$name: optimize table: the same verdicts, row by row" cmp -s "$tmp/v_json" "$tmp/v_table"

    # optimize's CSV
    fp -q optimize "$input" --objective energy,edp,ed2p,time --max-slowdown none,0.05,0.10 \
        --format csv -o "$tmp/opt.csv"
    vc=$(csvcol "$tmp/opt.csv" verdict)
    check "$name: CSV has verdict and verdict_reason columns" \
        test -n "$vc" -a -n "$(csvcol "$tmp/opt.csv" verdict_reason)"
    tail -n +2 "$tmp/opt.csv" | cut -d, -f"$vc" | tr -d '"' >"$tmp/v_csv"
    check "$name: optimize CSV: the same verdicts" cmp -s "$tmp/v_json" "$tmp/v_csv"

    # validate, from the JSON run wrote, and run's own validation.json
    fp validate "$input" "$json" --warn-only >"$tmp/val.txt" 2>/dev/null
    grep -E '^[A-Za-z0-9].* MHz vs baseline ' "$tmp/val.txt" | sed 's/.* MHz: //' >"$tmp/v_val"
    check "$name: validate: the same verdicts" cmp -s "$tmp/v_json" "$tmp/v_val"
    jq -r '.validations[] | .verdict' "$out/validation.json" >"$tmp/v_valjson"
    check "$name: run's validation.json: the same verdicts" cmp -s "$tmp/v_json" "$tmp/v_valjson"
    check "$name: validate's reasons are optimize's" \
        cmp -s <(jq -r '.results[] | .verdict_reason' "$json") \
        <(jq -r '.validations[] | .verdict_reason' "$out/validation.json")

    # the report: the appendix of every recommendation, and of every validation
    html=$out/report.html
    sed -n '/id="all-recommendations"/,/<\/table>/p' "$html" |
        grep -o '<td class="\(ok\|warn\)">[^<]*' | sed 's/.*">//' >"$tmp/v_report"
    check "$name: report appendix: the same verdicts" cmp -s "$tmp/v_json" "$tmp/v_report"
    sed -n '/id="all-validations"/,/<\/table>/p' "$html" |
        grep -o '<td class="\(ok\|warn\)">[^<]*' | sed 's/.*">//' >"$tmp/v_rval"
    check "$name: report validation appendix: the same verdicts" cmp -s "$tmp/v_json" "$tmp/v_rval"
    # page one: the deploy table's verdicts are optimize's for energy within 5 %
    jq -r '.results[] | select(.objective == "energy" and .max_slowdown == 0.05) |
        "\(.gpu) \(.app) \(.verdict)"' "$json" >"$tmp/v_deploy_json"
    grep -o 'data-gpu="[^"]*" data-app="[^"]*" data-clock="[^"]*" data-verdict="[^"]*"' "$html" |
        sed 's/data-gpu="\([^"]*\)" data-app="\([^"]*\)" data-clock="[^"]*" data-verdict="\([^"]*\)"/\1 \2 \3/' \
            >"$tmp/v_deploy"
    check "$name: report page one: the deploy rows carry optimize's verdicts" \
        cmp -s "$tmp/v_deploy_json" "$tmp/v_deploy"
    check "$name: report PDF has the validation section" \
        bash -c "pdftotext '$out/report.pdf' - | grep -q '^Validation'"
done

# The deploy script: only deployable rows become apply lines.
fp -q optimize "$tmp/ds" --objective time --deploy-script "$tmp/deploy.sh"
check "deploy (time: no change): the row is not applied" \
    bash -c "! grep -q 'apply --backend' '$tmp/deploy.sh' && grep -q 'not applied: no significant saving' '$tmp/deploy.sh'"
FREQPILOT=$FP FREQPILOT_BACKEND=sim FREQPILOT_STATE_DIR=$tmp/state sh "$tmp/deploy.sh" A100/whisper \
    >/dev/null 2>"$tmp/dep.err"
check "deploy: running it for that row exits 1 and says why" \
    bash -c "test $? -eq 1 && grep -q 'no change' '$tmp/dep.err'"
fp -q optimize "$tmp/ds" --objective energy --deploy-script "$tmp/deploy2.sh"
clock=$(fp -q optimize "$tmp/ds" --objective energy -o - | jq -r '.results[0].freq_mhz | floor')
check "deploy (energy: deployable): applies $clock MHz" \
    grep -q "apply --backend \"\$BACKEND\" --gpu \"\$gpu\" --clock $clock ;;" "$tmp/deploy2.sh"
FREQPILOT=$FP FREQPILOT_BACKEND=sim FREQPILOT_STATE_DIR=$tmp/state sh "$tmp/deploy2.sh" \
    A100/whisper sim:A100 >"$tmp/dep2.out" 2>&1
check "deploy: the deployable row locks the clock" grep -q "at $clock MHz" "$tmp/dep2.out"
fp restore --state-dir "$tmp/state" >/dev/null 2>&1
fp -q optimize "$tmp/ds" --objective time --deploy-script "$tmp/deploy3.sh" --force
check "deploy --force: every row is applied" grep -q 'clock 1410 # forced ;;' "$tmp/deploy3.sh"
done_testing
