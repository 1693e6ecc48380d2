// nocturne-sim: grows a mesh of unmodified DHT nodes on a simulated network, stores values, then
// measures lookups (optionally after killing nodes, under loss, under churn or a partition).
// Deterministic for a given --seed.
//
//   build/release/bin/nocturne-sim --nodes 10000 --lookups 2000
//   build/release/bin/nocturne-sim --nodes 10000 --kill 0.25
//   build/release/bin/nocturne-sim --nodes 10000 --loss 0.10

#include <nocturne/crypto/keys.hpp>
#include <nocturne/sim/simulation.hpp>
#include <nocturne/wire/record.hpp>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <numeric>

#include "claim_run.hpp"
#include "gossip_run.hpp"
#include "percentile.hpp"
#include "sybil_run.hpp"
#include "vote_run.hpp"

namespace {

using namespace nocturne;
using namespace std::chrono_literals;
using tools::percentile;

struct Options {
    std::size_t nodes = 1000;
    std::size_t values = 200;
    std::size_t lookups = 1000;
    std::uint64_t seed = 1;
    double kill = 0.0;
    double loss = 0.0;
    double churn_per_minute = 0.0;  // nodes replaced per virtual minute while measuring
    bool partition = false;
    int latency_min_ms = 10;
    int latency_max_ms = 100;
    int rpc_timeout_ms = 2000;
};

int run(const Options& opt) {
    sim::SimConfig config;
    config.seed = opt.seed;
    config.latency_min = std::chrono::milliseconds(opt.latency_min_ms);
    config.latency_max = std::chrono::milliseconds(opt.latency_max_ms);
    config.node.rpc_timeout = std::chrono::milliseconds(opt.rpc_timeout_ms);
    sim::Simulation sim(config);
    auto& rng = sim.rng();
    auto pick = [&](std::size_t n) {
        return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng);
    };
    auto pick_live = [&] {
        for (;;) {
            const auto i = pick(sim.size());
            if (sim.alive(i)) return i;
        }
    };

    const auto wall_start = std::chrono::steady_clock::now();
    sim.add_node();
    while (sim.size() < opt.nodes) {
        sim.join(pick(sim.size()));
        if (sim.size() % 1000 == 0) std::fprintf(stderr, "joined %zu nodes\n", sim.size());
    }
    const auto built_messages = sim.net_stats().delivered;
    std::printf("mesh: %zu nodes built with %llu messages (%.1f per join)\n", sim.size(),
                static_cast<unsigned long long>(built_messages),
                static_cast<double>(built_messages) / static_cast<double>(opt.nodes));

