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

TEST(Lookup, AtMostAlphaInFlight) {
    std::vector<wire::Contact> seeds;
    for (std::uint8_t i = 1; i <= 10; ++i) seeds.push_back(contact(i));
    Lookup lookup(NodeId{}, NodeId{}, false, 20, 3, seeds);
    const auto first = lookup.next_queries();
    ASSERT_EQ(first.size(), 3u);
    EXPECT_EQ(first[0].id, contact(1).id);  // closest first
    EXPECT_TRUE(lookup.next_queries().empty());
    lookup.on_answer(first[0].id, {}, {});
    EXPECT_EQ(lookup.next_queries().size(), 1u);
}

TEST(Lookup, EndsWhenKClosestAnswered) {
    std::vector<wire::Contact> seeds = {contact(1), contact(2), contact(3)};
    Lookup lookup(NodeId{}, NodeId{}, false, 2, 3, seeds);
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
    Lookup lookup(NodeId{}, NodeId{}, false, 2, 3, seeds);
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

TEST(Lookup, ReferralsAreQueriedAndCountHops) {
    Lookup lookup(NodeId{}, NodeId{}, false, 1, 1, {contact(0x80)});
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

TEST(Lookup, ValueEndsLookupEarly) {
    Lookup lookup(NodeId{}, NodeId{}, true, 20, 3, {contact(1), contact(2), contact(3)});
    auto q = lookup.next_queries();
    wire::Record r;
    lookup.on_answer(q[1].id, {}, {r});
    EXPECT_TRUE(lookup.done());
    EXPECT_TRUE(lookup.result().found());
    EXPECT_EQ(lookup.result().hops, 1u);
}

TEST(Lookup, IgnoresUnsolicitedDuplicateSelfAndAddresslessContacts) {
    Lookup lookup(contact(9).id, NodeId{}, false, 20, 3, {contact(1)});
    auto q = lookup.next_queries();
    lookup.on_answer(contact(7).id, {contact(5)}, {});  // never asked
    lookup.on_answer(q[0].id, {contact(9), {contact(4).id, ""}}, {});
    lookup.on_answer(q[0].id, {contact(6)}, {});  // duplicate answer
    EXPECT_TRUE(lookup.next_queries().empty());
    EXPECT_TRUE(lookup.done());
    EXPECT_EQ(lookup.result().answered, 1u);
}

TEST(Lookup, CandidateListIsBounded) {
    Lookup lookup(NodeId{}, NodeId{}, false, 2, 1, {contact(0xff)});
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
    Lookup lookup(NodeId{}, NodeId{}, true, 20, 3, {});
    EXPECT_TRUE(lookup.done());
    EXPECT_FALSE(lookup.result().found());
}

}  // namespace
}  // namespace nocturne::dht
