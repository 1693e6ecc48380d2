#include <nocturne/dht/ip_group.hpp>
#include <nocturne/wire/identifiers.hpp>

#include <algorithm>
#include <arpa/inet.h>
#include <cstddef>
#include <string>

namespace nocturne::dht {
namespace {

// Longer than any textual IP address (INET6_ADDRSTRLEN is 46): such a host is a name, and copying
// it for inet_pton would only cost time.
constexpr std::size_t max_ip_text = 64;

std::optional<IpGroup> group_v4(const std::uint8_t* a, bool exempt_loopback) {
    if (exempt_loopback && a[0] == 127) return std::nullopt;
    IpGroup g;
    g.family = IpGroup::Family::v4;
    std::copy(a, a + 3, g.prefix.begin());
    return g;
}

}  // namespace

std::optional<std::string_view> address_host(std::string_view address) {
    std::string_view rest = address;
    if (const auto scheme_end = rest.find("://"); scheme_end != std::string_view::npos)
        rest.remove_prefix(scheme_end + 3);
    const std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
    std::string_view host_port = authority;
    if (const auto at = host_port.rfind('@'); at != std::string_view::npos)
        host_port.remove_prefix(at + 1);

    std::string_view host;
    if (!host_port.empty() && host_port.front() == '[') {
        const auto close = host_port.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        host = host_port.substr(1, close - 1);
        // A zone ("fe80::1%eth0") names a local interface; it says nothing about the network.
        host = host.substr(0, host.find('%'));
    } else {
        const auto colon = host_port.find(':');
        // Several colons without brackets: an IPv6 literal that cannot be told from its port.
        if (colon != std::string_view::npos &&
            host_port.find(':', colon + 1) != std::string_view::npos)
            return std::nullopt;
        host = host_port.substr(0, colon);
    }
    if (host.empty()) return std::nullopt;
    return host;
}

std::optional<IpGroup> ip_group_of(std::string_view address, bool exempt_loopback) {
    const auto host = address_host(address);
    if (!host || host->size() > max_ip_text) return std::nullopt;
    // Only these characters make up an IP literal. Checking first also keeps an embedded NUL from
    // cutting the text short for inet_pton ("1.2.3.4\0junk" is not 1.2.3.4).
    const auto ip_char = [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
               c == '.' || c == ':';
    };
    if (!std::all_of(host->begin(), host->end(), ip_char)) return std::nullopt;  // a host name
    const std::string text(*host);  // inet_pton needs a terminated string

    std::uint8_t v4[4];
    if (inet_pton(AF_INET, text.c_str(), v4) == 1) return group_v4(v4, exempt_loopback);

    std::uint8_t v6[16];
    if (inet_pton(AF_INET6, text.c_str(), v6) != 1) return std::nullopt;  // a host name
    constexpr std::uint8_t loopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    if (exempt_loopback && std::equal(v6, v6 + 16, loopback)) return std::nullopt;
    constexpr std::uint8_t mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::equal(v6, v6 + 12, mapped_prefix)) return group_v4(v6 + 12, exempt_loopback);
    IpGroup g;
    g.family = IpGroup::Family::v6;
    std::copy(v6, v6 + 8, g.prefix.begin());
    return g;
}

std::optional<std::string> address_at(std::string_view claimed, std::string_view ip) {
    if (ip.empty() || ip.size() > max_ip_text) return std::nullopt;
    std::string_view scheme;
    if (claimed.starts_with("ws://")) {
        scheme = "ws://";
    } else if (claimed.starts_with("wss://")) {
        scheme = "wss://";
    } else {
        return std::nullopt;
    }
    std::string_view rest = claimed.substr(scheme.size());
    rest = rest.substr(0, rest.find_first_of("/?#"));
    const auto colon = rest.rfind(':');
    if (colon == std::string_view::npos ||
        (rest.find(']') != std::string_view::npos && colon < rest.find(']'))) {
        return std::nullopt;
    }
    const auto port = rest.substr(colon + 1);
    const bool v6 = ip.find(':') != std::string_view::npos;
    std::string out(scheme);
    if (v6) out += '[';
    out += ip;
    if (v6) out += ']';
    out += ':';
    out += port;
    if (!wire::is_contact_address(out)) return std::nullopt;
    return out;
}

}  // namespace nocturne::dht
