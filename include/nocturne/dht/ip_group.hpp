#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace nocturne::dht {

// The network block a peer's address belongs to: an IPv4 /24 or an IPv6 /64. Peers in one block
// are likely run by one party, so the routing table caps how many of them it holds (an eclipse
// attack needs many ids, and ids are cheap while address blocks are not).
struct IpGroup {
    enum class Family : std::uint8_t { v4, v6 };
    Family family = Family::v4;
    // v4: the first 3 bytes; v6: the first 8. Unused bytes are zero.
    std::array<std::uint8_t, 8> prefix{};

    friend auto operator<=>(const IpGroup&, const IpGroup&) = default;
};

// The host of "scheme://[userinfo@]host[:port][/path...]" (the scheme part is optional), without
// IPv6 brackets or zone: "127.0.0.1", "::1", "host.example". nullopt when there is no usable host
// (empty, unterminated "[", an unbracketed host with several ':').
std::optional<std::string_view> address_host(std::string_view address);

// The group of an address for the diversity limits, or nullopt when the address is exempt: host
// names (the group of a name is unknowable without DNS, and resolving here would not be sans-IO;
// contacts between peers carry IP addresses only), malformed addresses, and, only when
// exempt_loopback says so (tests, a mesh on one host), loopback (127.0.0.0/8, ::1, and their
// IPv4-mapped forms). IPv4-mapped IPv6 addresses ("::ffff:a.b.c.d") are grouped as the IPv4
// address they carry.
std::optional<IpGroup> ip_group_of(std::string_view address, bool exempt_loopback = false);

// The address a peer can be dialed at: the scheme and port it claims, at the IP its connection
// came from ("ws://" + ip + ":" + port). nullopt when the claim has no port or the IP is not one.
std::optional<std::string> address_at(std::string_view claimed, std::string_view ip);

}  // namespace nocturne::dht
