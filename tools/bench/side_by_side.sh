#!/usr/bin/env bash
# nocturne next to OpenDHT on this machine, in one run: the same N, value size and numbers of puts
# and gets, back to back (OpenDHT 2.4.12 from Debian's python3-opendht; nocturne's mesh_bench from
# the release build). Prints one Markdown table; docs/performance.md keeps its output.
#   tools/bench/side_by_side.sh                  # N = 32 and 256
#   tools/bench/side_by_side.sh 32 64            # other sizes
# PUTS (200), GETS (1000), VALUE_BYTES (500) change the workload.
#
# OpenDHT is not installed: its .debs (and any library of theirs this machine lacks) are
# downloaded with apt-get download and unpacked under build/opendht/, used through PYTHONPATH and
# LD_LIBRARY_PATH only.
set -euo pipefail
cd "$(dirname "$0")/../.."
sizes=("$@")
[[ ${#sizes[@]} -eq 0 ]] && sizes=(32 256)
puts=${PUTS:-200}
gets=${GETS:-1000}
value_bytes=${VALUE_BYTES:-500}

root=build/opendht/root
if [[ ! -f build/opendht/unpacked ]]; then
    mkdir -p build/opendht/debs "$root"
    # python3-opendht, libopendht2 and those of libopendht2's libraries that are not installed.
    wanted=(python3-opendht libopendht2)
    while read -r dep; do
        if ! dpkg-query -W -f='${Status}' "$dep" 2>/dev/null | grep -q "ok installed"; then
            wanted+=("$dep")
        fi
    done < <(apt-cache depends libopendht2 | awk '/^ *Depends:/ {print $2}' | sort -u)
    (cd build/opendht/debs && apt-get download "${wanted[@]}")
    for deb in build/opendht/debs/*.deb; do dpkg -x "$deb" "$root"; done
    touch build/opendht/unpacked
fi
opendht() {
    PYTHONPATH="$root/usr/lib/python3/dist-packages" \
        LD_LIBRARY_PATH="$root/usr/lib/x86_64-linux-gnu" python3 tools/bench/opendht_bench.py "$@"
}

cmake --preset release >/dev/null
cmake --build --preset release --target mesh_bench >/dev/null
commit=$(git rev-parse --short HEAD)

rows=()
for n in "${sizes[@]}"; do
    common=(--nodes "$n" --puts "$puts" --gets "$gets" --value-bytes "$value_bytes")
    o=$(opendht "${common[@]}")
    m=$(build/release/tools/bench/mesh_bench "${common[@]}" --json)
    rows+=("$(python3 - "$o" "$m" <<'PY'
import json, sys
o, m = (json.loads(a) for a in sys.argv[1:3])
def cell(x, y, f="{:.2f}"):
    return (f + " / " + f).format(x, y)
n = o["nodes"]
print(f"| {n} | OpenDHT | {cell(o['put_p50_ms'], o['put_p95_ms'])} | "
      f"{cell(o['get_p50_ms'], o['get_p95_ms'])} ({o['hits']}/{o['gets']}) | – | "
      f"{o['rss_per_node_kib'] / 1024:.2f} MiB | {o['cpu_s_per_1000_ops']:.2f} s |")
print(f"| {n} | nocturne | {cell(m['put_p50_ms'], m['put_p95_ms'])} | "
      f"{cell(m['get_p50_ms'], m['get_p95_ms'])} ({m['hits']}/{m['gets']}) | "
      f"{cell(m['network_get_p50_ms'], m['network_get_p95_ms'])} "
      f"({m['network_hits']}/{m['network_gets']}) | "
      f"{m['rss_per_node_kib'] / 1024:.2f} MiB | {m['cpu_s_per_1000_ops']:.2f} s |")
print(f"| {n} | ratio nocturne / OpenDHT | {m['put_p50_ms'] / o['put_p50_ms']:.2f}x (p50) | "
      f"{m['get_p50_ms'] / o['get_p50_ms']:.2f}x (p50) | "
      f"{m['network_get_p50_ms'] / o['get_p50_ms']:.2f}x (p50) | "
      f"{m['rss_per_node_kib'] / max(o['rss_per_node_kib'], 1):.2f}x | "
      f"{m['cpu_s_per_1000_ops'] / max(o['cpu_s_per_1000_ops'], 1e-9):.2f}x |")
PY
)")
done

echo "tools/bench/side_by_side.sh ${sizes[*]} (PUTS=$puts GETS=$gets VALUE_BYTES=$value_bytes), commit $commit, $(date -u +%Y-%m-%d), $(nproc) cores"
echo
echo "| N | implementation | put p50 / p95 ms | all gets p50 / p95 ms (hits) | network gets p50 / p95 ms (hits) | RSS per node | CPU per 1,000 ops |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
for r in "${rows[@]}"; do echo "$r"; done
