#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# freqpilotd with the fake NVML (tests/e2e/lib-freqpilotd.sh): a throwaway user who is not
# root sweeps clocks with `freqpilot profile` through the service (the CLI picks it and says
# so), the runs hold the clocks asked for, and the GPU is back at its defaults afterwards;
# `apply` keeps a lock after it exits until `restore`; `govern daemon` locks through it;
# without the service the same user gets NVML's refusal and a pointer to freqpilotd.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-freqpilotd.sh"

fpd_user a
A=$FPD_USER
fpd_config <<EOF
[service]
socket = $FREQPILOT_SOCKET
state_dir = $tmp/svc-state
[allow sweepers]
users = $A
gpus = 0
clocks = 800:1410
power_limit = 150:250
EOF

check "service check reads the policy" fp service check --config "$tmp/freqpilotd.conf"
fp service check --config "$tmp/freqpilotd.conf" >"$tmp/check.out"
check "check says what the rule allows" grep -q "rule sweepers: users $A; gpus 0; clocks 800..1410 MHz; power_limit 150..250 W" "$tmp/check.out"

# Without the service: NVML refuses, and the message says where the way round it is.
rc=$(status as "$A" "$FP" apply --gpu 0 --clock 1005)
check "without freqpilotd the user cannot lock (exit $rc)" test "$rc" -eq 1
check "NVML's refusal is shown" grep -q "Insufficient Permissions" "$tmp/err"
check "the message points to freqpilotd" grep -q "through freqpilotd (docs/freqpilotd.md)" "$tmp/err"
check "the message says it tried directly" grep -q "clock control directly through nvml (not root, and no freqpilotd at $FREQPILOT_SOCKET)" "$tmp/err"
check "GPU 0 untouched" test "$(gpu_state 0)" = "0 0 0 250000"

# The service, started under its other name (the binary called freqpilotd).
LD_LIBRARY_PATH=$FAKE "$BUILD/bin/freqpilotd" --config "$tmp/freqpilotd.conf" >>"$tmp/svc.log" 2>&1 &
FPD_PID=$!
check "freqpilotd listens" wait_for "[ -S '$FREQPILOT_SOCKET' ]"
check "the socket is mode 0666 (the policy decides)" test "$(stat -c %a "$FREQPILOT_SOCKET")" = 666
check "its log says where it listens" grep -q "listening on $FREQPILOT_SOCKET (mode 0666), 2 GPU(s), 1 rule(s)" "$tmp/svc.log"

as "$A" "$FP" service info --gpu 0 >"$tmp/info" 2>&1
check "info: supported clocks" grep -q "supported clocks: 81, 210..1410 MHz" "$tmp/info"
check "info: what the user may set" grep -q "you may set: clocks 800..1410 MHz, power limit 150..250 W (rule 'sweepers')" "$tmp/info"
as "$A" "$FP" service info --gpu 1 >"$tmp/info1" 2>&1
check "info: GPU 1 is not the user's" grep -q "you may set: nothing: user $A (uid [0-9]*) may not control GPU 1" "$tmp/info1"

