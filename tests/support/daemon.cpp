#include "support/daemon.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <thread>

#include "support/agent_cli.hpp"

namespace nocturne::test {

using namespace std::chrono_literals;
using nlohmann::json;

Daemon::Daemon(const std::filesystem::path& home, const std::filesystem::path& genesis,
               const std::string& bootstrap, std::vector<std::string> extra_args)
    : home_(home) {
    // Every peer of a test mesh is on 127.0.0.1: without --loopback-peers the routing table's
    // address diversity limit would keep all but three of them out.
    std::vector<std::string> args = {
        "start", "--foreground", "--home",         home.string(),     "--port", "0", "--api-port",
        "0",     "--genesis",    genesis.string(), "--loopback-peers"};
    if (!bootstrap.empty()) {
        args.push_back("--bootstrap");
        args.push_back(bootstrap);
    }
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    process_ = std::make_unique<Process>(agent_binary(), args);
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
    HttpClient client(port_);
    return client.request(method, target, headers, body);
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
    EXPECT_EQ(process_->wait(15s), 0);
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
