#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# freqpilot aggregate end to end: a small fixture with known answers, then the real
# measured_runs.csv, whose medians are recomputed here with awk/sort from the file.
. "$(dirname "$0")/lib.sh"
TD=$DATA

contract='gpu,app,freq_mhz,runs,runs_dropped,time_s,time_s_lo,time_s_hi,energy_j,energy_j_lo,energy_j_hi,power_w,edp,ed2p,sm_clock_mhz,gpu_util_pct,sm_active,dram_active,tensor_active,fp_active,temp_c,flags'

# Column value of the row gpu,app,freq in a CSV (by header name).
cell() { # file gpu app freq column
    awk -F, -v g="$2" -v a="$3" -v f="$4" -v c="$5" '
        NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
        $1 == g && $2 == a && $3 == f { print $(col[c]) }' "$1"
}

# --- a raw telemetry file given alone: named by its stem, its device and the clock reached ---
"$FP" aggregate "$TD/dcgmi/dvnam.dmon" -o "$tmp/raw.csv" 2>"$tmp/raw.err"
check "raw file alone: exit 0" test $? -eq 0
check "raw file alone: app is the file's stem, gpu the device dcgmi names, clock the SM clock reached" \
    test "$(tail -n +2 "$tmp/raw.csv" | cut -d, -f1-3)" = "H100,dvnam,1755"
check "raw file alone: the naming is said on stderr with the options that override it" \
    grep -q "given alone is named gpu 'H100', app 'dvnam', clock 1755 MHz.*--gpu, --app and --freq" "$tmp/raw.err"
"$FP" aggregate --gpu A100 --app lstm --freq 1410 "$TD/dcgmi/dvnam.dmon" -o "$tmp/raw2.csv" 2>"$tmp/raw2.err"
check "raw file alone: --gpu/--app/--freq override the names, with no warning about them" \
    bash -c "test \"\$(tail -n +2 '$tmp/raw2.csv' | cut -d, -f1-3)\" = A100,lstm,1410 && ! grep -q 'given alone' '$tmp/raw2.err'"

# --- fixture: 12 clocks x 3 runs, run 1 cold (55 s), one outlier at 1110 MHz (30 s) ---
small=$TD/agg/runs_small.csv
"$FP" aggregate "$small" -o "$tmp/small.csv" --dropped "$tmp/small_dropped.csv" 2>"$tmp/small.err"
check "fixture: exit 0" test $? -eq 0
check "fixture: header is the docs/formats.md contract, then time_cv,energy_cv,gpu_name" \
    test "$(head -1 "$tmp/small.csv")" = "$contract,time_cv,energy_cv,gpu_name"
check "fixture: one row per clock" test "$(tail -n +2 "$tmp/small.csv" | wc -l)" -eq 12
check "fixture: rows sorted by clock descending" \
    bash -c "tail -n +2 '$tmp/small.csv' | cut -d, -f3 | sort -rn -c"
check "fixture: cold start dropped at 1410 MHz" \
    test "$(cell "$tmp/small.csv" A100 toy 1410 runs),$(cell "$tmp/small.csv" A100 toy 1410 runs_dropped),$(cell "$tmp/small.csv" A100 toy 1410 flags)" = "2,1,cold_start_dropped"
check "fixture: median of the two warm runs (10.00, 10.02)" \
    test "$(cell "$tmp/small.csv" A100 toy 1410 time_s)" = "10.01"
check "fixture: outlier dropped at 1110 MHz" \
    test "$(cell "$tmp/small.csv" A100 toy 1110 flags)" = "outlier_dropped"
check "fixture: stderr names the cold start and the outlier" \
    bash -c "grep -q 'cold start' '$tmp/small.err' && grep -q 'outlier' '$tmp/small.err'"
"$FP" -v aggregate "$small" -o /dev/null 2>"$tmp/small_v.err"
check "fixture: -v explains each dropped run with its reference" \
    bash -c "grep -q 'is a cold start: 55' '$tmp/small_v.err' && grep -q 'is an outlier: 30' '$tmp/small_v.err'"
check "fixture: --dropped lists both with reasons" \
    test "$(cut -d, -f4,9 "$tmp/small_dropped.csv" | tail -n +2 | tr '\n' ' ')" = "1,cold_start 33,outlier "
