#!/usr/bin/env bash
# Installs the Debian 12 packages nocturne builds with, if any is missing. Safe to run repeatedly:
# when everything is present it only checks (about a second) and touches nothing.
#   tools/dev/install-deps.sh            # build + test dependencies
#   tools/dev/install-deps.sh --runtime  # only what building and running a node needs
set -euo pipefail

build_pkgs=(g++ cmake ninja-build ccache pkg-config git
    libboost1.81-dev libsodium-dev libsqlitecpp-dev libsqlite3-dev nlohmann-json3-dev
    libcli11-dev libspdlog-dev)
test_pkgs=(libgtest-dev libgmock-dev libbenchmark-dev clang clang-format libclang-rt-14-dev
    python3-prometheus-client help2man
    nodejs)

pkgs=("${build_pkgs[@]}")
[[ "${1:-}" == "--runtime" ]] || pkgs+=("${test_pkgs[@]}")

missing=()
for p in "${pkgs[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
# Debian's npm is a package of its own; NodeSource's nodejs (Node >= 20) ships npm inside.
if [[ "${1:-}" != "--runtime" ]] && ! command -v npm >/dev/null; then missing+=(npm); fi
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "installing missing packages: ${missing[*]}" >&2
sudo=()
if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
    sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
