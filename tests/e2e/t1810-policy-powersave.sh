#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The policy added as the registry's demonstration (docs/extending.md): `powersave`, one file
# (src/govern/policy_powersave.c) and one line in src/govern/policies.def. Everything that
# lists or runs policies takes it up by name: the help, `govern policies` and the daemon,
# which holds the GPU's lowest supported clock (`freqpilot gpus`), or the lowest one at or
# above floor=MHZ.
. "$(dirname "$0")/lib.sh"

fp gpus --backend sim --json >"$tmp/gpus.json"
lowest=$(sed -n 's/.*"min_sm_clock_mhz": \([0-9]*\).*/\1/p' "$tmp/gpus.json")
check "the simulated A100's lowest clock is known ($lowest MHz)" test -n "$lowest"

fp govern --help >"$tmp/help"
check "govern --help lists powersave among the policies" grep -qE '^    powersave +the lowest clock' "$tmp/help"
fp govern policies >"$tmp/policies"
check "govern policies shows its setting and default" grep -qE "^    floor=$lowest +the clock held" "$tmp/policies"

FREQPILOT_SIM_WORKLOAD=llama fp -v govern daemon --backend sim --policy powersave --duration 2 \
    --state-dir "$tmp/state" 2>"$tmp/d.err"
check "daemon --policy powersave: exit 0" test $? -eq 0
check "... the GPU is locked at its lowest clock" grep -q "clock 0 -> $lowest MHz" "$tmp/d.err"
check "... and only there" test "$(grep -c 'clock [0-9]* -> ' "$tmp/d.err")" -eq 1
check "... then the clocks are restored" grep -q 'clocks restored' "$tmp/d.err"

FREQPILOT_SIM_WORKLOAD=llama fp -v govern daemon --backend sim --policy powersave \
    --set floor=700 --duration 2 --state-dir "$tmp/state" 2>"$tmp/f.err"
up=$(fp gpus --backend sim --json | tr -d ' \n' | grep -o '"sm_clocks_mhz":\[[0-9,]*\]' |
    tr -dc '0-9,' | tr ',' '\n' | awk '$1 >= 700' | sort -n | head -1)
check "floor=700: the lowest supported clock >= 700 ($up MHz)" grep -q "clock 0 -> $up MHz" "$tmp/f.err"
check "floor=oops: refused" \
    test "$(status fp govern daemon --backend sim --policy powersave --set floor=oops)" -eq 2

done_testing
