#include <nocturne/agent/agent.hpp>
#include <nocturne/api/anomaly_api.hpp>
#include <nocturne/api/api_token.hpp>
#include <nocturne/api/awareness_api.hpp>
#include <nocturne/api/compute_api.hpp>
#include <nocturne/api/http_server.hpp>
#include <nocturne/api/knowledge_api.hpp>
#include <nocturne/api/local_api.hpp>
#include <nocturne/api/metrics_api.hpp>
#include <nocturne/api/vote_api.hpp>
#include <nocturne/app/credentials_file.hpp>
#include <nocturne/app/home.hpp>
#include <nocturne/app/home_lock.hpp>
#include <nocturne/app/identity.hpp>
#include <nocturne/app/peer_snapshot.hpp>
#include <nocturne/app/runtime_info.hpp>
#include <nocturne/app/service_notifier.hpp>
#include <nocturne/app/trust_files.hpp>
#include <nocturne/daemon/daemon.hpp>
#include <nocturne/knowledge/text_indexing.hpp>
#include <nocturne/net/ws_transport.hpp>
#include <nocturne/store/sqlite_store.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <thread>
#include <unistd.h>

#include "service_reporter.hpp"

namespace nocturne::daemon {
namespace {

using namespace std::chrono_literals;

// The agent wants a tick at its next_wakeup(); RPC timeouts are seconds and maintenance minutes,
// so ticking at most every 100 ms costs nothing and bounds how late a deadline is noticed.
constexpr auto tick_period = 100ms;

// How long a shutdown may take. Closing handshakes are bounded at 5 s each and the API's lingering
// connections at 5 s; anything still running after this is a bug, and waiting on it would only
// keep the home locked until the service manager's SIGKILL (TimeoutStopSec).
constexpr auto shutdown_deadline = 12s;

// Stops an io_context that has not run out of work by the deadline, from a thread of its own
// (the io_context's thread is the one that may be stuck). Owned by the main thread.
class ShutdownDeadline {
public:
    explicit ShutdownDeadline(boost::asio::io_context& io) : io_(io) {}
    ~ShutdownDeadline() {
        {
            std::lock_guard lock(mutex_);
            done_ = true;
        }
        cv_.notify_all();
        if (thread_.joinable()) thread_.join();
    }
    void arm() {
        if (thread_.joinable()) return;
        thread_ = std::thread([this] {
            std::unique_lock lock(mutex_);
            if (cv_.wait_for(lock, shutdown_deadline, [this] { return done_; })) return;
            expired_ = true;
            io_.stop();
        });
    }
    // Whether the deadline stopped the io_context (read after run() returned and the thread ended).
    bool expired() {
        std::lock_guard lock(mutex_);
        return expired_;
    }

private:
    boost::asio::io_context& io_;
    std::mutex mutex_;
    std::condition_variable cv_;
    bool done_ = false;
    bool expired_ = false;
    std::thread thread_;
};

int fail(const std::string& message) {
    std::fprintf(stderr, "nocturne-agent: %s\n", message.c_str());
    return 1;
}

// Drives the agent's tick() from the io_context. Owned by the io_context thread.
class Ticker {
public:
    Ticker(boost::asio::io_context& io, agent::Agent& agent) : timer_(io), agent_(agent) {}
    void start() { arm(); }
    void stop() { timer_.cancel(); }

private:
    void arm() {
        timer_.expires_after(tick_period);
        timer_.async_wait([this](const boost::system::error_code& ec) {
            if (ec) return;  // cancelled: shutting down
            if (agent_.clock().now() >= agent_.next_wakeup()) agent_.tick();
            arm();
        });
    }

