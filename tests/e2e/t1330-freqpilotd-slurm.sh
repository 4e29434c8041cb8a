#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# freqpilotd's Slurm mode with the project's single-node Slurm (scripts/slurm-test-cluster.sh,
# here with 2 GPUs as GRES and contrib/slurm/epilog.sh as its Epilog) and the fake NVML:
#   - a user with no running job is refused by a slurm = yes rule, nothing changes;
#   - a batch job asks for clocks through the service (freqpilot apply inside the job, as
#     the user): allowed on the job's GPU, which stays locked while the job runs; the user
#     may also change it from outside the job, but not the GPU the job does not hold;
#   - the job ends (scancel): the epilog restores the GPU, and the user is refused again;
#   - without the epilog, the service's own check (check_s) takes the lease back once the
#     job has ended.
# Skipped (77) where Slurm cannot start here, as t0900.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-freqpilotd.sh"

for b in squeue scontrol sbatch scancel; do
    command -v "$b" >/dev/null 2>&1 || skip_all "$b not found (scripts/install-deps.sh installs slurm-wlm)"
done
fpd_user a
A=$FPD_USER

cat >"$tmp/epilog-wrap.sh" <<EOF
#!/bin/sh
[ -e "$tmp/no-epilog" ] && exit 0
echo "epilog: job \$SLURM_JOB_ID gpus \$SLURM_JOB_GPUS uid \$SLURM_JOB_UID" >>"$tmp/epilog.log"
FREQPILOT="$FP" FREQPILOT_SOCKET="$FREQPILOT_SOCKET" "$SRC/contrib/slurm/epilog.sh" >>"$tmp/epilog.log" 2>&1
EOF
chmod 0755 "$tmp/epilog-wrap.sh"
cluster=$tmp/cluster
at_exit '[ -n "${SLURM_CONF:-}" ] && scancel -u "$A" >/dev/null 2>&1; "$SRC/scripts/slurm-test-cluster.sh" stop "$cluster"'
out=$(FP_SLURM_TEST_GPUS=2 FP_SLURM_TEST_CONF="Epilog=$tmp/epilog-wrap.sh" \
    "$SRC/scripts/slurm-test-cluster.sh" start "$cluster") || skip_all "cannot start a test Slurm here (see the message above)"
eval "$out"
export SLURM_CONF PATH="$PATH:/usr/sbin"
node=$(hostname -s)

policy() { # CHECK_S
    fpd_config <<EOF
[service]
socket = $FREQPILOT_SOCKET
state_dir = $tmp/svc-state
[slurm]
squeue = $(command -v squeue)
scontrol = $(command -v scontrol)
slurm_conf = $SLURM_CONF
run_as = nobody
node = $node
cache_s = 0
check_s = $1
timeout_s = 10
[allow jobs]
users = *
gpus = all
clocks = 800:1410
slurm = yes
EOF
}
policy 0
check "freqpilotd started" fpd_start

# ---- no job: refused ---------------------------------------------------------------------
: >"$FAKE_NVML_LOG"
rc=$(status as "$A" "$FP" apply --gpu 0 --clock 1005)
check "no running job: refused (exit $rc)" test "$rc" -eq 1
check "... because no job of the user runs here" grep -q "$A has no running Slurm job on node $node (a slurm = yes rule allows GPU 0 only while a job of theirs holds it)" "$tmp/err"
check "... and nothing changed" test "$(gpu_state 0)" = "0 0 0 250000"

