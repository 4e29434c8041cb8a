#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# LLM serving under a latency SLO: `freqpilot sim trace` makes a reproducible diurnal trace,
# `govern replay --serving` compares every policy with the best static clock meeting the same
# SLO and the default clocks, and its JSON, timeline and per-request CSVs agree with each other
# (attainment and p99 TTFT re-derived from the requests). Bad traces and options are clear
# errors naming file:line.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip_all "python3 not installed"

# ---- sim trace --------------------------------------------------------------------
fp sim trace --duration 300 --peak 3.6 --period 300 --seed 11 -o "$tmp/day.csv"
check "sim trace exits 0" test $? -eq 0
check "sim trace header" test "$(head -1 "$tmp/day.csv")" = "t_s,prompt_tokens,output_tokens"
fp sim trace --duration 300 --peak 3.6 --period 300 --seed 11 >"$tmp/day2.csv"
check "same seed, same trace (file and stdout)" cmp -s "$tmp/day.csv" "$tmp/day2.csv"
check "trough = peak / 4 by default: 4x more arrivals near the peak than near the trough" \
    python3 - "$tmp/day.csv" <<'PY'
import csv, sys
t = [float(r["t_s"]) for r in csv.DictReader(open(sys.argv[1]))]
lo = sum(1 for x in t if x < 30 or x >= 270)
hi = sum(1 for x in t if 120 <= x < 180)
# expected 60 s around each: ~0.93 x 60 x 0.9 and ~3.55 x 60
assert 25 <= lo <= 90 and 150 <= hi <= 270 and hi > 2.5 * lo, (lo, hi)
PY
check "sim trace: trough over the peak is a usage error" \
    test "$(status fp sim trace --peak 1 --trough 2)" -eq 2

# ---- govern replay --serving -----------------------------------------------------
fp govern replay --serving "$tmp/day.csv" --slo ttft=2s,tbt=100ms --format json \
    -o "$tmp/r.json" --trace "$tmp/tl.csv" --requests "$tmp/req.csv"
check "replay --serving exits 0" test $? -eq 0
check "json: documented keys, every policy, static-best the least J/token meeting the SLO" \
    python3 - "$tmp/r.json" <<'PY'
import json, math, sys
d = json.load(open(sys.argv[1]))
assert d["format"] == "freqpilot-serving-replay" and d["gpu"] == "A100" and d["model"] == "llama-7b"
for k in ("trace", "requests", "duration_s", "interval_s", "switch_latency_s", "max_batch",
          "chunk_tokens", "static_best_mhz", "results", "static_sweep", "timeline"):
    assert k in d, k
assert d["slo"] == {"ttft_s": 2.0, "tbt_s": 0.1, "attainment": 0.99}, d["slo"]
rows = {r["policy"]: r for r in d["results"]}
assert set(rows) == {"default", "static-best", "activity", "phase", "feedback", "slo"}, set(rows)
keys = ("energy_j", "energy_per_token_j", "energy_per_request_j", "energy_saving",
        "vs_static_best_points", "ttft_p50_s", "ttft_p99_s", "tbt_p50_s", "tbt_p99_s",
        "attainment", "meets_slo", "clock_changes", "mean_clock_mhz", "requests", "finished",
        "rejected", "prompt_tokens", "output_tokens", "time_s")
for r in rows.values():
    for k in keys:
        assert k in r, (r["policy"], k)
    # the flag is what the numbers say
    meets = r["attainment"] >= 0.99 - 1e-12 and r["ttft_p99_s"] is not None and \
        r["ttft_p99_s"] <= 2 and r["tbt_p99_s"] <= 0.1
    assert meets == r["meets_slo"], r
    assert abs(r["energy_per_token_j"] * r["output_tokens"] - r["energy_j"]) < 1e-6 * r["energy_j"]
assert rows["default"]["energy_saving"] == 0
sw = d["static_sweep"]
assert len(sw) == 81 and sw[0]["freq_mhz"] == 1410 and sw[-1]["freq_mhz"] == 210
meeting = [s for s in sw if s["meets_slo"]]
best = min(meeting, key=lambda s: s["energy_per_token_j"])
assert best["freq_mhz"] == d["static_best_mhz"] == rows["static-best"]["freq_mhz"]
assert abs(best["energy_per_token_j"] - rows["static-best"]["energy_per_token_j"]) < 1e-12
for r in rows.values():
    pts = 100 * (r["energy_saving"] - rows["static-best"]["energy_saving"])
    assert abs(pts - r["vs_static_best_points"]) < 1e-6
# the slo policy meets its SLO and uses less energy than the default clocks
assert rows["slo"]["meets_slo"] and rows["slo"]["energy_per_token_j"] < rows["default"]["energy_per_token_j"]
tl = d["timeline"]
assert tl["policy"] == "slo" and len(tl["t_s"]) == len(tl["requested_mhz"]) > 100
PY
check "requests CSV re-derives the slo row's attainment and p99 TTFT" \
    python3 - "$tmp/r.json" "$tmp/req.csv" <<'PY'
import csv, json, math, sys
slo = [r for r in json.load(open(sys.argv[1]))["results"] if r["policy"] == "slo"][0]
req = list(csv.DictReader(open(sys.argv[2])))
assert len(req) == slo["requests"] and all(r["policy"] == "slo" for r in req)
ok = sum(int(r["meets_slo"]) for r in req)
assert abs(ok / len(req) - slo["attainment"]) < 1e-12, (ok, len(req), slo["attainment"])
t = sorted(float(r["ttft_s"]) if r["finished"] == "1" else math.inf for r in req)
p99 = t[math.ceil(0.99 * len(t)) - 1]
assert abs(p99 - slo["ttft_p99_s"]) < 1e-5, (p99, slo["ttft_p99_s"])
e = sum(float(r["energy_j"]) for r in req)
assert e <= slo["energy_j"] * (1 + 1e-6)
PY
check "timeline CSV: every interval, requested clocks are supported clocks (or 0 = default)" \
    python3 - "$tmp/tl.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert len(rows) > 500
