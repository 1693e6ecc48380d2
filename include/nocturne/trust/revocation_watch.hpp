#pragma once

#include <nocturne/dht/node.hpp>
#include <nocturne/trust/trust_state.hpp>

#include <cstddef>

namespace nocturne::trust {

// A revocation is stored on the k nodes closest to its key. Until the gossip layer floods
// revocations, the other nodes learn of them by looking that key up: for every operator they
// trust, every few minutes (watch_revocations), and for an operator they have just met, at once
// (watch_new_operators), so that a revoked operator's agent gets at most the STOREs in flight at
// its first contact with a node past it. The records found reach the TrustState through the node's
// record policy, like any FIND_VALUE answer. Both return the number of lookups started.
//
// Call on the thread that owns the node: the daemon calls watch_new_operators on every tick.
std::size_t watch_revocations(dht::Node& node, const TrustState& state);
std::size_t watch_new_operators(dht::Node& node, TrustState& state);

}  // namespace nocturne::trust
