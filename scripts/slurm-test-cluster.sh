#!/bin/bash
# Single-node Slurm for tests (docs/cluster.md): munged + slurmctld + slurmd, as root,
# without systemd, everything under one temporary folder.
#
#   eval "$(scripts/slurm-test-cluster.sh start DIR)"   # prints SLURM_CONF=...; exit 77 = cannot
#   scripts/slurm-test-cluster.sh stop DIR
#
# FP_SLURM_TEST_GPUS=N gives the node N GPUs as GRES (gres.conf File= character devices made
# in DIR with the numbers of /dev/null: Slurm hands out their indices, nothing opens them);
# FP_SLURM_TEST_CONF is appended to slurm.conf (Prolog=, Epilog=, ...).
#
# start: exit 0 with the node idle; 77 when Slurm cannot be started here (not root, packages
# missing, a daemon fails), with the reason on stderr. It never touches /etc/slurm: the
# config, state, spool, logs and pid files live in DIR. The munge key is only created when
# the system has none (/etc/munge/munge.key); munged runs with its socket in DIR.
set -u

skip() {
    echo "slurm-test-cluster: $*" >&2
    exit 77
}

cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || {
    echo "usage: $0 start|stop DIR" >&2
    exit 2
}

stop() {
    for p in slurmd slurmctld munged; do
        if [ -s "$dir/$p.pid" ]; then
            pid=$(cat "$dir/$p.pid")
            kill "$pid" 2>/dev/null
            for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            kill -9 "$pid" 2>/dev/null
            rm -f "$dir/$p.pid"
        fi
    done
}

if [ "$cmd" = stop ]; then
    stop
    exit 0
fi
[ "$cmd" = start ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }

[ "$(id -u)" -eq 0 ] || skip "needs root (daemons run as root for the test)"
for b in munged slurmctld slurmd sbatch squeue sinfo scontrol; do
    command -v "$b" >/dev/null 2>&1 || [ -x "/usr/sbin/$b" ] ||
        skip "$b not found (scripts/install-deps.sh installs slurm-wlm and munge)"
done
export PATH="$PATH:/usr/sbin"
mkdir -p "$dir"/{state,spool,log,munge} || skip "cannot create $dir"
chmod 0755 "$dir"

# munge: the system key (created when missing, 0400 owned by munge), our own socket.
key=/etc/munge/munge.key
if [ ! -s "$key" ]; then
    mkdir -p /etc/munge
    if command -v mungekey >/dev/null 2>&1; then
        mungekey -c -k "$key" >/dev/null 2>&1 || dd if=/dev/urandom of="$key" bs=1 count=1024 2>/dev/null
    else
        dd if=/dev/urandom of="$key" bs=1 count=1024 2>/dev/null
    fi
    chown munge:munge "$key" 2>/dev/null
    chmod 0400 "$key"
fi
sock="$dir/munge/munge.socket.2"
chown munge:munge "$dir/munge" 2>/dev/null || true
munged_user=()
# munged refuses to run as root unless forced; run it as munge when that user exists.
if id munge >/dev/null 2>&1; then
    mkdir -p /var/lib/munge /var/log/munge /run/munge
    chown munge:munge /var/lib/munge /var/log/munge /run/munge 2>/dev/null
    munged_user=(runuser -u munge --)
fi
"${munged_user[@]}" munged --socket="$sock" --pid-file="$dir/munge/munged.pid" \
    --log-file="$dir/munge/munged.log" --seed-file="$dir/munge/munged.seed" \
    2>"$dir/log/munged.err" ||
    munged --force --socket="$sock" --pid-file="$dir/munge/munged.pid" \
        --log-file="$dir/munge/munged.log" --seed-file="$dir/munge/munged.seed" \
        2>>"$dir/log/munged.err" || skip "munged failed: $(tail -2 "$dir/log/munged.err")"
for _ in $(seq 1 50); do [ -s "$dir/munge/munged.pid" ] && break; sleep 0.1; done
cp "$dir/munge/munged.pid" "$dir/munged.pid" 2>/dev/null

gres_node=""
gres_types=""
ngpus=${FP_SLURM_TEST_GPUS:-0}
if [ "$ngpus" -gt 0 ]; then
    i=0
    while [ "$i" -lt "$ngpus" ]; do
        [ -c "$dir/gpu$i" ] || mknod "$dir/gpu$i" c 1 3 2>/dev/null ||
            skip "cannot make the character devices of test GPUs (mknod) in $dir"
        i=$((i + 1))
    done
    echo "Name=gpu File=$dir/gpu[0-$((ngpus - 1))]" >"$dir/gres.conf"
    gres_node=" Gres=gpu:$ngpus"
    gres_types="GresTypes=gpu"
fi
host=$(hostname -s)
cpus=$(nproc)
mem=$(free -m | awk '/^Mem:/ {print $2}')
mem=$((mem > 2048 ? mem - 1024 : mem / 2))
cat >"$dir/slurm.conf" <<CONF
ClusterName=fptest
SlurmctldHost=$host
SlurmctldPort=$((16817 + RANDOM % 1000))
SlurmdPort=$((17817 + RANDOM % 1000))
AuthType=auth/munge
AuthInfo=socket=$sock
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
ReturnToService=2
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=1
MinJobAge=300
MaxArraySize=4096
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
KillWait=5
NodeName=$host CPUs=$cpus RealMemory=$mem$gres_node State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
$gres_types
${FP_SLURM_TEST_CONF:-}
CONF
export SLURM_CONF="$dir/slurm.conf"
slurmctld -c -f "$SLURM_CONF" 2>"$dir/log/slurmctld.err" || {
    stop
    skip "slurmctld failed: $(tail -3 "$dir/log/slurmctld.log" "$dir/log/slurmctld.err" 2>/dev/null)"
}
slurmd -c -f "$SLURM_CONF" 2>"$dir/log/slurmd.err" || {
    stop
    skip "slurmd failed: $(tail -3 "$dir/log/slurmd.log" "$dir/log/slurmd.err" 2>/dev/null)"
}
for _ in $(seq 1 60); do
    state=$(sinfo -h -N -o %t 2>/dev/null | head -1)
    case "$state" in idle*) break ;; esac
    sleep 0.5
done
case "$state" in
idle*) ;;
*)
    log=$(tail -5 "$dir/log/slurmctld.log" "$dir/log/slurmd.log" 2>/dev/null)
    stop
    skip "the node did not become idle (state '$state'): $log"
    ;;
esac
echo "export SLURM_CONF='$SLURM_CONF'"
