#pragma once

// Private to api/: one HTTP connection, behind an interface free of Beast (api_session.cpp is the
// one Beast TU of the API).

#include <boost/asio/ip/tcp.hpp>

#include <list>
#include <memory>

namespace nocturne::api::detail {

class HttpServerImpl;

// One TCP connection: reads requests one at a time, answers each before reading the next (so at
// most one write is in flight), until the client or an error ends keep-alive.
//
// Owned by the io_context thread; not thread-safe. Owned by its run() coroutine; the server knows
// it by a plain pointer until it ends.
class ApiSession {
public:
    virtual ~ApiSession() = default;
    virtual void start() = 0;
    // The server stops: a read in progress (waiting for a request, or in the middle of one) is
    // cancelled; a response being written is finished, then the connection closes.
    virtual void shutdown() = 0;
    // Closed to make room for a newer waiting connection (it never presented the token).
    virtual void evict() = 0;

    // Which of the server's pools it is in (server_core.hpp), and its place in the waiting one.
    enum class Pool { waiting, authenticated, evicted };
    Pool pool = Pool::waiting;
    std::list<ApiSession*>::iterator waiting_at;
};

std::shared_ptr<ApiSession> make_api_session(std::shared_ptr<HttpServerImpl> server,
                                             boost::asio::ip::tcp::socket socket);

}  // namespace nocturne::api::detail
