#pragma once

#include <nocturne/app/service_notifier.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <string>

namespace nocturne::daemon {

// Keeps the service manager informed while the node runs (app::ServiceNotifier): READY=1 once,
// then a STATUS= line (peers, sessions, enrollment) every few seconds, with WATCHDOG=1 at half
// the manager's WatchdogSec; the keep-alive rides the node's own event loop, so a node whose loop
// is stuck is restarted. Nothing at all without a notify socket.
//
// Owned by the io_context's thread.
class ServiceReporter {
public:
    ServiceReporter(boost::asio::io_context& io, app::ServiceNotifier notifier,
                    std::function<std::string()> status);
    // READY=1 with the status, then the periodic reports.
    void ready();
    // STOPPING=1; no report after it.
    void stopping();

private:
    void send(const std::string& state);
    void arm();

    boost::asio::steady_timer timer_;
    app::ServiceNotifier notifier_;
    std::function<std::string()> status_;
    std::chrono::microseconds period_;
    bool ready_ = false;
    bool stopped_ = false;
    bool warned_ = false;
};

}  // namespace nocturne::daemon
