#pragma once

#include <nocturne/core/error.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <sys/types.h>

namespace nocturne::app {

// Where a running daemon can be reached, for `status`, `stop` and the MCP shim:
// $NOCTURNE_HOME/node.json {"pid","node_id","peer_address","api_url","api_port","started"} and
// $NOCTURNE_HOME/node.pid (the pid alone, the usual pid file). Written (atomically, 0600) once
// the daemon listens; removed when it exits cleanly. A file left by a crashed daemon is recognised
// by its pid: see is_running().
struct RuntimeInfo {
    pid_t pid = 0;
    std::string node_id;
    std::string peer_address;
    std::string api_url;  // http://127.0.0.1:<port>
    std::uint16_t api_port = 0;
    std::int64_t started = 0;  // Unix seconds
};

std::error_code save_runtime_info(const std::filesystem::path& home, const RuntimeInfo& info);
// errc::not_found when no daemon left one.
result<RuntimeInfo> load_runtime_info(const std::filesystem::path& home);
void remove_runtime_info(const std::filesystem::path& home);

// Whether a process with this pid exists (and may be signalled by us).
bool is_running(pid_t pid);

// Whether a daemon runs on this home: someone holds its node.lock. Unlike a pid from node.json,
// this cannot be fooled by a file a crashed daemon left behind whose pid the system has reused.
bool home_in_use(const std::filesystem::path& home);

}  // namespace nocturne::app
