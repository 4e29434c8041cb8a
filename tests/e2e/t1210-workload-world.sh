#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Issue 12, attack 10: the workload's world under sudo. uid/gid were dropped but HOME=/root
# and USER=root, the whole dataset was root's (the user could not delete it), after a
# SIGKILL of freqpilot the workload kept running unsupervised (6 of 10), and the handler of a
# second signal restored the clocks with calls that are not async-signal-safe. Now the
# workload gets the user's HOME, USER, LOGNAME and a plain PATH, the dataset is the user's,
# the workload dies with freqpilot (PR_SET_PDEATHSIG) and what is left of its process group
# is ended by `freqpilot restore`, and a second signal execs `freqpilot restore` (only
# async-signal-safe calls in the handler). As root for a throwaway user, fake NVML.
. "$(dirname "$0")/lib.sh"
use_fake_gpu
need_throwaway_user
SWEEP=(profile --clocks 1410 --runs 1 --warmup 0)
wait_for() { # up to 10 s for the shell condition $1
    local _i
    for _i in $(seq 200); do eval "$1" && return 0; sleep 0.05; done
    return 1
}

# ---- the environment and the dataset ----------------------------------------------------
printf '#!/bin/sh\nid -u; id -g\necho "HOME=$HOME"; echo "USER=$USER"; echo "LOGNAME=$LOGNAME"\necho "PATH=$PATH"\necho "MAIL=${MAIL-unset}"\n' \
    >"$tmp/u/env.sh"
chmod 755 "$tmp/u/env.sh"
HOME=/root USER=root LOGNAME=root MAIL=/var/mail/root as_sudo fp_nvml "${SWEEP[@]}" \
    --out "$tmp/u/ds" -- "$tmp/u/env.sh" >"$tmp/out" 2>"$tmp/err"
check "sweep under sudo: exit 0" test $? -eq 0
so=$tmp/u/ds/A100/env.sh/1410/1/stdout.txt
check "the workload runs as the user" test "$(sed -n 1,2p "$so" | paste -sd' ')" = "$TU_UID $TU_GID"
check "HOME is the user's ($TU_HOME)" grep -qx "HOME=$TU_HOME" "$so"
check "USER and LOGNAME are the user's" bash -c "grep -qx 'USER=$TU' '$so' && grep -qx 'LOGNAME=$TU' '$so'"
check "PATH is a plain one" grep -qx 'PATH=/usr/local/bin:/usr/bin:/bin' "$so"
check "root's MAIL is not passed on" grep -qx 'MAIL=unset' "$so"
check "the dataset is the user's, every file of it" test -z "$(find "$tmp/u/ds" ! -user "$TU" | head -3)"
check "the user can delete it" as_user rm -rf "$tmp/u/ds"

# ---- SIGKILL of freqpilot: the workload dies with it --------------------------------------
# (freqpilot started with env in the background, so that $! is freqpilot itself)
printf '#!/bin/sh\nexec sleep 300\n' >"$tmp/u/long.sh"
printf '#!/bin/sh\nsleep 300 &\necho $! >%s/u/grandchild.pid\nwait\n' "$tmp" >"$tmp/u/tree.sh"
chmod 755 "$tmp/u/long.sh" "$tmp/u/tree.sh"
chown "$TU" "$tmp/u"/*.sh
died=0
for i in 1 2 3 4 5; do
    env SUDO_UID="$TU_UID" SUDO_GID="$TU_GID" LD_LIBRARY_PATH="$FAKE" "$FP" "${SWEEP[@]}" \
        --out "$tmp/u/k$i" -- "$tmp/u/long.sh" >/dev/null 2>&1 &
    fpid=$!
    wait_for '[ -n "$(pgrep -u "$TU" -x sleep)" ]'
    w=$(pgrep -u "$TU" -x sleep)
    kill -KILL $fpid
    wait $fpid 2>/dev/null
    killed="${killed:-} $fpid"
    wait_for "! kill -0 $w 2>/dev/null" && died=$((died + 1))
    fp_nvml restore >/dev/null 2>&1
done
check "SIGKILL of freqpilot ends the workload ($died of 5)" test $died -eq 5
# A grandchild outlives its parent's death signal; restore ends what is left of the group.
env SUDO_UID="$TU_UID" SUDO_GID="$TU_GID" LD_LIBRARY_PATH="$FAKE" "$FP" "${SWEEP[@]}" \
    --out "$tmp/u/g" -- "$tmp/u/tree.sh" >/dev/null 2>&1 &
fpid=$!
wait_for "[ -s '$tmp/u/grandchild.pid' ]"
gc=$(cat "$tmp/u/grandchild.pid")
check "the state file names the workload's process group" grep -q '"pgid"' "$FREQPILOT_STATE_DIR"/*.json
kill -KILL $fpid
wait $fpid 2>/dev/null
check "the grandchild is still there after the SIGKILL" kill -0 "$gc"
fp_nvml restore >"$tmp/out" 2>"$tmp/err"
check "restore: exit 0" test $? -eq 0
check "... says it ended the leftover workload" grep -q 'ended 1 leftover workload process' "$tmp/out"
check "... the grandchild is gone" wait_for "! kill -0 $gc 2>/dev/null"
check "... the GPU is back" test "$(locked_now)" = 0

# ---- a second signal before the owner restored: restore by exec --------------------------
printf '#!/bin/sh\ntrap "" TERM\nwhile :; do sleep 0.1; done\n' >"$tmp/u/stubborn.sh"
chmod 755 "$tmp/u/stubborn.sh"
env SUDO_UID="$TU_UID" SUDO_GID="$TU_GID" LD_LIBRARY_PATH="$FAKE" "$FP" "${SWEEP[@]}" \
    --out "$tmp/u/s" -- "$tmp/u/stubborn.sh" >"$tmp/out" 2>"$tmp/err" &
fpid=$!
wait_for '[ "$(locked_now)" = 1 ] && [ -n "$(pgrep -u "$TU" -f stubborn.sh)" ]'
check "a workload that ignores SIGTERM runs under the lock" test "$(locked_now)" = 1
left=
for k in $killed; do left="$left$(ls -d /tmp/freqpilot-mark."$k".* 2>/dev/null)"; done
check "the marker folders of the killed freqpilots were removed by the next sweep" test -z "$left"
kill -TERM $fpid
sleep 0.3
check "after one SIGTERM freqpilot is still waiting for it" kill -0 $fpid
kill -TERM $fpid
wait $fpid
rc=$?
check "a second SIGTERM ends freqpilot by that signal (rc $rc)" test $rc -eq 143
check "... after restoring the GPU" test "$(locked_now)" = 0
check "... through 'freqpilot restore' exec'd in its place" grep -q '^restored GPU 0 .*locked clocks reset' "$tmp/out"
check "... the state file removed" test -z "$(ls -A "$FREQPILOT_STATE_DIR")"
check "... the workload gone" wait_for '[ -z "$(pgrep -u "$TU" -f stubborn.sh)" ]'
done_testing
