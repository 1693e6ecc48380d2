// Drives the real nocturne-agent binary as a user would.

#include <nocturne/trust/genesis.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <csignal>
#include <fstream>
#include <memory>
#include <optional>
#include <sys/stat.h>

#include "support/agent_cli.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace nocturne::test {
namespace {

using namespace std::chrono_literals;

TEST(AgentBinary, StartCreatesIdentityAndStoreThenStopsOnSigterm) {
    TempDir home;
    Process agent(agent_binary(), {"start", "--foreground", "--api-port", "0", "--port", "0",
                                   "--home", home.path().string()});
    const auto line = agent.read_line(20s);
    ASSERT_TRUE(line.has_value()) << agent.drain_stderr();
    ASSERT_EQ(line->rfind("ready node_id=", 0), 0u) << *line;
    const auto node_id = line->substr(std::string("ready node_id=").size(), 64);
    EXPECT_NE(line->find(" address=ws://127.0.0.1:"), std::string::npos) << *line;

    struct stat st {};
    ASSERT_EQ(::stat((home / "keys" / "node.key").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_TRUE(std::filesystem::exists(home / "dht" / "entries.db"));

    // A second node on the same home is refused with a clear message.
    Process second(agent_binary(), {"start", "--foreground", "--api-port", "0", "--port", "0",
                                    "--home", home.path().string()});
    ASSERT_EQ(second.wait(20s), 1);
    EXPECT_NE(second.drain_stderr().find("already running"), std::string::npos);

    agent.signal(SIGTERM);
    EXPECT_EQ(agent.wait(5s), 0);

    // Restart: same identity.
    Process again(agent_binary(), {"start", "--foreground", "--api-port", "0", "--port", "0"},
                  {"NOCTURNE_HOME=" + home.path().string()});
    const auto line2 = again.read_line(20s);
    ASSERT_TRUE(line2.has_value()) << again.drain_stderr();
    EXPECT_EQ(line2->rfind("ready node_id=" + node_id + " ", 0), 0u) << *line2;
    again.signal(SIGINT);
    EXPECT_EQ(again.wait(5s), 0);
}

TEST(AgentBinary, UsageErrorsSayWhatIsWrongInOneLineAndExitTwo) {
    TempDir home;  // not the developer's: start reads a home's saved settings
    const auto h = home.path().string();
    const std::vector<std::vector<std::string>> usages = {
        {},
        {"bogus"},
        {"start", "--home", h, "--bogus"},
        {"start", "--home", h, "--port", "99999"},
        {"start", "--home", h, "--task-scan-seconds", "0"},
        {"quarantine"},
        {"quarantine", "sign", "--days", "soon", "--key", "k"},
        {"revoke", "sign", "--operator", "a", "--operator-id", "b", "--key", "k"},
        {"revoke", "sign", "--key", "k"},
        {"quarantine", "lift", "--key", "k"},
    };
    for (const auto& args : usages) {
        auto out = run_agent(args);
        std::string line;
        for (const auto& a : args) line += a + " ";
        EXPECT_EQ(out.code, 2) << line << out.err;
        EXPECT_EQ(out.err.rfind("nocturne-agent: ", 0), 0u) << line << out.err;
        EXPECT_EQ(std::count(out.err.begin(), out.err.end(), '\n'), 1) << line << out.err;
        EXPECT_NE(out.err.find("--help)"), std::string::npos) << line << out.err;
        EXPECT_TRUE(out.out.empty()) << line << out.out;
    }
    // The error names the command whose help explains it.
    EXPECT_NE(run_agent({"start", "--home", h, "--port", "99999"})
                  .err.find("see nocturne-agent start --help"),
              std::string::npos);
    // Asking for help or the version is no error.
    EXPECT_EQ(run_agent({"--help"}).code, 0);
    EXPECT_EQ(run_agent({"quarantine", "sign", "--help"}).code, 0);
    EXPECT_EQ(run_agent({"--version"}).code, 0);
}

TEST(AgentBinary, CommandsPrintOneJsonObjectForScripts) {
    TempDir home;
    const auto h = home.path().string();
    auto setup = run_agent({"setup", "--home", h, "--label", "scripted", "--json"});
    ASSERT_EQ(setup.code, 0) << setup.err;
    const auto made = nlohmann::json::parse(setup.out, nullptr, false);
    ASSERT_TRUE(made.is_object()) << setup.out;
    EXPECT_EQ(made.value("operator_public_key", "").size(), 64u) << setup.out;
    EXPECT_TRUE(setup.err.empty()) << "no log lines: " << setup.err;
    auto status = run_agent({"status", "--home", h, "--json"});
    EXPECT_EQ(status.code, 3);
    const auto st = nlohmann::json::parse(status.out, nullptr, false);
    ASSERT_TRUE(st.is_object()) << status.out;
    EXPECT_EQ(st.value("running", ""), "no");
}

TEST(AgentBinary, AHomeRemembersHowItsNodeRan) {
    TempDir home;
    const auto h = home.path().string();
    // A start that fails saves nothing.
    auto failed = run_agent({"start", "--home", h, "--port", "0", "--api-port", "0", "--genesis",
                             (home / "no-such-genesis.json").string()});
    EXPECT_EQ(failed.code, 1);
    EXPECT_FALSE(std::filesystem::exists(home / "node.toml"));
    auto first = run_agent({"start", "--home", h, "--port", "0", "--api-port", "0", "--log-level",
                            "warn", "--task-scan-seconds", "120"});
    ASSERT_EQ(first.code, 0) << first.err;
    ASSERT_EQ(run_agent({"stop", "--home", h}).code, 0);
    const auto saved = read_text_file(home / "node.toml");
    EXPECT_NE(saved.find("api-port = 0"), std::string::npos) << saved;
    EXPECT_NE(saved.find("task-scan-seconds = 120"), std::string::npos) << saved;
    // No flags: as before (free ports, not the defaults).
    auto again = run_agent({"start", "--home", h});
    ASSERT_EQ(again.code, 0) << again.err;
    EXPECT_EQ(again.out.find(":47101"), std::string::npos) << again.out;
    ASSERT_EQ(run_agent({"stop", "--home", h}).code, 0);
    // A flag wins for this start without changing the file; --save-config changes it.
    auto flagged = run_agent({"start", "--home", h, "--log-level", "error", "--save-config"});
    ASSERT_EQ(flagged.code, 0) << flagged.err;
    ASSERT_EQ(run_agent({"stop", "--home", h}).code, 0);
    const auto resaved = read_text_file(home / "node.toml");
    EXPECT_NE(resaved.find("log-level = \"error\""), std::string::npos) << resaved;
    EXPECT_NE(resaved.find("task-scan-seconds = 120"), std::string::npos) << resaved;
    // A setting it does not know: start says which, in which file.
    std::ofstream(home / "node.toml", std::ios::app) << "colour = \"blue\"\n";
    auto bad = run_agent({"start", "--home", h});
    EXPECT_EQ(bad.code, 1);
    EXPECT_NE(bad.err.find("node.toml: unknown setting colour"), std::string::npos) << bad.err;
}

TEST(AgentBinary, BadInputGivesOneClearErrorAndNonZeroExit) {
    TempDir dir;
    Process no_cmd(agent_binary(), {});
    EXPECT_NE(no_cmd.wait(10s).value_or(0), 0);
    Process unknown(agent_binary(), {"start", "--bogus"});
    EXPECT_NE(unknown.wait(10s).value_or(0), 0);
    Process bad_seed(agent_binary(),
                     {"start", "--foreground", "--api-port", "0", "--port", "0", "--home",
                      (dir / "h").string(), "--bootstrap", "http://example"});
    EXPECT_NE(bad_seed.wait(10s).value_or(0), 0);
    EXPECT_NE(bad_seed.drain_stderr().find("ws://host:port"), std::string::npos);

    // A home that is a regular file.
    const auto file = dir / "file";
    std::ofstream(file) << "x";
    Process bad_home(agent_binary(), {"start", "--foreground", "--api-port", "0", "--port", "0",
                                      "--home", file.string()});
    EXPECT_EQ(bad_home.wait(10s), 1);
    EXPECT_NE(bad_home.drain_stderr().find("cannot use home"), std::string::npos);

    // A node key readable by others is refused, not used and not replaced.
    TempDir home;
    {
        Process agent(agent_binary(), {"start", "--foreground", "--api-port", "0", "--port", "0",
                                       "--home", home.path().string()});
        ASSERT_TRUE(agent.read_line(20s).has_value());
        agent.signal(SIGTERM);
        ASSERT_EQ(agent.wait(5s), 0);
    }
    std::filesystem::permissions(home / "keys" / "node.key", std::filesystem::perms::others_read,
                                 std::filesystem::perm_options::add);
    Process insecure(agent_binary(), {"start", "--foreground", "--api-port", "0", "--port", "0",
                                      "--home", home.path().string()});
    EXPECT_EQ(insecure.wait(10s), 1);
    EXPECT_NE(insecure.drain_stderr().find("readable by group or others"), std::string::npos);
}

// What a daemon printed when it became ready: its node id and address.
struct Ready {
    std::string node_id;
    std::string address;
};

std::optional<Ready> wait_ready(Process& p) {
    const auto line = p.read_line(20s);
    if (!line || line->rfind("ready node_id=", 0) != 0) return std::nullopt;
    const auto at = line->find(" address=");
    if (at == std::string::npos) return std::nullopt;
    const auto end = line->find(' ', at + 9);
    return Ready{line->substr(14, at - 14), line->substr(at + 9, end - (at + 9))};
}

std::optional<int> wait_bootstrapped(Process& p) {
    const auto line = p.read_line(30s);
    if (!line || line->rfind("bootstrapped peers=", 0) != 0) return std::nullopt;
    return std::stoi(line->substr(19));
}

TEST(AgentBinary, NodesJoinThroughBootstrapAndRejoinFromSavedPeers) {
    TempDir ha, hb, hc;
    auto start = [](const TempDir& home, std::vector<std::string> extra) {
        std::vector<std::string> args = {
            "start", "--foreground", "--api-port",        "0", "--port",
            "0",     "--home",       home.path().string()};
        args.insert(args.end(), extra.begin(), extra.end());
        return std::make_unique<Process>(agent_binary(), args);
    };
    auto a = start(ha, {});
    const auto ra = wait_ready(*a);
    ASSERT_TRUE(ra.has_value()) << a->drain_stderr();
    EXPECT_EQ(wait_bootstrapped(*a), 0);  // the first node of a new mesh

    auto b = start(hb, {"--bootstrap", ra->address});
    ASSERT_TRUE(wait_ready(*b).has_value());
    EXPECT_EQ(wait_bootstrapped(*b), 1);
    auto c = start(hc, {"--bootstrap", ra->address});
    const auto rc = wait_ready(*c);
    ASSERT_TRUE(rc.has_value());
    const auto c_peers = wait_bootstrapped(*c);
    ASSERT_TRUE(c_peers.has_value());
    EXPECT_GE(*c_peers, 1);

    // C restarts with no --bootstrap: it rejoins through the peers it saved.
    c->signal(SIGTERM);
    ASSERT_EQ(c->wait(5s), 0);
    EXPECT_TRUE(std::filesystem::exists(hc / "dht" / "peers.json"));
    c = start(hc, {});
    const auto rc2 = wait_ready(*c);
    ASSERT_TRUE(rc2.has_value());
    EXPECT_EQ(rc2->node_id, rc->node_id);
    const auto rejoined = wait_bootstrapped(*c);
    ASSERT_TRUE(rejoined.has_value());
    EXPECT_GE(*rejoined, 2);  // A and B, found without any seed

    for (auto* p : {a.get(), b.get(), c.get()}) p->signal(SIGTERM);
    for (auto* p : {a.get(), b.get(), c.get()}) EXPECT_EQ(p->wait(5s), 0);
}

TEST(AgentBinary, ANewHomeJoinsThroughTheSeedsItsGenesisLists) {
    TempDir ha, hb, files;
    auto genesis = trust::parse_genesis(trust::builtin_genesis_text());
    ASSERT_TRUE(genesis.has_value());
    const auto plain = files / "genesis.json";
    std::ofstream(plain) << trust::encode_genesis(*genesis);
    auto start = [](const TempDir& home, const std::filesystem::path& g) {
        return std::make_unique<Process>(
            agent_binary(),
            std::vector<std::string>{"start", "--foreground", "--api-port", "0", "--port", "0",
                                     "--home", home.path().string(), "--genesis", g.string()});
    };
    auto a = start(ha, plain);
    const auto ra = wait_ready(*a);
    ASSERT_TRUE(ra.has_value()) << a->drain_stderr();
    EXPECT_EQ(wait_bootstrapped(*a), 0);

    // The same mesh's genesis with A as its seed (and a seed that is down): B, a new home started
    // with neither saved peers nor --bootstrap, joins A; the seeds did not make another network.
    genesis->bootstrap = {"ws://127.0.0.1:1", ra->address};
    const auto seeded = files / "seeded-genesis.json";
    std::ofstream(seeded) << trust::encode_genesis(*genesis);
    auto b = start(hb, seeded);
    ASSERT_TRUE(wait_ready(*b).has_value()) << b->drain_stderr();
    EXPECT_EQ(wait_bootstrapped(*b), 1) << b->drain_stderr();

    for (auto* p : {a.get(), b.get()}) p->signal(SIGTERM);
    for (auto* p : {a.get(), b.get()}) EXPECT_EQ(p->wait(5s), 0);
}

}  // namespace
}  // namespace nocturne::test
