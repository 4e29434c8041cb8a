#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# A report of a 10^5-row run table writes both report.html and report.pdf. The table's app
# names are longer than their 63-byte field and have a multi-byte character across the cut:
# cut inside it, the name was invalid UTF-8 and cairo refused the whole PDF ("input string
# not valid UTF-8") while the HTML was written. Names are now cut at a character boundary,
# and the drawing layer replaces any byte that is not UTF-8 (a Latin-1 file) instead of
# failing.
. "$(dirname "$0")/lib.sh"
command -v pdfinfo >/dev/null || skip_all "poppler-utils not installed (scripts/install-deps.sh)"

# 4 GPUs x 5 apps x 500 clocks x 10 runs = 100000 rows. Each name: "appN-", ASCII up to byte
# 60, "é" (bytes 61-62), then CJK characters (3 bytes each) across byte 63.
awk 'BEGIN {
    srand(7)
    print "gpu,workload,freq_mhz,run_index,repetition,time_s,avg_power_w,energy_j"
    for (g = 0; g < 4; g++) for (a = 0; a < 5; a++) {
        name = sprintf("app%d-", a)
        while (length(name) < 60) name = name "x"
        name = name "\xc3\xa9\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"  # é日本語 from byte 61
        pos = 0
        for (r = 1; r <= 10; r++) for (c = 0; c < 500; c++) {
            f = 300 + 3 * c
            t = (10 + a) * (0.4 + 0.6 * 1800 / f) * (1 + 0.02 * (rand() - 0.5))
            p = (60 + g * 20) + 150 * (f / 1800) ^ 2.5 * (1 + 0.02 * (rand() - 0.5))
            pos++
            printf "G%d,%s,%d,%d,%d,%.4f,%.3f,%.3f\n", g, name, f, pos, r, t, p, t * p
        }
    }
}' >"$tmp/runs.csv"
check "the run table has 10^5 rows" test "$(tail -n +2 "$tmp/runs.csv" | wc -l)" = 100000
check "a name's byte 63 is inside a multi-byte character" \
    bash -c "sed -n 2p '$tmp/runs.csv' | cut -d, -f2 | head -c 63 | tail -c 1 | od -An -tx1 | grep -q ' e6'"

fp -q report "$tmp/runs.csv" -o "$tmp/out" 2>"$tmp/err"
check "report: exit 0" test $? -eq 0
sed 's/^/# /' "$tmp/err" | head -5
check "report.html written" test -s "$tmp/out/report.html"
check "report.pdf written" test -s "$tmp/out/report.pdf"
pages=$(pdfinfo "$tmp/out/report.pdf" 2>/dev/null | awk '/^Pages:/ { print $2 }')
check "the PDF opens ($pages pages)" test "${pages:-0}" -gt 10
check "the HTML is valid UTF-8" iconv -f UTF-8 -t UTF-8 "$tmp/out/report.html" -o /dev/null
# cut before the character that did not fit: 日 (bytes 63-65) is left out, "é" ends the name
check "the names end at a character boundary (before the character that did not fit)" \
    bash -c "pdftotext '$tmp/out/report.pdf' - | grep -q 'app0-x*é\$' || pdftotext '$tmp/out/report.pdf' - | grep -q 'app0-x*é '"
check "the five apps stay apart" test "$(grep -o 'data-app="app[0-9]-' "$tmp/out/report.html" | sort -u | wc -l)" = 5

# Bytes that are not UTF-8 at all (a Latin-1 file): drawn as '?', the PDF is still written.
printf 'gpu,workload,freq_mhz,time_s,energy_j\n' >"$tmp/latin1.csv"
for f in 1410 1200 1005 810; do
    for r in 1 2 3; do
        printf 'A100,mod\xe8le,%d,%s,%s\n' $f "$(awk -v f=$f -v r=$r 'BEGIN { print 10 * 1410 / f + r * 0.01 }')" \
            "$(awk -v f=$f -v r=$r 'BEGIN { print 2000 * (0.6 + 0.4 * f / 1410) + r }')"
    done
done >>"$tmp/latin1.csv"
fp -q report "$tmp/latin1.csv" -o "$tmp/latin1" 2>"$tmp/err1"
check "a Latin-1 name: report exit 0, both files written" \
    bash -c "test $? -eq 0 && test -s '$tmp/latin1/report.pdf' && test -s '$tmp/latin1/report.html'"
check "a Latin-1 name: drawn with '?' for the byte" bash -c "pdftotext '$tmp/latin1/report.pdf' - | grep -q 'mod?le'"
done_testing
