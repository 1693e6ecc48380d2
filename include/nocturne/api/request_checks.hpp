#pragma once

#include <optional>
#include <string_view>

namespace nocturne::api {

// The HttpServer's checks on request fields, kept out of its Beast TU so they are tested (and
// compiled) cheaply.

// A Host header naming this machine: "localhost", "127.0.0.1" or "[::1]" (names compared
// case-insensitively), optionally with ":port" (1-5 digits, at most 65535). Anything else, such as
// an attacker's domain that resolves to 127.0.0.1 (DNS rebinding), is refused.
bool is_loopback_host(std::string_view host) noexcept;

// The token of an "Authorization: Bearer <token>" value (scheme case-insensitive, RFC 6750);
// nullopt for another scheme, no token or a token with spaces.
std::optional<std::string_view> bearer_token(std::string_view authorization) noexcept;

// Constant-time comparison (sodium_memcmp), so response timing does not reveal how much of a
// guessed token was right. Only the length may leak, and every token has the same length.
bool token_matches(std::string_view given, std::string_view expected) noexcept;

// "application/json", in any case, with or without parameters ("; charset=utf-8").
bool is_json_content_type(std::string_view content_type) noexcept;

}  // namespace nocturne::api
