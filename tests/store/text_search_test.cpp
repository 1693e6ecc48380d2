// The text index of both stores: the same results, in the same order, with the same scores as a
// reader computes from the text (store::score_text).

#include <nocturne/app/home.hpp>
#include <nocturne/crypto/keys.hpp>
#include <nocturne/store/memory_store.hpp>
#include <nocturne/store/sqlite_store.hpp>
#include <nocturne/store/text_search.hpp>
#include <nocturne/wire/record.hpp>

#include <SQLiteCpp/Database.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <memory>
#include <random>
#include <set>

#include "support/temp_dir.hpp"

namespace nocturne::store {
namespace {

constexpr std::int64_t t0 = 1700000000;

crypto::KeyPair key_pair(std::uint8_t n) {
    crypto::Seed seed{};
    seed.fill(n);
    return crypto::KeyPair::from_seed(seed);
}

// Test records: knowledge records of domain "d" under one key, text in the payload.
std::optional<IndexedText> index_payload(const wire::Record& r) {
    const auto p = nlohmann::json::parse(r.payload, nullptr, false);
    if (!p.is_object() || !p.contains("title")) return std::nullopt;
    return IndexedText{p.value("domain", ""), p.value("title", ""), p.value("tags", ""),
                       p.value("body", ""), p.value("rank", 0.0)};
}

wire::Record doc(std::uint8_t author, const std::string& title, const std::string& body,
                 double rank, std::int64_t created = t0, std::uint64_t seq = 1,
                 const std::string& tags = "") {
    nlohmann::json p = {{"domain", "d"}, {"id", "entry"}, {"title", title},
                        {"tags", tags},  {"body", body},  {"rank", rank}};
    return wire::sign_record({wire::RecordKind::knowledge, seq, created, created + 3600, p.dump()},
                             key_pair(author))
        .value();
}

TextSearch terms(std::vector<std::string> t, double min_rank = 0) {
    TextSearch s;
    s.terms = std::move(t);
    s.min_rank = min_rank;
    return s;
}

class TextSearchTest : public ::testing::TestWithParam<bool> {
protected:
    void SetUp() override {
        if (GetParam()) {
            store_ = std::move(
                SqliteStore::open(app::HomeLayout{home_.path()}.records_db(), index_payload)
                    .value());
        } else {
            store_ = std::make_unique<MemoryStore>(index_payload);
        }
    }
    std::vector<std::uint8_t> authors(const TextSearch& s, std::int64_t now = t0) {
        std::vector<std::uint8_t> out;
        for (const auto& r : store_->search(key_, s, now).value()) {
            for (std::uint8_t a = 1; a < 50; ++a) {
                if (key_pair(a).public_key() == r.author) out.push_back(a);
            }
        }
        return out;
    }

