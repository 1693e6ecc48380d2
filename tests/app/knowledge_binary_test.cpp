// Knowledge over the DHT through the real binary: three daemons on loopback with temp homes, the
// local API as a client uses it, and a kill -9 in the middle of publishing.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <csignal>
#include <memory>
#include <set>
#include <thread>

#include "support/agent_cli.hpp"
#include "support/daemon.hpp"
#include "support/temp_dir.hpp"

namespace nocturne::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

class KnowledgeMesh : public ::testing::Test {
protected:
    void SetUp() override {
        genesis_ = enroll_genesis_operators({a_.path(), b_.path(), c_.path()}, files_.path(),
                                            "knowledge-net");
        na_ = std::make_unique<Daemon>(a_.path(), genesis_);
        nb_ = std::make_unique<Daemon>(b_.path(), genesis_, na_->address());
        nc_ = std::make_unique<Daemon>(c_.path(), genesis_, na_->address());
        for (auto* d : {na_.get(), nb_.get(), nc_.get()}) ASSERT_TRUE(d->await_peers(2));
    }
    void TearDown() override {
        for (auto* d : {na_.get(), nb_.get(), nc_.get()}) d->stop();
    }

    TempDir a_, b_, c_, files_;
    std::filesystem::path genesis_;
    std::unique_ptr<Daemon> na_, nb_, nc_;
};

TEST_F(KnowledgeMesh, PublishOnAQueryOnCDomainIndexDeleteEverywhere) {
    const auto published = na_->publish(entry("go/concurrency", "chan-1", "Channels close once"));
    EXPECT_EQ(published["stored_on"], 3);  // all three nodes are among the k = 20 closest
    EXPECT_EQ(published["announced_on"], 3);
    nb_->publish(entry("go/concurrency", "chan-2", "Select with default", 0.4));
    na_->publish(entry("rust/ownership", "own-1", "Borrowing rules"));

    // C holds everything as a responsible node, but finds it through the domain index.
    auto [go_ids, go_page] = nc_->query("domain=go/concurrency");
    EXPECT_EQ(go_ids, (std::set<std::string>{"chan-1", "chan-2"}));
    EXPECT_EQ(go_page["announcements"], 2);
    EXPECT_EQ(nc_->query("domain=rust/ownership").first, (std::set<std::string>{"own-1"}));
    EXPECT_TRUE(nc_->query("domain=python/asyncio").first.empty());

    // Provenance outside the envelope; the content inside it, between two marker lines.
    const auto& first = go_page["entries"][0];
    EXPECT_EQ(first["provenance"]["trust"], "trusted");
    EXPECT_EQ(first["provenance"]["signature_verified"], true);
    const std::string marker = go_page["marker"];
    const std::string untrusted = first["untrusted"];
    EXPECT_EQ(untrusted.rfind("<<<UNTRUSTED-CONTENT " + marker + ">>>", 0), 0u) << untrusted;
    EXPECT_NE(untrusted.find("<<<END-UNTRUSTED-CONTENT " + marker + ">>>"), std::string::npos);

    // Filters: text terms (all of them, any case) and confidence.
    EXPECT_EQ(nb_->query("domain=go/concurrency&q=SELECT%20default").first,
              (std::set<std::string>{"chan-2"}));
    EXPECT_EQ(nb_->query("domain=go/concurrency&min_confidence=0.5").first,
              (std::set<std::string>{"chan-1"}));
    // Pages: one entry per page, the cursor leads to the other.
    auto [page1, body1] = nb_->query("domain=go/concurrency&limit=1");
    ASSERT_EQ(page1.size(), 1u);
    const std::string cursor = body1["next_cursor"];
    ASSERT_FALSE(cursor.empty());
    auto [page2, body2] = nb_->query("domain=go/concurrency&limit=1&cursor=" + cursor);
    ASSERT_EQ(page2.size(), 1u);
    EXPECT_NE(*page1.begin(), *page2.begin());
    EXPECT_EQ(body2["next_cursor"], "");

    // Only the author's node deletes; then nobody finds it.
    const auto not_mine = nc_->call("DELETE", "/local/knowledge/chan-1");
    ASSERT_TRUE(not_mine);
    EXPECT_EQ(not_mine->status, 404);
    const auto deleted = na_->call("DELETE", "/local/knowledge/chan-1");
    ASSERT_TRUE(deleted);
    EXPECT_EQ(deleted->status, 200) << deleted->body;
    for (const auto* d : {na_.get(), nb_.get(), nc_.get()}) {
        EXPECT_EQ(d->query("domain=go/concurrency").first, (std::set<std::string>{"chan-2"}));
    }
}

