// The plan's integration step 10 through the real nocturne-agent binary: four daemons on
// loopback, each one of the responsible nodes of every key. One operator votes in a burst; its
// 21st vote within a minute is refused everywhere, every daemon holds a verified report of it,
// three operators quarantine it with `quarantine sign|publish`, and then its writes are refused
// by every daemon until the quarantine is lifted with `quarantine lift|publish`.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <memory>
#include <thread>

#include "support/agent_cli.hpp"
#include "support/daemon.hpp"
#include "support/mesh_steps.hpp"
#include "support/temp_dir.hpp"

namespace nocturne::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

TEST(AnomalyDaemons, AVoteBurstIsRefusedReportedEverywhereAndTheQuarantineHoldsUntilLifted) {
    TempDir homes[4], files;
    std::vector<std::filesystem::path> paths;
    for (auto& h : homes) paths.push_back(h.path());
    const auto genesis = enroll_genesis_operators(paths, files.path(), "anomaly-net");
    std::vector<std::unique_ptr<Daemon>> nodes;
    for (std::size_t i = 0; i < 4; ++i) {
        nodes.push_back(
            std::make_unique<Daemon>(paths[i], genesis, i == 0 ? "" : nodes[0]->address()));
        ASSERT_TRUE(nodes.back()->started());
    }
    for (auto& n : nodes) ASSERT_TRUE(n->await_peers(3)) << n->peers().dump();
    const auto& voter = *nodes[3];
    const auto voter_operator = get(voter, "/local/health").value("operator_id", "");

    // Node 0 publishes 21 entries (under the 50 an hour into one domain: nothing to report).
    for (int i = 0; i < 21; ++i) {
        nodes[0]->publish({{"domain", "burst"},
                           {"id", "e" + std::to_string(i)},
                           {"title", "entry " + std::to_string(i)},
                           {"content", "text"},
                           {"confidence", 0.5}});
    }
    // The voter votes on all 21 within a minute: 20 are stored, the 21st is over the rate.
    const auto started = std::chrono::steady_clock::now();
    for (int i = 0; i < 21; ++i) {
        const auto r = voter.call("POST", "/local/knowledge/e" + std::to_string(i) + "/vote",
                                  json{{"domain", "burst"}, {"vote", 1}}.dump());
        ASSERT_TRUE(r.has_value());
        if (i < 20) {
            ASSERT_EQ(r->status, 202) << i << " " << r->body;
        } else {
            EXPECT_EQ(r->status, 429) << r->body;
            EXPECT_NE(r->body.find("over_operator_rate"), std::string::npos) << r->body;
        }
    }
    ASSERT_LT(std::chrono::steady_clock::now() - started, 50s) << "the burst took too long";

    // Every daemon holds a verified report against the voter's operator.
    std::string report_id;
    for (auto& n : nodes) {
        ASSERT_TRUE(eventually([&] {
            const auto a = get(*n, "/local/anomalies");
            for (const auto& r : a.value("reports", json::array())) {
                if (r.value("operator_id", "") == voter_operator &&
                    r.value("type", "") == "vote_burst") {
                    report_id = r.value("id", "");
                    return r.value("evidence_records", 0) == 21;
                }
            }
            return false;
        })) << get(*n, "/local/anomalies").dump();
    }
    EXPECT_GE(get(*nodes[1], "/local/anomalies")["monitors"].value("refused", 0), 1);
    auto status = run_agent({"status", "--home", paths[1].string()});
    EXPECT_NE(status.values["anomaly_reports"], "0") << status.out;

    // Three operators quarantine it for an hour, citing the report.
    const std::vector<std::filesystem::path> signers{paths[0], paths[1], paths[2]};
    auto held = quarantine_order(signers, "sign",
                                 {"--operator-id", voter_operator, "--reason",
                                  "21 votes in a minute", "--report", report_id, "--days", "0.05"},
                                 genesis, files.path(), nodes[0]->address());
    ASSERT_EQ(held.code, 0) << held.err;
    EXPECT_EQ(held.values["quarantined_operator_id"], voter_operator);
    for (auto& n : nodes) {
        ASSERT_TRUE(eventually([&] {
            const auto a = get(*n, "/local/anomalies");
            for (const auto& q : a.value("quarantines", json::array())) {
                if (q.value("operator_id", "") == voter_operator && q.value("active", false)) {
                    return true;
                }
            }
            return false;
        }));
    }
    // Its writes are refused by every storer, its own node first.
    const auto refused = voter.call(
        "POST", "/local/knowledge",
        json{
            {"domain", "held"}, {"id", "x1"}, {"title", "t"}, {"content", "c"}, {"confidence", 0.5}}
            .dump());
    ASSERT_TRUE(refused.has_value());
    EXPECT_EQ(refused->status, 403) << refused->body;
    EXPECT_NE(refused->body.find("operator_quarantined"), std::string::npos) << refused->body;
    EXPECT_EQ(get(*nodes[2], "/local/health").value("quarantined_operators", 0), 1);

    // Lifted early by the same threshold: its writes are taken again.
    auto lifted = quarantine_order(
        signers, "lift", {"--operator-id", voter_operator, "--reason", "operator fixed its agent"},
        genesis, files.path(), nodes[0]->address());
    ASSERT_EQ(lifted.code, 0) << lifted.err;
    EXPECT_EQ(lifted.values["lifted_operator_id"], voter_operator);
    for (auto& n : nodes) {
        ASSERT_TRUE(eventually(
            [&] { return get(*n, "/local/health").value("quarantined_operators", 1) == 0; }));
    }
    voter.publish(
        {{"domain", "held"}, {"id", "x2"}, {"title", "t"}, {"content", "c"}, {"confidence", 0.5}});
    for (auto& n : nodes) n->stop();
}

}  // namespace
}  // namespace nocturne::test
