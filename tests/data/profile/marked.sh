#!/bin/sh
# Tiny workload for the profile tests: idle, a marked window, idle; MARK_VIA=pipe uses the FIFO.
sleep "${PRE_S:-0.1}"
if [ "${MARK_VIA:-stdout}" = pipe ] && [ -n "$FREQPILOT_MARK_FIFO" ]; then
    echo begin >"$FREQPILOT_MARK_FIFO"
else
    echo "FREQPILOT_MARK begin"
fi
echo "working at $(date +%s)"
echo "some error text" >&2
sleep "${WORK_S:-0.3}"
if [ "${MARK_VIA:-stdout}" = pipe ] && [ -n "$FREQPILOT_MARK_FIFO" ]; then
    echo end >"$FREQPILOT_MARK_FIFO"
else
    echo "FREQPILOT_MARK end"
fi
sleep "${POST_S:-0.1}"
exit "${EXIT_CODE:-0}"
