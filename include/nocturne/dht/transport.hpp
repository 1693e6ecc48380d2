#pragma once

#include <nocturne/wire/payloads.hpp>

#include <string>

namespace nocturne::dht {

// One DHT message as the core sees it. Signing, the envelope, sessions and timestamps belong to
// the transport; replies name their request in the payload's in_reply_to.
struct Message {
    std::string id;  // 32 lower-case hex digits, unique per sender
    wire::Payload payload;
};

// A message that arrived over an authenticated session.
struct InboundMessage {
    // from.id is the node id the session proved (handshake + envelope signature); from.address is
    // where the sender says it accepts connections, empty when it accepts none.
    wire::Contact from;
    std::string id;
    wire::Payload payload;
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
};

}  // namespace nocturne::dht
