#pragma once

#include <nocturne/agent/agent.hpp>
#include <nocturne/core/clock.hpp>
#include <nocturne/dht/node.hpp>
#include <nocturne/store/memory_store.hpp>
#include <nocturne/trust/genesis.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <random>
#include <string>
#include <vector>

namespace nocturne::sim {

// Something the simulator hosts besides nodes and agents: an adversary that answers messages its
// own way (see sybil.hpp). It sends through the transport it is given.
class Participant : public dht::MessageSink {
public:
    virtual void tick() {}
    virtual Clock::time_point next_wakeup() const { return Clock::time_point::max(); }
};

struct SimConfig {
    std::uint64_t seed = 1;
    // One-way latency of each message, uniform in [min, max].
    Clock::duration latency_min = std::chrono::milliseconds(10);
    Clock::duration latency_max = std::chrono::milliseconds(100);
    double loss = 0.0;     // probability that a message is dropped
    dht::NodeConfig node;  // also the node config of agents (add_agent)
};

struct NetStats {
    std::uint64_t sent = 0;
    std::uint64_t delivered = 0;
    std::uint64_t lost = 0;           // random loss
    std::uint64_t to_dead = 0;        // addressed to a killed node
    std::uint64_t partitioned = 0;    // crossed a partition
    std::uint64_t undeliverable = 0;  // dial-backs that found nobody, or another node
    std::map<std::string, std::uint64_t> sent_by_type;  // "FIND_NODE", "RESPONSE", ...
};

// Thousands of unmodified nodes in one process, on a virtual clock, joined by a simulated network
// with latency, loss, partitions and churn: bare dht::Node instances (add_node, for the DHT's own
// figures) or whole agents, the class the daemon runs (add_agent: Web of Trust, services).
// Everything random comes from one seeded generator, so a run repeats exactly.
//
// Owned by the thread that runs it; not thread-safe.
class Simulation {
public:
    explicit Simulation(SimConfig config);
    ~Simulation();
    Simulation(const Simulation&) = delete;
    Simulation& operator=(const Simulation&) = delete;

    // Adds a node with a random id (from the seed), or with `id` (a node whose key a test holds),
    // and returns its index. It knows nobody yet.
    std::size_t add_node(std::optional<NodeId> id = std::nullopt);
    // Adds a node and bootstraps it from `seed` (an index); runs until its bootstrap completes.
    std::size_t join(std::size_t seed, std::optional<NodeId> id = std::nullopt);
    // Adds an agent with this key in the mesh of `genesis` (its stores in memory) and returns its
    // index. It knows nobody yet: bootstrap() it. skew: how far its clock is off the simulator's
    // (machines' clocks disagree; the network's latency does not depend on it).
    std::size_t add_agent(const crypto::KeyPair& keys, trust::Genesis genesis,
                          agent::AgentConfig config = {}, Clock::duration skew = {});
    // Bootstraps node or agent i from `seed` (an index) and runs until that completes.
    void bootstrap(std::size_t i, std::size_t seed);
    // Bootstraps each (node, seed) pair at once and runs until all complete: nodes joining
    // together, as they do in a real mesh (and in far less virtual time than one by one, during
    // which every node already there keeps ticking).
    void bootstrap_all(const std::vector<std::pair<std::size_t, std::size_t>>& joins);
    // Adds a participant built by `make` (given its transport, id and address) and returns its
    // index. node(i) and agent(i) are not for it.
    using ParticipantFactory = std::function<std::unique_ptr<Participant>(
        dht::Transport& transport, const NodeId& id, const std::string& address)>;
    std::size_t add_participant(const NodeId& id, const ParticipantFactory& make);
    // The address a node of index i has (ws://10.x.y.z:9090, its own /24).
    static std::string address_of(std::size_t i);
    // add_agent, then bootstrap.
    std::size_t join_agent(std::size_t seed, const crypto::KeyPair& keys, trust::Genesis genesis,
                           agent::AgentConfig config = {});

    // The node of index i (an agent's own node for agents).
    dht::Node& node(std::size_t i);
    // The agent of index i; only for indexes add_agent returned.
    agent::Agent& agent(std::size_t i);
    bool is_agent(std::size_t i) const;
    store::MemoryStore& store(std::size_t i);
    std::size_t size() const { return nodes_.size(); }
    wire::Contact contact(std::size_t i) const;

    // A killed node drops everything sent to it and never ticks; revive brings it back as it was.
    void kill(std::size_t i);
    void revive(std::size_t i);
    bool alive(std::size_t i) const;
    // Nodes in different groups cannot reach each other; all start in group 0.
    void set_group(std::size_t i, int group);
    void heal();

    // Processes events until none is left that is due before `deadline` (virtual time), or until
    // `until` returns true (checked after each event). Returns the number of events processed.
    std::size_t run_until(Clock::time_point deadline, const std::function<bool()>& until = {});
    std::size_t run_for(Clock::duration d, const std::function<bool()>& until = {}) {
        return run_until(clock_.now() + d, until);
    }

    // Sees every message as it is sent (before loss and latency): tests read request ids and
    // count traffic with it. Empty: none.
    using Tap = std::function<void(std::size_t from, const wire::Contact& to, const dht::Message&)>;
    void set_tap(Tap tap) { tap_ = std::move(tap); }

    // Message loss can change mid-run (e.g. build the mesh cleanly, then measure under loss).
    void set_loss(double loss) { config_.loss = loss; }

    ManualClock& clock() { return clock_; }
    std::mt19937_64& rng() { return rng_; }
    const NetStats& net_stats() const { return stats_; }

    // The live node closest to target by XOR distance (global knowledge: for judging lookups).
    std::size_t closest_live(const NodeId& target) const;

private:
    struct SimNode;
    class SimTransport;
    struct Event {
        Clock::time_point at;
        std::uint64_t seq;  // FIFO among equal times: keeps runs deterministic
        std::size_t to;
        // wake: tick the node; message: deliver it; failed: tell the node message.id cannot be
        // delivered (a dial-back that found nobody, or somebody else).
        enum class Kind { wake, message, failed } kind;
        dht::InboundMessage message;
        bool operator>(const Event& o) const { return at != o.at ? at > o.at : seq > o.seq; }
    };

    void deliver(std::size_t from, const wire::Contact& to, dht::Message msg);
    void schedule_wake(std::size_t i);
    std::size_t place(std::unique_ptr<SimNode> node, const NodeId& id);
    std::size_t index_of(const wire::Contact& to) const;

    SimConfig config_;
    ManualClock clock_;
    std::mt19937_64 rng_;
    std::vector<std::unique_ptr<SimNode>> nodes_;
    std::unordered_map<NodeId, std::size_t, NodeIdHash> by_id_;
    std::unordered_map<std::string, std::size_t> by_address_;
    std::priority_queue<Event, std::vector<Event>, std::greater<>> events_;
    std::uint64_t seq_ = 0;
    NetStats stats_;
    Tap tap_;
};

}  // namespace nocturne::sim
