#include <nocturne/core/clock.hpp>
#include <nocturne/crypto/keys.hpp>
#include <nocturne/crypto/random.hpp>
#include <nocturne/net/ws_transport.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <sys/resource.h>
#include <vector>

#include "support/net_ws_client.hpp"

namespace nocturne::net {
namespace {

using namespace std::chrono_literals;
using test::RawWsClient;
using error_code = boost::system::error_code;

Clock::time_point wall_now() {
    return std::chrono::time_point_cast<Clock::duration>(std::chrono::system_clock::now());
}

dht::Message ping(std::string id = crypto::random_hex_id()) {
    return dht::Message{std::move(id), wire::Ping{}};
}

struct RecordingSink final : dht::MessageSink {
    void on_message(dht::InboundMessage msg) override {
        messages.push_back(std::move(msg));
        if (on_receive) on_receive(messages.back());
    }

    std::vector<dht::InboundMessage> messages;
    std::function<void(const dht::InboundMessage&)> on_receive;
};

// A transport listening on 127.0.0.1:0 with its own key and a recording sink.
struct Node {
    Node(boost::asio::io_context& io, const Clock& clock, WsTransportConfig config = {})
        : transport(io, keys, clock, std::move(config)) {
        transport.set_sink(&sink);
        EXPECT_FALSE(transport.listen());
    }

    NodeId id() const { return keys.node_id(); }
    wire::Contact contact() const { return {keys.node_id(), transport.address()}; }
    const WsTransport::Stats& stats() const { return transport.stats(); }

    crypto::KeyPair keys = crypto::KeyPair::generate();
    RecordingSink sink;
    WsTransport transport;
};

WsTransportConfig unlimited_rate() {
    WsTransportConfig config;
    config.rate_per_second = 1e6;
    config.rate_burst = 1e6;
    return config;
}

WsTransportConfig max_live(std::size_t sessions) {
    WsTransportConfig config;
    config.max_live_sessions = sessions;
    return config;
}

// Listens on 127.0.0.1 but never accepts: the kernel completes TCP connects into the backlog and
// the WebSocket upgrade is never answered, so a dial stays handshaking until handshake_timeout.
struct SilentListener {
    explicit SilentListener(boost::asio::io_context& io)
        : acceptor(io, {boost::asio::ip::make_address("127.0.0.1"), std::uint16_t{0}}) {}
    wire::Contact contact() const {
        return {crypto::KeyPair::generate().node_id(),
                "ws://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port())};
    }
    boost::asio::ip::tcp::acceptor acceptor;
};

class WsTransportTest : public ::testing::Test {
protected:
    template <class Pred>
    bool run_until(Pred pred, std::chrono::milliseconds timeout = 10s) {
        return test::run_until(io_, pred, timeout);
    }

    template <class T>
    T run(boost::asio::awaitable<T> task) {
        auto result = test::run_task(io_, std::move(task));
        EXPECT_TRUE(result.has_value()) << "task did not finish in time";
        return result ? std::move(*result) : T{};
    }

    // Sends one ping from `from` to `to` and runs until it arrives.
    bool deliver(Node& from, Node& to) {
        const std::size_t before = to.sink.messages.size();
        from.transport.send(to.contact(), ping());
        return run_until([&] { return to.sink.messages.size() == before + 1; });
    }

    // Makes n answer every ping with a pong, as a DHT node does.
    static void answer_pings(Node& n) {
        n.sink.on_receive = [&n](const dht::InboundMessage& m) {
            if (std::holds_alternative<wire::Ping>(m.payload)) {
                n.transport.send(m.from, dht::Message{crypto::random_hex_id(), wire::Pong{m.id}});
            }
        };
    }

    // Pings `to` (which answers, see answer_pings) and runs until the pong is back.
    bool round_trip(Node& from, Node& to) {
        const std::string id = crypto::random_hex_id();
        from.transport.send(to.contact(), ping(id));
        return run_until([&] {
            return std::any_of(from.sink.messages.begin(), from.sink.messages.end(), [&](auto& m) {
                const auto* pong = std::get_if<wire::Pong>(&m.payload);
                return pong != nullptr && pong->in_reply_to == id;
            });
        });
    }

    // Reads until the server ends the connection; returns how it ended.
    error_code read_until_closed(RawWsClient& client) {
        for (int i = 0; i < 5; ++i) {
            auto [ec, text] = run(client.read());
            if (ec) return ec;
        }
        return {};
    }

    // Owned by the fixture so close_and_drain() can destroy them first: a Beast stream whose
    // upgrade failed keeps its handshake timer armed until the stream goes away.
    RawWsClient& new_client() { return *clients_.emplace_back(std::make_unique<RawWsClient>(io_)); }

    // close() everything, then io_context must run out of work by itself: no session, timer or
    // accept may be left behind (and ASan checks that nothing leaks).
    void close_and_drain(std::initializer_list<Node*> nodes) {
        clients_.clear();
        for (Node* n : nodes) n->transport.close();
        const auto start = std::chrono::steady_clock::now();
        io_.restart();
        io_.run_for(10s);
        EXPECT_TRUE(io_.stopped()) << "io_context still has work after close()";
        EXPECT_LT(std::chrono::steady_clock::now() - start, 4s);
        for (Node* n : nodes) EXPECT_EQ(n->transport.session_count(), 0u);
    }

