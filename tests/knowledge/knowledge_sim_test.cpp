// KnowledgeService on the real path: each agent's own service (agent::Agent, as the daemon runs it)
// in the deterministic simulator (k smaller than the mesh), as in trust_dht_sim_test.

#include <nocturne/api/knowledge_json.hpp>
#include <nocturne/app/home.hpp>
#include <nocturne/knowledge/entry_records.hpp>
#include <nocturne/knowledge/knowledge_service.hpp>
#include <nocturne/knowledge/query_server.hpp>
#include <nocturne/sim/simulation.hpp>
#include <nocturne/store/memory_store.hpp>
#include <nocturne/store/sqlite_store.hpp>
#include <nocturne/trust/trust_policy.hpp>
#include <nocturne/trust/trust_state.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <set>

#include "support/temp_dir.hpp"
#include "support/trusted_sim_mesh.hpp"
#include "trust/trust_test_util.hpp"

namespace nocturne::knowledge {
namespace {

using namespace std::chrono_literals;
using trust::test::key;

constexpr std::size_t mesh_size = 30;
constexpr std::size_t k = 6;
constexpr std::size_t stranger = 29;  // a node no operator vouches for

class KnowledgeOnDht : public ::testing::Test {
protected:
    // The bulk tests load hundreds of entries into one domain within minutes: a lab mesh whose
    // genesis allows that (the default, 50 an hour per operator, is anomaly_mesh_test's).
    KnowledgeOnDht()
        : mesh_(test::TrustedSimOptions{.size = mesh_size,
                                        .k = k,
                                        .seed = 17,
                                        .stranger = stranger,
                                        .domain_flood_per_hour = trust::max_rule_rate}),
          web_(mesh_.web()),
          sim_(&mesh_.sim()) {
        for (std::size_t i = 0; i < mesh_size; ++i) peers_.push_back(&mesh_.peer(i));
    }

    KnowledgeService& service(std::size_t i) { return mesh_.agent(i).knowledge(); }

    // What POST /local/knowledge does with a body: shape it into a draft (the service validates).
    static EntryDraft draft(const nlohmann::json& body) {
        auto d = api::draft_from_json(body);
        EXPECT_TRUE(d.has_value()) << d.error().message();
        return d ? *d : EntryDraft{};
    }

    result<PublishOutcome> publish(std::size_t via, const nlohmann::json& body) {
        return mesh_.wait<PublishOutcome>([&](auto cb) { service(via).publish(draft(body), cb); });
    }

    PublishOutcome must_publish(std::size_t via, const nlohmann::json& body) {
        auto r = publish(via, body);
        EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message());
        return r ? *r : PublishOutcome{};
    }

    result<QueryPage> query(std::size_t via, Query q) {
        return mesh_.wait<QueryPage>([&](auto cb) { service(via).query(std::move(q), cb); });
    }

    // Every entry id of a domain (as seen from `via`), following cursors.
    std::vector<std::string> ids(std::size_t via, const std::string& domain, int limit = 100,
                                 std::size_t* pages = nullptr) {
        std::vector<std::string> out;
        Query q{domain, "", 0.0, limit, ""};
        std::size_t n = 0;
        do {
            auto page = query(via, q);
            EXPECT_TRUE(page.has_value());
            if (!page) break;
            ++n;
            EXPECT_LE(page->entries.size(), static_cast<std::size_t>(limit));
            for (const auto& f : page->entries) out.push_back(f.entry.id);
            q.cursor = page->next_cursor;
        } while (!q.cursor.empty() && n < 100);
        if (pages) *pages = n;
        return out;
    }

    result<RemoveOutcome> remove(std::size_t via, std::optional<std::string> domain,
                                 const std::string& id) {
        return mesh_.wait<RemoveOutcome>([&](auto cb) { service(via).remove(domain, id, cb); });
    }

    // A node that holds nothing under key, so that its reads go over the network.
    std::size_t outsider(const NodeId& key) {
        for (std::size_t i = mesh_size - 2; i > 0; --i) {
            if (sim_->store(i).get(key, sim_->clock().unix_seconds())->empty()) return i;
        }
        ADD_FAILURE() << "every node holds the key";
        return 1;
    }

