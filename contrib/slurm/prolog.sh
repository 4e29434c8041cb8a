#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Slurm Prolog for freqpilotd (docs/freqpilotd.md, "Slurm"): the job starts on GPUs at their
# defaults even if an earlier job's epilog could not run. In slurm.conf:
# Prolog=/etc/slurm/prolog.d/freqpilot.sh (run by slurmd as root before the job).
# The job itself asks for clocks through the service as its user, for instance
#   freqpilot apply --gpu "$SLURM_JOB_GPUS" --clock 1200      (kept until the job ends)
#   freqpilot profile --gpu "$SLURM_JOB_GPUS" --out ds -- python3 infer.py
# which a policy rule with slurm = yes allows only while this job holds the GPU.
FREQPILOT=${FREQPILOT:-/usr/local/bin/freqpilot}
socket=${FREQPILOT_SOCKET:-/run/freqpilot/freqpilotd.sock}
[ -S "$socket" ] || exit 0
export FREQPILOT_SOCKET="$socket"
rc=0
for g in $(printf '%s' "${SLURM_JOB_GPUS:-}" | tr ',' ' '); do
    "$FREQPILOT" -q service restore --gpu "$g" --force || rc=1
done
exit $rc
