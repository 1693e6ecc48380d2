#include <nocturne/api/json_error.hpp>
#include <nocturne/api/router.hpp>
#include <nocturne/api/target.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>
#include <optional>
#include <set>
#include <stdexcept>

namespace nocturne::api {
namespace {

// Client paths are echoed in error messages only this far.
constexpr std::size_t max_echoed_path = 200;

bool is_name_start(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

bool is_name_char(char c) {
    return is_name_start(c) || (c >= '0' && c <= '9');
}

std::string echo(std::string_view path) {
    if (path.size() <= max_echoed_path) return std::string(path);
    return std::string(path.substr(0, max_echoed_path)) + "...";
}

// "/a/b" -> {"a", "b"}, "/" -> {}, "/a/" -> {"a", ""}. The caller has checked the leading '/'.
std::vector<std::string_view> split_path(std::string_view path) {
    std::vector<std::string_view> out;
    if (path.size() <= 1) return out;
    path.remove_prefix(1);
    for (;;) {
        const auto slash = path.find('/');
        out.push_back(path.substr(0, slash));
        if (slash == std::string_view::npos) break;
        path.remove_prefix(slash + 1);
    }
    return out;
}

}  // namespace

void Router::add(std::string_view method, std::string_view pattern, Handler handler) {
    if (!handler) throw std::invalid_argument("empty handler for route " + std::string(pattern));
    add_async(method, pattern,
              [handler = std::move(handler)](const Request& request, const PathParams& params,
                                             const Responder& respond) {
                  respond(handler(request, params));
              });
}

void Router::add_async(std::string_view method, std::string_view pattern, AsyncHandler handler) {
    const std::string where = std::string(method) + " " + std::string(pattern);
    if (method.empty()) throw std::invalid_argument("route with an empty method: " + where);
    if (!handler) throw std::invalid_argument("route without a handler: " + where);
    if (pattern.empty() || pattern.front() != '/') {
        throw std::invalid_argument("route pattern must start with '/': " + where);
    }
    Route route{std::string(method), {}, std::move(handler)};
    std::set<std::string, std::less<>> names;
    for (const std::string_view part : split_path(pattern)) {
        if (part.empty()) throw std::invalid_argument("empty segment in route: " + where);
        if (part.front() == '{') {
            if (part.size() < 3 || part.back() != '}') {
                throw std::invalid_argument("bad parameter in route: " + where);
            }
            std::string param(part.substr(1, part.size() - 2));
            if (!is_name_start(param.front()) ||
                !std::all_of(param.begin(), param.end(), is_name_char)) {
                throw std::invalid_argument("bad parameter name in route: " + where);
            }
            if (!names.insert(param).second) {
                throw std::invalid_argument("parameter named twice in route: " + where);
            }
            route.segments.push_back({std::move(param), true});
            continue;
        }
        if (part.find_first_of("%{}?#") != std::string_view::npos) {
            throw std::invalid_argument("bad literal segment in route: " + where);
        }
        route.segments.push_back({std::string(part), false});
    }
    for (const Route& other : routes_) {
        const bool same_shape =
            other.method == route.method && other.segments.size() == route.segments.size() &&
            std::equal(other.segments.begin(), other.segments.end(), route.segments.begin(),
                       [](const Segment& a, const Segment& b) {
                           return a.param == b.param && (a.param || a.text == b.text);
                       });
        if (same_shape) throw std::invalid_argument("route registered twice: " + where);
    }
    routes_.push_back(std::move(route));
}

Response Router::route(const Request& request) const {
    std::optional<Response> answer;
    route(request, [&answer](Response r) { answer = std::move(r); });
    if (answer) return std::move(*answer);
    spdlog::error("api: handler for {} {} did not answer at once", request.method,
                  echo(request.path));
    return json_error(500, errc::internal_error, "the request could not be completed");
}

void Router::route(const Request& request, Responder respond) const {
    auto answered = std::make_shared<bool>(false);
    Responder once = [answered, respond = std::move(respond)](Response r) {
        if (*answered) return;  // a handler answers once; a second answer is a bug, dropped
        *answered = true;
        respond(std::move(r));
    };
    auto matched = match(request);
    if (auto* error = std::get_if<Response>(&matched)) {
        once(std::move(*error));
        return;
    }
    auto& [handler, params, route] = std::get<Match>(matched);
    // A handler that throws (bad_alloc, a bug) costs one request, never the daemon.
    try {
        (*handler)(request, params, once);
        return;
    } catch (const std::exception& e) {
        spdlog::error("api: handler for {} {} failed: {}", request.method, echo(request.path),
                      e.what());
    } catch (...) {
        spdlog::error("api: handler for {} {} failed", request.method, echo(request.path));
    }
    once(json_error(500, errc::internal_error, "the request could not be completed"));
}

std::variant<Response, Router::Match> Router::match(const Request& request) const {
    if (request.path.empty() || request.path.front() != '/') {
        return json_error(400, errc::bad_request, "request path must start with '/'");
    }
    std::vector<std::string> segments;
    for (const std::string_view raw : split_path(request.path)) {
        auto decoded = percent_decode(raw, false);
        if (!decoded) {
            return json_error(400, errc::bad_request,
                              "malformed percent-escape in path " + echo(request.path));
        }
        if (*decoded == "." || *decoded == "..") {
            return json_error(400, errc::bad_request, "dot segment in path " + echo(request.path));
        }
        segments.push_back(std::move(*decoded));
    }

    const Route* best = nullptr;
    std::set<std::string> allowed;
    for (const Route& route : routes_) {
        if (route.segments.size() != segments.size()) continue;
        bool matches = true;
        for (std::size_t i = 0; i < segments.size() && matches; ++i) {
            const Segment& s = route.segments[i];
            matches = s.param ? !segments[i].empty() : s.text == segments[i];
        }
        if (!matches) continue;
        allowed.insert(route.method);
        if (route.method != request.method) continue;
        if (best == nullptr) {
            best = &route;
            continue;
        }
        // More specific: a literal where the other has a parameter, at the first difference.
        for (std::size_t i = 0; i < segments.size(); ++i) {
            if (route.segments[i].param == best->segments[i].param) continue;
            if (!route.segments[i].param) best = &route;
            break;
        }
    }

    if (allowed.empty()) {
        return json_error(404, errc::not_found, "no route for " + echo(request.path));
    }
    if (best == nullptr) {
        std::string allow;
        for (const auto& m : allowed) allow += (allow.empty() ? "" : ", ") + m;
        Response response = json_error(405, errc::method_not_allowed,
                                       "method " + echo(request.method) + " not allowed on " +
                                           echo(request.path) + "; allowed: " + allow);
        response.headers.emplace_back("Allow", std::move(allow));
        return response;
    }

    PathParams params;
    for (std::size_t i = 0; i < segments.size(); ++i) {
        if (best->segments[i].param) params.emplace(best->segments[i].text, segments[i]);
    }
    return Match{&best->handler, std::move(params), best};
}

std::string Router::endpoint_of(const Request& request) const {
    const auto matched = match(request);
    const auto* m = std::get_if<Match>(&matched);
    if (m == nullptr) return "unmatched";
    std::string out = m->route->method + " ";
    for (const auto& s : m->route->segments) out += s.param ? "/{" + s.text + "}" : "/" + s.text;
    return out;
}

}  // namespace nocturne::api
