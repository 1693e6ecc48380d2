#pragma once

#include <nocturne/core/error.hpp>
#include <nocturne/core/node_id.hpp>
#include <nocturne/store/store.hpp>
#include <nocturne/trust/anomaly_report.hpp>
#include <nocturne/trust/validator.hpp>
#include <nocturne/wire/record.hpp>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace nocturne::trust {

// Certificates, revocations, quarantines and anomaly reports: the records the Web of Trust is
// made of, and the evidence it acts on.
inline bool is_trust_kind(wire::RecordKind kind) noexcept {
    return kind == wire::RecordKind::cert || kind == wire::RecordKind::agent_cert ||
           kind == wire::RecordKind::revocation || kind == wire::RecordKind::quarantine ||
           kind == wire::RecordKind::anomaly;
}

// What a node knows of the Web of Trust, as signed records: operator certificates, agent
// certificates, revocations, quarantines, and the anomaly reports it verified (those are kept in
// memory only, a bounded number per reporter). It learns them from STOREs it is responsible for,
// from the credentials that ride along with STOREs and FIND_VALUE answers, and from its own
// enrollment; it keeps them in `persist` so that a restarted node can still prove the standing of
// the records it holds when it replicates them.
//
// Owned by the thread that owns the node (the daemon's io_context); not thread-safe.
class TrustState {
public:
    struct AgentStanding {
        std::string operator_id;
        int agent_index = 0;
        int operator_depth = 0;
    };
    struct Stats {
        std::uint64_t learned = 0;
        std::uint64_t rejected = 0;
        std::uint64_t persist_errors = 0;
    };

    // Loads the trust records `persist` holds (those still valid at `now`).
    TrustState(Genesis genesis, store::Store& persist, std::int64_t now);

    const TrustValidator& validator() const noexcept { return validator_; }
    const Genesis& genesis() const noexcept { return validator_.genesis(); }
    const Stats& stats() const noexcept { return stats_; }
    // Changes whenever something this node learns can take standing away from an agent that had
    // it (an operator's certificate, a revocation, a slot taken over): positive verdicts cached
    // elsewhere are stale then. A new agent's arrival does not change it.
    std::uint64_t standing_epoch() const noexcept { return standing_epoch_; }

    // Learns one cert, agent_cert or revocation record if it is valid at `now` (and keeps it);
    // unknown_record_kind for other kinds, otherwise the reason it is not valid. A revocation is
    // judged at its own time: `credentials` (the certificates that came with it) may hold its
    // signers' certificates as they were then, expired since.
    std::error_code learn(const wire::Record& record, std::int64_t now,
                          std::span<const wire::Record> credentials = {});
    // Learns records in rounds until a round adds nothing: a certificate chain may arrive in any
    // order. Invalid records are skipped. Returns how many were learned.
    std::size_t learn_all(std::span<const wire::Record> records, std::int64_t now);

    // An agent (node) key's standing: its operator when the agent certificate is valid, holds its
    // slot, the slot is below max_agents and the operator is trusted. Otherwise unknown_agent,
    // agent_superseded, too_many_agents, certificate_expired, or the operator's problem.
    result<AgentStanding> agent_standing(const NodeId& agent, std::int64_t now) const;

    // Whether a record may be stored: trust records must be valid (they are learned on the way,
    // with the credentials that came along); every other kind needs an author that is a trusted
    // agent.
    std::error_code check_record(const wire::Record& record, std::int64_t now,
                                 std::span<const wire::Record> credentials = {});

    // The certificates that prove a record's standing to a node that knows nothing yet: for an
    // ordinary record its author's agent certificate and operator chain, for a certificate its
    // endorsers' chains, for a revocation its signers' chains. At most `limit` records, closest
    // to the record first.
    std::vector<wire::Record> credentials_for(const wire::Record& record, std::size_t limit) const;
    std::vector<wire::Record> agent_credentials(const NodeId& agent, std::size_t limit) const;

