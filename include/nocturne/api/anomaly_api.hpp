#pragma once

#include <nocturne/anomaly/anomaly_service.hpp>
#include <nocturne/api/router.hpp>
#include <nocturne/trust/trust_state.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>

namespace nocturne::api {

// Adds GET /local/anomalies (docs/api.md): the anomaly reports this node verified (newest first,
// at most 100), the quarantine orders it knows, and its own monitors' counters. The services must
// outlive the router.
void add_anomaly_routes(Router& router, const trust::TrustState& trust,
                        const anomaly::AnomalyService& monitors, const Clock& clock);

// Its JSON: quarantine reasons (operators' text) inside one untrusted envelope.
nlohmann::json anomalies_json(const trust::TrustState& trust,
                              const anomaly::AnomalyService& monitors, std::int64_t now);

}  // namespace nocturne::api
