#pragma once

#include <nocturne/core/bytes.hpp>

#include <array>
#include <cstdint>
#include <span>
#include <string>

namespace nocturne::crypto {

using Nonce = std::array<std::uint8_t, 32>;

// Cryptographically secure (libsodium's randombytes).
void random_fill(std::span<std::uint8_t> out) noexcept;
Nonce random_nonce() noexcept;
// 128 random bits in hex: message ids, API tokens' building block, response markers.
std::string random_hex_id(std::size_t bytes = 16);

}  // namespace nocturne::crypto
