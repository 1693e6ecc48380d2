#pragma once

// The rules of compute tasks as pure functions (task.hpp says what the records are): what a
// storer of a task key signs or refuses, what a reader concludes from the records under it, and
// when the nodes responsible for a domain create a task. No I/O, no clock: `now` is an argument.

#include <nocturne/compute/task.hpp>
#include <nocturne/vote/tally.hpp>

#include <cstdint>
#include <optional>
#include <system_error>
#include <vector>

namespace nocturne::compute {

struct ClaimRules {
    // How long a claim holds a task (an extension renews it by as much from its time).
    std::int64_t claim_seconds = 3600;
    // Clock skew a storer allows before it hands an expired claim's task to the next epoch: the
    // holder's clock may run behind the storer's.
    std::int64_t grace_seconds = 60;
    // Claims one operator may hold at once (per storer, and per node for its own agent).
    std::size_t max_open_claims = 4;
};

// What one storer knows of a task when a claim arrives first-hand from its claimant.
struct StorerView {
    std::optional<Grant> mine;  // this storer's latest grant for the task
    std::uint64_t mine_seq = 0;
    bool completed = false;                // it holds a result of its grant's epoch and claimant
    std::size_t operator_open_claims = 0;  // live grants it gave the claimant's operator
    // The highest epoch any grant under the key names (its own or replicas'): a claim may go
    // at most epoch_slack beyond it, so nobody can jump a task to the last epoch and end it.
    std::uint64_t highest_epoch = 0;
};

struct Decision {
    std::error_code refusal;
    std::optional<Grant> grant;  // the grant to sign (seq: the claim's), if any
};

// First come first served per epoch: task_closed (completed), stale_epoch (an older epoch than
// the storer's latest grant, or a released one), task_claimed (another claimant holds the epoch,
// or holds the previous one and it has not expired), too_many_claims, value_out_of_range (a
// claim that ends before now). A release of the storer's grant gives a released grant; an
// extension renews the grant's `until` (capped at now + claim_seconds).
Decision decide_claim(const Claim& claim, std::uint64_t claim_seq, const NodeId& claimant,
                      const StorerView& view, std::int64_t now, const ClaimRules& rules);

// Whether a storer takes a result first-hand from its author: only of the epoch and claimant
// of its latest grant (not_claimant; stale_epoch once a newer epoch was granted or the claim was
// released). A result after `until` is taken while no newer epoch was granted (the epoch, not the
// clock, fences it).
std::error_code decide_result(const Result& result, const NodeId& author,
                              const std::optional<Grant>& mine);

struct TaskState {
    enum class Status { open, claimed, completed };
    Status status = Status::open;
    std::uint64_t epoch = 0;       // the latest epoch any grant names (0: never claimed)
    std::optional<NodeId> holder;  // that epoch's winner: a quorum of its grants
    std::int64_t until = 0;        // the winner's claim holds until (the quorum's)
    std::size_t grants = 0;        // grants of the holder (or the leading claimant)
    std::optional<Result> result;  // the result that completed it
    std::uint64_t next_epoch() const { return epoch + 1; }
};
const char* to_string(TaskState::Status status) noexcept;

// A reader's view from the records under the task key (the union of what the storers sent):
// completed when a result's epoch and author hold a quorum of grants; claimed while the latest
// epoch's grants that are not released and not expired (with grace) could still make or hold a
// quorum; open otherwise. Grants count only from the task's `storers` (quorum_of their number);
// with none given, from anyone, against `replicas` found.
TaskState task_state(const std::string& id, const std::vector<wire::Record>& records,
                     std::size_t replicas, std::int64_t now, const ClaimRules& rules,
                     const std::vector<NodeId>& storers = {});

inline constexpr std::uint64_t epoch_slack = 3;

// When the nodes responsible for a domain create tasks (docs/compute.md):
struct Triggers {
    // verify: an entry whose counted votes disagree, the minority at least this share.
    double contested_share = 1.0 / 3.0;
    // review: an entry whose voted confidence is below this with fewer counted votes than
    // review_votes.
    double review_confidence = 0.5;
    int review_votes = 3;
    // synthesize: each time a domain's entry count reaches a multiple of this.
    std::size_t synthesize_every = 50;
};
bool contested(const vote::Tally& tally, const Triggers& triggers);
bool needs_review(const vote::Tally& tally, const Triggers& triggers);

}  // namespace nocturne::compute
