#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Issue 12, attack 3: helper programs ran as root. `sudo freqpilot profile --dcgmi PATH`,
# `--slurm --sbatch PATH`, `--squeue PATH` executed whatever PATH named with root's
# privileges. Now every helper runs as the invoking user. Stand-in helpers record the uid
# they run as. As root for a throwaway user (sudo simulated), with the fake NVML.
. "$(dirname "$0")/lib.sh"
use_fake_gpu
need_throwaway_user
mkdir "$tmp/u/bin"
cat >"$tmp/u/bin/dcgmi" <<EOS
#!/bin/sh
id -u >$tmp/u/dcgmi.uid
echo "#Entity   SMACT  TENSO  DRAMA"
echo "ID"
trap 'exit 0' INT TERM
while :; do echo "GPU 0     0.750  0.250  0.500"; sleep 0.05; done
EOS
cat >"$tmp/u/bin/sbatch" <<EOS
#!/bin/sh
id -u >$tmp/u/sbatch.uid
echo "4242;cluster"
EOS
cat >"$tmp/u/bin/squeue" <<EOS
#!/bin/sh
id -u >$tmp/u/squeue.uid
EOS
chmod 755 "$tmp/u/bin/"*
chown -R "$TU:$TU" "$tmp/u/bin"

as_sudo fp_nvml profile --sampler dcgmi --dcgmi "$tmp/u/bin/dcgmi" --clocks 1410 --runs 1 \
    --warmup 0 --out "$tmp/u/ds" -- sleep 0.4 >"$tmp/out" 2>"$tmp/err"
check "profile --sampler dcgmi under sudo: exit 0" test $? -eq 0
check "dcgmi ran as the user, not root ($(cat "$tmp/u/dcgmi.uid" 2>/dev/null))" test "$(cat "$tmp/u/dcgmi.uid" 2>/dev/null)" = "$TU_UID"
tf=$tmp/u/ds/A100/sleep/1410/1/telemetry.csv
check "... and its columns still reach telemetry.csv" test "$(awk -F, 'NR==1{for(i=1;i<=NF;i++) if($i=="sm_active") c=i} NR>2 && $c==0.75{n++} END{print n+0}' "$tf")" -ge 1

as_sudo fp profile --slurm --sbatch "$tmp/u/bin/sbatch" --backend sim --workload llama \
    --clocks 1410,1005 --runs 1 --warmup 0 --out "$tmp/u/dss" >"$tmp/out" 2>"$tmp/err"
check "profile --slurm under sudo: exit 0" test $? -eq 0
check "sbatch ran as the user, not root ($(cat "$tmp/u/sbatch.uid" 2>/dev/null))" test "$(cat "$tmp/u/sbatch.uid" 2>/dev/null)" = "$TU_UID"
check "the job files are the user's" test -z "$(find "$tmp/u/dss" ! -user "$TU" | head -3)"

as_sudo fp status --squeue "$tmp/u/bin/squeue" "$tmp/u/dss" >"$tmp/out" 2>"$tmp/err"
check "status --squeue under sudo ran squeue" test -e "$tmp/u/squeue.uid"
check "squeue ran as the user, not root ($(cat "$tmp/u/squeue.uid" 2>/dev/null))" test "$(cat "$tmp/u/squeue.uid" 2>/dev/null)" = "$TU_UID"

# A helper the user may not run is not run by root for them either.
cp "$tmp/u/bin/sbatch" "$tmp/root-sbatch"
chmod 700 "$tmp/root-sbatch"
rm -f "$tmp/u/sbatch.uid"
as_sudo fp profile --slurm --sbatch "$tmp/root-sbatch" --backend sim --workload llama \
    --clocks 1410 --runs 1 --warmup 0 --out "$tmp/u/dss2" >"$tmp/out" 2>"$tmp/err"
check "a root-only sbatch: refused (exit 1)" test $? -eq 1
check "... and never run" test ! -e "$tmp/u/sbatch.uid"
done_testing
