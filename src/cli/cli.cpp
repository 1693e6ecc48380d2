#include "cli.hpp"

#include <nocturne/app/home.hpp>

#include <cstdio>

namespace nocturne::cli {
namespace {

std::string check_address(const std::string& v) {
    return v.rfind("ws://", 0) == 0 || v.rfind("wss://", 0) == 0
               ? std::string{}
               : std::string("must look like ws://host:port");
}

}  // namespace

int Commands::run() const {
    // Nested subcommands (revoke sign) come after their parent: the last parsed one is innermost.
    const std::function<int()>* chosen = nullptr;
    for (const auto& [command, run] : list_) {
        if (command->parsed()) chosen = &run;
    }
    return chosen != nullptr ? (*chosen)() : 0;
}

int fail(const std::string& message) {
    std::fprintf(stderr, "nocturne-agent: %s\n", message.c_str());
    return 1;
}

int usage_error(const std::string& command, const std::string& message) {
    std::fprintf(stderr, "nocturne-agent: %s (see nocturne-agent %s --help)\n", message.c_str(),
                 command.c_str());
    return 2;
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

std::optional<std::filesystem::path> home_or_fail(const std::optional<std::string>& flag) {
    auto home = app::resolve_home(flag);
    if (!home) {
        (void)fail("cannot determine the home directory: set --home or NOCTURNE_HOME");
        return std::nullopt;
    }
    return *home;
}

}  // namespace nocturne::cli
