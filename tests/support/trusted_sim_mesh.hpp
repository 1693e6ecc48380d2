#pragma once

// A simulated mesh whose nodes apply the Web of Trust: unmodified dht::Node instances in the
// deterministic simulator, each with its own TrustState and TrustPolicy, all but one of them
// agents of the test web's genesis operators. Trust and knowledge tests build on it.

#include <nocturne/sim/simulation.hpp>
#include <nocturne/store/memory_store.hpp>
#include <nocturne/trust/trust_policy.hpp>
#include <nocturne/trust/trust_state.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "trust/trust_test_util.hpp"

namespace nocturne::test {

struct TrustedSimOptions {
    std::size_t size = 40;
    std::size_t k = 8;
    std::uint64_t seed = 11;
    std::size_t stranger = 39;  // the node no operator vouches for
};

// Owned by the test's thread, like the simulator.
class TrustedSimMesh {
public:
    struct Peer {
        explicit Peer(crypto::KeyPair node_key) : keys(std::move(node_key)) {}
        crypto::KeyPair keys;
        store::MemoryStore trust_store;
        std::unique_ptr<trust::TrustState> state;
        std::unique_ptr<trust::TrustPolicy> policy;
        std::string operator_id;  // "" for the stranger
    };

    explicit TrustedSimMesh(TrustedSimOptions options = {}) : options_(options) {
        using namespace std::chrono_literals;
        sim::SimConfig config;
        config.seed = options.seed;
        config.node.k = options.k;
        config.node.rpc_timeout = 2s;
        sim_ = std::make_unique<sim::Simulation>(config);
        for (auto& op : web_.genesis.operators) op.max_agents = 64;
        const auto now = sim_->clock().unix_seconds();
        for (std::size_t i = 0; i < options.size; ++i) {
            auto peer =
                std::make_unique<Peer>(trust::test::key(static_cast<std::uint8_t>(100 + i)));
            peer->state = std::make_unique<trust::TrustState>(web_.genesis, peer->trust_store, now);
            if (i == 0) {
                sim_->add_node(peer->keys.node_id());
            } else {
                sim_->join(i - 1, peer->keys.node_id());
            }
            peer->policy = std::make_unique<trust::TrustPolicy>(*peer->state, sim_->clock(),
                                                                peer->keys.node_id());
            sim_->node(i).set_policy(peer->policy.get());
            // Every node but the stranger runs as an agent of one of the genesis operators.
            if (i != options.stranger) {
                const auto& op = web_.genesis_keys[i % 3];
                EXPECT_FALSE(peer->state->learn(
                    web_.agent_record(op, peer->keys, static_cast<int>(i), 1, now), now));
                peer->operator_id = trust::operator_id_of(op.public_key());
            }
            peers_.push_back(std::move(peer));
        }
    }

    sim::Simulation& sim() { return *sim_; }
    trust::test::TestWeb& web() { return web_; }
    Peer& peer(std::size_t i) { return *peers_[i]; }
    std::size_t size() const { return peers_.size(); }
    const TrustedSimOptions& options() const { return options_; }

private:
    TrustedSimOptions options_;
    trust::test::TestWeb web_;
    std::unique_ptr<sim::Simulation> sim_;
    std::vector<std::unique_ptr<Peer>> peers_;
};

}  // namespace nocturne::test