    // Values, each from a random publisher.
    const auto author = crypto::KeyPair::from_seed(crypto::Seed{42});
    std::vector<wire::Record> records;
    std::size_t put_ok = 0;
    for (std::size_t v = 0; v < opt.values; ++v) {
        const auto now = sim.clock().unix_seconds();
        auto r = wire::sign_record({wire::RecordKind::knowledge, 1, now, now + 30 * 24 * 3600,
                                    R"({"domain":"sim","id":"v)" + std::to_string(v) + "\"}"},
                                   author)
                     .value();
        bool done = false;
        sim.node(pick(sim.size())).put(r, [&](dht::PutResult res) {
            done = true;
            if (res.stored >= 1) ++put_ok;
        });
        sim.run_for(5min, [&] { return done; });
        records.push_back(std::move(r));
    }
    std::printf("stored: %zu/%zu values\n", put_ok, opt.values);

    if (opt.kill > 0) {
        std::vector<std::size_t> order(sim.size());
        std::iota(order.begin(), order.end(), 0);
        std::shuffle(order.begin(), order.end(), rng);
        const auto n = static_cast<std::size_t>(opt.kill * static_cast<double>(sim.size()));
        for (std::size_t i = 0; i < n; ++i) sim.kill(order[i]);
        std::printf("killed: %zu nodes (%.0f%%), no time given to repair\n", n, opt.kill * 100);
    }
    if (opt.partition) {
        for (std::size_t i = 0; i < sim.size(); ++i) sim.set_group(i, i % 2 == 0 ? 0 : 1);
        std::printf("partition: two halves that cannot reach each other\n");
    }
    if (opt.loss > 0) {
        sim.set_loss(opt.loss);
        std::printf("loss: %.0f%% of messages dropped while measuring\n", opt.loss * 100);
    }

    std::vector<double> hops, latency_ms, messages;
    std::size_t found = 0, node_ok = 0;
    std::map<std::size_t, std::size_t> hop_histogram;
    const auto sent_before = sim.net_stats().sent;
    const auto measure_start = sim.clock().now();
    const auto by_type_before = sim.net_stats().sent_by_type;
    auto next_churn = sim.clock().now();
    std::size_t replaced = 0;
    for (std::size_t l = 0; l < opt.lookups; ++l) {
        if (opt.churn_per_minute > 0 && sim.clock().now() >= next_churn) {
            next_churn = sim.clock().now() +
                         std::chrono::milliseconds(static_cast<long>(60000 / opt.churn_per_minute));
            sim.kill(pick_live());
            sim.join(pick_live());
            ++replaced;
        }
        const auto via = pick_live();
        const bool value_lookup = l % 2 == 0;
        std::optional<dht::LookupResult> result;
        const auto start = sim.clock().now();
        if (value_lookup) {
            const auto& r = records[pick(records.size())];
            sim.node(via).find_value(r.key,
                                     [&](dht::LookupResult res) { result = std::move(res); });
        } else {
            NodeId target;
            for (auto& b : target.bytes()) b = static_cast<std::uint8_t>(rng());
            sim.node(via).find_node(target, [&, target](dht::LookupResult res) {
                // Success: the closest live node reachable from here was found.
                const auto best = sim.closest_live(target);
                if (!res.closest.empty() && res.closest[0].id == sim.node(best).id()) ++node_ok;
                result = std::move(res);
            });
        }
        sim.run_for(5min, [&] { return result.has_value(); });
        if (!result) continue;
        const double ms =
            std::chrono::duration<double, std::milli>(sim.clock().now() - start).count();
        if (value_lookup) {
            if (!result->found()) continue;
            ++found;
            hops.push_back(static_cast<double>(result->hops));
            ++hop_histogram[result->hops];
            latency_ms.push_back(ms);
            messages.push_back(static_cast<double>(result->queried));
        }
    }
    const std::size_t value_lookups = (opt.lookups + 1) / 2, node_lookups = opt.lookups / 2;
    if (opt.churn_per_minute > 0) {
        std::printf("churn: %zu nodes killed and %zu joined while measuring\n", replaced, replaced);
    }
    const auto sent = sim.net_stats().sent - sent_before;
    std::printf("value lookups: %zu/%zu found (%.2f%%)\n", found, value_lookups,
                100.0 * static_cast<double>(found) / static_cast<double>(value_lookups));
    if (!opt.partition) {
        std::printf("node lookups: %zu/%zu found the closest live node (%.2f%%)\n", node_ok,
                    node_lookups,
                    100.0 * static_cast<double>(node_ok) / static_cast<double>(node_lookups));
    }
    std::printf("hops (value lookups): median %.0f, p95 %.0f, max %.0f; histogram:",
                percentile(hops, 0.5), percentile(hops, 0.95), percentile(hops, 1.0));
    for (const auto& [h, n] : hop_histogram) std::printf(" %zu:%zu", h, n);
    std::printf(
        "\nrequests per value lookup (each answered by one response): median %.0f, p95 %.0f\n",
        percentile(messages, 0.5), percentile(messages, 0.95));
    // Everything sent while measuring, lookups and the nodes' own maintenance (bucket refresh,
    // eviction pings, replication), per node and virtual minute: maintenance is driven by time,
    // so dividing it by the number of lookups would say nothing.
    const double minutes =
        std::chrono::duration<double>(sim.clock().now() - measure_start).count() / 60.0;
    std::printf(
        "all traffic while measuring: %.1f messages per node per virtual minute "
        "(%.1f virtual minutes)\n",
        static_cast<double>(sent) / static_cast<double>(sim.size()) / std::max(minutes, 1e-9),
        minutes);
    std::printf("messages while measuring, by type:");
    for (const auto& [type, n] : sim.net_stats().sent_by_type) {
        const auto before = by_type_before.count(type) ? by_type_before.at(type) : 0;
        std::printf(" %s:%llu", type.c_str(), static_cast<unsigned long long>(n - before));
    }
    std::printf("\n");
    std::printf("simulated latency (value lookups): p50 %.0f ms, p95 %.0f ms, p99 %.0f ms\n",
                percentile(latency_ms, 0.5), percentile(latency_ms, 0.95),
                percentile(latency_ms, 0.99));
    std::printf(
        "wall time: %.1f s\n",
        std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App cli{"nocturne-sim: deterministic simulation of a nocturne DHT mesh"};
    Options opt;
    cli.add_option("--nodes", opt.nodes, "Mesh size")->check(CLI::Range(2, 200000));
    cli.add_option("--values", opt.values, "Values stored before measuring")
        ->check(CLI::Range(1, 100000));
    cli.add_option("--lookups", opt.lookups, "Lookups to measure (half value, half node)")
        ->check(CLI::Range(1, 1000000));
    cli.add_option("--seed", opt.seed, "Random seed (runs repeat exactly)");
    cli.add_option("--kill", opt.kill, "Fraction of nodes killed after storing")
        ->check(CLI::Range(0.0, 0.9));
    cli.add_option("--loss", opt.loss, "Message loss while measuring")->check(CLI::Range(0.0, 0.9));
    cli.add_option("--churn", opt.churn_per_minute,
                   "Nodes replaced per virtual minute while measuring")
        ->check(CLI::Range(0.0, 10000.0));
    cli.add_flag("--partition", opt.partition, "Split the mesh in two halves while measuring");
    cli.add_option("--latency-min-ms", opt.latency_min_ms)->check(CLI::Range(0, 10000));
    cli.add_option("--latency-max-ms", opt.latency_max_ms)->check(CLI::Range(0, 10000));
    cli.add_option("--rpc-timeout-ms", opt.rpc_timeout_ms)->check(CLI::Range(1, 600000));
    // The Sybil scenario: --nodes enrolled agents (not bare nodes) and a crowd next to targets.
    double sybils = 0.0;
    nocturne::tools::SybilOptions sybil;
    cli.add_option("--sybils", sybils,
                   "Fraction of all nodes that are unenrolled ids ground next to target keys "
                   "(runs the Sybil scenario with enrolled agents)")
        ->check(CLI::Range(0.0, 0.9));
    cli.add_option("--targets", sybil.targets, "Target keys of the Sybil scenario")
        ->check(CLI::Range(1, 100000));
    cli.add_option("--reads-per-target", sybil.reads_per_target)->check(CLI::Range(1, 10000));
    bool votes = false;
    nocturne::tools::VoteRunOptions vote_run;
    cli.add_flag("--votes", votes,
                 "Run the voting scenario: --nodes enrolled agents vote on entries, some storers "
                 "withhold, readers count");
    cli.add_option("--entries", vote_run.entries, "Entries voted on (--votes)")
        ->check(CLI::Range(1, 100000));
    cli.add_option("--voters", vote_run.voters, "Voters per entry, each of another operator")
        ->check(CLI::Range(1, 1000));
    cli.add_option("--withhold", vote_run.withhold, "Storers per vote key that drop its votes")
        ->check(CLI::Range(0, 20));
    bool claims = false;
    nocturne::tools::ClaimRunOptions claim_run;
    cli.add_flag("--claims", claims,
                 "Run the compute-task scenario: --nodes enrolled agents with skewed clocks race "
                 "for tasks under loss and partitions");
    cli.add_option("--races", claim_run.races, "Tasks raced for (--claims)")
        ->check(CLI::Range(1, 1000000));
    cli.add_option("--skew", claim_run.skew_seconds, "Clock skew of each agent, +-seconds")
        ->check(CLI::Range(0, 120));
    bool gossip = false;
    nocturne::tools::GossipRunOptions gossip_run;
    cli.add_flag("--gossip", gossip,
                 "Run the gossip scenario: revocations spread through --nodes nodes with --dead "
                 "of them dead, then a node back after --away-hours catches up");
    cli.add_option("--revocations", gossip_run.revocations, "Revocations spread (--gossip)")
        ->check(CLI::Range(1, 10000));
    cli.add_option("--dead", gossip_run.churn, "Fraction of nodes dead while spreading (--gossip)")
        ->check(CLI::Range(0.0, 0.9));
    cli.add_option("--anomalies", gossip_run.anomalies,
                   "Anomaly reports and their quarantines spread after the revocations (--gossip)")
        ->check(CLI::Range(0, 1000));
    cli.add_option("--reaction-seconds", gossip_run.reaction_seconds,
                   "How long the quarantine's signers take once their nodes have the report "
                   "(--gossip --anomalies)")
        ->check(CLI::Range(0.0, 3600.0));
    cli.add_option("--away-hours", gossip_run.away_hours,
                   "How long the returning node was away (--gossip; 0: skip)")
        ->check(CLI::Range(0.0, 24.0 * 30));
    CLI11_PARSE(cli, argc, argv);
    if (gossip) {
        gossip_run.nodes = opt.nodes;
        gossip_run.seed = opt.seed;
        return nocturne::tools::run_gossip(gossip_run);
    }
    if (claims) {
        claim_run.agents = opt.nodes;
        claim_run.seed = opt.seed;
        claim_run.rpc_timeout_ms = opt.rpc_timeout_ms;
        if (opt.loss > 0) claim_run.loss = opt.loss;
        return nocturne::tools::run_claims(claim_run);
    }
    if (votes) {
        vote_run.agents = opt.nodes;
        vote_run.seed = opt.seed;
        vote_run.rpc_timeout_ms = opt.rpc_timeout_ms;
        return nocturne::tools::run_votes(vote_run);
    }
    if (sybils > 0) {
        sybil.honest = opt.nodes;
        sybil.sybil_fraction = sybils;
        sybil.seed = opt.seed;
        sybil.rpc_timeout_ms = opt.rpc_timeout_ms;
        return nocturne::tools::run_sybil(sybil);
    }
    if (opt.latency_max_ms < opt.latency_min_ms) {
        std::fprintf(stderr, "nocturne-sim: --latency-max-ms must be >= --latency-min-ms\n");
        return 2;
    }
    return run(opt);
}
