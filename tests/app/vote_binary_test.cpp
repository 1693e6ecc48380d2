// Voting as users do it, on five real daemons on loopback (one operator each): a vote is cast
// with one call on one node and counted on another after the windows, also when the voter's
// daemon restarts between its commitment and its reveal.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <memory>
#include <thread>

#include "support/agent_cli.hpp"
#include "support/daemon.hpp"
#include "support/temp_dir.hpp"

namespace nocturne::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr int commit_seconds = 8;
constexpr int reveal_seconds = 6;

json vote(const Daemon& d, const std::string& id, int choice, int expected_status,
          const std::string& domain = "go") {
    const auto r = d.call("POST", "/local/knowledge/" + id + "/vote",
                          json{{"domain", domain}, {"vote", choice}, {"reason", "checked"}}.dump());
    EXPECT_TRUE(r.has_value());
    if (!r) return json();
    EXPECT_EQ(r->status, expected_status) << r->body;
    return json::parse(r->body, nullptr, false);
}

json votes(const Daemon& d, const std::string& id) {
    const auto r = d.call("GET", "/local/knowledge/" + id + "/votes?domain=go");
    EXPECT_TRUE(r.has_value());
    if (!r) return json();
    EXPECT_EQ(r->status, 200) << r->body;
    return json::parse(r->body, nullptr, false);
}

void sleep_until_unix(std::int64_t t) {
    std::this_thread::sleep_until(std::chrono::system_clock::time_point(std::chrono::seconds(t)));
}

TEST(VotingDaemons, AVoteCastOnOneNodeIsCountedOnAnotherAfterTheWindowsAlsoAcrossARestart) {
    TempDir files;
    std::vector<TempDir> homes(5);
    std::vector<std::filesystem::path> paths;
    for (auto& h : homes) paths.push_back(h.path());
    const auto genesis = enroll_genesis_operators(
        paths, files.path(), "vote-net",
        {{"vote_commit_seconds", commit_seconds}, {"vote_reveal_seconds", reveal_seconds}});
    std::vector<std::unique_ptr<Daemon>> d;
    d.push_back(std::make_unique<Daemon>(paths[0], genesis));
    for (std::size_t i = 1; i < paths.size(); ++i) {
        d.push_back(std::make_unique<Daemon>(paths[i], genesis, d[0]->address()));
    }
    for (auto& n : d) ASSERT_TRUE(n->await_peers(4));
    d[0]->publish(entry("go", "chan-1", "Channels close once", 0.5));

    // Three operators vote through their own nodes, one call each, early in one commit window
    // (so that the duplicate below falls in the same round).
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    if (now % commit_seconds > commit_seconds - 4) {
        sleep_until_unix((now / commit_seconds + 1) * commit_seconds);
    }
    const auto b = vote(*d[1], "chan-1", 1, 202);
    vote(*d[2], "chan-1", 1, 202);
    const auto down = vote(*d[3], "chan-1", -1, 202);
    EXPECT_EQ(b["state"], "committed");
    EXPECT_GT(b["stored"].get<int>(), 0);
    // Refused with their codes: a second vote in the round, a missing entry, a bad body.
    EXPECT_EQ(vote(*d[1], "chan-1", -1, 409)["error"]["code"], "duplicate_vote");
    EXPECT_EQ(vote(*d[1], "nothing", 1, 404)["error"]["code"], "not_found");
    EXPECT_EQ(vote(*d[1], "chan-1", 0, 400)["error"]["code"], "value_out_of_range");
    const auto sealed = votes(*d[4], "chan-1");
    EXPECT_EQ(sealed["up"].get<int>() + sealed["down"].get<int>(), 0) << sealed.dump();

    // The down-voter's daemon restarts before it would reveal; it still reveals.
    d[3]->stop();
    d[3] = std::make_unique<Daemon>(paths[3], genesis, d[0]->address());
    ASSERT_TRUE(d[3]->await_peers(4));

    sleep_until_unix(down["counted_by"].get<std::int64_t>() + 1);
    for (const std::size_t via : {0u, 4u}) {
        const auto t = votes(*d[via], "chan-1");
        EXPECT_EQ(t["up"], 2) << t.dump();
        EXPECT_EQ(t["down"], 1) << t.dump();
        EXPECT_EQ(t["pending"], 0) << t.dump();
        EXPECT_EQ(t["abstain"], 0) << t.dump();
        EXPECT_EQ(t["complete"], true) << t.dump();
        EXPECT_DOUBLE_EQ(t["voted_confidence"].get<double>(), (2 * 0.5 + 2) / 5.0);
    }
    // ... and in a query's results, where min_confidence filters on the voted confidence
    // (0.6 now; the author stated 0.5).
    const auto [ids, page] = d[2]->query("domain=go&min_confidence=0.55");
    EXPECT_EQ(ids, std::set<std::string>{"chan-1"}) << page.dump();
    if (!page["entries"].empty()) {
        EXPECT_EQ(page["entries"][0]["votes"]["up"], 2);
        EXPECT_EQ(page["entries"][0]["votes"]["down"], 1);
    }
    EXPECT_TRUE(d[2]->query("domain=go&min_confidence=0.65").first.empty());
    EXPECT_TRUE(d[2]->query("domain=go&min_confidence=0.55&votes=false").first.empty())
        << "without votes, the stated confidence";
    for (auto& n : d) n->stop();
}

}  // namespace
}  // namespace nocturne::test
