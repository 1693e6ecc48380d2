// PeerSession: the one translation unit of the transport that includes Beast (compile time).

#include "peer_session.hpp"

#include <nocturne/crypto/channel.hpp>
#include <nocturne/crypto/random.hpp>
#include <nocturne/net/admission.hpp>
#include <nocturne/net/flow_control.hpp>
#include <nocturne/wire/envelope.hpp>
#include <nocturne/wire/reply_shape.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <optional>
#include <utility>

#include "asio_support.hpp"
#include "transport_core.hpp"

namespace nocturne::net::detail {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using Stats = WsTransport::Stats;
using asio_support::LogExceptions;
using asio_support::use_nothrow;

FlowControl::Options flow_options(const WsTransportConfig& config) {
    FlowControl::Options o;
    o.rate_per_second = config.rate_per_second;
    o.burst = config.rate_burst;
    o.pace_fraction = config.pace_fraction;
    return o;
}

std::string endpoint_text(const tcp::endpoint& endpoint) {
    return format_ws_address(endpoint.address().to_string(), endpoint.port()).substr(5);
}

class WsPeerSession final : public PeerSession {
public:
    enum class Role { inbound, outbound };
    // One state instead of a flag per condition: each step of a session's life excludes the others.
    enum class State {
        handshaking,  // connect, upgrade, HELLO/AUTH
        open,         // carries traffic for its peer
        retiring,     // a duplicate: reads on for a grace period, its frames went to the winner
        closing,      // close requested: the queue is flushed, then the close frame goes out
        close_sent,   // waiting for the peer's close (or the read to fail)
        closed,
    };
    // Why a handshake did not complete, for the counters and the log line.
    enum class Failure { none, dial, timeout, protocol };

    WsPeerSession(std::shared_ptr<WsTransportImpl> t, tcp::socket socket, SessionId id)
        : t_(std::move(t)),
          id_(id),
          role_(Role::inbound),
          ws_(std::move(socket)),
          resolver_(ws_.get_executor()),
          handshake_timer_(ws_.get_executor()),
          retire_timer_(ws_.get_executor()),
          pace_timer_(ws_.get_executor()),
          stall_timer_(ws_.get_executor()),
          flow_(flow_options(t_->config_), std::chrono::steady_clock::now()) {
        boost::system::error_code ec;
        const auto endpoint = beast::get_lowest_layer(ws_).socket().remote_endpoint(ec);
        remote_ = ec ? std::string("unknown") : endpoint_text(endpoint);
        if (!ec) remote_ip_ = endpoint.address().to_string();
        counts_handshake_ = true;  // the accept loop counted it against its IP
    }

    WsPeerSession(std::shared_ptr<WsTransportImpl> t, WsAddress target, NodeId expected,
                  SessionId id)
        : t_(std::move(t)),
          id_(id),
          role_(Role::outbound),
          ws_(t_->io_.get_executor()),
          resolver_(ws_.get_executor()),
          handshake_timer_(ws_.get_executor()),
          retire_timer_(ws_.get_executor()),
          pace_timer_(ws_.get_executor()),
          stall_timer_(ws_.get_executor()),
          target_(std::move(target)),
          expected_(expected),
          flow_(flow_options(t_->config_), std::chrono::steady_clock::now()) {
        remote_ = printable(format_ws_address(target_.host, target_.port).substr(5));
    }

    // Normally run() has already ended the session; this covers coroutines destroyed without
    // finishing (io_context destroyed while they were suspended).
    ~WsPeerSession() override { t_->forget(id_); }

    void start() override {
        asio::co_spawn(ws_.get_executor(),
                       run(std::static_pointer_cast<WsPeerSession>(shared_from_this())),
                       LogExceptions{"net", "session"});
    }

