#pragma once

// The nocturne-agent commands (CLI11), registered by main.cpp. Each add_* function adds its
// subcommands and what to run when one is parsed; option values live in state the run function
// owns.

#include <CLI/CLI.hpp>

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace nocturne::cli {

inline constexpr const char* version = "0.1.0";

// The subcommands and what each runs. Owned by main's thread.
class Commands {
public:
    // Gives the command a --json flag unless it has its own (or is `start`): its key=value lines
    // then come as one JSON object (a key given twice: an array of its values).
    void add(CLI::App* command, std::function<int()> run);
    // Runs the parsed subcommand (the innermost one, e.g. "revoke sign"); its exit code.
    int run() const;
    // Whether the parsed subcommand is `start` (the daemon logs; the others print results only).
    bool starts_daemon() const;

private:
    struct Entry {
        CLI::App* command;
        std::function<int()> run;
        std::shared_ptr<bool> json;  // the --json flag added here, if any
    };
    std::vector<Entry> list_;
};

void add_node_commands(CLI::App& app, Commands& commands);   // start, status, stop, dev-mesh
void add_trust_commands(CLI::App& app, Commands& commands);  // setup, endorse, enroll, revoke
void add_api_commands(CLI::App& app, Commands& commands);    // peers, publish, query, delete, vote

// ---- shared by the command files ----------------------------------------------------------------

// "nocturne-agent: <message>" on stderr; returns exit code 1.
int fail(const std::string& message);
// A usage error the command line parser could not catch (options that go together): the same
// line with the command's help, exit 2.
int usage_error(const std::string& command, const std::string& message);

void add_home_option(CLI::App* cmd, std::optional<std::string>& home);
void add_genesis_option(CLI::App* cmd, std::optional<std::string>& genesis);
void add_bootstrap_option(CLI::App* cmd, std::vector<std::string>& bootstrap,
                          const std::string& help);

std::optional<std::filesystem::path> as_path(const std::optional<std::string>& s);
// The home a command works on (--home, $NOCTURNE_HOME, ~/.nocturne), or nullopt after printing
// why none could be determined.
std::optional<std::filesystem::path> home_or_fail(const std::optional<std::string>& flag);

}  // namespace nocturne::cli
