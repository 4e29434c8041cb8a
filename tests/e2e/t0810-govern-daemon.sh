#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# `freqpilot govern daemon` against the fake libnvidia-ml.so.1 (tests/fake_nvml) through the
# real dlopen path: the clock of the detected phase is locked and logged, the Prometheus
# endpoint answers curl on 127.0.0.1 only, and SIGTERM restores the clocks (NVML call log).
# Then llama running on the fake's simulated GPU (FAKE_NVML_WORKLOAD, real time x 10): the
# daemon sees its phases change through NVML and the locks in the call log follow them.
# Then on the simulated GPU (simulated time): clocks follow llama's phases.
. "$(dirname "$0")/lib.sh"

need_fake_nvml
command -v curl >/dev/null || skip_all "curl not installed"

pid=
at_exit '[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null'
export FAKE_NVML_LOG="$tmp/nvml.log"
export FAKE_NVML_GPM=1
export FREQPILOT_STATE_DIR="$tmp/state"


# ---- fake NVML: lock, metrics, SIGTERM ------------------------------------------
# The fake's default load (tests/fake_nvml/steady.ini: SM 80 %, DRAM 55 %) is compute-bound.
: >"$tmp/err"
# Bounded by --duration, not timeout(1): timeout would signal the daemon a second time.
LD_LIBRARY_PATH=$FAKE "$FREQPILOT" -v govern daemon --policy phase --interval-ms 20 --duration 30 \
    --phase-clocks compute=1200,memory=705,host=600,idle=405 --listen 127.0.0.1:0 \
    >"$tmp/out" 2>"$tmp/err" &
pid=$!
port=
for _ in $(seq 1 100); do
    port=$(sed -n 's/.*metrics on http:.* (port \([0-9]*\)).*/\1/p' "$tmp/err")
    if [ -n "$port" ] && grep -q 'clock 0 -> 1200 MHz' "$tmp/err"; then break; fi
    sleep 0.1
done
check "daemon logs the clock change at info level" grep -q 'info: clock 0 -> 1200 MHz (phase compute' "$tmp/err"
check "compute phase locked at its clock" grep -q 'nvmlDeviceSetGpuLockedClocks(gpu=0, 1200, 1200) = 0' "$FAKE_NVML_LOG"
check "no lock at another phase's clock" test "$(grep -c 'SetGpuLockedClocks(gpu=0, 705' "$FAKE_NVML_LOG")" -eq 0
check "state file written while governing" test -n "$(ls "$FREQPILOT_STATE_DIR" 2>/dev/null)"
# The read-back clock appears with the first sample after the lock: poll briefly.
# Every series is labelled with the GPU's index, UUID and name and the host (Grafana).
L='gpu="0",gpu_uuid="GPU-[^"]+",gpu_name="[^"]+",hostname="[^"]*"'
for _ in $(seq 1 30); do
    metrics=$(curl -s --max-time 5 "http://127.0.0.1:$port/metrics")
    grep -Eq "^freqpilot_sm_clock_mhz\{$L\} 1200\$" <<<"$metrics" && break
    sleep 0.1
done
check "metrics: requested clock" grep -Eq "^freqpilot_requested_clock_mhz\{$L\} 1200\$" <<<"$metrics"
check "metrics: SM clock read back" grep -Eq "^freqpilot_sm_clock_mhz\{$L\} 1200\$" <<<"$metrics"
check "metrics: phase" grep -Eq "^freqpilot_phase\{$L,phase=\"compute\"\} 1\$" <<<"$metrics"
check "metrics: power" grep -Eq "^freqpilot_power_watts\{$L\} [0-9.]+\$" <<<"$metrics"
check "metrics: energy" grep -Eq "^freqpilot_energy_joules_total\{$L\} [0-9.]+\$" <<<"$metrics"
check "metrics: estimated saving" grep -Eq "^freqpilot_estimated_saving_ratio\{$L\} [0-9.-]+\$" <<<"$metrics"
check "metrics: labelled with this host" grep -q "hostname=\"$(hostname)\"" <<<"$metrics"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$port/nope")
check "unknown path is 404" test "$code" = 404
# Loopback only: the port must not be bound on a non-loopback address.
check "listening on 127.0.0.1 only" bash -c "! ss -ltnH 2>/dev/null | grep -E ':$port\b' | grep -vq '127.0.0.1:$port'"
kill -TERM "$pid"
wait "$pid"
rc=$?
pid=
check "SIGTERM re-raised after the restore (exit 143)" test $rc -eq 143
last=$(grep -E 'SetGpuLockedClocks|ResetGpuLockedClocks' "$FAKE_NVML_LOG" | tail -1)
check "clocks reset on SIGTERM" grep -q 'nvmlDeviceResetGpuLockedClocks(gpu=0) = 0' <<<"$last"
check "restore logged" grep -q 'clocks restored' "$tmp/err"
check "state file removed" test -z "$(ls "$FREQPILOT_STATE_DIR" 2>/dev/null)"

