#pragma once

// Private to api/: the state the HTTP server shares with its sessions. Asio, not Beast: only
// http_server.cpp and api_session.cpp include it.

#include <nocturne/api/http_server.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstddef>
#include <list>
#include <memory>
#include <unordered_set>

namespace nocturne::api::detail {

class ApiSession;

// State shared by the server's public face and its sessions.
//
// Connections come in two pools. One that has not yet presented the token is *waiting*: its
// requests must arrive within unauthenticated_timeout, at most max_unauthenticated wait at once,
// and a newcomer beyond that closes the oldest waiting one; so a local process without the token
// can hold a waiting slot only briefly, and never a slot of the other pool. One that presented
// the token is *authenticated*: up to max_connections of them, never closed to make room.
//
// Owned by the io_context thread; not thread-safe. Kept alive by HttpServer and by every live
// session (sessions hold a shared_ptr to it, it holds plain pointers to them and forgets each one
// as it ends), so no ownership cycle exists.
class HttpServerImpl : public std::enable_shared_from_this<HttpServerImpl> {
public:
    HttpServerImpl(boost::asio::io_context& io, Router router, HttpServerConfig config,
                   boost::asio::ip::address host)
        : io_(io),
          router_(std::move(router)),
          config_(std::move(config)),
          host_(std::move(host)),
          acceptor_(io),
          backoff_(io) {}

    std::error_code listen();
    void stop();

    // ---- called by sessions -------------------------------------------------------------------
    // The session presented the token: it moves to the authenticated pool.
    void authenticated(ApiSession& s);
    bool is_waiting(const ApiSession& s) const;
    void forget(ApiSession& s) noexcept;

    boost::asio::io_context& io_;
    const Router router_;
    const HttpServerConfig config_;
    const boost::asio::ip::address host_;
    boost::asio::ip::tcp::acceptor acceptor_;
    boost::asio::steady_timer backoff_;
    std::uint16_t port_ = 0;
    bool listening_ = false;
    bool stopped_ = false;
    std::unordered_set<ApiSession*> sessions_;
    std::list<ApiSession*> waiting_;  // not yet authenticated, oldest first
    std::size_t authenticated_ = 0;

private:
    void accept_loop_start();
};

}  // namespace nocturne::api::detail
