#pragma once

#include <array>
#include <cstddef>
#include <string_view>

namespace nocturne::wire {

// Syntax of the names that feed key derivations. A domain never contains ':' so that
// content_key(domain, id) = SHA-256(domain ":" id) has exactly one way to split.
inline constexpr std::size_t max_identifier_bytes = 128;

// The prefixes of prefix_key() derivations, one per record kind that uses one. Since neither a
// prefix nor a domain contains ':', content_key(domain, id) == prefix_key(prefix, id) exactly when
// domain == prefix: these names are therefore not valid domains. A new prefix goes here.
namespace key_prefix {
inline constexpr std::string_view domain_index = "domain_index";  // core's domain_index_key()
inline constexpr std::string_view cert = "cert";
inline constexpr std::string_view revocation = "revocation";
inline constexpr std::string_view agent = "agent";
inline constexpr std::string_view vote = "vote";
inline constexpr std::string_view task = "task";
inline constexpr std::string_view awareness = "awareness";
inline constexpr std::string_view task_index = "task_index";  // a domain's compute tasks
inline constexpr std::string_view quarantine = "quarantine";
inline constexpr std::string_view anomaly = "anomaly";
inline constexpr std::array<std::string_view, 10> all = {
    domain_index, cert, revocation, agent, vote, task, awareness, task_index, quarantine, anomaly};
}  // namespace key_prefix

// 1-128 of [A-Za-z0-9._/-], e.g. "go/concurrency", and not a reserved key prefix.
bool is_valid_domain(std::string_view domain) noexcept;
// 1-128 of [A-Za-z0-9._-]: entry, task, operator and agent ids.
bool is_valid_id(std::string_view id) noexcept;

// Where a peer accepts connections: "ws://" or "wss://" and at least one more character, at most
// 256 bytes, printable ASCII without spaces. Syntax only: net/ parses what it dials.
inline constexpr std::size_t max_address_bytes = 256;
bool is_valid_address(std::string_view address) noexcept;
// What peers may pass each other: ws:// or wss://, then a dotted IPv4 address or a bracketed IPv6
// address, then ":" and a port 1-65535, and nothing else.
bool is_contact_address(std::string_view address) noexcept;

}  // namespace nocturne::wire
