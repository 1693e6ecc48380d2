// WsTransport and its sessions: the only TU of the transport that includes Beast (compile time).

#include <nocturne/net/admission.hpp>
#include <nocturne/net/handshake.hpp>
#include <nocturne/net/ws_transport.hpp>
#include <nocturne/wire/envelope.hpp>
#include <nocturne/wire/identifiers.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cassert>
#include <chrono>
#include <deque>
#include <exception>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <sys/resource.h>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <variant>
#include <vector>

#include "asio_support.hpp"

namespace nocturne::net {
namespace detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using asio_support::accept_error_backoff;
using asio_support::LogExceptions;
using asio_support::open_listener;
using asio_support::use_nothrow;
using tcp = asio::ip::tcp;
using Stats = WsTransport::Stats;
using steady_clock = std::chrono::steady_clock;

namespace {

// Frames waiting for one peer. A peer that stops reading must not make us buffer without bound;
// far above what RPC traffic (a few requests in flight per peer) ever queues.
constexpr std::size_t max_queued_frames = 1024;

// The idle sweep runs this often relative to idle_timeout: a session is closed between
// idle_timeout and 1.25 * idle_timeout after its last message, at the cost of one timer per
// transport (not one per session, which would be re-armed on every frame).
constexpr int idle_sweeps_per_timeout = 4;
constexpr std::chrono::milliseconds min_idle_sweep_interval{1000};

// File descriptors are a per-process resource, so the sockets of all transports in the process
// are counted together: a daemon has one transport, but the mesh benchmark and the tests run
// hundreds in one process, where max_live_sessions per transport cannot keep the total under
// RLIMIT_NOFILE. Atomic only because transports could run on different threads.
std::atomic<std::size_t> process_sockets{0};

// A session on which we sent a request less than this long ago, and have not had as many answers
// back on it, is expected to carry an answer soon. Longer than the DHT's RPC timeout (5 s by
// default): an answer later than that is not waited for, and a lost one must not pin the session.
constexpr std::chrono::seconds reply_horizon{10};

// Sockets the sessions of this process may hold before every new one first closes an idle one.
// The rest of the descriptor limit stays free for listeners, the database, the API and logs.
std::size_t socket_budget() {
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) {
        return std::numeric_limits<std::size_t>::max();
    }
    const auto limit = static_cast<std::size_t>(rl.rlim_cur);
    const std::size_t reserve = std::max<std::size_t>(64, limit / 8);
    return limit > reserve ? limit - reserve : 0;
}

// Peer-supplied text goes into logs only cut short and without control characters.
std::string printable(std::string_view text, std::size_t max = 80) {
    std::string out(text.substr(0, max));
    for (char& c : out)
        if (c < ' ' || c >= 0x7f) c = '?';
    if (text.size() > max) out += "...";
    return out;
}

// A contact with a zero id is a bootstrap address: whoever answers there is accepted.
std::string dial_key(const NodeId& id, std::string_view address) {
    return id.is_zero() ? "@" + std::string(address) : id.to_hex();
}

// Pong, Response and Error answer a request; everything else asks for an answer.
bool is_reply(const wire::Payload& payload) {
    return std::holds_alternative<wire::Pong>(payload) ||
           std::holds_alternative<wire::Response>(payload) ||
           std::holds_alternative<wire::ErrorReply>(payload);
}

std::string endpoint_text(const tcp::endpoint& endpoint) {
    return format_ws_address(endpoint.address().to_string(), endpoint.port()).substr(5);
}

}  // namespace

class Session;

// State shared by the transport's public face and its sessions.
//
// Owned by the io_context thread that runs the node; not thread-safe. Kept alive by
// WsTransport and by every live session (sessions hold a shared_ptr to it, it holds plain
// pointers to them and forgets each one as it ends), so no ownership cycle exists.
class WsTransportImpl : public std::enable_shared_from_this<WsTransportImpl> {
public:
    WsTransportImpl(asio::io_context& io, const crypto::KeyPair& keys, const Clock& clock,
                    WsTransportConfig config);

    std::error_code listen();
    void send(const wire::Contact& to, dht::Message msg);
    void close();

    // Called by sessions.
    void on_authenticated(Session& s);
    void on_closing(Session& s);
    void on_ended(Session& s);
    void forget(Session& s) noexcept;
    // Live sessions: handshaking, or open and neither closing nor retiring.
    std::size_t live_sessions() const;
    // Closes the least recently used idle session, preferring those not awaiting a reply (whose
    // closing would lose it); with allow_awaiting false, only those. False when there is none.
    bool recycle_one(std::string_view why, bool allow_awaiting);

    asio::io_context& io_;
    const crypto::KeyPair keys_;
    const NodeId self_;
    const Clock& clock_;
    const WsTransportConfig config_;
    dht::MessageSink* sink_ = nullptr;
    std::string agent_id_;
    std::string operator_id_;
    tcp::acceptor acceptor_;
    std::uint16_t port_ = 0;
    std::string address_;
    bool listening_ = false;
    bool closed_ = false;
    Stats stats_;

