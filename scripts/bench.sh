#!/bin/sh
# Runs the ingest benchmark of an existing build (builds nothing).
#   scripts/bench.sh [BUILD_DIR] [SIZE_MB]
# BUILD defaults to ./build; SIZE_MB to 1024. The generated files live in $TMPDIR and are removed.
set -eu
build=${1:-${BUILD:-build}}
size=${2:-1024}
bench="$build/bench/bench_ingest"
[ -x "$bench" ] || { echo "bench.sh: $bench not found: build first (make / cmake --build $build)" >&2; exit 1; }
bin="$build/bin/freqpilot"
if [ -x "$bin" ]; then
    exec "$bench" "$size" "$bin"
fi
exec "$bench" "$size"
