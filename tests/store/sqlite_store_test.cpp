#include <nocturne/app/home.hpp>
#include <nocturne/core/node_id.hpp>
#include <nocturne/crypto/keys.hpp>
#include <nocturne/store/sqlite_store.hpp>
#include <nocturne/wire/record.hpp>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "support/temp_dir.hpp"

namespace nocturne::store {
namespace {

namespace fs = std::filesystem;

constexpr std::int64_t t0 = 1700000000;

crypto::KeyPair key_pair(std::uint8_t n) {
    crypto::Seed seed{};
    seed.fill(n);
    return crypto::KeyPair::from_seed(seed);
}

wire::Record knowledge(const crypto::KeyPair& author, std::uint64_t seq = 1) {
    auto record = wire::sign_record({wire::RecordKind::knowledge, seq, t0, t0 + 3600,
                                     R"({"domain":"go/concurrency","id":"entry-1"})"},
                                    author);
    EXPECT_TRUE(record.has_value()) << record.error().message();
    return record.value();
}

std::unique_ptr<SqliteStore> open_ok(const fs::path& file) {
    auto store = SqliteStore::open(file);
    EXPECT_TRUE(store.has_value()) << store.error().message();
    return std::move(store.value());
}

// A second, raw connection to the same file: what a crash, an operator or bit rot could do.
SQLite::Database raw(const fs::path& file) {
    return SQLite::Database(file.string(), SQLite::OPEN_READWRITE);
}

void write_file(const fs::path& file, const std::string& text) {
    std::ofstream out(file, std::ios::binary);
    out << text;
}

TEST(SqliteStore, DefaultStorePathIsHomeDhtEntriesDb) {
    test::TempDir home;
    const fs::path file = app::HomeLayout{home.path()}.records_db();
    EXPECT_EQ(file, home.path() / "dht" / "entries.db");

    auto store = open_ok(file);
    EXPECT_TRUE(fs::is_regular_file(file));
    EXPECT_EQ(fs::status(home / "dht").permissions() & fs::perms::all, fs::perms::owner_all);
}

TEST(SqliteStore, CreatesMissingParentDirectoriesPrivately) {
    test::TempDir dir;
    auto store = open_ok(dir / "a" / "b" / "entries.db");
    EXPECT_EQ(fs::status(dir / "a").permissions() & fs::perms::all, fs::perms::owner_all);
    EXPECT_EQ(fs::status(dir / "a" / "b").permissions() & fs::perms::all, fs::perms::owner_all);
}

TEST(SqliteStore, DataSurvivesCloseAndReopen) {
    test::TempDir home;
    const fs::path file = app::HomeLayout{home.path()}.records_db();
    const wire::Record record = knowledge(key_pair(1), 7);
    {
        auto store = open_ok(file);
        ASSERT_TRUE(store->put(record));
    }
    auto store = open_ok(file);
    auto got = store->get(record.key, t0);
    ASSERT_TRUE(got.has_value());
    ASSERT_EQ(got->size(), 1u);
    EXPECT_EQ(got->front().body, record.body);
    EXPECT_EQ(got->front().sig, record.sig);
    // The seq rule holds across the restart too.
    EXPECT_EQ(store->put(knowledge(key_pair(1), 6)).error(), errc::stale_seq);
}

TEST(SqliteStore, UsesWalJournalMode) {
    test::TempDir home;
    const fs::path file = app::HomeLayout{home.path()}.records_db();
    auto store = open_ok(file);
    ASSERT_TRUE(store->put(knowledge(key_pair(1))));
    EXPECT_EQ(raw(file).execAndGet("PRAGMA journal_mode").getString(), "wal");
    store.reset();
    // WAL is a property of the file: it is still on after the store is gone.
    EXPECT_EQ(raw(file).execAndGet("PRAGMA journal_mode").getString(), "wal");
}

TEST(SqliteStore, WritesTheCurrentSchemaVersion) {
    test::TempDir home;
    const fs::path file = app::HomeLayout{home.path()}.records_db();
    open_ok(file);
    EXPECT_EQ(raw(file).execAndGet("SELECT version FROM schema_version").getInt64(),
              SqliteStore::schema_version);
}

TEST(SqliteStore, RejectsUnknownSchemaVersion) {
    test::TempDir home;
    const fs::path file = app::HomeLayout{home.path()}.records_db();
    open_ok(file);
    raw(file).exec("UPDATE schema_version SET version = 99");

    auto reopened = SqliteStore::open(file);
    ASSERT_FALSE(reopened.has_value());
    EXPECT_EQ(reopened.error(), errc::store_schema_mismatch);
}

TEST(SqliteStore, CorruptRowIsSkippedAndCounted) {
    test::TempDir home;
    const fs::path file = app::HomeLayout{home.path()}.records_db();
    auto store = open_ok(file);
    const auto alice = key_pair(1);
    const wire::Record damaged = knowledge(alice);
    const wire::Record intact = knowledge(key_pair(2));
    ASSERT_TRUE(store->put(damaged));
    ASSERT_TRUE(store->put(intact));
    {
        auto db = raw(file);
        SQLite::Statement update(db, "UPDATE records SET encoded = 'garbage' WHERE author = ?1");
        update.bind(1, damaged.author.data(), static_cast<int>(damaged.author.size()));
        ASSERT_EQ(update.exec(), 1);
    }

    auto got = store->get(damaged.key, t0);
    ASSERT_TRUE(got.has_value());
    ASSERT_EQ(got->size(), 1u);
    EXPECT_EQ(got->front().author, intact.author);
    EXPECT_EQ(store->corrupt_rows_skipped(), 1u);

    auto found = store->find(RecordIdentity::of(damaged));
    ASSERT_TRUE(found.has_value());
    EXPECT_FALSE(found->has_value());
    EXPECT_EQ(store->corrupt_rows_skipped(), 2u);

    // The stored seq still counts, and the author's record with that seq repairs the row.
    EXPECT_EQ(store->put(knowledge(alice, 0)).error(), errc::stale_seq);
    EXPECT_TRUE(store->put(damaged));
    EXPECT_EQ(store->get(damaged.key, t0).value().size(), 2u);
}

TEST(SqliteStore, AVersionOneFileIsVerifiedOnceAndGetsDigests) {
    test::TempDir home;
    const fs::path file = app::HomeLayout{home.path()}.records_db();
    const auto alice = key_pair(1);
    const auto bob = key_pair(2);
    {
        auto store = open_ok(file);
        ASSERT_TRUE(store->put(knowledge(alice)));
        ASSERT_TRUE(store->put(knowledge(bob)));
    }
    {
        // Back to version 1 (no digests), with bob's row no longer what bob signed.
        auto db = raw(file);
        db.exec("ALTER TABLE records DROP COLUMN digest");
        db.exec("UPDATE schema_version SET version = 1");
        SQLite::Statement tamper(
            db,
            "UPDATE records SET encoded = replace(encoded, 'entry-1', 'entry-2') "
            "WHERE author = ?1");
        tamper.bind(1, bob.public_key().data(), static_cast<int>(bob.public_key().size()));
        ASSERT_EQ(tamper.exec(), 1);
    }
    auto store = open_ok(file);
    EXPECT_EQ(raw(file).execAndGet("SELECT version FROM schema_version").getInt64(),
              SqliteStore::schema_version);
    const auto got = store->get(knowledge(alice).key, t0).value();
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].author, alice.public_key());
    EXPECT_EQ(raw(file).execAndGet("SELECT COUNT(*) FROM records").getInt64(), 1);
    EXPECT_EQ(store->corrupt_rows_skipped(), 0u);
}

