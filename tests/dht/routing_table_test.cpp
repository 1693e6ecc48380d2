#include <nocturne/core/clock.hpp>
#include <nocturne/core/node_id.hpp>
#include <nocturne/dht/routing_table.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <ostream>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace nocturne {
// Readable failure messages. Internal linkage, so another test file may define its own.
[[maybe_unused]] static void PrintTo(const NodeId& id, std::ostream* os) {
    *os << id.to_hex();
}
}  // namespace nocturne

namespace nocturne::dht {
namespace {

using namespace std::chrono_literals;
using Status = RoutingTable::AddResult::Status;

// An id differing from the all-zero self first at bit `bucket` (so it lands in that bucket), made
// unique within the bucket by `n` in the last two bytes.
NodeId in_bucket(std::size_t bucket, std::uint16_t n = 0) {
    NodeId id;
    id[bucket / 8] = static_cast<std::uint8_t>(0x80u >> (bucket % 8));
    id[30] |= static_cast<std::uint8_t>(n >> 8);
    id[31] |= static_cast<std::uint8_t>(n & 0xff);
    return id;
}

// By default every peer its own /24 (from its id's last bytes and its bucket), so that only the
// tests about diversity meet the diversity limits.
std::string own_network(const NodeId& id) {
    std::size_t bucket = 0;
    while (bucket < num_buckets && (id[bucket / 8] & (0x80u >> (bucket % 8))) == 0) ++bucket;
    return "ws://10." + std::to_string(bucket % 256) + "." + std::to_string(id[31]) + "." +
           std::to_string(id[30]) + ":9090";
}

PeerInfo peer(const NodeId& id, std::optional<std::string> address = std::nullopt) {
    PeerInfo p;
    p.id = id;
    p.address = address ? std::move(*address) : own_network(id);
    return p;
}

std::vector<NodeId> ids_of(const std::vector<PeerInfo>& peers) {
    std::vector<NodeId> out;
    for (const auto& p : peers) out.push_back(p.id);
    return out;
}

class RoutingTableTest : public ::testing::Test {
protected:
    ManualClock clock_;
    NodeId self_{};
};

TEST_F(RoutingTableTest, AddAndFind) {
    RoutingTable table(self_, clock_);
    const NodeId id = in_bucket(0);
    ASSERT_EQ(bucket_index(self_, id), 0u);
    EXPECT_EQ(table.add(peer(id)).status, Status::added);
    EXPECT_TRUE(table.contains(id));
    const auto found = table.find(id);
    ASSERT_TRUE(found);
    EXPECT_EQ(found->address, own_network(id));
    EXPECT_EQ(found->last_seen, clock_.now());
    EXPECT_EQ(ids_of(table.closest_n(id, 1)), std::vector<NodeId>{id});
    EXPECT_EQ(table.self(), self_);
    EXPECT_EQ(table.k(), 20u);
}

TEST_F(RoutingTableTest, BucketFull) {
    RoutingTable table(self_, clock_, 3);
    for (std::uint16_t i = 1; i <= 3; ++i) {
        EXPECT_EQ(table.add(peer(in_bucket(0, i))).status, Status::added);
        clock_.advance(1s);
    }
    const auto r = table.add(peer(in_bucket(0, 4)));
    EXPECT_EQ(r.status, Status::cached);
    ASSERT_TRUE(r.eviction_candidate);
    EXPECT_EQ(r.eviction_candidate->id, in_bucket(0, 1));  // the least recently seen
    EXPECT_EQ(table.closest_n(in_bucket(0), 4).size(), 3u);
    EXPECT_EQ(table.size(), 3u);
    EXPECT_EQ(table.replacement_count(), 1u);
    EXPECT_FALSE(table.contains(in_bucket(0, 4)));
}

TEST_F(RoutingTableTest, ClosestNOrdering) {
    RoutingTable table(self_, clock_);
    NodeId low;  // byte 31 = 0x01: bucket 255, nearest to self
    low[31] = 0x01;
    NodeId high;  // byte 0 = 0x80: bucket 0, farthest
    high[0] = 0x80;
    NodeId mid;  // byte 15 = 0x01
    mid[15] = 0x01;
    for (const auto& id : {high, mid, low}) ASSERT_EQ(table.add(peer(id)).status, Status::added);

    EXPECT_EQ(ids_of(table.closest_n(self_, 3)), (std::vector<NodeId>{low, mid, high}));
    EXPECT_EQ(ids_of(table.closest_n(self_, 1)), std::vector<NodeId>{low});
    EXPECT_EQ(ids_of(table.closest_n(high, 3)), (std::vector<NodeId>{high, low, mid}));
    NodeId near_mid = mid;
    near_mid[20] = 0xff;
    EXPECT_EQ(ids_of(table.closest_n(near_mid, 3)), (std::vector<NodeId>{mid, low, high}));
}

TEST_F(RoutingTableTest, ClosestNAmongKeptPeersLooksFurtherUntilNAreKeptAndAsksOnlyThoseNeeded) {
    RoutingTable table(self_, clock_);
    std::vector<NodeId> ids;
    for (std::size_t b = 0; b < 8; ++b) {
        ids.push_back(in_bucket(b));
        ASSERT_EQ(table.add(peer(ids.back())).status, Status::added);
    }
    // Keep only even buckets; the target sits in bucket 7, so 7, then 6, 5, ... by distance.
    std::set<NodeId> asked;
    const auto kept = table.closest_n(ids[7], 2, [&](const PeerInfo& p) {
        asked.insert(p.id);
        return p.id == ids[0] || p.id == ids[2] || p.id == ids[4] || p.id == ids[6];
    });
    EXPECT_EQ(ids_of(kept), (std::vector<NodeId>{ids[6], ids[4]}));
    EXPECT_FALSE(asked.contains(ids[0])) << "bucket 0 was not needed";
    EXPECT_EQ(table.closest_n(ids[7], 10, [](const PeerInfo&) { return false; }).size(), 0u);
}

TEST_F(RoutingTableTest, ClosestNWithNLargerThanSizeAndZero) {
    RoutingTable table(self_, clock_);
    EXPECT_TRUE(table.closest_n(self_, 5).empty());
    table.add(peer(in_bucket(3)));
    table.add(peer(in_bucket(7)));
    EXPECT_EQ(table.closest_n(self_, 100).size(), 2u);
    EXPECT_TRUE(table.closest_n(self_, 0).empty());
}

TEST_F(RoutingTableTest, Remove) {
    RoutingTable table(self_, clock_);
    const NodeId id = in_bucket(10);
    table.add(peer(id));
    EXPECT_TRUE(table.remove(id));
    EXPECT_FALSE(table.contains(id));
    EXPECT_EQ(table.size(), 0u);
    EXPECT_TRUE(table.closest_n(id, 1).empty());
    EXPECT_FALSE(table.remove(id));
}

TEST_F(RoutingTableTest, RemoveDropsFromReplacementCacheAndPromotes) {
    RoutingTable table(self_, clock_, 1);
    table.add(peer(in_bucket(0, 1)));
    table.add(peer(in_bucket(0, 2)));
    table.add(peer(in_bucket(0, 3)));  // cache of 1: drops 2
    EXPECT_EQ(table.replacement_count(), 1u);
    EXPECT_FALSE(table.remove(in_bucket(0, 2)));
    EXPECT_TRUE(table.remove(in_bucket(0, 1)));  // promotes 3
    EXPECT_TRUE(table.contains(in_bucket(0, 3)));
    EXPECT_EQ(table.replacement_count(), 0u);

    table.add(peer(in_bucket(0, 4)));
    EXPECT_TRUE(table.remove(in_bucket(0, 4)));  // from the cache
    EXPECT_EQ(table.replacement_count(), 0u);
    EXPECT_TRUE(table.contains(in_bucket(0, 3)));
}

TEST_F(RoutingTableTest, StaleBuckets) {
    RoutingTable table(self_, clock_);
    table.add(peer(in_bucket(0)));
    table.add(peer(in_bucket(5)));
    EXPECT_TRUE(table.stale_buckets(1h).empty());

    clock_.advance(1h);
    EXPECT_TRUE(table.stale_buckets(1h).empty());  // "older than": exactly max_age is not stale
    clock_.advance(1ms);
    EXPECT_EQ(table.stale_buckets(1h), (std::vector<std::size_t>{0, 5}));

    table.mark_refreshed(5);
    EXPECT_EQ(table.stale_buckets(1h), std::vector<std::size_t>{0});
    table.add(peer(in_bucket(0)));  // an update refreshes too
    EXPECT_TRUE(table.stale_buckets(1h).empty());

    table.mark_refreshed(num_buckets);  // out of range: ignored
    table.mark_refreshed(static_cast<std::size_t>(-1));
}

TEST_F(RoutingTableTest, StaleBucketsSkipsEmptyBuckets) {
    RoutingTable table(self_, clock_);
    clock_.advance(2h);
    EXPECT_TRUE(table.stale_buckets(1h).empty());  // all 256 are empty
    table.add(peer(in_bucket(9)));
    table.remove(in_bucket(9));
    clock_.advance(2h);
    EXPECT_TRUE(table.stale_buckets(1h).empty());
}

TEST_F(RoutingTableTest, PingSuccessAndCachedAddRefreshBucket) {
    RoutingTable table(self_, clock_, 1);
    table.add(peer(in_bucket(0, 1)));
    clock_.advance(2h);
    table.on_ping_succeeded(in_bucket(0, 1));
    EXPECT_TRUE(table.stale_buckets(1h).empty());
    clock_.advance(2h);
    EXPECT_EQ(table.add(peer(in_bucket(0, 2))).status, Status::cached);
    EXPECT_TRUE(table.stale_buckets(1h).empty());
}

TEST_F(RoutingTableTest, Size) {
    RoutingTable table(self_, clock_);
    EXPECT_EQ(table.size(), 0u);
    for (std::size_t b = 0; b < 10; ++b) table.add(peer(in_bucket(b)));
    EXPECT_EQ(table.size(), 10u);
    table.add(peer(in_bucket(3)));  // update, not a new peer
    EXPECT_EQ(table.size(), 10u);
    table.remove(in_bucket(3));
    EXPECT_EQ(table.size(), 9u);
    EXPECT_EQ(table.all_peers().size(), 9u);
}

TEST_F(RoutingTableTest, SelfIsRejected) {
    RoutingTable table(self_, clock_);
    EXPECT_EQ(table.add(peer(self_)).status, Status::rejected_self);
    EXPECT_EQ(table.size(), 0u);
    EXPECT_FALSE(table.contains(self_));
}

TEST_F(RoutingTableTest, ZeroKActsAsOne) {
    RoutingTable table(self_, clock_, 0);
    EXPECT_EQ(table.k(), 1u);
    EXPECT_EQ(table.add(peer(in_bucket(0, 1))).status, Status::added);
    EXPECT_EQ(table.add(peer(in_bucket(0, 2))).status, Status::cached);
}

TEST_F(RoutingTableTest, UpdateMovesToTailAndChangesAddress) {
    RoutingTable table(self_, clock_, 3);
    for (std::uint16_t i = 1; i <= 3; ++i) table.add(peer(in_bucket(0, i)));
    table.on_request_failed(in_bucket(0, 1));
    clock_.advance(5s);

    auto updated = peer(in_bucket(0, 1), "ws://127.0.0.2:7000");
    updated.operator_id = "op";
    updated.failed_requests = 42;  // ignored: the table counts failures itself
    EXPECT_EQ(table.add(updated).status, Status::updated);

    const auto found = table.find(in_bucket(0, 1));
    ASSERT_TRUE(found);
    EXPECT_EQ(found->address, "ws://127.0.0.2:7000");
    EXPECT_EQ(found->operator_id, "op");
    EXPECT_EQ(found->last_seen, clock_.now());
    EXPECT_EQ(found->failed_requests, 0u);
    EXPECT_EQ(ids_of(table.all_peers()),
              (std::vector<NodeId>{in_bucket(0, 2), in_bucket(0, 3), in_bucket(0, 1)}));
    // The head is now 2, so it is the next eviction candidate.
    EXPECT_EQ(table.add(peer(in_bucket(0, 4))).eviction_candidate->id, in_bucket(0, 2));
}

TEST_F(RoutingTableTest, EvictionFlowCandidateFailsNewcomerPromoted) {
    RoutingTable table(self_, clock_, 3);
    for (std::uint16_t i = 1; i <= 3; ++i) table.add(peer(in_bucket(0, i)));
    const auto r = table.add(peer(in_bucket(0, 9)));
    ASSERT_EQ(r.status, Status::cached);
    ASSERT_TRUE(r.eviction_candidate);

    table.evict(r.eviction_candidate->id);  // the ping timed out
    EXPECT_FALSE(table.contains(in_bucket(0, 1)));
    EXPECT_TRUE(table.contains(in_bucket(0, 9)));
    EXPECT_EQ(table.size(), 3u);
    EXPECT_EQ(table.replacement_count(), 0u);
}

TEST_F(RoutingTableTest, EvictionFlowCandidateAnswersNewcomerStaysCached) {
    RoutingTable table(self_, clock_, 3);
    for (std::uint16_t i = 1; i <= 3; ++i) table.add(peer(in_bucket(0, i)));
    const auto r = table.add(peer(in_bucket(0, 9)));
    ASSERT_TRUE(r.eviction_candidate);
    clock_.advance(1s);

    table.on_ping_succeeded(r.eviction_candidate->id);
    EXPECT_TRUE(table.contains(in_bucket(0, 1)));
    EXPECT_EQ(table.find(in_bucket(0, 1))->last_seen, clock_.now());
    EXPECT_FALSE(table.contains(in_bucket(0, 9)));
    EXPECT_EQ(table.replacement_count(), 1u);
    EXPECT_EQ(ids_of(table.all_peers()).back(), in_bucket(0, 1));  // moved to the tail

    // The newcomer is still there for the next vacancy.
    table.remove(in_bucket(0, 2));
    EXPECT_TRUE(table.contains(in_bucket(0, 9)));
}

TEST_F(RoutingTableTest, PromotedPeerKeepsBucketOrderedByLastSeen) {
    RoutingTable table(self_, clock_, 3);
    table.add(peer(in_bucket(0, 1)));
    clock_.advance(1s);
    table.add(peer(in_bucket(0, 2)));
    clock_.advance(1s);
    table.add(peer(in_bucket(0, 3)));
    clock_.advance(1s);
    table.add(peer(in_bucket(0, 9)));  // cached at t+3
    clock_.advance(1s);
    table.on_ping_succeeded(in_bucket(0, 1));  // t+4: order 2, 3, 1
    table.evict(in_bucket(0, 2));
    EXPECT_EQ(ids_of(table.all_peers()),
              (std::vector<NodeId>{in_bucket(0, 3), in_bucket(0, 9), in_bucket(0, 1)}));
}

TEST_F(RoutingTableTest, ReplacementCacheIsBoundedAndKeepsNewest) {
    RoutingTable::Options options;
    options.replacement_cache_size = 2;
    RoutingTable table(self_, clock_, 1, options);
    table.add(peer(in_bucket(0, 1)));
    for (std::uint16_t i = 2; i <= 5; ++i)
        EXPECT_EQ(table.add(peer(in_bucket(0, i))).status, Status::cached);
    EXPECT_EQ(table.replacement_count(), 2u);  // 4 and 5

    table.evict(in_bucket(0, 1));
    EXPECT_EQ(ids_of(table.all_peers()), std::vector<NodeId>{in_bucket(0, 5)});
    table.evict(in_bucket(0, 5));
    EXPECT_EQ(ids_of(table.all_peers()), std::vector<NodeId>{in_bucket(0, 4)});
    table.evict(in_bucket(0, 4));
    EXPECT_EQ(table.size(), 0u);  // 2 and 3 were dropped long ago
    EXPECT_EQ(table.replacement_count(), 0u);
}

TEST_F(RoutingTableTest, ReplacementCacheDefaultsToK) {
    RoutingTable table(self_, clock_, 2);
    table.add(peer(in_bucket(0, 1)));
    table.add(peer(in_bucket(0, 2)));
    for (std::uint16_t i = 3; i <= 10; ++i) table.add(peer(in_bucket(0, i)));
    EXPECT_EQ(table.replacement_count(), 2u);
}

TEST_F(RoutingTableTest, ReaddingCachedPeerRefreshesIt) {
    RoutingTable::Options options;
    options.replacement_cache_size = 2;
    RoutingTable table(self_, clock_, 1, options);
    table.add(peer(in_bucket(0, 1)));
    table.add(peer(in_bucket(0, 2)));
    table.add(peer(in_bucket(0, 3)));
    EXPECT_EQ(table.add(peer(in_bucket(0, 2), "ws://127.0.0.9:1")).status, Status::cached);
    EXPECT_EQ(table.replacement_count(), 2u);
    table.add(peer(in_bucket(0, 4)));  // drops the oldest, which is now 3

    table.evict(in_bucket(0, 1));
    EXPECT_EQ(ids_of(table.all_peers()), std::vector<NodeId>{in_bucket(0, 4)});
    table.evict(in_bucket(0, 4));
    const auto promoted = table.find(in_bucket(0, 2));
    ASSERT_TRUE(promoted);
    EXPECT_EQ(promoted->address, "ws://127.0.0.9:1");
    EXPECT_EQ(table.replacement_count(), 0u);
}

TEST_F(RoutingTableTest, CachedPeerIsAddedWhenRoomAppears) {
    RoutingTable table(self_, clock_, 1);
    table.add(peer(in_bucket(0, 1)));
    table.add(peer(in_bucket(0, 2), "ws://4.4.4.2:1"));  // cached
    table.add(peer(in_bucket(1, 1), "ws://4.4.4.3:1"));
    table.add(peer(in_bucket(2, 1), "ws://4.4.4.4:1"));
    table.add(peer(in_bucket(3, 1), "ws://4.4.4.5:1"));
    table.remove(in_bucket(0, 1));  // 2 would be a fourth 4.4.4: not promoted
    EXPECT_FALSE(table.contains(in_bucket(0, 2)));
    table.remove(in_bucket(1, 1));
    EXPECT_EQ(table.add(peer(in_bucket(0, 2), "ws://4.4.4.2:1")).status, Status::added);
    EXPECT_EQ(table.replacement_count(), 0u);
}

TEST_F(RoutingTableTest, RequestFailuresEvictAfterMaxFailuresAndPromote) {
    RoutingTable table(self_, clock_, 2);
    table.add(peer(in_bucket(0, 1)));
    table.add(peer(in_bucket(0, 2)));
    table.add(peer(in_bucket(0, 3)));  // cached
    for (int i = 0; i < 4; ++i) table.on_request_failed(in_bucket(0, 1));
    ASSERT_TRUE(table.contains(in_bucket(0, 1)));
    EXPECT_EQ(table.find(in_bucket(0, 1))->failed_requests, 4u);

    table.on_request_failed(in_bucket(0, 1));
    EXPECT_FALSE(table.contains(in_bucket(0, 1)));
    EXPECT_TRUE(table.contains(in_bucket(0, 3)));
    EXPECT_EQ(table.size(), 2u);
    table.on_request_failed(in_bucket(0, 1));  // unknown now: ignored
}

TEST_F(RoutingTableTest, PingSuccessResetsFailures) {
    RoutingTable::Options options;
    options.max_failures = 2;
    RoutingTable table(self_, clock_, 20, options);
    table.add(peer(in_bucket(4)));
    table.on_request_failed(in_bucket(4));
    table.on_ping_succeeded(in_bucket(4));
    table.on_request_failed(in_bucket(4));
    EXPECT_TRUE(table.contains(in_bucket(4)));
    table.on_request_failed(in_bucket(4));
    EXPECT_FALSE(table.contains(in_bucket(4)));
}

TEST_F(RoutingTableTest, MaxFailuresZeroActsAsOne) {
    RoutingTable::Options options;
    options.max_failures = 0;
    RoutingTable table(self_, clock_, 20, options);
    table.add(peer(in_bucket(4)));
    table.on_request_failed(in_bucket(4));
    EXPECT_FALSE(table.contains(in_bucket(4)));
}

TEST_F(RoutingTableTest, FailedCachedPeerIsDropped) {
    RoutingTable table(self_, clock_, 1);
    table.add(peer(in_bucket(0, 1)));
    table.add(peer(in_bucket(0, 2)));
    table.on_request_failed(in_bucket(0, 2));
    EXPECT_EQ(table.replacement_count(), 0u);
    table.evict(in_bucket(0, 1));
    EXPECT_EQ(table.size(), 0u);
}

TEST_F(RoutingTableTest, UnknownIdsAreIgnored) {
    RoutingTable table(self_, clock_);
    table.on_ping_succeeded(in_bucket(1));
    table.on_request_failed(in_bucket(1));
    table.evict(in_bucket(1));
    table.on_ping_succeeded(self_);
    table.on_request_failed(self_);
    EXPECT_FALSE(table.remove(self_));
    EXPECT_FALSE(table.find(in_bucket(1)));
    EXPECT_EQ(table.size(), 0u);
}

// --- IP diversity -----------------------------------------------------------------------------

TEST_F(RoutingTableTest, ThirdPeerFromSameSlash24InBucketIsRejected) {
    RoutingTable table(self_, clock_);
    EXPECT_EQ(table.add(peer(in_bucket(0, 1), "ws://1.2.3.4:9090")).status, Status::added);
    EXPECT_EQ(table.add(peer(in_bucket(0, 2), "ws://1.2.3.5:9090")).status, Status::added);
    EXPECT_EQ(table.add(peer(in_bucket(0, 3), "ws://1.2.3.6:9090")).status,
              Status::rejected_diversity);
    EXPECT_FALSE(table.contains(in_bucket(0, 3)));
    EXPECT_EQ(table.replacement_count(), 0u);
    // Another /24, or the same /24 in another bucket, is fine.
    EXPECT_EQ(table.add(peer(in_bucket(0, 4), "ws://1.2.4.6:9090")).status, Status::added);
    EXPECT_EQ(table.add(peer(in_bucket(1, 1), "ws://1.2.3.7:9090")).status, Status::added);
}

TEST_F(RoutingTableTest, FourthPeerFromSameSlash24InTableIsRejected) {
    RoutingTable table(self_, clock_);
    for (std::size_t b = 0; b < 3; ++b)
        EXPECT_EQ(table.add(peer(in_bucket(b), "ws://9.9.9." + std::to_string(b) + ":1")).status,
                  Status::added);
    EXPECT_EQ(table.add(peer(in_bucket(3), "ws://9.9.9.200:1")).status, Status::rejected_diversity);
    // Removing one frees a slot.
    table.remove(in_bucket(0));
    EXPECT_EQ(table.add(peer(in_bucket(3), "ws://9.9.9.200:1")).status, Status::added);
}

TEST_F(RoutingTableTest, DiversityRejectedPeerIsNotCached) {
    RoutingTable table(self_, clock_, 2);
    table.add(peer(in_bucket(0, 1), "ws://5.5.5.1:1"));
    table.add(peer(in_bucket(0, 2), "ws://5.5.5.2:1"));
    const auto r = table.add(peer(in_bucket(0, 3), "ws://5.5.5.3:1"));
    EXPECT_EQ(r.status, Status::rejected_diversity);
    EXPECT_FALSE(r.eviction_candidate);
    EXPECT_EQ(table.replacement_count(), 0u);
}

TEST_F(RoutingTableTest, HostNamesAreExemptAndLoopbackOnlyWhenConfigured) {
    {
        RoutingTable strict(self_, clock_);
        for (std::uint16_t i = 1; i <= 3; ++i) {
            EXPECT_EQ(
                strict.add(peer(in_bucket(0, i), "ws://127.0.0.1:" + std::to_string(9000 + i)))
                    .status,
                i <= 2 ? Status::added : Status::rejected_diversity);
        }
    }
    RoutingTableOptions options;
    options.exempt_loopback = true;
    RoutingTable table(self_, clock_, 20, options);
    for (std::uint16_t i = 1; i <= 10; ++i) {
        EXPECT_EQ(
            table.add(peer(in_bucket(0, i), "ws://127.0.0.1:" + std::to_string(9000 + i))).status,
            Status::added);
    }
    for (std::uint16_t i = 1; i <= 5; ++i)
        EXPECT_EQ(table.add(peer(in_bucket(1, i), "ws://[::1]:9090")).status, Status::added);
    for (std::uint16_t i = 1; i <= 5; ++i)
        EXPECT_EQ(table.add(peer(in_bucket(2, i), "wss://node.example:443")).status, Status::added);
    EXPECT_EQ(table.size(), 20u);
}

TEST_F(RoutingTableTest, Ipv6GroupsBySlash64) {
    RoutingTable table(self_, clock_);
    EXPECT_EQ(table.add(peer(in_bucket(0, 1), "ws://[2001:db8:0:1::1]:9090")).status,
              Status::added);
    EXPECT_EQ(table.add(peer(in_bucket(0, 2), "ws://[2001:db8:0:1::2]:9090")).status,
              Status::added);
    EXPECT_EQ(table.add(peer(in_bucket(0, 3), "ws://[2001:db8:0:1:ffff::3]:9090")).status,
              Status::rejected_diversity);
    EXPECT_EQ(table.add(peer(in_bucket(0, 4), "ws://[2001:db8:0:2::1]:9090")).status,
              Status::added);
}

TEST_F(RoutingTableTest, DiversityLimitsCanBeDisabled) {
    RoutingTable::Options options;
    options.max_per_bucket_per_group = 0;
    options.max_per_table_per_group = 0;
    RoutingTable table(self_, clock_, 20, options);
    for (std::uint16_t i = 1; i <= 10; ++i)
        EXPECT_EQ(table.add(peer(in_bucket(0, i), "ws://192.168.1.10:9090")).status, Status::added);
}

TEST_F(RoutingTableTest, UpdateIntoFullGroupIsRejectedAndKeepsOldEntry) {
    RoutingTable table(self_, clock_);
    table.add(peer(in_bucket(0, 1), "ws://1.1.1.1:1"));
    table.add(peer(in_bucket(0, 2), "ws://1.1.1.2:1"));
    table.add(peer(in_bucket(0, 3), "ws://2.2.2.2:1"));
    EXPECT_EQ(table.add(peer(in_bucket(0, 3), "ws://1.1.1.3:1")).status,
              Status::rejected_diversity);
    EXPECT_EQ(table.find(in_bucket(0, 3))->address, "ws://2.2.2.2:1");
    // Same group, new port: fine.
    EXPECT_EQ(table.add(peer(in_bucket(0, 1), "ws://1.1.1.1:2")).status, Status::updated);
    // Moving 1 out of the group frees room in it.
    EXPECT_EQ(table.add(peer(in_bucket(0, 1), "ws://3.3.3.3:1")).status, Status::updated);
    EXPECT_EQ(table.add(peer(in_bucket(0, 3), "ws://1.1.1.3:1")).status, Status::updated);
    EXPECT_EQ(table.add(peer(in_bucket(0, 4), "ws://1.1.1.4:1")).status,
              Status::rejected_diversity);
}

TEST_F(RoutingTableTest, PromotionSkipsReplacementsOverTheLimit) {
    RoutingTable table(self_, clock_, 2);
    table.add(peer(in_bucket(0, 1), "ws://7.7.7.1:1"));
    table.add(peer(in_bucket(0, 2), "ws://8.8.8.1:1"));
    ASSERT_EQ(table.add(peer(in_bucket(0, 4), "ws://6.6.6.1:1")).status, Status::cached);
    ASSERT_EQ(table.add(peer(in_bucket(0, 3), "ws://7.7.7.2:1")).status, Status::cached);
    table.add(peer(in_bucket(1, 1), "ws://7.7.7.3:1"));
    table.add(peer(in_bucket(2, 1), "ws://7.7.7.4:1"));  // the table holds three of 7.7.7 now
    table.evict(in_bucket(0, 2));
    // 3, the newest, would be a fourth 7.7.7: 4 is promoted and 3 stays cached.
    EXPECT_TRUE(table.contains(in_bucket(0, 4)));
    EXPECT_FALSE(table.contains(in_bucket(0, 3)));
    EXPECT_EQ(table.replacement_count(), 1u);
    table.remove(in_bucket(1, 1));
    table.evict(in_bucket(0, 4));
    EXPECT_TRUE(table.contains(in_bucket(0, 3)));
}

TEST_F(RoutingTableTest, MalformedAddressesDoNotCrash) {
    RoutingTable table(self_, clock_);
    const std::vector<std::string> addresses = {"",
                                                "ws://",
                                                "ws://[::1",
                                                "garbage",
                                                std::string(100'000, 'x'),
                                                "ws://" + std::string(100'000, ':'),
                                                "ws://[" + std::string(100'000, 'f'),
                                                "ws://]:[:@@:",
                                                std::string("ws://1.2.3.4\0:1", 15),
                                                "ws://[::ffff:999.1.1.1]:1"};
    std::uint16_t n = 0;
    for (const auto& a : addresses) {
        // Unparsable hosts are stored and exempt from the diversity limits.
        EXPECT_EQ(table.add(peer(in_bucket(0, ++n), a)).status, Status::added) << a.substr(0, 40);
        EXPECT_EQ(table.find(in_bucket(0, n))->address, a);
    }
    EXPECT_EQ(table.size(), addresses.size());
}

// --- Properties ---------------------------------------------------------------------------------

NodeId random_id(std::mt19937& rng) {
    NodeId id;
    for (auto& b : id.bytes()) b = static_cast<std::uint8_t>(rng() & 0xff);
    return id;
}

// The reference: every peer, sorted by its XOR distance as a big-endian number.
std::vector<NodeId> brute_force_closest(const std::vector<PeerInfo>& peers, const NodeId& target) {
    std::vector<std::pair<NodeId, NodeId>> by_distance;  // (distance, id)
    for (const auto& p : peers) by_distance.emplace_back(xor_distance(target, p.id), p.id);
    std::sort(by_distance.begin(), by_distance.end(), [](const auto& a, const auto& b) {
        return std::memcmp(a.first.bytes().data(), b.first.bytes().data(), NodeId::size) < 0;
    });
    std::vector<NodeId> ids;
    for (const auto& [distance, id] : by_distance) ids.push_back(id);
    return ids;
}

TEST_F(RoutingTableTest, RandomizedClosestMatchesBruteForce) {
    std::mt19937 rng(20240601);
    const NodeId self = random_id(rng);
    RoutingTable table(self, clock_, 20);
    std::vector<NodeId> inserted;
    for (int i = 0; i < 2000; ++i) {
        const NodeId id = random_id(rng);
        // Near ids too, so that the deep buckets are not all empty.
        NodeId near = self;
        near[31 - static_cast<std::size_t>(i % 12)] ^= static_cast<std::uint8_t>(rng() | 1);
        for (const auto& x : {id, near}) {
            table.add(peer(x));
            inserted.push_back(x);
        }
        clock_.advance(1ms);
    }
    const auto all = table.all_peers();
    ASSERT_EQ(all.size(), table.size());
    ASSERT_GT(table.size(), 100u);
    ASSERT_GT(table.replacement_count(), 0u);

    std::vector<NodeId> targets = {self};
    for (int i = 0; i < 100; ++i) targets.push_back(random_id(rng));
    for (int i = 0; i < 50; ++i) targets.push_back(inserted[rng() % inserted.size()]);
    for (std::size_t bit = 0; bit < num_buckets; bit += 5) {
        NodeId t = self;
        t[bit / 8] ^= static_cast<std::uint8_t>(0x80u >> (bit % 8));
        targets.push_back(t);
    }
    for (const auto& target : targets) {
        const auto expected = brute_force_closest(all, target);
        for (std::size_t n : {std::size_t{1}, std::size_t{20}, std::size_t{57}}) {
            ASSERT_EQ(ids_of(table.closest_n(target, n)),
                      std::vector<NodeId>(expected.begin(), expected.begin() + n))
                << target.to_hex() << " n=" << n;
        }
    }
    EXPECT_EQ(ids_of(table.closest_n(self, table.size() + 1)), brute_force_closest(all, self));
}

TEST_F(RoutingTableTest, RandomizedChurnKeepsInvariants) {
    std::mt19937 rng(7);
    const NodeId self = random_id(rng);
    RoutingTable::Options options;
    options.max_failures = 2;
    RoutingTable table(self, clock_, 4, options);
    std::vector<NodeId> known;
    std::map<Status, int> seen;
    for (int step = 0; step < 20000; ++step) {
        clock_.advance(1ms);
        const auto op = rng() % 6;
        if (op < 2 || known.empty()) {
            NodeId id = random_id(rng);
            // Only buckets 0-3, so that they fill and the caches and evictions get exercised.
            constexpr std::uint8_t flips[] = {0x80, 0x40, 0x20, 0x10};
            id[0] = self[0] ^ flips[rng() % 4];
            const std::string address =
                "ws://10.0." + std::to_string(rng() % 4) + "." + std::to_string(rng() % 256) + ":1";
            const auto r = table.add(peer(id, address));
            ++seen[r.status];
            if (r.status == Status::cached) {
                ASSERT_TRUE(r.eviction_candidate);
                ASSERT_TRUE(table.contains(r.eviction_candidate->id));
            }
            known.push_back(id);
        } else {
            const NodeId& id = known[rng() % known.size()];
            switch (op) {
                case 2:
                    table.on_ping_succeeded(id);
                    break;
                case 3:
                    table.on_request_failed(id);
                    break;
                case 4:
                    table.evict(id);
                    break;
                default:
                    table.add(peer(id, "ws://10.0.9.9:1"));
                    break;
            }
        }
        if (step % 500 == 0) {
            const auto all = table.all_peers();
            ASSERT_EQ(all.size(), table.size());
            std::vector<std::size_t> per_bucket(num_buckets);
            std::map<std::string, std::size_t> per_group;
            std::map<std::pair<std::size_t, std::string>, std::size_t> per_bucket_group;
            for (const auto& p : all) {
                const auto b = bucket_index(self, p.id);
                ASSERT_LE(++per_bucket[b], table.k());
                ASSERT_TRUE(table.contains(p.id));
                const auto g = p.address.substr(0, p.address.rfind('.'));
                ASSERT_LE(++per_group[g], 3u) << g;
                ASSERT_LE(++per_bucket_group[std::make_pair(b, g)], 2u) << g;
            }
        }
    }
    EXPECT_GT(seen[Status::added], 0);
    EXPECT_GT(seen[Status::cached], 0);
    EXPECT_GT(seen[Status::rejected_diversity], 0);
}

}  // namespace
}  // namespace nocturne::dht
