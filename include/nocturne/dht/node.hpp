#pragma once

#include <nocturne/core/clock.hpp>
#include <nocturne/core/histogram.hpp>
#include <nocturne/core/node_id.hpp>
#include <nocturne/dht/address_verifier.hpp>
#include <nocturne/dht/lookup.hpp>
#include <nocturne/dht/record_policy.hpp>
#include <nocturne/dht/routing_table.hpp>
#include <nocturne/dht/rpc_manager.hpp>
#include <nocturne/dht/transport.hpp>
#include <nocturne/store/store.hpp>
#include <nocturne/wire/envelope.hpp>
#include <nocturne/wire/limits.hpp>

#include <array>
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
    // Requests in flight in a storer lookup (puts and reads): those hear all k closest storers,
    // not one holder, so they ask more at once; a dead node then holds one slot of many.
    std::size_t storer_alpha = 10;
    Clock::duration rpc_timeout = std::chrono::seconds(5);
    // A peer a lookup gave up on (neither attempt answered) counts as failed in later lookups,
    // without a request, for this long or until it is heard from: during a partition every
    // lookup would otherwise wait out the same timeouts again (the routing table drops such a
    // peer only after several, and other nodes' answers keep naming it). Our own answers to
    // FIND_NODE and FIND_VALUE leave such peers out for as long (libtorrent leaves failed nodes
    // out of its answers), so that the askers' lookups do not wait them out either.
    Clock::duration unresponsive_for = std::chrono::seconds(60);
    // A lookup request unanswered for this long gives its slot to the next candidate, its answer
    // still awaited until rpc_timeout (Lookup::on_slow): longer than a live peer takes to answer.
    Clock::duration slow_after = std::chrono::seconds(1);
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
    // Maintenance budgets per tick, so that no tick (and no message) costs work proportional to
    // the store: keys examined when handing records to newcomers and when replicating, and the
    // newcomers waiting for their records (further ones are served by the next replication).
    std::size_t keys_per_tick = 64;
    // Records (STOREs, all peers together) and their bytes that replication and hand-over send
    // per tick; the rest goes on at the next tick, 100 ms later. 50 a tick is 500 frames/s, half
    // of what one peer grants by default (net::FlowControl), so that maintenance never crowds
    // out a peer's session, even when it all goes to one newcomer.
    std::size_t maintenance_frames_per_tick = 50;
    std::size_t maintenance_bytes_per_tick = 1024 * 1024;
    std::size_t max_newcomers_queued = 256;
    // Claimed addresses being verified by a dial-back at once, at most (further claims wait for
    // the peer's next message); an address whose dial-back failed is not tried again for
    // failed_address_backoff, whoever claims it (see AddressVerifier).
    std::size_t max_verifications = 64;
    Clock::duration failed_address_backoff = std::chrono::minutes(5);
    // A read (find_value) merges at most this many records from all holders together: bounds
    // what large or hostile holders can make one read fetch.
    std::size_t max_read_records = 10'000;
    RoutingTableOptions table;
    wire::Limits limits;
    // 0: message ids and refresh targets from the system CSPRNG. Otherwise a deterministic
    // sequence from this seed (the simulator, so that runs repeat exactly).
    std::uint64_t seed = 0;
};

struct PutResult {
    // Responsible nodes (including this one) that stored the record: with a record policy, only
    // enrolled agents whose signed acknowledgement verifies.
    std::size_t stored = 0;
    std::size_t refused = 0;  // nodes that answered with an error code
    std::size_t failed =
        0;  // nodes that did not answer (responsible ones the lookup found down too)
    // Answers that said "stored" but do not count: no valid acknowledgement, or not a storer.
    std::size_t unacknowledged = 0;
    errc first_refusal = errc::ok;  // the first refusal's code, for the caller's message
    // The nodes whose acknowledgement counted, with the addresses they were reached at (this
    // node when it stored the record), and the k nodes closest to the key among those asked and
    // those the lookup found down: where a quorum must hold (task claims), acknowledgements count
    // only from `responsible`. A later record that belongs with this one (a vote's reveal) can go
    // straight to `acknowledged`, without a lookup.
    std::vector<wire::Contact> acknowledged;
    std::vector<NodeId> responsible;
    bool ok() const { return stored > 0; }
    // Refused before anyone was asked.
    static PutResult refusal(errc code) {
        PutResult r;
        r.refused = 1;
        r.first_refusal = code;
        return r;
    }
};

// Message types of the wire protocol, for per-type counts.
inline constexpr std::size_t message_type_count =
    static_cast<std::size_t>(wire::MessageType::error) + 1;
// Record kinds, for per-kind counts.
inline constexpr std::size_t record_kind_count =
    static_cast<std::size_t>(wire::RecordKind::anomaly) + 1;

