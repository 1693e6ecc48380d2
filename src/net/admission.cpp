#include <nocturne/net/admission.hpp>

#include <algorithm>

namespace nocturne::net {

ReplayGuard::ReplayGuard(std::int64_t max_skew_seconds, std::size_t capacity)
    // Clamped so that 2 * max_skew and now - 2 * max_skew cannot overflow.
    : max_skew_(std::clamp<std::int64_t>(max_skew_seconds, 0, std::int64_t{1} << 40)),
      capacity_(std::max<std::size_t>(capacity, 1)) {}

ReplayGuard::Verdict ReplayGuard::check(std::string_view id, std::int64_t timestamp,
                                        std::int64_t now) {
    // Compared as differences of values that decode_envelope bounds to [0, INT64_MAX]: subtracting
    // now (a real Unix time) cannot overflow.
    if (timestamp < now - max_skew_ || timestamp - now > max_skew_) return Verdict::stale;
    while (!by_time_.empty() && by_time_.begin()->first < now - 2 * max_skew_) forget_oldest();
    const std::string key(id);
    if (ids_.contains(key)) return Verdict::duplicate;
    if (ids_.size() >= capacity_) forget_oldest();
    ids_.emplace(key, timestamp);
    by_time_.emplace(timestamp, key);
    return Verdict::fresh;
}

void ReplayGuard::forget_oldest() {
    auto oldest = by_time_.begin();
    ids_.erase(oldest->second);
    by_time_.erase(oldest);
}

TokenBucket::TokenBucket(double rate_per_second, double burst, time_point now)
    : rate_(std::max(rate_per_second, 0.0)),
      burst_(std::max(burst, 1.0)),
      tokens_(burst_),
      last_(now) {}

bool TokenBucket::try_take(time_point now) {
    if (now > last_) {
        const std::chrono::duration<double> elapsed = now - last_;
        tokens_ = std::min(burst_, tokens_ + elapsed.count() * rate_);
        last_ = now;
    }
    if (tokens_ < 1.0) return false;
    tokens_ -= 1.0;
    return true;
}

std::chrono::nanoseconds TokenBucket::wait(time_point now) const {
    double tokens = tokens_;
    if (now > last_) {
        const std::chrono::duration<double> elapsed = now - last_;
        tokens = std::min(burst_, tokens + elapsed.count() * rate_);
    }
    if (tokens >= 1.0) return std::chrono::nanoseconds{0};
    if (rate_ <= 0.0) return std::chrono::hours(1);
    return std::chrono::nanoseconds(static_cast<std::int64_t>((1.0 - tokens) / rate_ * 1e9) + 1);
}

}  // namespace nocturne::net
