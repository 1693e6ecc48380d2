#pragma once

#include <nocturne/api/api_metrics.hpp>
#include <nocturne/api/router.hpp>

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

namespace nocturne::api {

namespace detail {
class HttpServerImpl;
}  // namespace detail

struct HttpServerConfig {
    // Must be a loopback address: the API trusts whoever holds the token, and the token is only
    // meant to travel over loopback.
    std::string listen_host = "127.0.0.1";
    std::uint16_t listen_port = 0;  // 0 = ephemeral; see HttpServer::port()
    // The bearer token every request must carry (see api_token.hpp); at least 32 characters.
    std::string token;
    // Exact request paths, as sent (still percent-encoded), that need no token. Nothing else is
    // compared, so an encoded variant of a public path needs the token: the mismatch fails
    // closed. The Host check applies to these too.
    std::vector<std::string> public_paths;
    std::size_t max_body_bytes = std::size_t{1} << 20;
    std::size_t max_header_bytes = 16 * 1024;  // request line and fields
    // From the connection's start (or the first byte of a later request) to the end of the
    // header: what a slowloris client cannot stretch.
    std::chrono::milliseconds header_timeout{std::chrono::seconds(10)};
    // Reading a body, and writing a response (a client that stops reading).
    std::chrono::milliseconds io_timeout{std::chrono::seconds(30)};
    // How long a kept-alive connection may wait for its next request.
    std::chrono::milliseconds idle_timeout{std::chrono::seconds(60)};
    // Connections that presented the token, at most; beyond this, new ones are closed right after
    // accept.
    std::size_t max_connections = 64;
    // Connections that have not presented the token yet, at most: a newer one closes the oldest.
    // Their requests must come within unauthenticated_timeout (from accept, or between requests
    // on a kept-alive connection), so a local process without the token holds a slot briefly and
    // never one of an authenticated client.
    std::size_t max_unauthenticated = 16;
    std::chrono::milliseconds unauthenticated_timeout{std::chrono::seconds(2)};
    // How long an AsyncHandler may take to answer; then the client gets 504 timeout.
    std::chrono::milliseconds handler_timeout{std::chrono::seconds(30)};
    // Where answered requests are counted (GET /local/metrics), if anywhere.
    std::shared_ptr<ApiMetrics> metrics;
};

// The local HTTP/1.1 API server (docs/api.md): keep-alive connections, one request at a time per
// connection (so one write in flight). Before a request reaches the router it passes, in order:
// the Host check (403 forbidden_host), the token (401 unauthorized), the body limit (413
// body_too_large) and, for a request with a body, Content-Type application/json (415
// unsupported_media_type); the first two run before any body byte is read. Malformed HTTP gets
// 400 bad_request and the connection is closed, as after any error answered before the body was
// read. Timeouts close the connection without a response.
//
// Owned by the thread that runs `io` (the daemon's one thread); not thread-safe. Handlers run on
// that thread. After stop(), no handler is called any more; the router is destroyed with the
// server's last session, a few io_context turns later at most.
class HttpServer {
public:
    // Throws std::invalid_argument for an invalid config (start-up error): a listen_host that is
    // not a loopback IP address, a token shorter than 32 characters, a zero limit or timeout.
    HttpServer(boost::asio::io_context& io, Router router, HttpServerConfig config);
    ~HttpServer();  // stop()s
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    // Binds listen_host:listen_port and starts accepting. Errors (address in use, called twice or
    // after stop()) are returned.
    std::error_code listen();
    std::uint16_t port() const;  // bound port, 0 before listen()

    // Closes the acceptor and every connection: a response being written is finished first, idle
    // and reading connections are closed at once. Idempotent. Once the sessions are gone (a few
    // io_context turns), the server holds no pending operation, so io.run() can return.
    void stop();

    std::size_t connection_count() const;

private:
    // Shared with the session coroutines, which may outlive this object by a few turns.
    std::shared_ptr<detail::HttpServerImpl> impl_;
};

}  // namespace nocturne::api
