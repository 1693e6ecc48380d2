#pragma once

// A raw WebSocket peer for transport tests. It speaks the handshake by hand (not through
// net/handshake.hpp) so the tests check the wire format independently, and so a test can
// misbehave at any step; the channel after it is crypto/channel.hpp's, the one primitive both
// sides must share.

#include <nocturne/core/hex.hpp>
#include <nocturne/core/node_id.hpp>
#include <nocturne/crypto/channel.hpp>
#include <nocturne/crypto/keys.hpp>
#include <nocturne/crypto/random.hpp>
#include <nocturne/wire/envelope.hpp>
#include <nocturne/wire/signed_blob.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <utility>

namespace nocturne::net::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;

inline constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

// Runs io until pred() holds or the timeout passes; returns pred(). Every test waits through this
// (or run_task), so none can hang.
template <class Pred>
bool run_until(asio::io_context& io, Pred pred,
               std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!pred()) {
        if (std::chrono::steady_clock::now() >= deadline) return false;
        if (io.stopped()) io.restart();
        io.run_for(std::chrono::milliseconds(5));
    }
    return true;
}

// Runs one coroutine to completion (or the timeout: nullopt) and returns its value; exceptions
// from it are rethrown here. The state is shared so a late completion never touches a dead frame.
template <class T>
std::optional<T> run_task(asio::io_context& io, asio::awaitable<T> task,
                          std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    struct State {
        std::optional<T> value;
        std::exception_ptr error;
        bool done = false;
    };
    auto state = std::make_shared<State>();
    asio::co_spawn(io, std::move(task), [state](std::exception_ptr e, T value) {
        state->error = e;
        if (!e) state->value = std::move(value);
        state->done = true;
    });
    run_until(
        io, [&] { return state->done; }, timeout);
    if (state->error) std::rethrow_exception(state->error);
    return std::move(state->value);
}

// Owned by the test's io_context thread; not thread-safe.
class RawWsClient {
public:
    using error_code = boost::system::error_code;

    explicit RawWsClient(asio::io_context& io) : ws_(io) {
        ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
        ws_.text(true);
    }

