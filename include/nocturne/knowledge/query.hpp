#pragma once

#include <nocturne/core/error.hpp>
#include <nocturne/knowledge/entry.hpp>
#include <nocturne/wire/payloads.hpp>

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
inline constexpr std::size_t max_query_terms = 16;

struct Query {
    std::string domain;  // required
    // Terms (store::tokenize: runs of letters and digits, case-insensitive), each of which must
    // begin a word of the title, tags or content; "" matches every entry.
    std::string text;
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
    // Relevance (store::text_score in units): the terms' weighted frequency in title, tags and
    // content, times 0.5 + 0.5 confidence; with no terms, 0.5 + 0.5 confidence.
    double score = 0;
};

struct QueryPage {
    std::vector<FoundEntry> entries;  // best first: score, then newest, then author and id
    std::string next_cursor;          // "" when there is nothing more
    // Distinct matching announcements the holders of the domain's index sent for this page.
    std::size_t announcements = 0;
    // Fewer holders of the domain's index answered than were asked: a holder that did not may
    // have had more.
    bool index_truncated = false;
};

// Where the next page starts: after this position in result order (see wire::QueryPosition).
using Cursor = wire::QueryPosition;
std::string encode_cursor(const Cursor& cursor);
// errc::value_out_of_range for anything encode_cursor() would not produce.
result<Cursor> decode_cursor(std::string_view text);

}  // namespace nocturne::knowledge