    std::unordered_set<Session*> sessions_;  // every live session
    // The session that carries our messages to a peer (authenticated, not closing).
    std::unordered_map<NodeId, Session*, NodeIdHash> senders_;
    // Outbound sessions still handshaking, by dial_key(): the node id they dial or, for a
    // bootstrap contact whose id is unknown (zero), the address.
    std::unordered_map<std::string, Session*> dialing_;
    std::size_t inbound_ = 0;
    std::size_t outbound_ = 0;
    // One timer for the idle check of all sessions, armed while there are any.
    asio::steady_timer sweep_timer_;
    bool sweeping_ = false;
    bool warned_descriptors_ = false;

private:
    asio::awaitable<void> accept_loop(std::shared_ptr<WsTransportImpl> self);
    void start(std::shared_ptr<Session> s);
    // Before a new session: at max_live_sessions, or with the process near its descriptor limit,
    // recycle an idle one. False when the new one would exceed the hard limit
    // (2 * max_live_sessions) because every session is busy.
    bool make_room(std::string_view why);
    void arm_sweep();
    void sweep();
    // True when a (newer) should carry traffic to its peer rather than b.
    bool prefer(const Session& a, const Session& b) const;
    void promote_other(Session& ending);
};

// One WebSocket connection: upgrade, HELLO/AUTH, then a read loop that admits envelopes and a
// writer that sends queued frames one at a time.
//
// Owned by the io_context thread that runs the node; not thread-safe. Owned by its coroutines
// (run, writer) and by pending timer handlers only through weak pointers.
class Session : public std::enable_shared_from_this<Session> {
public:
    enum class Role { inbound, outbound };
    enum class State { handshaking, open, closed };

    Session(std::shared_ptr<WsTransportImpl> t, tcp::socket socket);
    Session(std::shared_ptr<WsTransportImpl> t, WsAddress target, NodeId expected,
            std::string_view address);
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    asio::awaitable<void> run(std::shared_ptr<Session> self);

    // Accepts frames until a close is requested.
    bool can_send() const { return state_ != State::closed && !close_requested_; }
    void enqueue(std::string frame);
    // Frames not yet handed to the socket (the one being written stays); the session takes no
    // more frames afterwards.
    std::deque<std::string> take_unsent();

    // Another session to the same peer carries traffic from now on: hand it our unsent frames,
    // keep reading for a grace period, then close normally.
    void retire(Session& winner);
    void promote();
    // The transport closes: abort a handshake, or close an open session with "going away".
    void shutdown();
    // Open, not closing or retiring, nothing queued or being written: closing it now loses
    // nothing we were asked to send.
    bool idle() const {
        return state_ == State::open && !close_requested_ && !retiring_ && queue_.empty() &&
               !writing_;
    }
    bool live() const {
        return state_ == State::handshaking ||
               (state_ == State::open && !close_requested_ && !retiring_);
    }
    // Normal close of an idle() session, for the idle sweep and for recycling.
    void close_idle();
    // Requests out and answers in, as the transport sees them (it does not match ids): closing
    // the session while a request is unanswered loses the answer, which the peer sends on it.
    void note_request_sent() {
        ++unanswered_;
        last_request_ = steady_clock::now();
    }
    bool awaiting_reply(steady_clock::time_point now) const {
        return unanswered_ > 0 && now - last_request_ < reply_horizon;
    }
    steady_clock::time_point last_activity() const { return last_activity_; }

    Role role() const { return role_; }
    State state() const { return state_; }
    bool authenticated() const { return authenticated_; }
    const NodeId& peer() const { return peer_; }
    const NodeId& expected() const { return expected_; }
    const std::string& dial_key() const { return dial_key_; }
    // Who opened the TCP connection: both ends agree on it, which makes it a tie-breaker.
    const NodeId& dialer() const { return role_ == Role::outbound ? t_->self_ : peer_; }
    std::string label() const;

private:
    asio::awaitable<bool> connect();
    asio::awaitable<bool> accept();
    asio::awaitable<bool> authenticate();
    asio::awaitable<bool> reject_handshake(std::string reason);
    asio::awaitable<std::optional<std::string>> read_handshake_frame();
    asio::awaitable<bool> write_handshake_frame(std::string frame);
    asio::awaitable<void> read_loop();
    asio::awaitable<void> write_loop(std::shared_ptr<Session> self);

    void configure(beast::role_type role);
    void arm_handshake_timer();
    void handle_frame(std::string_view frame, bool text);
    void violation(std::uint64_t Stats::*counter, std::string_view what);
    void close_gracefully(websocket::close_code code, bool drop_unsent);
    void start_writer();
    void abort() noexcept;
    void note_read_end(const boost::system::error_code& ec);
    void finish();
    void touch() { last_activity_ = steady_clock::now(); }

    std::shared_ptr<WsTransportImpl> t_;
    Role role_;
    State state_ = State::handshaking;
    websocket::stream<beast::tcp_stream> ws_;
    tcp::resolver resolver_;
    asio::steady_timer handshake_timer_;
    asio::steady_timer retire_timer_;
    beast::flat_buffer buffer_;

    WsAddress target_;      // outbound only
    NodeId expected_;       // outbound only: who we meant to reach; zero = whoever answers
    std::string dial_key_;  // outbound only: our entry in WsTransportImpl::dialing_
    NodeId peer_;           // proved by the handshake
    std::string remote_;    // ip:port of the other end, for logs
    bool authenticated_ = false;
    bool dial_failed_ = false;
    bool timed_out_ = false;
    std::string failure_;  // why the handshake failed, for the log line

