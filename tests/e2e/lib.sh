# SPDX-License-Identifier: GPL-3.0-or-later
# The e2e harness, sourced by every tests/e2e/tNNNN-*.sh (git's t/test-lib.sh is the model):
#
#   . "$(dirname "$0")/lib.sh"
#   check "what it shows" COMMAND ARGS...     # ok/not ok from COMMAND's exit status
#   check_eval "what it shows" 'shell text'   # the same for a shell expression
#   ok "text" / nok "text"                    # record a result by hand
#   skip_all "why"                            # exit 77: CTest reports the test as skipped
#   skip_rest "why"                           # the rest cannot run: skipped (77) when every
#                                             # check so far passed, else failed (1)
#   need_real_data [SUBDIR]                   # skip unless $REAL (../shared/data) has it
#   need_fake_nvml                            # skip unless the fake libnvidia-ml.so.1 is built
#   use_fake_gpu                              # need_fake_nvml; its call log and persistent
#                                             # state in $tmp, clock state files in $tmp/state
#   locked_now [GPU]                          # 1 while the fake GPU (0) is locked, else 0
#   need_python [MODULE...]                   # PY = the system's python3; skip unless it has them
#   fp ARGS...                                # the freqpilot under test ($FP)
#   fp_nvml ARGS...                           # the same, loading the fake NVML
#   status CMD...                             # run CMD, stdout/stderr to $tmp/out, $tmp/err; echo rc
#   csvcol FILE NAME                          # 1-based index of column NAME in FILE's header
#   clock_states FILE                         # "1410=done 1200=missing " from a
#                                             # `freqpilot status --format json` output
#   within A B TOL                            # |A - B| <= TOL (numbers, awk; empty: false)
#   done_testing                              # last line: summary, exit 0 or 1
#   need_throwaway_user                       # root + useradd: a user for this test ($TU,
#                                             # $TU_UID, $TU_GID, $TU_HOME, folder $tmp/u of
#                                             # theirs), removed on exit; else skip (77)
#   as_user CMD...                            # CMD as $TU
#   as_sudo CMD...                            # CMD as root, as `sudo` would run it for $TU
#
# TMP_ON_TMPFS=1 before sourcing puts $tmp on /dev/shm (many small fsynced writes).
# Set for the script: FP (binary), SRC (source tree), DATA (tests/data), REAL (shared data,
# may be absent), BUILD (build tree), FAKE (fake NVML folder), tmp (a private folder removed
# on exit; more clean-up through at_exit 'command').
# CTest sets FREQPILOT, FREQPILOT_SRC, FREQPILOT_TEST_DATA and FREQPILOT_DATA_DIR; a script
# run by hand finds the same from its own place and build/.

_lib_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=${FREQPILOT_SRC:-$(cd "$_lib_dir/../.." && pwd)}
FP=${FREQPILOT:-$SRC/build/bin/freqpilot}
DATA=${FREQPILOT_TEST_DATA:-$SRC/tests/data}
REAL=${FREQPILOT_DATA_DIR:-$SRC/../shared/data}
BUILD=$(cd "$(dirname "$FP")/.." 2>/dev/null && pwd)
FAKE=$BUILD/fake_nvml
export FREQPILOT="$FP" FREQPILOT_NO_PROGRESS=1
if [ ! -x "$FP" ]; then
    echo "not ok - the freqpilot binary $FP is not built"
    exit 1
fi

test_count=0
test_failures=0
_at_exit=()
_tmp_base=${TMPDIR:-/tmp}
[ "${TMP_ON_TMPFS:-0}" = 1 ] && [ -d /dev/shm ] && [ -w /dev/shm ] && _tmp_base=/dev/shm
tmp=$(mktemp -d "$_tmp_base/fp-e2e.XXXXXX")
_lib_cleanup() {
    local c
    for c in "${_at_exit[@]}"; do eval "$c" || true; done
    rm -rf "$tmp"
}
trap _lib_cleanup EXIT
# GPU leases (include/freqpilot/lease.h) in a folder of this test's own unless CTest gave one:
# tests running side by side share the fake GPU's UUID.
export FREQPILOT_LOCK_DIR=${FREQPILOT_LOCK_DIR:-$tmp/locks}
# at_exit 'shell text': run before $tmp is removed (stop daemons, restore clocks).
at_exit() { _at_exit+=("$1"); }

