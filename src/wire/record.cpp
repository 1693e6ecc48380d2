#include <nocturne/core/hex.hpp>
#include <nocturne/core/sha256.hpp>
#include <nocturne/crypto/keys.hpp>
#include <nocturne/wire/identifiers.hpp>
#include <nocturne/wire/json_reader.hpp>
#include <nocturne/wire/record.hpp>
#include <nocturne/wire/signed_blob.hpp>

#include <array>
#include <deque>
#include <unordered_set>
#include <utility>

#include "codec.hpp"

namespace nocturne::wire {
namespace {

constexpr std::int64_t day = 24 * 3600;
constexpr std::int64_t max_seq = INT64_MAX;  // seq is stored as a signed SQLite INTEGER

struct KindName {
    RecordKind kind;
    std::string_view name;
};

constexpr std::array<KindName, 10> kind_names{{
    {RecordKind::knowledge, "knowledge"},
    {RecordKind::domain_announce, "domain_announce"},
    {RecordKind::cert, "cert"},
    {RecordKind::revocation, "revocation"},
    {RecordKind::agent_cert, "agent_cert"},
    {RecordKind::vote, "vote"},
    {RecordKind::task, "task"},
    {RecordKind::awareness, "awareness"},
    {RecordKind::quarantine, "quarantine"},
    {RecordKind::anomaly, "anomaly"},
}};

struct Derived {
    NodeId key;
    std::string slot;
};

// Reads a payload string field that must satisfy `valid`; records errc::value_out_of_range if not.
// Other payload fields are the business of the layer that owns the kind, so they are not consumed
// and not rejected here.
std::string payload_field(const nlohmann::json& payload, std::string_view name,
                          bool (*valid)(std::string_view) noexcept, std::error_code& ec) {
    const auto it = payload.find(name);
    if (it == payload.end()) {
        if (!ec) ec = make_error_code(errc::missing_field);
        return {};
    }
    if (!it->is_string()) {
        if (!ec) ec = make_error_code(errc::wrong_type);
        return {};
    }
    const auto& text = it->get_ref<const std::string&>();
    if (!valid(text)) {
        if (!ec) ec = make_error_code(errc::value_out_of_range);
        return {};
    }
    return text;
}

// An agent slot: a small non-negative integer, kept as its decimal text for the slot column.
std::string agent_slot(const nlohmann::json& payload, std::error_code& ec) {
    const auto it = payload.find("agent_index");
    if (it == payload.end()) {
        if (!ec) ec = make_error_code(errc::missing_field);
        return {};
    }
    if (!it->is_number_integer()) {
        if (!ec) ec = make_error_code(errc::wrong_type);
        return {};
    }
    const auto index = it->get<std::int64_t>();
    if (index < 0 || index > max_agent_index) {
        if (!ec) ec = make_error_code(errc::value_out_of_range);
        return {};
    }
    return std::to_string(index);
}

bool is_hex_key(std::string_view text) noexcept {
    return text.size() == 2 * NodeId::size && NodeId::from_hex(text).has_value() &&
           text == NodeId::from_hex(text)->to_hex();
}

bool is_vote_phase(std::string_view text) noexcept {
    return text == "commit" || text == "reveal";
}

bool is_quarantine_action(std::string_view text) noexcept {
    return text == "hold" || text == "lift";
}

bool is_task_part(std::string_view text) noexcept {
    return text == "task" || text == "claim" || text == "grant" || text == "result";
}

// The one place that says how each kind derives its key and slot from its payload.
result<Derived> derive(RecordKind kind, const nlohmann::json& payload) {
    if (!payload.is_object()) return make_error_code(errc::wrong_type);
    std::error_code ec;
    Derived d;
    switch (kind) {
        case RecordKind::knowledge: {
            auto domain = payload_field(payload, "domain", is_valid_domain, ec);
            auto id = payload_field(payload, "id", is_valid_id, ec);
            d.key = content_key(domain, id);
            break;
        }
        case RecordKind::domain_announce: {
            auto domain = payload_field(payload, "domain", is_valid_domain, ec);
            d.slot = payload_field(payload, "entry_id", is_valid_id, ec);
            d.key = domain_index_key(domain);
            break;
        }
        case RecordKind::cert:
            d.key = prefix_key(key_prefix::cert,
                               payload_field(payload, "operator_id", is_valid_id, ec));
            break;
        case RecordKind::revocation:
            d.key = prefix_key(key_prefix::revocation,
                               payload_field(payload, "operator_id", is_valid_id, ec));
            break;
        case RecordKind::agent_cert:
            // All agents of one operator sit under one key, one slot each: the responsible nodes
            // then hold at most max_agents live certificates per operator.
            d.key = prefix_key(key_prefix::agent,
                               payload_field(payload, "operator_id", is_valid_id, ec));
            d.slot = agent_slot(payload, ec);
            break;
        case RecordKind::vote:
            d.key =
                prefix_key(key_prefix::vote, payload_field(payload, "entry_key", is_hex_key, ec));
            d.slot = payload_field(payload, "phase", is_vote_phase, ec);
            break;
        case RecordKind::task: {
            // A task's definition sits in its domain's task index (one slot per task id); what
            // happens to it (claims, storers' grants, results) under the task's own key, one slot
            // per part.
            auto part = payload_field(payload, "part", is_task_part, ec);
            auto id = payload_field(payload, "id", is_valid_id, ec);
            if (part == "task") {
                d.key = prefix_key(key_prefix::task_index,
                                   payload_field(payload, "domain", is_valid_domain, ec));
                d.slot = id;
            } else {
                d.key = prefix_key(key_prefix::task, id);
                d.slot = part;
            }
            break;
        }
        case RecordKind::awareness:
            d.key =
                prefix_key(key_prefix::awareness, payload_field(payload, "id", is_valid_id, ec));
            break;
        case RecordKind::quarantine:
            // A hold and a lift by one signer are two identities: a lift in the hold's second
            // must not conflict with it.
            d.key = prefix_key(key_prefix::quarantine,
                               payload_field(payload, "operator_id", is_valid_id, ec));
            d.slot = payload_field(payload, "action", is_quarantine_action, ec);
            break;
        case RecordKind::anomaly:
            d.key = prefix_key(key_prefix::anomaly,
                               payload_field(payload, "operator_id", is_valid_id, ec));
            break;
    }
    if (ec) return ec;
    return d;
}

std::string make_body(const NodeId& key, RecordKind kind, const crypto::PublicKey& author,
                      std::uint64_t seq, std::int64_t created, std::int64_t expires,
                      const nlohmann::json& payload) {
    nlohmann::json body = {
        {"v", 1},     {"key", key.to_hex()}, {"kind", to_string(kind)}, {"author", to_hex(author)},
        {"seq", seq}, {"created", created},  {"expires", expires},      {"payload", payload}};
    return to_compact_json(body);
}

}  // namespace

const char* to_string(RecordKind kind) noexcept {
    for (const auto& k : kind_names)
        if (k.kind == kind) return k.name.data();
    return "unknown";
}

result<RecordKind> record_kind_from_string(std::string_view text) {
    for (const auto& k : kind_names)
        if (k.name == text) return k.kind;
    return make_error_code(errc::unknown_record_kind);
}

std::int64_t max_ttl_seconds(RecordKind kind) noexcept {
    switch (kind) {
        case RecordKind::knowledge:
            return 90 * day;  // publishers republish to extend
        case RecordKind::domain_announce:
            return 90 * day;
        case RecordKind::cert:
            return 400 * day;
        case RecordKind::revocation:
            return 10 * 365 * day;  // a revocation must outlive certs
        case RecordKind::agent_cert:
            return 400 * day;
        case RecordKind::vote:
            return 30 * day;
        case RecordKind::task:
            return 7 * day;
        case RecordKind::awareness:
            return 30 * day;
        case RecordKind::quarantine:
            return 60 * day;  // a hold lasts at most 30 days; its lift outlives it
        case RecordKind::anomaly:
            return 30 * day;
    }
    return 0;
}

result<Record> sign_record(const RecordDraft& draft, const crypto::KeyPair& author,
                           const Limits& limits) {
    if (draft.seq > static_cast<std::uint64_t>(max_seq)) {
        return make_error_code(errc::value_out_of_range);
    }
    auto payload = parse_json(draft.payload, limits.max_record_bytes, limits.max_json_depth - 2);
    if (!payload) return payload.error();
    auto derived = derive(draft.kind, *payload);
    if (!derived) return derived.error();

    Record r;
    r.key = derived->key;
    r.kind = draft.kind;
    r.author = author.public_key();
    r.seq = draft.seq;
    r.created = draft.created;
    r.expires = draft.expires;
    r.payload = to_compact_json(*payload);
    r.slot = std::move(derived->slot);
    r.body = make_body(r.key, r.kind, r.author, r.seq, r.created, r.expires, *payload);
    auto blob = sign_blob(record_domain, r.body, author);
    r.sig = blob.sig;
    if (encode_record(r).size() > limits.max_record_bytes) {
        return make_error_code(errc::record_too_large);
    }
    return r;
}

std::string encode_record(const Record& record) {
    return to_compact_json(detail::record_to_json(record));
}

result<Record> decode_record(std::string_view text, const Limits& limits) {
    if (text.size() > limits.max_record_bytes) return make_error_code(errc::record_too_large);
    auto outer = parse_json(text, limits.max_record_bytes, limits.max_json_depth);
    if (!outer) return outer.error();
    return detail::record_from_json(*outer, limits);
}

result<Record> decode_stored_record(std::string_view text, const Limits& limits) {
    if (text.size() > limits.max_record_bytes) return make_error_code(errc::record_too_large);
    auto outer = parse_json(text, limits.max_record_bytes, limits.max_json_depth);
    if (!outer) return outer.error();
    return detail::record_from_json(*outer, limits, false);
}

namespace {

// Records whose signature this thread verified lately, by a digest of everything the signature
// covers and the signature itself. A reader hears the same record from several holders (a read
// asks the k closest, a QUERY a majority of them): the first copy pays the Ed25519 verification,
// identical copies cost a SHA-256. Only exact bytes that verified hit it, so it cannot be made to
// accept anything; it holds at most `capacity` digests (about 1 MiB).
class VerifiedRecords {
public:
    bool verify(const SignedBlob& blob) {
        std::string all;
        all.reserve(blob.public_key.size() + blob.sig.size() + blob.body.size());
        all.append(reinterpret_cast<const char*>(blob.public_key.data()), blob.public_key.size());
        all.append(reinterpret_cast<const char*>(blob.sig.data()), blob.sig.size());
        all.append(blob.body);
        const auto digest = sha256(as_bytes(all));
        const std::string key(digest.begin(), digest.end());
        if (seen_.contains(key)) return true;
        if (!crypto::verify(blob.public_key, as_bytes(signing_bytes(record_domain, blob.body)),
                            blob.sig)) {
            return false;
        }
        if (order_.size() == capacity) {
            seen_.erase(order_.front());
            order_.pop_front();
        }
        seen_.insert(key);
        order_.push_back(key);
        return true;
    }

private:
    static constexpr std::size_t capacity = 8192;
    std::unordered_set<std::string> seen_;
    std::deque<std::string> order_;
};

result<SignedBlob> verify_record_blob(const nlohmann::json& object, std::size_t max_body_bytes) {
    auto blob = read_verified_blob(object, max_body_bytes);
    if (!blob) return blob;
    thread_local VerifiedRecords verified;
    if (!verified.verify(*blob)) return make_error_code(errc::bad_signature);
    return blob;
}

}  // namespace

namespace detail {

nlohmann::json record_to_json(const Record& record) {
    return blob_to_json({record.author, record.body, record.sig});
}

result<Record> record_from_json(const nlohmann::json& object, const Limits& limits, bool verify) {
    auto blob = verify ? verify_record_blob(object, limits.max_record_bytes)
                       : read_verified_blob(object, limits.max_record_bytes);
    if (!blob) return blob.error();
    auto body = parse_json(blob->body, limits.max_record_bytes, limits.max_json_depth);
    if (!body) return body.error();

    ObjectReader reader(*body);
    Record r;
    const auto version = reader.int64("v", 0, INT64_MAX);
    r.key = reader.node_id("key");
    const auto kind_name = reader.string("kind", 32);
    r.author = reader.hex_fixed<32>("author");
    r.seq = static_cast<std::uint64_t>(reader.int64("seq", 0, max_seq));
    r.created = reader.int64("created", 0, INT64_MAX);
    r.expires = reader.int64("expires", 0, INT64_MAX);
    const nlohmann::json* payload = reader.object("payload");
    if (auto ec = reader.finish()) return ec;
    if (version != 1) return make_error_code(errc::unknown_version);
    auto kind = record_kind_from_string(kind_name);
    if (!kind) return kind.error();
    r.kind = *kind;
    if (r.author != blob->public_key) return make_error_code(errc::public_key_mismatch);

    auto derived = derive(r.kind, *payload);
    if (!derived) return derived.error();
    if (derived->key != r.key) return make_error_code(errc::key_mismatch);
    r.slot = std::move(derived->slot);
    r.payload = to_compact_json(*payload);
    r.body = std::move(blob->body);
    r.sig = blob->sig;
    return r;
}

}  // namespace detail

std::error_code check_record_time(const Record& record, std::int64_t now, const Limits& limits) {
    if (record.created > now + limits.max_clock_skew_seconds) {
        return make_error_code(errc::created_in_future);
    }
    if (record.expires <= record.created ||
        record.expires - record.created > max_ttl_seconds(record.kind)) {
        return make_error_code(errc::ttl_out_of_range);
    }
    if (record.expires <= now) return make_error_code(errc::record_expired);
    return {};
}

}  // namespace nocturne::wire
