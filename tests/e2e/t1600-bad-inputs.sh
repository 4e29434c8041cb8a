#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The corpus of bad inputs (tests/data/bad/, one file or folder per case, named for what is
# wrong): each case is run through the command that reads it and must exit 1 with the file
# (and line) named and the expected words on stderr, leaving no output behind. Every entry of
# the folder has a row below and every row an entry: a new case cannot be silently accepted.
# Then the cases that cannot live in git: a FIFO, a socket and a device given as input.
. "$(dirname "$0")/lib.sh"

bad=$DATA/bad
out=$tmp/output # (status uses $tmp/out and $tmp/err)

# case | command | where the error points | what it says
cases=$(cat <<'EOF'
aggregated-absurd-clock.csv|optimize|aggregated-absurd-clock.csv:2:|impossible value: freq_mhz: expected a clock of 1..10000 MHz
aggregated-duplicate-column.csv|optimize|aggregated-duplicate-column.csv:1:|column 'power_w' given twice (columns 12 and 23)
aggregated-interval-upside-down.csv|optimize|aggregated-interval-upside-down.csv:2:|an interval whose _lo is above its _hi
aggregated-negative-energy.csv|optimize|aggregated-negative-energy.csv:3:|energy_j: expected joules >= 0
aggregated-unknown-flag.csv|optimize|aggregated-unknown-flag.csv:2:|expected ';'-separated flag names, found 'made_up_flag'
aie-job-absurd-frequency|aggregate|results_h100_llama_job_4444/timing_summary.log:3:|frequency_mhz: 1e+300 is impossible
aie-job-negative-duration|aggregate|results_h100_llama_job_4444/timing_summary.log:3:|duration_seconds: -3 is impossible
aie-job-negative-power-profiles|aggregate-strict|run_1_01_freq_1785_profile.csv:9:|power_w = -300 is impossible
aie-job-no-header|aggregate|results_h100_llama_job_4444/timing_summary.log:1:|expected the header run_id,frequency_mhz,duration_seconds,exit_code,status
aie-job-run-id-twice|aggregate|results_h100_llama_job_4444/timing_summary.log:6:|run_id '1_01' given twice (lines 3 and 6)
aie-job-run-id-with-spaces|aggregate|results_h100_llama_job_4444/timing_summary.log:3:|expected a run id such as 3_02 or baseline_01, found '1 01'
aie-job-status-contradicts-exit-code|aggregate|results_h100_llama_job_4444/timing_summary.log:4:|exit_code 124 and status 'success' contradict each other
aie-job-success-without-profile|aggregate|timing_summary.log:6:|run 9_01 succeeded but its profile run_9_01_freq_900_profile.csv is missing
aie-results-perf-absurd-clock|aggregate|GH100-baseline-lstm-perf.csv:1:|'99999,8.3' is impossible
aie-results-perf-negative-seconds|aggregate|GH100-baseline-lstm-perf.csv:1:|'1785,-8.3' is impossible
complete-aggregation-drama-in-percent.csv|aggregate|complete-aggregation-drama-in-percent.csv:2:|column 8 (avg_drama): 49.3 is impossible (expected a fraction 0..1)
complete-aggregation-negative-energy.csv|aggregate|complete-aggregation-negative-energy.csv:2:|column 6 (energy): -6064.91 is impossible
dataset-manifest-absurd-clock|aggregate|dataset-manifest-absurd-clock/manifest.json|key "clocks_mhz": expected an array of at most 512 clocks of 1..10000 MHz
dataset-manifest-wrong-format|aggregate|dataset-manifest-wrong-format/manifest.json|key "format": expected "freqpilot-dataset"
dataset-run-json-absurd-clock|aggregate|A100/resnet/1005/1/run.json|key "requested_clock_mhz": 1e+300 is impossible
dataset-run-json-duplicate-key|aggregate|A100/resnet/1005/1/run.json:7:|duplicate object key
dataset-run-json-invalid|aggregate|A100/resnet/1005/1/run.json:1:|invalid JSON
dataset-run-json-negative-clock|aggregate|A100/resnet/1005/1/run.json|key "requested_clock_mhz": -1005 is impossible
dataset-run-json-negative-wall-time|aggregate|A100/resnet/1005/1/run.json|key "wall_time_s": -3 is impossible
dataset-success-without-telemetry|aggregate|A100/resnet/1005/1/run.json|the run succeeded (exit_status 0) but its telemetry telemetry.csv is missing
dataset-telemetry-negative-power|aggregate|A100/resnet/1410/2/telemetry.csv:4:|power_w = -3000 is impossible
dataset-window-ends-before-it-starts|aggregate|A100/resnet/1005/1/run.json|key "window_end_s" (0.1) is before "window_start_s" (0.3)
dcgmi-activity-over-1.dmon|aggregate|dcgmi-activity-over-1.dmon:4:|sm_active = 3.5 is impossible
dcgmi-duplicate-field.dmon|aggregate|dcgmi-duplicate-field.dmon:1:|column 'POWER' given twice
dcgmi-garbage-in-the-middle.dmon|aggregate|dcgmi-garbage-in-the-middle.dmon:4:|not a dcgmi dmon row
dcgmi-header-changed.dmon|aggregate|dcgmi-header-changed.dmon:4:|the dcgmi header changed
dcgmi-header-only.dmon|aggregate|dcgmi-header-only.dmon:2:|no data rows
dcgmi-negative-counter.dmon|aggregate|dcgmi-negative-counter.dmon:3:|energy_mj = -1 is impossible
dcgmi-negative-power.dmon|aggregate|dcgmi-negative-power.dmon:4:|power_w = -61.5 is impossible
dcgmi-short-row.dmon|aggregate|dcgmi-short-row.dmon:4:|expected 3 columns, found 2
empty.csv|aggregate|empty.csv|empty file
mixed.csv|aggregate|mixed.csv:3:|expected 15 columns, found 1
model-absurd-fmax.json|model|model-absurd-fmax.json|expected fmax_mhz and knee_mhz of 0..10000 MHz
nonnumeric.csv|aggregate|nonnumeric.csv:3:|column 7 (time_s): expected a number, found 'fast'
optimal-absurd-clock.json|validate|optimal-absurd-clock.json|results[0]: impossible values
optimal-duplicate-key.json|validate|optimal-duplicate-key.json:1:|duplicate object key
optimal-invalid.json|validate|optimal-invalid.json:1:|invalid JSON
optimal-negative-energy.json|validate|optimal-negative-energy.json|results[0]: impossible values
optimal-power-over-5kw.json|validate|optimal-power-over-5kw.json|results[0]: impossible values
original-optimal-absurd-clock.json|validate|original-optimal-absurd-clock.json|key "frequency": 1e+300 is impossible
original-optimal-negative-time.json|validate|original-optimal-negative-time.json|key "execution_time": -41.05 is impossible
original-optimal-unknown-method.json|validate|original-optimal-unknown-method.json|expected the method edp, ed2p, energy or time
run-config-key-given-twice.ini|run-config|run-config-key-given-twice.ini:3:|key 'runs' given twice in [simulate]
run-config-negative-budget.ini|run-config|run-config-negative-budget.ini:2:|'-5%' is not a budget
run-config-runs-1e9.ini|run-config|run-config-runs-1e9.ini:2:|runs = '1000000000': expected a whole number of runs per clock, 1..1000
run-config-runs-4294967297.ini|run-config|run-config-runs-4294967297.ini:2:|runs = '4294967297': expected a whole number of runs per clock, 1..1000
run-config-unknown-gpu.ini|run-config|run-config-unknown-gpu.ini:2:|unknown GPU 'X100' (the simulated GPUs are V100, A100, H100)
run-config-unknown-objective.ini|run-config|run-config-unknown-objective.ini:2:|unknown objective 'speed'
run-config-unknown-workload.ini|run-config|run-config-unknown-workload.ini:2:|unknown workload 'bert'
runtable-absurd-clock.csv|aggregate|runtable-absurd-clock.csv:2:|column 3 (freq_mhz): 1e+300 is impossible
runtable-app-and-workload.csv|aggregate|runtable-app-and-workload.csv:1:|column 'workload' given twice (columns 2 and 3, the same quantity)
runtable-bad-start-time.csv|aggregate|runtable-bad-start-time.csv:2:|expected epoch seconds or an ISO-8601 time, found 'yesterday'
runtable-duplicate-column.csv|aggregate|runtable-duplicate-column.csv:1:|column 'energy_j' given twice
runtable-empty-gpu.csv|aggregate|runtable-empty-gpu.csv:2:|empty gpu or app cell
runtable-energy-in-millijoules.csv|aggregate|runtable-energy-in-millijoules.csv:2:|is 2e+05 W: impossible (expected at most 5000 W; energy in mJ?)
runtable-energy-without-time.csv|aggregate|runtable-energy-without-time.csv:2:|energy 2000 J in 0 s: impossible
runtable-fractional-run-index.csv|aggregate|runtable-fractional-run-index.csv:2:|run_index: expected a whole number >= 0, found 1.5
runtable-negative-clock.csv|aggregate|runtable-negative-clock.csv:3:|column 3 (freq_mhz): -1005 is impossible
runtable-negative-energy.csv|aggregate|runtable-negative-energy.csv:3:|column 5 (energy_j): -3000 is impossible
runtable-negative-power.csv|aggregate|runtable-negative-power.csv:2:|column 5 (avg_power_w): -50 is impossible
runtable-negative-time.csv|aggregate|runtable-negative-time.csv:2:|column 4 (time_s): -10 is impossible
runtable-temperature-500.csv|aggregate|runtable-temperature-500.csv:2:|column 6 (temp_c): 500 is impossible
runtable-text-in-energy.csv|aggregate|runtable-text-in-energy.csv:2:|expected a number, found 'lots'
runtable-utilization-over-100.csv|aggregate|runtable-utilization-over-100.csv:2:|column 6 (gpu_util_pct): 140 is impossible
smi-absurd-clock.csv|aggregate|smi-absurd-clock.csv:2:|sm_clock_mhz = 99999 is impossible
smi-bad-timestamp.csv|aggregate|smi-bad-timestamp.csv:3:|expected YYYY/MM/DD HH:MM:SS.mmm, found '2025/07/09 25:17:37.754'
smi-duplicate-column.csv|aggregate|smi-duplicate-column.csv:1:|column 'power.draw' given twice
smi-negative-power.csv|aggregate|smi-negative-power.csv:3:|power_w = -70.12 is impossible
smi-negative-utilization.csv|aggregate|smi-negative-utilization.csv:2:|gpu_util_pct = -5 is impossible
smi-noheader-wrong-columns.csv|aggregate|smi-noheader-wrong-columns.csv:1:|nvidia-smi CSV without a header and 5 columns
smi-time-backwards.csv|aggregate|smi-time-backwards.csv:4:|time went backwards
smi-unknown-unit.csv|aggregate|smi-unknown-unit.csv:2:|expected a number, found '0.07 kW'
telemetry-absurd-clock.csv|aggregate|telemetry-absurd-clock.csv:3:|sm_clock_mhz = 1e+300 is impossible
telemetry-activity-over-1.csv|aggregate|telemetry-activity-over-1.csv:4:|sm_active = 1.7 is impossible
telemetry-duplicate-column.csv|aggregate|telemetry-duplicate-column.csv:1:|column 'power_w' given twice (columns 2 and 4)
telemetry-empty-t_s.csv|aggregate|telemetry-empty-t_s.csv:3:|t_s is empty
telemetry-header-only.csv|aggregate|telemetry-header-only.csv:1:|no data rows
telemetry-infinite-power.csv|aggregate|telemetry-infinite-power.csv:3:|expected a number, found 'inf'
telemetry-negative-clock.csv|aggregate|telemetry-negative-clock.csv:5:|sm_clock_mhz = -1005 is impossible
telemetry-negative-energy-counter.csv|aggregate|telemetry-negative-energy-counter.csv:4:|energy_mj = -5 is impossible
telemetry-negative-power.csv|aggregate|telemetry-negative-power.csv:4:|power_w = -3000 is impossible
telemetry-no-t_s-column.csv|aggregate|telemetry-no-t_s-column.csv:1:|unknown layout
telemetry-nul-bytes.csv|aggregate|telemetry-nul-bytes.csv:3:|NUL byte in data
telemetry-pstate-99.csv|aggregate|telemetry-pstate-99.csv:3:|pstate = 99 is impossible
telemetry-short-row.csv|aggregate|telemetry-short-row.csv:3:|expected 3 columns, found 2
telemetry-temperature-999.csv|aggregate|telemetry-temperature-999.csv:3:|temp_c = 999 is impossible
telemetry-text-in-number.csv|aggregate|telemetry-text-in-number.csv:3:|expected a number, found 'fast'
telemetry-time-backwards.csv|aggregate|telemetry-time-backwards.csv:5:|time went backwards: t_s 0.15 s after 0.2 s
telemetry-truncated-last-line.csv|aggregate|telemetry-truncated-last-line.csv:3:|truncated last line
telemetry-utilization-over-100.csv|aggregate|telemetry-utilization-over-100.csv:4:|gpu_util_pct = 250 is impossible
truncated.csv|aggregate|truncated.csv:4:|truncated last line
unknown.txt|aggregate|unknown.txt:1:|unknown layout
workload-activity-over-1.ini|workload|workload-activity-over-1.ini:5:|dram_active = '60': expected a number in 0..1
workload-key-given-twice.ini|workload|workload-key-given-twice.ini:5:|key 'memory_s' given twice in [phase decode]
workload-no-phase.ini|workload|workload-no-phase.ini|expected at least one [phase NAME]
wrong_columns.csv|aggregate|wrong_columns.csv:3:|expected 11 columns, found 10
EOF
)

