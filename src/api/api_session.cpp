// ApiSession: the one translation unit of the API that includes Beast (compile time).

#include "api_session.hpp"

#include <nocturne/api/http_server.hpp>
#include <nocturne/api/json_error.hpp>
#include <nocturne/api/request_checks.hpp>
#include <nocturne/api/target.hpp>
#include <nocturne/core/printable.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <exception>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <unordered_set>
#include <utility>

#include "asio_support.hpp"
#include "server_core.hpp"

namespace nocturne::api {
namespace detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using asio_support::LogExceptions;
using asio_support::use_nothrow;

namespace {

// Bytes asked for when waiting for the next request on a kept-alive connection.
constexpr std::size_t idle_read_bytes = 4096;

// When we close with request bytes still unread (an error answered before the body), closing at
// once would make the kernel reset the connection, and a reset can destroy our response before
// the client reads it. So we stop sending and discard input for a while first, as nginx's
// lingering_close does: until the client stops sending for linger_quiet (it read our answer, or
// gave up), at most linger_time in all and linger_max_bytes, so it is no free sink for a client.
// The budget covers a client that writes a whole oversize body before it reads (Python's
// urllib, Node's fetch: no Expect: 100-continue), up to 16 MiB over the limit on loopback.
constexpr std::chrono::milliseconds linger_quiet{1000};
constexpr std::chrono::milliseconds linger_time{5000};
constexpr std::size_t linger_max_bytes = std::size_t{16} << 20;

std::string_view view(beast::string_view s) {
    return {s.data(), s.size()};
}

bool is_http_error(const boost::system::error_code& ec) {
    return ec.category() == http::make_error_code(http::error::bad_target).category();
}

// Field names a handler may set: RFC 9110 tokens. Values: no CR, LF or NUL (header injection).
bool is_valid_field(std::string_view name, std::string_view value) {
    const auto tchar = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    };
    return !name.empty() && std::all_of(name.begin(), name.end(), tchar) &&
           value.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

std::string lower_case(std::string_view text) {
    std::string out(text);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

}  // namespace

// The Beast side of an ApiSession (api_session.hpp).
class BeastApiSession final : public ApiSession,
                              public std::enable_shared_from_this<BeastApiSession> {
public:
    BeastApiSession(std::shared_ptr<HttpServerImpl> server, tcp::socket socket);
    ~BeastApiSession() override { server_->forget(*this); }
    BeastApiSession(const BeastApiSession&) = delete;
    BeastApiSession& operator=(const BeastApiSession&) = delete;

    void start() override;
    void shutdown() override;
    void evict() override;

private:
    asio::awaitable<void> run(std::shared_ptr<BeastApiSession> self);
    // How long the next request's header may take: short while the connection has not presented
    // the token.
    std::chrono::milliseconds header_deadline() const;
    std::chrono::milliseconds idle_deadline() const;

    using Parser = http::request_parser<http::string_body>;

    // How a request ended: whether the connection carries on, and whether request bytes may be
    // left unread (then the close lingers).
    struct Outcome {
        bool keep_alive = false;
        bool unread_input = false;
    };

    asio::awaitable<bool> wait_for_request();
    asio::awaitable<Outcome> serve_one();
    asio::awaitable<Outcome> read_failed(const boost::system::error_code& ec, const char* what);
    std::optional<Response> check_header(const Parser& parser);
    // nullopt for a target parse_target() refuses.
    std::optional<Request> make_request(Parser& parser) const;
    asio::awaitable<Outcome> reply(Response response, unsigned version, bool keep_alive,
                                   bool unread_input);
    asio::awaitable<void> close(bool linger);

    std::shared_ptr<HttpServerImpl> server_;
    const HttpServerConfig& config_;
    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    std::string remote_;    // ip:port of the client, for logs
    std::string endpoint_;  // the request's route, for metrics ("none" before routing)
    bool reading_ = false;  // a read is pending: shutdown() cancels it
    // A handler's answer being awaited; shared with the responder, which may outlive the session.
    struct PendingReply {
        explicit PendingReply(const asio::any_io_executor& ex) : timer(ex) {}
        asio::steady_timer timer;
        std::optional<Response> response;
    };
    std::shared_ptr<PendingReply> pending_;
};

// ---- ApiSession --------------------------------------------------------------------------------

BeastApiSession::BeastApiSession(std::shared_ptr<HttpServerImpl> server, tcp::socket socket)
    : server_(std::move(server)), config_(server_->config_), stream_(std::move(socket)) {
    boost::system::error_code ec;
    const auto endpoint = stream_.socket().remote_endpoint(ec);
    remote_ = ec ? std::string("unknown")
                 : endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
}

void BeastApiSession::start() {
    asio::co_spawn(server_->io_, run(shared_from_this()), LogExceptions{"api", "session"});
}

void BeastApiSession::shutdown() {
    if (reading_) stream_.cancel();
    if (pending_) pending_->timer.cancel();
}

void BeastApiSession::evict() {
    spdlog::debug("api: closing {}: it never presented the token, and newer connections wait",
                  remote_);
    boost::system::error_code ignored;
    stream_.socket().close(ignored);
}

std::chrono::milliseconds BeastApiSession::header_deadline() const {
    return server_->is_waiting(*this)
               ? std::min(config_.header_timeout, config_.unauthenticated_timeout)
               : config_.header_timeout;
}

std::chrono::milliseconds BeastApiSession::idle_deadline() const {
    return server_->is_waiting(*this)
               ? std::min(config_.idle_timeout, config_.unauthenticated_timeout)
               : config_.idle_timeout;
}

asio::awaitable<void> BeastApiSession::run(std::shared_ptr<BeastApiSession> self) {
    boost::system::error_code ignored;
    stream_.socket().set_option(tcp::no_delay(true), ignored);
    bool linger = false;
    bool first = true;
    while (!server_->stopped_) {
        // The first request's header is bounded by header_timeout from the accept on; a later
        // one gets idle_timeout to begin and header_timeout from its first byte on.
        if (!first && buffer_.size() == 0 && !co_await wait_for_request()) break;
        first = false;
        if (server_->stopped_) break;
        const Outcome outcome = co_await serve_one();
        if (!outcome.keep_alive) {
            linger = outcome.unread_input;
            break;
        }
    }
    co_await close(linger && !server_->stopped_);
    (void)self;  // the parameter keeps the session alive until here
}

asio::awaitable<bool> BeastApiSession::wait_for_request() {
    reading_ = true;
    stream_.expires_after(idle_deadline());
    auto [ec, n] = co_await stream_.async_read_some(buffer_.prepare(idle_read_bytes), use_nothrow);
    reading_ = false;
    if (ec) {
        spdlog::debug("api: connection {} ended while idle: {}", remote_, ec.message());
        co_return false;
    }
    buffer_.commit(n);
    co_return true;
}

asio::awaitable<BeastApiSession::Outcome> BeastApiSession::serve_one() {
    endpoint_ = "none";
    Parser parser;
    parser.header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(
        config_.max_header_bytes, std::numeric_limits<std::uint32_t>::max())));
    // No body limit while the header is read: Beast would answer an oversize Content-Length
    // before the Host and token checks, which come first so that strangers learn nothing.
    parser.body_limit(boost::none);

