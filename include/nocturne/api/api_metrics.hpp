#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>

namespace nocturne::api {

// Requests the local API answered, by endpoint ("GET /local/knowledge/{id}": the route's pattern,
// never the raw path, so the set stays as small as the route table) and HTTP status. Requests that
// never reached a route (refused for their Host, token, size or form) count under "none", paths
// no route matches under "unmatched".
//
// Owned by the thread that runs the server and the router.
class ApiMetrics {
public:
    void count(std::string_view endpoint, int status) {
        ++counts_[{std::string(endpoint), status}];
    }
    const std::map<std::pair<std::string, int>, std::uint64_t>& counts() const { return counts_; }

private:
    std::map<std::pair<std::string, int>, std::uint64_t> counts_;
};

}  // namespace nocturne::api
