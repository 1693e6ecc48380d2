// nocturne-sim --votes: enrolled agents (the class the daemon runs) vote on entries with
// commit-reveal; then `withhold` of each vote key's storers drop everything they hold, and
// readers elsewhere count: the figures of docs/performance.md (messages per vote, time from cast
// to counted, tallies exact).

#include "vote_run.hpp"

#include <nocturne/agent/agent.hpp>
#include <nocturne/knowledge/entry_records.hpp>
#include <nocturne/sim/simulation.hpp>
#include <nocturne/trust/genesis.hpp>
#include <nocturne/wire/identifiers.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <string>

#include "enrolled_agents.hpp"

namespace nocturne::tools {
namespace {

using namespace std::chrono_literals;

// "TYPE n.n, ..." of the messages sent between two snapshots, per vote.
std::string per_vote(const std::map<std::string, std::uint64_t>& before,
                     const std::map<std::string, std::uint64_t>& after, std::size_t votes) {
    std::string out;
    for (const auto& [type, n] : after) {
        const auto it = before.find(type);
        const auto d = n - (it == before.end() ? 0 : it->second);
        if (d == 0) continue;
        char buf[64];
        std::snprintf(
            buf, sizeof buf, "%s%s %.1f", out.empty() ? "" : ", ", type.c_str(),
            static_cast<double>(d) / static_cast<double>(std::max<std::size_t>(votes, 1)));
        out += buf;
    }
    return out;
}

}  // namespace

int run_votes(const VoteRunOptions& opt) {
    const auto wall_start = std::chrono::steady_clock::now();
    sim::SimConfig config;
    config.seed = opt.seed;
    config.node.rpc_timeout = std::chrono::milliseconds(opt.rpc_timeout_ms);
    sim::Simulation sim(config);
    std::mt19937_64 rng(opt.seed);

    // Enough operators that every entry gets `voters` distinct ones (one vote per operator).
    const std::size_t operators =
        std::max<std::size_t>(opt.voters + opt.voters / 2, (opt.agents + 63) / 64);
    trust::Genesis genesis;
    genesis.network = "sim-votes";
    genesis.min_endorsements = 1;
    genesis.revocation_threshold = 1;
    genesis.vote_commit_seconds = 600;
    genesis.vote_reveal_seconds = 300;
    std::vector<crypto::KeyPair> ops;
    for (std::size_t o = 0; o < operators; ++o) {
        ops.push_back(key_of(o, 3));
        genesis.operators.push_back({ops.back().public_key(), "op" + std::to_string(o), 64});
    }
    std::vector<crypto::KeyPair> agents;
    std::vector<std::vector<std::size_t>> agents_of(operators);
    std::map<std::size_t, std::size_t> operator_of;  // agent index -> operator
    // Operators take turns: agent i is operator i % operators'.
    const auto indexes = add_enrolled_agents(
        sim, genesis, ops, [&](std::size_t i) { return i % operators; }, opt.agents, 4, rng,
        agents);
    for (std::size_t i = 0; i < indexes.size(); ++i) {
        agents_of[i % operators].push_back(indexes[i]);
        operator_of[indexes[i]] = i % operators;
    }
    // The first agent joined nobody: it bootstraps now, through the second, as a daemon restarted
    // with a peer would (its certificates then reach the mesh like everyone's).
    if (opt.agents > 1) sim.bootstrap(0, 1);
    sim.run_for(2min);
    std::printf("mesh: %zu enrolled agents of %zu operators, k = %zu, windows %lld s + %lld s\n",
                opt.agents, operators, config.node.k,
                static_cast<long long>(genesis.vote_commit_seconds),
                static_cast<long long>(genesis.vote_reveal_seconds));

    // The entries, each by a random agent.
    for (std::size_t e = 0; e < opt.entries; ++e) {
        const auto author = std::uniform_int_distribution<std::size_t>(0, opt.agents - 1)(rng);
        knowledge::KnowledgeEntry entry;
        entry.id = "e" + std::to_string(e);
        entry.domain = "votes";
        entry.title = "entry " + std::to_string(e);
        entry.content = "content";
        entry.confidence = 0.5;
        entry.author = agents[author].node_id().to_hex();
        entry.operator_id = trust::operator_id_of(ops[author % operators].public_key());
        entry.created = sim.clock().unix_seconds();
        entry.expires = entry.created + 7 * 24 * 3600;
        entry.seq = 1;
        std::optional<dht::PutResult> out;
        sim.node(author).put(knowledge::sign_entry(entry, agents[author]).value(),
                             [&](dht::PutResult r) { out = r; });
        sim.run_for(5min, [&] { return out.has_value(); });
    }

    // The votes: `voters` distinct operators per entry, through one of their agents, all cast
    // while one commit window is open (the run starts at a window's beginning).
    const vote::Windows windows{genesis.vote_commit_seconds, genesis.vote_reveal_seconds};
    // The mesh's own traffic (maintenance, republishing) over a whole commit and reveal window
    // without votes: subtracted from the reveal phase below.
    const auto idle_start = sim.net_stats().sent;
    sim.run_for(std::chrono::seconds(windows.commit_seconds + windows.reveal_seconds));
    const double idle_per_second =
        static_cast<double>(sim.net_stats().sent - idle_start) /
        static_cast<double>(windows.commit_seconds + windows.reveal_seconds);
    sim.run_until(Clock::time_point(std::chrono::seconds(
        windows.commit_start(windows.round_at(sim.clock().unix_seconds()) + 1))));
    std::vector<std::pair<int, int>> expected(opt.entries);        // up, down
    std::vector<std::vector<std::size_t>> voters_of(opt.entries);  // agent indexes
    std::vector<double> cast_to_counted, stored_on;
    std::size_t cast_ok = 0, cast_failed = 0, outstanding = 0;
    const auto before_cast = sim.net_stats().sent;
    const auto cast_types = sim.net_stats().sent_by_type;
    std::vector<std::size_t> order(operators);
    for (std::size_t e = 0; e < opt.entries; ++e) {
        std::iota(order.begin(), order.end(), 0);
        std::shuffle(order.begin(), order.end(), rng);
        for (std::size_t v = 0; v < opt.voters; ++v) {
            const auto& pool = agents_of[order[v]];
            const auto via =
                pool[std::uniform_int_distribution<std::size_t>(0, pool.size() - 1)(rng)];
            const int choice = rng() % 3 == 0 ? -1 : 1;
            ++outstanding;
            const auto cast_at = sim.clock().unix_seconds();
            sim.agent(via).votes().cast(
                "votes", "e" + std::to_string(e), choice, "",
                [&, e, via, choice, cast_at](result<vote::VoteService::Cast> r) {
                    --outstanding;
                    if (!r) {
                        ++cast_failed;
                        std::fprintf(stderr, "cast failed: %s\n", r.error().message().c_str());
                        return;
                    }
                    ++cast_ok;
                    voters_of[e].push_back(via);
                    (choice > 0 ? expected[e].first : expected[e].second) += 1;
                    cast_to_counted.push_back(static_cast<double>(r->counted_by - cast_at));
                    stored_on.push_back(static_cast<double>(r->stored));
                });
        }
    }
    sim.run_for(5min, [&] { return outstanding == 0; });
    const auto cast_messages = sim.net_stats().sent - before_cast;
    const auto cast_by_type = per_vote(cast_types, sim.net_stats().sent_by_type, cast_ok);
    // Through the reveal window: the agents reveal by themselves.
    const auto round = windows.round_at(sim.clock().unix_seconds());
    const auto before_reveal = sim.net_stats().sent;
    const auto types_before = sim.net_stats().sent_by_type;
    const auto reveal_from = sim.clock().unix_seconds();
    sim.run_until(Clock::time_point(std::chrono::seconds(windows.reveal_end(round) + 1)));
    const double reveal_messages =
        static_cast<double>(sim.net_stats().sent - before_reveal) -
        idle_per_second * static_cast<double>(sim.clock().unix_seconds() - reveal_from);
    std::printf(
        "votes: %zu cast (%zu failed); messages per vote: %.1f to commit (entry lookup, "
        "storer lookup, STOREs), %.1f more than the idle mesh sends until the reveal window "
        "closed (the reveal's storer lookup and STOREs); "
        "cast to counted: median %.0f s, max %.0f s\n",
        cast_ok, cast_failed,
        static_cast<double>(cast_messages) / static_cast<double>(std::max<std::size_t>(cast_ok, 1)),
        reveal_messages / static_cast<double>(std::max<std::size_t>(cast_ok, 1)),
        median(cast_to_counted),
        cast_to_counted.empty()
            ? 0.0
            : *std::max_element(cast_to_counted.begin(), cast_to_counted.end()));

    std::printf("  commitments acknowledged by a median of %.0f storers (min %.0f)\n",
                median(stored_on),
                stored_on.empty() ? 0.0 : *std::min_element(stored_on.begin(), stored_on.end()));
    std::printf("  per vote while committing, by type: %s\n", cast_by_type.c_str());
    std::printf("  per vote until the reveal window closed, by type (with the idle mesh's): %s\n",
                per_vote(types_before, sim.net_stats().sent_by_type, cast_ok).c_str());
    // Withholding: `withhold` of each vote key's storers drop everything under it.
    std::size_t exact = 0, reads = 0, complete = 0;
    std::vector<double> storers;
    const auto t = sim.clock().unix_seconds();
    for (std::size_t e = 0; e < opt.entries; ++e) {
        const auto key = prefix_key(wire::key_prefix::vote,
                                    content_key("votes", "e" + std::to_string(e)).to_hex());
        std::vector<std::size_t> holders;
        for (std::size_t i = 0; i < opt.agents; ++i) {
            auto held = sim.store(i).get(key, t);
            if (held && !held->empty()) holders.push_back(i);
        }
        storers.push_back(static_cast<double>(holders.size()));
        std::shuffle(holders.begin(), holders.end(), rng);
        for (std::size_t w = 0; w < opt.withhold && w < holders.size(); ++w) {
            (void)sim.store(holders[w]).erase(key);
        }
        for (std::size_t r = 0; r < opt.readers; ++r) {
            std::size_t via = 0;
            do {
                via = std::uniform_int_distribution<std::size_t>(0, opt.agents - 1)(rng);
            } while (std::find(holders.begin(), holders.end(), via) != holders.end());
            std::optional<result<vote::VoteService::Votes>> out;
            sim.agent(via).votes().votes(
                "votes", "e" + std::to_string(e),
                [&](result<vote::VoteService::Votes> v) { out = std::move(v); });
            sim.run_for(5min, [&] { return out.has_value(); });
            ++reads;
            if (!out || !*out) continue;
            const auto& tally = (*out)->tally;
            if (tally.up == expected[e].first && tally.down == expected[e].second &&
                tally.pending == 0 && tally.abstain == 0) {
                ++exact;
            } else {
                for (const auto voter : voters_of[e]) {
                    const auto op = trust::operator_id_of(ops[operator_of.at(voter)].public_key());
                    const bool seen =
                        std::any_of(tally.voters.begin(), tally.voters.end(),
                                    [&](const vote::Voter& v) { return v.operator_id == op; });
                    if (seen) continue;
                    std::size_t commits = 0, reveals = 0;
                    for (std::size_t i = 0; i < opt.agents; ++i) {
                        auto held = sim.store(i).get(key, t);
                        if (!held) continue;
                        for (const auto& rec : *held) {
                            if (rec.author != sim.agent(voter).keys().public_key()) continue;
                            (rec.slot == "commit" ? commits : reveals) += 1;
                        }
                    }
                    auto standing = sim.agent(via).trust().agent_standing(
                        sim.agent(voter).id(), sim.clock().unix_seconds());
                    std::fprintf(stderr,
                                 "  missing voter agent %zu: commits held %zu, reveals %zu, "
                                 "standing at reader: %s\n",
                                 voter, commits, reveals,
                                 standing ? "ok" : standing.error().message().c_str());
                }
                std::set<std::string> distinct;
                for (const auto voter : voters_of[e]) {
                    distinct.insert(trust::operator_id_of(ops[operator_of.at(voter)].public_key()));
                }
                std::fprintf(stderr, "  voters counted %zu, cast by %zu agents of %zu operators\n",
                             tally.voters.size(), voters_of[e].size(), distinct.size());
                std::fprintf(
                    stderr,
                    "e%zu: counted %d up %d down %d abstain %d pending, cast %d up %d down\n", e,
                    tally.up, tally.down, tally.abstain, tally.pending, expected[e].first,
                    expected[e].second);
            }
            if ((*out)->answered >= (*out)->quorum) ++complete;
        }
    }
    std::printf("vote keys held by a median of %.0f storers; %zu withheld everything at each\n",
                median(storers), opt.withhold);
    std::printf("tallies: %zu/%zu exact, %zu/%zu with a quorum of answers\n", exact, reads,
                complete, reads);
    std::printf(
        "wall time: %.1f s\n",
        std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count());
    return exact == reads && cast_failed == 0 ? 0 : 1;
}

}  // namespace nocturne::tools
