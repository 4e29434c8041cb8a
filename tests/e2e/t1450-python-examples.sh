#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# examples/: the PyTorch-style inference script under `freqpilot profile` with a stand-in
# torch (tests/data/standin_torch: each Linear layer takes STANDIN_TORCH_LINEAR_S, so N
# batches of a 2-Linear model take N x 2 x that; the model load STANDIN_TORCH_LOAD_S) - its
# window is the inference loop only;
# and the pandas example's savings equal those in optimize's JSON, and it draws the figure.
. "$(dirname "$0")/lib.sh"
need_python
export FREQPILOT_STATE_DIR=$tmp/state
export PYTHONPATH=$DATA/standin_torch:$SRC/python
export STANDIN_TORCH_LINEAR_S=0.004 STANDIN_TORCH_LOAD_S=1.0
BATCHES=100 # 100 x 2 x 4 ms = 0.8 s of "GPU work" in the window (5 warm-up batches outside)
want=$(awk -v n=$BATCHES -v s=$STANDIN_TORCH_LINEAR_S 'BEGIN { print n * 2 * s }')

# Outside a sweep it runs as usual and says once that nothing is recorded.
rc=$(status "$PY" "$SRC/examples/pytorch_inference.py" --batches 3)
check "example runs outside freqpilot" test "$rc" -eq 0
check "says once that windows are not recorded" \
    test "$(grep -c "not running under 'freqpilot profile'" "$tmp/err")" -eq 1

rc=$(status fp profile --backend sim --gpu A100 --clocks 1410,705 --runs 2 --warmup 0 --out "$tmp/ds" \
    -- "$PY" "$SRC/examples/pytorch_inference.py" --batches $BATCHES)
check "profile of the PyTorch example" test "$rc" -eq 0
check "dataset named after the script" test -d "$tmp/ds/A100/pytorch_inference/705/2"
check "its window is the named inference loop" \
    grep -q '"window_name": "inference"' "$tmp/ds/A100/pytorch_inference/1410/1/run.json"
fp aggregate -q "$tmp/ds" --runs "$tmp/runs.csv" -o "$tmp/agg.csv"
tc=$(csvcol "$tmp/runs.csv" time_s)
sc=$(csvcol "$tmp/runs.csv" source)
# The script times its inference loop itself ("... in X s" on its stdout): the window is
# that (to 0.1 s of scheduling, on a loaded machine), at least the batches' work, and not
# the 1 s model load.
n_ok=$(tail -n +2 "$tmp/runs.csv" | cut -d, -f"$tc,$sc" |
    while IFS=, read -r t src; do
        x=$(sed -n 's/.* in \([0-9.]*\) s (.*/\1/p' "$(dirname "$src")/stdout.txt")
        echo "# window $t s, the script's loop ${x:-?} s, the batches' work $want s" >&2
        [ -n "$x" ] && awk -v t="$t" -v x="$x" -v w="$want" \
            'BEGIN { d = t - x; if (d < 0) d = -d; exit !(t >= w && d <= 0.1) }' && echo y
    done | wc -l)
check "every window is the inference loop: the $BATCHES batches, not the model load" test "$n_ok" -eq 4

# The pandas example on `freqpilot run`'s results (a small simulated sweep).
if "$PY" -c 'import pandas, matplotlib' 2>/dev/null; then
    printf '[simulate]\ngpus = A100,H100\nworkloads = vit,whisper\nruns = 2\nclock_step = 6\n' >"$tmp/small.ini"
    fp run -q --config "$tmp/small.ini" -o "$tmp/res" -j 1
    rc=$(status "$PY" "$SRC/examples/plot_savings.py" "$tmp/res" --max-slowdown 0.05 -o "$tmp/savings.png")
    check "plot_savings.py runs" test "$rc" -eq 0
    check "a PNG figure" bash -c "head -c 8 '$tmp/savings.png' | od -An -c | grep -q 'P   N   G'"
    check "one line per (gpu, app)" test "$(grep -c '% energy saved' "$tmp/out")" -eq 4
    check "its savings are optimize's" "$PY" - "$tmp/res/optimal.json" "$tmp/out" <<'EOF2'
import json, re, sys
recs = [r for r in json.load(open(sys.argv[1]))["results"]
        if r["objective"] == "energy" and r["max_slowdown"] == 0.05 and r["feasible"]]
lines = [l for l in open(sys.argv[2]) if "% energy saved" in l]
assert len(lines) == len(recs) == 4, (lines, recs)
for r in recs:
    want = (f"{r['gpu']} {r['app']}: {r['freq_mhz']:.0f} MHz (baseline {r['baseline_mhz']:.0f}): "
            f"{100 * r['energy_saving']:.1f} % energy saved, {100 * r['slowdown']:.1f} % slower")
    assert want + "\n" in lines, (want, lines)
EOF2
else
    ok "# skip: pandas or matplotlib not installed (plot_savings.py)"
fi
done_testing