struct NodeStats {
    std::uint64_t requests_in = 0;
    std::uint64_t responses_in = 0;
    std::uint64_t messages_out = 0;
    std::uint64_t rpc_timeouts = 0;
    // Lookup requests not sent: the candidate had just failed another lookup (unresponsive_for).
    std::uint64_t unresponsive_skipped = 0;
    std::uint64_t slowed_down = 0;  // requests a peer refused with "slow down" (sent again)
    std::uint64_t stores_accepted = 0;
    std::uint64_t stores_refused = 0;
    std::uint64_t unexpected = 0;  // responses nobody waited for, or from the wrong peer
    std::uint64_t replicated = 0;  // STOREs sent by replication and republishing
    // STOREs sent again with our certificates: the receiver did not know our session's.
    std::uint64_t stores_resent_with_credentials = 0;
    std::uint64_t undeliverable = 0;      // requests failed at once: the transport could not send
    std::uint64_t contacts_verified = 0;  // claimed addresses confirmed by a dial-back
    std::uint64_t verifications_failed = 0;
    // By wire::MessageType: what arrived (requests and answers) and what was sent.
    std::array<std::uint64_t, message_type_count> messages_in_by_type{};
    std::array<std::uint64_t, message_type_count> messages_out_by_type{};
    // STOREs accepted by wire::RecordKind (votes, tasks, certificates... as they land), and
    // refused by errc: every code a refusal can carry is one entry at most.
    std::array<std::uint64_t, record_kind_count> stores_accepted_by_kind{};
    std::map<errc, std::uint64_t> stores_refused_by_code;
    // Lookups (node, value and storer lookups alike), from start to result.
    Histogram lookup_seconds;
};

// A Kademlia node without I/O: messages go out through a Transport, arrive through on_message(),
// and time comes from a Clock. The host drives timers by calling tick() at next_wakeup() (or
// more often). The daemon's agent hosts it on the io_context; the simulator hosts thousands in one
// process on virtual time.
//
// The node itself answers PING, FIND_NODE, FIND_VALUE and STORE. Services (votes, tasks, gossip)
// register the other request types with serve() and send their own requests with request(), so
// this file never learns what a vote is. Requests are tracked by an RpcManager, and the periodic
// work (refresh, replication, republishing, handing records to newcomers) lives in Maintenance.
//
// Callbacks run on the owning thread, from on_message() or tick(); an answer known without asking
// anyone (an empty routing table, a record in the local store) arrives before the call returns.
//
// Owned by the thread that runs the node (the daemon's io_context, or the simulator's thread);
// not thread-safe.
class Node final : public MessageSink {
public:
    using LookupCallback = std::function<void(LookupResult)>;
    using PutCallback = std::function<void(PutResult)>;
    using PingCallback = std::function<void(std::optional<NodeId>)>;  // the peer's id, or nullopt
    using ResponseHandler = RpcManager::Handler;
    // Serves one request; answers with reply() (at once, or later: after a lookup, say).
    using RequestHandler = std::function<void(const InboundMessage& request)>;
    // A service's own rules for records of its kind (vote windows, say): `from` is the node that
    // sent the record (its author, or a replica passing it on; this node for its own puts).
    using StoreCheck = std::function<std::error_code(const wire::Record&, const NodeId& from)>;

    Node(const NodeId& self, std::string address, const Clock& clock, Transport& transport,
         store::Store& store, NodeConfig config = {});
    ~Node() override;
    Node(const Node&) = delete;
    Node& operator=(const Node&) = delete;

    void set_policy(RecordPolicy* policy) { policy_ = policy; }
    RecordPolicy* policy() const { return policy_; }
    // The node key, to sign store acknowledgements with (a node without one sends none, and then
    // counts for nobody's put once a policy is in force). Must outlive the node.
    void set_signer(const crypto::KeyPair* keys) { signer_ = keys; }

    // ---- services ----------------------------------------------------------------------------
    // Routes requests of `type` to `handler`. PING, FIND_NODE, FIND_VALUE and STORE are the
    // node's own; a request of a type nobody serves is answered with unexpected_message. An empty
    // handler stops serving the type (a service going away).
    void serve(wire::MessageType type, RequestHandler handler);
    // Every record of `kind` this node is asked to hold (a STORE, replication, hand-over or its
    // own put) must also pass `check`, after the trust policy; its error is the refusal's code.
    // An empty check removes the kind's.
    void check_stores(wire::RecordKind kind, StoreCheck check);
    // A check every record must pass, whatever its kind, after the policy and the kind's own
    // (the anomaly monitors' rate caps: they count what would be stored). An empty check removes
    // it.
    void check_all_stores(StoreCheck check) { store_check_all_ = std::move(check); }
    // Sends a request and calls `handler` with the answer or, on timeout, nullptr (see
    // RpcManager). Only `to` may answer it.
    void request(const wire::Contact& to, wire::Payload payload, ResponseHandler handler);
    // Answers a request over the session it arrived on (so a reply reaches peers that accept no
    // connections, too).
    void reply(const InboundMessage& request, wire::Payload answer);