    std::deque<std::string> queue_;
    bool writing_ = false;
    bool close_requested_ = false;
    bool close_sent_ = false;
    bool ignore_inbound_ = false;
    bool retiring_ = false;
    websocket::close_code close_code_ = websocket::close_code::normal;
    // Last frame read or written after the handshake: the idle check and the LRU order. Queueing
    // does not count: a session with a queue is busy anyway, and becomes idle only once written.
    steady_clock::time_point last_activity_ = steady_clock::now();
    unsigned unanswered_ = 0;
    steady_clock::time_point last_request_;

    ReplayGuard replay_;
    TokenBucket bucket_;
    unsigned violations_ = 0;
};

// ---- Session --------------------------------------------------------------------------------

Session::Session(std::shared_ptr<WsTransportImpl> t, tcp::socket socket)
    : t_(std::move(t)),
      role_(Role::inbound),
      ws_(std::move(socket)),
      resolver_(ws_.get_executor()),
      handshake_timer_(ws_.get_executor()),
      retire_timer_(ws_.get_executor()),
      replay_(t_->config_.limits.max_clock_skew_seconds),
      bucket_(t_->config_.rate_per_second, t_->config_.rate_burst,
              std::chrono::steady_clock::now()) {
    boost::system::error_code ec;
    const auto endpoint = beast::get_lowest_layer(ws_).socket().remote_endpoint(ec);
    remote_ = ec ? std::string("unknown") : endpoint_text(endpoint);
}

Session::Session(std::shared_ptr<WsTransportImpl> t, WsAddress target, NodeId expected,
                 std::string_view address)
    : t_(std::move(t)),
      role_(Role::outbound),
      ws_(t_->io_.get_executor()),
      resolver_(ws_.get_executor()),
      handshake_timer_(ws_.get_executor()),
      retire_timer_(ws_.get_executor()),
      target_(std::move(target)),
      expected_(expected),
      dial_key_(detail::dial_key(expected_, address)),
      replay_(t_->config_.limits.max_clock_skew_seconds),
      bucket_(t_->config_.rate_per_second, t_->config_.rate_burst,
              std::chrono::steady_clock::now()) {
    remote_ = printable(format_ws_address(target_.host, target_.port).substr(5));
}

// Normally run() has already unregistered the session; this covers coroutines destroyed without
// finishing (io_context destroyed while they were suspended).
Session::~Session() {
    t_->forget(*this);
}

std::string Session::label() const {
    std::string out = role_ == Role::outbound ? "to " : "from ";
    if (authenticated_ || role_ == Role::outbound) {
        out += (authenticated_ ? peer_ : expected_).short_hex();
        out += ' ';
    }
    out += '(' + remote_ + ')';
    return out;
}

asio::awaitable<void> Session::run(std::shared_ptr<Session> self) {
    arm_handshake_timer();
    bool ok = false;
    if (role_ == Role::outbound) {
        ok = co_await connect();
    } else {
        ok = co_await accept();
    }
    if (ok) ok = co_await authenticate();
    handshake_timer_.cancel();
    if (ok && state_ == State::handshaking && !t_->closed_) {
        state_ = State::open;
        authenticated_ = true;
        ws_.read_message_max(t_->config_.limits.max_frame_bytes);
        touch();
        t_->on_authenticated(*this);
        start_writer();
        co_await read_loop();
    }
    finish();
    (void)self;  // the parameter keeps the session alive until here
}

void Session::configure(beast::role_type role) {
    auto timeouts = websocket::stream_base::timeout::suggested(role);
    timeouts.handshake_timeout = t_->config_.handshake_timeout;
    // Beast suggests no idle limit for clients; a DHT peer is both, so both ends use the server's
    // idle limit with keep-alive pings: a silent-but-alive peer stays, a vanished one is dropped.
    timeouts.idle_timeout =
        websocket::stream_base::timeout::suggested(beast::role_type::server).idle_timeout;
    timeouts.keep_alive_pings = true;
    ws_.set_option(timeouts);
    // Unauthenticated peers get a small buffer; raised to max_frame_bytes after AUTH.
    ws_.read_message_max(max_handshake_frame_bytes);
    ws_.text(true);
    // permessage-deflate stays off (Beast's default): no decompression bombs, no CRIME-style
    // leaks through compressed signed frames.
}

void Session::arm_handshake_timer() {
    handshake_timer_.expires_after(t_->config_.handshake_timeout);
    handshake_timer_.async_wait(
        [weak = weak_from_this()](const boost::system::error_code& ec) noexcept {
            if (ec) return;
            auto s = weak.lock();
            if (!s || s->state_ != State::handshaking) return;
            s->timed_out_ = true;
            s->abort();
        });
}

asio::awaitable<bool> Session::connect() {
    auto [resolve_ec, endpoints] =
        co_await resolver_.async_resolve(target_.host, std::to_string(target_.port), use_nothrow);
    if (resolve_ec) {
        dial_failed_ = true;
        failure_ = "resolve " + printable(target_.host) + ": " + resolve_ec.message();
        co_return false;
    }
    auto [connect_ec, endpoint] =
        co_await beast::get_lowest_layer(ws_).async_connect(endpoints, use_nothrow);
    if (connect_ec) {
        dial_failed_ = true;
        failure_ = "connect: " + connect_ec.message();
        co_return false;
    }
    remote_ = endpoint_text(endpoint);
    beast::get_lowest_layer(ws_).socket().set_option(tcp::no_delay(true), connect_ec);
    configure(beast::role_type::client);
    const std::string host = format_ws_address(target_.host, target_.port).substr(5);  // no ws://
    auto [upgrade_ec] = co_await ws_.async_handshake(host, target_.target, use_nothrow);
    if (upgrade_ec) {
        failure_ = "websocket upgrade: " + upgrade_ec.message();
        co_return false;
    }
    co_return true;
}

