#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# `freqpilot profile --backend nvml` through the real dlopen path against the fake
# libnvidia-ml.so.1 (tests/fake_nvml): every clock locked and read back, a dataset that
# `freqpilot aggregate` loads, markers (stdout and FIFO), a workload crash, clear errors for
# NVML_ERROR_NO_PERMISSION and a missing library, a missing optional symbol.
. "$(dirname "$0")/lib.sh"
DATA=$DATA/profile
use_fake_gpu
# fake state line: "0 locked lo hi app am ag limit_mw"

# ---- a normal sweep ------------------------------------------------------------
fp_nvml profile --clocks 1410,1200,1000 --runs 2 --warmup 1 --out "$tmp/ds" \
    -- "$DATA/marked.sh" >"$tmp/out" 2>"$tmp/err"
rc=$?
check "profile exits 0" test $rc -eq 0
# 1000 snaps to 1005 (the A100 table is 210 + 15k MHz)
for f in 1410 1200 1005; do
    check "$f MHz locked before its runs" grep -q "nvmlDeviceSetGpuLockedClocks(gpu=0, $f, $f) = 0" "$FAKE_NVML_LOG"
done
n_lock=$(grep -c 'nvmlDeviceSetGpuLockedClocks(gpu=0' "$FAKE_NVML_LOG")
check "one lock per run (9 = 3 clocks x (2 + 1 warm-up))" test "$n_lock" -eq 9
# read back: each lock is followed by a clock read before the workload starts
check "each lock is read back" test "$(awk '/SetGpuLockedClocks/{want=1; next} want && /nvmlDeviceGetClockInfo\(gpu=0, 1\)/{n++; want=0} END{print n+0}' "$FAKE_NVML_LOG")" -eq 9
check "clocks reset at the end" test "$(tail -n 20 "$FAKE_NVML_LOG" | grep -c 'nvmlDeviceResetGpuLockedClocks(gpu=0) = 0')" -ge 1
check "fake GPU unlocked after normal exit" test "$(locked_now)" = 0
check "no state file left" test -z "$(ls -A "$FREQPILOT_STATE_DIR" 2>/dev/null)"
check "9 run.json" test "$(find "$tmp/ds" -name run.json | wc -l)" -eq 9
check "manifest written" grep -q '"clocks_mhz"' "$tmp/ds/manifest.json"
rj="$tmp/ds/A100/marked.sh/1200/1/run.json"
check "run.json: achieved clock read back" grep -q '"readback_clock_mhz": 1200' "$rj"
check "run.json: marker window" grep -q '"window_source": "marker"' "$rj"
ws=$(sed -n 's/.*"window_start_s": \([0-9.e-]*\).*/\1/p' "$rj")
we=$(sed -n 's/.*"window_end_s": \([0-9.e-]*\).*/\1/p' "$rj")
# marked.sh sleeps 0.1 s, marks, works 0.3 s, marks: the window is about 0.3 s long
check "marker window ~0.3 s long (got $ws..$we)" awk -v a="$ws" -v b="$we" 'BEGIN{d=b-a; exit !(a>=0.05 && a<0.6 && d>0.25 && d<0.6)}'
check "stdout captured" grep -q 'FREQPILOT_MARK begin' "$tmp/ds/A100/marked.sh/1200/1/stdout.txt"
check "stderr captured" grep -q 'some error text' "$tmp/ds/A100/marked.sh/1200/1/stderr.txt"
check "telemetry has rows" test "$(wc -l <"$tmp/ds/A100/marked.sh/1200/1/telemetry.csv")" -ge 5
fp_nvml aggregate "$tmp/ds" >"$tmp/agg.csv" 2>"$tmp/agg.err"
check "aggregate loads the dataset" test $? -eq 0
check "aggregate: 3 clocks" test "$(tail -n +2 "$tmp/agg.csv" | wc -l)" -eq 3
check "aggregate: 2 runs per clock (warm-ups excluded)" test "$(tail -n +2 "$tmp/agg.csv" | cut -d, -f4 | sort -u)" = 2

# ---- the FIFO marker ---------------------------------------------------------------
MARK_VIA=pipe fp_nvml profile --clocks 1410 --runs 1 --warmup 0 --out "$tmp/dsp" -- "$DATA/marked.sh" 2>"$tmp/err"
check "FIFO sweep exits 0" test $? -eq 0
check "run.json: pipe window" grep -q '"window_source": "pipe"' "$tmp/dsp/A100/marked.sh/1410/1/run.json"

