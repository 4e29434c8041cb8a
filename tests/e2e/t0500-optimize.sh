#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# freqpilot optimize end to end: (1) the simulated GPU's noise-free curves, whose true optimum
# `freqpilot sim optimum` knows: recovered exactly with --margin 0, within the 0.5 % margin
# (and never at a slower clock) with the default; (2) the real measured_runs.csv, each
# --point-estimate choice recomputed here with awk over the aggregated medians; the 5 %
# budget on the slowdown's bound; the ViT verdict.
. "$(dirname "$0")/lib.sh"

agg_header='gpu,app,freq_mhz,runs,runs_dropped,time_s,time_s_lo,time_s_hi,energy_j,energy_j_lo,energy_j_hi,power_w,edp,ed2p,sm_clock_mhz,gpu_util_pct,sm_active,dram_active,tensor_active,fp_active,temp_c,flags'

# --- (1) simulated GPU: noise-free curve -> aggregated.csv (zero-width intervals) ---
{
    echo "$agg_header"
    for g in V100 A100 H100; do
        for w in llama stablediffusion vit whisper; do
            "$FP" sim curve --gpu $g --workload $w | awk -F, -v g=$g -v w=$w 'NR > 1 {
                printf "%s,%s,%s,3,0,%s,%s,%s,%s,%s,%s,%s,%s,%s,,,,,,,,\n",
                    g, w, $1, $2, $2, $2, $3, $3, $3, $4, $5, $6 }'
        done
    done
} >"$tmp/sim_agg.csv"
check "sim: curves written" test "$(wc -l <"$tmp/sim_agg.csv")" -gt 200
"$FP" optimize "$tmp/sim_agg.csv" --objective energy,time,edp,ed2p --max-slowdown none,0.05,0.1 \
    --margin 0 --format csv -o "$tmp/sim_opt.csv" >"$tmp/sim_table.txt" 2>"$tmp/sim.err"
check "sim: optimize exit 0" test $? -eq 0
check "sim: 12 curves x 4 objectives x 3 budgets" test "$(tail -n +2 "$tmp/sim_opt.csv" | wc -l)" -eq 144
check "sim: a table on stdout" grep -q "energy saving" "$tmp/sim_table.txt"
check "sim: the table states the rule" grep -q "margin\|better by more than 0.0 %" "$tmp/sim_table.txt"
"$FP" -q optimize "$tmp/sim_agg.csv" --objective energy,time,edp,ed2p --max-slowdown none,0.05,0.1 \
    --format csv -o "$tmp/sim_margin.csv"
mism=0
n=0
far=0
while IFS=, read -r gpu app objective budget freq rest; do
    args=(--gpu "$gpu" --workload "$app" --objective "$objective")
    [ -n "$budget" ] && args+=(--max-slowdown "$budget")
    want=$("$FP" sim optimum "${args[@]}")
    n=$((n + 1))
    if [ "$want" != "$freq" ]; then
        echo "# $gpu $app $objective budget=${budget:-none}: optimize $freq, truth $want"
        mism=$((mism + 1))
    fi
    # The default 0.5 % margin: never a slower clock than the truth's, and within 0.5 % of
    # its objective (the noise-free curve's own values, sim curve).
    mfreq=$(awk -F, -v g="$gpu" -v a="$app" -v o="$objective" -v b="$budget" \
        '$1 == g && $2 == a && $3 == o && $4 == b { print $5 }' "$tmp/sim_margin.csv")
    "$FP" sim curve --gpu "$gpu" --workload "$app" >"$tmp/curve.csv"
    bad=$(awk -F, -v o="$objective" -v f="$mfreq" -v w="$want" 'NR > 1 {
            v = o == "energy" ? $3 : o == "time" ? $2 : o == "edp" ? $5 : $6
            if ($1 == f) vf = v; if ($1 == w) vw = v }
        END { if (f + 0 < w + 0 || vf > vw / (1 - 0.005) * (1 + 1e-9)) print "bad" }' "$tmp/curve.csv")
    if [ -n "$bad" ]; then
        echo "# margin: $gpu $app $objective budget=${budget:-none}: $mfreq MHz vs truth $want"
        far=$((far + 1))
    fi
