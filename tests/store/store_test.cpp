#include <nocturne/app/home.hpp>
#include <nocturne/core/node_id.hpp>
#include <nocturne/crypto/keys.hpp>
#include <nocturne/store/memory_store.hpp>
#include <nocturne/store/sqlite_store.hpp>
#include <nocturne/wire/record.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "support/temp_dir.hpp"

namespace nocturne::store {
namespace {

using wire::Record;
using wire::RecordKind;

constexpr std::int64_t t0 = 1700000000;
constexpr std::int64_t hour = 3600;

crypto::KeyPair key_pair(std::uint8_t n) {
    crypto::Seed seed{};
    seed.fill(n);
    return crypto::KeyPair::from_seed(seed);
}

Record sign(RecordKind kind, std::string payload, const crypto::KeyPair& author,
            std::uint64_t seq = 1, std::int64_t expires = t0 + hour) {
    auto record = wire::sign_record({kind, seq, t0, expires, std::move(payload)}, author);
    EXPECT_TRUE(record.has_value()) << record.error().message();
    return record.value();
}

Record knowledge(const crypto::KeyPair& author, std::uint64_t seq = 1,
                 std::string_view id = "entry-1", std::string_view title = "Channels",
                 std::int64_t expires = t0 + hour) {
    std::string payload = R"({"domain":"go/concurrency","id":")";
    payload.append(id).append(R"(","title":")").append(title).append(R"("})");
    return sign(RecordKind::knowledge, std::move(payload), author, seq, expires);
}

Record announce(const crypto::KeyPair& author, std::string_view entry_id, std::uint64_t seq = 1) {
    std::string payload = R"({"domain":"go/concurrency","entry_id":")";
    payload.append(entry_id).append(R"("})");
    return sign(RecordKind::domain_announce, std::move(payload), author, seq);
}

void expect_same_record(const Record& actual, const Record& expected) {
    EXPECT_EQ(actual.key, expected.key);
    EXPECT_EQ(actual.kind, expected.kind);
    EXPECT_EQ(actual.author, expected.author);
    EXPECT_EQ(actual.seq, expected.seq);
    EXPECT_EQ(actual.created, expected.created);
    EXPECT_EQ(actual.expires, expected.expires);
    EXPECT_EQ(actual.payload, expected.payload);
    EXPECT_EQ(actual.slot, expected.slot);
    EXPECT_EQ(actual.body, expected.body);
    EXPECT_EQ(actual.sig, expected.sig);
}

// Each factory makes a fresh, empty store; the fixture keeps the factory (and so any directory it
// owns) alive for as long as the store.
struct MemoryStoreFactory {
    static constexpr const char* name = "Memory";
    std::unique_ptr<Store> make() { return std::make_unique<MemoryStore>(); }
};

struct SqliteStoreFactory {
    static constexpr const char* name = "Sqlite";
    test::TempDir dir;
    std::unique_ptr<Store> make() {
        auto store = SqliteStore::open(app::HomeLayout{dir.path()}.records_db());
        EXPECT_TRUE(store.has_value()) << store.error().message();
        return std::move(store.value());
    }
};

struct FactoryName {
    template <class Factory>
    static std::string GetName(int) {
        return Factory::name;
    }
};

template <class Factory>
class StoreTest : public ::testing::Test {
protected:
    Factory factory_;
    std::unique_ptr<Store> store_ = factory_.make();
};

using StoreFactories = ::testing::Types<MemoryStoreFactory, SqliteStoreFactory>;
TYPED_TEST_SUITE(StoreTest, StoreFactories, FactoryName);

TYPED_TEST(StoreTest, PutGetRoundtripPreservesAllFields) {
    Store& store = *this->store_;
    const auto alice = key_pair(1);
    const Record record = knowledge(alice);

    ASSERT_TRUE(store.put(record));
    auto got = store.get(record.key, t0);
    ASSERT_TRUE(got.has_value());
    ASSERT_EQ(got->size(), 1u);
    expect_same_record(got->front(), record);

    auto found = store.find(RecordIdentity::of(record));
    ASSERT_TRUE(found.has_value());
    ASSERT_TRUE(found->has_value());
    expect_same_record(**found, record);
}

