#pragma once

#include <nocturne/api/router.hpp>
#include <nocturne/app/node_trust.hpp>
#include <nocturne/core/clock.hpp>
#include <nocturne/dht/node.hpp>
#include <nocturne/store/store.hpp>

#include <cstdint>
#include <functional>
#include <string>

namespace nocturne::api {

// What the /local/* endpoints read and drive: the node and its store, its trust, and facts of the
// running daemon. The references must outlive the router built from it.
struct LocalApiContext {
    dht::Node& node;
    store::Store& store;
    app::NodeTrust& trust;
    const Clock& clock;
    std::string version;
    std::string network;
    Clock::time_point started;
};

// Adds GET /local/health and GET /local/peers to `router` (docs/api.md has the bodies).
void add_node_routes(Router& router, const LocalApiContext& context);

}  // namespace nocturne::api
