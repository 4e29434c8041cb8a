#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Issue 12, attack 2: writes through symbolic links. stdout.txt and stderr.txt were opened
# by root without O_NOFOLLOW, run.json went through fixed temporary names, and a state
# folder the user could write took fixed temporary names too: a root-only file ended up
# holding what the workload printed. Now the dataset is written by a process acting as the
# user (a link leads nowhere the user could not write anyway; stdout/stderr refuse links),
# temporary names are fresh, and a state folder anyone else can write is refused.
# As root for a throwaway user (sudo simulated), with the fake NVML.
. "$(dirname "$0")/lib.sh"
use_fake_gpu
need_throwaway_user

for f in out err json base; do
    echo "root secret $f" >"$tmp/secret-$f"
    chmod 600 "$tmp/secret-$f"
done
secrets_intact() {
    local f
    for f in out err json base; do
        [ "$(stat -c '%U %a' "$tmp/secret-$f")" = "root 600" ] || return 1
        [ "$(cat "$tmp/secret-$f")" = "root secret $f" ] || return 1
    done
}
printf '#!/bin/sh\necho PRINTED-BY-WORKLOAD\necho PRINTED-TO-STDERR >&2\n' >"$tmp/u/wl.sh"
chmod 755 "$tmp/u/wl.sh"
SWEEP=(profile --clocks 1410 --runs 1 --warmup 0 --app wl)

# ---- links planted where the workload's output goes -------------------------------------
rd=$tmp/u/ds1/A100/wl/1410/1
as_user mkdir -p "$rd"
as_user ln -s "$tmp/secret-out" "$rd/stdout.txt"
as_user ln -s "$tmp/secret-err" "$rd/stderr.txt"
as_sudo fp_nvml "${SWEEP[@]}" --out "$tmp/u/ds1" -- "$tmp/u/wl.sh" >"$tmp/out" 2>"$tmp/err"
rc=$?
check "links at stdout.txt/stderr.txt: the run is refused (rc $rc)" test $rc -eq 1
check "... naming the link" grep -q 'stdout.txt.*symbolic links' "$tmp/err"
check "... the root-only files untouched" secrets_intact
check "... the GPU put back" test "$(locked_now)" = 0

# ---- links on the temporary names of run.json (fixed names in the old code) --------------
rd=$tmp/u/ds2/A100/wl/1410/1
as_user mkdir -p "$rd"
as_user ln -s "$tmp/secret-json" "$rd/.run.json.tmp"
as_user ln -s "$tmp/secret-base" "$rd/.run.json.base"
as_sudo fp_nvml "${SWEEP[@]}" --out "$tmp/u/ds2" -- "$tmp/u/wl.sh" >"$tmp/out" 2>"$tmp/err"
check "links at run.json's old temporary names: the run is written" test $? -eq 0
check "... the root-only files untouched" secrets_intact
check "... run.json is a file of the user's" test "$(stat -c '%U %F' "$rd/run.json")" = "$TU regular file"
check "... stdout.txt holds the workload's output" grep -qx PRINTED-BY-WORKLOAD "$rd/stdout.txt"

# ---- the whole dataset is the user's ----------------------------------------------------
check "every file and folder of the dataset is the user's" test -z "$(find "$tmp/u/ds2" ! -user "$TU" | head -3)"
check "no temporary file left behind" test -z "$(find "$tmp/u/ds2" -name '*.tmp.*' -o -name '.run.json.base.*' | head -3)"
check "the user can delete it" as_user rm -rf "$tmp/u/ds2"

# ---- a dataset where the user may not write: refused as the user would be ----------------
mkdir -m 755 "$tmp/rootonly"
as_sudo fp_nvml "${SWEEP[@]}" --out "$tmp/rootonly/ds" -- "$tmp/u/wl.sh" >"$tmp/out" 2>"$tmp/err"
check "--out in a root-only folder: refused (the user could not write there)" test $? -eq 1
check "... nothing created" test -z "$(ls -A "$tmp/rootonly")"

# ---- a state folder the user can write: refused before anything changes ------------------
as_user mkdir "$tmp/u/state"
: >"$FAKE_NVML_LOG"
FREQPILOT_STATE_DIR=$tmp/u/state as_sudo fp_nvml "${SWEEP[@]}" --out "$tmp/u/ds3" -- "$tmp/u/wl.sh" \
    >"$tmp/out" 2>"$tmp/err"
check "a state folder owned by the user: refused" test $? -eq 1
check "... saying why" grep -q "owned by uid $TU_UID, not by uid 0" "$tmp/err"
check "... no clock touched" test "$(grep -c 'SetGpuLockedClocks' "$FAKE_NVML_LOG")" -eq 0
check "... nothing written in it" test -z "$(ls -A "$tmp/u/state")"
mkdir -m 777 "$tmp/state777"
FREQPILOT_STATE_DIR=$tmp/state777 as_sudo fp_nvml "${SWEEP[@]}" --out "$tmp/u/ds4" -- "$tmp/u/wl.sh" \
    >"$tmp/out" 2>"$tmp/err"
check "a world-writable state folder: refused" grep -q 'writable by others (mode 0777)' "$tmp/err"
check "... no clock touched" test "$(grep -c 'SetGpuLockedClocks' "$FAKE_NVML_LOG")" -eq 0
check "the root-only files are untouched at the end" secrets_intact
done_testing
