#!/bin/sh
# make demo: runs the pipeline that exists on the real data (../shared/data) until the
# simulated GPU lands; then it will sweep the simulated GPU.
set -eu
bin=$1
out=$2
data=${FREQPILOT_DATA_DIR:-../shared/data}
mkdir -p "$out"
if [ -f "$data/ai-inference-energy/measured_runs.csv" ]; then
    "$bin" aggregate "$data/ai-inference-energy/measured_runs.csv" -o "$out/aggregated.csv"
    echo "demo: wrote $out/aggregated.csv"
else
    echo "demo: real data not found in $data (set FREQPILOT_DATA_DIR)" >&2
    exit 1
fi
