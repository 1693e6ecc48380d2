// N nodes in one process, each with its own WebSocket transport on 127.0.0.1, all on one
// io_context thread (as each daemon is). Builds the mesh, then times put and get.
//
//   build/release/tools/bench/mesh_bench --nodes 32
//   build/release/tools/bench/mesh_bench --nodes 256 [--value-bytes 500] [--json]
//
// tools/bench/side_by_side.sh runs it next to OpenDHT (tools/bench/opendht_bench.py) with the
// same workload; --json prints the figures its table needs (RSS per node counts what the process
// grew by from before the first node to after the last get; CPU is user + system time of the put
// and get phases).
// MESH_BENCH_WARN=1 shows the transport's and the nodes' warnings (refused dials, closed
// sessions).
//
// "network gets" are gets from a node that does not hold the value itself (it has to ask);
// "all gets" include those a responsible node answers from its own store.

#include <nocturne/crypto/keys.hpp>
#include <nocturne/dht/node.hpp>
#include <nocturne/net/ws_transport.hpp>
#include <nocturne/store/memory_store.hpp>
#include <nocturne/wire/record.hpp>

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <sys/resource.h>

namespace {

using namespace nocturne;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

struct Peer {
    crypto::KeyPair keys = crypto::KeyPair::generate();
    store::MemoryStore store;
    std::unique_ptr<net::WsTransport> transport;
    std::unique_ptr<dht::Node> node;
};

double pct(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1,
                      static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5))];
}

// Resident set size in KiB (/proc/self/status VmRSS), 0 where unknown.
long resident_kib() {
    std::ifstream status("/proc/self/status");
    for (std::string line; std::getline(status, line);) {
        if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
    }
    return 0;
}

double cpu_seconds() {
    rusage u{};
    ::getrusage(RUSAGE_SELF, &u);
    const auto s = [](const timeval& t) {
        return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
    };
    return s(u.ru_utime) + s(u.ru_stime);
}

