// nocturne-agent: one binary, one node of the nocturne mesh.

#include <nocturne/app/background.hpp>
#include <nocturne/app/daemon_commands.hpp>
#include <nocturne/app/home.hpp>
#include <nocturne/app/local_client.hpp>
#include <nocturne/app/peer_snapshot.hpp>
#include <nocturne/app/runtime_info.hpp>
#include <nocturne/app/trust_commands.hpp>
#include <nocturne/app/trust_files.hpp>
#include <nocturne/core/clock.hpp>
#include <nocturne/net/daemon.hpp>
#include <nocturne/net/mesh_client.hpp>
#include <nocturne/store/memory_store.hpp>
#include <nocturne/trust/trust_state.hpp>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr const char* version = "0.1.0";

int fail(const std::string& message) {
    std::fprintf(stderr, "nocturne-agent: %s\n", message.c_str());
    return 1;
}

std::string check_address(const std::string& v) {
    return v.rfind("ws://", 0) == 0 || v.rfind("wss://", 0) == 0
               ? std::string{}
               : std::string("must look like ws://host:port");
}

void add_home_option(CLI::App* cmd, std::optional<std::string>& home) {
    cmd->add_option("--home", home, "State directory (default: $NOCTURNE_HOME, else ~/.nocturne)");
}

void add_genesis_option(CLI::App* cmd, std::optional<std::string>& genesis) {
    cmd->add_option("--genesis", genesis,
                    "Genesis file of a private mesh (default: $NOCTURNE_GENESIS, else the "
                    "built-in nocturne genesis)")
        ->envname("NOCTURNE_GENESIS");
}

void add_bootstrap_option(CLI::App* cmd, std::vector<std::string>& bootstrap,
                          const std::string& help) {
    cmd->add_option("--bootstrap", bootstrap, help)->check(check_address);
}

std::optional<std::filesystem::path> as_path(const std::optional<std::string>& s) {
    if (!s) return std::nullopt;
    return std::filesystem::path(*s);
}

struct StartOptions {
    std::optional<std::string> home;
    std::optional<std::string> genesis;
    std::string host = "127.0.0.1";
    std::uint16_t port = 9090;
    std::uint16_t api_port = 9091;
    std::string advertise;
    std::vector<std::string> bootstrap;
    bool foreground = false;
};

// A daemon in the background logs to $NOCTURNE_HOME/logs/nocturne.log (5 files of 10 MiB); in
// the foreground (systemd, containers, a terminal) to stderr, where the supervisor collects it.
void log_to_file(const std::filesystem::path& home) {
    const nocturne::app::HomeLayout layout{home};
    auto sink = std::make_shared<spdlog::sinks::rotating_file_sink_mt>(
        (layout.logs_dir() / "nocturne.log").string(), 10 * 1024 * 1024, 5);
    auto logger = std::make_shared<spdlog::logger>("nocturne", sink);
    logger->flush_on(spdlog::level::info);
    spdlog::set_default_logger(logger);
}

int run_start(const StartOptions& opts) {
    auto home = nocturne::app::resolve_home(opts.home);
    if (!home) return fail("cannot determine the home directory: set --home or NOCTURNE_HOME");
    nocturne::net::DaemonConfig config;
    config.home = *home;
    config.listen_host = opts.host;
    config.port = opts.port;
    config.api_port = opts.api_port;
    config.advertised_address = opts.advertise;
    config.bootstrap = opts.bootstrap;
    config.version = version;
    // The daemon may chdir nowhere, but a relative path given here must keep meaning the same.
    if (opts.genesis) config.genesis_file = std::filesystem::absolute(*opts.genesis);
    if (opts.foreground) return nocturne::net::run_daemon(config);

    if (auto ec = nocturne::app::prepare_home(*home)) {
        return fail("cannot use home " + home->string() + ": " + ec.message());
    }
    if (nocturne::app::home_in_use(*home)) {
        auto running = nocturne::app::load_runtime_info(*home);
        return fail("another nocturne-agent is already running with home " + home->string() +
                    (running ? " (pid " + std::to_string(running->pid) + ")" : std::string()));
    }
    return nocturne::app::start_in_background(
        [&](const std::function<void()>& ready) {
            log_to_file(*home);
            config.on_ready = ready;
            return nocturne::net::run_daemon(config);
        },
        std::cout, std::cerr);
}

