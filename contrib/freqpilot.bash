# SPDX-License-Identifier: GPL-3.0-or-later
# bash completion for freqpilot.
#
# Install: copy to /usr/share/bash-completion/completions/freqpilot (or source it from
# ~/.bashrc). Commands come from the COMMANDS list of `freqpilot --help`, the options of
# each command from the --long options its `freqpilot COMMAND --help` names, read at run
# time and cached per binary and command for the shell session, so the completion never
# goes stale against the installed freqpilot. Anything else completes file names.

# Prints the words of the COMMANDS (or "Commands:") section of `freqpilot --help`.
_freqpilot_parse_commands()
{
    awk '/^(COMMANDS|Commands:)[[:space:]]*$/ { on = 1; next }
         on && /^[[:space:]]*$/ { exit }
         on { print $1 }'
}

# Prints every --long option named in a help text on stdin, once each.
_freqpilot_parse_options()
{
    grep -oE -- '(^|[^[:alnum:]-])--[[:alnum:]][[:alnum:]-]*' |
        sed -E 's/^[^-]*//' | sort -u
}

declare -gA _freqpilot_cache 2>/dev/null || declare -A _freqpilot_cache

# _freqpilot_cached KEY COMMAND...: sets _freqpilot_words to the output of COMMAND...,
# run once per KEY in this shell (not in a subshell, so the cache survives).
_freqpilot_cached()
{
    local key=$1
    shift
    if [[ -z ${_freqpilot_cache[$key]+set} ]]; then
        _freqpilot_cache[$key]=$("$@" 2>/dev/null)
    fi
    _freqpilot_words=${_freqpilot_cache[$key]}
}

_freqpilot_commands()
{
    "$1" --help 2>/dev/null | _freqpilot_parse_commands
}

_freqpilot_options()
{
    "$1" "$2" --help 2>/dev/null | _freqpilot_parse_options
}

# The global options: the --long options of `freqpilot --help` outside its command list.
_freqpilot_global_options()
{
    "$1" --help 2>/dev/null |
        awk '/^(COMMANDS|Commands:)[[:space:]]*$/ { skip = 1; next } skip && /^[[:space:]]*$/ {
             skip = 0 } !skip' | _freqpilot_parse_options
}

_freqpilot()
{
    local _freqpilot_words=""
    local cur=${COMP_WORDS[COMP_CWORD]}
    local prog=${COMP_WORDS[0]}
    local bin
    bin=$(type -P -- "$prog" 2>/dev/null) || bin=$prog
    [[ -n $bin ]] || bin=freqpilot
    COMPREPLY=()

    # The command: the first word after the global options (-v, -q, ...).
    local i cmd="" cmd_at=0
    for ((i = 1; i < COMP_CWORD; i++)); do
        case ${COMP_WORDS[i]} in
        -*) ;;
        *)
            cmd=${COMP_WORDS[i]}
            cmd_at=$i
            break
            ;;
        esac
    done

    local IFS=$'\n'
    if [[ -z $cmd ]]; then
        if [[ $cur == -* ]]; then
            _freqpilot_cached "$bin|" _freqpilot_global_options "$bin"
        else
            _freqpilot_cached "$bin|commands" _freqpilot_commands "$bin"
        fi
        COMPREPLY=($(compgen -W "$_freqpilot_words" -- "$cur"))
        return 0
    fi

    # After "--" (profile -- COMMAND ...) everything is the workload's: plain commands/files.
    for ((i = cmd_at + 1; i < COMP_CWORD; i++)); do
        if [[ ${COMP_WORDS[i]} == "--" ]]; then
            COMPREPLY=($(compgen -f -- "$cur"))
            compopt -o filenames 2>/dev/null
            return 0
        fi
    done

    if [[ $cmd == help && $COMP_CWORD -eq $((cmd_at + 1)) && $cur != -* ]]; then
        _freqpilot_cached "$bin|commands" _freqpilot_commands "$bin"
        COMPREPLY=($(compgen -W "$_freqpilot_words" -- "$cur"))
        return 0
    fi

    if [[ $cur == --* ]]; then
        _freqpilot_cached "$bin|$cmd" _freqpilot_options "$bin" "$cmd"
        COMPREPLY=($(compgen -W "$_freqpilot_words" -- "$cur"))
        return 0
    fi

    COMPREPLY=($(compgen -f -- "$cur"))
    compopt -o filenames 2>/dev/null
    return 0
}

complete -F _freqpilot freqpilot
