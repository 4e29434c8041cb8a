#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# freqpilot sim: list, optimum (plain and --json), curve, run, INI workloads, usage errors.
. "$(dirname "$0")/lib.sh"

check_eval "help" '"$FP" sim --help | grep -q "freqpilot sim optimum"'
check_eval "list names the three GPUs" \
    '[ "$("$FP" sim list | grep -cE "^  (V100|A100|H100) ")" = 3 ]'
check_eval "list: A100 has 81 clocks" '"$FP" sim list | grep -q "A100 .*81 clocks 210..1410"'

# optimum prints a supported clock; the curve's own minimum energy agrees
"$FP" sim curve --gpu A100 --workload llama -o "$tmp/curve.csv"
check_eval "curve header" '[ "$(head -1 "$tmp/curve.csv")" = "freq_mhz,time_s,energy_j,power_w,edp,ed2p" ]'
check_eval "curve has one row per clock" '[ "$(tail -n +2 "$tmp/curve.csv" | wc -l)" = 81 ]'
opt=$("$FP" sim optimum --gpu A100 --workload llama --objective energy)
argmin=$(tail -n +2 "$tmp/curve.csv" | sort -t, -k3,3g | head -1 | cut -d, -f1)
check_eval "optimum = argmin of the curve ($opt vs $argmin)" '[ "$opt" = "$argmin" ]'
edp=$("$FP" sim optimum --gpu A100 --workload llama --objective edp)
argedp=$(tail -n +2 "$tmp/curve.csv" | sort -t, -k5,5g | head -1 | cut -d, -f1)
check_eval "edp optimum = argmin of edp column" '[ "$edp" = "$argedp" ]'

# budget: slowdown within 5 %
"$FP" sim optimum --gpu H100 --workload stablediffusion --objective energy --max-slowdown 0.05 \
    --json >"$tmp/o.json"
check_eval "json has freq_mhz and slowdown <= 0.05" \
    'python3 -c "import json,sys; d=json.load(open(\"$tmp/o.json\")); sys.exit(0 if d[\"slowdown\"]<=0.05 and d[\"freq_mhz\"]<1785 and 0<d[\"energy_saving\"]<1 else 1)"'

# run: telemetry.csv with the contract's columns; same seed -> same bytes
"$FP" sim run --gpu H100 --workload whisper --clock 1200 --seed 5 -o "$tmp/a.csv"
"$FP" sim run --gpu H100 --workload whisper --clock 1200 --seed 5 >"$tmp/b.csv"
"$FP" sim run --gpu H100 --workload whisper --clock 1200 --seed 6 >"$tmp/c.csv"
check_eval "telemetry header" \
    'head -1 "$tmp/a.csv" | grep -q "^t_s,power_w,power_avg_w,energy_mj,sm_clock_mhz,mem_clock_mhz,gpu_util_pct"'
check_eval "same seed, same file" 'cmp -s "$tmp/a.csv" "$tmp/b.csv"'
check_eval "other seed, other file" '! cmp -s "$tmp/a.csv" "$tmp/c.csv"'
check_eval "reached clock 1200 during the run" 'cut -d, -f5 "$tmp/a.csv" | grep -qx 1200'

# INI workload
check_eval "INI workload optimum" '"$FP" sim optimum --gpu A100 --workload "$DATA/sim/chatbot.ini" --objective edp | grep -qE "^[0-9]+$"'
printf '[workload]\nname = x\n[phase a]\nhost_s = oops\n' >"$tmp/bad.ini"
"$FP" sim curve --gpu A100 --workload "$tmp/bad.ini" >/dev/null 2>"$tmp/err"
rc=$?
check_eval "bad INI fails with file:line" '[ $rc = 1 ] && grep -q "bad.ini:4: host_s" "$tmp/err"'

# usage errors exit 2
"$FP" sim optimum --gpu K80 --workload llama --objective energy 2>/dev/null
check_eval "unknown GPU is a usage error" '[ $? = 2 ]'
"$FP" sim optimum --gpu A100 --workload llama --objective speed 2>/dev/null
check_eval "unknown objective is a usage error" '[ $? = 2 ]'
"$FP" sim frobnicate 2>/dev/null
check_eval "unknown subcommand is a usage error" '[ $? = 2 ]'

done_testing
