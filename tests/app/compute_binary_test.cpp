// Compute tasks as users meet them, on three real daemons on loopback (one operator each): a
// contested entry gets a verify task nobody created, two agents race for it and one wins, a
// released claim moves the task to the next epoch and fences the old one's result, and the
// winner's result takes the task out of every node's offer.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <future>
#include <memory>
#include <thread>

#include "support/agent_cli.hpp"
#include "support/daemon.hpp"
#include "support/temp_dir.hpp"

namespace nocturne::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr int commit_seconds = 6;
constexpr int reveal_seconds = 6;

json call(const Daemon& d, const std::string& method, const std::string& target, int status,
          const json& body = nullptr) {
    const auto r = d.call(method, target, body.is_null() ? "" : body.dump());
    EXPECT_TRUE(r.has_value());
    if (!r) return json();
    EXPECT_EQ(r->status, status) << method << " " << target << ": " << r->body;
    return r->body.empty() ? json() : json::parse(r->body, nullptr, false);
}

// The domain's open or claimed tasks as node d lists them.
json tasks(const Daemon& d) {
    return call(d, "GET", "/local/compute/tasks?domain=go", 200)["tasks"];
}

TEST(ComputeDaemons, AContestedEntryGetsAVerifyTaskThatOneAgentWinsAndCompletes) {
    TempDir files;
    std::vector<TempDir> homes(3);
    std::vector<std::filesystem::path> paths;
    for (auto& h : homes) paths.push_back(h.path());
    const auto genesis = enroll_genesis_operators(
        paths, files.path(), "compute-net",
        {{"vote_commit_seconds", commit_seconds}, {"vote_reveal_seconds", reveal_seconds}});
    const std::vector<std::string> fast_scan = {"--task-scan-seconds", "1"};
    std::vector<std::unique_ptr<Daemon>> d;
    d.push_back(std::make_unique<Daemon>(paths[0], genesis, "", fast_scan));
    for (std::size_t i = 1; i < paths.size(); ++i) {
        d.push_back(std::make_unique<Daemon>(paths[i], genesis, d[0]->address(), fast_scan));
    }
    for (auto& n : d) ASSERT_TRUE(n->await_peers(2));
    d[0]->publish(entry("go", "chan-1", "Closing a nil channel panics", 0.6));

    // Two operators up, one down: contested once revealed.
    std::int64_t counted_by = 0;
    for (const auto& [via, choice] : {std::pair{0, 1}, {1, 1}, {2, -1}}) {
        const auto v =
            call(*d[static_cast<std::size_t>(via)], "POST", "/local/knowledge/chan-1/vote", 202,
                 {{"domain", "go"}, {"vote", choice}});
        counted_by = std::max(counted_by, v.value("counted_by", std::int64_t{0}));
    }
    std::this_thread::sleep_until(
        std::chrono::system_clock::time_point(std::chrono::seconds(counted_by + 1)));
    std::string id;
    for (int i = 0; i < 60 && id.empty(); ++i) {
        for (const auto& t : tasks(*d[1])) {
            if (t["kind"] == "verify" && t["entry_id"] == "chan-1") id = t["id"];
        }
        if (id.empty()) std::this_thread::sleep_for(500ms);
    }
    ASSERT_FALSE(id.empty()) << "no verify task appeared for the contested entry";

    // Two agents race for it: one wins, the other is told who holds it.
    const auto claim_target = "/local/compute?domain=go&id=" + id;
    auto race = [&](std::size_t i) { return d[i]->call("GET", claim_target); };
    auto a = std::async(std::launch::async, race, 1);
    auto b = std::async(std::launch::async, race, 2);
    const auto ra = a.get(), rb = b.get();
    ASSERT_TRUE(ra && rb);
    ASSERT_EQ((ra->status == 200) + (rb->status == 200), 1) << ra->body << " / " << rb->body;
    const auto& lost = ra->status == 200 ? *rb : *ra;
    EXPECT_EQ(lost.status, 409) << lost.body;
    EXPECT_EQ(json::parse(lost.body)["error"]["code"], "task_claimed");
    const std::size_t winner = ra->status == 200 ? 1 : 2, loser = 3 - winner;
    const auto held = json::parse(ra->status == 200 ? ra->body : rb->body);
    EXPECT_EQ(held["task"]["kind"], "verify");
    EXPECT_EQ(held["epoch"], 1);
    EXPECT_GE(held["granted"].get<int>(), held["quorum"].get<int>());

    // The winner gives it back; the loser takes epoch 2; epoch 1's result is fenced off.
    d[winner]->publish(entry("go", "chan-1-check", "Verified: closing a nil channel panics"));
    call(*d[winner], "POST", "/local/compute/" + id + "/release", 200, {{"epoch", 1}});
    const auto second = call(*d[loser], "GET", claim_target, 200);
    EXPECT_EQ(second["epoch"], 2);
    EXPECT_EQ(
        call(*d[winner], "POST", "/local/compute/" + id + "/result", 409,
             {{"result_id", "chan-1-check"}, {"epoch", 1}, {"domain", "go"}})["error"]["code"],
        "stale_epoch");
    EXPECT_EQ(
        call(*d[loser], "POST", "/local/compute/" + id + "/extend", 200, {{"epoch", 2}})["epoch"],
        2);
    const auto done = call(*d[loser], "POST", "/local/compute/" + id + "/result", 200,
                           {{"result_id", "chan-1-check"}, {"epoch", 2}, {"domain", "go"}});
    EXPECT_EQ(done["status"], "completed");

    // Gone from every node's offer.
    for (auto& n : d) {
        for (const auto& t : tasks(*n)) EXPECT_NE(t["id"], id) << t.dump();
        const auto offer = n->call("GET", "/local/compute?domain=go&kind=verify");
        ASSERT_TRUE(offer.has_value());
        EXPECT_EQ(offer->status, 204) << offer->body;
    }
    // A reflection, and what a newcomer learns from any node: domains, operators, votes,
    // reflections (summaries inside the untrusted envelope).
    const auto reflected = call(*d[loser], "POST", "/local/reflect", 201,
                                {{"summary", "Checked chan-1: it holds."}, {"domains", {"go"}}});
    EXPECT_GE(reflected["stored"].get<int>(), 1);
    const auto aware = call(*d[0], "GET", "/local/awareness", 200);
    EXPECT_EQ(aware["operator_count"], 3) << aware.dump();
    bool go = false;
    for (const auto& dom : aware["domains"]) go |= dom["domain"] == "go";
    EXPECT_TRUE(go) << aware.dump();
    bool voted = false;
    for (const auto& v : aware["votes"]) {
        voted |= v["id"] == "chan-1" && v["up"] == 2 && v["down"] == 1;
    }
    EXPECT_TRUE(voted) << aware.dump();
    ASSERT_EQ(aware["reflections"].size(), 1u) << aware.dump();
    const auto& r = aware["reflections"][0];
    EXPECT_EQ(r["trusted"], true);
    const auto marker = aware["marker"].get<std::string>();
    EXPECT_EQ(r["untrusted"], "<<<UNTRUSTED-CONTENT " + marker +
                                  ">>>\n{\"summary\":\"Checked chan-1: it holds.\"}\n"
                                  "<<<END-UNTRUSTED-CONTENT " +
                                  marker + ">>>");
    EXPECT_EQ(call(*d[0], "POST", "/local/reflect", 400, {{"summary", ""}})["error"]["code"],
              "value_out_of_range");

    // Bad input gets a clear error.
    EXPECT_EQ(call(*d[0], "GET", "/local/compute?color=red", 400)["error"]["code"],
              "value_out_of_range");
    EXPECT_EQ(call(*d[0], "POST", "/local/compute/" + id + "/result", 400,
                   {{"epoch", 1}})["error"]["code"],
              "missing_field");
    for (auto& n : d) n->stop();
}

