#pragma once

#include <nocturne/crypto/keys.hpp>
#include <nocturne/sim/gossip_peer.hpp>
#include <nocturne/sim/simulation.hpp>
#include <nocturne/trust/genesis.hpp>

#include <cstddef>
#include <random>
#include <vector>

namespace nocturne::tools {

// nocturne-sim --gossip --anomalies: on the gossip mesh, an operator floods a domain; one of the
// domain index's storers reports it (the report, with its 51 signed announcements, is learned
// by a random live node at the violating record's time); three genesis operators sign a
// quarantine once their own nodes have the report and `reaction_seconds` passed, and one of
// them publishes it. Prints when the report and the quarantine reached the live nodes; true when
// both reached >= 99% of them within 90 s of the violating record, every time.
// operators: the three signers and the accused, genesis operators 0-3 of `genesis`.
bool spread_anomalies(sim::Simulation& sim, const std::vector<sim::GossipPeer*>& peers,
                      const std::vector<std::size_t>& live, const trust::Genesis& genesis,
                      const std::vector<crypto::KeyPair>& operators, std::size_t rounds,
                      double reaction_seconds, std::mt19937_64& rng);

}  // namespace nocturne::tools
