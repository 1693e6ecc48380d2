#pragma once

#include <nocturne/core/bytes.hpp>
#include <nocturne/core/error.hpp>

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace nocturne {

// A point in the 256-bit Kademlia key space: node ids and record keys alike.
class NodeId {
public:
    static constexpr std::size_t size = 32;
    using array_type = std::array<std::uint8_t, size>;

    constexpr NodeId() noexcept = default;
    constexpr explicit NodeId(const array_type& bytes) noexcept : bytes_(bytes) {}

    // SHA-256 of an Ed25519 public key (32 bytes). Any other length is errc::bad_length.
    static result<NodeId> from_public_key(bytes_view public_key);
    static result<NodeId> from_hex(std::string_view text);

    std::string to_hex() const;
    // The first 8 hex digits, for logs.
    std::string short_hex() const;

    const array_type& bytes() const noexcept { return bytes_; }
    array_type& bytes() noexcept { return bytes_; }
    std::uint8_t operator[](std::size_t i) const noexcept { return bytes_[i]; }
    std::uint8_t& operator[](std::size_t i) noexcept { return bytes_[i]; }

    bool is_zero() const noexcept;

    // Big-endian lexicographic order: comparing two XOR distances with it compares distances.
    friend constexpr auto operator<=>(const NodeId&, const NodeId&) noexcept = default;

private:
    array_type bytes_{};
};

constexpr std::size_t num_buckets = NodeId::size * 8;

NodeId xor_distance(const NodeId& a, const NodeId& b) noexcept;

// True when a is strictly closer to target than b.
bool distance_less(const NodeId& target, const NodeId& a, const NodeId& b) noexcept;

// Index of the highest differing bit: 0 when the top bit differs (farthest), 255 when only the last
// bit differs. Equal ids have no bucket; by convention they map to 255, as in the plan.
std::size_t bucket_index(const NodeId& self, const NodeId& other) noexcept;

// Key derivations. Each hashes a fixed textual form; the ":" separator keeps "a:b" + "c" apart from
// "a" + "b:c" only because ids and prefixes never contain ':' (record validation enforces this).
NodeId content_key(std::string_view domain, std::string_view entry_id);
NodeId domain_index_key(std::string_view domain);
NodeId prefix_key(std::string_view prefix, std::string_view id);

struct NodeIdHash {
    std::size_t operator()(const NodeId& id) const noexcept;
};

}  // namespace nocturne