    // ---- host ----------------------------------------------------------------------------------
    void on_message(InboundMessage msg) override;
    void on_undeliverable(const std::string& message_id) override;
    void tick();
    // The earliest time at which tick() has something to do.
    Clock::time_point next_wakeup() const;

    // ---- Kademlia
    // -------------------------------------------------------------------------------- Pings each
    // seed (its id may be unknown: NodeId{} accepts whoever answers), then looks up our own id and
    // refreshes the buckets farther than our closest neighbour. done receives the routing-table
    // size.
    void bootstrap(const std::vector<wire::Contact>& seeds, std::function<void(std::size_t)> done);

    void ping(const wire::Contact& peer, PingCallback done);
    // storers: look for the k closest nodes that can hold records (enrolled agents), as puts do;
    // otherwise for any nodes (routing).
    void find_node(const NodeId& target, LookupCallback done, bool storers = false);
    // The k closest storers of key for a read that asks them itself (a domain query): each
    // candidate is asked once, as find_value asks it, where find_node asks twice so that a put
    // does not lose its closest storer to one lost message. A read that misses one holder asks
    // the next; waiting out a second timeout per unreachable candidate is what made a query
    // during a partition slow.
    void find_holders(const NodeId& key, LookupCallback done);
    // A read: asks the k closest storers of the key (not only the first holder: one that missed
    // a STORE, or hides a newer version, must not decide) and merges what the eligible holders
    // sent, this node's own records included when it is one of them, keeping per record identity
    // the highest seq; holders with more than one answer's worth are paged (max_read_records).
    void find_value(const NodeId& key, LookupCallback done);
    // The records under key from number `offset` on, asked directly of `holder` (a lookup's
    // LookupResult::holder; this node's own id reads the local store). For record sets larger
    // than one answer carries (a domain index). The records pass the same checks and policy as
    // lookup answers; holder, total and next_offset are set as in a lookup, and an unanswered
    // request gives no records and failed = 1.
    void fetch_page(const wire::Contact& holder, const NodeId& key, std::size_t offset,
                    LookupCallback done);
    // Stores the record on the k storers closest to its key (this node included when it is one
    // of them) and republishes it every republish_interval until it expires or is withdrawn.
    void put(const wire::Record& record, PutCallback done);
    // The same, once: no republishing (what republishing itself calls).
    void put_once(const wire::Record& record, PutCallback done);
    // Stores the record on exactly these nodes (with acknowledgements, once): a service that
    // fixed the storers of a key (a task's) reaches those a lookup no longer ranks among the k,
    // and one that knows where a record's companion went (PutResult::acknowledged) reaches them
    // without a lookup. This node among them stores it locally.
    void store_on(const std::vector<wire::Contact>& nodes, const wire::Record& record,
                  PutCallback done);
    // Stops republishing records under key (deletion itself is a newer record, not a message).
    void withdraw(const NodeId& key);
    // Stops republishing the one record with this record's identity (key, kind, author, slot):
    // keys shared by many records of one author (a domain index) need this finer cut.
    void withdraw(const wire::Record& record);

    // ---- building blocks for services and maintenance ----------------------------------------
    // A STORE of `record` with the credentials the policy attaches to STOREs
    // (RecordPolicy::store_credentials: not our own chain, which our session presented).
    wire::Store store_message(const wire::Record& record);
    // Sends `message` (from store_message) to `to`. A refusal that says the receiver does not know
    // our standing (untrusted_peer, unknown_agent: it lacks our session's certificates) is answered
    // by the same STORE once more with our chain (credentials_for); `done` sees the final answer.
    void send_store(const wire::Contact& to, const wire::Store& message, ResponseHandler done);
    // Up to n routing-table contacts closest to target, `exclude` left out; with storers, only
    // nodes that can hold records.
    // keep: a further filter (empty: none).
    std::vector<wire::Contact> closest_contacts(
        const NodeId& target, std::size_t n, const NodeId& exclude, bool storers = false,
        const std::function<bool(const NodeId&)>& keep = {}) const;
    // The certificates that prove the standing of these records' authors, as a FIND_VALUE answer
    // carries them (at most limits.max_credentials).
    std::vector<wire::Record> credentials_for(const std::vector<wire::Record>& records);
    // Of records a peer sent for key (verified on decode), those that belong to the key, are
    // alive and that the policy believes (Use::read), the peer's credentials learned first.
    std::vector<wire::Record> admit_records(const NodeId& key,
                                            std::span<const wire::Record> records,
                                            std::span<const wire::Record> credentials,
                                            const NodeId& from);
    // Whether a record this node holds is one it still believes and hands out (an author revoked
    // since it was stored is not).
    bool believes(const wire::Record& record);
    // Whether this node can hold records and is among the k closest storers to key it knows of.
    bool responsible_for(const NodeId& key) const;
    // Whether a node can hold records (an enrolled agent, per the policy; any node without one).
    bool is_storer(const NodeId& node) const;

