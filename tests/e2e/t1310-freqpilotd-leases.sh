#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# freqpilotd's leases (tests/e2e/lib-freqpilotd.sh): a client's changes belong to its
# connection. `kill -9` of a sweeping client: the service restores the GPU within 1 s. Two
# users on one GPU: the second is refused with who holds it, and gets it once it is free.
# The service killed with SIGKILL mid-lease: the GPU stays locked until the next instance
# starts, which restores it before serving; SIGTERM mid-lease: restored on the way out.
# A second instance on the same state folder is refused and touches nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-freqpilotd.sh"

fpd_user a
A=$FPD_USER
fpd_user b
B=$FPD_USER
fpd_config <<EOF
[service]
socket = $FREQPILOT_SOCKET
state_dir = $tmp/svc-state
[allow both]
users = $A, $B
gpus = 0, 1
clocks = 800:1410
EOF
check "freqpilotd started" fpd_start

# ---- kill -9 of the client -------------------------------------------------------------
WORK_S=20 as_bg "$A" "$FP" profile --clocks 1005 --runs 1 --warmup 0 --out "$tmp/home-$A/ds" \
    -- "$WL" >"$tmp/a.out" 2>&1
client=$BG
check "$A's sweep locked GPU 0 at 1005 MHz" wait_for '[ "$(gpu_state 0)" = "1 1005 1005 250000" ]' 10
t0=$(date +%s.%N)
orphans=$(pgrep -P "$client")
kill -9 "$client"
wait "$client" 2>/dev/null
wait_for '[ "$(gpu_state 0)" = "0 0 0 250000" ]' 2
t1=$(date +%s.%N)
took=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
echo "# GPU 0 restored $took s after kill -9 of the client"
check "kill -9 of the client: GPU 0 restored by the service within 1 s ($took s)" \
    awk -v t="$took" -v s="$(gpu_state 0)" 'BEGIN { exit !(t <= 1.0 && s == "0 0 0 250000") }'
for w in $orphans; do [ "$(pgid_of "$w")" = "$w" ] && kill -- "-$w" 2>/dev/null; done
check "the service says why" grep -q "GPU 0 (GPU-[0-9a-f-]*) restored and released: the connection of $A (uid [0-9]*, pid $client freqpilot) ended" "$tmp/svc.log"
check "no lease left" test "$(fp service status)" = "no leases"

# ---- two users, one GPU ------------------------------------------------------------------
WORK_S=20 as_bg "$A" "$FP" profile --clocks 1200 --runs 1 --warmup 0 --out "$tmp/home-$A/ds2" \
    -- "$WL" >"$tmp/a.out" 2>&1
