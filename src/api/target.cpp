#include <nocturne/api/target.hpp>

#include <boost/url/encoding_opts.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/pct_string_view.hpp>

namespace nocturne::api {
namespace {

std::error_code bad_request() {
    return make_error_code(errc::bad_request);
}

// Decodes an escaped string Boost.URL has already checked; NUL refused (C APIs downstream would
// see a shorter string than the one checked).
result<std::string> decoded(boost::urls::pct_string_view text, bool plus_is_space) {
    boost::urls::encoding_opts opts;
    opts.space_as_plus = plus_is_space;
    std::string out = text.decode(opts);
    if (out.find('\0') != std::string::npos) return bad_request();
    return out;
}

}  // namespace

result<std::string> percent_decode(std::string_view text, bool plus_is_space) {
    const auto checked = boost::urls::make_pct_string_view({text.data(), text.size()});
    if (!checked) return bad_request();  // a '%' not followed by two hex digits
    return decoded(*checked, plus_is_space);
}

std::error_code parse_target(std::string_view target, Request& request) {
    if (target.empty() || target.front() != '/') return bad_request();
    // RFC 3986's origin-form: a path and an optional query, each escape well-formed.
    const auto url = boost::urls::parse_origin_form({target.data(), target.size()});
    if (!url) return bad_request();
    request.path = std::string(url->encoded_path());
    request.query.clear();
    for (const auto& param : url->encoded_params()) {
        if (param.key.empty() && !param.has_value) continue;  // "a=1&&b=2", as browsers send
        auto name = decoded(param.key, true);
        if (!name) return name.error();
        if (name->empty()) return bad_request();
        auto value = decoded(param.value, true);
        if (!value) return value.error();
        // A name given twice: which of the values a handler would see is exactly what
        // parameter-pollution attacks exploit.
        if (!request.query.emplace(std::move(*name), std::move(*value)).second) {
            return bad_request();
        }
    }
    return {};
}

}  // namespace nocturne::api