    bool enqueue(OutFrame frame) override {
        if (closing()) return false;
        if (queued_bytes_ + frame.frame.size() > t_->config_.max_queued_bytes) {
            const auto stalled =
                writing_ && std::chrono::steady_clock::now() - last_progress_ >= stall_limit();
            if (pacing_ || !stalled) {
                // The backlog is ours: we sent faster than the peer reads or grants, and it is
                // reading. Refuse this frame (its request fails at once) rather than blame the
                // peer; if the peer stops reading, the stall check cuts it.
                ++t_->stats_.paced_refusals;
                arm_stall_check();
                return false;
            }
            cut_slow_reader();
            return false;
        }
        // The stall clock starts when there is something to write, not at the last write long ago.
        if (queue_.empty()) last_progress_ = std::chrono::steady_clock::now();
        queued_bytes_ += frame.frame.size();
        queue_.push_back(std::move(frame));
        t_->set_busy(*this, true);
        start_writer();
        return true;
    }

    std::deque<OutFrame> take_unsent() override {
        std::deque<OutFrame> out;
        // The frame being written is the socket's now; std::deque keeps its address stable.
        const std::size_t keep = writing_ && !queue_.empty() ? 1 : 0;
        while (queue_.size() > keep) {
            queued_bytes_ -= queue_.back().frame.size();
            out.push_front(std::move(queue_.back()));
            queue_.pop_back();
        }
        return out;
    }

    void retire(PeerSession& winner) override {
        state_ = State::retiring;
        auto unsent = take_unsent();
        for (auto& frame : unsent) {
            const auto id = frame.request_id;
            if (!winner.enqueue(std::move(frame)) && !id.empty()) t_->report_undeliverable(id);
        }
        spdlog::debug("net: duplicate sessions with {}: keeping {}, closing this one ({}) in {} s",
                      peer_.short_hex(), winner.label(), label(),
                      t_->config_.handshake_timeout.count());
        // The peer picks the same connection, but finishes its handshake up to a round trip later
        // and may still send on this one until then: read on for a grace period before closing.
        retire_timer_.expires_after(t_->config_.handshake_timeout);
        retire_timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
            if (ec) return;
            auto s = std::static_pointer_cast<WsPeerSession>(weak.lock());
            if (s && s->state_ == State::retiring) {
                s->close_gracefully(websocket::close_code::normal, false);
            }
        });
    }

    void promote() override {
        if (state_ != State::retiring) return;
        state_ = State::open;
        retire_timer_.cancel();
    }

    void shutdown() override {
        // A session already closing keeps its retire timer: it bounds the flush and the closing
        // handshake, and is all that stops a peer that reads nothing from delaying our exit.
        if (state_ == State::handshaking) {
            abort();
        } else if (state_ == State::open || state_ == State::retiring) {
            silenced_ = true;
            close_gracefully(websocket::close_code::going_away, true);
        }
    }

    void close_idle() override { close_gracefully(websocket::close_code::normal, false); }

    SessionId id() const override { return id_; }
    const NodeId& peer() const override { return peer_; }
    const std::string& remote_ip() const override { return remote_ip_; }
    const NodeId& expected() const override { return expected_; }
    std::string label() const override {
        std::string out = role_ == Role::outbound ? "to " : "from ";
        if (!peer_.is_zero() || role_ == Role::outbound) {
            out += (!peer_.is_zero() ? peer_ : expected_).short_hex();
            out += ' ';
        }
        out += '(' + remote_ + ')';
        return out;
    }

    std::string describe() const override {
        static constexpr const char* names[] = {"handshaking", "open",       "retiring",
                                                "closing",     "close sent", "closed"};
        std::string out = label() + ": " + names[static_cast<int>(state_)];
        if (writing_) out += pacing_ ? ", writer pacing" : ", writer writing";
        out += ", " + std::to_string(queue_.size()) + " queued";
        if (silenced_) out += ", silenced";
        return out;
    }

