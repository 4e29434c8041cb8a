#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Issue 12, attack 5: state files were trusted blindly (no owner, mode, link or regular-file
# check; a 0777/1777 state folder was fine). A planted file naming another GPU made
# `restore --all` set that GPU's power limit to 150 W; a file with an empty "restore" left a
# GPU locked at 810 MHz while reporting "restored"; "pid": 1 blocked restore forever.
# Now (include/freqpilot/statefile.h): the folder must be root's and not group/world-
# writable, the file a regular file of root's naming the GPU it sits under, parsed strictly;
# ownership is decided by the GPU lease, not by a pid. As root for a throwaway user.
. "$(dirname "$0")/lib.sh"
use_fake_gpu
need_throwaway_user
export FAKE_NVML_GPUS=2
U0=GPU-fa4e0000-0000-4000-8000-000000000000
U1=GPU-fa4e0000-0000-4000-8000-000000000001
power_sets() { grep -c 'SetPowerManagementLimit' "$FAKE_NVML_LOG" 2>/dev/null || true; }
# state UUID INDEX LOCKED(true|false) RESTORE_POWER_W|null PID
state() {
    local pw=false
    [ "$4" != null ] && pw=true
    printf '{"format": "freqpilot-state", "format_version": 1, "backend": "nvml", "gpu_index": %s,
 "gpu_uuid": "%s", "pid": %s,
 "changed": {"locked_clocks": %s, "app_clocks": false, "power_limit": %s},
 "restore": {"reset_locked_clocks": %s, "reset_app_clocks": false, "power_limit_w": %s}}\n' \
        "$2" "$1" "$5" "$3" "$pw" "$3" "$4"
}

# ---- a folder anyone can write, with a file planted by the user -------------------------
for mode in 777 1777; do
    d=$tmp/open-$mode
    mkdir -m "$mode" "$d"
    as_user sh -c "cat >'$d/$U0.json'" <<<"$(state "$U1" 1 false 150 0)"
    : >"$FAKE_NVML_LOG"
    FREQPILOT_STATE_DIR=$d as_sudo fp_nvml restore --all >"$tmp/out" 2>"$tmp/err"
    check "$mode state folder: restore refuses it" grep -q "is writable by others (mode $(printf %04d "$mode"))" "$tmp/err"
    check "$mode state folder: no power limit set" test "$(power_sets)" -eq 0
    FREQPILOT_STATE_DIR=$d as_sudo fp_nvml profile --clocks 1410 --runs 1 --warmup 0 \
        --out "$tmp/u/ds" -- true >"$tmp/out" 2>"$tmp/err"
    check "$mode state folder: profile refuses it too" grep -q 'writable by others' "$tmp/err"
    check "$mode state folder: no clock touched" test "$(grep -c SetGpuLockedClocks "$FAKE_NVML_LOG")" -eq 0
done

# ---- a folder of the user's, a file of the user's in root's folder, a link --------------
as_user mkdir "$tmp/u/state"
state "$U0" 0 true null 0 | as_user sh -c "cat >'$tmp/u/state/$U0.json'"
FREQPILOT_STATE_DIR=$tmp/u/state as_sudo fp_nvml restore --all >"$tmp/out" 2>"$tmp/err"
check "a state folder owned by the user: refused" grep -q "owned by uid $TU_UID, not by uid 0" "$tmp/err"
mkdir -m 755 "$tmp/state"
state "$U0" 0 true null 0 >"$tmp/state/$U0.json"
chown "$TU" "$tmp/state/$U0.json"
: >"$FAKE_NVML_LOG"
FREQPILOT_STATE_DIR=$tmp/state as_sudo fp_nvml restore --all >"$tmp/out" 2>"$tmp/err"
check "a state file owned by the user: refused" grep -q "$U0.json is owned by uid $TU_UID" "$tmp/err"
FREQPILOT_STATE_DIR=$tmp/state as_sudo fp_nvml profile --force --clocks 1410 --runs 1 \
    --warmup 0 --out "$tmp/u/ds" -- true >"$tmp/out" 2>"$tmp/err"
check "--force does not bypass the ownership check" grep -q "owned by uid $TU_UID" "$tmp/err"
check "... no clock touched" test "$(grep -c SetGpuLockedClocks "$FAKE_NVML_LOG")" -eq 0
rm -f "$tmp/state/$U0.json"
state "$U0" 0 true null 0 >"$tmp/elsewhere.json"
ln -s "$tmp/elsewhere.json" "$tmp/state/$U0.json"
fp_nvml restore --all --state-dir "$tmp/state" >"$tmp/out" 2>"$tmp/err"
check "a symbolic link as state file: refused" grep -q "$U0.json: a symbolic link" "$tmp/err"
rm -f "$tmp/state/$U0.json"

# ---- under sudo the user does not choose where root writes state -------------------------
for cmd in "profile --clocks 1410 --runs 1 --out $tmp/u/ds2" "apply --clock 1005" "restore --all"; do
    # shellcheck disable=SC2086
    as_sudo fp_nvml $cmd --state-dir "$tmp/u/state" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    check "sudo freqpilot ${cmd%% *} --state-dir: a usage error (rc $rc)" test $rc -eq 2
    check "... saying why" grep -q -- '--state-dir .*: not under sudo' "$tmp/err"
done
check "... nothing written in the user's folder" test -z "$(ls -A "$tmp/u/state" | grep -v "^$U0.json$")"

# ---- a root-owned file naming another GPU than its name -----------------------------------
state "$U1" 1 false 150 0 >"$tmp/state/$U0.json"
: >"$FAKE_NVML_LOG"
fp_nvml restore --all --state-dir "$tmp/state" >"$tmp/out" 2>"$tmp/err"
check "a file naming another GPU: refused (exit 1)" test $? -eq 1
check "... saying so" grep -q "names GPU $U1, whose state file is" "$tmp/err"
check "... GPU 1's power limit left alone" test "$(power_sets)" -eq 0
rm -f "$tmp/state/$U0.json"

# ---- an empty "restore" is not "nothing to do" ---------------------------------------------
fp_nvml apply --clock 810 --state-dir "$tmp/state" >/dev/null 2>&1
check "apply locked GPU 0 at 810 MHz" test "$(locked_now 0)" = 1
sed -z -i 's/"restore": {[^}]*}/"restore": {}/' "$tmp/state/$U0.json"
check "the state file now has an empty restore" grep -q '"restore": {}' "$tmp/state/$U0.json"
fp_nvml restore --all --state-dir "$tmp/state" >"$tmp/out" 2>"$tmp/err"
check "empty restore: exit 1" test $? -eq 1
check "... naming what is missing" grep -q '"reset_locked_clocks": expected true or false' "$tmp/err"
check "... never reporting 'restored'" test -z "$(grep -i restored "$tmp/out")"
rm -f "$tmp/state/$U0.json"
fp_nvml restore --all --state-dir "$tmp/state" >/dev/null 2>&1

# ---- "pid": 1 (alive, not freqpilot) does not block restore: the lease decides -------------
fp_nvml apply --clock 810 --state-dir "$tmp/state" >/dev/null 2>&1
sed -i 's/"pid": [0-9]*/"pid": 1/' "$tmp/state/$U0.json"
check "the state file now claims pid 1" grep -q '"pid": 1,' "$tmp/state/$U0.json"
fp_nvml restore --all --state-dir "$tmp/state" >"$tmp/out" 2>"$tmp/err"
check "restore with \"pid\": 1: exit 0" test $? -eq 0
check "... the GPU unlocked" test "$(locked_now 0)" = 0
check "... the file removed" test ! -e "$tmp/state/$U0.json"
done_testing