check "fixture: edp = energy x time of the centres" \
    awk -F, 'NR > 1 && $4 > 0 { d = $13 - $9 * $6; if (d < 0) d = -d; if (d > 1e-6 * $13) exit 1 }' "$tmp/small.csv"
"$FP" aggregate "$small" -q -o "$tmp/small2.csv"
check "fixture: output reproducible (fixed bootstrap seed)" cmp -s "$tmp/small.csv" "$tmp/small2.csv"
"$FP" aggregate "$small" -q --seed 7 -o "$tmp/small3.csv"
check "fixture: --seed changes only the intervals" \
    bash -c "cut -d, -f1-6,9,12- '$tmp/small.csv' | cmp -s - <(cut -d, -f1-6,9,12- '$tmp/small3.csv')"
"$FP" aggregate "$small" -q --no-drop-cold --no-drop-outliers -o "$tmp/keep.csv"
check "fixture: --no-drop-cold --no-drop-outliers keeps every run" \
    test "$(awk -F, 'NR > 1 { s += $4 } END { print s }' "$tmp/keep.csv")" = 36
"$FP" aggregate "$small" -q --format json -o "$tmp/small.json"
if command -v python3 >/dev/null; then
    check "fixture: JSON has rows, findings, dropped with null for missing values" python3 -c "
import json, sys
d = json.load(open('$tmp/small.json'))
r = d['rows'][0]
assert len(d['rows']) == 12 and len(d['dropped']) == 2, d.keys()
assert r['freq_mhz'] == 1410 and r['time_s'] == 10.01 and r['sm_active'] is None
assert isinstance(d['findings'], list)
"
fi
"$FP" aggregate "$small" -q --strict -o "$tmp/strict.csv" 2>"$tmp/strict.err"
check "fixture: --strict fails on dropped runs" test $? -eq 1
check "fixture: --strict leaves no output file" test ! -e "$tmp/strict.csv"
check "fixture: --strict message lists the findings" grep -q "cold_start_dropped" "$tmp/strict.err"
"$FP" aggregate "$small" -q >"$tmp/stdout.csv"
check "fixture: stdout when -o is absent" cmp -s "$tmp/small.csv" "$tmp/stdout.csv"

# --- real data ---
data=$REAL/ai-inference-energy/measured_runs.csv
[ -f "$data" ] || skip_rest "real data not found (set FREQPILOT_DATA_DIR); fixture checks done"
"$FP" aggregate "$data" -o "$tmp/agg.csv" --dropped "$tmp/dropped.csv" 2>"$tmp/err"
check "measured_runs: exit 0" test $? -eq 0
check "measured_runs: 824 rows (4 apps x (59 + 61 + 86) clocks)" \
    test "$(tail -n +2 "$tmp/agg.csv" | wc -l)" -eq 824
if command -v python3 >/dev/null; then
    check "measured_runs: python csv reads it with 25 columns everywhere" python3 -c "
import csv
rows = list(csv.reader(open('$tmp/agg.csv')))
assert all(len(r) == 25 for r in rows), 'ragged'
"
fi

# Medians of the kept runs, from the source file: drop the rows the tool listed as dropped
# (gpu, app, run_index), then sort and take medians per (gpu, app, clock).
awk -F, 'NR > 1 { print $1 "," $2 "," $4 }' "$tmp/dropped.csv" | sort >"$tmp/dropkeys"
awk -F, -v drop="$tmp/dropkeys" '
    BEGIN { while ((getline l < drop) > 0) dropped[l] = 1 }
    NR > 1 && !(($1 "," $2 "," $5) in dropped) { print $1 "," $2 "," $4 "," $7 "," $9 }' "$data" |
    sort -t, -k1,1 -k2,2 -k3,3n -k4,4g >"$tmp/kept_time"
