#!/usr/bin/env bash
# Builds nocturne-agent (release) and starts a node. Arguments go to `nocturne-agent start`,
# e.g. tools/run-node.sh --home /tmp/node-a
set -euo pipefail
cd "$(dirname "$0")/.."
tools/dev/install-deps.sh --runtime
cmake --preset release >/dev/null
cmake --build --preset release --target nocturne-agent
exec build/release/bin/nocturne-agent start "$@"
