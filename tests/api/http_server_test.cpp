#include <nocturne/api/http_server.hpp>
#include <nocturne/api/json_error.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

#include "support/http_client.hpp"
#include "support/io_thread.hpp"

namespace nocturne::api {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using test::format_request;
using test::HeaderList;
using test::HttpClient;
using test::HttpResponse;

const std::string token(64, 'c');

// Responders of requests to /later, answered by the test when it chooses (on the io thread).
std::shared_ptr<std::vector<Responder>> parked = std::make_shared<std::vector<Responder>>();

Router test_router() {
    Router router;
    parked->clear();
    router.add_async("GET", "/later",
                     [](const Request&, const PathParams&, const Responder& respond) {
                         parked->push_back(respond);
                     });
    router.add("GET", "/local/health", [](const Request&, const PathParams&) {
        return Response{200, R"({"ok":true})", {}};
    });
    router.add("GET", "/local/knowledge/{id}", [](const Request&, const PathParams& params) {
        return Response{200, json{{"id", params.at("id")}}.dump(), {}};
    });
    // Shows the handler what it received.
    const auto echo = [](const Request& req, const PathParams&) {
        json headers = json::object();
        for (const auto& [name, value] : req.headers) headers[name] = value;
        json query = json::object();
        for (const auto& [name, value] : req.query) query[name] = value;
        return Response{
            200,
            json{{"method", req.method},
                 {"path", req.path},
                 {"query", query},
                 {"headers", headers},
                 {"body", req.body}}
                .dump(),
            {{"X-Echo", "yes"}, {"Bad\nName", "x"}, {"X-Bad-Value", "a\r\nSet-Cookie: x"}}};
    };
    router.add("POST", "/echo", echo);
    router.add("PUT", "/echo", echo);
    router.add("GET", "/echo", echo);
    router.add("GET", "/teapot", [](const Request&, const PathParams&) {
        return Response{418, R"({"short":"and stout"})", {}};
    });
    router.add("GET", "/weird-status", [](const Request&, const PathParams&) {
        return Response{42, "{}", {}};
    });
    return router;
}

std::string error_code_of(const HttpResponse& r) {
    const auto doc = json::parse(r.body, nullptr, false);
    if (doc.is_discarded() || !doc.contains("error")) return "(no error body: " + r.body + ")";
    return doc["error"]["code"].get<std::string>();
}

class HttpServerTest : public ::testing::Test {
protected:
    void start(HttpServerConfig config = {}) {
        config.token = token;
        server_.emplace(io_.context(), test_router(), std::move(config));
        ASSERT_FALSE(server_->listen());
        port_ = server_->port();
        ASSERT_NE(port_, 0);
        io_.start();
        started_ = true;
    }

    void TearDown() override {
        if (started_) {
            io_.call([&] { server_->stop(); });
            EXPECT_TRUE(io_.join()) << "the server left work pending after stop()";
        }
        server_.reset();
        parked->clear();  // their timers belong to io_, which goes next
    }

    std::string host() const { return "localhost:" + std::to_string(port_); }
    HeaderList authed() const { return {{"Host", host()}, {"Authorization", "Bearer " + token}}; }
    HeaderList json_authed() const {
        auto headers = authed();
        headers.emplace_back("Content-Type", "application/json");
        return headers;
    }

    std::size_t connections() {
        std::size_t n = 0;
        io_.call([&] { n = server_->connection_count(); });
        return n;
    }

    // Waits for the server to notice closed clients.
    bool wait_for_connections(std::size_t n) {
        for (int i = 0; i < 200; ++i) {
            if (connections() == n) return true;
            std::this_thread::sleep_for(10ms);
        }
        return false;
    }

    test::IoThread io_;  // declared first: outlives the server
    std::optional<HttpServer> server_;
    std::uint16_t port_ = 0;
    bool started_ = false;
};

TEST_F(HttpServerTest, AnswersARequestWithTheToken) {
    start();
    HttpClient client(port_);
    ASSERT_TRUE(client.connected());
    const auto r = client.request("GET", "/local/health", authed());
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, R"({"ok":true})");
    EXPECT_EQ(r->header("content-type"), "application/json");
    EXPECT_EQ(r->header("cache-control"), "no-store");
    EXPECT_EQ(r->header("x-content-type-options"), "nosniff");
    EXPECT_NE(r->header("connection"), "close");

