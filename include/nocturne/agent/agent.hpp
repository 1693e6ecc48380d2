#pragma once

#include <nocturne/anomaly/anomaly_service.hpp>
#include <nocturne/compute/awareness_service.hpp>
#include <nocturne/compute/compute_service.hpp>
#include <nocturne/core/clock.hpp>
#include <nocturne/core/error.hpp>
#include <nocturne/crypto/keys.hpp>
#include <nocturne/dht/node.hpp>
#include <nocturne/gossip/gossip_service.hpp>
#include <nocturne/knowledge/knowledge_service.hpp>
#include <nocturne/store/store.hpp>
#include <nocturne/trust/genesis.hpp>
#include <nocturne/trust/trust_policy.hpp>
#include <nocturne/trust/trust_state.hpp>
#include <nocturne/vote/vote_service.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace nocturne::agent {

struct AgentConfig {
    dht::NodeConfig node;
    knowledge::ServiceOptions knowledge;
    // Compute tasks; rules.claim_seconds is taken from the genesis (the mesh's storers share it).
    compute::ComputeOptions compute;
    // This node's certificates are re-read (AgentHooks::poll_credentials) this often: `enroll`
    // rewrites them while the node runs.
    Clock::duration credentials_period = std::chrono::seconds(2);
    // The routing table is saved (AgentHooks::save_peers) this often, and on stop().
    Clock::duration snapshot_period = std::chrono::minutes(5);
    // Revocations, quarantines, certificates and anomaly reports (seed 0: the node's, when set).
    gossip::GossipOptions gossip;
    // The rate caps and reports (dry_run: report, do not refuse).
    anomaly::AnomalyOptions anomaly;
    // A bootstrap that left the routing table empty is tried again after this, doubling up to
    // bootstrap_retry_max: a newcomer whose seeds were busy (or under attack) joins once they
    // answer. The table found empty later is refilled the same way.
    Clock::duration bootstrap_retry_min = std::chrono::seconds(5);
    Clock::duration bootstrap_retry_max = std::chrono::minutes(5);
};

// What the host keeps for the agent outside the protocol: files in a daemon's home, nothing in
// the simulator. Every hook may be empty.
struct AgentHooks {
    // This node's own credentials (the records `enroll` wrote) when they changed since the last
    // call; nullopt when unchanged; an error (with its detail) when they cannot be read.
    std::function<std::optional<result<std::vector<wire::Record>>>()> poll_credentials;
    // The routing table's contacts, for the next start.
    std::function<void(const std::vector<wire::Contact>&)> save_peers;
    // This node's standing changed (it enrolled, or lost its standing).
    std::function<void()> standing_changed;
};

// The record stores an agent works on; they outlive it. SQLite files in a daemon's home,
// in-memory stores in the simulator.
struct AgentStores {
    store::Store& records;    // what this node holds as one of the k responsible nodes
    store::Store& trust;      // certificates and revocations it learned
    store::Store& published;  // its own entries (knowledge::PublishedIndex)
};

// What a node does, without I/O: the DHT node, the Web of Trust (state and record policy), and
// the services (knowledge, votes, tasks, anomaly monitors, gossip), with the
// schedules that keep them going: credential watch, certificate republishing, routing-table
// snapshots. Messages arrive through on_message() (it is the transport's sink)
// and time through tick() at next_wakeup(). The daemon hosts it on an io_context with a WebSocket
// transport; the simulator and the tests host the same class on virtual time (rippled's csf::Peer
// hosting the unchanged Consensus; libtorrent's dht_tracker doing only I/O and timers).
//
// Owned by the thread that runs it (the daemon's io_context, or the simulator's thread); not
// thread-safe.
class Agent final : public dht::MessageSink {
public:
    using Standing = trust::TrustState::AgentStanding;

