// The daemon's life cycle and local API through the real binary: start in the background,
// status, stop, the refusal of a second start, log and token files, and the API's transport rules
// as a client on this machine meets them.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <fstream>
#include <map>
#include <thread>

#include "support/agent_cli.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace nocturne::test {
namespace {

using namespace std::chrono_literals;

std::string read_text(const std::filesystem::path& file) {
    return read_text_file(file);
}

// Kills a background daemon that a failed assertion left running.
struct DaemonGuard {
    std::filesystem::path home;
    ~DaemonGuard() {
        const auto pid = std::atoi(read_text(home / "node.pid").c_str());
        if (pid > 0) ::kill(pid, SIGKILL);
    }
};

TEST(DaemonBinary, StartsInTheBackgroundReportsStatusAndStops) {
    TempDir home;
    DaemonGuard guard{home.path()};
    const std::vector<std::string> start = {
        "start", "--home", home.path().string(), "--port", "0", "--api-port", "0"};
    auto started = run_agent(start);
    ASSERT_EQ(started.code, 0) << started.err;
    EXPECT_EQ(started.out.rfind("ready node_id=", 0), 0u) << started.out;
    EXPECT_NE(started.out.find(" api=http://127.0.0.1:"), std::string::npos) << started.out;
    const auto pid = std::stoi(started.values["pid"]);
    ASSERT_GT(pid, 0);
    EXPECT_EQ(::kill(pid, 0), 0) << "the daemon outlives the start command";
    EXPECT_EQ(read_text(home / "node.pid"), std::to_string(pid) + "\n");

    auto status = run_agent({"status", "--home", home.path().string()});
    EXPECT_EQ(status.code, 0) << status.err;
    EXPECT_EQ(status.values["running"], "yes");
    EXPECT_EQ(status.values["pid"], std::to_string(pid));
    EXPECT_EQ(status.values["health"], "ok");
    EXPECT_EQ(status.values["peers"], "0");
    EXPECT_EQ(status.values["routing_table"], "0");
    EXPECT_EQ(status.values["enrolled"], "no");

    // Starting twice on one home is refused with a clear message.
    auto twice = run_agent(start);
    EXPECT_EQ(twice.code, 1);
    EXPECT_NE(twice.err.find("already running"), std::string::npos) << twice.err;

    // The token is private, and the log is where the daemon writes.
    EXPECT_EQ(
        std::filesystem::status(home / "api.token").permissions() & std::filesystem::perms::all,
        std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    EXPECT_NE(read_text(home / "logs" / "nocturne.log").find("local API on"), std::string::npos);

    auto stopped = run_agent({"stop", "--home", home.path().string()});
    EXPECT_EQ(stopped.code, 0) << stopped.err;
    EXPECT_EQ(stopped.out, "stopped pid=" + std::to_string(pid) + "\n");
    EXPECT_NE(::kill(pid, 0), 0);
    EXPECT_FALSE(std::filesystem::exists(home / "node.json"));
    EXPECT_NE(read_text(home / "logs" / "nocturne.log").find("stopped"), std::string::npos);

    auto after = run_agent({"status", "--home", home.path().string()});
    EXPECT_EQ(after.code, 3);
    EXPECT_EQ(after.values["running"], "no");
    EXPECT_EQ(run_agent({"stop", "--home", home.path().string()}).code,
              0);  // nothing to stop: fine
}

TEST(DaemonBinary, AStartThatFailsSaysWhyAndExitsNonZero) {
    TempDir home, files;
    std::ofstream(files / "genesis.json") << "{}";
    auto bad = run_agent({"start", "--home", home.path().string(), "--port", "0", "--api-port", "0",
                          "--genesis", (files / "genesis.json").string()});
    EXPECT_EQ(bad.code, 1);
    EXPECT_EQ(bad.err.rfind("nocturne-agent: invalid genesis file", 0), 0u) << bad.err;
    EXPECT_FALSE(std::filesystem::exists(home / "node.json"));
}

class DaemonApi : public ::testing::Test {
protected:
    void SetUp() override {
        agent_ = std::make_unique<Process>(
            agent_binary(),
            std::vector<std::string>{"start", "--foreground", "--home", home_.path().string(),
                                     "--port", "0", "--api-port", "0"});
        const auto ready = agent_->read_line(20s);
        ASSERT_TRUE(ready.has_value()) << agent_->drain_stderr();
        const auto at = ready->find(" api=http://127.0.0.1:");
        ASSERT_NE(at, std::string::npos) << *ready;
        port_ = static_cast<std::uint16_t>(std::stoi(ready->substr(at + 22)));
        token_ = read_text(home_ / "api.token");
        token_.erase(token_.find_last_not_of("\n") + 1);
        node_id_ = ready->substr(14, 64);
    }
    void TearDown() override {
        agent_->signal(SIGTERM);
        EXPECT_EQ(agent_->wait(5s), 0);
    }

    HeaderList headers() const {
        return {{"Host", "127.0.0.1:" + std::to_string(port_)},
                {"Authorization", "Bearer " + token_}};
    }

    TempDir home_;
    std::unique_ptr<Process> agent_;
    std::uint16_t port_ = 0;
    std::string token_;
    std::string node_id_;
};

TEST_F(DaemonApi, HealthAndPeersWithTheToken) {
    HttpClient client(port_);
    auto health = client.request("GET", "/local/health", headers());
    ASSERT_TRUE(health);
    EXPECT_EQ(health->status, 200);
    const auto body = nlohmann::json::parse(health->body);
    EXPECT_EQ(body["status"], "ok");
    EXPECT_EQ(body["node_id"], node_id_);
    EXPECT_EQ(body["enrolled"], false);
    auto peers = client.request("GET", "/local/peers", headers());
    ASSERT_TRUE(peers);
    EXPECT_EQ(peers->status, 200);
    EXPECT_EQ(nlohmann::json::parse(peers->body)["count"], 0);
}

TEST_F(DaemonApi, RefusesStrangersWithJsonErrors) {
    auto code_of = [](const std::optional<HttpResponse>& r) {
        if (!r) return std::string("(no response)");
        return nlohmann::json::parse(r->body)["error"]["code"].get<std::string>();
    };
    {
        HttpClient c(port_);
        auto r = c.request("GET", "/local/health", {{"Host", "127.0.0.1"}});
        ASSERT_TRUE(r);
        EXPECT_EQ(r->status, 401);
        EXPECT_EQ(code_of(r), "unauthorized");
    }
    {
        HttpClient c(port_);
        auto r = c.request("GET", "/local/health",
                           {{"Host", "evil.example"}, {"Authorization", "Bearer " + token_}});
        ASSERT_TRUE(r);
        EXPECT_EQ(r->status, 403);
        EXPECT_EQ(code_of(r), "forbidden_host");
    }
    {
        HttpClient c(port_);
        auto r = c.request("GET", "/local/nothing-here", headers());
        ASSERT_TRUE(r);
        EXPECT_EQ(r->status, 404);
        EXPECT_EQ(code_of(r), "not_found");
    }
}

}  // namespace
}  // namespace nocturne::test
