#include <nocturne/core/hex.hpp>
#include <nocturne/net/handshake.hpp>
#include <nocturne/wire/record.hpp>
#include <nocturne/wire/signed_blob.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace nocturne::net {
namespace {

const std::string net_a(64, 'a');
const std::string net_b(64, 'b');

crypto::Nonce nonce_of(std::uint8_t fill) {
    crypto::Nonce n{};
    n.fill(fill);
    return n;
}

crypto::KxPublicKey kx_of(std::uint8_t fill) {
    crypto::KxPublicKey k{};
    k.fill(fill);
    return k;
}

// One session's two ends as the handshake leaves them: we dialed, they accepted. ours and theirs
// are the two HELLOs.
struct Session {
    crypto::EphemeralKey our_ephemeral = crypto::EphemeralKey::generate();
    crypto::EphemeralKey their_ephemeral = crypto::EphemeralKey::generate();
    crypto::ChannelKeys our_keys =
        crypto::ChannelKeys::derive(true, our_ephemeral, their_ephemeral.public_key()).value();
    crypto::ChannelKeys their_keys =
        crypto::ChannelKeys::derive(false, their_ephemeral, our_ephemeral.public_key()).value();
    Hello ours{nonce_of(7), net_a, our_ephemeral.public_key()};
    Hello theirs{nonce_of(9), net_a, their_ephemeral.public_key()};
};
const Session& session() {
    static const Session s;
    return s;
}
const Hello& hello_ours = session().ours;
const Hello& hello_theirs = session().theirs;

// What the peer signs for us.
AuthBinding binding_for_us() {
    crypto::StreamHeader stream{};
    stream.fill(5);
    return {hello_ours.nonce, hello_ours.kx, hello_theirs.kx, stream};
}

// The peer's AUTH for us, made as its session would.
std::string their_auth(const crypto::KeyPair& keys, std::string_view address = "",
                       std::string_view network = net_a,
                       const std::vector<wire::Record>& credentials = {}) {
    return make_auth(binding_for_us(), keys, address, network, credentials, session().their_keys,
                     false);
}

// Ours, checked as our session checks it.
result<PeerIdentity> verify_theirs(std::string_view frame, const Hello& our_hello = hello_ours,
                                   const Hello& their_hello = hello_theirs) {
    return verify_auth(frame, our_hello, their_hello, session().our_keys, true);
}

nlohmann::json auth_body(const crypto::KeyPair& keys) {
    return {{"nonce", to_hex(hello_ours.nonce)},
            {"node_id", keys.node_id().to_hex()},
            {"public_key", to_hex(keys.public_key())},
            {"address", ""},
            {"network", net_a},
            {"kx", to_hex(hello_theirs.kx)},
            {"peer_kx", to_hex(hello_ours.kx)},
            {"stream", to_hex(binding_for_us().stream)},
            {"confirm", to_hex(session().their_keys.confirm(
                            confirmation_identity(keys.node_id(), keys.public_key(), false)))},
            {"credentials", nlohmann::json::array()}};
}

std::string signed_auth(const nlohmann::json& body, const crypto::KeyPair& keys,
                        std::string_view domain = handshake_domain) {
    return wire::blob_to_json(wire::sign_blob(domain, body.dump(), keys)).dump();
}

TEST(WsTransportHandshake, HelloRoundTripsAndIsStrict) {
    const Hello mine{crypto::random_nonce(), net_a, crypto::EphemeralKey::generate().public_key()};
    const auto hello = make_hello(mine);
    EXPECT_EQ(hello, R"({"kx":")" + to_hex(mine.kx) + R"(","network":")" + net_a +
                         R"(","nonce":")" + to_hex(mine.nonce) + R"(","type":"HELLO","v":3})");
    EXPECT_EQ(parse_hello(hello)->nonce, mine.nonce);
    EXPECT_EQ(parse_hello(hello)->network, net_a);
    EXPECT_EQ(parse_hello(hello)->kx, mine.kx);

    const std::string hex = to_hex(mine.nonce);
    const std::string tail = R"(","network":")" + net_a + R"(","kx":")" + to_hex(mine.kx) + "\"}";
    EXPECT_EQ(parse_hello(R"({"type":"AUTH","v":3,"nonce":")" + hex + tail).error(),
              errc::unknown_message_type);
    // A node of the previous protocol (signed messages, no channel) is told apart at once.
    EXPECT_EQ(parse_hello(R"({"type":"HELLO","v":2,"nonce":")" + hex + tail).error(),
              errc::unknown_version);
    EXPECT_EQ(parse_hello(R"({"type":"HELLO","v":3,"x":1,"nonce":")" + hex + tail).error(),
              errc::unknown_field);
    EXPECT_EQ(parse_hello(R"({"type":"HELLO","v":3,"nonce":"abcd)" + tail).error(),
              errc::bad_length);
    EXPECT_EQ(
        parse_hello(R"({"type":"HELLO","v":3,"network":")" + net_a + R"(","nonce":")" + hex + "\"}")
            .error(),
        errc::missing_field);
    EXPECT_EQ(parse_hello("junk").error(), errc::malformed_json);
    EXPECT_EQ(parse_hello("[1]").error(), errc::wrong_type);
    EXPECT_EQ(parse_hello(std::string(max_handshake_frame_bytes + 1, ' ')).error(),
              errc::frame_too_large);
    EXPECT_EQ(parse_hello(R"({"type":[[[1]]]})").error(), errc::too_deep);
}

