// Gossip through the real nocturne-agent binary: five daemons on loopback in a private mesh whose
// genesis sets replication 2, so that a revocation's STORE reaches two of them and only gossip
// can tell the other three. Before gossip they learned it by looking its key up every 10 minutes.

#include <nocturne/app/trust_files.hpp>
#include <nocturne/core/clock.hpp>
#include <nocturne/crypto/key_file.hpp>
#include <nocturne/daemon/mesh_client.hpp>
#include <nocturne/store/memory_store.hpp>
#include <nocturne/trust/trust_state.hpp>
#include <nocturne/wire/record.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <iostream>
#include <memory>
#include <thread>

#include "support/agent_cli.hpp"
#include "support/daemon.hpp"
#include "support/temp_dir.hpp"

namespace nocturne::test {
namespace {

using namespace std::chrono_literals;

nlohmann::json health(const Daemon& d) {
    const auto res = d.call("GET", "/local/health");
    if (!res || res->status != 200) return nlohmann::json::object();
    return nlohmann::json::parse(res->body, nullptr, false);
}

TEST(GossipDaemons, ARevocationPublishedOnOneNodeIsRefusedByAllFiveWithinTwoSeconds) {
    TempDir homes[5], newcomer, files;
    std::vector<std::filesystem::path> paths;
    for (auto& h : homes) paths.push_back(h.path());
    const auto genesis = enroll_genesis_operators(
        paths, files.path(), "gossip-net", {{"replication", 2}, {"revocation_threshold", 3}});
    std::vector<std::unique_ptr<Daemon>> nodes;
    for (std::size_t i = 0; i < 5; ++i) {
        nodes.push_back(
            std::make_unique<Daemon>(paths[i], genesis, i == 0 ? "" : nodes[0]->address()));
        ASSERT_TRUE(nodes.back()->started());
    }
    // With k = 2 a bucket holds two peers: a table may not hold all four others.
    for (auto& n : nodes) ASSERT_TRUE(n->await_peers(2)) << n->peers().dump();
    const auto seed = nodes[0]->address();

    // A sixth operator, endorsed by the first (min_endorsements 1), enrolls its own node.
    auto setup = run_agent({"setup", "--home", newcomer.path().string(), "--label", "newcomer"});
    ASSERT_EQ(setup.code, 0) << setup.err;
    const auto newcomer_key = setup.values["operator_public_key"];
    const auto newcomer_id = setup.values["operator_id"];
    const auto endorsement = (files / "e.sig").string();
    ASSERT_EQ(run_agent({"endorse", "--operator", newcomer_key, "--key",
                         (paths[0] / "keys" / "operator.key").string(), "--out", endorsement})
                  .code,
              0);
    auto enroll = run_agent({"enroll", "--home", newcomer.path().string(), "--genesis",
                             genesis.string(), "--bootstrap", seed, "--endorsements", endorsement});
    ASSERT_EQ(enroll.code, 0) << enroll.err;

    // Three operators sign its revocation; the first publishes it: a STORE to its two storers.
    std::vector<std::string> shares;
    for (int i = 0; i < 3; ++i) {
        const auto file = (files / ("r" + std::to_string(i) + ".sig")).string();
        std::vector<std::string> args = {"revoke", "sign"};
        if (i == 0) {
            args.insert(args.end(), {"--operator", newcomer_key, "--reason", "leaked key"});
        } else {
            std::this_thread::sleep_for(1100ms);
            args.insert(args.end(), {"--join", shares[0]});
        }
        args.insert(args.end(), {"--key", (paths[i] / "keys" / "operator.key").string(),
                                 "--genesis", genesis.string(), "--out", file});
        auto o = run_agent(args);
        ASSERT_EQ(o.code, 0) << o.err;
        shares.push_back(file);
    }
    for (auto& n : nodes) EXPECT_EQ(health(*n).value("revoked_operators", -1), 0);
    auto publish = run_agent({"revoke", "publish", "--signatures",
                              shares[0] + "," + shares[1] + "," + shares[2], "--key",
                              (paths[0] / "keys" / "operator.key").string(), "--genesis",
                              genesis.string(), "--bootstrap", seed});
    ASSERT_EQ(publish.code, 0) << publish.err;
    EXPECT_EQ(publish.values["published"], "stored on 2 nodes");
    const auto published_at = std::chrono::steady_clock::now();

    // Every daemon knows it within two seconds.
    std::vector<bool> know(nodes.size(), false);
    while (std::count(know.begin(), know.end(), true) < 5 &&
           std::chrono::steady_clock::now() - published_at < 2s) {
        for (std::size_t i = 0; i < nodes.size(); ++i) {
            if (!know[i]) know[i] = health(*nodes[i]).value("revoked_operators", 0) == 1;
        }
        std::this_thread::sleep_for(20ms);
    }
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - published_at);
    for (std::size_t i = 0; i < nodes.size(); ++i) EXPECT_TRUE(know[i]) << "node " << i;
    EXPECT_LT(took, 2s);
    std::cerr << "revocation known by all five daemons " << took.count()
              << " ms after `revoke publish` returned\n";
    // Three of them (those the STORE did not reach) by gossip, and `status` says so.
    int by_gossip = 0;
    for (auto& n : nodes) {
        by_gossip += health(*n)["gossip"]["revocation"].value("received", 0) == 1 ? 1 : 0;
    }
    EXPECT_GE(by_gossip, 3);
    auto status = run_agent({"status", "--home", paths[4].string()});
    EXPECT_EQ(status.values["revoked_operators"], "1") << status.out;
    EXPECT_EQ(status.values["gossip_revocation"].rfind("received:", 0), 0u) << status.out;

    // Its node's STOREs are refused now, wherever they go.
    const auto now = SystemClock{}.unix_seconds();
    auto genesis_rules = app::load_genesis(genesis);
    ASSERT_TRUE(genesis_rules.has_value());
    store::MemoryStore scratch;
    trust::TrustState state(*genesis_rules, scratch, now);
    if (auto creds = app::load_records(newcomer.path() / "trust" / "credentials.json")) {
        state.learn_all(*creds, now);
    }
    auto node_key = crypto::load_key_file(newcomer.path() / "keys" / "node.key");
    ASSERT_TRUE(node_key.has_value());
    daemon::MeshClient client(state, 20s, std::move(*node_key));
    ASSERT_GE(client.join({seed}), 3u);
    for (int i = 0; i < 4; ++i) {
        const auto record =
            wire::sign_record({wire::RecordKind::knowledge, 1, now, now + 3600,
                               R"({"domain":"gossip","id":"e)" + std::to_string(i) + R"("})"},
                              crypto::load_key_file(newcomer.path() / "keys" / "node.key").value())
                .value();
        const auto res = client.put(record);
        EXPECT_EQ(res.stored, 0u);
        EXPECT_EQ(res.first_refusal, errc::operator_revoked);
    }
    for (auto& n : nodes) n->stop();
}

}  // namespace
}  // namespace nocturne::test