median_of() { # column (4 = time, 5 = energy) of kept rows -> key,median
    sort -t, -k1,1 -k2,2 -k3,3n -k"$1","$1"g "$tmp/kept_time" | awk -F, -v c="$1" '
        function flush() { if (n) { m = (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2;
                                    printf "%s,%.10g\n", key, m } }
        { k = $1 "," $2 "," $3; if (k != key) { flush(); key = k; n = 0 } v[++n] = $c }
        END { flush() }'
}
median_of 4 | sort >"$tmp/med_time"
median_of 5 | sort >"$tmp/med_energy"
awk -F, 'NR > 1 && $4 > 0 { print $1 "," $2 "," $3 "," $6 }' "$tmp/agg.csv" | sort >"$tmp/out_time"
awk -F, 'NR > 1 && $4 > 0 { print $1 "," $2 "," $3 "," $9 }' "$tmp/agg.csv" | sort >"$tmp/out_energy"
same_numbers() { # two sorted key,value files agree to 1e-9 relative
    join -t, -j1 <(awk -F, '{ print $1 ":" $2 ":" $3 "," $4 }' "$1") \
                 <(awk -F, '{ print $1 ":" $2 ":" $3 "," $4 }' "$2") |
        awk -F, -v want="$(wc -l <"$1")" '
            { d = $2 - $3; if (d < 0) d = -d; if (d > 1e-9 * ($2 < 0 ? -$2 : $2)) bad++; n++ }
            END { exit !(n == want && bad == 0) }'
}
check "measured_runs: every time_s median equals the median of the kept rows" \
    same_numbers "$tmp/med_time" "$tmp/out_time"
check "measured_runs: every energy_j median equals the median of the kept rows" \
    same_numbers "$tmp/med_energy" "$tmp/out_energy"
check "measured_runs: runs column counts the kept rows" test "$(awk -F, 'NR > 1 { s += $4 } END { print s }' "$tmp/agg.csv")" -eq "$(wc -l <"$tmp/kept_time")"

# Cold starts: the first runs of the sweep, at the first clock.
cold() { awk -F, -v g="$1" -v a="$2" '$1 == g && $2 == a && $9 == "cold_start" { printf "%s ", $4 }' "$tmp/dropped.csv"; }
check "measured_runs: A100 ViT runs 1-3 (671, 460, 307 s) are cold starts" test "$(cold A100 vit)" = "1 2 3 "
check "measured_runs: A100 Whisper runs 1-3 (474, 75, 13.9 s vs 11.8 s) are cold starts" test "$(cold A100 whisper)" = "1 2 3 "
check "measured_runs: V100 LLaMA run 1 only" test "$(cold V100 llama)" = "1 "
# Energy-only cold starts (time normal, energy out of line): H100 LLaMA run 1 (5028 J vs
# 4463 J warm), A100 LLaMA run 2 (energy 2.04 x mean power x time, warm runs 1.42).
check "measured_runs: H100 LLaMA run 1 is an energy-only cold start" test "$(cold H100 llama)" = "1 "
check "measured_runs: A100 LLaMA runs 1 and 2 (energy only) are cold starts" test "$(cold A100 llama)" = "1 2 "
check "measured_runs: every cold start lies at the first clock of its sweep" \
    awk -F, 'NR > 1 && $9 == "cold_start" && !($3 == 1410 || $3 == 1380 || $3 == 1785) { exit 1 }' "$tmp/dropped.csv"
check "measured_runs: the A100 ViT 1410 MHz row is kept with runs=0 and empty values" \
    test "$(cell "$tmp/agg.csv" A100 vit 1410 runs),$(cell "$tmp/agg.csv" A100 vit 1410 time_s),$(cell "$tmp/agg.csv" A100 vit 1410 energy_j)" = "0,,"
check "measured_runs: cold_start_dropped flag on the first clock rows" \
    bash -c "grep -c '^A100,vit,1410,.*cold_start_dropped' '$tmp/agg.csv' | grep -qx 1"
flags_of() { cell "$tmp/agg.csv" "$1" "$2" "$3" flags; }
check "measured_runs: A100 ViT flagged not_clock_bound" bash -c "echo '$(flags_of A100 vit 1005)' | grep -q not_clock_bound"
check "measured_runs: A100 Whisper flagged not_clock_bound" bash -c "echo '$(flags_of A100 whisper 1005)' | grep -q not_clock_bound"
check "measured_runs: H100 LLaMA not flagged not_clock_bound" bash -c "! echo '$(flags_of H100 llama 1095)' | grep -q not_clock_bound"
check "measured_runs: findings printed on stderr" grep -q "A100 vit: not_clock_bound" "$tmp/err"
check "measured_runs: H100 LLaMA 1095 MHz median energy 3636.7 J (PROVENANCE: 3.63-3.71 kJ)" \
    test "$(cell "$tmp/agg.csv" H100 llama 1095 energy_j)" = "3636.7"

done_testing
