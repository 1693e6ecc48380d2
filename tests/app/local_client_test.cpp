// app::local_request, the CLI's client of its node's API, against a scripted server on loopback:
// what it sends, what it makes of answers, and that every wait is bounded.

#include <nocturne/app/local_client.hpp>

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <chrono>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace nocturne::app {
namespace {

using namespace std::chrono_literals;

// Accepts one connection, reads the request's head (and body, if any), then answers `reply`
// verbatim (nothing when empty) and holds the connection open for `hold`.
class OneShotServer {
public:
    OneShotServer(std::string reply, std::chrono::milliseconds hold = 0ms) {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
        ::listen(fd_, 1);
        socklen_t len = sizeof addr;
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
        port_ = ntohs(addr.sin_port);
        thread_ = std::thread([this, reply = std::move(reply), hold] {
            const int c = ::accept(fd_, nullptr, nullptr);
            if (c < 0) return;
            char buf[4096];
            while (received_.find("\r\n\r\n") == std::string::npos) {
                const auto n = ::read(c, buf, sizeof buf);
                if (n <= 0) break;
                received_.append(buf, static_cast<std::size_t>(n));
            }
            if (!reply.empty()) (void)::write(c, reply.data(), reply.size());
            std::this_thread::sleep_for(hold);
            ::close(c);
        });
    }
    ~OneShotServer() {
        ::shutdown(fd_, SHUT_RDWR);
        thread_.join();
        ::close(fd_);
    }
    std::uint16_t port() const { return port_; }
    // The request as received (read after the client returned).
    const std::string& received() const { return received_; }

private:
    int fd_ = -1;
    std::uint16_t port_ = 0;
    std::thread thread_;
    std::string received_;
};

TEST(LocalClient, SendsTheTokenAndHostAndReadsTheAnswer) {
    OneShotServer server(
        "HTTP/1.1 201 Created\r\nContent-Length: 11\r\nConnection: close\r\n\r\n"
        "{\"ok\":true}");
    const auto res = local_request(server.port(), "POST", "/local/knowledge?x=1", "tok", "{}");
    ASSERT_TRUE(res) << res.error().message();
    EXPECT_EQ(res->status, 201);
    EXPECT_EQ(res->body, "{\"ok\":true}");
    const auto& req = server.received();
    EXPECT_EQ(req.rfind("POST /local/knowledge?x=1 HTTP/1.1\r\n", 0), 0u) << req;
    EXPECT_NE(req.find("Host: 127.0.0.1:" + std::to_string(server.port()) + "\r\n"),
              std::string::npos)
        << req;
    EXPECT_NE(req.find("Authorization: Bearer tok\r\n"), std::string::npos) << req;
    EXPECT_NE(req.find("Content-Type: application/json\r\n"), std::string::npos) << req;
    EXPECT_NE(req.find("Content-Length: 2\r\n"), std::string::npos) << req;
}

TEST(LocalClient, AServerThatNeverAnswersIsATimeoutWithinTheBound) {
    OneShotServer server("", 1s);
    const auto start = std::chrono::steady_clock::now();
    const auto res = local_request(server.port(), "GET", "/local/health", "tok", {}, 300ms);
    ASSERT_FALSE(res);
    EXPECT_EQ(res.error(), errc::timeout);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

TEST(LocalClient, NoNodeListeningAndGarbageAnswersAreErrorsNotCrashes) {
    std::uint16_t closed_port = 0;
    {
        OneShotServer gone("");
        closed_port = gone.port();
        (void)local_request(closed_port, "GET", "/", "tok", {}, 500ms);
    }
    const auto refused = local_request(closed_port, "GET", "/local/health", "tok", {}, 500ms);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error(), std::errc::connection_refused) << refused.error().message();

    OneShotServer garbage("hello there\r\n\r\n");
    const auto res = local_request(garbage.port(), "GET", "/local/health", "tok", {}, 2s);
    EXPECT_FALSE(res);

    EXPECT_EQ(local_request(garbage.port(), "BREW", "/", "tok").error(), errc::bad_request);
}

}  // namespace
}  // namespace nocturne::app
