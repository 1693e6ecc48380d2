#include "text_index.hpp"

#include <nocturne/core/hex.hpp>

#include <SQLiteCpp/Exception.h>
#include <sqlite3.h>

#include <string>

#include "sqlite_support.hpp"

namespace nocturne::store::detail {
namespace {

constexpr const char* create_text_schema = R"sql(
CREATE TABLE IF NOT EXISTS text_meta (
    id INTEGER PRIMARY KEY,
    key BLOB NOT NULL,
    kind TEXT NOT NULL,
    author BLOB NOT NULL,
    slot TEXT NOT NULL,
    scope TEXT NOT NULL,
    rank REAL NOT NULL,
    base_score INTEGER NOT NULL,
    created INTEGER NOT NULL,
    expires INTEGER NOT NULL,
    UNIQUE (key, kind, author, slot)
);
CREATE INDEX IF NOT EXISTS text_meta_order ON text_meta (key, base_score DESC, created DESC, author, slot);
CREATE INDEX IF NOT EXISTS text_meta_scope ON text_meta (scope);
CREATE INDEX IF NOT EXISTS text_meta_expires ON text_meta (expires);
CREATE VIRTUAL TABLE IF NOT EXISTS text_fts USING fts5(
    scope_key, title, tags, body, tokenize = 'ascii');
)sql";

// FTS5 columns; phrase 0 of every query is the scope token (column 0), phrases 1.. the terms.
constexpr int fts_title = 1;
constexpr int fts_body = 3;

// nocturne_score(text_fts, rank): text_score() from the match's instance counts.
void score_function(const Fts5ExtensionApi* api, Fts5Context* fts, sqlite3_context* ctx, int argc,
                    sqlite3_value** argv) {
    const double rank = argc > 0 ? sqlite3_value_double(argv[0]) : 0.0;
    const int phrases = api->xPhraseCount(fts);
    TermCounts counts(static_cast<std::size_t>(std::max(phrases - 1, 0)), {0, 0, 0});
    int instances = 0;
    if (api->xInstCount(fts, &instances) != SQLITE_OK) {
        sqlite3_result_error(ctx, "nocturne_score: xInstCount failed", -1);
        return;
    }
    for (int i = 0; i < instances; ++i) {
        int phrase = 0, column = 0, offset = 0;
        if (api->xInst(fts, i, &phrase, &column, &offset) != SQLITE_OK) continue;
        if (phrase < 1 || column < fts_title || column > fts_body) continue;
        ++counts[static_cast<std::size_t>(phrase - 1)]
                [static_cast<std::size_t>(column - fts_title)];
    }
    sqlite3_result_int64(ctx, text_score(counts, rank));
}

void register_score(SQLite::Database& db) {
    sqlite3* handle = db.getHandle();
    fts5_api* api = nullptr;
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(handle, "SELECT fts5(?1)", -1, &stmt, nullptr) == SQLITE_OK) {
        sqlite3_bind_pointer(stmt, 1, static_cast<void*>(&api), "fts5_api_ptr", nullptr);
        sqlite3_step(stmt);
    }
    sqlite3_finalize(stmt);
    if (api == nullptr || api->iVersion < 2) throw SQLite::Exception("FTS5 is not available");
    if (api->xCreateFunction(api, "nocturne_score", nullptr, &score_function, nullptr) !=
        SQLITE_OK) {
        throw SQLite::Exception("cannot register nocturne_score");
    }
}

std::string fts_string(std::string_view token) {
    std::string out = "\"";
    for (const char c : token) {
        if (c == '"') out.push_back('"');
        out.push_back(c);
    }
    out.push_back('"');
    return out;
}

std::string scope_token(const NodeId& key) {
    return "k" + key.to_hex();
}

// The FTS5 query: the key's token, and each term as a token prefix in title, tags or body.
std::string match_expression(const NodeId& key, const std::vector<std::string>& terms) {
    std::string out = "scope_key : " + fts_string(scope_token(key));
    for (const auto& t : terms) out += " AND {title tags body} : " + fts_string(t) + "*";
    return out;
}

// The inner query selects and orders index rows only; records are read for the page alone.
constexpr const char* keyset =
    " AND (?5 IS NULL OR s < ?5 OR (s = ?5 AND (c < ?6 OR (c = ?6 AND (a > ?7 OR (a = ?7 AND "
    "sl > ?8))))))";
constexpr const char* page_order = " ORDER BY s DESC, c DESC, a, sl LIMIT ?9";

std::string search_sql(bool text) {
    const std::string inner =
        text ? "SELECT m.key AS k, m.kind AS kd, m.author AS a, m.slot AS sl, m.created AS c, "
               "nocturne_score(text_fts, m.rank) AS s FROM text_fts JOIN text_meta m ON m.id = "
               "text_fts.rowid WHERE text_fts MATCH ?1 AND m.key = ?2 AND m.expires > ?3 AND "
               "m.rank >= ?4"
             : "SELECT m.key AS k, m.kind AS kd, m.author AS a, m.slot AS sl, m.created AS c, "
               "m.base_score AS s FROM text_meta m WHERE ?1 IS NULL AND m.key = ?2 AND m.expires > "
               "?3 AND m.rank >= ?4";
    return "SELECT r.key, r.kind, r.author, r.slot, r.seq, r.created, r.expires, r.encoded, "
           "r.digest FROM (SELECT * FROM (" +
           inner + ") WHERE 1" + keyset + page_order +
           ") AS p JOIN records r ON r.key = p.k AND r.kind = p.kd AND r.author = p.a AND r.slot "
           "= p.sl ORDER BY p.s DESC, p.c DESC, p.a, p.sl";
}

}  // namespace

