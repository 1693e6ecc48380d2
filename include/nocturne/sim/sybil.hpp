#pragma once

#include <nocturne/crypto/keys.hpp>
#include <nocturne/dht/transport.hpp>
#include <nocturne/sim/simulation.hpp>
#include <nocturne/wire/record.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

namespace nocturne::sim {

// The adversary of the Sybil simulation (docs/security.md): node ids cost nothing to mint, so an
// attacker grinds ids next to the keys it wants to eclipse and runs them all. They are not
// enrolled (an enrolment is what they cannot mint), and they act together:
// - every member answers every lookup with the crowd's members closest to the target, never an
//   honest node, to steer lookups into the crowd;
// - a STORE is "stored" with an acknowledgement in the member's own name (which counts for nobody:
//   it is no enrolled agent);
// - a read gets the oldest version of each record the crowd has seen (a rollback), or nothing;
// - members PING honest nodes to get into their routing tables.
//
// Owned by the simulator's thread, like the simulation.
class SybilCrowd {
public:
    void join(const wire::Contact& member) { members_.push_back(member); }
    std::vector<wire::Contact> closest(const NodeId& target, std::size_t n) const;
    // Keeps the first version of each record identity it is given (what the crowd read or was
    // sent earlier: its rollback material).
    void remember(const wire::Record& record);
    // A STORE to a member: counted, and remembered.
    void stored(const wire::Record& record);
    std::vector<wire::Record> oldest_under(const NodeId& key) const;
    std::size_t size() const { return members_.size(); }
    // STOREs the crowd was sent (each one a write an honest node wasted on it).
    std::size_t stores_received() const { return stores_received_; }

private:
    using Identity = std::tuple<NodeId, wire::RecordKind, crypto::PublicKey, std::string>;
    std::vector<wire::Contact> members_;
    std::map<Identity, wire::Record> oldest_;
    std::size_t stores_received_ = 0;
};

// One member of a crowd, hosted by the simulation as a Participant, or by a real transport
// (it is a dht::MessageSink) in tests against real daemons.
class SybilNode final : public Participant {
public:
    // The member's key: its store acknowledgements are signed with it, and over a real transport
    // its node id is this key's (seeds are what an attacker grinds).
    static crypto::KeyPair keys_of(std::uint64_t seed);

    SybilNode(SybilCrowd& crowd, dht::Transport& transport, const NodeId& id, std::string address,
              std::uint64_t seed);

    void on_message(dht::InboundMessage msg) override;
    // PINGs these nodes, so that they learn (and dial back) this member.
    void introduce_to(const std::vector<wire::Contact>& nodes);

private:
    std::string next_id();
    void send(const wire::Contact& to, wire::Payload payload);

    SybilCrowd& crowd_;
    dht::Transport& transport_;
    NodeId id_;
    std::string address_;
    crypto::KeyPair keys_;  // signs its (worthless) store acknowledgements
    std::uint64_t counter_ = 0;
    std::uint64_t prefix_;
};

}  // namespace nocturne::sim
