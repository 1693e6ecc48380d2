#include <nocturne/api/api_token.hpp>
#include <nocturne/api/http_server.hpp>
#include <nocturne/api/knowledge_api.hpp>
#include <nocturne/api/local_api.hpp>
#include <nocturne/app/home.hpp>
#include <nocturne/app/home_lock.hpp>
#include <nocturne/app/identity.hpp>
#include <nocturne/app/node_trust.hpp>
#include <nocturne/app/peer_snapshot.hpp>
#include <nocturne/app/runtime_info.hpp>
#include <nocturne/app/trust_files.hpp>
#include <nocturne/dht/node.hpp>
#include <nocturne/knowledge/knowledge_service.hpp>
#include <nocturne/knowledge/published_index.hpp>
#include <nocturne/net/daemon.hpp>
#include <nocturne/net/ws_transport.hpp>
#include <nocturne/store/sqlite_store.hpp>
#include <nocturne/trust/revocation_watch.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <unistd.h>

namespace nocturne::net {
namespace {

using namespace std::chrono_literals;

// How often the node's timers are serviced. RPC timeouts are seconds, maintenance minutes:
// 100 ms granularity costs nothing and keeps the host free of per-deadline timer bookkeeping.
constexpr auto tick_period = 100ms;
constexpr auto snapshot_period = 5min;
// enroll rewrites trust/credentials.json while the node runs; a look every 2 s costs a stat().
constexpr auto credentials_period = 2s;
// Until the gossip layer floods revocations, known operators' revocation keys are looked up.
constexpr auto revocation_watch_period = 10min;

int fail(const std::string& message) {
    std::fprintf(stderr, "nocturne-agent: %s\n", message.c_str());
    return 1;
}

// Periodic work on the io_context thread: node timers, the peer snapshot, this node's own
// certificates (published when they change) and the revocation watch.
// Owned by the io_context thread that runs the daemon.
class Ticker {
public:
    Ticker(boost::asio::io_context& io, dht::Node& node, app::NodeTrust& trust,
           std::filesystem::path snapshot, std::function<void()> on_credentials)
        : timer_(io),
          node_(node),
          trust_(trust),
          snapshot_(std::move(snapshot)),
          on_credentials_(std::move(on_credentials)) {}

    void start() { arm(); }
    void stop() { timer_.cancel(); }

    void save_snapshot() {
        std::vector<wire::Contact> peers;
        for (const auto& p : node_.table().all_peers()) peers.push_back({p.id, p.address});
        if (auto ec = app::save_peer_snapshot(snapshot_, peers)) {
            spdlog::warn("cannot save peer snapshot {}: {}", snapshot_.string(), ec.message());
        }
    }

    // Publishes this node's certificates when enroll (re)wrote them. put() republishes them
    // hourly from then on.
    void refresh_credentials() {
        auto own = trust_.refresh_credentials();
        if (!own) return;
        spdlog::info("trust: {}", trust_.describe());
        if (on_credentials_) on_credentials_();
        for (const auto& r : *own) {
            node_.put(r, [kind = std::string(wire::to_string(r.kind))](dht::PutResult res) {
                if (res.ok()) {
                    spdlog::info("published own {} to {} nodes", kind, res.stored);
                } else {
                    spdlog::warn("publishing own {} failed: {} refused ({}), {} silent", kind,
                                 res.refused, res.first_refusal, res.failed);
                }
            });
        }
    }

private:
    void arm() {
        timer_.expires_after(tick_period);
        timer_.async_wait([this](const boost::system::error_code& ec) {
            if (ec) return;  // cancelled: shutting down
            node_.tick();
            trust::watch_new_operators(node_, trust_.state());
            const auto now = std::chrono::steady_clock::now();
            if (now >= next_snapshot_) {
                next_snapshot_ = now + snapshot_period;
                save_snapshot();
            }
            if (now >= next_credentials_) {
                next_credentials_ = now + credentials_period;
                refresh_credentials();
            }
            if (now >= next_watch_) {
                next_watch_ = now + revocation_watch_period;
                trust::watch_revocations(node_, trust_.state());
            }
            arm();
        });
    }