TEST_F(KnowledgeMesh, EntriesExpire) {
    auto short_lived = entry("tmp/notes", "brief", "Gone soon");
    short_lived["ttl_seconds"] = 2;
    na_->publish(short_lived);
    EXPECT_EQ(nc_->query("domain=tmp/notes").first, (std::set<std::string>{"brief"}));
    const auto deadline = std::chrono::steady_clock::now() + 15s;
    bool gone = false;
    while (!gone && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(250ms);
        gone = nc_->query("domain=tmp/notes").first.empty();
    }
    EXPECT_TRUE(gone) << "an entry past its ttl is still returned";
}

TEST_F(KnowledgeMesh, BadRequestsGetTheRightStatusAndCode) {
    auto code_of = [](const std::optional<HttpResponse>& r) {
        if (!r) return std::string("(no response)");
        auto body = json::parse(r->body, nullptr, false);
        return body.is_object() && body.contains("error") ? body["error"]["code"].get<std::string>()
                                                          : "(no error body: " + r->body + ")";
    };
    struct Case {
        std::string method, target, body;
        int status;
        std::string code;
    };
    const std::string huge =
        json{{"domain", "d"}, {"title", "t"}, {"content", std::string(2 * 1024 * 1024, 'x')}}
            .dump();
    const std::vector<Case> cases = {
        {"POST", "/local/knowledge", "{not json", 400, "malformed_json"},
        {"POST", "/local/knowledge", "[1,2]", 400, "wrong_type"},
        {"POST", "/local/knowledge", R"({"domain":"d","title":"t","content":"c","x":1})", 400,
         "unknown_field"},
        {"POST", "/local/knowledge",
         json{{"domain", "d"}, {"title", "t"}, {"content", std::string(40 * 1024, 'x')}}.dump(),
         400, "value_out_of_range"},
        {"POST", "/local/knowledge", huge, 413, "body_too_large"},
        // A lone surrogate is not text: the JSON parser refuses it.
        {"POST", "/local/knowledge", R"({"domain":"d","title":"t","content":"\ud800"})", 400,
         "malformed_json"},
        {"GET", "/local/knowledge?domain=d&limit=0", "", 400, "value_out_of_range"},
        {"GET", "/local/knowledge?domain=d&limit=ten", "", 400, "wrong_type"},
        {"GET", "/local/knowledge?domain=d&cursor=garbage", "", 400, "value_out_of_range"},
        {"GET", "/local/knowledge?domain=d&color=blue", "", 400, "unknown_field"},
        {"DELETE", "/local/knowledge/bad%20id", "", 400, "value_out_of_range"},
        {"DELETE", "/local/knowledge/never-published", "", 404, "not_found"},
        {"PUT", "/local/knowledge", "{}", 405, "method_not_allowed"},
        {"GET", "/local/knowledge/extra/segments", "", 404, "not_found"},
    };
    for (const auto& c : cases) {
        const auto r = na_->call(c.method, c.target, c.body);
        ASSERT_TRUE(r.has_value()) << c.method << " " << c.target;
        EXPECT_EQ(r->status, c.status) << c.method << " " << c.target << ": " << r->body;
        EXPECT_EQ(code_of(r), c.code) << c.method << " " << c.target;
    }
}

TEST(KnowledgeDurability, KillNineMidPublishLosesNoAcknowledgedEntry) {
    TempDir home, files;
    const auto genesis = enroll_single_operator(home.path(), files.path(), "durable-net");
    std::set<std::string> acknowledged;
    {
        Daemon node(home.path(), genesis);
        std::atomic<int> acks{0};
        std::atomic<bool> stop{false};
        std::mutex m;
        // A client publishing as fast as it can; the daemon dies under it.
        std::thread writer([&] {
            for (int i = 0; !stop; ++i) {
                const auto id = "e" + std::to_string(i);
                const auto r = node.call("POST", "/local/knowledge",
                                         entry("durable/test", id, "Entry " + id).dump());
                if (!r) break;  // the daemon is gone
                if (r->status == 201) {
                    std::lock_guard lock(m);
                    acknowledged.insert(id);
                    ++acks;
                }
            }
        });
        const auto deadline = std::chrono::steady_clock::now() + 30s;
        while (acks < 25 && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(1ms);
        }
        node.kill9();
        stop = true;
        writer.join();
    }
    ASSERT_GE(acknowledged.size(), 25u);
    Daemon again(home.path(), genesis);
    auto [ids, body] = again.query("domain=durable/test&limit=100");
    for (const auto& id : acknowledged) EXPECT_TRUE(ids.count(id)) << id << " was lost";
    again.stop();
}

}  // namespace
}  // namespace nocturne::test