    static nlohmann::json body(const std::string& domain, const std::string& id,
                               const std::string& title, const std::string& content = "text",
                               double confidence = 0.5) {
        return {{"domain", domain},
                {"id", id},
                {"title", title},
                {"content", content},
                {"confidence", confidence}};
    }

    test::TrustedSimMesh mesh_;
    trust::test::TestWeb& web_;
    sim::Simulation* sim_;
    std::vector<test::TrustedSimMesh::Peer*> peers_;
};

TEST_F(KnowledgeOnDht, PublishedOnOneNodeFoundOnAnother) {
    const std::size_t a = 3;
    auto b = body("go/concurrency", "e1", "Select\u200B with default",
                  "A select with a default case never blocks.");
    b["tags"] = {"go", "select"};
    const auto out = must_publish(a, b);
    EXPECT_GE(out.stored, k - 1);
    EXPECT_GE(out.announced, k - 1);
    EXPECT_EQ(out.entry.seq, 1u);
    EXPECT_EQ(out.entry.author, peers_[a]->keys.node_id().to_hex());

    const auto c = outsider(content_key("go/concurrency", "e1"));
    auto page = query(c, {"go/concurrency", "", 0.0, 10, ""});
    ASSERT_TRUE(page.has_value());
    ASSERT_EQ(page->entries.size(), 1u);
    const auto& f = page->entries[0];
    EXPECT_EQ(f.entry.title, "Select with default");  // cleaned on publish
    EXPECT_EQ(f.entry.content, "A select with a default case never blocks.");
    EXPECT_EQ(f.entry.tags, (std::vector<std::string>{"go", "select"}));
    EXPECT_EQ(page->next_cursor, "");
    EXPECT_EQ(page->announcements, 1u);
    // Provenance: the querier verified the author through the credentials that came along.
    const auto op = trust::operator_id_of(web_.genesis_keys[a % 3].public_key());
    EXPECT_EQ(f.provenance.author, peers_[a]->keys.node_id().to_hex());
    EXPECT_EQ(f.provenance.operator_id, op);
    EXPECT_EQ(f.provenance.verified_operator_id, op);
    EXPECT_TRUE(f.provenance.operator_verified);
    EXPECT_TRUE(f.provenance.signature_verified);
    EXPECT_EQ(f.provenance.trust, "trusted");

    // What the API returns: the marker twice per entry, provenance outside the envelope.
    const auto json = api::present_page(*page);
    const auto marker = json["marker"].get<std::string>();
    const auto text = json["entries"][0]["untrusted"].get<std::string>();
    EXPECT_EQ(text.find(marker), text.find("<<<UNTRUSTED-CONTENT ") + 21);
    EXPECT_NE(text.rfind("<<<END-UNTRUSTED-CONTENT " + marker + ">>>"), std::string::npos);
    EXPECT_NE(text.find("never blocks"), std::string::npos);
    EXPECT_EQ(json["entries"][0]["provenance"]["trust"], "trusted");
    EXPECT_EQ(json["entries"][0]["provenance"]["operator_id"], op);
    EXPECT_EQ(json["entries"][0]["provenance"].dump().find("never blocks"), std::string::npos);

    // Publishing the same id again is a newer version (seq 2) that replaces the first.
    const auto again = must_publish(a, body("go/concurrency", "e1", "Select, revised"));
    EXPECT_EQ(again.entry.seq, 2u);
    page = query(c, {"go/concurrency", "", 0.0, 10, ""});
    ASSERT_TRUE(page.has_value());
    ASSERT_EQ(page->entries.size(), 1u);
    EXPECT_EQ(page->entries[0].entry.title, "Select, revised");
}

TEST_F(KnowledgeOnDht, AQueryThatFindsNoHolderAsksNobodyAndAnswersAnEmptyPage) {
    must_publish(1, body("go", "e1", "title"));
    // The stranger (not a storer itself) is cut off from everyone.
    sim_->set_group(stranger, 1);
    std::size_t to_nobody = 0;
    sim_->set_tap([&](std::size_t from, const wire::Contact& to, const dht::Message&) {
        if (from == stranger && (to.address.empty() || to.id == NodeId{})) ++to_nobody;
    });
    auto page = query(stranger, Query{"go", "", 0.0, 10, ""});
    sim_->set_tap(nullptr);
    EXPECT_EQ(to_nobody, 0u) << "a request to a made-up holder";
    ASSERT_TRUE(page.has_value()) << page.error().message();
    EXPECT_TRUE(page->entries.empty());
    // Back in reach, the next query looks the holders up again (nothing bogus was cached).
    sim_->heal();
    auto again = query(stranger, Query{"go", "", 0.0, 10, ""});
    ASSERT_TRUE(again.has_value()) << again.error().message();
    EXPECT_EQ(again->entries.size(), 1u);
}

TEST_F(KnowledgeOnDht, TheDomainIndexHoldsExactlyItsEntries) {
    must_publish(1, body("go/concurrency", "g1", "one"));
    must_publish(2, body("go/concurrency", "g2", "two"));
    must_publish(4, body("go/concurrency", "g3", "three"));
    must_publish(1, body("rust/async", "r1", "uno"));
    must_publish(5, body("rust/async", "g1", "same id, other domain"));
    for (const std::size_t via : {std::size_t{0}, std::size_t{7}, std::size_t{20}}) {
        auto go = ids(via, "go/concurrency");
        std::sort(go.begin(), go.end());
        EXPECT_EQ(go, (std::vector<std::string>{"g1", "g2", "g3"})) << "via " << via;
        auto rust = ids(via, "rust/async");
        std::sort(rust.begin(), rust.end());
        EXPECT_EQ(rust, (std::vector<std::string>{"g1", "r1"})) << "via " << via;
        EXPECT_TRUE(ids(via, "python").empty());
    }
}

TEST_F(KnowledgeOnDht, TextAndConfidenceFilter) {
    auto tagged = body("go", "t1", "Channels", "Buffered ones decouple.", 0.9);
    tagged["tags"] = {"Performance"};
    must_publish(1, tagged);
    must_publish(2, body("go", "t2", "Mutexes", "Prefer CHANNELS for ownership.", 0.4));
    must_publish(3, body("go", "t3", "Context", "Cancel early.", 0.95));
    const auto found = [&](const std::string& text, double min_confidence) {
        auto page = query(10, {"go", text, min_confidence, 10, ""});
        EXPECT_TRUE(page.has_value());
        std::set<std::string> out;
        if (page) {
            for (const auto& f : page->entries) out.insert(f.entry.id);
        }
        return out;
    };
    EXPECT_EQ(found("", 0.0), (std::set<std::string>{"t1", "t2", "t3"}));
    EXPECT_EQ(found("channels", 0.0), (std::set<std::string>{"t1", "t2"}));  // title or content
    EXPECT_EQ(found("channels", 0.5), (std::set<std::string>{"t1"}));
    EXPECT_EQ(found("", 0.92), (std::set<std::string>{"t3"}));
    EXPECT_EQ(found("performance CHANNELS", 0.0), (std::set<std::string>{"t1"}));  // a tag
    EXPECT_EQ(found("channels ownership", 0.0), (std::set<std::string>{"t2"}));
    EXPECT_TRUE(found("channels nowhere", 0.0).empty());
}

TEST_F(KnowledgeOnDht, PagesWithACursorOver150EntriesOfOneDomain) {
    const std::size_t author = 2;
    for (int i = 0; i < 150; ++i) {
        char id[16];
        std::snprintf(id, sizeof id, "b%03d", i);
        must_publish(author, body("bulk", id, std::string("entry ") + id));
        sim_->run_for(1s);  // distinct creation times
    }
    const auto index_key = domain_index_key("bulk");
    // A reader that holds no part of the index asks its holders for one page at a time.
    const auto c = outsider(index_key);
    std::size_t pages = 0;
    const auto got = ids(c, "bulk", 40, &pages);
    EXPECT_EQ(pages, 4u);  // 40 + 40 + 40 + 30
    ASSERT_EQ(got.size(), 150u);
    // Newest first, no entry twice.
    for (int i = 0; i < 150; ++i) {
        char id[8];
        std::snprintf(id, sizeof id, "b%03d", 149 - i);
        EXPECT_EQ(got[static_cast<std::size_t>(i)], id);
    }
    // A page of 100, and the rest.
    auto page = query(c, {"bulk", "", 0.0, 100, ""});
    ASSERT_TRUE(page.has_value());
    EXPECT_EQ(page->entries.size(), 100u);
    EXPECT_EQ(page->announcements, 100u);  // the matches the holders sent for this page
    EXPECT_FALSE(page->index_truncated);
    EXPECT_FALSE(page->next_cursor.empty());
    auto rest = query(c, {"bulk", "", 0.0, 100, page->next_cursor});
    ASSERT_TRUE(rest.has_value());
    EXPECT_EQ(rest->entries.size(), 50u);
    EXPECT_EQ(rest->next_cursor, "");
    EXPECT_EQ(rest->entries.front().entry.id, "b049");

    // A cursor this API did not hand out.
    EXPECT_EQ(query(c, {"bulk", "", 0.0, 10, "c1.zzz"}).error(), errc::value_out_of_range);
    EXPECT_EQ(query(c, {"bulk", "", 0.0, 0, ""}).error(), errc::value_out_of_range);
}

TEST_F(KnowledgeOnDht, ADeletedEntryIsGoneForEveryReader) {
    const std::size_t a = 4;
    must_publish(a, body("ops", "keep", "kept"));
    must_publish(a, body("ops", "drop", "dropped"));
    for (std::size_t via = 0; via < mesh_size; via += 3) {
        EXPECT_EQ(ids(via, "ops").size(), 2u);  // every reader saw both (caches nothing)
    }
    // Only the author may delete it; by id alone.
    EXPECT_EQ(remove(9, std::nullopt, "drop").error(), errc::not_found);
    EXPECT_EQ(remove(a, std::nullopt, "unknown").error(), errc::not_found);
    auto removed = remove(a, std::nullopt, "drop");
    ASSERT_TRUE(removed.has_value()) << removed.error().message();
    EXPECT_EQ(removed->domain, "ops");
    EXPECT_EQ(removed->seq, 2u);
    EXPECT_GE(removed->stored, k - 1);
    EXPECT_GE(removed->announced, k - 1);
    for (std::size_t via = 0; via < mesh_size; ++via) {
        EXPECT_EQ(ids(via, "ops"), std::vector<std::string>{"keep"}) << "via " << via;
    }
    // Responsible nodes hold the tombstone now, not the entry.
    std::size_t tombstones = 0;
    for (std::size_t i = 0; i < mesh_size; ++i) {
        auto held = sim_->store(i).get(content_key("ops", "drop"), sim_->clock().unix_seconds());
        for (const auto& r : *held) {
            auto e = entry_from_record(r);
            ASSERT_TRUE(e.has_value());
            EXPECT_TRUE(e->deleted);
            ++tombstones;
        }
    }
    EXPECT_GE(tombstones, k - 1);
    EXPECT_EQ(remove(a, "ops", "drop").error(), errc::not_found);  // deleted already
    // Publishing the id again supersedes the tombstone.
    EXPECT_EQ(must_publish(a, body("ops", "drop", "back")).entry.seq, 3u);
    EXPECT_EQ(ids(11, "ops").size(), 2u);
}

TEST_F(KnowledgeOnDht, AnIdInTwoDomainsNeedsTheDomainToBeRemoved) {
    must_publish(6, body("a", "same", "x"));
    must_publish(6, body("b", "same", "y"));
    EXPECT_EQ(remove(6, std::nullopt, "same").error(), errc::value_out_of_range);
    ASSERT_TRUE(remove(6, "b", "same").has_value());
    EXPECT_EQ(ids(12, "a"), std::vector<std::string>{"same"});
    EXPECT_TRUE(ids(12, "b").empty());
    EXPECT_TRUE(remove(6, std::nullopt, "same").has_value());  // only one left now
}

TEST_F(KnowledgeOnDht, EntriesExpire) {
    auto b = body("tmp", "short", "lives two minutes");
    b["ttl_seconds"] = 120;
    must_publish(1, b);
    must_publish(1, body("tmp", "long", "lives a month"));
    EXPECT_EQ(ids(8, "tmp").size(), 2u);
    sim_->run_for(4min);  // past the ttl, and past a prune on every node
    EXPECT_EQ(ids(8, "tmp"), std::vector<std::string>{"long"});
    std::size_t held = 0;
    for (std::size_t i = 0; i < mesh_size; ++i) {
        held += sim_->store(i)
                    .find({content_key("tmp", "short"), wire::RecordKind::knowledge,
                           peers_[1]->keys.public_key(), ""})
                    ->has_value();
    }
    EXPECT_EQ(held, 0u) << "pruned everywhere";
    EXPECT_EQ(remove(1, std::nullopt, "short").error(), errc::not_found);
}

TEST_F(KnowledgeOnDht, AuthorsSharingAnIdAreAllFoundPastTheFirstAnswer) {
    // Seven agents publish large entries under one (domain, id): one FIND_VALUE answer (192 KiB)
    // holds about five of them, so some authors' records are only on the holder's later pages.
    const std::string big(32 * 1024, 'x');
    for (std::size_t a = 1; a <= 7; ++a) {
        must_publish(a, body("crowd", "same-id", "by " + std::to_string(a), big));
    }
    std::set<std::string> authors;
    for (const auto& id : ids(20, "crowd")) EXPECT_EQ(id, "same-id");
    // A QUERY answer is cut at 192 KiB too: the page ends there with a cursor, the next goes on.
    Query q{"crowd", "", 0.0, 100, ""};
    std::size_t pages = 0;
    do {
        auto page = query(20, q);
        ASSERT_TRUE(page.has_value());
        for (const auto& f : page->entries) EXPECT_TRUE(authors.insert(f.entry.author).second);
        q.cursor = page->next_cursor;
        ++pages;
    } while (!q.cursor.empty() && pages < 10);
    EXPECT_EQ(authors.size(), 7u);
    EXPECT_EQ(pages, 2u);
}

TEST_F(KnowledgeOnDht, AnUnenrolledPublisherIsRefused) {
    auto r = publish(stranger, body("spam", "s1", "buy now"));
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error(), errc::unknown_agent);
    // Refused before anything was signed or sent: nothing is kept for republishing, no message
    // went out for it.
    EXPECT_FALSE(service(stranger).published().find("spam", "s1").has_value());
    EXPECT_EQ(remove(stranger, std::nullopt, "s1").error(), errc::not_found);
    EXPECT_TRUE(ids(3, "spam").empty());
}