    boost::asio::steady_timer timer_;
    dht::Node& node_;
    app::NodeTrust& trust_;
    std::filesystem::path snapshot_;
    std::function<void()> on_credentials_;
    std::chrono::steady_clock::time_point next_snapshot_ =
        std::chrono::steady_clock::now() + snapshot_period;
    std::chrono::steady_clock::time_point next_credentials_ =
        std::chrono::steady_clock::now() + credentials_period;
    std::chrono::steady_clock::time_point next_watch_ =
        std::chrono::steady_clock::now() + revocation_watch_period;
};

}  // namespace

int run_daemon(const DaemonConfig& config) {
    if (auto ec = app::prepare_home(config.home)) {
        return fail("cannot use home " + config.home.string() + ": " + ec.message());
    }
    auto lock = app::HomeLock::acquire(config.home);
    if (!lock) {
        if (lock.error() == std::errc::resource_unavailable_try_again) {
            return fail("another nocturne-agent is already running with home " +
                        config.home.string());
        }
        return fail("cannot lock home " + config.home.string() + ": " + lock.error().message());
    }
    const app::HomeLayout layout{config.home};
    bool created = false;
    auto keys = app::load_or_create_node_key(layout.node_key(), created);
    if (!keys) {
        return fail("cannot load node key " + layout.node_key().string() + ": " +
                    keys.error().message());
    }
    if (created) spdlog::info("generated a new node key at {}", layout.node_key().string());
    std::string why;
    auto genesis = app::load_genesis(config.genesis_file, why);
    if (!genesis) return fail(why);
    SystemClock clock;
    const auto network = genesis->network;
    auto trust = app::NodeTrust::open(layout, std::move(*genesis), keys->node_id(), clock, why);
    if (!trust) return fail(why);
    const auto own_credentials = trust->refresh_credentials();
    const auto standing = trust->standing();

    const auto store_path = store::default_store_path(config.home);
    auto db = store::SqliteStore::open(store_path);
    if (!db) return fail("cannot open store " + store_path.string() + ": " + db.error().message());

    boost::asio::io_context io;
    WsTransportConfig tcfg;
    tcfg.listen_host = config.listen_host;
    tcfg.listen_port = config.port;
    tcfg.advertised_address = config.advertised_address;
    if (standing) {
        tcfg.operator_id = standing->operator_id;
        tcfg.agent_id = keys->node_id().to_hex();
    }
    WsTransport transport(io, *keys, clock, tcfg);
    if (auto ec = transport.listen()) {
        return fail("cannot listen on " + config.listen_host + ":" + std::to_string(config.port) +
                    ": " + ec.message());
    }
    dht::Node node(keys->node_id(), transport.address(), clock, transport, **db);
    node.set_policy(&trust->policy());
    transport.set_sink(&node);

    const auto published_path = knowledge::published_store_path(config.home);
    std::error_code dir_ec;
    std::filesystem::create_directories(published_path.parent_path(), dir_ec);
    auto published = store::SqliteStore::open(published_path);
    if (!published) {
        return fail("cannot open " + published_path.string() + ": " + published.error().message());
    }
    knowledge::KnowledgeService knowledge(node, *keys, clock, &trust->state(),
                                          standing ? standing->operator_id : "", **published);

    auto token = api::load_or_create_token(layout.api_token());
    if (!token) {
        return fail("cannot use the API token file " + layout.api_token().string() + ": " +
                    token.error().message());
    }
    api::Router router;
    api::add_node_routes(router, api::LocalApiContext{node, **db, *trust, clock, config.version,
                                                      network, clock.now()});
    api::add_knowledge_routes(router, knowledge);
    api::HttpServerConfig hcfg;
    hcfg.listen_port = config.api_port;
    hcfg.token = *token;
    api::HttpServer http(io, std::move(router), hcfg);
    if (auto ec = http.listen()) {
        return fail(
            "cannot listen for the local API on 127.0.0.1:" + std::to_string(config.api_port) +
            ": " + ec.message() + " (choose another --api-port)");
    }
    const auto api_url = "http://127.0.0.1:" + std::to_string(http.port());
    if (auto ec = app::save_runtime_info(
            config.home, {::getpid(), keys->node_id().to_hex(), transport.address(), api_url,
                          http.port(), clock.unix_seconds()})) {
        return fail("cannot write " + (config.home / "node.json").string() + ": " + ec.message());
    }

    const auto snapshot_path = layout.dht_dir() / "peers.json";
    std::vector<wire::Contact> seeds;
    if (auto saved = app::load_peer_snapshot(snapshot_path)) {
        seeds = std::move(*saved);
        spdlog::info("{} peers from the last run", seeds.size());
    } else if (saved.error() != errc::not_found) {
        spdlog::warn("ignoring peer snapshot {}: {}", snapshot_path.string(),
                     saved.error().message());
    }
    for (const auto& address : config.bootstrap) seeds.push_back({NodeId{}, address});

    Ticker ticker(io, node, *trust, snapshot_path, [&] {
        auto now_standing = trust->standing();
        knowledge.set_operator_id(now_standing ? now_standing->operator_id : "");
    });
    ticker.start();
    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& ec, int sig) {
        if (ec) return;
        // Stop taking requests, then close peer sessions; every acknowledged write is already
        // committed to SQLite (WAL), which is closed when the store goes out of scope.
        spdlog::info("received signal {}, shutting down", sig);
        http.stop();
        ticker.stop();
        ticker.save_snapshot();
        transport.close();
    });

    const auto records = (*db)->size();
    spdlog::info("node {} listening on {} (store {}, {} records)", keys->node_id().to_hex(),
                 transport.address(), store_path.string(), records ? *records : 0);
    spdlog::info("network {}; trust: {}", network, trust->describe());
    spdlog::info("local API on {}", api_url);
    std::cout << "ready node_id=" << keys->node_id().to_hex() << " address=" << transport.address()
              << " api=" << api_url << " enrolled=" << (standing ? "yes" : "no") << std::endl;
    if (config.on_ready) config.on_ready();
    if (seeds.empty()) {
        spdlog::info("no bootstrap peers: this node starts a new mesh");
    }
    node.bootstrap(seeds, [&](std::size_t peers) {
        spdlog::info("bootstrap complete: {} peers in the routing table", peers);
        std::cout << "bootstrapped peers=" << peers << std::endl;
        ticker.save_snapshot();
        // Our certificates go out once we know where their keys live, and our entries from the
        // last run are republished from then on.
        if (own_credentials) {
            for (const auto& r : *own_credentials) node.put(r, nullptr);
        }
        const auto resumed = knowledge.resume_publishing();
        if (resumed > 0) spdlog::info("republishing {} records of own entries", resumed);
    });

    io.run();
    app::remove_runtime_info(config.home);
    spdlog::info("stopped");
    return 0;
}

}  // namespace nocturne::net