    boost::asio::io_context io_;
    ManualClock clock_{wall_now()};
    std::vector<std::unique_ptr<RawWsClient>> clients_;
};

TEST_F(WsTransportTest, PingArrivesAndPongReturnsOnTheSameSession) {
    Node a(io_, clock_);
    Node b(io_, clock_);
    const std::string ping_id = crypto::random_hex_id();
    const std::string pong_id = crypto::random_hex_id();
    b.sink.on_receive = [&](const dht::InboundMessage& m) {
        b.transport.send(m.from, dht::Message{pong_id, wire::Pong{m.id}});
    };

    a.transport.send(b.contact(), ping(ping_id));
    ASSERT_TRUE(run_until([&] { return a.sink.messages.size() == 1; }));

    ASSERT_EQ(b.sink.messages.size(), 1u);
    const auto& request = b.sink.messages[0];
    EXPECT_EQ(request.from.id, a.id());
    EXPECT_EQ(request.from.address, a.transport.address());
    EXPECT_EQ(request.id, ping_id);
    EXPECT_TRUE(std::holds_alternative<wire::Ping>(request.payload));

    const auto& reply = a.sink.messages[0];
    EXPECT_EQ(reply.from.id, b.id());
    EXPECT_EQ(reply.from.address, b.transport.address());
    EXPECT_EQ(reply.id, pong_id);
    ASSERT_TRUE(std::holds_alternative<wire::Pong>(reply.payload));
    EXPECT_EQ(std::get<wire::Pong>(reply.payload).in_reply_to, ping_id);

    // One connection carried both directions.
    EXPECT_EQ(a.stats().sessions_opened, 1u);
    EXPECT_EQ(b.stats().sessions_opened, 1u);
    EXPECT_EQ(a.transport.session_count(), 1u);
    EXPECT_EQ(b.transport.session_count(), 1u);
    EXPECT_EQ(a.stats().messages_out, 1u);
    EXPECT_EQ(b.stats().messages_out, 1u);
    EXPECT_EQ(a.stats().messages_in, 1u);
    EXPECT_EQ(b.stats().messages_in, 1u);
    close_and_drain({&a, &b});
}

TEST_F(WsTransportTest, ManyMessagesBothWaysArriveInOrder) {
    Node a(io_, clock_, unlimited_rate());
    Node b(io_, clock_, unlimited_rate());
    a.transport.send(b.contact(), ping());
    ASSERT_TRUE(run_until([&] { return b.sink.messages.size() == 1; }));

    constexpr std::size_t count = 500;
    std::vector<std::string> a_ids, b_ids;
    for (std::size_t i = 0; i < count; ++i) {
        a_ids.push_back(crypto::random_hex_id());
        b_ids.push_back(crypto::random_hex_id());
        a.transport.send(b.contact(), ping(a_ids.back()));
        b.transport.send(a.contact(), ping(b_ids.back()));
    }
    ASSERT_TRUE(run_until(
        [&] { return b.sink.messages.size() == count + 1 && a.sink.messages.size() == count; }));
    for (std::size_t i = 0; i < count; ++i) {
        EXPECT_EQ(b.sink.messages[i + 1].id, a_ids[i]);
        EXPECT_EQ(a.sink.messages[i].id, b_ids[i]);
    }
    EXPECT_EQ(a.stats().sessions_opened, 1u);
    EXPECT_EQ(b.stats().sessions_opened, 1u);
    EXPECT_EQ(a.stats().messages_dropped + b.stats().messages_dropped, 0u);
    close_and_drain({&a, &b});
}

// Both nodes dial each other at once. Both ends keep the connection dialed by the lower node id
// and close the other after the grace period (handshake_timeout); nothing is lost or duplicated.
TEST_F(WsTransportTest, SimultaneousDialsSettleOnOneSessionWithoutLoss) {
    WsTransportConfig config;
    config.handshake_timeout = 1s;
    Node a(io_, clock_, config);
    Node b(io_, clock_, config);
    std::set<std::string> a_ids, b_ids;
    for (int i = 0; i < 50; ++i) {
        a_ids.insert(crypto::random_hex_id());
        b_ids.insert(crypto::random_hex_id());
    }
    for (const auto& id : a_ids) a.transport.send(b.contact(), ping(id));
    for (const auto& id : b_ids) b.transport.send(a.contact(), ping(id));

    ASSERT_TRUE(run_until([&] {
        return b.sink.messages.size() >= a_ids.size() && a.sink.messages.size() >= b_ids.size() &&
               a.transport.session_count() == 1 && b.transport.session_count() == 1;
    }));
    EXPECT_EQ(a.stats().sessions_opened, 2u);
    EXPECT_EQ(b.stats().sessions_opened, 2u);
    std::set<std::string> got_by_b, got_by_a;
    for (const auto& m : b.sink.messages) got_by_b.insert(m.id);
    for (const auto& m : a.sink.messages) got_by_a.insert(m.id);
    EXPECT_EQ(got_by_b, a_ids);
    EXPECT_EQ(got_by_a, b_ids);
    EXPECT_EQ(b.sink.messages.size(), a_ids.size());
    EXPECT_EQ(a.sink.messages.size(), b_ids.size());
    EXPECT_EQ(a.stats().messages_dropped + b.stats().messages_dropped, 0u);

    // Both ends kept the same connection: it still works and nobody redials.
    a.transport.send(b.contact(), ping());
    b.transport.send(a.contact(), ping());
    ASSERT_TRUE(run_until([&] {
        return b.sink.messages.size() == a_ids.size() + 1 &&
               a.sink.messages.size() == b_ids.size() + 1;
    }));
    EXPECT_EQ(a.stats().sessions_opened, 2u);
    EXPECT_EQ(b.stats().sessions_opened, 2u);
    EXPECT_EQ(a.transport.session_count(), 1u);
    close_and_drain({&a, &b});
}

TEST_F(WsTransportTest, WrongExpectedNodeIdFailsTheHandshake) {
    Node a(io_, clock_);
    Node b(io_, clock_);
    const NodeId wrong = crypto::KeyPair::generate().node_id();
    a.transport.send({wrong, b.transport.address()}, ping());
    ASSERT_TRUE(run_until([&] {
        return a.stats().handshakes_failed == 1 && a.transport.session_count() == 0 &&
               b.transport.session_count() == 0;
    }));
    EXPECT_EQ(a.stats().sessions_opened, 0u);
    EXPECT_EQ(a.stats().messages_dropped, 1u);
    EXPECT_EQ(a.stats().messages_out, 0u);
    EXPECT_TRUE(b.sink.messages.empty());
    close_and_drain({&a, &b});
}

// Bootstrap contacts carry only an address (zero id): whoever answers there is accepted, and
// the session is then found under the id it proved.
TEST_F(WsTransportTest, ZeroIdDialsAcceptWhoeverAnswers) {
    Node a(io_, clock_);
    Node b(io_, clock_);
    Node c(io_, clock_);
    a.transport.send({NodeId{}, b.transport.address()}, ping());
    a.transport.send({NodeId{}, c.transport.address()}, ping());  // a separate dial
    ASSERT_TRUE(
        run_until([&] { return b.sink.messages.size() == 1 && c.sink.messages.size() == 1; }));
    EXPECT_EQ(b.sink.messages[0].from.id, a.id());
    EXPECT_EQ(a.stats().sessions_opened, 2u);

    a.transport.send(b.contact(), ping());  // reuses the session bound to b's id
    ASSERT_TRUE(run_until([&] { return b.sink.messages.size() == 2; }));
    EXPECT_EQ(a.stats().sessions_opened, 2u);
    EXPECT_EQ(a.transport.session_count(), 2u);
    close_and_drain({&a, &b, &c});
}

TEST_F(WsTransportTest, JunkBeforeTheHandshakeIsRefused) {
    Node b(io_, clock_);
    RawWsClient& client = new_client();
    ASSERT_FALSE(run(client.connect(b.transport.port())));
    EXPECT_FALSE(run(client.write("GET /admin HTTP/1.1")));
    EXPECT_EQ(read_until_closed(client), test::websocket::error::closed);
    ASSERT_TRUE(run_until([&] { return b.stats().handshakes_failed == 1; }));
    EXPECT_EQ(b.stats().sessions_opened, 0u);
    EXPECT_TRUE(b.sink.messages.empty());
    EXPECT_TRUE(run_until([&] { return b.transport.session_count() == 0; }));
    close_and_drain({&b});
}

TEST_F(WsTransportTest, HandshakeMustFinishInTime) {
    WsTransportConfig config;
    config.handshake_timeout = 1s;
    Node b(io_, clock_, config);
    RawWsClient& client = new_client();
    ASSERT_FALSE(run(client.connect(b.transport.port())));  // upgrades, then never says HELLO
    ASSERT_TRUE(run_until([&] { return b.stats().handshakes_failed == 1; }, 5s));
    EXPECT_EQ(b.transport.session_count(), 0u);
    close_and_drain({&b});
}

TEST_F(WsTransportTest, InvalidMessagesAreCountedAndRepeatOffendersDisconnected) {
    WsTransportConfig config;
    config.max_violations = 4;
    Node b(io_, clock_, config);
    const auto client_keys = crypto::KeyPair::generate();
    RawWsClient& client = new_client();
    ASSERT_FALSE(run(client.connect(b.transport.port())));
    ASSERT_FALSE(run(client.handshake(client_keys)));
    EXPECT_EQ(client.server_id(), b.id());
    ASSERT_TRUE(run_until([&] { return b.stats().sessions_opened == 1; }));

    // Each properly sealed in the channel: what is wrong is the message inside.
    const auto send = [&](const std::string& message, auto done) {
        EXPECT_FALSE(run(client.send(message)));
        EXPECT_TRUE(run_until(done)) << "message: " << message.substr(0, 60);
    };
    const auto& stats = b.stats();

    send(RawWsClient::message(), [&] { return stats.messages_in == 1; });
    ASSERT_EQ(b.sink.messages.size(), 1u);
    // Who sent it is who the handshake proved.
    EXPECT_EQ(b.sink.messages[0].from.id, client_keys.node_id());
    EXPECT_EQ(b.sink.messages[0].from.address, "");

    send("this is not json", [&] { return stats.rejected_invalid == 1; });
    // The previous protocol's signed frame, sealed: not a message of this one.
    send(R"({"pk":"00","body":"{}","sig":"00"})", [&] { return stats.rejected_invalid == 2; });
    auto claims = nlohmann::json::parse(RawWsClient::message());
    claims["sender"]["node_id"] = crypto::KeyPair::generate().node_id().to_hex();
    send(claims.dump(), [&] { return stats.rejected_invalid == 3; });
    EXPECT_EQ(stats.disconnects_for_violations, 0u);
    EXPECT_EQ(b.transport.session_count(), 1u);

    // The fourth violation closes the session.
    send(R"({"v":2,"type":"SHOUT"})", [&] { return stats.rejected_invalid == 4; });
    EXPECT_EQ(read_until_closed(client), test::websocket::error::closed);
    EXPECT_EQ(stats.disconnects_for_violations, 1u);
    EXPECT_EQ(stats.messages_in, 1u);
    EXPECT_EQ(b.sink.messages.size(), 1u);
    ASSERT_TRUE(run_until([&] { return b.transport.session_count() == 0; }));

    // The node still serves everyone else.
    Node a(io_, clock_);
    a.transport.send(b.contact(), ping());
    ASSERT_TRUE(run_until([&] { return b.sink.messages.size() == 2; }));
    EXPECT_EQ(b.sink.messages[1].from.id, a.id());
    close_and_drain({&a, &b});
}

// The channel (crypto/channel.hpp) on a live session: each way of breaking the stream closes the
// session at once, delivers nothing of the bad frame, and leaves the node serving others.
TEST_F(WsTransportTest, TamperedReplayedReorderedAndTruncatedFramesCloseTheSession) {
    Node b(io_, clock_);
    const auto& stats = b.stats();
    std::size_t delivered = 0;
    std::uint64_t failures = 0;
    const auto attack = [&](const char* what, auto misbehave) {
        SCOPED_TRACE(what);
        RawWsClient& client = new_client();
        ASSERT_FALSE(run(client.connect(b.transport.port())));
        ASSERT_FALSE(run(client.handshake(crypto::KeyPair::generate())));
        // One good message first: the session works until the attack.
        ASSERT_FALSE(run(client.send(RawWsClient::message())));
        ASSERT_TRUE(run_until([&] { return b.sink.messages.size() == delivered + 1; }));
        ++delivered;
        misbehave(client);
        EXPECT_EQ(read_until_closed(client), test::websocket::error::closed);
        EXPECT_TRUE(run_until([&] { return stats.channel_failures == failures + 1; }));
        ++failures;
        EXPECT_EQ(b.sink.messages.size(), delivered) << "nothing of the bad frame is delivered";
        ASSERT_TRUE(run_until([&] { return b.transport.session_count() == 0; }));
    };
    attack("tampered", [&](RawWsClient& c) {
        auto frame = c.seal(RawWsClient::message());
        frame[frame.size() / 2] ^= 0x20;
        run(c.write(frame));
    });
    attack("replayed", [&](RawWsClient& c) {
        const auto frame = c.seal(RawWsClient::message());
        run(c.write(frame));
        ASSERT_TRUE(run_until([&] { return b.sink.messages.size() == delivered + 1; }));
        ++delivered;
        run(c.write(frame));
    });
    attack("reordered", [&](RawWsClient& c) {
        const auto first = c.seal(RawWsClient::message());
        const auto second = c.seal(RawWsClient::message());
        run(c.write(second));
        (void)first;
    });
    attack("truncated", [&](RawWsClient& c) {
        const auto frame = c.seal(RawWsClient::message());
        run(c.write(frame.substr(0, frame.size() - 1)));
    });
    attack("unsealed", [&](RawWsClient& c) { run(c.write(RawWsClient::message())); });
    attack("a text frame, as the handshake's", [&](RawWsClient& c) {
        c.stream().text(true);
        run(c.write(RawWsClient::message()));
    });
    EXPECT_EQ(stats.messages_in, delivered);

    // The node still serves everyone else.
    Node a(io_, clock_);
    EXPECT_TRUE(deliver(a, b));
    close_and_drain({&a, &b});
}

TEST_F(WsTransportTest, AHandshakeWithTheWrongKeyExchangeKeyFails) {
    Node b(io_, clock_);
    RawWsClient& client = new_client();
    ASSERT_FALSE(run(client.connect(b.transport.port())));
    const bool wrong_peer_kx = true;
    run(client.handshake(crypto::KeyPair::generate(), "", "", wrong_peer_kx));
    ASSERT_TRUE(run_until([&] { return b.stats().handshakes_failed == 1; }));
    EXPECT_EQ(b.stats().sessions_opened, 0u);
    EXPECT_EQ(b.transport.session_count(), 0u);
    close_and_drain({&b});
}

TEST_F(WsTransportTest, OversizeFrameClosesOnlyThatSession) {
    WsTransportConfig config;
    config.limits.max_frame_bytes = 4096;
    Node a(io_, clock_);
    Node b(io_, clock_, config);
    a.transport.send(b.contact(), ping());
    ASSERT_TRUE(run_until([&] { return b.sink.messages.size() == 1; }));

    const auto client_keys = crypto::KeyPair::generate();
    RawWsClient& client = new_client();
    ASSERT_FALSE(run(client.connect(b.transport.port())));
    ASSERT_FALSE(run(client.handshake(client_keys)));
    run(client.send(std::string(5000, 'x')));
    EXPECT_TRUE(read_until_closed(client));
    ASSERT_TRUE(run_until([&] { return b.stats().rejected_oversize == 1; }));
    ASSERT_TRUE(run_until([&] { return b.transport.session_count() == 1; }));

    // a's session was not disturbed.
    a.transport.send(b.contact(), ping());
    ASSERT_TRUE(run_until([&] { return b.sink.messages.size() == 2; }));
    EXPECT_EQ(a.stats().sessions_opened, 1u);
    close_and_drain({&a, &b});
}

TEST_F(WsTransportTest, APeerOverTheRateIsToldToSlowDownAndOnlyOneThatIgnoresItIsCutOff) {
    WsTransportConfig config;
    config.rate_per_second = 50;
    config.rate_burst = 20;
    Node b(io_, clock_, config);
    const auto client_keys = crypto::KeyPair::generate();
    RawWsClient& client = new_client();
    ASSERT_FALSE(run(client.connect(b.transport.port())));
    ASSERT_FALSE(run(client.handshake(client_keys)));
    // n PINGs written back to back, in one go.
    const auto send_pings = [&](int n) {
        std::vector<std::string> ids, frames;
        for (int i = 0; i < n; ++i) {
            ids.push_back(crypto::random_hex_id());
            frames.push_back(client.seal(RawWsClient::message(ids.back())));
        }
        const auto blast = [&]() -> boost::asio::awaitable<error_code> {
            for (auto& frame : frames)
                if (auto ec = co_await client.write(std::move(frame))) co_return ec;
            co_return error_code{};
        };
        EXPECT_FALSE(run(blast()));
        return ids;
    };
    // 30 at once: about the burst of 20 passes, each of the others is answered "slow down".
    const auto ids = send_pings(30);
    const std::set<std::string> sent(ids.begin(), ids.end());
    ASSERT_TRUE(run_until([&] { return b.stats().messages_in + b.stats().rejected_rate == 30; }));
    const auto refused = b.stats().rejected_rate;
    EXPECT_GE(refused, 5u);
    EXPECT_EQ(b.stats().slow_downs_sent, refused);
    std::uint32_t retry_after_ms = 0;
    std::set<std::string> answered;
    for (std::uint64_t i = 0; i < refused; ++i) {
        auto [ec, text] = run(client.receive());
        ASSERT_FALSE(ec);
        auto env = wire::decode_message(text);
        ASSERT_TRUE(env.has_value());
        const auto& e = std::get<wire::ErrorReply>(env->payload);
        EXPECT_EQ(e.code, errc::rate_limited);
        EXPECT_TRUE(sent.contains(e.in_reply_to));
        answered.insert(e.in_reply_to);
        EXPECT_GT(e.retry_after_ms, 0u);
        retry_after_ms = std::max(retry_after_ms, e.retry_after_ms);
    }
    EXPECT_EQ(answered.size(), refused);
    const auto served = b.stats().messages_in;
    // Waiting as told, it is served again: nothing held against it.
    run_until([] { return false; }, std::chrono::milliseconds(retry_after_ms));
    send_pings(2);
    ASSERT_TRUE(run_until([&] { return b.stats().messages_in == served + 2; }));
    EXPECT_EQ(b.stats().disconnects_for_violations, 0u);
    // One that goes on past a whole burst of refusals is cut off.
    send_pings(200);
    EXPECT_TRUE(run_until([&] { return b.stats().disconnects_for_violations == 1; }));
    close_and_drain({&b});
}

TEST_F(WsTransportTest, AnHonestSenderFasterThanThePeersRateIsPacedNeverRefused) {
    WsTransportConfig config;
    config.rate_per_second = 100;
    config.rate_burst = 20;
    Node a(io_, clock_, config);
    Node b(io_, clock_, config);
    constexpr std::size_t count = 250;  // 2.5 s worth at the peer's rate, asked for at once
    for (std::size_t i = 0; i < count; ++i) a.transport.send(b.contact(), ping());
    ASSERT_TRUE(run_until([&] { return b.sink.messages.size() == count; }, 10s));
    EXPECT_EQ(b.stats().rejected_rate, 0u);
    EXPECT_EQ(a.stats().slow_downs_received, 0u);
    EXPECT_GT(a.stats().frames_paced, 0u);
    close_and_drain({&a, &b});
}

TEST_F(WsTransportTest, MaxSessionsRefusesTheSecondInboundConnection) {
    WsTransportConfig config;
    config.max_sessions = 1;
    Node b(io_, clock_, config);
    const auto keys = crypto::KeyPair::generate();
    RawWsClient& first = new_client();
    RawWsClient& second = new_client();
    ASSERT_FALSE(run(first.connect(b.transport.port())));
    ASSERT_FALSE(run(first.handshake(keys)));

    EXPECT_TRUE(run(second.connect(b.transport.port())));  // accepted by TCP, then closed
    ASSERT_TRUE(run_until([&] { return b.stats().sessions_rejected == 1; }));
    EXPECT_EQ(b.transport.session_count(), 1u);

    // The first one is unaffected.
    EXPECT_FALSE(run(first.send(RawWsClient::message())));
    ASSERT_TRUE(run_until([&] { return b.sink.messages.size() == 1; }));
    close_and_drain({&b});
}

TEST_F(WsTransportTest, OneAddressCannotHoldEveryPreHandshakeSlot) {
    WsTransportConfig config;
    config.max_handshakes_per_ip = 3;
    config.handshake_timeout = 3s;
    Node b(io_, clock_, config);
    std::vector<RawWsClient*> held;
    for (int i = 0; i < 3; ++i) {
        held.push_back(&new_client());
        ASSERT_FALSE(run(held.back()->connect(b.transport.port())));  // and never says HELLO
    }
    // A fourth connection from the same address is refused at once, however many slots are free.
    EXPECT_TRUE(run(new_client().connect(b.transport.port())));
    ASSERT_TRUE(run_until([&] { return b.stats().sessions_rejected == 1; }));
    // A handshake that completes gives its slot back.
    ASSERT_FALSE(run(held[0]->handshake(crypto::KeyPair::generate())));
    RawWsClient& next = new_client();
    EXPECT_FALSE(run(next.connect(b.transport.port())));
    EXPECT_FALSE(run(next.handshake(crypto::KeyPair::generate())));
    EXPECT_EQ(b.stats().sessions_rejected, 1u);
    close_and_drain({&b});
}

TEST_F(WsTransportTest, APeerThatStopsReadingIsClosedAtTheByteCapNotAfterUnboundedGrowth) {
    WsTransportConfig config;
    config.max_queued_bytes = 256 * 1024;
    Node b(io_, clock_, config);
    const auto client_keys = crypto::KeyPair::generate();
    RawWsClient& client = new_client();
    {
        // A tiny receive window: the kernel's buffers cannot absorb what the node sends.
        auto& socket = test::beast::get_lowest_layer(client.stream()).socket();
        socket.open(boost::asio::ip::tcp::v4());
        socket.set_option(boost::asio::socket_base::receive_buffer_size(4096));
    }
    ASSERT_FALSE(run(client.connect(b.transport.port())));
    ASSERT_FALSE(run(client.handshake(client_keys)));
    ASSERT_TRUE(run_until([&] { return b.stats().sessions_opened == 1; }));

    const auto now = clock_.unix_seconds();
    const std::string pad(16 * 1024, 'x');
    const auto record = wire::sign_record({wire::RecordKind::knowledge, 1, now, now + 3600,
                                           R"({"domain":"d","id":"big","pad":")" + pad + "\"}"},
                                          b.keys);
    ASSERT_TRUE(record.has_value()) << record.error().message();
    const wire::Contact reader{client_keys.node_id(), ""};
    // 32 MiB in all, sent as fast as the session takes them; the client reads nothing.
    for (int i = 0; i < 2048 && b.stats().slow_readers == 0; ++i) {
        b.transport.send(reader, dht::Message{crypto::random_hex_id(), wire::Store{*record}});
        io_.poll();
    }
    ASSERT_TRUE(run_until([&] { return b.stats().slow_readers == 1; }))
        << "out " << b.stats().messages_out << " dropped " << b.stats().messages_dropped
        << " undeliverable " << b.stats().undeliverable;
    EXPECT_TRUE(run_until([&] { return b.transport.session_count() == 0; }));
    // What the node had written before it gave up is far below what it was asked to send.
    EXPECT_LT(b.stats().messages_out, 1024u);
    close_and_drain({&b});
}

TEST_F(WsTransportTest, CloseWithOpenSessionsLetsRunReturn) {
    Node a(io_, clock_);
    Node b(io_, clock_);
    a.transport.send(b.contact(), ping());
    ASSERT_TRUE(run_until([&] { return b.sink.messages.size() == 1; }));
    b.transport.send(a.contact(), ping());
    ASSERT_TRUE(run_until([&] { return a.sink.messages.size() == 1; }));
    EXPECT_EQ(a.transport.session_count(), 1u);
    for (int i = 0; i < 10; ++i) a.transport.send(b.contact(), ping());  // still queued

    a.transport.close();
    a.transport.close();  // idempotent
    const auto out_before = a.stats().messages_out;
    a.transport.send(b.contact(), ping());  // no-op after close
    EXPECT_EQ(a.stats().messages_out, out_before);
    close_and_drain({&a, &b});
    EXPECT_EQ(b.sink.messages.size(), 1u);  // nothing delivered after close
}

TEST_F(WsTransportTest, DestroyingOpenTransportsIsSafe) {
    {
        Node a(io_, clock_);
        Node b(io_, clock_);
        a.transport.send(b.contact(), ping());
        ASSERT_TRUE(run_until([&] { return b.sink.messages.size() == 1; }));
        a.transport.send(b.contact(), ping());
    }  // destructors close; the coroutines finish on the io_context afterwards
    io_.restart();
    io_.run_for(10s);
    EXPECT_TRUE(io_.stopped());
}

TEST_F(WsTransportTest, UnreachableOrInvalidAddressesDropTheQueue) {
    std::uint16_t dead_port = 0;
    {
        boost::asio::ip::tcp::acceptor probe(
            io_, {boost::asio::ip::make_address("127.0.0.1"), std::uint16_t{0}});
        dead_port = probe.local_endpoint().port();
    }  // closed: nothing listens there now
    Node a(io_, clock_);
    const wire::Contact dead{crypto::KeyPair::generate().node_id(),
                             "ws://127.0.0.1:" + std::to_string(dead_port)};
    for (int i = 0; i < 3; ++i) a.transport.send(dead, ping());
    ASSERT_TRUE(run_until([&] { return a.stats().dials_failed == 1; }));
    EXPECT_TRUE(run_until([&] { return a.transport.session_count() == 0; }));
    EXPECT_EQ(a.stats().messages_dropped, 3u);  // one dial, three queued messages
    EXPECT_EQ(a.stats().sessions_opened, 0u);

    for (const char* address :
         {"http://127.0.0.1:80", "ws://127.0.0.1", "wss://127.0.0.1:443", ""}) {
        a.transport.send({dead.id, address}, ping());
    }
    EXPECT_EQ(a.stats().messages_dropped, 7u);
    EXPECT_EQ(a.transport.session_count(), 0u);
    close_and_drain({&a});
}

TEST_F(WsTransportTest, IdleSessionIsClosedAndTheNextSendRedials) {
    WsTransportConfig config;
    config.idle_timeout = 1s;
    Node a(io_, clock_, config);
    Node b(io_, clock_, config);
    ASSERT_TRUE(deliver(a, b));
    ASSERT_TRUE(deliver(b, a));  // the same session both ways
    EXPECT_EQ(a.transport.session_count(), 1u);

    // Swept every second: closed 1-2 s after the last message, by whichever end sweeps first.
    const auto last_message = std::chrono::steady_clock::now();
    ASSERT_TRUE(run_until(
        [&] { return a.transport.session_count() == 0 && b.transport.session_count() == 0; }, 5s));
    EXPECT_GE(std::chrono::steady_clock::now() - last_message, 1s);
    EXPECT_GE(a.stats().sessions_closed_idle + b.stats().sessions_closed_idle, 1u);
    EXPECT_EQ(a.stats().sessions_recycled + b.stats().sessions_recycled, 0u);

    ASSERT_TRUE(deliver(a, b));
    EXPECT_EQ(a.stats().sessions_opened, 2u);
    EXPECT_EQ(a.stats().messages_dropped + b.stats().messages_dropped, 0u);
    close_and_drain({&a, &b});
}

TEST_F(WsTransportTest, SessionInUseIsNotClosedForIdleness) {
    WsTransportConfig config;
    config.idle_timeout = 1s;
    Node a(io_, clock_, config);
    Node b(io_, clock_, config);
    // One message every 200 ms for 3 s: never idle for a whole second.
    for (int i = 0; i < 15; ++i) {
        ASSERT_TRUE(deliver(i % 2 == 0 ? a : b, i % 2 == 0 ? b : a));
        run_until([] { return false; }, 200ms);
    }
    EXPECT_EQ(a.stats().sessions_opened, 1u);
    EXPECT_EQ(a.stats().sessions_closed_idle + b.stats().sessions_closed_idle, 0u);
    EXPECT_EQ(a.transport.session_count(), 1u);
    close_and_drain({&a, &b});
}

// Round-robin over three peers with room for two sessions: each new dial closes the least
// recently used session, and nothing is lost.
TEST_F(WsTransportTest, MaxLiveSessionsRecyclesTheLeastRecentlyUsedSession) {
    Node a(io_, clock_, max_live(2));
    Node b(io_, clock_);
    Node c(io_, clock_);
    Node d(io_, clock_);
    ASSERT_TRUE(deliver(a, b));
    ASSERT_TRUE(deliver(a, c));
    EXPECT_EQ(a.stats().sessions_recycled, 0u);

    ASSERT_TRUE(deliver(a, d));  // b is the least recently used
    EXPECT_EQ(a.stats().sessions_recycled, 1u);
    ASSERT_TRUE(run_until([&] { return b.transport.session_count() == 0; }));
    EXPECT_EQ(c.transport.session_count(), 1u);

    std::size_t peak = 0;
    const std::array<Node*, 3> peers{&b, &c, &d};
    for (int round = 0; round < 3; ++round) {
        for (Node* p : peers) {
            const std::size_t before = p->sink.messages.size();
            a.transport.send(p->contact(), ping());
            ASSERT_TRUE(run_until([&] {
                peak = std::max(peak, a.transport.session_count());
                return p->sink.messages.size() == before + 1;
            }));
        }
    }
    // Two live sessions, plus one being closed while the next is dialed.
    EXPECT_LE(peak, 3u);
    ASSERT_TRUE(run_until([&] { return a.transport.session_count() <= 2; }));
    EXPECT_EQ(b.sink.messages.size() + c.sink.messages.size() + d.sink.messages.size(), 12u);
    EXPECT_GE(a.stats().sessions_recycled, 9u);  // every send after the first two
    EXPECT_EQ(a.stats().sessions_closed_idle, 0u);
    EXPECT_EQ(a.stats().messages_dropped, 0u);
    close_and_drain({&a, &b, &c, &d});
}

TEST_F(WsTransportTest, SessionWithQueuedMessagesIsNotRecycled) {
    Node a(io_, clock_, max_live(2));
    Node b(io_, clock_);
    Node c(io_, clock_);
    Node d(io_, clock_);
    ASSERT_TRUE(deliver(a, b));
    ASSERT_TRUE(deliver(a, c));

    // In one turn of the io_context: b's session (the least recently used) gets a queue that is
    // not written yet, then d needs a session. c's is the one closed.
    for (int i = 0; i < 5; ++i) a.transport.send(b.contact(), ping());
    a.transport.send(d.contact(), ping());
    EXPECT_EQ(a.stats().sessions_recycled, 1u);
    ASSERT_TRUE(run_until([&] {
        return b.sink.messages.size() == 6 && d.sink.messages.size() == 1 &&
               c.transport.session_count() == 0;
    }));
    EXPECT_EQ(b.stats().sessions_opened, 1u);  // b's session was never closed
    EXPECT_EQ(b.transport.session_count(), 1u);
    EXPECT_EQ(a.stats().messages_dropped, 0u);
    close_and_drain({&a, &b, &c, &d});
}

// Handshaking sessions hold queued messages, so they are never recycled; with every session busy
// a dial still goes ahead below 2 * max_live_sessions, and above it the message is dropped.
TEST_F(WsTransportTest, WhenEverySessionIsBusyTheHardLimitDropsTheMessage) {
    WsTransportConfig config = max_live(1);
    config.handshake_timeout = 1s;
    Node a(io_, clock_, config);
    Node b(io_, clock_);
    SilentListener s1(io_), s2(io_);
    a.transport.send(s1.contact(), ping());
    a.transport.send(s2.contact(), ping());  // at the cap, nothing idle: over it, under 2x
    EXPECT_EQ(a.transport.session_count(), 2u);
    EXPECT_EQ(a.stats().messages_dropped, 0u);
    a.transport.send(b.contact(), ping());  // 2x reached: dropped without dialing
    EXPECT_EQ(a.stats().messages_dropped, 1u);
    EXPECT_EQ(a.transport.session_count(), 2u);
    EXPECT_EQ(a.stats().sessions_recycled, 0u);

    // Once the handshakes time out there is room again.
    ASSERT_TRUE(run_until([&] { return a.stats().handshakes_failed == 2; }, 5s));
    EXPECT_EQ(a.stats().messages_dropped, 3u);
    ASSERT_TRUE(deliver(a, b));
    EXPECT_EQ(b.sink.messages.size(), 1u);
    EXPECT_EQ(a.stats().sessions_recycled, 0u);
    close_and_drain({&a, &b});
}

TEST_F(WsTransportTest, InboundConnectionAtTheCapRecyclesAnIdleSession) {
    Node a(io_, clock_);
    Node b(io_, clock_, max_live(1));
    Node c(io_, clock_);
    ASSERT_TRUE(deliver(a, b));
    ASSERT_TRUE(deliver(c, b));  // b accepts, closing its session with a
    EXPECT_EQ(b.stats().sessions_recycled, 1u);
    EXPECT_EQ(b.stats().sessions_rejected, 0u);
    ASSERT_TRUE(run_until(
        [&] { return a.transport.session_count() == 0 && b.transport.session_count() == 1; }));
    ASSERT_TRUE(deliver(a, b));  // a dials again; now c's session makes room
    EXPECT_EQ(b.stats().sessions_recycled, 2u);
    EXPECT_EQ(a.stats().sessions_opened, 2u);
    EXPECT_EQ(a.stats().messages_dropped + b.stats().messages_dropped + c.stats().messages_dropped,
              0u);
    close_and_drain({&a, &b, &c});
}

// The transport counts requests out and answers in per session: a session whose answer is still
// on its way is closed only when no other idle session is left.
TEST_F(WsTransportTest, AtTheCapASessionAwaitingAReplyIsRecycledLast) {
    Node a(io_, clock_, max_live(2));
    Node b(io_, clock_);  // never answers
    Node c(io_, clock_);
    Node d(io_, clock_);
    answer_pings(c);
    ASSERT_TRUE(deliver(a, b));
    ASSERT_TRUE(round_trip(a, c));

    ASSERT_TRUE(deliver(a, d));  // b's session is older, but its ping is unanswered
    EXPECT_EQ(a.stats().sessions_recycled, 1u);
    ASSERT_TRUE(run_until([&] { return c.transport.session_count() == 0; }));
    EXPECT_EQ(b.transport.session_count(), 1u);

    ASSERT_TRUE(deliver(a, c));  // b and d both await a reply now: the older one goes
    EXPECT_EQ(a.stats().sessions_recycled, 2u);
    ASSERT_TRUE(run_until([&] { return b.transport.session_count() == 0; }));
    EXPECT_EQ(d.transport.session_count(), 1u);
    EXPECT_EQ(a.stats().messages_dropped, 0u);
    close_and_drain({&a, &b, &c, &d});
}

// File descriptors are shared by every transport in the process: close to RLIMIT_NOFILE, a new
// session first closes an idle one even below max_live_sessions, but never one awaiting a reply.
TEST_F(WsTransportTest, NearTheDescriptorLimitIdleSessionsAreRecycledBelowTheCap) {
    Node a(io_, clock_);
    Node b(io_, clock_);
    Node c(io_, clock_);  // never answers
    Node d(io_, clock_);
    answer_pings(b);
    answer_pings(d);

    // A soft limit a little above what is open now: room for the few sockets below, and far
    // inside the reserve the transport keeps free, so it is short of descriptors throughout.
    rlimit saved{};
    ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
    const auto open_now =
        static_cast<rlim_t>(std::distance(std::filesystem::directory_iterator("/proc/self/fd"),
                                          std::filesystem::directory_iterator{}));
    if (saved.rlim_cur != RLIM_INFINITY && saved.rlim_cur < open_now + 16) {
        GTEST_SKIP() << "descriptor limit already too low";
    }
    rlimit lowered = saved;
    lowered.rlim_cur = open_now + 16;
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &lowered), 0);
    struct Restore {
        rlimit limit;
        ~Restore() { ::setrlimit(RLIMIT_NOFILE, &limit); }
    } restore{saved};

