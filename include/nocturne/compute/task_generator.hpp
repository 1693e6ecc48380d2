#pragma once

// Tasks nobody has to ask for: a node responsible for a domain's index looks at the entries it
// holds, a few per scan, and creates a task when a condition holds (task_rules.hpp, Triggers):
// verify for an entry with contested votes, review for a low-confidence entry with few votes,
// synthesize each time the domain's entry count reaches a multiple of synthesize_every. Task ids
// derive from the condition (generated_task_id), so the domain's responsible nodes create the
// same tasks; each signs its own definition, and readers merge them by id. A creator closes its
// definitions once it sees them completed, so that the index offers them no more.
//
// Owned by the thread that owns the node; not thread-safe.

#include <nocturne/compute/task_rules.hpp>
#include <nocturne/core/clock.hpp>
#include <nocturne/crypto/keys.hpp>
#include <nocturne/dht/node.hpp>
#include <nocturne/store/store.hpp>
#include <nocturne/vote/vote_service.hpp>

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>

namespace nocturne::compute {

class TaskGenerator {
public:
    using StateReader = std::function<void(const Task& task, std::function<void(TaskState)> done)>;

    TaskGenerator(dht::Node& node, const crypto::KeyPair& keys, const Clock& clock,
                  store::Store& own, vote::VoteService& votes, Triggers triggers,
                  Clock::duration scan_period, std::int64_t task_seconds, StateReader read_state);
    TaskGenerator(const TaskGenerator&) = delete;
    TaskGenerator& operator=(const TaskGenerator&) = delete;

    // Creates nothing while "" (a node that is not enrolled cannot store anything anyway).
    void set_operator_id(std::string operator_id) { operator_id_ = std::move(operator_id); }
    // Publishes a definition signed by this node, keeps it in the own store (republished, and
    // closed once completed). Without storers, the task key's are looked up first.
    void publish(const Task& task, std::function<void(dht::PutResult)> done);

    void tick();
    Clock::time_point next_wakeup() const { return next_scan_; }

    std::size_t created() const { return created_; }
    std::size_t open_definitions() const { return own_open_.size(); }

    // Entries a scan looks at (each costs a vote lookup, cached), and own definitions it checks.
    static constexpr std::size_t entries_per_scan = 32;
    static constexpr std::size_t definitions_per_scan = 16;

private:
    void scan();
    void scan_domain(const std::string& domain, std::size_t entries);
    void ensure(Task task);
    void sign_and_put(const Task& task, std::function<void(dht::PutResult)> done);
    void close_completed();
    void load_own();

    dht::Node& node_;
    const crypto::KeyPair& keys_;
    const Clock& clock_;
    store::Store& own_;
    vote::VoteService& votes_;
    Triggers triggers_;
    Clock::duration scan_period_;
    std::int64_t task_seconds_;
    StateReader read_state_;
    std::string operator_id_;
    Clock::time_point next_scan_{};
    bool loaded_ = false;
    std::map<std::string, Task> own_open_;       // this node's open definitions, by id
    std::set<std::string> known_;                // ids this node created (open or closed)
    std::map<std::string, std::size_t> cursor_;  // per domain: the next entry number to look at
    std::string next_domain_;                    // where the round-robin over domains goes on
    std::string next_definition_;                // likewise over own definitions
    std::size_t created_ = 0;
    std::shared_ptr<char> alive_ = std::make_shared<char>();
    static constexpr std::size_t max_known = 100'000;
};

}  // namespace nocturne::compute
