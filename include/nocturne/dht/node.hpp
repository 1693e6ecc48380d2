#pragma once

#include <nocturne/core/clock.hpp>
#include <nocturne/core/node_id.hpp>
#include <nocturne/dht/lookup.hpp>
#include <nocturne/dht/routing_table.hpp>
#include <nocturne/dht/transport.hpp>
#include <nocturne/store/store.hpp>
#include <nocturne/wire/limits.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

namespace nocturne::dht {

struct NodeConfig {
    std::size_t k = 20;
    std::size_t alpha = 3;
    Clock::duration rpc_timeout = std::chrono::seconds(5);
    // Buckets with no traffic for this long get a lookup of a random id in their range.
    Clock::duration refresh_interval = std::chrono::hours(1);
    // Responsible nodes push their records to the current k closest this often.
    Clock::duration replicate_interval = std::chrono::hours(1);
    // The original publisher stores its records again this often.
    Clock::duration republish_interval = std::chrono::hours(1);
    // A full bucket's least recently seen peer is pinged (ping-the-oldest) only if it has been
    // silent this long: BEP 5's rule that a node heard from within 15 minutes is "good". Pinging
    // on every message from every would-be newcomer instead cascades (each PING is itself a
    // message from a newcomer to its target) and multiplied the simulator's traffic by ten.
    Clock::duration eviction_ping_min_silence = std::chrono::minutes(15);
    // Expired records are pruned from the store this often.
    Clock::duration prune_interval = std::chrono::minutes(1);
    RoutingTableOptions table;
    wire::Limits limits;
    // 0: message ids and refresh targets from the system CSPRNG. Otherwise a deterministic
    // sequence from this seed (the simulator, so that runs repeat exactly).
    std::uint64_t seed = 0;
};

// Decides whether a record may be stored or believed beyond signature, key and time checks: the
// Web of Trust plugs in here (enrolled, unrevoked authors only).
class RecordPolicy {
public:
    enum class Use {
        store,  // a STORE to this node (from = the sending peer, or this node's own put)
        read,   // a record in a FIND_VALUE answer (from = the answering peer)
    };

    virtual ~RecordPolicy() = default;
    // The certificates a message carried (see wire::Store), once per message, before admit() is
    // asked about its records.
    virtual void learn_credentials(std::span<const wire::Record> credentials) = 0;
    // credentials: the same certificates again, for reference. Returns an errc, or success.
    virtual std::error_code admit(const wire::Record& record,
                                  std::span<const wire::Record> credentials, const NodeId& from,
                                  Use use) = 0;
    // The certificates this node attaches when it sends `record` to a peer (a STORE, or a
    // FIND_VALUE answer), at most `limit`.
    virtual std::vector<wire::Record> credentials_for(const wire::Record& record,
                                                      std::size_t limit) = 0;
};

struct PutResult {
    std::size_t stored = 0;     // responsible nodes (including this one) that accepted the record
    std::size_t refused = 0;    // nodes that answered with an error code
    std::size_t failed = 0;     // nodes that did not answer
    std::string first_refusal;  // errc name of the first refusal, for the caller's message
    bool ok() const { return stored > 0; }
};

struct NodeStats {
    std::uint64_t requests_in = 0;
    std::uint64_t responses_in = 0;
    std::uint64_t messages_out = 0;
    std::uint64_t rpc_timeouts = 0;
    std::uint64_t stores_accepted = 0;
    std::uint64_t stores_refused = 0;
    std::uint64_t unexpected = 0;  // responses nobody waited for, or from the wrong peer
    std::uint64_t replicated = 0;  // STOREs sent by replication and republishing
};

// A Kademlia node without I/O: messages go out through a Transport, arrive through on_message(),
// and time comes from a Clock. The host drives timers by calling tick() at next_wakeup() (or
// more often). The daemon hosts it on its io_context; the simulator hosts thousands in one
// process on virtual time.
//
// Callbacks run on the owning thread, from on_message() or tick(); an answer known without asking
// anyone (an empty routing table, a record in the local store) arrives before the call returns.
//
// Owned by the io_context thread that runs the node (or the simulator's thread); not thread-safe.
class Node final : public MessageSink {
public:
    using LookupCallback = std::function<void(LookupResult)>;
    using PutCallback = std::function<void(PutResult)>;
    using PingCallback = std::function<void(std::optional<NodeId>)>;  // the peer's id, or nullopt

    Node(const NodeId& self, std::string address, const Clock& clock, Transport& transport,
         store::Store& store, NodeConfig config = {});
    ~Node() override;
    Node(const Node&) = delete;
    Node& operator=(const Node&) = delete;

    void set_policy(RecordPolicy* policy) { policy_ = policy; }

