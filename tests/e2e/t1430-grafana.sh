#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The Grafana dashboard (contrib/grafana/freqpilot-dashboard.json) against the daemon's real
# Prometheus endpoint: every metric it queries is served, every label it filters or groups by
# is on those series (gpu, gpu_uuid, gpu_name, hostname), and the labels carry the GPU's UUID
# and name and the host.
. "$(dirname "$0")/lib.sh"
need_python
command -v curl >/dev/null || skip_all "curl not installed"
DASH=$SRC/contrib/grafana/freqpilot-dashboard.json
export FREQPILOT_SIM_REALTIME=1 FREQPILOT_SIM_WORKLOAD=llama FREQPILOT_SIM_GPU=H100
fp -v govern daemon --backend sim --policy phase --interval-ms 50 --duration 30 \
    --listen 127.0.0.1:0 --state-dir "$tmp/state" >"$tmp/daemon.out" 2>"$tmp/daemon.err" &
pid=$!
at_exit "kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null"
port=
for _ in $(seq 1 100); do
    port=$(sed -n 's/.*metrics on http:.* (port \([0-9]*\)).*/\1/p' "$tmp/daemon.err")
    [ -n "$port" ] && break
    sleep 0.1
done
check "daemon serves metrics" test -n "$port"
for _ in $(seq 1 50); do
    curl -s --max-time 5 "http://127.0.0.1:$port/metrics" >"$tmp/metrics.txt"
    grep -q '^freqpilot_decisions_total{.*} [1-9]' "$tmp/metrics.txt" && break
    sleep 0.1
done
check "metrics fetched" grep -q '^freqpilot_power_watts{' "$tmp/metrics.txt"
gpu=$(fp gpus --backend sim --json | "$PY" -c '
import json, sys
g = json.load(sys.stdin)["gpus"][0]
print(g["index"], g["uuid"], g["name"], sep="|")')
IFS='|' read -r index uuid name <<<"$gpu"
check "labels: the GPU's index, UUID and name and the host ($index $uuid $name)" \
    grep -q "^freqpilot_sm_clock_mhz{gpu=\"$index\",gpu_uuid=\"$uuid\",gpu_name=\"$name\",hostname=\"$(hostname)\"} " "$tmp/metrics.txt"
check "dashboard is valid JSON with panels and variables" "$PY" - "$DASH" <<'EOF2'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["uid"] and d["title"] and len(d["panels"]) >= 5
assert {v["name"] for v in d["templating"]["list"]} >= {"datasource", "hostname", "gpu_uuid"}
assert all(t["expr"] for p in d["panels"] for t in p["targets"])
EOF2
check "every metric and label the dashboard queries exists in the endpoint's output" \
    "$PY" - "$DASH" "$tmp/metrics.txt" <<'EOF2'
import json, re, sys
dash = json.load(open(sys.argv[1]))
text = open(sys.argv[2]).read()
series = {}  # metric name -> label names seen
for line in text.splitlines():
    m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)\{(.*)\} ", line)
    if m:
        series.setdefault(m.group(1), set()).update(re.findall(r'([a-zA-Z_]\w*)="', m.group(2)))
# (query, its legend) of every panel target and variable
queries = [(t["expr"], t.get("legendFormat", "")) for p in dash["panels"] for t in p["targets"]]
queries += [(v["query"]["query"], "") for v in dash["templating"]["list"] if isinstance(v.get("query"), dict)]
used = set()
for q, legend in queries:
    names = set(re.findall(r"\bfreqpilot_[a-z0-9_]+\b", q))
    assert names, f"no freqpilot metric in {q!r}"
    for n in names:
        assert n in series, f"{n} (queried by {q!r}) is not served"
        used.add(n)
    labels = set(re.findall(r"([a-z_]+)=~?\"", q))
    labels |= {l.strip() for g in re.findall(r"by \(([^)]*)\)", q) for l in g.split(",")}
    labels |= set(re.findall(r"label_values\([^,]+,\s*([a-z_]+)\)", q))
    labels |= set(re.findall(r"\{\{([a-z_]+)\}\}", legend))
    for n in names:
        missing = labels - series[n]
        assert not missing, f"{q!r} ({legend!r}): labels {missing} are not on {n}"
print(f"# {len(queries)} queries over {len(used)} metrics: {', '.join(sorted(used))}")
assert used == set(series), f"metrics not on the dashboard: {set(series) - used}"
EOF2
done_testing