// What the one-shot trust commands that talk to the mesh share: the genesis, a trust state to
// learn certificates into, and a client joined through --bootstrap (or the home's saved peers).
struct MeshCommand {
    std::optional<std::string> home;
    std::optional<std::string> genesis;
    std::vector<std::string> bootstrap;

    nocturne::store::MemoryStore scratch;
    std::unique_ptr<nocturne::trust::TrustState> state;
    std::unique_ptr<nocturne::net::MeshClient> mesh;

    // Returns an exit code on failure.
    std::optional<int> prepare(bool use_home_peers, const std::filesystem::path& home_dir) {
        std::string why;
        auto g = nocturne::app::load_genesis(as_path(genesis), why);
        if (!g) return fail(why);
        nocturne::SystemClock clock;
        state = std::make_unique<nocturne::trust::TrustState>(std::move(*g), scratch,
                                                              clock.unix_seconds());
        std::vector<std::string> seeds = bootstrap;
        if (seeds.empty() && use_home_peers) {
            const nocturne::app::HomeLayout layout{home_dir};
            if (auto saved = nocturne::app::load_peer_snapshot(layout.dht_dir() / "peers.json")) {
                for (const auto& c : *saved) seeds.push_back(c.address);
            }
        }
        if (!seeds.empty()) {
            mesh = std::make_unique<nocturne::net::MeshClient>(*state);
            if (mesh->join(seeds) == 0) {
                std::cerr << "nocturne-agent: warning: none of " << seeds.size()
                          << " peers answered\n";
            }
        }
        return std::nullopt;
    }
};

}  // namespace

