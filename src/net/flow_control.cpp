#include <nocturne/net/flow_control.hpp>

#include <algorithm>

namespace nocturne::net {

FlowControl::FlowControl(Options options, time_point now)
    : options_(options),
      inbound_(options.rate_per_second, options.burst, now),
      outbound_(options.rate_per_second * options.pace_fraction,
                options.burst * options.pace_fraction / 2, now),
      replies_(options.replies_per_second, options.replies_per_second, now) {}

FlowControl::Inbound FlowControl::on_inbound(time_point now) {
    if (inbound_.try_take(now)) {
        refused_in_a_row_ = 0;
        return Inbound::accept;
    }
    ++refused_in_a_row_;
    if (static_cast<double>(refused_in_a_row_) > options_.burst) return Inbound::violation;
    return replies_.try_take(now) ? Inbound::refuse_and_tell : Inbound::refuse;
}

std::chrono::milliseconds FlowControl::retry_after(time_point now) const {
    // Long enough for a tenth of the burst to come back: the peer resumes with room to spare.
    const auto refill =
        std::chrono::duration<double>(options_.burst / 10 / options_.rate_per_second);
    const auto wait = inbound_.wait(now) + std::chrono::duration_cast<duration>(refill);
    return std::max(std::chrono::milliseconds(1),
                    std::chrono::ceil<std::chrono::milliseconds>(wait));
}

FlowControl::duration FlowControl::outbound_delay(time_point now) const {
    const duration paused = paused_until_ > now ? paused_until_ - now : duration{0};
    return std::max(paused, outbound_.wait(now));
}

void FlowControl::on_sent(time_point now) {
    (void)outbound_.try_take(now);
}

void FlowControl::on_slow_down(time_point now, std::chrono::milliseconds retry_after) {
    paused_until_ = std::max(paused_until_, now + retry_after);
}

}  // namespace nocturne::net
