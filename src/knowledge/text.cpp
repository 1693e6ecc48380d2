#include <nocturne/knowledge/text.hpp>

#include <cstdint>

namespace nocturne::knowledge {
namespace {

// Decodes one UTF-8 sequence at text[i]; returns its length, or 0 when it is invalid.
std::size_t decode(std::string_view text, std::size_t i, char32_t& cp) noexcept {
    const auto byte = [&](std::size_t at) { return static_cast<std::uint8_t>(text[at]); };
    const std::uint8_t b0 = byte(i);
    std::size_t len = 0;
    char32_t min = 0;
    if (b0 < 0x80) {
        cp = b0;
        return 1;
    } else if ((b0 & 0xE0) == 0xC0) {
        len = 2;
        cp = b0 & 0x1F;
        min = 0x80;
    } else if ((b0 & 0xF0) == 0xE0) {
        len = 3;
        cp = b0 & 0x0F;
        min = 0x800;
    } else if ((b0 & 0xF8) == 0xF0) {
        len = 4;
        cp = b0 & 0x07;
        min = 0x10000;
    } else {
        return 0;
    }
    if (i + len > text.size()) return 0;
    for (std::size_t k = 1; k < len; ++k) {
        const std::uint8_t b = byte(i + k);
        if ((b & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (b & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return len;
}

bool is_stripped(char32_t cp) noexcept {
    if (cp == U'\n' || cp == U'\t') return false;
    if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F)) return true;  // C0, DEL, C1
    return (cp >= 0x200B && cp <= 0x200F) || (cp >= 0x202A && cp <= 0x202E) ||
           (cp >= 0x2060 && cp <= 0x2064) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0xFEFF ||
           cp == 0x061C || cp == 0x180E;
}

}  // namespace

bool is_valid_utf8(std::string_view text) noexcept {
    char32_t cp = 0;
    for (std::size_t i = 0; i < text.size();) {
        const auto len = decode(text, i, cp);
        if (len == 0) return false;
        i += len;
    }
    return true;
}

std::string clean_text(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    char32_t cp = 0;
    for (std::size_t i = 0; i < text.size();) {
        auto len = decode(text, i, cp);
        if (len == 0) {
            ++i;  // not reached for validated input; drop the stray byte
            continue;
        }
        if (!is_stripped(cp)) out.append(text.substr(i, len));
        i += len;
    }
    return out;
}

std::string ascii_lower(std::string_view text) {
    std::string out(text);
    for (auto& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

}  // namespace nocturne::knowledge