    reading_ = true;
    stream_.expires_after(header_deadline());
    auto [header_ec, header_bytes] =
        co_await http::async_read_header(stream_, buffer_, parser, use_nothrow);
    reading_ = false;
    if (header_ec) co_return co_await read_failed(header_ec, "header");
    if (server_->stopped_) co_return Outcome{};

    const auto& header = parser.get();
    const unsigned version = header.version();
    // Beast reads any "HTTP/d.d"; the framing rules we follow are those of 1.0 and 1.1.
    if (version != 10 && version != 11) {
        co_return co_await reply(
            json_error(400, errc::bad_request, "only HTTP/1.0 and HTTP/1.1 are served"), 11, false,
            !parser.is_done());
    }
    if (auto refusal = check_header(parser)) {
        co_return co_await reply(std::move(*refusal), version,
                                 header.keep_alive() && parser.is_done(), !parser.is_done());
    }

    if (!parser.is_done()) {
        if (const auto expect = header.find(http::field::expect);
            expect != header.end() && beast::iequals(expect->value(), "100-continue")) {
            // The client waits for this before sending the body (curl does, for large ones).
            http::response<http::empty_body> go_on{http::status::continue_, version};
            stream_.expires_after(config_.io_timeout);
            auto [ec, n] = co_await http::async_write(stream_, go_on, use_nothrow);
            if (ec || server_->stopped_) co_return Outcome{};
        }
        parser.body_limit(config_.max_body_bytes);
        reading_ = true;
        stream_.expires_after(config_.io_timeout);
        auto [body_ec, body_bytes] =
            co_await http::async_read(stream_, buffer_, parser, use_nothrow);
        reading_ = false;
        if (body_ec) co_return co_await read_failed(body_ec, "body");
        if (server_->stopped_) co_return Outcome{};
    }

