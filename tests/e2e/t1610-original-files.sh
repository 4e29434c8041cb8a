#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The original project's files, as its scripts write them: a v2 job folder whose
# timing_summary.log has the header in a comment, string run ids, whole-second durations and a
# timeout; its complete_aggregation.csv (read, and written by aggregate --format
# ai-inference-energy); its optimal_frequencies.json (validate, apply, report); byte-order marks.
. "$(dirname "$0")/lib.sh"

job=$DATA/aie_job/results_h100_llama_job_4444
check "the fixture's timing_summary.log has the real shape (header in a comment, string ids)" \
    grep -q '^# Format: run_id,frequency_mhz,duration_seconds,exit_code,status$' "$job/timing_summary.log"

# ---- v2 layout: per-clock times from the log, timeout and failed runs dropped with the reason
rc=$(status fp aggregate "$job" -o "$tmp/agg.csv" --dropped "$tmp/dropped.csv")
check_eval "v2 job folder: exit 0" '[ "$rc" -eq 0 ]'
t=$(csvcol "$tmp/agg.csv" time_s)
r=$(csvcol "$tmp/agg.csv" runs)
f=$(csvcol "$tmp/agg.csv" flags)
row1785=$(grep '^H100,llama,1785,' "$tmp/agg.csv")
check_eval "1785 MHz: time_s 2 s, the log's whole-second duration" \
    '[ "$(echo "$row1785" | cut -d, -f"$t")" = 2 ]'
check_eval "1785 MHz: both runs kept" '[ "$(echo "$row1785" | cut -d, -f"$r")" = 2 ]'
check_eval "1785 MHz: flagged window_from_timing and coarse_timing" \
    'echo "$row1785" | cut -d, -f"$f" | grep -q "window_from_timing" && echo "$row1785" | cut -d, -f"$f" | grep -q "coarse_timing"'
row1200=$(grep '^H100,llama,1200,' "$tmp/agg.csv")
check_eval "1200 MHz: no run kept (one timed out, one failed)" \
    '[ "$(echo "$row1200" | cut -d, -f"$r")" = 0 ]'
check "dropped: run 3_01 for its timeout (exit 124)" \
    grep -q '^H100,llama,1200,3,1,.*,timeout,.*run_3_01_freq_1200_profile.csv$' "$tmp/dropped.csv"
check "dropped: run 4_01, failed, named by its log line (no profile)" \
    grep -q '^H100,llama,1200,4,1,,,,failed,.*timing_summary.log:6$' "$tmp/dropped.csv"
check "stderr says the run timed out" grep -q "dropped the run that timed out (exit status 124)" "$tmp/err"

# ---- aggregate --format ai-inference-energy: the original's column names
rc=$(status fp aggregate "$job" --format ai-inference-energy -o "$tmp/complete_aggregation.csv")
check_eval "--format ai-inference-energy: exit 0" '[ "$rc" -eq 0 ]'
check "--format ai-inference-energy: the original's header" test "$(head -1 "$tmp/complete_aggregation.csv")" = \
    "gpu,application,frequency,avg_power,execution_time,energy,avg_gputl,avg_drama,avg_temp"
check "--format ai-inference-energy: 1785 MHz row (290 W, 2 s, 580 J, DRAM 0.3); 1200 left out" \
    test "$(tail -n +2 "$tmp/complete_aggregation.csv")" = "H100,llama,1785,290,2,580,,0.3,"
# ... and read back as a per-run table: the same clock, time and energy.
rc=$(status fp aggregate "$tmp/complete_aggregation.csv" -o "$tmp/back.csv")
check_eval "complete_aggregation.csv read back: exit 0, same time and energy" \
    '[ "$rc" -eq 0 ] && grep -q "^H100,llama,1785,1,0,2,,,580," "$tmp/back.csv"'

# ---- byte-order marks: the same numbers as without
bom=$'\xef\xbb\xbf'
{ printf '%s' "$bom"; cat "$DATA/agg/runs_small.csv"; } >"$tmp/bom_runs.csv"
fp aggregate "$DATA/agg/runs_small.csv" -q -o "$tmp/plain.csv"
rc=$(status fp aggregate "$tmp/bom_runs.csv" -o "$tmp/bom.csv")
check_eval "run table with a BOM: exit 0, the same output as without" \
    '[ "$rc" -eq 0 ] && cmp -s "$tmp/plain.csv" "$tmp/bom.csv"'
