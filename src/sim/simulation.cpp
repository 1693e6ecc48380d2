#include <nocturne/knowledge/text_indexing.hpp>
#include <nocturne/sim/simulation.hpp>
#include <nocturne/wire/envelope.hpp>

#include <limits>
#include <string>

namespace nocturne::sim {

// The transport of one simulated node: hands messages to the simulation's event queue.
class Simulation::SimTransport final : public dht::Transport {
public:
    SimTransport(Simulation& sim, std::size_t index) : sim_(sim), index_(index) {}
    void send(const wire::Contact& to, dht::Message msg) override {
        sim_.deliver(index_, to, std::move(msg));
    }

private:
    Simulation& sim_;
    std::size_t index_;
};

// One simulated host: its transport and stores, and either a bare node or a whole agent.
// A node's own clock: the simulator's, off by a fixed skew.
class SkewedClock final : public Clock {
public:
    SkewedClock(const Clock& base, Clock::duration skew) : base_(base), skew_(skew) {}
    time_point now() const override { return base_.now() + skew_; }

private:
    const Clock& base_;
    Clock::duration skew_;
};

struct Simulation::SimNode {
    SimNode(Simulation& sim, std::size_t index) : transport(sim, index) {}
    // Every node its own /24 (10.<i mod 256>.<i / 256 mod 256>.<1 + i / 65536>), so that the
    // routing tables' diversity limits see a real spread of addresses.
    static std::string ip_of(std::size_t index) {
        return "10." + std::to_string(index % 256) + "." + std::to_string((index / 256) % 256) +
               "." + std::to_string(1 + index / 65536);
    }
    static std::string address_of(std::size_t index) { return "ws://" + ip_of(index) + ":9090"; }
    const NodeId& id() const { return participant ? participant_id : dht().id(); }
    const std::string& address() const {
        return participant ? participant_address : dht().address();
    }
    // The certificates the node presents to its peers (its session credentials).
    dht::PeerCredentials credentials() const {
        return agent ? agent->session_credentials() : nullptr;
    }
    dht::Node& dht() { return agent ? agent->node() : *node; }
    const dht::Node& dht() const { return agent ? agent->node() : *node; }
    void on_message(dht::InboundMessage msg) {
        if (participant) {
            participant->on_message(std::move(msg));
        } else if (agent) {
            agent->on_message(std::move(msg));
        } else {
            node->on_message(std::move(msg));
        }
    }
    void on_undeliverable(const std::string& id) {
        if (participant) {
            participant->on_undeliverable(id);
        } else if (agent) {
            agent->on_undeliverable(id);
        } else {
            node->on_undeliverable(id);
        }
    }
    void tick() {
        if (participant) {
            participant->tick();
        } else if (agent) {
            agent->tick();
        } else {
            node->tick();
        }
    }
    // In the simulator's time (an agent's own clock may be skewed).
    Clock::time_point next_wakeup() const {
        if (participant) return participant->next_wakeup();
        if (!agent) return node->next_wakeup();
        const auto t = agent->next_wakeup();
        return t == Clock::time_point::max() ? t : t - skew;
    }

