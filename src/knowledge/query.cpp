#include <nocturne/core/node_id.hpp>
#include <nocturne/knowledge/query.hpp>
#include <nocturne/knowledge/text.hpp>
#include <nocturne/wire/identifiers.hpp>

#include <charconv>
#include <tuple>

namespace nocturne::knowledge {
namespace {

constexpr std::string_view cursor_prefix = "c1.";

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

}  // namespace

result<void> validate_query(const Query& q) {
    if (!wire::is_valid_domain(q.domain)) {
        return Error(errc::value_out_of_range,
                     "domain: 1-128 of [A-Za-z0-9._/-], not a reserved prefix");
    }
    if (q.text.size() > max_query_text_bytes || !is_valid_utf8(q.text)) {
        return Error(errc::value_out_of_range, "text: valid UTF-8 of at most " +
                                                   std::to_string(max_query_text_bytes) + " bytes");
    }
    if (!(q.min_confidence >= 0.0 && q.min_confidence <= 1.0)) {
        return Error(errc::value_out_of_range, "min_confidence: must be between 0 and 1");
    }
    if (q.limit < 1 || q.limit > max_query_limit) {
        return Error(errc::value_out_of_range,
                     "limit: must be 1.." + std::to_string(max_query_limit));
    }
    if (!q.cursor.empty() && !decode_cursor(q.cursor)) {
        return Error(errc::value_out_of_range, "cursor: not a cursor this API returned");
    }
    return {};
}

// "c1.<created>.<author hex>.<entry id>": the id goes last because it may contain dots.
std::string encode_cursor(const Cursor& c) {
    return std::string(cursor_prefix) + std::to_string(c.created) + "." + c.author + "." +
           c.entry_id;
}

result<Cursor> decode_cursor(std::string_view text) {
    const auto bad = make_error_code(errc::value_out_of_range);
    if (text.size() > max_cursor_bytes || !text.starts_with(cursor_prefix)) return bad;
    text.remove_prefix(cursor_prefix.size());
    const auto dot1 = text.find('.');
    if (dot1 == std::string_view::npos) return bad;
    Cursor c;
    const auto created = text.substr(0, dot1);
    const auto [end, ec] =
        std::from_chars(created.data(), created.data() + created.size(), c.created);
    if (ec != std::errc{} || end != created.data() + created.size() || c.created < 0 ||
        std::to_string(c.created) != created) {
        return bad;
    }
    text.remove_prefix(dot1 + 1);
    const auto dot2 = text.find('.');
    if (dot2 == std::string_view::npos) return bad;
    c.author = std::string(text.substr(0, dot2));
    c.entry_id = std::string(text.substr(dot2 + 1));
    const auto author = NodeId::from_hex(c.author);
    if (!author || author->to_hex() != c.author || !wire::is_valid_id(c.entry_id)) return bad;
    return c;
}

bool after_cursor(const Cursor& c, std::int64_t created, std::string_view entry_id,
                  std::string_view author) {
    // Newest first: a later position has a smaller created, then a larger id, then author.
    return std::make_tuple(-created, entry_id, author) >
           std::make_tuple(-c.created, std::string_view(c.entry_id), std::string_view(c.author));
}

std::vector<std::string> query_terms(std::string_view text) {
    std::vector<std::string> out;
    std::size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && is_space(text[i])) ++i;
        const auto start = i;
        while (i < text.size() && !is_space(text[i])) ++i;
        if (i > start) out.push_back(ascii_lower(text.substr(start, i - start)));
    }
    return out;
}

bool matches_terms(const KnowledgeEntry& e, const std::vector<std::string>& terms) {
    if (terms.empty()) return true;
    const auto title = ascii_lower(e.title);
    const auto content = ascii_lower(e.content);
    std::vector<std::string> tags;
    for (const auto& t : e.tags) tags.push_back(ascii_lower(t));
    for (const auto& term : terms) {
        bool found =
            title.find(term) != std::string::npos || content.find(term) != std::string::npos;
        for (const auto& t : tags) found = found || t.find(term) != std::string::npos;
        if (!found) return false;
    }
    return true;
}

}  // namespace nocturne::knowledge