    for (const char* h : {"127.0.0.1", "[::1]:1234", "LOCALHOST"}) {
        const auto other = client.request("GET", "/local/knowledge/a%20b",
                                          {{"Host", h}, {"Authorization", "bearer " + token}});
        ASSERT_TRUE(other) << h;
        EXPECT_EQ(other->status, 200) << h;
        EXPECT_EQ(json::parse(other->body)["id"], "a b");
    }
}

TEST_F(HttpServerTest, HandlersSeeMethodQueryHeadersAndBodyButNotTheToken) {
    start();
    HttpClient client(port_);
    auto headers = json_authed();
    headers.emplace_back("X-Custom", "one");
    headers.emplace_back("x-custom", "two");
    const auto r = client.request("POST", "/echo?q=a+b&n=%31", headers, R"({"k":"v"})");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    const auto doc = json::parse(r->body);
    EXPECT_EQ(doc["method"], "POST");
    EXPECT_EQ(doc["path"], "/echo");
    EXPECT_EQ(doc["query"], (json{{"q", "a b"}, {"n", "1"}}));
    EXPECT_EQ(doc["body"], R"({"k":"v"})");
    EXPECT_EQ(doc["headers"]["x-custom"], "one, two");
    EXPECT_EQ(doc["headers"]["content-type"], "application/json");
    EXPECT_FALSE(doc["headers"].contains("authorization"));
    // Handler headers pass, unless they could inject fields.
    EXPECT_EQ(r->header("x-echo"), "yes");
    EXPECT_EQ(r->header("x-bad-value"), "");
    EXPECT_EQ(r->header("set-cookie"), "");
}

TEST_F(HttpServerTest, MissingOrWrongTokenIs401) {
    start();
    HttpClient client(port_);
    const std::vector<HeaderList> attempts = {
        {{"Host", host()}},
        {{"Host", host()}, {"Authorization", "Bearer " + std::string(64, 'd')}},
        {{"Host", host()}, {"Authorization", "Bearer " + token.substr(1)}},
        {{"Host", host()}, {"Authorization", "Bearer " + token + "c"}},
        {{"Host", host()}, {"Authorization", "Basic " + token}},
        {{"Host", host()}, {"Authorization", token}},
        {{"Host", host()}, {"Authorization", "Bearer " + token}, {"Authorization", "Bearer x"}},
    };
    for (const auto& headers : attempts) {
        const auto r = client.request("GET", "/local/health", headers);
        ASSERT_TRUE(r);
        EXPECT_EQ(r->status, 401);
        EXPECT_EQ(error_code_of(*r), "unauthorized");
        EXPECT_EQ(r->header("www-authenticate"), "Bearer");
    }
    // Routes are not revealed to strangers: an unknown path is 401 too, not 404.
    auto r = client.request("GET", "/nothing/here", {{"Host", host()}});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 401);
    // A refused request's body is never read, so the connection cannot go on.
    r = client.request("POST", "/echo", {{"Host", host()}, {"Content-Type", "application/json"}},
                       "[1,2,3]");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 401);
    EXPECT_EQ(r->header("connection"), "close");
    EXPECT_TRUE(client.closed_by_peer());
}

TEST_F(HttpServerTest, PublicPathsNeedNoToken) {
    HttpServerConfig config;
    config.public_paths = {"/local/health"};
    start(config);
    HttpClient client(port_);
    auto r = client.request("GET", "/local/health", {{"Host", host()}});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    r = client.request("GET", "/local/health?x=1", {{"Host", host()}});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    // An encoded spelling of the public path is not public (it fails closed).
    r = client.request("GET", "/local/%68ealth", {{"Host", host()}});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 401);
    r = client.request("GET", "/local/knowledge/x", {{"Host", host()}});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 401);
    // The Host check still applies.
    r = client.request("GET", "/local/health", {{"Host", "evil.example"}});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 403);
}

