// The records and rules of compute tasks, without a network: what a storer grants or refuses,
// and what a reader concludes from the grants and results it collected.

#include <nocturne/compute/task_rules.hpp>
#include <nocturne/core/hex.hpp>
#include <nocturne/wire/identifiers.hpp>

#include <gtest/gtest.h>

namespace nocturne::compute {
namespace {

const std::string op = std::string(64, 'a');
constexpr std::int64_t now = 1'700'000'000;

crypto::KeyPair key(std::uint8_t n) {
    crypto::Seed seed{};
    seed.fill(n);
    return crypto::KeyPair::from_seed(seed);
}

Claim claim(std::uint64_t epoch, std::int64_t until = now + 3600) {
    return Claim{"t1", epoch, op, until, false};
}

wire::Record grant_record(std::uint8_t storer, std::uint64_t epoch, const NodeId& claimant,
                          std::int64_t until = now + 3600, bool released = false) {
    auto r = sign_grant(Grant{"t1", epoch, claimant, until, released}, seq_of(epoch, 0), now,
                        now + 86400, key(storer));
    EXPECT_TRUE(r.has_value());
    return *r;
}

TEST(TaskRecords, EveryPartSignsAndReadsBackExactly) {
    Task t{"verify-1", "go",  "verify",
           "Verify x", "e1",  "check it",
           op,         false, {key(3).node_id(), key(4).node_id()}};
    auto rt = sign_task(t, now, now + 86400, key(1));
    ASSERT_TRUE(rt.has_value());
    EXPECT_EQ(rt->key, task_index_key("go"));
    EXPECT_EQ(rt->slot, "verify-1");
    EXPECT_EQ(part_of(*rt), "task");
    auto back = task_from_record(*rt);
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->entry_id, "e1");
    EXPECT_FALSE(back->closed);
    EXPECT_EQ(back->storers, t.storers);
    auto twice = t;
    twice.storers.push_back(key(3).node_id());
    EXPECT_EQ(task_from_record(*sign_task(twice, now, now + 86400, key(1))).error(),
              make_error_code(errc::value_out_of_range))
        << "a storer counts once";
    auto none = t;
    none.storers.clear();
    EXPECT_FALSE(sign_task(none, now, now + 86400, key(1)).has_value());
    t.closed = true;
    auto closed = sign_task(t, now, now + 86400, key(1));
    ASSERT_TRUE(closed.has_value());
    EXPECT_EQ(closed->seq, 2u);
    EXPECT_TRUE(task_from_record(*closed)->closed);

    auto rc = sign_claim(claim(3), 2, now, now + 86400, key(2));
    ASSERT_TRUE(rc.has_value());
    EXPECT_EQ(rc->key, task_key("t1"));
    EXPECT_EQ(rc->slot, "claim");
    EXPECT_EQ(rc->seq, seq_of(3, 2));
    EXPECT_EQ(claim_from_record(*rc)->epoch, 3u);
    auto released = claim(3);
    released.released = true;
    auto rr = sign_claim(released, 0, now, now + 86400, key(2));
    EXPECT_EQ(rr->seq, seq_of(3, release_step)) << "a release outranks every extension";
    EXPECT_TRUE(claim_from_record(*rr)->released);

    auto rg = grant_record(3, 3, key(2).node_id());
    EXPECT_EQ(grant_from_record(rg)->claimant, key(2).node_id());

