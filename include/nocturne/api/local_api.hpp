#pragma once

#include <nocturne/agent/agent.hpp>
#include <nocturne/api/router.hpp>
#include <nocturne/core/clock.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace nocturne::api {

// Facts of the running daemon that /local/health reports besides the agent's own.
struct DaemonFacts {
    std::string version;
    Clock::time_point started;
    // The transport's back-pressure and session counters by name (health's "transport"), read
    // when asked: the api layer does not see the transport.
    std::function<std::vector<std::pair<std::string, std::uint64_t>>()> transport_counters = {};
    // Live peer sessions (handshaking ones included), for the metrics.
    std::function<std::size_t()> live_sessions = {};
};

// Adds GET /local/health and GET /local/peers to `router` (docs/api.md has the bodies). The agent
// must outlive the router.
void add_node_routes(Router& router, agent::Agent& agent, DaemonFacts facts);

}  // namespace nocturne::api