TEST_F(HttpServerTest, WrongHostIs403BeforeTheTokenCheck) {
    start();
    const std::vector<HeaderList> attempts = {
        {{"Host", "evil.example"}, {"Authorization", "Bearer " + token}},
        {{"Host", "localhost.evil.example:" + std::to_string(port_)},
         {"Authorization", "Bearer " + token}},
        {{"Host", "127.0.0.1.nip.io"}},
        {{"Authorization", "Bearer " + token}},  // no Host at all
        {{"Host", host()}, {"Host", "evil.example"}, {"Authorization", "Bearer " + token}},
    };
    for (const auto& headers : attempts) {
        HttpClient client(port_);
        const auto r = client.request("GET", "/local/health", headers);
        ASSERT_TRUE(r);
        EXPECT_EQ(r->status, 403);
        EXPECT_EQ(error_code_of(*r), "forbidden_host");
    }
}

TEST_F(HttpServerTest, OversizeBodyIs413AndCloses) {
    HttpServerConfig config;
    config.max_body_bytes = 1024;
    start(config);
    {
        // Refused on the Content-Length alone: the body is never read.
        HttpClient client(port_);
        auto headers = json_authed();
        headers.emplace_back("Content-Length", "2000");
        ASSERT_TRUE(client.send(format_request("POST", "/echo", headers)));
        const auto r = client.read_response();
        ASSERT_TRUE(r);
        EXPECT_EQ(r->status, 413);
        EXPECT_EQ(error_code_of(*r), "body_too_large");
        EXPECT_EQ(r->header("connection"), "close");
        EXPECT_TRUE(client.closed_by_peer());
    }
    {
        // A chunked body is counted as it arrives.
        HttpClient client(port_);
        std::string request = "POST /echo HTTP/1.1\r\nHost: " + host() +
                              "\r\nAuthorization: Bearer " + token +
                              "\r\nContent-Type: application/json\r\n"
                              "Transfer-Encoding: chunked\r\n\r\n";
        request += "800\r\n" + std::string(0x800, ' ') + "\r\n0\r\n\r\n";
        ASSERT_TRUE(client.send(request));
        const auto r = client.read_response();
        ASSERT_TRUE(r);
        EXPECT_EQ(r->status, 413);
        EXPECT_TRUE(client.closed_by_peer());
    }
    {
        // At the limit is fine.
        HttpClient client(port_);
        const std::string body = "\"" + std::string(1022, 'x') + "\"";
        const auto r = client.request("POST", "/echo", json_authed(), body);
        ASSERT_TRUE(r);
        EXPECT_EQ(r->status, 200);
    }
}

TEST_F(HttpServerTest, AClientThatWritesAWholeOversizeBodyBeforeReadingStillGets413) {
    // Python's urllib and Node's fetch send no Expect: 100-continue: they write the whole body,
    // then read. The server answers 413 on the Content-Length, stops sending and reads on,
    // discarding, so that closing does not reset the connection under the client's last writes
    // (EPIPE, and the 413 lost with it).
    HttpServerConfig config;
    config.max_body_bytes = 1024;
    start(config);
    HttpClient client(port_);
    const std::string body(8 << 20, ' ');
    ASSERT_TRUE(client.send(format_request("POST", "/echo", json_authed(), body)))
        << "the server reset the connection while the body was being written";
    const auto r = client.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 413);
    EXPECT_EQ(error_code_of(*r), "body_too_large");
    EXPECT_TRUE(client.closed_by_peer());
}

TEST_F(HttpServerTest, BodyWithoutJsonContentTypeIs415) {
    start();
    HttpClient client(port_);
    auto text = authed();
    text.emplace_back("Content-Type", "text/plain");
    auto r = client.request("POST", "/echo", text, "{}");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 415);
    EXPECT_EQ(error_code_of(*r), "unsupported_media_type");

    HttpClient second(port_);
    r = second.request("PUT", "/echo", authed(), "{}");  // no Content-Type at all
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 415);

    // No body, no Content-Type needed; parameters after the media type are fine.
    HttpClient third(port_);
    r = third.request("POST", "/echo", authed());
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    auto charset = authed();
    charset.emplace_back("Content-Type", "application/json; charset=utf-8");
    r = third.request("POST", "/echo", charset, "{}");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
}

