#include <nocturne/sim/gossip_peer.hpp>

#include <algorithm>

namespace nocturne::sim {

GossipPeer::GossipPeer(dht::Transport& transport, const NodeId& id, const std::string& address,
                       const Clock& clock, const trust::Genesis& genesis,
                       dht::NodeConfig node_config, gossip::GossipOptions options)
    : clock_(clock),
      trust_(genesis, trust_store_, clock.unix_seconds()),
      node_(id, address, clock, transport, records_, node_config),
      gossip_(node_, trust_, clock, options) {
    trust_.on_learned([this](const wire::Record& r) {
        gossip_.offer(r);
        if (r.kind == wire::RecordKind::revocation || r.kind == wire::RecordKind::quarantine ||
            r.kind == wire::RecordKind::anomaly) {
            learned_.emplace(r.sig, clock_.now());
        }
    });
}

GossipPeer::~GossipPeer() {
    trust_.on_learned(nullptr);
}

void GossipPeer::tick() {
    node_.tick();
    gossip_.tick();
}

Clock::time_point GossipPeer::next_wakeup() const {
    return std::min(node_.next_wakeup(), gossip_.next_wakeup());
}

}  // namespace nocturne::sim
