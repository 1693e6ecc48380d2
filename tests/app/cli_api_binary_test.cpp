// peers, publish, query, delete, vote on the command line, against a real daemon.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <memory>
#include <vector>

#include "support/agent_cli.hpp"
#include "support/daemon.hpp"
#include "support/temp_dir.hpp"

namespace nocturne::test {
namespace {

TEST(CliApi, PublishQueryDeleteAndPeersTalkToTheHomesRunningNode) {
    TempDir home, files;
    const auto genesis = enroll_single_operator(home.path(), files.path(), "cli-net");
    const auto h = home.path().string();
    // No node yet: exit 3 and what to do.
    auto none = run_agent({"peers", "--home", h});
    EXPECT_EQ(none.code, 3);
    EXPECT_NE(none.err.find("nocturne-agent start"), std::string::npos) << none.err;

    Daemon node(home.path(), genesis);
    ASSERT_TRUE(node.started());
    std::ofstream(files / "text.md") << "Use select with a default case.";
    auto pub =
        run_agent({"publish", "--home", h, "--domain", "go/concurrency", "--id", "sel", "--title",
                   "Non-blocking send", "--content-file", (files / "text.md").string(), "--tags",
                   "go,channels", "--confidence", "0.8"});
    ASSERT_EQ(pub.code, 0) << pub.err;
    EXPECT_EQ(pub.values["id"], "sel");
    EXPECT_EQ(pub.values["seq"], "1");
    EXPECT_TRUE(pub.err.empty()) << "no log lines in command output: " << pub.err;

    auto found = run_agent({"query", "--home", h, "--domain", "go/concurrency", "--q", "select"});
    ASSERT_EQ(found.code, 0) << found.err;
    EXPECT_EQ(found.values["count"], "1");
    EXPECT_NE(found.out.find("entry=go/concurrency sel confidence=0.8 trust=trusted "
                             "title=Non-blocking send"),
              std::string::npos)
        << found.out;
    auto as_json = run_agent({"query", "--home", h, "--domain", "go/concurrency", "--json"});
    ASSERT_EQ(as_json.code, 0);
    const auto parsed = nlohmann::json::parse(as_json.out, nullptr, false);
    ASSERT_TRUE(parsed.is_object()) << as_json.out;
    EXPECT_EQ(parsed["entries"].size(), 1u);

    auto peers = run_agent({"peers", "--home", h, "--json"});
    ASSERT_EQ(peers.code, 0) << peers.err;
    EXPECT_TRUE(nlohmann::json::parse(peers.out, nullptr, false).contains("peers")) << peers.out;

    // The node's refusals: its message and code, exit 1.
    auto bad =
        run_agent({"publish", "--home", h, "--domain", "go:bad", "--title", "t", "--content", "c"});
    EXPECT_EQ(bad.code, 1);
    EXPECT_NE(bad.err.find("(value_out_of_range)"), std::string::npos) << bad.err;

    auto vote = run_agent({"vote", "--home", h, "--id", "sel", "--domain", "go/concurrency", "--up",
                           "--reason", "tried it"});
    ASSERT_EQ(vote.code, 0) << vote.err;
    EXPECT_EQ(vote.values["stored"], "1");
    EXPECT_EQ(run_agent({"vote", "--home", h, "--id", "sel", "--domain", "go/concurrency"}).code,
              2);

    auto gone = run_agent({"delete", "--home", h, "--id", "sel"});
    ASSERT_EQ(gone.code, 0) << gone.err;
    EXPECT_EQ(gone.values["deleted"], "yes");
    EXPECT_EQ(run_agent({"query", "--home", h, "--domain", "go/concurrency"}).values["count"], "0");
    node.stop();
}

TEST(CliApi, ADevMeshIsThreeEnrolledHomesThatPublishAndQueryEachOther) {
    TempDir dir;
    const auto made = run_agent({"dev-mesh", "3", "--dir", (dir / "mesh").string(), "--json"});
    ASSERT_EQ(made.code, 0) << made.err;
    const auto out = nlohmann::json::parse(made.out, nullptr, false);
    ASSERT_TRUE(out.is_object()) << made.out;
    ASSERT_EQ(out["start"].size(), 3u) << made.out;
    const std::filesystem::path genesis = out.value("genesis", "");
    // Its homes, started as the printed commands say (ports 0 here: tests run side by side).
    std::vector<std::unique_ptr<Daemon>> nodes;
    for (int i = 0; i < 3; ++i) {
        nodes.push_back(std::make_unique<Daemon>(dir / "mesh" / ("node-" + std::to_string(i)),
                                                 genesis, i == 0 ? "" : nodes[0]->address()));
        ASSERT_TRUE(nodes.back()->started());
    }
    for (auto& n : nodes) ASSERT_TRUE(n->await_peers(2));
    const auto home = [&](int i) {
        return (dir / "mesh" / ("node-" + std::to_string(i))).string();
    };
    auto pub = run_agent({"publish", "--home", home(0), "--domain", "dev", "--id", "hello",
                          "--title", "Hello", "--content", "from node 0"});
    ASSERT_EQ(pub.code, 0) << pub.err;
    EXPECT_GE(std::stoi(pub.values["stored_on"]), 2);
    auto found = run_agent({"query", "--home", home(2), "--domain", "dev"});
    ASSERT_EQ(found.code, 0) << found.err;
    EXPECT_NE(found.out.find("entry=dev hello"), std::string::npos) << found.out;
    // A second dev-mesh into the same directory is refused.
    auto again = run_agent({"dev-mesh", "2", "--dir", (dir / "mesh").string()});
    EXPECT_EQ(again.code, 1);
    EXPECT_NE(again.err.find("not empty"), std::string::npos) << again.err;
    for (auto& n : nodes) n->stop();
}

}  // namespace
}  // namespace nocturne::test
