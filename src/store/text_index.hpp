#pragma once

// Private to store/: the SQLite store's text index (FTS5), kept in the store's own transactions.

#include <nocturne/store/store.hpp>
#include <nocturne/store/text_search.hpp>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <cstdint>
#include <optional>
#include <vector>

namespace nocturne::store::detail {

// Two tables beside `records`: text_meta (one row per indexed record: identity, scope, rank,
// created, expires) and text_fts (FTS5, rowid = text_meta.id: scope key, title, tags, body). A
// search is one FTS5 query ranked in SQLite by the same score readers compute (text_score(): the
// function nocturne_score, registered on the connection), so a page costs the matches' ranking
// in C and a keyset step, never decoding what is not returned.
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
    void delete_rows(SQLite::Statement& select_ids);

    SQLite::Database& db_;
    SQLite::Statement find_identity_;
    SQLite::Statement find_key_;
    SQLite::Statement find_expired_;
    SQLite::Statement delete_fts_;
    SQLite::Statement delete_meta_;
    SQLite::Statement insert_meta_;
    SQLite::Statement insert_fts_;
    SQLite::Statement scopes_;
};

}  // namespace nocturne::store::detail
