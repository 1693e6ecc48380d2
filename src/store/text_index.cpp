#include "text_index.hpp"

#include <nocturne/core/hex.hpp>

#include <SQLiteCpp/Exception.h>
#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <map>
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
CREATE INDEX IF NOT EXISTS text_meta_rank ON text_meta (key, rank DESC, created DESC, author, slot);
CREATE INDEX IF NOT EXISTS text_meta_scope ON text_meta (scope);
CREATE INDEX IF NOT EXISTS text_meta_expires ON text_meta (expires);
CREATE VIRTUAL TABLE IF NOT EXISTS text_fts USING fts5(
    scope_key, title, tags, body, tokenize = 'ascii');
CREATE TABLE IF NOT EXISTS text_terms (
    key BLOB NOT NULL,
    token TEXT NOT NULL,
    docs INTEGER NOT NULL,
    title INTEGER NOT NULL,
    tags INTEGER NOT NULL,
    body INTEGER NOT NULL,
    PRIMARY KEY (key, token)
) WITHOUT ROWID;
)sql";

// A search whose terms may match fewer rows than this is ranked by FTS5 over all its matches;
// one that may match more walks the key's rows by rank and stops once no row left can make the
// page.
constexpr std::int64_t walk_from_rows = 256;
// A term that begins more distinct tokens than this bounds nothing useful: FTS5 ranks it.
constexpr std::int64_t max_bound_tokens = 64;

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

// The inner query selects and orders index rows only; records are read for the page alone. The
// plans are fixed (CROSS JOIN: the matches drive; INDEXED BY: the page order's index), since the
// rank index would tempt the planner into walking a whole key.
constexpr const char* keyset =
    " AND (?5 IS NULL OR s < ?5 OR (s = ?5 AND (c < ?6 OR (c = ?6 AND (a > ?7 OR (a = ?7 AND "
    "sl > ?8))))))";
constexpr const char* page_order = " ORDER BY s DESC, c DESC, a, sl LIMIT ?9";

// What text_terms says of a term under a key: per field, the most times any one row has tokens
// that begin with it (the sum, over the tokens with that prefix, of each token's most
// occurrences in one row), and at most how many rows have one.
struct TermBound {
    std::array<int, 3> counts{};
    std::int64_t rows = 0;
};

std::optional<TermBound> term_bound(SQLite::Statement& range, const NodeId& key,
                                    const std::string& term) {
    StatementScope q(range);
    bind_blob(*q, 1, key.bytes());
    q->bind(2, term);
    // Tokens are UTF-8, in which 0xFF never occurs: every token with the prefix sorts below this.
    q->bind(3, term + '\xff');
    q->bind(4, max_bound_tokens + 1);
    std::array<std::int64_t, 3> sum{};
    std::int64_t tokens = 0;
    TermBound out;
    while (q->executeStep()) {
        ++tokens;
        out.rows += q->getColumn(0).getInt64();
        for (int f = 0; f < 3; ++f) sum[f] += q->getColumn(1 + f).getInt64();
    }
    if (tokens > max_bound_tokens) return std::nullopt;
    for (std::size_t f = 0; f < 3; ++f) {
        out.counts[f] = static_cast<int>(std::min<std::int64_t>(sum[f], INT32_MAX));
    }
    return out;
}

template <class Hits>
std::vector<std::int64_t> ids_of(const Hits& hits) {
    std::vector<std::int64_t> out;
    for (const auto& h : hits) out.push_back(h.id);
    return out;
}

