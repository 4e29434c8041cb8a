#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The hardened unit of freqpilotd (contrib/freqpilotd.service): `systemd-analyze security
# --offline=true` scores it at most 3.5, without network sockets; with the Slurm drop-in
# (contrib/freqpilotd-slurm.conf) too. The scores are printed. Skipped (77) where
# systemd-analyze or its --offline mode is missing.
. "$(dirname "$0")/lib.sh"

command -v systemd-analyze >/dev/null 2>&1 || skip_all "systemd-analyze not installed"
unit=$SRC/contrib/freqpilotd.service
score() { # unit file -> its exposure level
    systemd-analyze security --offline=true "$1" 2>"$tmp/sa.err" |
        sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p'
}
s=$(score "$unit")
[ -n "$s" ] || skip_all "systemd-analyze security --offline=true does not work here: $(head -1 "$tmp/sa.err")"
echo "# systemd-analyze security --offline=true contrib/freqpilotd.service: $s"
check "the unit scores $s <= 3.5" awk -v s="$s" 'BEGIN { exit !(s <= 3.5) }'
check "only Unix sockets" grep -qx 'RestrictAddressFamilies=AF_UNIX' "$unit"
check "no network namespace access" grep -qx 'PrivateNetwork=yes' "$unit"
check "it starts the service under its name" grep -q '^ExecStart=/usr/local/bin/freqpilotd --config /etc/freqpilot/freqpilotd.conf' "$unit"

# With the Slurm drop-in (a unit file with its lines appended: what systemd merges).
mkdir -p "$tmp/u"
cat "$unit" "$SRC/contrib/freqpilotd-slurm.conf" >"$tmp/u/freqpilotd.service"
s2=$(score "$tmp/u/freqpilotd.service")
echo "# ... with contrib/freqpilotd-slurm.conf: $s2"
check "with the Slurm drop-in: $s2 <= 3.5" awk -v s="$s2" 'BEGIN { exit !(s <= 3.5) }'

# The service's binary refuses what it cannot be: a socket folder others can write.
mkdir -m 1777 "$tmp/open"
printf '[service]\nsocket = %s/open/s.sock\nstate_dir = %s/st\n' "$tmp" "$tmp" >"$tmp/c.conf"
rc=$(status fp service run --config "$tmp/c.conf")
check "a world-writable socket folder is refused (exit $rc)" test "$rc" -eq 1
check "... with a message that says why" grep -q "the socket folder is writable by others" "$tmp/err"
chmod 0666 "$tmp/c.conf"
rc=$(status fp service check --config "$tmp/c.conf")
check "a policy file others may write is refused (exit $rc)" test "$rc" -eq 1
check "... naming the fix" grep -q "chmod go-w" "$tmp/err"

# Without a GPU or root: the service on the simulated GPU answers the protocol.
mkdir -m 0755 "$tmp/run"
printf '[service]\nbackend = sim\nsocket = %s/run/s.sock\nstate_dir = %s/st2\n' "$tmp" "$tmp" \
    >"$tmp/sim.conf"
chmod 0644 "$tmp/sim.conf"
FREQPILOT_SIM_NOISE=off "$FP" service run --config "$tmp/sim.conf" 2>"$tmp/sim.log" &
spid=$!
at_exit "kill $spid 2>/dev/null"
export FREQPILOT_SOCKET=$tmp/run/s.sock
for _ in $(seq 100); do [ -S "$FREQPILOT_SOCKET" ] && break; sleep 0.05; done
rc=$(status fp service call '{"op":"lock","gpu":"0","min_mhz":1005,"max_mhz":1005}')
check "on the simulated GPU, a lock is answered (exit $rc)" grep -q '"ok":true.*"method":"locked","reached_mhz":1005' "$tmp/out"
check "it warned that nobody else sees that GPU" grep -q "backend sim: its GPUs live in this process" "$tmp/sim.log"
kill "$spid"
wait "$spid"
check "it stops on SIGTERM (exit $?)" test ! -e "$FREQPILOT_SOCKET"
done_testing
