#pragma once

// A home remembers how its node runs: the first `start` writes its settings to the home's
// node.toml (TOML, as CLI11 reads it); a later `start` takes from there every setting its command
// line (or environment) does not give, and `--save-config` writes the settings again.

#include <nocturne/core/error.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace nocturne::cli {

struct StartOptions {
    std::optional<std::string> home;
    std::optional<std::string> genesis;
    std::string host = "127.0.0.1";
    // Not Prometheus' 9090 nor the 8000s and 9000s of web and dev servers: 47100-47101 belong to
    // no common service.
    std::uint16_t port = 47100;
    std::uint16_t api_port = 47101;
    std::string advertise;
    std::vector<std::string> bootstrap;
    bool foreground = false;
    bool loopback_peers = false;
    bool anomaly_dry_run = false;
    unsigned task_scan_seconds = 60;
    std::string log_level = "info";
    bool save_config = false;
};

// argv of a `start` with the home's saved settings added for what it does not give itself. The
// home comes from --home, NOCTURNE_HOME or the default. An unreadable or malformed node.toml is
// an error naming the file (an unknown setting too). Other commands' argv come back unchanged.
result<std::vector<std::string>> with_saved_settings(std::vector<std::string> args,
                                                     std::string& why);

// node.toml with these settings (the effective ones of a start).
std::error_code save_settings(const std::filesystem::path& file, const StartOptions& opts);

}  // namespace nocturne::cli