    const bool keep_alive = parser.get().keep_alive();
    const auto request = make_request(parser);
    if (!request) {
        co_return co_await reply(
            json_error(400, errc::bad_request,
                       "malformed request target " + printable(view(parser.get().target()), 200)),
            version, keep_alive, false);
    }
    // The handler may answer later (after DHT lookups): wait on a timer that the answer cancels,
    // bounded by handler_timeout, and by stop() (shutdown() cancels it too).
    if (config_.metrics) endpoint_ = server_->router_.endpoint_of(*request);
    auto slot = std::make_shared<PendingReply>(stream_.get_executor());
    server_->router_.route(*request, [slot](Response r) {
        if (slot->response) return;
        slot->response = std::move(r);
        slot->timer.cancel();
    });
    if (!slot->response) {
        pending_ = slot;
        slot->timer.expires_after(config_.handler_timeout);
        co_await slot->timer.async_wait(use_nothrow);
        pending_.reset();
        if (!slot->response) {
            if (server_->stopped_) co_return Outcome{};
            slot->response = json_error(504, errc::timeout, "the request took too long");
            spdlog::warn("api: {} {} from {} timed out", request->method,
                         printable(request->path, 200), remote_);
        }
    }
    co_return co_await reply(std::move(*slot->response), version, keep_alive, false);
}

asio::awaitable<BeastApiSession::Outcome> BeastApiSession::read_failed(
    const boost::system::error_code& ec, const char* what) {
    if (ec == http::error::body_limit) {
        co_return co_await reply(
            json_error(413, errc::body_too_large,
                       "request body exceeds " + std::to_string(config_.max_body_bytes) + " bytes"),
            11, false, true);
    }
    if (ec == http::error::header_limit) {
        co_return co_await reply(
            json_error(
                431, errc::bad_request,
                "request header exceeds " + std::to_string(config_.max_header_bytes) + " bytes"),
            11, false, true);
    }
    // end_of_stream: the client closed between requests; partial_message: in the middle of one,
    // where no answer can reach it any more.
    if (is_http_error(ec) && ec != http::error::end_of_stream &&
        ec != http::error::partial_message) {
        spdlog::debug("api: malformed request from {}: {}", remote_, ec.message());
        co_return co_await reply(
            json_error(400, errc::bad_request, "malformed HTTP request: " + ec.message()), 11,
            false, true);
    }
    if (ec == beast::error::timeout) {
        spdlog::debug("api: connection {}: timed out reading the {}", remote_, what);
    } else {
        spdlog::debug("api: connection {} ended reading the {}: {}", remote_, what, ec.message());
    }
    co_return Outcome{};
}

std::optional<Response> BeastApiSession::check_header(const Parser& parser) {
    const auto& header = parser.get();

    const auto host = header.find(http::field::host);
    if (host == header.end() || header.count(http::field::host) != 1) {
        return json_error(403, errc::forbidden_host, "exactly one Host header is required");
    }
    if (!is_loopback_host(view(host->value()))) {
        spdlog::debug("api: refused Host '{}' from {}", printable(view(host->value())), remote_);
        return json_error(403, errc::forbidden_host,
                          "Host must be localhost, 127.0.0.1 or [::1], with an optional port");
    }

    const std::string_view target = view(header.target());
    const std::string_view path = target.substr(0, target.find('?'));
    const bool needs_token = std::find(config_.public_paths.begin(), config_.public_paths.end(),
                                       path) == config_.public_paths.end();
    if (needs_token) {
        const auto auth = header.find(http::field::authorization);
        std::optional<std::string_view> token;
        if (auth != header.end() && header.count(http::field::authorization) == 1) {
            token = bearer_token(view(auth->value()));
        }
        if (!token || !token_matches(*token, config_.token)) {
            Response refusal = json_error(401, errc::unauthorized,
                                          token ? "wrong bearer token"
                                                : "an Authorization: Bearer <token> header is "
                                                  "required (the token is in api.token in the "
                                                  "node's home)");
            refusal.headers.emplace_back("WWW-Authenticate", "Bearer");
            return refusal;
        }
        // It holds the token: from now on its connection is never closed to make room.
        server_->authenticated(*this);
    }

    const auto length = parser.content_length();
    if (length && *length > config_.max_body_bytes) {
        return json_error(
            413, errc::body_too_large,
            "request body exceeds " + std::to_string(config_.max_body_bytes) + " bytes");
    }

    // Every endpoint speaks JSON; refusing anything else also keeps browsers' "simple" cross-site
    // form posts (text/plain, form encodings) away from handlers.
    const bool has_body = parser.chunked() || (length && *length > 0);
    if (has_body) {
        const auto type = header.find(http::field::content_type);
        if (type == header.end() || !is_json_content_type(view(type->value()))) {
            return json_error(415, errc::unsupported_media_type,
                              "a request body must have Content-Type: application/json");
        }
    }
    return std::nullopt;
}

