#pragma once

// Private to store/: the SQLite store's text index (FTS5), kept in the store's own transactions.

#include <nocturne/store/store.hpp>
#include <nocturne/store/text_search.hpp>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace nocturne::store::detail {

// Three tables beside `records`: text_meta (one row per indexed record: identity, scope, rank,
// created, expires), text_fts (FTS5, rowid = text_meta.id: scope key, title, tags, body) and
// text_terms (per key and token, the most times it occurs in one row's title, tags and body).
// A search that matches few rows is one FTS5 query ranked in SQLite by the same score readers
// compute (text_score(): the function nocturne_score, registered on the connection). One that
// matches many (a word most entries have) would rank them all; instead it walks the key's rows
// by rank and stops when the page is full and no row left can score above its last: a row's
// score is at most text_score(the terms' text_terms maxima, its rank). Either way a page never
// decodes what is not returned.
//
// Owned by the SqliteStore that owns the connection; not thread-safe.
class TextIndex {
public:
    // Creates the tables (idempotent) when `create`; registers the ranking function.
    static void create_tables(SQLite::Database& db);
    explicit TextIndex(SQLite::Database& db);

    // The record's index rows become `text` (none when nullopt). Call inside the write
    // transaction that stores or replaces the record.
    void replace(const RecordIdentity& id, std::int64_t created, std::int64_t expires,
                 const std::optional<IndexedText>& text);
    void erase(const RecordIdentity& id);
    void erase_key(const NodeId& key);
    void prune(std::int64_t now);

    // Rows of `records` (record_columns) for a search, in result order.
    std::vector<wire::Record> search(const NodeId& key, const TextSearch& search, std::int64_t now,
                                     std::uint64_t& corrupt);
    std::vector<ScopeCount> scopes(std::int64_t now, std::size_t limit);

private:
    // Deletes the rows whose (id, key) `select_ids` returns; count_terms: and takes them out of
    // text_terms' row counts.
    void delete_rows(SQLite::Statement& select_ids, bool count_terms);
    std::set<std::string> tokens_of(std::int64_t id);
    // A page of a search with terms (text_meta ids, in result order) from a walk of the key's
    // rows by rank that stops once no row left can enter the page, or nullopt when the walk would
    // cost more than ranking every match.
    std::optional<std::vector<std::int64_t>> walk_by_rank(const NodeId& key,
                                                          const TextSearch& search,
                                                          std::int64_t now,
                                                          const TermCounts& bounds);

    SQLite::Database& db_;
    SQLite::Statement find_identity_;
    SQLite::Statement find_key_;
    SQLite::Statement find_expired_;
    SQLite::Statement delete_fts_;
    SQLite::Statement delete_meta_;
    SQLite::Statement insert_meta_;
    SQLite::Statement insert_fts_;
    SQLite::Statement scopes_;
    SQLite::Statement raise_term_;
    SQLite::Statement lower_term_;
    SQLite::Statement drop_term_;
    SQLite::Statement delete_terms_;
    SQLite::Statement term_range_;
    SQLite::Statement by_rank_;
    SQLite::Statement text_of_;
    SQLite::Statement record_of_;
};

}  // namespace nocturne::store::detail
