#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace nocturne {

using bytes = std::vector<std::uint8_t>;
using bytes_view = std::span<const std::uint8_t>;

inline bytes_view as_bytes(std::string_view s) noexcept {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace nocturne