    ASSERT_TRUE(round_trip(a, b));  // nothing to close yet
    EXPECT_EQ(a.stats().sessions_recycled, 0u);
    ASSERT_TRUE(deliver(a, c));  // b's session, answered, makes room
    EXPECT_EQ(a.stats().sessions_recycled, 1u);
    ASSERT_TRUE(run_until([&] { return b.transport.session_count() == 0; }));

    ASSERT_TRUE(round_trip(a, d));  // c's ping is unanswered: kept, and d is dialed anyway
    EXPECT_EQ(a.stats().sessions_recycled, 1u);
    EXPECT_EQ(a.transport.session_count(), 2u);
    EXPECT_EQ(c.transport.session_count(), 1u);
    EXPECT_EQ(a.stats().messages_dropped + a.stats().dials_failed, 0u);
    close_and_drain({&a, &b, &c, &d});
}

// The default idle_timeout arms a 30 s sweep: close() must cancel it for io.run() to return.
TEST_F(WsTransportTest, CloseWithTheSweepTimerArmedLetsRunReturn) {
    Node a(io_, clock_);
    Node b(io_, clock_);
    ASSERT_TRUE(deliver(a, b));
    close_and_drain({&a, &b});
}

// The sweep timer runs only while there are sessions: a transport that does not listen leaves
// no work behind once its last session has ended.
TEST_F(WsTransportTest, SweepTimerStopsWithTheLastSession) {
    Node b(io_, clock_);
    const auto keys = crypto::KeyPair::generate();
    WsTransport a(io_, keys, clock_, WsTransportConfig{});
    a.send(b.contact(), ping());
    ASSERT_TRUE(run_until([&] { return b.sink.messages.size() == 1; }));
    b.transport.close();  // a's session ends; a itself stays open
    io_.restart();
    io_.run_for(10s);
    EXPECT_TRUE(io_.stopped()) << "io_context still has work after the last session ended";
    EXPECT_EQ(a.session_count(), 0u);
    close_and_drain({&b});
}

