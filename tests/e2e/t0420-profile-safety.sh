#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Clock safety of `freqpilot profile` against the fake libnvidia-ml.so.1 (whose locked clocks
# persist across processes through FAKE_NVML_STATE, like a real GPU): clocks reset after
# SIGTERM and SIGHUP mid-run; after SIGKILL the state file remains, a new sweep refuses to
# start over it unless --force, and `freqpilot restore` resets the GPU and removes it;
# resume after an interruption loses and duplicates no run.
. "$(dirname "$0")/lib.sh"
DATA=$DATA/profile
use_fake_gpu
# A private copy of the workload: "no orphan" must not see other tests' copies.
mkdir -p "$tmp/wl" && cp "$DATA/marked.sh" "$tmp/wl/marked.sh"
WL=$tmp/wl/marked.sh
n_runs() { find "$1" -name run.json 2>/dev/null | wc -l; }
# Waits (up to 10 s) until N run.json exist under $1 and the next run has started.
wait_runs() {
    for _ in $(seq 200); do
        [ "$(n_runs "$1")" -ge "$2" ] && [ "$(grep -c SetGpuLockedClocks "$FAKE_NVML_LOG")" -gt "$2" ] && return 0
        sleep 0.05
    done
    return 1
}
# 4 clocks x 2 runs, no warm-up, 0.4 s per run
SWEEP=(profile --clocks 1410,1200,1005,810 --runs 2 --warmup 0 --order random --seed 7)
export WORK_S=0.4

# (SIGINT takes the same path; a background job of a script ignores it, so it is not sent here)
for sig in TERM HUP; do
    rm -f "$FAKE_NVML_LOG"
    LD_LIBRARY_PATH=$FAKE "$FREQPILOT" "${SWEEP[@]}" --out "$tmp/ds-$sig" -- "$WL" 2>"$tmp/err" &
    pid=$!
    check "SIG$sig: sweep under way" wait_runs "$tmp/ds-$sig" 2
    check "SIG$sig: clock locked mid-run" test "$(locked_now)" = 1
    kill -"$sig" $pid
    wait $pid
    rc=$?
    check "SIG$sig: dies of the signal after restoring (rc $rc)" test $rc -gt 128
    check "SIG$sig: fake GPU unlocked" test "$(locked_now)" = 0
    check "SIG$sig: reset logged" grep -q 'nvmlDeviceResetGpuLockedClocks(gpu=0) = 0' "$FAKE_NVML_LOG"
    check "SIG$sig: state file removed" test -z "$(ls -A "$FREQPILOT_STATE_DIR" 2>/dev/null)"
    check "SIG$sig: message says how to resume" grep -q 'interrupted by signal' "$tmp/err"
    check "SIG$sig: no orphan workload" test -z "$(pgrep -f "$WL" || true)"
done

# ---- resume: the same command again completes the sweep without losing or duplicating ----
done_before=$(n_runs "$tmp/ds-TERM")
rm -f "$FAKE_NVML_LOG"
LD_LIBRARY_PATH=$FAKE "$FREQPILOT" "${SWEEP[@]}" --out "$tmp/ds-TERM" -- "$WL" 2>"$tmp/err"
check "resume exits 0" test $? -eq 0
check "resume: 8 runs in all" test "$(n_runs "$tmp/ds-TERM")" -eq 8
check "resume: only the missing runs were run" test "$(grep -c SetGpuLockedClocks "$FAKE_NVML_LOG")" -eq $((8 - done_before))
check "resume: each (clock, repetition) once" test "$(find "$tmp/ds-TERM" -name run.json | sed 's|.*/A100/marked.sh/||' | sort -u | wc -l)" -eq 8
check "resume: sweep positions 1..8 once each" test "$(cat $(find "$tmp/ds-TERM" -name run.json) | sed -n 's/.*"sweep_position": \([0-9]*\).*/\1/p' | sort -n | paste -sd,)" = "1,2,3,4,5,6,7,8"
check "resume: no leftover temporary file" test -z "$(find "$tmp/ds-TERM" -name '*.tmp*' -o -name '.run.json*' | head -1)"
LD_LIBRARY_PATH=$FAKE "$FREQPILOT" "${SWEEP[@]}" --runs 3 --out "$tmp/ds-TERM" -- "$WL" 2>"$tmp/err"
check "a different sweep into the same dataset is refused" grep -q 'holds a different sweep' "$tmp/err"

