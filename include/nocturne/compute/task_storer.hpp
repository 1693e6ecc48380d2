#pragma once

// A storer of task records (task.hpp): holds each part to its rules (task_rules.hpp) when it
// arrives first-hand from its author, and signs the grants. A grant is kept as a record under
// the task key like any other (readers count them; replication spreads them), so an honest
// storer grants one claimant per epoch across restarts.
//
// Owned by the thread that owns the node; not thread-safe.

#include <nocturne/compute/task_rules.hpp>
#include <nocturne/core/clock.hpp>
#include <nocturne/crypto/keys.hpp>
#include <nocturne/dht/node.hpp>
#include <nocturne/trust/trust_state.hpp>

#include <map>
#include <memory>
#include <string>

namespace nocturne::compute {

class TaskStorer {
public:
    TaskStorer(dht::Node& node, const crypto::KeyPair& keys, const Clock& clock,
               trust::TrustState& trust, ClaimRules rules);
    ~TaskStorer();
    TaskStorer(const TaskStorer&) = delete;
    TaskStorer& operator=(const TaskStorer&) = delete;

    // Task definitions one creator may keep in one domain's task index.
    static constexpr std::size_t max_tasks_per_creator = 512;

private:
    std::error_code check(const wire::Record& record, const NodeId& from);
    std::error_code check_claim(const wire::Record& record, const NodeId& author);
    std::error_code check_result(const wire::Record& record, const NodeId& author);
    std::error_code check_task(const wire::Record& record);
    // This storer's latest grant under key, and its seq.
    std::optional<std::pair<Grant, std::uint64_t>> my_grant(const NodeId& key);
    std::size_t open_claims(const std::string& operator_id, std::int64_t now);

    dht::Node& node_;
    const crypto::KeyPair& keys_;
    const Clock& clock_;
    trust::TrustState& trust_;
    ClaimRules rules_;
    // operator -> task key -> until: the live grants this storer gave each operator's agents.
    std::map<std::string, std::map<NodeId, std::int64_t>> grants_by_operator_;
    std::shared_ptr<char> alive_ = std::make_shared<char>();
    static constexpr std::size_t max_tracked_operators = 65536;
};

}  // namespace nocturne::compute
