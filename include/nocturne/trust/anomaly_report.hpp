#pragma once

// Evidence, not accusations: an anomaly report carries the accused operator's own signed records
// that prove a violation of the mesh's rules, with the agent certificates that tie their authors
// to the operator, so that any node can check it alone (verify_report). The reporter signs the
// report as an `anomaly` record at prefix_key("anomaly", operator_id); gossip spreads it.
//
//   vote_burst    more than vote_burst_per_minute vote commitments, created within 60 s
//   domain_flood  announcements of more than domain_flood_per_hour distinct entries in one
//                 domain, created within 3,600 s
//   equivocation  two different commitments on one entry in one round
//
// Pure: no trust judgement here (is the reporter an agent with standing, is the accused operator
// known: TrustState's business).

#include <nocturne/core/error.hpp>
#include <nocturne/crypto/keys.hpp>
#include <nocturne/wire/record.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace nocturne::trust {

enum class AnomalyType { vote_burst, domain_flood, equivocation };
const char* to_string(AnomalyType type) noexcept;
result<AnomalyType> anomaly_type_from_string(std::string_view text);

// The mesh's rates (genesis.json; the plan's defaults). Above them a responsible node refuses an
// operator's records and reports it.
struct AnomalyRules {
    int vote_burst_per_minute = 20;
    int domain_flood_per_hour = 50;
};
inline constexpr std::int64_t vote_burst_window_seconds = 60;
inline constexpr std::int64_t domain_flood_window_seconds = 3600;
// The genesis' bound on both rates. Above ~100 (small entries) the evidence no longer fits in one
// record: the cap still holds, the violation is not reported.
inline constexpr int max_rule_rate = 1000;
inline constexpr std::size_t max_report_agents = 16;

struct AnomalyReport {
    std::string network;
    std::string operator_id;  // the accused
    AnomalyType type = AnomalyType::vote_burst;
    std::vector<wire::Record> evidence;  // the operator's agents' records
    std::vector<wire::Record> agents;    // their agent certificates
};

// Whether the evidence proves the violation: invalid_evidence, or success. The records'
// signatures were verified when they were decoded (report_from_record).
std::error_code verify_report(const AnomalyReport& report, const AnomalyRules& rules);
// When the violation happened: the newest evidence record's creation.
std::int64_t violation_time(const AnomalyReport& report);

std::string report_payload(const AnomalyReport& report);
// Decodes (and so verifies the signatures of) every agent certificate and evidence record: at
// most one more record than the rule's rate (value_out_of_range), each authored by an agent a
// certificate names (invalid_evidence otherwise, before its signature is checked); a record
// that does not decode gives its own error. Does not call verify_report.
result<AnomalyReport> report_from_record(const wire::Record& record, const AnomalyRules& rules);
// created = seq = now; kept 7 days.
result<wire::Record> sign_report_record(const AnomalyReport& report,
                                        const crypto::KeyPair& reporter, std::int64_t now);
inline constexpr std::int64_t report_lifetime_seconds = 7 * 86400;

}  // namespace nocturne::trust
