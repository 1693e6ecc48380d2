// The transport's connection policy without sockets: duplicate sessions, the sender per peer,
// recycling at the cap and near the descriptor budget, idle expiry.

#include <nocturne/net/session_table.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>

namespace nocturne::net {
namespace {

using namespace std::chrono_literals;
using Role = SessionTable::Role;
using Phase = SessionTable::Phase;

NodeId id_of(std::uint8_t b) {
    NodeId id;
    id[0] = b;
    return id;
}

class SessionTableTest : public ::testing::Test {
protected:
    SessionTable::time_point t0 = SessionTable::time_point{} + 1h;
    constexpr static std::size_t unlimited = std::numeric_limits<std::size_t>::max();
};

TEST_F(SessionTableTest, TheFirstAuthenticatedSessionCarriesTheTraffic) {
    SessionTable table(id_of(0x50), 8);
    const auto a = table.add(Role::outbound, dial_key(id_of(0x10), "ws://x:1"), t0);
    EXPECT_EQ(table.dialing(id_of(0x10).to_hex()), a);
    EXPECT_FALSE(table.sender(id_of(0x10)));
    EXPECT_FALSE(table.authenticated(a, id_of(0x10), t0).has_value());
    EXPECT_EQ(table.sender(id_of(0x10)), a);
    EXPECT_FALSE(table.dialing(id_of(0x10).to_hex()));
    EXPECT_EQ(table.find(a)->dialer, id_of(0x50));
}

TEST_F(SessionTableTest, OfTwoDuplicatesBothEndsKeepTheOneDialedByTheLowerId) {
    // We are 0x50; the peer 0x10 is lower: its dial wins whichever authenticated first.
    SessionTable table(id_of(0x50), 8);
    const auto ours = table.add(Role::outbound, dial_key(id_of(0x10), ""), t0);
    const auto theirs = table.add(Role::inbound, "", t0);
    EXPECT_FALSE(table.authenticated(ours, id_of(0x10), t0));
    const auto d = table.authenticated(theirs, id_of(0x10), t0);
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(d->winner, theirs);
    EXPECT_EQ(d->loser, ours);
    EXPECT_EQ(table.sender(id_of(0x10)), theirs);
    EXPECT_EQ(table.find(ours)->phase, Phase::retiring);

    // Against a higher peer (0x90) our own dial wins, also when it authenticates second.
    const auto inbound = table.add(Role::inbound, "", t0);
    const auto outbound = table.add(Role::outbound, dial_key(id_of(0x90), ""), t0);
    EXPECT_FALSE(table.authenticated(inbound, id_of(0x90), t0));
    const auto d2 = table.authenticated(outbound, id_of(0x90), t0);
    ASSERT_TRUE(d2.has_value());
    EXPECT_EQ(d2->winner, outbound);
    EXPECT_EQ(d2->loser, inbound);

    // The older one wins when the lower id dialed it: the newer one retires at once.
    const auto lower_dialed = table.add(Role::inbound, "", t0);
    const auto we_dialed = table.add(Role::outbound, dial_key(id_of(0x20), ""), t0);
    EXPECT_FALSE(table.authenticated(lower_dialed, id_of(0x20), t0));
    const auto d3 = table.authenticated(we_dialed, id_of(0x20), t0);
    ASSERT_TRUE(d3.has_value());
    EXPECT_EQ(d3->winner, lower_dialed);
    EXPECT_EQ(d3->loser, we_dialed);
    EXPECT_EQ(table.sender(id_of(0x20)), lower_dialed);
}

TEST_F(SessionTableTest, WhenTheSenderClosesARetiringDuplicateTakesOver) {
    SessionTable table(id_of(0x50), 8);
    const auto a = table.add(Role::inbound, "", t0);
    const auto b = table.add(Role::inbound, "", t0);
    table.authenticated(a, id_of(0x10), t0);
    const auto d = table.authenticated(b, id_of(0x10), t0);  // same dialer: the newer wins
    ASSERT_TRUE(d);
    EXPECT_EQ(d->winner, b);
    EXPECT_EQ(table.closing(b), a);
    EXPECT_EQ(table.sender(id_of(0x10)), a);
    EXPECT_EQ(table.find(a)->phase, Phase::open);
    table.remove(b);
    table.remove(a);
    EXPECT_FALSE(table.sender(id_of(0x10)));
    EXPECT_EQ(table.size(), 0u);
    EXPECT_EQ(table.inbound(), 0u);
}

TEST_F(SessionTableTest, AtTheCapTheLeastRecentlyUsedIdleSessionMakesRoom) {
    SessionTable table(id_of(0x50), 3);
    std::vector<SessionId> ids;
    for (std::uint8_t i = 1; i <= 3; ++i) {
        ids.push_back(table.add(Role::outbound, dial_key(id_of(i), ""), t0));
        table.authenticated(ids.back(), id_of(i), t0 + std::chrono::seconds(i));
    }
    table.touch(ids[0], t0 + 10s);  // now the second is the least recently used
    const auto room = table.make_room(t0 + 11s, 0, unlimited);
    EXPECT_TRUE(room.allowed);
    EXPECT_EQ(room.recycle, ids[1]);
    EXPECT_FALSE(room.recycle_loses_reply);
    // Busy sessions (frames queued) are never closed for room.
    table.set_busy(ids[1], true);
    EXPECT_EQ(table.make_room(t0 + 11s, 0, unlimited).recycle, ids[2]);
}

TEST_F(SessionTableTest, ASessionAwaitingAReplyIsRecycledLast) {
    SessionTable table(id_of(0x50), 2);
    const auto a = table.add(Role::outbound, dial_key(id_of(1), ""), t0);
    const auto b = table.add(Role::outbound, dial_key(id_of(2), ""), t0);
    table.authenticated(a, id_of(1), t0);
    table.authenticated(b, id_of(2), t0 + 1s);
    table.note_request(a, t0 + 2s);  // a is older but awaits a reply
    EXPECT_EQ(table.make_room(t0 + 3s, 0, unlimited).recycle, b);
    table.note_request(b, t0 + 2s);
    const auto room = table.make_room(t0 + 3s, 0, unlimited);
    EXPECT_EQ(room.recycle, a);  // both await: the least recently used
    EXPECT_TRUE(room.recycle_loses_reply);
    // The reply horizon passed: an unanswered request no longer pins a session.
    table.note_reply(b);
    EXPECT_FALSE(table.make_room(t0 + 20s, 0, unlimited).recycle_loses_reply);
}

TEST_F(SessionTableTest, WhenEverySessionIsBusyTheHardLimitIsTwiceTheCap) {
    SessionTable table(id_of(0x50), 2);
    for (std::uint8_t i = 1; i <= 3; ++i) {
        const auto s = table.add(Role::outbound, dial_key(id_of(i), ""), t0);
        table.authenticated(s, id_of(i), t0);
        table.set_busy(s, true);
    }
    EXPECT_TRUE(table.make_room(t0, 0, unlimited).allowed);                     // 3 live < 4
    const auto fourth = table.add(Role::outbound, dial_key(id_of(4), ""), t0);  // handshaking
    (void)fourth;
    const auto room = table.make_room(t0, 0, unlimited);
    EXPECT_FALSE(room.allowed);
    EXPECT_FALSE(room.recycle);
}

TEST_F(SessionTableTest, NearTheDescriptorBudgetOnlySessionsNotAwaitingAReplyAreRecycled) {
    SessionTable table(id_of(0x50), 100);
    const auto a = table.add(Role::inbound, "", t0);
    table.authenticated(a, id_of(1), t0);
    EXPECT_FALSE(table.make_room(t0, 10, 100).recycle);  // under the budget: nothing
    EXPECT_EQ(table.make_room(t0, 100, 100).recycle, a);
    table.note_request(a, t0);
    const auto room = table.make_room(t0 + 1s, 100, 100);
    EXPECT_FALSE(room.recycle);  // below our own cap, an awaited reply is never sacrificed
    EXPECT_TRUE(room.allowed);
    EXPECT_EQ(socket_budget(std::nullopt), std::numeric_limits<std::size_t>::max());
    EXPECT_EQ(socket_budget(1024), 1024u - 128u);
    EXPECT_EQ(socket_budget(256), 256u - 64u);
    EXPECT_EQ(socket_budget(32), 0u);
}

TEST_F(SessionTableTest, OnlyIdleOpenSessionsExpire) {
    SessionTable table(id_of(0x50), 8);
    const auto handshaking = table.add(Role::inbound, "", t0);
    const auto idle = table.add(Role::inbound, "", t0);
    const auto busy = table.add(Role::inbound, "", t0);
    const auto recent = table.add(Role::inbound, "", t0);
    table.authenticated(idle, id_of(1), t0);
    table.authenticated(busy, id_of(2), t0);
    table.authenticated(recent, id_of(3), t0);
    table.set_busy(busy, true);
    table.touch(recent, t0 + 90s);
    const auto expired = table.idle_expired(t0 + 120s, 120s);
    EXPECT_EQ(expired, std::vector<SessionId>{idle});
    (void)handshaking;
}

}  // namespace
}  // namespace nocturne::net
