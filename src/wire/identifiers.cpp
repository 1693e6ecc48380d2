#include <nocturne/wire/identifiers.hpp>

namespace nocturne::wire {
namespace {

bool is_id_char(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
}

}  // namespace

bool is_valid_domain(std::string_view domain) noexcept {
    if (domain.empty() || domain.size() > max_identifier_bytes) return false;
    for (const auto prefix : key_prefix::all)
        if (domain == prefix) return false;
    for (const char c : domain)
        if (!is_id_char(c) && c != '/') return false;
    return true;
}

bool is_valid_id(std::string_view id) noexcept {
    if (id.empty() || id.size() > max_identifier_bytes) return false;
    for (const char c : id)
        if (!is_id_char(c)) return false;
    return true;
}

bool is_valid_address(std::string_view address) noexcept {
    if (address.size() > max_address_bytes) return false;
    std::string_view rest;
    if (address.starts_with("ws://")) {
        rest = address.substr(5);
    } else if (address.starts_with("wss://")) {
        rest = address.substr(6);
    } else {
        return false;
    }
    if (rest.empty()) return false;
    for (const char c : rest)
        if (c <= ' ' || c >= 0x7f) return false;  // printable ASCII, no spaces or controls
    return true;
}

namespace {

bool is_port(std::string_view text) noexcept {
    if (text.empty() || text.size() > 5 || (text.size() > 1 && text[0] == '0')) return false;
    unsigned v = 0;
    for (const char c : text) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + static_cast<unsigned>(c - '0');
    }
    return v >= 1 && v <= 65535;
}

bool is_ipv4(std::string_view text) noexcept {
    int parts = 0;
    while (true) {
        const auto dot = text.find('.');
        const auto part = text.substr(0, dot);
        if (part.empty() || part.size() > 3 || (part.size() > 1 && part[0] == '0')) return false;
        unsigned v = 0;
        for (const char c : part) {
            if (c < '0' || c > '9') return false;
            v = v * 10 + static_cast<unsigned>(c - '0');
        }
        if (v > 255) return false;
        ++parts;
        if (dot == std::string_view::npos) break;
        text.remove_prefix(dot + 1);
    }
    return parts == 4;
}

// Hex digits, ':' and '.' (a trailing IPv4 form), at least two ':'; the exact form is the
// resolver's, this rules out names and paths.
bool is_ipv6(std::string_view text) noexcept {
    if (text.size() < 2 || text.size() > 45) return false;
    int colons = 0;
    for (const char c : text) {
        const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        if (c == ':') {
            ++colons;
        } else if (!hex && c != '.') {
            return false;
        }
    }
    return colons >= 2;
}

}  // namespace

bool is_contact_address(std::string_view address) noexcept {
    if (address.size() > max_address_bytes) return false;
    std::string_view rest;
    if (address.starts_with("ws://")) {
        rest = address.substr(5);
    } else if (address.starts_with("wss://")) {
        rest = address.substr(6);
    } else {
        return false;
    }
    if (rest.starts_with('[')) {
        const auto close = rest.find(']');
        if (close == std::string_view::npos || close + 1 >= rest.size() || rest[close + 1] != ':') {
            return false;
        }
        return is_ipv6(rest.substr(1, close - 1)) && is_port(rest.substr(close + 2));
    }
    const auto colon = rest.rfind(':');
    if (colon == std::string_view::npos) return false;
    return is_ipv4(rest.substr(0, colon)) && is_port(rest.substr(colon + 1));
}

}  // namespace nocturne::wire
