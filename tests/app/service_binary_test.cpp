// The daemon under a service manager, through the real binary: the test plays systemd's side of
// the notify socket (sd_notify(3)'s datagrams) and the orchestrator's readiness probes.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <cstring>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "support/agent_cli.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace nocturne::test {
namespace {

using namespace std::chrono_literals;

// The manager's end: a datagram socket at a path, or '@' and a name in the abstract namespace.
class NotifySocket {
public:
    explicit NotifySocket(std::string name) : name_(std::move(name)) {
        fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::memcpy(addr.sun_path, name_.data(), name_.size());
        if (name_[0] == '@') addr.sun_path[0] = '\0';
        const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name_.size() +
                                                (name_[0] == '@' ? 0 : 1));
        bound_ = fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) == 0;
    }
    ~NotifySocket() {
        if (fd_ >= 0) ::close(fd_);
    }
    bool bound() const { return bound_; }
    const std::string& name() const { return name_; }
    // The next datagram, or nullopt after timeout.
    std::optional<std::string> receive(std::chrono::milliseconds timeout) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) return std::nullopt;
        char buf[4096];
        const auto n = ::recv(fd_, buf, sizeof buf, 0);
        if (n < 0) return std::nullopt;
        return std::string(buf, static_cast<std::size_t>(n));
    }
    // Datagrams until one contains `what`; nullopt when none does within timeout.
    std::optional<std::string> receive_until(const std::string& what,
                                             std::chrono::milliseconds timeout) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            auto d = receive(left);
            if (!d) return std::nullopt;
            if (d->find(what) != std::string::npos) return d;
        }
        return std::nullopt;
    }

private:
    std::string name_;
    int fd_ = -1;
    bool bound_ = false;
};

struct Started {
    std::unique_ptr<Process> agent;
    std::uint16_t api_port = 0;
    std::string token;
};

Started start(const TempDir& home, const std::string& notify_socket,
              std::vector<std::string> extra_args = {}) {
    std::vector<std::string> args = {
        "start", "--foreground", "--home", home.path().string(), "--port", "0", "--api-port", "0"};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    Started s;
    s.agent = std::make_unique<Process>(
        agent_binary(), args,
        std::vector<std::string>{"NOTIFY_SOCKET=" + notify_socket, "WATCHDOG_USEC=400000"});
    const auto ready = s.agent->read_line(20s);
    if (!ready) return s;
    const auto at = ready->find(" api=http://127.0.0.1:");
    if (at == std::string::npos) return s;
    s.api_port = static_cast<std::uint16_t>(std::stoi(ready->substr(at + 22)));
    s.token = read_text_file(home / "api.token");
    s.token.erase(s.token.find_last_not_of('\n') + 1);
    return s;
}

std::optional<HttpResponse> probe(const Started& s, const std::string& target) {
    HttpClient client(s.api_port);
    return client.request("GET", target,
                          {{"Host", "127.0.0.1:" + std::to_string(s.api_port)},
                           {"Authorization", "Bearer " + s.token}});
}

TEST(ServiceBinary, TellsTheManagerItIsReadyFeedsTheWatchdogAndSaysWhenItStops) {
    TempDir home;
    NotifySocket manager((home / "notify.sock").string());
    ASSERT_TRUE(manager.bound());
    auto s = start(home, manager.name());
    ASSERT_NE(s.api_port, 0) << s.agent->drain_stderr();

    // No seed: a new mesh, ready at once.
    const auto ready = manager.receive_until("READY=1", 10s);
    ASSERT_TRUE(ready.has_value());
    EXPECT_NE(ready->find("STATUS=0 peers, "), std::string::npos) << *ready;
    EXPECT_NE(ready->find("not enrolled"), std::string::npos) << *ready;
    // WatchdogSec=400ms: a keep-alive every 200 ms, with the status.
    for (int i = 0; i < 3; ++i) {
        const auto alive = manager.receive_until("WATCHDOG=1", 2s);
        ASSERT_TRUE(alive.has_value()) << "keep-alive " << i;
        EXPECT_NE(alive->find("STATUS="), std::string::npos) << *alive;
    }
    const auto live = probe(s, "/local/health/live");
    ASSERT_TRUE(live);
    EXPECT_EQ(live->status, 200);
    const auto ready_probe = probe(s, "/local/health/ready");
    ASSERT_TRUE(ready_probe);
    EXPECT_EQ(ready_probe->status, 200) << ready_probe->body;

    s.agent->signal(SIGTERM);
    EXPECT_TRUE(manager.receive_until("STOPPING=1", 5s).has_value());
    EXPECT_EQ(s.agent->wait(10s), 0);
}

