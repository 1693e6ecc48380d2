#pragma once

#include <nocturne/core/error.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace nocturne::app {

struct LocalResponse {
    int status = 0;
    std::string body;
};

// One blocking HTTP/1.1 request to the local API on 127.0.0.1:port (Connection: close), for the
// CLI's commands: Beast's client, its own io_context, the whole exchange bounded by `timeout`
// (errc::timeout), the response by 8 MiB (errc::frame_too_large); a connection error is the
// OS's code (ECONNREFUSED: no node listens there).
result<LocalResponse> local_request(std::uint16_t port, std::string_view method,
                                    std::string_view target, std::string_view token,
                                    std::string_view body = {},
                                    std::chrono::milliseconds timeout = std::chrono::seconds(5));

}  // namespace nocturne::app