asio::awaitable<bool> Session::accept() {
    boost::system::error_code ignored;
    beast::get_lowest_layer(ws_).socket().set_option(tcp::no_delay(true), ignored);
    configure(beast::role_type::server);
    auto [ec] = co_await ws_.async_accept(use_nothrow);
    if (ec) {
        failure_ = "websocket upgrade: " + ec.message();
        co_return false;
    }
    co_return true;
}

asio::awaitable<bool> Session::write_handshake_frame(std::string frame) {
    auto [ec, n] = co_await ws_.async_write(asio::buffer(frame), use_nothrow);
    if (ec) failure_ = "write: " + ec.message();
    co_return !ec && !t_->closed_;
}

asio::awaitable<std::optional<std::string>> Session::read_handshake_frame() {
    buffer_.clear();
    auto [ec, n] = co_await ws_.async_read(buffer_, use_nothrow);
    if (ec) {
        failure_ = "read: " + ec.message();
        co_return std::nullopt;
    }
    if (t_->closed_) co_return std::nullopt;
    co_return std::string(static_cast<const char*>(buffer_.data().data()), buffer_.size());
}

asio::awaitable<bool> Session::reject_handshake(std::string reason) {
    failure_ = std::move(reason);
    // Tell the peer why at the WebSocket level; bounded by handshake_timeout (and our timer).
    co_await ws_.async_close(websocket::close_code::policy_error, use_nothrow);
    co_return false;
}

asio::awaitable<bool> Session::authenticate() {
    const crypto::Nonce our_nonce = crypto::random_nonce();
    if (!co_await write_handshake_frame(make_hello(our_nonce))) co_return false;

    auto hello = co_await read_handshake_frame();
    if (!hello) co_return false;
    auto peer_nonce = parse_hello(*hello);
    if (!peer_nonce)
        co_return co_await reject_handshake("bad HELLO: " + peer_nonce.error().message());

    if (!co_await write_handshake_frame(make_auth(*peer_nonce, t_->keys_, t_->address_))) {
        co_return false;
    }

    auto auth = co_await read_handshake_frame();
    if (!auth) co_return false;
    auto peer = verify_auth(*auth, our_nonce, t_->config_.limits);
    if (!peer) co_return co_await reject_handshake("bad AUTH: " + peer.error().message());
    // Refusing our own id also defeats reflecting our AUTH back at us.
    if (peer->node_id == t_->self_) co_return co_await reject_handshake("peer uses our node id");
    if (role_ == Role::outbound && !expected_.is_zero() && peer->node_id != expected_) {
        co_return co_await reject_handshake("expected node " + expected_.short_hex() +
                                            ", peer is " + peer->node_id.short_hex());
    }
    peer_ = peer->node_id;
    co_return true;
}

asio::awaitable<void> Session::read_loop() {
    for (;;) {
        buffer_.clear();
        auto [ec, n] = co_await ws_.async_read(buffer_, use_nothrow);
        if (ec) {
            note_read_end(ec);
            co_return;
        }
        touch();
        // After a violation close or close(): drain until the closing handshake completes.
        if (ignore_inbound_ || t_->closed_) continue;
        const std::string_view frame(static_cast<const char*>(buffer_.data().data()),
                                     buffer_.size());
        handle_frame(frame, ws_.got_text());
    }
}

void Session::handle_frame(std::string_view frame, bool text) {
    // The rate limit comes first: it is the cheap check, and it is what keeps a flooding peer
    // from making us verify a signature per frame.
    if (!bucket_.try_take(std::chrono::steady_clock::now())) {
        return violation(&Stats::rejected_rate, "over the rate limit");
    }
    if (!text) return violation(&Stats::rejected_invalid, "binary frame");
    auto env = wire::decode_envelope(frame, t_->config_.limits);
    if (!env) return violation(&Stats::rejected_invalid, env.error().message());
    if (env->sender.node_id != peer_) {
        return violation(&Stats::rejected_invalid,
                         "envelope from " + env->sender.node_id.short_hex() + " on this session");
    }
    const std::int64_t now = t_->clock_.unix_seconds();
    switch (replay_.check(env->id, env->timestamp, now)) {
        case ReplayGuard::Verdict::stale:
            return violation(&Stats::rejected_replay,
                             "timestamp " + std::to_string(env->timestamp - now) + " s off");
        case ReplayGuard::Verdict::duplicate:
            return violation(&Stats::rejected_replay, "duplicate message id " + env->id);
        case ReplayGuard::Verdict::fresh:
            break;
    }
    if (unanswered_ > 0 && is_reply(env->payload)) --unanswered_;
    ++t_->stats_.messages_in;
    if (t_->sink_ == nullptr) return;
    // The sink may call send() or close(); this session stays alive (run() holds it).
    t_->sink_->on_message(dht::InboundMessage{wire::Contact{peer_, std::move(env->sender.address)},
                                              std::move(env->id), std::move(env->payload)});
}