TEST(ServiceBinary, ANodeWhoseSeedsAreDownIsLiveAndStartedButNotReady) {
    TempDir home;
    // The abstract namespace, as systemd uses for some managers.
    NotifySocket manager("@nocturne-test-" + std::to_string(::getpid()));
    ASSERT_TRUE(manager.bound());
    auto s = start(home, manager.name(), {"--bootstrap", "ws://127.0.0.1:1"});
    ASSERT_NE(s.api_port, 0) << s.agent->drain_stderr();

    // Started for the manager after its first attempt (it serves its API and retries), and its
    // status says so; not ready for an orchestrator until a peer answers.
    const auto ready = manager.receive_until("READY=1", 20s);
    ASSERT_TRUE(ready.has_value());
    EXPECT_NE(ready->find("bootstrap retrying"), std::string::npos) << *ready;
    const auto live = probe(s, "/local/health/live");
    ASSERT_TRUE(live);
    EXPECT_EQ(live->status, 200);
    const auto not_ready = probe(s, "/local/health/ready");
    ASSERT_TRUE(not_ready);
    EXPECT_EQ(not_ready->status, 503);
    EXPECT_EQ(nlohmann::json::parse(not_ready->body)["error"]["code"], "not_ready");
    const auto health = probe(s, "/local/health");
    ASSERT_TRUE(health);
    EXPECT_EQ(nlohmann::json::parse(health->body)["ready"], false);

    s.agent->signal(SIGTERM);
    EXPECT_EQ(s.agent->wait(10s), 0);
}

TEST(ServiceBinary, WithoutANotifySocketNothingChanges) {
    TempDir home;
    auto s = start(home, "");
    ASSERT_NE(s.api_port, 0) << s.agent->drain_stderr();
    const auto health = probe(s, "/local/health");
    ASSERT_TRUE(health);
    EXPECT_EQ(health->status, 200);
    s.agent->signal(SIGTERM);
    EXPECT_EQ(s.agent->wait(10s), 0);
}

// Runs `start --foreground` through a shell that sets JOURNAL_STREAM to its stderr's device and
// inode, as systemd does for a service whose output goes to the journal; returns stderr.
std::string journal_run(const TempDir& home, const std::vector<std::string>& env,
                        const std::string& extra_args) {
    const std::string command = "JOURNAL_STREAM=$(stat -L -c %d:%i /proc/self/fd/2) exec '" +
                                agent_binary() + "' start --foreground --home '" +
                                home.path().string() + "' --port 0 --api-port 0 " + extra_args;
    Process shell("/bin/sh", {"-c", command}, env);
    if (!shell.read_line(20s)) return "no ready line: " + shell.drain_stderr();
    if (!shell.read_line(20s)) return "no bootstrap line: " + shell.drain_stderr();
    shell.signal(SIGTERM);
    EXPECT_EQ(shell.wait(10s), 0);
    return shell.drain_stderr();
}

TEST(ServiceBinary,
     UnderTheJournalEachLineCarriesItsPriorityAndTheLevelComesFromFlagOrEnvironment) {
    {
        TempDir home;
        // A seed that refuses: its dial failure is a debug line, the bootstrap's outcome a warning.
        const auto err = journal_run(home, {}, "--log-level debug --bootstrap ws://127.0.0.1:1");
        EXPECT_NE(err.find("<6>local API on http://127.0.0.1:"), std::string::npos) << err;
        EXPECT_NE(err.find("\n<7>net: dial to"), std::string::npos) << err;
        EXPECT_NE(err.find("\n<4>bootstrap: none of the 1 seed(s) answered"), std::string::npos)
            << err;
        // No timestamps: the journal stamps each line.
        EXPECT_EQ(err.find("[20"), std::string::npos) << err;
        for (std::size_t at = 0, end; (end = err.find('\n', at)) != std::string::npos;
             at = end + 1) {
            EXPECT_EQ(err[at], '<') << err.substr(at, end - at);
        }
    }
    {
        // NOCTURNE_LOG_LEVEL, e.g. from /etc/default/nocturne-agent: warnings only.
        TempDir home;
        const auto err =
            journal_run(home, {"NOCTURNE_LOG_LEVEL=warn"}, "--bootstrap ws://127.0.0.1:1");
        EXPECT_EQ(err.find("<6>"), std::string::npos) << err;
        EXPECT_EQ(err.find("<7>"), std::string::npos) << err;
        EXPECT_NE(err.find("<4>bootstrap: none"), std::string::npos) << err;
    }
    {
        // Outside the journal (a terminal, a container): timestamped lines, no prefix.
        TempDir home;
        Process agent(agent_binary(), {"start", "--foreground", "--home", home.path().string(),
                                       "--port", "0", "--api-port", "0"});
        ASSERT_TRUE(agent.read_line(20s));
        agent.signal(SIGTERM);
        EXPECT_EQ(agent.wait(10s), 0);
        const auto err = agent.drain_stderr();
        EXPECT_EQ(err.find("<6>"), std::string::npos) << err;
        EXPECT_NE(err.find("[info] local API on"), std::string::npos) << err;
    }
}

}  // namespace
}  // namespace nocturne::test
