#!/usr/bin/env python3
"""OpenDHT's side of tools/bench/side_by_side.sh: the workload of mesh_bench on OpenDHT.

N DhtRunners in this one process on loopback (each with its own threads, as OpenDHT runs them),
joined through the first; then `--puts` puts of `--value-bytes` random bytes under distinct keys
from random nodes, then `--gets` gets of random stored keys from random nodes. Puts and gets are
OpenDHT's blocking calls (they return when the operation is done). Prints one JSON object.

RSS per node is what the process grew by from before the first node to after the last get,
divided by N; CPU is user + system time of the put and get phases. Needs the `opendht` module,
which side_by_side.sh unpacks from Debian's python3-opendht without installing it.
"""

import argparse
import json
import os
import random
import resource
import time

import opendht as dht


def resident_kib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_seconds():
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


def pct(values, p):
    # The same rule as mesh_bench's pct(): nearest rank over (n - 1).
    if not values:
        return 0.0
    v = sorted(values)
    return v[min(len(v) - 1, int(p * (len(v) - 1) + 0.5))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=32)
    parser.add_argument("--puts", type=int, default=200)
    parser.add_argument("--gets", type=int, default=1000)
    parser.add_argument("--value-bytes", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--settle-seconds", type=float, default=None,
                        help="wait after joining (default 2 + N / 64)")
    args = parser.parse_args()
    rng = random.Random(args.seed)

    rss_before = resident_kib()
    build_start = time.monotonic()
    runners = []
    for i in range(args.nodes):
        r = dht.DhtRunner()
        # IPv4 loopback only: 3 descriptors per runner instead of 4 keeps N = 256 under the
        # select() limit of 1,024 that OpenDHT's network engine has.
        r.run(ipv4="127.0.0.1", port=0)
        if runners:
            r.bootstrap("127.0.0.1", str(runners[rng.randrange(len(runners))].getBound().getPort()))
        runners.append(r)
    time.sleep(args.settle_seconds if args.settle_seconds is not None else 2 + args.nodes / 64)
    build_s = time.monotonic() - build_start

    cpu_start = cpu_seconds()
    keys, values, put_ms = [], [], []
    put_ok = 0
    for i in range(args.puts):
        key = dht.InfoHash.get("bench-%d-%d" % (args.seed, i))
        data = bytes(rng.getrandbits(8) for _ in range(args.value_bytes))
        via = runners[rng.randrange(args.nodes)]
        t = time.perf_counter()
        ok = via.put(key, dht.Value(data))
        put_ms.append((time.perf_counter() - t) * 1000)
        put_ok += 1 if ok else 0
        keys.append(key)
        values.append(data)

    get_ms = []
    hits = 0
    for _ in range(args.gets):
        i = rng.randrange(len(keys))
        via = runners[rng.randrange(args.nodes)]
        t = time.perf_counter()
        found = via.get(keys[i])
        get_ms.append((time.perf_counter() - t) * 1000)
        hits += 1 if any(v.data == values[i] for v in found) else 0
    cpu = cpu_seconds() - cpu_start
    rss_after = resident_kib()

    print(json.dumps({
        "impl": "opendht", "nodes": args.nodes, "value_bytes": args.value_bytes,
        "puts": args.puts, "put_ok": put_ok,
        "put_p50_ms": round(pct(put_ms, 0.5), 3), "put_p95_ms": round(pct(put_ms, 0.95), 3),
        "gets": args.gets, "hits": hits,
        "get_p50_ms": round(pct(get_ms, 0.5), 3), "get_p95_ms": round(pct(get_ms, 0.95), 3),
        "rss_per_node_kib": round((rss_after - rss_before) / args.nodes, 1),
        "cpu_s_per_1000_ops": round(cpu * 1000 / (args.puts + args.gets), 3),
        "build_s": round(build_s, 1),
    }), flush=True)
    # Joining every runner's threads takes long at N = 256 and measures nothing: leave at once.
    os._exit(0)


if __name__ == "__main__":
    main()
