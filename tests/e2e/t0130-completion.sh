#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Bash completion (contrib/freqpilot.bash): commands from `freqpilot --help`, options from
# `freqpilot CMD --help`, cached; file names otherwise.
. "$(dirname "$0")/lib.sh"
script=$SRC/contrib/freqpilot.bash
[ -r "$script" ] || { nok "$script is missing"; done_testing; }

# A freqpilot on PATH that counts its calls, so the cache can be checked.
mkdir "$tmp/bin"
cat >"$tmp/bin/freqpilot" <<WRAP
#!/bin/bash
echo x >>"$tmp/calls"
exec "$FP" "\$@"
WRAP
chmod +x "$tmp/bin/freqpilot"
PATH=$tmp/bin:$PATH
: >"$tmp/calls"

# shellcheck source=/dev/null
source "$script"
spec=$(complete -p freqpilot 2>/dev/null)
if [[ $spec == *"-F _freqpilot"* ]]; then ok "complete -p names _freqpilot"; else
    nok "complete -p freqpilot: '$spec'"; fi

# complete WORD...: the last word is the one being completed; sets COMPREPLY.
complete_words() {
    COMP_WORDS=("$@")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMP_LINE="${COMP_WORDS[*]}"
    COMP_POINT=${#COMP_LINE}
    COMPREPLY=()
    _freqpilot freqpilot "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
}
expect() { # DESCRIPTION EXPECTED-REPLY (space separated, sorted)
    local got
    got=$(printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//')
    if [ "$got" = "$2" ]; then ok "$1"; else nok "$1: got '$got', expected '$2'"; fi
}

complete_words freqpilot ag
expect "freqpilot ag<TAB> -> aggregate" "aggregate"
complete_words freqpilot -v ag
expect "freqpilot -v ag<TAB> -> aggregate" "aggregate"
complete_words freqpilot s
expect "freqpilot s<TAB> -> sample service sim status" "sample service sim status"
complete_words freqpilot aggregate --for
expect "freqpilot aggregate --for<TAB> -> --format" "--format"
complete_words freqpilot profile --no-c
expect "freqpilot profile --no-c<TAB> -> --no-clock-control" "--no-clock-control"
complete_words freqpilot profile --runs 3 --sl
expect "freqpilot profile --runs 3 --sl<TAB> -> --slurm --slurm-task" "--slurm --slurm-task"
complete_words freqpilot help opt
expect "freqpilot help opt<TAB> -> optimize" "optimize"
complete_words freqpilot --vers
expect "freqpilot --vers<TAB> -> --version" "--version"
complete_words freqpilot restore --zzz
expect "an option no command has completes to nothing" ""

# Every command listed by --help completes from its first letters.
n=0
for c in $("$FP" --help | awk '/^(COMMANDS|Commands:)/ { on = 1; next } on && /^ *$/ { exit }
                               on { print $1 }'); do
    complete_words freqpilot "$c"
    printf '%s\n' "${COMPREPLY[@]}" | grep -qx "$c" || nok "command $c does not complete"
    n=$((n + 1))
done
if [ "$n" -ge 10 ]; then ok "all $n commands complete"; else nok "only $n commands listed"; fi

# File names otherwise, and after `--` (the workload's command line).
touch "$tmp/model-a.json" "$tmp/model-b.json"
complete_words freqpilot aggregate "$tmp/model-"
expect "a non-option word completes file names" "$tmp/model-a.json $tmp/model-b.json"
complete_words freqpilot profile --runs 1 -- "$tmp/model-a"
expect "after -- file names, not options" "$tmp/model-a.json"

# Cached: asking again for aggregate's and the command list runs freqpilot no more.
before=$(wc -l <"$tmp/calls")
complete_words freqpilot aggregate --ou
expect "freqpilot aggregate --ou<TAB> -> --output --outlier-k" "--outlier-k --output"
complete_words freqpilot ag
after=$(wc -l <"$tmp/calls")
if [ "$before" -eq "$after" ]; then ok "options and commands are cached"; else
    nok "freqpilot ran $((after - before)) more time(s) for cached words"; fi

done_testing