# ---- bounded run ends by itself and restores -------------------------------------
: >"$FAKE_NVML_LOG"
LD_LIBRARY_PATH=$FAKE timeout 30 "$FREQPILOT" govern daemon --policy static --static-clock 1005 \
    --interval-ms 50 --duration 0.3 2>"$tmp/err2"
check "--duration run exits 0" test $? -eq 0
check "static clock locked" grep -q 'SetGpuLockedClocks(gpu=0, 1005, 1005) = 0' "$FAKE_NVML_LOG"
check "and reset at the end" test "$(tail -n 20 "$FAKE_NVML_LOG" | grep -c 'ResetGpuLockedClocks(gpu=0) = 0')" -ge 1

# ---- a lock NVML refuses: a clear error, nothing left locked ---------------------
: >"$FAKE_NVML_LOG"
FAKE_NVML_FAIL=nvmlDeviceSetGpuLockedClocks:4 LD_LIBRARY_PATH=$FAKE timeout 30 "$FREQPILOT" \
    govern daemon --policy phase --duration 0.3 2>"$tmp/err3"
check "refused lock exits 1" test $? -eq 1
check "refused lock is explained" grep -q 'Insufficient Permissions' "$tmp/err3"

# ---- fake NVML running llama: locks follow the phases ---------------------------
# A100 llama at 10x: model load (idle) ~0.95 s, warm-up + prefill (compute) ~0.3 s, decode
# (memory) ~3 s, then again. Seen only through NVML (GPM activities, utilisation).
: >"$FAKE_NVML_LOG"
start=$(date +%s.%N)
FAKE_NVML_WORKLOAD=llama FAKE_NVML_TIME_SCALE=10 LD_LIBRARY_PATH=$FAKE timeout 30 \
    "$FREQPILOT" -v govern daemon --policy phase --interval-ms 20 --duration 6 \
    --phase-clocks compute=1200,memory=705,host=600,idle=405 2>"$tmp/err5"
rc=$?
elapsed=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
check "llama daemon exits 0" test $rc -eq 0
check "llama daemon bounded in time (${elapsed} s < 15 s)" awk -v e="$elapsed" 'BEGIN { exit !(e < 15) }'
locks=$(grep -oE 'SetGpuLockedClocks\(gpu=0, [0-9]+' "$FAKE_NVML_LOG" | sed 's/.* //' | uniq | paste -sd' ')
check "locks follow idle -> compute -> memory (got: $locks)" grep -Eq '^(405 )?1200 705( |$)' <<<"$locks"
# (the smoothed activities may pass through "host" on the way down to the next model load)
check "...then the next model load is idle again (got: $locks)" grep -Eq '1200 705 (600 )?405' <<<"$locks"
check "daemon logged the compute phase" grep -q 'clock 405 -> 1200 MHz (phase compute' "$tmp/err5"
check "daemon logged the memory phase" grep -q 'clock 1200 -> 705 MHz (phase memory' "$tmp/err5"
# each lock is read back by the daemon at the locked clock (the simulated GPU holds it)
check "locked 705 MHz read back" grep -q 'nvmlDeviceGetClockInfo(gpu=0, 1) = 0 -> 705' "$FAKE_NVML_LOG"
last=$(grep -E 'SetGpuLockedClocks|ResetGpuLockedClocks' "$FAKE_NVML_LOG" | tail -1)
check "llama daemon restored the clocks at the end" grep -q 'nvmlDeviceResetGpuLockedClocks(gpu=0) = 0' <<<"$last"

# ---- simulated GPU: the clock follows llama's phases -----------------------------
FREQPILOT_SIM_WORKLOAD=llama FREQPILOT_SIM_GPU=A100 timeout 60 "$FREQPILOT" -v govern daemon \
    --backend sim --policy phase --phase-clocks compute=1410,memory=900,idle=600,host=600 \
    --interval-ms 50 --duration 40 2>"$tmp/err4"
check "sim daemon exits 0" test $? -eq 0
check "memory phase (decode) gets its clock" grep -q 'clock [0-9]* -> 900 MHz (phase memory' "$tmp/err4"
check "compute phase (prefill) gets its clock" grep -q 'clock [0-9]* -> 1410 MHz (phase compute' "$tmp/err4"
check "idle (model load) gets its clock" grep -q 'clock [0-9]* -> 600 MHz (phase idle' "$tmp/err4"

if [ $test_failures -ne 0 ]; then
    cat "$tmp/err" "$tmp/err4" "$tmp/err5" >&2
    exit 1
fi
