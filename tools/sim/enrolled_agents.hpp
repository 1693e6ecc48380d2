#pragma once

// What the simulator's scenarios share: keys derived from numbers (runs repeat exactly) and a
// mesh of enrolled agents, the class the daemon runs.

#include <nocturne/crypto/keys.hpp>
#include <nocturne/sim/simulation.hpp>
#include <nocturne/trust/genesis.hpp>

#include <cstdint>
#include <functional>
#include <random>
#include <vector>

namespace nocturne::tools {

// The median of a sample (0 when empty): the figures scenarios report.
double median(std::vector<double> values);

// The key numbered n of a kind (each scenario numbers its operators and agents in kinds of its
// own).
crypto::KeyPair key_of(std::uint64_t n, std::uint8_t kind);

// Adds `count` agents with keys key_of(i, kind) (appended to `keys`): agent i is enrolled by
// ops[operator_of(i)], in that operator's next slot, for a year; they join in waves of 64, each
// through a random agent of the earlier waves (drawn from rng). Returns their simulator indexes.
// skew_of: agent i's clock skew (none when empty).
std::vector<std::size_t> add_enrolled_agents(
    sim::Simulation& sim, const trust::Genesis& genesis, const std::vector<crypto::KeyPair>& ops,
    const std::function<std::size_t(std::size_t)>& operator_of, std::size_t count,
    std::uint8_t kind, std::mt19937_64& rng, std::vector<crypto::KeyPair>& keys,
    const std::function<Clock::duration(std::size_t)>& skew_of = {});

}  // namespace nocturne::tools
