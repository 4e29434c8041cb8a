#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# `freqpilot profile --gpu all` / `--gpu 0,1` against the fake NVML with two GPUs
# (FAKE_NVML_GPUS=2): one sweep per GPU in parallel into DATASET/gpu<index>, each GPU locked at
# every clock and restored, the workload started with CUDA_VISIBLE_DEVICES=<its GPU's UUID>;
# `status` and `aggregate` read the folder of per-GPU datasets.
. "$(dirname "$0")/lib.sh"
need_fake_nvml
export FAKE_NVML_GPUS=2 FAKE_NVML_LOG="$tmp/nvml.log"
export FREQPILOT_STATE_DIR="$tmp/state"

fp_nvml gpus --json >"$tmp/gpus.json"
uuid0=$(grep '"uuid"' "$tmp/gpus.json" | sed -n '1s/.*"uuid": "\([^"]*\)".*/\1/p')
uuid1=$(grep '"uuid"' "$tmp/gpus.json" | sed -n '2s/.*"uuid": "\([^"]*\)".*/\1/p')
check "two fake GPUs with different UUIDs" test -n "$uuid0" -a -n "$uuid1" -a "$uuid0" != "$uuid1"

# Each run takes 0.4 s: 3 runs per GPU, sequentially 2.4 s; in parallel about half.
fp_nvml profile --gpu all --clocks 1410,1200,1000 --runs 1 --warmup 0 --out "$tmp/ds" \
    -- sh -c 'echo "CVD=$CUDA_VISIBLE_DEVICES"; sleep 0.4' >"$tmp/out" 2>"$tmp/err"
check "profile --gpu all exits 0" test $? -eq 0
for g in 0 1; do
    u=$uuid0; [ $g = 1 ] && u=$uuid1
    check "gpu$g: own dataset with its manifest (uuid $u)" grep -q "\"uuid\": \"$u\"" "$tmp/ds/gpu$g/manifest.json"
    check "gpu$g: 3 runs" test "$(find "$tmp/ds/gpu$g" -name run.json | wc -l)" -eq 3
    for f in 1410 1200 1005; do
        check "gpu$g: locked at $f" grep -q "nvmlDeviceSetGpuLockedClocks(gpu=$g, $f, $f) = 0" "$FAKE_NVML_LOG"
        check "gpu$g $f MHz: workload saw CUDA_VISIBLE_DEVICES=$u" \
            grep -qx "CVD=$u" "$tmp/ds/gpu$g/A100/sh/$f/1/stdout.txt"
    done
    check "gpu$g: clocks restored" grep -q "nvmlDeviceResetGpuLockedClocks(gpu=$g) = 0" "$FAKE_NVML_LOG"
    check "gpu$g: run.json records its GPU" grep -q "\"gpu_uuid\": \"$u\"" "$tmp/ds/gpu$g/A100/sh/1200/1/run.json"
done
check "no lock on another GPU's handle crossed over" \
    test "$(grep -c 'SetGpuLockedClocks(gpu=' "$FAKE_NVML_LOG")" -eq 6
check "no state file left" test -z "$(ls -A "$FREQPILOT_STATE_DIR" 2>/dev/null)"
check "no lock file left" test -z "$(find "$tmp/ds" -path "*/.locks/*")"
# The two sweeps overlapped: GPU 1's first run started before GPU 0's last one ended.
first1=$(grep -h '"start_utc_s"' "$tmp"/ds/gpu1/A100/sh/*/1/run.json | tr -dc '0-9.\n' | sort -n | head -1)
last0=$(grep -h '"end_utc_s"' "$tmp"/ds/gpu0/A100/sh/*/1/run.json | tr -dc '0-9.\n' | sort -n | tail -1)
check "the sweeps ran in parallel ($first1 < $last0)" awk -v a="$first1" -v b="$last0" 'BEGIN{exit !(a < b)}'

fp_nvml status "$tmp/ds" >"$tmp/status" 2>&1
check "status of the per-GPU datasets: complete (exit 0)" test $? -eq 0
check "status lists both datasets" test "$(grep -c '3 done, 0 running, 0 failed, 0 missing' "$tmp/status")" -eq 2
fp_nvml aggregate "$tmp/ds" >"$tmp/agg.csv" 2>/dev/null
check "aggregate reads both: 2 runs per clock" test "$(tail -n +2 "$tmp/agg.csv" | cut -d, -f4 | sort -u)" = 2

# A list, one GPU: only GPU 1 is touched.
: >"$FAKE_NVML_LOG"
fp_nvml profile --gpu=1 --clocks 1410 --runs 1 --warmup 0 --out "$tmp/one" -- true 2>/dev/null
check "--gpu=1 (no list) is a plain sweep" test -f "$tmp/one/manifest.json"
fp_nvml profile --gpu 1,0 --clocks 1410 --runs 1 --warmup 0 --out "$tmp/list" -- true 2>/dev/null
check "--gpu 1,0: both datasets" test -f "$tmp/list/gpu0/manifest.json" -a -f "$tmp/list/gpu1/manifest.json"
fp_nvml profile --gpu 0,0 --clocks 1410 --runs 1 --out "$tmp/dup" -- true 2>"$tmp/err"
check "--gpu 0,0 refused" test $? -eq 2
check "--gpu 0,0: says why" grep -q 'listed twice' "$tmp/err"

done_testing