    test::TempDir home_;
    std::unique_ptr<Store> store_;
    NodeId key_ = doc(1, "x", "x", 0).key;
};

TEST_P(TextSearchTest, EveryTermMustBeginATokenAndTheBestScoreComesFirst) {
    // Scores (text_score): "select" 2: (3 + 1) x 0.7 = 2.8, 3: (3 + log2 3) x 0.65 = 2.98;
    // "chan" 1: (3 + 1) x 0.75 = 3, 3: (3 + log2 3) x 0.65 = 2.98.
    ASSERT_TRUE(store_->put(doc(1, "Channels in Go", "close a channel once", 0.5)));
    ASSERT_TRUE(store_->put(doc(2, "Select statement", "select with a default case", 0.4)));
    ASSERT_TRUE(store_->put(doc(3, "Channel select", "channels and select, select channels", 0.3)));
    ASSERT_TRUE(store_->put(doc(4, "Unrelated", "nothing here", 0.9)));
    EXPECT_EQ(authors(terms({"select"})), (std::vector<std::uint8_t>{3, 2}));
    EXPECT_EQ(authors(terms({"chan"})), (std::vector<std::uint8_t>{1, 3}));  // prefixes
    EXPECT_EQ(authors(terms({"channel", "select"})), (std::vector<std::uint8_t>{3}));
    EXPECT_TRUE(authors(terms({"hannel"})).empty()) << "a term begins a token";
    EXPECT_TRUE(authors(terms({"missing"})).empty());
    // No terms: everything, by rank.
    EXPECT_EQ(authors(terms({})), (std::vector<std::uint8_t>{4, 1, 2, 3}));
    EXPECT_EQ(authors(terms({}, 0.6)), (std::vector<std::uint8_t>{4}));
}

TEST_P(TextSearchTest, NonAsciiTextSplitsIntoWordsExactlyAsReadersSplitIt) {
    // A reader checks a holder's order with tokenize(): non-ASCII bytes are word characters, so
    // "x—foo" is one word and "École" another than "école". The index must split the same way,
    // or a holder could rank first what a reader places last (and the page cut would skip).
    ASSERT_TRUE(store_->put(doc(1, "x\u2014foo foo\u2014foo\u2014foo\u2014foo", "", 0.0)));
    ASSERT_TRUE(store_->put(doc(2, "foo bar", "foo", 0.5)));
    ASSERT_TRUE(store_->put(doc(3, "\u00c9cole", "", 0.5)));
    for (const auto& r : store_->search(key_, terms({"foo"}), t0).value()) {
        const auto text = index_payload(r).value();
        EXPECT_TRUE(score_text({"foo"}, text).has_value());
    }
    EXPECT_EQ(authors(terms({"foo"})), (std::vector<std::uint8_t>{2, 1}));
    EXPECT_TRUE(authors(terms({"\u00e9cole"})).empty()) << "only ASCII is case-folded";
    EXPECT_EQ(authors(terms({tokenize("\u00c9cole")[0]})), (std::vector<std::uint8_t>{3}));
}

TEST_P(TextSearchTest, PagesFollowOneAnotherWithoutGapsOrRepeats) {
    for (std::uint8_t a = 1; a <= 30; ++a) {
        ASSERT_TRUE(store_->put(
            doc(a, "go tip " + std::to_string(a % 4), "go", (a % 3) / 2.0, t0 - a % 5)));
    }
    for (const bool with_text : {true, false}) {
        TextSearch s;
        if (with_text) s.terms = {"go"};
        s.limit = 7;
        std::vector<std::uint8_t> all;
        for (;;) {
            const auto page = store_->search(key_, s, t0).value();
            if (page.empty()) break;
            for (const auto& r : page) {
                for (std::uint8_t a = 1; a <= 30; ++a) {
                    if (key_pair(a).public_key() == r.author) all.push_back(a);
                }
            }
            const auto& last = page.back();
            const auto text = index_payload(last).value();
            s.after = TextPosition{score_text(s.terms, text).value(), last.created, last.author,
                                   last.slot};
        }
        std::set<std::uint8_t> distinct(all.begin(), all.end());
        EXPECT_EQ(all.size(), 30u) << with_text;
        EXPECT_EQ(distinct.size(), 30u) << with_text;
    }
}

TEST_P(TextSearchTest, TheIndexFollowsReplacementsErasureAndExpiry) {
    ASSERT_TRUE(store_->put(doc(1, "old title", "body", 0.5)));
    ASSERT_TRUE(store_->put(doc(1, "new title", "body", 0.5, t0, 2)));
    EXPECT_TRUE(authors(terms({"old"})).empty());
    EXPECT_EQ(authors(terms({"new"})), (std::vector<std::uint8_t>{1}));
    ASSERT_TRUE(store_->put(doc(2, "new thing", "body", 0.5)));
    ASSERT_TRUE(store_->erase(RecordIdentity::of(doc(2, "x", "x", 0))).value());
    EXPECT_EQ(authors(terms({"new"})), (std::vector<std::uint8_t>{1}));
    EXPECT_TRUE(authors(terms({"new"}), t0 + 3600).empty()) << "expired";
    ASSERT_EQ(store_->prune_expired(t0 + 3600).value(), 1u);
    EXPECT_TRUE(authors(terms({})).empty());
    ASSERT_TRUE(store_->put(doc(3, "again", "body", 0.5, t0 + 10)));
    EXPECT_EQ(store_->scopes(t0 + 10, 10).value().size(), 1u);
    EXPECT_EQ(store_->scopes(t0 + 10, 10).value()[0].records, 1u);
    ASSERT_EQ(store_->erase(key_).value(), 1u);
    EXPECT_TRUE(store_->scopes(t0 + 10, 10).value().empty());
}

INSTANTIATE_TEST_SUITE_P(BothStores, TextSearchTest, ::testing::Values(true, false),
                         [](const auto& p) { return p.param ? "Sqlite" : "Memory"; });

TEST(TextScore, WeighsTitleTagsBodyAndRank) {
    EXPECT_EQ(text_score({}, 1.0), 1'000'000);
    EXPECT_EQ(text_score({}, 0.0), 500'000);
    EXPECT_EQ(text_score({{1, 0, 0}}, 1.0), 3'000'000);
    EXPECT_EQ(text_score({{0, 1, 0}}, 1.0), 2'000'000);
    EXPECT_EQ(text_score({{0, 0, 3}}, 1.0), 2'000'000);  // log2(4)
    EXPECT_EQ(tokenize("Go/Concurrency: don't-panic! Ünïcode"),
              (std::vector<std::string>{"go", "concurrency", "don", "t", "panic", "Ünïcode"}));
    EXPECT_FALSE(score_text({"go", "rust"}, {"d", "Go", "", "", 1.0}).has_value());
}

TEST(SqliteTextIndex, ABroadWordPagesExactlyAsRankingEveryMatchWould) {
    // Words most rows have make the SQLite index walk rows by rank and stop early (text_terms'
    // bounds); the memory store ranks every match. Both must give the same pages, ties included
    // (few distinct ranks and times), after replacements, erasures and expiry, and for words
    // whose bounds are too loose to walk (prefixes of many words).
    test::TempDir home;
    auto sqlite =
        SqliteStore::open(app::HomeLayout{home.path()}.records_db(), index_payload).value();
    MemoryStore memory(index_payload);
    std::mt19937_64 rng(7);
    const std::vector<std::string> words = {"common", "common", "common", "often", "often",
                                            "rare",   "alpha",  "alpine", "beta"};
    const auto text = [&](int n) {
        std::string out;
        for (int i = 0; i < n; ++i)
            out += words[rng() % words.size()] + " w" + std::to_string(rng() % 200) + " ";
        return out;
    };
    // One key, one identity per author.
    std::vector<crypto::KeyPair> authors;
    for (int i = 0; i < 600; ++i) {
        crypto::Seed seed{};
        seed[0] = static_cast<std::uint8_t>(i);
        seed[1] = static_cast<std::uint8_t>(i >> 8);
        seed[2] = 0xA5;
        authors.push_back(crypto::KeyPair::from_seed(seed));
    }
    const auto put = [&](int author, std::uint64_t seq, std::int64_t expires_in) {
        nlohmann::json p = {{"domain", "d"},
                            {"id", "entry"},
                            {"title", text(1 + static_cast<int>(rng() % 2))},
                            {"tags", text(static_cast<int>(rng() % 2))},
                            {"body", text(2 + static_cast<int>(rng() % 6))},
                            {"rank", static_cast<double>(rng() % 4) / 4}};
        const auto created = t0 - static_cast<std::int64_t>(rng() % 3);
        const auto r = wire::sign_record({wire::RecordKind::knowledge, seq, created,
                                          created + expires_in, p.dump()},
                                         authors[static_cast<std::size_t>(author)])
                           .value();
        EXPECT_TRUE(sqlite->put(r));
        EXPECT_TRUE(memory.put(r));
        return r;
    };
    std::vector<wire::Record> all;
    for (int i = 0; i < 600; ++i) {
        all.push_back(put(i, 1, i % 10 == 0 ? 100 : 3600));
    }
    for (int i = 0; i < 60; ++i) put(i, 2, 3600);
    for (int i = 60; i < 90; ++i) {
        ASSERT_TRUE(sqlite->erase(RecordIdentity::of(all[static_cast<std::size_t>(i)])).value());
        ASSERT_TRUE(memory.erase(RecordIdentity::of(all[static_cast<std::size_t>(i)])).value());
    }
    const auto key = all[0].key;
    const auto now = t0 + 200;  // some have expired
    ASSERT_TRUE(sqlite->prune_expired(now));
    const std::vector<std::vector<std::string>> queries = {
        {"common"}, {"com"}, {"often"}, {"common", "often"}, {"alp"},
        {"w"},      {"w1"},  {"rare"},  {"beta", "common"}};
    for (const auto& q : queries) {
        for (const std::size_t limit : {3u, 25u}) {
            for (const double min_rank : {0.0, 0.5}) {
                TextSearch s = terms(q, min_rank);
                s.limit = limit;
                std::size_t pages = 0, results = 0;
                for (;;) {
                    const auto a = sqlite->search(key, s, now).value();
                    const auto b = memory.search(key, s, now).value();
                    ASSERT_EQ(a.size(), b.size())
                        << q[0] << " limit " << limit << " page " << pages;
                    for (std::size_t i = 0; i < a.size(); ++i) {
                        ASSERT_EQ(a[i].sig, b[i].sig)
                            << q[0] << " limit " << limit << " page " << pages << " row " << i;
                    }
                    if (a.empty() || ++pages == 8) break;
                    results += a.size();
                    const auto& last = a.back();
                    s.after = TextPosition{score_text(s.terms, index_payload(last).value()).value(),
                                           last.created, last.author, last.slot};
                }
                if (q[0] == "common" && limit == 25 && min_rank == 0.0) {
                    EXPECT_GE(results, 150u);  // many pages walked, not just the first
                }
            }
        }
    }
}

TEST_P(TextSearchTest, AnEqualScoreFromALowerRankStillGoesByTime) {
    // 300 rows with "common" once in the title make the SQLite index walk by rank. K (rank 1,
    // "common" once: 3 x 1) and R (rank 0, three times: 6 x 0.5) score the same, and R is newer,
    // so R comes first although the walk meets K first; R's bound (6 x 0.5) equals K's score.
    std::vector<crypto::KeyPair> keys;
    const auto put = [&](const std::string& title, double rank, std::int64_t created) {
        crypto::Seed seed{};
        seed[0] = static_cast<std::uint8_t>(keys.size());
        seed[1] = static_cast<std::uint8_t>(keys.size() >> 8);
        seed[2] = 0x5A;
        keys.push_back(crypto::KeyPair::from_seed(seed));
        nlohmann::json p = {{"domain", "d"}, {"id", "entry"}, {"title", title},
                            {"tags", ""},    {"body", ""},    {"rank", rank}};
        auto r =
            wire::sign_record({wire::RecordKind::knowledge, 1, created, created + 3600, p.dump()},
                              keys.back())
                .value();
        EXPECT_TRUE(store_->put(r));
        return r.author;
    };
    for (int i = 0; i < 300; ++i) put("common filler", 0.0, t0 - 100);
    const auto m = put("common common common", 0.0, t0 - 10);
    const auto k = put("common", 1.0, t0 - 5);
    const auto r = put("common common common", 0.0, t0);
    TextSearch s = terms({"common"});
    s.limit = 1;
    std::vector<crypto::PublicKey> order;
    for (int page = 0; page < 3; ++page) {
        const auto found = store_->search(key_, s, t0).value();
        ASSERT_EQ(found.size(), 1u);
        order.push_back(found[0].author);
        s.after = TextPosition{score_text(s.terms, index_payload(found[0]).value()).value(),
                               found[0].created, found[0].author, found[0].slot};
    }
    EXPECT_EQ(order, (std::vector<crypto::PublicKey>{r, k, m}));
}

TEST(SqliteTextIndex, AVersionTwoFileIsIndexedWhenOpenedWithAnIndexer) {
    test::TempDir home;
    const auto file = app::HomeLayout{home.path()}.records_db();
    {
        auto store = SqliteStore::open(file).value();
        ASSERT_TRUE(store->put(doc(1, "indexed later", "body", 0.5)));
    }
    {
        SQLite::Database raw(file.string(), SQLite::OPEN_READWRITE);
        raw.exec(
            "DROP TABLE text_fts; DROP TABLE text_meta; UPDATE schema_version SET version = 2");
    }
    auto store = SqliteStore::open(file, index_payload).value();
    const auto found = store->search(doc(1, "x", "x", 0).key, terms({"later"}), t0).value();
    EXPECT_EQ(found.size(), 1u);
}

}  // namespace
}  // namespace nocturne::store