std::optional<Request> BeastApiSession::make_request(Parser& parser) const {
    auto& message = parser.get();
    Request request;
    if (parse_target(view(message.target()), request)) return std::nullopt;
    request.method = std::string(view(message.method_string()));
    for (const auto& field : message) {
        std::string name = lower_case(view(field.name_string()));
        if (name == "authorization") continue;
        auto [it, inserted] = request.headers.try_emplace(std::move(name), view(field.value()));
        if (!inserted) {
            it->second += ", ";
            it->second += view(field.value());
        }
    }
    request.body = std::move(message.body());
    return request;
}

asio::awaitable<BeastApiSession::Outcome> BeastApiSession::reply(Response response,
                                                                 unsigned version, bool keep_alive,
                                                                 bool unread_input) {
    if (response.status < 200 || response.status > 599) {
        spdlog::error("api: handler returned status {}", response.status);
        response = json_error(500, errc::internal_error, "the request could not be completed");
    }
    // Both must come without a body (Beast refuses to serialise one).
    if (response.status == 204 || response.status == 304) response.body.clear();
    if (config_.metrics) config_.metrics->count(endpoint_, response.status);

    keep_alive = keep_alive && !server_->stopped_;
    http::response<http::string_body> res;
    res.version(version);
    res.result(static_cast<unsigned>(response.status));
    for (const auto& [name, value] : response.headers) {
        if (!is_valid_field(name, value)) {
            spdlog::error("api: dropping an invalid response header '{}'", printable(name));
            continue;
        }
        res.insert(name, value);
    }
    // JSON unless the handler said otherwise (the metrics are Prometheus text).
    if (res.find(http::field::content_type) == res.end()) {
        res.set(http::field::content_type, "application/json");
    }
    res.set(http::field::cache_control, "no-store");
    res.set("X-Content-Type-Options", "nosniff");
    res.keep_alive(keep_alive);
    res.body() = std::move(response.body);
    res.prepare_payload();

    stream_.expires_after(config_.io_timeout);
    auto [ec, n] = co_await http::async_write(stream_, res, use_nothrow);
    if (ec) {
        spdlog::debug("api: connection {}: write failed: {}", remote_, ec.message());
        co_return Outcome{};
    }
    co_return Outcome{keep_alive && !server_->stopped_, unread_input};
}

asio::awaitable<void> BeastApiSession::close(bool linger) {
    boost::system::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    if (linger) {
        reading_ = true;
        const auto until = std::chrono::steady_clock::now() + linger_time;
        std::size_t discarded = 0;
        buffer_.clear();
        buffer_.shrink_to_fit();
        std::array<char, 16384> sink;
        while (discarded < linger_max_bytes && !server_->stopped_) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                until - std::chrono::steady_clock::now());
            if (left.count() <= 0) break;
            stream_.expires_after(std::min(linger_quiet, left));
            auto [ec, n] = co_await stream_.async_read_some(asio::buffer(sink), use_nothrow);
            if (ec) break;  // the client closed too (EOF), went quiet, or time is up
            discarded += n;
        }
        reading_ = false;
    }
    stream_.close();
}

std::shared_ptr<ApiSession> make_api_session(std::shared_ptr<HttpServerImpl> server,
                                             tcp::socket socket) {
    return std::make_shared<BeastApiSession>(std::move(server), std::move(socket));
}

}  // namespace detail
}  // namespace nocturne::api
