// WsTransport: accepting, dialing and choosing sessions. The sessions themselves (Beast) are in
// peer_session.cpp, the connection policy (which session, which to recycle) in session_table.cpp.

#include <nocturne/net/ws_transport.hpp>
#include <nocturne/wire/envelope.hpp>
#include <nocturne/wire/identifiers.hpp>
#include <nocturne/wire/reply_shape.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <atomic>
#include <exception>
#include <limits>
#include <optional>
#include <stdexcept>
#include <sys/resource.h>
#include <utility>
#include <vector>

#include "asio_support.hpp"
#include "peer_session.hpp"
#include "transport_core.hpp"

namespace nocturne::net {
namespace detail {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using steady_clock = std::chrono::steady_clock;
using asio_support::accept_error_backoff;
using asio_support::LogExceptions;
using asio_support::open_listener;
using asio_support::use_nothrow;

namespace {

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

std::optional<std::size_t> nofile_limit() {
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return std::nullopt;
    return static_cast<std::size_t>(rl.rlim_cur);
}

}  // namespace

WsTransportImpl::WsTransportImpl(asio::io_context& io, const crypto::KeyPair& keys,
                                 const Clock& clock, WsTransportConfig config)
    : io_(io),
      keys_(crypto::KeyPair::from_seed(keys.seed())),
      self_(keys_.node_id()),
      clock_(clock),
      config_(std::move(config)),
      agent_id_(config_.agent_id),
      operator_id_(config_.operator_id),
      address_(config_.advertised_address),
      table_(self_, config_.max_live_sessions),
      acceptor_(io),
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
    accept_loop_start();
    return {};
}

void WsTransportImpl::accept_loop_start() {
    auto loop = [](std::shared_ptr<WsTransportImpl> self) -> asio::awaitable<void> {
        while (!self->closed_) {
            auto [ec, socket] = co_await self->acceptor_.async_accept(use_nothrow);
            if (self->closed_) break;
            if (ec) {
                spdlog::warn("net: accept failed: {}", ec.message());
                asio::steady_timer backoff(self->io_, accept_error_backoff);
                co_await backoff.async_wait(use_nothrow);
                continue;
            }
            boost::system::error_code ep_ec;
            const auto endpoint = socket.remote_endpoint(ep_ec);
            const std::string ip = ep_ec ? std::string() : endpoint.address().to_string();
            auto& handshaking = self->handshaking_by_ip_[ip];
            if (self->table_.inbound() >= self->config_.max_sessions ||
                handshaking >= self->config_.max_handshakes_per_ip) {
                ++self->stats_.sessions_rejected;
                spdlog::debug(
                    "net: refusing connection from {}: {} inbound sessions, {} of its "
                    "own handshaking",
                    ip, self->table_.inbound(), handshaking);
                if (handshaking == 0) self->handshaking_by_ip_.erase(ip);
                boost::system::error_code ignored;
                socket.close(ignored);
                continue;
            }
            ++handshaking;
            // Accepted even when every session is busy: max_sessions is the limit that refuses.
            (void)self->make_room("inbound connection");
            const auto id = self->table_.add(SessionTable::Role::inbound, "", steady_clock::now());
            self->start(make_inbound_session(self, std::move(socket), id));
        }
    };
    asio::co_spawn(io_, loop(shared_from_this()), LogExceptions{"net", "accept loop"});
}

void WsTransportImpl::start(std::shared_ptr<PeerSession> s) {
    sessions_[s->id()] = s.get();
    process_sockets.fetch_add(1, std::memory_order_relaxed);
    if (!sweeping_) arm_sweep();
    s->start();
}

PeerSession* WsTransportImpl::session(SessionId id) const {
    const auto it = sessions_.find(id);
    return it == sessions_.end() ? nullptr : it->second;
}

void WsTransportImpl::report_undeliverable(std::string request_id) {
    ++stats_.undeliverable;
    // Later, from the io_context: the sink may be inside send() right now.
    asio::post(io_, [weak = weak_from_this(), id = std::move(request_id)] {
        auto t = weak.lock();
        if (t && !t->closed_ && t->sink_ != nullptr) t->sink_->on_undeliverable(id);
    });
}

void WsTransportImpl::handshake_done(const std::string& ip) {
    const auto it = handshaking_by_ip_.find(ip);
    if (it == handshaking_by_ip_.end()) return;
    if (--it->second == 0) handshaking_by_ip_.erase(it);
}

void WsTransportImpl::send(const wire::Contact& to, dht::Message msg) {
    if (closed_) return;
    const bool request = !wire::is_reply(msg.payload);
    // A message that goes nowhere: its request fails at its sender at once.
    const auto refuse = [&](const std::string& id) {
        ++stats_.messages_dropped;
        if (request) report_undeliverable(id);
    };
    if (to.id == self_) {
        spdlog::debug("net: not sending {} to ourselves", msg.id);
        refuse(msg.id);
        return;
    }
    // Pick (or set up) the session before signing: a message that cannot go anywhere costs no
    // signature. A dial-back always gets a connection of its own to exactly that address.
    const auto key = (msg.verify_address ? "verify:" : "") + dial_key(to.id, to.address);
    PeerSession* s = nullptr;
    if (!msg.verify_address) {
        if (auto id = table_.sender(to.id)) s = session(*id);
    }
    if (s == nullptr) {
        if (auto dialing = table_.dialing(key)) s = session(*dialing);
    }
    std::optional<WsAddress> target;
    if (s == nullptr) {
        auto parsed = parse_ws_address(to.address);
        if (!parsed) {
            spdlog::debug("net: cannot dial {}: unsupported address '{}'", to.id.short_hex(),
                          printable(to.address));
            refuse(msg.id);
            return;
        }
        if (table_.outbound() >= config_.max_sessions) {
            spdlog::warn("net: cannot dial {}: {} outbound sessions", to.id.short_hex(),
                         table_.outbound());
            refuse(msg.id);
            return;
        }
        if (!make_room("dial")) {
            spdlog::debug("net: cannot dial {}: {} live sessions, all busy", to.id.short_hex(),
                          table_.live());
            refuse(msg.id);
            return;
        }
        target = std::move(*parsed);
    }

    wire::EnvelopeDraft draft;
    draft.id = std::move(msg.id);
    draft.agent_id = agent_id_;
    draft.operator_id = operator_id_;
    draft.address = address_;
    draft.payload = std::move(msg.payload);
    auto frame = wire::encode_message(draft, config_.limits);
    if (!frame) {
        spdlog::warn("net: cannot send {} to {}: {}", wire::to_string(wire::type_of(draft.payload)),
                     to.id.short_hex(), frame.error().message());
        refuse(draft.id);
        return;
    }
    if (s == nullptr) {
        const auto id = table_.add(SessionTable::Role::outbound, key, steady_clock::now());
        auto fresh = make_outbound_session(shared_from_this(), std::move(*target), to.id, id);
        s = fresh.get();
        start(std::move(fresh));
    }
    // A new session holds it until its handshake completes.
    if (!s->enqueue(OutFrame{std::move(*frame), request ? draft.id : "", msg.verify_address})) {
        refuse(draft.id);
        return;
    }
    if (request) table_.note_request(s->id(), steady_clock::now());
}

void WsTransportImpl::on_authenticated(PeerSession& s) {
    ++stats_.sessions_opened;
    spdlog::debug("net: session {} open", s.label());
    const auto duplicate = table_.authenticated(s.id(), s.peer(), steady_clock::now());
    if (!duplicate) return;
    auto* winner = session(duplicate->winner);
    auto* loser = session(duplicate->loser);
    if (winner != nullptr && loser != nullptr) loser->retire(*winner);
}

void WsTransportImpl::on_closing(PeerSession& s) {
    const auto promoted = table_.closing(s.id());
    if (!promoted || closed_) return;
    if (auto* other = session(*promoted)) other->promote();
}

void WsTransportImpl::on_ended(PeerSession& s) {
    if (!sessions_.contains(s.id())) return;
    on_closing(s);
    auto unsent = s.take_unsent();
    forget(s.id());
    if (unsent.empty()) return;
    // Frames of a session that failed (or lost a duplicate race) go to another session with the
    // same peer if there is one; otherwise their requests fail at once. A dial-back's frame never
    // moves: it was to prove this very connection.
    const NodeId& peer = !s.peer().is_zero() ? s.peer() : s.expected();
    PeerSession* other = nullptr;
    if (auto id = table_.sender(peer); id && !closed_) other = session(*id);
    std::size_t dropped = 0;
    for (auto& frame : unsent) {
        const auto id = frame.request_id;
        if (frame.pinned || other == nullptr || !other->enqueue(std::move(frame))) {
            ++dropped;
            if (!id.empty()) report_undeliverable(id);
        }
    }
    if (dropped > 0) {
        stats_.messages_dropped += dropped;
        spdlog::debug("net: dropped {} queued message(s) for {}", dropped, peer.short_hex());
    }
}

void WsTransportImpl::forget(SessionId id) noexcept {
    if (sessions_.erase(id) == 0) return;
    table_.remove(id);
    process_sockets.fetch_sub(1, std::memory_order_relaxed);
    if (sessions_.empty() && sweeping_) {
        // Nothing left to sweep: no timer keeps io.run() busy. start() arms it again.
        sweep_timer_.cancel();
        sweeping_ = false;
    }
}

void WsTransportImpl::touch(PeerSession& s) {
    table_.touch(s.id(), steady_clock::now());
}

void WsTransportImpl::set_busy(PeerSession& s, bool busy) {
    table_.set_busy(s.id(), busy);
}

bool WsTransportImpl::make_room(std::string_view why) {
    const std::size_t sockets = process_sockets.load(std::memory_order_relaxed);
    const std::size_t budget = socket_budget(nofile_limit());
    const auto room = table_.make_room(steady_clock::now(), sockets, budget);
    if (sockets >= budget && table_.live() < config_.max_live_sessions && !warned_descriptors_) {
        warned_descriptors_ = true;
        spdlog::warn(
            "net: {} sessions in this process, {} fit under the file descriptor limit "
            "(RLIMIT_NOFILE, less a reserve): closing idle sessions before opening new ones",
            sockets, budget);
    }
    if (room.recycle) {
        if (auto* victim = session(*room.recycle)) {
            ++stats_.sessions_recycled;
            spdlog::debug("net: closing idle session {} to make room for a {}{}", victim->label(),
                          why, room.recycle_loses_reply ? " (a reply may be lost)" : "");
            victim->close_idle();
        }
    }
    return room.allowed;
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
    const auto idle_timeout =
        std::chrono::duration_cast<std::chrono::milliseconds>(config_.idle_timeout);
    for (const auto id : table_.idle_expired(steady_clock::now(), idle_timeout)) {
        auto* s = session(id);
        if (s == nullptr || !table_.idle(id)) continue;
        ++stats_.sessions_closed_idle;
        spdlog::debug("net: closing session {}: idle for {} s", s->label(),
                      config_.idle_timeout.count());
        s->close_idle();
    }
}

void WsTransportImpl::close() {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    sweep_timer_.cancel();
    sweeping_ = false;
    // shutdown() re-enters on_closing(), which edits the table but never sessions_.
    std::vector<std::shared_ptr<PeerSession>> all;
    all.reserve(sessions_.size());
    for (auto& [id, s] : sessions_) all.push_back(s->shared_from_this());
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
void WsTransport::set_credentials(std::vector<wire::Record> credentials) {
    if (credentials.size() > impl_->config_.limits.max_credentials) {
        credentials.resize(impl_->config_.limits.max_credentials);
    }
    impl_->credentials_ = std::make_shared<const std::vector<wire::Record>>(std::move(credentials));
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
std::vector<std::string> WsTransport::describe_sessions() const {
    std::vector<std::string> out;
    out.reserve(impl_->sessions_.size());
    for (const auto& [id, s] : impl_->sessions_) out.push_back(s->describe());
    return out;
}

}  // namespace nocturne::net