done < <(tail -n +2 "$tmp/sim_opt.csv" | cut -d, -f1-5)
check "sim: --margin 0 recovers the true optimum in all $n cases" test "$mism" -eq 0
check "sim: the 0.5 % margin stays within 0.5 % of it, never slower, in all $n cases" \
    test "$far" -eq 0

# --- JSON contract ---
"$FP" -q optimize "$tmp/sim_agg.csv" --objective edp -o "$tmp/sim.json"
for k in baseline results gpu app objective max_slowdown freq_mhz baseline_mhz time_s energy_j \
    power_w energy_saving energy_saving_lo energy_saving_hi slowdown slowdown_lo slowdown_hi \
    feasible flags verdict verdict_reason slowdown_bound margin confidence budget_confidence; do
    grep -q "\"$k\":" "$tmp/sim.json" || { nok "json: key $k"; continue; }
done
ok "json: docs/formats.md keys present"
check "json: baseline max" grep -q '"baseline": "max"' "$tmp/sim.json"

# --- deploy script ---
"$FP" -q optimize "$tmp/sim_agg.csv" --objective energy --deploy-script "$tmp/deploy.sh"
check "deploy: executable sh script" test -x "$tmp/deploy.sh"
check "deploy: sh -n accepts it" sh -n "$tmp/deploy.sh"
check "deploy: applies the A100 llama choice" \
    grep -q "apply --backend \"\$BACKEND\" --gpu \"\$gpu\" --clock $(awk -F, '$1=="A100" && $2=="llama" && $3=="energy" && $4=="0.05" {print $5}' "$tmp/sim_margin.csv")" "$tmp/deploy.sh"
check "deploy: restore path" grep -q 'restore "\$@"' "$tmp/deploy.sh"

# --- usage errors ---
"$FP" optimize "$tmp/sim_agg.csv" --objective watts >/dev/null 2>"$tmp/u.err"
check "usage: unknown objective exits 2" test $? -eq 2
"$FP" optimize "$tmp/sim_agg.csv" --max-slowdown -1 >/dev/null 2>&1
check "usage: negative budget exits 2" test $? -eq 2
"$FP" optimize "$tmp/sim_agg.csv" --baseline 777 >/dev/null 2>"$tmp/b.err"
check "error: unknown baseline clock exits 1 and says so" \
    bash -c "test \$? -eq 0 || grep -q 'no such clock' '$tmp/b.err'"

# --- (2) real data ---
runs=$REAL/ai-inference-energy/measured_runs.csv
[ -f "$runs" ] || skip_rest "real data not found (FREQPILOT_DATA_DIR): the measured_runs.csv part"
"$FP" -q aggregate "$runs" -o "$tmp/agg.csv"
check "real: aggregate exit 0" test $? -eq 0

# Independent choice over the aggregated medians (the documented point-estimate rule):
# baseline = highest clock with >= 2 runs; feasible: T/T_b - 1 <= budget; argmin, ties up.
awk_choice() { # agg objective budget
    awk -F, -v obj="$2" -v bud="$3" '
        NR == 1 { next }
        $4 + 0 < 1 || $6 == "" || $9 == "" { next }
        { k = $1 "," $2; n[k]++; f[k, n[k]] = $3; r[k, n[k]] = $4; t[k, n[k]] = $6; e[k, n[k]] = $9 }
        END {
            for (k in n) {
                # rows are sorted by clock descending within (gpu, app)
                b = 0
                for (i = 1; i <= n[k]; i++) if (r[k, i] >= 2) { b = i; break }
                if (!b) b = 1
                best = ""; bf = ""
                for (i = 1; i <= n[k]; i++) {
                    if (i != b && bud != "none" && t[k, i] / t[k, b] - 1 > bud + 1e-9) continue
                    v = obj == "energy" ? e[k, i] : obj == "time" ? t[k, i] : \
                        obj == "edp" ? e[k, i] * t[k, i] : e[k, i] * t[k, i] * t[k, i]
                    if (best == "" || v < best) { best = v; bf = f[k, i] }
                }
                print k "," bf
            }
        }' "$1" | sort
}
for obj in energy time edp ed2p; do
    for bud in 0.05 0.2 none; do
        "$FP" -q optimize "$tmp/agg.csv" --objective $obj --max-slowdown $bud --point-estimate \
            --format csv -o "$tmp/pe.csv"
        got=$(tail -n +2 "$tmp/pe.csv" | cut -d, -f1,2,5 | sort)
        want=$(awk_choice "$tmp/agg.csv" $obj $bud)
        check "real: --point-estimate $obj budget $bud matches the awk recomputation" \
            test "$got" = "$want"
    done
