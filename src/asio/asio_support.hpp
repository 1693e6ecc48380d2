#pragma once

// Asio pieces shared by the modules that use Asio (net/, api/, daemon/). Include this from their
// .cpp files only: no public header may pull Asio in (compile time, ARCHITECTURE.md).

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdint>
#include <exception>

namespace nocturne::asio_support {

// Every I/O result arrives as a tuple with its error code: network errors never throw.
inline constexpr auto use_nothrow = boost::asio::as_tuple(boost::asio::use_awaitable);

// After a failed accept (EMFILE, ENOBUFS) the next one usually fails too: wait instead of
// spinning.
inline constexpr std::chrono::milliseconds accept_error_backoff{100};

// Opens, configures, binds and listens on `endpoint`; on success `port` is the bound port. On
// failure the acceptor is closed again.
inline boost::system::error_code open_listener(boost::asio::ip::tcp::acceptor& acceptor,
                                               const boost::asio::ip::tcp::endpoint& endpoint,
                                               std::uint16_t& port) {
    boost::system::error_code ec;
    acceptor.open(endpoint.protocol(), ec);
    if (!ec) acceptor.set_option(boost::asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor.bind(endpoint, ec);
    if (!ec) acceptor.listen(boost::asio::socket_base::max_listen_connections, ec);
    if (!ec) port = acceptor.local_endpoint(ec).port();
    if (ec) {
        boost::system::error_code ignored;
        acceptor.close(ignored);
    }
    return ec;
}

// Completion handler for co_spawn: whatever still escapes a coroutine (bad_alloc, a bug) is
// logged; one broken connection must not take the daemon down.
struct LogExceptions {
    const char* module;  // "net", "api"
    const char* what;
    void operator()(const std::exception_ptr& error) const {
        if (!error) return;
        try {
            std::rethrow_exception(error);
        } catch (const std::exception& e) {
            spdlog::error("{}: {} failed: {}", module, what, e.what());
        } catch (...) {
            spdlog::error("{}: {} failed", module, what);
        }
    }
};

}  // namespace nocturne::asio_support
