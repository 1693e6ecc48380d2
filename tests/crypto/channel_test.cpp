#include <nocturne/crypto/channel.hpp>

#include <gtest/gtest.h>

namespace nocturne::crypto {
namespace {

// Both ends of one session's channel, as the handshake leaves them.
struct Pair {
    Pair() {
        auto dialer_key = EphemeralKey::generate();
        auto acceptor_key = EphemeralKey::generate();
        auto d = ChannelKeys::derive(true, dialer_key, acceptor_key.public_key());
        auto a = ChannelKeys::derive(false, acceptor_key, dialer_key.public_key());
        EXPECT_TRUE(d.has_value() && a.has_value());
        dialer_out.emplace(*d);
        acceptor_out.emplace(*a);
        acceptor_in.emplace(*a, dialer_out->header());
        dialer_in.emplace(*d, acceptor_out->header());
    }
    std::optional<ChannelSender> dialer_out, acceptor_out;
    std::optional<ChannelReceiver> dialer_in, acceptor_in;
};

TEST(Channel, BothDirectionsCarryMessagesInOrderAndHideThem) {
    Pair p;
    for (const std::string& msg :
         std::vector<std::string>{"{\"type\":\"PING\"}", "", std::string(100000, 'x')}) {
        const auto frame = p.dialer_out->seal(msg);
        EXPECT_EQ(frame.size(), msg.size() + ChannelSender::overhead);
        if (!msg.empty()) {
            EXPECT_EQ(frame.find(msg), std::string::npos);
        }
        EXPECT_EQ(p.acceptor_in->open(frame).value(), msg);
        EXPECT_EQ(p.dialer_in->open(p.acceptor_out->seal(msg)).value(), msg);
    }
    // The same message twice is two different frames (the stream's counter moves on).
    EXPECT_NE(p.dialer_out->seal("same"), p.dialer_out->seal("same"));
}

TEST(Channel, AnAlteredFrameIsRefusedAndTheStreamIsDoneAfterwards) {
    Pair p;
    auto frame = p.dialer_out->seal("hello");
    frame[frame.size() / 2] ^= 0x01;
    EXPECT_EQ(p.acceptor_in->open(frame).error(), errc::bad_channel_frame);
    // Even the genuine next frame: a session whose stream failed once is closed.
    EXPECT_EQ(p.acceptor_in->open(p.dialer_out->seal("next")).error(), errc::bad_channel_frame);
}

TEST(Channel, AReplayedFrameIsRefused) {
    Pair p;
    const auto frame = p.dialer_out->seal("once");
    ASSERT_TRUE(p.acceptor_in->open(frame).has_value());
    EXPECT_EQ(p.acceptor_in->open(frame).error(), errc::bad_channel_frame);
}

TEST(Channel, AReorderedOrDroppedFrameIsRefused) {
    Pair p;
    const auto first = p.dialer_out->seal("first");
    const auto second = p.dialer_out->seal("second");
    EXPECT_EQ(p.acceptor_in->open(second).error(), errc::bad_channel_frame);
    (void)first;
}

TEST(Channel, ATruncatedFrameIsRefused) {
    Pair p;
    const auto frame = p.dialer_out->seal("a message cut short");
    EXPECT_EQ(p.acceptor_in->open(frame.substr(0, frame.size() - 1)).error(),
              errc::bad_channel_frame);
    Pair q;
    EXPECT_EQ(q.acceptor_in->open(q.dialer_out->seal("x").substr(0, 10)).error(),
              errc::bad_channel_frame);
}

TEST(Channel, AFrameOfAnotherSessionOrDirectionIsRefused) {
    Pair p, q;
    EXPECT_EQ(p.acceptor_in->open(q.dialer_out->seal("other session")).error(),
              errc::bad_channel_frame);
    // A frame reflected back at its sender: the directions have different keys.
    EXPECT_EQ(p.dialer_in->open(p.dialer_out->seal("reflected")).error(), errc::bad_channel_frame);
}

TEST(Channel, AWrongKeyGivesKeysThatOpenNothing) {
    auto dialer_key = EphemeralKey::generate();
    auto acceptor_key = EphemeralKey::generate();
    auto stranger = EphemeralKey::generate();
    auto d = ChannelKeys::derive(true, dialer_key, acceptor_key.public_key()).value();
    // The acceptor believes it talks to someone else's key (a substituted HELLO).
    auto a = ChannelKeys::derive(false, acceptor_key, stranger.public_key()).value();
    ChannelSender out(d);
    ChannelReceiver in(a, out.header());
    EXPECT_EQ(in.open(out.seal("hi")).error(), errc::bad_channel_frame);
}

TEST(Channel, ALowOrderPeerKeyIsRefused) {
    auto ours = EphemeralKey::generate();
    const KxPublicKey zero{};
    EXPECT_EQ(ChannelKeys::derive(true, ours, zero).error(), errc::bad_key_exchange);
}

}  // namespace
}  // namespace nocturne::crypto
