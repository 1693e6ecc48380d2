#pragma once

#include <nocturne/core/token_bucket.hpp>

#include <chrono>

// The per-session inbound rate limit. (Freshness and de-duplication need no state of their own:
// the session's channel refuses any frame that is not the peer's next one, crypto/channel.hpp.)
namespace nocturne::net {

// The transport's token buckets run on the monotonic clock: rate limiting must not jump with
// wall-clock corrections.
using TokenBucket = BasicTokenBucket<std::chrono::steady_clock::time_point>;

}  // namespace nocturne::net
