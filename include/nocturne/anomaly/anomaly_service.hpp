#pragma once

// The anomaly monitors of a responsible node (docs/anomaly.md). Every record this node is asked
// to hold passes its rate check: vote commitments per operator (> vote_burst_per_minute within
// 60 s) and entries per operator and domain (> domain_flood_per_hour within an hour), counted by
// the records' own signed creation times. Above the rate the record is refused with
// over_operator_rate (the flood stops where it lands) and the node reports the operator: an
// anomaly report with the signed records that prove it (trust/anomaly_report.hpp), learned by
// the TrustState and so spread by gossip. Equivocations the vote storers catch are reported the
// same way. Dry-run: report, do not refuse.
//
// As a vote storer it also watches each operator's accuracy: when a round's reveals are in, the
// tally of every entry it holds votes on is settled, and each revealed vote is judged against the
// others' tally (AccuracyMonitor). Its alarms are this node's view (the tallies it holds are not
// evidence another node can check alone): listed, not gossiped.
//
// A record created before the rate's window is not counted when a replica passes it on (old
// entries replicated); when its author sends it itself it counts at its arrival against ten times
// the rate, unreported (a backdated flood is capped, but its times prove nothing).
//
// Owned by the thread that owns the node; not thread-safe.

#include <nocturne/anomaly/accuracy_monitor.hpp>
#include <nocturne/core/clock.hpp>
#include <nocturne/crypto/keys.hpp>
#include <nocturne/dht/node.hpp>
#include <nocturne/trust/anomaly_report.hpp>
#include <nocturne/trust/trust_state.hpp>

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

namespace nocturne::anomaly {

struct AnomalyOptions {
    bool dry_run = false;  // report, but do not refuse
    AccuracyOptions accuracy;
};

struct AnomalyStats {
    std::uint64_t refused = 0;        // records refused over an operator's rate
    std::uint64_t over_rate = 0;      // records over a rate (refused or, dry-run, not)
    std::uint64_t reports = 0;        // reports this node made
    std::uint64_t unreportable = 0;   // violations whose evidence did not fit in a report
    std::uint64_t equivocations = 0;  // equivocations handed in by the vote storers
};

class AnomalyService {
public:
    // keys: the node's; reports are signed with it.
    AnomalyService(dht::Node& node, const crypto::KeyPair& keys, const Clock& clock,
                   trust::TrustState& trust, AnomalyOptions options = {});
    ~AnomalyService();
    AnomalyService(const AnomalyService&) = delete;
    AnomalyService& operator=(const AnomalyService&) = delete;

    // Two different commitments of one operator in one round, both signed (vote storers).
    void equivocation(const wire::Record& held, const wire::Record& offered);

    // Settles the tallies whose reveal windows have closed.
    void tick();
    Clock::time_point next_wakeup() const;

    const AnomalyStats& stats() const { return stats_; }
    const AnomalyOptions& options() const { return options_; }
    const AccuracyMonitor& accuracy() const { return accuracy_; }

private:
    // A record counted towards a rate: what identifies it, and where its whole is kept.
    struct Counted {
        std::int64_t created = 0;
        std::string unit;  // what counts once: an entry id, or a commitment's (key, author, round)
        store::RecordIdentity identity;
        crypto::Signature sig{};
    };
    // operator, rule, key (zero for votes), counted by arrival (backdated first-hand records)
    using Group = std::tuple<std::string, trust::AnomalyType, NodeId, bool>;
    struct Rule {
        trust::AnomalyType type = trust::AnomalyType::vote_burst;
        NodeId key;
        std::string unit;
        std::int64_t window = 0;
        int limit = 0;
    };
    std::error_code check(const wire::Record& record, const NodeId& from);
    // The group's records by time, created when new; nullptr when there is no room for it.
    std::vector<Counted>* group(const Group& g, std::int64_t now);
    // Makes, verifies, signs and learns a report (it then spreads by gossip); false when the
    // evidence does not prove the violation or does not fit in one record.
    bool report(const std::string& operator_id, trust::AnomalyType type,
                std::vector<wire::Record> evidence);
    void forget_old(std::int64_t now);
    // Judges the revealed votes of `round` under one vote key against the others' tally.
    void settle(const NodeId& vote_key, std::uint64_t round, std::int64_t now);

    dht::Node& node_;
    const crypto::KeyPair& keys_;
    const Clock& clock_;
    trust::TrustState& trust_;
    AnomalyOptions options_;
    AnomalyStats stats_;
    std::map<Group, std::vector<Counted>> counted_;  // by creation time
    // One report per operator and rule and window, one per equivocation.
    std::map<std::pair<std::string, trust::AnomalyType>, std::int64_t> reported_until_;
    std::set<crypto::Signature> equivocations_reported_;
    std::int64_t next_forget_ = 0;
    AccuracyMonitor accuracy_;
    struct Settling {
        std::uint64_t round = 0;
        std::int64_t at = 0;  // unix seconds: the round's reveals are all in
    };
    std::map<NodeId, Settling> settling_;  // by vote key

    static constexpr std::size_t max_groups = 16'384;
    static constexpr std::size_t max_groups_per_operator = 1024;
    static constexpr std::size_t max_reported = 4096;
    static constexpr std::size_t max_settling = 4096;
};

}  // namespace nocturne::anomaly
