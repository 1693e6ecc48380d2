// nocturne-agent: one binary, one node of the nocturne mesh. The commands live in src/cli/.

#include <spdlog/spdlog.h>

#include <cctype>
#include <csignal>
#include <cstdio>
#include <exception>
#include <pthread.h>
#include <string>
#include <vector>

#include "cli/cli.hpp"
#include "cli/log_sinks.hpp"
#include "cli/start_config.hpp"

int main(int argc, char** argv) {
    // The signal mask survives exec: a parent that blocked SIGTERM or SIGINT would leave the
    // daemon unable to hear its stop signal. Unblocked before any thread inherits the mask.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    ::pthread_sigmask(SIG_UNBLOCK, &stop_signals, nullptr);
    // Logs go to stderr (the journal's format under systemd); stdout is reserved for command
    // output a script may parse.
    nocturne::cli::log_to_stderr();
    // Named, so that help and usage say "nocturne-agent" whatever path it was run by (the man
    // page is generated from them).
    CLI::App app{"nocturne-agent: a node of the nocturne knowledge mesh", "nocturne-agent"};
    app.set_version_flag("--version", nocturne::cli::version);
    app.require_subcommand(1);

    nocturne::cli::Commands commands;
    nocturne::cli::add_node_commands(app, commands);
    nocturne::cli::add_trust_commands(app, commands);
    nocturne::cli::add_api_commands(app, commands);

    // `start` takes what its command line does not give from the home's saved settings.
    std::string why;
    auto args =
        nocturne::cli::with_saved_settings(std::vector<std::string>(argv, argv + argc), why);
    if (!args) {
        std::fprintf(stderr, "nocturne-agent: %s\n", why.c_str());
        return 1;
    }
    std::vector<char*> full;
    for (auto& a : *args) full.push_back(a.data());
    argc = static_cast<int>(full.size());
    argv = full.data();
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        // --help and --version print what was asked for and succeed.
        if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) return app.exit(e);
        // A usage error: one line in the house format, exit 2 (as getopt's users expect), not
        // CLI11's text and its exit codes 100-120.
        std::string what = e.what();
        if (app.get_subcommands().empty() && argc > 1 && argv[1][0] != '-') {
            what = std::string("unknown command ") + argv[1];
        }
        if (!what.empty())
            what[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(what[0])));
        // The help of the (sub)command the error is about.
        std::string command = "nocturne-agent";
        for (const CLI::App* at = &app; !at->get_subcommands().empty();) {
            at = at->get_subcommands().back();
            command += " " + at->get_name();
        }
        std::fprintf(stderr, "nocturne-agent: %s (see %s --help)\n", what.c_str(), command.c_str());
        return 2;
    }
    // Only the daemon logs: a command's output is its result (errors come as one line each).
    if (!commands.starts_daemon()) spdlog::set_level(spdlog::level::warn);
    try {
        return commands.run();
    } catch (const std::exception& e) {
        // Start-up is the one place exceptions may surface (configuration, allocation).
        return nocturne::cli::fail(e.what());
    }
}
