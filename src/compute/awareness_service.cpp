#include <nocturne/compute/awareness_service.hpp>
#include <nocturne/knowledge/text.hpp>

#include <algorithm>
#include <map>
#include <set>

namespace nocturne::compute {

AwarenessService::AwarenessService(dht::Node& node, const crypto::KeyPair& keys, const Clock& clock,
                                   trust::TrustState& trust, knowledge::KnowledgeService& knowledge,
                                   vote::VoteService& votes, ComputeService& compute)
    : node_(node),
      keys_(keys),
      clock_(clock),
      trust_(trust),
      knowledge_(knowledge),
      votes_(votes),
      compute_(compute) {
    node_.check_stores(wire::RecordKind::awareness, [this, alive = std::weak_ptr<char>(alive_)](
                                                        const wire::Record& r, const NodeId&) {
        if (alive.expired()) return make_error_code(errc::internal_error);
        return check(r);
    });
}

AwarenessService::~AwarenessService() {
    node_.check_stores(wire::RecordKind::awareness, nullptr);
}

std::error_code AwarenessService::check(const wire::Record& record) {
    auto r = reflection_from_record(record);
    if (!r) return r.error();
    // The operator it names is its author's (the policy has checked the author is enrolled).
    auto standing = trust_.agent_standing(r->agent, clock_.unix_seconds());
    if (!standing) return standing.error();
    if (standing->operator_id != r->operator_id) return make_error_code(errc::wrong_subject);
    return {};
}

void AwarenessService::reflect(std::string summary, std::vector<std::string> domains,
                               Callback<Stored> done) {
    if (operator_id_.empty()) {
        done(Error(errc::unknown_agent,
                   "this node is not enrolled: only an operator's agent "
                   "reflects"));
        return;
    }
    Reflection r{knowledge::clean_text(summary), operator_id_, std::move(domains), node_.id(), 0};
    const auto now = clock_.unix_seconds();
    auto record = sign_reflection(r, now, keys_);
    if (!record) {
        done(Error(errc::value_out_of_range,
                   "a reflection needs a summary of 1-" + std::to_string(max_summary_bytes) +
                       " bytes and at most " + std::to_string(max_reflection_domains) +
                       " valid domains"));
        return;
    }
    r.created = now;
    // Republished until it expires or a newer one replaces it (same identity).
    node_.put(*record, [r, done = std::move(done)](dht::PutResult put) {
        if (!put.ok()) {
            done(Error(put.first_refusal != errc::ok ? put.first_refusal : errc::timeout,
                       "no responsible storer took the reflection"));
            return;
        }
        done(Stored{r, put.stored});
    });
}

void AwarenessService::awareness(std::function<void(Awareness)> done) {
    struct Job {
        Awareness out;
        std::size_t outstanding = 1;
        std::function<void(Awareness)> done;
    };
    auto job = std::make_shared<Job>();
    job->done = std::move(done);
    const auto alive = std::weak_ptr<char>(alive_);
    auto finish = [job] {
        if (--job->outstanding != 0) return;
        auto& t = job->out.tasks;
        std::stable_sort(t.begin(), t.end(), [](const auto& a, const auto& b) {
            return a.state.status == TaskState::Status::open &&
                   b.state.status != TaskState::Status::open;
        });
        job->done(std::move(job->out));
    };
    const auto now = clock_.unix_seconds();

    // Operators and agents: those in the routing table that are enrolled, and this node.
    std::map<std::string, std::set<std::string>> operators;
    auto note_agent = [&](const NodeId& agent) {
        if (auto s = trust_.agent_standing(agent, now)) {
            operators[s->operator_id].insert(agent.to_hex());
        }
    };
    note_agent(node_.id());
    for (const auto& p : node_.table().all_peers()) note_agent(p.id);

    auto local = knowledge_.domains();
    if (local) job->out.domains = std::move(*local);
    std::vector<std::string> busiest;
    for (const auto& d : job->out.domains) {
        if (busiest.size() == domains_read) break;
        busiest.push_back(d.domain);
    }

    ++job->outstanding;
    node_.find_value(reflections_key(), [this, alive, job, finish, now,
                                         operators](dht::LookupResult found) mutable {
        if (alive.expired()) return;
        for (const auto& r : found.records) {
            auto reflection = reflection_from_record(r);
            if (!reflection) continue;
            auto s = trust_.agent_standing(reflection->agent, now);
            const bool trusted = s && s->operator_id == reflection->operator_id;
            if (trusted) operators[reflection->operator_id].insert(reflection->agent.to_hex());
            job->out.reflections.push_back(Seen{std::move(*reflection), trusted});
        }
        auto& seen = job->out.reflections;
        std::sort(seen.begin(), seen.end(), [](const Seen& a, const Seen& b) {
            if (a.trusted != b.trusted) return a.trusted;
            return a.reflection.created > b.reflection.created;
        });
        if (seen.size() > reflections_shown) seen.resize(reflections_shown);
        // Domains agents report working in, which this node may not hold.
        std::set<std::string> listed;
        for (const auto& d : job->out.domains) listed.insert(d.domain);
        for (const auto& s : seen) {
            for (const auto& d : s.reflection.domains) {
                if (s.trusted && listed.insert(d).second) {
                    job->out.domains.push_back(knowledge::DomainInfo{d, 0, 0});
                }
            }
        }
        for (auto& [op, agents] : operators) {
            job->out.operators.push_back(Operator{op, {agents.begin(), agents.end()}});
        }
        finish();
    });

    for (const auto& domain : busiest) {
        ++job->outstanding;
        compute_.tasks(domain, 10, [alive, job, finish](auto tasks) {
            if (alive.expired()) return;
            if (tasks) {
                for (auto& t : *tasks) job->out.tasks.push_back(std::move(t));
            }
            finish();
        });
        ++job->outstanding;
        knowledge::Query q;
        q.domain = domain;
        q.limit = static_cast<int>(entries_read);
        knowledge_.query(q, [this, alive, job, finish, domain](auto page) {
            if (alive.expired()) return;
            if (page) {
                for (const auto& e : page->entries) {
                    ++job->outstanding;
                    votes_.tally(
                        content_key(domain, e.entry.id), e.entry.confidence,
                        [job, finish, domain, id = e.entry.id](vote::VoteService::Votes v) {
                            const auto& t = v.tally;
                            if (t.up + t.down + t.pending + t.abstain > 0) {
                                job->out.votes.push_back(Voted{domain, id, t});
                            }
                            finish();
                        });
                }
            }
            finish();
        });
    }
    finish();
}

}  // namespace nocturne::compute
