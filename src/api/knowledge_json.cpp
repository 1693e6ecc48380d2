#include <nocturne/api/knowledge_json.hpp>
#include <nocturne/core/node_id.hpp>
#include <nocturne/crypto/random.hpp>
#include <nocturne/wire/json_reader.hpp>

#include <array>
#include <charconv>
#include <string_view>

namespace nocturne::api {
namespace {

using knowledge::FoundEntry;
using knowledge::KnowledgeEntry;
using knowledge::QueryPage;

constexpr std::array<std::string_view, 7> publish_fields = {
    "domain", "title", "content", "tags", "confidence", "id", "ttl_seconds"};

// The name may hold anything; report a bounded, printable form.
std::string shown(std::string_view name) {
    std::string out;
    for (const char c : name.substr(0, 64)) out += (c >= 0x20 && c < 0x7F) ? c : '?';
    return out;
}

// A required or optional string field.
result<void> read_string(const nlohmann::json& body, std::string_view name, bool required,
                         std::string& out) {
    const auto it = body.find(name);
    if (it == body.end()) {
        if (required) return Error(errc::missing_field, std::string(name) + ": required");
        return {};
    }
    if (!it->is_string()) return Error(errc::wrong_type, std::string(name) + ": must be a string");
    out = it->get_ref<const std::string&>();
    return {};
}

// A query parameter as a number, strictly: the whole text, nothing after it.
template <class T>
bool parse_number(const std::string& text, T& out) {
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, out);
    return ec == std::errc{} && ptr == end;
}

std::string untrusted_json(const KnowledgeEntry& e) {
    nlohmann::json tags = nlohmann::json::array();
    for (const auto& t : e.tags) tags.push_back(t);
    return wire::to_compact_json(
        nlohmann::json{{"title", e.title}, {"content", e.content}, {"tags", tags}});
}

nlohmann::json provenance_json(const FoundEntry& f) {
    const auto& p = f.provenance;
    return {{"author", p.author},
            {"operator_id", p.operator_id},
            {"verified_operator_id", p.verified_operator_id},
            {"operator_verified", p.operator_verified},
            {"signature_verified", p.signature_verified},
            {"trust", p.trust},
            {"confidence", f.entry.confidence},
            {"created", f.entry.created},
            {"expires", f.entry.expires},
            {"seq", f.entry.seq}};
}

}  // namespace

result<knowledge::EntryDraft> draft_from_json(const nlohmann::json& body) {
    if (!body.is_object()) return Error(errc::wrong_type, "body: must be a JSON object");
    for (const auto& [name, value] : body.items()) {
        bool known = false;
        for (const auto f : publish_fields) known = known || f == name;
        if (!known) return Error(errc::unknown_field, "unknown field '" + shown(name) + "'");
    }
    knowledge::EntryDraft d;
    if (auto r = read_string(body, "domain", true, d.domain); !r) return r.error();
    if (auto r = read_string(body, "title", true, d.title); !r) return r.error();
    if (auto r = read_string(body, "content", true, d.content); !r) return r.error();
    if (auto r = read_string(body, "id", false, d.id); !r) return r.error();
    if (const auto it = body.find("tags"); it != body.end()) {
        if (!it->is_array()) return Error(errc::wrong_type, "tags: must be an array");
        // Bounded here already: the body is at most 64 KiB, but a copy per tag is not needed to
        // refuse a thousand of them.
        if (it->size() > knowledge::max_tags) {
            return Error(errc::value_out_of_range,
                         "tags: at most " + std::to_string(knowledge::max_tags) + " tags");
        }
        for (const auto& tag : *it) {
            if (!tag.is_string()) return Error(errc::wrong_type, "tags: must be strings");
            d.tags.push_back(tag.get<std::string>());
        }
    }
    if (const auto it = body.find("confidence"); it != body.end()) {
        if (!it->is_number()) return Error(errc::wrong_type, "confidence: must be a number");
        d.confidence = it->get<double>();
    }
    if (const auto it = body.find("ttl_seconds"); it != body.end()) {
        if (!it->is_number_integer()) {
            return Error(errc::wrong_type, "ttl_seconds: must be an integer");
        }
        // A huge unsigned value would wrap in int64: bound it as unsigned first.
        if (it->is_number_unsigned() &&
            it->get<std::uint64_t>() > static_cast<std::uint64_t>(knowledge::max_ttl_seconds)) {
            return Error(errc::value_out_of_range,
                         "ttl_seconds: must be 1.." + std::to_string(knowledge::max_ttl_seconds));
        }
        d.ttl_seconds = it->get<std::int64_t>();
    }
    if (!body.contains("id")) d.id = crypto::random_hex_id(16);
    return d;
}