    void on_message(InboundMessage msg) override;
    void tick();
    // The earliest time at which tick() has something to do.
    Clock::time_point next_wakeup() const;

    // Pings each seed (its id may be unknown: NodeId{} accepts whoever answers), then looks up
    // our own id and refreshes the buckets farther than our closest neighbour. done receives the
    // routing-table size.
    void bootstrap(const std::vector<wire::Contact>& seeds, std::function<void(std::size_t)> done);

    void ping(const wire::Contact& peer, PingCallback done);
    void find_node(const NodeId& target, LookupCallback done);
    // Local records first: a node responsible for the key answers from its store.
    void find_value(const NodeId& key, LookupCallback done);
    // The records under key from number `offset` on, asked directly of `holder` (a lookup's
    // LookupResult::holder; this node's own id reads the local store). For record sets larger
    // than one answer carries (a domain index). The records pass the same checks and policy as
    // lookup answers; holder, total and next_offset are set as in a lookup, and an unanswered
    // request gives no records and failed = 1.
    void fetch_page(const wire::Contact& holder, const NodeId& key, std::size_t offset,
                    LookupCallback done);
    // Stores the record on the k nodes closest to its key (this node included when it is one of
    // them) and republishes it every republish_interval until it expires or is withdrawn.
    void put(const wire::Record& record, PutCallback done);
    // Stops republishing records under key (deletion itself is a newer record, not a message).
    void withdraw(const NodeId& key);
    // Stops republishing the one record with this record's identity (key, kind, author, slot):
    // keys shared by many records of one author (a domain index) need this finer cut.
    void withdraw(const wire::Record& record);

    const NodeId& id() const { return self_; }
    const std::string& address() const { return address_; }
    RoutingTable& table() { return table_; }
    const RoutingTable& table() const { return table_; }
    const NodeStats& stats() const { return stats_; }
    std::size_t pending_rpcs() const { return pending_.size(); }

private:
    struct Pending;
    struct LookupJob;
    using ResponseHandler = std::function<void(const InboundMessage*)>;  // nullptr: timed out

    std::string next_message_id();
    void send(const wire::Contact& to, wire::Payload payload);
    void request(const wire::Contact& to, wire::Payload payload, ResponseHandler handler);
    void reply(const InboundMessage& to, wire::Payload payload);

    void handle_request(const InboundMessage& msg);
    void handle_response(InboundMessage& msg);
    void learn(const wire::Contact& contact);
    wire::StoreResult accept_store(const wire::Record& record,
                                   std::span<const wire::Record> credentials, const NodeId& from);
    wire::Store store_message(const wire::Record& record);
    std::vector<wire::Record> credentials_for_all(const std::vector<wire::Record>& records);
    std::vector<wire::Record> local_records(const NodeId& key);
    wire::ValueResult value_page(std::vector<wire::Record> records, std::size_t offset) const;
    std::vector<wire::Record> admit_answer(const NodeId& key, const wire::ValueResult& value,
                                           const NodeId& from);
    bool responsible_for(const NodeId& key) const;
    std::vector<wire::Contact> closest_contacts(const NodeId& target, std::size_t n,
                                                const NodeId& exclude) const;

    void start_lookup(const NodeId& target, bool want_value, LookupCallback done);
    void pump(const std::shared_ptr<LookupJob>& job);
    void store_on_closest(const wire::Record& record, PutCallback done);
    void store_at(const std::vector<wire::Contact>& nodes, const wire::Record& record,
                  bool include_self, PutCallback done);

    void expire_rpcs(Clock::time_point now);
    void refresh_buckets();
    void replicate();
    void republish();
    void offer_records_to(const wire::Contact& newcomer);
    NodeId random_id_in_bucket(std::size_t bucket);

    NodeId self_;
    std::string address_;
    const Clock& clock_;
    Transport& transport_;
    store::Store& store_;
    NodeConfig config_;
    RecordPolicy* policy_ = nullptr;
    RoutingTable table_;
    NodeStats stats_;

    std::mt19937_64 rng_;
    std::string id_prefix_;
    std::uint64_t id_counter_ = 0;

    std::unordered_map<std::string, std::unique_ptr<Pending>> pending_;
    std::multimap<Clock::time_point, std::string> deadlines_;
    std::set<NodeId> eviction_pings_;  // candidates being pinged, so each is pinged once

    std::map<NodeId, std::vector<wire::Record>> published_;  // what put() republishes
    std::map<NodeId, Clock::time_point> stored_recently_;    // keys that arrived by STORE
    Clock::time_point next_refresh_;
    Clock::time_point next_replicate_;
    Clock::time_point next_republish_;
    Clock::time_point next_prune_;
};

}  // namespace nocturne::dht