client=$BG
check "$A holds GPU 0 (1200 MHz)" wait_for '[ "$(gpu_state 0)" = "1 1200 1200 250000" ]' 10
: >"$FAKE_NVML_LOG"
rc=$(status as "$B" "$FP" apply --gpu 0 --clock 900)
check "$B on the same GPU is refused (exit $rc)" test "$rc" -eq 1
check "... told who holds it" grep -q "GPU 0 (GPU-[0-9a-f-]*) is leased by $A (uid [0-9]*, pid $client freqpilot) since" "$tmp/err"
check "... and nothing changed" test "$(gpu_state 0)" = "1 1200 1200 250000"
check "... not even asked of NVML" test -z "$(grep -E 'Set|Reset' "$FAKE_NVML_LOG")"
rc=$(status as "$B" "$FP" profile --clocks 900 --runs 1 --warmup 0 --out "$tmp/home-$B/ds" -- "$WL")
check "$B's sweep on that GPU is refused before it starts (exit $rc)" test "$rc" -eq 1
check "... with the same message" grep -q "is leased by $A" "$tmp/err"
check "... and no run written" test -z "$(find "$tmp/home-$B/ds" -name run.json 2>/dev/null)"
rc=$(status fp_nvml apply --gpu 0 --clock 900 --state-dir "$tmp/root-state")
check "root's own apply on that GPU is refused by the GPU's lease (exit $rc)" test "$rc" -eq 1
check "... which names freqpilotd and the user it holds the GPU for" grep -q "is in use by .*freqpilotd for $A" "$tmp/err"
check "... and nothing changed" test "$(gpu_state 0)" = "1 1200 1200 250000"
rc=$(status as "$B" "$FP" apply --gpu 1 --clock 900)
check "$B may take the other GPU meanwhile (exit $rc)" test "$rc" -eq 0
check "GPU 1 locked for $B" test "$(gpu_state 1)" = "1 900 900 250000"
fp service status >"$tmp/st"
check "status shows both leases" test "$(grep -c '^GPU [01] ' "$tmp/st")" -eq 2
rc=$(status as "$A" "$FP" restore --force)
check "$A cannot restore $B's GPU: only their own (exit $rc)" test "$(gpu_state 1)" = "1 900 900 250000"
kill -TERM "$client"
wait "$client" 2>/dev/null
check "$A's sweep ended: GPU 0 restored" wait_for '[ "$(gpu_state 0)" = "0 0 0 250000" ]' 3
rc=$(status as "$B" "$FP" apply --gpu 0 --clock 900)
check "now $B gets GPU 0 (exit $rc)" test "$rc" -eq 0
check "GPU 0 locked for $B" test "$(gpu_state 0)" = "1 900 900 250000"

# ---- the service killed mid-lease, then started again -------------------------------------
check "the service keeps a state file per leased GPU" test "$(ls "$tmp/svc-state"/*.json | wc -l)" -eq 2
check "... recording the user it holds the GPU for" grep -q "\"owner_uid\": $(id -u "$B")" "$tmp/svc-state/GPU-fa4e0000-0000-4000-8000-000000000000.json"
fpd_kill9
check "after SIGKILL of the service GPU 0 is still locked" test "$(gpu_state 0)" = "1 900 900 250000"
check "... and GPU 1" test "$(gpu_state 1)" = "1 900 900 250000"
: >"$FAKE_NVML_LOG"
check "the service starts again" fpd_start
check "the new instance restored GPU 0" test "$(gpu_state 0)" = "0 0 0 250000"
check "... and GPU 1" test "$(gpu_state 1)" = "0 0 0 250000"
check "... before it listened (log order)" \
    awk '/restored GPU [01] .* left changed by an earlier freqpilotd/ { r++ } /listening on/ { if (r == 2) ok = 1 } END { exit !ok }' "$tmp/svc.log"
check "its state folder is empty again" test -z "$(ls "$tmp/svc-state"/*.json 2>/dev/null)"
check "no lease survives the restart" test "$(fp service status)" = "no leases"

# A second instance on the same state folder is refused and restores nothing.
rc=$(status as "$A" "$FP" apply --gpu 0 --clock 1005)
check "$A locks GPU 0 again" test "$(gpu_state 0)" = "1 1005 1005 250000"
rc=$(status env LD_LIBRARY_PATH="$FAKE" "$FP" service run --config "$tmp/freqpilotd.conf" \
    --socket "$tmp/run/second.sock")
check "a second instance on the same state folder is refused (exit $rc)" test "$rc" -eq 1
check "... saying why" grep -q "another freqpilotd (pid $FPD_PID) uses this state folder" "$tmp/err"
check "... and GPU 0 stays as the first one holds it" test "$(gpu_state 0)" = "1 1005 1005 250000"
rc=$(status env LD_LIBRARY_PATH="$FAKE" "$FP" service run --config "$tmp/freqpilotd.conf")
check "a second instance on the same socket is refused (exit $rc)" grep -q "another freqpilotd is listening there" "$tmp/err"

# SIGTERM mid-lease: restored on the way out.
fpd_stop
check "SIGTERM mid-lease: GPU 0 restored by the stopping service" test "$(gpu_state 0)" = "0 0 0 250000"
done_testing