TEST_F(KnowledgeOnDht, TheIndexOfOwnEntriesSurvivesARestart) {
    test::TempDir dir;
    const auto path = app::HomeLayout{dir.path()}.published_db();
    const std::size_t a = 5;
    {
        auto db = store::SqliteStore::open(path);
        ASSERT_TRUE(db.has_value());
        KnowledgeService before(sim_->node(a), peers_[a]->keys, sim_->clock(), mesh_.peer(a).state,
                                "op", **db);
        std::optional<result<PublishOutcome>> out;
        before.publish(draft(body("persist", "p1", "title")), [&](auto r) { out = std::move(r); });
        sim_->run_for(60s, [&] { return out.has_value(); });
        ASSERT_TRUE(out && out->has_value());
    }
    auto db = store::SqliteStore::open(path);
    ASSERT_TRUE(db.has_value());
    KnowledgeService after(sim_->node(a), peers_[a]->keys, sim_->clock(), mesh_.peer(a).state, "op",
                           **db);
    EXPECT_EQ(after.published().size(), 1u);
    EXPECT_EQ(after.resume_publishing(), 2u);
    std::optional<result<RemoveOutcome>> removed;
    after.remove(std::nullopt, "p1", [&](auto r) { removed = std::move(r); });
    sim_->run_for(60s, [&] { return removed.has_value(); });
    ASSERT_TRUE(removed && removed->has_value());
    EXPECT_EQ((*removed)->seq, 2u);
    EXPECT_TRUE(ids(14, "persist").empty());
}