void Session::violation(std::uint64_t Stats::*counter, std::string_view what) {
    ++(t_->stats_.*counter);
    ++violations_;
    spdlog::debug("net: session {}: rejected message ({}/{}): {}", label(), violations_,
                  t_->config_.max_violations, what);
    if (violations_ < t_->config_.max_violations || close_requested_) return;
    ++t_->stats_.disconnects_for_violations;
    spdlog::warn("net: closing session {}: {} rejected messages, last: {}", label(), violations_,
                 what);
    ignore_inbound_ = true;
    close_gracefully(websocket::close_code::policy_error, true);
}

void Session::note_read_end(const boost::system::error_code& ec) {
    if (ec == websocket::error::message_too_big) {
        ++t_->stats_.rejected_oversize;
        spdlog::warn("net: closed session {}: frame over {} bytes", label(),
                     t_->config_.limits.max_frame_bytes);
    } else if (ec == websocket::error::closed) {
        spdlog::debug("net: session {} closed by peer ({})", label(), ws_.reason().code);
    } else {
        spdlog::debug("net: session {} ended: {}", label(), ec.message());
    }
}

void Session::enqueue(std::string frame) {
    if (queue_.size() >= max_queued_frames) {
        ++t_->stats_.messages_dropped;
        spdlog::debug("net: session {}: send queue full, dropping a message", label());
        return;
    }
    queue_.push_back(std::move(frame));
    start_writer();
}

std::deque<std::string> Session::take_unsent() {
    close_requested_ = true;
    std::deque<std::string> out;
    // The frame being written is the socket's now; std::deque keeps its address stable.
    const std::size_t keep = writing_ && !queue_.empty() ? 1 : 0;
    while (queue_.size() > keep) {
        out.push_front(std::move(queue_.back()));
        queue_.pop_back();
    }
    return out;
}

void Session::start_writer() {
    if (writing_ || state_ != State::open) return;
    if (queue_.empty() && !(close_requested_ && !close_sent_)) return;
    writing_ = true;
    asio::co_spawn(ws_.get_executor(), write_loop(shared_from_this()),
                   LogExceptions{"net", "session writer"});
}

// One write in flight at a time (WebSocket frames must not interleave); frames queued meanwhile
// go out in order. A requested close goes out after the queue is flushed.
asio::awaitable<void> Session::write_loop(std::shared_ptr<Session> self) {
    while (!queue_.empty() && state_ == State::open) {
        auto [ec, n] = co_await ws_.async_write(asio::buffer(queue_.front()), use_nothrow);
        if (ec) {
            spdlog::debug("net: session {}: write failed: {}", label(), ec.message());
            writing_ = false;
            abort();  // the read loop ends too and the session is cleaned up
            co_return;
        }
        queue_.pop_front();
        ++t_->stats_.messages_out;
        touch();
    }
    if (close_requested_ && !close_sent_ && state_ == State::open) {
        close_sent_ = true;
        auto [ec] = co_await ws_.async_close(close_code_, use_nothrow);
        if (ec) abort();
    }
    // Left over when the connection ended under us (their fate is unknown to the peer too).
    t_->stats_.messages_dropped += queue_.size();
    queue_.clear();
    writing_ = false;
    (void)self;
}

void Session::close_gracefully(websocket::close_code code, bool drop_unsent) {
    if (close_requested_) return;
    if (drop_unsent) {
        const auto dropped = take_unsent();
        t_->stats_.messages_dropped += dropped.size();
    }
    close_requested_ = true;
    close_code_ = code;
    retiring_ = false;
    retire_timer_.cancel();
    t_->on_closing(*this);
    start_writer();
}

void Session::retire(Session& winner) {
    retiring_ = true;
    auto unsent = take_unsent();
    close_requested_ = false;  // still open for the grace period, but no longer the sender
    for (auto& frame : unsent) winner.enqueue(std::move(frame));
    spdlog::debug(
        "net: duplicate sessions with {}: keeping the one dialed by {}, closing the "
        "other in {} s",
        peer_.short_hex(), winner.dialer().short_hex(), t_->config_.handshake_timeout.count());
    // The peer picks the same connection, but finishes its handshake up to a round trip later
    // and may still send on this one until then: read on for a grace period before closing.
    retire_timer_.expires_after(t_->config_.handshake_timeout);
    retire_timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
        if (ec) return;
        auto s = weak.lock();
        if (s && s->retiring_) s->close_gracefully(websocket::close_code::normal, false);
    });
}

void Session::promote() {
    retiring_ = false;
    retire_timer_.cancel();
}

void Session::shutdown() {
    retire_timer_.cancel();
    if (state_ == State::handshaking) {
        abort();
    } else if (state_ == State::open) {
        ignore_inbound_ = true;
        close_gracefully(websocket::close_code::going_away, true);
    }
}

void Session::close_idle() {
    assert(idle());
    close_gracefully(websocket::close_code::normal, false);
}

void Session::abort() noexcept {
    boost::system::error_code ignored;
    resolver_.cancel();
    beast::get_lowest_layer(ws_).socket().close(ignored);
}