ok() {
    test_count=$((test_count + 1))
    echo "ok $test_count - $1"
}
nok() {
    test_count=$((test_count + 1))
    test_failures=$((test_failures + 1))
    echo "not ok $test_count - $1"
}
check() {
    local what=$1
    shift
    if "$@"; then ok "$what"; else nok "$what"; fi
}
check_eval() {
    if eval "$2"; then ok "$1"; else nok "$1"; fi
}
skip_all() {
    echo "skipped: $1"
    exit 77
}
skip_rest() {
    echo "skipped: $1"
    [ "$test_failures" -eq 0 ] && exit 77
    done_testing
}
need_real_data() {
    local what=${1:-}
    [ -e "$REAL/$what" ] || skip_all "real data $REAL/$what not found (set FREQPILOT_DATA_DIR)"
}
need_fake_nvml() {
    [ -e "$FAKE/libnvidia-ml.so.1" ] || skip_all "$FAKE/libnvidia-ml.so.1 not built (tests/fake_nvml)"
}
use_fake_gpu() {
    need_fake_nvml
    export FAKE_NVML_LOG=$tmp/nvml.log FAKE_NVML_STATE=$tmp/fake.state
    export FREQPILOT_STATE_DIR=$tmp/state
}
locked_now() { awk -v g="${1:-0}" '$1==g{print $2}' "$FAKE_NVML_STATE"; }
# The Python of the package's tests: Debian's /usr/bin/python3 (python3-pytest, python3-pandas),
# not whichever python3 comes first on PATH; FREQPILOT_PYTHON (CMake's FP_PYTHON) overrides it.
need_python() {
    PY=${FREQPILOT_PYTHON:-/usr/bin/python3}
    [ -x "$PY" ] || skip_all "$PY not found (set FREQPILOT_PYTHON)"
    local m
    for m in "$@"; do
        "$PY" -c "import $m" 2>/dev/null ||
            skip_all "$PY cannot import $m (sh scripts/install-deps.sh installs it)"
    done
}
fp() { "$FP" "$@"; }
fp_nvml() { LD_LIBRARY_PATH=$FAKE${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} "$FP" "$@"; }
status() {
    "$@" >"$tmp/out" 2>"$tmp/err"
    echo $?
}
csvcol() { head -1 "$1" | tr -d '\r' | tr ',' '\n' | grep -nx "$2" | cut -d: -f1; }
within() {
    [ -n "$1" ] && [ -n "$2" ] &&
        awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= t) }'
}
clock_states() {
    awk '/"clock_mhz"/ { gsub(/[^0-9]/, "", $2); c = $2 }
         /"state"/ { gsub(/[",]/, "", $2); printf "%s=%s ", c, $2 }' "$1"
}
need_throwaway_user() {
    [ "$(id -u)" -eq 0 ] || skip_all "needs root: it runs freqpilot as root for a throwaway user"
    command -v useradd >/dev/null && command -v userdel >/dev/null ||
        skip_all "useradd/userdel not available"
    command -v setpriv >/dev/null || skip_all "setpriv (util-linux) not available"
    TU=fpt$$
    local i
    for i in 1 2 3 4 5 6; do # /etc/passwd may be locked by a test running beside us
        useradd -m -U -s /bin/sh "$TU" 2>"$tmp/useradd.err" && break
        sleep "0.$i"
    done
    id "$TU" >/dev/null 2>&1 || skip_all "useradd $TU failed: $(head -1 "$tmp/useradd.err")"
    # the user's processes are ended (by uid: this user exists only for this test), then it goes
    at_exit "for p in \$(pgrep -u $TU); do kill -KILL \$p; done 2>/dev/null; sleep 0.1; userdel -r $TU 2>/dev/null"
    TU_UID=$(id -u "$TU")
    TU_GID=$(id -g "$TU")
    TU_HOME=$(getent passwd "$TU" | cut -d: -f6)
    chmod 711 "$tmp" # the user may pass into the test's folder, not list it
    mkdir "$tmp/u"
    chown "$TU:$TU" "$tmp/u"
}
as_user() { setpriv --reuid="$TU_UID" --regid="$TU_GID" --init-groups -- "$@"; }
as_sudo() { SUDO_UID=$TU_UID SUDO_GID=$TU_GID SUDO_USER=$TU "$@"; }
done_testing() {
    if [ "$test_failures" -gt 0 ]; then
        echo "# $test_failures of $test_count check(s) failed"
        exit 1
    fi
    echo "# all $test_count check(s) passed"
    exit 0
}
