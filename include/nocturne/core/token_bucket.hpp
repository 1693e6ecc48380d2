#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace nocturne {

// Classic token bucket: holds up to `burst` tokens, gains `rate` per second, each take spends one.
// TimePoint is the clock it runs on: the transport's monotonic clock (rate limiting must not jump
// with wall-clock corrections), or a sans-IO service's Clock (virtual time in the simulator).
//
// Owned by whoever owns the thing it limits; not thread-safe.
template <class TimePoint>
class BasicTokenBucket {
public:
    BasicTokenBucket(double rate_per_second, double burst, TimePoint now)
        : rate_(std::max(rate_per_second, 0.0)),
          burst_(std::max(burst, 1.0)),
          tokens_(burst_),
          last_(now) {}

    // Takes n tokens (at most `burst`: a dearer request is charged the burst) all at once, or
    // none.
    bool try_take(TimePoint now, double n = 1.0) {
        refill(now);
        n = std::min(n, burst_);
        if (tokens_ < n) return false;
        tokens_ -= n;
        return true;
    }
    // How long until n tokens are there (zero when they are now).
    std::chrono::nanoseconds wait(TimePoint now, double n = 1.0) const {
        n = std::min(n, burst_);
        double tokens = tokens_;
        if (now > last_) {
            const std::chrono::duration<double> elapsed = now - last_;
            tokens = std::min(burst_, tokens + elapsed.count() * rate_);
        }
        if (tokens >= n) return std::chrono::nanoseconds{0};
        if (rate_ <= 0.0) return std::chrono::hours(1);
        return std::chrono::nanoseconds(static_cast<std::int64_t>((n - tokens) / rate_ * 1e9) + 1);
    }

private:
    void refill(TimePoint now) {
        // A clock stepped back (wall time corrected): start counting from there, or the bucket
        // would not refill until the clock caught up again.
        if (now < last_) last_ = now;
        if (now == last_) return;
        const std::chrono::duration<double> elapsed = now - last_;
        tokens_ = std::min(burst_, tokens_ + elapsed.count() * rate_);
        last_ = now;
    }

    double rate_;
    double burst_;
    double tokens_;
    TimePoint last_;
};

}  // namespace nocturne
