#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Issue 12, attack 7: `apply --from` trusted freq_mhz: -1065 or 0 locked the GPU at its
# minimum (210 MHz), 1e20 or 4294968706 (2^32 + 1410) at 1410 MHz, exit 0 with a warning.
# Now every clock and power limit read from a file (optimize JSON for apply and the daemon,
# state files) or given on the command line is checked against the GPU's own supported
# clocks and power-limit range (fp_gpu_check_clock/_power_limit): outside -> an error,
# nothing changed (values that are no clock at all are already refused by the optimize JSON
# reader, docs/formats.md). Fake NVML (A100: 210..1410 MHz); no root needed.
. "$(dirname "$0")/lib.sh"
use_fake_gpu
U0=GPU-fa4e0000-0000-4000-8000-000000000000
nothing_changed() {
    [ "$(grep -cE 'SetGpuLockedClocks|SetApplicationsClocks|SetPowerManagementLimit' "$FAKE_NVML_LOG")" -eq 0 ] &&
        [ -z "$(ls -A "$FREQPILOT_STATE_DIR" 2>/dev/null)" ]
}
opt() { # an optimize JSON with freq_mhz $1, claiming whatever passes apply's other checks
    printf '{"baseline": "max", "results": [{"gpu": "A100", "app": "llama", "objective": "energy",
 "max_slowdown": 0.05, "freq_mhz": %s, "baseline_mhz": 1410, "feasible": true, "flags": "",
 "verdict": "deployable", "verdict_reason": ""}]}\n' "$1" >"$tmp/opt.json"
}

# Not a clock at all: refused by the optimize JSON reader or by the range check, naming the
# file; either way nothing changes.
for f in -1065 0 1e20 4294968706; do
    opt "$f"
    : >"$FAKE_NVML_LOG"
    fp_nvml apply --from "$tmp/opt.json" --app llama >"$tmp/out" 2>"$tmp/err"
    rc=$?
    check "apply --from with freq_mhz $f: exit 1 (rc $rc)" test $rc -eq 1
    check "... the message names the file and freq_mhz" grep -q "opt.json.*freq_mhz" "$tmp/err"
    check "... nothing changed" nothing_changed
done
# A clock, but not one this GPU has: the range check against the device's own table.
for f in 1411 5000 100; do
    opt "$f"
    : >"$FAKE_NVML_LOG"
    fp_nvml apply --from "$tmp/opt.json" --app llama >"$tmp/out" 2>"$tmp/err"
    rc=$?
    check "apply --from with freq_mhz $f: exit 1 (rc $rc)" test $rc -eq 1
    check "... the message names the file, the value and the GPU's range" grep -q "opt.json: freq_mhz for app 'llama': $f MHz is outside the supported clocks of .* (210..1410 MHz); nothing changed" "$tmp/err"
    check "... nothing changed" nothing_changed
done
: >"$FAKE_NVML_LOG"
fp_nvml apply --from "$tmp/opt.json" --app llama --force >"$tmp/out" 2>"$tmp/err"
check "--force does not bypass the range check (freq_mhz $f)" test $? -eq 1
check "... nothing changed" nothing_changed
opt 1005
: >"$FAKE_NVML_LOG"
fp_nvml apply --from "$tmp/opt.json" --app llama >"$tmp/out" 2>"$tmp/err"
check "apply --from with freq_mhz 1005 (in range): locked" grep -q 'SetGpuLockedClocks(gpu=0, 1005, 1005) = 0' "$FAKE_NVML_LOG"
fp_nvml restore >/dev/null 2>&1
for c in 5000 100; do
    : >"$FAKE_NVML_LOG"
    fp_nvml apply --clock $c >"$tmp/out" 2>"$tmp/err"
    check "apply --clock $c: exit 1" test $? -eq 1
    check "... outside the supported clocks, nothing changed" bash -c "grep -q 'outside the supported clocks' '$tmp/err' && [ \$(grep -c SetGpuLockedClocks '$FAKE_NVML_LOG') -eq 0 ]"
done

# The governor: a static clock from an optimize JSON, phase clocks on the command line.
opt 4294968706
: >"$FAKE_NVML_LOG"
fp_nvml govern daemon --policy static --optimize "$tmp/opt.json" --app llama --duration 0.3 \
    >"$tmp/out" 2>"$tmp/err"
check "govern daemon --optimize with 2^32 + 1410 MHz: exit 1" test $? -eq 1
check "... nothing changed" nothing_changed
opt 5000
fp_nvml govern daemon --policy static --optimize "$tmp/opt.json" --app llama --duration 0.3 \
    >"$tmp/out" 2>"$tmp/err"
check "govern daemon --optimize with 5000 MHz: exit 1" test $? -eq 1
check "... outside the supported clocks" grep -q 'static clock.*outside the supported clocks' "$tmp/err"
check "... nothing changed" nothing_changed
fp_nvml govern daemon --policy phase --phase-clocks compute=3000,memory=705 --duration 0.3 \
    >"$tmp/out" 2>"$tmp/err"
check "govern daemon --phase-clocks compute=3000: exit 1" test $? -eq 1
check "... naming the phase" grep -q 'compute phase clock.*outside the supported clocks' "$tmp/err"
check "... nothing changed" nothing_changed

# A state file asking for a power limit the GPU does not have: refused before any change.
mkdir -m 755 -p "$FREQPILOT_STATE_DIR"
for w in 5 100000000 -150; do
    printf '{"format": "freqpilot-state", "format_version": 1, "backend": "nvml", "gpu_index": 0,
 "gpu_uuid": "%s", "pid": 0,
 "changed": {"locked_clocks": true, "app_clocks": false, "power_limit": true},
 "restore": {"reset_locked_clocks": true, "reset_app_clocks": false, "power_limit_w": %s}}\n' \
        "$U0" "$w" >"$FREQPILOT_STATE_DIR/$U0.json"
    : >"$FAKE_NVML_LOG"
    fp_nvml restore >"$tmp/out" 2>"$tmp/err"
    check "state file with power_limit_w $w: restore exits 1" test $? -eq 1
    check "... saying why" grep -q 'power_limit_w' "$tmp/err"
    check "... no power limit set, no clock reset" test "$(grep -cE 'SetPowerManagementLimit|ResetGpuLockedClocks' "$FAKE_NVML_LOG")" -eq 0
done
rm -f "$FREQPILOT_STATE_DIR/$U0.json"
done_testing
