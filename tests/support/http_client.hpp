#pragma once

// A blocking HTTP/1.1 client on POSIX sockets for the API server tests. Deliberately not Beast:
// test TUs stay cheap to compile, and the tests can send any bytes at all, malformed ones
// included.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nocturne::test {

struct HttpResponse {
    int status = 0;
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;

    std::string header(const std::string& lower_case_name) const;
};

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// "METHOD target HTTP/1.1", the headers in order, Content-Length when body is not empty.
std::string format_request(std::string_view method, std::string_view target,
                           const HeaderList& headers, std::string_view body = {});

// One connection to 127.0.0.1:port. Owned by the test's main thread.
class HttpClient {
public:
    explicit HttpClient(std::uint16_t port);  // connected() says whether it worked
    ~HttpClient();
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    bool connected() const { return fd_ >= 0; }
    bool send(std::string_view bytes);
    // The next response, 1xx ones skipped unless skip_interim is false; a final one must have a
    // Content-Length, as the server's have. nullopt on close, timeout or a malformed response.
    std::optional<HttpResponse> read_response(
        std::chrono::milliseconds timeout = std::chrono::seconds(5), bool skip_interim = true);
    std::optional<HttpResponse> request(
        std::string_view method, std::string_view target, const HeaderList& headers,
        std::string_view body = {}, std::chrono::milliseconds timeout = std::chrono::seconds(5));
    // True when the server closes the connection (EOF or reset) within timeout, with nothing
    // more to read before that.
    bool closed_by_peer(std::chrono::milliseconds timeout = std::chrono::seconds(5));

private:
    // Reads more bytes into buffer_ until the deadline; false on EOF, error or timeout.
    bool fill(std::chrono::steady_clock::time_point deadline);

    int fd_ = -1;
    std::string buffer_;  // received and not yet consumed
};

}  // namespace nocturne::test
