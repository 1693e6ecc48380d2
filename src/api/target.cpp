#include <nocturne/api/target.hpp>

#include <optional>

namespace nocturne::api {
namespace {

std::optional<int> hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return std::nullopt;
}

std::error_code bad_request() {
    return make_error_code(errc::bad_request);
}

}  // namespace

result<std::string> percent_decode(std::string_view text, bool plus_is_space) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '+' && plus_is_space) {
            out += ' ';
        } else if (c != '%') {
            out += c;
        } else {
            if (text.size() - i < 3) return bad_request();
            const auto hi = hex_digit(text[i + 1]);
            const auto lo = hex_digit(text[i + 2]);
            if (!hi || !lo) return bad_request();
            const int value = *hi * 16 + *lo;
            if (value == 0) return bad_request();
            out += static_cast<char>(value);
            i += 2;
        }
    }
    return out;
}

std::error_code parse_target(std::string_view target, Request& request) {
    if (target.empty() || target.front() != '/') return bad_request();
    const auto question = target.find('?');
    request.path = std::string(target.substr(0, question));
    request.query.clear();
    if (question == std::string_view::npos) return {};
    std::string_view rest = target.substr(question + 1);
    while (!rest.empty()) {
        const auto amp = rest.find('&');
        const std::string_view pair = rest.substr(0, amp);
        rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
        if (pair.empty()) continue;  // "a=1&&b=2": tolerated, as browsers produce it
        const auto eq = pair.find('=');
        auto name = percent_decode(pair.substr(0, eq), true);
        if (!name) return name.error();
        if (name->empty()) return bad_request();
        auto value = percent_decode(
            eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1), true);
        if (!value) return value.error();
        if (!request.query.emplace(std::move(*name), std::move(*value)).second) {
            return bad_request();
        }
    }
    return {};
}

}  // namespace nocturne::api