void TextIndex::create_tables(SQLite::Database& db) {
    db.exec(create_text_schema);
}

TextIndex::TextIndex(SQLite::Database& db)
    : db_((register_score(db), db)),
      find_identity_(db,
                     "SELECT id FROM text_meta WHERE key = ?1 AND kind = ?2 AND author = ?3 "
                     "AND slot = ?4"),
      find_key_(db, "SELECT id FROM text_meta WHERE key = ?1"),
      find_expired_(db, "SELECT id FROM text_meta WHERE expires <= ?1"),
      delete_fts_(db, "DELETE FROM text_fts WHERE rowid = ?1"),
      delete_meta_(db, "DELETE FROM text_meta WHERE id = ?1"),
      insert_meta_(db,
                   "INSERT INTO text_meta (key, kind, author, slot, scope, rank, base_score, "
                   "created, expires) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"),
      insert_fts_(db,
                  "INSERT INTO text_fts (rowid, scope_key, title, tags, body) VALUES (?1, ?2, ?3, "
                  "?4, ?5)"),
      scopes_(db,
              "SELECT scope, COUNT(*) AS n FROM text_meta WHERE expires > ?1 GROUP BY scope "
              "ORDER BY n DESC, scope LIMIT ?2") {}

void TextIndex::delete_rows(SQLite::Statement& select_ids) {
    std::vector<std::int64_t> ids;
    while (select_ids.executeStep()) ids.push_back(select_ids.getColumn(0).getInt64());
    for (const auto id : ids) {
        StatementScope f(delete_fts_);
        f->bind(1, id);
        f->exec();
        StatementScope m(delete_meta_);
        m->bind(1, id);
        m->exec();
    }
}

void TextIndex::replace(const RecordIdentity& id, std::int64_t created, std::int64_t expires,
                        const std::optional<IndexedText>& text) {
    erase(id);
    if (!text) return;
    {
        StatementScope q(insert_meta_);
        bind_identity(*q, id);
        q->bind(5, text->scope);
        q->bind(6, text->rank);
        q->bind(7, text_score({}, text->rank));
        q->bind(8, created);
        q->bind(9, expires);
        q->exec();
    }
    StatementScope q(insert_fts_);
    q->bind(1, db_.getLastInsertRowid());
    q->bind(2, scope_token(id.key));
    q->bind(3, text->title);
    q->bind(4, text->tags);
    q->bind(5, text->body);
    q->exec();
}

void TextIndex::erase(const RecordIdentity& id) {
    StatementScope q(find_identity_);
    bind_identity(*q, id);
    delete_rows(*q);
}

void TextIndex::erase_key(const NodeId& key) {
    StatementScope q(find_key_);
    bind_blob(*q, 1, key.bytes());
    delete_rows(*q);
}

void TextIndex::prune(std::int64_t now) {
    StatementScope q(find_expired_);
    q->bind(1, now);
    delete_rows(*q);
}

std::vector<wire::Record> TextIndex::search(const NodeId& key, const TextSearch& search,
                                            std::int64_t now, std::uint64_t& corrupt) {
    const bool text = !search.terms.empty();
    // Prepared per call: two shapes, and a search costs far more than a prepare.
    SQLite::Statement q(db_, search_sql(text));
    if (text) q.bind(1, match_expression(key, search.terms));
    bind_blob(q, 2, key.bytes());
    q.bind(3, now);
    q.bind(4, search.min_rank);
    if (search.after) {
        q.bind(5, search.after->score);
        q.bind(6, search.after->created);
        bind_blob(q, 7, search.after->author);
        q.bind(8, search.after->slot);
    }
    q.bind(9, static_cast<std::int64_t>(std::min<std::size_t>(search.limit, INT64_MAX)));
    std::vector<wire::Record> out;
    while (q.executeStep()) {
        if (auto record = decode_row(q)) {
            out.push_back(std::move(*record));
        } else {
            ++corrupt;
        }
    }
    return out;
}

std::vector<ScopeCount> TextIndex::scopes(std::int64_t now, std::size_t limit) {
    StatementScope q(scopes_);
    q->bind(1, now);
    q->bind(2, static_cast<std::int64_t>(std::min<std::size_t>(limit, INT64_MAX)));
    std::vector<ScopeCount> out;
    while (q->executeStep()) {
        out.push_back(
            {q->getColumn(0).getString(), static_cast<std::size_t>(q->getColumn(1).getInt64())});
    }
    return out;
}

}  // namespace nocturne::store::detail