void Session::finish() {
    if (state_ == State::handshaking && !t_->closed_) {
        if (timed_out_)
            failure_ =
                "timed out after " + std::to_string(t_->config_.handshake_timeout.count()) + " s";
        if (dial_failed_) {
            ++t_->stats_.dials_failed;
            spdlog::debug("net: dial {} failed: {}", label(), failure_);
        } else {
            ++t_->stats_.handshakes_failed;
            // debug, not info: anyone can make handshakes fail, and the count is in the stats.
            spdlog::debug("net: handshake {} failed: {}", label(), failure_);
        }
    }
    state_ = State::closed;
    handshake_timer_.cancel();
    retire_timer_.cancel();
    abort();
    t_->on_ended(*this);
}

// ---- WsTransportImpl ------------------------------------------------------------------------

WsTransportImpl::WsTransportImpl(asio::io_context& io, const crypto::KeyPair& keys,
                                 const Clock& clock, WsTransportConfig config)
    : io_(io),
      keys_(crypto::KeyPair::from_seed(keys.seed())),
      self_(keys_.node_id()),
      clock_(clock),
      config_(std::move(config)),
      agent_id_(config_.agent_id),
      operator_id_(config_.operator_id),
      acceptor_(io),
      address_(config_.advertised_address),
      sweep_timer_(io) {}

std::error_code WsTransportImpl::listen() {
    if (closed_) return std::make_error_code(std::errc::operation_canceled);
    if (listening_) return std::make_error_code(std::errc::already_connected);
    boost::system::error_code ec;
    const auto host = asio::ip::make_address(config_.listen_host, ec);
    if (ec) return ec;
    const tcp::endpoint endpoint(host, config_.listen_port);
    if (auto listen_ec = open_listener(acceptor_, endpoint, port_)) return listen_ec;
    listening_ = true;
    if (config_.advertised_address.empty()) {
        address_ = format_ws_address(host.to_string(), port_);
        if (host.is_unspecified()) {
            spdlog::warn(
                "net: listening on a wildcard address without advertised_address: "
                "peers cannot dial {}",
                address_);
        }
    }
    spdlog::info("net: listening on {}:{} as {}", host.to_string(), port_, address_);
    asio::co_spawn(io_, accept_loop(shared_from_this()), LogExceptions{"net", "accept loop"});
    return {};
}

asio::awaitable<void> WsTransportImpl::accept_loop(std::shared_ptr<WsTransportImpl> self) {
    while (!closed_) {
        auto [ec, socket] = co_await acceptor_.async_accept(use_nothrow);
        if (closed_) break;
        if (ec) {
            spdlog::warn("net: accept failed: {}", ec.message());
            asio::steady_timer backoff(io_, accept_error_backoff);
            co_await backoff.async_wait(use_nothrow);
            continue;
        }
        if (inbound_ >= config_.max_sessions) {
            ++stats_.sessions_rejected;
            spdlog::debug("net: refusing connection: {} inbound sessions", inbound_);
            boost::system::error_code ignored;
            socket.close(ignored);
            continue;
        }
        // Accepted even when every session is busy: max_sessions is the limit that refuses.
        (void)make_room("inbound connection");
        ++inbound_;
        start(std::make_shared<Session>(shared_from_this(), std::move(socket)));
    }
    (void)self;
}

void WsTransportImpl::start(std::shared_ptr<Session> s) {
    sessions_.insert(s.get());
    process_sockets.fetch_add(1, std::memory_order_relaxed);
    if (!sweeping_) arm_sweep();
    Session& session = *s;
    asio::co_spawn(io_, session.run(std::move(s)), LogExceptions{"net", "session"});
}

void WsTransportImpl::send(const wire::Contact& to, dht::Message msg) {
    if (closed_) return;
    if (to.id == self_) {
        spdlog::debug("net: not sending {} to ourselves", msg.id);
        return;
    }
    // Pick (or set up) the session before signing: a message that cannot go anywhere costs no
    // signature.
    Session* session = nullptr;
    if (auto it = senders_.find(to.id); it != senders_.end() && it->second->can_send()) {
        session = it->second;
    } else if (auto d = dialing_.find(dial_key(to.id, to.address));
               d != dialing_.end() && d->second->can_send()) {
        session = d->second;
    }
    std::optional<WsAddress> target;
    if (session == nullptr) {
        auto parsed = parse_ws_address(to.address);
        if (!parsed) {
            ++stats_.messages_dropped;
            spdlog::debug("net: cannot dial {}: unsupported address '{}'", to.id.short_hex(),
                          printable(to.address));
            return;
        }
        if (outbound_ >= config_.max_sessions) {
            ++stats_.messages_dropped;
            spdlog::warn("net: cannot dial {}: {} outbound sessions", to.id.short_hex(), outbound_);
            return;
        }
        if (!make_room("dial")) {
            ++stats_.messages_dropped;
            spdlog::debug("net: cannot dial {}: {} live sessions, all busy", to.id.short_hex(),
                          live_sessions());
            return;
        }
        target = std::move(*parsed);
    }

    wire::EnvelopeDraft draft;
    draft.id = std::move(msg.id);
    draft.agent_id = agent_id_;
    draft.operator_id = operator_id_;
    draft.address = address_;
    draft.timestamp = clock_.unix_seconds();
    draft.payload = std::move(msg.payload);
    auto frame = wire::sign_envelope(draft, keys_, config_.limits);
    if (!frame) {
        ++stats_.messages_dropped;
        spdlog::warn("net: cannot send {} to {}: {}", wire::to_string(wire::type_of(draft.payload)),
                     to.id.short_hex(), frame.error().message());
        return;
    }
    const bool request = !is_reply(draft.payload);
    if (session != nullptr) {
        session->enqueue(std::move(*frame));
        if (request) session->note_request_sent();
        return;
    }
    ++outbound_;
    auto s = std::make_shared<Session>(shared_from_this(), std::move(*target), to.id, to.address);
    dialing_[s->dial_key()] = s.get();
    s->enqueue(std::move(*frame));  // held until the handshake completes
    if (request) s->note_request_sent();
    start(std::move(s));
}

