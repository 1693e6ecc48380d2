#pragma once

// Private to net/: the state the WebSocket transport shares with its sessions. Includes Asio (not
// Beast): only ws_transport.cpp and peer_session.cpp include it.

#include <nocturne/core/printable.hpp>
#include <nocturne/net/session_table.hpp>
#include <nocturne/net/ws_transport.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

namespace nocturne::net::detail {

class PeerSession;

// State shared by the transport's public face and its sessions; the connection policy itself is
// the SessionTable.
//
// Owned by the io_context thread that runs the node; not thread-safe. Kept alive by WsTransport and
// by every live session (sessions hold a shared_ptr to it, it holds plain pointers to them and
// forgets each one as it ends), so no ownership cycle exists.
class WsTransportImpl : public std::enable_shared_from_this<WsTransportImpl> {
public:
    WsTransportImpl(boost::asio::io_context& io, const crypto::KeyPair& keys, const Clock& clock,
                    WsTransportConfig config);

    std::error_code listen();
    void send(const wire::Contact& to, dht::Message msg);
    void close();

    // ---- called by sessions -------------------------------------------------------------------
    void on_authenticated(PeerSession& s);
    // The session stops carrying traffic (it closes): another one to its peer may take over.
    void on_closing(PeerSession& s);
    // The session is gone: its unsent frames go to another session with the peer, or are dropped.
    void on_ended(PeerSession& s);
    void touch(PeerSession& s);
    void set_busy(PeerSession& s, bool busy);
    // Tells the sink, later (never from inside send()), that a request will not be delivered.
    void report_undeliverable(std::string request_id);
    // An inbound session's handshake ended (either way): its IP's count drops.
    void handshake_done(const std::string& ip);
    // A session destroyed without ending (its coroutines were destroyed): forget it quietly.
    void forget(SessionId id) noexcept;

    boost::asio::io_context& io_;
    const crypto::KeyPair keys_;
    const NodeId self_;
    const Clock& clock_;
    const WsTransportConfig config_;
    dht::MessageSink* sink_ = nullptr;
    std::string agent_id_;
    std::string operator_id_;
    std::shared_ptr<const std::vector<wire::Record>> credentials_ =
        std::make_shared<const std::vector<wire::Record>>();
    std::string address_;
    bool closed_ = false;
    WsTransport::Stats stats_;
    SessionTable table_;

private:
    void accept_loop_start();
    void start(std::shared_ptr<PeerSession> s);
    // Before a new session: closes an idle one if the table says so. False when the new one would
    // exceed the hard limit because every session is busy.
    bool make_room(std::string_view why);
    void arm_sweep();
    void sweep();
    PeerSession* session(SessionId id) const;

    boost::asio::ip::tcp::acceptor acceptor_;
    std::uint16_t port_ = 0;
    bool listening_ = false;
    std::unordered_map<SessionId, PeerSession*> sessions_;            // every session not yet ended
    std::unordered_map<std::string, std::size_t> handshaking_by_ip_;  // inbound, per remote IP
    // One timer for the idle check of all sessions, armed while there are any.
    boost::asio::steady_timer sweep_timer_;
    bool sweeping_ = false;
    bool warned_descriptors_ = false;

    friend class ::nocturne::net::WsTransport;
};

}  // namespace nocturne::net::detail
