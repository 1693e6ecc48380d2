// Voting through the agent that the daemon runs, on the simulated mesh: agents of three
// operators commit and reveal, every node counts the same, the refusals reach the voter with
// their codes, and replicas that withhold votes do not change the tally.

#include <nocturne/api/knowledge_json.hpp>
#include <nocturne/vote/vote_service.hpp>
#include <nocturne/wire/identifiers.hpp>

#include <gtest/gtest.h>

#include "support/trusted_sim_mesh.hpp"

namespace nocturne::vote {
namespace {

using namespace std::chrono_literals;

constexpr std::size_t mesh_size = 30;
constexpr std::size_t k = 6;
constexpr std::size_t stranger = 29;
constexpr std::int64_t commit_seconds = 60;
constexpr std::int64_t reveal_seconds = 30;

class VotingOnDht : public ::testing::Test {
protected:
    VotingOnDht()
        : mesh_({mesh_size, k, 23, stranger, commit_seconds, reveal_seconds}), sim_(&mesh_.sim()) {}

    VoteService& votes_of(std::size_t i) { return mesh_.agent(i).votes(); }

    void publish(const std::string& id) {
        auto draft = api::draft_from_json(
            {{"domain", "go"}, {"id", id}, {"title", "t"}, {"content", "c"}, {"confidence", 0.6}});
        ASSERT_TRUE(draft.has_value());
        auto r = mesh_.wait<knowledge::PublishOutcome>(
            [&](auto cb) { mesh_.agent(1).knowledge().publish(std::move(*draft), cb); });
        ASSERT_TRUE(r.has_value()) << r.error().message();
    }

    result<VoteService::Cast> cast(std::size_t via, int choice, const std::string& id = "e1") {
        return mesh_.wait<VoteService::Cast>(
            [&](auto cb) { votes_of(via).cast("go", id, choice, "seen it", cb); });
    }

    VoteService::Votes votes(std::size_t via, const std::string& id = "e1") {
        auto r =
            mesh_.wait<VoteService::Votes>([&](auto cb) { votes_of(via).votes("go", id, cb); });
        EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message());
        return r ? *r : VoteService::Votes{};
    }

    // Runs the mesh past the end of the reveal window of the round that is open now.
    void past_the_windows() {
        const Windows w{commit_seconds, reveal_seconds};
        const auto end = w.reveal_end(w.round_at(sim_->clock().unix_seconds()));
        sim_->run_until(Clock::time_point(std::chrono::seconds(end + 1)));
    }

    // Nodes that hold records under the entry's vote key.
    std::vector<std::size_t> replicas(const std::string& id = "e1") {
        const auto key = prefix_key(wire::key_prefix::vote, content_key("go", id).to_hex());
        std::vector<std::size_t> out;
        for (std::size_t i = 0; i < mesh_size; ++i) {
            auto held = sim_->store(i).get(key, sim_->clock().unix_seconds());
            if (held && !held->empty()) out.push_back(i);
        }
        return out;
    }