# A sweep as the user, through the service, without being asked.
: >"$FAKE_NVML_LOG"
rc=$(status as "$A" "$FP" profile --clocks 1410,1005,810 --runs 2 --warmup 0 --out "$tmp/home-$A/ds" -- "$WL")
check "profile as $A exits 0 ($rc)" test "$rc" -eq 0
check "profile says it goes through freqpilotd" grep -q "freqpilot profile: clock control through freqpilotd at $FREQPILOT_SOCKET (not root)" "$tmp/err"
check "6 runs written by the user" test "$(find "$tmp/home-$A/ds" -name run.json -user "$A" | wc -l)" -eq 6
check "the service locked each clock" test "$(grep -c 'nvmlDeviceSetGpuLockedClocks(gpu=0, \(1410, 1410\|1005, 1005\|810, 810\)) = 0' "$FAKE_NVML_LOG")" -eq 6
for f in 1410 1005 810; do
    t=$(ls "$tmp/home-$A/ds/A100/marked.sh/$f"/*/telemetry.csv | head -1)
    c=$(csvcol "$t" sm_clock_mhz)
    check "telemetry at $f MHz reads $f MHz (the user's own NVML sampler)" \
        test "$(awk -F, -v c="$c" 'NR > 1 { print $c }' "$t" | sort -u)" = "$f"
    check "run.json at $f MHz: clock held" grep -q '"clock_not_held": false' "$(dirname "$t")/run.json"
done
check "GPU 0 back at its defaults after the sweep" test "$(gpu_state 0)" = "0 0 0 250000"
check "the service restored it" grep -q "nvmlDeviceResetGpuLockedClocks(gpu=0) = 0" "$FAKE_NVML_LOG"
check "the service logged the lease and its end" grep -q "GPU 0 (GPU-[0-9a-f-]*) restored and released: released by $A" "$tmp/svc.log"
check "no lease left" test "$(fp service status)" = "no leases"

# apply keeps the lock after it exits; restore gives it back.
rc=$(status as "$A" "$FP" apply --gpu 0 --clock 1005)
check "apply as $A exits 0 ($rc)" test "$rc" -eq 0
check "apply says freqpilotd keeps the GPU" grep -q "freqpilotd ($FREQPILOT_SOCKET) keeps GPU GPU-[0-9a-f-]* as it is for user $A" "$tmp/out"
check "GPU 0 stays locked at 1005 MHz" test "$(gpu_state 0)" = "1 1005 1005 250000"
fp service status >"$tmp/st"
check "status: the lease is kept for $A after apply" grep -q "GPU 0 GPU-[0-9a-f-]*: $A (uid [0-9]*) pid [0-9]* freqpilot since .*, kept after apply: locked 1005..1005 MHz" "$tmp/st"
rc=$(status as "$A" "$FP" restore)
check "restore as $A exits 0 ($rc)" test "$rc" -eq 0
check "restore says what freqpilotd did" grep -q "freqpilotd restored GPU 0 (GPU-[0-9a-f-]*) of uid [0-9]* and ended its lease" "$tmp/out"
check "restore said it went through freqpilotd" grep -q "freqpilot restore: clock control through freqpilotd" "$tmp/err"
check "GPU 0 back at its defaults after restore" test "$(gpu_state 0)" = "0 0 0 250000"

# A power limit through the protocol, in range: set on the connection, back when it ends.
rc=$(status as "$A" "$FP" service call '{"op":"power_limit","gpu":"0","watts":200,"id":3}')
check "power_limit 200 W answered ok" grep -q '"ok":true.*"watts":200.*"id":3' "$tmp/out"
check "the limit was set ..." grep -q "nvmlDeviceSetPowerManagementLimit(gpu=0, 200000) = 0" "$FAKE_NVML_LOG"
# (the service restores when it sees the connection end: a moment after the client exits)
check "... and restored when the connection ended" wait_for '[ "$(gpu_state 0)" = "0 0 0 250000" ]' 3

# The governor as the user: its clock changes go through the service too.
: >"$FAKE_NVML_LOG"
rc=$(status as "$A" "$FP" govern daemon --policy static --static-clock 1005 --duration 0.5)
check "govern daemon as $A exits 0 ($rc)" test "$rc" -eq 0
check "govern daemon says it goes through freqpilotd" grep -q "freqpilot govern daemon: clock control through freqpilotd" "$tmp/err"
check "the governor's clock was locked by the service" grep -q "nvmlDeviceSetGpuLockedClocks(gpu=0, 1005, 1005) = 0" "$FAKE_NVML_LOG"
check "and restored after it" test "$(gpu_state 0)" = "0 0 0 250000"

# Root still goes directly, and says so.
rc=$(status fp_nvml apply --gpu 1 --clock 1200 --state-dir "$tmp/root-state")
check "root applies directly ($rc)" grep -q "freqpilot apply: clock control directly through nvml (root)" "$tmp/err"
fp_nvml restore --state-dir "$tmp/root-state" >/dev/null 2>&1
check "root's lock restored by restore" test "$(gpu_state 1)" = "0 0 0 250000"

# SIGTERM: the service stops cleanly and removes its socket.
fpd_stop
check "the socket is gone after SIGTERM" test ! -e "$FREQPILOT_SOCKET"
check "its log says it restored every lease" grep -q "stopping: restoring every lease" "$tmp/svc.log"
done_testing
