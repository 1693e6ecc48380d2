// nocturne-agent: one binary, one node of the nocturne mesh.

#include <nocturne/app/home.hpp>
#include <nocturne/app/home_lock.hpp>
#include <nocturne/app/identity.hpp>
#include <nocturne/store/sqlite_store.hpp>

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>

namespace {

constexpr const char* version = "0.1.0";

struct StartOptions {
    std::optional<std::string> home;
};

// Blocks SIGINT/SIGTERM before any thread exists so that every thread inherits the mask, then
// waits for one synchronously: no async-signal-safety concerns, no handler.
int wait_for_stop_signal() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    int sig = 0;
    sigwait(&set, &sig);
    return sig;
}

void block_stop_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int fail(const std::string& message) {
    std::fprintf(stderr, "nocturne-agent: %s\n", message.c_str());
    return 1;
}

int run_start(const StartOptions& opts) {
    using namespace nocturne;
    block_stop_signals();

    auto home = app::resolve_home(opts.home);
    if (!home) return fail("cannot determine the home directory: set --home or NOCTURNE_HOME");
    if (auto ec = app::prepare_home(*home)) {
        return fail("cannot use home " + home->string() + ": " + ec.message());
    }
    auto lock = app::HomeLock::acquire(*home);
    if (!lock) {
        if (lock.error() == std::errc::resource_unavailable_try_again) {
            return fail("another nocturne-agent is already running with home " + home->string());
        }
        return fail("cannot lock home " + home->string() + ": " + lock.error().message());
    }

    const app::HomeLayout layout{*home};
    bool created = false;
    auto keys = app::load_or_create_node_key(layout.node_key(), created);
    if (!keys) {
        return fail("cannot load node key " + layout.node_key().string() + ": " +
                    keys.error().message());
    }
    const auto store_path = store::default_store_path(*home);
    auto db = store::SqliteStore::open(store_path);
    if (!db) return fail("cannot open store " + store_path.string() + ": " + db.error().message());

    const auto id = keys->node_id();
    if (created) spdlog::info("generated a new node key at {}", layout.node_key().string());
    const auto records = (*db)->size();
    spdlog::info("node {} started: home {}, store {} ({} records)", id.to_hex(), home->string(),
                 store_path.string(), records ? *records : 0);
    // Machine-readable readiness line on stdout for supervisors and tests.
    std::cout << "ready node_id=" << id.to_hex() << std::endl;

    const int sig = wait_for_stop_signal();
    spdlog::info("received signal {}, shutting down", sig);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    // Logs go to stderr; stdout is reserved for command output a script may parse.
    spdlog::set_default_logger(spdlog::stderr_color_mt("nocturne"));
    CLI::App cli{"nocturne-agent: a node of the nocturne knowledge mesh"};
    cli.set_version_flag("--version", version);
    cli.require_subcommand(1);

    StartOptions start;
    auto* start_cmd = cli.add_subcommand("start", "Start this node (runs in the foreground)");
    start_cmd->add_option("--home", start.home,
                          "State directory (default: $NOCTURNE_HOME, else ~/.nocturne)");

    try {
        cli.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return cli.exit(e);
    }
    try {
        if (start_cmd->parsed()) return run_start(start);
    } catch (const std::exception& e) {
        // Start-up is the one place exceptions may surface (configuration, allocation).
        return fail(e.what());
    }
    return 0;
}
