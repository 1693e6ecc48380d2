#pragma once

#include <nocturne/api/message.hpp>

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace nocturne::api {

using Handler = std::function<Response(const Request&, const PathParams&)>;

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

    Response route(const Request& request) const;

    std::size_t size() const { return routes_.size(); }

private:
    struct Segment {
        std::string text;  // the literal, or the parameter's name
        bool param = false;
    };
    struct Route {
        std::string method;
        std::vector<Segment> segments;
        Handler handler;
    };

    std::vector<Route> routes_;
};

}  // namespace nocturne::api
