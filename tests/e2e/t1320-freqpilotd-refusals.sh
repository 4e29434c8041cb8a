#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# What freqpilotd refuses (tests/e2e/lib-freqpilotd.sh), each with a clear message and
# nothing changed on the GPU (the fake's state and its NVML call log): a user not in the
# policy, a GPU outside the user's rule, a clock or power limit outside the rule's range or
# the GPU's, another user's leases; a sweep that reaches a refused clock stops and leaves
# the GPU as it found it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-freqpilotd.sh"

fpd_user a
A=$FPD_USER
fpd_user c
C=$FPD_USER
fpd_config <<EOF
[service]
socket = $FREQPILOT_SOCKET
state_dir = $tmp/svc-state
[allow narrow]
users = $A
gpus = 0
clocks = 800:1410
power_limit = 150:250
EOF
check "freqpilotd started" fpd_start

before=$(cat "$FAKE_NVML_STATE")
unchanged() { # what: the fake GPUs as before, and no control call reached NVML
    [ "$(cat "$FAKE_NVML_STATE")" = "$before" ] && ! grep -qE 'nvmlDevice(Set|Reset)' "$FAKE_NVML_LOG"
}
refused() { # DESCRIPTION EXPECTED-TEXT CMD...: exit 1, the text on stderr, nothing changed
    local what=$1 text=$2 rc
    shift 2
    : >"$FAKE_NVML_LOG"
    rc=$(status "$@")
    check "$what: refused (exit $rc)" test "$rc" -eq 1
    check "$what: says '$text'" grep -qF -- "$text" "$tmp/err" "$tmp/out"
    check "$what: nothing changed" unchanged
}

refused "a user not in the policy" "user $C (uid $(id -u "$C")) is not in the freqpilotd policy ($tmp/freqpilotd.conf); ask an administrator" \
    as "$C" "$FP" apply --gpu 0 --clock 1005
refused "a user not in the policy, raw lock" '"error":"denied"' \
    as "$C" "$FP" service call '{"op":"lock","gpu":"0","min_mhz":1005,"max_mhz":1005}'
refused "a user not in the policy, power limit" "is not in the freqpilotd policy" \
    as "$C" "$FP" service call '{"op":"power_limit","gpu":"0","watts":200}'
refused "a GPU outside the user's rule" "user $A (uid $(id -u "$A")) may not control GPU 1 (GPU-fa4e0000-0000-4000-8000-000000000001): the policy ($tmp/freqpilotd.conf) grants GPU 0" \
    as "$A" "$FP" apply --gpu 1 --clock 1005
refused "a GPU the service does not have" "no GPU '7' here (2 GPU(s)" \
    as "$A" "$FP" service call '{"op":"lock","gpu":"7","min_mhz":1005,"max_mhz":1005}'
refused "a clock below the rule's range" "lock 705..705 MHz on GPU 0: outside what the policy allows $A (800..1410 MHz allowed, rule 'narrow'); nothing changed" \
    as "$A" "$FP" apply --gpu 0 --clock 705
refused "a range reaching above the rule's" "outside what the policy allows $A (800..1410 MHz allowed" \
    as "$A" "$FP" service call '{"op":"lock","gpu":"0","min_mhz":900,"max_mhz":1500}'
refused "a power limit below the rule's range" "power limit 100 W on GPU 0: outside what the policy allows $A (150..250 W allowed, rule 'narrow'); nothing changed" \
    as "$A" "$FP" service call '{"op":"power_limit","gpu":"0","watts":100}'
refused "root: a power limit outside the GPU's range" "GPU 0: power_limit: 400 W is outside the power-limit range of NVIDIA A100-PCIE-40GB (150..250 W); nothing changed" \
    fp service call '{"op":"power_limit","gpu":"0","watts":400}'
refused "root: a clock outside the GPU's" "GPU 0: lock (min_mhz): 100 MHz is outside the supported clocks of NVIDIA A100-PCIE-40GB (210..1410 MHz); nothing changed" \
    fp service call '{"op":"lock","gpu":"0","min_mhz":100,"max_mhz":100}'
refused "another user's leases" "only root may restore the leases of another user" \
    as "$A" "$FP" service call '{"op":"restore","uid":0}'
refused "reset without a lease" "reset: this connection holds no lease of GPU 0" \
    as "$A" "$FP" service call '{"op":"reset","gpu":"0"}'
rc=$(status as "$A" "$FP" service call '{"op":"lock","gpu":"0","min_mhz":1410,"max_mhz":900}')
check "a malformed request is a usage error before it is sent (exit $rc)" test "$rc" -eq 2
check "... naming what is wrong" grep -q "request: lock: min_mhz is above max_mhz" "$tmp/err"
check "the service logged the refusals" test "$(grep -c 'refused [a-z_]* of ' "$tmp/svc.log")" -eq 7

# A sweep that reaches a refused clock: stops with the service's message, GPU as before.
: >"$FAKE_NVML_LOG"
rc=$(status as "$A" "$FP" profile --clocks 1410,705 --order descending --runs 1 --warmup 0 \
    --out "$tmp/home-$A/ds" -- "$WL")
check "a sweep reaching 705 MHz fails (exit $rc)" test "$rc" -eq 1
check "... with the policy's message" grep -q "outside what the policy allows $A (800..1410 MHz allowed" "$tmp/err"
check "... after the 1410 MHz run" test -e "$tmp/home-$A/ds/A100/marked.sh/1410/1/run.json"
check "... and the GPU is as it was" test "$(cat "$FAKE_NVML_STATE")" = "$before"
check "... restored by the service (the sweep's lock was reset)" grep -q "nvmlDeviceResetGpuLockedClocks(gpu=0) = 0" "$FAKE_NVML_LOG"

# Within the rule all of this works, and goes back when the connection ends.
: >"$FAKE_NVML_LOG"
rc=$(status as "$A" "$FP" service call '{"op":"lock","gpu":"0","min_mhz":800,"max_mhz":1410}')
check "a lock at the rule's edges is allowed (exit $rc)" grep -q '"ok":true,"gpu":"GPU-fa4e0000-0000-4000-8000-000000000000","index":0,"min_mhz":800,"max_mhz":1410,"method":"locked"' "$tmp/out"
check "... and undone when its connection ended" wait_for '[ "$(cat "$FAKE_NVML_STATE")" = "$before" ]' 3
check "the service is still up" eval 'fp service status >/dev/null'
done_testing
