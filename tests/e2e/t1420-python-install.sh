#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# `pip install ./python` into a fresh virtual environment with no network: the package builds
# with its own backend (python/_build), nothing comes from an index (the index URL is a closed
# port, so any download would fail). The installed package imports without pandas, has the
# tool's version, marks windows under `freqpilot profile`, and uninstalls cleanly.
. "$(dirname "$0")/lib.sh"
need_python venv
"$PY" -m venv "$tmp/venv" >"$tmp/venv.log" 2>&1 ||
    skip_all "$PY -m venv failed (Debian: python3-venv): $(tail -1 "$tmp/venv.log")"
VPY=$tmp/venv/bin/python
export PIP_INDEX_URL=http://127.0.0.1:9/simple PIP_RETRIES=0 PIP_TIMEOUT=3 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PIP_NO_INPUT=1
rc=$(status "$VPY" -m pip install "$SRC/python")
[ "$rc" -eq 0 ] || sed 's/^/# /' "$tmp/out" "$tmp/err"
check "pip install ./python, offline" test "$rc" -eq 0
check "nothing written into the source tree" \
    test -z "$(find "$SRC/python" -name '*.egg-info' -o -name build -o -name dist | head -1)"
want=$(fp version | cut -d' ' -f2)
check "the installed package has the tool's version ($want)" \
    test "$(cd "$tmp" && "$VPY" -c 'import freqpilot; print(freqpilot.__version__)')" = "$want"
check "it is the installed copy, not the source tree" \
    bash -c "cd '$tmp' && '$VPY' -c 'import freqpilot; print(freqpilot.__file__)' | grep -q '^$tmp/venv/'"
check "no pandas in the venv: lists of dicts" \
    bash -c "cd '$tmp' && printf 'gpu,app,freq_mhz\nA100,x,1410\n' >a.csv && '$VPY' -c \"import freqpilot; r = freqpilot.read_aggregated('a.csv'); assert r == [{'gpu': 'A100', 'app': 'x', 'freq_mhz': 1410.0}], r\""

# The installed package under a sweep: a named window, the dataset named after the script.
cat >"$tmp/infer.py" <<'EOF2'
import time
import freqpilot
with freqpilot.window("decode"):
    time.sleep(0.3)
EOF2
rc=$(FREQPILOT_STATE_DIR=$tmp/state status fp profile --backend sim --gpu A100 --clocks 1410 --runs 1 \
    --warmup 0 --out "$tmp/ds" -- "$VPY" "$tmp/infer.py")
check "profile of the venv's script" test "$rc" -eq 0
check "window from the installed package" grep -q '"window_name": "decode"' "$tmp/ds/A100/infer/1410/1/run.json"

# The wheel: metadata and a RECORD whose digests are right.
rc=$(status "$VPY" -m pip wheel --no-deps -w "$tmp/wheels" "$SRC/python")
check "pip wheel, offline" test "$rc" -eq 0
check "a pure-Python wheel" test -f "$tmp/wheels/freqpilot-$want-py3-none-any.whl"
check "wheel RECORD digests and METADATA" "$VPY" - "$tmp/wheels/freqpilot-$want-py3-none-any.whl" "$want" <<'EOF2'
import base64, csv, hashlib, io, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
info = f"freqpilot-{sys.argv[2]}.dist-info"
meta = z.read(f"{info}/METADATA").decode()
assert f"Version: {sys.argv[2]}\n" in meta and "Name: freqpilot\n" in meta, meta
rows = list(csv.reader(io.StringIO(z.read(f"{info}/RECORD").decode())))
names = set(z.namelist())
assert {r[0] for r in rows} == names, names ^ {r[0] for r in rows}
for name, digest, size in rows:
    if name.endswith("RECORD"):
        continue
    data = z.read(name)
    want = "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    assert digest == want and int(size) == len(data), name
assert "freqpilot/__init__.py" in names and "freqpilot/py.typed" in names
EOF2

rc=$(status "$VPY" -m pip uninstall -y freqpilot)
check "pip uninstall" test "$rc" -eq 0
check "gone after uninstall" bash -c "! (cd '$tmp' && '$VPY' -c 'import freqpilot' 2>/dev/null)"
done_testing
