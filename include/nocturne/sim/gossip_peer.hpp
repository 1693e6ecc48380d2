#pragma once

#include <nocturne/core/clock.hpp>
#include <nocturne/dht/node.hpp>
#include <nocturne/gossip/gossip_service.hpp>
#include <nocturne/sim/simulation.hpp>
#include <nocturne/store/memory_store.hpp>
#include <nocturne/trust/genesis.hpp>
#include <nocturne/trust/trust_state.hpp>

#include <map>
#include <string>

namespace nocturne::sim {

// A simulated peer that hosts what the agent hosts for gossip, unchanged: its DHT node, its trust
// state (which tells the gossip layer what it learns, as in agent::Agent) and the gossip service.
// Lighter than a whole agent, so that the simulator runs 10,000 of them; it records when it
// learned each revocation, quarantine and anomaly report, for the figures.
//
// Owned by the simulator's thread, like the simulation.
class GossipPeer final : public Participant {
public:
    GossipPeer(dht::Transport& transport, const NodeId& id, const std::string& address,
               const Clock& clock, const trust::Genesis& genesis, dht::NodeConfig node_config,
               gossip::GossipOptions options);
    ~GossipPeer() override;

    void on_message(dht::InboundMessage msg) override { node_.on_message(std::move(msg)); }
    void on_undeliverable(const std::string& id) override { node_.on_undeliverable(id); }
    void tick() override;
    Clock::time_point next_wakeup() const override;

    dht::Node& node() { return node_; }
    trust::TrustState& trust() { return trust_; }
    gossip::GossipService& gossip() { return gossip_; }
    // When this node learned each revocation, quarantine or report, by the record's signature.
    const std::map<crypto::Signature, Clock::time_point>& learned() const { return learned_; }
    bool learned(const wire::Record& r) const { return learned_.count(r.sig) != 0; }

private:
    const Clock& clock_;
    store::MemoryStore records_, trust_store_;
    trust::TrustState trust_;
    dht::Node node_;
    gossip::GossipService gossip_;
    std::map<crypto::Signature, Clock::time_point> learned_;
};

}  // namespace nocturne::sim
