#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Issue 12, attack 8: any local user could stop the governor. About 1,050 slowly trickled
# connections exhausted its descriptors (no connection limit, a 5 s timeout reset by each
# byte); the next state write failed and the daemon exited 1. Now: epoll, at most 32
# connections and 8 per address, a hard 5 s limit on a connection's life, and a failed state
# write keeps the current clock, is logged and retried. The daemon runs with 200
# descriptors here; 300 slow connections come from 127.0.0.1 only (a bounded number),
# each trickling a byte every half second. Then its descriptors are cut off with prlimit
# while its phases change (llama on the fake NVML, 10x): it keeps its clock, retries, and
# goes on once descriptors are back. Fake NVML; no root needed.
. "$(dirname "$0")/lib.sh"
use_fake_gpu
command -v curl >/dev/null || skip_all "curl not installed"
command -v perl >/dev/null || skip_all "perl not installed"
command -v prlimit >/dev/null || skip_all "prlimit (util-linux) not installed"
export FAKE_NVML_WORKLOAD=llama FAKE_NVML_TIME_SCALE=10
locked_clock() { awk '$1==0 && $2==1 {print $4}' "$FAKE_NVML_STATE"; }
n_changes() { grep -c 'info: clock .* MHz (phase' "$tmp/err"; }
nfd() { ls "/proc/$pid/fd" 2>/dev/null | wc -l; }

(
    ulimit -n 200
    exec env LD_LIBRARY_PATH="$FAKE" "$FP" -v govern daemon --policy phase --interval-ms 20 \
        --phase-clocks compute=1200,memory=705,host=600,idle=405 --duration 120 \
        --listen 127.0.0.1:0
) >"$tmp/out" 2>"$tmp/err" &
pid=$!
at_exit "kill -KILL $pid 2>/dev/null"
port=
for _ in $(seq 100); do
    port=$(sed -n 's/.*metrics on http:.* (port \([0-9]*\)).*/\1/p' "$tmp/err")
    [ -n "$port" ] && [ -n "$(locked_clock)" ] && break
    sleep 0.1
done
check "the daemon listens and locks" test -n "$port" -a -n "$(locked_clock)"

# ---- 300 slow clients --------------------------------------------------------------------
cat >"$tmp/slow.pl" <<'PL'
use strict; use IO::Socket::INET;
$SIG{PIPE} = 'IGNORE';
my ($port, $n, $seconds) = @ARGV;
my @s;
for (1 .. $n) {
    my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Timeout => 1);
    push @s, $c if $c;
}
printf "connected %d\n", scalar @s;
$| = 1;
my $end = time + $seconds;
my $alive = 0;
while (time < $end) {
    $alive = 0;
    for my $c (@s) { $alive++ if defined syswrite($c, "G") }
    select(undef, undef, undef, 0.5);
}
printf "still accepting bytes at the end %d\n", $alive;
PL
changes0=$(n_changes)
perl "$tmp/slow.pl" "$port" 300 12 >"$tmp/slow.out" 2>&1 &
slow=$!
at_exit "kill -KILL $slow 2>/dev/null"
sleep 3
fd_mid=$(nfd)
check "under 300 slow connections the daemon is alive" kill -0 $pid
check "... its descriptors stay bounded ($fd_mid < 80)" test "${fd_mid:-999}" -lt 80
check "... it still holds the GPU (locked at $(locked_clock) MHz)" test -n "$(locked_clock)"
check "... and its state file" test -n "$(ls "$FREQPILOT_STATE_DIR"/*.json 2>/dev/null)"
# Past the hard limit the slow connections are cut: a scrape gets through while they trickle.
sleep 3
code=
for _ in $(seq 30); do
    code=$(curl -s -o "$tmp/metrics" -w '%{http_code}' --max-time 2 "http://127.0.0.1:$port/metrics")
    [ "$code" = 200 ] && break
    sleep 0.2
done
check "the daemon answers /metrics during the attack (HTTP $code)" test "$code" = 200
check "... with its numbers" grep -q '^freqpilot_requested_clock_mhz{gpu="0"[^}]*} [0-9]' "$tmp/metrics"
wait $slow
cat "$tmp/slow.out" | sed 's/^/# /'
check "the slow connections were cut (none still open at the end)" grep -qx 'still accepting bytes at the end 0' "$tmp/slow.out"
check "clock changes went on during the attack" test "$(n_changes)" -gt "$changes0"
check "no clock change failed" test -z "$(grep 'failed' "$tmp/err")"
check "the daemon is alive after the attack" kill -0 $pid

# ---- a state write that fails: the clock stays, the change is retried ---------------------
lowest_free=0
while [ -e "/proc/$pid/fd/$lowest_free" ]; do lowest_free=$((lowest_free + 1)); done
prlimit --pid "$pid" --nofile="$lowest_free:200" # the soft limit only
for _ in $(seq 100); do grep -q 'failed (1 time' "$tmp/err" && break; sleep 0.1; done
check "no descriptor left: the change fails and is logged" grep -q 'clock [0-9]* -> [0-9]* MHz failed (1 time(s)): .*state file.*; keeping [0-9]* MHz, retrying every 1 s' "$tmp/err"
held=$(sed -n 's/.*failed (1 time(s)).*keeping \([0-9]*\) MHz.*/\1/p' "$tmp/err" | head -1)
sleep 1.5
# (the fake NVML cannot save its state without descriptors either: the daemon's log says
# what happened; a descriptor freed meanwhile may let a retry through, which is logged)
check "... no clock changed until a retry went through (kept $held MHz)" awk '
    /failed \(1 time/ { failing = 1; next }
    /clock change works again/ { failing = 0 }
    failing && /info: clock [0-9]* -> [0-9]* MHz \(phase/ { bad = 1 }
    END { exit bad }' "$tmp/err"
check "... the GPU stays locked" test -n "$(locked_clock)"
check "... the daemon is alive" kill -0 $pid
prlimit --pid "$pid" --nofile=200:200
for _ in $(seq 100); do grep -q 'clock change works again' "$tmp/err" && break; sleep 0.1; done
check "descriptors back: the change goes through" grep -q 'clock change works again after [0-9]* failure' "$tmp/err"
check "... the daemon is alive" kill -0 $pid

kill -TERM $pid
wait $pid
rc=$?
check "SIGTERM ends it after restoring (rc $rc)" test $rc -eq 143
check "... the GPU is back to its default clocks" test -z "$(locked_clock)"
check "... no state file left" test -z "$(ls -A "$FREQPILOT_STATE_DIR")"
done_testing
