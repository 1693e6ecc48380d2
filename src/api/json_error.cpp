#include <nocturne/api/json_error.hpp>

#include <nlohmann/json.hpp>

#include <string>

namespace nocturne::api {

Response json_error(int status, errc code, std::string_view message) {
    const nlohmann::json doc = {
        {"error", {{"code", errc_name(code)}, {"message", std::string(message)}}}};
    Response response;
    response.status = status;
    // replace: a message quoting client input with invalid UTF-8 must not make dump() throw.
    response.body = doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return response;
}

}  // namespace nocturne::api
