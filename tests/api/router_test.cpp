#include <nocturne/api/json_error.hpp>
#include <nocturne/api/router.hpp>
#include <nocturne/api/target.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string>

namespace nocturne::api {
namespace {

using nlohmann::json;

Request make(std::string method, std::string_view target) {
    Request r;
    r.method = std::move(method);
    EXPECT_FALSE(parse_target(target, r)) << target;
    return r;
}

// A handler that echoes which route ran and with which parameters.
Handler echo(std::string name) {
    return [name = std::move(name)](const Request&, const PathParams& params) {
        json body = {{"route", name}, {"params", json::object()}};
        for (const auto& [k, v] : params) body["params"][k] = v;
        return Response{200, body.dump(), {}};
    };
}

json body_of(const Response& r) {
    return json::parse(r.body);
}

std::string error_code_of(const Response& r) {
    return body_of(r).at("error").at("code").get<std::string>();
}

std::string header(const Response& r, std::string_view name) {
    for (const auto& [n, v] : r.headers)
        if (n == name) return v;
    return {};
}

TEST(Router, MatchesLiteralAndParameterSegments) {
    Router router;
    router.add("GET", "/local/health", echo("health"));
    router.add("GET", "/local/knowledge/{id}", echo("knowledge"));
    router.add("GET", "/local/domains/{domain}/entries/{entry}", echo("entry"));

    auto r = router.route(make("GET", "/local/health"));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(body_of(r)["route"], "health");

    r = router.route(make("GET", "/local/knowledge/abc123"));
    EXPECT_EQ(body_of(r)["route"], "knowledge");
    EXPECT_EQ(body_of(r)["params"]["id"], "abc123");

    r = router.route(make("GET", "/local/domains/rust/entries/7"));
    EXPECT_EQ(body_of(r)["params"], (json{{"domain", "rust"}, {"entry", "7"}}));
}

TEST(Router, PassesTheRequestThrough) {
    Router router;
    router.add("POST", "/x", [](const Request& req, const PathParams&) {
        return Response{201, json{{"q", req.query.at("q")}, {"body", req.body}}.dump(), {}};
    });
    Request req = make("POST", "/x?q=a+b");
    req.body = R"({"k":1})";
    const auto r = router.route(req);
    EXPECT_EQ(r.status, 201);
    EXPECT_EQ(body_of(r)["q"], "a b");
    EXPECT_EQ(body_of(r)["body"], R"({"k":1})");
}

TEST(Router, LiteralBeatsParameter) {
    Router router;
    router.add("GET", "/k/{id}", echo("by-id"));
    router.add("GET", "/k/search", echo("search"));
    router.add("GET", "/{a}/{b}/x", echo("params-first"));
    router.add("GET", "/k/{b}/x", echo("literal-first"));
    EXPECT_EQ(body_of(router.route(make("GET", "/k/search")))["route"], "search");
    EXPECT_EQ(body_of(router.route(make("GET", "/k/other")))["route"], "by-id");
    EXPECT_EQ(body_of(router.route(make("GET", "/k/z/x")))["route"], "literal-first");
    EXPECT_EQ(body_of(router.route(make("GET", "/j/z/x")))["route"], "params-first");
}

TEST(Router, UnknownPathIs404) {
    Router router;
    router.add("GET", "/local/knowledge/{id}", echo("knowledge"));
    for (const char* target : {"/local/nothing", "/local/knowledge", "/local/knowledge/a/b",
                               "/local/knowledge/", "/local//knowledge/a", "/"}) {
        const auto r = router.route(make("GET", target));
        EXPECT_EQ(r.status, 404) << target;
        EXPECT_EQ(error_code_of(r), "not_found") << target;
    }
}

TEST(Router, WrongMethodIs405WithAllow) {
    Router router;
    router.add("GET", "/local/knowledge/{id}", echo("get"));
    router.add("DELETE", "/local/knowledge/{id}", echo("delete"));
    router.add("POST", "/local/knowledge", echo("post"));
    auto r = router.route(make("PUT", "/local/knowledge/abc"));
    EXPECT_EQ(r.status, 405);
    EXPECT_EQ(error_code_of(r), "method_not_allowed");
    EXPECT_EQ(header(r, "Allow"), "DELETE, GET");
    // Methods are case-sensitive (RFC 9110 9.1).
    r = router.route(make("get", "/local/knowledge/abc"));
    EXPECT_EQ(r.status, 405);
    r = router.route(make("GET", "/local/knowledge"));
    EXPECT_EQ(r.status, 405);
    EXPECT_EQ(header(r, "Allow"), "POST");
}

TEST(Router, DecodesPathSegments) {
    Router router;
    router.add("GET", "/k/{id}", echo("k"));
    router.add("GET", "/lit eral/x", echo("literal"));
    auto r = router.route(make("GET", "/k/a%2Fb%20c%c3%a9"));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(body_of(r)["params"]["id"], "a/b c\xc3\xa9");
    // '+' is a plus in a path; only query strings use it for a space.
    EXPECT_EQ(body_of(router.route(make("GET", "/k/a+b")))["params"]["id"], "a+b");
    // Literals match the decoded segment.
    EXPECT_EQ(body_of(router.route(make("GET", "/lit%20eral/x")))["route"], "literal");
    EXPECT_EQ(body_of(router.route(make("GET", "/%6B/x")))["params"]["id"], "x");
}

TEST(Router, MalformedEscapesAndDotSegmentsAre400) {
    Router router;
    router.add("GET", "/k/{id}", echo("k"));
    for (const char* path : {"/k/%", "/k/%4", "/k/%zz", "/k/a%g1", "/k/%00", "/nothing/%x", "/k/..",
                             "/k/.", "/k/%2e%2E", "/../k/a"}) {
        Request req;
        req.method = "GET";
        req.path = path;
        const auto r = router.route(req);
        EXPECT_EQ(r.status, 400) << path;
        EXPECT_EQ(error_code_of(r), "bad_request") << path;
    }
    // A dot inside a segment is just a character.
    EXPECT_EQ(body_of(router.route(make("GET", "/k/a..b")))["params"]["id"], "a..b");
}

TEST(Router, HandlerExceptionIs500) {
    Router router;
    router.add("GET", "/boom", [](const Request&, const PathParams&) -> Response {
        throw std::runtime_error("bug");
    });
    const auto r = router.route(make("GET", "/boom"));
    EXPECT_EQ(r.status, 500);
    EXPECT_EQ(error_code_of(r), "internal_error");
}

TEST(Router, RefusesBadPatterns) {
    Router router;
    router.add("GET", "/a/{id}", echo("a"));
    EXPECT_THROW(router.add("GET", "a/b", echo("x")), std::invalid_argument);
    EXPECT_THROW(router.add("GET", "", echo("x")), std::invalid_argument);
    EXPECT_THROW(router.add("", "/b", echo("x")), std::invalid_argument);
    EXPECT_THROW(router.add("GET", "/b//c", echo("x")), std::invalid_argument);
    EXPECT_THROW(router.add("GET", "/b/", echo("x")), std::invalid_argument);
    EXPECT_THROW(router.add("GET", "/b/{}", echo("x")), std::invalid_argument);
    EXPECT_THROW(router.add("GET", "/b/{1x}", echo("x")), std::invalid_argument);
    EXPECT_THROW(router.add("GET", "/b/{x", echo("x")), std::invalid_argument);
    EXPECT_THROW(router.add("GET", "/b/x}", echo("x")), std::invalid_argument);
    EXPECT_THROW(router.add("GET", "/b/%20", echo("x")), std::invalid_argument);
    EXPECT_THROW(router.add("GET", "/b/{x}/{x}", echo("x")), std::invalid_argument);
    EXPECT_THROW(router.add("GET", "/b", Handler{}), std::invalid_argument);
    // Same shape under another parameter name is the same route.
    EXPECT_THROW(router.add("GET", "/a/{other}", echo("x")), std::invalid_argument);
    EXPECT_NO_THROW(router.add("POST", "/a/{id}", echo("x")));
    EXPECT_NO_THROW(router.add("GET", "/", echo("root")));
    EXPECT_EQ(router.size(), 3u);
    EXPECT_EQ(body_of(router.route(make("GET", "/")))["route"], "root");
}

TEST(RouterTarget, SplitsAndDecodesQuery) {
    Request r;
    ASSERT_FALSE(parse_target("/p/a%20b?x=1&y=a+b%2B%26&flag&&z=", r));
    EXPECT_EQ(r.path, "/p/a%20b");  // the path stays encoded for the router
    EXPECT_EQ(r.query, (QueryParams{{"x", "1"}, {"y", "a b+&"}, {"flag", ""}, {"z", ""}}));

    ASSERT_FALSE(parse_target("/only", r));
    EXPECT_EQ(r.path, "/only");
    EXPECT_TRUE(r.query.empty());

    ASSERT_FALSE(parse_target("/q?a=b=c", r));
    EXPECT_EQ(r.query.at("a"), "b=c");
}

TEST(RouterTarget, RejectsMalformedTargets) {
    for (const char* target : {"", "p", "http://localhost/p", "*", "/p?x=%", "/p?x=%2", "/p?%zz=1",
                               "/p?x=%00", "/p?=1", "/p?x=1&x=2",
                               // Characters RFC 3986 does not allow unescaped (Boost.URL's
                               // origin-form grammar).
                               "/p?x=a\"b", "/p?x={1}", "/p?x=a|b", "/p/a b", "/p/<x>"}) {
        Request r;
        EXPECT_EQ(parse_target(target, r), errc::bad_request) << target;
    }
}

TEST(RouterTarget, PercentDecode) {
    EXPECT_EQ(percent_decode("a%41%6a+", false).value(), "aAj+");
    EXPECT_EQ(percent_decode("a%41%6a+", true).value(), "aAj ");
    EXPECT_EQ(percent_decode("", true).value(), "");
    EXPECT_EQ(percent_decode("%", true).error(), errc::bad_request);
    EXPECT_EQ(percent_decode("%a", true).error(), errc::bad_request);
    EXPECT_EQ(percent_decode("%-1", true).error(), errc::bad_request);
}

TEST(ApiJsonError, ShapeAndEscaping) {
    const auto r = json_error(404, errc::not_found, "no \"x\"\n\xff");
    EXPECT_EQ(r.status, 404);
    const auto doc = json::parse(r.body);
    EXPECT_EQ(doc.size(), 1u);
    EXPECT_EQ(doc["error"].size(), 2u);
    EXPECT_EQ(doc["error"]["code"], "not_found");
    EXPECT_EQ(doc["error"]["message"], "no \"x\"\n\xef\xbf\xbd");  // invalid UTF-8 replaced
    EXPECT_EQ(json::parse(json_error(413, errc::body_too_large, "m").body)["error"]["code"],
              "body_too_large");
}

}  // namespace
}  // namespace nocturne::api