# ---- SIGKILL: the state file survives; restore ------------------------------------------
rm -f "$FAKE_NVML_LOG"
LD_LIBRARY_PATH=$FAKE "$FREQPILOT" "${SWEEP[@]}" --out "$tmp/ds-KILL" -- "$WL" 2>"$tmp/err" &
pid=$!
check "SIGKILL: sweep under way" wait_runs "$tmp/ds-KILL" 1
kill -KILL $pid
wait $pid 2>/dev/null
sleep 0.5 # the orphaned workload finishes
check "SIGKILL: GPU left locked" test "$(locked_now)" = 1
state=$(ls "$FREQPILOT_STATE_DIR"/*.json 2>/dev/null | head -1)
check "SIGKILL: state file left" test -n "$state"
check "state file names the backend and what to restore" grep -q '"reset_locked_clocks": true' "$state"
check "state file records the pid" grep -q "\"pid\": $pid" "$state"
LD_LIBRARY_PATH=$FAKE "$FREQPILOT" "${SWEEP[@]}" --out "$tmp/ds-other" -- true 2>"$tmp/err"
check "new sweep refused over the state file" test $? -eq 1
check "refusal names freqpilot restore" grep -q "run 'freqpilot restore' first, or use --force" "$tmp/err"
check "refused sweep left the GPU alone" test "$(locked_now)" = 1
LD_LIBRARY_PATH=$FAKE "$FREQPILOT" restore --list >"$tmp/list"
check "restore --list shows the lock" grep -q 'locked clocks' "$tmp/list"
rm -f "$FAKE_NVML_LOG"
LD_LIBRARY_PATH=$FAKE "$FREQPILOT" restore >"$tmp/out" 2>"$tmp/err"
check "restore exits 0" test $? -eq 0
check "restore reset the clocks" grep -q 'nvmlDeviceResetGpuLockedClocks(gpu=0) = 0' "$FAKE_NVML_LOG"
check "GPU unlocked after restore" test "$(locked_now)" = 0
check "state file removed by restore" test ! -e "$state"
check "restore says what it did" grep -q 'locked clocks reset' "$tmp/out"
LD_LIBRARY_PATH=$FAKE "$FREQPILOT" restore >"$tmp/out" 2>&1
check "restore with nothing to do exits 0" test $? -eq 0

# --force takes over a stale state file (and restores at its end)
LD_LIBRARY_PATH=$FAKE "$FREQPILOT" "${SWEEP[@]}" --out "$tmp/ds-KILL2" -- "$WL" 2>/dev/null &
pid=$!
wait_runs "$tmp/ds-KILL2" 1
kill -KILL $pid
wait $pid 2>/dev/null
sleep 0.5
LD_LIBRARY_PATH=$FAKE "$FREQPILOT" profile --clocks 1410 --runs 1 --warmup 0 --force --out "$tmp/ds-force" -- true 2>"$tmp/err"
check "--force sweeps over a stale state file" test $? -eq 0
check "--force: GPU unlocked at the end" test "$(locked_now)" = 0
check "--force: state file removed" test -z "$(ls -A "$FREQPILOT_STATE_DIR" 2>/dev/null)"
# a GPU whose lease a running freqpilot holds is refused by restore; --force stops that
# freqpilot (SIGTERM), which restores the GPU itself
rm -f "$FAKE_NVML_LOG"
LD_LIBRARY_PATH=$FAKE "$FREQPILOT" "${SWEEP[@]}" --out "$tmp/ds-live" -- "$WL" 2>/dev/null &
pid=$!
wait_runs "$tmp/ds-live" 1
LD_LIBRARY_PATH=$FAKE "$FREQPILOT" restore 2>"$tmp/err"
check "restore refuses while the owner runs" grep -q "is in use by pid $pid" "$tmp/err"
check "... and leaves the GPU locked" test "$(locked_now)" = 1
LD_LIBRARY_PATH=$FAKE "$FREQPILOT" restore --force >"$tmp/out" 2>&1
check "restore --force: exit 0" test $? -eq 0
wait $pid 2>/dev/null
check "restore --force: the owner was stopped and restored" grep -q "restored by the freqpilot that held it" "$tmp/out"
check "restore --force: GPU unlocked" test "$(locked_now)" = 0
check "restore --force: state directory empty" test -z "$(ls -A "$FREQPILOT_STATE_DIR")"

# restore --all (the systemd unit's ExecStopPost): every state file in the directory
rm -rf "$FREQPILOT_STATE_DIR"
for g in V100 H100; do "$FREQPILOT" apply --backend sim --gpu $g --clock 900 >/dev/null 2>&1; done
check "two state files left by apply" test "$(ls "$FREQPILOT_STATE_DIR" | wc -l)" -eq 2
"$FREQPILOT" restore --all >"$tmp/out" 2>&1
check "restore --all exits 0" test $? -eq 0
check "restore --all: both restored" test "$(grep -c 'locked clocks reset' "$tmp/out")" -eq 2
check "restore --all: state directory empty" test -z "$(ls -A "$FREQPILOT_STATE_DIR")"
"$FREQPILOT" restore --all GPU-x 2>/dev/null
check "restore --all with a UUID: usage error" test $? -eq 2
"$FREQPILOT" restore --help | grep -q -- '--all'
check "restore --help documents --all" test $? -eq 0

done_testing
