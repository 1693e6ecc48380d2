#pragma once

#include <nocturne/wire/payloads.hpp>

#include <memory>
#include <string>
#include <vector>

namespace nocturne::dht {

// One DHT message as the core sees it. Signing, the envelope, sessions and timestamps belong to
// the transport; replies name their request in the payload's in_reply_to.
struct Message {
    std::string id;  // 32 lower-case hex digits, unique per sender
    wire::Payload payload;
    // A dial-back: send over a new connection to exactly to.address, whose handshake must prove
    // to.id, never over a session the peer opened; if that fails the message is undeliverable (it
    // is not handed to another session). This is how a claimed address is verified.
    bool verify_address = false;
};

// The certificates a peer presented when its session was set up (its operator's certificate, its
// agent certificate, the endorsers' chain): the same object for every message of the session, so
// a receiver judges them once per session.
using PeerCredentials = std::shared_ptr<const std::vector<wire::Record>>;

// A message that arrived over an authenticated session.
struct InboundMessage {
    // from.id is the node id the session proved (handshake + envelope signature); from.address is
    // where the sender says it accepts connections, empty when it accepts none: a claim, never
    // dialed or passed on before it is verified.
    wire::Contact from;
    std::string id;
    wire::Payload payload;
    // The IP the session's socket is connected to ("" when unknown): the one part of the sender's
    // address nobody can claim.
    std::string observed_ip = {};
    PeerCredentials credentials = {};
};

// Outbound half of the DHT core's I/O: WebSocket sessions in the daemon (net::WsTransport), a
// virtual network in the simulator. Called on the thread that owns the node.
class Transport {
public:
    virtual ~Transport() = default;

    // Queues msg for the peer, connecting to to.address if no session to to.id exists. Never
    // blocks and never reports failure: an unreachable or silent peer surfaces as an RPC timeout,
    // the one failure signal the core needs.
    virtual void send(const wire::Contact& to, Message msg) = 0;
};

// Inbound half: the transport hands every verified message to the node through this.
class MessageSink {
public:
    virtual ~MessageSink() = default;
    virtual void on_message(InboundMessage msg) = 0;
    // A message sent earlier will not reach its peer (the dial failed, the handshake failed, the
    // session ended with it queued): a request for it fails at once instead of at its deadline.
    virtual void on_undeliverable(const std::string& message_id) { (void)message_id; }
};

}  // namespace nocturne::dht
