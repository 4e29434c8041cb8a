# SPDX-License-Identifier: GPL-3.0-or-later
# Shared setup of the freqpilotd tests (t13xx), sourced after lib.sh:
#
#   fpd_user a              creates a throwaway user (useradd), name in $FPD_USER; removed at
#                           exit with its group; skips (77) where useradd cannot
#   fpd_config <<EOF ...    the policy file ($tmp/freqpilotd.conf, root-owned 0644)
#   fpd_start [ARGS]        starts the service (root, fake NVML) and waits for its socket
#   fpd_stop / fpd_kill9    SIGTERM (it restores, then exits) / SIGKILL
#   as USER CMD...          runs CMD as USER with the fake NVML, the socket and nothing else
#                           of root's environment
#   gpu_state N             "LOCKED MIN MAX LIMIT_MW" of fake GPU N (FAKE_NVML_STATE)
#   wait_for 'shell text' [S]   until it holds (S seconds, default 5)
#
# The service runs as root on a socket in $tmp with FAKE_NVML_ROOT_ONLY=1: clients that are
# not root can change the fake GPUs only through it, as with the real driver.

need_fake_nvml
[ "$(id -u)" -eq 0 ] || skip_all "needs root: the service runs as root, its clients as throwaway users"
for c in useradd userdel setpriv; do
    command -v "$c" >/dev/null 2>&1 || skip_all "$c not found"
done
chmod 0755 "$tmp"
mkdir -p "$tmp/wl" && cp "$DATA/profile/marked.sh" "$tmp/wl/marked.sh" && chmod 0755 "$tmp/wl/marked.sh"
WL=$tmp/wl/marked.sh
export FAKE_NVML_STATE=$tmp/fake.state FAKE_NVML_LOG=$tmp/nvml.log FAKE_NVML_ROOT_ONLY=1
export FAKE_NVML_GPUS=${FAKE_NVML_GPUS:-2}
export FREQPILOT_SOCKET=$tmp/run/freqpilotd.sock
: >"$FAKE_NVML_LOG"
chmod 0666 "$FAKE_NVML_LOG"
# The fake GPUs start unlocked at their 250 W limit (A100).
for ((g = 0; g < FAKE_NVML_GPUS; g++)); do echo "$g 0 0 0 0 0 0 250000"; done >"$FAKE_NVML_STATE"
FPD_PID=

fpd_user() {
    FPD_USER="fpd$$$1"
    local i
    for i in 1 2 3 4 5 6; do # /etc/passwd may be locked by a test running beside us
        useradd -M -U -d /nonexistent -s /usr/sbin/nologin "$FPD_USER" >"$tmp/useradd.err" 2>&1 && break
        sleep "0.$i"
    done
    id "$FPD_USER" >/dev/null 2>&1 ||
        skip_all "cannot create a throwaway user with useradd: $(head -1 "$tmp/useradd.err")"
    # Its processes (a workload a killed client left) end with it: the user exists only here.
    at_exit "for p in \$(pgrep -u $FPD_USER); do kill -KILL \$p; done 2>/dev/null; sleep 0.1; userdel $FPD_USER >/dev/null 2>&1"
    mkdir -p "$tmp/home-$FPD_USER"
    chown "$FPD_USER" "$tmp/home-$FPD_USER"
    if ! as "$FPD_USER" "$FP" --version >/dev/null 2>&1; then
        skip_all "user $FPD_USER cannot run $FP (a folder on its path is closed to other users)"
    fi
}

# The command prefix that runs as user $1 (in AS[@]).
as_prefix() {
    AS=(setpriv --reuid="$1" --regid="$(id -g "$1")" --init-groups --
        env -i PATH=/usr/bin:/bin HOME="$tmp/home-$1" USER="$1" LOGNAME="$1"
        FREQPILOT_SOCKET="$FREQPILOT_SOCKET" FREQPILOT_NO_PROGRESS=1
        LD_LIBRARY_PATH="$FAKE" FAKE_NVML_STATE="$FAKE_NVML_STATE" FAKE_NVML_LOG="$FAKE_NVML_LOG"
        FAKE_NVML_ROOT_ONLY=1 FAKE_NVML_GPUS="$FAKE_NVML_GPUS" WORK_S="${WORK_S:-0.3}")
    [ -n "${SLURM_CONF:-}" ] && AS+=(SLURM_CONF="$SLURM_CONF")
    [ -n "${FREQPILOT_CLOCK_CONTROL:-}" ] && AS+=(FREQPILOT_CLOCK_CONTROL="$FREQPILOT_CLOCK_CONTROL")
    return 0
}
as() {
    local u=$1
    shift
    as_prefix "$u"
    "${AS[@]}" "$@"
}
# as_bg USER CMD...: in the background; BG is CMD's own pid (setpriv and env exec it).
as_bg() {
    local u=$1
    shift
    as_prefix "$u"
    "${AS[@]}" "$@" &
    BG=$!
}

fpd_config() {
    cat >"$tmp/freqpilotd.conf"
    chmod 0644 "$tmp/freqpilotd.conf"
}

wait_for() {
    local i n=$(( ${2:-5} * 20 ))
    for ((i = 0; i < n; i++)); do
        eval "$1" && return 0
        sleep 0.05
    done
    return 1
}

fpd_start() {
    LD_LIBRARY_PATH=$FAKE "$FP" service run --config "$tmp/freqpilotd.conf" "$@" \
        >>"$tmp/svc.log" 2>&1 &
    FPD_PID=$!
    wait_for "[ -S '$FREQPILOT_SOCKET' ] && '$FP' service status >/dev/null 2>&1"
}

fpd_stop() {
    [ -n "$FPD_PID" ] || return 0
    kill "$FPD_PID" 2>/dev/null
    wait "$FPD_PID" 2>/dev/null
    FPD_PID=
}

fpd_kill9() {
    kill -9 "$FPD_PID" 2>/dev/null
    wait "$FPD_PID" 2>/dev/null
    FPD_PID=
}
at_exit fpd_stop

gpu_state() { awk -v g="$1" '$1 == g { print $2, $3, $4, $8 }' "$FAKE_NVML_STATE" 2>/dev/null; }
# The process group of a process (to end a workload left by a killed client).
pgid_of() { ps -o pgid= -p "$1" 2>/dev/null | tr -d ' '; }
