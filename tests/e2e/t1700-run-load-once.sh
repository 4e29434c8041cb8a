#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# freqpilot run reads and aggregates its input once and hands it to every stage in memory;
# the stages are still the commands commands.txt lists, and each of them typed alone writes the
# same files byte for byte: aggregated.csv, dropped.csv, the recommendations (optimal.json),
# pareto.json, validation.json and the model (issue 17). On measured_runs.csv (skipped without
# the real data) and on a small simulated sweep; --timings names every stage; strace (when
# present) shows the input file opened by one process only.
. "$(dirname "$0")/lib.sh"

outputs="aggregated.csv dropped.csv optimal.json pareto.json validation.json model.json
model-curves.json"

# Every stage line of DIR/commands.txt, typed alone with DIR's outputs going to DIR.alone
# (the input, DIR/runs.csv for a simulated sweep, read where it is).
run_alone() {
    local dir=$1 alone=$1.alone line
    mkdir -p "$alone"
    while IFS= read -r line; do
        case $line in "#"* | "freqpilot report"*) continue ;; esac
        line=${line//$dir\//$alone\/}
        line=${line//$alone\/runs.csv/$dir\/runs.csv} # the simulated input stays where it is
        eval "\"\$FP\" -q ${line#freqpilot }" || return 1
    done <"$dir/commands.txt"
}

same_outputs() {
    local what=$1 dir=$2 f
    check "$what: every stage of commands.txt runs alone" run_alone "$dir"
    for f in $outputs; do
        check "$what: $f of run = $f of its command" cmp -s "$dir/$f" "$dir.alone/$f"
    done
}

# --- a small simulated sweep (always available) ---
cat >"$tmp/run.ini" <<'INI'
[simulate]
gpus = A100,H100
workloads = vit,llama
runs = 3
clock_step = 3
INI
check "simulated: run writes its report" fp -q run -o "$tmp/sim" --config "$tmp/run.ini" \
    --timings "$tmp/sim.timings"
same_outputs "simulated" "$tmp/sim"
check "simulated: --timings lists load, each stage and the report" \
    test "$(cut -d, -f1 "$tmp/sim.timings" | tr '\n' ' ')" = \
    "stage load aggregate optimize pareto validate model report "
check_eval "simulated: --timings gives seconds >= 0" \
    "awk -F, 'NR > 1 && !(\$2 >= 0 && \$3 >= 0) { bad = 1 } END { exit bad }' '$tmp/sim.timings'"

# --- the real data: the results of the commands, before and after loading once ---
if [ -e "$REAL/ai-inference-energy/measured_runs.csv" ]; then
    M=$REAL/ai-inference-energy/measured_runs.csv
    check "measured_runs.csv: run writes its report" fp -q run "$M" -o "$tmp/real"
    same_outputs "measured_runs.csv" "$tmp/real"
    check "measured_runs.csv: 12 (gpu, app) x 4 objectives x 3 budgets recommended" \
        test "$(grep -c '"objective"' "$tmp/real/optimal.json")" = 144
    # One process reads the input: the stages inherit what it loaded.
    if command -v strace >/dev/null && strace -f -qq -e trace=none true 2>/dev/null; then
        strace -f -qq -e trace=openat -o "$tmp/trace" "$FP" -q run "$M" -o "$tmp/traced"
        readers=$(grep -F "$M" "$tmp/trace" | grep -v ENOENT | awk '{ print $1 }' | sort -u |
            wc -l)
        check "measured_runs.csv: one process opens the input (got $readers)" test "$readers" = 1
    else
        ok "# skip strace check: strace absent or not permitted"
    fi
else
    ok "# skip measured_runs.csv: real data not found (set FREQPILOT_DATA_DIR)"
fi

done_testing