std::string search_sql(bool text) {
    const std::string inner =
        text ? "SELECT m.key AS k, m.kind AS kd, m.author AS a, m.slot AS sl, m.created AS c, "
               "nocturne_score(text_fts, m.rank) AS s FROM text_fts CROSS JOIN text_meta m ON m.id "
               "= "
               "text_fts.rowid WHERE text_fts MATCH ?1 AND m.key = ?2 AND m.expires > ?3 AND "
               "m.rank >= ?4"
             : "SELECT m.key AS k, m.kind AS kd, m.author AS a, m.slot AS sl, m.created AS c, "
               "m.base_score AS s FROM text_meta m INDEXED BY text_meta_order WHERE ?1 IS NULL AND "
               "m.key = "
               "?2 AND m.expires > "
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
                     "SELECT id, key FROM text_meta WHERE key = ?1 AND kind = ?2 AND author = ?3 "
                     "AND slot = ?4"),
      find_key_(db, "SELECT id, key FROM text_meta WHERE key = ?1"),
      find_expired_(db, "SELECT id, key FROM text_meta WHERE expires <= ?1"),
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
              "ORDER BY n DESC, scope LIMIT ?2"),
      raise_term_(db,
                  "INSERT INTO text_terms (key, token, docs, title, tags, body) VALUES (?1, ?2, 1, "
                  "?3, ?4, ?5) ON CONFLICT (key, token) DO UPDATE SET docs = docs + 1, title = "
                  "max(title, excluded.title), tags = max(tags, excluded.tags), body = max(body, "
                  "excluded.body)"),
      lower_term_(db, "UPDATE text_terms SET docs = docs - 1 WHERE key = ?1 AND token = ?2"),
      drop_term_(db, "DELETE FROM text_terms WHERE key = ?1 AND token = ?2 AND docs <= 0"),
      delete_terms_(db, "DELETE FROM text_terms WHERE key = ?1"),
      term_range_(db,
                  "SELECT docs, title, tags, body FROM text_terms WHERE key = ?1 AND token >= ?2 "
                  "AND token < ?3 LIMIT ?4"),
      by_rank_(db,
               "SELECT id, rank, created, author, slot FROM text_meta WHERE key = ?1 AND expires > "
               "?2 AND rank >= ?3 AND rank < ?4 ORDER BY rank DESC, created DESC, author, slot"),
      text_of_(db, "SELECT title, tags, body FROM text_fts WHERE rowid = ?1"),
      record_of_(
          db,
          "SELECT r.key, r.kind, r.author, r.slot, r.seq, r.created, r.expires, r.encoded, "
          "r.digest FROM text_meta m JOIN records r ON r.key = m.key AND r.kind = m.kind AND "
          "r.author = m.author AND r.slot = m.slot WHERE m.id = ?1") {}

std::set<std::string> TextIndex::tokens_of(std::int64_t id) {
    std::set<std::string> out;
    StatementScope t(text_of_);
    t->bind(1, id);
    if (!t->executeStep()) return out;
    for (int f = 0; f < 3; ++f) {
        for (auto& token : tokenize(t->getColumn(f).getString())) out.insert(std::move(token));
    }
    return out;
}

