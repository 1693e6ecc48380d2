// GET /local/metrics through the real binary: two enrolled daemons of a dev mesh, scraped before
// and after a publish, the answer read by the Prometheus project's own text parser
// (python3-prometheus-client), so that what a real scraper accepts is what is tested.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <map>

#include "support/agent_cli.hpp"
#include "support/daemon.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace nocturne::test {
namespace {

using namespace std::chrono_literals;

// Every sample of a scrape, by "name{labels as sorted JSON}", as the reference parser reads it.
using Samples = std::map<std::string, double>;

Samples parse_with_prometheus(const TempDir& dir, const std::string& text) {
    const auto file = dir / "scrape.txt";
    std::ofstream(file) << text;
    const std::string script =
        "import sys, json\n"
        "from prometheus_client.parser import text_string_to_metric_families\n"
        "out = {}\n"
        "for family in text_string_to_metric_families(open(sys.argv[1]).read()):\n"
        "    for s in family.samples:\n"
        "        out[s.name + json.dumps(s.labels, sort_keys=True, separators=(\",\", \":\"))] = "
        "s.value\n"
        "print(json.dumps(out))\n";
    Process python("/usr/bin/python3", {"-c", script, file.string()});
    const auto line = python.read_line(30s);
    const auto code = python.wait(30s);
    EXPECT_EQ(code, 0) << "the Prometheus parser refused the scrape: " << python.drain_stderr();
    Samples out;
    if (!line) return out;
    const auto j = nlohmann::json::parse(*line, nullptr, false);
    if (!j.is_object()) return out;
    for (const auto& [k, v] : j.items()) out[k] = v.get<double>();
    return out;
}

std::string key(const std::string& name, const nlohmann::json& labels = nlohmann::json::object()) {
    return name + labels.dump(-1, ' ', false, nlohmann::json::error_handler_t::strict);
}

double value(const Samples& s, const std::string& k) {
    const auto it = s.find(k);
    return it == s.end() ? -1 : it->second;
}

TEST(MetricsBinary, APrometheusParserReadsEverySeriesAndTheyMoveWithTraffic) {
    TempDir dir;
    const auto made = run_agent({"dev-mesh", "2", "--dir", (dir / "mesh").string(), "--json"});
    ASSERT_EQ(made.code, 0) << made.err;
    const std::filesystem::path genesis = nlohmann::json::parse(made.out).value("genesis", "");
    Daemon a(dir / "mesh" / "node-0", genesis);
    ASSERT_TRUE(a.started());
    Daemon b(dir / "mesh" / "node-1", genesis, a.address());
    ASSERT_TRUE(b.started());
    ASSERT_TRUE(b.await_peers(1));

    const auto scrape = [&](const Daemon& d) {
        const auto r = d.call("GET", "/local/metrics");
        EXPECT_TRUE(r.has_value());
        if (!r) return Samples{};
        EXPECT_EQ(r->status, 200) << r->body;
        EXPECT_EQ(r->header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
        return parse_with_prometheus(dir, r->body);
    };
    const auto before = scrape(b);
    ASSERT_FALSE(before.empty());
    EXPECT_EQ(value(before, key("nocturne_ready")), 1);
    EXPECT_EQ(value(before, key("nocturne_enrolled")), 1);
    EXPECT_GE(value(before, key("nocturne_routing_table_peers")), 1);
    EXPECT_GE(value(before, key("nocturne_sessions")), 1);
    EXPECT_GE(value(before, key("nocturne_uptime_seconds")), 0);
    EXPECT_GE(value(before, key("nocturne_store_records")), 0);
    EXPECT_GE(value(before, key("nocturne_rpc_timeouts_total")), 0);
    EXPECT_GE(value(before, key("nocturne_unresponsive_peers")), 0);
    EXPECT_GE(value(before, key("nocturne_lookups_seconds_count")), 1);
    EXPECT_GE(value(before, key("nocturne_lookups_seconds_bucket", {{"le", "+Inf"}})), 1);
    EXPECT_GE(value(before,
                    key("nocturne_messages_total", {{"direction", "out"}, {"type", "FIND_NODE"}})),
              1);
    EXPECT_GE(
        value(before, key("nocturne_messages_total", {{"direction", "in"}, {"type", "RESPONSE"}})),
        1);
    EXPECT_GE(value(before, key("nocturne_stores_accepted_total", {{"kind", "knowledge"}})), 0);
    EXPECT_GE(value(before, key("nocturne_gossip_items_total",
                                {{"class", "revocation"}, {"event", "received"}})),
              0);
    EXPECT_GE(value(before, key("nocturne_transport_events_total", {{"event", "sessions_opened"}})),
              1);
    EXPECT_GE(value(before, key("nocturne_anomaly_total", {{"event", "refused"}})), 0);

    // A publish on A: B, one of the entry's storers, accepts its STOREs; its counters move.
    auto pub = run_agent({"publish", "--home", (dir / "mesh" / "node-0").string(), "--domain",
                          "ops", "--id", "metrics", "--title", "Metrics", "--content", "moving"});
    ASSERT_EQ(pub.code, 0) << pub.err;
    // A client without the token: refused before any route, counted as such.
    HttpClient stranger(b.port());
    const auto refused = stranger.request("GET", "/local/metrics", {{"Host", "127.0.0.1"}});
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->status, 401);

    const auto after = scrape(b);
    ASSERT_FALSE(after.empty());
    const auto moved = [&](const std::string& k) {
        EXPECT_GT(value(after, k), value(before, k)) << k;
    };
    moved(key("nocturne_stores_accepted_total", {{"kind", "knowledge"}}));
    moved(key("nocturne_messages_total", {{"direction", "in"}, {"type", "STORE"}}));
    moved(key("nocturne_store_records"));
    moved(key("nocturne_api_requests_total",
              {{"endpoint", "GET /local/metrics"}, {"status", "200"}}));
    EXPECT_EQ(
        value(after, key("nocturne_api_requests_total", {{"endpoint", "none"}, {"status", "401"}})),
        1);
    a.stop();
    b.stop();
}

}  // namespace
}  // namespace nocturne::test
