#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Issue 14: inference windows of Python workloads cannot silently fail.
#  1. print() markers to the stdout pipe, no flush=True, PYTHONUNBUFFERED not set: freqpilot
#     sets it, and the window's time is within 1 % of the sleep it marks (as the script
#     timed it); the dataset is named after the script (print_markers.py -> print_markers).
#  2. The same with freqpilot.window() (the marker FIFO).
#  3. Markers buffered another way (a file object with its own buffer over fd 1, or
#     PYTHONUNBUFFERED set empty by the user): every run is an error with the reason in
#     words, and aggregated.csv has no row with time 0 or energy 0.
#  4. A window shorter than one sample interval is an error too.
# The simulated GPU follows the host's clock for a real command (its energy counter runs).
. "$(dirname "$0")/lib.sh"
need_python
export FREQPILOT_STATE_DIR=$tmp/state
unset PYTHONUNBUFFERED FREQPILOT_MARK_FIFO
# 4 s: 1 % is 40 ms, more than a late wake-up of freqpilot on a loaded 2-core machine.
SLEEP=4.0

# $1 dataset, rest: the workload
profile() {
    local ds=$1
    shift
    fp profile --backend sim --gpu A100 --clocks 1410,705 --runs 2 --warmup 0 --out "$ds" -- "$@"
}
# The per-run table of a dataset (time_s, energy_j, reason, ...): TSV of the named columns.
runs_of() {
    fp aggregate -q "$1" --runs "$tmp/runs.csv" -o /dev/null || return 1
    local cols=""
    for c in "${@:2}"; do cols="$cols,$(csvcol "$tmp/runs.csv" "$c")"; done
    tail -n +2 "$tmp/runs.csv" | cut -d, -f"${cols#,}"
}
# Every run's time within 1 % of the sleep it marks and energy > 0. The sleep as the script
# itself timed it, from just after its begin marker was written to just after its end marker
# ("marked S" in the run's stderr.txt): on a loaded machine time.sleep(2) takes longer than
# 2 s, and the window must follow what was marked, not the nominal 2 s.
windows_ok() {
    local n=0 bad=0 t e r src marked
    while IFS=, read -r t e r src; do
        n=$((n + 1))
        marked=$(sed -n 's/^marked //p' "$(dirname "$src")/stderr.txt")
        echo "# run time_s $t (script: marked $marked s, sleep $SLEEP s) energy_j $e reason '$r'"
        [ -n "$marked" ] || bad=1
        within "$t" "$marked" "$(awk -v s="$marked" 'BEGIN { print s / 100 }')" || bad=1
        awk -v m="$marked" -v s="$SLEEP" 'BEGIN { exit !(m >= s) }' || bad=1
        awk -v e="$e" 'BEGIN { exit !(e > 0) }' || bad=1
        [ -z "$r" ] || bad=1
    done < <(runs_of "$1" time_s energy_j reason source)
    [ "$n" -eq 4 ] && [ "$bad" -eq 0 ]
}

# ---- 1. print markers, no flush, no PYTHONUNBUFFERED --------------------------------------
cat >"$tmp/print_markers.py" <<EOF
import os, sys, time
print("loading the model; PYTHONUNBUFFERED=" + os.environ.get("PYTHONUNBUFFERED", "unset"))
time.sleep(0.3)
print("FREQPILOT_MARK begin")
t0 = time.monotonic()
time.sleep($SLEEP)
print("FREQPILOT_MARK end")
print(f"marked {time.monotonic() - t0:.6f}", file=sys.stderr)
time.sleep(0.3)  # teardown, outside the window
EOF
rc=$(status profile "$tmp/p" "$PY" "$tmp/print_markers.py")
check "profile of a print-marker script succeeds" test "$rc" -eq 0
check "the dataset is named after the script" test -d "$tmp/p/A100/print_markers/1410/1"
check "the workload got PYTHONUNBUFFERED=1 from freqpilot" \
    grep -qx "loading the model; PYTHONUNBUFFERED=1" "$tmp/p/A100/print_markers/1410/1/stdout.txt"
check "stdout markers were the window" grep -q '"window_source": "marker"' "$tmp/p/A100/print_markers/705/2/run.json"
check "every window within 1 % of the ${SLEEP} s sleep, energy > 0" windows_ok "$tmp/p"
fp aggregate -q "$tmp/p" -o "$tmp/p.csv"
tc=$(csvcol "$tmp/p.csv" time_s)
check_eval "aggregated.csv: both clocks measured, time about the ${SLEEP} s marked (5 %)" \
    '[ "$(tail -n +2 "$tmp/p.csv" | cut -d, -f"$tc" | awk "\$1 > 0.95 * $SLEEP && \$1 < 1.05 * $SLEEP" | wc -l)" -eq 2 ]'

# ---- 2. freqpilot.window() ------------------------------------------------------------------
cat >"$tmp/window_script.py" <<EOF
import sys, time
import freqpilot
time.sleep(0.3)
with freqpilot.window("inference"):
    t0 = time.monotonic()  # the begin marker is written
    time.sleep($SLEEP)
