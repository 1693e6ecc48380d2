#pragma once

// Counting the votes on one entry from the records its vote key holds, and the storers' rules
// for accepting them. Pure: time, trust and the records come in as arguments.

#include <nocturne/vote/ballot.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace nocturne::vote {

// The standing of a record's author now: its operator (hex) and that operator's depth in the
// Web of Trust (0 for genesis operators); nullopt when it has none (unknown, revoked,
// superseded).
struct Standing {
    std::string operator_id;
    int depth = 0;
};
using StandingOf = std::function<std::optional<Standing>(const crypto::PublicKey& author)>;

enum class VoterState { up, down, abstain, pending };
const char* to_string(VoterState state) noexcept;

struct Voter {
    std::string operator_id;
    std::string agent;  // node id hex of the agent that cast it
    std::uint64_t round = 0;
    VoterState state = VoterState::pending;
    double weight = 0;            // 1 / (1 + operator depth)
    std::string reason;           // from the reveal
    std::int64_t counted_at = 0;  // pending: when the reveal window ends
};

struct Tally {
    int up = 0;
    int down = 0;
    int abstain = 0;
    int pending = 0;
    double weight_up = 0;
    double weight_down = 0;
    double prior = 0;           // the author's stated confidence
    double confidence = 0;      // see voted_confidence()
    std::vector<Voter> voters;  // one per operator, by operator id
};

// The entry's voted confidence: the mean of a Beta posterior whose prior is the author's stated
// confidence with the weight of two votes, updated by the trust-weighted votes:
//   (2·prior + weight_up) / (2 + weight_up + weight_down).
double voted_confidence(double prior, double weight_up, double weight_down);

// Of n responsible storers, those that must agree (a tally must hear from, a task claim must be
// granted by): q = ceil((n + f + 1) / 2) with f = floor((n - 1) / 3) (20 -> 14, 5 -> 4, 3 -> 2,
// 1 -> 1). Two quorums share f + 1 storers, so at least one honest one.
std::size_t quorum_of(std::size_t n);

// One vote per operator: of the operator's agents' commitments, the newest round's (then the
// lowest agent key); counted up or down when its author's reveal opens it, an abstention once
// the reveal window has ended without one, pending before. Records that are not valid votes on
// `entry_key`, whose author has no standing or names another operator, or whose times lie
// outside their windows, do not count.
Tally count_votes(const std::vector<wire::Record>& records, const NodeId& entry_key, double prior,
                  const Windows& windows, std::int64_t now, const StandingOf& standing);

// A second, different commitment from one operator in one round: both signed records.
struct Equivocation {
    wire::Record held;
    wire::Record offered;
};

// A storer's rules for a `vote` record it is asked to hold, given what it holds under the key.
// first_hand: the sender is the author (a cast or a reveal, held to the windows by this node's
// clock); else a replica passes on what it accepted (held to the windows the record states).
// author_operator: the author's operator now (nullopt: no standing).
// Codes: vote_window_closed, no_commitment, reveal_mismatch, equivocation (with `evidence` set),
// wrong_subject (the vote names another operator than its author's), unknown_agent, and the
// payload readers' codes.
std::error_code check_vote(const wire::Record& record, bool first_hand, std::int64_t now,
                           const Windows& windows, const std::vector<wire::Record>& held,
                           const std::optional<std::string>& author_operator,
                           std::optional<Equivocation>& evidence);

// How late a first-hand record may arrive after its window closed, by this node's clock.
std::int64_t grace_seconds(const Windows& windows);

}  // namespace nocturne::vote
