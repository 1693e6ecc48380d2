// nocturne-sim --gossip: figures for docs/performance.md. Every node hosts the production gossip
// layer as the agent does (dht::Node, trust::TrustState fed by it, gossip::GossipService): the
// revocations are real, signed by three genesis operators and validated by every node.

#include "gossip_run.hpp"

#include <nocturne/dht/node.hpp>
#include <nocturne/gossip/gossip_service.hpp>
#include <nocturne/sim/gossip_peer.hpp>
#include <nocturne/sim/simulation.hpp>
#include <nocturne/store/memory_store.hpp>
#include <nocturne/trust/certificate.hpp>
#include <nocturne/trust/revocation.hpp>
#include <nocturne/trust/trust_state.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <numeric>
#include <random>

#include "anomaly_spread.hpp"
#include "enrolled_agents.hpp"
#include "percentile.hpp"

namespace nocturne::tools {
namespace {

using namespace std::chrono_literals;

using sim::GossipPeer;

}  // namespace

int run_gossip(const GossipRunOptions& opt) {
    const auto wall_start = std::chrono::steady_clock::now();
    sim::SimConfig config;
    config.seed = opt.seed;
    config.latency_min = std::chrono::milliseconds(opt.rtt_ms * 4 / 10);
    config.latency_max = std::chrono::milliseconds(opt.rtt_ms * 6 / 10);
    sim::Simulation sim(config);
    std::mt19937_64 rng(opt.seed);

    trust::Genesis genesis;
    genesis.network = "sim-gossip";
    genesis.revocation_threshold = 3;
    std::vector<crypto::KeyPair> signers;
    // Three signers, and a fourth genesis operator that floods a domain (--anomalies).
    for (std::uint64_t o = 0; o < 4; ++o) {
        signers.push_back(key_of(o, 7));
        genesis.operators.push_back({signers.back().public_key(), "gen" + std::to_string(o), 4});
    }
    gossip::GossipOptions options;

    std::vector<GossipPeer*> peers;
    auto add_peer = [&] {
        NodeId id;
        for (auto& b : id.bytes()) b = static_cast<std::uint8_t>(rng());
        auto node_config = config.node;
        node_config.seed = rng() | 1;
        auto gossip_options = options;
        gossip_options.seed = rng() | 1;
        GossipPeer* made = nullptr;
        const auto index = sim.add_participant(
            id, [&](dht::Transport& t, const NodeId& pid, const std::string& address) {
                auto p = std::make_unique<GossipPeer>(t, pid, address, sim.clock(), genesis,
                                                      node_config, gossip_options);
                made = p.get();
                return p;
            });
        peers.push_back(made);
        return index;
    };
    // Joins in waves of 64, each through a random earlier node (as the other scenarios do).
    add_peer();
    while (peers.size() < opt.nodes) {
        const std::size_t wave_start = peers.size();
        std::size_t done = 0, started = 0;
        for (std::size_t w = 0; w < 64 && peers.size() < opt.nodes; ++w) {
            const auto seed = std::uniform_int_distribution<std::size_t>(0, wave_start - 1)(rng);
            const auto i = add_peer();
            ++started;
            peers[i]->node().bootstrap({sim.contact(seed)}, [&](std::size_t) { ++done; });
        }
        sim.run_for(1h, [&] { return done == started; });
        if (peers.size() % 1000 < 64) std::fprintf(stderr, "joined %zu nodes\n", peers.size());
    }
    sim.run_for(1min);
    std::printf("mesh: %zu nodes, one-way latency %d-%d ms, eager fanout %zu, lazy fanout %zu\n",
                peers.size(), opt.rtt_ms * 4 / 10, opt.rtt_ms * 6 / 10, options.eager_fanout,
                options.lazy_fanout);
    std::fflush(stdout);

    // The node that will be away, and the churn: a fraction of nodes gone without a word, still
    // in the others' routing tables.
    std::vector<std::size_t> order(peers.size());
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), rng);
    const std::size_t away = order[0];
    sim.kill(away);
    const auto dead = static_cast<std::size_t>(opt.churn * static_cast<double>(peers.size()));
    for (std::size_t i = 1; i <= dead; ++i) sim.kill(order[i]);
    std::printf("churn: %zu of %zu nodes dead (%.0f%%), still in routing tables\n", dead,
                peers.size(), opt.churn * 100);
    auto live = [&] {
        std::vector<std::size_t> out;
        for (std::size_t i = 0; i < peers.size(); ++i)
            if (sim.alive(i)) out.push_back(i);
        return out;
    };
    const auto live_nodes = live();

    // The revocations, one at a time, each learned by one random live node as a STORE would
    // hand it over.
    std::vector<wire::Record> revocations;
    std::vector<double> p99s, reach_fractions, max_sends;
    std::vector<double> all_latencies_ms;
    bool ok = true;
    for (std::size_t r = 0; r < opt.revocations; ++r) {
        const auto target = trust::operator_id_of(key_of(1000 + r, 8).public_key());
        const auto now = sim.clock().unix_seconds();
        std::vector<const crypto::KeyPair*> signing;
        for (std::size_t s = 0; s < 3; ++s) signing.push_back(&signers[s]);
        auto rev = trust::create_revocation(genesis.network, target, "sim", now, signing);
        auto record = trust::sign_revocation_record(rev, signers[0], now).value();
        revocations.push_back(record);
        const auto origin =
            live_nodes[std::uniform_int_distribution<std::size_t>(0, live_nodes.size() - 1)(rng)];
        std::vector<std::uint64_t> sent_before(peers.size());
        for (std::size_t i = 0; i < peers.size(); ++i) {
            sent_before[i] = peers[i]->gossip().stats().of(gossip::ItemClass::revocation).forwarded;
        }
        const auto t0 = sim.clock().now();
        (void)peers[origin]->trust().learn(record, now);
        sim.run_for(5s);
        std::vector<double> latency_ms;
        std::size_t reached = 0;
        double max_sent = 0;
        for (const auto i : live_nodes) {
            const auto& learned = peers[i]->learned();
            if (auto it = learned.find(record.sig); it != learned.end()) {
                ++reached;
                latency_ms.push_back(
                    std::chrono::duration<double, std::milli>(it->second - t0).count());
            }
            max_sent = std::max(
                max_sent,
                static_cast<double>(
                    peers[i]->gossip().stats().of(gossip::ItemClass::revocation).forwarded -
                    sent_before[i]));
        }
        all_latencies_ms.insert(all_latencies_ms.end(), latency_ms.begin(), latency_ms.end());
        const double fraction =
            static_cast<double>(reached) / static_cast<double>(live_nodes.size());
        // Nodes not reached count as never (infinitely late) for the percentile.
        std::vector<double> with_missing = latency_ms;
        with_missing.resize(live_nodes.size(), 1e12);
        const double p99 = percentile(with_missing, 0.99);
        reach_fractions.push_back(fraction);
        p99s.push_back(p99);
        max_sends.push_back(max_sent);
        ok = ok && fraction >= 0.999 && p99 <= 1000 && max_sent <= 12;
        std::printf(
            "revocation %zu: reached %zu/%zu live nodes (%.3f%%), p50 %.0f ms, p99 %.0f ms, "
            "max %.0f ms, most whole copies sent by one node %.0f\n",
            r + 1, reached, live_nodes.size(), fraction * 100, percentile(latency_ms, 0.5), p99,
            latency_ms.empty() ? 0.0 : *std::max_element(latency_ms.begin(), latency_ms.end()),
            max_sent);
        std::fflush(stdout);
        sim.run_for(std::chrono::seconds(30));
    }
    std::uint64_t forwarded = 0, announced = 0, duplicates = 0, shed = 0;
    for (const auto i : live_nodes) {
        const auto& s = peers[i]->gossip().stats().of(gossip::ItemClass::revocation);
        forwarded += s.forwarded;
        announced += s.announced;
        duplicates += s.duplicates;
        shed += s.shed;
    }
    const double per_node_item =
        static_cast<double>(live_nodes.size()) * static_cast<double>(opt.revocations);
    std::printf(
        "all %zu revocations: worst reach %.3f%%, worst p99 %.0f ms, median p50 %.0f ms; "
        "per live node and revocation: %.2f whole copies sent, %.2f ids announced, %.2f "
        "duplicates received; shed %llu\n",
        opt.revocations, *std::min_element(reach_fractions.begin(), reach_fractions.end()) * 100,
        *std::max_element(p99s.begin(), p99s.end()), percentile(all_latencies_ms, 0.5),
        static_cast<double>(forwarded) / per_node_item,
        static_cast<double>(announced) / per_node_item,
        static_cast<double>(duplicates) / per_node_item, static_cast<unsigned long long>(shed));

    if (opt.anomalies > 0) {
        ok = spread_anomalies(sim, peers, live_nodes, genesis, signers, opt.anomalies,
                              opt.reaction_seconds, rng) &&
             ok;
    }

    if (opt.away_hours > 0) {
        // The mesh goes on while the node is away; then it comes back with its table and stores
        // as they were, notices the gap at its first tick and catches up.
        const auto away_for = std::chrono::duration_cast<Clock::duration>(
            std::chrono::duration<double, std::ratio<3600>>(opt.away_hours));
        const auto back_at = sim.clock().now() + away_for -
                             std::chrono::seconds(30) * static_cast<long>(opt.revocations);
        sim.run_until(back_at);
        const auto syncs_before = sim.net_stats().sent_by_type;
        sim.revive(away);
        const auto t0 = sim.clock().now();
        auto has_all = [&] {
            return std::all_of(revocations.begin(), revocations.end(), [&](const auto& r) {
                return peers[away]->learned().count(r.sig) != 0;
            });
        };
        sim.run_for(1min, has_all);
        const double ms = std::chrono::duration<double, std::milli>(sim.clock().now() - t0).count();
        const bool back_ok = has_all() && ms <= 3.0 * opt.rtt_ms * 1.2;
        ok = ok && back_ok;
        std::printf(
            "back after %.0f h away: %s %zu missed revocations %.0f ms after its first tick "
            "(%.1f round trips of %d ms)\n",
            opt.away_hours, has_all() ? "had all" : "had NOT all", revocations.size(), ms,
            ms / opt.rtt_ms, opt.rtt_ms);
        (void)syncs_before;
    }
    const auto wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start);
    std::printf("%s; wall time %.0f s, %llu messages\n", ok ? "PASS" : "FAIL", wall.count(),
                static_cast<unsigned long long>(sim.net_stats().sent));
    return ok ? 0 : 1;
}

}  // namespace nocturne::tools
