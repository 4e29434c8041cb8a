#!/bin/sh
# Runs every benchmark of an existing build (builds nothing); each prints its figures and
# its ratio against a reference measured in the same run.
#   scripts/bench.sh [BUILD_DIR] [SIZE_MB]
# BUILD defaults to ./build; SIZE_MB (ingest file size) to 1024. Generated files live in
# $TMPDIR and are removed.
set -eu
build=${1:-${BUILD:-build}}
size=${2:-1024}
bin="$build/bin/freqpilot"
[ -x "$build/bench/bench_ingest" ] && [ -x "$bin" ] ||
    { echo "bench.sh: $build has no benchmarks or binary: build first (make build)" >&2; exit 1; }
echo "== ingest: freqpilot aggregate and the readers vs wc -l on the same file"
"$build/bench/bench_ingest" "$size" "$bin"
echo "== replay: govern replay of a long nvidia-smi trace, streamed (peak RSS vs 64 MB)"
"$build/bench/bench_replay" "$size" "$bin"
echo "== sampler: CPU time per sample and jitter"
"$build/bench/bench_sampler"
echo "== govern: controller overhead per decision"
"$build/bench/bench_govern"
echo "== model: prediction errors and regret"
"$build/bench/bench_model_eval"
echo "== decision: the engine's choices against the simulator's truth (issue 11 goals)"
"$build/bench/bench_decision"
echo "== pipeline: freqpilot run, real and simulated"
"$build/bench/bench_pipeline" "$bin"
echo "== freqpilotd: requests per second, added latency of a clock change (fake NVML)"
LD_LIBRARY_PATH="$build/fake_nvml${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$build/bench/bench_freqpilotd"
