#include <nocturne/knowledge/entry.hpp>
#include <nocturne/knowledge/text.hpp>
#include <nocturne/wire/identifiers.hpp>

#include <string_view>

namespace nocturne::knowledge {
namespace {

// Cleans one text field and checks its size afterwards: a title of nothing but zero-width
// characters is empty.
result<void> clean_field(std::string& text, std::string_view name, std::size_t max_bytes) {
    if (!is_valid_utf8(text)) {
        return Error(errc::value_out_of_range, std::string(name) + ": not valid UTF-8");
    }
    if (text.size() > max_bytes) {
        return Error(errc::value_out_of_range,
                     std::string(name) + ": longer than " + std::to_string(max_bytes) + " bytes");
    }
    text = clean_text(text);
    if (text.empty()) {
        return Error(errc::value_out_of_range,
                     std::string(name) + ": empty (after removing control characters)");
    }
    return {};
}

}  // namespace

result<EntryDraft> validate_draft(EntryDraft draft) {
    if (!wire::is_valid_domain(draft.domain)) {
        return Error(errc::value_out_of_range,
                     "domain: 1-128 of [A-Za-z0-9._/-], not a reserved prefix");
    }
    if (!wire::is_valid_id(draft.id)) {
        return Error(errc::value_out_of_range, "id: 1-128 of [A-Za-z0-9._-]");
    }
    if (auto r = clean_field(draft.title, "title", max_title_bytes); !r) return r.error();
    if (auto r = clean_field(draft.content, "content", max_content_bytes); !r) return r.error();
    if (draft.tags.size() > max_tags) {
        return Error(errc::value_out_of_range,
                     "tags: at most " + std::to_string(max_tags) + " tags");
    }
    for (auto& tag : draft.tags) {
        if (auto r = clean_field(tag, "tags", max_tag_bytes); !r) return r.error();
    }
    if (!(draft.confidence >= 0.0 && draft.confidence <= 1.0)) {
        return Error(errc::value_out_of_range, "confidence: must be between 0 and 1");
    }
    if (draft.ttl_seconds < 1 || draft.ttl_seconds > max_ttl_seconds) {
        return Error(errc::value_out_of_range,
                     "ttl_seconds: must be 1.." + std::to_string(max_ttl_seconds));
    }
    return draft;
}

}  // namespace nocturne::knowledge
