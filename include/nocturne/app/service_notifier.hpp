#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace nocturne::app {

// Tells the service manager how the daemon is doing, with the datagram protocol of sd_notify(3):
// READY=1 once the node serves, STATUS= lines for `systemctl status`, WATCHDOG=1 keep-alives
// while its event loop turns, STOPPING=1 on the way out. The protocol is one datagram per state
// change on the AF_UNIX socket named by NOTIFY_SOCKET (a path, or '@' for the abstract
// namespace): too small to need libsystemd. Without NOTIFY_SOCKET (a terminal, the background
// start, a container) every call does nothing.
//
// Owned by the daemon's thread.
class ServiceNotifier {
public:
    // Reads NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID, then unsets them, so that no process
    // this one starts would speak for it.
    static ServiceNotifier from_environment();
    // For tests: a notifier for this socket, with this watchdog interval (0: none).
    ServiceNotifier(std::string socket, std::chrono::microseconds watchdog);
    ServiceNotifier() = default;

    bool enabled() const { return !socket_.empty(); }
    const std::string& socket() const { return socket_; }
    // Sends newline-separated assignments ("READY=1\nSTATUS=..."); nothing when not enabled.
    std::error_code notify(std::string_view state) const;
    // How often to send WATCHDOG=1: half the manager's WatchdogSec, when it set one for this
    // process.
    std::optional<std::chrono::microseconds> watchdog_period() const;

private:
    std::string socket_;
    std::chrono::microseconds watchdog_{0};
};

}  // namespace nocturne::app
