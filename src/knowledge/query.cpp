#include <nocturne/core/hex.hpp>
#include <nocturne/knowledge/query.hpp>
#include <nocturne/knowledge/text.hpp>
#include <nocturne/store/text_search.hpp>
#include <nocturne/wire/identifiers.hpp>

#include <charconv>

namespace nocturne::knowledge {
namespace {

// "c2." ("c1." cursors ordered by time only; they are refused, not misread).
constexpr std::string_view cursor_prefix = "c2.";

// A non-negative decimal exactly as std::to_string writes it, followed by a dot.
bool take_number(std::string_view& text, std::int64_t& out) {
    const auto dot = text.find('.');
    if (dot == std::string_view::npos) return false;
    const auto digits = text.substr(0, dot);
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), out);
    if (ec != std::errc{} || end != digits.data() + digits.size() || out < 0 ||
        std::to_string(out) != digits) {
        return false;
    }
    text.remove_prefix(dot + 1);
    return true;
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
    if (store::tokenize(q.text).size() > max_query_terms) {
        return Error(errc::value_out_of_range,
                     "text: at most " + std::to_string(max_query_terms) + " words");
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

// "c2.<score>.<created>.<author key hex>.<entry id>": the id goes last because it may hold dots.
std::string encode_cursor(const Cursor& c) {
    return std::string(cursor_prefix) + std::to_string(c.score) + "." + std::to_string(c.created) +
           "." + to_hex(c.author) + "." + c.slot;
}

result<Cursor> decode_cursor(std::string_view text) {
    const auto bad = make_error_code(errc::value_out_of_range);
    if (text.size() > max_cursor_bytes || !text.starts_with(cursor_prefix)) return bad;
    text.remove_prefix(cursor_prefix.size());
    Cursor c;
    if (!take_number(text, c.score) || !take_number(text, c.created)) return bad;
    const auto dot = text.find('.');
    if (dot != 2 * c.author.size()) return bad;
    const auto key = from_hex(text.substr(0, dot));
    if (!key || key->size() != c.author.size() || to_hex(*key) != text.substr(0, dot)) return bad;
    std::copy(key->begin(), key->end(), c.author.begin());
    c.slot = std::string(text.substr(dot + 1));
    if (!wire::is_valid_id(c.slot)) return bad;
    return c;
}

}  // namespace nocturne::knowledge
