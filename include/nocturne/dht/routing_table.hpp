#pragma once

#include <nocturne/core/clock.hpp>
#include <nocturne/core/node_id.hpp>
#include <nocturne/dht/ip_group.hpp>
#include <nocturne/dht/peer_info.hpp>

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <vector>

namespace nocturne::dht {

// At namespace scope rather than nested: a nested struct with member initializers cannot be the
// default argument of its enclosing class's constructor.
struct RoutingTableOptions {
    // IP diversity limits (see ip_group_of for what is exempt). 0 disables a limit, e.g. for a
    // private mesh whose nodes all sit in one LAN /24.
    std::size_t max_per_bucket_per_group = 2;
    std::size_t max_per_table_per_group = 3;
    // Loopback addresses are subject to the limits like any others, unless this says so: a test
    // mesh, or a mesh of several nodes on one host.
    bool exempt_loopback = false;
    // Per-bucket replacement cache capacity; 0 means k.
    std::size_t replacement_cache_size = 0;
    // Consecutive failed requests after which on_request_failed evicts a peer; 0 acts as 1.
    unsigned max_failures = 5;
};

// Kademlia routing table: 256 k-buckets indexed by bucket_index(self, id), bucket 0 holding the
// farthest half of the key space. Each bucket lists its peers from least to most recently seen and
// keeps a bounded replacement cache of newcomers that arrived while it was full.
//
// When a bucket is full, add() neither drops the newcomer nor evicts anyone: it caches the newcomer
// and names the bucket's least recently seen peer, which the caller pings. Live old peers are
// preferred (Kademlia's observation that uptime predicts uptime, and what makes flooding the table
// with fresh ids useless); a candidate that does not answer is evict()ed and the newest cached peer
// takes its place:
//
//   auto r = table.add(peer);
//   if (r.status == RoutingTable::AddResult::Status::cached)
//       ping(r.eviction_candidate->id);  // then on_ping_succeeded(id), or evict(id) on timeout
//
// The diversity limits only mean something for addresses the caller has verified (for example by
// connecting to them); a peer's self-reported address can name any network, or a host name.
//
// Owned by the node's io_context thread; not thread-safe.
class RoutingTable {
public:
    using Options = RoutingTableOptions;

    struct AddResult {
        enum class Status {
            added,    // inserted into its bucket
            updated,  // was already in its bucket: refreshed and moved to the tail
            cached,   // bucket full: held in the replacement cache; ping eviction_candidate
            rejected_self,
            rejected_diversity,  // too many peers from its /24 (/64): neither stored nor cached
        };
        Status status = Status::added;
        // Set with cached: the bucket's least recently seen peer.
        std::optional<PeerInfo> eviction_candidate;
    };

    // k is at least 1 (a k of 0 is taken as 1).
    RoutingTable(NodeId self, const Clock& clock, std::size_t k = 20, Options options = {});

    // Records that the peer was heard from. last_seen becomes now and failed_requests 0, whatever
    // the argument says. The address is not validated: one without a parsable IP host is stored
    // but exempt from the diversity limits (rejecting it would not stop an attacker, who can
    // always name a host, and the transport is where unreachable addresses are found out).
    // An update that would move a peer into a network over the limits is rejected_diversity and
    // leaves the stored entry as it was.
    AddResult add(const PeerInfo& peer);

    // The peer answered (typically the eviction candidate's ping): moves it to the tail of its
    // bucket and clears its failures. A cached peer is refreshed in its cache. Unknown ids are
    // ignored.
    void on_ping_succeeded(const NodeId& id);
    // A request to the peer failed. At Options::max_failures consecutive failures it is evicted
    // (with promotion from the cache). A cached peer is dropped at once: a replacement is only
    // worth keeping while it is alive.
    void on_request_failed(const NodeId& id);
    // Removes the peer and promotes the newest cached peer of its bucket that fits the diversity
    // limits. The same as remove(); named for the ping-the-oldest flow.
    void evict(const NodeId& id);
    // Removes the peer from its bucket (promoting a replacement) or from the replacement cache.
    // Returns whether it was found.
    bool remove(const NodeId& id);

    // Up to n bucket peers (never cached ones), closest to target by XOR distance first.
    std::vector<PeerInfo> closest_n(const NodeId& target, std::size_t n) const;
    // The same among the peers `keep` accepts; keep is asked only about peers near enough to
    // matter (whole buckets in distance order, until n are kept).
    std::vector<PeerInfo> closest_n(const NodeId& target, std::size_t n,
                                    const std::function<bool(const PeerInfo&)>& keep) const;

    // Indices of non-empty buckets not refreshed for longer than max_age, ascending. A bucket is
    // refreshed by any add() into its range (added, updated or cached), by a ping success of one
    // of its peers, and by mark_refreshed. Empty buckets are never stale: the far ones are almost
    // all empty in any real network and a lookup into them finds nothing, while the near ones are
    // filled by the node's periodic lookup of its own id.
    std::vector<std::size_t> stale_buckets(Clock::duration max_age) const;
    // Out-of-range indices are ignored.
    void mark_refreshed(std::size_t bucket);

    // Bucket peers only; the replacement caches are counted by replacement_count.
    std::size_t size() const { return size_; }
    std::size_t replacement_count() const { return replacement_count_; }
    const NodeId& self() const { return self_; }
    std::size_t k() const { return k_; }
    // contains and find look at the buckets, not the replacement caches.
    bool contains(const NodeId& id) const;
    std::optional<PeerInfo> find(const NodeId& id) const;
    // Every bucket peer, bucket 0 first, each bucket from least to most recently seen.
    std::vector<PeerInfo> all_peers() const;

private:
    struct Entry {
        PeerInfo info;
        std::optional<IpGroup> group;  // cached parse of info.address; nullopt when exempt
    };
    struct Bucket {
        std::vector<Entry> peers;         // least recently seen first
        std::vector<Entry> replacements;  // oldest first
        Clock::time_point refreshed;
    };

    Bucket& bucket_for(const NodeId& id) { return buckets_[bucket_index(self_, id)]; }
    const Bucket& bucket_for(const NodeId& id) const { return buckets_[bucket_index(self_, id)]; }
    bool diversity_allows(const Bucket& bucket, const std::optional<IpGroup>& group) const;
    void count_group(const std::optional<IpGroup>& group);
    void uncount_group(const std::optional<IpGroup>& group);
    void remove_peer_at(Bucket& bucket, std::size_t index);
    void promote_replacement(Bucket& bucket);
    void move_to_tail(Bucket& bucket, std::size_t index);
    void cache_replacement(Bucket& bucket, Entry entry);

    NodeId self_;
    const Clock& clock_;
    std::size_t k_;
    Options options_;
    std::size_t replacement_capacity_;
    std::vector<Bucket> buckets_;
    // Bucket peers per IP group, for the table-wide limit.
    std::map<IpGroup, std::size_t> group_counts_;
    std::size_t size_ = 0;
    std::size_t replacement_count_ = 0;
};

}  // namespace nocturne::dht