    // Whether this exact record (by signature) was learned before: the gossip layer's duplicate.
    bool knows(const wire::Record& record) const { return known_.count(record.sig) != 0; }
    // The trust records this node holds now: certificates, agent certificates, revocations,
    // quarantine orders (the standing one per operator) and anomaly reports.
    std::vector<wire::Record> records() const;

    // The operator an agent's certificate names (nullptr: no certificate known), without judging
    // its standing: for a record whose author agent_standing() has just accepted.
    const std::string* operator_of(const NodeId& agent) const;
    // Whether any quarantine order is known (most meshes have none: nothing to look up).
    bool has_quarantines() const noexcept { return !quarantines_.empty(); }
    // The hold on an operator at `now`, if one stands (a hold whose time has come and not gone,
    // not lifted since).
    const QuarantineOrder* quarantine_of(const std::string& operator_id, std::int64_t now) const;
    // The standing order (hold or lift) of every operator that has one.
    std::vector<QuarantineOrder> quarantine_orders() const;

    struct Report {
        wire::Record record;
        std::string id;  // hex SHA-256 of the record's signature (a quarantine's `report`)
        std::string reporter_operator;
        std::string operator_id;
        AnomalyType type = AnomalyType::vote_burst;
        std::int64_t violation_at = 0;
        std::size_t evidence = 0;
    };
    // Verified reports, oldest first.
    const std::deque<Report>& reports() const { return reports_; }
    static constexpr std::size_t max_reports = 1024;
    static constexpr std::size_t max_reports_per_reporter = 16;
    // Called with each record learned from now on, whatever brought it (a STORE, a lookup's
    // credentials, enrollment, gossip): the gossip layer spreads what is new.
    void on_learned(std::function<void(const wire::Record&)> hook) {
        on_learned_ = std::move(hook);
    }

    // Every operator this node would accept records from: genesis and certified, unrevoked.
    std::vector<std::string> known_operators() const;

private:
    struct AgentEntry {
        AgentCertificate cert;
        wire::Record record;
    };
    using Slot = std::pair<std::string, int>;  // (operator id, agent index)
    struct Known {
        std::string operator_id;
        NodeId agent;  // agent certificates only
    };

    std::error_code learn_certificate(const wire::Record& record, std::int64_t now);
    std::error_code learn_agent(const wire::Record& record, std::int64_t now);
    std::error_code learn_revocation(const wire::Record& record, std::int64_t now,
                                     std::span<const wire::Record> credentials);
    std::error_code learn_quarantine(const wire::Record& record, std::int64_t now,
                                     std::span<const wire::Record> credentials);
    std::error_code learn_report(const wire::Record& record, std::int64_t now);
    // Whether `order` replaces `current` as the operator's standing order.
    static bool supersedes(const QuarantineOrder& order, const QuarantineOrder& current);
    // Signers of a threshold statement are judged as they stood at its time: their
    // certificates among `credentials` are validated at that time.
    void adopt_signer_certificates(const std::vector<RevocationSignature>& signatures,
                                   std::int64_t at, std::int64_t now,
                                   std::span<const wire::Record> credentials);
    void keep(const wire::Record& record);
    void remember(const wire::Record& record, std::string operator_id, NodeId agent);
    // Certificate records of non-genesis operators from these operators up towards genesis.
    void add_chains(std::vector<std::string> operators, std::vector<wire::Record>& out,
                    std::size_t limit) const;

    TrustValidator validator_;
    store::Store& persist_;
    std::map<std::string, wire::Record> cert_records_;
    std::map<NodeId, AgentEntry> agents_;
    std::map<Slot, NodeId> slot_holders_;
    std::map<std::string, wire::Record> revocation_records_;
    struct Quarantine {
        QuarantineOrder order;
        wire::Record record;
    };
    std::map<std::string, Quarantine> quarantines_;  // by operator: the standing order
    std::deque<Report> reports_;
    std::map<crypto::Signature, Known> known_;  // by record signature: learned before
    std::set<crypto::Signature> rejected_;      // records refused for a forged signature
    Stats stats_;
    std::uint64_t standing_epoch_ = 0;
    std::function<void(const wire::Record&)> on_learned_;
};

}  // namespace nocturne::trust
