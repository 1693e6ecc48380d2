#include <nocturne/api/metrics_api.hpp>
#include <nocturne/api/prometheus_text.hpp>

#include <chrono>
#include <string>
#include <utility>

namespace nocturne::api {
namespace {

using Labels = PrometheusText::Labels;

void node_series(PrometheusText& p, const agent::Agent& agent, const DaemonFacts& facts) {
    const auto& node = agent.node();
    const auto& s = node.stats();
    p.family("nocturne_info", "gauge", "The node: version, network and node id (always 1).");
    p.sample("nocturne_info",
             Labels{{"version", facts.version},
                    {"network", agent.network()},
                    {"node_id", node.id().to_hex()}},
             std::uint64_t{1});
    p.family("nocturne_uptime_seconds", "gauge", "Seconds since the node started.");
    p.sample("nocturne_uptime_seconds", {},
             std::chrono::duration<double>(agent.clock().now() - facts.started).count());
    p.family("nocturne_ready", "gauge",
             "1 once the node has joined a mesh (GET /local/health/ready), else 0.");
    p.sample("nocturne_ready", {}, std::uint64_t{agent.bootstrapped() ? 1u : 0u});
    p.family("nocturne_enrolled", "gauge", "1 when this node may write to the mesh, else 0.");
    p.sample("nocturne_enrolled", {}, std::uint64_t{agent.standing() ? 1u : 0u});
    p.family("nocturne_routing_table_peers", "gauge", "Peers in the routing table.");
    p.sample("nocturne_routing_table_peers", {}, std::uint64_t{node.table().size()});

    p.family("nocturne_messages_total", "counter",
             "Peer messages by direction and type (requests and answers).");
    for (std::size_t i = 0; i < dht::message_type_count; ++i) {
        const std::string type = wire::to_string(static_cast<wire::MessageType>(i));
        p.sample("nocturne_messages_total", Labels{{"direction", "in"}, {"type", type}},
                 s.messages_in_by_type[i]);
        p.sample("nocturne_messages_total", Labels{{"direction", "out"}, {"type", type}},
                 s.messages_out_by_type[i]);
    }
    p.family("nocturne_rpc_timeouts_total", "counter", "Requests to peers that got no answer.");
    p.sample("nocturne_rpc_timeouts_total", {}, s.rpc_timeouts);
    p.family("nocturne_unresponsive_peers", "gauge",
             "Peers this node's lookups gave up on in the last minute and not heard from since.");
    p.sample("nocturne_unresponsive_peers", {}, std::uint64_t{node.unresponsive_peers()});
    p.family("nocturne_slowed_down_total", "counter",
             "Requests a peer answered with slow down (sent again after its retry-after).");
    p.sample("nocturne_slowed_down_total", {}, s.slowed_down);

    p.family("nocturne_stores_accepted_total", "counter",
             "STOREs this node accepted, by record kind.");
    for (std::size_t i = 0; i < dht::record_kind_count; ++i) {
        p.sample("nocturne_stores_accepted_total",
                 Labels{{"kind", wire::to_string(static_cast<wire::RecordKind>(i))}},
                 s.stores_accepted_by_kind[i]);
    }
    p.family("nocturne_stores_refused_total", "counter", "STOREs this node refused, by code.");
    for (const auto& [code, n] : s.stores_refused_by_code) {
        p.sample("nocturne_stores_refused_total", Labels{{"code", errc_name(code)}}, n);
    }
    p.family("nocturne_lookups_seconds", "histogram",
             "DHT lookups (node, value and storer) from start to result.");
    p.histogram("nocturne_lookups_seconds", {}, s.lookup_seconds);
}

void trust_series(PrometheusText& p, agent::Agent& agent) {
    const auto records = agent.records().size();
    p.family("nocturne_store_records", "gauge", "Records this node holds for the mesh.");
    p.sample("nocturne_store_records", {}, std::uint64_t{records ? *records : 0});
    p.family("nocturne_revoked_operators", "gauge", "Revocations this node knows.");
    p.sample("nocturne_revoked_operators", {},
             std::uint64_t{agent.trust().validator().revocation_count()});
    p.family("nocturne_anomaly_reports", "gauge", "Verified anomaly reports this node keeps.");
    p.sample("nocturne_anomaly_reports", {}, std::uint64_t{agent.trust().reports().size()});
    const auto& a = agent.anomaly().stats();
    p.family("nocturne_anomaly_total", "counter",
             "The anomaly monitors: records over an operator's rate, refused, reports made.");
    p.sample("nocturne_anomaly_total", Labels{{"event", "over_rate"}}, a.over_rate);
    p.sample("nocturne_anomaly_total", Labels{{"event", "refused"}}, a.refused);
    p.sample("nocturne_anomaly_total", Labels{{"event", "reports"}}, a.reports);
    p.sample("nocturne_anomaly_total", Labels{{"event", "equivocations"}}, a.equivocations);
}

void gossip_series(PrometheusText& p, const gossip::GossipService& g) {
    const auto& s = g.stats();
    p.family("nocturne_gossip_items_total", "counter",
             "Gossip items by class and event (docs/gossip.md, Observability).");
    for (const auto c : gossip::all_classes) {
        const auto& k = s.of(c);
        const std::string cls = gossip::to_string(c);
        for (const auto& [event, n] :
             {std::pair<const char*, std::uint64_t>{"received", k.received},
              {"forwarded", k.forwarded},
              {"announced", k.announced},
              {"duplicates", k.duplicates},
              {"refused", k.refused},
              {"shed", k.shed}}) {
            p.sample("nocturne_gossip_items_total", Labels{{"class", cls}, {"event", event}}, n);
        }
    }
    p.family("nocturne_gossip_held", "gauge", "Items in the set this node reconciles.");
    p.sample("nocturne_gossip_held", {}, std::uint64_t{g.held()});
    p.family("nocturne_gossip_syncs_total", "counter", "Anti-entropy exchanges completed.");
    p.sample("nocturne_gossip_syncs_total", {}, s.syncs);
}

void daemon_series(PrometheusText& p, const DaemonFacts& facts, const ApiMetrics* api) {
    if (facts.live_sessions) {
        p.family("nocturne_sessions", "gauge", "Live peer sessions, handshaking ones included.");
        p.sample("nocturne_sessions", {}, std::uint64_t{facts.live_sessions()});
    }
    if (facts.transport_counters) {
        p.family("nocturne_transport_events_total", "counter",
                 "Transport sessions and back-pressure (docs/transport.md).");
        for (const auto& [name, n] : facts.transport_counters()) {
            p.sample("nocturne_transport_events_total", Labels{{"event", name}}, n);
        }
    }
    if (api != nullptr) {
        p.family("nocturne_api_requests_total", "counter",
                 "Local API requests by endpoint (route pattern) and HTTP status.");
        for (const auto& [key, n] : api->counts()) {
            p.sample("nocturne_api_requests_total",
                     Labels{{"endpoint", key.first}, {"status", std::to_string(key.second)}}, n);
        }
    }
}

}  // namespace

void add_metrics_route(Router& router, agent::Agent& agent, DaemonFacts facts,
                       std::shared_ptr<const ApiMetrics> api) {
    router.add("GET", "/local/metrics",
               [&agent, facts = std::move(facts), api](const Request&, const PathParams&) {
                   PrometheusText p;
                   node_series(p, agent, facts);
                   trust_series(p, agent);
                   gossip_series(p, agent.gossip());
                   daemon_series(p, facts, api.get());
                   return Response{
                       200, p.text(), {{"Content-Type", std::string(prometheus_content_type)}}};
               });
}

}  // namespace nocturne::api
