#!/bin/sh
# Builds the Debian package from a build tree and checks what it holds: the binary (which runs),
# a man page that documents every subcommand the binary has, the units, the sysusers entry, the
# default settings as a conffile, the genesis, and Depends that cover every shared library the
# binary needs. Installs nothing: the package is unpacked into a temporary directory.
#   tools/packaging/check-deb.sh BUILD_DIR
set -eu
build=$(cd "$1" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
fail() { echo "check-deb: $*" >&2; exit 1; }

(cd "$build" && cpack -G DEB -B "$work/out" >"$work/cpack.log" 2>&1) || { cat "$work/cpack.log" >&2; fail "cpack failed"; }
deb=$(ls "$work"/out/nocturne-agent_*.deb 2>/dev/null | head -1)
[ -n "$deb" ] || fail "no nocturne-agent_*.deb in $work/out"
echo "built $(basename "$deb") ($(du -k "$deb" | cut -f1) KiB)"

dpkg-deb -c "$deb" | awk '{print $6}' >"$work/contents"
for f in ./usr/bin/nocturne-agent ./usr/share/man/man1/nocturne-agent.1.gz \
    ./usr/lib/systemd/system/nocturne-agent.service ./usr/lib/systemd/user/nocturne-agent.service \
    ./usr/lib/sysusers.d/nocturne.conf ./etc/default/nocturne-agent \
    ./usr/share/nocturne/genesis.json ./usr/share/doc/nocturne-agent/operations.md; do
    grep -qx "$f" "$work/contents" || fail "missing $f (contents: $(tr '\n' ' ' <"$work/contents"))"
done
dpkg-deb -f "$deb" Package Version Architecture Depends
dpkg-deb --ctrl-tarfile "$deb" | tar -t | grep -qx './conffiles' || fail "no conffiles"
dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles | grep -qx /etc/default/nocturne-agent ||
    fail "/etc/default/nocturne-agent is not a conffile"
dpkg-deb --ctrl-tarfile "$deb" | tar -t | grep -qx './postinst' || fail "no postinst"
dpkg-deb --ctrl-tarfile "$deb" | tar -t | grep -qx './prerm' || fail "no prerm"

dpkg-deb -x "$deb" "$work/root"
bin="$work/root/usr/bin/nocturne-agent"
for unit in system user; do
    grep -q '^ExecStart=/usr/bin/nocturne-agent start --foreground' \
        "$work/root/usr/lib/systemd/$unit/nocturne-agent.service" ||
        fail "the $unit unit does not run /usr/bin/nocturne-agent"
done
[ "$("$bin" --version)" = "$(dpkg-deb -f "$deb" Version)" ] || fail "the packaged binary's --version differs"

# Every subcommand (and nested one) of the binary has its section in the man page.
man="$work/nocturne-agent.1"
gzip -dc "$work/root/usr/share/man/man1/nocturne-agent.1.gz" >"$man"
grep -q '^\.TH NOCTURNE-AGENT "1"' "$man" || fail "man page has no .TH header"
commands=$("$bin" --help | awk '/^Subcommands:/ {on = 1; next} on && /^  [a-z]/ {print $1}')
[ -n "$commands" ] || fail "no subcommands in --help"
n=0
for c in $commands; do
    grep -q "^\.SS \"nocturne-agent $c\"" "$man" || fail "man page lacks the command $c"
    n=$((n + 1))
done
echo "man page documents all $n commands"

# Depends covers every NEEDED library: its Debian package is named in Depends.
depends=$(dpkg-deb -f "$deb" Depends)
for lib in $(readelf -d "$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
    path=$(ldconfig -p | awk -v l="$lib" '$1 == l {print $NF; exit}')
    [ -n "$path" ] || fail "cannot find $lib"
    pkg=$(dpkg -S "$(readlink -f "$path")" 2>/dev/null | head -1 | cut -d: -f1) ||
        pkg=$(dpkg -S "$path" | head -1 | cut -d: -f1)
    [ -n "$pkg" ] || pkg=$(dpkg -S "$path" 2>/dev/null | head -1 | cut -d: -f1)
    echo "$depends" | grep -q "\(^\|, \)$pkg\( \|,\|$\)" || fail "$lib comes from $pkg, which Depends lacks: $depends"
done
echo "Depends covers every shared library"
