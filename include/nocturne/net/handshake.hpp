#pragma once

#include <nocturne/core/error.hpp>
#include <nocturne/core/node_id.hpp>
#include <nocturne/crypto/channel.hpp>
#include <nocturne/crypto/keys.hpp>
#include <nocturne/crypto/random.hpp>
#include <nocturne/wire/limits.hpp>
#include <nocturne/wire/record.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

// The frames of the connection handshake and the ws:// addresses peers dial. Pure functions, no
// I/O, so the protocol is testable without sockets (and fuzzable like wire/).
//
// After the WebSocket upgrade each side sends, as text frames and in this order:
//   1. HELLO  {"type":"HELLO","v":3,"nonce":"<64 hex>","network":"<64 hex>","kx":"<64 hex>"}
//             a fresh random 32-byte nonce, the network (SHA-256 of the mesh's genesis: nodes of
//             different meshes refuse each other here, before anything else) and a fresh X25519
//             public key for this session only.
//   2. AUTH   {"pk":hex,"body":"<json>","sig":hex}        a signed blob (wire/signed_blob.hpp)
//   under
//             "nocturne/handshake/v2" whose body is
//             {"nonce":"<the PEER's nonce>","node_id":hex,"public_key":hex,"address":"ws://..."|"",
//              "network":"<64 hex>","kx":"<own X25519 key>","peer_kx":"<the PEER's X25519 key>",
//              "stream":"<48 hex: the header of the sender's secretstream>",
//              "confirm":"<64 hex>","credentials":[records]}
// Signing the peer's fresh nonce proves possession of the key now (an old AUTH cannot be
// replayed); node_id must equal SHA-256(public_key) and public_key must be the signing key.
// Signing both X25519 keys ties the session keys to the signer: a party in the middle that swapped
// a HELLO's key cannot produce the AUTH that names it. `confirm` is a MAC, under the session's
// keys, over the signer's identity and role (crypto::ChannelKeys::confirm): a relay that passes
// both HELLOs on cannot re-sign the other's AUTH as its own and claim a session whose keys it does
// not hold (SIGMA's identity binding). Every later frame is binary, sealed in the sender's stream
// (crypto/channel.hpp). The credentials are the sender's
// agent certificate and its operator's chain (at most max_credentials signed records), verified
// and judged once per session: whether the peer is an enrolled agent, the kind of node that may
// hold records.
namespace nocturne::net {

inline constexpr std::string_view handshake_domain = "nocturne/handshake/v2";
// HELLO is ~150 bytes; AUTH up to 16 certificates of a few KiB: unauthenticated peers get no more
// buffer than this.
inline constexpr std::size_t max_handshake_frame_bytes = 96 * 1024;

struct Hello {
    crypto::Nonce nonce{};
    std::string network;  // 64 hex: the genesis hash
    crypto::KxPublicKey kx{};
};

std::string make_hello(const Hello& hello);
// Strict: exactly type, v, nonce, network and kx; unknown_message_type / unknown_version otherwise.
result<Hello> parse_hello(std::string_view frame);

// What an AUTH binds besides the identity: the peer's HELLO (its nonce and key), our own key and
// the header of the stream we seal our frames in.
struct AuthBinding {
    crypto::Nonce peer_nonce{};
    crypto::KxPublicKey peer_kx{};
    crypto::KxPublicKey own_kx{};
    crypto::StreamHeader stream{};
};

// address is our advertised address or ""; credentials our agent certificate chain (may be
// empty); channel the session's keys, we_dialed our role.
std::string make_auth(const AuthBinding& binding, const crypto::KeyPair& keys,
                      std::string_view address, std::string_view network,
                      const std::vector<wire::Record>& credentials,
                      const crypto::ChannelKeys& channel, bool we_dialed);

// What `confirm` covers: the signer's role, node id and public key.
std::string confirmation_identity(const NodeId& node_id, const crypto::PublicKey& key, bool dialer);

// Who the peer proved to be.
struct PeerIdentity {
    NodeId node_id;
    crypto::PublicKey public_key{};
    std::string address;  // where it accepts connections, "" when it accepts none
    std::string network;
    std::vector<wire::Record> credentials;  // each verified (signed records)
    crypto::StreamHeader stream{};          // opens the peer's frames
};

// Verifies the signature before parsing the body, then: nonce == our_nonce (value_out_of_range
// otherwise), kx == the key of the peer's HELLO and peer_kx == our_kx (bad_key_exchange),
// public_key == the signing key (public_key_mismatch), node_id == SHA-256(public_key)
// (node_id_mismatch), confirm made with this session's keys over that identity in the peer's role
// (bad_key_exchange), address "" or a ws:// / wss:// address, network == ours
// (network_mismatch), at most max_credentials credentials, each a valid signed record. The caller
// still checks the node id against the one it dialed, and that it is not its own.
result<PeerIdentity> verify_auth(std::string_view frame, const Hello& ours, const Hello& peer,
                                 const crypto::ChannelKeys& channel, bool we_dialed,
                                 const wire::Limits& limits = wire::default_limits);

// A dialable peer address: ws://host:port[/path]. Only plain ws:// for now (no TLS in the
// transport); host is a name, an IPv4 address or a bracketed IPv6 address.
struct WsAddress {
    std::string host;  // without brackets
    std::uint16_t port = 0;
    std::string target = "/";  // request target of the upgrade
};

// value_out_of_range for anything else (other schemes, missing or zero port, user info, query,
// fragment, spaces or control characters, more than 256 bytes).
result<WsAddress> parse_ws_address(std::string_view address);
// "ws://host:port", bracketing IPv6 hosts.
std::string format_ws_address(std::string_view host, std::uint16_t port);

}  // namespace nocturne::net
