#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The Python package's own tests (python/tests, pytest) against this build's freqpilot, with
# the system's Python (Debian's python3-pytest and python3-pandas; FREQPILOT_PYTHON overrides).
. "$(dirname "$0")/lib.sh"
need_python pytest
"$PY" -c 'import pandas' 2>/dev/null || echo "# pandas not installed: its DataFrame tests skip"
cd "$tmp" || exit 1
# -p no:cacheprovider and no bytecode: nothing written into the source tree.
export PYTHONDONTWRITEBYTECODE=1
if "$PY" -m pytest -q -p no:cacheprovider "$SRC/python/tests" >"$tmp/pytest.log" 2>&1; then
    ok "pytest python/tests: $(tail -1 "$tmp/pytest.log")"
else
    sed 's/^/# /' "$tmp/pytest.log"
    nok "pytest python/tests"
fi
check "no pytest cache or build output left in the source tree" \
    test -z "$(find "$SRC/python" -name .pytest_cache -o -name '*.egg-info' -o -path '*/build/*' | head -1)"
done_testing
