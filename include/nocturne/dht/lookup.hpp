#pragma once

#include <nocturne/core/node_id.hpp>
#include <nocturne/wire/payloads.hpp>
#include <nocturne/wire/record.hpp>

#include <cstddef>
#include <optional>
#include <vector>

namespace nocturne::dht {

// One holder's first answer in a value lookup: its records, and how many it holds in all.
struct HolderAnswer {
    wire::Contact holder;
    std::vector<wire::Record> records;
    std::size_t total = 0;  // what the holder says it has (records.size() when it said nothing)
    std::size_t sent = 0;   // its record number after this answer (where its next page starts)
    std::size_t depth = 1;
};

// What an iterative lookup found, plus the figures the simulator reports.
struct LookupResult {
    // Up to k nodes that answered and were eligible (for storer lookups: enrolled agents),
    // closest first.
    std::vector<wire::Contact> closest;
    // FIND_VALUE: the records of every eligible holder, merged: per record identity the highest
    // seq (Node::find_value), or one holder's page (Node::fetch_page).
    std::vector<wire::Record> records;
    // FIND_VALUE: eligible nodes that answered with records, and eligible nodes that answered at
    // all: a reader knows how many replicas it heard.
    std::size_t holders = 0;
    std::size_t storers_answered = 0;
    // fetch_page: the node asked, how many records it holds for the key, and its record number
    // after the last one it sent. next_offset < total: there is more to ask for.
    std::optional<wire::Contact> holder;
    std::size_t total = 0;
    std::size_t next_offset = 0;
    std::size_t hops = 0;      // path length: RPC round trips in sequence to the deciding answer
    std::size_t queried = 0;   // requests sent
    std::size_t answered = 0;  // responses received
    std::size_t failed = 0;    // requests that timed out
    // The candidates that never answered, closest first, at most k: with `closest`, who the
    // responsible nodes are (a quorum counts those that are down too).
    std::vector<NodeId> failed_ids;
    std::size_t ineligible = 0;  // answers from nodes that may not count (not enrolled)
    // A value lookup's raw answers per eligible holder (Node::find_value merges them).
    std::vector<HolderAnswer> holder_answers;
    bool found() const { return !records.empty(); }
};

// Iterative Kademlia lookup as a state machine (no I/O, no time): the node asks it whom to query
// and feeds it answers and failures. At most alpha requests are in flight; the candidate list is
// ordered by distance to the target, and bounded; the lookup ends when the k closest candidates
// that neither failed nor proved ineligible have all answered, or after max_queries requests.
//
// Eligibility: node ids are free to mint, so a storer lookup counts only answers from nodes the
// caller judged eligible (enrolled agents): an unenrolled node ground next to the key costs the
// lookup one query and takes no place among the k. A value lookup does not stop at the first
// holder either: it collects every eligible holder's answer, for the caller to merge.
//
// Owned by the node that runs it (its thread); not thread-safe.
class Lookup {
public:
    struct Options {
        std::size_t k = 20;
        std::size_t alpha = 3;
        bool want_value = false;
        // Requests at most (0: k * 4): bounds what hostile referrals can make one lookup cost.
        std::size_t max_queries = 0;
        // Requests per candidate before it counts as failed (see on_failure); at least 1.
        std::size_t attempts = 2;
    };

    Lookup(const NodeId& self, const NodeId& target, Options options,
           const std::vector<wire::Contact>& seeds);

    // Contacts to send a request to now; each is marked in flight. Empty when alpha requests are
    // already in flight or nothing is left to ask.
    std::vector<wire::Contact> next_queries();

    // peers: the contacts the answer listed (the node's own id and ours are ignored).
    // records / total / sent: a value answer's records (after the caller's checks), the
    // responder's record count for the key and its record number after this answer. eligible:
    // whether the responder may count among the k closest and as a holder.
    void on_answer(const NodeId& from, const std::vector<wire::Contact>& peers,
                   std::vector<wire::Record> records = {}, std::size_t total = 0,
                   std::size_t sent = 0, bool eligible = true);
    // A candidate that times out is asked again (Options::attempts) before it counts as failed:
    // one lost datagram-sized message must not cost a node lookup its closest node (10% loss made
    // 1 in 5 node lookups miss it without the retry).
    // Returns whether the candidate now counts as failed (its last attempt).
    bool on_failure(const NodeId& from);
    // A request in flight for longer than a live peer takes (the caller's short timeout): its
    // slot among the alpha goes to the next candidate, while its answer is still awaited (until
    // on_answer or on_failure). Unreachable candidates, half of them in a partition, would
    // otherwise hold every slot for a whole timeout each, one wave after another.
    void on_slow(const NodeId& id);
    // Instead of sending a request next_queries() just planned: the caller knows the candidate
    // did not answer lately. It counts as failed (in failed_ids), not as a request sent.
    void skip(const NodeId& id);

    bool done() const;
    const NodeId& target() const { return target_; }
    bool want_value() const { return options_.want_value; }
    LookupResult result() const;

private:
    enum class State { fresh, in_flight, answered, ineligible, failed };
    struct Candidate {
        wire::Contact contact;
        State state = State::fresh;
        std::size_t depth = 1;  // round trips needed to reach it: seeds 1, their referrals 2, ...
        std::size_t attempts = 0;
        bool slow = false;  // in flight, but no longer holding a slot (on_slow)
    };
    // An answer or a failure for c, in flight: frees its slot unless on_slow already did.
    void land(Candidate& c);

    void insert(const wire::Contact& contact, std::size_t depth);
    Candidate* find(const NodeId& id);
    static bool counts(State s) { return s != State::failed && s != State::ineligible; }

    NodeId self_;
    NodeId target_;
    Options options_;
    std::vector<Candidate> candidates_;  // sorted by distance to target_, closest first
    std::size_t in_flight_ = 0;          // requests holding a slot
    std::size_t slow_ = 0;               // requests still awaited that gave theirs up (on_slow)
    std::size_t queried_ = 0;
    std::size_t answered_ = 0;
    std::size_t failed_ = 0;
    std::size_t ineligible_ = 0;
    std::vector<HolderAnswer> holders_;
};

}  // namespace nocturne::dht
