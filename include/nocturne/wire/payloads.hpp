#pragma once

#include <nocturne/core/error.hpp>
#include <nocturne/core/node_id.hpp>
#include <nocturne/crypto/keys.hpp>
#include <nocturne/wire/record.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace nocturne::wire {

// A peer as one node tells another about it (FIND_NODE / FIND_VALUE answers). Between peers the
// address is ws://IP:port or wss://IP:port only (is_contact_address): no host names, no path, so
// that a referral cannot point the mesh at anything but a peer's port.
struct Contact {
    NodeId id;
    std::string address;
    friend bool operator==(const Contact&, const Contact&) = default;
};

// ---- Requests -------------------------------------------------------------------------------
struct Ping {};

// storers: only contacts that can hold records (enrolled agents), for puts and reads; a plain
// FIND_NODE (routing, bootstrap) gets any verified contact.
struct FindNode {
    NodeId target;
    bool storers = false;
};

// offset: continue a large record set (a domain index) from the responder's record number
// `offset`, asked directly of the node that answered the lookup (see ValueResult::total).
struct FindValue {
    NodeId key;
    std::uint64_t offset = 0;
};

// The key is the record's own (derived and signed); a STORE names no separate key.
//
// credentials: cert and agent_cert records that prove the standing of the record's author and of
// the sender in the Web of Trust (like a TLS certificate chain), so that the receiver decides
// without a lookup of its own. Only those two kinds are accepted here.
// ack: the sender wants a signed StoreAck back (a put counts them); replication and hand-over
// do not ask, and a signature per replicated record would be wasted.
struct Store {
    Record record;
    std::vector<Record> credentials = {};
    bool ack = false;
};

struct Vote {
    NodeId entry_key;
    std::string phase;                      // "commit" or "reveal"
    std::optional<std::string> commitment;  // commit: hex SHA-256 of (vote, nonce)
    std::optional<int> vote;                // reveal: -1, 0 or +1
    std::optional<std::string> nonce;       // reveal
    std::optional<std::string> reason;      // reveal, free text
    std::string operator_id;
};

// Where a QUERY page starts: results come by score (descending), then created (descending),
// author key and slot (ascending); a page starts after this position.
struct QueryPosition {
    std::int64_t score = 0;  // millionths (store::text_score)
    std::int64_t created = 0;
    crypto::PublicKey author{};
    std::string slot;
    friend bool operator==(const QueryPosition&, const QueryPosition&) = default;
};

// A full-text search of a domain's index, asked of the nodes that hold it: every term must begin
// a token of an announcement's title, tags or content.
struct Query {
    std::string domain;
    std::string text;
    double min_confidence = 0.0;
    int limit = 10;  // 1..100; an answer carries fewer when they do not fit a frame
    std::optional<QueryPosition> after = {};
};

// ---- Gossip (docs/gossip.md) ----------------------------------------------------------------
// An item is a signed record of a gossiped kind (revocation, certificate, ...); its id is the
// SHA-256 of the record's signature, so every signed version is its own item.

// GOSSIP: items pushed whole, with the certificates that prove their signers' standing.
struct Gossip {
    std::vector<Record> items;
    std::vector<Record> credentials = {};
};

// IHAVE: ids of items the sender holds; the answer (GossipAck::want) names those to push.
struct IHave {
    std::vector<NodeId> ids;
};

// IWANT: ids the sender asks for; the answer (ItemsResult) carries those the receiver holds.
struct IWant {
    std::vector<NodeId> ids;
};

// The ids beginning with `prefix` (0 to 16 lower-case hex digits) of one side's reconciled set:
// how many, and a fingerprint of them (docs/gossip.md: the first 16 bytes of SHA-256 over their
// sum modulo 2^256 and their count, as negentropy does).
struct SyncRange {
    std::string prefix;
    std::uint64_t count = 0;
    std::array<std::uint8_t, 16> fingerprint{};
    friend bool operator==(const SyncRange&, const SyncRange&) = default;
};
inline constexpr std::size_t max_sync_prefix = 16;

