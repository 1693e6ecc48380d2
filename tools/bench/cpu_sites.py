#!/usr/bin/env python3
"""Sorts the CPU samples of a perf profile of mesh_bench by what the time was spent on.

The breakdown in docs/performance.md ("Where the CPU goes"):
    perf record --call-graph dwarf,16384 -F 500 -o mesh.perf \
        build/release/tools/bench/mesh_bench --nodes 32 --puts 100 --gets 300
    perf script -i mesh.perf -F ip,sym > mesh.stacks
    tools/bench/cpu_sites.py mesh.stacks
Each sample goes to the first category whose marker appears anywhere in its call stack, so the
order of CATEGORIES matters: cryptography before the session set-up that calls it, JSON before the
allocations it makes. libsodium has no symbols in Debian's package: its samples unwind poorly and
land in "session set-up" (when the stack reaches the handshake) or "unattributed".
"""
import collections
import sys

CATEGORIES = [
    ("Ed25519", ("crypto_sign", "ge25519", "sc25519")),
    ("X25519", ("crypto_scalarmult", "curve25519")),
    ("AEAD frames (secretstream)", ("secretstream", "chacha", "poly1305")),
    ("hashing", ("sha256", "sha512", "blake2")),
    (
        "session set-up and close (TCP, upgrade, HELLO/AUTH, close)",
        ("authenticate", "async_handshake", "async_accept", "WsPeerSession::connect",
         "WsPeerSession::accept", "close_gracefully", "async_close", "connect_op"),
    ),
    (
        "JSON encode and decode",
        ("nlohmann", "parse_json", "to_compact_json", "json_depth", "ObjectReader", "from_hex",
         "to_hex", "payload_from_json", "record_from_json"),
    ),
    ("other allocation", ("malloc", "_int_free", "cfree", "operator new", "unlink_chunk")),
    ("kernel: sockets, epoll", ("syscall", "sendmsg", "recvmsg", "epoll")),
    ("routing table and lookups", ("RoutingTable", "Lookup", "closest")),
    ("node timers (RPC expiry, maintenance)", ("Node::tick",)),
    ("Asio and Beast machinery", ("beast::", "asio::")),
]


def category(stack):
    text = " ".join(stack)
    for name, markers in CATEGORIES:
        if any(m in text for m in markers):
            return name
    return "unattributed"


def main(path):
    counts = collections.Counter()
    total = 0
    stack = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in list(f) + [""]:
            line = line.strip()
            if line:
                stack.append(line.split(" ", 1)[1] if " " in line else line)
                continue
            if stack:
                counts[category(stack)] += 1
                total += 1
            stack = []
    for name, n in counts.most_common():
        print(f"| {name} | {100.0 * n / total:.1f} % |")
    print(f"({total} samples)")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: cpu_sites.py STACKS (perf script -F ip,sym output)")
    main(sys.argv[1])
