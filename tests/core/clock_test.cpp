#include <nocturne/core/clock.hpp>

#include <gtest/gtest.h>

namespace nocturne {
namespace {

TEST(Clock, ManualClockMovesOnlyWhenTold) {
    ManualClock clock;
    const auto start = clock.now();
    EXPECT_EQ(clock.now(), start);
    clock.advance(std::chrono::seconds(90));
    EXPECT_EQ(clock.now() - start, std::chrono::seconds(90));
    EXPECT_EQ(clock.unix_seconds(), 1'700'000'090);
}

TEST(Clock, SystemClockIsWallTime) {
    SystemClock clock;
    const auto wall = std::chrono::system_clock::now();
    EXPECT_LT(std::chrono::abs(clock.now() - std::chrono::time_point_cast<Clock::duration>(wall)),
              std::chrono::seconds(5));
    EXPECT_GT(clock.unix_seconds(), 1'700'000'000);
}

}  // namespace
}  // namespace nocturne
