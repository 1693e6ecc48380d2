// Compute tasks through the agent that the daemon runs, on the simulated mesh: the lifecycle
// publish -> claim -> result, one winner of a race, expiry into the next epoch, the fencing of a
// stale epoch's result, and the tasks the domain's nodes create on their own.

#include <nocturne/api/knowledge_json.hpp>
#include <nocturne/compute/compute_service.hpp>

#include <gtest/gtest.h>

#include "support/trusted_sim_mesh.hpp"

namespace nocturne::compute {
namespace {

using namespace std::chrono_literals;

constexpr std::size_t mesh_size = 30;
constexpr std::size_t k = 6;
constexpr std::size_t stranger = 29;
constexpr std::int64_t claim_seconds = 600;

class ComputeOnDht : public ::testing::Test {
protected:
    ComputeOnDht()
        : mesh_({mesh_size, k, 31, stranger, 60, 30, claim_seconds}), sim_(&mesh_.sim()) {}

    ComputeService& compute(std::size_t i) { return mesh_.agent(i).compute(); }

    void publish_entry(const std::string& id, double confidence = 0.8) {
        auto draft = api::draft_from_json({{"domain", "go"},
                                           {"id", id},
                                           {"title", "title " + id},
                                           {"content", "c"},
                                           {"confidence", confidence}});
        ASSERT_TRUE(draft.has_value());
        auto r = mesh_.wait<knowledge::PublishOutcome>(
            [&](auto cb) { mesh_.agent(1).knowledge().publish(std::move(*draft), cb); });
        ASSERT_TRUE(r.has_value()) << r.error().message();
    }

    Task publish_task(std::size_t via, const std::string& title = "Summarise goroutines") {
        auto t = mesh_.wait<Task>(
            [&](auto cb) { compute(via).publish("go", title, "in one entry", std::nullopt, cb); });
        EXPECT_TRUE(t.has_value()) << (t ? "" : t.error().message());
        return t ? *t : Task{};
    }

    result<std::optional<ComputeService::Held>> claim_next(std::size_t via) {
        return mesh_.wait<std::optional<ComputeService::Held>>(
            [&](auto cb) { compute(via).claim_next({"go"}, std::nullopt, cb); });
    }

    result<ComputeService::Submitted> submit(std::size_t via, const std::string& id,
                                             std::uint64_t epoch, const std::string& result_id) {
        return mesh_.wait<ComputeService::Submitted>(
            [&](auto cb) { compute(via).submit(id, epoch, result_id, "go", cb); });
    }

    std::vector<ComputeService::Listed> tasks(std::size_t via) {
        auto r = mesh_.wait<std::vector<ComputeService::Listed>>(
            [&](auto cb) { compute(via).tasks("go", 50, cb); });
        EXPECT_TRUE(r.has_value());
        return r ? *r : std::vector<ComputeService::Listed>{};
    }