TYPED_TEST(StoreTest, GetOfMissingKeyIsEmpty) {
    Store& store = *this->store_;
    ASSERT_TRUE(store.put(knowledge(key_pair(1))));

    auto got = store.get(content_key("go/concurrency", "no-such-entry"), t0);
    ASSERT_TRUE(got.has_value());
    EXPECT_TRUE(got->empty());

    auto found = store.find(RecordIdentity::of(knowledge(key_pair(2))));
    ASSERT_TRUE(found.has_value());
    EXPECT_FALSE(found->has_value());
}

TYPED_TEST(StoreTest, AllAuthorsUnderOneKeyAreReturnedInAuthorOrder) {
    Store& store = *this->store_;
    std::vector<crypto::PublicKey> authors;
    for (std::uint8_t n = 1; n <= 3; ++n) {
        const auto author = key_pair(n);
        authors.push_back(author.public_key());
        ASSERT_TRUE(store.put(knowledge(author)));
    }
    std::sort(authors.begin(), authors.end());

    auto got = store.get(content_key("go/concurrency", "entry-1"), t0);
    ASSERT_TRUE(got.has_value());
    ASSERT_EQ(got->size(), 3u);
    for (std::size_t i = 0; i < authors.size(); ++i) EXPECT_EQ((*got)[i].author, authors[i]);
}

TYPED_TEST(StoreTest, DomainAnnounceSlotsFromOneAuthorCoexist) {
    Store& store = *this->store_;
    const auto alice = key_pair(1);
    ASSERT_TRUE(store.put(announce(alice, "entry-2")));
    ASSERT_TRUE(store.put(announce(alice, "entry-1")));

    auto got = store.get(domain_index_key("go/concurrency"), t0);
    ASSERT_TRUE(got.has_value());
    ASSERT_EQ(got->size(), 2u);
    EXPECT_EQ((*got)[0].slot, "entry-1");
    EXPECT_EQ((*got)[1].slot, "entry-2");
    EXPECT_EQ(store.size().value(), 2u);
}

TYPED_TEST(StoreTest, SeqIsTrackedPerSlot) {
    Store& store = *this->store_;
    const auto alice = key_pair(1);
    ASSERT_TRUE(store.put(announce(alice, "entry-1", 5)));
    EXPECT_TRUE(store.put(announce(alice, "entry-2", 1)));
    EXPECT_EQ(store.size().value(), 2u);
}

TYPED_TEST(StoreTest, HigherSeqReplaces) {
    Store& store = *this->store_;
    const auto alice = key_pair(1);
    ASSERT_TRUE(store.put(knowledge(alice, 1, "entry-1", "old")));
    const Record newer = knowledge(alice, 2, "entry-1", "new");
    EXPECT_TRUE(store.put(newer));

    auto got = store.get(newer.key, t0);
    ASSERT_TRUE(got.has_value());
    ASSERT_EQ(got->size(), 1u);
    expect_same_record(got->front(), newer);
    EXPECT_EQ(store.size().value(), 1u);
}

TYPED_TEST(StoreTest, LowerSeqIsStaleAndLeavesStoredRecord) {
    Store& store = *this->store_;
    const auto alice = key_pair(1);
    const Record stored = knowledge(alice, 2, "entry-1", "kept");
    ASSERT_TRUE(store.put(stored));

    EXPECT_EQ(store.put(knowledge(alice, 1, "entry-1", "older")).error(), errc::stale_seq);
    auto found = store.find(RecordIdentity::of(stored));
    ASSERT_TRUE(found.has_value() && found->has_value());
    expect_same_record(**found, stored);
}

TYPED_TEST(StoreTest, SameSeqDifferentBodyIsConflict) {
    Store& store = *this->store_;
    const auto alice = key_pair(1);
    const Record first = knowledge(alice, 3, "entry-1", "first");
    ASSERT_TRUE(store.put(first));

    EXPECT_EQ(store.put(knowledge(alice, 3, "entry-1", "second")).error(), errc::seq_conflict);
    auto found = store.find(RecordIdentity::of(first));
    ASSERT_TRUE(found.has_value() && found->has_value());
    expect_same_record(**found, first);
}

