#include <nocturne/api/json_error.hpp>
#include <nocturne/api/knowledge_api.hpp>
#include <nocturne/api/knowledge_json.hpp>
#include <nocturne/wire/identifiers.hpp>
#include <nocturne/wire/json_reader.hpp>

#include <nlohmann/json.hpp>

#include <memory>

namespace nocturne::api {
namespace {

constexpr std::size_t max_publish_body_bytes = 64 * 1024;

// A service failure with a sentence for the user when the service gave none.
Response failure(const Error& e, const std::string& fallback) {
    if (!e.detail().empty()) return error_response(e);
    return error_response(Error(e.code(), fallback + e.name()));
}

// Takes `votes=true|false` out of a query's parameters (default: true).
std::optional<Error> votes_param(QueryParams& params, bool& on) {
    on = true;
    for (auto it = params.begin(); it != params.end();) {
        if (it->first != "votes") {
            ++it;
            continue;
        }
        if (it->second != "true" && it->second != "false") {
            return Error(errc::wrong_type, "votes must be true or false");
        }
        on = it->second == "true";
        it = params.erase(it);
    }
    return std::nullopt;
}

nlohmann::json tally_json(const vote::VoteService::Votes& v) {
    return {{"up", v.tally.up},
            {"down", v.tally.down},
            {"abstain", v.tally.abstain},
            {"pending", v.tally.pending},
            {"voted_confidence", v.tally.confidence},
            {"complete", v.quorum > 0 && v.answered >= v.quorum}};
}

// Answers a page with each entry's tally, keeping those whose voted confidence reaches
// min_confidence (the holders were asked without it: votes can raise an entry).
void respond_with_votes(vote::VoteService& votes, knowledge::QueryPage page, double min_confidence,
                        const Responder& respond) {
    struct Join {
        knowledge::QueryPage page;
        std::vector<vote::VoteService::Votes> tallies;
        std::size_t pending = 0;
        double min_confidence = 0;
        Responder respond;
    };
    auto join = std::make_shared<Join>();
    join->tallies.resize(page.entries.size());
    join->pending = page.entries.size() + 1;  // + 1 until every read is out
    join->min_confidence = min_confidence;
    join->respond = respond;
    join->page = std::move(page);
    const auto finish = [](const std::shared_ptr<Join>& j) {
        if (--j->pending != 0) return;
        knowledge::QueryPage kept = j->page;
        kept.entries.clear();
        std::vector<const vote::VoteService::Votes*> tallies;
        for (std::size_t i = 0; i < j->page.entries.size(); ++i) {
            if (j->tallies[i].tally.confidence + 1e-12 < j->min_confidence) continue;
            kept.entries.push_back(j->page.entries[i]);
            tallies.push_back(&j->tallies[i]);
        }
        auto body = present_page(kept);
        for (std::size_t i = 0; i < tallies.size(); ++i) {
            body["entries"][i]["votes"] = tally_json(*tallies[i]);
        }
        j->respond(Response{200, body.dump(), {}});
    };
    for (std::size_t i = 0; i < join->page.entries.size(); ++i) {
        const auto& e = join->page.entries[i].entry;
        votes.tally(content_key(e.domain, e.id), e.confidence,
                    [join, i, finish](vote::VoteService::Votes v) {
                        join->tallies[i] = std::move(v);
                        finish(join);
                    });
    }
    finish(join);
}

}  // namespace

void add_knowledge_routes(Router& router, knowledge::KnowledgeService& service,
                          vote::VoteService* votes) {
    router.add_async(
        "POST", "/local/knowledge",
        [&service](const Request& request, const PathParams&, const Responder& respond) {
            auto body = wire::parse_json(request.body, max_publish_body_bytes, 8);
            if (!body) {
                respond(error_response(Error(body.error().code(),
                                             "the body is not a JSON object of at most "
                                             "64 KiB and nesting depth 8")));
                return;
            }
            auto draft = draft_from_json(*body);
            if (!draft) {
                respond(error_response(draft.error()));
                return;
            }
            service.publish(
                std::move(*draft), [respond](result<knowledge::PublishOutcome> outcome) {
                    if (!outcome) {
                        if (outcome.error() == errc::unknown_agent) {
                            respond(error_response(
                                Error(errc::unknown_agent,
                                      "this node is not enrolled: its entries are refused (see "
                                      "nocturne-agent enroll)")));
                        } else {
                            respond(failure(outcome.error(), "the entry was stored nowhere: "));
                        }
                        return;
                    }
                    respond(Response{201, publish_outcome_json(*outcome).dump(), {}});
                });
        });

    router.add_async(
        "GET", "/local/knowledge",
        [&service, votes](const Request& request, const PathParams&, const Responder& respond) {
            auto params = request.query;
            bool with_votes = true;
            if (auto refused = votes_param(params, with_votes)) {
                respond(error_response(*refused));
                return;
            }
            auto query = query_from_params(params);
            if (!query) {
                respond(error_response(query.error()));
                return;
            }
            const bool tallies = votes != nullptr && with_votes;
            const double min_confidence = query->min_confidence;
            if (tallies) query->min_confidence = 0;
            service.query(std::move(*query), [respond, tallies, votes,
                                              min_confidence](result<knowledge::QueryPage> page) {
                if (!page) {
                    respond(failure(page.error(), "the query failed: "));
                    return;
                }
                if (tallies) {
                    respond_with_votes(*votes, std::move(*page), min_confidence, respond);
                    return;
                }
                respond(Response{200, present_page(*page).dump(), {}});
            });
        });

    router.add_async("GET", "/local/knowledge/{id}",
                     [&service, votes](const Request& request, const PathParams& params,
                                       const Responder& respond) {
                         const auto domain = required_entry_domain(request.query);
                         if (!domain) {
                             respond(error_response(domain.error()));
                             return;
                         }
                         service.get(*domain, params.at("id"),
                                     [respond, votes](result<knowledge::QueryPage> page) {
                                         if (!page) {
                                             respond(failure(page.error(), "the read failed: "));
                                             return;
                                         }
                                         if (votes != nullptr) {
                                             respond_with_votes(*votes, std::move(*page), 0.0,
                                                                respond);
                                             return;
                                         }
                                         respond(Response{200, present_page(*page).dump(), {}});
                                     });
                     });

    router.add("GET", "/local/domains", [&service](const Request& request, const PathParams&) {
        if (!request.query.empty()) {
            return json_error(400, errc::unknown_field, "/local/domains takes no parameters");
        }
        auto domains = service.domains();
        if (!domains) return failure(domains.error(), "cannot read the local store: ");
        auto list = nlohmann::json::array();
        for (const auto& d : *domains) {
            list.push_back(
                {{"domain", d.domain}, {"entries", d.entries}, {"published_here", d.published}});
        }
        return Response{200, nlohmann::json{{"domains", std::move(list)}}.dump(), {}};
    });

    router.add_async(
        "DELETE", "/local/knowledge/{id}",
        [&service](const Request& request, const PathParams& params, const Responder& respond) {
            const auto domain = entry_domain_param(request.query);
            if (!domain) {
                respond(error_response(domain.error()));
                return;
            }
            const auto& id = params.at("id");
            if (!wire::is_valid_id(id)) {
                respond(json_error(400, errc::value_out_of_range,
                                   "id must be 1-128 of [A-Za-z0-9._-]"));
                return;
            }
            service.remove(*domain, id, [respond, id](result<knowledge::RemoveOutcome> outcome) {
                if (!outcome) {
                    const auto& e = outcome.error();
                    if (e == errc::not_found) {
                        respond(error_response(
                            Error(errc::not_found, "no entry " + id +
                                                       " published by this node (only the author's "
                                                       "node deletes an entry)")));
                    } else if (e == errc::value_out_of_range) {
                        respond(error_response(Error(
                            e.code(), "entry " + id + " exists in several domains: add ?domain=")));
                    } else {
                        respond(failure(e, "the deletion was stored nowhere: "));
                    }
                    return;
                }
                respond(Response{200, remove_outcome_json(*outcome).dump(), {}});
            });
        });
}

}  // namespace nocturne::api
