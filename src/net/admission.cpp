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

}  // namespace nocturne::net