# ---- a job asks for clocks through the service -------------------------------------------
cat >"$tmp/job.sh" <<EOF
#!/bin/sh
g=\${SLURM_JOB_GPUS%%,*}
echo "job gpus \$SLURM_JOB_GPUS" >"\$HOME/apply.out"
"$FP" apply --gpu "\$g" --clock 1005 >>"\$HOME/apply.out" 2>&1
echo "apply exit \$?" >>"\$HOME/apply.out"
sleep 300
EOF
chmod 0755 "$tmp/job.sh"
job=$(cd "$tmp/home-$A" && as "$A" sbatch --parsable --gres=gpu:1 -o /dev/null "$tmp/job.sh" 2>"$tmp/sbatch.err")
check "the user's job was submitted ($job)" test -n "$job"
check "the job ran freqpilot apply" wait_for "grep -qs 'apply exit' '$tmp/home-$A/apply.out'" 30
cat "$tmp/home-$A/apply.out" | sed 's/^/# job: /'
g=$(sed -n 's/^job gpus \([0-9]*\).*/\1/p' "$tmp/home-$A/apply.out")
o=$((1 - ${g:-0}))
check "inside the job, apply through the service succeeded" grep -q "apply exit 0" "$tmp/home-$A/apply.out"
check "the job's GPU $g is locked at 1005 MHz" test "$(gpu_state "${g:-0}")" = "1 1005 1005 250000"
fp service status >"$tmp/st"
check "status: the lease is the job user's, granted through Slurm" grep -q "GPU $g GPU-[0-9a-f-]*: $A (uid [0-9]*) pid [0-9]* freqpilot since .*, kept after apply, Slurm: locked 1005..1005 MHz" "$tmp/st"
rc=$(status as "$A" "$FP" service call "{\"op\":\"lock\",\"gpu\":\"$g\",\"min_mhz\":1200,\"max_mhz\":1200}")
check "from outside the job, the user may change the job's GPU while it runs (exit $rc)" test "$rc" -eq 0
check "... that connection took the kept lease over: when it ended the GPU went back" \
    wait_for "[ \"\$(gpu_state $g)\" = '0 0 0 250000' ]" 3
rc=$(status as "$A" "$FP" apply --gpu "$g" --clock 1005)
check "the user applies 1005 MHz again from outside the job (exit $rc)" test "$(gpu_state "$g")" = "1 1005 1005 250000"
: >"$FAKE_NVML_LOG"
rc=$(status as "$A" "$FP" apply --gpu "$o" --clock 1005)
check "the GPU the job does not hold is refused (exit $rc)" test "$rc" -eq 1
check "... saying which job runs" grep -q "no running Slurm job of $A on node $node holds GPU $o (running: $job)" "$tmp/err"
check "... and nothing changed" test "$(gpu_state "$o")" = "0 0 0 250000"

# ---- the job ends: the epilog restores the GPU --------------------------------------------
scancel "$job"
check "the job left the queue" wait_for "[ -z \"\$(squeue -h -j $job 2>/dev/null)\" ]" 30
check "the epilog restored the job's GPU" wait_for "[ \"\$(gpu_state $g)\" = '0 0 0 250000' ]" 20
sed 's/^/# /' "$tmp/epilog.log"
check "the epilog saw the job's GPU" grep -q "epilog: job $job gpus $g uid $(id -u "$A")" "$tmp/epilog.log"
check "the service says root restored it" grep -q "GPU $g (GPU-[0-9a-f-]*) restored and released: restored on request of root" "$tmp/svc.log"
rc=$(status as "$A" "$FP" apply --gpu "$g" --clock 1005)
check "after the job, the user is refused again (exit $rc)" grep -q "$A has no running Slurm job on node $node" "$tmp/err"
check "... and nothing changed" test "$(gpu_state "$g")" = "0 0 0 250000"

# ---- without the epilog: the service's own check takes the lease back --------------------
touch "$tmp/no-epilog"
policy 1
kill -HUP "$FPD_PID"
check "the service read its policy again" wait_for "grep -q 'reload: 1 rule(s)' '$tmp/svc.log'"
job2=$(cd "$tmp/home-$A" && as "$A" sbatch --parsable --gres=gpu:1 -o /dev/null --wrap "sleep 300")
check "a second job runs ($job2)" wait_for "[ \"\$(squeue -h -j $job2 -o %t 2>/dev/null)\" = R ]" 30
g2=$(scontrol -d show job "$job2" | sed -n 's/.*GRES=gpu[^(]*(IDX:\([0-9]*\).*/\1/p' | head -1)
rc=$(status as "$A" "$FP" apply --gpu "$g2" --clock 900)
check "the user locks the job's GPU $g2 from outside it (exit $rc)" test "$(gpu_state "$g2")" = "1 900 900 250000"
scancel "$job2"
check "the second job left the queue" wait_for "[ -z \"\$(squeue -h -j $job2 2>/dev/null)\" ]" 30
check "with no epilog, the service takes the lease back within seconds" wait_for "[ \"\$(gpu_state $g2)\" = '0 0 0 250000' ]" 10
check "... and says why" grep -q "GPU $g2 (GPU-[0-9a-f-]*): the lease was restored and taken back: $A has no running Slurm job on node $node" "$tmp/svc.log"
check_eval "the Slurm helpers ran as nobody, never as root" '! grep -q "refusing to run it as\|cannot run it as" "$tmp/svc.log"'
done_testing
