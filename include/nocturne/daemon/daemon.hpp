#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace nocturne::daemon {

struct DaemonConfig {
    std::filesystem::path home;
    std::string listen_host = "127.0.0.1";
    std::uint16_t port = 47100;                         // 0: any free port (tests)
    std::string advertised_address;                     // empty: ws://<listen_host>:<bound port>
    std::vector<std::string> bootstrap;                 // ws://host:port of peers to join through
    std::optional<std::filesystem::path> genesis_file;  // --genesis; default: the built-in one
    std::uint16_t api_port = 47101;                     // local HTTP API on 127.0.0.1; 0: any
    std::string version;                                // reported by /local/health
    // Loopback peers count as separate networks in the routing table's diversity limits: for a
    // mesh whose nodes share this host (tests, a dev mesh). Off by default: one host can run
    // any number of ids.
    bool loopback_peers = false;
    // The anomaly monitors report, but do not refuse (anomaly::AnomalyOptions::dry_run).
    bool anomaly_dry_run = false;
    // How often the node looks for entries that need a compute task (compute::TaskGenerator).
    std::chrono::milliseconds task_scan_period = std::chrono::minutes(1);
    // Called once the node listens (peers and API) and has printed its ready line: the
    // background starter detaches from the terminal here.
    std::function<void()> on_ready;
};

// Runs a node until SIGINT/SIGTERM: the agent (agent::Agent: DHT node, Web of Trust, services) on
// the home's SQLite stores, a WebSocket transport for its peers, the local HTTP API (docs/api.md)
// with its token file, one timer that drives the agent, and the runtime file (node.json, node.pid)
// that `status`, `stop` and the MCP shim read. Joins through the saved peers, then the --bootstrap
// seeds. Prints "ready node_id=<hex> address=<ws://...> api=<http://...> enrolled=yes|no" on
// stdout once listening, and "bootstrapped peers=<n>" once the first bootstrap completes. Returns
// the process exit code; start-up problems are reported on stderr as one line.
int run_daemon(const DaemonConfig& config);

}  // namespace nocturne::daemon
