#include "start_config.hpp"

#include <nocturne/app/home.hpp>
#include <nocturne/core/file_io.hpp>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <sstream>

namespace nocturne::cli {
namespace {

struct Setting {
    const char* name;  // the option without "--", and the key in node.toml
    const char* env;   // an environment variable that gives it too, or nullptr
    bool flag;
};
constexpr std::array<Setting, 10> settings{{
    {"host", nullptr, false},
    {"port", nullptr, false},
    {"api-port", nullptr, false},
    {"advertise", nullptr, false},
    {"genesis", "NOCTURNE_GENESIS", false},
    {"bootstrap", nullptr, false},
    {"loopback-peers", "NOCTURNE_LOOPBACK_PEERS", true},
    {"anomaly-dry-run", "NOCTURNE_ANOMALY_DRY_RUN", true},
    {"task-scan-seconds", "NOCTURNE_TASK_SCAN_SECONDS", false},
    {"log-level", "NOCTURNE_LOG_LEVEL", false},
}};

constexpr std::size_t max_config_bytes = 64 * 1024;

bool given(const std::vector<std::string>& args, const std::string& option) {
    return std::any_of(args.begin(), args.end(), [&](const std::string& a) {
        return a == option || a.rfind(option + "=", 0) == 0;
    });
}

// CLI11's TOML reader cuts a line at '#' and does not undo escapes: such a value would not come
// back as it was, so it is not saved.
bool savable(const std::string& s) {
    return std::none_of(s.begin(), s.end(), [](char c) {
        return c == '#' || c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20;
    });
}

std::string quoted(const std::string& s) {
    return "\"" + s + "\"";
}

}  // namespace

result<std::vector<std::string>> with_saved_settings(std::vector<std::string> args,
                                                     std::string& why) {
    if (args.size() < 2 || args[1] != "start") return args;
    std::optional<std::string> home_flag;
    for (std::size_t i = 2; i < args.size(); ++i) {
        if (args[i] == "--home" && i + 1 < args.size()) home_flag = args[i + 1];
        if (args[i].rfind("--home=", 0) == 0) home_flag = args[i].substr(7);
    }
    auto home = app::resolve_home(home_flag);
    if (!home) return args;  // `start` says what is wrong with the home
    const auto file = app::HomeLayout{*home}.config_file();
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) return args;
    auto text = read_file(file, max_config_bytes);
    if (!text) {
        why = "cannot read " + file.string() + ": " + text.error().message();
        return text.error();
    }
    std::vector<CLI::ConfigItem> items;
    try {
        std::istringstream in(*text);
        items = CLI::ConfigTOML{}.from_config(in);
    } catch (const CLI::Error& e) {
        why = file.string() + " is not valid TOML: " + e.what();
        return make_error_code(errc::malformed_json);
    }
    std::vector<std::string> saved;
    for (const auto& item : items) {
        if (item.name == "++" || item.name == "--") continue;  // CLI11's section markers
        const auto it = std::find_if(settings.begin(), settings.end(),
                                     [&](const Setting& s) { return item.name == s.name; });
        if (it == settings.end() || !item.parents.empty()) {
            why = file.string() + ": unknown setting " + item.fullname() +
                  " (known: host, port, api-port, advertise, genesis, bootstrap, loopback-peers, "
                  "anomaly-dry-run, task-scan-seconds, log-level)";
            return make_error_code(errc::unknown_field);
        }
        const std::string option = std::string("--") + it->name;
        if (given(args, option)) continue;
        if (const char* env = it->env != nullptr ? std::getenv(it->env) : nullptr;
            env != nullptr && *env != '\0') {
            continue;
        }
        // Right after "start", as --name=value: before any "--", and a value that begins with
        // '-' stays a value.
        if (it->flag) {
            if (item.inputs.size() == 1 && item.inputs[0] == "true") saved.push_back(option);
            continue;
        }
        for (const auto& v : item.inputs) saved.push_back(option + "=" + v);
    }
    args.insert(args.begin() + 2, saved.begin(), saved.end());
    return args;
}

std::error_code save_settings(const std::filesystem::path& file, const StartOptions& o) {
    std::vector<std::string> texts{o.host, o.advertise, o.log_level};
    if (o.genesis) texts.push_back(std::filesystem::absolute(*o.genesis).string());
    texts.insert(texts.end(), o.bootstrap.begin(), o.bootstrap.end());
    if (!std::all_of(texts.begin(), texts.end(), savable)) {
        return make_error_code(std::errc::invalid_argument);  // '#', quotes, backslashes
    }
    std::ostringstream out;
    out << "# nocturne-agent start: the settings of this home's node. A flag on the command line\n"
        << "# wins over a setting here; `start --save-config` writes them here again.\n"
        << "host = " << quoted(o.host) << "\n"
        << "port = " << o.port << "\n"
        << "api-port = " << o.api_port << "\n";
    if (!o.advertise.empty()) out << "advertise = " << quoted(o.advertise) << "\n";
    if (o.genesis) {
        out << "genesis = " << quoted(std::filesystem::absolute(*o.genesis).string()) << "\n";
    }
    if (!o.bootstrap.empty()) {
        out << "bootstrap = [";
        for (std::size_t i = 0; i < o.bootstrap.size(); ++i) {
            out << (i ? ", " : "") << quoted(o.bootstrap[i]);
        }
        out << "]\n";
    }
    out << "loopback-peers = " << (o.loopback_peers ? "true" : "false") << "\n"
        << "anomaly-dry-run = " << (o.anomaly_dry_run ? "true" : "false") << "\n"
        << "task-scan-seconds = " << o.task_scan_seconds << "\n"
        << "log-level = " << quoted(o.log_level) << "\n";
    return write_file_atomic(file, out.str(), 0600);
}

}  // namespace nocturne::cli
