#pragma once

#include <cstddef>
#include <cstdint>

namespace nocturne::tools {

struct SybilOptions {
    std::size_t honest = 8000;
    double sybil_fraction = 0.2;  // of all nodes
    std::size_t targets = 100;
    std::size_t reads_per_target = 10;
    std::uint64_t seed = 1;
    int rpc_timeout_ms = 2000;
};

// Exit code 0 when every put counted enrolled acknowledgements and every read found its record at
// the newest seq.
int run_sybil(const SybilOptions& options);

}  // namespace nocturne::tools
