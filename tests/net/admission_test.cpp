#include <nocturne/net/admission.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace nocturne::net {
namespace {

using Verdict = ReplayGuard::Verdict;
constexpr std::int64_t now = 1'700'000'000;

std::string id(int n) {
    std::string out = std::to_string(n);
    return std::string(32 - out.size(), '0') + out;
}

TEST(WsTransportAdmission, ReplayGuardRejectsStaleAndDuplicateMessages) {
    ReplayGuard guard(300);
    EXPECT_EQ(guard.check(id(1), now, now), Verdict::fresh);
    EXPECT_EQ(guard.check(id(1), now, now), Verdict::duplicate);
    EXPECT_EQ(guard.check(id(1), now + 10, now), Verdict::duplicate);  // same id, new timestamp
    EXPECT_EQ(guard.check(id(2), now - 300, now), Verdict::fresh);     // window is inclusive
    EXPECT_EQ(guard.check(id(3), now + 300, now), Verdict::fresh);
    EXPECT_EQ(guard.check(id(4), now - 301, now), Verdict::stale);
    EXPECT_EQ(guard.check(id(5), now + 301, now), Verdict::stale);
    EXPECT_EQ(guard.check(id(6), 0, now), Verdict::stale);
    EXPECT_EQ(guard.check(id(7), INT64_MAX, now), Verdict::stale);
    EXPECT_EQ(guard.size(), 3u);  // stale messages are not remembered
}

TEST(WsTransportAdmission, ReplayGuardForgetsIdsTwiceTheSkewOld) {
    ReplayGuard guard(300);
    EXPECT_EQ(guard.check(id(1), now, now), Verdict::fresh);
    // Still remembered while a replay could pass the timestamp check, and a skew beyond that.
    EXPECT_EQ(guard.check(id(1), now, now + 300), Verdict::duplicate);
    EXPECT_EQ(guard.check(id(2), now + 600, now + 600), Verdict::fresh);
    EXPECT_EQ(guard.size(), 2u);
    EXPECT_EQ(guard.check(id(3), now + 601, now + 601), Verdict::fresh);
    EXPECT_EQ(guard.size(), 2u);  // id(1) is now 601 s old
}

TEST(WsTransportAdmission, ReplayGuardCapacityForgetsTheOldestFirst) {
    ReplayGuard guard(300, 3);
    EXPECT_EQ(guard.check(id(1), now - 5, now), Verdict::fresh);
    EXPECT_EQ(guard.check(id(2), now - 9, now), Verdict::fresh);  // oldest timestamp
    EXPECT_EQ(guard.check(id(3), now - 1, now), Verdict::fresh);
    EXPECT_EQ(guard.check(id(4), now, now), Verdict::fresh);
    EXPECT_EQ(guard.size(), 3u);
    EXPECT_EQ(guard.check(id(1), now - 5, now), Verdict::duplicate);
    EXPECT_EQ(guard.check(id(3), now - 1, now), Verdict::duplicate);
    EXPECT_EQ(guard.check(id(2), now - 9, now), Verdict::fresh);  // forgotten at the cap
}

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
