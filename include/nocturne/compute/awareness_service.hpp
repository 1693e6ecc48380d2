#pragma once

// What an agent joining the mesh wants to know, read from the mesh: the domains (with entry
// counts where this node holds their index, and those agents report working in), the operators
// and agents it meets, entries with votes in the busiest domains, the open tasks there, and the
// agents' latest reflections (reflection.hpp), newest trusted first. reflect() stores this
// agent's own.
//
// Owned by the thread that owns the node; not thread-safe.

#include <nocturne/compute/compute_service.hpp>
#include <nocturne/compute/reflection.hpp>
#include <nocturne/knowledge/knowledge_service.hpp>
#include <nocturne/vote/vote_service.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace nocturne::compute {

class AwarenessService {
public:
    template <class T>
    using Callback = std::function<void(result<T>)>;

    AwarenessService(dht::Node& node, const crypto::KeyPair& keys, const Clock& clock,
                     trust::TrustState& trust, knowledge::KnowledgeService& knowledge,
                     vote::VoteService& votes, ComputeService& compute);
    ~AwarenessService();
    AwarenessService(const AwarenessService&) = delete;
    AwarenessService& operator=(const AwarenessService&) = delete;

    void set_operator_id(std::string operator_id) { operator_id_ = std::move(operator_id); }

    struct Stored {
        Reflection reflection;
        std::size_t stored = 0;
    };
    // Errors: unknown_agent (not enrolled), value_out_of_range, timeout.
    void reflect(std::string summary, std::vector<std::string> domains, Callback<Stored> done);

    struct Seen {
        Reflection reflection;
        bool trusted = false;  // its author is an enrolled agent of the operator it names
    };
    struct Operator {
        std::string operator_id;
        std::vector<std::string> agents;  // node ids
    };
    struct Voted {
        std::string domain;
        std::string id;
        vote::Tally tally;
    };
    struct Awareness {
        std::vector<knowledge::DomainInfo> domains;
        std::vector<Operator> operators;
        std::vector<Voted> votes;
        std::vector<ComputeService::Listed> tasks;
        std::vector<Seen> reflections;
    };
    void awareness(std::function<void(Awareness)> done);

    // Domains whose entries, votes and tasks awareness() reads (each costs lookups).
    static constexpr std::size_t domains_read = 3;
    static constexpr std::size_t entries_read = 10;
    static constexpr std::size_t reflections_shown = 20;

private:
    std::error_code check(const wire::Record& record);

    dht::Node& node_;
    const crypto::KeyPair& keys_;
    const Clock& clock_;
    trust::TrustState& trust_;
    knowledge::KnowledgeService& knowledge_;
    vote::VoteService& votes_;
    ComputeService& compute_;
    std::string operator_id_;
    std::shared_ptr<char> alive_ = std::make_shared<char>();
};

}  // namespace nocturne::compute