TEST(WsTransportHandshake, AuthProvesTheKeyOverOurNonceAndCarriesCredentials) {
    const auto keys = crypto::KeyPair::generate();
    const auto record =
        wire::sign_record({wire::RecordKind::cert, 1, 1'700'000'000, 1'700'000'000 + 3600,
                           R"({"operator_id":")" + std::string(64, 'c') + R"("})"},
                          keys);
    ASSERT_TRUE(record.has_value());
    const auto auth = their_auth(keys, "ws://127.0.0.1:9090", net_a, {*record});
    auto peer = verify_theirs(auth);
    ASSERT_TRUE(peer.has_value()) << peer.error().message();
    EXPECT_EQ(peer->node_id, keys.node_id());
    EXPECT_EQ(peer->public_key, keys.public_key());
    EXPECT_EQ(peer->address, "ws://127.0.0.1:9090");
    EXPECT_EQ(peer->stream, binding_for_us().stream);
    ASSERT_EQ(peer->credentials.size(), 1u);
    EXPECT_EQ(peer->credentials[0].body, record->body);

    // An AUTH made for another nonce (an old one, or another connection's) is refused.
    EXPECT_EQ(verify_theirs(auth, {nonce_of(8), net_a, hello_ours.kx}).error(),
              errc::value_out_of_range);
    // A node of another mesh is refused.
    EXPECT_EQ(verify_theirs(auth, {hello_ours.nonce, net_b, hello_ours.kx}).error(),
              errc::network_mismatch);
}

TEST(WsTransportHandshake, AuthBindsBothKeyExchangeKeys) {
    const auto keys = crypto::KeyPair::generate();
    const auto auth = their_auth(keys);
    // Someone in the middle replaced the peer's HELLO key with its own: the AUTH names the real
    // one.
    EXPECT_EQ(verify_theirs(auth, hello_ours, {hello_theirs.nonce, net_a, kx_of(3)}).error(),
              errc::bad_key_exchange);
    // ... or replaced hello_ours on the way to the peer: the peer signed the key it saw.
    EXPECT_EQ(verify_theirs(auth, {hello_ours.nonce, net_a, kx_of(4)}).error(),
              errc::bad_key_exchange);
}

// A relay E passes both HELLOs on, so that we and the real peer share keys, and replaces the
// peer's AUTH with one it signs itself, copying every bound value it saw: it would have us credit
// the peer's session to E. It cannot make the key confirmation for its own identity.
TEST(WsTransportHandshake, ARelayCannotClaimASessionWhoseKeysItDoesNotHold) {
    const auto peer = crypto::KeyPair::generate();
    const auto relay = crypto::KeyPair::generate();
    const auto genuine = their_auth(peer);
    ASSERT_TRUE(verify_theirs(genuine).has_value());

    auto body = nlohmann::json::parse(nlohmann::json::parse(genuine)["body"].get<std::string>());
    body["node_id"] = relay.node_id().to_hex();
    body["public_key"] = to_hex(relay.public_key());
    // The peer's confirmation, copied: made over the peer's identity, not E's.
    EXPECT_EQ(verify_theirs(signed_auth(body, relay)).error(), errc::bad_key_exchange);
    // One E makes with keys of its own session with us (or with anyone): other keys.
    const auto e_ephemeral = crypto::EphemeralKey::generate();
    const auto e_keys = crypto::ChannelKeys::derive(false, e_ephemeral, hello_ours.kx).value();
    body["confirm"] =
        to_hex(e_keys.confirm(confirmation_identity(relay.node_id(), relay.public_key(), false)));
    EXPECT_EQ(verify_theirs(signed_auth(body, relay)).error(), errc::bad_key_exchange);
    // The peer's own confirmation in the dialer's role (both ends dialed, spliced): refused.
    body = nlohmann::json::parse(nlohmann::json::parse(genuine)["body"].get<std::string>());
    body["confirm"] = to_hex(session().their_keys.confirm(
        confirmation_identity(peer.node_id(), peer.public_key(), true)));
    EXPECT_EQ(verify_theirs(signed_auth(body, peer)).error(), errc::bad_key_exchange);
}