clocks = set(range(210, 1411, 15)) | {0}
assert all(int(r["requested_mhz"]) in clocks for r in rows)
assert any(int(r["requested_mhz"]) != int(rows[0]["requested_mhz"]) for r in rows)
PY

fp govern replay --serving "$tmp/day.csv" --policy slo >"$tmp/t.txt"
check "table names default, static-best and the policy, each met or MISSED" \
    test "$(grep -cE '^  (default|static-best|slo) .* (met|MISSED) ' "$tmp/t.txt")" -eq 3
check "table names the best static clock" grep -q "best static clock meeting the SLO: [0-9]* MHz" "$tmp/t.txt"

# A latency model written for the daemon gives the slo policy the same answers.
fp govern replay --serving "$tmp/day.csv" --format json --save-latency-model "$tmp/lm.json" \
    -o /dev/null
check "--save-latency-model writes the model" grep -q '"format": "freqpilot-latency-model"' "$tmp/lm.json"
fp govern replay --serving "$tmp/day.csv" --format json --latency-model "$tmp/lm.json" \
    --policy slo -o "$tmp/r2.json"
check "the saved model reproduces the slo row" python3 - "$tmp/r.json" "$tmp/r2.json" <<'PY'
import json, sys
a, b = [[r for r in json.load(open(p))["results"] if r["policy"] == "slo"][0] for p in sys.argv[1:]]
assert abs(a["energy_j"] / b["energy_j"] - 1) < 1e-6 and a["attainment"] == b["attainment"], (a, b)
PY

# The Azure LLM inference trace layout, as published.
cat >"$tmp/azure.csv" <<'EOF'
TIMESTAMP,ContextTokens,GeneratedTokens
2023-11-16 18:15:46.6805900,374,44
2023-11-16 18:15:50.9951690,396,109
2023-11-16 18:15:51.0228740,879,1
2023-11-16 18:15:52.2523400,2290,26
EOF
fp govern replay --serving "$tmp/azure.csv" --gpu H100 --format json -o "$tmp/az.json"
check "Azure layout replays on the H100" python3 - "$tmp/az.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["gpu"] == "H100" and d["requests"] == 4 and abs(d["duration_s"] - 5.57175) < 1e-6
assert all(r["finished"] == 4 for r in d["results"])
PY

# ---- the report's serving section ----------------------------------------------------
fp -q report "$SRC/tests/data/report/aggregated.csv" "$tmp/r.json" -o "$tmp/rep" --simulated
check "report with a serving replay JSON exits 0" test $? -eq 0
check "report.html has the serving section and its figures" \
    bash -c "grep -q '<h2 id=\"serving\">LLM serving</h2>' '$tmp/rep/report.html' &&
             grep -q 'aria-label=\"A100: energy per token vs SLO attainment\"' '$tmp/rep/report.html' &&
             grep -q 'aria-label=\"A100: slo clock over the trace\"' '$tmp/rep/report.html'"
if command -v pdftotext >/dev/null; then
    check "report.pdf has the serving page" bash -c "pdftotext '$tmp/rep/report.pdf' - | grep -q 'Best static clock meeting it'"
fi

# ---- errors ----------------------------------------------------------------------
printf 't_s,prompt_tokens,output_tokens\n0.5,100,20\n0.7,abc,3\n' >"$tmp/bad.csv"
check "bad trace row: exit 1" test "$(status fp govern replay --serving "$tmp/bad.csv")" -eq 1
check "... naming file:line and what was expected" \
    grep -q "bad.csv:3: prompt_tokens: expected a whole number of tokens >= 1, found 'abc'" "$tmp/err"
check "... and nothing on stdout" test ! -s "$tmp/out"
check "missing trace: exit 1" test "$(status fp govern replay --serving "$tmp/nope.csv")" -eq 1
check "bad --slo: usage error" test "$(status fp govern replay --serving "$tmp/day.csv" --slo ttft=fast)" -eq 2
check "unknown --slo key: usage error" test "$(status fp govern replay --serving "$tmp/day.csv" --slo p50=1s)" -eq 2
check "unknown policy: usage error naming the registry" \
    test "$(status fp govern replay --serving "$tmp/day.csv" --policy turbo)" -eq 2
check "... which lists slo" grep -q "expected default, static, activity, phase, feedback, slo" "$tmp/err"
check "a bad slo setting: usage error" \
    test "$(status fp govern replay --serving "$tmp/day.csv" --set margin=7)" -eq 2
check "... naming the setting and its range" grep -q "policy slo: margin=7: expected 0..0.95" "$tmp/err"
check "a workload beside --serving: usage error" \
    test "$(status fp govern replay --serving "$tmp/day.csv" llama)" -eq 2

# ---- the registry --------------------------------------------------------------------
fp govern policies >"$tmp/pol.txt"
check "govern policies lists slo and its settings" \
    bash -c "grep -q '^slo ' '$tmp/pol.txt' && grep -q '^    ttft=2s ' '$tmp/pol.txt' && grep -q '^    tbt=0.1s ' '$tmp/pol.txt'"
done_testing