    test::TrustedSimMesh mesh_;
    sim::Simulation* sim_;
};

TEST_F(ComputeOnDht, PublishClaimSubmitAndTheTaskLeavesEveryOffer) {
    const auto task = publish_task(3);
    ASSERT_FALSE(task.id.empty());
    EXPECT_EQ(tasks(20).size(), 1u);

    auto held = claim_next(7);
    ASSERT_TRUE(held.has_value()) << held.error().message();
    ASSERT_TRUE(held->has_value());
    const auto& h = **held;
    EXPECT_EQ(h.task.id, task.id);
    EXPECT_EQ(h.epoch, 1u);
    EXPECT_GE(h.granted, h.quorum);
    EXPECT_LE(h.until, sim_->clock().unix_seconds() + claim_seconds);
    EXPECT_GE(h.until, sim_->clock().unix_seconds() + claim_seconds - 5);
    EXPECT_EQ(compute(7).open_claims(), 1u);

    auto none = claim_next(8);
    ASSERT_TRUE(none.has_value());
    EXPECT_FALSE(none->has_value()) << "claimed: not offered to anyone else";
    const auto listed = tasks(12);
    ASSERT_EQ(listed.size(), 1u);
    EXPECT_EQ(listed[0].state.status, TaskState::Status::claimed);

    EXPECT_EQ(submit(7, task.id, 1, "answer").error().code(), make_error_code(errc::not_found))
        << "the result entry must exist";
    publish_entry("answer");
    EXPECT_EQ(submit(8, task.id, 1, "answer").error().code(), make_error_code(errc::not_claimant));
    auto done = submit(7, task.id, 1, "answer");
    ASSERT_TRUE(done.has_value()) << done.error().message();
    EXPECT_GE(done->stored, done->quorum);
    EXPECT_EQ(compute(7).open_claims(), 0u);

    for (const std::size_t via : {0u, 8u, 15u, 28u}) {
        EXPECT_TRUE(tasks(via).empty()) << via;
        auto offer = claim_next(via);
        ASSERT_TRUE(offer.has_value()) << via;
        EXPECT_FALSE(offer->has_value()) << via;
    }
}

TEST_F(ComputeOnDht, TwoAgentsRacingForOneTaskMakeExactlyOneWinner) {
    for (int round = 0; round < 5; ++round) {
        const auto task = publish_task(3, "race " + std::to_string(round));
        std::optional<result<ComputeService::Held>> a, b;
        compute(4).claim("go", task.id, [&](auto r) { a = std::move(r); });
        compute(5).claim("go", task.id, [&](auto r) { b = std::move(r); });
        sim_->run_for(120s, [&] { return a && b; });
        ASSERT_TRUE(a && b);
        EXPECT_NE(a->has_value(), b->has_value()) << "round " << round;
        const auto& loser = a->has_value() ? *b : *a;
        if (!loser.has_value()) {
            EXPECT_EQ(loser.error().code(), make_error_code(errc::task_claimed)) << round;
        }
        // Give it back for the next round's hoarding limit.
        const auto& winner = a->has_value() ? **a : **b;
        const std::size_t via = a->has_value() ? 4 : 5;
        auto released = mesh_.wait<std::size_t>(
            [&](auto cb) { compute(via).release(task.id, winner.epoch, cb); });
        EXPECT_TRUE(released.has_value());
    }
}

TEST_F(ComputeOnDht, AnExpiredClaimReopensInTheNextEpochAndFencesTheOldResult) {
    const auto task = publish_task(3);
    publish_entry("answer");
    auto first =
        mesh_.wait<ComputeService::Held>([&](auto cb) { compute(4).claim("go", task.id, cb); });
    ASSERT_TRUE(first.has_value()) << first.error().message();
    EXPECT_EQ(first->epoch, 1u);
    EXPECT_EQ(
        mesh_.wait<ComputeService::Held>([&](auto cb) { compute(5).claim("go", task.id, cb); })
            .error()
            .code(),
        make_error_code(errc::task_claimed));
    // An extension keeps it.
    sim_->run_for(std::chrono::seconds(claim_seconds - 100));
    auto extended =
        mesh_.wait<ComputeService::Held>([&](auto cb) { compute(4).extend(task.id, 1, cb); });
    ASSERT_TRUE(extended.has_value()) << extended.error().message();
    sim_->run_for(std::chrono::seconds(claim_seconds - 100));
    EXPECT_EQ(
        mesh_.wait<ComputeService::Held>([&](auto cb) { compute(5).claim("go", task.id, cb); })
            .error()
            .code(),
        make_error_code(errc::task_claimed));
    // Past its end (and the storers' grace), the task is open in epoch 2.
    sim_->run_for(std::chrono::seconds(200 + 61));
    auto second =
        mesh_.wait<ComputeService::Held>([&](auto cb) { compute(5).claim("go", task.id, cb); });
    ASSERT_TRUE(second.has_value()) << second.error().message();
    EXPECT_EQ(second->epoch, 2u);
    // The first holder's late result carries epoch 1: fenced off.
    EXPECT_EQ(submit(4, task.id, 1, "answer").error().code(), make_error_code(errc::stale_epoch));
    auto done = submit(5, task.id, 2, "answer");
    ASSERT_TRUE(done.has_value()) << done.error().message();
    EXPECT_EQ(
        mesh_.wait<ComputeService::Held>([&](auto cb) { compute(6).claim("go", task.id, cb); })
            .error()
            .code(),
        make_error_code(errc::task_closed));
}

TEST_F(ComputeOnDht, HoardingIsBoundedPerAgent) {
    std::vector<Task> created;
    for (int i = 0; i < 5; ++i) created.push_back(publish_task(3, "t" + std::to_string(i)));
    for (std::size_t i = 0; i < 4; ++i) {
        auto h = claim_next(7);
        ASSERT_TRUE(h.has_value() && h->has_value()) << i;
    }
    EXPECT_EQ(claim_next(7).error().code(), make_error_code(errc::too_many_claims));
    auto other = claim_next(8);
    ASSERT_TRUE(other.has_value() && other->has_value()) << "the fifth is still open to others";
}

TEST_F(ComputeOnDht, TheDomainsNodesCreateReviewAndVerifyTasksOnTheirOwn) {
    publish_entry("weak", 0.3);
    publish_entry("fine", 0.9);
    sim_->run_for(3min);
    auto listed = tasks(10);
    ASSERT_EQ(listed.size(), 1u);
    EXPECT_EQ(listed[0].task.type, "review");
    EXPECT_EQ(listed[0].task.entry_id, "weak");
    // Contested: two operators up, one down, once the votes are revealed.
    for (const auto& [via, choice] : {std::pair{3, 1}, {4, 1}, {5, -1}}) {
        auto c = mesh_.wait<vote::VoteService::Cast>([&](auto cb) {
            mesh_.agent(static_cast<std::size_t>(via)).votes().cast("go", "fine", choice, "", cb);
        });
        ASSERT_TRUE(c.has_value()) << c.error().message();
    }
    sim_->run_for(5min);
    bool verify = false;
    for (const auto& l : tasks(20)) verify |= l.task.type == "verify" && l.task.entry_id == "fine";
    EXPECT_TRUE(verify);
    std::size_t creators = 0;
    for (std::size_t i = 0; i < mesh_size; ++i) creators += compute(i).generator().created() > 0;
    EXPECT_GE(creators, 1u);
}

}  // namespace
}  // namespace nocturne::compute
