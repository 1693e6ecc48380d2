#pragma once

#include <nocturne/core/error.hpp>
#include <nocturne/store/store.hpp>

#include <cstdint>
#include <exception>
#include <filesystem>
#include <memory>
#include <string>

namespace nocturne::store {

// A Store in one SQLite file (WAL mode), so the records a node is responsible for survive a
// restart. SQLite failures never escape as exceptions: every call maps them to errc::store_error
// with SQLite's message as the error's detail.
//
// Owned by the node's io_context thread; not thread-safe.
class SqliteStore final : public Store {
public:
    static constexpr std::int64_t schema_version = 5;

    // Opens or creates the database, creating missing parent directories with mode 0700.
    // errc::io_error when a parent directory cannot be created, errc::store_schema_mismatch when
    // the file was written by another schema version, errc::store_error for any other SQLite
    // failure (including a file that is not a database, or WAL mode being unavailable).
    // indexer: which records go into the text index (SQLite FTS5), kept in the same transaction
    // as the records themselves; none without one.
    static result<std::unique_ptr<SqliteStore>> open(const std::filesystem::path& db_file,
                                                     TextIndexer indexer = {});

    SqliteStore(const SqliteStore&) = delete;
    SqliteStore& operator=(const SqliteStore&) = delete;
    ~SqliteStore() override;

    result<void> put(const wire::Record& record) override;
    result<std::vector<wire::Record>> get(const NodeId& key, std::int64_t now) override;
    result<std::vector<wire::Record>> page(const NodeId& key, std::int64_t now, std::size_t offset,
                                           std::size_t limit) override;
    result<std::size_t> count(const NodeId& key, std::int64_t now) override;
    result<std::optional<wire::Record>> find(const RecordIdentity& id) override;
    result<std::size_t> erase(const NodeId& key) override;
    result<bool> erase(const RecordIdentity& id) override;
    result<std::size_t> prune_expired(std::int64_t now) override;
    result<std::vector<NodeId>> list_keys() override;
    result<std::vector<NodeId>> keys_from(const NodeId& first, std::size_t limit) override;
    result<std::size_t> size() override;
    result<std::vector<wire::Record>> search(const NodeId& key, const TextSearch& search,
                                             std::int64_t now) override;
    result<std::vector<ScopeCount>> scopes(std::int64_t now, std::size_t limit) override;

    // Rows that get(), find() or list_keys() skipped because they failed to decode, failed
    // signature verification or disagreed with their indexed columns (disk corruption).
    std::uint64_t corrupt_rows_skipped() const noexcept { return corrupt_rows_skipped_; }

private:
    // The SQLite connection and its prepared statements; defined in the .cpp so that SQLiteCpp
    // stays a private dependency of the store layer.
    struct Connection;

    SqliteStore(std::unique_ptr<Connection> connection, TextIndexer indexer);

    // store_error with SQLite's message as the detail.
    static Error fail(const std::exception& e);

    std::unique_ptr<Connection> db_;
    TextIndexer indexer_;
    std::uint64_t corrupt_rows_skipped_ = 0;
};

}  // namespace nocturne::store
