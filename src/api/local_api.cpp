#include <nocturne/api/json_error.hpp>
#include <nocturne/api/local_api.hpp>

#include <nlohmann/json.hpp>

#include <chrono>

namespace nocturne::api {
namespace {

// Per class: what gossip received, sent and refused (docs/gossip.md, Observability).
nlohmann::json gossip_json(const gossip::GossipService& g) {
    const auto& s = g.stats();
    nlohmann::json out = {{"held", g.held()},
                          {"seen", g.seen()},
                          {"queued", g.queued()},
                          {"syncs", s.syncs},
                          {"synced_items", s.synced_items},
                          {"slowed_peers", s.slowed_peers},
                          {"slowed_by_peers", s.slowed_by_peers},
                          {"failed_sends", s.failed_sends},
                          {"not_gossiped", s.not_gossiped}};
    for (const auto c : gossip::all_classes) {
        const auto& k = s.of(c);
        out[gossip::to_string(c)] = {{"received", k.received},   {"forwarded", k.forwarded},
                                     {"announced", k.announced}, {"duplicates", k.duplicates},
                                     {"refused", k.refused},     {"shed", k.shed}};
    }
    return out;
}

std::size_t quarantined(const agent::Agent& agent) {
    std::size_t n = 0;
    const auto now = agent.clock().unix_seconds();
    for (const auto& o : agent.trust().quarantine_orders()) {
        if (agent.trust().quarantine_of(o.operator_id, now) != nullptr) ++n;
    }
    return n;
}

std::int64_t unix_seconds(Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

Response ok(const nlohmann::json& body) {
    return Response{200, body.dump(), {}};
}

}  // namespace

void add_node_routes(Router& router, agent::Agent& agent, DaemonFacts facts) {
    router.add("GET", "/local/health", [&agent, facts](const Request&, const PathParams&) {
        const auto standing = agent.standing();
        const auto records = agent.records().size();
        const auto& node = agent.node();
        const auto& stats = node.stats();
        nlohmann::json body = {
            {"status", "ok"},
            {"ready", agent.bootstrapped()},
            {"version", facts.version},
            {"node_id", node.id().to_hex()},
            {"address", node.address()},
            {"network", agent.network()},
            {"uptime_seconds",
             std::chrono::duration_cast<std::chrono::seconds>(agent.clock().now() - facts.started)
                 .count()},
            {"routing_table", node.table().size()},
            {"enrolled", standing.has_value()},
            {"operator_id", standing ? standing->operator_id : ""},
            {"trust", agent.describe_standing()},
            {"store_records", records ? *records : 0},
            {"revoked_operators", agent.trust().validator().revocation_count()},
            {"quarantined_operators", quarantined(agent)},
            {"anomaly_reports", agent.trust().reports().size()},
            {"gossip", gossip_json(agent.gossip())},
            {"stats",
             {{"requests_in", stats.requests_in},
              {"stores_accepted", stats.stores_accepted},
              {"stores_refused", stats.stores_refused},
              {"rpc_timeouts", stats.rpc_timeouts},
              {"unresponsive_peers", node.unresponsive_peers()},
              {"slowed_down", stats.slowed_down},
              {"replicated", stats.replicated},
              {"stores_resent_with_credentials", stats.stores_resent_with_credentials}}},
        };
        auto transport = nlohmann::json::object();
        if (facts.transport_counters) {
            for (const auto& [name, value] : facts.transport_counters()) transport[name] = value;
        }
        body["transport"] = std::move(transport);
        return ok(body);
    });
    // Probes for supervisors and orchestrators: live means the API answers (its event loop, which
    // is the node's, turns); ready means the node has joined a mesh and serves.
    router.add("GET", "/local/health/live", [](const Request&, const PathParams&) {
        return ok({{"status", "ok"}});
    });
    router.add("GET", "/local/health/ready", [&agent](const Request&, const PathParams&) {
        if (!agent.bootstrapped()) {
            return json_error(503, errc::not_ready,
                              "not ready: no bootstrap peer has answered yet (retrying)");
        }
        return ok({{"status", "ready"}, {"routing_table", agent.node().table().size()}});
    });
    router.add("GET", "/local/peers", [&agent](const Request&, const PathParams&) {
        nlohmann::json peers = nlohmann::json::array();
        for (const auto& p : agent.node().table().all_peers()) {
            peers.push_back({{"node_id", p.id.to_hex()},
                             {"address", p.address},
                             {"last_seen", unix_seconds(p.last_seen)},
                             {"failed_requests", p.failed_requests}});
        }
        return ok({{"count", peers.size()}, {"peers", peers}});
    });
}

}  // namespace nocturne::api