# The input a case names: job folders sit inside their case folder (the name is the layout).
input_of() {
    case $1 in
    aie-job-*) echo "$bad/$1/results_h100_llama_job_4444" ;;
    *) echo "$bad/$1" ;;
    esac
}

# run_case KIND INPUT: the command that reads that kind of input, its output under $out.
run_case() {
    local kind=$1 in=$2
    case $kind in
    aggregate) fp aggregate "$in" -o "$out/aggregated.csv" ;;
    aggregate-strict) fp aggregate --strict "$in" -o "$out/aggregated.csv" ;;
    validate) fp validate "$DATA/agg/runs_small.csv" "$in" -o "$out/validation.json" ;;
    optimize) fp optimize "$in" -o "$out/optimal.json" ;;
    run-config) fp run --config "$in" -o "$out/run" ;;
    workload) fp sim curve --gpu A100 --workload "$in" -o "$out/curve.csv" ;;
    model) fp model predict "$in" --gpu A100 --app sd ;;
    *) echo "unknown kind $kind" >&2; return 99 ;;
    esac
}

n=0
while IFS='|' read -r name kind where what; do
    [ -n "$name" ] || continue
    n=$((n + 1))
    in=$(input_of "$name")
    if [ ! -e "$in" ]; then nok "$name: the case exists in tests/data/bad"; continue; fi
    rm -rf "$out"
    mkdir -p "$out"
    rc=$(status run_case "$kind" "$in")
    if [ "$rc" -eq 1 ] && grep -qF -- "$where" "$tmp/err" && grep -qF -- "$what" "$tmp/err" &&
        [ -z "$(ls -A "$out")" ]; then
        ok "$name: exit 1, '$where' and '$what', no output"
    else
        nok "$name: exit 1 (got $rc), '$where' and '$what', no output (left: $(ls "$out")): $(head -c 400 "$tmp/err")"
    fi
