// nocturne-sim --claims: enrolled agents (the class the daemon runs), clocks skewed by up to
// +-skew seconds, race for compute tasks under message loss, every few rounds with the mesh split
// in two. Winners complete, release or abandon their task; at the end, past every claim's expiry,
// each task that is not completed must be claimable again: the figures of docs/performance.md.

#include "claim_run.hpp"

#include <nocturne/compute/compute_service.hpp>
#include <nocturne/sim/simulation.hpp>
#include <nocturne/trust/genesis.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>

#include "enrolled_agents.hpp"

namespace nocturne::tools {
namespace {

using namespace std::chrono_literals;

struct Race {
    std::string domain;
    std::string id;
    std::map<std::uint64_t, std::set<std::size_t>> winners;  // epoch -> agents that won it
    bool completed = false;
};

}  // namespace

int run_claims(const ClaimRunOptions& opt) {
    const auto wall_start = std::chrono::steady_clock::now();
    sim::SimConfig config;
    config.seed = opt.seed;
    config.node.rpc_timeout = std::chrono::milliseconds(opt.rpc_timeout_ms);
    sim::Simulation sim(config);
    std::mt19937_64 rng(opt.seed);

    // Four agents per operator: an operator's agents share its bound on open claims.
    const std::size_t operators = std::max<std::size_t>(10, opt.agents / 4);
    trust::Genesis genesis;
    genesis.network = "sim-claims";
    genesis.min_endorsements = 1;
    genesis.revocation_threshold = 1;
    genesis.claim_seconds = 300;
    std::vector<crypto::KeyPair> ops;
    for (std::size_t o = 0; o < operators; ++o) {
        ops.push_back(key_of(o, 5));
        genesis.operators.push_back({ops.back().public_key(), "op" + std::to_string(o), 64});
    }
    std::vector<crypto::KeyPair> keys;
    std::vector<Clock::duration> skews;
    const auto indexes = add_enrolled_agents(
        sim, genesis, ops, [&](std::size_t i) { return i % operators; }, opt.agents, 6, rng, keys,
        [&](std::size_t) {
            const auto s = std::chrono::milliseconds(std::uniform_int_distribution<int>(
                -opt.skew_seconds * 1000, opt.skew_seconds * 1000)(rng));
            skews.push_back(s);
            return s;
        });
    if (opt.agents > 1) sim.bootstrap(0, 1);
    sim.run_for(2min);
    const auto& rules = sim.agent(0).compute().options().rules;
    std::printf(
        "mesh: %zu enrolled agents of %zu operators, k = %zu, clocks skewed uniformly within "
        "+-%d s, claims hold %lld s (+%lld s grace)\n",
        opt.agents, operators, config.node.k, opt.skew_seconds,
        static_cast<long long>(rules.claim_seconds), static_cast<long long>(rules.grace_seconds));

    std::vector<Race> races;
    std::size_t claims = 0, won = 0, no_winner = 0, double_winners = 0, refused_claimed = 0,
                refused_other = 0, partitioned_rounds = 0, submitted = 0, submit_failed = 0,
                released = 0, abandoned = 0;
    std::map<std::string, std::size_t> refusal_codes, submit_refusals;
    std::vector<double> claim_seconds;
    std::uint64_t claim_messages = 0;
    std::size_t no_winner_split = 0;
    const std::size_t rounds = (opt.races + opt.tasks_per_round - 1) / opt.tasks_per_round;
    for (std::size_t round = 0; round < rounds; ++round) {
        const auto domain = "claims-" + std::to_string(round);
        const auto first = races.size();
        const auto count = std::min(opt.tasks_per_round, opt.races - first);
        // The tasks, each published by a random agent (without loss: the races are the test).
        sim.set_loss(0.0);
        std::size_t outstanding = 0;
        for (std::size_t t = 0; t < count; ++t) {
            const auto via = indexes[rng() % indexes.size()];
            ++outstanding;
            sim.agent(via).compute().publish(
                domain, "task " + std::to_string(first + t), "", "t" + std::to_string(first + t),
                [&, domain](result<compute::Task> task) {
                    --outstanding;
                    if (task) races.push_back(Race{domain, task->id, {}, false});
                });
        }
        sim.run_for(5min, [&] { return outstanding == 0; });

        // The races: 2 or 3 agents of distinct operators per task, all at once.
        const bool partition =
            opt.partition_every > 0 && round % opt.partition_every == opt.partition_every - 1;
        if (partition) {
            ++partitioned_rounds;
            for (const auto i : indexes) sim.set_group(i, static_cast<int>(rng() % 2));
        }
        sim.set_loss(opt.loss);
        std::vector<std::vector<std::size_t>> contenders(races.size());
        for (std::size_t r = first; r < races.size(); ++r) {
            const std::size_t n = 2 + rng() % 2;
            std::set<std::size_t> ops_used;
            while (contenders[r].size() < n) {
                const auto via = indexes[rng() % indexes.size()];
                if (ops_used.insert(via % operators).second) contenders[r].push_back(via);
            }
            for (const auto via : contenders[r]) {
                ++claims;
                ++outstanding;
                const auto start = sim.clock().now();
                sim.agent(via).compute().claim(
                    races[r].domain, races[r].id,
                    [&, r, via, start](result<compute::ComputeService::Held> h) {
                        --outstanding;
                        if (h) {
                            races[r].winners[h->epoch].insert(via);
                            claim_seconds.push_back(
                                std::chrono::duration<double>(sim.clock().now() - start).count());
                        } else if (h.error() == errc::task_claimed) {
                            ++refused_claimed;
                        } else {
                            ++refused_other;
                            ++refusal_codes[errc_name(
                                errc_of(h.error().code(), errc::internal_error))];
                        }
                    });
            }
        }
        const auto sent_at_claims = sim.net_stats().sent;
        sim.run_for(10min, [&] { return outstanding == 0; });
        claim_messages += sim.net_stats().sent - sent_at_claims;
        sim.heal();
        // Winners: most complete the task, some release it, some abandon it (crash).
        for (std::size_t r = first; r < races.size(); ++r) {
            auto& race = races[r];
            std::size_t winners_this_round = 0;
            for (const auto& [epoch, agents] : race.winners) {
                if (agents.size() > 1) ++double_winners;
                winners_this_round += agents.size();
            }
            if (winners_this_round == 0) {
                ++(partition ? no_winner_split : no_winner);
                continue;
            }
            ++won;
            const auto epoch = race.winners.rbegin()->first;
            const auto via = *race.winners.rbegin()->second.begin();
            const auto action = rng() % 10;
            if (action < 6) {
                // Completes it: publishes the answer, submits it.
                ++outstanding;
                knowledge::EntryDraft draft;
                draft.domain = race.domain;
                draft.id = "answer-" + race.id;
                draft.title = "answer";
                draft.content = "done";
                sim.agent(via).knowledge().publish(
                    std::move(draft), [&, r, via, epoch](result<knowledge::PublishOutcome> p) {
                        if (!p) {
                            --outstanding;
                            ++submit_failed;
                            return;
                        }
                        sim.agent(via).compute().submit(
                            races[r].id, epoch, "answer-" + races[r].id, races[r].domain,
                            [&, r](result<compute::ComputeService::Submitted> s) {
                                --outstanding;
                                if (s) {
                                    races[r].completed = true;
                                    ++submitted;
                                } else {
                                    ++submit_failed;
                                    ++submit_refusals[errc_name(
                                        errc_of(s.error().code(), errc::internal_error))];
                                }
                            });
                    });
            } else if (action < 8) {
                ++released;
                sim.agent(via).compute().release(race.id, epoch, [](result<std::size_t>) {});
            } else {
                ++abandoned;
            }
        }
        sim.run_for(10min, [&] { return outstanding == 0; });
        if ((round + 1) % 10 == 0) {
            std::fprintf(stderr, "round %zu: %zu races, %zu double winners\n", round + 1,
                         races.size(), double_winners);
        }
    }

    // Past every claim's expiry (and grace, and the widest skew): each task is completed or can
    // be claimed again, by an agent that never raced for it (a few tries, since loss goes on).
    sim.run_for(std::chrono::seconds(rules.claim_seconds + rules.grace_seconds +
                                     2 * opt.skew_seconds + 10));
    std::size_t completed = 0, reclaimed = 0, lost = 0, completed_unreported = 0;
    std::vector<std::size_t> pending;
    for (std::size_t r = 0; r < races.size(); ++r) {
        if (races[r].completed) {
            ++completed;
        } else {
            pending.push_back(r);
        }
    }
    // A claim whose release was lost holds its storers until it expires: then the task must be
    // claimable. Three rounds, each past a whole claim's life for what was still held.
    std::map<std::string, std::size_t> last_refusal;
    for (int phase = 0; phase < 3 && !pending.empty(); ++phase) {
        std::size_t outstanding = 0;
        std::vector<std::size_t> failed;
        bool held = false;
        for (const auto r : pending) {
            const auto via =
                indexes[(r * 7919 + static_cast<std::size_t>(phase) * 104729) % indexes.size()];
            ++outstanding;
            sim.agent(via).compute().claim(
                races[r].domain, races[r].id, [&, r, via](result<compute::ComputeService::Held> h) {
                    --outstanding;
                    if (h) {
                        ++reclaimed;
                        races[r].winners[h->epoch].insert(via);
                        if (races[r].winners[h->epoch].size() > 1) ++double_winners;
                        sim.agent(via).compute().release(races[r].id, h->epoch,
                                                         [](result<std::size_t>) {});
                        return;
                    }
                    held |= h.error() == errc::task_claimed;
                    if (h.error() == errc::task_closed || h.error() == errc::not_found) {
                        // Completed after all (a winner whose acknowledgements were lost), or
                        // closed by its creators: the storers' records decide.
                        ++outstanding;
                        sim.agent(via).compute().state(
                            races[r].id, {}, [&, r](compute::TaskState st, std::size_t) {
                                --outstanding;
                                if (st.status == compute::TaskState::Status::completed) {
                                    ++completed;
                                    ++completed_unreported;
                                } else {
                                    failed.push_back(r);
                                }
                            });
                        return;
                    }
                    failed.push_back(r);
                    ++last_refusal[errc_name(errc_of(h.error().code(), errc::internal_error))];
                });
        }
        sim.run_for(30min, [&] { return outstanding == 0; });
        pending = std::move(failed);
        if (held) {
            sim.run_for(std::chrono::seconds(rules.claim_seconds + rules.grace_seconds +
                                             2 * opt.skew_seconds + 10));
        }
        if (phase < 2) last_refusal.clear();
    }
    lost = pending.size();
    for (const auto& [code, n] : last_refusal) {
        std::fprintf(stderr, "lost: %zu refused %s\n", n, code.c_str());
    }

    std::printf(
        "races: %zu tasks, %zu claims (2-3 agents per task, at once), %zu rounds of which %zu "
        "with the mesh split in two, loss %.0f%%\n",
        races.size(), claims, rounds, partitioned_rounds, opt.loss * 100);
    std::printf(
        "  outcome: %zu tasks with one winner, %zu with none (%zu of them while the mesh was "
        "split: no side holds a quorum of a task's storers), %zu double winners; %zu losers told "
        "task_claimed, %zu other refusals",
        won, no_winner + no_winner_split, no_winner_split, double_winners, refused_claimed,
        refused_other);
    for (const auto& [code, n] : refusal_codes) std::printf(" %s=%zu", code.c_str(), n);
    std::printf(
        "\n  claim to won: median %.2f s; messages the whole mesh sent while claims were in "
        "flight, per claim: %.0f\n",
        median(claim_seconds),
        static_cast<double>(claim_messages) /
            static_cast<double>(std::max<std::size_t>(claims, 1)));
    std::printf("  winners: %zu completed (%zu submits failed", submitted, submit_failed);
    for (const auto& [code, n] : submit_refusals) std::printf(" %s=%zu", code.c_str(), n);
    std::printf("), %zu released, %zu abandoned\n", released, abandoned);
    std::printf(
        "after expiry: %zu completed (%zu of them by a submit that reported failure), %zu claimed "
        "again, %zu lost (neither completed nor claimable in 3 tries, each past a claim's "
        "life)\n",
        completed, completed_unreported, reclaimed, lost);
    std::printf(
        "wall time: %.1f s\n",
        std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count());
    return double_winners == 0 && lost == 0 ? 0 : 1;
}

}  // namespace nocturne::tools
