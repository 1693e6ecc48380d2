#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace nocturne {

// Text a peer or a client supplied, made fit for a log line: cut to `max` bytes (with "..." when
// cut) and every control or non-ASCII byte replaced by '?', so that nobody can forge log lines or
// fill the log.
inline std::string printable(std::string_view text, std::size_t max = 80) {
    std::string out(text.substr(0, max));
    for (char& c : out)
        if (c < ' ' || c >= 0x7f) c = '?';
    if (text.size() > max) out += "...";
    return out;
}

}  // namespace nocturne
