#include <nocturne/api/request_checks.hpp>

#include <gtest/gtest.h>

namespace nocturne::api {
namespace {

TEST(HttpChecks, LoopbackHosts) {
    for (const char* host : {"localhost", "LocalHost", "127.0.0.1", "[::1]", "localhost:9091",
                             "127.0.0.1:1", "[::1]:65535"}) {
        EXPECT_TRUE(is_loopback_host(host)) << host;
    }
    for (const char* host :
         {"", "evil.example", "localhost.evil.example", "localhost.", "127.0.0.1.nip.io",
          "127.0.0.2", "::1", "[::1", "localhost:", "localhost:abc", "localhost:65536",
          "localhost:123456", "localhost:80:80", "0.0.0.0", "user@localhost", " localhost"}) {
        EXPECT_FALSE(is_loopback_host(host)) << host;
    }
}

TEST(HttpChecks, BearerToken) {
    EXPECT_EQ(bearer_token("Bearer abc").value(), "abc");
    EXPECT_EQ(bearer_token("bearer  abc ").value(), "abc");
    EXPECT_EQ(bearer_token("BEARER abc").value(), "abc");
    EXPECT_FALSE(bearer_token("Bearer"));
    EXPECT_FALSE(bearer_token("Bearer "));
    EXPECT_FALSE(bearer_token("Bearerabc"));
    EXPECT_FALSE(bearer_token("Basic YWxhZGRpbjpvcGVuc2VzYW1l"));
    EXPECT_FALSE(bearer_token("Bearer a b"));
    EXPECT_FALSE(bearer_token(""));
}

TEST(HttpChecks, TokenMatches) {
    EXPECT_TRUE(token_matches("abcd", "abcd"));
    EXPECT_FALSE(token_matches("abce", "abcd"));
    EXPECT_FALSE(token_matches("abc", "abcd"));
    EXPECT_FALSE(token_matches("abcde", "abcd"));
}

TEST(HttpChecks, JsonContentType) {
    EXPECT_TRUE(is_json_content_type("application/json"));
    EXPECT_TRUE(is_json_content_type("Application/JSON; charset=utf-8"));
    EXPECT_TRUE(is_json_content_type("application/json ;charset=UTF-8"));
    EXPECT_FALSE(is_json_content_type("text/plain"));
    EXPECT_FALSE(is_json_content_type("application/jsonx"));
    EXPECT_FALSE(is_json_content_type("application/x-www-form-urlencoded"));
    EXPECT_FALSE(is_json_content_type(""));
}

}  // namespace
}  // namespace nocturne::api
