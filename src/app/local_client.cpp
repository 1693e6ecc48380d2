#include <nocturne/app/local_client.hpp>
#include <nocturne/core/file_io.hpp>

#include <arpa/inet.h>
#include <cerrno>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace nocturne::app {
namespace {

constexpr std::size_t max_response_bytes = 8 * 1024 * 1024;

std::error_code last_error() {
    return {errno, std::generic_category()};
}

// Closes the socket however the request ends.
struct Socket {
    int fd = -1;
    ~Socket() {
        if (fd >= 0) ::close(fd);
    }
};

}  // namespace

result<LocalResponse> local_request(std::uint16_t port, std::string_view method,
                                    std::string_view target, std::string_view token,
                                    std::string_view body, std::chrono::milliseconds timeout) {
    Socket s{::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
    if (s.fd < 0) return last_error();
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(s.fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
        return last_error();
    }
    std::string request;
    request.append(method).append(" ").append(target).append(" HTTP/1.1\r\n");
    request.append("Host: 127.0.0.1:").append(std::to_string(port)).append("\r\n");
    request.append("Authorization: Bearer ").append(token).append("\r\n");
    request.append("Connection: close\r\n");
    if (!body.empty()) {
        request.append("Content-Type: application/json\r\n");
        request.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
    }
    request.append("\r\n").append(body);
    if (!write_all(s.fd, request)) return last_error();

    std::string raw;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    char buf[8192];
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return make_error_code(errc::timeout);
        pollfd p{s.fd, POLLIN, 0};
        const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
        if (ready < 0 && errno == EINTR) continue;
        if (ready < 0) return last_error();
        if (ready == 0) return make_error_code(errc::timeout);
        const ssize_t n = ::read(s.fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return last_error();
        if (n == 0) break;  // Connection: close: the body ends with the connection
        raw.append(buf, static_cast<std::size_t>(n));
        if (raw.size() > max_response_bytes) return make_error_code(errc::frame_too_large);
    }
    // "HTTP/1.1 200 OK\r\n...headers...\r\n\r\nbody"
    const auto head_end = raw.find("\r\n\r\n");
    if (raw.rfind("HTTP/1.", 0) != 0 || raw.size() < 12 || head_end == std::string::npos) {
        return make_error_code(errc::malformed_json);
    }
    LocalResponse out;
    out.status = std::atoi(raw.substr(9, 3).c_str());
    out.body = raw.substr(head_end + 4);
    return out;
}

}  // namespace nocturne::app
