#pragma once

// The gossip layer (docs/gossip.md): revocations, quarantines, certificates and anomaly reports
// reach every node in seconds, not when somebody happens to look their key up, and a node that
// was away catches up.
//
// - Dissemination: an item new to this node and valid is pushed whole to `eager_fanout` random
//   peers when its class is eager (revocations, quarantines) and announced by id (IHAVE) to
//   `lazy_fanout` others, a little later, so that those the pushes missed pull it (the answer's
//   want list). Other classes are only announced. Nothing is forwarded before it validated, nor
//   after its class's lifetime (item.hpp, seen_until), nor when it is old (created before
//   origin_window), however it came.
// - De-duplication: the SeenCache, each item for its class's lifetime.
// - Priorities and back-pressure: what goes to one peer waits in per-class queues, at most
//   `window` requests in flight; the highest class leaves first, the lowest is shed first when a
//   queue is full (counted), a revocation never. What a peer may make us do is metered by a
//   token bucket per peer: over it, the peer is told to slow down (rate_limited, retry-after),
//   and an honest sender sends again later (dht::RpcManager), losing nothing.
// - Anti-entropy: every sync_period, after joining, and after a long gap in ticks (a node that
//   was suspended or offline), SYNC with random peers (reconcile.hpp), then fetch (IWANT) what
//   is missing and push what the peer lacks.
//
// Items of the trust classes are judged by the TrustState (a revocation by its signers'
// standing, a certificate by its chain); what the TrustState learns by other means (a STORE, a
// lookup, enrollment) is offered here and spread when it is fresh.
//
// Owned by the thread that owns the node; not thread-safe.

#include <nocturne/core/clock.hpp>
#include <nocturne/core/token_bucket.hpp>
#include <nocturne/dht/node.hpp>
#include <nocturne/gossip/item.hpp>
#include <nocturne/gossip/item_set.hpp>
#include <nocturne/gossip/reconcile.hpp>
#include <nocturne/gossip/seen_cache.hpp>
#include <nocturne/trust/trust_state.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <unordered_map>
#include <utility>
#include <vector>

