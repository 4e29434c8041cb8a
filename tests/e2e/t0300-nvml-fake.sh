#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# `freqpilot gpus` and `freqpilot sample` through the real dlopen path against
# the fake libnvidia-ml.so.1 built in the test tree (tests/fake_nvml: the simulated GPU in real
# time), and the clean failures without NVML. Both commands must never change clocks.
. "$(dirname "$0")/lib.sh"

need_fake_nvml

export FAKE_NVML_LOG="$tmp/nvml.log"


# ---- gpus -------------------------------------------------------------------
out=$(LD_LIBRARY_PATH=$FAKE "$FREQPILOT" gpus 2>"$tmp/err")
rc=$?
check "gpus exits 0" test $rc -eq 0
check "gpus names the GPU" grep -q '^GPU 0: NVIDIA A100-PCIE-40GB (A100)$' <<<"$out"
check "gpus shows the UUID" grep -q 'uuid  *GPU-fa4e0000-0000-4000-8000-000000000000' <<<"$out"
check "gpus shows the driver" grep -q 'driver  *535.104.05' <<<"$out"
check "gpus shows the memory clock" grep -q 'memory clock  *1215 MHz' <<<"$out"
check "gpus shows 81 SM clocks 210..1410" grep -q 'SM clocks  *81 supported, 210..1410 MHz' <<<"$out"
check "gpus shows the power limit" grep -q 'power limit  *250 W (range 150 W..250 W, default 250 W)' <<<"$out"
check "gpus shows MIG" grep -q 'MIG  *disabled' <<<"$out"

out=$(FAKE_NVML_GPUS=2 LD_LIBRARY_PATH=$FAKE "$FREQPILOT" gpus --json)
check "gpus --json lists 2 GPUs" test "$(grep -c '"index"' <<<"$out")" -eq 2
check "gpus --json has the clock table" grep -q '"n_sm_clocks": 81' <<<"$out"
check "gpus --json second UUID" grep -q '"uuid": "GPU-fa4e0000-0000-4000-8000-000000000001"' <<<"$out"

# ---- sample -----------------------------------------------------------------
: >"$FAKE_NVML_LOG"
LD_LIBRARY_PATH=$FAKE "$FREQPILOT" sample --count 3 --interval-ms 50 >"$tmp/t.csv" 2>"$tmp/err"
rc=$?
check "sample exits 0" test $rc -eq 0
# The docs/formats.md contract columns come first, in this order (more may follow).
expect='t_s,power_w,power_avg_w,energy_mj,sm_clock_mhz,mem_clock_mhz,gpu_util_pct,mem_util_pct,sm_active,sm_occupancy,tensor_active,dram_active,fp64_active,fp32_active,fp16_active,temp_c,mem_temp_c,fb_used_mib,pstate,throttle_reasons,power_limit_w'
header=$(head -1 "$tmp/t.csv")
check "sample header starts with the telemetry.csv contract" test "${header:0:${#expect}}" = "$expect"
check "sample wrote 3 rows" test "$(wc -l <"$tmp/t.csv")" -eq 4
# Columns by name, so the check does not depend on their position.
col() { # col NAME ROW -> value
    awk -F, -v name="$1" -v row="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == name) c = i }
        NR == row + 1 { print $c }' "$tmp/t.csv"
}
check "every row has as many cells as the header" \
    awk -F, 'NR == 1 { n = NF } NF != n { exit 1 }' "$tmp/t.csv"
check "t_s starts at 0" test "$(col t_s 1)" = "0.000000"
check "t_s increases" awk -F, 'NR > 1 { if (NR > 2 && $1 <= prev) exit 1; prev = $1 }' "$tmp/t.csv"
check "sm_clock_mhz = 1410 (unlocked fake)" test "$(col sm_clock_mhz 2)" = 1410
check "mem_clock_mhz = 1215" test "$(col mem_clock_mhz 2)" = 1215
# The fake's default load (tests/fake_nvml/steady.ini) is one inference phase, so its steady
# power at 1410 MHz is the simulator's noise-free truth for that workload (`sim curve`).
STEADY="$SRC/tests/fake_nvml/steady.ini"
truth=$("$FREQPILOT" sim curve --gpu A100 --workload "$STEADY" | awk -F, '$1 == 1410 { print $4 }')
check "power_w = the simulator's truth at 1410 MHz ($truth W)" \
    awk -v a="$(col power_w 3)" -v b="$truth" 'BEGIN { exit !(b > 100 && a - b < 0.002 && b - a < 0.002) }'
check "temp_c = its steady temperature" test "$(col temp_c 3)" -gt 40
check "power_limit_w = 250" test "$(col power_limit_w 1)" = 250
check "sm_active empty (no GPM on the fake A100)" test -z "$(col sm_active 1)"
check "gpu_util_pct = the load's 100 %" test "$(col gpu_util_pct 2)" = 100
e1=$(col energy_mj 1)
e3=$(col energy_mj 3)
check "energy counter advances" test "$e3" -gt "$e1"
check "sample never changes clocks" bash -c "! grep -Eq 'nvmlDevice(Set|Reset)' '$FAKE_NVML_LOG'"

