// The Web of Trust through the real nocturne-agent binary, as operators use it: setup, endorse,
// enroll and revoke on the command line against a mesh of real daemons on loopback. The
// newcomer's node speaks to the daemons through daemon::MeshClient with its own node key, over the
// same WebSocket protocol a daemon uses.

#include <nocturne/app/trust_files.hpp>
#include <nocturne/core/clock.hpp>
#include <nocturne/crypto/key_file.hpp>
#include <nocturne/daemon/mesh_client.hpp>
#include <nocturne/store/memory_store.hpp>
#include <nocturne/trust/trust_state.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <fstream>
#include <map>
#include <memory>
#include <thread>

#include "support/agent_cli.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace nocturne::test {
namespace {

using namespace std::chrono_literals;

std::string first_line(const std::string& text) {
    return text.substr(0, text.find('\n'));
}

class TrustBinary : public ::testing::Test {
protected:
    TempDir g_[3];  // homes of the three genesis operators (each also runs a node)
    TempDir newcomer_;
    TempDir files_;  // endorsement and signature files, the genesis file
    std::string genesis_file_ = (files_ / "genesis.json").string();

    void write_genesis(const std::vector<std::string>& public_keys) {
        nlohmann::json ops = nlohmann::json::array();
        for (std::size_t i = 0; i < public_keys.size(); ++i) {
            ops.push_back({{"public_key", public_keys[i]}, {"label", "gen" + std::to_string(i)}});
        }
        std::ofstream(genesis_file_) << nlohmann::json{
            {"version", 1},
            {"network", "e2e-net"},
            {"min_endorsements", 3},
            {"revocation_threshold", 3},
            {"operators", ops}}.dump(2);
    }

    std::unique_ptr<Process> start(const TempDir& home, const std::string& bootstrap) {
        std::vector<std::string> args = {
            "start", "--foreground", "--api-port",         "0",         "--port",
            "0",     "--home",       home.path().string(), "--genesis", genesis_file_};
        if (!bootstrap.empty()) {
            args.push_back("--bootstrap");
            args.push_back(bootstrap);
        }
        return std::make_unique<Process>(agent_binary(), args);
    }

    // The newcomer's node: its own node key, its credentials from enroll, talking to the mesh.
    struct NewcomerNode {
        store::MemoryStore scratch;
        std::unique_ptr<trust::TrustState> state;
        std::unique_ptr<daemon::MeshClient> client;
    };

    std::unique_ptr<NewcomerNode> connect_as(const std::filesystem::path& home,
                                             const std::string& seed) {
        auto genesis = app::load_genesis(std::filesystem::path(genesis_file_));
        EXPECT_TRUE(genesis.has_value()) << genesis.error().message();
        auto node = std::make_unique<NewcomerNode>();
        const auto now = SystemClock{}.unix_seconds();
        node->state = std::make_unique<trust::TrustState>(*genesis, node->scratch, now);
        if (auto creds = app::load_records(home / "trust" / "credentials.json")) {
            node->state->learn_all(*creds, now);
        }
        auto key = crypto::load_key_file(home / "keys" / "node.key");
        EXPECT_TRUE(key.has_value());
        node->client = std::make_unique<daemon::MeshClient>(*node->state, 20s, std::move(*key));
        // The seed lists the other daemons once it has verified their addresses (a dial-back
        // each, shortly after they joined): on a loaded machine, ask again.
        std::size_t peers = node->client->join({seed});
        for (int i = 0; i < 20 && peers < 3; ++i) {
            std::this_thread::sleep_for(250ms);
            peers = node->client->join({seed});
        }
        EXPECT_GE(peers, 3u);
        return node;
    }

