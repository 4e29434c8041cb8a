# SPDX-License-Identifier: GPL-3.0-or-later
# The e2e harness, sourced by every tests/e2e/tNNNN-*.sh (git's t/test-lib.sh is the model):
#
#   . "$(dirname "$0")/lib.sh"
#   check "what it shows" COMMAND ARGS...     # ok/not ok from COMMAND's exit status
#   check_eval "what it shows" 'shell text'   # the same for a shell expression
#   ok "text" / nok "text"                    # record a result by hand
#   skip_all "why"                            # exit 77: CTest reports the test as skipped
#   need_real_data [SUBDIR]                   # skip unless $REAL (../shared/data) has it
#   need_fake_nvml                            # skip unless the fake libnvidia-ml.so.1 is built
#   need_python [MODULE...]                   # PY = the system's python3; skip unless it has them
#   fp ARGS...                                # the freqpilot under test ($FP)
#   fp_nvml ARGS...                           # the same, loading the fake NVML
#   status CMD...                             # run CMD, stdout/stderr to $tmp/out, $tmp/err; echo rc
#   csvcol FILE NAME                          # 1-based index of column NAME in FILE's header
#   within A B TOL                            # |A - B| <= TOL (numbers, awk)
#   done_testing                              # last line: summary, exit 0 or 1
#
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
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fp-e2e.XXXXXX")
_lib_cleanup() {
    local c
    for c in "${_at_exit[@]}"; do eval "$c" || true; done
    rm -rf "$tmp"
}
trap _lib_cleanup EXIT
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
need_real_data() {
    local what=${1:-}
    [ -e "$REAL/$what" ] || skip_all "real data $REAL/$what not found (set FREQPILOT_DATA_DIR)"
}
need_fake_nvml() {
    [ -e "$FAKE/libnvidia-ml.so.1" ] || skip_all "$FAKE/libnvidia-ml.so.1 not built (tests/fake_nvml)"
}
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
within() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= t) }'; }
done_testing() {
    if [ "$test_failures" -gt 0 ]; then
        echo "# $test_failures of $test_count check(s) failed"
        exit 1
    fi
    echo "# all $test_count check(s) passed"
    exit 0
}
