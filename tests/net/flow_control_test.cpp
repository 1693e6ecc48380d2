#include <nocturne/net/flow_control.hpp>

#include <gtest/gtest.h>

namespace nocturne::net {
namespace {

using namespace std::chrono_literals;
using Inbound = FlowControl::Inbound;
using time_point = FlowControl::time_point;

const time_point t0 = time_point{} + 1000s;

FlowControl::Options options() {
    FlowControl::Options o;
    o.rate_per_second = 100;
    o.burst = 20;
    o.pace_fraction = 0.5;
    o.replies_per_second = 3;
    return o;
}

TEST(FlowControl, AFrameOverTheBucketIsRefusedAndTheSenderToldWhenToComeBack) {
    FlowControl flow(options(), t0);
    for (int i = 0; i < 20; ++i) ASSERT_EQ(flow.on_inbound(t0), Inbound::accept) << i;
    EXPECT_EQ(flow.on_inbound(t0), Inbound::refuse_and_tell);
    // Enough for a tenth of the burst to come back: 2 tokens at 100/s, plus the one missing.
    EXPECT_GE(flow.retry_after(t0), 20ms);
    EXPECT_LE(flow.retry_after(t0), 40ms);
    // The answers have a budget of their own; past it, refusals go unanswered.
    EXPECT_EQ(flow.on_inbound(t0), Inbound::refuse_and_tell);
    EXPECT_EQ(flow.on_inbound(t0), Inbound::refuse_and_tell);
    EXPECT_EQ(flow.on_inbound(t0), Inbound::refuse);
    // A sender that waits as told is served again, and owes nothing.
    EXPECT_EQ(flow.on_inbound(t0 + flow.retry_after(t0)), Inbound::accept);
}

TEST(FlowControl, OnlyAPeerThatKeepsSendingPastAWholeBurstOfRefusalsIsAViolator) {
    FlowControl flow(options(), t0);
    for (int i = 0; i < 20; ++i) ASSERT_EQ(flow.on_inbound(t0), Inbound::accept);
    for (int i = 0; i < 20; ++i) EXPECT_NE(flow.on_inbound(t0), Inbound::violation) << i;
    EXPECT_EQ(flow.on_inbound(t0), Inbound::violation);
    // An accepted frame ends the run of refusals.
    EXPECT_EQ(flow.on_inbound(t0 + 1s), Inbound::accept);
    EXPECT_NE(flow.on_inbound(t0 + 1s), Inbound::violation);
}

TEST(FlowControl, WhatWeSendIsPacedBelowThePeersRateAndPausedWhenItSaysSo) {
    FlowControl flow(options(), t0);
    // pace 0.5: 50/s after a burst of 5.
    int sent = 0;
    while (flow.outbound_delay(t0) == FlowControl::duration{0}) {
        flow.on_sent(t0);
        ++sent;
    }
    EXPECT_EQ(sent, 5);
    EXPECT_GT(flow.outbound_delay(t0), 19ms);
    EXPECT_LE(flow.outbound_delay(t0), 21ms);
    EXPECT_EQ(flow.outbound_delay(t0 + 20ms), FlowControl::duration{0});
    // Over one second, never more than the burst plus the paced rate.
    int in_a_second = 0;
    for (auto t = t0; t < t0 + 1s; t += 1ms) {
        while (flow.outbound_delay(t) == FlowControl::duration{0}) {
            flow.on_sent(t);
            ++in_a_second;
        }
    }
    EXPECT_LE(in_a_second, 5 + 50 + 1);
    // "Slow down for 300 ms".
    const auto later = t0 + 5s;
    flow.on_slow_down(later, 300ms);
    EXPECT_EQ(flow.outbound_delay(later), FlowControl::duration{300ms});
    EXPECT_EQ(flow.outbound_delay(later + 300ms), FlowControl::duration{0});
}

}  // namespace
}  // namespace nocturne::net
