// Entries, announcements and tombstones as signed records, and the query helpers.

#include <nocturne/crypto/keys.hpp>
#include <nocturne/knowledge/entry_records.hpp>
#include <nocturne/knowledge/query.hpp>
#include <nocturne/knowledge/text_indexing.hpp>
#include <nocturne/wire/json_reader.hpp>

#include <gtest/gtest.h>

namespace nocturne::knowledge {
namespace {

constexpr std::int64_t t0 = 1'700'000'000;

class EntryRecords : public ::testing::Test {
protected:
    crypto::KeyPair keys_ = crypto::KeyPair::from_seed(crypto::Seed{42});

    KnowledgeEntry entry() const {
        KnowledgeEntry e;
        e.id = "e1";
        e.domain = "go/concurrency";
        e.title = "Select with default";
        e.content = "A select with a default case never blocks.\n\tExample...";
        e.tags = {"go", "select"};
        e.confidence = 0.75;
        e.author = keys_.node_id().to_hex();
        e.operator_id = std::string(64, 'a');
        e.created = t0;
        e.expires = t0 + 3600;
        e.seq = 3;
        return e;
    }

    // A record of `kind` with an arbitrary payload, signed by our key.
    wire::Record raw(wire::RecordKind kind, const nlohmann::json& payload) const {
        auto r = wire::sign_record({kind, 1, t0, t0 + 60, payload.dump()}, keys_);
        EXPECT_TRUE(r.has_value());
        return *r;
    }
};

TEST_F(EntryRecords, EntryRoundTrips) {
    const auto e = entry();
    auto record = sign_entry(e, keys_);
    ASSERT_TRUE(record.has_value());
    EXPECT_EQ(record->key, content_key("go/concurrency", "e1"));
    // Through the wire form, as a peer would receive it.
    auto decoded = wire::decode_record(wire::encode_record(*record));
    ASSERT_TRUE(decoded.has_value());
    auto back = entry_from_record(*decoded);
    ASSERT_TRUE(back.has_value()) << back.error().message();
    EXPECT_FALSE(back->deleted);
    const auto& b = back->entry;
    EXPECT_EQ(b.id, e.id);
    EXPECT_EQ(b.domain, e.domain);
    EXPECT_EQ(b.title, e.title);
    EXPECT_EQ(b.content, e.content);
    EXPECT_EQ(b.tags, e.tags);
    EXPECT_EQ(b.confidence, e.confidence);
    EXPECT_EQ(b.author, e.author);
    EXPECT_EQ(b.operator_id, e.operator_id);
    EXPECT_EQ(b.created, e.created);
    EXPECT_EQ(b.expires, e.expires);
    EXPECT_EQ(b.seq, e.seq);
}

TEST_F(EntryRecords, AnnouncementRoundTrips) {
    auto record = sign_announcement(entry(), keys_);
    ASSERT_TRUE(record.has_value());
    EXPECT_EQ(record->key, domain_index_key("go/concurrency"));
    EXPECT_EQ(record->slot, "e1");
    auto a = announcement_from_record(*record);
    ASSERT_TRUE(a.has_value()) << a.error().message();
    EXPECT_EQ(a->entry_id, "e1");
    EXPECT_EQ(a->domain, "go/concurrency");
    EXPECT_EQ(a->title, "Select with default");
    EXPECT_EQ(a->content, entry().content);
    EXPECT_EQ(a->operator_id, entry().operator_id);
    EXPECT_EQ(a->tags, entry().tags);
    EXPECT_EQ(a->confidence, 0.75);
    EXPECT_EQ(a->created, t0);
    EXPECT_EQ(a->seq, 3u);
    EXPECT_EQ(a->author, keys_.node_id().to_hex());
    EXPECT_FALSE(a->deleted);
    // Not an entry record, and the other way round.
    EXPECT_EQ(entry_from_record(*record).error(), errc::unknown_record_kind);
    EXPECT_EQ(announcement_from_record(*sign_entry(entry(), keys_)).error(),
              errc::unknown_record_kind);
}

TEST_F(EntryRecords, TombstonesReplaceTheSameIdentities) {
    const TombstoneTimes t{4, t0 + 10, t0 + 3600};
    auto entry_ts = sign_entry_tombstone("go/concurrency", "e1", t, keys_);
    auto announce_ts = sign_announce_tombstone("go/concurrency", "e1", t, keys_);
    ASSERT_TRUE(entry_ts && announce_ts);
    EXPECT_TRUE(entry_ts->same_identity(*sign_entry(entry(), keys_)));
    EXPECT_TRUE(announce_ts->same_identity(*sign_announcement(entry(), keys_)));
    auto e = entry_from_record(*entry_ts);
    ASSERT_TRUE(e.has_value());
    EXPECT_TRUE(e->deleted);
    EXPECT_EQ(e->entry.id, "e1");
    EXPECT_EQ(e->entry.seq, 4u);
    auto a = announcement_from_record(*announce_ts);
    ASSERT_TRUE(a.has_value());
    EXPECT_TRUE(a->deleted);
    EXPECT_EQ(a->entry_id, "e1");
}

TEST_F(EntryRecords, ReadingIsStrict) {
    using K = wire::RecordKind;
    const nlohmann::json good = {{"domain", "d"},    {"id", "i"},     {"title", "t"},
                                 {"content", "c"},   {"tags", {"x"}}, {"confidence", 0.5},
                                 {"operator_id", ""}};
    EXPECT_TRUE(entry_from_record(raw(K::knowledge, good)).has_value());
    const auto mutate = [&](auto edit) {
        auto p = good;
        edit(p);
        return entry_from_record(raw(K::knowledge, p));
    };
    EXPECT_EQ(mutate([](auto& p) { p["extra"] = 1; }).error(), errc::unknown_field);
    EXPECT_EQ(mutate([](auto& p) { p.erase("title"); }).error(), errc::missing_field);
    EXPECT_EQ(mutate([](auto& p) { p["confidence"] = 1.5; }).error(), errc::value_out_of_range);
    EXPECT_EQ(mutate([](auto& p) { p["confidence"] = "x"; }).error(), errc::wrong_type);
    EXPECT_EQ(mutate([](auto& p) { p["tags"] = {1}; }).error(), errc::wrong_type);
    EXPECT_EQ(mutate([](auto& p) { p["tags"] = {std::string(65, 't')}; }).error(),
              errc::value_out_of_range);
    EXPECT_EQ(mutate([](auto& p) { p["title"] = std::string(257, 't'); }).error(),
              errc::value_out_of_range);
    EXPECT_EQ(mutate([](auto& p) { p["deleted"] = false; }).error(), errc::value_out_of_range);
    EXPECT_EQ(mutate([](auto& p) { p["operator_id"] = "bad id"; }).error(),
              errc::value_out_of_range);
    // A tombstone carries nothing else.
    EXPECT_EQ(mutate([](auto& p) { p["deleted"] = true; }).error(), errc::unknown_field);
    // Another implementation's record with invisible characters is cleaned on the way in.
    auto dirty = mutate([](auto& p) {
        p["title"] = "a\u202Eb";
        p["tags"] = {"\u200Bx"};
    });
    ASSERT_TRUE(dirty.has_value());
    EXPECT_EQ(dirty->entry.title, "ab");
    EXPECT_EQ(dirty->entry.tags, std::vector<std::string>{"x"});

    const nlohmann::json announce = {{"domain", "d"},
                                     {"entry_id", "i"},
                                     {"title", "t"},
                                     {"content", "c"},
                                     {"tags", nlohmann::json::array()},
                                     {"confidence", 1},
                                     {"created", t0},
                                     {"operator_id", ""}};
    EXPECT_TRUE(announcement_from_record(raw(K::domain_announce, announce)).has_value());
    auto lying = announce;
    lying["created"] = t0 + 999;  // a sort key that is not the signed creation time
    EXPECT_EQ(announcement_from_record(raw(K::domain_announce, lying)).error(),
              errc::value_out_of_range);
    auto extra = announce;
    extra["body"] = "x";
    EXPECT_EQ(announcement_from_record(raw(K::domain_announce, extra)).error(),
              errc::unknown_field);
}

TEST(Cursor, RoundTripsAndRejectsAnythingElse) {
    crypto::PublicKey key{};
    key.fill(0xbb);
    const Cursor c{1'500'000, t0, key, "entry.1-x"};
    const auto text = encode_cursor(c);
    auto back = decode_cursor(text);
    ASSERT_TRUE(back.has_value()) << text;
    EXPECT_EQ(*back, c);
    const std::string a(64, 'b');
    for (const std::string& bad :
         {std::string(""), std::string("garbage"), "c1.1." + a + ".e", "c2.1.x." + a + ".e",
          "c2.1.-1." + a + ".e", "c2.1.01." + a + ".e", "c2.-5.1." + a + ".e", "c2.1.1." + a,
          "c2.1.1." + a + ".", "c2.1.1." + std::string(64, 'B') + ".e",
          "c2.1.1." + std::string(63, 'b') + ".e", "c2.1.1." + a + ".e/x",
          "c2.1.1." + a + "." + std::string(600, 'e')}) {
        EXPECT_EQ(decode_cursor(bad).error(), errc::value_out_of_range) << bad;
    }
}

TEST_F(EntryRecords, TheIndexHoldsLiveAnnouncementsWithTheirWholeText) {
    auto text = indexed_text(*sign_announcement(entry(), keys_));
    ASSERT_TRUE(text.has_value());
    EXPECT_EQ(text->scope, "go/concurrency");
    EXPECT_EQ(text->title, "Select with default");
    EXPECT_EQ(text->tags, "go select");
    EXPECT_EQ(text->body, entry().content);
    EXPECT_EQ(text->rank, 0.75);
    // Entry records and tombstones are not indexed: one copy of each entry per domain index.
    EXPECT_FALSE(indexed_text(*sign_entry(entry(), keys_)));
    EXPECT_FALSE(indexed_text(
        *sign_announce_tombstone("go/concurrency", "e1", {4, t0 + 1, t0 + 60}, keys_)));
    // Terms begin words, case-insensitively, anywhere in title, tags or content.
    const auto score = [&](std::string_view q) {
        return store::score_text(store::tokenize(q), *text);
    };
    EXPECT_TRUE(score("SELECT"));
    EXPECT_TRUE(score("defa bloc"));
    EXPECT_TRUE(score("go example"));
    EXPECT_FALSE(score("efault"));
    EXPECT_FALSE(score("select mutex"));
    EXPECT_GT(*score("select"), *score("blocks")) << "a title word weighs more than a body word";
}

TEST(QueryValidation, LimitsAndCursorAreCheckedWithADetailNamingTheField) {
    Query q{"go", "a b", 0.3, 100, ""};
    EXPECT_TRUE(validate_query(q));
    q.limit = 0;
    EXPECT_EQ(validate_query(q).error(), errc::value_out_of_range);
    EXPECT_NE(validate_query(q).error().message().find("limit"), std::string::npos);
    q.limit = 101;
    EXPECT_EQ(validate_query(q).error(), errc::value_out_of_range);
    q.limit = 10;
    q.cursor = "nope";
    EXPECT_EQ(validate_query(q).error(), errc::value_out_of_range);
    EXPECT_NE(validate_query(q).error().message().find("cursor"), std::string::npos);
    q.cursor.clear();
    q.text = "a b c d e f g h i j k l m n o p q";  // 17 words
    EXPECT_NE(validate_query(q).error().message().find("16 words"), std::string::npos);
    q.text.clear();
    q.domain = "";
    EXPECT_NE(validate_query(q).error().message().find("domain"), std::string::npos);
}

}  // namespace
}  // namespace nocturne::knowledge