TEST_F(KnowledgeOnDht, AnAuthorThatLostItsPublishedIndexUpdatesAndDeletesFromTheMesh) {
    const std::size_t a = 6;
    must_publish(a, body("recovery", "r1", "first"));
    must_publish(a, body("recovery", "r1", "second"));  // seq 2 on the mesh
    // The node's knowledge/published.db is gone; its key is not.
    store::MemoryStore empty;
    KnowledgeService amnesiac(sim_->node(a), peers_[a]->keys, sim_->clock(), mesh_.peer(a).state,
                              peers_[a]->operator_id, empty);
    std::optional<result<PublishOutcome>> out;
    amnesiac.publish(draft(body("recovery", "r1", "third")), [&](auto r) { out = std::move(r); });
    sim_->run_for(120s, [&] { return out.has_value(); });
    ASSERT_TRUE(out.has_value());
    ASSERT_TRUE(out->has_value()) << out->error().message();
    EXPECT_EQ((*out)->entry.seq, 3u) << "read its seq from the mesh and went on from it";
    auto page = query(outsider(content_key("recovery", "r1")), {"recovery", "", 0.0, 10, ""});
    ASSERT_TRUE(page.has_value());
    ASSERT_EQ(page->entries.size(), 1u);
    EXPECT_EQ(page->entries[0].entry.title, "third");

    // Deleting needs the domain then (the id alone names nothing it remembers).
    store::MemoryStore empty_again;
    KnowledgeService again(sim_->node(a), peers_[a]->keys, sim_->clock(), mesh_.peer(a).state,
                           peers_[a]->operator_id, empty_again);
    std::optional<result<RemoveOutcome>> removed;
    again.remove(std::nullopt, "r1", [&](auto r) { removed = std::move(r); });
    sim_->run_for(60s, [&] { return removed.has_value(); });
    ASSERT_TRUE(removed.has_value());
    EXPECT_EQ(removed->error(), errc::not_found);
    removed.reset();
    again.remove("recovery", "r1", [&](auto r) { removed = std::move(r); });
    sim_->run_for(120s, [&] { return removed.has_value(); });
    ASSERT_TRUE(removed && removed->has_value());
    EXPECT_EQ((*removed)->seq, 4u);
    EXPECT_TRUE(ids(14, "recovery").empty());
    // Another author's key cannot do the same: the mesh holds nothing of it under that id.
    store::MemoryStore other_store;
    KnowledgeService other(sim_->node(7), peers_[7]->keys, sim_->clock(), mesh_.peer(7).state,
                           peers_[7]->operator_id, other_store);
    removed.reset();
    other.remove("recovery", "r1", [&](auto r) { removed = std::move(r); });
    sim_->run_for(120s, [&] { return removed.has_value(); });
    ASSERT_TRUE(removed.has_value());
    EXPECT_EQ(removed->error(), errc::not_found);
}