TEST_F(WsTransportTest, ListenAndConfigErrorsAreReported) {
    Node a(io_, clock_);
    EXPECT_TRUE(a.transport.listen());  // twice

    const auto keys = crypto::KeyPair::generate();
    WsTransportConfig taken;
    taken.listen_port = a.transport.port();
    WsTransport t1(io_, keys, clock_, taken);
    EXPECT_EQ(t1.listen(), std::errc::address_in_use);

    WsTransportConfig bad_host;
    bad_host.listen_host = "not an address";
    WsTransport t2(io_, keys, clock_, bad_host);
    EXPECT_TRUE(t2.listen());

    WsTransportConfig bad_address;
    bad_address.advertised_address = "http://example.org";
    EXPECT_THROW(WsTransport(io_, keys, clock_, bad_address), std::invalid_argument);
    WsTransportConfig bad_agent;
    bad_agent.agent_id = "has space";
    EXPECT_THROW(WsTransport(io_, keys, clock_, bad_agent), std::invalid_argument);
    EXPECT_THROW(WsTransport(io_, keys, clock_, max_live(0)), std::invalid_argument);
    WsTransportConfig no_idle;
    no_idle.idle_timeout = 0s;
    EXPECT_THROW(WsTransport(io_, keys, clock_, no_idle), std::invalid_argument);

    WsTransportConfig advertised;
    advertised.advertised_address = "ws://node.example.org:9090";
    WsTransport t3(io_, keys, clock_, advertised);
    EXPECT_FALSE(t3.listen());
    EXPECT_EQ(t3.address(), "ws://node.example.org:9090");
    EXPECT_NE(t3.port(), 0);
    EXPECT_EQ(a.transport.address(), "ws://127.0.0.1:" + std::to_string(a.transport.port()));

    t1.close();
    t2.close();
    t3.close();
    close_and_drain({&a});
}

}  // namespace
}  // namespace nocturne::net
