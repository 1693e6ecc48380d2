#include <nocturne/core/hex.hpp>
#include <nocturne/knowledge/entry_records.hpp>
#include <nocturne/knowledge/text.hpp>
#include <nocturne/wire/identifiers.hpp>
#include <nocturne/wire/json_reader.hpp>

namespace nocturne::knowledge {
namespace {

nlohmann::json tags_json(const std::vector<std::string>& tags) {
    auto out = nlohmann::json::array();
    for (const auto& t : tags) out.push_back(t);
    return out;
}

result<wire::Record> sign(wire::RecordKind kind, std::uint64_t seq, std::int64_t created,
                          std::int64_t expires, const nlohmann::json& payload,
                          const crypto::KeyPair& author) {
    return wire::sign_record({kind, seq, created, expires, wire::to_compact_json(payload)}, author);
}

// Text from the mesh: bounded, valid UTF-8 (parse_json guarantees it) and cleaned again.
std::string read_text(wire::ObjectReader& r, std::string_view name, std::size_t max_bytes) {
    auto text = r.string(name, max_bytes);
    if (r.error()) return {};
    if (!is_valid_utf8(text)) {
        r.fail(errc::value_out_of_range);
        return {};
    }
    text = clean_text(text);
    if (text.empty()) r.fail(errc::value_out_of_range);
    return text;
}

std::vector<std::string> read_tags(wire::ObjectReader& r, bool required) {
    const auto* array = required ? r.array("tags", max_tags) : r.optional_array("tags", max_tags);
    std::vector<std::string> out;
    if (array == nullptr) return out;
    for (const auto& item : *array) {
        if (!item.is_string()) {
            r.fail(errc::wrong_type);
            return {};
        }
        const auto& raw = item.get_ref<const std::string&>();
        if (raw.size() > max_tag_bytes || !is_valid_utf8(raw)) {
            r.fail(errc::value_out_of_range);
            return {};
        }
        auto tag = clean_text(raw);
        if (tag.empty()) {
            r.fail(errc::value_out_of_range);
            return {};
        }
        out.push_back(std::move(tag));
    }
    return out;
}

result<nlohmann::json> payload_of(const wire::Record& record, wire::RecordKind kind) {
    if (record.kind != kind) return make_error_code(errc::unknown_record_kind);
    auto payload = wire::parse_json(record.payload, wire::default_limits.max_record_bytes,
                                    wire::default_limits.max_json_depth);
    if (!payload) return payload.error();
    if (!payload->is_object()) return make_error_code(errc::wrong_type);
    return payload;
}

}  // namespace

std::string author_id(const wire::Record& record) {
    auto id = NodeId::from_public_key(record.author);
    return id ? id->to_hex() : std::string{};
}

result<wire::Record> sign_entry(const KnowledgeEntry& e, const crypto::KeyPair& author) {
    const nlohmann::json payload = {{"domain", e.domain},
                                    {"id", e.id},
                                    {"title", e.title},
                                    {"content", e.content},
                                    {"tags", tags_json(e.tags)},
                                    {"confidence", e.confidence},
                                    {"operator_id", e.operator_id}};
    return sign(wire::RecordKind::knowledge, e.seq, e.created, e.expires, payload, author);
}

result<wire::Record> sign_announcement(const KnowledgeEntry& e, const crypto::KeyPair& author) {
    const nlohmann::json payload = {{"domain", e.domain},        {"entry_id", e.id},
                                    {"title", e.title},          {"content", e.content},
                                    {"tags", tags_json(e.tags)}, {"confidence", e.confidence},
                                    {"created", e.created},      {"operator_id", e.operator_id}};
    return sign(wire::RecordKind::domain_announce, e.seq, e.created, e.expires, payload, author);
}

result<wire::Record> sign_entry_tombstone(const std::string& domain, const std::string& id,
                                          TombstoneTimes t, const crypto::KeyPair& author) {
    const nlohmann::json payload = {{"domain", domain}, {"id", id}, {"deleted", true}};
    return sign(wire::RecordKind::knowledge, t.seq, t.created, t.expires, payload, author);
}

result<wire::Record> sign_announce_tombstone(const std::string& domain, const std::string& id,
                                             TombstoneTimes t, const crypto::KeyPair& author) {
    const nlohmann::json payload = {{"domain", domain}, {"entry_id", id}, {"deleted", true}};
    return sign(wire::RecordKind::domain_announce, t.seq, t.created, t.expires, payload, author);
}

result<EntryRecord> entry_from_record(const wire::Record& record) {
    auto payload = payload_of(record, wire::RecordKind::knowledge);
    if (!payload) return payload.error();
    wire::ObjectReader r(*payload);
    EntryRecord out;
    auto& e = out.entry;
    e.domain = r.string("domain", wire::max_identifier_bytes);
    e.id = r.string("id", wire::max_identifier_bytes);
    const auto deleted = r.optional_boolean("deleted");
    if (r.error()) return r.error();
    if (deleted.has_value()) {
        if (!*deleted) return make_error_code(errc::value_out_of_range);
        out.deleted = true;
    } else {
        e.title = read_text(r, "title", max_title_bytes);
        e.content = read_text(r, "content", max_content_bytes);
        e.tags = read_tags(r, true);
        e.confidence = r.number("confidence", 0.0, 1.0);
        e.operator_id = r.string("operator_id", wire::max_identifier_bytes);
        if (!r.error() && !e.operator_id.empty() && !wire::is_valid_id(e.operator_id)) {
            r.fail(errc::value_out_of_range);
        }
    }
    if (auto ec = r.finish()) return ec;
    // decode_record derived the key from these two; check again for records built in code.
    if (!wire::is_valid_domain(e.domain) || !wire::is_valid_id(e.id)) {
        return make_error_code(errc::value_out_of_range);
    }
    e.author = author_id(record);
    e.created = record.created;
    e.expires = record.expires;
    e.seq = record.seq;
    return out;
}

result<Announcement> announcement_from_record(const wire::Record& record) {
    auto payload = payload_of(record, wire::RecordKind::domain_announce);
    if (!payload) return payload.error();
    wire::ObjectReader r(*payload);
    Announcement a;
    a.domain = r.string("domain", wire::max_identifier_bytes);
    a.entry_id = r.string("entry_id", wire::max_identifier_bytes);
    const auto deleted = r.optional_boolean("deleted");
    if (r.error()) return r.error();
    if (deleted.has_value()) {
        if (!*deleted) return make_error_code(errc::value_out_of_range);
        a.deleted = true;
    } else {
        a.title = read_text(r, "title", max_title_bytes);
        a.content = read_text(r, "content", max_content_bytes);
        a.tags = read_tags(r, true);
        a.confidence = r.number("confidence", 0.0, 1.0);
        a.created = r.int64("created", 0, INT64_MAX);
        a.operator_id = r.string("operator_id", wire::max_identifier_bytes);
        if (!r.error() && !a.operator_id.empty() && !wire::is_valid_id(a.operator_id)) {
            r.fail(errc::value_out_of_range);
        }
        // The sort key must be the signed creation time, not a claim beside it.
        if (!r.error() && a.created != record.created) r.fail(errc::value_out_of_range);
    }
    if (auto ec = r.finish()) return ec;
    if (!wire::is_valid_domain(a.domain) || !wire::is_valid_id(a.entry_id)) {
        return make_error_code(errc::value_out_of_range);
    }
    a.created = record.created;
    a.expires = record.expires;
    a.author = author_id(record);
    a.seq = record.seq;
    return a;
}

KnowledgeEntry entry_of(const Announcement& a) {
    KnowledgeEntry e;
    e.id = a.entry_id;
    e.domain = a.domain;
    e.title = a.title;
    e.content = a.content;
    e.tags = a.tags;
    e.confidence = a.confidence;
    e.author = a.author;
    e.operator_id = a.operator_id;
    e.created = a.created;
    e.expires = a.expires;
    e.seq = a.seq;
    return e;
}

}  // namespace nocturne::knowledge
