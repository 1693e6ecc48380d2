#pragma once

#include <nocturne/api/router.hpp>
#include <nocturne/compute/awareness_service.hpp>

#include <nlohmann/json.hpp>

namespace nocturne::api {

// Adds the awareness endpoints (docs/api.md) to `router`:
//   GET  /local/awareness   domains, operators and agents, entries with votes, open tasks and
//                           the latest reflections, from the mesh
//   POST /local/reflect     {"summary"[,"domains"]}: stores this agent's reflection
// The service must outlive the router.
void add_awareness_routes(Router& router, compute::AwarenessService& service);

// The JSON of GET /local/awareness: reflections' summaries and tasks' titles inside one untrusted
// envelope marker.
nlohmann::json awareness_json(const compute::AwarenessService::Awareness& a);

}  // namespace nocturne::api