void raise_fd_limit() {
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &rl);
    }
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App cli{"mesh_bench: put/get latency over real WebSockets on loopback"};
    std::size_t nodes = 32, puts = 200, gets = 1000, value_bytes = 500;
    std::uint64_t seed = 1;
    bool json = false;
    cli.add_option("--nodes", nodes)->check(CLI::Range(2, 1024));
    cli.add_option("--puts", puts)->check(CLI::Range(1, 100000));
    cli.add_option("--gets", gets)->check(CLI::Range(1, 1000000));
    cli.add_option("--value-bytes", value_bytes, "Content bytes of each record")
        ->check(CLI::Range(1, 60000));
    cli.add_option("--seed", seed);
    cli.add_flag("--json", json, "Print one JSON object (tools/bench/side_by_side.sh)");
    CLI11_PARSE(cli, argc, argv);
    spdlog::set_level(std::getenv("MESH_BENCH_WARN") ? spdlog::level::warn : spdlog::level::err);
    raise_fd_limit();

    boost::asio::io_context io;
    SystemClock clock;
    std::mt19937_64 rng(seed);
    std::vector<std::unique_ptr<Peer>> peers;
    auto run_until = [&](const std::function<bool()>& done, std::chrono::seconds timeout) {
        const auto deadline = steady::now() + timeout;
        auto last_tick = steady::now();
        while (!done() && steady::now() < deadline) {
            io.restart();
            io.run_one_for(10ms);
            if (steady::now() - last_tick > 50ms) {
                for (auto& p : peers) p->node->tick();
                last_tick = steady::now();
            }
        }
        return done();
    };

    const long rss_before = resident_kib();
    const auto build_start = steady::now();
    for (std::size_t i = 0; i < nodes; ++i) {
        auto p = std::make_unique<Peer>();
        p->transport =
            std::make_unique<net::WsTransport>(io, p->keys, clock, net::WsTransportConfig{});
        if (auto ec = p->transport->listen()) {
            std::fprintf(stderr, "listen failed: %s\n", ec.message().c_str());
            return 1;
        }
        // Every node is on 127.0.0.1: loopback must not count as one network in the routing
        // table's diversity limits (as `start --loopback-peers` says for daemons), or each table
        // would stop at 3 peers.
        dht::NodeConfig config;
        config.table.exempt_loopback = true;
        p->node = std::make_unique<dht::Node>(p->keys.node_id(), p->transport->address(), clock,
                                              *p->transport, p->store, config);
        p->transport->set_sink(p->node.get());
        peers.push_back(std::move(p));
        if (i == 0) continue;
        const auto seed_node = std::uniform_int_distribution<std::size_t>(0, i - 1)(rng);
        bool joined = false;
        peers[i]->node->bootstrap({{NodeId{}, peers[seed_node]->node->address()}},
                                  [&](std::size_t) { joined = true; });
        if (!run_until([&] { return joined; }, 60s)) {
            std::fprintf(stderr, "node %zu did not finish bootstrap\n", i);
            return 1;
        }
    }
    std::size_t table_total = 0;
    for (auto& p : peers) table_total += p->node->table().size();
    const double build_seconds = std::chrono::duration<double>(steady::now() - build_start).count();
    const double mean_table = static_cast<double>(table_total) / static_cast<double>(nodes);
    if (!json) {
        std::printf(
            "mesh: %zu nodes on 127.0.0.1, built in %.1f s, mean routing table %.1f peers\n", nodes,
            build_seconds, mean_table);
    }
    const long rss_built = resident_kib();
    const double cpu_start = cpu_seconds();

    const auto author = crypto::KeyPair::generate();
    std::vector<wire::Record> records;
    std::vector<double> put_ms;
    std::size_t put_ok = 0;
    for (std::size_t i = 0; i < puts; ++i) {
        const auto now = clock.unix_seconds();
        records.push_back(
            wire::sign_record({wire::RecordKind::knowledge, 1, now, now + 3600,
                               R"({"domain":"bench","id":"e)" + std::to_string(i) +
                                   R"(","content":")" + std::string(value_bytes, 'x') + "\"}"},
                              author)
                .value());
        auto& via = *peers[std::uniform_int_distribution<std::size_t>(0, nodes - 1)(rng)];
        std::optional<dht::PutResult> res;
        const auto t = steady::now();
        via.node->put(records.back(), [&](dht::PutResult r) { res = r; });
        run_until([&] { return res.has_value(); }, 30s);
        put_ms.push_back(std::chrono::duration<double, std::milli>(steady::now() - t).count());
        if (res && res->ok()) ++put_ok;
    }

    const long rss_put = resident_kib();
    std::vector<double> all_ms, net_ms;
    std::size_t hits = 0, net_hits = 0, net_gets = 0;
    for (std::size_t i = 0; i < gets; ++i) {
        const auto& r =
            records[std::uniform_int_distribution<std::size_t>(0, records.size() - 1)(rng)];
        auto& via = *peers[std::uniform_int_distribution<std::size_t>(0, nodes - 1)(rng)];
        const bool local = !via.store.get(r.key, clock.unix_seconds()).value().empty();
        std::optional<dht::LookupResult> res;
        const auto t = steady::now();
        via.node->find_value(r.key, [&](dht::LookupResult x) { res = std::move(x); });
        run_until([&] { return res.has_value(); }, 30s);
        const double ms = std::chrono::duration<double, std::milli>(steady::now() - t).count();
        const bool hit = res && res->found() && res->records[0].body == r.body;
        all_ms.push_back(ms);
        hits += hit;
        if (!local) {
            ++net_gets;
            net_ms.push_back(ms);
            net_hits += hit;
        }
    }
    const double cpu = cpu_seconds() - cpu_start;
    const long rss_after = resident_kib();
    // The human-readable form: figures, then the sessions and memory behind them.
    const auto print_text = [&] {
        std::uint64_t sessions_opened = 0, handshakes_failed = 0, channel_failures = 0;
        std::size_t live_sessions = 0;
        for (auto& p : peers) {
            const auto& st = p->transport->stats();
            sessions_opened += st.sessions_opened;
            handshakes_failed += st.handshakes_failed;
            channel_failures += st.channel_failures;
            live_sessions += p->transport->session_count();
        }
        const auto per_node_kib = [&](long from, long to) {
            return static_cast<double>(to - from) / static_cast<double>(nodes);
        };
        std::printf(
            "sessions:     %llu opened, %zu live at the end, %llu handshakes failed, %llu "
            "channel failures\n",
            static_cast<unsigned long long>(sessions_opened), live_sessions,
            static_cast<unsigned long long>(handshakes_failed),
            static_cast<unsigned long long>(channel_failures));
        std::printf(
            "memory:       per node %.0f KiB after the mesh was built, +%.0f KiB after the puts, "
            "+%.0f KiB after the gets (RSS)\n",
            per_node_kib(rss_before, rss_built), per_node_kib(rss_built, rss_put),
            per_node_kib(rss_put, rss_after));
        std::printf("put:          %zu/%zu stored; p50 %.2f ms, p95 %.2f ms\n", put_ok, puts,
                    pct(put_ms, 0.5), pct(put_ms, 0.95));
        std::printf("network gets: %zu/%zu hits; p50 %.2f ms, p95 %.2f ms\n", net_hits, net_gets,
                    pct(net_ms, 0.5), pct(net_ms, 0.95));
        std::printf("all gets:     %zu/%zu hits; p50 %.3f ms, p95 %.2f ms\n", hits, gets,
                    pct(all_ms, 0.5), pct(all_ms, 0.95));
    };
    if (json) {
        std::printf(
            "{\"impl\":\"nocturne\",\"nodes\":%zu,\"value_bytes\":%zu,\"puts\":%zu,\"put_ok\":%zu,"
            "\"put_p50_ms\":%.3f,\"put_p95_ms\":%.3f,\"gets\":%zu,\"hits\":%zu,"
            "\"get_p50_ms\":%.3f,\"get_p95_ms\":%.3f,\"network_gets\":%zu,\"network_hits\":%zu,"
            "\"network_get_p50_ms\":%.3f,\"network_get_p95_ms\":%.3f,\"rss_per_node_kib\":%.1f,"
            "\"cpu_s_per_1000_ops\":%.3f,\"build_s\":%.1f,\"mean_table\":%.1f}\n",
            nodes, value_bytes, puts, put_ok, pct(put_ms, 0.5), pct(put_ms, 0.95), gets, hits,
            pct(all_ms, 0.5), pct(all_ms, 0.95), net_gets, net_hits, pct(net_ms, 0.5),
            pct(net_ms, 0.95),
            static_cast<double>(rss_after - rss_before) / static_cast<double>(nodes),
            cpu * 1000.0 / static_cast<double>(puts + gets), build_seconds, mean_table);
    } else {
        print_text();
    }
    for (auto& p : peers) p->transport->close();
    io.restart();
    io.run_for(3s);
    return 0;
}
