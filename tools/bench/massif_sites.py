#!/usr/bin/env python3
"""Sorts the peak heap of a valgrind massif output by the component that allocated it.

The breakdown in docs/performance.md ("Where the memory goes"):
    valgrind --tool=massif --threshold=0.5 build/release/tools/bench/mesh_bench --nodes 32
    tools/bench/massif_sites.py massif.out.PID
Each leaf of massif's peak tree is put in the first component whose marker appears anywhere in its
call stack, so the order of COMPONENTS matters: the specific before the general.
"""
import collections
import re
import sys

COMPONENTS = [
    ("session coroutine frames", "awaitable_frame_base<boost::asio::any_io_executor>::operator new"),
    ("Asio operation memory (reads, writes, timers)", "thread_info_base::allocate"),
    ("session message buffer (reads)", "read_loop"),
    ("outgoing frame queues", "OutFrame"),
    ("session facts", "SessionFacts"),
    ("routing table", "RoutingTable"),
    ("pending RPCs", "RpcManager"),
    ("records store", "Store"),
    ("lookups", "Lookup"),
    ("address verifier", "AddressVerifier"),
    ("Beast WebSocket stream state", "impl_type"),
    ("session object, TCP stream and socket", "WsPeerSession"),
    ("other Beast buffers (handshake)", "beast::"),
    ("other Asio", "boost::asio"),
]
NODE = re.compile(r"^( *)n(\d+): (\d+) (.*)$")


def main(path):
    lines = open(path).read().split("\n")
    peak = lines.index("heap_tree=peak")
    total = next(int(l.split("=")[1]) for l in lines[peak - 10:peak] if l.startswith("mem_heap_B="))
    sums = collections.Counter()
    stack = []
    for line in lines[peak + 1:]:
        m = NODE.match(line)
        if not m:
            break
        depth, children, size, frame = len(m.group(1)), int(m.group(2)), int(m.group(3)), m.group(4)
        stack = stack[:depth] + [frame]
        if children:
            continue
        calls = " | ".join(stack[1:])
        sums[next((name for name, marker in COMPONENTS if marker in calls), "other")] += size
    print(f"peak heap {total / 1048576:.1f} MiB")
    for name, size in sums.most_common():
        print(f"{size / total * 100:5.1f}% {size / 1024:9.0f} KiB  {name}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: massif_sites.py massif.out.PID")
    main(sys.argv[1])
