#pragma once

#include <nocturne/dht/node.hpp>

#include <deque>
#include <map>
#include <optional>
#include <vector>

namespace nocturne::dht {

// The node's periodic work, apart from message handling: pruning, bucket refresh, replication,
// republishing, and handing records to newcomers. Every step has a per-tick budget
// (NodeConfig::keys_per_tick): a store of a million records costs each tick the same as one of
// ten, and no message (a PING from a fresh id, say) makes the node walk its store.
//
// Owned by its Node (and its thread); not thread-safe.
class Node::Maintenance {
public:
    explicit Maintenance(Node& node);

    void tick();
    Clock::time_point next_wakeup() const;

    // A record arrived by STORE: Kademlia's optimisation skips its key at the next replication,
    // since its sender pushed it to the other responsible nodes as well.
    void note_stored(const NodeId& key);
    // A contact entered the routing table: queue it to receive the records it is now responsible
    // for (at most max_newcomers_queued wait; replication reaches the others).
    void offer_records_to(const wire::Contact& newcomer);

    // Republishing of this node's own records.
    void publish(const wire::Record& record);
    void withdraw(const NodeId& key);
    void withdraw(const wire::Record& record);

private:
    // One incremental walk over a key range: [next, last], keys_per_tick keys a tick.
    struct Sweep {
        NodeId next;
        NodeId last;
        bool done = false;
    };
    struct Handover {
        wire::Contact newcomer;
        Sweep range;
    };

    bool busy() const { return replication_.has_value() || !handovers_.empty(); }
    // Up to `budget` keys of the sweep (fewer at its end); advances it.
    std::vector<NodeId> next_keys(Sweep& sweep, std::size_t budget);
    void replicate_step();
    void handover_step();
    void refresh_buckets();
    void republish();
    void prune();

    Node& node_;
    std::map<NodeId, std::vector<wire::Record>> published_;  // what put() republishes
    std::map<NodeId, Clock::time_point> stored_recently_;    // keys that arrived by STORE
    std::optional<Sweep> replication_;                       // in progress
    std::deque<Handover> handovers_;
    Clock::time_point next_refresh_;
    Clock::time_point next_replicate_;
    Clock::time_point next_republish_;
    Clock::time_point next_prune_;
};

}  // namespace nocturne::dht
