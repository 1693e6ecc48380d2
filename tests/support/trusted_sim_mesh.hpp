#pragma once

// A simulated mesh of agents (agent::Agent, the class the daemon runs) in the deterministic
// simulator, all but one of them agents of the test web's genesis operators. Trust and knowledge
// tests build on it.

#include <nocturne/agent/agent.hpp>
#include <nocturne/sim/simulation.hpp>
#include <nocturne/trust/trust_state.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "trust/trust_test_util.hpp"

namespace nocturne::test {

struct TrustedSimOptions {
    std::size_t size = 40;
    std::size_t k = 8;
    std::uint64_t seed = 11;
    std::size_t stranger = 39;             // the node no operator vouches for
    std::int64_t vote_commit_seconds = 0;  // 0: the genesis default
    std::int64_t vote_reveal_seconds = 0;
    std::int64_t claim_seconds = 0;  // 0: the genesis default
    int domain_flood_per_hour = 0;   // 0: the genesis default
};

// Owned by the test's thread, like the simulator.
class TrustedSimMesh {
public:
    struct Peer {
        explicit Peer(crypto::KeyPair node_key) : keys(std::move(node_key)) {}
        crypto::KeyPair keys;
        trust::TrustState* state = nullptr;  // the agent's
        std::string operator_id;             // "" for the stranger
    };

    explicit TrustedSimMesh(TrustedSimOptions options = {}) : options_(options) {
        using namespace std::chrono_literals;
        sim::SimConfig config;
        config.seed = options.seed;
        config.node.k = options.k;
        config.node.rpc_timeout = 2s;
        sim_ = std::make_unique<sim::Simulation>(config);
        for (auto& op : web_.genesis.operators) op.max_agents = 64;
        if (options.vote_commit_seconds > 0) {
            web_.genesis.vote_commit_seconds = options.vote_commit_seconds;
        }
        if (options.vote_reveal_seconds > 0) {
            web_.genesis.vote_reveal_seconds = options.vote_reveal_seconds;
        }
        if (options.claim_seconds > 0) web_.genesis.claim_seconds = options.claim_seconds;
        if (options.domain_flood_per_hour > 0) {
            web_.genesis.anomaly.domain_flood_per_hour = options.domain_flood_per_hour;
        }
        const auto now = sim_->clock().unix_seconds();
        for (std::size_t i = 0; i < options.size; ++i) {
            auto peer =
                std::make_unique<Peer>(trust::test::key(static_cast<std::uint8_t>(100 + i)));
            const auto index = sim_->add_agent(peer->keys, web_.genesis);
            auto& agent = sim_->agent(index);
            peer->state = &agent.trust();
            // Every node but the stranger runs as an agent of one of the genesis operators, as
            // `nocturne-agent enroll` leaves the credentials for the node.
            if (i != options.stranger) {
                const auto& op = web_.genesis_keys[i % 3];
                agent.use_credentials(
                    {web_.agent_record(op, peer->keys, static_cast<int>(i), 1, now)});
                EXPECT_TRUE(agent.standing().has_value()) << i;
                peer->operator_id = trust::operator_id_of(op.public_key());
            }
            if (i > 0) sim_->bootstrap(index, i - 1);
            peers_.push_back(std::move(peer));
        }
    }

    sim::Simulation& sim() { return *sim_; }

    // Starts an asynchronous call with a callback taking result<T> and runs the mesh until it
    // answers (two virtual minutes at most: then the test fails and the answer is a timeout).
    template <class T, class Start>
    result<T> wait(Start start) {
        using namespace std::chrono_literals;
        std::optional<result<T>> out;
        start([&](result<T> r) { out = std::move(r); });
        sim_->run_for(120s, [&] { return out.has_value(); });
        EXPECT_TRUE(out.has_value()) << "no answer";
        if (!out) return make_error_code(errc::timeout);
        return std::move(*out);
    }
    agent::Agent& agent(std::size_t i) { return sim_->agent(i); }
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