    boost::asio::steady_timer timer_;
    agent::Agent& agent_;
};

result<std::unique_ptr<store::SqliteStore>> open_store(const std::filesystem::path& file,
                                                       store::TextIndexer indexer = {}) {
    auto db = store::SqliteStore::open(file, std::move(indexer));
    if (!db) {
        return Error(db.error().code(),
                     "cannot open " + file.string() + ": " + db.error().message());
    }
    return db;
}

// What a node takes from its home before it touches the network: every step that can fail on
// files, each failure a sentence naming the file.
struct Home {
    app::HomeLayout layout;
    app::HomeLock lock;
    crypto::KeyPair keys;
    trust::Genesis genesis;
    std::unique_ptr<store::SqliteStore> records;
    std::unique_ptr<store::SqliteStore> trust;
    std::unique_ptr<store::SqliteStore> published;
};

result<Home> open_home(const DaemonConfig& config) {
    const std::string home = config.home.string();
    if (auto ec = app::prepare_home(config.home)) {
        return Error(ec, "cannot use home " + home + ": " + ec.message());
    }
    auto lock = app::HomeLock::acquire(config.home);
    if (!lock) {
        if (lock.error() == std::errc::resource_unavailable_try_again) {
            return Error(lock.error().code(),
                         "another nocturne-agent is already running with home " + home);
        }
        return Error(lock.error().code(),
                     "cannot lock home " + home + ": " + lock.error().message());
    }
    const app::HomeLayout layout{config.home};
    bool created = false;
    auto keys = app::load_or_create_node_key(layout.node_key(), created);
    if (!keys) {
        return Error(keys.error().code(), "cannot load node key " + layout.node_key().string() +
                                              ": " + keys.error().message());
    }
    if (created) spdlog::info("generated a new node key at {}", layout.node_key().string());
    auto genesis = app::load_genesis(config.genesis_file);
    if (!genesis) return genesis.error();
    // The records this node holds for the mesh: domain indexes are searched (QUERY).
    auto records = open_store(layout.records_db(), knowledge::text_indexer());
    if (!records) return records.error();
    auto trust_db = open_store(layout.trust_db());
    if (!trust_db) return trust_db.error();
    auto published = open_store(layout.published_db());
    if (!published) return published.error();
    return Home{layout,
                std::move(*lock),
                std::move(*keys),
                std::move(*genesis),
                std::move(*records),
                std::move(*trust_db),
                std::move(*published)};
}

// The peers to join through: those saved on the last run first, then the configured seeds; the
// genesis' seeds only when there is neither (a new home of a mesh that lists its seeds).
std::vector<wire::Contact> initial_seeds(const app::HomeLayout& layout,
                                         const std::vector<std::string>& bootstrap,
                                         const std::vector<std::string>& genesis_seeds,
                                         const std::string& own_address) {
    std::vector<wire::Contact> seeds;
    if (auto saved = app::load_peer_snapshot(layout.peers_file())) {
        seeds = std::move(*saved);
        spdlog::info("{} peers from the last run", seeds.size());
    } else if (saved.error() != errc::not_found) {
        spdlog::warn("ignoring peer snapshot {}: {}", layout.peers_file().string(),
                     saved.error().message());
    }
    for (const auto& address : bootstrap) seeds.push_back({NodeId{}, address});
    if (seeds.empty() && !genesis_seeds.empty()) {
        spdlog::info("no saved peers and no --bootstrap: joining through the genesis' {} seeds",
                     genesis_seeds.size());
        // A seed node reads the same list: it does not dial itself.
        for (const auto& address : genesis_seeds)
            if (address != own_address) seeds.push_back({NodeId{}, address});
    }
    return seeds;
}

}  // namespace

int run_daemon(const DaemonConfig& config) {
    // Read (and cleared) first: a start-up failure exits before READY, as systemd expects.
    auto notifier = app::ServiceNotifier::from_environment();
    auto opened = open_home(config);
    if (!opened) return fail(opened.error().message());
    Home& home = *opened;
    const auto& layout = home.layout;
    auto& keys = home.keys;

    SystemClock clock;
    boost::asio::io_context io;
    net::WsTransportConfig tcfg;
    tcfg.listen_host = config.listen_host;
    tcfg.listen_port = config.port;
    tcfg.advertised_address = config.advertised_address;
    tcfg.network = trust::network_id(home.genesis);
    const auto genesis_seeds = home.genesis.bootstrap;  // the agent takes the genesis below
    net::WsTransport transport(io, keys, clock, tcfg);
    if (auto ec = transport.listen()) {
        return fail("cannot listen on " + config.listen_host + ":" + std::to_string(config.port) +
                    ": " + ec.message());
    }

    app::CredentialsFile credentials(layout.credentials());
    agent::AgentHooks hooks;
    hooks.poll_credentials = [&credentials] { return credentials.poll(); };
    hooks.save_peers = [file = layout.peers_file()](const std::vector<wire::Contact>& peers) {
        if (auto ec = app::save_peer_snapshot(file, peers)) {
            spdlog::warn("cannot save peer snapshot {}: {}", file.string(), ec.message());
        }
    };
    agent::Agent* agent_ptr = nullptr;
    // Our envelopes name our operator once we are enrolled (enroll may run while we do).
    auto use_standing = [&agent_ptr, &transport] {
        if (agent_ptr == nullptr) return;
        const auto s = agent_ptr->standing();
        transport.set_identity(s ? agent_ptr->id().to_hex() : "", s ? s->operator_id : "");
        transport.set_credentials(*agent_ptr->session_credentials());
        spdlog::info("trust: {}", agent_ptr->describe_standing());
    };
    hooks.standing_changed = use_standing;
    agent::AgentConfig agent_config;
    agent_config.node.table.exempt_loopback = config.loopback_peers;
    agent_config.compute.scan_period = config.task_scan_period;
    agent_config.anomaly.dry_run = config.anomaly_dry_run;
    agent::Agent agent(keys, transport.address(), clock, transport,
                       agent::AgentStores{*home.records, *home.trust, *home.published},
                       std::move(home.genesis), agent_config, std::move(hooks));
    agent_ptr = &agent;
    use_standing();
    transport.set_sink(&agent);
    const auto standing = agent.standing();

    auto token = api::load_or_create_token(layout.api_token());
    if (!token) {
        return fail("cannot use the API token file " + layout.api_token().string() + ": " +
                    token.error().message());
    }
    api::Router router;
    const api::DaemonFacts facts{
        config.version, clock.now(),
        [&transport] {
            const auto& s = transport.stats();
            return std::vector<std::pair<std::string, std::uint64_t>>{
                {"sessions_opened", s.sessions_opened},
                {"rejected_rate", s.rejected_rate},
                {"slow_downs_sent", s.slow_downs_sent},
                {"slow_downs_received", s.slow_downs_received},
                {"frames_paced", s.frames_paced},
                {"paced_refusals", s.paced_refusals},
                {"disconnects_for_violations", s.disconnects_for_violations},
                {"slow_readers", s.slow_readers}};
        },
        [&transport] { return transport.session_count(); }};
    api::add_node_routes(router, agent, facts);
    auto api_metrics = std::make_shared<api::ApiMetrics>();
    api::add_metrics_route(router, agent, facts, api_metrics);
    api::add_knowledge_routes(router, agent.knowledge(), &agent.votes());
    api::add_vote_routes(router, agent.votes());
    api::add_compute_routes(router, agent.compute(), agent.knowledge());
    api::add_awareness_routes(router, agent.awareness());
    api::add_anomaly_routes(router, agent.trust(), agent.anomaly(), agent.clock());
    api::HttpServerConfig hcfg;
    hcfg.listen_port = config.api_port;
    hcfg.token = *token;
    hcfg.metrics = api_metrics;
    api::HttpServer http(io, std::move(router), hcfg);
    if (auto ec = http.listen()) {
        return fail(
            "cannot listen for the local API on 127.0.0.1:" + std::to_string(config.api_port) +
            ": " + ec.message() + " (choose another --api-port)");
    }
    const auto api_url = "http://127.0.0.1:" + std::to_string(http.port());
    if (auto ec = app::save_runtime_info(
            config.home, {::getpid(), keys.node_id().to_hex(), transport.address(), api_url,
                          http.port(), clock.unix_seconds()})) {
        return fail("cannot write " + layout.runtime_file().string() + ": " + ec.message());
    }

    const auto seeds = initial_seeds(layout, config.bootstrap, genesis_seeds, transport.address());

    Ticker ticker(io, agent);
    ticker.start();
    ServiceReporter reporter(io, std::move(notifier), [&agent, &transport] {
        const auto peers = agent.node().table().size();
        return std::to_string(peers) + (peers == 1 ? " peer, " : " peers, ") +
               std::to_string(transport.session_count()) + " sessions, " +
               (agent.standing() ? "enrolled" : "not enrolled") +
               (agent.bootstrapped() ? "" : ", bootstrap retrying");
    });
    ShutdownDeadline deadline(io);
    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& ec, int sig) {
        if (ec) return;
        // Stop taking requests, then close peer sessions; every acknowledged write is already
        // committed to SQLite (WAL), which is closed when the stores go out of scope.
        spdlog::info("received signal {}, shutting down", sig);
        deadline.arm();
        reporter.stopping();
        http.stop();
        ticker.stop();
        agent.stop();
        transport.close();
    });

    const auto held = home.records->size();
    spdlog::info("node {} listening on {} (store {}, {} records)", keys.node_id().to_hex(),
                 transport.address(), layout.records_db().string(), held ? *held : 0);
    spdlog::info("network {}; trust: {}", agent.network(), agent.describe_standing());
    spdlog::info("local API on {}", api_url);
    std::cout << "ready node_id=" << keys.node_id().to_hex() << " address=" << transport.address()
              << " api=" << api_url << " enrolled=" << (standing ? "yes" : "no") << std::endl;
    if (config.on_ready) config.on_ready();
    if (seeds.empty()) spdlog::info("no bootstrap peers: this node starts a new mesh");
    // Ready for the service manager after the first bootstrap attempt, whatever it found: a node
    // whose seeds are down still serves its API and retries (its status says so, and
    // /local/health/ready answers 503 until a peer answered).
    agent.bootstrap(seeds, [&reporter, seed_count = seeds.size()](std::size_t peers) {
        if (peers == 0 && seed_count > 0) {
            spdlog::warn("bootstrap: none of the {} seed(s) answered; retrying", seed_count);
        } else {
            spdlog::info("bootstrap complete: {} peers in the routing table", peers);
        }
        std::cout << "bootstrapped peers=" << peers << std::endl;
        reporter.ready();
    });

    io.run();
    if (deadline.expired()) {
        spdlog::warn(
            "shutdown: not done after {} s ({} peer sessions, {} API connections still open); "
            "stopped anyway",
            std::chrono::seconds(shutdown_deadline).count(), transport.session_count(),
            http.connection_count());
        for (const auto& s : transport.describe_sessions()) spdlog::warn("shutdown: session {}", s);
    }
    app::remove_runtime_info(config.home);
    spdlog::info("stopped");
    return 0;
}

}  // namespace nocturne::daemon
