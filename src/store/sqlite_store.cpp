#include <nocturne/core/bytes.hpp>
#include <nocturne/core/sha256.hpp>
#include <nocturne/store/sqlite_store.hpp>

#include <SQLiteCpp/Column.h>
#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Exception.h>
#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <span>
#include <string_view>
#include <sys/stat.h>
#include <tuple>
#include <utility>

#include "sqlite_support.hpp"
#include "text_index.hpp"

namespace nocturne::store {
namespace {

using namespace detail;

namespace fs = std::filesystem;

constexpr const char* create_schema = R"sql(
CREATE TABLE records (
    key BLOB NOT NULL,
    kind TEXT NOT NULL,
    author BLOB NOT NULL,
    slot TEXT NOT NULL,
    seq INTEGER NOT NULL,
    created INTEGER NOT NULL,
    expires INTEGER NOT NULL,
    encoded TEXT NOT NULL,
    digest BLOB NOT NULL,
    PRIMARY KEY (key, kind, author, slot)
) WITHOUT ROWID;
CREATE INDEX records_by_expires ON records (expires);
)sql";

// Version 1 had no digest: every read verified the record's signature again.
constexpr const char* migrate_v1_to_v2 = "ALTER TABLE records ADD COLUMN digest BLOB";

// Parameters ?1-?4 as bound by bind_identity().
constexpr std::string_view identity_match = "key = ?1 AND kind = ?2 AND author = ?3 AND slot = ?4";

std::string sql(std::initializer_list<std::string_view> parts) {
    std::string text;
    for (auto part : parts) text.append(part);
    return text;
}

// Creates the missing directories leading to a database file, each with mode 0700 from the start
// (no window in which they are readable by others). Existing directories are left as they are.
std::error_code make_private_dirs(const fs::path& dir) {
    if (dir.empty()) return {};
    std::error_code ec;
    const auto status = fs::status(dir, ec);
    if (fs::is_directory(status)) return {};
    if (status.type() != fs::file_type::not_found) {
        // A file that is not a directory is in the way, or the path cannot even be examined.
        return make_error_code(errc::io_error);
    }
    if (auto parent_ec = make_private_dirs(dir.parent_path())) return parent_ec;
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return make_error_code(errc::io_error);
    return {};
}

void configure(SQLite::Database& db) {
    db.exec("PRAGMA busy_timeout = 5000");  // first: switching to WAL may wait for a lock
    // WAL lets readers run beside the writer and, with synchronous=NORMAL, a commit is durable
    // once it reaches the WAL: a crash of this process loses nothing. Only an OS crash or power
    // loss can roll back the last few commits, and never corrupts the file, which is the right
    // trade for records that peers republish anyway. (In rollback-journal mode NORMAL could
    // corrupt on power loss, hence the hard requirement below.)
    const std::string mode = db.execAndGet("PRAGMA journal_mode = WAL").getString();
    if (mode != "wal") throw SQLite::Exception("journal_mode=WAL unavailable (got " + mode + ")");
    db.exec("PRAGMA synchronous = NORMAL");
    db.exec("PRAGMA foreign_keys = ON");
}

// Version 2 had no text index: every record goes through the indexer once.
void migrate_v2_to_v3(SQLite::Database& db, const TextIndexer& indexer) {
    TextIndex::create_tables(db);
    if (!indexer) return;
    TextIndex index(db);
    SQLite::Statement all(db, sql({"SELECT ", record_columns, " FROM records"}));
    std::vector<wire::Record> records;
    while (all.executeStep()) {
        if (auto r = decode_row(all)) records.push_back(std::move(*r));
    }
    for (const auto& r : records) {
        index.replace(RecordIdentity::of(r), r.created, r.expires, indexer(r));
    }
}

// Creates the schema in a fresh file, or checks that an existing one is the version we speak
// (migrating older ones).
std::error_code migrate(SQLite::Database& db, const TextIndexer& indexer) {
    // IMMEDIATE: two processes opening a fresh file at once must not both create the tables.
    SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
    db.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
    std::int64_t rows = 0;
    std::int64_t version = 0;
    {
        SQLite::Statement q(db, "SELECT COUNT(*), MAX(version) FROM schema_version");
        q.executeStep();
        rows = q.getColumn(0).getInt64();
        version = q.getColumn(1).getInt64();
    }
    if (rows == 0) {
        // Plain CREATE TABLE: a foreign "records" table in the file is an error, not adopted.
        db.exec(create_schema);
        TextIndex::create_tables(db);
        SQLite::Statement insert(db, "INSERT INTO schema_version (version) VALUES (?1)");
        insert.bind(1, SqliteStore::schema_version);
        insert.exec();
        tx.commit();
        return {};
    }
    if (rows != 1 || version < 1 || version > SqliteStore::schema_version) {
        return make_error_code(errc::store_schema_mismatch);
    }
    if (version == 1) {
        // Every row is verified once more, here, and gets its digest; one that fails is dropped.
        db.exec(migrate_v1_to_v2);
        SQLite::Statement all(db, "SELECT key, kind, author, slot, encoded FROM records");
        SQLite::Statement set(db,
                              "UPDATE records SET digest = ?5 WHERE key = ?1 AND kind = ?2 "
                              "AND author = ?3 AND slot = ?4");
        SQLite::Statement drop(db,
                               "DELETE FROM records WHERE key = ?1 AND kind = ?2 AND author = "
                               "?3 AND slot = ?4");
        struct Row {
            std::string key, kind, author, slot, encoded;
        };
        std::vector<Row> existing;
        while (all.executeStep()) {
            existing.push_back({all.getColumn(0).getString(), all.getColumn(1).getString(),
                                all.getColumn(2).getString(), all.getColumn(3).getString(),
                                all.getColumn(4).getString()});
        }
        for (const auto& row : existing) {
            auto& statement = wire::decode_record(row.encoded) ? set : drop;
            statement.reset();
            statement.bind(1, row.key.data(), static_cast<int>(row.key.size()));
            statement.bind(2, row.kind);
            statement.bind(3, row.author.data(), static_cast<int>(row.author.size()));
            statement.bind(4, row.slot);
            if (&statement == &set) {
                const auto d = digest_of(row.encoded);
                statement.bind(5, d.data(), static_cast<int>(d.size()));
            }
            statement.exec();
        }
        db.exec("UPDATE schema_version SET version = 2");
        version = 2;
    }
    if (version == 2) {
        migrate_v2_to_v3(db, indexer);
        db.exec("UPDATE schema_version SET version = 3");
        version = 3;
    }
    if (version == 3 || version == 4) {
        // Version 3 split words with FTS5's unicode61 tokenizer, which readers (store::tokenize)
        // do not: a holder's order could differ from the order a reader checks; version 5 uses
        // the `ascii` tokenizer, which splits exactly like store::tokenize. Version 5 adds
        // text_terms (per-token maxima that bound a row's score) and the rank index. All are
        // filled by indexing every record again.
        db.exec("DROP TABLE IF EXISTS text_terms");
        db.exec("DROP TABLE IF EXISTS text_fts");
        db.exec("DROP TABLE IF EXISTS text_meta");
        migrate_v2_to_v3(db, indexer);
        db.exec("UPDATE schema_version SET version = 5");
    }
    tx.commit();
    return {};
}

}  // namespace

