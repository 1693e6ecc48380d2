#pragma once

#include <cstddef>
#include <cstdint>

namespace nocturne::tools {

struct ClaimRunOptions {
    std::size_t agents = 300;
    std::size_t races = 10'000;         // tasks, each raced for by 2-3 agents
    std::size_t tasks_per_round = 100;  // one domain per round
    double loss = 0.1;                  // message loss during the races
    int skew_seconds = 30;              // each agent's clock is off by up to this, either way
    std::size_t partition_every = 4;    // every n-th round runs with the mesh split in two
    std::uint64_t seed = 1;
    int rpc_timeout_ms = 2000;
};

// nocturne-sim --claims: exit code 0 when no task had two winners of one epoch and every task was
// completed or could be claimed again after its claims expired.
int run_claims(const ClaimRunOptions& options);

}  // namespace nocturne::tools