// SYNC: the sender's ranges; the answer says, for each range that differs, either the
// receiver's ids in it (small ranges) or its finer ranges.
struct Sync {
    std::vector<SyncRange> ranges;
};

// ---- Replies --------------------------------------------------------------------------------
struct Pong {
    std::string in_reply_to;
};

// RESPONSE carries one of these, tagged with the request type it answers ("for").
struct NodesResult {
    std::vector<Contact> peers;
};

struct ValueResult {
    std::vector<Record> records;           // non-empty when found
    std::vector<Contact> peers;            // closer peers when not found
    std::vector<Record> credentials = {};  // as in Store: the authors' certificate chains
    // How many records the responder holds for the key (0: not said). An answer carries those
    // from the request's offset while they fit a byte budget, so total > offset + records.size()
    // means there is more to ask for.
    std::uint64_t total = 0;
    // The responder's record number after this answer, where the next page starts (0: not said,
    // offset + records.size()); it may skip records it no longer believes.
    std::uint64_t next = 0;
};

// A responsible node's signed word that it stored one exact record: its key, and its signature
// over "nocturne/store-ack/v1", the record's key and the record's signature (which names the one
// version). A put counts only acknowledgements from enrolled agents that verify.
struct StoreAck {
    crypto::PublicKey key{};
    crypto::Signature sig{};
};

// code: why a STORE was refused (on the wire its errc name; a name this version does not know
// reads as errc::remote_error). ack: with stored.
struct StoreResult {
    bool stored = false;
    errc code = errc::ok;
    std::optional<StoreAck> ack = std::nullopt;
};

struct VoteResult {
    bool accepted = false;
    errc code = errc::ok;
};

// records: the best matches in result order, from the request's position on. more: the holder
// has further matches after the last record sent (the limit or the frame cut the answer).
struct QueryResult {
    std::vector<Record> records;
    std::vector<Record> credentials = {};  // as in ValueResult
    bool more = false;
};

// Answers GOSSIP (accepted: items new to the receiver and valid) and IHAVE (want: the ids it
// lacks, to be pushed).
struct GossipAck {
    std::uint32_t accepted = 0;
    std::vector<NodeId> want = {};
};

// Answers IWANT: the items asked for that the receiver holds, while they fit one answer.
struct ItemsResult {
    std::vector<Record> items;
    std::vector<Record> credentials = {};
};

// Answers SYNC. listed: the prefixes of the differing ranges whose ids this answer lists in
// full (in `ids`); ranges: the finer ranges of those too large to list, with the receiver's
// counts and fingerprints. A range that matched appears in neither. skipped: the request's last
// `skipped` ranges were not looked at (the answer was full): to be asked again.
struct SyncResult {
    std::vector<std::string> listed;
    std::vector<NodeId> ids;
    std::vector<SyncRange> ranges;
    std::uint32_t skipped = 0;
};

using ResponseBody = std::variant<NodesResult, ValueResult, StoreResult, VoteResult, QueryResult,
                                  GossipAck, ItemsResult, SyncResult>;

struct Response {
    std::string in_reply_to;
    ResponseBody result;
};

// The ERROR message: a request refused as a whole (on the wire, code is its errc name).
struct ErrorReply {
    std::string in_reply_to;
    errc code = errc::remote_error;
    std::string message;  // human-readable
    // With rate_limited: how long the sender should wait before sending to us again (0: unsaid).
    std::uint32_t retry_after_ms = 0;
};
inline constexpr std::uint32_t max_retry_after_ms = 600'000;

// In MessageType order.
using Payload = std::variant<Ping, Pong, FindNode, FindValue, Store, Vote, Query, Gossip, IHave,
                             IWant, Sync, Response, ErrorReply>;

StoreAck sign_store_ack(const Record& record, const crypto::KeyPair& keys);
// The ack is `by`'s (its key hashes to that node id) and signs exactly this record.
bool verify_store_ack(const StoreAck& ack, const Record& record, const NodeId& by);

}  // namespace nocturne::wire
