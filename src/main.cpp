// nocturne-agent: one binary, one node of the nocturne mesh. The commands live in src/cli/.

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <exception>

#include "cli/cli.hpp"

int main(int argc, char** argv) {
    // Logs go to stderr; stdout is reserved for command output a script may parse.
    spdlog::set_default_logger(spdlog::stderr_color_mt("nocturne"));
    CLI::App app{"nocturne-agent: a node of the nocturne knowledge mesh"};
    app.set_version_flag("--version", nocturne::cli::version);
    app.require_subcommand(1);

    nocturne::cli::Commands commands;
    nocturne::cli::add_node_commands(app, commands);
    nocturne::cli::add_trust_commands(app, commands);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    try {
        return commands.run();
    } catch (const std::exception& e) {
        // Start-up is the one place exceptions may surface (configuration, allocation).
        return nocturne::cli::fail(e.what());
    }
}
