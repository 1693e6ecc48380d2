#include <nocturne/api/awareness_api.hpp>
#include <nocturne/api/compute_api.hpp>
#include <nocturne/api/json_error.hpp>
#include <nocturne/api/untrusted_text.hpp>
#include <nocturne/wire/identifiers.hpp>
#include <nocturne/wire/json_reader.hpp>

namespace nocturne::api {
namespace {

constexpr std::size_t max_reflect_body_bytes = 8 * 1024;

}  // namespace

nlohmann::json awareness_json(const compute::AwarenessService::Awareness& a) {
    std::vector<std::string> texts;
    for (const auto& r : a.reflections) texts.push_back(r.reflection.summary);
    for (const auto& t : a.tasks) {
        texts.push_back(t.task.title);
        texts.push_back(t.task.detail);
    }
    const auto marker = fresh_marker(texts);

    nlohmann::json domains = nlohmann::json::array();
    for (const auto& d : a.domains) {
        domains.push_back(
            {{"domain", d.domain}, {"entries", d.entries}, {"published_here", d.published}});
    }
    nlohmann::json operators = nlohmann::json::array();
    std::size_t agents = 0;
    for (const auto& o : a.operators) {
        operators.push_back({{"operator_id", o.operator_id}, {"agents", o.agents}});
        agents += o.agents.size();
    }
    nlohmann::json votes = nlohmann::json::array();
    for (const auto& v : a.votes) {
        votes.push_back({{"domain", v.domain},
                         {"id", v.id},
                         {"up", v.tally.up},
                         {"down", v.tally.down},
                         {"pending", v.tally.pending},
                         {"abstain", v.tally.abstain},
                         {"voted_confidence", v.tally.confidence}});
    }
    nlohmann::json tasks = nlohmann::json::array();
    for (const auto& t : a.tasks) {
        auto j = task_json(t.task, marker);
        j["state"] = state_json(t.state);
        tasks.push_back(std::move(j));
    }
    nlohmann::json reflections = nlohmann::json::array();
    for (const auto& s : a.reflections) {
        reflections.push_back(
            {{"agent", s.reflection.agent.to_hex()},
             {"operator_id", s.reflection.operator_id},
             {"trusted", s.trusted},
             {"created", s.reflection.created},
             {"domains", s.reflection.domains},
             {"untrusted", envelope({{"summary", s.reflection.summary}}, marker)}});
    }
    return {{"marker", marker},       {"domains", domains},
            {"operators", operators}, {"operator_count", a.operators.size()},
            {"agent_count", agents},  {"votes", votes},
            {"tasks", tasks},         {"reflections", reflections}};
}

void add_awareness_routes(Router& router, compute::AwarenessService& service) {
    router.add_async(
        "GET", "/local/awareness",
        [&service](const Request& request, const PathParams&, const Responder& respond) {
            if (!request.query.empty()) {
                respond(json_error(400, errc::unknown_field, "this route takes no parameters"));
                return;
            }
            service.awareness([respond](compute::AwarenessService::Awareness a) {
                respond(Response{200, awareness_json(a).dump(), {}});
            });
        });

    router.add_async(
        "POST", "/local/reflect",
        [&service](const Request& request, const PathParams&, const Responder& respond) {
            const char* shape =
                R"({"summary": string (1-4000 bytes), "domains": [string] (optional, at most 16)})";
            auto body = wire::parse_json(request.body, max_reflect_body_bytes, 4);
            if (!body || !body->is_object()) {
                respond(json_error(
                    400, errc::malformed_json,
                    std::string("the body must be a JSON object of at most 8 KiB: ") + shape));
                return;
            }
            wire::ObjectReader r(*body);
            auto summary = r.string("summary", compute::max_summary_bytes);
            std::vector<std::string> domains;
            if (const auto* list = r.optional_array("domains", compute::max_reflection_domains)) {
                for (const auto& d : *list) {
                    if (!d.is_string() || !wire::is_valid_domain(d.get_ref<const std::string&>())) {
                        r.fail(errc::value_out_of_range);
                        break;
                    }
                    domains.push_back(d.get<std::string>());
                }
            }
            if (auto ec = r.finish()) {
                respond(error_response(Error(ec, std::string("expected ") + shape)));
                return;
            }
            service.reflect(std::move(summary), std::move(domains),
                            [respond](result<compute::AwarenessService::Stored> s) {
                                if (!s) {
                                    respond(error_response(s.error()));
                                    return;
                                }
                                nlohmann::json j = {{"agent", s->reflection.agent.to_hex()},
                                                    {"operator_id", s->reflection.operator_id},
                                                    {"created", s->reflection.created},
                                                    {"domains", s->reflection.domains},
                                                    {"stored", s->stored}};
                                respond(Response{201, j.dump(), {}});
                            });
        });
}

}  // namespace nocturne::api