mkdir -p "$tmp/bomjob/results_h100_llama_job_4444"
for f in "$job"/*; do
    { printf '%s' "$bom"; cat "$f"; } >"$tmp/bomjob/results_h100_llama_job_4444/$(basename "$f")"
done
fp aggregate "$job" -q -o "$tmp/job_plain.csv"
rc=$(status fp aggregate "$tmp/bomjob/results_h100_llama_job_4444" -o "$tmp/job_bom.csv")
check_eval "dcgmi profiles and timing_summary.log with a BOM: exit 0, the same rows" \
    '[ "$rc" -eq 0 ] && cmp -s "$tmp/job_plain.csv" "$tmp/job_bom.csv"'
tel=$DATA/dataset/DATASET/A100/resnet/1410/1/telemetry.csv
{ printf '%s' "$bom"; cat "$tel"; } >"$tmp/bom_tel.csv"
fp aggregate "$tel" --gpu A100 --app resnet --freq 1410 -q -o "$tmp/tel_plain.csv"
rc=$(status fp aggregate "$tmp/bom_tel.csv" --gpu A100 --app resnet --freq 1410 -o "$tmp/tel_bom.csv")
check_eval "telemetry.csv with a BOM: exit 0, the same row" \
    '[ "$rc" -eq 0 ] && [ "$(tail -1 "$tmp/tel_plain.csv")" = "$(tail -1 "$tmp/tel_bom.csv")" ]'

# ---- the original project's optimal_frequencies.json (real data)
orig=$REAL/ai-inference-energy/results_json/5cffc60/optimal_frequencies.json
runs=$REAL/ai-inference-energy/measured_runs.csv
if [ -e "$orig" ] && [ -e "$runs" ]; then
    rc=$(status fp -v validate "$runs" "$orig" --warn-only -o "$tmp/validation.json")
    check_eval "validate reads the original's optimal_frequencies.json (16 recommendations)" \
        '[ "$rc" -eq 0 ] && [ "$(grep -c "\"objective\"" "$tmp/validation.json")" -eq 16 ]'
    check "validate says whose numbers they are" grep -q "the original project's recommendations" "$tmp/err"
    rc=$(status fp apply --backend sim --gpu A100 --from "$orig" --app llama --objective edp \
        --state-dir "$tmp/state")
    check_eval "apply --from the original's file: not applied as it stands (no interval, its own baseline)" \
        '[ "$rc" -eq 1 ] && grep -q "insufficient data.*the original project.s number" "$tmp/err"'
    rc=$(status fp apply --backend sim --gpu A100 --from "$orig" --app llama --objective edp \
        --state-dir "$tmp/state" --force)
    check_eval "apply --force --from the original's file: its 705 MHz, said to be the original's number" \
        '[ "$rc" -eq 0 ] && grep -q "at 705 MHz" "$tmp/out" &&
         grep -q "705 MHz is the original project.s recommendation (ai-inference-energy)" "$tmp/err"'
    rc=$(status fp report "$runs" "$orig" -o "$tmp/report")
    check_eval "report with the original's file: exit 0" '[ "$rc" -eq 0 ]'
    check "report: its own section for the original's recommendations" \
        grep -q 'id="original">The original project' "$tmp/report/report.html"
    # A100 llama, EDP: the original's 705 MHz and 83.2 %, freqpilot's own clock beside it.
    check "report: A100 llama edp row with the original's 705 MHz, its 83.2 % and freqpilot's clock" \
        grep -q '<td>A100</td><td>llama</td><td>edp</td><td class="n">705 MHz</td><td class="n">83.2 %</td><td class="n">-89.0 %</td><td class="n">[0-9]* MHz' "$tmp/report/report.html"
else
    echo "# real data not found ($orig): the optimal_frequencies.json checks are skipped"
fi

done_testing
