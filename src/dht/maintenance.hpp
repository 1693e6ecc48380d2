#pragma once

#include <nocturne/dht/node.hpp>

#include <chrono>
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

    // The routing table dropped this peer after requests to it failed (a partition, a crash, a
    // restart elsewhere). It is asked again, less and less often, until it answers (and is back
    // in the table) or has been gone for lost_peer_max_age. Without this, the two halves of a
    // healed partition each keep only their own side, and nothing brings them together again: a
    // lookup only asks the table, and the table only learns from lookups and from peers that call.
    void peer_lost(const wire::Contact& peer);

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
    // A key whose records are being sent, and the record number to go on from next tick.
    struct Resume {
        NodeId key;
        std::size_t offset = 0;
    };
    struct Handover {
        wire::Contact newcomer;
        Sweep range;
        std::optional<Resume> resume;
        // Records created from this time on (unix seconds) are not handed over: they were put
        // while the newcomer was already known, so their publisher stored them on it too. Without
        // this, a hand-over sweep walking a store that grows under a busy publisher re-sends it
        // everything it already has.
        std::int64_t since = 0;
        // Records created before this are not handed over either: a peer back soon after its
        // last hand-over has them (INT64_MIN: a newcomer, everything goes).
        std::int64_t from = INT64_MIN;
    };

    bool busy() const { return replication_.has_value() || !handovers_.empty(); }
    // Up to `budget` keys of the sweep (fewer at its end); advances it.
    std::vector<NodeId> next_keys(Sweep& sweep, std::size_t budget);
    // Sends the records under key from record number `offset` on to each of `to`, a store page
    // at a time, while `budget` (bytes) and `frames` (STOREs) last: one key may hold thousands of
    // records (a domain index), and sending them all at once would swamp a peer's session (its byte
    // cap). Returns where to go on next tick, or nullopt when the key is done.
    std::optional<std::size_t> send_records(const NodeId& key, std::size_t offset,
                                            const std::vector<wire::Contact>& to,
                                            std::size_t& budget, std::size_t& frames,
                                            std::int64_t created_before = INT64_MAX,
                                            std::int64_t created_from = INT64_MIN);
    // A sweep interrupted at `key` (budget spent): the keys after it come again.
    static void rewind(Sweep& sweep, const NodeId& key);
    void replicate_step();
    void handover_step();
    void refresh_buckets();
    void republish();
    void prune();
    void probe_lost();

    struct LostPeer {
        wire::Contact contact;
        Clock::time_point lost_at;
        Clock::time_point next_probe;
        Clock::duration backoff;
        bool probing = false;  // a PING is out
    };

    Node& node_;
    std::map<NodeId, std::vector<wire::Record>> published_;  // what put() republishes
    std::map<NodeId, Clock::time_point> stored_recently_;    // keys that arrived by STORE
    std::optional<Sweep> replication_;                       // in progress
    std::optional<Resume> replication_resume_;
    std::deque<Handover> handovers_;
    // Peers handed records lately: one that drops out of the table (a partition, a restart) and
    // comes back within replicate_interval had them already, and hourly replication sends what it
    // missed. Without this, healing a partition hands every node's records to every peer again.
    std::map<NodeId, Clock::time_point> handed_over_;
    static constexpr std::size_t max_handed_over = 4096;
    Clock::time_point next_refresh_;
    Clock::time_point next_replicate_;
    Clock::time_point next_republish_;
    Clock::time_point next_prune_;
    // Bounded: only peers that were in our table get here, and the oldest loss goes first.
    std::map<NodeId, LostPeer> lost_;
    // Sweeps send their per-tick budget at most once per sweep_step: the host may tick far more
    // often (every RPC deadline, every event in the simulator), and the budget is a rate.
    Clock::time_point next_sweep_{};
    static constexpr std::chrono::milliseconds sweep_step{100};
};

}  // namespace nocturne::dht
