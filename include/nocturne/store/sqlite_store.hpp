#pragma once

#include <nocturne/core/error.hpp>
#include <nocturne/store/store.hpp>

#include <cstdint>
#include <exception>
#include <filesystem>
#include <memory>
#include <string>

namespace nocturne::store {

// $NOCTURNE_HOME/dht/entries.db, where the daemon keeps the records it is responsible for.
std::filesystem::path default_store_path(const std::filesystem::path& home);

// A Store in one SQLite file (WAL mode), so the records a node is responsible for survive a
// restart. SQLite failures never escape as exceptions: every call maps them to errc::store_error
// and keeps SQLite's message in last_error_message().
//
// Owned by the node's io_context thread; not thread-safe.
class SqliteStore final : public Store {
public:
    static constexpr std::int64_t schema_version = 1;

    // Opens or creates the database, creating missing parent directories with mode 0700.
    // errc::io_error when a parent directory cannot be created, errc::store_schema_mismatch when
    // the file was written by another schema version, errc::store_error for any other SQLite
    // failure (including a file that is not a database, or WAL mode being unavailable).
    static result<std::unique_ptr<SqliteStore>> open(const std::filesystem::path& db_file);

    SqliteStore(const SqliteStore&) = delete;
    SqliteStore& operator=(const SqliteStore&) = delete;
    ~SqliteStore() override;

    std::error_code put(const wire::Record& record) override;
    result<std::vector<wire::Record>> get(const NodeId& key, std::int64_t now) override;
    result<std::optional<wire::Record>> find(const RecordIdentity& id) override;
    result<std::size_t> erase(const NodeId& key) override;
    result<bool> erase(const RecordIdentity& id) override;
    result<std::size_t> prune_expired(std::int64_t now) override;
    result<std::vector<NodeId>> list_keys() override;
    result<std::size_t> size() override;

    // Rows that get(), find() or list_keys() skipped because they failed to decode, failed
    // signature verification or disagreed with their indexed columns (disk corruption).
    std::uint64_t corrupt_rows_skipped() const noexcept { return corrupt_rows_skipped_; }

    // SQLite's message for the most recent errc::store_error ("" if none yet).
    const std::string& last_error_message() const noexcept { return last_error_message_; }

private:
    // The SQLite connection and its prepared statements; defined in the .cpp so that SQLiteCpp
    // stays a private dependency of the store layer.
    struct Connection;

    explicit SqliteStore(std::unique_ptr<Connection> connection);

    std::error_code fail(const std::exception& e);

    std::unique_ptr<Connection> db_;
    std::uint64_t corrupt_rows_skipped_ = 0;
    std::string last_error_message_;
};

}  // namespace nocturne::store