# ---- a workload crash ----------------------------------------------------------------
: >"$FAKE_NVML_LOG"
fp_nvml profile --clocks 1410,1200 --runs 1 --warmup 0 --out "$tmp/dsc" -- "$DATA/crash.sh" >"$tmp/out" 2>"$tmp/err"
rc=$?
check "crashing workload: sweep goes on and exits 0" test $rc -eq 0
check "crash reported" grep -q 'workload failed: killed by signal 6' "$tmp/err"
check "crash recorded in run.json" grep -q '"exit_status": 134' "$tmp/dsc/A100/crash.sh/1200/1/run.json"
check "clocks reset after the crashes" test "$(locked_now)" = 0
fp_nvml profile --clocks 1410,1200 --runs 1 --warmup 0 --on-failure stop --out "$tmp/dsc2" -- "$DATA/crash.sh" >"$tmp/out" 2>"$tmp/err"
check "--on-failure stop: exit 1" test $? -eq 1
check "--on-failure stop: one run only" test "$(find "$tmp/dsc2" -name run.json | wc -l)" -eq 1
check "--on-failure stop: clocks reset" test "$(locked_now)" = 0
EXIT_CODE=3 fp_nvml profile --clocks 1410 --runs 1 --warmup 0 --run-timeout 0.2 --out "$tmp/dst" -- "$DATA/marked.sh" 2>"$tmp/err"
check "--run-timeout: recorded" grep -q '"timed_out": true' "$tmp/dst/A100/marked.sh/1410/1/run.json"
check "--run-timeout: reported" grep -q 'timed out after 0.2 s' "$tmp/err"
fp_nvml profile --clocks 1410 --runs 1 --warmup 0 --out "$tmp/dsn" -- /nonexistent/cmd 2>"$tmp/err"
check "missing command reported" grep -q 'cannot run /nonexistent/cmd: No such file' "$tmp/err"

# ---- NVML errors -----------------------------------------------------------------------
FAKE_NVML_FAIL=nvmlDeviceSetGpuLockedClocks:4 fp_nvml profile --clocks 1410 --runs 1 --out "$tmp/dse" -- true 2>"$tmp/err"
rc=$?
check "NO_PERMISSION: exit 1" test $rc -eq 1
check "NO_PERMISSION: clear message" grep -q 'nvmlDeviceSetGpuLockedClocks: Insufficient Permissions (run as root)' "$tmp/err"
check "NO_PERMISSION: no state file left" test -z "$(ls -A "$FREQPILOT_STATE_DIR" 2>/dev/null)"
LD_LIBRARY_PATH="$BUILD/fake_nvml_absent" "$FREQPILOT" profile --runs 1 --out "$tmp/dsa" -- true 2>"$tmp/err"
check "missing library: exit 1" test $? -eq 1
check "missing library: clear message" grep -q 'libnvidia-ml.so.1 not found: is the NVIDIA driver installed?' "$tmp/err"
# The minimal library lacks every optional symbol: sampling still works, clock control does not.
LD_LIBRARY_PATH="$BUILD/fake_nvml_minimal" "$FREQPILOT" profile --no-clock-control --runs 1 --warmup 0 --out "$tmp/dsm" -- true 2>"$tmp/err"
check "missing optional symbols: sample-only sweep works" test $? -eq 0
check "missing optional symbols: run recorded" test "$(find "$tmp/dsm" -name run.json | wc -l)" -eq 1
check "missing optional symbols: no energy column" awk -F, 'NR==2{exit !($4=="")}' "$(find "$tmp/dsm" -name telemetry.csv | head -1)"

# ---- --no-clock-control never touches clocks ---------------------------------------------
: >"$FAKE_NVML_LOG"
fp_nvml profile --no-clock-control --runs 2 --warmup 0 --out "$tmp/dsnc" -- true 2>"$tmp/err"
check "--no-clock-control: exit 0" test $? -eq 0
check "--no-clock-control: no clock or limit call" test "$(grep -cE 'Set|Reset' "$FAKE_NVML_LOG")" -eq 0
check "--no-clock-control: filed under the running clock" test -d "$tmp/dsnc/A100/true/1410"

# ---- dcgmi absent -------------------------------------------------------------------------
fp_nvml profile --sampler dcgmi --dcgmi "$tmp/no-dcgmi" --clocks 1410 --runs 1 --out "$tmp/dsd" -- true 2>"$tmp/err"
check "dcgmi absent: exit 1" test $? -eq 1
check "dcgmi absent: clear message" grep -q -- "--sampler dcgmi: '$tmp/no-dcgmi' not found" "$tmp/err"
# a stand-in dcgmi that prints a dmon table: its columns are merged into telemetry.csv
cat >"$tmp/dcgmi" <<'EOS'
#!/bin/sh
echo "#Entity   SMACT  TENSO  DRAMA"
echo "ID"
trap 'exit 0' INT TERM
while :; do echo "GPU 0     0.750  0.250  0.500"; sleep 0.05; done
EOS
chmod +x "$tmp/dcgmi"
fp_nvml profile --sampler dcgmi --dcgmi "$tmp/dcgmi" --clocks 1410 --runs 1 --warmup 0 --out "$tmp/dsd2" -- sleep 0.4 2>"$tmp/err"
check "dcgmi stand-in: exit 0" test $? -eq 0
tf="$tmp/dsd2/A100/sleep/1410/1/telemetry.csv"
check "dcgmi columns merged (sm_active 0.75)" test "$(awk -F, 'NR==1{for(i=1;i<=NF;i++) if($i=="sm_active") c=i} NR>2 && $c==0.75{n++} END{print n+0}' "$tf")" -ge 3

done_testing