TEST(SqliteStore, PagesAreSlicesOfOneOrderAndCountWhatIsLive) {
    test::TempDir home;
    auto store = open_ok(app::HomeLayout{home.path()}.records_db());
    std::vector<crypto::KeyPair> authors;
    for (std::uint8_t i = 1; i <= 10; ++i) {
        authors.push_back(key_pair(i));
        ASSERT_TRUE(store->put(knowledge(authors.back())));
    }
    const auto key = knowledge(authors[0]).key;
    EXPECT_EQ(store->count(key, t0).value(), 10u);
    EXPECT_EQ(store->count(key, t0 + 3600).value(), 0u);  // all expired by then
    const auto all = store->get(key, t0).value();
    std::vector<wire::Record> paged;
    for (std::size_t offset = 0; offset < 10; offset += 4) {
        auto page = store->page(key, t0, offset, 4).value();
        EXPECT_EQ(page.size(), std::min<std::size_t>(4, 10 - offset));
        paged.insert(paged.end(), page.begin(), page.end());
    }
    ASSERT_EQ(paged.size(), all.size());
    for (std::size_t i = 0; i < all.size(); ++i) EXPECT_EQ(paged[i].author, all[i].author) << i;
    EXPECT_TRUE(store->page(key, t0, 10, 4).value().empty());
}

