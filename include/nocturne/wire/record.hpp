#pragma once

#include <nocturne/core/error.hpp>
#include <nocturne/core/node_id.hpp>
#include <nocturne/crypto/keys.hpp>
#include <nocturne/wire/limits.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace nocturne::wire {

// What a record is. The kind fixes how the key is derived from the payload, how many records one
// author may hold under a key (the slot), and the longest lifetime allowed.
enum class RecordKind {
    knowledge,        // key = content_key(payload.domain, payload.id)
    domain_announce,  // key = domain_index_key(payload.domain); slot = payload.entry_id
    cert,             // key = prefix_key("cert", payload.operator_id)
    revocation,       // key = prefix_key("revocation", payload.operator_id)
    agent_cert,       // key = prefix_key("agent", payload.operator_id); slot = payload.agent_index
    vote,             // key = prefix_key("vote", payload.entry_key); slot = payload.phase
    // part "task": key = prefix_key("task_index", payload.domain), slot = payload.id;
    // parts "claim", "grant", "result": key = prefix_key("task", payload.id), slot = the part
    task,
    awareness,   // key = prefix_key("awareness", payload.id)
    quarantine,  // key = prefix_key("quarantine", payload.operator_id); slot = payload.action
    anomaly,     // key = prefix_key("anomaly", payload.operator_id): a report with its evidence
};

// Highest agent slot an agent_cert may name; an operator's max_agents is at most this plus one.
inline constexpr std::int64_t max_agent_index = 63;

const char* to_string(RecordKind kind) noexcept;
result<RecordKind> record_kind_from_string(std::string_view text);

// A signed value stored on the DHT: {key, kind, author, seq, created, expires, payload} signed by
// the author's Ed25519 key under the "nocturne/record/v1" domain-separation prefix.
//
// On the wire and on disk a record is {"pk": hex, "body": "<json text>", "sig": hex}: the body is
// carried as the exact bytes that were signed, so verification never depends on re-serialising
// JSON identically. A Record obtained from decode_record() has been verified; its parsed fields
// mirror `body`.
struct Record {
    NodeId key;
    RecordKind kind = RecordKind::knowledge;
    crypto::PublicKey author{};
    std::uint64_t seq = 0;
    std::int64_t created = 0;  // Unix seconds
    std::int64_t expires = 0;  // Unix seconds
    std::string payload;       // compact JSON text of the payload object
    std::string slot;          // derived from kind + payload; "" for single-slot kinds

    std::string body;  // exact signed bytes
    crypto::Signature sig{};

    // The record's identity in a store: one author holds at most one record per (key, kind, slot).
    bool same_identity(const Record& other) const noexcept {
        return key == other.key && kind == other.kind && author == other.author &&
               slot == other.slot;
    }
};

// The fields a publisher chooses; the key and the slot are derived from kind + payload.
struct RecordDraft {
    RecordKind kind = RecordKind::knowledge;
    std::uint64_t seq = 0;
    std::int64_t created = 0;
    std::int64_t expires = 0;
    std::string payload;  // JSON object text
};

// Builds and signs a record. Fails when the payload is not a JSON object or lacks the fields that
// the kind derives the key from (same checks as validation).
result<Record> sign_record(const RecordDraft& draft, const crypto::KeyPair& author,
                           const Limits& limits = default_limits);

// Verify-then-parse: size limit, outer shape, signature over the exact body, then body fields,
// kind, key derivation and slot. Does not look at time; see check_record_time().
result<Record> decode_record(std::string_view text, const Limits& limits = default_limits);

// decode_record for a record this node verified when it stored it, read back from its own store:
// every check but the Ed25519 signature (the store guards the bytes' integrity with a digest), so
// a record is verified once, on arrival, not on every read.
result<Record> decode_stored_record(std::string_view text, const Limits& limits = default_limits);

// The wire/disk form {"pk","body","sig"} as compact JSON text.
std::string encode_record(const Record& record);

// Lifetime rules at time `now`: created not further than the allowed skew in the future, expires
// after created, lifetime within the kind's maximum, and not yet expired.
std::error_code check_record_time(const Record& record, std::int64_t now,
                                  const Limits& limits = default_limits);

// Longest lifetime a record of this kind may claim.
std::int64_t max_ttl_seconds(RecordKind kind) noexcept;

}  // namespace nocturne::wire
