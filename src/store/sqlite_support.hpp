#pragma once

// Private to store/: what the SQLite store and its text index share (statement handling and the
// record row format).

#include <nocturne/core/bytes.hpp>
#include <nocturne/core/sha256.hpp>
#include <nocturne/store/store.hpp>
#include <nocturne/wire/record.hpp>

#include <SQLiteCpp/Column.h>
#include <SQLiteCpp/Exception.h>
#include <SQLiteCpp/Statement.h>

#include <array>
#include <cstring>
#include <optional>
#include <span>
#include <string_view>

namespace nocturne::store::detail {

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
inline std::array<std::uint8_t, 32> digest_of(std::string_view encoded) {
    return sha256(as_bytes(encoded));
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
inline void bind_blob(SQLite::Statement& statement, int index,
                      std::span<const std::uint8_t> bytes) {
    statement.bind(index, bytes.data(), static_cast<int>(bytes.size()));
}

inline void bind_identity(SQLite::Statement& statement, const RecordIdentity& id) {
    bind_blob(statement, 1, id.key.bytes());
    statement.bind(2, wire::to_string(id.kind));
    bind_blob(statement, 3, id.author);
    statement.bind(4, id.slot);
}

inline bool blob_equals(const SQLite::Column& column, std::span<const std::uint8_t> bytes) {
    const void* data = column.getBlob();
    return column.getBytes() == static_cast<int>(bytes.size()) && data != nullptr &&
           std::memcmp(data, bytes.data(), bytes.size()) == 0;
}

// Decodes a row selected with record_columns. A row whose bytes do not match their digest, or
// whose indexed columns disagree with what was signed, is corrupt: nullopt. The signature was
// verified when the record was stored.
inline std::optional<wire::Record> decode_row(SQLite::Statement& row) {
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

}  // namespace nocturne::store::detail