    const NodeId& id() const { return self_; }
    const std::string& address() const { return address_; }
    const NodeConfig& config() const { return config_; }
    const Clock& clock() const { return clock_; }
    store::Store& records() { return store_; }
    RoutingTable& table() { return table_; }
    const RoutingTable& table() const { return table_; }
    const NodeStats& stats() const { return stats_; }
    NodeStats& stats() { return stats_; }
    std::size_t pending_rpcs() const { return rpc_.pending(); }
    // Peers this node's lookups gave up on in the last NodeConfig::unresponsive_for and that it
    // has not heard from since (a partition shows here): at most max_unresponsive, however many
    // unreachable ids its peers name.
    std::size_t unresponsive_peers() const;
    static constexpr std::size_t max_unresponsive = 4096;

private:
    struct LookupJob;
    class Maintenance;

    struct ReadJob;

    void send(const wire::Contact& to, wire::Payload payload);
    void handle_request(const InboundMessage& msg);
    void handle_answer(const InboundMessage& msg);
    // A contact whose address is proven (we reached it there): into the routing table.
    void learn(const wire::Contact& contact);
    // A peer that wrote to us: refreshed if known, else its claimed port at its observed IP is
    // verified by a dial-back before it may enter the table.
    void consider(const InboundMessage& msg);
    void count_out(const wire::Payload& payload);
    void note_credentials(const InboundMessage& msg);
    // See NodeConfig::unresponsive_for.
    bool unresponsive(const NodeId& id);
    bool recently_unresponsive(const NodeId& id) const;
    // The contacts an answer to `asker` names: the closest, without those recently unresponsive.
    std::vector<wire::Contact> referrals(const NodeId& target, const NodeId& asker,
                                         bool storers) const;
    void note_unresponsive(const NodeId& id);
    wire::StoreResult accept_store(const wire::Record& record,
                                   std::span<const wire::Record> credentials, const NodeId& from,
                                   bool ack);
    // One page of this node's records under key from `offset` (what a FIND_VALUE answers).
    wire::ValueResult value_page(const NodeId& key, std::size_t offset);

    // attempts: per candidate (Lookup::Options::attempts).
    void start_lookup(const NodeId& target, bool want_value, bool storers, std::size_t attempts,
                      LookupCallback done);
    void pump(const std::shared_ptr<LookupJob>& job);
    void send_queries(const std::shared_ptr<LookupJob>& job,
                      const std::vector<wire::Contact>& queries);
    void page_holders(const std::shared_ptr<ReadJob>& read);
    void finish_read(const std::shared_ptr<ReadJob>& read);
    void store_at(const std::vector<wire::Contact>& nodes, const wire::Record& record,
                  bool include_self, PutCallback done);
    NodeId random_id_in_bucket(std::size_t bucket);

    NodeId self_;
    std::string address_;
    const Clock& clock_;
    Transport& transport_;
    store::Store& store_;
    NodeConfig config_;
    RecordPolicy* policy_ = nullptr;
    const crypto::KeyPair* signer_ = nullptr;
    RoutingTable table_;
    NodeStats stats_;
    std::mt19937_64 rng_;
    RpcManager rpc_;
    std::unordered_map<std::size_t, RequestHandler> services_;  // by payload alternative
    std::map<wire::RecordKind, StoreCheck> store_checks_;
    StoreCheck store_check_all_;
    std::set<NodeId> eviction_pings_;  // candidates being pinged, so each is pinged once
    AddressVerifier verifier_;         // claimed addresses: which to dial back
    // When each lookup request in flight turns slow (slow_after), oldest first.
    struct SlowCheck {
        std::weak_ptr<LookupJob> job;
        NodeId id;
    };
    std::multimap<Clock::time_point, SlowCheck> slow_checks_;
    // Peers a lookup gave up on, and when (at most max_unresponsive; only our own timeouts add).
    std::unordered_map<NodeId, Clock::time_point, NodeIdHash> unresponsive_;
    // The credentials each peer presented last (one object per session): judged once per session.
    std::unique_ptr<Maintenance> maintenance_;
};

}  // namespace nocturne::dht
