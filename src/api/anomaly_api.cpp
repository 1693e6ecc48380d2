#include <nocturne/api/anomaly_api.hpp>
#include <nocturne/api/json_error.hpp>
#include <nocturne/api/untrusted_text.hpp>
#include <nocturne/core/hex.hpp>

namespace nocturne::api {
namespace {

constexpr std::size_t max_listed_reports = 100;

}  // namespace

nlohmann::json anomalies_json(const trust::TrustState& trust,
                              const anomaly::AnomalyService& monitors, std::int64_t now) {
    nlohmann::json reports = nlohmann::json::array();
    const auto& held = trust.reports();
    for (auto it = held.rbegin(); it != held.rend() && reports.size() < max_listed_reports; ++it) {
        reports.push_back({{"id", it->id},
                           {"type", trust::to_string(it->type)},
                           {"operator_id", it->operator_id},
                           {"reporter_operator", it->reporter_operator},
                           {"reporter", NodeId::from_public_key(it->record.author)->to_hex()},
                           {"violation_at", it->violation_at},
                           {"reported_at", it->record.created},
                           {"evidence_records", it->evidence}});
    }
    const auto orders = trust.quarantine_orders();
    std::vector<std::string> reasons;
    for (const auto& o : orders) reasons.push_back(o.reason);
    const auto marker = fresh_marker(reasons);
    nlohmann::json quarantines = nlohmann::json::array();
    for (const auto& o : orders) {
        nlohmann::json signers = nlohmann::json::array();
        for (const auto& s : o.signatures) signers.push_back(trust::operator_id_of(s.signer));
        nlohmann::json q = {{"operator_id", o.operator_id},
                            {"action", trust::to_string(o.action)},
                            {"timestamp", o.timestamp},
                            {"active", trust.quarantine_of(o.operator_id, now) != nullptr},
                            {"report", o.report},
                            {"signers", signers},
                            {"reason", envelope({{"reason", o.reason}}, marker)}};
        if (o.action == trust::QuarantineAction::hold) q["until"] = o.until;
        quarantines.push_back(std::move(q));
    }
    // This node's own view: not evidence another node can check, so neither signed nor spread.
    nlohmann::json observations = nlohmann::json::array();
    const auto& alarms = monitors.accuracy().alarms();
    for (auto it = alarms.rbegin(); it != alarms.rend(); ++it) {
        observations.push_back({{"type", "accuracy_drop"},
                                {"operator_id", it->operator_id},
                                {"at", it->at},
                                {"votes", it->votes},
                                {"against", it->against},
                                {"statistic", it->statistic}});
    }
    const auto& s = monitors.stats();
    const auto& rules = trust.genesis().anomaly;
    return {{"marker", marker},
            {"reports", reports},
            {"observations", observations},
            {"quarantines", quarantines},
            {"monitors",
             {{"dry_run", monitors.options().dry_run},
              {"vote_burst_per_minute", rules.vote_burst_per_minute},
              {"domain_flood_per_hour", rules.domain_flood_per_hour},
              {"refused", s.refused},
              {"over_rate", s.over_rate},
              {"reports_made", s.reports},
              {"unreportable", s.unreportable},
              {"equivocations", s.equivocations}}}};
}

void add_anomaly_routes(Router& router, const trust::TrustState& trust,
                        const anomaly::AnomalyService& monitors, const Clock& clock) {
    router.add(
        "GET", "/local/anomalies",
        [&trust, &monitors, &clock](const Request& request, const PathParams&) {
            if (!request.query.empty()) {
                return json_error(400, errc::unknown_field, "this route takes no parameters");
            }
            return Response{200, anomalies_json(trust, monitors, clock.unix_seconds()).dump(), {}};
        });
}

}  // namespace nocturne::api
