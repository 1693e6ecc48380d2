#include <nocturne/api/json_error.hpp>
#include <nocturne/api/knowledge_api.hpp>
#include <nocturne/knowledge/presenter.hpp>
#include <nocturne/wire/identifiers.hpp>
#include <nocturne/wire/json_reader.hpp>

#include <nlohmann/json.hpp>

#include <charconv>
#include <memory>

namespace nocturne::api {
namespace {

constexpr std::size_t max_publish_body_bytes = 64 * 1024;

Response error_response(std::error_code ec, const std::string& message) {
    const auto code =
        ec.category() == error_category() ? static_cast<errc>(ec.value()) : errc::internal_error;
    return json_error(http_status_of(ec), code, message);
}

// A query parameter as a number, strictly: the whole text, nothing after it.
template <class T>
bool parse_number(const std::string& text, T& out) {
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, out);
    return ec == std::errc{} && ptr == end;
}

result<knowledge::Query> query_from_params(const QueryParams& params, std::string& why) {
    knowledge::Query q;
    for (const auto& [name, value] : params) {
        if (name == "domain") {
            q.domain = value;
        } else if (name == "q") {
            q.text = value;
        } else if (name == "min_confidence") {
            if (!parse_number(value, q.min_confidence)) {
                why = "min_confidence must be a number between 0 and 1";
                return make_error_code(errc::wrong_type);
            }
        } else if (name == "limit") {
            if (!parse_number(value, q.limit)) {
                why = "limit must be an integer between 1 and 100";
                return make_error_code(errc::wrong_type);
            }
        } else if (name == "cursor") {
            q.cursor = value;
        } else {
            why = "unknown query parameter " + name +
                  " (expected domain, q, min_confidence, limit, cursor)";
            return make_error_code(errc::unknown_field);
        }
    }
    if (q.domain.empty()) {
        why = "domain is required: a query reads one domain's index";
        return make_error_code(errc::missing_field);
    }
    if (auto ec = knowledge::validate_query(q, why)) return ec;
    return q;
}

}  // namespace

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
            return 409;
        case errc::timeout:
        case errc::not_responsible:
            return 503;
        default:
            return 500;
    }
}

void add_knowledge_routes(Router& router, knowledge::KnowledgeService& service) {
    router.add_async(
        "POST", "/local/knowledge",
        [&service](const Request& request, const PathParams&, const Responder& respond) {
            auto body = wire::parse_json(request.body, max_publish_body_bytes, 8);
            if (!body) {
                respond(error_response(body.error(),
                                       "the body is not a JSON object of at most "
                                       "64 KiB and nesting depth 8"));
                return;
            }
            std::string why;
            auto draft = knowledge::parse_publish_request(*body, why);
            if (!draft) {
                respond(error_response(draft.error(), why));
                return;
            }
            service.publish(std::move(*draft), [respond](
                                                   result<knowledge::PublishOutcome> outcome) {
                if (!outcome) {
                    const auto ec = outcome.error();
                    respond(error_response(
                        ec, ec == errc::unknown_agent
                                ? "this node is not enrolled: its entries are "
                                  "refused (see nocturne-agent enroll)"
                                : std::string("the entry was stored nowhere: ") + error_name(ec)));
                    return;
                }
                const auto& e = outcome->entry;
                nlohmann::json out = {{"id", e.id},
                                      {"domain", e.domain},
                                      {"key", content_key(e.domain, e.id).to_hex()},
                                      {"seq", e.seq},
                                      {"stored_on", outcome->stored},
                                      {"announced_on", outcome->announced},
                                      {"expires", e.expires}};
                respond(Response{201, out.dump(), {}});
            });
        });

    router.add_async(
        "GET", "/local/knowledge",
        [&service](const Request& request, const PathParams&, const Responder& respond) {
            std::string why;
            auto query = query_from_params(request.query, why);
            if (!query) {
                respond(error_response(query.error(), why));
                return;
            }
            service.query(std::move(*query), [respond](result<knowledge::QueryPage> page) {
                if (!page) {
                    respond(error_response(page.error(), std::string("the query failed: ") +
                                                             error_name(page.error())));
                    return;
                }
                respond(Response{200, knowledge::present_page(*page).dump(), {}});
            });
        });

    router.add_async(
        "DELETE", "/local/knowledge/{id}",
        [&service](const Request& request, const PathParams& params, const Responder& respond) {
            std::optional<std::string> domain;
            for (const auto& [name, value] : request.query) {
                if (name != "domain") {
                    respond(json_error(400, errc::unknown_field,
                                       "unknown query parameter " + name + " (expected domain)"));
                    return;
                }
                domain = value;
            }
            const auto& id = params.at("id");
            if (!wire::is_valid_id(id)) {
                respond(json_error(400, errc::value_out_of_range,
                                   "id must be 1-128 of [A-Za-z0-9._-]"));
                return;
            }
            service.remove(domain, id, [respond, id](result<knowledge::RemoveOutcome> outcome) {
                if (!outcome) {
                    const auto ec = outcome.error();
                    respond(error_response(
                        ec,
                        ec == errc::not_found ? "no entry " + id +
                                                    " published by this node (only the author's "
                                                    "node deletes an entry)"
                        : ec == errc::value_out_of_range
                            ? "entry " + id + " exists in several domains: add ?domain="
                            : std::string("the deletion was stored nowhere: ") + error_name(ec)));
                    return;
                }
                nlohmann::json out = {{"id", outcome->id},
                                      {"domain", outcome->domain},
                                      {"deleted", true},
                                      {"seq", outcome->seq},
                                      {"stored_on", outcome->stored}};
                respond(Response{200, out.dump(), {}});
            });
        });
}

}  // namespace nocturne::api
