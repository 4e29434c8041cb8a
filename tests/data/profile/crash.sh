#!/bin/sh
# Tiny workload that crashes (SIGSEGV-like: kills itself with SIGABRT) after a short while.
echo "FREQPILOT_MARK begin"
sleep 0.1
kill -ABRT $$
