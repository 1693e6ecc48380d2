#include <nocturne/core/hex.hpp>
#include <nocturne/net/handshake.hpp>
#include <nocturne/wire/identifiers.hpp>
#include <nocturne/wire/json_reader.hpp>
#include <nocturne/wire/record.hpp>
#include <nocturne/wire/signed_blob.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <tuple>

namespace nocturne::net {
namespace {

// HELLO is flat; AUTH's body holds credentials (records: objects in an array, their payloads
// objects again).
constexpr std::size_t handshake_json_depth = 2;
constexpr std::size_t auth_body_json_depth = 8;
constexpr std::size_t network_hex_bytes = 64;

bool is_host_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-' || c == '_';
}

bool is_ipv6_char(char c) {
    return (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || (c >= '0' && c <= '9') || c == ':' ||
           c == '.';
}

bool parse_port(std::string_view text, std::uint16_t& out) {
    if (text.empty() || text.size() > 5) return false;
    unsigned value = 0;
    for (const char c : text) {
        if (c < '0' || c > '9') return false;
        value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value == 0 || value > 65535) return false;
    out = static_cast<std::uint16_t>(value);
    return true;
}

// What verify_auth accepts as a peer's advertised address; it is only informational (logs), the
// address a message reports travels in the signed envelope.
bool is_advertised_address(std::string_view text) {
    return text.empty() || wire::is_valid_address(text);
}

}  // namespace

std::string make_hello(const Hello& hello) {
    return wire::to_compact_json({{"type", "HELLO"},
                                  {"v", 3},
                                  {"nonce", to_hex(hello.nonce)},
                                  {"network", hello.network},
                                  {"kx", to_hex(hello.kx)}});
}

result<Hello> parse_hello(std::string_view frame) {
    auto json = wire::parse_json(frame, max_handshake_frame_bytes, handshake_json_depth);
    if (!json) return json.error();
    wire::ObjectReader reader(*json);
    const auto type = reader.string("type", 16);
    const auto version = reader.int64("v", 0, INT64_MAX);
    Hello hello;
    hello.nonce = reader.hex_fixed<std::tuple_size_v<crypto::Nonce>>("nonce");
    hello.network = reader.string("network", network_hex_bytes);
    hello.kx = reader.hex_fixed<std::tuple_size_v<crypto::KxPublicKey>>("kx");
    if (auto ec = reader.finish()) return ec;
    if (type != "HELLO") return make_error_code(errc::unknown_message_type);
    if (version != 3) return make_error_code(errc::unknown_version);
    return hello;
}

std::string confirmation_identity(const NodeId& node_id, const crypto::PublicKey& key,
                                  bool dialer) {
    return std::string(dialer ? "dialer:" : "acceptor:") + node_id.to_hex() + ":" + to_hex(key);
}

std::string make_auth(const AuthBinding& binding, const crypto::KeyPair& keys,
                      std::string_view address, std::string_view network,
                      const std::vector<wire::Record>& credentials,
                      const crypto::ChannelKeys& channel, bool we_dialed) {
    const auto confirmation =
        channel.confirm(confirmation_identity(keys.node_id(), keys.public_key(), we_dialed));
    auto creds = nlohmann::json::array();
    for (const auto& r : credentials)
        creds.push_back(nlohmann::json::parse(wire::encode_record(r)));
    const nlohmann::json body = {
        {"nonce", to_hex(binding.peer_nonce)},     {"node_id", keys.node_id().to_hex()},
        {"public_key", to_hex(keys.public_key())}, {"address", std::string(address)},
        {"network", std::string(network)},         {"kx", to_hex(binding.own_kx)},
        {"peer_kx", to_hex(binding.peer_kx)},      {"stream", to_hex(binding.stream)},
        {"confirm", to_hex(confirmation)},         {"credentials", std::move(creds)}};
    const auto blob = wire::sign_blob(handshake_domain, wire::to_compact_json(body), keys);
    return wire::to_compact_json(wire::blob_to_json(blob));
}

result<PeerIdentity> verify_auth(std::string_view frame, const Hello& ours, const Hello& peer_hello,
                                 const crypto::ChannelKeys& channel, bool we_dialed,
                                 const wire::Limits& limits) {
    auto outer = wire::parse_json(frame, max_handshake_frame_bytes, handshake_json_depth);
    if (!outer) return outer.error();
    auto blob = wire::verify_blob(*outer, handshake_domain, max_handshake_frame_bytes);
    if (!blob) return blob.error();

    // Authentic from here on: the holder of blob->public_key signed these bytes.
    auto body = wire::parse_json(blob->body, max_handshake_frame_bytes, auth_body_json_depth);
    if (!body) return body.error();
    wire::ObjectReader reader(*body);
    PeerIdentity peer;
    const auto nonce = reader.hex_fixed<std::tuple_size_v<crypto::Nonce>>("nonce");
    peer.node_id = reader.node_id("node_id");
    peer.public_key = reader.hex_fixed<std::tuple_size_v<crypto::PublicKey>>("public_key");
    peer.address = reader.string("address", limits.max_string_bytes);
    peer.network = reader.string("network", network_hex_bytes);
    const auto kx = reader.hex_fixed<std::tuple_size_v<crypto::KxPublicKey>>("kx");
    const auto peer_kx = reader.hex_fixed<std::tuple_size_v<crypto::KxPublicKey>>("peer_kx");
    peer.stream = reader.hex_fixed<std::tuple_size_v<crypto::StreamHeader>>("stream");
    const auto confirmation =
        reader.hex_fixed<std::tuple_size_v<crypto::KeyConfirmation>>("confirm");
    const auto* creds = reader.array("credentials", limits.max_credentials);
    if (auto ec = reader.finish()) return ec;
    // A signature over someone else's nonce is a replayed or relayed AUTH.
    if (nonce != ours.nonce) return make_error_code(errc::value_out_of_range);
    // The keys the session's channel is made of must be the ones both HELLOs carried.
    if (kx != peer_hello.kx || peer_kx != ours.kx) return make_error_code(errc::bad_key_exchange);
    if (peer.public_key != blob->public_key) return make_error_code(errc::public_key_mismatch);
    auto derived = NodeId::from_public_key(peer.public_key);
    if (!derived || *derived != peer.node_id) return make_error_code(errc::node_id_mismatch);
    // The signer holds this session's keys, in the other role than ours.
    if (!channel.confirms(confirmation_identity(peer.node_id, peer.public_key, !we_dialed),
                          confirmation)) {
        return make_error_code(errc::bad_key_exchange);
    }
    if (!is_advertised_address(peer.address)) return make_error_code(errc::value_out_of_range);
    if (peer.network != ours.network) return make_error_code(errc::network_mismatch);
    for (const auto& item : *creds) {
        auto record = wire::decode_record(wire::to_compact_json(item), limits);
        if (!record) return record.error();
        peer.credentials.push_back(std::move(*record));
    }
    return peer;
}

result<WsAddress> parse_ws_address(std::string_view address) {
    const auto bad = make_error_code(errc::value_out_of_range);
    constexpr std::string_view scheme = "ws://";
    if (address.size() > wire::max_address_bytes || !address.starts_with(scheme)) return bad;
    const bool printable = std::all_of(address.begin(), address.end(), [](char c) {
        return c > ' ' && c < 0x7f && c != '?' && c != '#' && c != '@';
    });
    if (!printable) return bad;

    const std::string_view rest = address.substr(scheme.size());
    const auto slash = rest.find('/');
    const std::string_view authority = rest.substr(0, slash);
    WsAddress out;
    if (slash != std::string_view::npos) out.target = std::string(rest.substr(slash));

    std::string_view host;
    std::string_view port;
    if (authority.starts_with('[')) {
        const auto close = authority.find(']');
        if (close == std::string_view::npos || close + 1 >= authority.size() ||
            authority[close + 1] != ':') {
            return bad;
        }
        host = authority.substr(1, close - 1);
        port = authority.substr(close + 2);
        if (host.empty() || !std::all_of(host.begin(), host.end(), is_ipv6_char)) return bad;
    } else {
        const auto colon = authority.find(':');
        if (colon == std::string_view::npos) return bad;
        host = authority.substr(0, colon);
        port = authority.substr(colon + 1);
        if (host.empty() || !std::all_of(host.begin(), host.end(), is_host_char)) return bad;
    }
    if (!parse_port(port, out.port)) return bad;
    out.host = std::string(host);
    return out;
}

std::string format_ws_address(std::string_view host, std::uint16_t port) {
    const bool ipv6 = host.find(':') != std::string_view::npos;
    std::string out = "ws://";
    if (ipv6) out += '[';
    out += host;
    if (ipv6) out += ']';
    out += ':';
    out += std::to_string(port);
    return out;
}

}  // namespace nocturne::net
