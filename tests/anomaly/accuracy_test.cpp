#include <nocturne/anomaly/accuracy_monitor.hpp>
#include <nocturne/api/knowledge_json.hpp>
#include <nocturne/vote/ballot.hpp>

#include <gtest/gtest.h>

#include <random>

#include "support/trusted_sim_mesh.hpp"

namespace nocturne::anomaly {
namespace {

TEST(AccuracyMonitor, AnHonestVoterWhoDisagreesNowAndThenRaisesNothing) {
    AccuracyMonitor m;
    std::mt19937 rng(7);
    std::bernoulli_distribution disagrees(0.25);
    for (int i = 0; i < 20'000; ++i) {
        EXPECT_FALSE(m.observe("honest", disagrees(rng), i).has_value()) << "vote " << i;
    }
    EXPECT_TRUE(m.alarms().empty());
}

TEST(AccuracyMonitor, AVoterThatTurnsAgainstTheMeshIsFlaggedWithinAFewVotes) {
    AccuracyMonitor m;
    std::mt19937 rng(9);
    std::bernoulli_distribution honest(0.2), contrary(0.9);
    for (int i = 0; i < 500; ++i) ASSERT_FALSE(m.observe("op", honest(rng), i).has_value());
    int votes = 0;
    std::optional<AccuracyMonitor::Alarm> alarm;
    while (!alarm && votes < 100) alarm = m.observe("op", contrary(rng), 1000 + votes++);
    ASSERT_TRUE(alarm.has_value());
    EXPECT_LE(votes, 30);
    EXPECT_EQ(alarm->operator_id, "op");
    EXPECT_EQ(alarm->votes, 500u + static_cast<unsigned>(votes));
    // The statistic starts again: the next alarm needs another run.
    EXPECT_EQ(m.statistic("op"), 0);
}

// Ten storers, each one of the responsible nodes of every key: operators 0 and 1 vote 16
// entries up, operator 2 every one down. Once the rounds settle, the storers flag operator 2 (its
// votes go against the others' tally) and nobody else (theirs tie with it, and prove nothing).
TEST(AccuracyOnDht, TheStorersFlagAnOperatorThatVotesAgainstEveryTally) {
    constexpr std::int64_t commit = 60, reveal = 30;
    test::TrustedSimMesh mesh({.size = 10,
                               .k = 10,
                               .seed = 5,
                               .stranger = 9,
                               .vote_commit_seconds = commit,
                               .vote_reveal_seconds = reveal});
    auto& sim = mesh.sim();
    for (int i = 0; i < 16; ++i) {
        auto draft = api::draft_from_json({{"domain", "acc"},
                                           {"id", "e" + std::to_string(i)},
                                           {"title", "t"},
                                           {"content", "c"},
                                           {"confidence", 0.6}});
        ASSERT_TRUE(draft.has_value());
        ASSERT_TRUE(mesh.wait<knowledge::PublishOutcome>([&](auto cb) {
                            mesh.agent(3).knowledge().publish(std::move(*draft), cb);
                        })
                        .has_value());
        for (const auto& [via, choice] : {std::pair{0, 1}, {1, 1}, {2, -1}}) {
            ASSERT_TRUE(mesh.wait<vote::VoteService::Cast>([&](auto cb) {
                                mesh.agent(static_cast<std::size_t>(via))
                                    .votes()
                                    .cast("acc", "e" + std::to_string(i), choice, "", cb);
                            })
                            .has_value());
        }
    }
    const vote::Windows w{commit, reveal};
    const auto end = w.reveal_end(w.round_at(sim.clock().unix_seconds()));
    sim.run_until(Clock::time_point(std::chrono::seconds(end + vote::grace_seconds(w) + 5)));
    const auto contrary = mesh.peer(2).operator_id;
    std::size_t flagged = 0;
    for (std::size_t i = 0; i < 9; ++i) {
        for (const auto& a : mesh.agent(i).anomaly().accuracy().alarms()) {
            EXPECT_EQ(a.operator_id, contrary);
            ++flagged;
        }
    }
    EXPECT_GE(flagged, 8u) << "most storers hold all 16 tallies; operator 2's statistic on node 0: "
                           << mesh.agent(0).anomaly().accuracy().statistic(contrary);
}

}  // namespace
}  // namespace nocturne::anomaly
