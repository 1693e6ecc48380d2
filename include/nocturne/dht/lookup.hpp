#pragma once

#include <nocturne/core/node_id.hpp>
#include <nocturne/wire/payloads.hpp>
#include <nocturne/wire/record.hpp>

#include <cstddef>
#include <optional>
#include <vector>

namespace nocturne::dht {

// What an iterative lookup found, plus the figures the simulator reports.
struct LookupResult {
    std::vector<wire::Contact> closest;  // up to k nodes that answered, closest first
    std::vector<wire::Record> records;   // FIND_VALUE: the records found; empty if none
    // FIND_VALUE: the node whose answer supplied `records` (this node when it answered from its
    // own store), how many records it holds for the key, and its record number after the last
    // one it sent. next_offset < total: ask it for more with Node::fetch_page().
    std::optional<wire::Contact> holder;
    std::size_t total = 0;
    std::size_t next_offset = 0;
    std::size_t hops = 0;      // path length: RPC round trips in sequence to the deciding answer
    std::size_t queried = 0;   // requests sent
    std::size_t answered = 0;  // responses received
    std::size_t failed = 0;    // requests that timed out
    bool found() const { return !records.empty(); }
};

// Iterative Kademlia lookup as a state machine (no I/O, no time): the node asks it whom to query
// and feeds it answers and failures. At most alpha requests are in flight; the candidate list is
// ordered by distance to the target; the lookup ends when the k closest candidates that did not
// fail have all answered, or, for FIND_VALUE, at the first answer carrying records.
//
// Owned by the node that runs it (its io_context thread); not thread-safe.
class Lookup {
public:
    Lookup(const NodeId& self, const NodeId& target, bool want_value, std::size_t k,
           std::size_t alpha, const std::vector<wire::Contact>& seeds);

    // Contacts to send a request to now; each is marked in flight. Empty when alpha requests are
    // already in flight or nothing is left to ask.
    std::vector<wire::Contact> next_queries();

    // peers: the contacts the answer listed (the node's own id and ours are ignored).
    // total / sent: the responder's record count for the key and how many it sent (before any
    // filtering by the caller), for paging on from it.
    void on_answer(const NodeId& from, const std::vector<wire::Contact>& peers,
                   std::vector<wire::Record> records, std::size_t total = 0, std::size_t sent = 0);
    // A candidate that times out is asked once more before it counts as failed: one lost
    // datagram-sized message must not cost a lookup its closest node (10% loss made 1 in 5
    // node lookups miss it without the retry).
    void on_failure(const NodeId& from);
    static constexpr std::size_t max_attempts = 2;

    bool done() const;
    const NodeId& target() const { return target_; }
    bool want_value() const { return want_value_; }
    LookupResult result() const;

private:
    enum class State { fresh, in_flight, answered, failed };
    struct Candidate {
        wire::Contact contact;
        State state = State::fresh;
        std::size_t depth = 1;  // round trips needed to reach it: seeds 1, their referrals 2, ...
        std::size_t attempts = 0;
    };

    void insert(const wire::Contact& contact, std::size_t depth);
    Candidate* find(const NodeId& id);

    NodeId self_;
    NodeId target_;
    bool want_value_;
    std::size_t k_;
    std::size_t alpha_;
    std::vector<Candidate> candidates_;  // sorted by distance to target_, closest first
    std::size_t in_flight_ = 0;
    std::size_t queried_ = 0;
    std::size_t answered_ = 0;
    std::size_t failed_ = 0;
    std::vector<wire::Record> records_;
    std::optional<wire::Contact> holder_;
    std::size_t total_ = 0;
    std::size_t sent_ = 0;
    std::size_t value_depth_ = 0;
};

}  // namespace nocturne::dht
