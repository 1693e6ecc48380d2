#include "cli.hpp"

#include <nocturne/app/home.hpp>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>
#include <sstream>

namespace nocturne::cli {
namespace {

std::string check_address(const std::string& v) {
    return v.rfind("ws://", 0) == 0 || v.rfind("wss://", 0) == 0
               ? std::string{}
               : std::string("must look like ws://host:port");
}

}  // namespace

void Commands::add(CLI::App* command, std::function<int()> run) {
    std::shared_ptr<bool> json;
    if (command->get_option_no_throw("--json") == nullptr && command->get_name() != "start") {
        json = std::make_shared<bool>(false);
        command->add_flag("--json", *json, "Print the output as one JSON object, for scripts");
    }
    list_.push_back({command, std::move(run), std::move(json)});
}

bool Commands::starts_daemon() const {
    for (const auto& e : list_) {
        if (e.command->parsed() && e.command->get_name() == "start") return true;
    }
    return false;
}

int Commands::run() const {
    // Nested subcommands (revoke sign) come after their parent: the last parsed one is innermost.
    const Entry* chosen = nullptr;
    for (const auto& e : list_) {
        if (e.command->parsed()) chosen = &e;
    }
    if (chosen == nullptr) return 0;
    if (!chosen->json || !*chosen->json) return chosen->run();
    // The command prints key=value lines to std::cout: catch them, and print them as JSON.
    std::ostringstream captured;
    auto* previous = std::cout.rdbuf(captured.rdbuf());
    int code = 0;
    try {
        code = chosen->run();
    } catch (...) {
        std::cout.rdbuf(previous);
        throw;
    }
    std::cout.rdbuf(previous);
    nlohmann::json out = nlohmann::json::object();
    std::istringstream lines(captured.str());
    for (std::string line; std::getline(lines, line);) {
        const auto eq = line.find('=');
        if (eq == std::string::npos || eq == 0) {
            out["lines"].push_back(line);
            continue;
        }
        const auto key = line.substr(0, eq);
        auto value = nlohmann::json(line.substr(eq + 1));
        if (!out.contains(key)) {
            out[key] = std::move(value);
        } else {
            if (!out[key].is_array()) out[key] = nlohmann::json::array({out[key]});
            out[key].push_back(std::move(value));
        }
    }
    // Paths and texts need not be UTF-8: replaced, rather than the output lost.
    std::cout << out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return code;
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
