#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Issue 12, attack 1: the marker FIFO. Root used to unlink, mkfifo, chown(path, SUDO_UID)
# and open by path in the run folder, which the user can write: a symbolic link swapped in
# after mkfifo made root chown a root-only file to the user. Now the FIFO lives in a folder
# of root's own (mkdtemp, 0711) outside the dataset and is handed over by descriptor.
# As root for a throwaway user (sudo simulated with SUDO_UID/SUDO_GID), with the fake NVML:
# the user pre-creates the run folders and races symbolic links into them during the sweep.
. "$(dirname "$0")/lib.sh"
use_fake_gpu
need_throwaway_user

# A root-only file the attacker would like to own.
echo "root secret" >"$tmp/secret"
chmod 600 "$tmp/secret"

cat >"$tmp/u/wl.sh" <<'WL'
#!/bin/sh
f=$FREQPILOT_MARK_FIFO
echo "fifo=$f"
stat -c 'fifo_owner=%U fifo_type=%F' "$f"
stat -c 'dir_owner=%U dir_mode=%a' "$(dirname "$f")"
echo begin >"$f"
sleep 0.05
echo end >"$f"
WL
chmod 755 "$tmp/u/wl.sh"
chown "$TU:$TU" "$tmp/u/wl.sh"

runs=12
ds=$tmp/u/ds
# The user prepares the run folders the sweep will use and keeps planting links in them.
as_user mkdir -p "$ds/A100/wl/1410"
for r in $(seq 1 $runs); do as_user mkdir -p "$ds/A100/wl/1410/$r"; done
as_user bash -c '
    while :; do
        for d in "$1"/A100/wl/1410/*; do
            ln -sfn "$2" "$d/.l" 2>/dev/null && mv -fT "$d/.l" "$d/.mark.fifo" 2>/dev/null
        done
    done' racer "$ds" "$tmp/secret" &
racer=$!
at_exit "kill -KILL $racer 2>/dev/null"

as_sudo fp_nvml profile --clocks 1410 --runs $runs --warmup 0 --app wl --out "$ds" -- "$tmp/u/wl.sh" \
    >"$tmp/out" 2>"$tmp/err"
rc=$?
kill -KILL $racer 2>/dev/null
wait $racer 2>/dev/null

check "the sweep finished under the race (rc $rc)" test $rc -eq 0
check "the root-only file is still root's" test "$(stat -c '%U %a' "$tmp/secret")" = "root 600"
check "... and unchanged" test "$(cat "$tmp/secret")" = "root secret"
n_pipe=$(grep -l '"window_source": "pipe"' "$ds"/A100/wl/1410/*/run.json 2>/dev/null | wc -l)
check "every run's window came through the FIFO ($n_pipe of $runs)" test "$n_pipe" -eq $runs
out1=$ds/A100/wl/1410/1/stdout.txt
fifo=$(sed -n 's/^fifo=//p' "$out1")
check "the FIFO is not in the dataset ($fifo)" bash -c "[ -n '$fifo' ] && [ '${fifo#$ds}' = '$fifo' ]"
check "the FIFO's folder is root's, mode 711" grep -qx 'dir_owner=root dir_mode=711' "$out1"
check "the FIFO itself was handed to the user" grep -qx "fifo_owner=$TU fifo_type=fifo" "$out1"
check "the same for every run" test "$(grep -lx 'dir_owner=root dir_mode=711' "$ds"/A100/wl/1410/*/stdout.txt | wc -l)" -eq $runs
check "the FIFO and its folder are gone after the sweep" bash -c "[ ! -e '$fifo' ] && [ ! -e '$(dirname "$fifo")' ]"
check "no state file left" test -z "$(ls -A "$FREQPILOT_STATE_DIR" 2>/dev/null)"
done_testing
