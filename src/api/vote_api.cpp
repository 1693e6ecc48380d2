#include <nocturne/api/json_error.hpp>
#include <nocturne/api/knowledge_json.hpp>
#include <nocturne/api/vote_api.hpp>
#include <nocturne/core/hex.hpp>
#include <nocturne/wire/identifiers.hpp>
#include <nocturne/wire/json_reader.hpp>

namespace nocturne::api {
namespace {

constexpr std::size_t max_vote_body_bytes = 4 * 1024;

nlohmann::json record_json(const wire::Record& r) {
    return nlohmann::json::parse(wire::encode_record(r), nullptr, false);
}

}  // namespace

nlohmann::json votes_json(const vote::VoteService::Votes& v, const vote::Windows& windows) {
    const auto& t = v.tally;
    nlohmann::json voters = nlohmann::json::array();
    for (const auto& voter : t.voters) {
        nlohmann::json j = {{"operator_id", voter.operator_id},
                            {"agent", voter.agent},
                            {"round", voter.round},
                            {"state", vote::to_string(voter.state)},
                            {"weight", voter.weight},
                            {"reason", voter.reason},
                            {"counted_at", voter.counted_at}};
        voters.push_back(std::move(j));
    }
    nlohmann::json evidence = nlohmann::json::array();
    for (const auto& e : v.equivocations) {
        evidence.push_back({{"held", record_json(e.held)}, {"offered", record_json(e.offered)}});
    }
    return {
        {"entry_key", v.entry_key.to_hex()},
        {"up", t.up},
        {"down", t.down},
        {"abstain", t.abstain},
        {"pending", t.pending},
        {"stated_confidence", t.prior},
        {"voted_confidence", t.confidence},
        {"replicas", {{"found", v.replicas}, {"answered", v.answered}, {"quorum", v.quorum}}},
        {"complete", v.answered >= v.quorum && v.quorum > 0},
        {"windows",
         {{"commit_seconds", windows.commit_seconds}, {"reveal_seconds", windows.reveal_seconds}}},
        {"voters", voters},
        {"equivocations", evidence}};
}

void add_vote_routes(Router& router, vote::VoteService& service) {
    router.add_async(
        "POST", "/local/knowledge/{id}/vote",
        [&service](const Request& request, const PathParams& params, const Responder& respond) {
            if (!request.query.empty()) {
                respond(json_error(400, errc::unknown_field,
                                   "this route takes no query parameters: the domain goes in "
                                   "the body"));
                return;
            }
            auto body = wire::parse_json(request.body, max_vote_body_bytes, 4);
            if (!body || !body->is_object()) {
                respond(json_error(400, errc::malformed_json,
                                   "the body must be a JSON object of at most 4 KiB: "
                                   R"({"domain": "...", "vote": 1 or -1, "reason": "..."})"));
                return;
            }
            wire::ObjectReader r(*body);
            const auto domain = r.string("domain", 128);
            const auto choice = r.int64("vote", -1, 1);
            auto reason = r.optional_string("reason", vote::max_reason_bytes).value_or("");
            if (auto ec = r.finish()) {
                respond(error_response(
                    Error(ec,
                          "expected {\"domain\": string, \"vote\": 1 or -1, \"reason\": string "
                          "(optional, at most 1024 bytes)}")));
                return;
            }
            if (!wire::is_valid_domain(domain) || !wire::is_valid_id(params.at("id"))) {
                respond(json_error(400, errc::value_out_of_range, "not a valid domain or id"));
                return;
            }
            if (choice == 0) {
                respond(json_error(400, errc::value_out_of_range, "vote: 1 (up) or -1 (down)"));
                return;
            }
            service.cast(domain, params.at("id"), static_cast<int>(choice), std::move(reason),
                         [respond](result<vote::VoteService::Cast> cast) {
                             if (!cast) {
                                 respond(error_response(cast.error()));
                                 return;
                             }
                             nlohmann::json j = {{"entry_key", cast->entry_key.to_hex()},
                                                 {"state", "committed"},
                                                 {"round", cast->round},
                                                 {"commitment", cast->commitment},
                                                 {"reveal_at", cast->reveal_at},
                                                 {"counted_by", cast->counted_by},
                                                 {"stored", cast->stored}};
                             respond(Response{202, j.dump(), {}});
                         });
        });

    router.add_async(
        "GET", "/local/knowledge/{id}/votes",
        [&service](const Request& request, const PathParams& params, const Responder& respond) {
            const auto domain = required_entry_domain(request.query);
            if (!domain) {
                respond(error_response(domain.error()));
                return;
            }
            if (!wire::is_valid_domain(*domain) || !wire::is_valid_id(params.at("id"))) {
                respond(json_error(400, errc::value_out_of_range, "not a valid domain or id"));
                return;
            }
            service.votes(
                *domain, params.at("id"),
                [respond, &service](result<vote::VoteService::Votes> votes) {
                    if (!votes) {
                        respond(error_response(votes.error()));
                        return;
                    }
                    respond(Response{200, votes_json(*votes, service.windows()).dump(), {}});
                });
        });
}

}  // namespace nocturne::api
