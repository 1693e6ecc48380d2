#pragma once

#include <nocturne/crypto/keys.hpp>
#include <nocturne/wire/record.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nocturne::store {

// What a record contributes to its store's text index. The store knows nothing of what records
// mean: the layer above (knowledge/) says which records are indexed and with what text.
struct IndexedText {
    std::string scope;  // what counts group by (a knowledge domain)
    std::string title;  // the searchable text, weighted 3, 2 and 1 in that order
    std::string tags;
    std::string body;
    double rank = 0;  // 0..1: orders a search without terms, and weighs every score
};
// Which records a store indexes and how: nullopt for those it does not.
using TextIndexer = std::function<std::optional<IndexedText>(const wire::Record&)>;

// Where a page of search results ends: results come by score (descending), then created
// (descending), author and slot (ascending), and the next page starts after this position.
struct TextPosition {
    std::int64_t score = 0;  // text_score()
    std::int64_t created = 0;
    crypto::PublicKey author{};
    std::string slot;
};

struct TextSearch {
    // Tokens (tokenize()) that must all occur in the title, tags or body, each as the beginning
    // of a token there. Empty: every indexed record under the key.
    std::vector<std::string> terms;
    double min_rank = 0;
    std::size_t limit = 100;
    std::optional<TextPosition> after;
};

struct ScopeCount {
    std::string scope;
    std::size_t records = 0;
};

// The text's tokens: runs of ASCII letters and digits and of non-ASCII bytes, ASCII lower-cased
// (SQLite FTS5's unicode61 tokenizer splits the same way on ASCII text).
std::vector<std::string> tokenize(std::string_view text);

// How often each term begins a token of the title, the tags and the body.
using TermCounts = std::vector<std::array<int, 3>>;

// The score of a match, the same wherever it is computed (a store's index from its own counts,
// a reader from the text itself), in millionths:
//   sum over terms of 3 log2(1 + in title) + 2 log2(1 + in tags) + log2(1 + in body),
//   times (0.5 + 0.5 rank); with no terms, just 0.5 + 0.5 rank.
std::int64_t text_score(const TermCounts& counts, double rank);
// text_score() of a text, or nullopt when a term occurs nowhere in it.
std::optional<std::int64_t> score_text(const std::vector<std::string>& terms,
                                       const IndexedText& text);

// Whether (score, created, author, slot) comes after `position` in result order.
bool comes_after(const TextPosition& position, std::int64_t score, std::int64_t created,
                 const crypto::PublicKey& author, std::string_view slot);

}  // namespace nocturne::store
