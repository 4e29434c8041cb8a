#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Issue 12, attack 4: the GPU guard was check-then-write. Two sweeps started together on one
# GPU both locked it (20 of 20); the first to finish reset the clocks and deleted the state
# file under the other; with different state folders there was no GPU-level lock at all.
# Now one lease per GPU UUID (include/freqpilot/lease.h) is held for the whole sweep, apply
# or daemon, whatever --state-dir: exactly one of two sweeps started together runs. Needs
# no root (the fake NVML).
. "$(dirname "$0")/lib.sh"
use_fake_gpu
SWEEP=(profile --clocks 1410 --runs 1 --warmup 0)

pairs=8
won=0 refused=0 named=0
for i in $(seq 1 $pairs); do
    # different state folders, started together
    FREQPILOT_STATE_DIR=$tmp/sa-$i fp_nvml "${SWEEP[@]}" --out "$tmp/a-$i" -- sleep 0.6 2>"$tmp/ea-$i" &
    a=$!
    FREQPILOT_STATE_DIR=$tmp/sb-$i fp_nvml "${SWEEP[@]}" --out "$tmp/b-$i" -- sleep 0.6 2>"$tmp/eb-$i" &
    b=$!
    wait $a
    ra=$?
    wait $b
    rb=$?
    [ $((ra + rb)) -eq 1 ] && won=$((won + 1))
    for x in a b; do
        if grep -q 'is in use by pid' "$tmp/e$x-$i"; then
            refused=$((refused + 1))
            grep -q "pid [0-9]* (sleep 0.6" "$tmp/e$x-$i" && named=$((named + 1))
        fi
    done
done
check "exactly one sweep of each pair ran ($won of $pairs pairs)" test $won -eq $pairs
check "the other was refused: the GPU is in use ($refused of $pairs)" test $refused -eq $pairs
check "... naming the holder's pid and command ($named of $pairs)" test $named -eq $pairs
check "the GPU is back to its default clocks" test "$(locked_now)" = 0
check "no state file left anywhere" test -z "$(find "$tmp"/sa-* "$tmp"/sb-* -type f 2>/dev/null | head -1)"

# The same state folder, while a sweep runs: refused; the running sweep keeps its lock
# and its state file.
export FREQPILOT_STATE_DIR=$tmp/state
fp_nvml "${SWEEP[@]}" --out "$tmp/c" -- sleep 2 2>"$tmp/ec" &
c=$!
for _ in $(seq 100); do [ "$(locked_now)" = 1 ] && break; sleep 0.05; done
fp_nvml "${SWEEP[@]}" --force --out "$tmp/d" -- true 2>"$tmp/ed"
check "a second sweep, even with --force, is refused while the first runs" test $? -eq 1
check "... the first still holds the GPU locked" test "$(locked_now)" = 1
check "... and its state file" test -n "$(ls "$FREQPILOT_STATE_DIR"/*.json 2>/dev/null)"
fp_nvml restore --all 2>"$tmp/er"
check "restore leaves a GPU in use alone" grep -q 'is in use by' "$tmp/er"
check "... still locked" test "$(locked_now)" = 1
wait $c
check "the first sweep finishes normally" test $? -eq 0
check "... and puts the GPU back" test "$(locked_now)" = 0

# apply leaves the lock (and its state file) for restore; a sweep with another state folder
# sees it through the lease record and refuses.
fp_nvml apply --clock 1005 --state-dir "$tmp/sapply" >/dev/null 2>"$tmp/eapp"
check "apply: locked" test "$(locked_now)" = 1
fp_nvml "${SWEEP[@]}" --out "$tmp/e" -- true 2>"$tmp/ee"
check "a sweep with another state folder is refused" test $? -eq 1
check "... pointing at apply's state file" grep -q "another state folder: freqpilot restore $tmp/sapply/" "$tmp/ee"
check "... the GPU stays at apply's clock" test "$(locked_now)" = 1
fp_nvml restore "$tmp/sapply/GPU-fa4e0000-0000-4000-8000-000000000000.json" >/dev/null 2>&1
check "restore of that file" test "$(locked_now)" = 0
fp_nvml "${SWEEP[@]}" --out "$tmp/e" -- true 2>"$tmp/ee"
check "then the sweep runs" test $? -eq 0
done_testing
