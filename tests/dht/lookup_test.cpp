#include <nocturne/dht/lookup.hpp>

#include <gtest/gtest.h>

namespace nocturne::dht {
namespace {

wire::Contact contact(std::uint8_t first, std::uint8_t last = 0) {
    NodeId id;
    id[0] = first;
    id[31] = last;
    return {id, "ws://h:1"};
}

Lookup::Options opts(bool want_value, std::size_t k, std::size_t alpha) {
    Lookup::Options o;
    o.want_value = want_value;
    o.k = k;
    o.alpha = alpha;
    return o;
}

TEST(Lookup, AtMostAlphaInFlight) {
    std::vector<wire::Contact> seeds;
    for (std::uint8_t i = 1; i <= 10; ++i) seeds.push_back(contact(i));
    Lookup lookup(NodeId{}, NodeId{}, opts(false, 20, 3), seeds);
    const auto first = lookup.next_queries();
    ASSERT_EQ(first.size(), 3u);
    EXPECT_EQ(first[0].id, contact(1).id);  // closest first
    EXPECT_TRUE(lookup.next_queries().empty());
    lookup.on_answer(first[0].id, {}, {});
    EXPECT_EQ(lookup.next_queries().size(), 1u);
}

TEST(Lookup, EndsWhenKClosestAnswered) {
    std::vector<wire::Contact> seeds = {contact(1), contact(2), contact(3)};
    Lookup lookup(NodeId{}, NodeId{}, opts(false, 2, 3), seeds);
    auto q = lookup.next_queries();
    ASSERT_EQ(q.size(), 2u);  // only the k=2 closest are worth asking
    lookup.on_answer(q[0].id, {}, {});
    EXPECT_FALSE(lookup.done());
    lookup.on_answer(q[1].id, {}, {});
    EXPECT_TRUE(lookup.done());
    const auto r = lookup.result();
    ASSERT_EQ(r.closest.size(), 2u);
    EXPECT_EQ(r.closest[0].id, contact(1).id);
    EXPECT_EQ(r.queried, 2u);
}

TEST(Lookup, FailuresAreReplacedByNextCandidates) {
    std::vector<wire::Contact> seeds = {contact(1), contact(2), contact(3)};
    Lookup lookup(NodeId{}, NodeId{}, opts(false, 2, 3), seeds);
    auto q = lookup.next_queries();
    lookup.on_failure(q[0].id);
    // One retry first: the same candidate is asked again.
    auto retry = lookup.next_queries();
    ASSERT_EQ(retry.size(), 1u);
    EXPECT_EQ(retry[0].id, q[0].id);
    lookup.on_failure(q[0].id);
    auto more = lookup.next_queries();
    ASSERT_EQ(more.size(), 1u);
    EXPECT_EQ(more[0].id, contact(3).id);
    lookup.on_answer(q[1].id, {}, {});
    lookup.on_answer(more[0].id, {}, {});
    EXPECT_TRUE(lookup.done());
    EXPECT_EQ(lookup.result().failed, 1u);
    EXPECT_EQ(lookup.result().closest.size(), 2u);
}

TEST(Lookup, ASlowRequestGivesUpItsSlotButItsAnswerStillCountsAndIsAwaited) {
    std::vector<wire::Contact> seeds = {contact(1), contact(2), contact(3)};
    Lookup lookup(NodeId{}, NodeId{}, opts(false, 2, 1), seeds);
    auto q = lookup.next_queries();
    ASSERT_EQ(q.size(), 1u);
    EXPECT_TRUE(lookup.next_queries().empty()) << "alpha = 1";
    lookup.on_slow(q[0].id);
    lookup.on_slow(q[0].id);  // once only
    auto next = lookup.next_queries();
    ASSERT_EQ(next.size(), 1u);
    EXPECT_EQ(next[0].id, contact(2).id);
    EXPECT_TRUE(lookup.next_queries().empty()) << "one slot, and 2 holds it";
    lookup.on_answer(next[0].id, {}, {});
    EXPECT_FALSE(lookup.done()) << "1, among the k closest, may still answer";
    EXPECT_TRUE(lookup.next_queries().empty()) << "both of the k = 2 closest asked";
    lookup.on_answer(q[0].id, {}, {});
    ASSERT_TRUE(lookup.done());
    const auto r = lookup.result();
    ASSERT_EQ(r.closest.size(), 2u);
    EXPECT_EQ(r.closest[0].id, contact(1).id);
    EXPECT_EQ(r.queried, 2u);
    EXPECT_EQ(r.answered, 2u);
}

TEST(Lookup, WithOneAttemptAnUnansweredCandidateFailsAtItsFirstTimeout) {
    std::vector<wire::Contact> seeds = {contact(1), contact(2)};
    auto o = opts(true, 2, 2);
    o.attempts = 1;
    Lookup lookup(NodeId{}, NodeId{}, o, seeds);
    auto q = lookup.next_queries();
    ASSERT_EQ(q.size(), 2u);
    lookup.on_slow(q[0].id);
    EXPECT_TRUE(lookup.on_failure(q[0].id)) << "no second attempt";
    lookup.on_answer(q[1].id, {}, {});
    ASSERT_TRUE(lookup.done());
    EXPECT_EQ(lookup.result().failed_ids, std::vector<NodeId>{contact(1).id});
    EXPECT_EQ(lookup.result().queried, 2u);
}

TEST(Lookup, ReferralsAreQueriedAndCountHops) {
    Lookup lookup(NodeId{}, NodeId{}, opts(false, 1, 1), {contact(0x80)});
    auto q = lookup.next_queries();
    lookup.on_answer(q[0].id, {contact(0x40)}, {});
    q = lookup.next_queries();
    ASSERT_EQ(q.size(), 1u);
    EXPECT_EQ(q[0].id, contact(0x40).id);
    lookup.on_answer(q[0].id, {contact(0x01)}, {});
    q = lookup.next_queries();
    lookup.on_answer(q[0].id, {}, {});
    EXPECT_TRUE(lookup.done());
    EXPECT_EQ(lookup.result().closest[0].id, contact(0x01).id);
    EXPECT_EQ(lookup.result().hops, 3u);
}

TEST(Lookup, AValueLookupHearsEveryHolderNotJustTheFirst) {
    Lookup lookup(NodeId{}, NodeId{}, opts(true, 20, 3), {contact(1), contact(2), contact(3)});
    auto q = lookup.next_queries();
    wire::Record r;
    r.seq = 1;
    lookup.on_answer(q[1].id, {}, {r}, 1, 1);
    EXPECT_FALSE(lookup.done());  // one holder may be stale or withholding
    wire::Record newer;
    newer.seq = 2;
    lookup.on_answer(q[0].id, {}, {newer}, 1, 1);
    lookup.on_answer(q[2].id, {}, {});
    EXPECT_TRUE(lookup.done());
    const auto result = lookup.result();
    EXPECT_EQ(result.holders, 2u);
    ASSERT_EQ(result.holder_answers.size(), 2u);
    EXPECT_EQ(result.holder_answers[0].records[0].seq, 1u);
    EXPECT_EQ(result.holder_answers[1].records[0].seq, 2u);
    EXPECT_EQ(result.hops, 1u);
}

TEST(Lookup, IneligibleAnswersTakeNoPlaceAmongTheKClosest) {
    // Two unenrolled ids ground next to the target answer first; the lookup goes on to the next
    // candidates and ends with k eligible ones.
    Lookup lookup(NodeId{}, NodeId{}, opts(true, 2, 3),
                  {contact(1), contact(2), contact(3), contact(4)});
    auto q = lookup.next_queries();
    ASSERT_EQ(q.size(), 2u);  // the two closest first
    wire::Record forged;
    lookup.on_answer(q[0].id, {}, {forged}, 1, 1, false);
    lookup.on_answer(q[1].id, {}, {forged}, 1, 1, false);
    EXPECT_FALSE(lookup.done());
    auto more = lookup.next_queries();
    ASSERT_EQ(more.size(), 2u);
    EXPECT_EQ(more[0].id, contact(3).id);
    lookup.on_answer(more[0].id, {}, {});
    lookup.on_answer(more[1].id, {}, {});
    EXPECT_TRUE(lookup.done());
    const auto r = lookup.result();
    ASSERT_EQ(r.closest.size(), 2u);
    EXPECT_EQ(r.closest[0].id, contact(3).id);
    EXPECT_EQ(r.ineligible, 2u);
    EXPECT_EQ(r.holders, 0u) << "an ineligible node's records are not believed";
}

TEST(Lookup, HostileReferralsCostAtMostMaxQueries) {
    auto o = opts(false, 2, 1);
    o.max_queries = 5;
    Lookup lookup(NodeId{}, NodeId{}, o, {contact(0x80)});
    // Every answer names a closer node, each ineligible: the lookup stops after 5 requests.
    std::size_t asked = 0;
    for (std::uint8_t next = 0x40; !lookup.done(); next = static_cast<std::uint8_t>(next / 2)) {
        auto q = lookup.next_queries();
        if (q.empty()) break;
        ++asked;
        lookup.on_answer(q[0].id, {contact(next, 1)}, {}, 0, 0, false);
    }
    EXPECT_TRUE(lookup.done());
    EXPECT_EQ(asked, 5u);
    EXPECT_TRUE(lookup.result().closest.empty());
}

TEST(Lookup, IgnoresUnsolicitedDuplicateSelfAndAddresslessContacts) {
    Lookup lookup(contact(9).id, NodeId{}, opts(false, 20, 3), {contact(1)});
    auto q = lookup.next_queries();
    lookup.on_answer(contact(7).id, {contact(5)}, {});  // never asked
    lookup.on_answer(q[0].id, {contact(9), {contact(4).id, ""}}, {});
    lookup.on_answer(q[0].id, {contact(6)}, {});  // duplicate answer
    EXPECT_TRUE(lookup.next_queries().empty());
    EXPECT_TRUE(lookup.done());
    EXPECT_EQ(lookup.result().answered, 1u);
}

TEST(Lookup, CandidateListIsBounded) {
    Lookup lookup(NodeId{}, NodeId{}, opts(false, 2, 1), {contact(0xff)});
    auto q = lookup.next_queries();
    std::vector<wire::Contact> flood;
    for (int i = 0; i < 200; ++i) flood.push_back(contact(static_cast<std::uint8_t>(i), 1));
    lookup.on_answer(q[0].id, flood, {});
    std::size_t asked = 0;
    while (!lookup.done()) {
        for (const auto& c : lookup.next_queries()) {
            ++asked;
            lookup.on_answer(c.id, {}, {});
        }
    }
    EXPECT_LE(asked, 2u);  // only the k closest of the flood matter
}

TEST(Lookup, EmptySeedsFinishImmediately) {
    Lookup lookup(NodeId{}, NodeId{}, opts(true, 20, 3), {});
    EXPECT_TRUE(lookup.done());
    EXPECT_FALSE(lookup.result().found());
}

}  // namespace
}  // namespace nocturne::dht
