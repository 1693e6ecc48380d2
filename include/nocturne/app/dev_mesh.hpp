#pragma once

// `nocturne-agent dev-mesh N --dir D`: a private mesh to try things on one machine. N homes
// (D/node-0 ...), each with its operator and node keys; a genesis (D/genesis.json) whose
// operators are theirs, so that every node is enrolled at once (no endorsements needed); and the
// command that starts each node on its own ports, the others joining through node 0.

#include <cstdint>
#include <filesystem>
#include <ostream>
#include <string>

namespace nocturne::app {

struct DevMeshOptions {
    int nodes = 3;  // 1-20
    std::filesystem::path dir;
    std::string network;              // default: "dev-" and 8 random hex digits
    std::uint16_t base_port = 47200;  // node i: peers on base + 2i, API on base + 2i + 1
};
// Exit code 0 done; 1 when the directory is not empty or a step fails (and why).
int run_dev_mesh(const DevMeshOptions& opts, std::int64_t now, std::ostream& out,
                 std::ostream& err);

}  // namespace nocturne::app
