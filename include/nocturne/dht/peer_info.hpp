#pragma once

#include <nocturne/core/clock.hpp>
#include <nocturne/core/node_id.hpp>

#include <string>

namespace nocturne::dht {

// What the routing table knows about one peer. A plain value: copies travel to lookups and to
// persistence without tying them to the table.
struct PeerInfo {
    NodeId id;
    // Where to dial the peer: "ws://127.0.0.1:9090", "ws://[::1]:9090", "wss://host.example:9090".
    std::string address;
    // The operator that runs the node; empty when unknown.
    std::string operator_id;
    Clock::time_point last_seen{};
    // Consecutive failed requests since the peer last answered.
    unsigned failed_requests = 0;

    friend bool operator==(const PeerInfo&, const PeerInfo&) = default;
};

}  // namespace nocturne::dht
