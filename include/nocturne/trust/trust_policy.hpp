#pragma once

#include <nocturne/core/clock.hpp>
#include <nocturne/core/node_id.hpp>
#include <nocturne/dht/node.hpp>
#include <nocturne/trust/trust_state.hpp>

#include <cstdint>
#include <deque>
#include <unordered_map>
#include <unordered_set>

namespace nocturne::trust {

// The Web of Trust as the DHT's record policy:
// - a STORE of an ordinary record needs a trusted agent as its author and as its sender (an
//   untrusted peer may route, nothing more); certificates and revocations are accepted from anyone
//   when they are valid themselves, which is how a newcomer gets its own certificate out;
// - records read from FIND_VALUE answers are dropped when their author is known to be untrusted
//   (revoked, superseded, expired); an author nobody has vouched for yet is let through, for the
//   reader to show as unverified;
// - outgoing STOREs and answers carry the certificates that prove their records' standing;
// - only agents with standing hold records: they are the storers puts and reads count (the
//   certificates a peer presents at its handshake say whether it is one);
// - a quarantined operator's records are refused while the hold stands (operator_quarantined),
//   in STOREs and in answers, except those it signed before the hold that a replica (not of a
//   held operator) passes on. Its nodes still route and hold others' records.
//
// Owned by the thread that owns the node; not thread-safe.
class TrustPolicy final : public dht::RecordPolicy {
public:
    TrustPolicy(TrustState& state, const Clock& clock, const NodeId& self)
        : state_(state), clock_(clock), self_(self) {}

    void learn_credentials(std::span<const wire::Record> credentials) override;
    std::error_code admit(const wire::Record& record, std::span<const wire::Record> credentials,
                          const NodeId& from, Use use) override;
    std::vector<wire::Record> credentials_for(const wire::Record& record,
                                              std::size_t limit) override;
    std::vector<wire::Record> store_credentials(const wire::Record& record,
                                                std::size_t limit) override;
    // Kept, not verified: most peers a node hears from are never asked about (storer(), a STORE
    // they send), and each new agent certificate costs a signature verification.
    void learn_peer(const NodeId& peer, const dht::PeerCredentials& credentials) override;
    // An agent with standing now: enrolled, its operator trusted, not revoked or superseded.
    bool storer(const NodeId& node) override;

private:
    // operator_quarantined when the record's author is held (see above).
    std::error_code held(const wire::Record& record, const NodeId& from, Use use, std::int64_t now);
    // Learns what `node` presented for its session, the first time it matters.
    void settle(const NodeId& node);

    struct Presented {
        dht::PeerCredentials credentials;
        bool learned = false;
    };
    static constexpr std::size_t max_presented = 65'536;

    TrustState& state_;
    const Clock& clock_;
    NodeId self_;
    std::unordered_map<NodeId, Presented, NodeIdHash> presented_;
    std::deque<NodeId> presented_order_;  // oldest first: the first forgotten at the cap
    // storer() is asked for every candidate of every lookup: a "yes" is kept until something
    // could take standing away (TrustState::standing_epoch) or a minute passes (certificates
    // expire). A "no" is not kept: the agent's certificate may come with its next message, and
    // the check for an unknown agent is one map lookup.
    std::unordered_set<NodeId, NodeIdHash> storer_cache_;
    std::uint64_t cache_epoch_ = 0;
    std::int64_t cache_until_ = 0;
};

}  // namespace nocturne::trust
