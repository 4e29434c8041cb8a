#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# `freqpilot profile --slurm` against a real single-node Slurm (docs/cluster.md).
#
# scripts/slurm-test-cluster.sh starts munged, slurmctld and slurmd (select/cons_tres,
# proctrack/linuxproc, no accounting) as root in a temporary folder, and this test stops them
# on exit. Skipped (77) where that is impossible: not root, slurm-wlm/munge not installed,
# a daemon does not start.
#
# A simulated sweep (sim A100, llama, noise off, 4 clocks x 2 runs, one clock per array task):
#   1. submitted held (--sbatch-arg=--hold): status = running (pending) for every clock, with
#      the job/array ids from jobs.json; exit 1
#   2. scancel: status = missing for every clock; exit 1
#   3. --resume with task 2 made to fail (FREQPILOT_SLURM_FAIL_TASK=2): every task is
#      resubmitted (array 0-3); afterwards status = 3 done + 1 failed (clock of task 2)
#   4. --resume: only task 2 is resubmitted (array "2"); status = all done, exit 0
#   5. the merged dataset aggregates to the same table as the same sweep run locally with
#      the same seed (numbers equal to 1e-6 relative or absolute: see docs/cluster.md for the digits
#      that differ), and optimize picks the same clock from both.
. "$(dirname "$0")/lib.sh"
src=$SRC
F=$FREQPILOT
case "$F" in /*) ;; *) F="$PWD/$F" ;; esac

chmod 0755 "$tmp" # the test cluster's daemons read it
cluster="$tmp/cluster"
at_exit '[ -n "${SLURM_CONF:-}" ] && scancel -u root >/dev/null 2>&1; "$src/scripts/slurm-test-cluster.sh" stop "$cluster"'
out=$("$src/scripts/slurm-test-cluster.sh" start "$cluster")
rc=$?
if [ $rc -ne 0 ]; then
    skip_all "cannot start a test Slurm here (exit $rc; see the message above)"
fi
eval "$out"
export SLURM_CONF PATH="$PATH:/usr/sbin"
export FREQPILOT_NO_PROGRESS=1 FREQPILOT_STATE_DIR="$tmp/state"
cd "$tmp" || exit 1

SWEEP=(--backend sim --workload llama --sim-noise off --gpu A100 --clocks 1410,1200,1000,800
       --runs 2 --warmup 0 --interval-ms 100 --seed 7 --baseline-every 0)
ds="$tmp/ds"

# JSON field of `status --format json` for a clock: state of clock F
st_json() { "$F" status --format json "$ds" >"$tmp/st.json"; echo $?; }
states() { clock_states "$tmp/st.json"; }
wait_queue() { # until job $1 has left the queue (60 s at most)
    for _ in $(seq 1 120); do
        [ -z "$(squeue -h -j "$1" 2>/dev/null)" ] && return 0
        sleep 0.5
    done
    return 1
}
sub_field() { # field $2 of submission $1 (0-based) in jobs.json
    awk -v n="$1" -v k="\"$2\"" '/"job_id"/ {i++} i==n+1 && index($0, k) {gsub(/[",]/,"",$2); print $2; exit}' "$ds/slurm/jobs.json"
}

# 1. held submission: pending = running
job1=$("$F" profile "${SWEEP[@]}" --out "$ds" --slurm --partition debug --time 00:05:00 \
       --sbatch-arg=--hold)
check "submitted a job array ($job1)" test -n "$job1"
check "sbatch script kept in the dataset" grep -q -- '--slurm-task "$SLURM_ARRAY_TASK_ID"' "$ds/slurm/sweep.sbatch"
check "jobs.json records job $job1 for tasks 0-3" \
    test "$(sub_field 0 job_id)/$(sub_field 0 array)" = "$job1/0-3"
rc=$(st_json)
s=$(states)
check "held: every clock running (pending), exit 1 [$s]" \
    test "$rc/$s" = "1/1410=running 1200=running 1005=running 795=running "
check "held: status names job ${job1}_2 for clock 1005" grep -q "\"job\": \"${job1}_2\"" "$tmp/st.json"
"$F" status "$ds" | tail -1

# 2. cancelled: missing
scancel "$job1"
wait_queue "$job1"
rc=$(st_json)
s=$(states)
check "cancelled: every clock missing, exit 1 [$s]" \
    test "$rc/$s" = "1/1410=missing 1200=missing 1005=missing 795=missing "

# 3. resubmitted, task 2 fails
job2=$(FREQPILOT_SLURM_FAIL_TASK=2 "$F" profile "${SWEEP[@]}" --out "$ds" --slurm --resume)
check "resume resubmits tasks 0-3 (job $job2)" test "$(sub_field 1 array)" = "0-3"
check "job array ran" wait_queue "$job2"
rc=$(st_json)
s=$(states)
check "task 2 failed, the others done, exit 1 [$s]" \
    test "$rc/$s" = "1/1410=done 1200=done 1005=failed 795=done "
check "the failure is explained" grep -q "FREQPILOT_SLURM_FAIL_TASK" "$tmp/st.json"
"$F" status "$ds" | tail -1

# 4. --resume resubmits only task 2
job3=$("$F" profile "${SWEEP[@]}" --out "$ds" --slurm --resume)
check "resume resubmits only task 2 (job $job3)" test "$(sub_field 2 array)" = "2"
check "job array ran" wait_queue "$job3"
rc=$(st_json)
s=$(states)
check "all done, exit 0 [$s]" test "$rc/$s" = "0/1410=done 1200=done 1005=done 795=done "
check "status names the resubmitted job ${job3}_2" grep -q "\"job\": \"${job3}_2\"" "$tmp/st.json"
"$F" status "$ds" | tail -1
job4=$("$F" profile "${SWEEP[@]}" --out "$ds" --slurm --resume 2>&1)
check "a complete sweep resubmits nothing" test -z "$job4"

# 5. the same sweep locally, same seed: same aggregate and choice
"$F" profile "${SWEEP[@]}" --out "$tmp/local" 2>/dev/null
"$F" aggregate "$ds" -o "$tmp/slurm.csv" 2>/dev/null
"$F" aggregate "$tmp/local" -o "$tmp/local.csv" 2>/dev/null
check "8 runs aggregated from the Slurm dataset" \
    test "$(awk -F, 'NR>1 {n+=$4} END {print n}' "$tmp/slurm.csv")" = 8
same_csv() {
    paste -d'\n' "$1" "$2" | awk -F, '
        NR % 2 == 1 { n = split($0, a, ","); next }
        { m = split($0, b, ",")
          if (m != n) bad = 1
          for (i = 1; i <= n; i++) {
              if (a[i] == b[i]) continue
              if (a[i] !~ /^-?[0-9.e+-]+$/ || b[i] !~ /^-?[0-9.e+-]+$/) { bad = 1; continue }
              d = a[i] - b[i]; if (d < 0) d = -d
              s = a[i] < 0 ? -a[i] : a[i]
              if (d > 1e-6 * s && d > 1e-6) { bad = 1; print "differs: row " NR/2 " col " i ": " a[i] " vs " b[i] }
          } }
        END { exit bad }'
}
check "same rows and columns as the local sweep" test "$(cut -d, -f1-5 "$tmp/slurm.csv")" = "$(cut -d, -f1-5 "$tmp/local.csv")"
check "same aggregated values as the local sweep (1e-6)" same_csv "$tmp/slurm.csv" "$tmp/local.csv"
"$F" optimize "$tmp/slurm.csv" --objective energy --point-estimate >"$tmp/slurm-opt.txt" 2>/dev/null
"$F" optimize "$tmp/local.csv" --objective energy --point-estimate >"$tmp/local-opt.txt" 2>/dev/null
check "optimize gives the same answer from both" cmp -s "$tmp/slurm-opt.txt" "$tmp/local-opt.txt"
check "optimize found a clock" grep -q ' llama ' "$tmp/slurm-opt.txt"

done_testing