result<std::optional<std::string>> entry_domain_param(const QueryParams& params) {
    std::optional<std::string> domain;
    for (const auto& [name, value] : params) {
        if (name != "domain") {
            return Error(errc::unknown_field,
                         "unknown query parameter " + name + " (expected domain)");
        }
        domain = value;
    }
    return domain;
}

result<std::string> required_entry_domain(const QueryParams& params) {
    auto domain = entry_domain_param(params);
    if (!domain) return domain.error();
    if (!*domain) {
        return Error(errc::missing_field,
                     "domain is required: an entry's key is its domain and id");
    }
    return std::move(**domain);
}

result<knowledge::Query> query_from_params(const QueryParams& params) {
    knowledge::Query q;
    for (const auto& [name, value] : params) {
        if (name == "domain") {
            q.domain = value;
        } else if (name == "q") {
            q.text = value;
        } else if (name == "min_confidence") {
            if (!parse_number(value, q.min_confidence)) {
                return Error(errc::wrong_type, "min_confidence must be a number between 0 and 1");
            }
        } else if (name == "limit") {
            if (!parse_number(value, q.limit)) {
                return Error(errc::wrong_type, "limit must be an integer between 1 and 100");
            }
        } else if (name == "cursor") {
            q.cursor = value;
        } else {
            return Error(errc::unknown_field,
                         "unknown query parameter " + shown(name) +
                             " (expected domain, q, min_confidence, limit, cursor, votes)");
        }
    }
    if (q.domain.empty()) {
        return Error(errc::missing_field, "domain is required: a query reads one domain's index");
    }
    return q;
}

nlohmann::json publish_outcome_json(const knowledge::PublishOutcome& outcome) {
    const auto& e = outcome.entry;
    return {{"id", e.id},
            {"domain", e.domain},
            {"key", content_key(e.domain, e.id).to_hex()},
            {"seq", e.seq},
            {"stored_on", outcome.stored},
            {"announced_on", outcome.announced},
            {"expires", e.expires}};
}

nlohmann::json remove_outcome_json(const knowledge::RemoveOutcome& outcome) {
    return {{"id", outcome.id},
            {"domain", outcome.domain},
            {"deleted", true},
            {"seq", outcome.seq},
            {"stored_on", outcome.stored}};
}

bool page_contains(const QueryPage& page, const std::string& marker) {
    for (const auto& f : page.entries) {
        // The serialised form is what the reader sees; escaping could only split a match, and
        // checking the raw text as well covers that.
        if (untrusted_json(f.entry).find(marker) != std::string::npos) return true;
        if (f.entry.title.find(marker) != std::string::npos ||
            f.entry.content.find(marker) != std::string::npos) {
            return true;
        }
        for (const auto& t : f.entry.tags) {
            if (t.find(marker) != std::string::npos) return true;
        }
    }
    return false;
}

nlohmann::json present_page(const QueryPage& page, const std::string& marker) {
    auto entries = nlohmann::json::array();
    for (const auto& f : page.entries) {
        entries.push_back(
            {{"id", f.entry.id},
             {"domain", f.entry.domain},
             {"score", f.score},
             {"provenance", provenance_json(f)},
             {"untrusted", "<<<UNTRUSTED-CONTENT " + marker + ">>>\n" + untrusted_json(f.entry) +
                               "\n<<<END-UNTRUSTED-CONTENT " + marker + ">>>"}});
    }
    return {{"marker", marker},
            {"entries", std::move(entries)},
            {"next_cursor", page.next_cursor},
            {"announcements", page.announcements},
            {"index_truncated", page.index_truncated}};
}

nlohmann::json present_page(const QueryPage& page) {
    // 64 random bits: a collision with an author's text is astronomically unlikely, but it is
    // checked, since a marker inside the content would let that content close its envelope.
    auto marker = crypto::random_hex_id(8);
    while (page_contains(page, marker)) marker = crypto::random_hex_id(8);
    return present_page(page, marker);
}

}  // namespace nocturne::api
