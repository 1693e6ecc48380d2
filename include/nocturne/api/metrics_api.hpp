#pragma once

#include <nocturne/agent/agent.hpp>
#include <nocturne/api/api_metrics.hpp>
#include <nocturne/api/local_api.hpp>
#include <nocturne/api/router.hpp>

#include <memory>

namespace nocturne::api {

// Adds GET /local/metrics: the node's counters in the Prometheus text format (docs/operations.md
// lists the series and a scrape configuration). Same token as every endpoint. The agent must
// outlive the router.
void add_metrics_route(Router& router, agent::Agent& agent, DaemonFacts facts,
                       std::shared_ptr<const ApiMetrics> api);

}  // namespace nocturne::api
