#pragma once

#include <nocturne/core/clock.hpp>
#include <nocturne/crypto/keys.hpp>
#include <nocturne/dht/transport.hpp>
#include <nocturne/wire/limits.hpp>
#include <nocturne/wire/payloads.hpp>
#include <nocturne/wire/record.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

// Asio stays out of public headers (compile time): the io_context is only named here.
namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace nocturne::net {

namespace detail {
class WsTransportImpl;
}  // namespace detail

struct WsTransportConfig {
    std::string listen_host = "127.0.0.1";
    std::uint16_t listen_port = 0;  // 0 = ephemeral
    // "ws://host:port" put in our envelopes and AUTH; empty = derived from the bound endpoint
    // after listen() (and "" for a node that never listens: it accepts no connections).
    std::string advertised_address;
    // Copied into every envelope's sender block; each empty or a valid id (wire::is_valid_id).
    std::string agent_id;
    std::string operator_id;
    // The mesh this node belongs to (64 hex: the genesis hash, app::network_id()). A peer of
    // another mesh is refused at the handshake.
    std::string network;
    // Cap on inbound connections (handshaking or open); further ones are closed right after
    // accept. Outbound dials have a cap of the same size of their own, so filling our inbound
    // slots cannot stop us from reaching peers.
    std::size_t max_sessions = 256;
    // Cap on live sessions in both directions together (handshaking or open; not those already
    // closing, which end within handshake_timeout). A DHT node talks to many peers over time, so
    // without it sessions (and file descriptors) pile up. A new dial or an inbound connection at
    // the cap first closes the least recently used idle session (open, nothing queued), sparing
    // sessions that await a reply to a request we sent on them while another is idle. If every
    // session is busy, a dial still goes ahead below 2 * max_live_sessions and its message is
    // dropped above; an inbound connection is still accepted (max_sessions refuses it).
    // Below the cap, the same recycling (never of a session awaiting a reply) starts when the
    // sessions of all transports in the process near RLIMIT_NOFILE (all but 1/8 of it, at least
    // 64 descriptors, stay free), as when many nodes run in one process.
    std::size_t max_live_sessions = 128;
    // An open session on which no message was sent or received for this long is closed normally;
    // the next send to that peer dials again. Checked every idle_timeout / 4 (at least 1 s), so a
    // session lives up to 1.25 * idle_timeout (or idle_timeout + 1 s) after its last message.
    std::chrono::seconds idle_timeout{120};
    // Bytes queued for one peer at most: a peer that stops reading is a slow reader, and its
    // session is closed (its queued requests fail at once) rather than grow our memory.
    std::size_t max_queued_bytes = 8 * 1024 * 1024;
    // Inbound connections from one IP still in their handshake, at most: one client cannot hold
    // every pre-handshake slot (max_sessions) and keep newcomers out.
    std::size_t max_handshakes_per_ip = 8;
    // max_frame_bytes is the WebSocket read_message_max after the handshake; max_clock_skew_seconds
    // is the replay window (timestamps within +-5 min).
    wire::Limits limits;
    // Per-session flow control (net::FlowControl): inbound frames over this token bucket are
    // refused with a "slow down, retry after" answer; frames we send are paced to
    // pace_fraction of it (every node is assumed to grant the defaults).
    double rate_per_second = 1000;
    double rate_burst = 2000;
    double pace_fraction = 0.9;
    // Limit for connect + upgrade + HELLO/AUTH, and for the WebSocket closing handshake. Also
    // the grace period before a redundant duplicate session is closed.
    std::chrono::seconds handshake_timeout{5};
    unsigned max_violations = 10;  // the session is closed at the max_violations-th rejection
};

// The daemon's dht::Transport: signed envelopes over WebSocket sessions bound, by a handshake, to
// the peer's node id (see handshake.hpp for the frames and docs/ for the protocol).
//
// Sessions: one per peer is used for sending. A send to a peer without a session dials
// to.address; messages wait in that session's queue until the handshake completes and are dropped
// if it fails (the node sees an RPC timeout). The handshake must prove to.id, except for a zero
// to.id (a bootstrap address): then whoever answers is accepted and the session is bound to it.
// Inbound frames pass rate limit, envelope signature, sender == session peer, timestamp window and
// de-duplication before they reach the sink; each rejection is a violation, and max_violations of
// them close the session.
//
// Sessions are not kept forever: one idle for idle_timeout is closed, and at max_live_sessions (or
// near the process's descriptor limit) an idle one makes room for a new one (see
// WsTransportConfig). Only sessions with nothing queued are closed that way, preferably ones not
// awaiting a reply: per session, the transport counts requests sent and replies (Pong, Response,
// Error) received, without matching ids. A message the peer sends just as our close reaches it can
// still be lost (the WebSocket close discards it); the RPC layer sees a timeout, as for any lost
// message.
//
// When two connections to one peer are authenticated (both dialed at once), both ends keep the
// one dialed by the lower node id for sending (no negotiation needed: each end knows who dialed),
// the newer one if the same node dialed both. The other one moves its unsent messages to the kept
// session, keeps delivering what still arrives on it for handshake_timeout, then closes normally.
//
// Owned by the thread that runs `io` (one thread for the node); not thread-safe. The clock and the
// sink must outlive the transport; the key pair is copied. After close() and io.run() returning,
// or after destruction, nothing is called on them any more. Do not destroy the transport from
// inside the sink's on_message.
class WsTransport final : public dht::Transport {
public:
    struct Stats {
        std::uint64_t sessions_opened = 0;     // handshakes completed, either direction
        std::uint64_t sessions_rejected = 0;   // inbound refused: max_sessions or per-IP handshakes
        std::uint64_t network_mismatches = 0;  // handshakes refused: a peer of another mesh
        std::uint64_t slow_readers = 0;        // sessions closed: max_queued_bytes exceeded
        std::uint64_t undeliverable = 0;       // messages reported back as not sent
        std::uint64_t handshakes_failed = 0;   // upgrade, HELLO/AUTH, wrong peer id or timeout
        std::uint64_t dials_failed = 0;        // resolve or TCP connect failed
        std::uint64_t messages_in = 0;         // delivered to the sink
        std::uint64_t messages_out = 0;        // written to a socket
        std::uint64_t messages_dropped = 0;    // outbound: failed dial, bad address, full queue
        std::uint64_t rejected_invalid = 0;    // not a message, or not the kind we accept
        std::uint64_t channel_failures = 0;    // frames that did not open: the session closes
        std::uint64_t rejected_rate = 0;       // over the per-session token bucket
        std::uint64_t slow_downs_sent = 0;     // "slow down" answers to frames over it
        std::uint64_t slow_downs_received = 0;  // peers that told us to slow down
        std::uint64_t frames_paced = 0;         // frames we held back to stay within a peer's rate
        std::uint64_t paced_refusals = 0;       // frames refused: the paced queue was full
        std::uint64_t rejected_oversize = 0;    // frame over max_frame_bytes (closes the session)
        std::uint64_t disconnects_for_violations = 0;
        std::uint64_t sessions_closed_idle = 0;  // nothing sent or received for idle_timeout
        std::uint64_t sessions_recycled = 0;  // idle one closed for a new one: cap or descriptors
    };

    // Throws std::invalid_argument for an invalid config (start-up error): a malformed
    // advertised_address, agent_id or operator_id, a non-positive rate or burst, max_violations 0,
    // max_live_sessions 0, a non-positive handshake_timeout or idle_timeout.
    WsTransport(boost::asio::io_context& io, const crypto::KeyPair& keys, const Clock& clock,
                WsTransportConfig config);
    ~WsTransport() override;
    WsTransport(const WsTransport&) = delete;
    WsTransport& operator=(const WsTransport&) = delete;

    // Where verified inbound messages go; nullptr drops them (counted in messages_in).
    void set_sink(dht::MessageSink* sink);

    // Binds listen_host:listen_port and starts accepting. Errors (address in use, bad host, called
    // twice or after close()) are returned, not thrown.
    std::error_code listen();
    std::uint16_t port() const;   // bound port, 0 before listen()
    std::string address() const;  // advertised address

    void send(const wire::Contact& to, dht::Message msg) override;

    // The agent and operator ids our envelopes carry from now on (a node may enroll while it
    // runs); each empty or a valid id, else std::invalid_argument.
    void set_identity(std::string agent_id, std::string operator_id);
    // The certificates our handshakes present from now on (at most max_credentials are sent).
    void set_credentials(std::vector<wire::Record> credentials);

    // Stops accepting and closes every session (WebSocket close frame, bounded by
    // handshake_timeout); queued outbound messages are dropped. Idempotent; afterwards send() is
    // a no-op and nothing is delivered to the sink.
    void close();

    const Stats& stats() const;
    std::size_t session_count() const;  // live sessions, handshaking ones included
    // One line per live session: who, and where it is (handshake, open, closing, writing...).
    std::vector<std::string> describe_sessions() const;

private:
    // Shared with the coroutines of the sessions, which may outlive this object by the few
    // io_context turns it takes them to finish closing.
    std::shared_ptr<detail::WsTransportImpl> impl_;
};

}  // namespace nocturne::net
