#include <nocturne/net/admission.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace nocturne::net {
namespace {

TEST(WsTransportAdmission, TokenBucketAllowsABurstThenTheRate) {
    using std::chrono::milliseconds;
    const auto t0 = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
    TokenBucket bucket(10, 5, t0);
    for (int i = 0; i < 5; ++i) EXPECT_TRUE(bucket.try_take(t0)) << i;
    EXPECT_FALSE(bucket.try_take(t0));
    EXPECT_FALSE(bucket.try_take(t0 + milliseconds(50)));  // half a token
    EXPECT_TRUE(bucket.try_take(t0 + milliseconds(100)));
    EXPECT_FALSE(bucket.try_take(t0 + milliseconds(100)));
    // A long pause refills to the burst, not beyond.
    const auto later = t0 + std::chrono::seconds(60);
    for (int i = 0; i < 5; ++i) EXPECT_TRUE(bucket.try_take(later)) << i;
    EXPECT_FALSE(bucket.try_take(later));
    // Time going backwards (it cannot with steady_clock, but) never mints tokens.
    EXPECT_FALSE(bucket.try_take(t0));
}

}  // namespace
}  // namespace nocturne::net
