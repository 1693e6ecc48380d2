#include <nocturne/crypto/keys.hpp>
#include <nocturne/daemon/mesh_client.hpp>
#include <nocturne/dht/node.hpp>
#include <nocturne/net/ws_transport.hpp>
#include <nocturne/store/memory_store.hpp>
#include <nocturne/trust/trust_policy.hpp>

#include <boost/asio/io_context.hpp>

#include <memory>
#include <optional>
#include <thread>
#include <utility>

namespace nocturne::daemon {
namespace {

net::WsTransportConfig transport_config(const trust::TrustState& state) {
    net::WsTransportConfig config;
    config.network = trust::network_id(state.genesis());
    return config;
}

// A one-shot command lives for seconds, on the user's own machine: its routing table counts
// loopback peers separately, so that it reaches a mesh of several nodes on this host.
dht::NodeConfig node_config(const trust::Genesis& genesis) {
    dht::NodeConfig config;
    config.table.exempt_loopback = true;
    if (genesis.replication > 0) config.k = static_cast<std::size_t>(genesis.replication);
    return config;
}

}  // namespace

struct MeshClient::Impl {
    Impl(trust::TrustState& state, std::chrono::seconds limit, crypto::KeyPair identity)
        : keys(std::move(identity)),
          transport(io, keys, clock, transport_config(state)),
          node(keys.node_id(), "", clock, transport, store, node_config(state.genesis())),
          policy(state, clock, keys.node_id()),
          timeout(limit) {
        transport.set_sink(&node);
        node.set_policy(&policy);
    }

    ~Impl() {
        transport.close();
        io.restart();
        io.run_for(std::chrono::milliseconds(500));  // let close frames go out
    }

    // Runs the io_context, ticking the node, until `done` holds or the timeout passes.
    template <class Pred>
    bool run_until(Pred done) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (!done()) {
            if (std::chrono::steady_clock::now() >= deadline) return false;
            if (io.stopped()) io.restart();
            // With nothing queued run_for() returns at once: do not spin on an idle context.
            if (io.run_for(std::chrono::milliseconds(20)) == 0) {
                std::this_thread::sleep_for(std::chrono::milliseconds(5));
            }
            node.tick();
        }
        return true;
    }

    boost::asio::io_context io;
    SystemClock clock;
    crypto::KeyPair keys;
    store::MemoryStore store;
    net::WsTransport transport;
    dht::Node node;
    trust::TrustPolicy policy;
    std::chrono::seconds timeout;
};

MeshClient::MeshClient(trust::TrustState& state, std::chrono::seconds timeout,
                       std::optional<crypto::KeyPair> identity)
    : impl_(std::make_unique<Impl>(
          state, timeout, identity ? std::move(*identity) : crypto::KeyPair::generate())) {}

MeshClient::~MeshClient() = default;

// Each operation's result lives in shared state that the node's callback holds: an operation that
// times out may still complete during a later call (or the destructor's last turns), and must
// then write somewhere that still exists.
std::size_t MeshClient::join(const std::vector<std::string>& seeds) {
    std::vector<wire::Contact> contacts;
    for (const auto& s : seeds) contacts.push_back({NodeId{}, s});
    auto size = std::make_shared<std::optional<std::size_t>>();
    impl_->node.bootstrap(contacts, [size](std::size_t n) { *size = n; });
    impl_->run_until([&] { return size->has_value(); });
    return peers();
}

std::size_t MeshClient::peers() const {
    return impl_->node.table().size();
}

dht::LookupResult MeshClient::get(const NodeId& key) {
    auto out = std::make_shared<std::optional<dht::LookupResult>>();
    impl_->node.find_value(key, [out](dht::LookupResult r) { *out = std::move(r); });
    impl_->run_until([&] { return out->has_value(); });
    return out->value_or(dht::LookupResult{});
}

dht::PutResult MeshClient::put(const wire::Record& record) {
    auto out = std::make_shared<std::optional<dht::PutResult>>();
    impl_->node.put(record, [out](dht::PutResult r) { *out = r; });
    impl_->run_until([&] { return out->has_value(); });
    // A put that outlives the command is not republished: withdraw it from the schedule.
    impl_->node.withdraw(record.key);
    return out->value_or(dht::PutResult{});
}

}  // namespace nocturne::daemon
