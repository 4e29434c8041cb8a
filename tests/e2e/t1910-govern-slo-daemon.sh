#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# `freqpilot govern daemon --policy slo` with the fake NVML (an A100) and a stand-in serving
# engine on 127.0.0.1 (a small python http.server the test steers through a file, logging each
# scrape into the fake NVML's call log so the two are ordered in one file): at a light load the
# clock is locked low; a latency spike raises it to the highest clock within two intervals; when
# the endpoint stops answering the clocks go back to the default ones (reset), never to a low
# clock; SIGTERM restores them.
. "$(dirname "$0")/lib.sh"
need_fake_nvml
command -v python3 >/dev/null || skip_all "python3 not installed"

export FAKE_NVML_LOG="$tmp/nvml.log"
export FREQPILOT_STATE_DIR="$tmp/state"
: >"$FAKE_NVML_LOG"

cat >"$tmp/engine.py" <<'PY'
import http.server, sys
metrics, log, portfile = sys.argv[1:4]
n = 0
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        global n
        n += 1
        body = open(metrics, "rb").read()
        tag = body.split(b"\n", 1)[0].decode().lstrip("# ")
        with open(log, "a") as f:
            f.write("SCRAPE %d %s\n" % (n, tag))
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
open(portfile + ".tmp", "w").write(str(s.server_address[1]))
import os; os.rename(portfile + ".tmp", portfile)
s.serve_forever()
PY

# vLLM's metric names; counters grow by what one interval would see at this load.
write_metrics() { # TAG WAITING RUNNING PROMPT GEN REQS TTFT_SLOW
    cat >"$tmp/m.new" <<EOF
# $1
# HELP vllm:num_requests_waiting Number of requests waiting.
# TYPE vllm:num_requests_waiting gauge
vllm:num_requests_waiting{model_name="llama"} $2
vllm:num_requests_running{model_name="llama"} $3
vllm:gpu_cache_usage_perc{model_name="llama"} 0.05
vllm:prompt_tokens_total{model_name="llama"} $4
vllm:generation_tokens_total{model_name="llama"} $5
vllm:request_success_total{finished_reason="stop",model_name="llama"} $6
vllm:time_to_first_token_seconds_bucket{le="0.1",model_name="llama"} $6
vllm:time_to_first_token_seconds_bucket{le="0.5",model_name="llama"} $6
vllm:time_to_first_token_seconds_bucket{le="2.5",model_name="llama"} $6
vllm:time_to_first_token_seconds_bucket{le="5.0",model_name="llama"} $(($6 + $7))
vllm:time_to_first_token_seconds_bucket{le="+Inf",model_name="llama"} $(($6 + $7))
vllm:time_to_first_token_seconds_count{model_name="llama"} $(($6 + $7))
EOF
    mv "$tmp/m.new" "$tmp/metrics"
}

write_metrics light 0 2 1000 200 10 0
python3 "$tmp/engine.py" "$tmp/metrics" "$FAKE_NVML_LOG" "$tmp/port" &
engine=$!
at_exit 'kill $engine 2>/dev/null; kill -KILL $daemon 2>/dev/null'
for _ in $(seq 1 100); do [ -s "$tmp/port" ] && break; sleep 0.1; done
port=$(cat "$tmp/port")
check "stand-in engine listening on 127.0.0.1" test -n "$port"

# Counters keep growing while the test runs (a light load: ~1 request/s).
(
    i=0
    while [ -e "$tmp/port" ]; do
        i=$((i + 1))
        tag=$(head -1 "$tmp/metrics" 2>/dev/null | tr -d '# ')
        [ "$tag" = light ] && write_metrics light 0 2 $((1000 + 500 * i)) $((200 + 100 * i)) $((10 + i)) 0
        sleep 0.5
    done
) &
feeder=$!
at_exit 'kill $feeder 2>/dev/null'

fp_nvml -v govern daemon --policy slo --interval-ms 400 --duration 60 \
    --engine-metrics "http://127.0.0.1:$port/metrics" --set hold=2s \
    >"$tmp/out" 2>"$tmp/err" &
daemon=$!

wait_for() { # SECONDS COMMAND...: poll until COMMAND succeeds
    local n=$(($1 * 10))
    shift
    for _ in $(seq 1 "$n"); do "$@" && return 0; sleep 0.1; done
    return 1
}
low_lock() { grep -qE 'SetGpuLockedClocks\(gpu=0, ([0-9]{3}|1[0-3][0-9]{2}), ' "$FAKE_NVML_LOG"; }
check "light load: a clock below f_max is locked" wait_for 20 low_lock
check "the daemon says where the signals come from" grep -q "info: engine metrics: signals from http://127.0.0.1:$port/metrics" "$tmp/err"

# ---- a latency spike: 20 requests waited 2.5..5 s for their first token ---------------
n=$(grep -c '^SCRAPE' "$FAKE_NVML_LOG")
write_metrics spike 12 20 $((1000 + 500 * 999)) $((200 + 100 * 999)) 1009 20
fmax_after_spike() {
    awk '/^SCRAPE .* spike/ { s = 1 } s && /SetGpuLockedClocks\(gpu=0, 1410, 1410\) = 0/ { f = 1 } END { exit !f }' "$FAKE_NVML_LOG"
}
check "the spike takes the highest clock" wait_for 20 fmax_after_spike
scrapes=$(awk '/^SCRAPE .* spike/ && !s { s = 1; next } s && /^SCRAPE/ { n++ }
               s && /SetGpuLockedClocks\(gpu=0, 1410, 1410\) = 0/ { print n + 0; exit }' "$FAKE_NVML_LOG")
check "... within two intervals of the first scrape that shows it (scrapes in between: $scrapes)" \
    test "${scrapes:-9}" -le 1
check "the clock change is logged" grep -qE 'clock [0-9]+ -> 1410 MHz' "$tmp/err"

# ---- the endpoint stops answering: default clocks, not a low one ----------------------
kill $engine
wait $engine 2>/dev/null
rm -f "$tmp/port" # stops the feeder
mark=$(wc -l <"$FAKE_NVML_LOG")
reset_after() { tail -n +"$mark" "$FAKE_NVML_LOG" | grep -q 'nvmlDeviceResetGpuLockedClocks(gpu=0) = 0'; }
check "endpoint gone: the clocks are reset to the default" wait_for 20 reset_after
sleep 1.5
check "... and no clock is locked while it is gone" \
    bash -c "! tail -n +$mark '$FAKE_NVML_LOG' | sed -n '/ResetGpuLockedClocks/,\$p' | grep -q SetGpuLockedClocks"
check "the fallback is logged as a warning" grep -q "warning: engine metrics http://127.0.0.1:$port/metrics: connect: Connection refused (default clocks until it answers)" "$tmp/err"

kill -TERM $daemon
wait $daemon
rc=$?
daemon=
check "SIGTERM re-raised after the restore (exit 143)" test $rc -eq 143
check "state file removed" test -z "$(ls "$FREQPILOT_STATE_DIR" 2>/dev/null)"

# ---- the URL must name this host --------------------------------------------------------
check "a remote engine URL is a usage error" \
    test "$(status fp govern daemon --policy slo --engine-metrics http://10.0.0.1:8000/metrics)" -eq 2
check "... saying why" grep -q "the engine must be on this host" "$tmp/err"
check "an unknown --engine-map key is a usage error" \
    test "$(status fp govern daemon --policy slo --engine-metrics http://127.0.0.1:8000/metrics --engine-map queue=x)" -eq 2
done_testing
