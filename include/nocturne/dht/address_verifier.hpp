#pragma once

#include <nocturne/core/clock.hpp>
#include <nocturne/core/node_id.hpp>

#include <cstddef>
#include <deque>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>

namespace nocturne::dht {

// Which claimed addresses the node verifies with a dial-back, and which not (again).
//
// A claim costs its sender one message and us one connection, and node ids are free: the bounds
// are per address. One dial-back at a time per address and per peer, at most max_in_flight in
// all; an address whose dial-back failed is not dialed again for failure_backoff, whoever claims
// it (at most max_failed such addresses are remembered, the oldest forgotten first). Addresses are
// the claimant's own observed IP with its claimed port, so a failure only ever holds back its
// own IP. A peer proven at an address is not dialed back there again for verified_ttl (at most
// max_verified such pairs, the oldest forgotten first): a peer that cannot enter a full bucket
// would otherwise cost a new connection for every message it sends.
//
// Owned by the node's thread, like the node.
class AddressVerifier {
public:
    struct Options {
        std::size_t max_in_flight = 64;
        Clock::duration failure_backoff = std::chrono::minutes(5);
        std::size_t max_failed = 4096;
        Clock::duration verified_ttl = std::chrono::minutes(10);
        std::size_t max_verified = 4096;
    };

    explicit AddressVerifier(Options options) : options_(options) {}

    // True when a dial-back to `address` for `peer` should start now; it is then in flight until
    // end().
    bool begin(const NodeId& peer, const std::string& address, Clock::time_point now);
    // The dial-back ended: answered by the peer there, or not (failed dial, wrong peer, timeout).
    void end(const NodeId& peer, const std::string& address, bool answered, Clock::time_point now);
    // The peer answered a dial-back at this address within verified_ttl.
    bool verified(const NodeId& peer, const std::string& address, Clock::time_point now) const;

    std::size_t in_flight() const { return peers_.size(); }
    std::size_t failed_remembered() const { return failed_.size(); }
    std::size_t verified_remembered() const { return verified_.size(); }

private:
    Options options_;
    std::set<NodeId> peers_;
    std::set<std::string> addresses_;
    std::unordered_map<std::string, Clock::time_point> failed_;
    std::deque<std::pair<std::string, Clock::time_point>> failed_order_;  // oldest first
    std::unordered_map<std::string, Clock::time_point> verified_;  // peer id + address -> when
    std::deque<std::pair<std::string, Clock::time_point>> verified_order_;  // oldest first
};

}  // namespace nocturne::dht
