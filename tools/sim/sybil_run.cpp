// nocturne-sim --sybils: enrolled agents (the class the daemon runs) and a crowd of unenrolled ids
// ground next to target keys (sim::SybilNode), which try to eclipse them: the simulator figure of
// docs/security.md.

#include "sybil_run.hpp"

#include <nocturne/agent/agent.hpp>
#include <nocturne/sim/simulation.hpp>
#include <nocturne/sim/sybil.hpp>
#include <nocturne/trust/genesis.hpp>

#include <chrono>
#include <cstdio>
#include <memory>
#include <random>

#include "enrolled_agents.hpp"

namespace nocturne::tools {
namespace {

using namespace std::chrono_literals;

}  // namespace

int run_sybil(const SybilOptions& opt) {
    const auto wall_start = std::chrono::steady_clock::now();
    sim::SimConfig config;
    config.seed = opt.seed;
    config.node.rpc_timeout = std::chrono::milliseconds(opt.rpc_timeout_ms);
    config.latency_min = 10ms;
    config.latency_max = 100ms;
    sim::Simulation sim(config);
    std::mt19937_64 rng(opt.seed);

    // A genesis with as many operators as the agents need (64 agents each).
    const std::size_t operators = (opt.honest + 63) / 64;
    std::vector<crypto::KeyPair> ops;
    trust::Genesis genesis;
    genesis.network = "sim";
    genesis.min_endorsements = 1;
    genesis.revocation_threshold = 1;
    for (std::size_t o = 0; o < operators; ++o) {
        ops.push_back(key_of(o, 1));
        genesis.operators.push_back({ops.back().public_key(), "op" + std::to_string(o), 64});
    }
    std::vector<crypto::KeyPair> agents;
    agents.reserve(opt.honest);
    // 64 agents per operator, in order.
    add_enrolled_agents(
        sim, genesis, ops, [](std::size_t i) { return i / 64; }, opt.honest, 2, rng, agents);
    sim.run_for(2min);

    // The crowd: unenrolled ids next to each target key, a fifth of the mesh (by default).
    std::vector<NodeId> targets;
    for (std::size_t t = 0; t < opt.targets; ++t) {
        targets.push_back(content_key("sybil", "t" + std::to_string(t)));
    }
    const auto crowd_size = static_cast<std::size_t>(
        opt.sybil_fraction * static_cast<double>(opt.honest) / (1.0 - opt.sybil_fraction));
    sim::SybilCrowd crowd;
    std::vector<sim::SybilNode*> members;
    for (std::size_t s = 0; s < crowd_size; ++s) {
        NodeId id = targets[s % targets.size()];
        for (std::size_t b = NodeId::size - 4; b < NodeId::size; ++b) {
            id[b] = static_cast<std::uint8_t>(rng());
        }
        const auto index =
            sim.add_participant(id, [&, seed = rng()](dht::Transport& transport, const NodeId& nid,
                                                      const std::string& address) {
                auto node = std::make_unique<sim::SybilNode>(crowd, transport, nid, address, seed);
                members.push_back(node.get());
                return node;
            });
        crowd.join(sim.contact(index));
    }
    // Each member introduces itself to the agents nearest its target and to a random sample.
    for (std::size_t s = 0; s < members.size(); ++s) {
        std::vector<wire::Contact> to;
        for (std::size_t j = 0; j < 64; ++j) {
            to.push_back(
                sim.contact(std::uniform_int_distribution<std::size_t>(0, opt.honest - 1)(rng)));
        }
        members[s]->introduce_to(to);
    }
    sim.run_for(2min);
    std::printf(
        "mesh: %zu enrolled agents, %zu unenrolled ids ground next to %zu target keys "
        "(%.0f%% of all nodes), k = %zu\n",
        opt.honest, crowd.size(), opt.targets,
        100.0 * static_cast<double>(crowd.size()) / static_cast<double>(opt.honest + crowd.size()),
        config.node.k);

    // Each target: published at seq 1, then updated to seq 2, by an honest author.
    std::size_t acked = 0, puts = 0;
    std::vector<double> stored;
    for (std::size_t t = 0; t < targets.size(); ++t) {
        const auto author = std::uniform_int_distribution<std::size_t>(0, opt.honest - 1)(rng);
        for (std::uint64_t seq : {1u, 2u}) {
            const auto created = sim.clock().unix_seconds();
            auto r = wire::sign_record(
                         {wire::RecordKind::knowledge, seq, created, created + 7 * 24 * 3600,
                          R"({"domain":"sybil","id":"t)" + std::to_string(t) + "\"}"},
                         agents[author])
                         .value();
            std::optional<dht::PutResult> out;
            sim.node(author).put(r, [&](dht::PutResult res) { out = res; });
            sim.run_for(5min, [&] { return out.has_value(); });
            ++puts;
            if (out && out->ok()) ++acked;
            if (out) stored.push_back(static_cast<double>(out->stored));
        }
    }
    std::sort(stored.begin(), stored.end());
    std::printf("puts: %zu/%zu stored with enrolled acknowledgements (median %.0f storers)\n",
                acked, puts, stored.empty() ? 0.0 : stored[stored.size() / 2]);

    // Readers everywhere: every target found, at seq 2.
    std::size_t reads = 0, newest = 0, found = 0;
    std::vector<double> queried;
    for (std::size_t t = 0; t < targets.size(); ++t) {
        for (std::size_t r = 0; r < opt.reads_per_target; ++r) {
            const auto via = std::uniform_int_distribution<std::size_t>(0, opt.honest - 1)(rng);
            std::optional<dht::LookupResult> out;
            sim.node(via).find_value(targets[t],
                                     [&](dht::LookupResult res) { out = std::move(res); });
            sim.run_for(5min, [&] { return out.has_value(); });
            ++reads;
            if (!out || !out->found()) continue;
            ++found;
            queried.push_back(static_cast<double>(out->queried));
            if (out->records.size() == 1 && out->records[0].seq == 2) ++newest;
        }
    }
    std::sort(queried.begin(), queried.end());
    std::printf(
        "reads: %zu/%zu found, %zu/%zu at the newest seq (requests per read: median %.0f)\n", found,
        reads, newest, reads, queried.empty() ? 0.0 : queried[queried.size() / 2]);
    std::printf(
        "wall time: %.1f s\n",
        std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count());
    return newest == reads && acked == puts ? 0 : 1;
}

}  // namespace nocturne::tools