done

# The engine on the runs themselves, 5 % budget.
"$FP" -q optimize "$runs" --objective energy,edp,ed2p --max-slowdown 0.05 --format csv \
    -o "$tmp/na.csv"
check "real: optimize from the runs exit 0" test $? -eq 0
check "real: 12 curves x 3 objectives" test "$(tail -n +2 "$tmp/na.csv" | wc -l)" -eq 36
# Every feasible choice: the slowdown's one-sided bound (the budget's test) and the slowdown
# itself within 5 %.
sb=$(csvcol "$tmp/na.csv" slowdown_bound)
bad=$(awk -F, -v sb="$sb" 'NR == 1 { next }
    {
        if ($16 != "true") { print "infeasible " $0; next }
        if ($sb + 0 > 0.05 + 1e-9) print "slowdown_bound " $0
        if ($13 + 0 > 0.05 + 1e-9) print "slowdown " $0
    }' "$tmp/na.csv")
check "real: 5 % budget holds (bound and estimate) for every choice" test -z "$bad"
[ -n "$bad" ] && echo "$bad" | head -5 | sed 's/^/# /'

# The ViT 'savings' on A100/V100 are not DVFS: with no budget optimize moves the clock,
# flags the data, and the verdict (optimize's and validate's) is suspect.
"$FP" -q optimize "$runs" --objective energy --max-slowdown none --format csv -o "$tmp/nb.csv"
for g in A100 V100; do
    line=$(awk -F, -v g=$g '$1 == g && $2 == "vit" && $3 == "energy"' "$tmp/nb.csv")
    check "real: $g vit carries not_clock_bound" grep -q not_clock_bound <<<"$line"
    check "real: $g vit saving above 40 % flagged suspect_saving" grep -q suspect_saving <<<"$line"
    check "real: $g vit verdict suspect" grep -q 'suspect: not a DVFS effect' <<<"$line"
    five=$(awk -F, -v g=$g '$1 == g && $2 == "vit" && $3 == "energy"' "$tmp/na.csv")
    check "real: $g vit at 5 %: not deployable" bash -c "! grep -q ',deployable,' <<<'$five'"
done
"$FP" -q optimize "$runs" --objective energy --max-slowdown none -o "$tmp/na.json"
"$FP" validate "$runs" "$tmp/na.json" >"$tmp/val.txt" 2>&1
check "real: validate fails (exit 1)" test $? -eq 1
check "real: validate says the A100 vit saving is not a DVFS effect" \
    bash -c "awk '/^A100 vit/,/plausibility/' '$tmp/val.txt' | grep -q 'not a DVFS effect'"
check "real: validate verdict for V100 vit: suspect" \
    grep -q '^V100 vit energy.*suspect: not a DVFS effect' "$tmp/val.txt"

# Constraints file: LLAMA latency-sensitive (5 %), WHISPER batch (50 %).
"$FP" -q optimize "$tmp/agg.csv" --constraints "$SRC/contrib/constraints.ini" --format csv \
    -o "$tmp/cons.csv"
check "real: constraints: llama budget 0.05" \
    test "$(awk -F, '$1 == "H100" && $2 == "llama" {print $4}' "$tmp/cons.csv")" = "0.05"
check "real: constraints: whisper budget 0.5, category batch" \
    test "$(awk -F, '$1 == "H100" && $2 == "whisper" {print $4 "," $19}' "$tmp/cons.csv")" = "0.5,batch"
done_testing
