#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# freqpilot plot: every kind renders PNG/SVG/PDF at the expected size, and the numbers behind
# the sweep (--data) equal energy / energy at the highest clock, recomputed here with awk.
. "$(dirname "$0")/lib.sh"
TD=$DATA
# PNG width and height from the IHDR chunk (bytes 16..23, big endian).
png_size() { od -An -tu1 -j16 -N8 "$1" | awk '{ printf "%dx%d", ($1*2^24)+($2*2^16)+($3*2^8)+$4, ($5*2^24)+($6*2^16)+($7*2^8)+$8 }'; }

R=$TD/report
for kind in sweep pareto heatmap; do
    "$FP" -q plot $kind "$R/aggregated.csv" "$R/optimal.json" -o "$tmp/$kind.png"
    check "$kind: PNG written" test -s "$tmp/$kind.png"
    w=$(png_size "$tmp/$kind.png"); w=${w%x*}
    check "$kind: 3.5 in at 300 dpi = 1050 px wide (got $w)" test "$w" = 1050
done
for kind in savings optima; do
    "$FP" -q plot $kind "$R/optimal.json" "$R/aggregated.csv" -o "$tmp/$kind.svg"
    check "$kind: SVG written" grep -q '<svg' "$tmp/$kind.svg"
done
"$FP" -q plot model "$R/model-curves.json" -o "$tmp/model.pdf"
check "model: PDF of one page" bash -c "pdfinfo '$tmp/model.pdf' | grep -q '^Pages: *1$'"
"$FP" -q plot timeseries "$TD/dataset/DATASET/A100/resnet/1005/1" "$TD/dataset/DATASET/A100/resnet/1410/1" \
    --column power_w -o "$tmp/ts.png" --width 7 --dpi 100
check "timeseries: --width 7 --dpi 100 = 700 px wide" test "$(png_size "$tmp/ts.png" | cut -dx -f1)" = 700

# The numbers behind the sweep.
"$FP" -q plot sweep "$R/aggregated.csv" --gpu A100 --app whisper --data >"$tmp/data.csv"
expect=$(awk -F, '$2 == "whisper" { e[$3] = $9; if ($3 > m) m = $3 } END { for (f in e) printf "%s %.6f\n", f, e[f] / e[m] }' \
    "$R/aggregated.csv" | sort -n)
got=$(awk -F, '$2 == "\"Energy\"" { printf "%s %.6f\n", $3, $4 }' "$tmp/data.csv" | sort -n)
check "sweep --data: Energy = energy / energy at 1410 MHz" test "$expect" = "$got"

# Usage errors.
"$FP" plot nosuchkind "$R/aggregated.csv" -o "$tmp/x.png" 2>/dev/null
check "unknown kind: exit 2" test $? -eq 2
"$FP" plot sweep "$R/aggregated.csv" -o "$tmp/x.gif" 2>/dev/null
check "unknown extension: exit 2" test $? -eq 2
"$FP" plot model "$R/aggregated.csv" -o "$tmp/x.png" 2>"$tmp/err"
check "model without a model JSON: exit 1 with a message" bash -c "test $? -eq 1 && grep -q 'model curves JSON' '$tmp/err'"
done_testing
