#pragma once

#include <chrono>
#include <filesystem>
#include <ostream>

namespace nocturne::app {

// `nocturne-agent status`: whether the home's daemon runs (node.json and its pid), and what its
// /local/health says, as key=value lines on `out`. Exit codes after the LSB convention for
// status: 0 running, 3 not running, 1 running but not answering.
int run_status(const std::filesystem::path& home, std::ostream& out, std::ostream& err);

// `nocturne-agent stop`: SIGTERM to the home's daemon, then waits until it has exited (up to
// timeout: exit 1). Not running is success ("running=no").
int run_stop(const std::filesystem::path& home, std::chrono::seconds timeout, std::ostream& out,
             std::ostream& err);

}  // namespace nocturne::app
