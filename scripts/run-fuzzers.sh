#!/bin/sh
# Runs every libFuzzer harness in DIR for SECONDS each (default 20; `make check` gives
# FUZZ_SECONDS, 15: all harnesses in under 5 minutes), seeded from fuzz/corpus/NAME. Fails on
# the first crash, leak, sanitizer report or broken invariant (the harnesses trap on one).
set -eu
dir=$1
secs=${2:-20}
src=$(cd "$(dirname "$0")/.." && pwd)
found=0
start=$(date +%s)
for f in "$dir"/fuzz_*; do
    [ -x "$f" ] || continue
    found=1
    name=$(basename "$f")
    work=$(mktemp -d)
    seeds="$src/fuzz/corpus/${name#fuzz_}"
    set -- "$work"
    [ -d "$seeds" ] && set -- "$@" "$seeds"
    echo "fuzz: $name for ${secs}s"
    "$f" -max_total_time="$secs" -max_len=65536 -rss_limit_mb=2048 -print_final_stats=1 "$@" \
        >"$work.log" 2>&1 || { tail -n 60 "$work.log"; rm -rf "$work"; exit 1; }
    grep -E 'stat::number_of_executed_units' "$work.log" || true
    rm -rf "$work" "$work.log"
done
[ "$found" = 1 ] || echo "fuzz: no harnesses built"
echo "fuzz: all harnesses in $(($(date +%s) - start)) s"
