// Anti-entropy's arithmetic: fingerprints of id ranges, and reconciliation rounds between two
// sets, driven through answer_sync / follow_sync exactly as two GossipServices exchange them.

#include <nocturne/gossip/reconcile.hpp>
#include <nocturne/gossip/seen_cache.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>

namespace nocturne::gossip {
namespace {

using namespace std::chrono_literals;

const Clock::time_point far_future = Clock::time_point{std::chrono::hours(24 * 365 * 100)};

ItemId random_id(std::mt19937_64& rng) {
    ItemId id;
    for (auto& b : id.bytes()) b = static_cast<std::uint8_t>(rng());
    return id;
}

void add(ItemSet& set, const ItemId& id) {
    set.add(id, wire::Record{}, ItemClass::certificate, far_future);
}

struct Outcome {
    std::set<ItemId> want, give;
    std::size_t syncs = 0;  // SYNC round trips until nothing differs
};

// What `a` learns by reconciling with `b`, as the service runs it: the opening ranges in SYNCs
// of max_ranges sent at once, then the next ranges their answers leave, in SYNCs of
// follow_up_ranges; `syncs` counts the round trips (waves), at most `rounds`.
Outcome reconcile(const ItemSet& a, const ItemSet& b, std::size_t rounds = 8,
                  const ReconcileLimits& limits = {}) {
    Outcome out;
    auto wave = a.opening(limits.list_max);
    std::size_t per_request = limits.max_ranges;
    while (out.syncs < rounds) {
        ++out.syncs;
        std::vector<wire::SyncRange> next;
        for (const auto& asked : requests_for(std::move(wave), per_request)) {
            const auto answer = answer_sync(b, asked, limits);
            EXPECT_LE(answer.ids.size(), limits.max_ids);
            EXPECT_LE(answer.ranges.size(), limits.max_ranges);
            auto step = follow_sync(a, asked, answer);
            out.want.insert(step.want.begin(), step.want.end());
            out.give.insert(step.give.begin(), step.give.end());
            next.insert(next.end(), step.next.begin(), step.next.end());
        }
        if (next.empty()) break;
        wave = std::move(next);
        per_request = limits.follow_up_ranges;
    }
    return out;
}

TEST(ItemSet, AFingerprintDependsOnTheIdsNotOnTheOrderTheyCameIn) {
    std::mt19937_64 rng(1);
    std::vector<ItemId> ids;
    for (int i = 0; i < 500; ++i) ids.push_back(random_id(rng));
    ItemSet forward, backward;
    for (const auto& id : ids) add(forward, id);
    for (auto it = ids.rbegin(); it != ids.rend(); ++it) add(backward, *it);
    for (const std::string prefix : {"", "a", "3f", "3f1", "00000"}) {
        EXPECT_EQ(forward.range(prefix), backward.range(prefix)) << prefix;
    }
    EXPECT_EQ(forward.range("").count, 500u);
    // The per-byte sums give the same answer as summing the ids one by one.
    std::size_t in_a = 0;
    for (const auto& id : ids) in_a += (id.bytes()[0] >> 4) == 0xa ? 1 : 0;
    EXPECT_EQ(forward.range("a").count, in_a);
    EXPECT_EQ(forward.ids("a").size(), in_a);
}

TEST(ItemSet, ExpiredItemsLeaveTheirRangesAsIfNeverAdded) {
    std::mt19937_64 rng(2);
    ItemSet kept, both;
    const auto now = Clock::time_point{std::chrono::seconds{1'800'000'000}};
    for (int i = 0; i < 100; ++i) {
        const auto id = random_id(rng);
        add(kept, id);
        add(both, id);
    }
    for (int i = 0; i < 30; ++i) both.add(random_id(rng), wire::Record{}, ItemClass::anomaly, now);
    EXPECT_NE(kept.range(""), both.range(""));
    both.expire(now);
    EXPECT_EQ(kept.range(""), both.range(""));
    EXPECT_EQ(both.size(), 100u);
}

TEST(Reconcile, SetsOfTenThousandThatDifferByAFewAgreeAfterOneSync) {
    std::mt19937_64 rng(3);
    ItemSet a, b;
    for (int i = 0; i < 10'000; ++i) {
        const auto id = random_id(rng);
        add(a, id);
        add(b, id);
    }
    std::set<ItemId> only_a, only_b;
    for (int i = 0; i < 5; ++i) only_a.insert(random_id(rng));
    for (int i = 0; i < 7; ++i) only_b.insert(random_id(rng));
    for (const auto& id : only_a) add(a, id);
    for (const auto& id : only_b) add(b, id);

    const auto out = reconcile(a, b);
    EXPECT_EQ(out.want, only_b);
    EXPECT_EQ(out.give, only_a);
    // One SYNC round trip: the opening ranges are fine enough to be listed; then IWANTs fetch.
    EXPECT_EQ(out.syncs, 1u);
}

TEST(Reconcile, ANodeBackAfterADayFindsWhatItMissedInOneSyncRoundTrip) {
    // 60,000 held items (certificates of a large mesh), 300 new ones while it was away.
    std::mt19937_64 rng(4);
    ItemSet away, mesh;
    for (int i = 0; i < 60'000; ++i) {
        const auto id = random_id(rng);
        add(away, id);
        add(mesh, id);
    }
    std::set<ItemId> missed;
    for (int i = 0; i < 300; ++i) missed.insert(random_id(rng));
    for (const auto& id : missed) add(mesh, id);
    const auto out = reconcile(away, mesh);
    EXPECT_EQ(out.want, missed);
    EXPECT_TRUE(out.give.empty());
    EXPECT_EQ(out.syncs, 1u);
}

TEST(Reconcile, ANewNodeLearnsTheWholeSet) {
    std::mt19937_64 rng(5);
    ItemSet fresh, mesh;
    for (int i = 0; i < 3'000; ++i) add(mesh, random_id(rng));
    const auto out = reconcile(fresh, mesh);
    EXPECT_EQ(out.want.size(), 3'000u);
    EXPECT_LE(out.syncs, 3u);
}

TEST(Reconcile, AnAnswerOutsideTheAskedRangesIsIgnored) {
    std::mt19937_64 rng(6);
    ItemSet a;
    for (int i = 0; i < 10; ++i) add(a, random_id(rng));
    const wire::Sync asked{{a.range("0")}};
    wire::SyncResult lying;
    lying.listed = {"1"};  // not asked
    lying.ids = {random_id(rng)};
    lying.ranges = {wire::SyncRange{"23", 5, {}}};  // not under an asked prefix
    const auto step = follow_sync(a, asked, lying);
    EXPECT_TRUE(step.want.empty());
    EXPECT_TRUE(step.give.empty());
    EXPECT_TRUE(step.next.empty());
}

TEST(Reconcile, AnAnswerStaysWithinItsBudgets) {
    std::mt19937_64 rng(7);
    ItemSet big, empty;
    for (int i = 0; i < 20'000; ++i) add(big, random_id(rng));
    ReconcileLimits limits;
    limits.max_ids = 500;
    limits.max_ranges = 32;
    const auto answer = answer_sync(big, wire::Sync{empty.opening(64)}, limits);
    EXPECT_LE(answer.ids.size(), 500u);
    EXPECT_LE(answer.ranges.size(), 32u);
    // What did not fit is still reconciled, over more rounds.
    const auto out = reconcile(empty, big, 200, limits);
    EXPECT_EQ(out.want.size(), 20'000u);
    // Both ways: what the small side holds alone is given.
    ItemSet small;
    const auto extra = random_id(rng);
    add(small, extra);
    const auto both = reconcile(small, big, 200, limits);
    EXPECT_EQ(both.want.size(), 20'000u);
    EXPECT_EQ(both.give, std::set<ItemId>{extra});
}

TEST(SeenCache, ForgetsTheLowestClassFirstAndNeverARevocation) {
    SeenCache seen(4);
    std::mt19937_64 rng(8);
    const auto t = Clock::time_point{std::chrono::seconds{1'800'000'000}};
    const auto r1 = random_id(rng), r2 = random_id(rng), c1 = random_id(rng), a1 = random_id(rng);
    EXPECT_TRUE(seen.insert(r1, ItemClass::revocation, t + 1h));
    EXPECT_TRUE(seen.insert(c1, ItemClass::certificate, t + 1h));
    EXPECT_TRUE(seen.insert(a1, ItemClass::anomaly, t + 2h));
    EXPECT_TRUE(seen.insert(r2, ItemClass::revocation, t + 1h));
    EXPECT_FALSE(seen.insert(r2, ItemClass::revocation, t + 1h));  // a duplicate
    // Full: the anomaly report goes first, then the certificate; revocations stay.
    const auto x = random_id(rng), y = random_id(rng), z = random_id(rng);
    EXPECT_TRUE(seen.insert(x, ItemClass::certificate, t + 3h));
    EXPECT_FALSE(seen.contains(a1));
    EXPECT_TRUE(seen.contains(c1));
    EXPECT_TRUE(seen.insert(y, ItemClass::certificate, t + 3h));
    EXPECT_FALSE(seen.contains(c1));
    EXPECT_TRUE(seen.insert(z, ItemClass::revocation, t + 3h));
    EXPECT_TRUE(seen.contains(r1));
    EXPECT_TRUE(seen.contains(r2));
    EXPECT_TRUE(seen.contains(z));
    EXPECT_LE(seen.size(), 4u);
    EXPECT_EQ(seen.evicted(), 3u);
    // Expiry forgets what is due, revocations included.
    seen.expire(t + 1h);
    EXPECT_FALSE(seen.contains(r1));
    EXPECT_TRUE(seen.contains(z));
}

}  // namespace
}  // namespace nocturne::gossip
