#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# freqpilot aggregate on bad input: exit 1, the message names FILE:LINE, and no output
# file is left behind (a file already there stays as it was).
. "$(dirname "$0")/lib.sh"
TD=$DATA

# bad_case NAME FILE LINE WHAT: exit 1, "FILE:LINE:" and WHAT on stderr, nothing written.
bad_case() {
    local name=$1 file=$2 line=$3 what=$4 out="$tmp/out-$1.csv"
    rm -f "$out"
    "$FP" aggregate "$file" -o "$out" 2>"$tmp/err"
    local rc=$?
    if [ $rc -eq 1 ]; then ok "$name: exit 1"; else nok "$name: exit 1 (got $rc)"; fi
    if grep -qF -- "$file${line:+:$line}" "$tmp/err" && grep -qi -- "$what" "$tmp/err"; then
        ok "$name: stderr names $(basename "$file")${line:+:$line} and says '$what'"
    else
        nok "$name: stderr names $(basename "$file")${line:+:$line} and says '$what': $(cat "$tmp/err")"
    fi
    if [ -z "$(ls -A "$tmp" | grep -v '^err$')" ]; then ok "$name: no output file left"
    else nok "$name: no output file left: $(ls "$tmp")"; rm -f "$tmp"/out-*; fi
}

bad_case truncated "$TD/bad/truncated.csv" 4 "truncated"
bad_case wrong-columns "$TD/bad/wrong_columns.csv" 3 "expected 11 columns"
bad_case non-numeric "$TD/bad/nonnumeric.csv" 3 "expected a number"
bad_case mixed-formats "$TD/bad/mixed.csv" 3 "expected 15 columns"
bad_case unknown-layout "$TD/bad/unknown.txt" 1 "unknown layout"
bad_case empty "$TD/bad/empty.csv" "" "empty"
# NUL bytes in the middle of a per-run table (as in the corrupt upstream capture).
{ printf 'gpu,app,freq_mhz,time_s,energy_j\nH100,llama,1785,20.1,5000\n'
  printf 'H100,ll\0\0ama,1785,20.3,5010\nH100,llama,1785,20.2,5005\n'; } >"$tmp/nul.csv"
nul=$tmp/nul.csv
"$FP" aggregate "$nul" -o "$tmp/out-nul.csv" 2>"$tmp/err"
rc=$?
if [ $rc -eq 1 ]; then ok "nul: exit 1"; else nok "nul: exit 1 (got $rc)"; fi
if grep -qF "$nul:3:" "$tmp/err" && grep -qi "NUL" "$tmp/err"; then ok "nul: stderr names nul.csv:3 and NUL"
else nok "nul: stderr names nul.csv:3 and NUL: $(cat "$tmp/err")"; fi
if [ ! -e "$tmp/out-nul.csv" ]; then ok "nul: no output file left"; else nok "nul: no output file left"; fi

# A bad input among good ones fails the whole command; an existing output is untouched.
echo "previous content" >"$tmp/keep.csv"
"$FP" aggregate "$TD/agg/runs_small.csv" "$TD/bad/nonnumeric.csv" -o "$tmp/keep.csv" 2>"$tmp/err"
rc=$?
if [ $rc -eq 1 ]; then ok "good + bad input: exit 1"; else nok "good + bad input: exit 1 (got $rc)"; fi
if [ "$(cat "$tmp/keep.csv")" = "previous content" ]; then ok "good + bad input: existing output untouched"
else nok "good + bad input: existing output untouched"; fi
if [ "$(ls "$tmp" | grep -c '\.tmp\.')" -eq 0 ]; then ok "no temporary files left"; else nok "no temporary files left"; fi

# Missing input file and a folder with nothing usable.
"$FP" aggregate "$tmp/does-not-exist.csv" -o "$tmp/out-x.csv" 2>"$tmp/err"
rc=$?
if [ $rc -eq 1 ] && grep -qF "does-not-exist.csv" "$tmp/err"; then ok "missing input: exit 1 and named"
else nok "missing input: exit 1 and named (rc $rc): $(cat "$tmp/err")"; fi
mkdir "$tmp/emptydir"
"$FP" aggregate "$tmp/emptydir" -o "$tmp/out-y.csv" 2>"$tmp/err"
rc=$?
if [ $rc -eq 1 ] && [ ! -e "$tmp/out-y.csv" ]; then ok "empty folder: exit 1, no output"
else nok "empty folder: exit 1, no output (rc $rc): $(cat "$tmp/err")"; fi
# Unwritable output: exit 1 with the path.
"$FP" aggregate "$TD/agg/runs_small.csv" -q -o "$tmp/no/such/dir/out.csv" 2>"$tmp/err"
rc=$?
if [ $rc -eq 1 ] && grep -qF "$tmp/no/such/dir/out.csv" "$tmp/err"; then ok "unwritable output: exit 1 and named"
else nok "unwritable output: exit 1 and named (rc $rc): $(cat "$tmp/err")"; fi

done_testing
