#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# freqpilot apply on the simulated GPU: the lock is recorded in a state file before the
# process leaves, a second apply is refused without --force, restore removes the file.
. "$(dirname "$0")/lib.sh"
sd=$tmp/state
state=$sd/GPU-SIM-A100-0000-0000-0000-000000000000.json

"$FP" apply --backend sim --gpu sim:A100 --clock 1000 --state-dir "$sd" >"$tmp/out" 2>"$tmp/err"
check "apply: exit 0" test $? -eq 0
check "apply: snaps 1000 to the supported 1005 MHz and says so" grep -q "using 1005 MHz" "$tmp/err"
check "apply: reports the clock reached" grep -q "reached 1005 MHz" "$tmp/out"
check "apply: state file left behind" test -f "$state"
check "apply: state records the lock" \
    bash -c "grep -q '\"locked_clocks\": true' '$state' && grep -q '\"locked_max_mhz\": 1005' '$state'"
"$FP" apply --backend sim --gpu sim:A100 --clock 900 --state-dir "$sd" >/dev/null 2>"$tmp/err2"
check "apply: a second apply is refused without --force" test $? -eq 1
check "apply: the refusal names restore" grep -q "freqpilot restore" "$tmp/err2"
"$FP" apply --backend sim --gpu sim:A100 --clock 900 --state-dir "$sd" --force >/dev/null 2>&1
check "apply --force: exit 0" test $? -eq 0
check "apply --force: new clock recorded" grep -q '"locked_max_mhz": 900' "$state"
"$FP" restore --state-dir "$sd" >/dev/null 2>&1
check "restore: exit 0" test $? -eq 0
check "restore: state file removed" test ! -e "$state"

# --from optimal.json --app: the clock optimize chose for this GPU model.
cat >"$tmp/opt.json" <<'JSON'
{"baseline": "max", "results": [
 {"gpu": "A100", "app": "llama", "objective": "energy", "max_slowdown": 0.05, "freq_mhz": 1110,
  "baseline_mhz": 1410, "feasible": true, "flags": "", "verdict": "deployable"},
 {"gpu": "A100", "app": "vit", "objective": "energy", "max_slowdown": 0.05, "freq_mhz": 615,
  "baseline_mhz": 1395, "feasible": true, "flags": "not_clock_bound",
  "verdict": "suspect: not a DVFS effect", "verdict_reason": "time is not explained by the clock"},
 {"gpu": "V100", "app": "llama", "objective": "energy", "max_slowdown": 0.05, "freq_mhz": 1200,
  "baseline_mhz": 1380, "feasible": true, "flags": "", "verdict": "deployable"}]}
JSON
"$FP" apply --backend sim --gpu sim:A100 --from "$tmp/opt.json" --app LLaMA --state-dir "$sd" >"$tmp/out3" 2>&1
check "apply --from: exit 0 (app matched case-insensitively)" test $? -eq 0
check "apply --from: the A100 choice (1110 MHz)" grep -q "at 1110 MHz" "$tmp/out3"
"$FP" restore --state-dir "$sd" >/dev/null 2>&1
"$FP" apply --backend sim --gpu sim:H100 --from "$tmp/opt.json" --app llama --state-dir "$sd" >/dev/null 2>"$tmp/err4"
check "apply --from: no recommendation for this GPU -> exit 1" test $? -eq 1
check "apply --from: nothing left changed" test -z "$(ls "$sd" 2>/dev/null)"
# Only deployable recommendations are applied: a suspect one is refused with its verdict.
"$FP" apply --backend sim --gpu sim:A100 --from "$tmp/opt.json" --app vit --state-dir "$sd" \
    >/dev/null 2>"$tmp/err5"
check "apply --from: a suspect recommendation -> exit 1" test $? -eq 1
check "apply --from: says why (verdict and reason)" \
    grep -q "suspect: not a DVFS effect.*not explained by the clock" "$tmp/err5"
check "apply --from: suspect: nothing changed" test -z "$(ls "$sd" 2>/dev/null)"
"$FP" apply --backend sim --gpu sim:A100 --from "$tmp/opt.json" --app vit --state-dir "$sd" \
    --force >"$tmp/out6" 2>"$tmp/err6"
check "apply --from --force: applies it anyway, with a warning" \
    bash -c "grep -q 'at 615 MHz' '$tmp/out6' && grep -q 'force' '$tmp/err6'"
"$FP" restore --state-dir "$sd" >/dev/null 2>&1

"$FP" apply --backend sim --gpu sim:A100 >/dev/null 2>&1
check "usage: no clock -> exit 2" test $? -eq 2
"$FP" apply --backend nvml --clock 900 --state-dir "$sd" >/dev/null 2>"$tmp/err5"
rc=$?
if [ $rc -eq 1 ]; then
    check "nvml without a driver: a clear message" grep -qi "nvml" "$tmp/err5"
else
    ok "nvml backend present on this machine (rc $rc): skipped the no-driver check"
    "$FP" restore --state-dir "$sd" >/dev/null 2>&1
fi
done_testing
