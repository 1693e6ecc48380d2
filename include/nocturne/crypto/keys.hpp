#pragma once

#include <nocturne/core/bytes.hpp>
#include <nocturne/core/error.hpp>
#include <nocturne/core/node_id.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace nocturne::crypto {

using PublicKey = std::array<std::uint8_t, 32>;
using Signature = std::array<std::uint8_t, 64>;
using Seed = std::array<std::uint8_t, 32>;

// An Ed25519 key pair. The secret half lives in memory that is wiped on destruction; it is never
// copied implicitly (move only), so a key cannot leak into a log line or a stray copy by accident.
class KeyPair {
public:
    static KeyPair generate();
    // Deterministic derivation; used by key files and by the simulator (seeded identities).
    static KeyPair from_seed(const Seed& seed);

    KeyPair(KeyPair&& other) noexcept;
    KeyPair& operator=(KeyPair&& other) noexcept;
    KeyPair(const KeyPair&) = delete;
    KeyPair& operator=(const KeyPair&) = delete;
    ~KeyPair();

    const PublicKey& public_key() const noexcept { return public_; }
    NodeId node_id() const;
    Seed seed() const;

    Signature sign(bytes_view message) const;

private:
    KeyPair() = default;
    void wipe() noexcept;

    PublicKey public_{};
    std::array<std::uint8_t, 64> secret_{};
};

// Constant-time Ed25519 verification (libsodium rejects non-canonical and small-order encodings).
bool verify(const PublicKey& key, bytes_view message, const Signature& signature) noexcept;

result<PublicKey> public_key_from_hex(std::string_view text);
result<Signature> signature_from_hex(std::string_view text);

}  // namespace nocturne::crypto
