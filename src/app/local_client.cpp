// The one Beast translation unit of app/: the CLI's HTTP client for its own node's local API.

#include <nocturne/app/local_client.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <optional>
#include <string>

namespace nocturne::app {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr std::size_t max_response_bytes = 8 * 1024 * 1024;

std::error_code from_boost(const boost::system::error_code& ec) {
    if (ec == beast::error::timeout) return make_error_code(errc::timeout);
    if (ec == http::error::body_limit || ec == http::error::header_limit) {
        return make_error_code(errc::frame_too_large);
    }
    if (ec.category() == http::make_error_code(http::error::end_of_stream).category()) {
        return make_error_code(errc::malformed_json);  // not an HTTP response we can read
    }
    return {ec.value(), std::system_category()};
}

}  // namespace

result<LocalResponse> local_request(std::uint16_t port, std::string_view method,
                                    std::string_view target, std::string_view token,
                                    std::string_view body, std::chrono::milliseconds timeout) {
    const auto verb = http::string_to_verb({method.data(), method.size()});
    if (verb == http::verb::unknown) return make_error_code(errc::bad_request);
    http::request<http::string_body> req{verb, {target.data(), target.size()}, 11};
    req.set(http::field::host, "127.0.0.1:" + std::to_string(port));
    req.set(http::field::authorization, "Bearer " + std::string(token));
    if (!body.empty()) {
        req.set(http::field::content_type, "application/json");
        req.body() = std::string(body);
    }
    req.keep_alive(false);
    req.prepare_payload();

    // Asynchronous operations on one io_context run here until done: the stream's deadline bounds
    // the whole exchange, which the blocking calls could not.
    asio::io_context io;
    beast::tcp_stream stream(io);
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(max_response_bytes);
    boost::system::error_code failure;
    stream.expires_after(timeout);
    stream.async_connect(
        tcp::endpoint(asio::ip::address_v4::loopback(), port),
        [&](const boost::system::error_code& ec) {
            if (ec) {
                failure = ec;
                return;
            }
            http::async_write(stream, req, [&](const boost::system::error_code& wec, std::size_t) {
                if (wec) {
                    failure = wec;
                    return;
                }
                http::async_read(
                    stream, buffer, parser,
                    [&](const boost::system::error_code& rec, std::size_t) { failure = rec; });
            });
        });
    io.run();
    if (failure) return from_boost(failure);
    LocalResponse out;
    out.status = static_cast<int>(parser.get().result_int());
    out.body = std::move(parser.get().body());
    return out;
}

}  // namespace nocturne::app
