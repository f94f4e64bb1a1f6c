
# --- minidock: names from the daemon --------------------------------------
# The function above (generated from minidock's clap definitions) knows every
# command and flag; this layer adds what only the daemon knows: container
# names where a command takes a container, image names where it takes an
# image. It asks the same daemon the command line would use (-H/--host and
# -c/--context as typed, else MINIDOCK_HOST or the current context), and says
# nothing when no daemon answers.

# Prints "containers", "images" or nothing for the word being completed.
_minidock_name_kind() {
    local i word words=()
    for ((i = 1; i < COMP_CWORD; i++)); do
        word="${COMP_WORDS[i]}"
        case "$word" in
            -H | --host | -c | --context | --tlscacert | --tlscert | --tlskey) ((i++)) ;;
            -*) ;;
            *) words+=("$word") ;;
        esac
    done
    # `container logs`, `image rm`: the group's subcommand is the command.
    case "${words[0]}" in
        container) words=("${words[@]:1}") ;;
        image) words=("${words[@]:1}"); [ "${words[0]}" = rm ] && words[0]=rmi ;;
    esac
    case "${words[0]}" in
        start | stop | restart | kill | rm | logs | inspect | pause | unpause | attach | wait | \
            top | port | stats | rename | update | commit | export | diff)
            echo containers ;;
        exec) [ ${#words[@]} -eq 1 ] && echo containers ;;
        rmi | history | tag | push | save) echo images ;;
        run | create) [ ${#words[@]} -eq 1 ] && echo images ;;
    esac
}

# The -H/--host and -c/--context of the command line being completed.
_minidock_daemon_flags() {
    local i
    for ((i = 1; i < COMP_CWORD; i++)); do
        case "${COMP_WORDS[i]}" in
            -H | --host | -c | --context) printf '%s\n%s\n' "${COMP_WORDS[i]}" "${COMP_WORDS[i + 1]}" ;;
        esac
    done
}

_minidock_with_names() {
    local cur="${COMP_WORDS[COMP_CWORD]}" kind names
    local -a flags
    if [[ "$cur" != -* ]]; then
        kind="$(_minidock_name_kind)"
        if [ -n "$kind" ]; then
            mapfile -t flags < <(_minidock_daemon_flags)
            if [ "$kind" = containers ]; then
                names="$(minidock "${flags[@]}" ps -a --format '{{.Names}}' 2>/dev/null)"
            else
                names="$(minidock "${flags[@]}" images --format '{{.Repository}}:{{.Tag}}' 2>/dev/null |
                    grep -v '<none>')"
            fi
            mapfile -t COMPREPLY < <(compgen -W "$names" -- "$cur")
            return 0
        fi
    fi
    _minidock "$@"
}

if [[ "${BASH_VERSINFO[0]}" -eq 4 && "${BASH_VERSINFO[1]}" -ge 4 || "${BASH_VERSINFO[0]}" -gt 4 ]]; then
    complete -F _minidock_with_names -o nosort -o bashdefault -o default minidock
else
    complete -F _minidock_with_names -o bashdefault -o default minidock
fi
