// start, status, stop: running this home's node.

#include <nocturne/app/background.hpp>
#include <nocturne/app/daemon_commands.hpp>
#include <nocturne/app/dev_mesh.hpp>
#include <nocturne/app/home.hpp>
#include <nocturne/app/home_lock.hpp>
#include <nocturne/app/runtime_info.hpp>
#include <nocturne/core/clock.hpp>
#include <nocturne/daemon/daemon.hpp>

#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdint>
#include <iostream>
#include <memory>

#include "cli.hpp"
#include "start_config.hpp"

namespace nocturne::cli {
namespace {

// A daemon in the background logs to its home's log file (5 files of 10 MiB); in the foreground
// (systemd, containers, a terminal) to stderr, where the supervisor collects it.
void log_to_file(const std::filesystem::path& home) {
    auto sink = std::make_shared<spdlog::sinks::rotating_file_sink_mt>(
        app::HomeLayout{home}.log_file().string(), 10 * 1024 * 1024, 5);
    auto logger = std::make_shared<spdlog::logger>("nocturne", sink);
    logger->flush_on(spdlog::level::info);
    logger->set_level(spdlog::get_level());  // --log-level (a new logger starts at info)
    spdlog::set_default_logger(logger);
}

int run_start(const StartOptions& opts) {
    auto home = home_or_fail(opts.home);
    if (!home) return 1;
    spdlog::set_level(spdlog::level::from_str(opts.log_level));
    // The first start (or --save-config) writes the settings it runs with, once the node listens
    // with the home locked (a start that fails saves nothing): the next start without flags runs
    // the node as it was.
    const auto config_file = app::HomeLayout{*home}.config_file();
    std::error_code exists_ec;
    const bool save = opts.save_config || !std::filesystem::exists(config_file, exists_ec);
    const auto save_now = [save, config_file, opts] {
        if (!save) return;
        if (auto ec = save_settings(config_file, opts)) {
            spdlog::warn("settings not saved in {}: {}", config_file.string(), ec.message());
        }
    };
    daemon::DaemonConfig config;
    config.home = *home;
    config.listen_host = opts.host;
    config.port = opts.port;
    config.api_port = opts.api_port;
    config.advertised_address = opts.advertise;
    config.bootstrap = opts.bootstrap;
    config.loopback_peers = opts.loopback_peers;
    config.anomaly_dry_run = opts.anomaly_dry_run;
    config.task_scan_period = std::chrono::seconds(opts.task_scan_seconds);
    config.version = version;
    // The daemon may chdir nowhere, but a relative path given here must keep meaning the same.
    if (opts.genesis) config.genesis_file = std::filesystem::absolute(*opts.genesis);
    if (opts.foreground) {
        config.on_ready = save_now;
        return daemon::run_daemon(config);
    }

    if (auto ec = app::prepare_home(*home)) {
        return fail("cannot use home " + home->string() + ": " + ec.message());
    }
    if (app::home_in_use(*home)) {
        auto running = app::load_runtime_info(*home);
        return fail("another nocturne-agent is already running with home " + home->string() +
                    (running ? " (pid " + std::to_string(running->pid) + ")" : std::string()));
    }
    return app::start_in_background(
        [&](const std::function<void()>& ready) {
            log_to_file(*home);
            config.on_ready = [&] {
                save_now();
                ready();
            };
            return daemon::run_daemon(config);
        },
        std::cout, std::cerr);
}

}  // namespace

namespace {

void add_dev_mesh(CLI::App& app, Commands& commands) {
    auto o = std::make_shared<app::DevMeshOptions>();
    auto dir = std::make_shared<std::string>();
    auto* cmd = app.add_subcommand(
        "dev-mesh", "Create N enrolled homes of a private mesh on this machine, ready to start");
    cmd->add_option("nodes", o->nodes, "How many nodes (1-20)")
        ->required()
        ->check(CLI::Range(1, 20));
    cmd->add_option("--dir", *dir, "An empty or new directory for the homes and genesis.json")
        ->required();
    cmd->add_option("--network", o->network, "The mesh's name (default: dev- and random hex)");
    cmd->add_option("--base-port", o->base_port,
                    "Node i listens on base + 2i, its API on base + 2i + 1")
        ->capture_default_str()
        ->check(CLI::Range(1024, 65000));
    commands.add(cmd, [o, dir] {
        o->dir = *dir;
        return app::run_dev_mesh(*o, SystemClock{}.unix_seconds(), std::cout, std::cerr);
    });
}

}  // namespace

void add_node_commands(CLI::App& app, Commands& commands) {
    add_dev_mesh(app, commands);
    auto start = std::make_shared<StartOptions>();
    auto* start_cmd = app.add_subcommand(
        "start", "Start this node in the background (--foreground for systemd and containers)");
    add_home_option(start_cmd, start->home);
    start_cmd->add_flag("--foreground", start->foreground,
                        "Stay in the foreground and log to stderr");
    start_cmd
        ->add_option("--api-port", start->api_port,
                     "Port of the local HTTP API on 127.0.0.1 (0: any free port)")
        ->capture_default_str();
    add_genesis_option(start_cmd, start->genesis);
    start_cmd->add_option("--host", start->host, "Address to listen on for peers")
        ->capture_default_str();
    start_cmd->add_option("--port", start->port, "Port to listen on for peers (0: any free port)")
        ->capture_default_str();
    start_cmd->add_option("--advertise", start->advertise,
                          "Address peers should dial, ws://host:port (default: ws://HOST:PORT)");
    add_bootstrap_option(start_cmd, start->bootstrap,
                         "Peer to join the mesh through, ws://host:port (repeatable); without "
                         "one, and without peers saved from a previous run, this node starts "
                         "a new mesh");
    start_cmd
        ->add_flag("--loopback-peers", start->loopback_peers,
                   "Let loopback peers count as separate networks (a mesh whose nodes all run on "
                   "this host: tests, trying things); off by default, since one host can run "
                   "any number of node ids")
        ->envname("NOCTURNE_LOOPBACK_PEERS");
    start_cmd
        ->add_flag("--anomaly-dry-run", start->anomaly_dry_run,
                   "Report operators over the mesh's rates (vote bursts, domain flooding), but "
                   "store their records anyway: to try the rates on real traffic first")
        ->envname("NOCTURNE_ANOMALY_DRY_RUN");
    start_cmd
        ->add_option("--log-level", start->log_level,
                     "trace, debug, info, warn or error (under systemd, journal priorities "
                     "follow: journalctl -p warning)")
        ->capture_default_str()
        ->envname("NOCTURNE_LOG_LEVEL")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
    start_cmd->add_flag("--save-config", start->save_config,
                        "Save this start's settings in the home's node.toml (the first start "
                        "does by itself; later ones read it for what their flags do not give)");
    start_cmd
        ->add_option("--task-scan-seconds", start->task_scan_seconds,
                     "How often this node looks, in the domains it is responsible for, for "
                     "entries that need a compute task (verify, review, synthesize)")
        ->check(CLI::Range(1, 86400))
        ->envname("NOCTURNE_TASK_SCAN_SECONDS")
        ->capture_default_str();
    commands.add(start_cmd, [start] { return run_start(*start); });

    auto status_home = std::make_shared<std::optional<std::string>>();
    auto* status_cmd = app.add_subcommand(
        "status", "Show whether this home's node runs: health, peers, enrollment (exit 3: not)");
    add_home_option(status_cmd, *status_home);
    commands.add(status_cmd, [status_home] {
        auto home = home_or_fail(*status_home);
        return home ? app::run_status(*home, std::cout, std::cerr) : 1;
    });

    struct StopOptions {
        std::optional<std::string> home;
        int timeout = 10;
    };
    auto stop = std::make_shared<StopOptions>();
    auto* stop_cmd = app.add_subcommand("stop", "Stop this home's node gracefully (SIGTERM)");
    add_home_option(stop_cmd, stop->home);
    stop_cmd->add_option("--timeout", stop->timeout, "Seconds to wait for it to exit")
        ->capture_default_str();
    commands.add(stop_cmd, [stop] {
        auto home = home_or_fail(stop->home);
        return home
                   ? app::run_stop(*home, std::chrono::seconds(stop->timeout), std::cout, std::cerr)
                   : 1;
    });
}

}  // namespace nocturne::cli
