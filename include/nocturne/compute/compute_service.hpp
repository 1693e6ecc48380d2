#pragma once

// Compute tasks (task.hpp says what they are on the wire; task_rules.hpp the rules): an agent
// publishes a task, claims the next open one, extends or releases its claim, submits the
// knowledge entry that answers it. A claim wins when a quorum of the task key's responsible
// storers grant it (their acknowledgements count only from the k nodes closest to the key among
// those asked and those found down, so two sides of a partition cannot both make a quorum).
// The service also keeps the storers' side (TaskStorer) and the nodes' own task generation
// (TaskGenerator).
//
// Owned by the thread that owns the node; not thread-safe.

#include <nocturne/compute/task_generator.hpp>
#include <nocturne/compute/task_rules.hpp>
#include <nocturne/compute/task_storer.hpp>
#include <nocturne/core/clock.hpp>
#include <nocturne/crypto/keys.hpp>
#include <nocturne/dht/node.hpp>
#include <nocturne/store/store.hpp>
#include <nocturne/trust/trust_state.hpp>
#include <nocturne/vote/vote_service.hpp>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace nocturne::compute {

struct ComputeOptions {
    ClaimRules rules;
    Triggers triggers;
    Clock::duration scan_period = std::chrono::minutes(1);
    std::int64_t task_seconds = 7 * 24 * 3600;  // a task's lifetime in the index
    // A claim that did not win a quorum while nobody else can have won one (a race split the
    // storers) is released and tried again in the next epoch, after a random pause; a contested
    // task is read again. This many attempts in all.
    std::size_t claim_attempts = 5;
    // Candidates one claim_next reads (each costs a lookup) before it answers "none".
    std::size_t max_candidates = 8;
};

class ComputeService {
public:
    template <class T>
    using Callback = std::function<void(result<T>)>;

    ComputeService(dht::Node& node, const crypto::KeyPair& keys, const Clock& clock,
                   trust::TrustState& trust, store::Store& own, vote::VoteService& votes,
                   ComputeOptions options = {});
    ~ComputeService();
    ComputeService(const ComputeService&) = delete;
    ComputeService& operator=(const ComputeService&) = delete;

    void set_operator_id(std::string operator_id);
    const ComputeOptions& options() const { return options_; }

    // A custom task in a domain's task index; id: the publisher's choice (default: random).
    // Errors: unknown_agent (not enrolled), value_out_of_range, timeout (no storer took it).
    void publish(std::string domain, std::string title, std::string detail,
                 std::optional<std::string> id, Callback<Task> done);

    struct Held {
        Task task;
        std::uint64_t epoch = 0;
        std::int64_t until = 0;   // unix seconds
        std::size_t granted = 0;  // responsible storers that granted the claim
        std::size_t quorum = 0;   // of how many responsible: quorum_of(responsible)
        std::size_t responsible = 0;
    };
    // Claims the oldest open task of the domain (of this type, if given); none: nullopt. Without a
    // domain, of the domains this node holds or published in (domains). Errors: unknown_agent,
    // too_many_claims (this node's agent holds max_open_claims already), timeout.
    void claim_next(std::vector<std::string> domains, std::optional<std::string> type,
                    Callback<std::optional<Held>> done);
    // Claims one task. Errors: not_found (no such task in the domain's index), task_claimed,
    // task_closed, too_many_claims, quorum_unavailable (too few storers answered).
    void claim(const std::string& domain, const std::string& id, Callback<Held> done);
    // Renews this agent's claim of the epoch for another claim_seconds. Errors: stale_epoch,
    // task_claimed (not its claim), quorum_unavailable.
    void extend(const std::string& id, std::uint64_t epoch, Callback<Held> done);
    // Gives the epoch back: the task is open again at once.
    void release(const std::string& id, std::uint64_t epoch, Callback<std::size_t> done);

    struct Submitted {
        std::string id;
        std::uint64_t epoch = 0;
        std::string domain;
        std::string result_id;
        std::size_t stored = 0;  // storers that took the result
        std::size_t quorum = 0;
    };
    // Completes the task with the knowledge entry (domain, result_id); domain: the task's (from
    // this node's claim, or given). Errors: not_found (no such live entry), stale_epoch (a newer
    // epoch was granted), not_claimant, quorum_unavailable.
    void submit(const std::string& id, std::uint64_t epoch, std::string result_id,
                std::optional<std::string> domain, Callback<Submitted> done);

    struct Listed {
        Task task;
        TaskState state;
    };
    // The domain's tasks that are not completed, oldest first, with their state (one lookup
    // each, at most `limit`).
    void tasks(const std::string& domain, std::size_t limit, Callback<std::vector<Listed>> done);
    // The state of one task, read from its responsible storers; grants count from `storers` (the
    // task's set; empty: any storer, against the number found).
    void state(const std::string& id, std::vector<NodeId> storers,
               std::function<void(TaskState, std::size_t replicas)> done);

    void tick();
    Clock::time_point next_wakeup() const;

    std::size_t open_claims() const;
    const TaskGenerator& generator() const { return generator_; }

private:
    struct Candidates;
    // Why this agent may not claim now (not enrolled, or at its bound of open claims).
    std::optional<Error> cannot_claim() const;
    void read_index(const std::string& domain,
                    std::function<void(std::vector<std::pair<Task, std::int64_t>>)> done);
    void next_candidate(std::shared_ptr<Candidates> job);
    // What storing one record on a task key's storers came to.
    struct Quorum {
        std::size_t granted = 0;      // responsible storers that took it (acknowledged)
        std::size_t quorum = 0;       // quorum_of(responsible)
        std::size_t responsible = 0;  // the k closest asked or found down
        errc refusal = errc::ok;      // the first refusal's code
        bool reached() const { return quorum > 0 && granted >= quorum; }
    };
    void attempt(Task task, std::size_t attempt, std::uint64_t min_epoch, Callback<Held> done);
    void retry_later(Task task, std::size_t attempt, std::uint64_t min_epoch, Callback<Held> done);
    // Stores the record once, and again (up to `tries` in all) while storers that did not answer
    // could still make the quorum; acknowledgements add up across the tries.
    // storers: the task's fixed set (acknowledgements count from it); empty: the k closest the
    // put found (asked or down).
    void store_quorum(const wire::Record& record, std::vector<NodeId> storers,
                      std::function<void(const Quorum&)> done, std::size_t tries = 3);
    struct QuorumJob;
    void store_try(const std::shared_ptr<QuorumJob>& job, std::size_t n);
    void put_claim(const Claim& claim, std::uint64_t step, std::vector<NodeId> storers,
                   std::function<void(const Quorum&)> done);
    void remember_closed(const std::string& id);
    void submit_result(Result result, std::vector<NodeId> storers, Callback<Submitted> done);
    void completed(const Result& result, const Quorum& stored, Callback<Submitted> done);

    dht::Node& node_;
    const crypto::KeyPair& keys_;
    const Clock& clock_;
    ComputeOptions options_;
    std::string operator_id_;
    TaskStorer storer_;
    TaskGenerator generator_;
    std::map<std::string, Held> held_;                 // this agent's claims, by task id
    std::map<std::string, std::uint64_t> steps_;       // their last extension step
    std::map<std::string, Clock::time_point> closed_;  // tasks seen completed, to skip
    std::multimap<Clock::time_point, std::function<void()>> timers_;  // claims to try again
    std::mt19937_64 rng_;
    std::shared_ptr<char> alive_ = std::make_shared<char>();
    static constexpr std::size_t max_closed = 4096;
};

}  // namespace nocturne::compute