bool WsTransportImpl::prefer(const Session& a, const Session& b) const {
    const NodeId& lower = std::min(self_, a.peer());
    const bool a_by_lower = a.dialer() == lower;
    const bool b_by_lower = b.dialer() == lower;
    return a_by_lower || !b_by_lower;  // equal rank: a, the newer one
}

void WsTransportImpl::on_authenticated(Session& s) {
    ++stats_.sessions_opened;
    if (auto it = dialing_.find(s.dial_key()); it != dialing_.end() && it->second == &s) {
        dialing_.erase(it);
    }
    spdlog::debug("net: session {} open", s.label());
    auto [it, inserted] = senders_.try_emplace(s.peer(), &s);
    if (inserted) return;
    Session& current = *it->second;
    if (prefer(s, current)) {
        it->second = &s;
        current.retire(s);
    } else {
        s.retire(current);
    }
}

void WsTransportImpl::promote_other(Session& ending) {
    for (Session* other : sessions_) {
        if (other != &ending && other->authenticated() && other->peer() == ending.peer() &&
            other->state() == Session::State::open && other->can_send()) {
            other->promote();
            senders_[ending.peer()] = other;
            return;
        }
    }
}

void WsTransportImpl::on_closing(Session& s) {
    if (!s.authenticated()) return;
    auto it = senders_.find(s.peer());
    if (it == senders_.end() || it->second != &s) return;
    senders_.erase(it);
    if (!closed_) promote_other(s);
}

void WsTransportImpl::on_ended(Session& s) {
    if (!sessions_.contains(&s)) return;
    on_closing(s);
    auto unsent = s.take_unsent();
    forget(s);
    if (sessions_.empty() && sweeping_) {
        // Nothing left to sweep: no timer keeps io.run() busy. start() arms it again.
        sweep_timer_.cancel();
        sweeping_ = false;
    }
    if (unsent.empty()) return;
    // Frames of a session that failed (or lost a duplicate race) go to another session with the
    // same peer if there is one; otherwise they are dropped and the RPC layer times out.
    const NodeId& peer = s.authenticated() ? s.peer() : s.expected();
    auto it = senders_.find(peer);
    if (!closed_ && it != senders_.end() && it->second->can_send()) {
        for (auto& frame : unsent) it->second->enqueue(std::move(frame));
    } else {
        stats_.messages_dropped += unsent.size();
        spdlog::debug("net: dropped {} queued message(s) for {}", unsent.size(), peer.short_hex());
    }
}

std::size_t WsTransportImpl::live_sessions() const {
    return static_cast<std::size_t>(
        std::count_if(sessions_.begin(), sessions_.end(), [](Session* s) { return s->live(); }));
}

bool WsTransportImpl::recycle_one(std::string_view why, bool allow_awaiting) {
    // A linear scan: it runs only at the cap, over at most a few hundred sessions, while keeping
    // an LRU list in order would cost a splice on every frame.
    const auto now = steady_clock::now();
    Session* best = nullptr;
    bool best_awaiting = false;
    for (Session* s : sessions_) {
        if (!s->idle()) continue;
        const bool awaiting = s->awaiting_reply(now);
        if (awaiting && !allow_awaiting) continue;
        if (best == nullptr || std::pair(awaiting, s->last_activity()) <
                                   std::pair(best_awaiting, best->last_activity())) {
            best = s;
            best_awaiting = awaiting;
        }
    }
    if (best == nullptr) return false;
    ++stats_.sessions_recycled;
    spdlog::debug("net: closing idle session {} to make room for a {}{}", best->label(), why,
                  best_awaiting ? " (a reply may be lost)" : "");
    best->close_idle();
    return true;
}

bool WsTransportImpl::make_room(std::string_view why) {
    const std::size_t live = live_sessions();
    if (live >= config_.max_live_sessions) {
        return recycle_one(why, true) || live < 2 * config_.max_live_sessions;
    }
    const std::size_t sockets = process_sockets.load(std::memory_order_relaxed);
    const std::size_t budget = socket_budget();
    if (sockets >= budget) {
        if (!warned_descriptors_) {
            warned_descriptors_ = true;
            spdlog::warn(
                "net: {} sessions in this process, {} fit under the file descriptor limit "
                "(RLIMIT_NOFILE, less a reserve): closing idle sessions before opening new ones",
                sockets, budget);
        }
        // Below our own cap, so never at the cost of an awaited reply. With nothing to close,
        // go ahead: the reserve left by socket_budget() absorbs it, and the peer we dial makes
        // room among its own sessions when it accepts.
        (void)recycle_one(why, false);
    }
    return true;
}

