#pragma once

#include <cstddef>
#include <cstdint>

namespace nocturne::tools {

struct VoteRunOptions {
    std::size_t agents = 1000;
    std::size_t entries = 100;
    std::size_t voters = 30;   // per entry, each of another operator
    std::size_t withhold = 6;  // of each vote key's storers, erase everything before the reads
    std::size_t readers = 3;   // tallies read per entry, from random nodes that hold nothing
    std::uint64_t seed = 1;
    int rpc_timeout_ms = 2000;
};

// nocturne-sim --votes: exit code 0 when every tally read matched the votes cast exactly.
int run_votes(const VoteRunOptions& options);

}  // namespace nocturne::tools
