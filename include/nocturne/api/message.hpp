#pragma once

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace nocturne::api {

// Transparent comparison: handlers look names up with string literals without a copy.
using QueryParams = std::map<std::string, std::string, std::less<>>;
using HeaderMap = std::map<std::string, std::string, std::less<>>;
using PathParams = std::map<std::string, std::string, std::less<>>;

// One HTTP request as handlers see it, free of any HTTP library type.
struct Request {
    std::string method;  // as sent ("GET"); HTTP methods are case-sensitive
    // The target's path, still percent-encoded: a decoded path would confuse "%2F" inside a
    // segment with a separator, so the router decodes segment by segment.
    std::string path;
    QueryParams query;  // decoded names and values
    // Lower-case names; repeated fields joined with ", " (RFC 9110 5.3). Authorization is left
    // out: the server has checked it, and a handler that logs its request must not log the token.
    HeaderMap headers;
    std::string body;
};

// A handler's answer. The server adds Content-Type: application/json, Content-Length and the
// connection headers itself.
struct Response {
    int status = 200;  // 200..599; anything else is sent as a 500 internal_error
    std::string body;  // JSON text
    std::vector<std::pair<std::string, std::string>> headers;  // extra fields (Allow, ...)
};

}  // namespace nocturne::api
