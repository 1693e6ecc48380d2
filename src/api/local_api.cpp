#include <nocturne/api/local_api.hpp>

#include <nlohmann/json.hpp>

#include <chrono>

namespace nocturne::api {
namespace {

std::int64_t unix_seconds(Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

Response ok(const nlohmann::json& body) {
    return Response{200, body.dump(), {}};
}

}  // namespace

void add_node_routes(Router& router, const LocalApiContext& ctx) {
    router.add("GET", "/local/health", [ctx](const Request&, const PathParams&) {
        const auto standing = ctx.trust.standing();
        const auto records = ctx.store.size();
        const auto& stats = ctx.node.stats();
        nlohmann::json body = {
            {"status", "ok"},
            {"version", ctx.version},
            {"node_id", ctx.node.id().to_hex()},
            {"address", ctx.node.address()},
            {"network", ctx.network},
            {"uptime_seconds",
             std::chrono::duration_cast<std::chrono::seconds>(ctx.clock.now() - ctx.started)
                 .count()},
            {"routing_table", ctx.node.table().size()},
            {"enrolled", standing.has_value()},
            {"operator_id", standing ? standing->operator_id : ""},
            {"trust", ctx.trust.describe()},
            {"store_records", records ? *records : 0},
            {"stats",
             {{"requests_in", stats.requests_in},
              {"stores_accepted", stats.stores_accepted},
              {"stores_refused", stats.stores_refused},
              {"rpc_timeouts", stats.rpc_timeouts}}},
        };
        return ok(body);
    });
    router.add("GET", "/local/peers", [ctx](const Request&, const PathParams&) {
        nlohmann::json peers = nlohmann::json::array();
        for (const auto& p : ctx.node.table().all_peers()) {
            peers.push_back({{"node_id", p.id.to_hex()},
                             {"address", p.address},
                             {"last_seen", unix_seconds(p.last_seen)},
                             {"failed_requests", p.failed_requests}});
        }
        return ok({{"count", peers.size()}, {"peers", peers}});
    });
}

}  // namespace nocturne::api