    auto res = sign_result(Result{"t1", 3, op, "go", "answer"}, now, now + 86400, key(2));
    ASSERT_TRUE(res.has_value());
    EXPECT_EQ(res->slot, "result");
    EXPECT_EQ(result_from_record(*res)->result_id, "answer");
    EXPECT_EQ(claim_from_record(*res).error(), make_error_code(errc::wrong_type));
}

TEST(TaskRecords, GeneratedIdsDependOnTheConditionOnly) {
    EXPECT_EQ(generated_task_id("verify", "go", "e1@2"), generated_task_id("verify", "go", "e1@2"));
    EXPECT_NE(generated_task_id("verify", "go", "e1@2"), generated_task_id("verify", "go", "e1@3"));
    EXPECT_NE(generated_task_id("verify", "go/x", "y"), generated_task_id("verify", "go", "x/y"));
    EXPECT_TRUE(wire::is_valid_id(generated_task_id("synthesize", "go", "50")));
    EXPECT_NE(random_task_id(), random_task_id());
}

TEST(StorerRules, FirstClaimOfAnEpochWinsTheStorer) {
    const auto a = key(10).node_id(), b = key(11).node_id();
    ClaimRules rules;
    auto d = decide_claim(claim(1), seq_of(1, 0), a, {}, now, rules);
    ASSERT_FALSE(d.refusal);
    ASSERT_TRUE(d.grant.has_value());
    EXPECT_EQ(d.grant->claimant, a);
    StorerView view{d.grant, seq_of(1, 0), false, 1};
    EXPECT_EQ(decide_claim(claim(1), seq_of(1, 0), b, view, now, rules).refusal,
              make_error_code(errc::task_claimed));
    // The next epoch is not open while the holder's claim is live (with grace), whoever asks.
    EXPECT_EQ(
        decide_claim(claim(2, now + 9000), seq_of(2, 0), b, view, now + 3600 + 60, rules).refusal,
        make_error_code(errc::task_claimed));
    auto later = decide_claim(claim(2, now + 9000), seq_of(2, 0), b, view, now + 3661, rules);
    ASSERT_FALSE(later.refusal) << "expired: the next epoch goes to whoever asks first";
    EXPECT_EQ(later.grant->epoch, 2u);
    EXPECT_EQ(decide_claim(claim(1, now + 9000), seq_of(1, 0), b,
                           {later.grant, seq_of(2, 0), false, 0}, now + 3661, rules)
                  .refusal,
              make_error_code(errc::stale_epoch));
}

TEST(StorerRules, ExtensionsReleasesLimitsAndCompletion) {
    const auto a = key(10).node_id(), b = key(11).node_id();
    ClaimRules rules;
    Grant g{"t1", 1, a, now + 100, false};
    StorerView view{g, seq_of(1, 0), false, 1};
    // An extension renews `until`, capped at claim_seconds from the storer's now.
    auto ext = decide_claim(claim(1, now + 99999), seq_of(1, 1), a, view, now + 50, rules);
    ASSERT_TRUE(ext.grant.has_value());
    EXPECT_EQ(ext.grant->until, now + 50 + 3600);
    EXPECT_FALSE(decide_claim(claim(1), seq_of(1, 0), a, view, now, rules).grant)
        << "the same claim again: granted already, nothing new to sign";
    // A release by the holder opens the next epoch at once; by anyone else it changes nothing.
    auto rel = claim(1);
    rel.released = true;
    EXPECT_FALSE(decide_claim(rel, seq_of(1, release_step), b, view, now, rules).grant);
    auto released = decide_claim(rel, seq_of(1, release_step), a, view, now, rules);
    ASSERT_TRUE(released.grant.has_value());
    EXPECT_TRUE(released.grant->released);
    StorerView after{released.grant, seq_of(1, release_step), false, 0};
    EXPECT_FALSE(decide_claim(claim(2), seq_of(2, 0), b, after, now, rules).refusal);
    EXPECT_EQ(decide_claim(claim(1), seq_of(1, 1), a, after, now, rules).refusal,
              make_error_code(errc::stale_epoch));
    // Hoarding and completed tasks.
    EXPECT_EQ(
        decide_claim(claim(1), seq_of(1, 0), b, {std::nullopt, 0, false, 4}, now, rules).refusal,
        make_error_code(errc::too_many_claims));
    EXPECT_EQ(
        decide_claim(claim(2), seq_of(2, 0), b, {g, seq_of(1, 0), true, 0}, now, rules).refusal,
        make_error_code(errc::task_closed));
    EXPECT_EQ(decide_claim(claim(1, now - 1), seq_of(1, 0), b, {}, now, rules).refusal,
              make_error_code(errc::value_out_of_range));
}

TEST(StorerRules, NobodyJumpsATaskToTheLastEpochOrRenewsPastTheHoardingBound) {
    const auto a = key(10).node_id();
    ClaimRules rules;
    StorerView fresh;
    fresh.highest_epoch = 2;
    EXPECT_FALSE(decide_claim(claim(5), seq_of(5, 0), a, fresh, now, rules).refusal);
    EXPECT_EQ(decide_claim(claim(6), seq_of(6, 0), a, fresh, now, rules).refusal,
              make_error_code(errc::value_out_of_range))
        << "at most epoch_slack past the highest grant under the key";
    EXPECT_EQ(decide_claim(claim(max_epoch), seq_of(max_epoch, 0), a, fresh, now, rules).refusal,
              make_error_code(errc::value_out_of_range));
    // A lapsed claim renewed within the grace counts against the bound like a new one.
    Grant lapsed{"t1", 1, a, now - 10, false};
    StorerView view{lapsed, seq_of(1, 0), false, 4, 1};
    EXPECT_EQ(decide_claim(claim(1), seq_of(1, 1), a, view, now, rules).refusal,
              make_error_code(errc::too_many_claims));
    view.mine->until = now + 10;
    EXPECT_FALSE(decide_claim(claim(1), seq_of(1, 1), a, view, now, rules).refusal)
        << "a live claim is renewed whatever the count";
}

TEST(StorerRules, AResultIsTakenOnlyFromTheLatestEpochsHolder) {
    const auto a = key(10).node_id(), b = key(11).node_id();
    const Result r{"t1", 1, op, "go", "answer"};
    EXPECT_EQ(decide_result(r, a, std::nullopt), make_error_code(errc::not_claimant));
    EXPECT_FALSE(decide_result(r, a, Grant{"t1", 1, a, now - 10, false}))
        << "late but not fenced: no newer epoch was granted";
    EXPECT_EQ(decide_result(r, b, Grant{"t1", 1, a, now, false}),
              make_error_code(errc::not_claimant));
    EXPECT_EQ(decide_result(r, a, Grant{"t1", 2, b, now, false}),
              make_error_code(errc::stale_epoch));
    EXPECT_EQ(decide_result(r, a, Grant{"t1", 1, a, now, true}),
              make_error_code(errc::stale_epoch));
}

TEST(ReaderState, AQuorumOfGrantsMakesTheHolderAndAResultCompletesIt) {
    const auto a = key(10).node_id(), b = key(11).node_id();
    ClaimRules rules;
    std::vector<wire::Record> records;
    EXPECT_EQ(task_state("t1", records, 5, now, rules).status, TaskState::Status::open);
    // 5 responsible storers: quorum 4. Three grants for a, two for b: nobody holds it, and the
    // epoch stays in the way until the grants are released or expire.
    for (std::uint8_t s = 1; s <= 3; ++s) records.push_back(grant_record(s, 1, a));
    for (std::uint8_t s = 4; s <= 5; ++s) records.push_back(grant_record(s, 1, b));
    auto split = task_state("t1", records, 5, now, rules);
    EXPECT_EQ(split.status, TaskState::Status::claimed) << "no storer is free for epoch 2";
    EXPECT_FALSE(split.holder.has_value());
    EXPECT_EQ(task_state("t1", records, 5, now + 3661, rules).status, TaskState::Status::open);
    EXPECT_EQ(task_state("t1", records, 5, now + 3661, rules).next_epoch(), 2u);

    records.clear();
    for (std::uint8_t s = 1; s <= 4; ++s) records.push_back(grant_record(s, 2, a, now + 100 * s));
    auto held = task_state("t1", records, 5, now, rules);
    EXPECT_EQ(held.status, TaskState::Status::claimed);
    ASSERT_TRUE(held.holder.has_value());
    EXPECT_EQ(*held.holder, a);
    EXPECT_EQ(held.until, now + 100) << "held while a quorum holds it";
    // A result of the holder's epoch completes it; one of another agent does not.
    auto other = sign_result(Result{"t1", 2, op, "go", "x"}, now, now + 86400, key(11));
    records.push_back(*other);
    EXPECT_EQ(task_state("t1", records, 5, now, rules).status, TaskState::Status::claimed);
    auto mine = sign_result(Result{"t1", 2, op, "go", "answer"}, now, now + 86400, key(10));
    records.push_back(*mine);
    auto done = task_state("t1", records, 5, now, rules);
    EXPECT_EQ(done.status, TaskState::Status::completed);
    EXPECT_EQ(done.result->result_id, "answer");
    EXPECT_EQ(task_state("t1", records, 20, now, rules).status, TaskState::Status::open)
        << "four grants are no quorum of twenty, and sixteen free storers make one";
    // With the task's own storer set, only its members' grants count, whoever else answered:
    // grants of storers 1-4 against the set {1, 2, 6, 7, 8} are two of five.
    const std::vector<NodeId> set = {key(1).node_id(), key(2).node_id(), key(6).node_id(),
                                     key(7).node_id(), key(8).node_id()};
    EXPECT_EQ(task_state("t1", records, 5, now, rules, set).status, TaskState::Status::claimed);
    EXPECT_FALSE(task_state("t1", records, 5, now, rules, set).holder.has_value());
    const std::vector<NodeId> mine_set = {key(1).node_id(), key(2).node_id(), key(3).node_id(),
                                          key(4).node_id(), key(9).node_id()};
    EXPECT_EQ(task_state("t1", records, 99, now, rules, mine_set).status,
              TaskState::Status::completed);
}

TEST(Triggers, ContestedAndReviewConditions) {
    Triggers t;
    vote::Tally tally;
    tally.up = 2;
    tally.down = 1;
    EXPECT_TRUE(contested(tally, t));
    tally.up = 3;
    EXPECT_FALSE(contested(tally, t)) << "a quarter is no contest";
    tally = {};
    tally.confidence = 0.3;
    EXPECT_TRUE(needs_review(tally, t));
    tally.pending = 1;
    EXPECT_FALSE(needs_review(tally, t)) << "votes are on their way";
    tally.pending = 0;
    tally.up = 3;
    EXPECT_FALSE(needs_review(tally, t));
}

}  // namespace
}  // namespace nocturne::compute