TEST(ComputeDaemons, AnOperatorPublishesATaskAndAnotherNodeClaimsAndCompletesIt) {
    TempDir files;
    std::vector<TempDir> homes(3);
    std::vector<std::filesystem::path> paths;
    for (auto& h : homes) paths.push_back(h.path());
    const auto genesis = enroll_genesis_operators(paths, files.path(), "compute-net-2");
    std::vector<std::unique_ptr<Daemon>> d;
    d.push_back(std::make_unique<Daemon>(paths[0], genesis));
    for (std::size_t i = 1; i < paths.size(); ++i) {
        d.push_back(std::make_unique<Daemon>(paths[i], genesis, d[0]->address()));
    }
    for (auto& n : d) ASSERT_TRUE(n->await_peers(2));
    const auto task = call(*d[0], "POST", "/local/compute", 201,
                           {{"domain", "rust"}, {"title", "Compare async runtimes"}});
    EXPECT_EQ(task["kind"], "custom");
    const auto held = call(*d[1], "GET", "/local/compute?domain=rust", 200);
    EXPECT_EQ(held["task"]["id"], task["id"]);
    EXPECT_EQ(call(*d[2], "GET", "/local/compute?domain=rust", 204), json());
    d[1]->publish(entry("rust", "runtimes", "tokio vs async-std"));
    const auto id = task["id"].get<std::string>();
    call(*d[1], "POST", "/local/compute/" + id + "/result", 200,
         {{"result_id", "runtimes"}, {"epoch", held["epoch"]}});
    EXPECT_TRUE(call(*d[2], "GET", "/local/compute/tasks?domain=rust", 200)["tasks"].empty());
    for (auto& n : d) n->stop();
}

}  // namespace
}  // namespace nocturne::test