TEST_F(HttpServerTest, UnknownRouteIs404AndWrongMethodIs405) {
    start();
    HttpClient client(port_);
    auto r = client.request("GET", "/local/nothing", authed());
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 404);
    EXPECT_EQ(error_code_of(*r), "not_found");
    r = client.request("DELETE", "/local/knowledge/abc", authed());
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 405);
    EXPECT_EQ(error_code_of(*r), "method_not_allowed");
    EXPECT_EQ(r->header("allow"), "GET");
    // Both leave the connection usable.
    r = client.request("GET", "/local/health", authed());
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
}

TEST_F(HttpServerTest, MalformedRequestIs400AndCloses) {
    start();
    for (const std::string& garbage :
         {std::string("GARBAGE\r\n\r\n"), std::string("GET /local/health HTTX/1.1\r\n\r\n"),
          std::string("GET /local/health HTTP/2.0\r\nHost: localhost\r\n\r\n"),
          std::string("GET /local/health HTTP/1.1\r\nNo colon here\r\n\r\n"),
          "GET /local/health HTTP/1.1\r\nHost: " + host() + "\r\nContent-Length: x\r\n\r\n"}) {
        HttpClient client(port_);
        ASSERT_TRUE(client.send(garbage));
        const auto r = client.read_response();
        ASSERT_TRUE(r) << garbage;
        EXPECT_EQ(r->status, 400) << garbage;
        EXPECT_EQ(error_code_of(*r), "bad_request");
        EXPECT_TRUE(client.closed_by_peer()) << garbage;
    }
    // A malformed escape in the target: the message itself is sound, so keep-alive goes on.
    HttpClient client(port_);
    auto r = client.request("GET", "/echo?x=%zz", authed());
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400);
    r = client.request("GET", "/local/knowledge/%zz", authed());
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400);
    r = client.request("GET", "/local/health", authed());
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
}

TEST_F(HttpServerTest, OversizeHeaderIs431) {
    HttpServerConfig config;
    config.max_header_bytes = 1024;
    start(config);
    HttpClient client(port_);
    auto headers = authed();
    headers.emplace_back("X-Big", std::string(2000, 'x'));
    const auto r = client.request("GET", "/local/health", headers);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 431);
    EXPECT_EQ(error_code_of(*r), "bad_request");
    EXPECT_TRUE(client.closed_by_peer());
}

TEST_F(HttpServerTest, KeepAliveServesRequestsInTurn) {
    start();
    HttpClient client(port_);
    for (int i = 0; i < 2; ++i) {
        const auto r = client.request("GET", "/local/knowledge/" + std::to_string(i), authed());
        ASSERT_TRUE(r);
        EXPECT_EQ(json::parse(r->body)["id"], std::to_string(i));
    }
    EXPECT_EQ(connections(), 1u);
    // Pipelined: both requests in one write, answers in order.
    ASSERT_TRUE(client.send(format_request("GET", "/local/knowledge/p1", authed()) +
                            format_request("POST", "/echo", json_authed(), "[1]")));
    const auto first = client.read_response();
    const auto second = client.read_response();
    ASSERT_TRUE(first && second);
    EXPECT_EQ(json::parse(first->body)["id"], "p1");
    EXPECT_EQ(json::parse(second->body)["body"], "[1]");
    // Connection: close is honoured.
    auto closing = authed();
    closing.emplace_back("Connection", "close");
    const auto last = client.request("GET", "/local/health", closing);
    ASSERT_TRUE(last);
    EXPECT_EQ(last->header("connection"), "close");
    EXPECT_TRUE(client.closed_by_peer());
}