TYPED_TEST(StoreTest, SameRecordTwiceIsOk) {
    Store& store = *this->store_;
    const Record record = knowledge(key_pair(1));
    ASSERT_TRUE(store.put(record));
    EXPECT_TRUE(store.put(record));
    EXPECT_EQ(store.size().value(), 1u);
    EXPECT_EQ(store.get(record.key, t0).value().size(), 1u);
}

TYPED_TEST(StoreTest, GetFiltersExpiredButFindReturnsThem) {
    Store& store = *this->store_;
    const Record short_lived = knowledge(key_pair(1), 1, "entry-1", "short", t0 + 60);
    const Record long_lived = knowledge(key_pair(2), 1, "entry-1", "long", t0 + hour);
    ASSERT_TRUE(store.put(short_lived));
    ASSERT_TRUE(store.put(long_lived));

    EXPECT_EQ(store.get(short_lived.key, t0 + 59).value().size(), 2u);
    // expires <= now is expired: at exactly t0 + 60 the short-lived record is gone.
    auto got = store.get(short_lived.key, t0 + 60);
    ASSERT_TRUE(got.has_value());
    ASSERT_EQ(got->size(), 1u);
    EXPECT_EQ(got->front().author, long_lived.author);
    EXPECT_TRUE(store.get(short_lived.key, t0 + hour).value().empty());

    auto found = store.find(RecordIdentity::of(short_lived));
    ASSERT_TRUE(found.has_value() && found->has_value());
    expect_same_record(**found, short_lived);
}

TYPED_TEST(StoreTest, ExpiredRecordStillBlocksLowerSeq) {
    Store& store = *this->store_;
    const auto alice = key_pair(1);
    ASSERT_TRUE(store.put(knowledge(alice, 5, "entry-1", "five", t0 + 60)));
    EXPECT_EQ(store.put(knowledge(alice, 4, "entry-1", "four")).error(), errc::stale_seq);
}

TYPED_TEST(StoreTest, PruneExpiredRemovesAndCounts) {
    Store& store = *this->store_;
    const Record a = knowledge(key_pair(1), 1, "entry-a", "a", t0 + 100);
    const Record b = knowledge(key_pair(1), 1, "entry-b", "b", t0 + 200);
    const Record c = knowledge(key_pair(2), 1, "entry-b", "c", t0 + hour);
    for (const Record* r : {&a, &b, &c}) ASSERT_TRUE(store.put(*r));

    EXPECT_EQ(store.prune_expired(t0 + 99).value(), 0u);
    EXPECT_EQ(store.prune_expired(t0 + 200).value(), 2u);
    EXPECT_EQ(store.size().value(), 1u);
    EXPECT_FALSE(store.find(RecordIdentity::of(a)).value().has_value());
    EXPECT_FALSE(store.find(RecordIdentity::of(b)).value().has_value());
    EXPECT_TRUE(store.find(RecordIdentity::of(c)).value().has_value());
    EXPECT_EQ(store.list_keys().value(), std::vector<NodeId>{c.key});
    EXPECT_EQ(store.prune_expired(t0 + 200).value(), 0u);
}

TYPED_TEST(StoreTest, EraseKeyReturnsCount) {
    Store& store = *this->store_;
    const Record a1 = knowledge(key_pair(1), 1, "entry-a");
    const Record a2 = knowledge(key_pair(2), 1, "entry-a");
    const Record b = knowledge(key_pair(1), 1, "entry-b");
    for (const Record* r : {&a1, &a2, &b}) ASSERT_TRUE(store.put(*r));

    EXPECT_EQ(store.erase(a1.key).value(), 2u);
    EXPECT_EQ(store.erase(a1.key).value(), 0u);
    EXPECT_TRUE(store.get(a1.key, t0).value().empty());
    EXPECT_EQ(store.size().value(), 1u);
    EXPECT_EQ(store.list_keys().value(), std::vector<NodeId>{b.key});
}

