#include <nocturne/app/home.hpp>
#include <nocturne/app/home_lock.hpp>
#include <nocturne/app/runtime_info.hpp>
#include <nocturne/core/file_io.hpp>
#include <nocturne/wire/json_reader.hpp>

#include <nlohmann/json.hpp>

#include <cerrno>
#include <csignal>

namespace nocturne::app {
namespace {

std::filesystem::path json_file(const std::filesystem::path& home) {
    return HomeLayout{home}.runtime_file();
}
std::filesystem::path pid_file(const std::filesystem::path& home) {
    return HomeLayout{home}.pid_file();
}

}  // namespace

std::error_code save_runtime_info(const std::filesystem::path& home, const RuntimeInfo& info) {
    nlohmann::json doc = {
        {"pid", info.pid},         {"node_id", info.node_id},   {"peer_address", info.peer_address},
        {"api_url", info.api_url}, {"api_port", info.api_port}, {"started", info.started}};
    if (auto ec = write_file_atomic(pid_file(home), std::to_string(info.pid) + "\n")) return ec;
    return write_file_atomic(json_file(home), doc.dump(2) + "\n");
}

result<RuntimeInfo> load_runtime_info(const std::filesystem::path& home) {
    auto text = read_file(json_file(home), 64 * 1024);
    if (!text) return text.error();
    auto doc = wire::parse_json(*text, 64 * 1024, 4);
    if (!doc) return doc.error();
    wire::ObjectReader r(*doc);
    RuntimeInfo info;
    info.pid = static_cast<pid_t>(r.int64("pid", 1, INT32_MAX));
    info.node_id = r.string("node_id", 64);
    info.peer_address = r.string("peer_address", 256);
    info.api_url = r.string("api_url", 256);
    info.api_port = static_cast<std::uint16_t>(r.int64("api_port", 0, 65535));
    info.started = r.int64("started", 0, INT64_MAX);
    if (auto ec = r.finish()) return ec;
    return info;
}

void remove_runtime_info(const std::filesystem::path& home) {
    std::error_code ignored;
    std::filesystem::remove(json_file(home), ignored);
    std::filesystem::remove(pid_file(home), ignored);
}

bool is_running(pid_t pid) {
    return pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM);
}

bool home_in_use(const std::filesystem::path& home) {
    auto lock = HomeLock::acquire(home);
    return !lock && lock.error() == std::errc::resource_unavailable_try_again;
}

}  // namespace nocturne::app
