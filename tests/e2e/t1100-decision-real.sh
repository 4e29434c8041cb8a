#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The decision engine on the real sweep (measured_runs.csv, issue 11): no recommendation worse
# than the baseline for its own objective, a looser budget never worse, time never at a
# slower clock, the runs and their aggregated.csv give the same answers, five clean combos
# within 5 % of an independent argmin of the per-clock medians, and ViT and Whisper on A100
# and V100 never deployable.
. "$(dirname "$0")/lib.sh"
need_real_data ai-inference-energy/measured_runs.csv
command -v jq >/dev/null || skip_all "jq not installed (scripts/install-deps.sh)"
M=$REAL/ai-inference-energy/measured_runs.csv

grid=0.01,0.02,0.03,0.04,0.05,0.06,0.07,0.08,0.09,0.10,0.11,0.12,0.13,0.14,0.15,0.16,0.17,0.18,0.19,0.20,none
fp -q aggregate "$M" -o "$tmp/agg.csv"
check "aggregate exit 0" test $? -eq 0
fp -q optimize "$M" --objective energy,edp,ed2p,time --max-slowdown "$grid" -o "$tmp/raw.json"
check "optimize on the runs: exit 0" test $? -eq 0
fp -q optimize "$tmp/agg.csv" --objective energy,edp,ed2p,time --max-slowdown "$grid" \
    -o "$tmp/agg.json"
check "optimize on aggregated.csv: exit 0" test $? -eq 0
n=$(jq '.results | length' "$tmp/raw.json")
check "12 combos x 4 objectives x 21 budgets ($n results)" test "$n" -eq 1008

# The same choice, verdict and numbers from the runs and from their aggregated.csv.
key='.results[] | [.gpu, .app, .objective, .max_slowdown, .freq_mhz, .verdict, .energy_saving,
    .slowdown_bound] | @csv'
check "raw runs and aggregated.csv: identical results" \
    cmp -s <(jq -r "$key" "$tmp/raw.json") <(jq -r "$key" "$tmp/agg.json")

# Never worse than the baseline for its own objective: the estimated objective relative to
# the baseline, (1 - saving) * (1 + slowdown)^n, is at most 1 (n = 0 energy, 1 edp, 2 ed2p;
# time: the slowdown is at most 0).
worse=$(jq -r '.results[] | select(
        (.objective == "time" and .slowdown > 0) or
        (.objective != "time" and ((1 - .energy_saving) *
            pow(1 + .slowdown; (if .objective == "energy" then 0 elif .objective == "edp" then 1
                                else 2 end)) > 1 + 1e-12)))
    | "\(.gpu) \(.app) \(.objective) \(.max_slowdown)"' "$tmp/raw.json")
check "no recommendation worse than the baseline for its objective" test -z "$worse"
[ -n "$worse" ] && echo "$worse" | head -5 | sed 's/^/# /'

# time never picks a slower clock
slower=$(jq -r '.results[] | select(.objective == "time" and .freq_mhz < .baseline_mhz)
    | "\(.gpu) \(.app) \(.max_slowdown): \(.freq_mhz)"' "$tmp/raw.json")
check "time never picks a clock below the baseline" test -z "$slower"

# A looser budget never gives a worse objective value (1 % .. 20 %, then none).
steps=$(jq -r '[.results[] | {k: "\(.gpu) \(.app) \(.objective)", v: .objective_value,
        b: (.max_slowdown // 99)}] | group_by(.k)[] | sort_by(.b) as $g
    | range(1; $g | length) | select($g[.].v > $g[. - 1].v * (1 + 1e-12))
    | "\($g[.].k) \($g[. - 1].b) -> \($g[.].b)"' "$tmp/raw.json")
check "a looser budget never gives a worse objective value" test -z "$steps"
[ -n "$steps" ] && echo "$steps" | head -5 | sed 's/^/# /'

# ViT and Whisper on A100 and V100: the time is not explained by the clock; never deployable.
dep=$(jq -r '.results[] | select((.gpu == "A100" or .gpu == "V100") and
        (.app == "vit" or .app == "whisper") and .verdict == "deployable")
    | "\(.gpu) \(.app) \(.objective) \(.max_slowdown)"' "$tmp/raw.json")
check "ViT and Whisper on A100 and V100 are never deployable" test -z "$dep"
susp=$(jq '[.results[] | select(.gpu == "A100" and .app == "vit" and .max_slowdown == null
    and .objective == "energy")][0].verdict' -r "$tmp/raw.json")
check "A100 ViT with no budget: suspect: not a DVFS effect ($susp)" \
    test "$susp" = "suspect: not a DVFS effect"

# Five clean combos against an independent argmin of the per-clock medians of aggregated.csv:
# EDP with no budget; energy with 5 % (median slowdown against the baseline clock the result
# names). The choice's own medians are within 5 % of that minimum.
argmin() { # gpu app objective budget baseline_mhz -> "freq value"
    awk -F, -v g="$1" -v a="$2" -v o="$3" -v bud="$4" -v base="$5" '
        NR == 1 { next }
        $1 == g && $2 == a && $4 >= 1 && $6 != "" && $9 != "" {
            n++; f[n] = $3; t[n] = $6; e[n] = $9; if ($3 == base) tb = $6 }
        END {
            for (i = 1; i <= n; i++) {
                if (bud != "none" && t[i] / tb - 1 > bud) continue
                v = o == "edp" ? e[i] * t[i] : e[i]
                if (best == "" || v < best) { best = v; bf = f[i] }
            }
            print bf, best
        }' "$tmp/agg.csv"
}
median_obj() { # gpu app objective freq
    awk -F, -v g="$1" -v a="$2" -v o="$3" -v f="$4" \
        '$1 == g && $2 == a && $3 == f { print (o == "edp" ? $9 * $6 : $9) }' "$tmp/agg.csv"
}
for combo in "A100 stablediffusion" "H100 llama" "H100 stablediffusion" "H100 whisper" \
    "V100 stablediffusion"; do
    set -- $combo
    for case in "edp none" "energy 0.05"; do
        o=${case% *}
        b=${case#* }
        sel=$([ "$b" = none ] && echo 'null' || echo "$b")
        read -r f base < <(jq -r --arg g "$1" --arg a "$2" --arg o "$o" --argjson b "$sel" \
            '.results[] | select(.gpu == $g and .app == $a and .objective == $o and
                .max_slowdown == $b) | "\(.freq_mhz) \(.baseline_mhz)"' "$tmp/raw.json")
        f=${f%.0}
        base=${base%.0}
        read -r af av < <(argmin "$1" "$2" "$o" "$b" "$base")
        v=$(median_obj "$1" "$2" "$o" "$f")
        ratio=$(awk -v v="$v" -v m="$av" 'BEGIN { printf "%.4f", v / m }')
        check "$1 $2 $o budget $b: $f MHz, medians within 5 % of the argmin $af MHz ($ratio)" \
            awk -v r="$ratio" 'BEGIN { exit !(r <= 1.05) }'
    done
done
done_testing
