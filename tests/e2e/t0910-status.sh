#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# `freqpilot status` on local datasets (done / running / failed / missing per clock, exit 0
# only when complete, --format json), concurrent tasks writing one dataset (the manifest
# created once), and heterogeneity refused: a task on another GPU model refuses to write, and
# the reader skips runs whose run.json names another GPU model or driver (gpu_mismatch).
. "$(dirname "$0")/lib.sh"
F=$FREQPILOT
bg=""
at_exit '[ -n "$bg" ] && kill "$bg" 2>/dev/null'
export FREQPILOT_STATE_DIR="$tmp/state"
SIM=(--backend sim --workload llama --sim-noise off --gpu A100 --interval-ms 200 --warmup 0)
# "1410=done 1200=missing ..." from status --format json
states() {
    "$F" status --format json "$1" >"$tmp/st.json"
    echo "$?:$(clock_states "$tmp/st.json")"
}

# ---- complete, then a run removed: missing -------------------------------------
"$F" profile "${SIM[@]}" --clocks 1410,1200 --runs 2 --out "$tmp/a" 2>/dev/null
check "complete sweep: all done, exit 0" test "$(states "$tmp/a")" = "0:1410=done 1200=done "
check "json: complete true" grep -q '"complete": true' "$tmp/st.json"
"$F" status "$tmp/a" >"$tmp/st.txt"
check "text summary line" grep -q '2 clock(s): 2 done, 0 running, 0 failed, 0 missing; runs 4/4' "$tmp/st.txt"
rm -r "$tmp/a/A100/llama/1200/2"
check "a run removed: that clock missing, exit 1" test "$(states "$tmp/a")" = "1:1410=done 1200=missing "
check "json: runs 1 of 2" grep -q '"runs_done": 1' "$tmp/st.json"
"$F" profile "${SIM[@]}" --clocks 1410,1200 --runs 2 --out "$tmp/a" 2>/dev/null
check "resumed: done again" test "$(states "$tmp/a")" = "0:1410=done 1200=done "

# ---- failed runs ---------------------------------------------------------------
"$F" profile --backend sim --gpu A100 --clocks 1410,1200 --runs 1 --warmup 0 --out "$tmp/f" \
    -- sh -c 'exit 3' 2>/dev/null
check "workload failures: failed, exit 1" test "$(states "$tmp/f")" = "1:1410=failed 1200=failed "

# ---- running: a live local sweep (lock file with its pid) ------------------------
"$F" profile --backend sim --gpu A100 --clocks 1410,1200 --runs 1 --warmup 0 --out "$tmp/r" \
    -- sleep 3 2>/dev/null &
bg=$!
for _ in $(seq 1 50); do [ -n "$(ls "$tmp/r/.locks" 2>/dev/null)" ] && break; sleep 0.1; done
check "live sweep: running, exit 1" test "$(states "$tmp/r")" = "1:1410=running 1200=running "
kill -TERM "$bg"
wait "$bg"
bg=""
check "interrupted: lock removed, missing" test "$(states "$tmp/r")" = "1:1410=missing 1200=missing "
# A lock left by a killed sweep (its pid is gone) is not a running sweep.
mkdir -p "$tmp/r/.locks"
printf '{"pid": 999999999, "host": "%s", "clocks_mhz": [1410, 1200]}\n' "$(hostname)" \
    >"$tmp/r/.locks/stale.json"
check "stale lock (dead pid): missing" test "$(states "$tmp/r")" = "1:1410=missing 1200=missing "
"$F" status "$tmp/nothing" 2>/dev/null
check "not a folder: exit 1" test $? -eq 1
"$F" status --format xml "$tmp/a" 2>/dev/null
check "bad --format: exit 2" test $? -eq 2

# ---- tasks at once into one dataset (what a job array does) -----------------------
T=(--backend sim --workload vit --sim-noise off --gpu A100 --clocks 1410,1200,1000,800,600,400
   --runs 2 --warmup 1 --interval-ms 200 --clocks-per-task 1 --out "$tmp/t")
for i in 0 1 2 3 4 5; do "$F" profile "${T[@]}" --slurm-task $i 2>"$tmp/task$i.err" & done
wait
check "6 tasks at once: one manifest, no leftovers" test "$(ls -A "$tmp/t" | grep -c manifest)" -eq 1
check "6 tasks at once: 18 runs" test "$(find "$tmp/t" -name run.json | wc -l)" -eq 18
check "6 tasks: all done" test "$(states "$tmp/t" | cut -d: -f1)" = 0
check "task state files say done" test "$(grep -l '"state": "done"' "$tmp"/t/slurm/tasks/*.json | wc -l)" -eq 6
"$F" profile "${T[@]}" --slurm-task 6 2>"$tmp/err"
check "task 6 of a 6-clock sweep refused" test $? -ne 0

# ---- heterogeneity ---------------------------------------------------------------
"$F" profile "${T[@]/A100/V100}" --slurm-task 1 2>"$tmp/het.err"
check "a task on another GPU model refuses to write" test $? -ne 0
check "... and says why" grep -q 'heterogeneous GPUs refused: GPU model differs' "$tmp/het.err"
"$F" aggregate "$tmp/t" -o "$tmp/agg0.csv" 2>/dev/null
rj="$tmp/t/A100/vit/1200/1/run.json"
sed -i 's/"gpu_name": "[^"]*"/"gpu_name": "Tesla V100-SXM2-32GB"/' "$rj"
rj2="$tmp/t/A100/vit/1005/2/run.json"
sed -i 's/"driver": "[^"]*"/"driver": "535.104.05"/' "$rj2"
"$F" aggregate "$tmp/t" -o "$tmp/agg1.csv" 2>"$tmp/agg.err"
check "reader: the V100 run is skipped and named" grep -q "skipped $tmp/t/A100/vit/1200/1: gpu_mismatch.*GPU model: run has Tesla V100-SXM2-32GB" "$tmp/agg.err"
check "reader: the other-driver run is skipped and named" grep -q "1005/2: gpu_mismatch.*driver: run has 535.104.05" "$tmp/agg.err"
runs() { awk -F, -v f="$2" '$3==f {print $4}' "$1"; }
check "1200 MHz: 2 runs before, 1 after" test "$(runs "$tmp/agg0.csv" 1200)/$(runs "$tmp/agg1.csv" 1200)" = 2/1
check "1005 MHz: 1 run after" test "$(runs "$tmp/agg1.csv" 1005)" = 1
check "1410 MHz untouched" test "$(runs "$tmp/agg1.csv" 1410)" = 2

done_testing
