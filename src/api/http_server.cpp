// HttpServer: accepting and the two connection pools. The sessions themselves (Beast) are in
// api_session.cpp.

#include <nocturne/api/http_server.hpp>

#include <boost/asio/co_spawn.hpp>
#include <spdlog/spdlog.h>

#include <stdexcept>
#include <utility>

#include "api_session.hpp"
#include "asio_support.hpp"
#include "server_core.hpp"

namespace nocturne::api {
namespace detail {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using asio_support::accept_error_backoff;
using asio_support::LogExceptions;
using asio_support::open_listener;
using asio_support::use_nothrow;

std::error_code HttpServerImpl::listen() {
    if (stopped_) return std::make_error_code(std::errc::operation_canceled);
    if (listening_) return std::make_error_code(std::errc::already_connected);
    const tcp::endpoint endpoint(host_, config_.listen_port);
    if (auto listen_ec = open_listener(acceptor_, endpoint, port_)) return listen_ec;
    listening_ = true;
    spdlog::info("api: listening on http://{}:{}", host_.to_string(), port_);
    accept_loop_start();
    return {};
}

void HttpServerImpl::accept_loop_start() {
    auto loop = [](std::shared_ptr<HttpServerImpl> self) -> asio::awaitable<void> {
        while (!self->stopped_) {
            auto [ec, socket] = co_await self->acceptor_.async_accept(use_nothrow);
            if (self->stopped_) break;
            if (ec) {
                spdlog::warn("api: accept failed: {}", ec.message());
                self->backoff_.expires_after(accept_error_backoff);
                co_await self->backoff_.async_wait(use_nothrow);
                continue;
            }
            if (self->authenticated_ >= self->config_.max_connections) {
                spdlog::warn("api: refusing a connection: {} authenticated ones open",
                             self->authenticated_);
                boost::system::error_code ignored;
                socket.close(ignored);
                continue;
            }
            // A newcomer always gets a waiting slot: the oldest waiting connection, which has
            // had its chance to present the token, makes room.
            if (self->waiting_.size() >= self->config_.max_unauthenticated) {
                ApiSession* oldest = self->waiting_.front();
                self->waiting_.pop_front();
                oldest->pool = ApiSession::Pool::evicted;
                oldest->evict();
            }
            auto session = make_api_session(self, std::move(socket));
            self->sessions_.insert(session.get());
            self->waiting_.push_back(session.get());
            session->waiting_at = std::prev(self->waiting_.end());
            session->start();
        }
    };
    asio::co_spawn(io_, loop(shared_from_this()), LogExceptions{"api", "accept loop"});
}

void HttpServerImpl::authenticated(ApiSession& s) {
    if (s.pool != ApiSession::Pool::waiting) return;
    waiting_.erase(s.waiting_at);
    s.pool = ApiSession::Pool::authenticated;
    ++authenticated_;
}

bool HttpServerImpl::is_waiting(const ApiSession& s) const {
    return s.pool != ApiSession::Pool::authenticated;
}

void HttpServerImpl::forget(ApiSession& s) noexcept {
    if (sessions_.erase(&s) == 0) return;
    switch (s.pool) {
        case ApiSession::Pool::waiting:
            waiting_.erase(s.waiting_at);
            break;
        case ApiSession::Pool::authenticated:
            --authenticated_;
            break;
        case ApiSession::Pool::evicted:
            break;
    }
    s.pool = ApiSession::Pool::evicted;
}

void HttpServerImpl::stop() {
    if (stopped_) return;
    stopped_ = true;
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    backoff_.cancel();
    if (!sessions_.empty()) spdlog::info("api: closing {} connection(s)", sessions_.size());
    for (ApiSession* s : sessions_) s->shutdown();  // never erases from sessions_ synchronously
}

}  // namespace detail

// ---- HttpServer -----------------------------------------------------------------------------

namespace {

boost::asio::ip::address validate(const HttpServerConfig& config) {
    boost::system::error_code ec;
    const auto host = boost::asio::ip::make_address(config.listen_host, ec);
    if (ec || !host.is_loopback()) {
        throw std::invalid_argument("the API listens on loopback addresses only, not '" +
                                    config.listen_host + "'");
    }
    if (config.token.size() < 32) {
        throw std::invalid_argument("the API token must have at least 32 characters");
    }
    if (config.max_body_bytes == 0 || config.max_header_bytes == 0 || config.max_connections == 0 ||
        config.max_unauthenticated == 0) {
        throw std::invalid_argument("API limits must be positive");
    }
    if (config.header_timeout.count() <= 0 || config.io_timeout.count() <= 0 ||
        config.idle_timeout.count() <= 0 || config.handler_timeout.count() <= 0 ||
        config.unauthenticated_timeout.count() <= 0) {
        throw std::invalid_argument("API timeouts must be positive");
    }
    return host;
}

}  // namespace

HttpServer::HttpServer(boost::asio::io_context& io, Router router, HttpServerConfig config) {
    auto host = validate(config);
    impl_ = std::make_shared<detail::HttpServerImpl>(io, std::move(router), std::move(config),
                                                     std::move(host));
}

HttpServer::~HttpServer() {
    impl_->stop();
}

std::error_code HttpServer::listen() {
    return impl_->listen();
}
std::uint16_t HttpServer::port() const {
    return impl_->port_;
}
void HttpServer::stop() {
    impl_->stop();
}
std::size_t HttpServer::connection_count() const {
    return impl_->sessions_.size();
}

}  // namespace nocturne::api