done <<<"$cases"

# Every entry of the folder is a case above, and every case an entry.
listed=$(printf '%s\n' "$cases" | cut -d'|' -f1 | sort)
present=$(ls "$bad" | sort)
check_eval "every file and folder of tests/data/bad has its expected message here" \
    '[ "$listed" = "$present" ]'
check_eval "at least 60 cases ($n)" '[ "$n" -ge 60 ]'
echo "# $n cases in tests/data/bad"

# The unknown GPU of a run config leaves no output folder at all (no runs.csv behind).
check_eval "run-config-unknown-gpu.ini: no runs.csv left behind" '[ ! -e "$out/run/runs.csv" ]'

# ---- inputs that cannot be committed: non-regular files are refused, never opened ----
mkfifo "$tmp/telemetry.csv"
rm -rf "$out" && mkdir -p "$out"
# A reader that opened the FIFO would wait for a writer forever: timeout turns that into 124.
rc=$(status timeout 20 "$FP" aggregate "$tmp/telemetry.csv" -o "$out/a.csv")
check_eval "FIFO given directly: exit 1 at once, named, no output" \
    '[ "$rc" -eq 1 ] && grep -qF "$tmp/telemetry.csv: not a regular file (a FIFO)" "$tmp/err" && [ -z "$(ls -A "$out")" ]'
