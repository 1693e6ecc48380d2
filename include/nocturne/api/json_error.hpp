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

// The HTTP status that goes with an error code an endpoint reports (docs/api.md).
int http_status_of(std::error_code ec);

// json_error with the status of the error's code and its message; codes of other categories (the
// OS, SQLite) are internal_error.
Response error_response(const Error& error);

}  // namespace nocturne::api
