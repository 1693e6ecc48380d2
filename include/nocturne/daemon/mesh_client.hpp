#pragma once

#include <nocturne/app/mesh_access.hpp>
#include <nocturne/crypto/keys.hpp>
#include <nocturne/trust/trust_state.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace nocturne::daemon {

// A short-lived DHT node for one-shot commands (enroll, revoke publish): it joins through the
// given seeds with a throwaway key and no listening socket (nobody adds it to a routing table),
// runs lookups and puts to completion, and leaves. Its record policy learns into `state`, so the
// certificates found on the mesh become known to the command.
//
// Each call runs its own io_context on the calling thread until the operation completes.
// Owned by that thread; not thread-safe.
class MeshClient final : public app::MeshAccess {
public:
    // identity: the key to speak as (a test acting as an enrolled node); default a fresh one.
    explicit MeshClient(trust::TrustState& state,
                        std::chrono::seconds timeout = std::chrono::seconds(20),
                        std::optional<crypto::KeyPair> identity = std::nullopt);
    ~MeshClient() override;
    MeshClient(const MeshClient&) = delete;
    MeshClient& operator=(const MeshClient&) = delete;

    // Pings the seeds (ws://host:port) and fills the routing table; returns its size.
    std::size_t join(const std::vector<std::string>& seeds);

    std::size_t peers() const override;
    dht::LookupResult get(const NodeId& key) override;
    dht::PutResult put(const wire::Record& record) override;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace nocturne::daemon
