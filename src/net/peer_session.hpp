#pragma once

// Private to net/: one WebSocket session with a peer, behind an interface free of Beast, so that
// Beast is included by peer_session.cpp alone (compile time).

#include <nocturne/core/node_id.hpp>
#include <nocturne/net/handshake.hpp>
#include <nocturne/net/session_table.hpp>

#include <boost/asio/ip/tcp.hpp>

#include <deque>
#include <memory>
#include <string>

namespace nocturne::net::detail {

class WsTransportImpl;

// A frame waiting in a session's queue. request_id: the message id of a request (its sender is
// told when it cannot be delivered), "" for a reply. pinned: a dial-back, for this session only.
struct OutFrame {
    std::string frame;
    std::string request_id;
    bool pinned = false;
};

// One WebSocket connection: upgrade, HELLO/AUTH, then a read loop that admits envelopes and a
// writer that sends queued frames one at a time (push; write only if the queue was empty; pop in
// the write handler).
//
// Owned by its coroutines and by the transport's map only through plain pointers (see
// WsTransportImpl); lives on the io_context thread.
class PeerSession : public std::enable_shared_from_this<PeerSession> {
public:
    virtual ~PeerSession() = default;

    // Runs the session (handshake, then reading) until it ends.
    virtual void start() = 0;
    // Queues a frame; false when the session takes no more (closing), or when it would hold more
    // than max_queued_bytes: then the peer is a slow reader, and the session closes.
    virtual bool enqueue(OutFrame frame) = 0;
    // Frames not yet handed to the socket (the one being written stays).
    virtual std::deque<OutFrame> take_unsent() = 0;
    // Another session to the same peer carries traffic from now on: hand it our unsent frames,
    // keep reading for a grace period, then close normally.
    virtual void retire(PeerSession& winner) = 0;
    // A retiring session carries traffic again (the winner closed first).
    virtual void promote() = 0;
    // The transport closes: abort a handshake, or close an open session with "going away".
    virtual void shutdown() = 0;
    // Normal close of an idle session (the idle sweep, recycling).
    virtual void close_idle() = 0;

    virtual SessionId id() const = 0;
    virtual const NodeId& peer() const = 0;            // zero until authenticated
    virtual const std::string& remote_ip() const = 0;  // "" until connected
    virtual const NodeId& expected() const = 0;        // outbound: who we meant to reach
    virtual std::string label() const = 0;
    // The label and where the session is (state, writer, queue): for a shutdown that overran.
    virtual std::string describe() const = 0;
};

std::shared_ptr<PeerSession> make_inbound_session(std::shared_ptr<WsTransportImpl> t,
                                                  boost::asio::ip::tcp::socket socket,
                                                  SessionId id);
std::shared_ptr<PeerSession> make_outbound_session(std::shared_ptr<WsTransportImpl> t,
                                                   WsAddress target, NodeId expected, SessionId id);

}  // namespace nocturne::net::detail
