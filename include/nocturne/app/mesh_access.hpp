#pragma once

#include <nocturne/core/node_id.hpp>
#include <nocturne/dht/lookup.hpp>
#include <nocturne/dht/node.hpp>
#include <nocturne/wire/record.hpp>

#include <cstddef>

namespace nocturne::app {

// The mesh as a one-shot command (enroll, revoke publish) uses it: blocking lookups and puts. The
// daemon's node is not involved; net::MeshClient joins for the duration of the command with a
// throwaway key, so it runs beside a daemon on the same home.
class MeshAccess {
public:
    virtual ~MeshAccess() = default;
    // Peers in the routing table after joining; 0 when no seed answered.
    virtual std::size_t peers() const = 0;
    virtual dht::LookupResult get(const NodeId& key) = 0;
    virtual dht::PutResult put(const wire::Record& record) = 0;
};

}  // namespace nocturne::app
