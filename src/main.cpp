// nocturne-agent: one binary, one node of the nocturne mesh.

#include <nocturne/app/home.hpp>
#include <nocturne/net/daemon.hpp>

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

namespace {

constexpr const char* version = "0.1.0";

struct StartOptions {
    std::optional<std::string> home;
    std::string host = "127.0.0.1";
    std::uint16_t port = 9090;
    std::string advertise;
    std::vector<std::string> bootstrap;
};

int fail(const std::string& message) {
    std::fprintf(stderr, "nocturne-agent: %s\n", message.c_str());
    return 1;
}

int run_start(const StartOptions& opts) {
    auto home = nocturne::app::resolve_home(opts.home);
    if (!home) return fail("cannot determine the home directory: set --home or NOCTURNE_HOME");
    nocturne::net::DaemonConfig config;
    config.home = *home;
    config.listen_host = opts.host;
    config.port = opts.port;
    config.advertised_address = opts.advertise;
    config.bootstrap = opts.bootstrap;
    return nocturne::net::run_daemon(config);
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
    start_cmd->add_option("--host", start.host, "Address to listen on for peers")
        ->capture_default_str();
    start_cmd->add_option("--port", start.port, "Port to listen on for peers (0: any free port)")
        ->capture_default_str();
    start_cmd->add_option("--advertise", start.advertise,
                          "Address peers should dial, ws://host:port (default: ws://HOST:PORT)");
    start_cmd
        ->add_option("--bootstrap", start.bootstrap,
                     "Peer to join the mesh through, ws://host:port (repeatable); without "
                     "one, and without peers saved from a previous run, this node starts "
                     "a new mesh")
        ->check([](const std::string& v) {
            return v.rfind("ws://", 0) == 0 || v.rfind("wss://", 0) == 0
                       ? std::string{}
                       : std::string("must look like ws://host:port");
        });

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
