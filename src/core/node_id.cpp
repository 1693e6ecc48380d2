#include <nocturne/core/hex.hpp>
#include <nocturne/core/node_id.hpp>
#include <nocturne/core/sha256.hpp>

#include <bit>
#include <cstring>

namespace nocturne {
namespace {

NodeId hash_text(std::string_view text) {
    return NodeId(sha256(as_bytes(text)));
}

}  // namespace

result<NodeId> NodeId::from_public_key(bytes_view public_key) {
    if (public_key.size() != 32) return make_error_code(errc::bad_length);
    return NodeId(sha256(public_key));
}

result<NodeId> NodeId::from_hex(std::string_view text) {
    auto decoded = from_hex_fixed<size>(text);
    if (!decoded) return decoded.error();
    return NodeId(*decoded);
}

std::string NodeId::to_hex() const {
    return nocturne::to_hex(bytes_);
}

std::string NodeId::short_hex() const {
    return to_hex().substr(0, 8);
}

bool NodeId::is_zero() const noexcept {
    for (auto b : bytes_)
        if (b != 0) return false;
    return true;
}

NodeId xor_distance(const NodeId& a, const NodeId& b) noexcept {
    NodeId out;
    for (std::size_t i = 0; i < NodeId::size; ++i) out[i] = a[i] ^ b[i];
    return out;
}

bool distance_less(const NodeId& target, const NodeId& a, const NodeId& b) noexcept {
    for (std::size_t i = 0; i < NodeId::size; ++i) {
        const std::uint8_t da = target[i] ^ a[i];
        const std::uint8_t db = target[i] ^ b[i];
        if (da != db) return da < db;
    }
    return false;
}

std::size_t bucket_index(const NodeId& self, const NodeId& other) noexcept {
    for (std::size_t i = 0; i < NodeId::size; ++i) {
        const std::uint8_t d = self[i] ^ other[i];
        if (d != 0) return i * 8 + static_cast<std::size_t>(std::countl_zero(d));
    }
    return num_buckets - 1;
}

NodeId content_key(std::string_view domain, std::string_view entry_id) {
    std::string text;
    text.reserve(domain.size() + entry_id.size() + 1);
    text.append(domain).append(":").append(entry_id);
    return hash_text(text);
}

NodeId domain_index_key(std::string_view domain) {
    return prefix_key("domain_index", domain);
}

NodeId prefix_key(std::string_view prefix, std::string_view id) {
    std::string text;
    text.reserve(prefix.size() + id.size() + 1);
    text.append(prefix).append(":").append(id);
    return hash_text(text);
}

std::size_t NodeIdHash::operator()(const NodeId& id) const noexcept {
    // Ids are SHA-256 outputs (or test values): their first bytes are already well mixed.
    std::size_t h = 0;
    std::memcpy(&h, id.bytes().data(), sizeof h);
    return h;
}

}  // namespace nocturne
