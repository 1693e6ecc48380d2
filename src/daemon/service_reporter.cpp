#include "service_reporter.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

namespace nocturne::daemon {

namespace {
// How often `systemctl status` sees fresh figures when there is no (shorter) watchdog.
constexpr std::chrono::microseconds status_period = std::chrono::seconds(10);
}  // namespace

ServiceReporter::ServiceReporter(boost::asio::io_context& io, app::ServiceNotifier notifier,
                                 std::function<std::string()> status)
    : timer_(io),
      notifier_(std::move(notifier)),
      status_(std::move(status)),
      period_(std::min(status_period, notifier_.watchdog_period().value_or(status_period))) {
    if (notifier_.enabled()) {
        spdlog::info("service manager: notify socket {}, watchdog {}", notifier_.socket(),
                     notifier_.watchdog_period()
                         ? std::to_string(notifier_.watchdog_period()->count() * 2 / 1000) + " ms"
                         : std::string("off"));
    }
}

void ServiceReporter::ready() {
    if (!notifier_.enabled() || ready_ || stopped_) return;
    ready_ = true;
    send("READY=1\nSTATUS=" + status_());
    arm();
}

void ServiceReporter::stopping() {
    if (!notifier_.enabled() || stopped_) return;
    stopped_ = true;
    timer_.cancel();
    send("STOPPING=1\nSTATUS=stopping");
}

void ServiceReporter::send(const std::string& state) {
    if (auto ec = notifier_.notify(state); ec && !warned_) {
        warned_ = true;  // once: a manager that went away is not news every few seconds
        spdlog::warn("service manager: cannot notify {}: {}", notifier_.socket(), ec.message());
    }
}

void ServiceReporter::arm() {
    timer_.expires_after(period_);
    timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec || stopped_) return;
        std::string state = "STATUS=" + status_();
        if (notifier_.watchdog_period()) state += "\nWATCHDOG=1";
        send(state);
        arm();
    });
}

}  // namespace nocturne::daemon
