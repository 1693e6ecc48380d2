#pragma once

#include <string>
#include <string_view>

namespace nocturne::knowledge {

// Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF, no truncated sequence.
bool is_valid_utf8(std::string_view text) noexcept;

// `text` (valid UTF-8) without the characters that make text read differently from what it is:
// zero-width and bidi controls (U+200B-U+200F, U+202A-U+202E, U+2060-U+2064, U+2066-U+2069,
// U+FEFF, U+061C, U+180E) and C0/C1 controls other than \n and \t (DEL included).
//
// Why: knowledge is read by LLM agents. Invisible characters let an author hide instructions a
// human reviewer cannot see (prompt injection) or reorder what is shown (bidi spoofing, e.g.
// "Trojan Source"); terminal control sequences can rewrite what an operator sees in a log.
std::string clean_text(std::string_view text);

// ASCII-only lower case: query terms match case-insensitively without locale tables.
std::string ascii_lower(std::string_view text);

}  // namespace nocturne::knowledge
