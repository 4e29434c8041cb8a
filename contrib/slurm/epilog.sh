#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Slurm Epilog for freqpilotd (docs/freqpilotd.md, "Slurm"): whatever the job did, its GPUs
# go back to their defaults. In slurm.conf: Epilog=/etc/slurm/epilog.d/freqpilot.sh (slurmd
# runs it as root on each node of the job, after the job).
#
# It asks freqpilotd to restore and end every lease on the job's GPUs (SLURM_JOB_GPUS: the
# GRES indices, which are the NVML indices), whoever holds them (--force: also a connection
# still open). Without GPU GRES (gpus_from = node) it gives back the leases of the job's user
# instead. A GPU that cannot be restored fails the epilog, and Slurm drains the node: a node
# with clocks left changed should not get the next job.
FREQPILOT=${FREQPILOT:-/usr/local/bin/freqpilot}
socket=${FREQPILOT_SOCKET:-/run/freqpilot/freqpilotd.sock}
[ -S "$socket" ] || exit 0 # no service on this node: nothing it could have changed
export FREQPILOT_SOCKET="$socket"
rc=0
gpus=$(printf '%s' "${SLURM_JOB_GPUS:-}" | tr ',' ' ')
if [ -n "$gpus" ]; then
    for g in $gpus; do
        "$FREQPILOT" -q service restore --gpu "$g" --force || rc=1
    done
elif [ -n "${SLURM_JOB_UID:-}" ]; then
    "$FREQPILOT" -q service restore --uid "$SLURM_JOB_UID" --force || rc=1
fi
[ $rc -eq 0 ] || echo "freqpilot epilog: job ${SLURM_JOB_ID:-?}: a GPU could not be restored" >&2
exit $rc
