#pragma once

#include <nocturne/core/error.hpp>
#include <nocturne/knowledge/entry.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace nocturne::knowledge {

inline constexpr int default_query_limit = 10;
inline constexpr int max_query_limit = 100;
inline constexpr std::size_t max_query_text_bytes = 1024;
inline constexpr std::size_t max_cursor_bytes = 512;

struct Query {
    std::string domain;  // required
    std::string text;    // whitespace-separated terms, all of which must match; "" matches all
    double min_confidence = 0.0;
    int limit = default_query_limit;  // 1..100
    std::string cursor;               // "" for the first page, else a page's next_cursor
};

// Checks a query's fields (value_out_of_range with a detail naming the field). The service calls
// it; callers only shape their input into a Query.
result<void> validate_query(const Query& query);

// Where an entry came from, as far as this node can tell. Kept outside the untrusted envelope.
struct Provenance {
    std::string author;                // node id (hex) of the agent that signed the entry
    std::string operator_id;           // the operator the record names (the author's claim)
    std::string verified_operator_id;  // the author's operator per this node's Web of Trust
    bool operator_verified = false;    // both are the same
    bool signature_verified = true;    // records are verified on decode; unverified ones never
                                       // reach a query
    // "trusted" (author is an agent of a trusted operator), "unverified" (this node knows no
    // certificate for the author yet). Authors known to be untrusted are dropped.
    std::string trust;
};

struct FoundEntry {
    KnowledgeEntry entry;
    Provenance provenance;
};

struct QueryPage {
    std::vector<FoundEntry> entries;
    std::string next_cursor;        // "" when there is nothing more
    std::size_t announcements = 0;  // live announcements read from the domain index
    // Not every announcement was read: the index holds more than the service reads (see
    // ServiceOptions::max_index_records) or its holder stopped answering between pages.
    bool index_truncated = false;
};

// The position after which the next page starts: entries are ordered by created (newest first),
// then entry id, then author.
struct Cursor {
    std::int64_t created = 0;
    std::string entry_id;
    std::string author;  // node id hex
};
std::string encode_cursor(const Cursor& cursor);
// errc::value_out_of_range for anything encode_cursor() would not produce.
result<Cursor> decode_cursor(std::string_view text);
// Whether (created, entry_id, author) sorts strictly after the cursor position.
bool after_cursor(const Cursor& cursor, std::int64_t created, std::string_view entry_id,
                  std::string_view author);

// Lower-cased (ASCII) whitespace-separated terms of a query text.
std::vector<std::string> query_terms(std::string_view text);
// Every term occurs, ASCII case-insensitively, in the title, the content or a tag.
bool matches_terms(const KnowledgeEntry& entry, const std::vector<std::string>& terms);

}  // namespace nocturne::knowledge
