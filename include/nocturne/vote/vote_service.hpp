#pragma once

// Commit-reveal voting on knowledge entries (ballot.hpp says what a vote is). The user votes
// once: cast() signs the commitment and, at the same time, the reveal (dated at its window's
// start), keeps both in the node's own store and stores the commitment at the entry's vote key;
// tick() stores the reveal when its window opens, also after a restart: at once on the storers
// that acknowledged the commitment (no lookup: the reveal window is short, and a lookup during a
// partition waits out every unreachable candidate), and by a put on whoever is responsible now
// (storers may have changed; a restart forgets who acknowledged). votes() reads the vote
// key from the responsible storers (the union of what they hold: a replica can withhold a vote,
// not forge one) and counts it (tally.hpp). As a storer the service holds votes to the rules of
// check_vote(), and keeps the two commitments of an operator that equivocates as evidence.
//
// Owned by the thread that owns the node; not thread-safe.

#include <nocturne/core/clock.hpp>
#include <nocturne/crypto/keys.hpp>
#include <nocturne/dht/node.hpp>
#include <nocturne/store/store.hpp>
#include <nocturne/trust/trust_state.hpp>
#include <nocturne/vote/tally.hpp>

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>

namespace nocturne::vote {

class VoteService {
public:
    template <class T>
    using Callback = std::function<void(result<T>)>;

    // own: the store of this node's own signed records (shared with the knowledge service).
    VoteService(dht::Node& node, const crypto::KeyPair& keys, const Clock& clock,
                trust::TrustState& trust, store::Store& own, Windows windows);
    ~VoteService();
    VoteService(const VoteService&) = delete;
    VoteService& operator=(const VoteService&) = delete;

    // This node's operator ("" while it is not enrolled: casting is refused with unknown_agent).
    void set_operator_id(std::string operator_id) { operator_id_ = std::move(operator_id); }
    const Windows& windows() const { return windows_; }

    struct Cast {
        NodeId entry_key;
        std::uint64_t round = 0;
        std::string commitment;
        std::int64_t reveal_at = 0;   // unix seconds: this node reveals the vote
        std::int64_t counted_by = 0;  // unix seconds: the reveal window ends
        std::size_t stored = 0;       // storers that acknowledged the commitment
    };
    // choice: 1 or -1. Errors: unknown_agent (not enrolled), not_found (no such live entry),
    // duplicate_vote (this node voted on it in this round already), the storers' refusal
    // (vote_window_closed, equivocation, ...) or timeout.
    void cast(const std::string& domain, const std::string& id, int choice, std::string reason,
              Callback<Cast> done);

    struct Votes {
        NodeId entry_key;
        Tally tally;
        std::size_t replicas = 0;                 // responsible storers found
        std::size_t answered = 0;                 // of which answered
        std::size_t quorum = 0;                   // ceil((n + f + 1) / 2), f = floor((n - 1) / 3)
        std::vector<Equivocation> equivocations;  // this node saw, as a storer, on this entry
    };
    // Errors: not_found (no such live entry), timeout.
    void votes(const std::string& domain, const std::string& id, Callback<Votes> done);
    // The tally of an entry the caller has already read (its stated confidence is the prior),
    // for query results: kept for cache_ttl, so that a page shown again costs no lookups.
    void tally(const NodeId& entry_key, double prior, std::function<void(Votes)> done);

    // Stores the reveals whose window has opened; forgets those whose window has ended.
    void tick();
    Clock::time_point next_wakeup() const;
    // After the first bootstrap: stores this node's commitment of the round still open again
    // (it may have stopped before the storers acknowledged it).
    void resume();

    std::size_t pending_reveals() const { return pending_.size(); }
    // Called with each new equivocation this node catches as a storer (the anomaly monitors
    // report it).
    void on_equivocation(std::function<void(const Equivocation&)> hook) {
        on_equivocation_ = std::move(hook);
    }

private:
    struct Pending {
        wire::Record reveal;
        std::uint64_t round = 0;
        // The storers that acknowledged the commitment (not kept across a restart).
        std::vector<wire::Contact> storers;
        std::size_t in_flight = 0;  // stores of the reveal under way: the direct one, the put
        bool settled = false;       // the put's answers say retrying cannot help
        Clock::time_point next_try{};
        Clock::duration backoff{};
    };
    // One store of a pending reveal answered (direct: on the commitment's storers).
    void revealed(const NodeId& entry_key, const crypto::Signature& sig, bool direct,
                  const dht::PutResult& r);
    Clock::time_point reveal_time(const Pending& p) const;

    std::error_code check(const wire::Record& record, const NodeId& from);
    void read(const NodeId& entry_key, double prior, std::function<void(Votes)> done);
    Votes count(const NodeId& entry_key, double prior, const dht::LookupResult& votes) const;
    void commit(const NodeId& entry_key, int choice, std::string reason, Callback<Cast> done);
    Clock::time_point at(std::int64_t unix_seconds) const;
    // This node's live vote records in its own store.
    std::vector<wire::Record> own_votes(std::int64_t now) const;

    dht::Node& node_;
    const crypto::KeyPair& keys_;
    const Clock& clock_;
    trust::TrustState& trust_;
    store::Store& own_;
    Windows windows_;
    std::string operator_id_;
    std::map<NodeId, Pending> pending_;                     // by entry key
    std::deque<std::pair<NodeId, Equivocation>> evidence_;  // by entry key, oldest first
    struct Cached {
        Votes votes;
        Clock::time_point until{};
    };
    std::map<NodeId, Cached> cache_;                                 // by entry key
    std::map<std::string, Clock::time_point> missing_certificates_;  // operator -> until
    std::function<void(const Equivocation&)> on_equivocation_;
    std::shared_ptr<char> alive_ = std::make_shared<char>();

    static constexpr std::size_t max_evidence = 256;
    // Operators whose certificates one tally reads at most (two lookups each).
    static constexpr std::size_t max_certificate_reads = 32;
    static constexpr std::size_t max_missing_certificates = 4096;
    static constexpr std::size_t max_cached = 1024;
    static constexpr std::chrono::seconds cache_ttl{5};
};

}  // namespace nocturne::vote