TEST(SqliteStore, RowDisagreeingWithItsSignedRecordIsSkipped) {
    test::TempDir home;
    const fs::path file = app::HomeLayout{home.path()}.records_db();
    auto store = open_ok(file);
    const wire::Record record = knowledge(key_pair(1));
    ASSERT_TRUE(store->put(record));
    // A row whose expires column was bumped would otherwise outlive what its author signed.
    raw(file).exec("UPDATE records SET expires = expires + 86400");

    EXPECT_TRUE(store->get(record.key, t0).value().empty());
    EXPECT_EQ(store->corrupt_rows_skipped(), 1u);
}

TEST(SqliteStore, ParentIsRegularFileFailsWithError) {
    test::TempDir dir;
    write_file(dir / "blocker", "not a directory");

    result<std::unique_ptr<SqliteStore>> store = make_error_code(errc::ok);
    EXPECT_NO_THROW(store = SqliteStore::open(dir / "blocker" / "dht" / "entries.db"));
    ASSERT_FALSE(store.has_value());
    EXPECT_EQ(store.error(), errc::io_error);
}

TEST(SqliteStore, FileThatIsNotADatabaseFailsWithStoreError) {
    test::TempDir dir;
    write_file(dir / "entries.db", std::string(4096, 'x'));

    result<std::unique_ptr<SqliteStore>> store = make_error_code(errc::ok);
    EXPECT_NO_THROW(store = SqliteStore::open(dir / "entries.db"));
    ASSERT_FALSE(store.has_value());
    EXPECT_EQ(store.error(), errc::store_error);
}

TEST(SqliteStore, SqliteFailuresBecomeStoreErrors) {
    test::TempDir home;
    const fs::path file = app::HomeLayout{home.path()}.records_db();
    auto store = open_ok(file);
    const wire::Record record = knowledge(key_pair(1));
    ASSERT_TRUE(store->put(record));
    raw(file).exec("DROP TABLE records");

    const auto failed = store->put(knowledge(key_pair(2)));
    EXPECT_EQ(failed.error(), errc::store_error);
    EXPECT_NE(failed.error().message().find("SQLite"), std::string::npos)
        << "SQLite's message travels with the code: " << failed.error().message();
    EXPECT_EQ(store->get(record.key, t0).error(), errc::store_error);
    EXPECT_EQ(store->find(RecordIdentity::of(record)).error(), errc::store_error);
    EXPECT_EQ(store->erase(record.key).error(), errc::store_error);
    EXPECT_EQ(store->erase(RecordIdentity::of(record)).error(), errc::store_error);
    EXPECT_EQ(store->prune_expired(t0).error(), errc::store_error);
    EXPECT_EQ(store->list_keys().error(), errc::store_error);
    EXPECT_EQ(store->size().error(), errc::store_error);
}

}  // namespace
}  // namespace nocturne::store
