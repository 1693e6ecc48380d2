#!/usr/bin/env bash
# Builds and runs every test: the clang-format check, a bounded fuzz run, every unit and
# integration test under AddressSanitizer + UndefinedBehaviorSanitizer, then a plain debug build
# for what a sanitized build cannot judge (the .deb's contents, the resident memory of a daemon
# under attack) and the MCP shim's tests (mcp-shim/, Node >= 18) against the debug daemon.
#   tools/run-tests.sh           # everything (what CI runs; about 37 minutes on 2 cores)
#   tools/run-tests.sh --quick   # the debug build, all its tests and the shim's
# FUZZ_SECONDS (default 30) bounds the fuzz run. In CI every test runs once, under the sanitizers:
# the whole suite a second time, unsanitized, took CI past its 45 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
quick=0
[[ "${1:-}" == "--quick" ]] && quick=1

step() { printf '\n==> %s\n' "$*"; }
tools/dev/install-deps.sh

if [[ $quick -eq 0 ]]; then
    step "clang-format"
    # shellcheck disable=SC2046
    clang-format --dry-run -Werror $(git ls-files --cached --others --exclude-standard '*.cpp' '*.hpp')

    step "fuzz: build and a bounded run of each target"
    cmake --preset fuzz >/dev/null
    cmake --build --preset fuzz --target fuzz_wire fuzz_api fuzz_peer
    rm -rf build/fuzz-artifacts
    for target in fuzz_wire fuzz_api fuzz_peer; do
        artifacts=build/fuzz-artifacts/$target
        mkdir -p "$artifacts/corpus"
        options=()
        [[ $target == fuzz_wire ]] && options=(-dict=tools/fuzz/wire.dict)
        # fuzz_peer: libFuzzer's entropic scheduling costs more than the target (see its header).
        [[ $target == fuzz_peer ]] && options=(-dict=tools/fuzz/peer.dict -entropic=0)
        if ! build/fuzz/tools/fuzz/$target "${options[@]}" -artifact_prefix="$artifacts/" \
            -max_total_time="${FUZZ_SECONDS:-30}" -print_final_stats=1 "$artifacts/corpus" \
            >"$artifacts/log" 2>&1; then
            tail -n 60 "$artifacts/log"
            echo "$target failed; the crashing input is in $artifacts/" >&2
            exit 1
        fi
        echo "$target: $(grep -E '^Done' "$artifacts/log" || true)"
    done

    step "tests under ASan + UBSan"
    cmake --preset asan >/dev/null
    cmake --build --preset asan
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        ctest --preset asan
fi

step "tests (debug)"
cmake --preset debug >/dev/null
cmake --build --preset debug
if [[ $quick -eq 1 ]]; then
    ctest --preset debug
else
    # The tests whose checks a sanitized build skips: the package's dependencies (a sanitized
    # binary links the sanitizers' runtimes) and a daemon's resident memory (ASan's quarantine
    # and shadow memory make RSS meaningless).
    ctest --preset debug -R '^(Packaging\.|DaemonsUnderAttack\.PeersThatNeverReadAreCutOffAndMemoryStaysBounded$)'
fi

step "MCP shim: npm ci, build, tests against build/debug/bin/nocturne-agent"
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [[ $node_major -lt 18 ]] || ! command -v npm >/dev/null; then
    echo "the MCP shim needs Node.js >= 18 with npm (found: $(node --version 2>/dev/null || echo none))" >&2
    exit 1
fi
mcp-shim/test.sh build/debug/bin/nocturne-agent
