#include "support/daemon.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <fstream>
#include <iostream>
#include <thread>

#include "support/agent_cli.hpp"
#include "support/netns_lab.hpp"

namespace nocturne::test {

using namespace std::chrono_literals;
using nlohmann::json;

Daemon::Daemon(const std::filesystem::path& home, const std::filesystem::path& genesis,
               const std::string& bootstrap, std::vector<std::string> extra_args, std::string netns)
    : home_(home), netns_(std::move(netns)) {
    std::vector<std::string> args = {"start",       "--foreground",  "--home",
                                     home.string(), "--api-port",    "0",
                                     "--genesis",   genesis.string()};
    if (std::find(extra_args.begin(), extra_args.end(), "--port") == extra_args.end()) {
        args.insert(args.end(), {"--port", "0"});
    }
    // Every peer of a loopback mesh is on 127.0.0.1: without --loopback-peers the routing
    // table's address diversity limit would keep all but three of them out.
    if (netns_.empty()) args.push_back("--loopback-peers");
    if (!bootstrap.empty()) {
        args.push_back("--bootstrap");
        args.push_back(bootstrap);
    }
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    if (netns_.empty()) {
        process_ = std::make_unique<Process>(agent_binary(), args);
    } else {
        // `ip netns exec` execs the agent: the pid, and the signals sent to it, are the node's.
        args.insert(args.begin(), {"netns", "exec", netns_, agent_binary()});
        process_ = std::make_unique<Process>(ip_binary(), args);
    }
    const auto ready = process_->read_line(20s);
    if (!ready || ready->rfind("ready ", 0) != 0) {
        ADD_FAILURE() << "no ready line: " << ready.value_or("") << process_->drain_stderr();
        return;
    }
    const auto at = ready->find(" address=") + 9;
    address_ = ready->substr(at, ready->find(' ', at) - at);
    port_ = static_cast<std::uint16_t>(
        std::stoi(ready->substr(ready->find(" api=http://127.0.0.1:") + 22)));
    token_ = read_text_file(home / "api.token");
    token_.erase(token_.find_last_not_of('\n') + 1);
    EXPECT_TRUE(process_->read_line(30s).has_value());  // bootstrapped
}

std::optional<HttpResponse> Daemon::call(const std::string& method, const std::string& target,
                                         const std::string& body) const {
    HeaderList headers = {{"Host", "127.0.0.1:" + std::to_string(port_)},
                          {"Authorization", "Bearer " + token_}};
    if (!body.empty()) headers.emplace_back("Content-Type", "application/json");
    // As long as the daemon may take to answer (its handler timeout, 30 s), and a little more.
    constexpr auto timeout = 35s;
    if (netns_.empty()) {
        HttpClient client(port_);
        return client.request(method, target, headers, body, timeout);
    }
    std::optional<HttpResponse> out;
    run_in_netns(netns_, [&] {
        HttpClient client(port_);
        out = client.request(method, target, headers, body, timeout);
    });
    return out;
}

json Daemon::publish(const json& entry, int expected_status) const {
    const auto r = call("POST", "/local/knowledge", entry.dump());
    EXPECT_TRUE(r.has_value());
    if (!r) return {};
    EXPECT_EQ(r->status, expected_status) << r->body;
    return json::parse(r->body, nullptr, false);
}

std::pair<std::set<std::string>, json> Daemon::query(const std::string& params) const {
    const auto r = call("GET", "/local/knowledge?" + params);
    EXPECT_TRUE(r.has_value());
    if (!r) return {};
    EXPECT_EQ(r->status, 200) << r->body;
    auto body = json::parse(r->body, nullptr, false);
    std::set<std::string> ids;
    if (body.contains("entries")) {
        for (const auto& e : body["entries"]) ids.insert(e["id"].get<std::string>());
    }
    return {ids, body};
}

json Daemon::peers() const {
    const auto r = call("GET", "/local/peers");
    EXPECT_TRUE(r && r->status == 200);
    return r ? json::parse(r->body, nullptr, false) : json{};
}

bool Daemon::await_peers(std::size_t n, std::chrono::milliseconds timeout) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        const auto p = peers();
        if (p.contains("count") && p["count"].get<std::size_t>() >= n) return true;
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(50ms);
    }
}

std::uint16_t Daemon::peer_port() const {
    return static_cast<std::uint16_t>(std::stoi(address_.substr(address_.rfind(':') + 1)));
}

void Daemon::stop() {
    process_->signal(SIGTERM);
    // Peers that do not answer our closing handshake are cut off after 5 s.
    const auto code = process_->wait(15s);
    auto log = process_->drain_stderr();
    if (code == 0) {
        // Stopped by its shutdown deadline: not the test's failure, but a bug worth its log.
        if (log.find("shutdown: not done") != std::string::npos) {
            std::cerr << "[ note ] a daemon needed its shutdown deadline; its log:\n" << log;
        }
        return;
    }
    if (log.size() > 6000) log.erase(0, log.size() - 6000);
    ADD_FAILURE() << (code ? "the node exited with " + std::to_string(*code)
                           : std::string("the node did not exit within 15 s of SIGTERM"))
                  << "; the end of its log:\n"
                  << log;
}

void Daemon::kill9() {
    process_->signal(SIGKILL);
    process_->wait(5s);
}

json entry(const std::string& domain, const std::string& id, const std::string& title,
           double confidence) {
    return {{"domain", domain}, {"id", id},
            {"title", title},   {"content", "Body of " + title},
            {"tags", {"test"}}, {"confidence", confidence}};
}

namespace {

std::size_t status_kib(pid_t pid, const std::string& field) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind(field, 0) == 0) return std::stoul(line.substr(field.size()));
    }
    return 0;
}

}  // namespace

std::size_t resident_kib(pid_t pid) {
    return status_kib(pid, "VmRSS:");
}
std::size_t peak_resident_kib(pid_t pid) {
    return status_kib(pid, "VmHWM:");
}

}  // namespace nocturne::test