TYPED_TEST(StoreTest, EraseIdentityReturnsWhetherItExisted) {
    Store& store = *this->store_;
    const Record alice = knowledge(key_pair(1));
    const Record bob = knowledge(key_pair(2));
    ASSERT_TRUE(store.put(alice));
    ASSERT_TRUE(store.put(bob));

    EXPECT_TRUE(store.erase(RecordIdentity::of(alice)).value());
    EXPECT_FALSE(store.erase(RecordIdentity::of(alice)).value());
    auto got = store.get(alice.key, t0);
    ASSERT_TRUE(got.has_value());
    ASSERT_EQ(got->size(), 1u);
    EXPECT_EQ(got->front().author, bob.author);

    // Erasing a slot that is not held leaves the others alone.
    RecordIdentity other_slot = RecordIdentity::of(bob);
    other_slot.slot = "entry-9";
    EXPECT_FALSE(store.erase(other_slot).value());
    EXPECT_EQ(store.size().value(), 1u);
}

TYPED_TEST(StoreTest, ListKeysSortedAndDistinct) {
    Store& store = *this->store_;
    EXPECT_TRUE(store.list_keys().value().empty());

    std::vector<NodeId> expected;
    for (std::string_view id : {"entry-1", "entry-2", "entry-3", "entry-4"}) {
        ASSERT_TRUE(store.put(knowledge(key_pair(1), 1, id)));
        ASSERT_TRUE(store.put(knowledge(key_pair(2), 1, id)));
        expected.push_back(content_key("go/concurrency", id));
    }
    ASSERT_TRUE(store.put(announce(key_pair(1), "entry-1")));
    expected.push_back(domain_index_key("go/concurrency"));
    std::sort(expected.begin(), expected.end());

    EXPECT_EQ(store.list_keys().value(), expected);
}

TYPED_TEST(StoreTest, SizeCountsRecords) {
    Store& store = *this->store_;
    EXPECT_EQ(store.size().value(), 0u);
    ASSERT_TRUE(store.put(knowledge(key_pair(1), 1)));
    ASSERT_TRUE(store.put(knowledge(key_pair(2), 1)));
    ASSERT_TRUE(store.put(announce(key_pair(1), "entry-1")));
    EXPECT_EQ(store.size().value(), 3u);
    ASSERT_TRUE(store.put(knowledge(key_pair(1), 2, "entry-1", "replaced")));
    EXPECT_EQ(store.size().value(), 3u);
    ASSERT_TRUE(store.erase(RecordIdentity::of(announce(key_pair(1), "entry-1"))).value());
    EXPECT_EQ(store.size().value(), 2u);
}

TYPED_TEST(StoreTest, GetOrdersByAuthorThenSlot) {
    Store& store = *this->store_;
    // Reserved domains keep kinds from meeting under one key, so within a key records differ by
    // author and slot; both stores return them in that order.
    const Record a2 =
        sign(RecordKind::domain_announce, R"({"domain":"rust","entry_id":"e2"})", key_pair(1));
    const Record a1 =
        sign(RecordKind::domain_announce, R"({"domain":"rust","entry_id":"e1"})", key_pair(1));
    const Record b1 =
        sign(RecordKind::domain_announce, R"({"domain":"rust","entry_id":"e1"})", key_pair(2));
    for (const Record* r : {&b1, &a2, &a1}) ASSERT_TRUE(store.put(*r));

    auto got = store.get(a1.key, t0);
    ASSERT_TRUE(got.has_value());
    ASSERT_EQ(got->size(), 3u);
    std::vector<std::pair<crypto::PublicKey, std::string>> expected = {
        {a1.author, "e1"}, {a2.author, "e2"}, {b1.author, "e1"}};
    std::sort(expected.begin(), expected.end());
    for (std::size_t i = 0; i < expected.size(); ++i) {
        EXPECT_EQ((*got)[i].author, expected[i].first) << i;
        EXPECT_EQ((*got)[i].slot, expected[i].second) << i;
    }
}

}  // namespace
}  // namespace nocturne::store