TEST_F(KnowledgeOnDht, PublishesBeyondTheInFlightCapAreToldToSlowDownAtOnce) {
    const std::size_t cap = ServiceOptions{}.max_publishes_in_flight;
    std::vector<std::optional<result<PublishOutcome>>> outs(cap + 1);
    for (std::size_t i = 0; i <= cap; ++i) {
        service(1).publish(draft(body("busy/domain", "p" + std::to_string(i), "t")),
                           [&outs, i](result<PublishOutcome> r) { outs[i] = std::move(r); });
    }
    ASSERT_TRUE(outs[cap].has_value()) << "refused before any network";
    ASSERT_FALSE(outs[cap]->has_value());
    EXPECT_EQ(outs[cap]->error(), errc::rate_limited);
    sim_->run_for(5min, [&] {
        return std::all_of(outs.begin(), outs.end(), [](const auto& o) { return o.has_value(); });
    });
    for (std::size_t i = 0; i < cap; ++i) {
        ASSERT_TRUE(outs[i].has_value()) << i;
        EXPECT_TRUE(outs[i]->has_value()) << i;
    }
    // Once they are done, there is room again.
    EXPECT_TRUE(publish(1, body("busy/domain", "again", "t")).has_value());
}

TEST_F(KnowledgeOnDht, ASelectiveQueryFindsItsMatchAmongHundredsInOneCallBestFirst) {
    for (int i = 0; i < 300; ++i) {
        must_publish(1 + static_cast<std::size_t>(i) % 5,
                     body("big", "n" + std::to_string(i), "note " + std::to_string(i),
                          "filler text number " + std::to_string(i)));
    }
    must_publish(3, body("big", "needle-body", "Other", "the zebra hides in the body"));
    must_publish(2, body("big", "needle-title", "Zebra crossing", "about roads"));
    const auto key = domain_index_key("big");
    const auto reader = outsider(key);
    auto& node = sim_->node(reader);
    // What the query costs: a storer lookup of the index key and one QUERY per holder asked.
    // Counted as the requests the reader sends (its answers to others' pings are not its cost).
    std::size_t requests = 0;
    sim_->set_tap([&](std::size_t from, const wire::Contact&, const dht::Message& m) {
        if (from == reader && !std::holds_alternative<wire::Pong>(m.payload) &&
            !std::holds_alternative<wire::Response>(m.payload)) {
            ++requests;
        }
    });
    auto before = requests;
    auto page = query(reader, {"big", "ZEBRA", 0.0, 10, ""});
    const auto sent = requests - before;
    before = requests;
    mesh_.wait<dht::LookupResult>([&](auto cb) {
        node.find_node(
            key, [cb](dht::LookupResult r) { cb(std::move(r)); }, true);
    });
    const auto lookup = requests - before;
    ASSERT_TRUE(page.has_value()) << page.error().message();
    ASSERT_EQ(page->entries.size(), 2u);
    EXPECT_EQ(page->entries[0].entry.id, "needle-title") << "a title word weighs more";
    EXPECT_EQ(page->entries[1].entry.id, "needle-body");
    EXPECT_GT(page->entries[0].score, page->entries[1].score);
    EXPECT_EQ(page->entries[1].entry.content, "the zebra hides in the body");
    EXPECT_EQ(page->next_cursor, "");
    EXPECT_FALSE(page->index_truncated);
    EXPECT_LE(sent, lookup + k / 2 + 1);
    // The holders are remembered for a while: the next query of the domain is one round.
    before = requests;
    ASSERT_TRUE(query(reader, {"big", "zebra", 0.0, 10, ""}).has_value());
    const auto again = requests - before;
    EXPECT_LE(again + 3, sent) << "no lookup (of at least 3 requests) this time";
    // A holder that died is noticed (its request times out: the answer comes from the others)
    // and the query after that looks the holders up again.
    std::vector<std::size_t> holders;
    for (std::size_t i = 0; i < mesh_size; ++i) {
        if (i != reader && !sim_->store(i).get(key, sim_->clock().unix_seconds())->empty()) {
            holders.push_back(i);
        }
    }
    std::sort(holders.begin(), holders.end(), [&](std::size_t a, std::size_t b) {
        return distance_less(key, sim_->node(a).id(), sim_->node(b).id());
    });
    sim_->kill(holders.front());
    auto survived = query(reader, {"big", "zebra", 0.0, 10, ""});
    ASSERT_TRUE(survived.has_value());
    EXPECT_EQ(survived->entries.size(), 2u);
    EXPECT_TRUE(survived->index_truncated) << "one holder did not answer";
    before = requests;
    auto relooked = query(reader, {"big", "zebra", 0.0, 10, ""});
    ASSERT_TRUE(relooked.has_value());
    EXPECT_EQ(relooked->entries.size(), 2u);
    EXPECT_GE(requests - before, again + 3) << "a lookup again";
    sim_->revive(holders.front());
    // Prefixes of words match; the middle of a word does not.
    auto prefix = query(reader, {"big", "zeb cross", 0.0, 10, ""});
    ASSERT_TRUE(prefix.has_value());
    ASSERT_EQ(prefix->entries.size(), 1u);
    EXPECT_EQ(prefix->entries[0].entry.id, "needle-title");
    EXPECT_TRUE(query(reader, {"big", "ebra", 0.0, 10, ""})->entries.empty());
    // Without words, every entry in pages, best (highest confidence) first.
    auto top = must_publish(4, body("big", "confident", "sure", "very", 0.99));
    auto first = query(reader, {"big", "", 0.0, 5, ""});
    ASSERT_TRUE(first.has_value());
    ASSERT_EQ(first->entries.size(), 5u);
    EXPECT_EQ(first->entries[0].entry.id, "confident");
    EXPECT_EQ(ids(reader, "big", 100).size(), 303u);
    sim_->set_tap({});
}

