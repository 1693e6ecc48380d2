#include <nocturne/app/daemon_commands.hpp>
#include <nocturne/app/home.hpp>
#include <nocturne/app/local_client.hpp>
#include <nocturne/app/runtime_info.hpp>
#include <nocturne/core/file_io.hpp>

#include <nlohmann/json.hpp>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <string>
#include <thread>

#include "command_support.hpp"

namespace nocturne::app {

using detail::fail;

int run_status(const std::filesystem::path& home, std::ostream& out, std::ostream& err) {
    auto info = load_runtime_info(home);
    if (!home_in_use(home) || !info || !is_running(info->pid)) {
        out << "running=no\nhome=" << home.string() << "\n";
        return 3;
    }
    out << "running=yes\npid=" << info->pid << "\nnode_id=" << info->node_id
        << "\naddress=" << info->peer_address << "\napi=" << info->api_url << "\n";
    auto token = read_private_file(HomeLayout{home}.api_token(), 128);
    if (!token) {
        return fail(err, "cannot read the API token " + HomeLayout{home}.api_token().string() +
                             ": " + token.error().message());
    }
    const auto end = token->find_first_of("\r\n");
    auto res = local_request(info->api_port, "GET", "/local/health", token->substr(0, end));
    if (!res || res->status != 200) {
        out << "health=unreachable\n";
        return fail(err, "the node runs but its API does not answer" +
                             (res ? " (HTTP " + std::to_string(res->status) + ")"
                                  : ": " + res.error().message()));
    }
    auto health = nlohmann::json::parse(res->body, nullptr, false);
    if (health.is_discarded() || !health.is_object()) {
        return fail(err, "unreadable health answer");
    }
    out << "health=" << health.value("status", "?") << "\n"
        << "network=" << health.value("network", "") << "\n"
        << "peers=" << health.value("routing_table", 0) << "\n"
        << "routing_table=" << health.value("routing_table", 0) << "\n"
        << "store_records=" << health.value("store_records", 0) << "\n"
        << "enrolled=" << (health.value("enrolled", false) ? "yes" : "no") << "\n"
        << "operator_id=" << health.value("operator_id", "") << "\n"
        << "trust=" << health.value("trust", "") << "\n"
        << "uptime_seconds=" << health.value("uptime_seconds", 0) << "\n"
        << "revoked_operators=" << health.value("revoked_operators", 0) << "\n"
        << "quarantined_operators=" << health.value("quarantined_operators", 0) << "\n"
        << "anomaly_reports=" << health.value("anomaly_reports", 0) << "\n";
    // One line per gossip class: what reached this node, what it passed on, what it refused or
    // shed under load.
    if (const auto g = health.find("gossip"); g != health.end() && g->is_object()) {
        for (const char* cls : {"revocation", "quarantine", "certificate", "anomaly"}) {
            const auto c = g->find(cls);
            if (c == g->end() || !c->is_object()) continue;
            out << "gossip_" << cls << "=received:" << c->value("received", 0)
                << " forwarded:" << c->value("forwarded", 0)
                << " duplicates:" << c->value("duplicates", 0)
                << " refused:" << c->value("refused", 0) << " shed:" << c->value("shed", 0) << "\n";
        }
        out << "gossip_sync=syncs:" << g->value("syncs", 0)
            << " synced_items:" << g->value("synced_items", 0) << " held:" << g->value("held", 0)
            << "\n";
    }
    return 0;
}

int run_stop(const std::filesystem::path& home, std::chrono::seconds timeout, std::ostream& out,
             std::ostream& err) {
    auto info = load_runtime_info(home);
    // No lock holder: whatever node.json says is left over from a crash, and its pid may belong
    // to an unrelated process by now.
    if (!home_in_use(home) || !info || !is_running(info->pid)) {
        out << "running=no\n";
        return 0;
    }
    if (::kill(info->pid, SIGTERM) != 0) {
        return fail(err,
                    "cannot signal pid " + std::to_string(info->pid) + ": " + std::strerror(errno));
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (is_running(info->pid)) {
        if (std::chrono::steady_clock::now() >= deadline) {
            return fail(err, "the node (pid " + std::to_string(info->pid) +
                                 ") did not stop within " + std::to_string(timeout.count()) + " s");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    out << "stopped pid=" << info->pid << "\n";
    return 0;
}

}  // namespace nocturne::app
