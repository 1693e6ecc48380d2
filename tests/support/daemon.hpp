#pragma once

// One nocturne-agent daemon run in the foreground by a test, with a temp home, port 0 and the
// local API called as a client would. The destructor kills a daemon the test did not stop.

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "support/http_client.hpp"
#include "support/process.hpp"

namespace nocturne::test {

// Owned by the test's main thread.
class Daemon {
public:
    // Starts the daemon and waits for its ready line and its first bootstrap outcome. With a
    // netns (support/netns_lab.hpp) it runs there, its peers are not on loopback (pass --host),
    // and call() reaches its API from inside.
    Daemon(const std::filesystem::path& home, const std::filesystem::path& genesis,
           const std::string& bootstrap = "", std::vector<std::string> extra_args = {},
           std::string netns = "");

    std::optional<HttpResponse> call(const std::string& method, const std::string& target,
                                     const std::string& body = "") const;
    // POST /local/knowledge, expecting the status; the parsed answer.
    nlohmann::json publish(const nlohmann::json& entry, int expected_status = 201) const;
    // GET /local/knowledge?params: the ids returned, and the whole answer.
    std::pair<std::set<std::string>, nlohmann::json> query(const std::string& params) const;
    // The routing table's peers (GET /local/peers).
    nlohmann::json peers() const;
    // Waits until the routing table holds at least n peers (a node learns a peer that contacted
    // it only once its dial-back has answered, shortly after that peer's bootstrap).
    bool await_peers(std::size_t n,
                     std::chrono::milliseconds timeout = std::chrono::seconds(15)) const;

    void stop();  // SIGTERM; expects exit code 0
    void kill9();

    bool started() const { return !address_.empty(); }
    const std::string& address() const { return address_; }  // ws://127.0.0.1:port
    std::uint16_t peer_port() const;
    std::uint16_t port() const { return port_; }  // the API's
    pid_t pid() const { return process_->pid(); }
    Process& process() { return *process_; }

private:
    std::filesystem::path home_;
    std::string netns_;
    std::unique_ptr<Process> process_;
    std::string address_;
    std::uint16_t port_ = 0;
    std::string token_;
};

// A knowledge entry as the API takes it.
nlohmann::json entry(const std::string& domain, const std::string& id, const std::string& title,
                     double confidence = 0.8);

// Resident memory of a process in KiB (VmRSS), and its peak so far (VmHWM); 0 when unreadable.
std::size_t resident_kib(pid_t pid);
std::size_t peak_resident_kib(pid_t pid);

}  // namespace nocturne::test
