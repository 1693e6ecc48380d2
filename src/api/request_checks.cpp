#include <nocturne/api/request_checks.hpp>
#include <nocturne/core/sodium_init.hpp>

#include <sodium.h>

#include <algorithm>
#include <array>
#include <cstdint>

namespace nocturne::api {
namespace {

char lower(char c) noexcept {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                              [](char x, char y) { return lower(x) == lower(y); });
}

bool is_port(std::string_view text) noexcept {
    if (text.empty() || text.size() > 5) return false;
    std::uint32_t value = 0;
    for (const char c : text) {
        if (c < '0' || c > '9') return false;
        value = value * 10 + static_cast<std::uint32_t>(c - '0');
    }
    return value <= 65535;
}

std::string_view trim(std::string_view text) noexcept {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
    return text;
}

}  // namespace

bool is_loopback_host(std::string_view host) noexcept {
    constexpr std::array<std::string_view, 3> names{"localhost", "127.0.0.1", "[::1]"};
    for (const std::string_view name : names) {
        if (host.size() < name.size() || !iequals(host.substr(0, name.size()), name)) continue;
        const std::string_view rest = host.substr(name.size());
        if (rest.empty()) return true;
        return rest.front() == ':' && is_port(rest.substr(1));
    }
    return false;
}

std::optional<std::string_view> bearer_token(std::string_view authorization) noexcept {
    constexpr std::string_view scheme = "bearer";
    authorization = trim(authorization);
    if (authorization.size() <= scheme.size() ||
        !iequals(authorization.substr(0, scheme.size()), scheme)) {
        return std::nullopt;
    }
    std::string_view rest = authorization.substr(scheme.size());
    if (rest.front() != ' ') return std::nullopt;  // "Bearerabc" is another scheme
    rest = trim(rest);
    if (rest.empty() || rest.find_first_of(" \t") != std::string_view::npos) return std::nullopt;
    return rest;
}

bool token_matches(std::string_view given, std::string_view expected) noexcept {
    if (given.size() != expected.size()) return false;
    ensure_sodium();
    return sodium_memcmp(given.data(), expected.data(), given.size()) == 0;
}

bool is_json_content_type(std::string_view content_type) noexcept {
    const std::string_view media = trim(content_type.substr(0, content_type.find(';')));
    return iequals(media, "application/json");
}

}  // namespace nocturne::api