print(f"marked {time.monotonic() - t0:.6f}", file=sys.stderr)  # and the end marker
time.sleep(0.3)
EOF
rc=$(PYTHONPATH="$SRC/python" status profile "$tmp/w" "$PY" "$tmp/window_script.py")
check "profile of a freqpilot.window() script succeeds" test "$rc" -eq 0
check "the marker pipe was the window, named" \
    grep -q '"window_name": "inference"' "$tmp/w/A100/window_script/1410/1/run.json"
check "every window within 1 % of the ${SLEEP} s sleep, energy > 0" windows_ok "$tmp/w"

# ---- 3. markers buffered another way -------------------------------------------------------
cat >"$tmp/buffered.py" <<'EOF'
import sys, time
out = open(sys.stdout.fileno(), "w", buffering=65536, closefd=False)  # its own buffer
out.write("FREQPILOT_MARK begin\n")
time.sleep(0.4)
out.write("FREQPILOT_MARK end\n")
EOF
rc=$(status profile "$tmp/b" "$PY" "$tmp/buffered.py")
check "profile finishes (failed runs are recorded, not fatal)" test "$rc" -eq 0
check "each failed run is warned about with the reason in words" \
    test "$(grep -c "the run measured nothing: markers arrived together at exit: the workload's output is buffered" "$tmp/err")" -eq 4
check "the summary counts them" grep -q "4 failed" "$tmp/err"
check "run.json: window_error says why" \
    grep -q "\"window_error\": \"markers arrived together at exit: the workload's output is buffered" "$tmp/b/A100/buffered/1410/1/run.json"
check "run.json: failure says why" \
    grep -q "\"failure\": \"markers arrived together at exit" "$tmp/b/A100/buffered/705/2/run.json"
rc=$(status fp aggregate "$tmp/b" -o "$tmp/b.csv" --dropped "$tmp/b-dropped.csv")
check "aggregate names the reason per run" \
    test "$(grep -c "markers arrived together at exit: the workload's output is buffered.*the run is dropped" "$tmp/err")" -eq 4
check "all 4 runs dropped as failed" test "$(grep -c ',failed,' "$tmp/b-dropped.csv")" -eq 4
no_zero_rows() {
    awk -F, -v t="$(csvcol "$1" time_s)" -v e="$(csvcol "$1" energy_j)" '
        NR > 1 && (($t != "" && $t + 0 <= 0) || ($e != "" && $e + 0 <= 0)) { bad = 1 }
        END { exit bad }' "$1"
}
check "aggregated.csv has no zero rows" no_zero_rows "$tmp/b.csv"
check "its clocks are kept with runs=0 and empty values" \
    test "$(tail -n +2 "$tmp/b.csv" | cut -d, -f"$(csvcol "$tmp/b.csv" runs)" | sort -u)" = 0

rc=$(status fp status "$tmp/b")
check "status: both clocks failed" \
    test "$rc" -eq 1 -a "$(grep -c ' failed .*a run failed (see its run.json)' "$tmp/out")" -eq 2

# The user's own PYTHONUNBUFFERED (empty = off for Python) is kept: print() buffers, caught.
rc=$(PYTHONUNBUFFERED= status fp profile --backend sim --gpu A100 --clocks 1410 --runs 1 --warmup 0 \
    --out "$tmp/u" -- "$PY" -c 'import time; print("FREQPILOT_MARK begin"); time.sleep(0.3); print("FREQPILOT_MARK end")')
check "PYTHONUNBUFFERED set by the user is kept (buffered, so an error)" \
    grep -q "markers arrived together at exit" "$tmp/err"

# --on-failure stop stops at the first unusable window.
rc=$(status fp profile --backend sim --gpu A100 --clocks 1410,705 --runs 2 --warmup 0 --on-failure stop \
    --out "$tmp/s" -- "$PY" "$tmp/buffered.py")
check "--on-failure stop: exit 1 after the first run" test "$rc" -eq 1
check "--on-failure stop: the reason" grep -q "stopping (--on-failure stop): at .* MHz: markers arrived together" "$tmp/err"

# ---- 4. a window shorter than one sample interval ------------------------------------------
# A 1 s interval and a 0.02 s window: the check holds however late a loaded machine wakes us.
rc=$(status fp profile --backend sim --gpu A100 --clocks 1410 --runs 1 --warmup 0 --interval-ms 1000 \
    --out "$tmp/short" -- "$PY" -c 'import time; print("FREQPILOT_MARK begin"); time.sleep(0.02); print("FREQPILOT_MARK end"); time.sleep(1.2)')
check "a window shorter than the interval is an error" \
    grep -q '"window_error": "the marked window (0\.[0-9]* s) is shorter than one sample interval (1 s)' "$tmp/short/A100/python3/1410/1/run.json"

done_testing
