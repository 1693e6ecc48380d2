#pragma once

#include <nocturne/api/message.hpp>
#include <nocturne/core/error.hpp>

#include <string_view>

namespace nocturne::api {

// The one error shape of the API: {"error":{"code":"<errc_name(code)>","message":"..."}} with
// the given HTTP status. Codes come from nocturne::errc so that one list names every error of the
// wire protocol and the API. The message may carry client input: it is JSON-escaped, and invalid
// UTF-8 in it is replaced rather than rejected.
Response json_error(int status, errc code, std::string_view message);

}  // namespace nocturne::api