namespace nocturne::gossip {

struct GossipOptions {
    // GossipSub's D is 6 with flood-publish; here a pushed item goes to 8 random peers and is
    // announced to 6 more (docs/gossip.md has the simulator's figures behind these numbers).
    std::size_t eager_fanout = 8;
    std::size_t lazy_fanout = 4;
    std::size_t near_fanout = 4;  // every item is also announced to this node's nearest
    // Whole copies of one item this node pushes (to its eager peers and to those that asked
    // after an announcement), at most: what an item costs a node is bounded.
    std::size_t max_copies = 12;
    // Announcements of eager items wait this long, so that most peers have the push by then and
    // do not pull it again.
    Clock::duration announce_delay = std::chrono::milliseconds(400);
    // Requests in flight to one peer; the rest waits in its queues, by class.
    std::size_t window = 2;
    std::size_t queue_capacity = 4096;  // items and ids waiting for one peer
    std::size_t max_peers = 1024;       // peers with something waiting
    // What one peer may push: items (and their credentials) per second, and the burst.
    double peer_rate = 500;
    double peer_burst = 2000;
    // Items one author gets forwarded, per second and in a burst (revocations excepted: they
    // need several operators): an operator that signs certificates or reports without end does
    // not get them all spread; the rest is kept and reconciled.
    double author_rate = 1.0 / 60;
    double author_burst = 30;
    std::size_t seen_capacity = 200'000;
    // The shortest a seen item is remembered: beyond the replay horizon (±5 min).
    Clock::duration seen_floor = std::chrono::minutes(30);
    // An item learned by other means than gossip is spread only if it was created this recently
    // (older ones, everybody has; a node that missed them catches up by anti-entropy).
    Clock::duration origin_window = std::chrono::minutes(10);
    Clock::duration sync_period = std::chrono::minutes(1);
    std::size_t catch_up_peers = 3;  // SYNCs started after joining or a long gap
    std::size_t max_syncs = 4;       // reconciliations this node runs at once
    std::size_t sync_rounds = 8;     // rounds of SYNCs in one, at most
    std::size_t sync_window = 4;     // its requests in flight at once
    Clock::duration sync_deadline = std::chrono::minutes(2);
    ReconcileLimits reconcile;
    std::uint64_t seed = 0;  // 0: from the system; the simulator's runs repeat with theirs
};

struct ClassStats {
    std::uint64_t received = 0;    // new valid items (pushed, pulled or reconciled)
    std::uint64_t forwarded = 0;   // whole items sent to peers
    std::uint64_t announced = 0;   // ids sent in IHAVEs
    std::uint64_t duplicates = 0;  // items that came again
    std::uint64_t refused = 0;     // items that failed validation or the trust rules
    std::uint64_t shed = 0;        // sends dropped under load (never a revocation)
};

struct GossipStats {
    std::array<ClassStats, class_count> classes{};
    std::uint64_t syncs = 0;              // SYNC exchanges completed
    std::uint64_t synced_items = 0;       // items learned by anti-entropy
    std::uint64_t slowed_peers = 0;       // requests refused with "slow down"
    std::uint64_t slowed_by_peers = 0;    // our requests a peer refused with "slow down"
    std::uint64_t failed_sends = 0;       // requests that got no answer
    std::uint64_t not_gossiped = 0;       // pushed records of kinds gossip does not carry
    std::uint64_t discouraged_peers = 0;  // peers not heard for sending a false report
    const ClassStats& of(ItemClass c) const { return classes[class_index(c)]; }
    ClassStats& of(ItemClass c) { return classes[class_index(c)]; }
};

class GossipService {
public:
    GossipService(dht::Node& node, trust::TrustState& trust, const Clock& clock,
                  GossipOptions options = {});
    ~GossipService();
    GossipService(const GossipService&) = delete;
    GossipService& operator=(const GossipService&) = delete;

    // An item this node learned by other means (see above): kept for anti-entropy, and spread
    // when it is fresh and new.
    void offer(const wire::Record& record);
    // Starts SYNC exchanges with n random peers now (after a bootstrap).
    void catch_up(std::size_t peers);
    void catch_up() { catch_up(options_.catch_up_peers); }

    void tick();
    Clock::time_point next_wakeup() const;

    const GossipStats& stats() const { return stats_; }
    std::size_t held() const { return set_.size(); }
    std::size_t seen() const { return seen_.size(); }
    std::size_t queued() const;
    const GossipOptions& options() const { return options_; }

private:
    struct Outgoing {
        ItemId id;
        ItemClass cls;
        std::uint8_t unanswered = 0;  // sends of it to this peer that got no answer
    };
    // whole: items to push (GOSSIP); ids: items to announce (IHAVE). By class.
    struct Peer {
        wire::Contact contact;
        std::array<std::deque<Outgoing>, class_count> whole;
        std::array<std::deque<Outgoing>, class_count> ids;
        std::size_t queued = 0;
        std::size_t in_flight = 0;
        std::size_t backoffs = 0;  // refusals ("slow down") in a row
        Clock::time_point not_before{};
    };
    struct Delayed {
        Clock::time_point at;
        ItemId id;
        ItemClass cls;
        std::vector<wire::Contact> to;
    };
    using Bucket = BasicTokenBucket<Clock::time_point>;

    void serve_gossip(const dht::InboundMessage& msg);
    void serve_ihave(const dht::InboundMessage& msg);
    void serve_iwant(const dht::InboundMessage& msg);
    void serve_sync(const dht::InboundMessage& msg);
    // Takes `cost` tokens of from's bucket, or answers msg with "slow down" and returns false.
    bool admit_cost(const dht::InboundMessage& msg, std::size_t cost);
    // The peer sent a report that does not verify: its requests are refused for a while.
    void discourage(const NodeId& peer);
    // Whether an item of this author may be forwarded now (its bucket).
    bool author_allows(const crypto::PublicKey& author);
    // Whether one more whole copy of the item may be pushed (max_copies), counting it.
    bool take_copy(const ItemId& id);

