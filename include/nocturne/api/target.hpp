#pragma once

#include <nocturne/api/message.hpp>
#include <nocturne/core/error.hpp>

#include <string>
#include <string_view>
#include <system_error>

namespace nocturne::api {

// Decodes %XY escapes (either case of hex digit). With plus_is_space, '+' stands for a space as
// in HTML form encoding, which is what clients put in query strings. errc::bad_request for a '%'
// not followed by two hex digits, and for an escape that decodes to NUL (C APIs downstream would
// see a shorter string than the one checked).
result<std::string> percent_decode(std::string_view text, bool plus_is_space);

// Splits an origin-form request target ("/a/b?x=1&y=") into request.path (still
// percent-encoded) and request.query (decoded). errc::bad_request for a target that does not
// start with '/', a malformed escape, an empty parameter name, or a name given twice (which of
// two values a handler would see is exactly what parameter-pollution attacks exploit).
std::error_code parse_target(std::string_view target, Request& request);

}  // namespace nocturne::api
