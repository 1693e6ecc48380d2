#pragma once

#include <nocturne/core/bytes.hpp>

#include <array>
#include <cstdint>

namespace nocturne {

using sha256_digest = std::array<std::uint8_t, 32>;

sha256_digest sha256(bytes_view data) noexcept;

}  // namespace nocturne
