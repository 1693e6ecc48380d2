#pragma once

#include <nocturne/api/message.hpp>

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace nocturne::api {

// Answers a request; call it exactly once, on the server's thread (a second call is ignored).
using Responder = std::function<void(Response)>;
// A handler that answers at once.
using Handler = std::function<Response(const Request&, const PathParams&)>;
// A handler that may answer later (after DHT lookups), through the responder it is given. The
// server bounds the wait (HttpServerConfig::handler_timeout).
using AsyncHandler = std::function<void(const Request&, const PathParams&, const Responder&)>;

// Maps (method, path pattern) to handlers; sans-IO, so it is tested without sockets.
//
// A pattern is '/'-separated segments, each a literal ("knowledge") or a parameter ("{id}") that
// matches one non-empty segment: "/local/knowledge/{id}". Request paths are split on '/' first
// and each segment is percent-decoded, so "%2F" is part of a parameter's value, never a separator.
// No normalisation: "/a/" and "//a" do not match "/a"; dot segments ("." or "..", also encoded)
// are refused with 400. When several patterns match, a literal segment beats a parameter at the
// first segment where they differ, so "/k/search" wins over "/k/{id}" for "/k/search".
//
// Errors: 400 bad_request (malformed escape or dot segment), 404 not_found (no pattern matches
// the path), 405 method_not_allowed with an Allow header (patterns match, none for this method),
// 500 internal_error if a handler throws.
//
// Owned by the thread that runs the server (routes are added before it starts); route() is
// const and may be called from any thread if the handlers allow it.
class Router {
public:
    // Throws std::invalid_argument (a start-up error): an empty method, a pattern that does not
    // start with '/', an empty segment, a literal with '%', '{', '}', '?' or '#', a parameter name
    // that is not [A-Za-z_][A-Za-z0-9_]*, a name used twice in one pattern, or a (method,
    // pattern) already registered (parameter names aside), or an empty handler.
    void add(std::string_view method, std::string_view pattern, Handler handler);
    void add_async(std::string_view method, std::string_view pattern, AsyncHandler handler);

    // Hands the request to its handler, or answers the error itself.
    void route(const Request& request, Responder respond) const;
    // For handlers that answer at once (tests); an AsyncHandler that has not answered when it
    // returns gets a 500.
    Response route(const Request& request) const;

    std::size_t size() const { return routes_.size(); }
    // The route a request goes to, for metrics: "GET /local/knowledge/{id}" (its pattern, not the
    // path), "unmatched" when none does (or the path is malformed).
    std::string endpoint_of(const Request& request) const;

private:
    struct Segment {
        std::string text;  // the literal, or the parameter's name
        bool param = false;
    };
    struct Route {
        std::string method;
        std::vector<Segment> segments;
        AsyncHandler handler;
    };
    struct Match {
        const AsyncHandler* handler;
        PathParams params;
        const Route* route;
    };

    // The route for a request, or the error response (400, 404, 405).
    std::variant<Response, Match> match(const Request& request) const;

    std::vector<Route> routes_;
};

}  // namespace nocturne::api
