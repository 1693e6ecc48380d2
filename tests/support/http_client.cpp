#include "support/http_client.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <charconv>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace nocturne::test {
namespace {

std::string lower(std::string_view text) {
    std::string out(text);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
    return text;
}

}  // namespace

std::string HttpResponse::header(const std::string& lower_case_name) const {
    const auto it = headers.find(lower_case_name);
    return it == headers.end() ? std::string() : it->second;
}

std::string format_request(std::string_view method, std::string_view target,
                           const HeaderList& headers, std::string_view body) {
    std::string out = std::string(method) + " " + std::string(target) + " HTTP/1.1\r\n";
    for (const auto& [name, value] : headers) out += name + ": " + value + "\r\n";
    if (!body.empty()) out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    out += "\r\n";
    out += body;
    return out;
}

HttpClient::HttpClient(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd_);
        fd_ = -1;
    }
}

HttpClient::~HttpClient() {
    if (fd_ >= 0) ::close(fd_);
}

bool HttpClient::send(std::string_view bytes) {
    if (fd_ < 0) return false;
    while (!bytes.empty()) {
        // MSG_NOSIGNAL: a server that closed on us must fail the test, not kill it with SIGPIPE.
        const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

bool HttpClient::fill(std::chrono::steady_clock::time_point deadline) {
    if (fd_ < 0) return false;
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return false;
        pollfd pfd{fd_, POLLIN, 0};
        const int ready = ::poll(&pfd, 1, static_cast<int>(left.count()));
        if (ready < 0 && errno == EINTR) continue;
        if (ready <= 0) return false;
        char chunk[4096];
        const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        buffer_.append(chunk, static_cast<std::size_t>(n));
        return true;
    }
}

std::optional<HttpResponse> HttpClient::read_response(std::chrono::milliseconds timeout,
                                                      bool skip_interim) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        std::size_t end = buffer_.find("\r\n\r\n");
        while (end == std::string::npos) {
            if (!fill(deadline)) return std::nullopt;
            end = buffer_.find("\r\n\r\n");
        }
        const std::string head = buffer_.substr(0, end);
        buffer_.erase(0, end + 4);

        HttpResponse response;
        std::string_view rest = head;
        const auto line_end = rest.find("\r\n");
        const std::string_view status_line = rest.substr(0, line_end);
        rest = line_end == std::string_view::npos ? std::string_view{} : rest.substr(line_end + 2);
        if (!status_line.starts_with("HTTP/1.") || status_line.size() < 12) return std::nullopt;
        const auto code = status_line.substr(9, 3);
        if (std::from_chars(code.data(), code.data() + 3, response.status).ec != std::errc{}) {
            return std::nullopt;
        }
        while (!rest.empty()) {
            const auto eol = rest.find("\r\n");
            const std::string_view line = rest.substr(0, eol);
            rest = eol == std::string_view::npos ? std::string_view{} : rest.substr(eol + 2);
            const auto colon = line.find(':');
            if (colon == std::string_view::npos) return std::nullopt;
            response.headers[lower(line.substr(0, colon))] =
                std::string(trim(line.substr(colon + 1)));
        }
        if (response.status < 200) {
            if (!skip_interim) return response;
            continue;  // 100 Continue: the real answer follows
        }

        std::size_t length = 0;
        const std::string text = response.header("content-length");
        if (std::from_chars(text.data(), text.data() + text.size(), length).ec != std::errc{}) {
            return std::nullopt;
        }
        while (buffer_.size() < length) {
            if (!fill(deadline)) return std::nullopt;
        }
        response.body = buffer_.substr(0, length);
        buffer_.erase(0, length);
        return response;
    }
}

std::optional<HttpResponse> HttpClient::request(std::string_view method, std::string_view target,
                                                const HeaderList& headers, std::string_view body,
                                                std::chrono::milliseconds timeout) {
    if (!send(format_request(method, target, headers, body))) return std::nullopt;
    return read_response(timeout);
}

bool HttpClient::closed_by_peer(std::chrono::milliseconds timeout) {
    if (fd_ < 0) return true;
    if (!buffer_.empty()) return false;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return false;
        pollfd pfd{fd_, POLLIN, 0};
        const int ready = ::poll(&pfd, 1, static_cast<int>(left.count()));
        if (ready < 0 && errno == EINTR) continue;
        if (ready <= 0) return false;
        char chunk[4096];
        const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
        if (n < 0 && errno == EINTR) continue;
        // More data instead of the end, or another error, is not a close.
        return n == 0 || (n < 0 && errno == ECONNRESET);
    }
}

}  // namespace nocturne::test