TEST_F(KnowledgeOnDht, AStaleOrWithholdingMinorityOfHoldersIsOutvoted) {
    const std::size_t author = 4;
    must_publish(author, body("ops/minority", "keep", "kept entry", "words"));
    must_publish(author, body("ops/minority", "drop", "dropped entry", "words"));
    const auto key = domain_index_key("ops/minority");
    const auto now = [&] { return sim_->clock().unix_seconds(); };
    // The holders closest to the key: the ones a reader asks first.
    std::vector<std::size_t> holders;
    for (std::size_t i = 0; i < mesh_size; ++i) {
        if (!sim_->store(i).get(key, now())->empty()) holders.push_back(i);
    }
    ASSERT_GE(holders.size(), k - 1);
    std::sort(holders.begin(), holders.end(), [&](std::size_t a, std::size_t b) {
        return distance_less(key, sim_->node(a).id(), sim_->node(b).id());
    });
    const auto stale = holders[0];
    const auto withholding = holders[1];
    wire::Record old_drop;
    for (const auto& r : *sim_->store(stale).get(key, now())) {
        if (r.slot == "drop") old_drop = r;
    }
    ASSERT_EQ(old_drop.slot, "drop");
    ASSERT_TRUE(remove(author, std::nullopt, "drop").has_value());
    // One holder missed the deletion (it has the old announcement back), another answers with
    // nothing at all.
    ASSERT_TRUE(sim_->store(stale).erase(store::RecordIdentity::of(old_drop)).value());
    ASSERT_TRUE(sim_->store(stale).put(old_drop).has_value());
    ASSERT_TRUE(sim_->store(withholding).erase(key).has_value());
    for (std::size_t via = 0; via < mesh_size; ++via) {
        if (via == stale || via == withholding || via == stranger) continue;
        EXPECT_EQ(ids(via, "ops/minority"), std::vector<std::string>{"keep"}) << "via " << via;
    }
    // A page that the stale holder alone would fill is not shown either.
    auto page = query(holders.back() == stale ? 0 : holders.back(),
                      {"ops/minority", "dropped", 0.0, 10, ""});
    ASSERT_TRUE(page.has_value());
    EXPECT_TRUE(page->entries.empty());
}

TEST_F(KnowledgeOnDht, APeerAskingTooManyQueriesIsToldToSlowDownNotServed) {
    must_publish(1, body("budget", "b1", "one"));
    QueryServer server(sim_->node(3));
    const auto peer = sim_->node(7).id();
    const wire::Query q{"budget", "one", 0.0, 10};
    std::uint32_t retry = 0;
    for (int i = 0; i < static_cast<int>(QueryServer::burst); ++i) {
        ASSERT_TRUE(server.serve(peer, q, retry).has_value()) << i;
    }
    auto refused = server.serve(peer, q, retry);
    ASSERT_FALSE(refused.has_value());
    EXPECT_EQ(refused.error(), errc::rate_limited);
    EXPECT_GE(retry, 1u);
    EXPECT_LE(retry, 1000u / static_cast<std::uint32_t>(QueryServer::rate) + 1);
    // Another peer has its own budget; this one's refills with time.
    EXPECT_TRUE(server.serve(sim_->node(8).id(), q, retry).has_value());
    sim_->run_for(std::chrono::milliseconds(retry));
    EXPECT_TRUE(server.serve(peer, q, retry).has_value());
}

}  // namespace
}  // namespace nocturne::knowledge
