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

}  // namespace nocturne::wire