# -o writes the same format to a file
LD_LIBRARY_PATH=$FAKE "$FREQPILOT" sample --count 2 --interval-ms 10 -o "$tmp/o.csv" >"$tmp/stdout"
check "sample -o writes the file" test "$(wc -l <"$tmp/o.csv")" -eq 3
check "sample -o leaves stdout empty" test ! -s "$tmp/stdout"

# Ctrl-C ends an open-ended run cleanly and keeps the rows (-o is committed).
LD_LIBRARY_PATH=$FAKE "$FREQPILOT" sample --interval-ms 20 -o "$tmp/int.csv" &
pid=$!
sleep 0.5
kill -INT $pid
wait $pid
check "SIGINT ends sample with 0" test $? -eq 0
check "...and the file has rows" test "$(wc -l <"$tmp/int.csv")" -ge 3

# optional metric missing -> empty cell
FAKE_NVML_NO_ENERGY=1 LD_LIBRARY_PATH=$FAKE "$FREQPILOT" sample --count 1 >"$tmp/t.csv"
check "no energy counter -> empty energy_mj" test -z "$(col energy_mj 1)"
check "...other columns still there" test "$(col sm_clock_mhz 1)" = 1410

# the GPU by UUID, and a wrong one
FAKE_NVML_GPUS=2 LD_LIBRARY_PATH=$FAKE "$FREQPILOT" sample --count 1 \
    --gpu GPU-fa4e0000-0000-4000-8000-000000000001 >"$tmp/t.csv"
check "sample --gpu UUID" test $? -eq 0
LD_LIBRARY_PATH=$FAKE "$FREQPILOT" sample --count 1 --gpu 3 >/dev/null 2>"$tmp/err"
check "sample --gpu 3 fails with 1" test $? -eq 1
check "...saying the GPU is not there" grep -q 'GPU 3 not found' "$tmp/err"

# usage errors
"$FREQPILOT" sample --count 0 >/dev/null 2>&1
check "sample --count 0 is a usage error" test $? -eq 2
"$FREQPILOT" sample --count 2 --duration 1 >/dev/null 2>&1
check "--count with --duration is a usage error" test $? -eq 2
"$FREQPILOT" gpus --backend nope >/dev/null 2>&1
check "unknown backend is a usage error" test $? -eq 2
check "gpus --help" bash -c "'$FREQPILOT' gpus --help | grep -q '^    freqpilot gpus'"
check "sample --help" bash -c "'$FREQPILOT' sample --help | grep -q '^    freqpilot sample'"

# ---- the simulated model and workload ------------------------------------------
out=$(FAKE_NVML_GPU=H100 LD_LIBRARY_PATH=$FAKE "$FREQPILOT" gpus)
check "FAKE_NVML_GPU=H100: the H100 NVL table" grep -q 'SM clocks  *97 supported, 345..1785 MHz' <<<"$out"
FAKE_NVML_WORKLOAD=none LD_LIBRARY_PATH=$FAKE "$FREQPILOT" sample --count 1 >"$tmp/t.csv"
check "FAKE_NVML_WORKLOAD=none: idle clock 210 MHz" test "$(col sm_clock_mhz 1)" = 210
check "FAKE_NVML_WORKLOAD=none: idle power 36 W" test "$(col power_w 1)" = 36
FAKE_NVML_WORKLOAD=nope LD_LIBRARY_PATH=$FAKE "$FREQPILOT" gpus >/dev/null 2>&1
check "unknown workload: init fails" test $? -eq 1
check "...and the call log says why" grep -q "FAKE_NVML_WORKLOAD=nope: unknown workload" "$FAKE_NVML_LOG"

# ---- failures ---------------------------------------------------------------
FAKE_NVML_FAIL=nvmlInit_v2:9 LD_LIBRARY_PATH=$FAKE "$FREQPILOT" gpus >/dev/null 2>"$tmp/err"
check "driver not loaded -> exit 1" test $? -eq 1
check "...with a clear message" grep -q '^error: nvmlInit_v2: Driver Not Loaded (' "$tmp/err"

LD_LIBRARY_PATH=$BUILD/fake_nvml_broken "$FREQPILOT" gpus >/dev/null 2>"$tmp/err"
check "required symbol missing -> exit 1" test $? -eq 1
check "...naming the symbol" grep -q 'required symbol nvmlDeviceGetClockInfo' "$tmp/err"

# Without any NVML (only meaningful where no real driver is installed).
if ! { ldconfig -p || /sbin/ldconfig -p; } 2>/dev/null | grep -q 'libnvidia-ml.so'; then
    LD_LIBRARY_PATH=$BUILD/fake_nvml_absent "$FREQPILOT" sample --count 1 >/dev/null 2>"$tmp/err"
    check "no NVML -> exit 1" test $? -eq 1
    check "...'not found' message" \
        grep -qx 'error: libnvidia-ml.so.1 not found: is the NVIDIA driver installed?' "$tmp/err"
fi

if [ $test_failures -ne 0 ]; then
    echo "$test_failures check(s) failed"
    exit 1
fi
echo "all checks passed"