    static wire::Record entry(const std::filesystem::path& home, const std::string& id) {
        const auto key = crypto::load_key_file(home / "keys" / "node.key").value();
        const auto now = SystemClock{}.unix_seconds();
        return wire::sign_record({wire::RecordKind::knowledge, 1, now, now + 3600,
                                  R"({"domain":"e2e","id":")" + id + R"("})"},
                                 key)
            .value();
    }
};

TEST_F(TrustBinary, SetupEndorseEnrollStoreThenRevoke) {
    // Three genesis operators set up; their keys make the genesis of this private mesh.
    std::vector<std::string> genesis_keys;
    for (int i = 0; i < 3; ++i) {
        auto o = run_agent(
            {"setup", "--home", g_[i].path().string(), "--label", "gen" + std::to_string(i)});
        ASSERT_EQ(o.code, 0) << o.err;
        ASSERT_EQ(o.values["operator_public_key"].size(), 64u) << o.out;
        genesis_keys.push_back(o.values["operator_public_key"]);
    }
    write_genesis(genesis_keys);
    // Genesis operators need no endorsements: enroll signs their nodes' agent certificates.
    for (auto& home : g_) {
        auto o = run_agent({"enroll", "--home", home.path().string(), "--genesis", genesis_file_});
        ASSERT_EQ(o.code, 0) << o.err;
        EXPECT_EQ(o.values["certificate"], "genesis");
    }

    // Their three nodes form the mesh.
    std::unique_ptr<Process> nodes[3];
    std::string seed;
    for (int i = 0; i < 3; ++i) {
        nodes[i] = start(g_[i], seed);
        const auto ready = nodes[i]->read_line(20s);
        ASSERT_TRUE(ready.has_value()) << nodes[i]->drain_stderr();
        EXPECT_NE(ready->find(" enrolled=yes"), std::string::npos) << *ready;
        if (i == 0) {
            const auto at = ready->find(" address=") + 9;
            seed = ready->substr(at, ready->find(' ', at) - at);
        }
        ASSERT_TRUE(nodes[i]->read_line(30s).has_value());  // bootstrapped
    }

    // The newcomer sets up and asks for endorsements.
    auto setup = run_agent({"setup", "--home", newcomer_.path().string(), "--label", "newcomer"});
    ASSERT_EQ(setup.code, 0) << setup.err;
    const auto newcomer_key = setup.values["operator_public_key"];
    const auto newcomer_id = setup.values["operator_id"];
    std::vector<std::string> endorsement_files;
    for (int i = 0; i < 3; ++i) {
        const auto file = (files_ / ("e" + std::to_string(i) + ".sig")).string();
        auto o = run_agent({"endorse", "--operator", newcomer_key, "--key",
                            (g_[i] / "keys" / "operator.key").string(), "--out", file});
        ASSERT_EQ(o.code, 0) << o.err;
        endorsement_files.push_back(file);
    }

    // With two endorsements enrollment is refused, saying what is missing.
    auto short_of_one = run_agent({"enroll", "--home", newcomer_.path().string(), "--genesis",
                                   genesis_file_, "--bootstrap", seed, "--endorsements",
                                   endorsement_files[0] + "," + endorsement_files[1]});
    EXPECT_EQ(short_of_one.code, 1);
    EXPECT_EQ(first_line(short_of_one.err),
              "nocturne-agent: enrollment incomplete: 2 of 3 required endorsements count "
              "(insufficient_endorsements)");
    EXPECT_FALSE(std::filesystem::exists(newcomer_ / "trust" / "credentials.json"));

    // Before enrolling, the newcomer's node is an untrusted peer: it may route, not store.
    {
        auto node = connect_as(newcomer_.path(), seed);
        const auto res = node->client->put(entry(newcomer_.path(), "before-enroll"));
        EXPECT_EQ(res.stored, 0u);
        EXPECT_EQ(res.refused, 3u);
        EXPECT_EQ(res.first_refusal, errc::unknown_agent);
    }

    auto enroll =
        run_agent({"enroll", "--home", newcomer_.path().string(), "--genesis", genesis_file_,
                   "--bootstrap", seed, "--endorsements",
                   endorsement_files[0] + "," + endorsement_files[1] + "," + endorsement_files[2]});
    ASSERT_EQ(enroll.code, 0) << enroll.err;
    EXPECT_EQ(enroll.values["certificate"], "valid depth=1 endorsements=3");
    EXPECT_EQ(enroll.values["published_certificate"], "stored on 3 nodes");
    EXPECT_EQ(enroll.values["published_agent_certificate"], "stored on 3 nodes");

    // Now its node stores on every node of the mesh, and anyone can read the certificate.
    const auto stored_entry = entry(newcomer_.path(), "after-enroll");
    {
        auto node = connect_as(newcomer_.path(), seed);
        const auto res = node->client->put(stored_entry);
        EXPECT_EQ(res.stored, 3u) << errc_name(res.first_refusal);
        EXPECT_EQ(res.refused, 0u);
        const auto cert = node->client->get(prefix_key("cert", newcomer_id));
        ASSERT_TRUE(cert.found());
        EXPECT_EQ(trust::operator_id_of(cert.records[0].author), newcomer_id);
    }

    // Three genesis operators sign its revocation; one of them publishes it.
    std::vector<std::string> signature_files;
    for (int i = 0; i < 3; ++i) {
        const auto file = (files_ / ("r" + std::to_string(i) + ".sig")).string();
        // The first signer starts it; the others join, a second or more later.
        std::vector<std::string> what = {"--operator", newcomer_key, "--reason", "leaked key"};
        if (i > 0) {
            what = {"--join", signature_files[0]};
            std::this_thread::sleep_for(1100ms);
        }
        std::vector<std::string> args = {"revoke", "sign"};
        args.insert(args.end(), what.begin(), what.end());
        for (const auto& a :
             {std::string("--key"), (g_[i] / "keys" / "operator.key").string(),
              std::string("--genesis"), genesis_file_, std::string("--out"), file}) {
            args.push_back(a);
        }
        auto o = run_agent(args);
        ASSERT_EQ(o.code, 0) << o.err;
        EXPECT_EQ(o.values["operator_id"], newcomer_id);
        signature_files.push_back(file);
    }
    auto two = run_agent({"revoke", "publish", "--signatures",
                          signature_files[0] + "," + signature_files[1], "--key",
                          (g_[0] / "keys" / "operator.key").string(), "--genesis", genesis_file_,
                          "--bootstrap", seed});
    EXPECT_EQ(two.code, 1);
    EXPECT_NE(two.err.find("insufficient_signatures"), std::string::npos) << two.err;
    auto revoke =
        run_agent({"revoke", "publish", "--signatures",
                   signature_files[0] + "," + signature_files[1] + "," + signature_files[2],
                   "--key", (g_[0] / "keys" / "operator.key").string(), "--genesis", genesis_file_,
                   "--bootstrap", seed});
    ASSERT_EQ(revoke.code, 0) << revoke.err;
    EXPECT_EQ(revoke.values["published"], "stored on 3 nodes");

    // From now on every node refuses its STOREs, and none hands out what it stored before.
    {
        auto node = connect_as(newcomer_.path(), seed);
        const auto res = node->client->put(entry(newcomer_.path(), "after-revocation"));
        EXPECT_EQ(res.stored, 0u);
        EXPECT_EQ(res.refused, 3u);
        EXPECT_EQ(res.first_refusal, errc::operator_revoked);
        EXPECT_FALSE(node->client->get(stored_entry.key).found());
    }

    // The revocation survives a restart of a node: it was kept in trust/trust.db.
    nodes[1]->signal(SIGTERM);
    ASSERT_EQ(nodes[1]->wait(5s), 0);
    nodes[1] = start(g_[1], "");
    ASSERT_TRUE(nodes[1]->read_line(20s).has_value());
    ASSERT_TRUE(nodes[1]->read_line(30s).has_value());
    {
        auto node = connect_as(newcomer_.path(), seed);
        const auto res = node->client->put(entry(newcomer_.path(), "after-restart"));
        EXPECT_EQ(res.stored, 0u);
        EXPECT_EQ(res.refused, 3u);
    }
    for (auto& n : nodes) n->signal(SIGTERM);
    for (auto& n : nodes) EXPECT_EQ(n->wait(5s), 0);
}

TEST(TrustCommands, WrongInputGivesOneClearLineAndNonZeroExit) {
    TempDir home, files;
    auto setup = run_agent({"setup", "--home", home.path().string(), "--label", "me"});
    ASSERT_EQ(setup.code, 0) << setup.err;
    const auto key = (home / "keys" / "operator.key").string();

    struct Case {
        std::vector<std::string> args;
        std::string expected;  // the start of the one error line
    };
    const std::string other(64, 'a');
    std::ofstream(files / "junk.sig") << "{\"type\":\"nocturne-endorsement\"}";
    std::ofstream(files / "bad.json") << "{\"version\":1,";
    const std::vector<Case> cases = {
        {{"endorse", "--operator", "xyz", "--key", key},
         "nocturne-agent: --operator must be the operator's public key as 64 hex digits"},
        {{"endorse", "--operator", std::string(64, 'g'), "--key", key},
         "nocturne-agent: --operator must be the operator's public key as 64 hex digits"},
        {{"endorse", "--operator", other, "--key", (files / "missing.key").string()},
         "nocturne-agent: cannot read endorser key"},
        {{"endorse", "--operator", setup.values["operator_public_key"], "--key", key},
         "nocturne-agent: an operator cannot endorse itself"},
        {{"enroll", "--home", home.path().string()},
         "nocturne-agent: enrollment incomplete: 0 of 3 required endorsements count"},
        {{"enroll", "--home", home.path().string(), "--endorsements",
          (files / "nothing.sig").string()},
         "nocturne-agent: cannot read endorsement"},
        {{"enroll", "--home", home.path().string(), "--endorsements",
          (files / "junk.sig").string()},
         "nocturne-agent: " + (files / "junk.sig").string() + " is not a valid endorsement"},
        {{"enroll", "--home", (files / "nobody").string()}, "nocturne-agent: no operator key in"},
        {{"enroll", "--home", home.path().string(), "--genesis", (files / "bad.json").string()},
         "nocturne-agent: invalid genesis file"},
        {{"start", "--foreground", "--api-port", "0", "--home", home.path().string(), "--port", "0",
          "--genesis", (files / "bad.json").string()},
         "nocturne-agent: invalid genesis file"},
        {{"setup", "--home", home.path().string(), "--label", "someone-else"},
         "nocturne-agent: this home is already set up for operator \"me\""},
        {{"revoke", "sign", "--operator-id", "ABC", "--reason", "r", "--key", key},
         "nocturne-agent: --operator-id must be 64 lower-case hex digits"},
        {{"revoke", "publish", "--signatures", (files / "none.sig").string(), "--key", key},
         "nocturne-agent: cannot read"},
    };
    for (const auto& c : cases) {
        auto o = run_agent(c.args);
        EXPECT_EQ(o.code, 1) << c.args[0] << " " << c.args[1] << ": " << o.err;
        EXPECT_EQ(o.err.rfind(c.expected, 0), 0u) << o.err;
    }
    // Operator and node keys are private to the user.
    EXPECT_EQ(std::filesystem::status(key).permissions() & std::filesystem::perms::all,
              std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    EXPECT_EQ(setup.values["status"], "created");
    auto again = run_agent({"setup", "--home", home.path().string(), "--label", "me"});
    EXPECT_EQ(again.code, 0);
    EXPECT_EQ(again.values["status"], "existing");
    EXPECT_EQ(again.values["operator_public_key"], setup.values["operator_public_key"]);
}

}  // namespace
}  // namespace nocturne::test
