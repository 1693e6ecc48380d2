#pragma once

#include <nocturne/core/token_bucket.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

// Per-session checks an authenticated message passes before it reaches the node: freshness and
// de-duplication (ReplayGuard) and an inbound rate limit (TokenBucket). Pure, clock passed in.
namespace nocturne::net {

// Rejects messages whose timestamp is more than max_skew seconds away from now, and message ids
// already seen. Ids are remembered until their timestamp is 2 * max_skew old: past max_skew they
// would be rejected as stale anyway, and the extra margin covers the local clock stepping back.
// The memory is capped; at the cap the oldest id is forgotten first. Within one authenticated
// session a replay can only come from the peer itself (or from an on-path attacker of a plain
// ws:// stream), so the cap bounds memory rather than guaranteeing exactly-once delivery.
//
// Owned by its session, on the io_context thread; not thread-safe.
class ReplayGuard {
public:
    enum class Verdict { fresh, stale, duplicate };

    explicit ReplayGuard(std::int64_t max_skew_seconds, std::size_t capacity = 4096);

    // Records id when the verdict is fresh.
    Verdict check(std::string_view id, std::int64_t timestamp, std::int64_t now);
    std::size_t size() const noexcept { return ids_.size(); }

private:
    void forget_oldest();

    std::int64_t max_skew_;
    std::size_t capacity_;
    std::unordered_map<std::string, std::int64_t> ids_;       // id -> timestamp
    std::set<std::pair<std::int64_t, std::string>> by_time_;  // eviction order
};

// The transport's token buckets run on the monotonic clock: rate limiting must not jump with
// wall-clock corrections.
using TokenBucket = BasicTokenBucket<std::chrono::steady_clock::time_point>;

}  // namespace nocturne::net