# A FIFO where a run's telemetry.csv should be, inside a DATASET.
cp -r "$DATA/dataset/DATASET" "$tmp/ds"
rm "$tmp/ds/A100/resnet/1410/2/telemetry.csv"
mkfifo "$tmp/ds/A100/resnet/1410/2/telemetry.csv"
rc=$(status timeout 20 "$FP" aggregate "$tmp/ds" -o "$out/a.csv")
check_eval "FIFO as a run's telemetry.csv in a DATASET: exit 1, no hang, named" \
    '[ "$rc" -eq 1 ] && grep -qF "1410/2/telemetry.csv: not a regular file (a FIFO)" "$tmp/err" && [ -z "$(ls -A "$out")" ]'
# A FIFO among the files of a folder of inputs.
mkdir "$tmp/folder"
cp "$DATA/agg/runs_small.csv" "$tmp/folder/"
mkfifo "$tmp/folder/more.csv"
rc=$(status timeout 20 "$FP" aggregate "$tmp/folder" -o "$out/a.csv")
check_eval "FIFO in a folder of inputs: exit 1, named" \
    '[ "$rc" -eq 1 ] && grep -qF "more.csv: not a regular file (a FIFO)" "$tmp/err"'
# A device and a socket.
rc=$(status "$FP" aggregate /dev/null -o "$out/a.csv")
check_eval "a character device: exit 1, named" \
    '[ "$rc" -eq 1 ] && grep -qF "/dev/null: not a regular file (a character device)" "$tmp/err"'
if command -v python3 >/dev/null; then
    python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$tmp/sock.csv"
    rc=$(status "$FP" aggregate "$tmp/sock.csv" -o "$out/a.csv")
    check_eval "a socket: exit 1, named" \
        '[ "$rc" -eq 1 ] && grep -qF "sock.csv: not a regular file (a socket)" "$tmp/err"'
fi
# A FIFO as a run config and as a workload INI: refused, not waited on.
rc=$(status timeout 20 "$FP" run --config "$tmp/telemetry.csv" -o "$out/run")
check_eval "FIFO as a run config: exit 1, named" \
    '[ "$rc" -eq 1 ] && grep -qF "not a regular file (a FIFO)" "$tmp/err" && [ ! -e "$out/run" ]'
rc=$(status timeout 20 "$FP" sim curve --gpu A100 --workload "$tmp/telemetry.csv")
check_eval "FIFO as a workload INI: exit 1 (never opened)" '[ "$rc" -eq 1 ]'

done_testing
