#pragma once

#include <nocturne/core/error.hpp>
#include <nocturne/core/node_id.hpp>
#include <nocturne/crypto/keys.hpp>
#include <nocturne/wire/limits.hpp>
#include <nocturne/wire/payloads.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace nocturne::wire {

enum class MessageType {
    ping,
    pong,
    find_node,
    find_value,
    store,
    vote,
    query,
    gossip,
    ihave,
    iwant,
    sync,
    response,
    error
};

const char* to_string(MessageType type) noexcept;
result<MessageType> message_type_from_string(std::string_view text);

// Who sent a message. Every field is covered by the signature; node_id must equal
// SHA-256(public_key) and public_key must be the key that signed.
struct Sender {
    NodeId node_id;
    std::string agent_id;     // may be empty before the agent is enrolled
    std::string operator_id;  // may be empty before the operator is enrolled
    std::string address;      // where the sender accepts connections, e.g. ws://127.0.0.1:9090
    crypto::PublicKey public_key{};
};

// A verified, fully decoded message.
//
// Frame: {"pk": hex, "body": "<json>", "sig": hex} (see signed_blob.hpp), body:
//   {"v":1, "type":"FIND_NODE", "id":"<32 hex>", "sender":{...}, "timestamp":<unix s>,
//    "payload":{...}}
// The signature, under "nocturne/msg/v1", covers the exact body bytes, hence every field.
struct Envelope {
    MessageType type = MessageType::ping;
    std::string id;  // 128-bit random message id, lower-case hex
    Sender sender;
    std::int64_t timestamp = 0;
    Payload payload;

    std::string body;  // exact signed bytes
    crypto::Signature sig{};
};

// What a sender fills in; sign_envelope adds the public key, node id and signature.
struct EnvelopeDraft {
    std::string id;  // empty: a fresh random id
    std::string agent_id;
    std::string operator_id;
    std::string address;
    std::int64_t timestamp = 0;
    Payload payload;
};

// The message type follows from the payload alternative.
MessageType type_of(const Payload& payload) noexcept;

// Signs and encodes a frame ready to send. Fails only when the draft itself is invalid (bad ids,
// oversize fields), which is a programming error on the sending side but still reported, not
// asserted: drafts can carry data relayed from peers.
result<std::string> sign_envelope(const EnvelopeDraft& draft, const crypto::KeyPair& keys,
                                  const Limits& limits = default_limits);

// Verify before parse: size, JSON depth, frame shape, signature over the exact body; only then the
// body and the payload of its type. Timestamps are NOT checked here (that needs a clock and a
// replay cache; see the session layer).
result<Envelope> decode_envelope(std::string_view frame, const Limits& limits = default_limits);

// The message id of a request frame, read WITHOUT verifying anything: for answering a frame we
// refuse before any signature work (a "slow down" reply on the same authenticated session, where a
// forged id only fails to match anything). nullopt for replies and for anything that does not
// parse.
std::optional<std::string> peek_request_id(std::string_view frame,
                                           const Limits& limits = default_limits);

}  // namespace nocturne::wire
