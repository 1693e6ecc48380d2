#include <nocturne/crypto/random.hpp>
#include <nocturne/knowledge/entry.hpp>
#include <nocturne/knowledge/text.hpp>
#include <nocturne/wire/identifiers.hpp>

#include <array>
#include <string_view>

namespace nocturne::knowledge {
namespace {

constexpr std::array<std::string_view, 7> known_fields = {
    "domain", "title", "content", "tags", "confidence", "id", "ttl_seconds"};

std::error_code fail(errc code, std::string& why, std::string text) {
    why = std::move(text);
    return make_error_code(code);
}

// A required or optional string field: type and UTF-8 checked, raw size bounded.
std::error_code read_string(const nlohmann::json& body, std::string_view name, bool required,
                            std::string& out, std::string& why) {
    const auto it = body.find(name);
    if (it == body.end()) {
        if (required) return fail(errc::missing_field, why, std::string(name) + ": required");
        return {};
    }
    if (!it->is_string()) {
        return fail(errc::wrong_type, why, std::string(name) + ": must be a string");
    }
    out = it->get_ref<const std::string&>();
    return {};
}

// Cleans one text field and checks its size afterwards: a title of nothing but zero-width
// characters is empty.
std::error_code clean_field(std::string& text, std::string_view name, std::size_t max_bytes,
                            std::string& why) {
    if (!is_valid_utf8(text)) {
        return fail(errc::value_out_of_range, why, std::string(name) + ": not valid UTF-8");
    }
    if (text.size() > max_bytes) {
        return fail(errc::value_out_of_range, why,
                    std::string(name) + ": longer than " + std::to_string(max_bytes) + " bytes");
    }
    text = clean_text(text);
    if (text.empty()) {
        return fail(errc::value_out_of_range, why,
                    std::string(name) + ": empty (after removing control characters)");
    }
    return {};
}

}  // namespace

result<EntryDraft> validate_draft(EntryDraft draft, std::string& why) {
    if (!wire::is_valid_domain(draft.domain)) {
        return fail(errc::value_out_of_range, why,
                    "domain: 1-128 of [A-Za-z0-9._/-], not a reserved prefix");
    }
    if (!wire::is_valid_id(draft.id)) {
        return fail(errc::value_out_of_range, why, "id: 1-128 of [A-Za-z0-9._-]");
    }
    if (auto ec = clean_field(draft.title, "title", max_title_bytes, why)) return ec;
    if (auto ec = clean_field(draft.content, "content", max_content_bytes, why)) return ec;
    if (draft.tags.size() > max_tags) {
        return fail(errc::value_out_of_range, why,
                    "tags: at most " + std::to_string(max_tags) + " tags");
    }
    for (auto& tag : draft.tags) {
        if (auto ec = clean_field(tag, "tags", max_tag_bytes, why)) return ec;
    }
    if (!(draft.confidence >= 0.0 && draft.confidence <= 1.0)) {
        return fail(errc::value_out_of_range, why, "confidence: must be between 0 and 1");
    }
    if (draft.ttl_seconds < 1 || draft.ttl_seconds > max_ttl_seconds) {
        return fail(errc::value_out_of_range, why,
                    "ttl_seconds: must be 1.." + std::to_string(max_ttl_seconds));
    }
    return draft;
}

result<EntryDraft> parse_publish_request(const nlohmann::json& body, std::string& why) {
    if (!body.is_object()) return fail(errc::wrong_type, why, "body: must be a JSON object");
    for (const auto& [name, value] : body.items()) {
        bool known = false;
        for (const auto f : known_fields) known = known || f == name;
        if (!known) {
            // The name may hold anything; report a bounded, printable form.
            std::string shown;
            for (const char c : name.substr(0, 64)) {
                shown += (c >= 0x20 && c < 0x7F) ? c : '?';
            }
            return fail(errc::unknown_field, why, "unknown field '" + shown + "'");
        }
    }
    EntryDraft d;
    if (auto ec = read_string(body, "domain", true, d.domain, why)) return ec;
    if (auto ec = read_string(body, "title", true, d.title, why)) return ec;
    if (auto ec = read_string(body, "content", true, d.content, why)) return ec;
    if (auto ec = read_string(body, "id", false, d.id, why)) return ec;
    if (const auto it = body.find("tags"); it != body.end()) {
        if (!it->is_array()) return fail(errc::wrong_type, why, "tags: must be an array");
        if (it->size() > max_tags) {
            return fail(errc::value_out_of_range, why,
                        "tags: at most " + std::to_string(max_tags) + " tags");
        }
        for (const auto& tag : *it) {
            if (!tag.is_string()) return fail(errc::wrong_type, why, "tags: must be strings");
            d.tags.push_back(tag.get<std::string>());
        }
    }
    if (const auto it = body.find("confidence"); it != body.end()) {
        if (!it->is_number()) return fail(errc::wrong_type, why, "confidence: must be a number");
        d.confidence = it->get<double>();
    }
    if (const auto it = body.find("ttl_seconds"); it != body.end()) {
        if (!it->is_number_integer()) {
            return fail(errc::wrong_type, why, "ttl_seconds: must be an integer");
        }
        // A huge unsigned value would wrap in int64: bound it as unsigned first.
        if (it->is_number_unsigned() &&
            it->get<std::uint64_t>() > static_cast<std::uint64_t>(max_ttl_seconds)) {
            return fail(errc::value_out_of_range, why,
                        "ttl_seconds: must be 1.." + std::to_string(max_ttl_seconds));
        }
        d.ttl_seconds = it->get<std::int64_t>();
    }
    if (!body.contains("id")) d.id = crypto::random_hex_id(16);
    return validate_draft(std::move(d), why);
}

}  // namespace nocturne::knowledge