void WsTransportImpl::arm_sweep() {
    const auto interval =
        std::max(std::chrono::duration_cast<std::chrono::milliseconds>(config_.idle_timeout) /
                     idle_sweeps_per_timeout,
                 min_idle_sweep_interval);
    sweeping_ = true;
    // expires_after() cancels a wait still pending, so at most one sweep chain exists.
    sweep_timer_.expires_after(interval);
    sweep_timer_.async_wait(
        [weak = weak_from_this()](const boost::system::error_code& ec) noexcept {
            if (ec) return;  // cancelled: close(), the last session ended, or re-armed
            auto t = weak.lock();
            if (!t) return;
            t->sweeping_ = false;
            try {
                t->sweep();
            } catch (const std::exception& e) {  // bad_alloc: skip this round
                spdlog::error("net: idle sweep failed: {}", e.what());
            }
            if (!t->closed_ && !t->sessions_.empty()) t->arm_sweep();
        });
}

void WsTransportImpl::sweep() {
    const auto deadline = steady_clock::now() - config_.idle_timeout;
    // Collected first: closing edits senders_ and may promote another session.
    std::vector<std::shared_ptr<Session>> expired;
    for (Session* s : sessions_) {
        if (s->idle() && s->last_activity() <= deadline) expired.push_back(s->shared_from_this());
    }
    for (auto& s : expired) {
        if (!s->idle()) continue;
        ++stats_.sessions_closed_idle;
        spdlog::debug("net: closing session {}: idle for {} s", s->label(),
                      config_.idle_timeout.count());
        s->close_idle();
    }
}

void WsTransportImpl::forget(Session& s) noexcept {
    if (sessions_.erase(&s) == 0) return;
    process_sockets.fetch_sub(1, std::memory_order_relaxed);
    --(s.role() == Session::Role::inbound ? inbound_ : outbound_);
    if (auto it = dialing_.find(s.dial_key()); it != dialing_.end() && it->second == &s) {
        dialing_.erase(it);
    }
    if (auto it = senders_.find(s.peer()); it != senders_.end() && it->second == &s) {
        senders_.erase(it);
    }
}

void WsTransportImpl::close() {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    sweep_timer_.cancel();
    sweeping_ = false;
    // shutdown() may re-enter on_closing(), which edits the maps but never sessions_.
    std::vector<std::shared_ptr<Session>> all;
    all.reserve(sessions_.size());
    for (Session* s : sessions_) all.push_back(s->shared_from_this());
    for (auto& s : all) s->shutdown();
    if (!all.empty()) spdlog::info("net: closing {} session(s)", all.size());
}

}  // namespace detail

// ---- WsTransport ----------------------------------------------------------------------------

namespace {

void validate(const WsTransportConfig& config) {
    if (!config.advertised_address.empty() && !parse_ws_address(config.advertised_address)) {
        throw std::invalid_argument("advertised_address must be ws://host:port[/path]");
    }
    if (!config.agent_id.empty() && !wire::is_valid_id(config.agent_id)) {
        throw std::invalid_argument("invalid agent_id");
    }
    if (!config.operator_id.empty() && !wire::is_valid_id(config.operator_id)) {
        throw std::invalid_argument("invalid operator_id");
    }
    if (!(config.rate_per_second > 0) || !(config.rate_burst >= 1)) {
        throw std::invalid_argument("rate_per_second must be > 0 and rate_burst >= 1");
    }
    if (config.max_violations == 0) throw std::invalid_argument("max_violations must be >= 1");
    if (config.handshake_timeout.count() <= 0) {
        throw std::invalid_argument("handshake_timeout must be positive");
    }
    if (config.idle_timeout.count() <= 0) {
        throw std::invalid_argument("idle_timeout must be positive");
    }
    if (config.max_live_sessions == 0) {
        throw std::invalid_argument("max_live_sessions must be >= 1");
    }
}

}  // namespace

WsTransport::WsTransport(boost::asio::io_context& io, const crypto::KeyPair& keys,
                         const Clock& clock, WsTransportConfig config) {
    validate(config);
    impl_ = std::make_shared<detail::WsTransportImpl>(io, keys, clock, std::move(config));
}

WsTransport::~WsTransport() {
    impl_->close();
    impl_->sink_ = nullptr;
}

void WsTransport::set_sink(dht::MessageSink* sink) {
    impl_->sink_ = sink;
}
std::error_code WsTransport::listen() {
    return impl_->listen();
}
std::uint16_t WsTransport::port() const {
    return impl_->port_;
}
std::string WsTransport::address() const {
    return impl_->address_;
}
void WsTransport::send(const wire::Contact& to, dht::Message msg) {
    impl_->send(to, std::move(msg));
}
void WsTransport::close() {
    impl_->close();
}
void WsTransport::set_identity(std::string agent_id, std::string operator_id) {
    if ((!agent_id.empty() && !wire::is_valid_id(agent_id)) ||
        (!operator_id.empty() && !wire::is_valid_id(operator_id))) {
        throw std::invalid_argument("invalid agent_id or operator_id");
    }
    impl_->agent_id_ = std::move(agent_id);
    impl_->operator_id_ = std::move(operator_id);
}
const WsTransport::Stats& WsTransport::stats() const {
    return impl_->stats_;
}
std::size_t WsTransport::session_count() const {
    return impl_->sessions_.size();
}

}  // namespace nocturne::net
