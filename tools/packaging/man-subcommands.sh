#!/bin/sh
# Prints a help2man include file with every subcommand's own --help (nested ones too), so that the
# man page is generated from the CLI and never drifts from it.
#   tools/packaging/man-subcommands.sh path/to/nocturne-agent > subcommands.h2m
set -eu
bin=$1

# The subcommand names in a --help text: the lines after "Subcommands:".
subcommands() {
    "$bin" "$@" --help | awk '/^Subcommands:/ {on = 1; next} on && /^  [a-z]/ {print $1} on && /^$/ {on = 0}'
}

# roff-safe text: backslashes escaped, lines starting with . or ' protected.
roff() {
    sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"
}

section() {
    printf '.SS "nocturne-agent %s"\n.nf\n' "$*"
    "$bin" "$@" --help | sed '1,/^Usage:/{/^Usage:/!d}' | roff
    printf '.fi\n'
}

printf '[COMMANDS]\n'
printf 'Each command takes \\fB\\-\\-help\\fR. What follows is the help of each, as the binary prints it.\n'
for cmd in $(subcommands); do
    section "$cmd"
    for sub in $(subcommands "$cmd"); do section "$cmd" "$sub"; done
done

cat <<'TEXT'
[ENVIRONMENT]
.TP
.B NOCTURNE_HOME
The node's home (default ~/.nocturne): keys, stores, the API token, logs, node.toml.
.TP
.B NOCTURNE_GENESIS
A genesis file to use instead of the built-in one.
.TP
.B NOCTURNE_LOG_LEVEL
trace, debug, info, warn or error (start).
.TP
.B NOTIFY_SOCKET, WATCHDOG_USEC
Set by systemd for Type=notify units: the node reports readiness, status and keep-alives.
[FILES]
.TP
.I /usr/lib/systemd/system/nocturne-agent.service
The hardened system unit (user nocturne, home /var/lib/nocturne).
.TP
.I /usr/lib/systemd/user/nocturne-agent.service
The user unit.
.TP
.I /etc/default/nocturne-agent
NOCTURNE_ARGS and NOCTURNE_LOG_LEVEL for the system unit.
.TP
.I /usr/share/nocturne/genesis.json
The mesh's genesis, as built in.
[SEE ALSO]
The local API, operations (systemd, metrics, logs) and the protocol are described in the docs of
the source tree: docs/api.md, docs/operations.md.
TEXT
