#include <nocturne/trust/anomaly_report.hpp>
#include <nocturne/trust/certificate.hpp>
#include <nocturne/trust/genesis.hpp>
#include <nocturne/wire/identifiers.hpp>
#include <nocturne/wire/json_reader.hpp>

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <tuple>

namespace nocturne::trust {
namespace {

constexpr std::size_t max_evidence = static_cast<std::size_t>(max_rule_rate) + 1;

// A string field of a record's payload ("" when absent).
std::string payload_string(const wire::Record& r, std::string_view name) {
    auto json = wire::parse_json(r.payload, wire::default_limits.max_record_bytes,
                                 wire::default_limits.max_json_depth);
    if (!json || !json->is_object()) return {};
    const auto it = json->find(name);
    return it != json->end() && it->is_string() ? it->get<std::string>() : std::string{};
}

// Every evidence record is authored by an agent that one of the certificates ties to the accused
// operator, in the report's network, at the record's creation: a key the operator retired (its
// certificate expired) proves nothing about what was signed with it later. (Payloads that name
// an operator are not relied on: an announcement need not.)
bool authors_tied(const AnomalyReport& report) {
    std::vector<AgentCertificate> certs;
    for (const auto& r : report.agents) {
        if (operator_id_of(r.author) != report.operator_id) continue;
        auto cert = agent_certificate_from_record(r);
        if (cert && cert->network == report.network && cert->operator_id == report.operator_id) {
            certs.push_back(std::move(*cert));
        }
    }
    return std::all_of(report.evidence.begin(), report.evidence.end(), [&](const wire::Record& r) {
        const bool tied = std::any_of(certs.begin(), certs.end(), [&](const AgentCertificate& c) {
            return c.agent_key == r.author && c.created_at <= r.created && r.created < c.expires_at;
        });
        return tied;
    });
}

bool within(const std::vector<wire::Record>& records, std::int64_t window) {
    const auto [lo, hi] = std::minmax_element(
        records.begin(), records.end(),
        [](const wire::Record& a, const wire::Record& b) { return a.created < b.created; });
    return hi->created - lo->created < window;
}

bool is_commit(const wire::Record& r) {
    return r.kind == wire::RecordKind::vote && r.slot == "commit";
}

}  // namespace

const char* to_string(AnomalyType type) noexcept {
    switch (type) {
        case AnomalyType::vote_burst:
            return "vote_burst";
        case AnomalyType::domain_flood:
            return "domain_flood";
        case AnomalyType::equivocation:
            return "equivocation";
    }
    return "unknown";
}

result<AnomalyType> anomaly_type_from_string(std::string_view text) {
    for (auto t : {AnomalyType::vote_burst, AnomalyType::domain_flood, AnomalyType::equivocation}) {
        if (text == to_string(t)) return t;
    }
    return make_error_code(errc::value_out_of_range);
}

std::error_code verify_report(const AnomalyReport& report, const AnomalyRules& rules) {
    const auto bad = make_error_code(errc::invalid_evidence);
    const auto& ev = report.evidence;
    if (ev.empty() || !authors_tied(report)) return bad;
    switch (report.type) {
        case AnomalyType::vote_burst: {
            // Distinct commitments: one per (entry, agent, round); a second version of one does
            // not count twice.
            std::set<std::tuple<NodeId, crypto::PublicKey, std::uint64_t>> distinct;
            for (const auto& r : ev) {
                if (!is_commit(r)) return bad;
                distinct.emplace(r.key, r.author, r.seq);
            }
            if (distinct.size() <= static_cast<std::size_t>(rules.vote_burst_per_minute) ||
                !within(ev, vote_burst_window_seconds)) {
                return bad;
            }
            return {};
        }
        case AnomalyType::domain_flood: {
            std::set<std::string> entries;
            for (const auto& r : ev) {
                if (r.kind != wire::RecordKind::domain_announce || r.key != ev.front().key) {
                    return bad;
                }
                entries.insert(r.slot);
            }
            if (entries.size() <= static_cast<std::size_t>(rules.domain_flood_per_hour) ||
                !within(ev, domain_flood_window_seconds)) {
                return bad;
            }
            return {};
        }
        case AnomalyType::equivocation: {
            // One agent, one entry, one round, two commitments. (Two agents of one operator
            // that vote on one entry commit differently, each with its own salt: that is not a
            // lie, and the tally counts the operator once.)
            if (ev.size() != 2 || !is_commit(ev[0]) || !is_commit(ev[1]) ||
                ev[0].author != ev[1].author || ev[0].key != ev[1].key || ev[0].seq != ev[1].seq ||
                payload_string(ev[0], "commitment") == payload_string(ev[1], "commitment")) {
                return bad;
            }
            return {};
        }
    }
    return bad;
}

std::int64_t violation_time(const AnomalyReport& report) {
    std::int64_t t = 0;
    for (const auto& r : report.evidence) t = std::max(t, r.created);
    return t;
}

std::string report_payload(const AnomalyReport& report) {
    nlohmann::json evidence = nlohmann::json::array();
    for (const auto& r : report.evidence) evidence.push_back(wire::encode_record(r));
    nlohmann::json agents = nlohmann::json::array();
    for (const auto& r : report.agents) agents.push_back(wire::encode_record(r));
    return wire::to_compact_json({{"network", report.network},
                                  {"operator_id", report.operator_id},
                                  {"type", to_string(report.type)},
                                  {"evidence", evidence},
                                  {"agents", agents}});
}

std::size_t max_evidence_of(AnomalyType type, const AnomalyRules& rules) {
    switch (type) {
        case AnomalyType::vote_burst:
            return static_cast<std::size_t>(rules.vote_burst_per_minute) + 1;
        case AnomalyType::domain_flood:
            return static_cast<std::size_t>(rules.domain_flood_per_hour) + 1;
        case AnomalyType::equivocation:
            return 2;
    }
    return 0;
}

result<AnomalyReport> report_from_record(const wire::Record& record, const AnomalyRules& rules) {
    if (record.kind != wire::RecordKind::anomaly) {
        return make_error_code(errc::unknown_record_kind);
    }
    auto json = wire::parse_json(record.payload, wire::default_limits.max_record_bytes,
                                 wire::default_limits.max_json_depth);
    if (!json) return json.error();
    wire::ObjectReader r(*json);
    AnomalyReport report;
    report.network = r.string("network", wire::max_identifier_bytes);
    report.operator_id = r.string("operator_id", wire::max_identifier_bytes);
    const auto type = r.string("type", 32);
    const auto* evidence = r.array("evidence", max_evidence);
    const auto* agents = r.array("agents", max_report_agents);
    if (auto ec = r.finish()) return ec;
    auto t = anomaly_type_from_string(type);
    if (!t) return t.error();
    report.type = *t;
    if (!wire::is_valid_id(report.operator_id)) return make_error_code(errc::value_out_of_range);
    // What proves the violation is exactly one more than the rate: no more is decoded.
    if (evidence->size() > max_evidence_of(report.type, rules)) {
        return make_error_code(errc::value_out_of_range);
    }
    // The agents first: an evidence record whose author none of them names is not worth
    // verifying.
    std::set<crypto::PublicKey> named;
    for (const auto& a : *agents) {
        if (!a.is_string()) return make_error_code(errc::wrong_type);
    }
    // Each decode verifies a signature: at most max_evidence + max_report_agents of them, paid
    // once per report (the gossip layer charges the sender for it).
    const auto decode_all = [](const nlohmann::json& array, std::optional<wire::RecordKind> only,
                               std::vector<wire::Record>& out) -> std::error_code {
        for (const auto& item : array) {
            if (!item.is_string()) return make_error_code(errc::wrong_type);
            auto rec = wire::decode_record(item.get_ref<const std::string&>());
            if (!rec) return rec.error();
            if (only && rec->kind != *only) return make_error_code(errc::unknown_record_kind);
            out.push_back(std::move(*rec));
        }
        return {};
    };
    if (auto ec = decode_all(*agents, wire::RecordKind::agent_cert, report.agents)) return ec;
    for (const auto& a : report.agents) {
        if (auto cert = agent_certificate_from_record(a)) named.insert(cert->agent_key);
    }
    for (const auto& item : *evidence) {
        if (!item.is_string()) return make_error_code(errc::wrong_type);
        auto outer = wire::parse_json(item.get_ref<const std::string&>(),
                                      wire::default_limits.max_record_bytes,
                                      wire::default_limits.max_json_depth);
        if (!outer || !outer->is_object() || !outer->contains("pk") ||
            !(*outer)["pk"].is_string()) {
            return make_error_code(errc::malformed_json);
        }
        auto pk = crypto::public_key_from_hex((*outer)["pk"].get<std::string>());
        if (!pk || named.count(*pk) == 0) return make_error_code(errc::invalid_evidence);
    }
    if (auto ec = decode_all(*evidence, std::nullopt, report.evidence)) return ec;
    return report;
}

result<wire::Record> sign_report_record(const AnomalyReport& report,
                                        const crypto::KeyPair& reporter, std::int64_t now) {
    return wire::sign_record({wire::RecordKind::anomaly, static_cast<std::uint64_t>(now), now,
                              now + report_lifetime_seconds, report_payload(report)},
                             reporter);
}

}  // namespace nocturne::trust
