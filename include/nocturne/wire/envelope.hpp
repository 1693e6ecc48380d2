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

// Who sent a message. node_id and public_key are the session's peer, proven at its handshake; the
// rest is what the peer says about itself in each message.
struct Sender {
    NodeId node_id;
    std::string agent_id;     // may be empty before the agent is enrolled
    std::string operator_id;  // may be empty before the operator is enrolled
    std::string address;      // where the sender accepts connections, e.g. ws://127.0.0.1:9090
    crypto::PublicKey public_key{};
};

// A decoded message of a peer session.
//
// Encoding (the plaintext of one sealed channel frame, crypto/channel.hpp):
//   {"v":2, "type":"FIND_NODE", "id":"<32 hex>",
//    "sender":{"agent_id":..,"operator_id":..,"address":..}, "payload":{...}}
// Messages are not signed: the session's channel authenticates every frame as its peer's, in
// order and once. What a third party must be able to check (records, certificates, votes, gossip
// items, store acknowledgements) is signed inside the payload by its author.
struct Envelope {
    MessageType type = MessageType::ping;
    std::string id;  // 128-bit random message id, lower-case hex
    Sender sender;
    Payload payload;
};

// What a sender fills in.
struct EnvelopeDraft {
    std::string id;  // empty: a fresh random id
    std::string agent_id;
    std::string operator_id;
    std::string address;
    Payload payload;
};

// The message type follows from the payload alternative.
MessageType type_of(const Payload& payload) noexcept;

// Encodes a message for a session's channel. Fails only when the draft itself is invalid (bad
// ids, oversize fields), which is a programming error on the sending side but still reported, not
// asserted: drafts can carry data relayed from peers.
result<std::string> encode_message(const EnvelopeDraft& draft,
                                   const Limits& limits = default_limits);

// Size, JSON depth and shape first, then the payload of its type. The sender's node id and public
// key are left for the session to fill in.
result<Envelope> decode_message(std::string_view message, const Limits& limits = default_limits);

// The message id of a request, read without decoding the rest: for answering a message we refuse
// over the rate limit (a "slow down" reply) without the cost of decoding it. nullopt for replies
// and for anything that does not parse.
std::optional<std::string> peek_request_id(std::string_view message,
                                           const Limits& limits = default_limits);

}  // namespace nocturne::wire