struct SqliteStore::Connection {
    explicit Connection(SQLite::Database database)
        : db(std::move(database)),
          select_identity(db,
                          sql({"SELECT ", record_columns, " FROM records WHERE ", identity_match})),
          select_key(db, sql({"SELECT ", record_columns,
                              " FROM records WHERE key = ?1 AND expires > ?2"})),
          select_page(
              db, sql({"SELECT ", record_columns, " FROM records WHERE key = ?1 AND expires > ?2",
                       record_order, " LIMIT ?3 OFFSET ?4"})),
          count_key(db, "SELECT COUNT(*) FROM records WHERE key = ?1 AND expires > ?2"),
          upsert(db, sql({"INSERT OR REPLACE INTO records (", record_columns,
                          ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"})),
          delete_key(db, "DELETE FROM records WHERE key = ?1"),
          delete_identity(db, sql({"DELETE FROM records WHERE ", identity_match})),
          delete_expired(db, "DELETE FROM records WHERE expires <= ?1"),
          select_keys(db, "SELECT DISTINCT key FROM records ORDER BY key"),
          select_keys_from(db,
                           "SELECT DISTINCT key FROM records WHERE key >= ? ORDER BY key LIMIT ?"),
          count(db, "SELECT COUNT(*) FROM records"),
          text(db) {}

    // Declared first so that it is destroyed last: statements must be finalized before closing.
    SQLite::Database db;
    SQLite::Statement select_identity;
    SQLite::Statement select_key;
    SQLite::Statement select_page;
    SQLite::Statement count_key;
    SQLite::Statement upsert;
    SQLite::Statement delete_key;
    SQLite::Statement delete_identity;
    SQLite::Statement delete_expired;
    SQLite::Statement select_keys;
    SQLite::Statement select_keys_from;
    SQLite::Statement count;
    TextIndex text;
};

result<std::unique_ptr<SqliteStore>> SqliteStore::open(const fs::path& db_file,
                                                       TextIndexer indexer) {
    if (auto ec = make_private_dirs(db_file.parent_path())) return ec;
    try {
        SQLite::Database db(db_file.string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
        configure(db);
        if (auto ec = migrate(db, indexer)) return ec;
        auto connection = std::make_unique<Connection>(std::move(db));
        return std::unique_ptr<SqliteStore>(
            new SqliteStore(std::move(connection), std::move(indexer)));
    } catch (const SQLite::Exception& e) {
        return fail(e);
    }
}

SqliteStore::SqliteStore(std::unique_ptr<Connection> connection, TextIndexer indexer)
    : db_(std::move(connection)), indexer_(std::move(indexer)) {}

SqliteStore::~SqliteStore() = default;

Error SqliteStore::fail(const std::exception& e) {
    return Error(errc::store_error, std::string("SQLite: ") + e.what());
}

result<void> SqliteStore::put(const wire::Record& record) {
    // seq is a signed INTEGER column; wire::decode_record() never yields a larger one.
    if (record.seq > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        return make_error_code(errc::value_out_of_range);
    }
    try {
        const std::string encoded = wire::encode_record(record);
        // IMMEDIATE takes the write lock up front: the seq check and the write see the same state,
        // and a concurrent writer in another process makes us wait (busy_timeout) rather than
        // fail with SQLITE_BUSY halfway through.
        SQLite::Transaction tx(db_->db, SQLite::TransactionBehavior::IMMEDIATE);
        {
            StatementScope q(db_->select_identity);
            bind_identity(*q, RecordIdentity::of(record));
            if (q->executeStep()) {
                const auto stored_seq =
                    static_cast<std::uint64_t>(q->getColumn(col_seq).getInt64());
                if (stored_seq > record.seq) return make_error_code(errc::stale_seq);
                if (stored_seq == record.seq) {
                    const std::string stored = q->getColumn(col_encoded).getString();
                    if (stored == encoded) return {};
                    // Same seq, different bytes: a conflict only if the signed body differs; a
                    // second signature over the same body is the idempotent re-put.
                    if (auto existing = wire::decode_record(stored)) {
                        if (existing->body == record.body) return {};
                        return make_error_code(errc::seq_conflict);
                    }
                    // The stored row is corrupt; the verified record with its seq repairs it.
                    ++corrupt_rows_skipped_;
                }
            }
        }
        {
            StatementScope u(db_->upsert);
            bind_identity(*u, RecordIdentity::of(record));
            u->bind(5, static_cast<std::int64_t>(record.seq));
            u->bind(6, record.created);
            u->bind(7, record.expires);
            u->bindNoCopy(8, encoded);  // outlives exec(); StatementScope clears it after
            const auto digest = digest_of(encoded);
            bind_blob(*u, 9, digest);
            u->exec();
        }
        if (indexer_) {
            db_->text.replace(RecordIdentity::of(record), record.created, record.expires,
                              indexer_(record));
        }
        tx.commit();
        return {};
    } catch (const SQLite::Exception& e) {
        return fail(e);
    }
}

result<std::vector<wire::Record>> SqliteStore::get(const NodeId& key, std::int64_t now) {
    try {
        std::vector<wire::Record> out;
        StatementScope q(db_->select_key);
        bind_blob(*q, 1, key.bytes());
        q->bind(2, now);
        while (q->executeStep()) {
            if (auto record = decode_row(*q)) {
                out.push_back(std::move(*record));
            } else {
                ++corrupt_rows_skipped_;
            }
        }
        // Sorted here rather than in SQL: the kind column holds names, and the promised order is
        // the RecordKind order that MemoryStore uses.
        std::sort(out.begin(), out.end(), [](const wire::Record& a, const wire::Record& b) {
            return std::tie(a.kind, a.author, a.slot) < std::tie(b.kind, b.author, b.slot);
        });
        return out;
    } catch (const SQLite::Exception& e) {
        return fail(e);
    }
}

result<std::vector<wire::Record>> SqliteStore::page(const NodeId& key, std::int64_t now,
                                                    std::size_t offset, std::size_t limit) {
    try {
        std::vector<wire::Record> out;
        StatementScope q(db_->select_page);
        bind_blob(*q, 1, key.bytes());
        q->bind(2, now);
        q->bind(3, static_cast<std::int64_t>(std::min<std::size_t>(limit, INT64_MAX)));
        q->bind(4, static_cast<std::int64_t>(std::min<std::size_t>(offset, INT64_MAX)));
        while (q->executeStep()) {
            if (auto record = decode_row(*q)) {
                out.push_back(std::move(*record));
            } else {
                ++corrupt_rows_skipped_;
            }
        }
        return out;
    } catch (const SQLite::Exception& e) {
        return fail(e);
    }
}

result<std::size_t> SqliteStore::count(const NodeId& key, std::int64_t now) {
    try {
        StatementScope q(db_->count_key);
        bind_blob(*q, 1, key.bytes());
        q->bind(2, now);
        q->executeStep();
        return static_cast<std::size_t>(q->getColumn(0).getInt64());
    } catch (const SQLite::Exception& e) {
        return fail(e);
    }
}

result<std::optional<wire::Record>> SqliteStore::find(const RecordIdentity& id) {
    try {
        StatementScope q(db_->select_identity);
        bind_identity(*q, id);
        if (!q->executeStep()) return std::optional<wire::Record>{};
        auto record = decode_row(*q);
        if (!record) ++corrupt_rows_skipped_;
        return record;
    } catch (const SQLite::Exception& e) {
        return fail(e);
    }
}

result<std::size_t> SqliteStore::erase(const NodeId& key) {
    try {
        SQLite::Transaction tx(db_->db, SQLite::TransactionBehavior::IMMEDIATE);
        db_->text.erase_key(key);
        StatementScope q(db_->delete_key);
        bind_blob(*q, 1, key.bytes());
        const auto n = static_cast<std::size_t>(q->exec());
        tx.commit();
        return n;
    } catch (const SQLite::Exception& e) {
        return fail(e);
    }
}

result<bool> SqliteStore::erase(const RecordIdentity& id) {
    try {
        SQLite::Transaction tx(db_->db, SQLite::TransactionBehavior::IMMEDIATE);
        db_->text.erase(id);
        StatementScope q(db_->delete_identity);
        bind_identity(*q, id);
        const bool erased = q->exec() > 0;
        tx.commit();
        return erased;
    } catch (const SQLite::Exception& e) {
        // result<bool> has no implicit conversion from an error_code (which converts to bool).
        return {boost::system::in_place_error, fail(e)};
    }
}

result<std::size_t> SqliteStore::prune_expired(std::int64_t now) {
    try {
        SQLite::Transaction tx(db_->db, SQLite::TransactionBehavior::IMMEDIATE);
        db_->text.prune(now);
        StatementScope q(db_->delete_expired);
        q->bind(1, now);
        const auto n = static_cast<std::size_t>(q->exec());
        tx.commit();
        return n;
    } catch (const SQLite::Exception& e) {
        return fail(e);
    }
}

namespace {

// Reads the key column of each row (BLOB order is memcmp order, which is NodeId's order).
std::vector<NodeId> read_keys(SQLite::Statement& q, std::uint64_t& corrupt) {
    std::vector<NodeId> keys;
    while (q.executeStep()) {
        const SQLite::Column column = q.getColumn(0);
        const void* data = column.getBlob();  // before getBytes(), as SQLite recommends
        if (data == nullptr || column.getBytes() != static_cast<int>(NodeId::size)) {
            ++corrupt;
            continue;
        }
        NodeId key;
        std::memcpy(key.bytes().data(), data, NodeId::size);
        keys.push_back(key);
    }
    return keys;
}

}  // namespace

result<std::vector<NodeId>> SqliteStore::keys_from(const NodeId& first, std::size_t limit) {
    try {
        StatementScope q(db_->select_keys_from);
        bind_blob(*q, 1, first.bytes());
        q->bind(2, static_cast<std::int64_t>(std::min<std::size_t>(limit, INT64_MAX)));
        return read_keys(*q, corrupt_rows_skipped_);
    } catch (const SQLite::Exception& e) {
        return fail(e);
    }
}

result<std::vector<NodeId>> SqliteStore::list_keys() {
    try {
        StatementScope q(db_->select_keys);
        return read_keys(*q, corrupt_rows_skipped_);
    } catch (const SQLite::Exception& e) {
        return fail(e);
    }
}

result<std::size_t> SqliteStore::size() {
    try {
        StatementScope q(db_->count);
        q->executeStep();
        return static_cast<std::size_t>(q->getColumn(0).getInt64());
    } catch (const SQLite::Exception& e) {
        return fail(e);
    }
}

result<std::vector<wire::Record>> SqliteStore::search(const NodeId& key, const TextSearch& search,
                                                      std::int64_t now) {
    if (!indexer_) return std::vector<wire::Record>{};
    try {
        return db_->text.search(key, search, now, corrupt_rows_skipped_);
    } catch (const SQLite::Exception& e) {
        return fail(e);
    }
}

result<std::vector<ScopeCount>> SqliteStore::scopes(std::int64_t now, std::size_t limit) {
    try {
        return db_->text.scopes(now, limit);
    } catch (const SQLite::Exception& e) {
        return fail(e);
    }
}

}  // namespace nocturne::store