    SimTransport transport;
    store::MemoryStore store{knowledge::text_indexer()};
    store::MemoryStore trust_store;
    store::MemoryStore published;
    std::unique_ptr<dht::Node> node;
    std::unique_ptr<SkewedClock> own_clock;  // an agent's, when skewed
    Clock::duration skew{};
    std::unique_ptr<agent::Agent> agent;
    std::unique_ptr<Participant> participant;
    NodeId participant_id;
    std::string participant_address;
    bool alive = true;
    int group = 0;
    Clock::time_point wake_at = Clock::time_point::max();
};

Simulation::Simulation(SimConfig config) : config_(std::move(config)), rng_(config_.seed) {}

Simulation::~Simulation() = default;

std::size_t Simulation::place(std::unique_ptr<SimNode> node, const NodeId& id) {
    const std::size_t index = nodes_.size();
    nodes_.push_back(std::move(node));
    by_id_.emplace(id, index);
    by_address_.emplace(SimNode::address_of(index), index);
    schedule_wake(index);
    return index;
}

std::size_t Simulation::add_node(std::optional<NodeId> chosen) {
    NodeId id;
    for (auto& b : id.bytes()) b = static_cast<std::uint8_t>(rng_());
    if (chosen) id = *chosen;
    auto node_config = config_.node;
    node_config.seed = rng_() | 1;  // non-zero: deterministic ids and refresh targets
    const std::size_t index = nodes_.size();
    auto n = std::make_unique<SimNode>(*this, index);
    n->node = std::make_unique<dht::Node>(id, SimNode::address_of(index), clock_, n->transport,
                                          n->store, node_config);
    return place(std::move(n), id);
}

std::size_t Simulation::add_agent(const crypto::KeyPair& keys, trust::Genesis genesis,
                                  agent::AgentConfig config, Clock::duration skew) {
    config.node = config_.node;
    config.node.seed = rng_() | 1;
    const std::size_t index = nodes_.size();
    auto n = std::make_unique<SimNode>(*this, index);
    n->skew = skew;
    if (skew != Clock::duration::zero()) n->own_clock = std::make_unique<SkewedClock>(clock_, skew);
    const Clock& clock = n->own_clock ? static_cast<const Clock&>(*n->own_clock) : clock_;
    n->agent =
        std::make_unique<agent::Agent>(keys, SimNode::address_of(index), clock, n->transport,
                                       agent::AgentStores{n->store, n->trust_store, n->published},
                                       std::move(genesis), std::move(config));
    return place(std::move(n), keys.node_id());
}

std::string Simulation::address_of(std::size_t i) {
    return SimNode::address_of(i);
}

std::size_t Simulation::add_participant(const NodeId& id, const ParticipantFactory& make) {
    const std::size_t index = nodes_.size();
    auto n = std::make_unique<SimNode>(*this, index);
    n->participant_id = id;
    n->participant_address = SimNode::address_of(index);
    n->participant = make(n->transport, id, n->participant_address);
    return place(std::move(n), id);
}

void Simulation::bootstrap(std::size_t index, std::size_t seed) {
    bootstrap_all({{index, seed}});
}

void Simulation::bootstrap_all(const std::vector<std::pair<std::size_t, std::size_t>>& joins) {
    std::size_t done = 0;
    auto finished = [&done](std::size_t) { ++done; };
    for (const auto& [index, seed] : joins) {
        if (nodes_[index]->agent) {
            nodes_[index]->agent->bootstrap({contact(seed)}, finished);
        } else {
            nodes_[index]->node->bootstrap({contact(seed)}, finished);
        }
        schedule_wake(index);
    }
    run_until(clock_.now() + std::chrono::hours(1), [&] { return done == joins.size(); });
}

std::size_t Simulation::join(std::size_t seed, std::optional<NodeId> id) {
    const std::size_t index = add_node(id);
    bootstrap(index, seed);
    return index;
}

std::size_t Simulation::join_agent(std::size_t seed, const crypto::KeyPair& keys,
                                   trust::Genesis genesis, agent::AgentConfig config) {
    const std::size_t index = add_agent(keys, std::move(genesis), std::move(config));
    bootstrap(index, seed);
    return index;
}

dht::Node& Simulation::node(std::size_t i) {
    return nodes_[i]->dht();
}
agent::Agent& Simulation::agent(std::size_t i) {
    return *nodes_[i]->agent;
}
bool Simulation::is_agent(std::size_t i) const {
    return nodes_[i]->agent != nullptr;
}
store::MemoryStore& Simulation::store(std::size_t i) {
    return nodes_[i]->store;
}
void Simulation::kill(std::size_t i) {
    nodes_[i]->alive = false;
}
bool Simulation::alive(std::size_t i) const {
    return nodes_[i]->alive;
}
void Simulation::set_group(std::size_t i, int group) {
    nodes_[i]->group = group;
}
void Simulation::heal() {
    for (auto& n : nodes_) n->group = 0;
}

wire::Contact Simulation::contact(std::size_t i) const {
    return {nodes_[i]->id(), nodes_[i]->address()};
}

void Simulation::revive(std::size_t i) {
    nodes_[i]->alive = true;
    nodes_[i]->wake_at = Clock::time_point::max();
    schedule_wake(i);
}

std::size_t Simulation::index_of(const wire::Contact& to) const {
    // As the real transport does: a message goes over the session the peer already has (known
    // by id), else to the address.
    if (auto it = by_id_.find(to.id); it != by_id_.end()) return it->second;
    if (auto it = by_address_.find(to.address); it != by_address_.end()) return it->second;
    return std::numeric_limits<std::size_t>::max();
}

void Simulation::deliver(std::size_t from, const wire::Contact& to, dht::Message msg) {
    ++stats_.sent;
    ++stats_.sent_by_type[wire::to_string(wire::type_of(msg.payload))];
    if (tap_) tap_(from, to, msg);
    // The sender may just have registered an RPC deadline: make sure it wakes for it.
    schedule_wake(from);
    std::size_t target = std::numeric_limits<std::size_t>::max();
    if (msg.verify_address) {
        // A dial-back goes to exactly that address, and the handshake there must prove the id:
        // anything else fails at once, as a refused connection or a failed handshake does.
        const auto it = by_address_.find(to.address);
        if (it == by_address_.end() || nodes_[it->second]->id() != to.id ||
            !nodes_[it->second]->alive) {
            ++stats_.undeliverable;
            events_.push(Event{clock_.now() + config_.latency_min, ++seq_, from,
                               Event::Kind::failed,
                               dht::InboundMessage{{}, std::move(msg.id), wire::Ping{}}});
            return;
        }
        target = it->second;
    } else {
        target = index_of(to);
    }
    if (target == std::numeric_limits<std::size_t>::max()) {
        ++stats_.to_dead;
        return;
    }
    if (config_.loss > 0.0 && std::uniform_real_distribution<double>(0, 1)(rng_) < config_.loss) {
        ++stats_.lost;
        return;
    }
    const auto span = (config_.latency_max - config_.latency_min).count();
    const auto latency =
        config_.latency_min +
        Clock::duration(
            span > 0 ? std::uniform_int_distribution<Clock::duration::rep>(0, span)(rng_) : 0);
    const auto& sender = *nodes_[from];
    events_.push(Event{clock_.now() + latency, ++seq_, target, Event::Kind::message,
                       dht::InboundMessage{{sender.id(), sender.address()},
                                           std::move(msg.id),
                                           std::move(msg.payload),
                                           SimNode::ip_of(from),
                                           sender.credentials()}});
    // Liveness and partitions are judged at delivery time, in run_until().
}

void Simulation::schedule_wake(std::size_t i) {
    auto& n = *nodes_[i];
    if (!n.alive) return;
    const auto at = std::max(n.next_wakeup(), clock_.now());
    if (at >= n.wake_at) return;
    n.wake_at = at;
    events_.push(Event{at, ++seq_, i, Event::Kind::wake, {}});
}

std::size_t Simulation::run_until(Clock::time_point deadline, const std::function<bool()>& until) {
    std::size_t processed = 0;
    while (!events_.empty() && events_.top().at <= deadline) {
        // priority_queue::top is const: move the message out through a const_cast, then pop.
        Event ev = std::move(const_cast<Event&>(events_.top()));
        events_.pop();
        if (ev.at > clock_.now()) clock_.set(ev.at);
        auto& n = *nodes_[ev.to];
        if (ev.kind == Event::Kind::failed) {
            if (n.alive) n.on_undeliverable(ev.message.id);
        } else if (ev.kind == Event::Kind::wake) {
            if (ev.at != n.wake_at) continue;  // superseded by an earlier wake
            n.wake_at = Clock::time_point::max();
            if (!n.alive) continue;
            n.tick();
        } else {
            if (!n.alive) {
                ++stats_.to_dead;
                continue;
            }
            const auto from = by_id_.find(ev.message.from.id);
            if (from != by_id_.end() && nodes_[from->second]->group != n.group) {
                ++stats_.partitioned;
                continue;
            }
            ++stats_.delivered;
            n.on_message(std::move(ev.message));
        }
        schedule_wake(ev.to);
        ++processed;
        if (until && until()) break;
    }
    if (clock_.now() < deadline && (events_.empty() || events_.top().at > deadline) &&
        deadline != Clock::time_point::max()) {
        clock_.set(deadline);
    }
    return processed;
}

std::size_t Simulation::closest_live(const NodeId& target) const {
    std::size_t best = std::numeric_limits<std::size_t>::max();
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
        if (!nodes_[i]->alive) continue;
        if (best == std::numeric_limits<std::size_t>::max() ||
            distance_less(target, nodes_[i]->id(), nodes_[best]->id())) {
            best = i;
        }
    }
    return best;
}

}  // namespace nocturne::sim
