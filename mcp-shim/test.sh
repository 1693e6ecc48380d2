#!/usr/bin/env bash
# Builds the nocturne-mesh MCP shim and runs its tests against a real daemon binary.
# usage: mcp-shim/test.sh /path/to/nocturne-agent
set -euo pipefail

if [[ $# -lt 1 || -z "$1" ]]; then
    echo "usage: $0 /path/to/nocturne-agent" >&2
    exit 2
fi
# Absolute, because npm runs the tests from this folder.
agent_bin="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
if [[ ! -x "$agent_bin" ]]; then
    echo "$0: $1 is not an executable nocturne-agent binary" >&2
    exit 1
fi

cd "$(dirname "${BASH_SOURCE[0]}")"
npm ci --no-audit --no-fund
npm run build
# Every daemon of the tests runs on this host: loopback peers count as separate networks.
NOCTURNE_LOOPBACK_PEERS=1 NOCTURNE_AGENT_BIN="$agent_bin" npm test