TEST_F(HttpServerTest, ExpectContinueGetsAnInterimResponse) {
    start();
    HttpClient client(port_);
    auto headers = json_authed();
    headers.emplace_back("Expect", "100-continue");
    headers.emplace_back("Content-Length", "2");
    ASSERT_TRUE(client.send(format_request("POST", "/echo", headers)));
    // The client holds the body back until the server says to go on.
    const auto go_on = client.read_response(5s, false);
    ASSERT_TRUE(go_on);
    EXPECT_EQ(go_on->status, 100);
    ASSERT_TRUE(client.send("{}"));
    const auto r = client.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(json::parse(r->body)["body"], "{}");
}

TEST_F(HttpServerTest, HandlerStatusesPassOrBecome500) {
    start();
    HttpClient client(port_);
    auto r = client.request("GET", "/teapot", authed());
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 418);
    r = client.request("GET", "/weird-status", authed());
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 500);
    EXPECT_EQ(error_code_of(*r), "internal_error");
}

TEST_F(HttpServerTest, TimeoutsCloseSlowAndIdleConnections) {
    HttpServerConfig config;
    config.header_timeout = 200ms;
    config.idle_timeout = 300ms;
    start(config);
    HttpClient slow(port_);
    ASSERT_TRUE(slow.send("GET /local/health HTTP/1.1\r\nHost: "));  // and nothing more
    HttpClient idle(port_);
    ASSERT_TRUE(idle.request("GET", "/local/health", authed()));
    EXPECT_TRUE(slow.closed_by_peer(3s));
    EXPECT_TRUE(idle.closed_by_peer(3s));
    EXPECT_TRUE(wait_for_connections(0));
}

TEST_F(HttpServerTest, RefusesConnectionsOverTheCap) {
    HttpServerConfig config;
    config.max_connections = 1;
    start(config);
    auto first = std::make_unique<HttpClient>(port_);
    ASSERT_TRUE(first->request("GET", "/local/health", authed()));
    HttpClient second(port_);
    EXPECT_TRUE(second.closed_by_peer());
    first.reset();
    ASSERT_TRUE(wait_for_connections(0));
    HttpClient third(port_);
    const auto r = third.request("GET", "/local/health", authed());
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
}

TEST_F(HttpServerTest, StrangersWithoutTheTokenCannotStarveAnAuthenticatedClient) {
    HttpServerConfig config;  // the daemon's caps: 64 authenticated, 16 waiting
    config.unauthenticated_timeout = 500ms;
    start(config);
    HttpClient client(port_);
    ASSERT_EQ(client.request("GET", "/local/health", authed())->status, 200);
    // A local process without the token opens more connections than the server takes, and sends
    // nothing on them.
    std::vector<std::unique_ptr<HttpClient>> strangers;
    for (int i = 0; i < 100; ++i) strangers.push_back(std::make_unique<HttpClient>(port_));
    // They hold 16 slots at most, never the authenticated client's.
    std::this_thread::sleep_for(100ms);
    EXPECT_LE(connections(), 1u + config.max_unauthenticated);
    // The authenticated keep-alive connection is never closed to make room...
    const auto again = client.request("GET", "/local/health", authed());
    ASSERT_TRUE(again);
    EXPECT_EQ(again->status, 200);
    // ...a new client is served too (each newcomer takes the oldest waiting slot)...
    HttpClient newcomer(port_);
    const auto r = newcomer.request("GET", "/local/health", authed());
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    // ...and the strangers are gone: the older ones made room, the last ones timed out.
    for (auto& s : strangers) EXPECT_TRUE(s->closed_by_peer(3s));
    EXPECT_TRUE(wait_for_connections(2));
    // A stranger that sends a request without the token is still answered 401.
    HttpClient late(port_);
    EXPECT_EQ(late.request("GET", "/local/health", {{"Host", host()}})->status, 401);
}

