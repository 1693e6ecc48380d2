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

namespace nocturne::store {
namespace {

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

// The columns every record SELECT returns, in the order decode_row() reads them.
constexpr std::string_view record_columns =
    "key, kind, author, slot, seq, created, expires, encoded, digest";
constexpr int col_key = 0, col_kind = 1, col_author = 2, col_slot = 3, col_seq = 4, col_created = 5,
              col_expires = 6, col_encoded = 7, col_digest = 8;
// The order of records under one key, for get() and for pages.
constexpr std::string_view record_order = " ORDER BY kind, author, slot";

// What guards a stored row's bytes: records are verified once, when they are stored, and a read
// checks this instead of the Ed25519 signature (a hash costs a few microseconds, a verification
// some forty).
std::array<std::uint8_t, 32> digest_of(std::string_view encoded) {
    return sha256(as_bytes(encoded));
}
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

// Creates the schema in a fresh file, or checks that an existing one is the version we speak.
std::error_code migrate(SQLite::Database& db) {
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
        SQLite::Statement insert(db, "INSERT INTO schema_version (version) VALUES (?1)");
        insert.bind(1, SqliteStore::schema_version);
        insert.exec();
    } else if (rows == 1 && version == 1) {
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
    } else if (rows != 1 || version != SqliteStore::schema_version) {
        return make_error_code(errc::store_schema_mismatch);
    }
    tx.commit();
    return {};
}

// Resets a statement when a call begins and on every way out of it, so a throw in mid-step never
// leaves it holding a read snapshot (which would stall WAL checkpoints) or pointers to bound
// buffers that no longer exist.
class StatementScope {
public:
    explicit StatementScope(SQLite::Statement& statement) : statement_(statement) {
        statement_.tryReset();
    }
    ~StatementScope() {
        statement_.tryReset();
        try {
            statement_.clearBindings();
        } catch (const SQLite::Exception&) {  // cannot fail on a valid statement; never throw here
        }
    }
    StatementScope(const StatementScope&) = delete;
    StatementScope& operator=(const StatementScope&) = delete;

    SQLite::Statement& operator*() const noexcept { return statement_; }
    SQLite::Statement* operator->() const noexcept { return &statement_; }

private:
    SQLite::Statement& statement_;
};

// Parameters are bound as copies (a few dozen bytes): a no-copy binding would outlive a temporary
// argument. Only the encoded record, the one large value, is bound without copying.
void bind_blob(SQLite::Statement& statement, int index, std::span<const std::uint8_t> bytes) {
    statement.bind(index, bytes.data(), static_cast<int>(bytes.size()));
}

void bind_identity(SQLite::Statement& statement, const RecordIdentity& id) {
    bind_blob(statement, 1, id.key.bytes());
    statement.bind(2, wire::to_string(id.kind));
    bind_blob(statement, 3, id.author);
    statement.bind(4, id.slot);
}

bool blob_equals(const SQLite::Column& column, std::span<const std::uint8_t> bytes) {
    const void* data = column.getBlob();
    return column.getBytes() == static_cast<int>(bytes.size()) && data != nullptr &&
           std::memcmp(data, bytes.data(), bytes.size()) == 0;
}

// Decodes a row selected with record_columns. A row whose bytes do not match their digest, or
// whose indexed columns disagree with what was signed, is corrupt: nullopt. The signature was
// verified when the record was stored.
std::optional<wire::Record> decode_row(SQLite::Statement& row) {
    const std::string encoded = row.getColumn(col_encoded).getString();
    if (!blob_equals(row.getColumn(col_digest), digest_of(encoded))) return std::nullopt;
    auto record = wire::decode_stored_record(encoded);
    if (!record) return std::nullopt;
    const bool consistent =
        blob_equals(row.getColumn(col_key), record->key.bytes()) &&
        row.getColumn(col_kind).getString() == wire::to_string(record->kind) &&
        blob_equals(row.getColumn(col_author), record->author) &&
        row.getColumn(col_slot).getString() == record->slot &&
        row.getColumn(col_seq).getInt64() == static_cast<std::int64_t>(record->seq) &&
        row.getColumn(col_created).getInt64() == record->created &&
        row.getColumn(col_expires).getInt64() == record->expires;
    if (!consistent) return std::nullopt;
    return std::move(*record);
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
          count(db, "SELECT COUNT(*) FROM records") {}

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
};

result<std::unique_ptr<SqliteStore>> SqliteStore::open(const fs::path& db_file) {
    if (auto ec = make_private_dirs(db_file.parent_path())) return ec;
    try {
        SQLite::Database db(db_file.string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
        configure(db);
        if (auto ec = migrate(db)) return ec;
        auto connection = std::make_unique<Connection>(std::move(db));
        return std::unique_ptr<SqliteStore>(new SqliteStore(std::move(connection)));
    } catch (const SQLite::Exception& e) {
        return fail(e);
    }
}

SqliteStore::SqliteStore(std::unique_ptr<Connection> connection) : db_(std::move(connection)) {}

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
        StatementScope q(db_->delete_key);
        bind_blob(*q, 1, key.bytes());
        return static_cast<std::size_t>(q->exec());
    } catch (const SQLite::Exception& e) {
        return fail(e);
    }
}

result<bool> SqliteStore::erase(const RecordIdentity& id) {
    try {
        StatementScope q(db_->delete_identity);
        bind_identity(*q, id);
        return q->exec() > 0;
    } catch (const SQLite::Exception& e) {
        // result<bool> has no implicit conversion from an error_code (which converts to bool).
        return {boost::system::in_place_error, fail(e)};
    }
}

result<std::size_t> SqliteStore::prune_expired(std::int64_t now) {
    try {
        StatementScope q(db_->delete_expired);
        q->bind(1, now);
        return static_cast<std::size_t>(q->exec());
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

}  // namespace nocturne::store