private:
    asio::awaitable<void> run(std::shared_ptr<WsPeerSession> self) {
        arm_handshake_timer();
        bool ok = role_ == Role::outbound ? co_await connect() : co_await accept();
        if (ok) ok = co_await authenticate();
        handshake_timer_.cancel();
        if (counts_handshake_) {
            counts_handshake_ = false;
            t_->handshake_done(remote_ip_);
        }
        if (ok && state_ == State::handshaking && !t_->closed_) {
            state_ = State::open;
            // Sealed frames from here on: binary, each up to a message plus the channel's tag.
            ws_.binary(true);
            ws_.read_message_max(t_->config_.limits.max_frame_bytes +
                                 crypto::ChannelSender::overhead);
            t_->touch(*this);
            t_->on_authenticated(*this);  // may retire us at once
            start_writer();
            co_await read_loop();
        }
        finish();
        (void)self;  // the parameter keeps the session alive until here
    }

    void configure(beast::role_type role) {
        auto timeouts = websocket::stream_base::timeout::suggested(role);
        timeouts.handshake_timeout = t_->config_.handshake_timeout;
        // Beast suggests no idle limit for clients; a DHT peer is both, so both ends use the
        // server's idle limit with keep-alive pings: a silent-but-alive peer stays, a vanished one
        // is dropped.
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

    void arm_handshake_timer() {
        handshake_timer_.expires_after(t_->config_.handshake_timeout);
        handshake_timer_.async_wait(
            [weak = weak_from_this()](const boost::system::error_code& ec) noexcept {
                if (ec) return;
                auto s = std::static_pointer_cast<WsPeerSession>(weak.lock());
                if (!s || s->state_ != State::handshaking) return;
                s->failure_kind_ = Failure::timeout;
                s->abort();
            });
    }

    asio::awaitable<bool> connect() {
        auto [resolve_ec, endpoints] = co_await resolver_.async_resolve(
            target_.host, std::to_string(target_.port), use_nothrow);
        if (resolve_ec) {
            fail(Failure::dial, "resolve " + printable(target_.host) + ": " + resolve_ec.message());
            co_return false;
        }
        auto [connect_ec, endpoint] =
            co_await beast::get_lowest_layer(ws_).async_connect(endpoints, use_nothrow);
        if (connect_ec) {
            fail(Failure::dial, "connect: " + connect_ec.message());
            co_return false;
        }
        remote_ = endpoint_text(endpoint);
        remote_ip_ = endpoint.address().to_string();
        beast::get_lowest_layer(ws_).socket().set_option(tcp::no_delay(true), connect_ec);
        configure(beast::role_type::client);
        const std::string host = format_ws_address(target_.host, target_.port).substr(5);
        auto [upgrade_ec] = co_await ws_.async_handshake(host, target_.target, use_nothrow);
        if (upgrade_ec) {
            fail(Failure::protocol, "websocket upgrade: " + upgrade_ec.message());
            co_return false;
        }
        co_return true;
    }

    asio::awaitable<bool> accept() {
        boost::system::error_code ignored;
        beast::get_lowest_layer(ws_).socket().set_option(tcp::no_delay(true), ignored);
        configure(beast::role_type::server);
        auto [ec] = co_await ws_.async_accept(use_nothrow);
        if (ec) {
            fail(Failure::protocol, "websocket upgrade: " + ec.message());
            co_return false;
        }
        co_return true;
    }

    asio::awaitable<bool> write_handshake_frame(std::string frame) {
        auto [ec, n] = co_await ws_.async_write(asio::buffer(frame), use_nothrow);
        if (ec) fail(Failure::protocol, "write: " + ec.message());
        co_return !ec && !t_->closed_;
    }

    asio::awaitable<std::optional<std::string>> read_handshake_frame() {
        buffer_.clear();
        auto [ec, n] = co_await ws_.async_read(buffer_, use_nothrow);
        if (ec) {
            fail(Failure::protocol, "read: " + ec.message());
            co_return std::nullopt;
        }
        if (t_->closed_) co_return std::nullopt;
        std::string frame(static_cast<const char*>(buffer_.data().data()), buffer_.size());
        release_buffer();
        co_return frame;
    }

    // The read buffer grows to the largest frame read (a HELLO with credentials, a STORE, an
    // answer with records) and would keep that capacity for the session's life: with a hundred
    // sessions a node, that was most of its memory (docs/performance.md). Small frames, the
    // common case, keep theirs.
    void release_buffer() {
        constexpr std::size_t keep_bytes = 2048;
        if (buffer_.capacity() <= keep_bytes) return;
        buffer_.clear();
        buffer_.shrink_to_fit();
    }

    asio::awaitable<bool> reject_handshake(std::string reason) {
        fail(Failure::protocol, std::move(reason));
        // Tell the peer why at the WebSocket level; bounded by handshake_timeout (and our timer).
        co_await ws_.async_close(websocket::close_code::policy_error, use_nothrow);
        co_return false;
    }

    asio::awaitable<bool> authenticate() {
        const auto& network = t_->config_.network;
        // Fresh for this session and wiped as soon as the keys are derived: forward secrecy.
        std::optional<crypto::EphemeralKey> ephemeral = crypto::EphemeralKey::generate();
        const Hello ours{crypto::random_nonce(), network, ephemeral->public_key()};
        if (!co_await write_handshake_frame(make_hello(ours))) co_return false;

        auto frame = co_await read_handshake_frame();
        if (!frame) co_return false;
        auto hello = parse_hello(*frame);
        if (!hello) co_return co_await reject_handshake("bad HELLO: " + hello.error().message());
        if (hello->network != network) {
            // A node of another mesh (another genesis): never one of our peers. Said at info
            // level, because it is a configuration mistake worth seeing.
            ++t_->stats_.network_mismatches;
            spdlog::info("net: refused {}: it belongs to network {}, ours is {}", label(),
                         printable(hello->network, 16), printable(network, 16));
            co_return co_await reject_handshake("network mismatch");
        }

        const bool dialer = role_ == Role::outbound;
        auto keys = crypto::ChannelKeys::derive(dialer, *ephemeral, hello->kx);
        ephemeral.reset();
        if (!keys) co_return co_await reject_handshake("bad HELLO: " + keys.error().message());
        sender_.emplace(*keys);
        const AuthBinding binding{hello->nonce, hello->kx, ours.kx, sender_->header()};
        if (!co_await write_handshake_frame(make_auth(binding, t_->keys_, t_->address_, network,
                                                      *t_->credentials_, *keys, dialer))) {
            co_return false;
        }

        auto auth = co_await read_handshake_frame();
        if (!auth) co_return false;
        auto peer = verify_auth(*auth, ours, *hello, *keys, dialer, t_->config_.limits);
        if (!peer) co_return co_await reject_handshake("bad AUTH: " + peer.error().message());
        // Refusing our own id also defeats reflecting our AUTH back at us.
        if (peer->node_id == t_->self_)
            co_return co_await reject_handshake("peer uses our node id");
        if (role_ == Role::outbound && !expected_.is_zero() && peer->node_id != expected_) {
            co_return co_await reject_handshake("expected node " + expected_.short_hex() +
                                                ", peer is " + peer->node_id.short_hex());
        }
        peer_ = peer->node_id;
        peer_key_ = peer->public_key;
        receiver_.emplace(*keys, peer->stream);
        peer_credentials_ =
            std::make_shared<const std::vector<wire::Record>>(std::move(peer->credentials));
        co_return true;
    }

    asio::awaitable<void> read_loop() {
        for (;;) {
            buffer_.clear();
            auto [ec, n] = co_await ws_.async_read(buffer_, use_nothrow);
            if (ec) {
                note_read_end(ec);
                co_return;
            }
            t_->touch(*this);
            // After a violation close or close(): drain until the closing handshake completes.
            if (silenced_ || t_->closed_) continue;
            const std::string_view frame(static_cast<const char*>(buffer_.data().data()),
                                         buffer_.size());
            handle_frame(frame, ws_.got_text());
            release_buffer();
        }
    }

    void handle_frame(std::string_view frame, bool text) {
        // Every frame is opened, even one over the rate: the stream's counter must see each in
        // order. Opening costs about what copying does; decoding, the expensive part, waits for
        // the rate check. A frame that does not open was altered, replayed, reordered, cut short
        // or never ours: nothing more from this connection can be trusted, so it closes now.
        if (text) return channel_failure("a text frame after the handshake");
        auto opened = receiver_->open(frame);
        if (!opened) return channel_failure(opened.error().message());
        const std::string_view message = *opened;

        const auto steady_now = std::chrono::steady_clock::now();
        switch (flow_.on_inbound(steady_now)) {
            case FlowControl::Inbound::accept:
                break;
            case FlowControl::Inbound::refuse_and_tell:
                ++t_->stats_.rejected_rate;
                tell_to_slow_down(message, flow_.retry_after(steady_now));
                return;
            case FlowControl::Inbound::refuse:
                ++t_->stats_.rejected_rate;
                return;
            case FlowControl::Inbound::violation:
                return violation(&Stats::rejected_rate,
                                 "over the rate limit after being told to slow down");
        }
        auto env = wire::decode_message(message, t_->config_.limits);
        if (!env) return violation(&Stats::rejected_invalid, env.error().message());
        // Who sent it is who the handshake proved, whatever the message says.
        env->sender.node_id = peer_;
        env->sender.public_key = peer_key_;
        if (wire::is_reply(env->payload)) t_->table_.note_reply(id_);
        if (const auto* e = std::get_if<wire::ErrorReply>(&env->payload);
            e != nullptr && e->code == errc::rate_limited) {
            ++t_->stats_.slow_downs_received;
            flow_.on_slow_down(steady_now, std::chrono::milliseconds(e->retry_after_ms));
        }
        ++t_->stats_.messages_in;
        if (t_->sink_ == nullptr) return;
        // The sink may call send() or close(); this session stays alive (run() holds it).
        t_->sink_->on_message(dht::InboundMessage{
            wire::Contact{peer_, std::move(env->sender.address)}, std::move(env->id),
            std::move(env->payload), remote_ip_, peer_credentials_});
    }

    // Answers a request we refused over the rate limit, on this session, without decoding it
    // (see wire::peek_request_id): the sender's request fails at once and it pauses.
    void tell_to_slow_down(std::string_view message, std::chrono::milliseconds retry_after) {
        const auto id = wire::peek_request_id(message, t_->config_.limits);
        if (!id) return;
        ++t_->stats_.slow_downs_sent;
        wire::ErrorReply reply{*id, errc::rate_limited, "slow down",
                               static_cast<std::uint32_t>(std::min<std::int64_t>(
                                   retry_after.count(), wire::max_retry_after_ms))};
        t_->send(wire::Contact{peer_, ""}, dht::Message{crypto::random_hex_id(), std::move(reply)});
    }

    void channel_failure(std::string_view what) {
        ++t_->stats_.channel_failures;
        spdlog::warn("net: closing session {}: {}", label(), what);
        silenced_ = true;
        close_gracefully(websocket::close_code::policy_error, true);
    }

    void violation(std::uint64_t Stats::*counter, std::string_view what) {
        ++(t_->stats_.*counter);
        ++violations_;
        spdlog::debug("net: session {}: rejected message ({}/{}): {}", label(), violations_,
                      t_->config_.max_violations, what);
        if (violations_ < t_->config_.max_violations || closing()) return;
        ++t_->stats_.disconnects_for_violations;
        spdlog::warn("net: closing session {}: {} rejected messages, last: {}", label(),
                     violations_, what);
        silenced_ = true;
        close_gracefully(websocket::close_code::policy_error, true);
    }

    void note_read_end(const boost::system::error_code& ec) {
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

    bool closing() const {
        return state_ == State::closing || state_ == State::close_sent || state_ == State::closed;
    }
    bool writable() const {
        return state_ == State::open || state_ == State::retiring || state_ == State::closing;
    }

    // The peer does not read what we send: it is a slow reader (or a hostile one), and waiting on
    // it would only grow our memory.
    void cut_slow_reader() {
        ++t_->stats_.slow_readers;
        spdlog::warn("net: closing session {}: {} bytes queued and not read", label(),
                     queued_bytes_);
        // It would not read a close frame either: the connection is cut at once.
        silenced_ = true;
        drop(take_unsent());
        state_ = State::closing;
        t_->on_closing(*this);
        abort();
    }

    // How long a full queue may go with a write in flight that does not complete before the peer
    // counts as not reading: as long as we wait for a handshake (5 s by default); one frame is at
    // most 256 KiB. Frames beyond the cap are refused meanwhile, so waiting costs no memory.
    std::chrono::steady_clock::duration stall_limit() const {
        return t_->config_.handshake_timeout;
    }

    void arm_stall_check() {
        if (stall_armed_) return;
        stall_armed_ = true;
        stall_timer_.expires_after(stall_limit());
        stall_timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
            auto s = std::static_pointer_cast<WsPeerSession>(weak.lock());
            if (!s) return;
            s->stall_armed_ = false;
            if (ec || s->closing() || s->queue_.empty()) return;
            if (!s->pacing_ && s->writing_ &&
                std::chrono::steady_clock::now() - s->last_progress_ >= s->stall_limit()) {
                s->cut_slow_reader();
                return;
            }
            // Not stalled yet (a write completed lately, or we are the ones waiting): look again
            // while the backlog is large; a peer that reads drains it and the checks stop.
            if (s->queued_bytes_ * 2 >= s->t_->config_.max_queued_bytes) s->arm_stall_check();
        });
    }

    void start_writer() {
        if (writing_ || !writable()) return;
        if (queue_.empty() && state_ != State::closing) return;
        writing_ = true;
        asio::co_spawn(ws_.get_executor(),
                       write_loop(std::static_pointer_cast<WsPeerSession>(shared_from_this())),
                       LogExceptions{"net", "session writer"});
    }

    // One write in flight at a time (WebSocket frames must not interleave); frames queued
    // meanwhile go out in order. A requested close goes out after the queue is flushed.
    asio::awaitable<void> write_loop(std::shared_ptr<WsPeerSession> self) {
        while (!queue_.empty() && writable()) {
            // Within the rate the peer grants (and after any "slow down" from it).
            if (auto delay = flow_.outbound_delay(std::chrono::steady_clock::now());
                delay.count() > 0 && state_ != State::closing) {
                ++t_->stats_.frames_paced;
                pacing_ = true;
                pace_timer_.expires_after(delay);
                auto [ec] = co_await pace_timer_.async_wait(use_nothrow);
                pacing_ = false;
                last_progress_ = std::chrono::steady_clock::now();  // the wait was ours
                if (ec || !writable()) break;
                continue;  // the delay may have grown meanwhile
            }
            // Closing before the handshake finished: nothing goes to a peer not yet verified.
            if (!receiver_) break;
            flow_.on_sent(std::chrono::steady_clock::now());
            // Sealed here, in the order frames go out: the peer's stream expects exactly that.
            // A coroutine local: it lives until the write completes and is freed with it, so no
            // session keeps the capacity of the largest frame it ever sent.
            const auto sealed = sender_->seal(queue_.front().frame);
            auto [ec, n] = co_await ws_.async_write(asio::buffer(sealed), use_nothrow);
            if (ec) {
                spdlog::debug("net: session {}: write failed: {}", label(), ec.message());
                writing_ = false;
                abort();  // the read loop ends too and the session is cleaned up
                co_return;
            }
            queued_bytes_ -= queue_.front().frame.size();
            queue_.pop_front();
            last_progress_ = std::chrono::steady_clock::now();
            ++t_->stats_.messages_out;
            t_->touch(*this);
        }
        if (state_ == State::closing) {
            state_ = State::close_sent;
            auto [ec] = co_await ws_.async_close(close_code_, use_nothrow);
            if (ec) abort();
        }
        // Left over when the connection ended under us (their fate is unknown to the peer too).
        writing_ = false;
        drop(take_unsent());
        t_->set_busy(*this, false);
        (void)self;
    }

    // Frames that will not go out: the requests among them fail at their senders at once.
    void drop(std::deque<OutFrame> frames) {
        t_->stats_.messages_dropped += frames.size();
        for (auto& f : frames) {
            if (!f.request_id.empty()) t_->report_undeliverable(std::move(f.request_id));
        }
    }

    void close_gracefully(websocket::close_code code, bool drop_unsent) {
        if (closing()) return;
        if (drop_unsent) {
            drop(take_unsent());
            pace_timer_.cancel();  // nothing left to pace: the close frame goes out now
        }
        state_ = State::closing;
        close_code_ = code;
        // The queue and the closing handshake get handshake_timeout: a peer that reads neither
        // does not keep the session (and what it holds) alive.
        retire_timer_.expires_after(t_->config_.handshake_timeout);
        retire_timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
            if (ec) return;
            if (auto s = std::static_pointer_cast<WsPeerSession>(weak.lock())) s->abort();
        });
        t_->on_closing(*this);
        start_writer();
    }

    void abort() noexcept {
        boost::system::error_code ignored;
        resolver_.cancel();
        beast::get_lowest_layer(ws_).socket().close(ignored);
    }

    void fail(Failure kind, std::string why) {
        if (failure_kind_ == Failure::none) failure_kind_ = kind;
        failure_ = std::move(why);
    }

    void finish() {
        if (state_ == State::handshaking && !t_->closed_) {
            if (failure_kind_ == Failure::timeout) {
                failure_ = "timed out after " +
                           std::to_string(t_->config_.handshake_timeout.count()) + " s";
            }
            if (failure_kind_ == Failure::dial) {
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
        pace_timer_.cancel();
        stall_timer_.cancel();
        abort();
        if (counts_handshake_) {
            counts_handshake_ = false;
            t_->handshake_done(remote_ip_);
        }
        t_->on_ended(*this);
    }

    std::shared_ptr<WsTransportImpl> t_;
    SessionId id_;
    Role role_;
    State state_ = State::handshaking;
    Failure failure_kind_ = Failure::none;
    std::string failure_;  // why the handshake failed, for the log line
    websocket::stream<beast::tcp_stream> ws_;
    tcp::resolver resolver_;
    asio::steady_timer handshake_timer_;
    asio::steady_timer retire_timer_;
    asio::steady_timer pace_timer_;
    // Armed while our queue to the peer is full: if no write completes before it fires, the peer
    // does not read (a slow or hostile reader) and the session is cut.
    asio::steady_timer stall_timer_;
    bool stall_armed_ = false;
    std::chrono::steady_clock::time_point last_progress_ = std::chrono::steady_clock::now();
    beast::flat_buffer buffer_;

    WsAddress target_;       // outbound only
    NodeId expected_;        // outbound only: who we meant to reach; zero = whoever answers
    NodeId peer_;            // proved by the handshake
    std::string remote_;     // ip:port of the other end, for logs
    std::string remote_ip_;  // the IP the socket is connected to: the one part nobody can claim
    dht::PeerCredentials peer_credentials_;  // what the peer presented at the handshake
    bool counts_handshake_ = false;          // inbound, still counted against its IP

    std::deque<OutFrame> queue_;
    std::size_t queued_bytes_ = 0;
    bool writing_ = false;   // the writer coroutine runs (it owns queue_.front())
    bool silenced_ = false;  // closing for a violation or shutdown: inbound frames are ignored
    websocket::close_code close_code_ = websocket::close_code::normal;

    crypto::PublicKey peer_key_{};                 // proved by the handshake
    std::optional<crypto::ChannelSender> sender_;  // set during the handshake
    std::optional<crypto::ChannelReceiver> receiver_;
    FlowControl flow_;
    bool pacing_ = false;  // the writer waits for the peer's rate, not for the socket
    unsigned violations_ = 0;
};

}  // namespace

std::shared_ptr<PeerSession> make_inbound_session(std::shared_ptr<WsTransportImpl> t,
                                                  tcp::socket socket, SessionId id) {
    return std::make_shared<WsPeerSession>(std::move(t), std::move(socket), id);
}

std::shared_ptr<PeerSession> make_outbound_session(std::shared_ptr<WsTransportImpl> t,
                                                   WsAddress target, NodeId expected,
                                                   SessionId id) {
    return std::make_shared<WsPeerSession>(std::move(t), std::move(target), expected, id);
}

}  // namespace nocturne::net::detail