    // TCP connect and WebSocket upgrade to 127.0.0.1:port.
    asio::awaitable<error_code> connect(std::uint16_t port) {
        const asio::ip::tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port);
        auto [ec] = co_await beast::get_lowest_layer(ws_).async_connect(endpoint, use_nothrow);
        if (ec) co_return ec;
        auto [upgrade_ec] =
            co_await ws_.async_handshake("127.0.0.1:" + std::to_string(port), "/", use_nothrow);
        co_return upgrade_ec;
    }

    asio::awaitable<error_code> write(std::string frame) {
        auto [ec, n] = co_await ws_.async_write(asio::buffer(frame), use_nothrow);
        co_return ec;
    }

    asio::awaitable<std::pair<error_code, std::string>> read() {
        beast::flat_buffer buffer;
        auto [ec, n] = co_await ws_.async_read(buffer, use_nothrow);
        co_return std::pair{ec, beast::buffers_to_string(buffer.data())};
    }

    // HELLO, AUTH over the server's nonce and both X25519 keys, and a check that the server's
    // AUTH signs ours; then the channel is set up and send()/receive() seal and open. network:
    // what the transports under test were configured with ("" by default); address: where we
    // claim to listen.
    // wrong_peer_kx: our AUTH names another key than the server's HELLO carried (what a party in
    // the middle that swapped the server's key would make us sign).
    asio::awaitable<error_code> handshake(const crypto::KeyPair& keys, std::string network = "",
                                          std::string address = "", bool wrong_peer_kx = false) {
        const crypto::Nonce nonce = crypto::random_nonce();
        const auto ephemeral = crypto::EphemeralKey::generate();
        const nlohmann::json hello = {{"type", "HELLO"},
                                      {"v", 3},
                                      {"nonce", to_hex(nonce)},
                                      {"network", network},
                                      {"kx", to_hex(ephemeral.public_key())}};
        if (auto ec = co_await write(hello.dump())) co_return ec;
        auto [hello_ec, server_hello] = co_await read();
        if (hello_ec) co_return hello_ec;
        const auto parsed_hello = nlohmann::json::parse(server_hello);
        const auto server_kx_hex = parsed_hello.at("kx").get<std::string>();
        const auto server_kx = from_hex_fixed<32>(server_kx_hex);
        if (!server_kx) co_return make_error_code(boost::system::errc::protocol_error);
        auto channel_keys = crypto::ChannelKeys::derive(true, ephemeral, *server_kx);
        if (!channel_keys) co_return make_error_code(boost::system::errc::protocol_error);
        sender_.emplace(*channel_keys);

        const nlohmann::json body = {
            {"nonce", parsed_hello.at("nonce")},
            {"node_id", keys.node_id().to_hex()},
            {"public_key", to_hex(keys.public_key())},
            {"address", address},
            {"network", network},
            {"kx", to_hex(ephemeral.public_key())},
            {"peer_kx", wrong_peer_kx ? std::string(64, '1') : server_kx_hex},
            {"stream", to_hex(sender_->header())},
            {"confirm", to_hex(channel_keys->confirm("dialer:" + keys.node_id().to_hex() + ":" +
                                                     to_hex(keys.public_key())))},
            {"credentials", nlohmann::json::array()}};
        const auto auth = wire::sign_blob("nocturne/handshake/v2", body.dump(), keys);
        if (auto ec = co_await write(wire::blob_to_json(auth).dump())) co_return ec;
        auto [auth_ec, server_auth] = co_await read();
        if (auth_ec) co_return auth_ec;
        const auto outer = nlohmann::json::parse(server_auth);
        const auto server_body = nlohmann::json::parse(outer.at("body").get<std::string>());
        if (server_body.at("nonce") != to_hex(nonce)) {
            co_return make_error_code(boost::system::errc::protocol_error);
        }
        const auto header = from_hex_fixed<24>(server_body.at("stream").get<std::string>());
        if (!header) co_return make_error_code(boost::system::errc::protocol_error);
        receiver_.emplace(*channel_keys, *header);
        server_id_ = NodeId::from_hex(server_body.at("node_id").get<std::string>()).value();
        ws_.binary(true);
        co_return error_code{};
    }

    // After handshake(): seals a message as the next frame of our stream and writes it.
    asio::awaitable<error_code> send(std::string_view message) {
        co_return co_await write(seal(message));
    }

    // Our stream's next frame for a message, for a test that writes it itself (twice, late, cut).
    std::string seal(std::string_view message) { return sender_->seal(message); }

    // After handshake(): reads the server's next frame and opens it ("" with an error when it
    // does not open).
    asio::awaitable<std::pair<error_code, std::string>> receive() {
        auto [ec, frame] = co_await read();
        if (ec) co_return std::pair{ec, std::string{}};
        auto opened = receiver_->open(frame);
        if (!opened)
            co_return std::pair{make_error_code(boost::system::errc::bad_message), std::string{}};
        co_return std::pair{error_code{}, std::move(*opened)};
    }

    // A valid message (a PING unless told), as the transport would encode it.
    static std::string message(std::string id = {}, wire::Payload payload = wire::Ping{}) {
        wire::EnvelopeDraft draft;
        draft.id = std::move(id);
        draft.payload = std::move(payload);
        return wire::encode_message(draft).value();
    }

    void abort() {
        error_code ignored;
        beast::get_lowest_layer(ws_).socket().close(ignored);
    }

    const NodeId& server_id() const { return server_id_; }
    websocket::stream<beast::tcp_stream>& stream() { return ws_; }

private:
    websocket::stream<beast::tcp_stream> ws_;
    NodeId server_id_;
    std::optional<crypto::ChannelSender> sender_;
    std::optional<crypto::ChannelReceiver> receiver_;
};

}  // namespace nocturne::net::test
