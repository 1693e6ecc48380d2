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

int http_status_of(std::error_code ec) {
    if (ec.category() != error_category()) return 500;
    switch (static_cast<errc>(ec.value())) {
        case errc::malformed_json:
        case errc::missing_field:
        case errc::wrong_type:
        case errc::unknown_field:
        case errc::value_out_of_range:
        case errc::too_deep:
        case errc::bad_length:
        case errc::bad_hex:
        case errc::bad_request:
            return 400;
        case errc::frame_too_large:
        case errc::record_too_large:
        case errc::body_too_large:
            return 413;
        case errc::not_found:
            return 404;
        case errc::unknown_agent:
        case errc::untrusted_peer:
        case errc::untrusted_operator:
        case errc::operator_revoked:
        case errc::certificate_expired:
        case errc::agent_superseded:
        case errc::too_many_agents:
        case errc::insufficient_endorsements:
        case errc::trust_depth_exceeded:
        case errc::network_mismatch:
            return 403;
        case errc::stale_seq:
        case errc::seq_conflict:
        case errc::vote_window_closed:
        case errc::no_commitment:
        case errc::reveal_mismatch:
        case errc::equivocation:
        case errc::duplicate_vote:
        case errc::task_claimed:
        case errc::stale_epoch:
        case errc::task_closed:
        case errc::too_many_claims:
            return 409;
        case errc::not_claimant:
            return 403;
        case errc::quorum_unavailable:
        case errc::not_ready:
            return 503;
        case errc::wrong_subject:
        case errc::operator_quarantined:
            return 403;
        case errc::timeout:
        case errc::not_responsible:
        case errc::rate_limited:
            return 503;
        case errc::over_operator_rate:
            return 429;
        default:
            return 500;
    }
}

Response error_response(const Error& error) {
    auto response = json_error(http_status_of(error.code()),
                               errc_of(error.code(), errc::internal_error), error.message());
    // "Slow down": a client that honours Retry-After is never refused twice in a row for it.
    if (error.code() == errc::rate_limited) response.headers.emplace_back("Retry-After", "1");
    // Over the mesh's rate for this operator (votes a minute, entries an hour into one domain):
    // the window has to move on.
    if (error.code() == errc::over_operator_rate) {
        response.headers.emplace_back("Retry-After", "60");
    }
    return response;
}

}  // namespace nocturne::api