    // Validates and learns items a peer sent (pushed, pulled or reconciled); spreads those new
    // to the mesh (created within origin_window). Returns how many were new and valid.
    std::uint32_t take_items(std::span<const wire::Record> items,
                             std::span<const wire::Record> credentials, const NodeId& from);
    // A new item: remembered, kept when reconciled, spread when `spread`.
    void accept(const ItemId& id, const wire::Record& record, ItemClass cls, bool spread,
                const NodeId& from);
    void spread(const ItemId& id, ItemClass cls, const NodeId& from);
    std::vector<wire::Contact> pick_peers(std::size_t n, const std::set<NodeId>& exclude);
    const wire::Record* find(const ItemId& id) const;

    void enqueue(const wire::Contact& to, const ItemId& id, ItemClass cls, bool whole);
    void flush(Peer& peer);
    void flush_ready();
    // After an answer from the peer: sends what waits, or forgets the peer when nothing does.
    void settle(const NodeId& id);
    void send_whole(Peer& peer);
    void send_ids(Peer& peer);
    void requeue_front(Peer& peer, const std::vector<Outgoing>& items, bool whole);
    void retry_unanswered(Peer& peer, const std::vector<Outgoing>& items, bool whole);
    void back_off(Peer& peer, const dht::InboundMessage* answer);

    // One reconciliation with one peer: rounds of SYNCs (each round the ranges the previous one
    // left) and the IWANTs their answers call for, sync_window requests at a time, until nothing
    // is left, the peer fails or the deadline passes.
    struct SyncSession {
        wire::Contact peer;
        bool checking = false;  // the first round compares whole sets
        bool failed = false;
        bool done = false;
        std::deque<wire::Payload> backlog;  // SYNCs and IWANTs still to send
        std::size_t in_flight = 0;
        std::size_t syncs_in_flight = 0;
        std::size_t round = 0;
        std::size_t given = 0;  // items pushed to the peer
        std::size_t backoffs = 0;
        Clock::time_point not_before{};
        Clock::time_point deadline{};
        std::vector<wire::SyncRange> next;  // the next round's ranges
    };
    void start_sync(const wire::Contact& peer, bool check_first);
    void queue_syncs(SyncSession& s, std::vector<wire::SyncRange> ranges, std::size_t per_request);
    void pump(const std::shared_ptr<SyncSession>& s);
    void on_session_answer(const std::shared_ptr<SyncSession>& s, const wire::Payload& request,
                           const dht::InboundMessage* answer);
    void finish(const std::shared_ptr<SyncSession>& s, bool completed);
    // The reconciled set again from what the trust state holds now: superseded, revoked-since and
    // expired versions leave it (two nodes that hold the same trust records agree).
    void refresh_set();

    dht::Node& node_;
    trust::TrustState& trust_;
    const Clock& clock_;
    GossipOptions options_;
    std::mt19937_64 rng_;
    SeenCache seen_;
    ItemSet set_;
    GossipStats stats_;
    std::unordered_map<NodeId, Peer, NodeIdHash> peers_;
    std::set<NodeId> ready_;  // peers with something queued
    std::deque<Delayed> delayed_;
    std::unordered_map<NodeId, Bucket, NodeIdHash> buckets_;
    std::map<crypto::PublicKey, Bucket> authors_;
    std::unordered_map<NodeId, Clock::time_point, NodeIdHash> discouraged_;  // peer -> until
    std::unordered_map<ItemId, std::size_t, NodeIdHash> copies_;
    std::vector<std::shared_ptr<SyncSession>> sessions_;
    bool admitting_ = false;  // learning through the TrustState ourselves: offer() keeps only
    Clock::time_point next_sync_{};
    Clock::time_point next_expire_{};
    Clock::time_point last_tick_{};
    std::shared_ptr<char> alive_ = std::make_shared<char>();
};

}  // namespace nocturne::gossip
