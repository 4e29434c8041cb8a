#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Issue 12, attack 6: a refused lock left a state file. With NVML answering "Insufficient
# Permissions" (to the lock and to its reset, as for a user without the right), profile
# exited 1 but left a state file claiming the clocks were locked, and every later sweep on
# that GPU was refused until `restore`. Now a change the driver refuses is taken back out of
# the record, and a record with nothing to restore is removed (no state file exists before
# the first change). Fake NVML; no root needed.
. "$(dirname "$0")/lib.sh"
use_fake_gpu
SWEEP=(profile --clocks 1410,1005 --runs 1 --warmup 0)

FAKE_NVML_FAIL=nvmlDeviceSetGpuLockedClocks:4,nvmlDeviceResetGpuLockedClocks:4 fp_nvml "${SWEEP[@]}" --out "$tmp/ds1" -- true \
    >"$tmp/out" 2>"$tmp/err"
check "a refused lock: exit 1" test $? -eq 1
check "... saying why" grep -q 'Insufficient Permissions' "$tmp/err"
check "... no state file left" test -z "$(ls -A "$FREQPILOT_STATE_DIR" 2>/dev/null)"
check "... the lease records nothing to restore" grep -q '"state_file": ""' "$FREQPILOT_LOCK_DIR"/*.lock
fp_nvml restore --list >"$tmp/list" 2>&1
check "... restore --list finds nothing" test -z "$(grep -i locked "$tmp/list")"
fp_nvml "${SWEEP[@]}" --out "$tmp/ds2" -- true >"$tmp/out" 2>"$tmp/err"
check "the next sweep runs without 'freqpilot restore' first" test $? -eq 0
check "... and locks" test "$(grep -c 'SetGpuLockedClocks(gpu=0, 1005, 1005) = 0' "$FAKE_NVML_LOG")" -eq 1

# Refused in the middle of a sweep: what was locked before is still restored.
: >"$FAKE_NVML_LOG"
FAKE_NVML_FAIL=nvmlDeviceResetGpuLockedClocks:4 fp_nvml apply --clock 1005 >/dev/null 2>&1
check "apply locks (reset refused only)" test "$(awk '$1==0{print $2}' "$FAKE_NVML_STATE")" = 1
fp_nvml restore >/dev/null 2>&1
check "restore puts it back" test "$(awk '$1==0{print $2}' "$FAKE_NVML_STATE")" = 0
check "... and removes the state file" test -z "$(ls -A "$FREQPILOT_STATE_DIR" 2>/dev/null)"
done_testing
