#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The predictor `govern train -o` saves is read back (fp_pred_load) by `govern replay` and
# `govern daemon --predictor FILE`: it gives the activity policy its energy-efficient clock f_e.
# Ground truth: the predictor is trained on the simulated GPU for a 2 % budget, whose
# least-energy clock within it is `freqpilot sim optimum --max-slowdown 0.02`; for a built-in
# workload its nearest examples are that workload's own, so the predicted f_e is that clock,
# not the replay's own default (the best static clock within its 5 % budget, a lower clock).
# Replay with --predictor must equal replay with --f-e at the predicted clock and differ from
# replay without it; the daemon, watching the GPU before governing, must predict the same
# clock and hold it while the GPU is idle (the activity law's floor).
. "$(dirname "$0")/lib.sh"

fp govern train --sim --budget 0.02 -o "$tmp/model.json" >"$tmp/train.out" 2>"$tmp/err"
check "train --sim -o: exit 0" test $? -eq 0
check "the saved predictor states its window" grep -q '"window_s": 5' "$tmp/model.json"

for w in llama vit; do
    opt=$(fp sim optimum --gpu A100 --workload "$w" --objective energy --max-slowdown 0.02)
    fp -v govern replay --policy activity --predictor "$tmp/model.json" --format json "$w" \
        >"$tmp/pred-$w.json" 2>"$tmp/pred-$w.err"
    check "$w replay --predictor: exit 0" test $? -eq 0
    fe=$(sed -n 's/.*activity f_e = \([0-9]*\) MHz from the predictor.*/\1/p' "$tmp/pred-$w.err")
    check "$w: predicted f_e ($fe MHz) = the true least-energy clock within 2 % ($opt MHz)" \
        test "$fe" = "$opt"
    fp govern replay --policy activity --f-e "$fe" --format json "$w" >"$tmp/fe-$w.json" 2>/dev/null
    pe=$(tr -d ' \n' <"$tmp/pred-$w.json" | grep -o '"policy":"activity"[^}]*' | grep -o '"energy_j":[0-9.e+-]*')
    fee=$(tr -d ' \n' <"$tmp/fe-$w.json" | grep -o '"policy":"activity"[^}]*' | grep -o '"energy_j":[0-9.e+-]*')
    check "$w: the activity replay with the predictor is the one with --f-e $fe ($pe)" \
        test -n "$pe" -a "$pe" = "$fee"
    fp govern replay --policy activity --format json "$w" >"$tmp/def-$w.json" 2>/dev/null
    de=$(tr -d ' \n' <"$tmp/def-$w.json" | grep -o '"policy":"activity"[^}]*' | grep -o '"energy_j":[0-9.e+-]*')
    check "$w: ... and not the one without it ($de)" test -n "$de" -a "$de" != "$pe"
done

# The daemon watches the (simulated) GPU until it has been busy for the predictor's window,
# then governs with the predicted f_e: the idle model-load phase runs at exactly f_e.
FREQPILOT_SIM_WORKLOAD=llama FREQPILOT_SIM_GPU=A100 fp -v govern daemon --backend sim \
    --policy activity --predictor "$tmp/model.json" --duration 3 --state-dir "$tmp/state" \
    >"$tmp/d.out" 2>"$tmp/d.err"
check "daemon --predictor: exit 0" test $? -eq 0
dfe=$(sed -n 's/.*activity f_e = \([0-9]*\) MHz from the predictor.*/\1/p' "$tmp/d.err")
opt=$(fp sim optimum --gpu A100 --workload llama --objective energy --max-slowdown 0.02)
check "daemon: predicted f_e ($dfe MHz) = the replay's ($opt MHz)" test "$dfe" = "$opt"
check "daemon: the idle GPU is held at f_e" grep -q "clock 0 -> $dfe MHz (phase idle" "$tmp/d.err"
FREQPILOT_SIM_WORKLOAD=llama fp -v govern daemon --backend sim --policy activity --f-e 900 \
    --duration 3 --state-dir "$tmp/state" 2>"$tmp/d2.err"
check "... where --f-e 900 holds it at 900 MHz" grep -q "clock 0 -> 900 MHz (phase idle" "$tmp/d2.err"

# What cannot be used is refused.
echo '{"format": "freqpilot-predictor"}' >"$tmp/bad.json"
check "a file without examples: exit 1" \
    test "$(status fp govern replay --policy activity --predictor "$tmp/bad.json" llama)" -eq 1
check "... naming the file" grep -q "bad.json.*examples" "$tmp/err"
check "--predictor without --policy activity: usage error" \
    test "$(status fp govern replay --predictor "$tmp/model.json" llama)" -eq 2
check "--predictor with --f-e: usage error" \
    test "$(status fp govern daemon --backend sim --policy activity --f-e 900 --predictor "$tmp/model.json")" -eq 2
check "a missing predictor file: exit 1" \
    test "$(status fp govern replay --policy activity --predictor "$tmp/none.json" llama)" -eq 1

done_testing