TEST_F(HttpServerTest, StopClosesConnectedClients) {
    start();
    HttpClient idle(port_);
    ASSERT_TRUE(idle.request("GET", "/local/health", authed()));
    HttpClient half(port_);
    ASSERT_TRUE(half.send("GET /local/health HTTP/1.1\r\n"));
    HttpClient fresh(port_);
    ASSERT_TRUE(fresh.connected());
    ASSERT_TRUE(wait_for_connections(3));

    io_.call([&] { server_->stop(); });
    EXPECT_TRUE(idle.closed_by_peer());
    EXPECT_TRUE(half.closed_by_peer());
    EXPECT_TRUE(fresh.closed_by_peer());
    // Nothing of the server is left on the io_context: run() returns on its own.
    EXPECT_TRUE(io_.join());
    started_ = false;
    EXPECT_EQ(server_->connection_count(), 0u);
    // The listening socket is gone too.
    HttpClient late(port_);
    EXPECT_FALSE(late.connected());
}

TEST_F(HttpServerTest, AsyncHandlersAnswerLaterOnTheSameConnection) {
    start();
    HttpClient client(port_);
    ASSERT_TRUE(client.send(format_request("GET", "/later", authed(), "")));
    // Nothing comes until the handler answers.
    EXPECT_FALSE(client.read_response(200ms).has_value());
    io_.call([&] {
        ASSERT_EQ(parked->size(), 1u);
        (*parked)[0](Response{201, R"({"late":true})", {}});
        (*parked)[0](Response{500, "{}", {}});  // a second answer is ignored
    });
    const auto r = client.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 201);
    EXPECT_EQ(r->body, R"({"late":true})");
    // The connection carries on.
    const auto next = client.request("GET", "/local/health", authed());
    ASSERT_TRUE(next);
    EXPECT_EQ(next->status, 200);
}

TEST_F(HttpServerTest, AHandlerThatNeverAnswersTimesOutWith504) {
    HttpServerConfig config;
    config.handler_timeout = 300ms;
    start(config);
    HttpClient client(port_);
    const auto r = client.request("GET", "/later", authed());
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 504);
    EXPECT_EQ(error_code_of(*r), "timeout");
    // Answering after the timeout is harmless.
    io_.call([&] { (*parked)[0](Response{200, "{}", {}}); });
}

TEST_F(HttpServerTest, StopDoesNotWaitForAPendingHandler) {
    start();
    HttpClient client(port_);
    ASSERT_TRUE(client.send(format_request("GET", "/later", authed(), "")));
    for (int i = 0; i < 200 && connections() == 0; ++i) std::this_thread::sleep_for(5ms);
    io_.call([&] { server_->stop(); });
    EXPECT_TRUE(client.closed_by_peer());
    EXPECT_TRUE(io_.join());
    started_ = false;
}

TEST(HttpServerConfigTest, RefusesNonLoopbackAddressesAndWeakConfig) {
    test::IoThread io;
    HttpServerConfig config;
    config.token = token;
    for (const char* host : {"0.0.0.0", "192.168.1.10", "::", "localhost", "not an address"}) {
        config.listen_host = host;
        EXPECT_THROW(HttpServer(io.context(), Router{}, config), std::invalid_argument) << host;
    }
    config.listen_host = "::1";
    EXPECT_NO_THROW(HttpServer(io.context(), Router{}, config));
    config.listen_host = "127.0.0.1";
    config.token = "short";
    EXPECT_THROW(HttpServer(io.context(), Router{}, config), std::invalid_argument);
    config.token = token;
    config.max_body_bytes = 0;
    EXPECT_THROW(HttpServer(io.context(), Router{}, config), std::invalid_argument);
    config.max_body_bytes = 1;
    config.idle_timeout = 0ms;
    EXPECT_THROW(HttpServer(io.context(), Router{}, config), std::invalid_argument);
}

TEST(HttpServerConfigTest, ListenTwiceOrAfterStopFails) {
    test::IoThread io;
    HttpServerConfig config;
    config.token = token;
    HttpServer server(io.context(), Router{}, config);
    EXPECT_EQ(server.port(), 0);
    ASSERT_FALSE(server.listen());
    EXPECT_NE(server.port(), 0);
    EXPECT_TRUE(server.listen());
    server.stop();
    server.stop();  // idempotent
    HttpServer other(io.context(), Router{}, config);
    other.stop();
    EXPECT_TRUE(other.listen());
}

}  // namespace
}  // namespace nocturne::api