int main(int argc, char** argv) {
    // Logs go to stderr; stdout is reserved for command output a script may parse.
    spdlog::set_default_logger(spdlog::stderr_color_mt("nocturne"));
    CLI::App cli{"nocturne-agent: a node of the nocturne knowledge mesh"};
    cli.set_version_flag("--version", version);
    cli.require_subcommand(1);

    StartOptions start;
    auto* start_cmd = cli.add_subcommand(
        "start", "Start this node in the background (--foreground for systemd and containers)");
    add_home_option(start_cmd, start.home);
    start_cmd->add_flag("--foreground", start.foreground,
                        "Stay in the foreground and log to stderr");
    start_cmd
        ->add_option("--api-port", start.api_port,
                     "Port of the local HTTP API on 127.0.0.1 (0: any free port)")
        ->capture_default_str();
    add_genesis_option(start_cmd, start.genesis);
    start_cmd->add_option("--host", start.host, "Address to listen on for peers")
        ->capture_default_str();
    start_cmd->add_option("--port", start.port, "Port to listen on for peers (0: any free port)")
        ->capture_default_str();
    start_cmd->add_option("--advertise", start.advertise,
                          "Address peers should dial, ws://host:port (default: ws://HOST:PORT)");
    add_bootstrap_option(start_cmd, start.bootstrap,
                         "Peer to join the mesh through, ws://host:port (repeatable); without "
                         "one, and without peers saved from a previous run, this node starts "
                         "a new mesh");

    std::optional<std::string> status_home, stop_home;
    auto* status_cmd = cli.add_subcommand(
        "status", "Show whether this home's node runs: health, peers, enrollment (exit 3: not)");
    add_home_option(status_cmd, status_home);
    int stop_timeout = 10;
    auto* stop_cmd = cli.add_subcommand("stop", "Stop this home's node gracefully (SIGTERM)");
    add_home_option(stop_cmd, stop_home);
    stop_cmd->add_option("--timeout", stop_timeout, "Seconds to wait for it to exit")
        ->capture_default_str();

    std::optional<std::string> setup_home;
    nocturne::app::SetupOptions setup;
    auto* setup_cmd = cli.add_subcommand(
        "setup", "Create this operator's key and the node key; prints the operator public key");
    add_home_option(setup_cmd, setup_home);
    setup_cmd->add_option("--label", setup.label, "Operator name, e.g. your organisation")
        ->required();

    nocturne::app::EndorseOptions endorse;
    std::optional<std::string> endorse_out;
    auto* endorse_cmd = cli.add_subcommand(
        "endorse", "Endorse another operator's public key with your operator key");
    endorse_cmd
        ->add_option("--operator", endorse.operator_key,
                     "Public key of the operator to endorse (64 hex digits, from its setup)")
        ->required();
    endorse_cmd->add_option("--key", endorse.key, "Your operator key file (keys/operator.key)")
        ->required();
    endorse_cmd->add_option("--out", endorse_out, "Endorsement file to write");

    MeshCommand enroll_mesh;
    std::string endorsement_list;
    nocturne::app::EnrollOptions enroll;
    auto* enroll_cmd = cli.add_subcommand(
        "enroll", "Build and publish this operator's certificate from endorsements");
    add_home_option(enroll_cmd, enroll_mesh.home);
    add_genesis_option(enroll_cmd, enroll_mesh.genesis);
    add_bootstrap_option(enroll_cmd, enroll_mesh.bootstrap,
                         "Peer to publish through (default: the home's saved peers)");
    enroll_cmd->add_option("--endorsements", endorsement_list,
                           "Endorsement files, comma-separated (not needed by genesis operators)");
    enroll_cmd->add_option("--max-agents", enroll.max_agents, "Agents this operator may run")
        ->capture_default_str();
    enroll_cmd->add_option("--agent-index", enroll.agent_index, "Slot of this node's agent")
        ->capture_default_str();
    enroll_cmd->add_option("--valid-days", enroll.valid_days, "Certificate lifetime in days")
        ->capture_default_str();

    auto* revoke_cmd =
        cli.add_subcommand("revoke", "Revoke an operator (needs several operators' signatures)");
    revoke_cmd->require_subcommand(1);
    nocturne::app::RevokeSignOptions revoke_sign;
    std::optional<std::string> revoke_sign_genesis, revoke_sign_out, revoke_operator,
        revoke_operator_id, revoke_join;
    auto* sign_cmd = revoke_cmd->add_subcommand(
        "sign", "Start the revocation of an operator, or --join one another operator started");
    auto* by_key = sign_cmd->add_option("--operator", revoke_operator,
                                        "Public key of the operator to revoke (64 hex digits)");
    auto* by_id =
        sign_cmd->add_option("--operator-id", revoke_operator_id, "Or its operator id (64 hex)")
            ->excludes(by_key);
    auto* reason =
        sign_cmd->add_option("--reason", revoke_sign.reason, "Why (kept with the revocation)");
    sign_cmd
        ->add_option("--join", revoke_join,
                     "Signature file of the operator who started it: sign the same revocation")
        ->excludes(by_key)
        ->excludes(by_id)
        ->excludes(reason);
    sign_cmd->add_option("--key", revoke_sign.key, "Your operator key file")->required();
    sign_cmd->add_option("--out", revoke_sign_out, "Signature file to write");
    add_genesis_option(sign_cmd, revoke_sign_genesis);

    MeshCommand publish_mesh;
    std::string signature_list;
    nocturne::app::RevokePublishOptions revoke_publish;
    auto* publish_cmd =
        revoke_cmd->add_subcommand("publish", "Combine signatures and publish the revocation");
    publish_cmd->add_option("--signatures", signature_list, "Signature files, comma-separated")
        ->required();
    publish_cmd->add_option("--key", revoke_publish.key, "Your operator key file (a signer's)")
        ->required();
    add_home_option(publish_cmd, publish_mesh.home);
    add_genesis_option(publish_cmd, publish_mesh.genesis);
    add_bootstrap_option(publish_cmd, publish_mesh.bootstrap,
                         "Peer to publish through (default: the home's saved peers)");

    try {
        cli.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return cli.exit(e);
    }
    auto split = [](const std::string& list) {
        std::vector<std::filesystem::path> out;
        std::size_t start_at = 0;
        while (start_at <= list.size() && !list.empty()) {
            const auto comma = list.find(',', start_at);
            const auto item = list.substr(start_at, comma - start_at);
            if (!item.empty()) out.emplace_back(item);
            if (comma == std::string::npos) break;
            start_at = comma + 1;
        }
        return out;
    };
    try {
        const auto now = nocturne::SystemClock{}.unix_seconds();
        if (start_cmd->parsed()) return run_start(start);
        if (status_cmd->parsed()) {
            auto home = nocturne::app::resolve_home(status_home);
            if (!home)
                return fail("cannot determine the home directory: set --home or NOCTURNE_HOME");
            return nocturne::app::run_status(*home, std::cout, std::cerr);
        }
        if (stop_cmd->parsed()) {
            auto home = nocturne::app::resolve_home(stop_home);
            if (!home)
                return fail("cannot determine the home directory: set --home or NOCTURNE_HOME");
            return nocturne::app::run_stop(*home, std::chrono::seconds(stop_timeout), std::cout,
                                           std::cerr);
        }
        if (setup_cmd->parsed()) {
            auto home = nocturne::app::resolve_home(setup_home);
            if (!home) return fail("cannot determine the home directory: set --home");
            setup.home = *home;
            return nocturne::app::run_setup(setup, std::cout, std::cerr);
        }
        if (endorse_cmd->parsed()) {
            if (endorse_out) endorse.out_file = *endorse_out;
            return nocturne::app::run_endorse(endorse, now, std::cout, std::cerr);
        }
        if (enroll_cmd->parsed()) {
            auto home = nocturne::app::resolve_home(enroll_mesh.home);
            if (!home) return fail("cannot determine the home directory: set --home");
            enroll.home = *home;
            enroll.endorsements = split(endorsement_list);
            if (auto code = enroll_mesh.prepare(true, *home)) return *code;
            return nocturne::app::run_enroll(enroll, *enroll_mesh.state, enroll_mesh.mesh.get(),
                                             now, std::cout, std::cerr);
        }
        if (sign_cmd->parsed()) {
            if (revoke_join) {
                revoke_sign.join = *revoke_join;
            } else if (!revoke_operator && !revoke_operator_id) {
                return fail(
                    "revoke sign needs --operator PUBLIC_KEY or --operator-id ID (and --reason), "
                    "or --join FILE");
            }
            revoke_sign.by_id = revoke_operator_id.has_value();
            revoke_sign.operator_ref = revoke_operator_id.value_or(revoke_operator.value_or(""));
            if (revoke_sign_out) revoke_sign.out_file = *revoke_sign_out;
            std::string why;
            auto genesis = nocturne::app::load_genesis(as_path(revoke_sign_genesis), why);
            if (!genesis) return fail(why);
            return nocturne::app::run_revoke_sign(revoke_sign, *genesis, now, std::cout, std::cerr);
        }
        if (publish_cmd->parsed()) {
            revoke_publish.signatures = split(signature_list);
            auto home = nocturne::app::resolve_home(publish_mesh.home);
            if (auto code = publish_mesh.prepare(home.has_value(),
                                                 home ? *home : std::filesystem::path{})) {
                return *code;
            }
            return nocturne::app::run_revoke_publish(revoke_publish, *publish_mesh.state,
                                                     publish_mesh.mesh.get(), now, std::cout,
                                                     std::cerr);
        }
    } catch (const std::exception& e) {
        // Start-up is the one place exceptions may surface (configuration, allocation).
        return fail(e.what());
    }
    return 0;
}
