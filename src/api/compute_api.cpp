#include <nocturne/api/compute_api.hpp>
#include <nocturne/api/json_error.hpp>
#include <nocturne/api/untrusted_text.hpp>
#include <nocturne/wire/identifiers.hpp>
#include <nocturne/wire/json_reader.hpp>

namespace nocturne::api {
namespace {

constexpr std::size_t max_compute_body_bytes = 8 * 1024;
// Domains a claim without one looks through, most entries first.
constexpr std::size_t max_default_domains = 8;

nlohmann::json held_json(const compute::ComputeService::Held& h) {
    const auto marker = fresh_marker({h.task.title, h.task.detail});
    return {{"marker", marker},
            {"task", task_json(h.task, marker)},
            {"epoch", h.epoch},
            {"expires_at", h.until},
            {"granted", h.granted},
            {"quorum", h.quorum},
            {"responsible", h.responsible}};
}

// Answers with a claim (200), or the service's error.
std::function<void(result<compute::ComputeService::Held>)> answer_held(const Responder& respond) {
    return [respond](result<compute::ComputeService::Held> h) {
        if (!h) {
            respond(error_response(h.error()));
            return;
        }
        respond(Response{200, held_json(*h).dump(), {}});
    };
}

// The body of a POST: a JSON object of at most 8 KiB, read by `read`; a bad one answers 400.
template <class Read>
bool read_body(const Request& request, const Responder& respond, const char* shape, Read read) {
    auto body = wire::parse_json(request.body, max_compute_body_bytes, 4);
    if (!body || !body->is_object()) {
        respond(
            json_error(400, errc::malformed_json,
                       std::string("the body must be a JSON object of at most 8 KiB: ") + shape));
        return false;
    }
    wire::ObjectReader r(*body);
    read(r);
    if (auto ec = r.finish()) {
        respond(error_response(Error(ec, std::string("expected ") + shape)));
        return false;
    }
    return true;
}

bool valid_id(const PathParams& params, const Responder& respond) {
    if (wire::is_valid_id(params.at("id"))) return true;
    respond(json_error(400, errc::value_out_of_range, "not a valid task id"));
    return false;
}

}  // namespace

nlohmann::json task_json(const compute::Task& t, const std::string& marker) {
    nlohmann::json j = {
        {"id", t.id},
        {"domain", t.domain},
        {"kind", t.type},
        {"operator_id", t.operator_id},
        {"untrusted", envelope({{"title", t.title}, {"detail", t.detail}}, marker)}};
    if (!t.entry_id.empty()) j["entry_id"] = t.entry_id;
    return j;
}

nlohmann::json state_json(const compute::TaskState& s) {
    nlohmann::json j = {{"status", compute::to_string(s.status)}, {"epoch", s.epoch}};
    if (s.holder) j["holder"] = s.holder->to_hex();
    if (s.status == compute::TaskState::Status::claimed) j["until"] = s.until;
    return j;
}

nlohmann::json tasks_json(const std::vector<compute::ComputeService::Listed>& tasks) {
    std::vector<std::string> texts;
    for (const auto& l : tasks) {
        texts.push_back(l.task.title);
        texts.push_back(l.task.detail);
    }
    const auto marker = fresh_marker(texts);
    nlohmann::json out = nlohmann::json::array();
    for (const auto& l : tasks) {
        auto j = task_json(l.task, marker);
        j["state"] = state_json(l.state);
        out.push_back(std::move(j));
    }
    return {{"marker", marker}, {"tasks", out}};
}

void add_compute_routes(Router& router, compute::ComputeService& service,
                        knowledge::KnowledgeService& knowledge) {
    router.add_async(
        "GET", "/local/compute",
        [&service, &knowledge](const Request& request, const PathParams&,
                               const Responder& respond) {
            std::vector<std::string> domains;
            std::optional<std::string> kind, id;
            for (const auto& [name, value] : request.query) {
                if (name == "domain" && wire::is_valid_domain(value)) {
                    domains.push_back(value);
                } else if (name == "kind" && compute::is_task_type(value)) {
                    kind = value;
                } else if (name == "id" && wire::is_valid_id(value)) {
                    id = value;
                } else {
                    respond(json_error(400, errc::value_out_of_range,
                                       "parameters: domain (a valid domain), kind (verify, "
                                       "review, synthesize or custom) and id (one task of the "
                                       "domain), all optional"));
                    return;
                }
            }
            if (id) {
                if (domains.size() != 1) {
                    respond(json_error(400, errc::missing_field,
                                       "claiming one task (id) needs its domain"));
                    return;
                }
                service.claim(domains.front(), *id, answer_held(respond));
                return;
            }
            if (domains.empty()) {
                if (auto known = knowledge.domains()) {
                    for (const auto& d : *known) {
                        if (domains.size() == max_default_domains) break;
                        domains.push_back(d.domain);
                    }
                }
            }
            service.claim_next(std::move(domains), std::move(kind),
                               [respond](result<std::optional<compute::ComputeService::Held>> h) {
                                   if (!h) {
                                       respond(error_response(h.error()));
                                   } else if (!h->has_value()) {
                                       respond(Response{204, "", {}});
                                   } else {
                                       respond(Response{200, held_json(**h).dump(), {}});
                                   }
                               });
        });

    router.add_async(
        "POST", "/local/compute",
        [&service](const Request& request, const PathParams&, const Responder& respond) {
            std::string domain, title, detail;
            std::optional<std::string> id;
            if (!read_body(
                    request, respond,
                    R"({"domain": string, "title": string, "detail": string (optional), "id": string (optional)})",
                    [&](wire::ObjectReader& r) {
                        domain = r.string("domain", wire::max_identifier_bytes);
                        title = r.string("title", compute::max_title_bytes);
                        detail =
                            r.optional_string("detail", compute::max_detail_bytes).value_or("");
                        id = r.optional_string("id", wire::max_identifier_bytes);
                    })) {
                return;
            }
            service.publish(std::move(domain), std::move(title), std::move(detail), std::move(id),
                            [respond](result<compute::Task> t) {
                                if (!t) {
                                    respond(error_response(t.error()));
                                    return;
                                }
                                const auto marker = fresh_marker({t->title, t->detail});
                                auto j = task_json(*t, marker);
                                j["marker"] = marker;
                                respond(Response{201, j.dump(), {}});
                            });
        });

    router.add_async(
        "GET", "/local/compute/tasks",
        [&service](const Request& request, const PathParams&, const Responder& respond) {
            const auto domain = request.query.find("domain");
            if (domain == request.query.end() || request.query.size() != 1 ||
                !wire::is_valid_domain(domain->second)) {
                respond(
                    json_error(400, errc::missing_field, "one parameter: domain (a valid domain)"));
                return;
            }
            service.tasks(domain->second, 50,
                          [respond](result<std::vector<compute::ComputeService::Listed>> tasks) {
                              if (!tasks) {
                                  respond(error_response(tasks.error()));
                                  return;
                              }
                              respond(Response{200, tasks_json(*tasks).dump(), {}});
                          });
        });

    router.add_async(
        "POST", "/local/compute/{id}/result",
        [&service](const Request& request, const PathParams& params, const Responder& respond) {
            if (!valid_id(params, respond)) return;
            std::string result_id;
            std::uint64_t epoch = 0;
            std::optional<std::string> domain;
            if (!read_body(
                    request, respond,
                    R"({"result_id": string, "epoch": integer, "domain": string (optional)})",
                    [&](wire::ObjectReader& r) {
                        result_id = r.string("result_id", wire::max_identifier_bytes);
                        epoch = static_cast<std::uint64_t>(
                            r.int64("epoch", 1, static_cast<std::int64_t>(compute::max_epoch)));
                        domain = r.optional_string("domain", wire::max_identifier_bytes);
                    })) {
                return;
            }
            service.submit(params.at("id"), epoch, std::move(result_id), std::move(domain),
                           [respond](result<compute::ComputeService::Submitted> s) {
                               if (!s) {
                                   respond(error_response(s.error()));
                                   return;
                               }
                               nlohmann::json j = {
                                   {"id", s->id},           {"epoch", s->epoch},
                                   {"domain", s->domain},   {"result_id", s->result_id},
                                   {"status", "completed"}, {"stored", s->stored},
                                   {"quorum", s->quorum}};
                               respond(Response{200, j.dump(), {}});
                           });
        });

    for (const std::string action : {"extend", "release"}) {
        router.add_async(
            "POST", "/local/compute/{id}/" + action,
            [&service, action](const Request& request, const PathParams& params,
                               const Responder& respond) {
                if (!valid_id(params, respond)) return;
                std::uint64_t epoch = 0;
                if (!read_body(
                        request, respond, R"({"epoch": integer})", [&](wire::ObjectReader& r) {
                            epoch = static_cast<std::uint64_t>(
                                r.int64("epoch", 1, static_cast<std::int64_t>(compute::max_epoch)));
                        })) {
                    return;
                }
                if (action == "extend") {
                    service.extend(params.at("id"), epoch, answer_held(respond));
                    return;
                }
                service.release(
                    params.at("id"), epoch,
                    [respond, id = params.at("id"), epoch](result<std::size_t> n) {
                        if (!n) {
                            respond(error_response(n.error()));
                            return;
                        }
                        nlohmann::json j = {
                            {"id", id}, {"epoch", epoch}, {"status", "released"}, {"storers", *n}};
                        respond(Response{200, j.dump(), {}});
                    });
            });
    }
}

}  // namespace nocturne::api