void TextIndex::delete_rows(SQLite::Statement& select_ids, bool count_terms) {
    std::vector<std::pair<std::int64_t, std::vector<std::uint8_t>>> rows;
    while (select_ids.executeStep()) {
        const auto key = select_ids.getColumn(1);
        const auto* data = static_cast<const std::uint8_t*>(key.getBlob());
        rows.emplace_back(select_ids.getColumn(0).getInt64(),
                          std::vector<std::uint8_t>(data, data + key.getBytes()));
    }
    for (const auto& [id, key] : rows) {
        if (count_terms) {
            // The row no longer has its tokens: the key's row counts go down (maxima stay).
            for (const auto& token : tokens_of(id)) {
                for (auto* s : {&lower_term_, &drop_term_}) {
                    StatementScope q(*s);
                    bind_blob(*q, 1, key);
                    q->bind(2, token);
                    q->exec();
                }
            }
        }
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
    {
        StatementScope q(insert_fts_);
        q->bind(1, db_.getLastInsertRowid());
        q->bind(2, scope_token(id.key));
        q->bind(3, text->title);
        q->bind(4, text->tags);
        q->bind(5, text->body);
        q->exec();
    }
    // Count the row for its tokens and raise the key's per-token maxima. Maxima are never lowered
    // while the token is in use (an upper bound too high costs a longer walk, never a wrong page).
    std::map<std::string, std::array<int, 3>> counts;
    const std::array<const std::string*, 3> fields = {&text->title, &text->tags, &text->body};
    for (std::size_t f = 0; f < fields.size(); ++f) {
        for (auto& token : tokenize(*fields[f])) ++counts[std::move(token)][f];
    }
    for (const auto& [token, c] : counts) {
        StatementScope q(raise_term_);
        bind_blob(*q, 1, id.key.bytes());
        q->bind(2, token);
        for (int f = 0; f < 3; ++f) q->bind(3 + f, c[static_cast<std::size_t>(f)]);
        q->exec();
    }
}

void TextIndex::erase(const RecordIdentity& id) {
    StatementScope q(find_identity_);
    bind_identity(*q, id);
    delete_rows(*q, true);
}

void TextIndex::erase_key(const NodeId& key) {
    {
        StatementScope q(find_key_);
        bind_blob(*q, 1, key.bytes());
        delete_rows(*q, false);  // the key's terms go below, all at once
    }
    StatementScope q(delete_terms_);
    bind_blob(*q, 1, key.bytes());
    q->exec();
}

void TextIndex::prune(std::int64_t now) {
    StatementScope q(find_expired_);
    q->bind(1, now);
    delete_rows(*q, true);
}

std::optional<std::vector<std::int64_t>> TextIndex::walk_by_rank(const NodeId& key,
                                                                 const TextSearch& search,
                                                                 std::int64_t now,
                                                                 const TermCounts& bounds) {
    struct Hit {
        TextPosition position;
        std::int64_t id = 0;
    };
    std::vector<Hit> page;  // in result order, at most search.limit
    const auto limit = std::max<std::size_t>(search.limit, 1);
    // Past these the walk is no cheaper than ranking every match: a deep page, or bounds too loose.
    const std::size_t max_texts = 64 + 4 * limit, max_rows = 256 + 16 * limit;
    std::size_t texts = 0, rows = 0;
    double below = std::numeric_limits<double>::infinity();
    for (;;) {
        StatementScope q(by_rank_);
        bind_blob(*q, 1, key.bytes());
        q->bind(2, now);
        q->bind(3, search.min_rank);
        q->bind(4, below);
        bool skip_rank = false;
        while (q->executeStep()) {
            if (++rows > max_rows) return std::nullopt;
            const auto id = q->getColumn(0).getInt64();
            const double rank = q->getColumn(1).getDouble();
            const auto created = q->getColumn(2).getInt64();
            const auto author_column = q->getColumn(3);
            crypto::PublicKey author{};
            if (author_column.getBytes() != static_cast<int>(author.size())) continue;
            std::memcpy(author.data(), author_column.getBlob(), author.size());
            std::string slot = q->getColumn(4).getString();
            // Rows come by rank, and a row's score is at most `upper`, which falls with the rank.
            const auto upper = text_score(bounds, rank);
            if (page.size() == limit) {
                const auto& last = page.back().position;
                if (upper < last.score) return ids_of(page);
                // Ties go by (created, author, slot), the walk's order within one rank: this row
                // and the rest of its rank come after the page's last.
                if (upper == last.score && comes_after(last, upper, created, author, slot)) {
                    below = rank;
                    skip_rank = true;
                    break;
                }
            }
            if (++texts > max_texts) return std::nullopt;
            IndexedText text;
            {
                StatementScope t(text_of_);
                t->bind(1, id);
                if (!t->executeStep()) continue;
                text.title = t->getColumn(0).getString();
                text.tags = t->getColumn(1).getString();
                text.body = t->getColumn(2).getString();
            }
            text.rank = rank;
            const auto score = score_text(search.terms, text);
            if (!score) continue;
            if (search.after && !comes_after(*search.after, *score, created, author, slot)) {
                continue;
            }
            Hit hit{{*score, created, author, std::move(slot)}, id};
            const auto at = std::find_if(page.begin(), page.end(), [&](const Hit& h) {
                return comes_after(hit.position, h.position.score, h.position.created,
                                   h.position.author, h.position.slot);
            });
            page.insert(at, std::move(hit));
            if (page.size() > limit) page.pop_back();
        }
        if (!skip_rank) return ids_of(page);
    }
}

std::vector<wire::Record> TextIndex::search(const NodeId& key, const TextSearch& search,
                                            std::int64_t now, std::uint64_t& corrupt) {
    const bool text = !search.terms.empty();
    if (text && search.limit > 0) {
        // Every term bounded, and each begins tokens in enough rows that ranking all matches
        // would cost more than a walk: walk.
        TermCounts bounds;
        std::int64_t rows = INT64_MAX;
        for (const auto& term : search.terms) {
            const auto b = term_bound(term_range_, key, term);
            if (!b) break;
            bounds.push_back(b->counts);
            rows = std::min(rows, b->rows);
        }
        if (bounds.size() == search.terms.size() && rows >= walk_from_rows) {
            if (auto ids = walk_by_rank(key, search, now, bounds)) {
                std::vector<wire::Record> out;
                for (const auto id : *ids) {
                    StatementScope r(record_of_);
                    r->bind(1, id);
                    if (!r->executeStep()) continue;
                    if (auto record = decode_row(*r)) {
                        out.push_back(std::move(*record));
                    } else {
                        ++corrupt;
                    }
                }
                return out;
            }
        }
    }
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
