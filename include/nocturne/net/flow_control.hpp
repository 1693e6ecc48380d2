#pragma once

#include <nocturne/net/admission.hpp>

#include <chrono>
#include <cstddef>

namespace nocturne::net {

// Flow control of one session, both ways, so that a busy honest peer is paced and never punished
// (docs/transport.md, "Back-pressure"):
// - inbound, a token bucket (rate, burst) comes before any signature work. A frame over it is
//   refused, and the sender is told so with a retry-after (at most replies_per_second such
//   answers). Only a peer that goes on sending past a whole burst of refused frames in a row is
//   a violator: an honest peer stops once told, and what it had in flight is forgiven.
// - outbound, our frames leave at most at pace_fraction of the rate peers grant by default (the
//   same configuration on every node), and a peer's "slow down" pauses sending to it until its
//   retry-after.
//
// Pure, clock passed in (monotonic). Owned by its session, on the io_context thread.
class FlowControl {
public:
    using time_point = std::chrono::steady_clock::time_point;
    using duration = std::chrono::nanoseconds;

    struct Options {
        double rate_per_second = 1000;
        double burst = 2000;
        double pace_fraction = 0.9;  // of the rate, and of half the burst, for what we send
        double replies_per_second = 20;
    };

    enum class Inbound {
        accept,
        refuse_and_tell,  // refused: answer "slow down, retry after" (retry_after())
        refuse,           // refused, no answer (the answers' own budget is spent)
        violation,        // refused, and the peer ignored being told
    };

    FlowControl(Options options, time_point now);

    Inbound on_inbound(time_point now);
    // For refuse_and_tell: when the peer may send again.
    std::chrono::milliseconds retry_after(time_point now) const;

    // How long the next frame we send must wait (zero: now; then call on_sent()).
    duration outbound_delay(time_point now) const;
    void on_sent(time_point now);
    // The peer told us to slow down.
    void on_slow_down(time_point now, std::chrono::milliseconds retry_after);

private:
    Options options_;
    TokenBucket inbound_;
    TokenBucket outbound_;
    TokenBucket replies_;
    std::size_t refused_in_a_row_ = 0;
    time_point paused_until_{};
};

}  // namespace nocturne::net