    // keys: the node (agent) key; its records are signed with it. address: where peers dial it
    // ("" for a node that accepts no connections).
    Agent(const crypto::KeyPair& keys, std::string address, const Clock& clock,
          dht::Transport& transport, AgentStores stores, trust::Genesis genesis,
          AgentConfig config = {}, AgentHooks hooks = {});
    ~Agent() override;
    Agent(const Agent&) = delete;
    Agent& operator=(const Agent&) = delete;

    void on_message(dht::InboundMessage msg) override;
    void on_undeliverable(const std::string& message_id) override;
    void tick();
    Clock::time_point next_wakeup() const;

    // Joins through the seeds (saved peers, then configured ones; none: a new mesh). When the
    // first bootstrap completes the agent publishes its certificates, resumes republishing its
    // entries and saves its routing table; then `done` receives the table's size.
    void bootstrap(const std::vector<wire::Contact>& seeds, std::function<void(std::size_t)> done);
    // Saves the routing table (the host is shutting down).
    void stop();
    // Whether the node has joined: its first bootstrap reached a peer, or it had no seed and
    // starts a new mesh. What a readiness probe asks.
    bool bootstrapped() const { return bootstrapped_; }

    // Learns this node's credentials (what `enroll` wrote: its operator's certificate, its agent
    // certificate and the endorsers' chain) and, when its standing changed, publishes its own
    // certificates and tells the services.
    void use_credentials(const std::vector<wire::Record>& records);

    result<Standing> standing() const;
    // What this node presents to its peers when a session is set up: its agent certificate and
    // its operator's chain (empty when it is not enrolled). A new object whenever they change.
    dht::PeerCredentials session_credentials() const { return session_credentials_; }
    // One line for logs and status: "enrolled operator_id=... agent_index=... depth=..." or why
    // not.
    std::string describe_standing() const;

    const NodeId& id() const { return node_.id(); }
    const std::string& network() const;
    const crypto::KeyPair& keys() const { return keys_; }
    const Clock& clock() const { return clock_; }
    dht::Node& node() { return node_; }
    const dht::Node& node() const { return node_; }
    trust::TrustState& trust() { return trust_; }
    const trust::TrustState& trust() const { return trust_; }
    store::Store& records() { return stores_.records; }
    knowledge::KnowledgeService& knowledge() { return knowledge_; }
    vote::VoteService& votes() { return votes_; }
    compute::ComputeService& compute() { return compute_; }
    compute::AwarenessService& awareness() { return awareness_; }
    gossip::GossipService& gossip() { return gossip_; }
    anomaly::AnomalyService& anomaly() { return anomaly_; }
    const anomaly::AnomalyService& anomaly() const { return anomaly_; }
    const gossip::GossipService& gossip() const { return gossip_; }

private:
    void on_bootstrapped();
    void retry_bootstrap();
    void poll_credentials();
    void publish_own_certificates();
    void save_peers();

    crypto::KeyPair keys_;  // a copy: the services sign with it for the agent's lifetime
    const Clock& clock_;
    AgentStores stores_;
    AgentConfig config_;
    AgentHooks hooks_;
    trust::TrustState trust_;
    trust::TrustPolicy policy_;
    dht::Node node_;
    knowledge::KnowledgeService knowledge_;
    vote::VoteService votes_;
    compute::ComputeService compute_;
    compute::AwarenessService awareness_;
    anomaly::AnomalyService anomaly_;
    gossip::GossipService gossip_;

    std::vector<wire::Record> own_certificates_;
    dht::PeerCredentials session_credentials_ = std::make_shared<const std::vector<wire::Record>>();
    std::vector<wire::Contact> seeds_;
    bool bootstrapping_ = false;
    Clock::duration bootstrap_backoff_{};
    Clock::time_point next_bootstrap_ = Clock::time_point::max();
    std::string credentials_problem_;
    std::string standing_key_;  // operator id and slot last seen, to notice a change
    bool bootstrapped_ = false;
    Clock::time_point next_credentials_;
    Clock::time_point next_snapshot_;
};

}  // namespace nocturne::agent
