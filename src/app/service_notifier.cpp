#include <nocturne/app/service_notifier.hpp>

#include <cerrno>
#include <charconv>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <utility>

namespace nocturne::app {
namespace {

std::optional<long long> env_number(const char* name) {
    const char* v = std::getenv(name);
    if (v == nullptr) return std::nullopt;
    long long n = 0;
    const auto end = v + std::strlen(v);
    const auto [p, ec] = std::from_chars(v, end, n);
    if (ec != std::errc{} || p != end || n < 0) return std::nullopt;
    return n;
}

}  // namespace

ServiceNotifier ServiceNotifier::from_environment() {
    ServiceNotifier n;
    if (const char* s = std::getenv("NOTIFY_SOCKET")) n.socket_ = s;
    // The watchdog is ours only if the manager meant this process (WATCHDOG_PID, when set).
    const auto usec = env_number("WATCHDOG_USEC");
    const auto pid = env_number("WATCHDOG_PID");
    if (usec && *usec > 0 && (!pid || *pid == ::getpid())) {
        n.watchdog_ = std::chrono::microseconds(*usec);
    }
    ::unsetenv("NOTIFY_SOCKET");
    ::unsetenv("WATCHDOG_USEC");
    ::unsetenv("WATCHDOG_PID");
    return n;
}

ServiceNotifier::ServiceNotifier(std::string socket, std::chrono::microseconds watchdog)
    : socket_(std::move(socket)), watchdog_(watchdog) {}

std::error_code ServiceNotifier::notify(std::string_view state) const {
    if (socket_.empty()) return {};
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    // A path, or '@' and a name in the abstract namespace (the name's first byte is then 0).
    if (socket_.size() >= sizeof addr.sun_path || (socket_[0] != '/' && socket_[0] != '@')) {
        return std::make_error_code(std::errc::invalid_argument);
    }
    std::memcpy(addr.sun_path, socket_.data(), socket_.size());
    if (socket_[0] == '@') addr.sun_path[0] = '\0';
    const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + socket_.size() +
                                            (socket_[0] == '@' ? 0 : 1));
    const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return {errno, std::generic_category()};
    // Never blocks: a manager that does not read its socket must not stall the node's event
    // loop (the node then runs unreported, as it would without a manager).
    const auto sent = ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL | MSG_DONTWAIT,
                               reinterpret_cast<const sockaddr*>(&addr), len);
    const std::error_code ec =
        sent < 0 ? std::error_code(errno, std::generic_category()) : std::error_code{};
    ::close(fd);
    return ec;
}

std::optional<std::chrono::microseconds> ServiceNotifier::watchdog_period() const {
    if (socket_.empty() || watchdog_.count() <= 0) return std::nullopt;
    return watchdog_ / 2;
}

}  // namespace nocturne::app