    test::TrustedSimMesh mesh_;
    sim::Simulation* sim_;
};

TEST_F(VotingOnDht, ThreeOperatorsCommitRevealAndEveryNodeCountsTheSame) {
    publish("e1");
    // Agents 3, 4 and 5 belong to operators 0, 1 and 2 (agent i to operator i % 3).
    for (const auto& [via, choice] : {std::pair{3, 1}, {4, 1}, {5, -1}}) {
        auto c = cast(static_cast<std::size_t>(via), choice);
        ASSERT_TRUE(c.has_value()) << via << ": " << c.error().message();
        EXPECT_GT(c->stored, 0u);
        // Revealed once every storer's grace for commitments is over.
        EXPECT_EQ(c->counted_by - c->reveal_at,
                  reveal_seconds - 2 * grace_seconds({commit_seconds, reveal_seconds}));
    }
    auto before = votes(10);
    EXPECT_EQ(before.tally.pending, 3);
    EXPECT_EQ(before.tally.up + before.tally.down, 0) << "sealed until the reveal window";
    EXPECT_DOUBLE_EQ(before.tally.confidence, 0.6);

    past_the_windows();
    for (const std::size_t via : {0u, 10u, 20u, 28u}) {
        const auto v = votes(via);
        EXPECT_EQ(v.tally.up, 2) << via;
        EXPECT_EQ(v.tally.down, 1) << via;
        EXPECT_EQ(v.tally.abstain, 0) << via;
        EXPECT_EQ(v.tally.pending, 0) << via;
        EXPECT_DOUBLE_EQ(v.tally.confidence, (2 * 0.6 + 2) / (2 + 3)) << via;
        EXPECT_GE(v.answered, v.quorum) << via;
        ASSERT_EQ(v.tally.voters.size(), 3u);
        EXPECT_EQ(v.tally.voters[0].reason, "seen it");
    }
    EXPECT_EQ(votes_of(3).pending_reveals(), 0u);
}

TEST_F(VotingOnDht, RefusalsReachTheVoterWithTheirCodes) {
    publish("e1");
    ASSERT_TRUE(cast(3, 1).has_value());
    EXPECT_EQ(cast(3, -1).error().code(), make_error_code(errc::duplicate_vote));
    // Agent 6 is operator 0's too: a different commitment in the same round is equivocation,
    // and the storers keep both signed commitments.
    EXPECT_EQ(cast(6, -1).error().code(), make_error_code(errc::equivocation));
    std::size_t evidence = 0;
    for (const auto r : replicas()) evidence += votes(r).equivocations.size();
    EXPECT_GT(evidence, 0u);
    EXPECT_EQ(cast(stranger, 1).error().code(), make_error_code(errc::unknown_agent));
    EXPECT_EQ(cast(4, 1, "missing").error().code(), make_error_code(errc::not_found));
    past_the_windows();
    const auto v = votes(12);
    EXPECT_EQ(v.tally.up, 1);
    EXPECT_EQ(v.tally.voters.size(), 1u) << "operator 0 counted once";
}

TEST_F(VotingOnDht, ReplicasThatWithholdVotesDoNotChangeTheTally) {
    publish("e1");
    for (const auto& [via, choice] : {std::pair{3, 1}, {4, -1}, {5, -1}}) {
        ASSERT_TRUE(cast(static_cast<std::size_t>(via), choice).has_value());
    }
    past_the_windows();
    const auto holders = replicas();
    ASSERT_GE(holders.size(), 3u);
    // f = 1 of 6; withhold everything at two of them.
    const auto key = prefix_key(wire::key_prefix::vote, content_key("go", "e1").to_hex());
    for (std::size_t i = 0; i < 2; ++i) ASSERT_TRUE(sim_->store(holders[i]).erase(key));
    std::size_t reader = 0;
    while (std::find(holders.begin(), holders.end(), reader) != holders.end()) ++reader;
    const auto v = votes(reader);
    EXPECT_EQ(v.tally.up, 1);
    EXPECT_EQ(v.tally.down, 2);
}

TEST_F(VotingOnDht, ACommitmentNeverRevealedIsAnAbstention) {
    publish("e1");
    ASSERT_TRUE(cast(3, 1).has_value());
    ASSERT_TRUE(cast(4, 1).has_value());
    // Agent 4's node goes away before its reveal window and never comes back.
    sim_->kill(4);
    past_the_windows();
    const auto v = votes(9);
    EXPECT_EQ(v.tally.up, 1);
    EXPECT_EQ(v.tally.abstain, 1);
}

// The reveal window is short, and a lookup during a partition waits out every unreachable
// candidate (rpc_timeout, 5 s): the voter sends the reveal first to the storers that acknowledged
// its commitment, without a lookup.
TEST_F(VotingOnDht, AVoterCutOffFromMostStorersRevealsToThoseThatHoldItsCommitmentAtOnce) {
    publish("e1");
    constexpr std::size_t voter = 3;
    auto c = cast(voter, 1);
    ASSERT_TRUE(c.has_value()) << c.error().message();
    std::vector<std::size_t> holders;
    for (const auto i : replicas()) {
        if (i != voter) holders.push_back(i);
    }
    ASSERT_GE(holders.size(), 4u);
    // The voter stays with half of the storers that hold its commitment; the rest of the mesh,
    // the other storers among it, is out of reach.
    const std::vector<std::size_t> near(holders.begin(), holders.begin() + holders.size() / 2);
    for (std::size_t i = 0; i < mesh_size; ++i) sim_->set_group(i, 1);
    sim_->set_group(voter, 0);
    for (const auto i : near) sim_->set_group(i, 0);

    const auto key = prefix_key(wire::key_prefix::vote, content_key("go", "e1").to_hex());
    const auto author = mesh_.agent(voter).keys().public_key();
    const auto holds_reveal = [&](std::size_t i) {
        auto held = sim_->store(i).get(key, sim_->clock().unix_seconds());
        return held && std::any_of(held->begin(), held->end(), [&](const wire::Record& r) {
                   return r.author == author && r.slot == "reveal";
               });
    };
    sim_->run_until(Clock::time_point(std::chrono::seconds(c->reveal_at)));
    for (const auto i : near) EXPECT_FALSE(holds_reveal(i)) << "revealed early, at " << i;
    // Well within one rpc_timeout: no lookup stood in the way.
    sim_->run_for(1s);
    for (const auto i : near) EXPECT_TRUE(holds_reveal(i)) << "node " << i;

    past_the_windows();
    sim_->heal();
    const auto v = votes(near.front());
    EXPECT_EQ(v.tally.up, 1);
    EXPECT_EQ(v.tally.abstain, 0);
    EXPECT_EQ(votes_of(voter).pending_reveals(), 0u);
}

}  // namespace
}  // namespace nocturne::vote