TEST(WsTransportHandshake, AuthRejectsForgeries) {
    const auto keys = crypto::KeyPair::generate();
    const auto other = crypto::KeyPair::generate();
    const auto verify = [&](const std::string& frame) { return verify_theirs(frame); };
    ASSERT_TRUE(verify(signed_auth(auth_body(keys), keys)).has_value());

    // Body changed after signing.
    auto outer = nlohmann::json::parse(their_auth(keys));
    auto body = auth_body(keys);
    body["address"] = "ws://evil:1";
    outer["body"] = body.dump();
    EXPECT_EQ(verify(outer.dump()).error(), errc::bad_signature);

    // Claims another node's id / key while signing with its own.
    body = auth_body(keys);
    body["node_id"] = other.node_id().to_hex();
    EXPECT_EQ(verify(signed_auth(body, keys)).error(), errc::node_id_mismatch);
    EXPECT_EQ(verify(signed_auth(auth_body(other), keys)).error(), errc::public_key_mismatch);

    // Signed for another purpose, or for the previous handshake (domain separation).
    EXPECT_EQ(verify(signed_auth(auth_body(keys), keys, "nocturne/handshake/v1")).error(),
              errc::bad_signature);

    // Strict body.
    body = auth_body(keys);
    body["extra"] = 1;
    EXPECT_EQ(verify(signed_auth(body, keys)).error(), errc::unknown_field);
    body = auth_body(keys);
    body.erase("stream");
    EXPECT_EQ(verify(signed_auth(body, keys)).error(), errc::missing_field);
    body = auth_body(keys);
    body["address"] = "http://x:1";
    EXPECT_EQ(verify(signed_auth(body, keys)).error(), errc::value_out_of_range);
    // A credential that is not a valid signed record, or too many of them.
    body = auth_body(keys);
    body["credentials"] = {{{"pk", to_hex(keys.public_key())}, {"body", "{}"}, {"sig", "00"}}};
    EXPECT_FALSE(verify(signed_auth(body, keys)).has_value());
    body = auth_body(keys);
    body["credentials"] = nlohmann::json::array();
    for (int i = 0; i < 17; ++i) body["credentials"].push_back(nlohmann::json::object());
    EXPECT_EQ(verify(signed_auth(body, keys)).error(), errc::value_out_of_range);
    EXPECT_EQ(verify("{}").error(), errc::missing_field);
    EXPECT_EQ(verify("").error(), errc::malformed_json);
}

TEST(WsTransportHandshake, ParsesDialableAddresses) {
    auto a = parse_ws_address("ws://127.0.0.1:9090");
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ(a->host, "127.0.0.1");
    EXPECT_EQ(a->port, 9090);
    EXPECT_EQ(a->target, "/");

    a = parse_ws_address("ws://[::1]:80/p2p");
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ(a->host, "::1");
    EXPECT_EQ(a->port, 80);
    EXPECT_EQ(a->target, "/p2p");

    a = parse_ws_address("ws://node-1.example.org:65535/");
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ(a->host, "node-1.example.org");
    EXPECT_EQ(a->port, 65535);

    for (const std::string& bad :
         std::vector<std::string>{"",
                                  "ws://",
                                  "wss://a:1",
                                  "http://a:1",
                                  "WS://a:1",
                                  "ws://a",
                                  "ws://a:",
                                  "ws://a:0",
                                  "ws://a:65536",
                                  "ws://a:123456",
                                  "ws://:80",
                                  "ws://u@a:1",
                                  "ws://a:1?x=1",
                                  "ws://a:1#f",
                                  "ws://a b:1",
                                  "ws://a:1 ",
                                  "ws://::1:80",
                                  "ws://[::1]80",
                                  "ws://[]:80",
                                  "ws://a:-1",
                                  "ws://a:1:2",
                                  "ws://a\n:1",
                                  "ws://" + std::string(300, 'a') + ":1"}) {
        EXPECT_FALSE(parse_ws_address(bad).has_value()) << bad;
    }
}

TEST(WsTransportHandshake, FormatsAddresses) {
    EXPECT_EQ(format_ws_address("127.0.0.1", 9090), "ws://127.0.0.1:9090");
    EXPECT_EQ(format_ws_address("::1", 80), "ws://[::1]:80");
    const auto round_trip = parse_ws_address(format_ws_address("::1", 80));
    ASSERT_TRUE(round_trip.has_value());
    EXPECT_EQ(round_trip->host, "::1");
}

}  // namespace
}  // namespace nocturne::net
