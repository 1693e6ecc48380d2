#pragma once

#include <nocturne/core/bytes.hpp>
#include <nocturne/core/error.hpp>

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

namespace nocturne {

// Lower-case hexadecimal.
std::string to_hex(bytes_view data);

// Accepts upper or lower case; anything else (odd length, non-hex digit) is errc::bad_hex.
result<bytes> from_hex(std::string_view text);

// Whether text is exactly `size` bytes in lower-case hex: the one spelling signed payloads may
// use for ids and hashes, so that two texts never name one value.
bool is_lower_hex(std::string_view text, std::size_t size);
// Whether every character is a lower-case hex digit (any length, empty included).
bool is_lower_hex_digits(std::string_view text) noexcept;

// Decodes exactly N bytes: errc::bad_length when the text decodes to another length.
template <std::size_t N>
result<std::array<std::uint8_t, N>> from_hex_fixed(std::string_view text) {
    if (text.size() != 2 * N) {
        // A wrong length is reported as such even when the digits are also bad: it is the more
        // useful message for a truncated or padded key.
        auto decoded = from_hex(text);
        if (!decoded) return decoded.error();
        return make_error_code(errc::bad_length);
    }
    auto decoded = from_hex(text);
    if (!decoded) return decoded.error();
    std::array<std::uint8_t, N> out{};
    for (std::size_t i = 0; i < N; ++i) out[i] = (*decoded)[i];
    return out;
}

}  // namespace nocturne
