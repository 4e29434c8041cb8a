#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# freqpilot model: fit / predict / evaluate / replay on a small simulated run table
# (tests/data/model/a100_sd_runs.csv: A100 stablediffusion truth at 16 clocks, 3 runs with
# 1 % noise), on the simulated GPU, and on measured_runs.csv when the real data is there.
. "$(dirname "$0")/lib.sh"
RUNS=$DATA/model/a100_sd_runs.csv

check_eval "help" '"$FP" model --help | grep -q "freqpilot model replay"'
check_eval "listed in freqpilot --help" '"$FP" --help | grep -qE "^ +model +"'

# fit: model.json with one curve; curves JSON for the report
check_eval "fit" '"$FP" -q model fit "$RUNS" -o "$tmp/m.json" --curves "$tmp/c.json"'
check_eval "model.json has 1 clock-bound curve" \
    '[ "$(jq "[.curves[] | select(.clock_bound)] | length" "$tmp/m.json")" = 1 ]'
check_eval "curves JSON has points with intervals and the 16 measured clocks" \
    'jq -e ".curves[0].points[0] | has(\"power_w_lo\") and has(\"time_s_hi\")" "$tmp/c.json" >/dev/null &&
     [ "$(jq ".curves[0].measured | length" "$tmp/c.json")" = 16 ]'

# predict at a clock that was not measured (900 MHz lies between 870 and 930): within 3 % of
# the mean of the neighbours' medians computed here with awk
"$FP" -q model predict "$tmp/m.json" --gpu A100 --app sd --clocks 870,900,930 --format json >"$tmp/p.json"
med() { awk -F, -v f="$1" -v c="$2" '$3==f{print $c}' "$RUNS" | sort -g | sed -n 2p; }
t870=$(med 870 6); t930=$(med 930 6)
pt=$(jq '.[] | select(.freq_mhz==900) | .time_s' "$tmp/p.json")
check_eval "predicted time at 900 MHz ($pt) within 3 % of the neighbours' mean" \
    "awk -v p=$pt -v a=$t870 -v b=$t930 'BEGIN{m=(a+b)/2; d=(p-m)/m; exit !(d<0.03 && d>-0.03)}'"
check_eval "interval brackets the prediction" \
    'jq -e "all(.[]; .time_s_lo < .time_s and .time_s < .time_s_hi and .power_w_lo < .power_w)" "$tmp/p.json" >/dev/null'
check_eval "predict: unknown curve fails" '! "$FP" -q model predict "$tmp/m.json" --gpu H100 2>/dev/null'

# evaluate: the JSON contract, fractions, finite
"$FP" -q model evaluate "$RUNS" --format json >"$tmp/e.json"
check_eval "evaluate JSON keys" \
    'jq -e ".[0] | has(\"gpu\") and has(\"app\") and has(\"power_mape\") and has(\"time_mape\") and has(\"power_max_err\") and has(\"time_max_err\") and has(\"regret\")" "$tmp/e.json" >/dev/null'
check_eval "evaluate errors are small fractions on clean data" \
    'jq -e ".[0] | .power_mape < 0.02 and .time_mape < 0.02 and .regret >= 0 and .regret < 0.02" "$tmp/e.json" >/dev/null'

# replay: regret and GPU time
"$FP" -q model replay "$RUNS" --strategy adaptive --format json >"$tmp/r.json"
check_eval "replay JSON: regret <= 1 %, gpu_time_fraction in (0, 0.5)" \
    'jq -e ".[0] | .regret <= 0.01 and .gpu_time_fraction > 0 and .gpu_time_fraction < 0.5" "$tmp/r.json" >/dev/null'
check_eval "replay on the simulated GPU: 15 results" \
    '[ "$("$FP" -q model replay sim --strategy adaptive --format json | jq length)" = 15 ]'
check_eval "replay needs --strategy" '"$FP" model replay "$RUNS" 2>/dev/null; [ $? = 2 ]'
check_eval "bad subcommand is a usage error" '"$FP" model frobnicate 2>/dev/null; [ $? = 2 ]'
check_eval "bad --max-slowdown" '"$FP" model evaluate "$RUNS" --max-slowdown x 2>/dev/null; [ $? = 2 ]'
check_eval "fit without -o" '"$FP" model fit "$RUNS" 2>/dev/null; [ $? = 2 ]'
check_eval "predict on a non-model file fails" '! "$FP" -q model predict "$RUNS" 2>/dev/null'

# real data
MEASURED=$REAL/ai-inference-energy/measured_runs.csv
if [ -f "$MEASURED" ]; then
    "$FP" -q model evaluate "$MEASURED" --format json >"$tmp/real.json"
    check_eval "measured: 12 (gpu, app) with finite errors" \
        '[ "$(jq "[.[] | select((.power_mape|type)==\"number\" and (.time_mape|type)==\"number\" and (.power_max_err|type)==\"number\" and (.time_max_err|type)==\"number\")] | length" "$tmp/real.json")" = 12 ]'
    "$FP" model fit "$MEASURED" -o "$tmp/real_model.json" 2>"$tmp/fit.err"
    check_eval "measured: H100 vit said to be not clock-bound" \
        'grep -q "H100 vit: time not explained by the clock" "$tmp/fit.err"'
    "$FP" -q model replay "$MEASURED" --strategy adaptive --format json >"$tmp/rr.json"
    check_eval "measured replay: 12 finite regrets and fractions" \
        '[ "$(jq "[.[] | select((.regret|type)==\"number\" and .gpu_time_fraction > 0 and .gpu_time_fraction < 1)] | length" "$tmp/rr.json")" = 12 ]'
else
    echo "# skipped the measured_runs.csv checks: real data not found (FREQPILOT_DATA_DIR)"
fi

done_testing
