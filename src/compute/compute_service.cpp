#include <nocturne/compute/compute_service.hpp>
#include <nocturne/knowledge/entry_records.hpp>
#include <nocturne/knowledge/text.hpp>
#include <nocturne/wire/identifiers.hpp>

#include <algorithm>
#include <set>

namespace nocturne::compute {
namespace {

bool live_entry(const dht::LookupResult& found) {
    std::optional<std::pair<std::uint64_t, bool>> best;  // seq, deleted
    for (const auto& r : found.records) {
        if (r.kind != wire::RecordKind::knowledge) continue;
        auto e = knowledge::entry_from_record(r);
        if (!e) continue;
        if (!best || best->first < e->entry.seq) best = std::pair{e->entry.seq, e->deleted};
    }
    return best && !best->second;
}

errc refusal_or(const dht::PutResult& r, errc otherwise) {
    return r.first_refusal != errc::ok ? r.first_refusal : otherwise;
}

}  // namespace

struct ComputeService::Candidates {
    std::vector<std::string> domains;
    std::size_t next_domain = 0;
    std::optional<std::string> type;
    std::vector<std::pair<Task, std::int64_t>> found;  // (task, created)
    std::size_t next = 0;
    Callback<std::optional<Held>> done;
};

ComputeService::ComputeService(dht::Node& node, const crypto::KeyPair& keys, const Clock& clock,
                               trust::TrustState& trust, store::Store& own,
                               vote::VoteService& votes, ComputeOptions options)
    : node_(node),
      keys_(keys),
      clock_(clock),
      options_(options),
      storer_(node, keys, clock, trust, options.rules),
      generator_(node, keys, clock, own, votes, options.triggers, options.scan_period,
                 options.task_seconds,
                 [this](const Task& task, std::function<void(TaskState)> done) {
                     state(task.id, task.storers,
                           [done = std::move(done)](TaskState s, std::size_t) { done(s); });
                 }),
      rng_(std::hash<std::string>{}(node.id().to_hex())) {}

ComputeService::~ComputeService() = default;

void ComputeService::set_operator_id(std::string operator_id) {
    operator_id_ = operator_id;
    generator_.set_operator_id(std::move(operator_id));
}

void ComputeService::publish(std::string domain, std::string title, std::string detail,
                             std::optional<std::string> id, Callback<Task> done) {
    if (operator_id_.empty()) {
        done(Error(errc::unknown_agent,
                   "this node is not enrolled: only an operator's agent "
                   "publishes tasks"));
        return;
    }
    // Zero-width and bidi controls go, as from entries: the text reaches other agents' models.
    title = knowledge::clean_text(title);
    detail = knowledge::clean_text(detail);
    if (!wire::is_valid_domain(domain) || title.empty() || title.size() > max_title_bytes ||
        detail.size() > max_detail_bytes) {
        done(Error(errc::value_out_of_range,
                   "a task needs a valid domain, a title of 1-" + std::to_string(max_title_bytes) +
                       " bytes and a detail of at most " + std::to_string(max_detail_bytes)));
        return;
    }
    if (id && !wire::is_valid_id(*id)) {
        done(Error(errc::value_out_of_range, "a task id is 1-128 of [A-Za-z0-9._-]"));
        return;
    }
    Task t{id.value_or(random_task_id()),
           std::move(domain),
           "custom",
           std::move(title),
           "",
           std::move(detail),
           operator_id_,
           false,
           {}};
    generator_.publish(t, [t, done = std::move(done)](dht::PutResult r) {
        if (!r.ok()) {
            done(Error(refusal_or(r, errc::timeout), "no responsible storer took the task"));
            return;
        }
        done(t);
    });
}

void ComputeService::state(const std::string& id, std::vector<NodeId> storers,
                           std::function<void(TaskState, std::size_t)> done) {
    const auto key = task_key(id);
    node_.find_value(key, [this, alive = std::weak_ptr<char>(alive_), id, key,
                           storers = std::move(storers),
                           done = std::move(done)](dht::LookupResult found) {
        if (alive.expired()) return;
        const std::size_t self = node_.responsible_for(key) ? 1 : 0;
        const auto replicas =
            std::min(found.closest.size() + found.failed + self, node_.config().k);
        auto s =
            task_state(id, found.records, replicas, clock_.unix_seconds(), options_.rules, storers);
        if (s.status == TaskState::Status::completed) remember_closed(id);
        done(std::move(s), replicas);
    });
}

void ComputeService::read_index(
    const std::string& domain,
    std::function<void(std::vector<std::pair<Task, std::int64_t>>)> done) {
    node_.find_value(task_index_key(domain), [alive = std::weak_ptr<char>(alive_),
                                              done = std::move(done)](dht::LookupResult found) {
        if (alive.expired()) return;
        struct Merged {
            Task task;
            std::int64_t created = 0;
            std::size_t open = 0;
            std::size_t closed = 0;
        };
        std::map<std::string, Merged> by_id;
        for (const auto& r : found.records) {
            if (r.kind != wire::RecordKind::task) continue;
            auto t = task_from_record(r);
            if (!t) continue;
            auto [it, fresh] = by_id.try_emplace(t->id, Merged{*t, r.created});
            auto& m = it->second;
            if (!fresh && r.created < m.created) {
                m.created = r.created;
                m.task = *t;
            }
            ++(t->closed ? m.closed : m.open);
        }
        std::vector<std::pair<Task, std::int64_t>> out;
        for (auto& [id, m] : by_id) {
            // Closed by most of its creators (one creator cannot hide the others' task).
            if (m.closed > m.open) continue;
            m.task.closed = false;
            out.emplace_back(std::move(m.task), m.created);
        }
        std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
            return a.second != b.second ? a.second < b.second : a.first.id < b.first.id;
        });
        done(std::move(out));
    });
}

std::optional<Error> ComputeService::cannot_claim() const {
    if (operator_id_.empty()) {
        return Error(errc::unknown_agent,
                     "this node is not enrolled: only an operator's agent claims tasks");
    }
    if (open_claims() >= options_.rules.max_open_claims) {
        return Error(errc::too_many_claims,
                     "this agent holds " + std::to_string(open_claims()) +
                         " open claims, the most allowed: submit or release one first");
    }
    return std::nullopt;
}

void ComputeService::claim_next(std::vector<std::string> domains, std::optional<std::string> type,
                                Callback<std::optional<Held>> done) {
    if (auto why = cannot_claim()) {
        done(std::move(*why));
        return;
    }
    auto job = std::make_shared<Candidates>();
    job->domains = std::move(domains);
    job->type = std::move(type);
    job->done = std::move(done);
    next_candidate(job);
}

void ComputeService::next_candidate(std::shared_ptr<Candidates> job) {
    // First every domain's index, then the candidates oldest first.
    if (job->next_domain < job->domains.size()) {
        const auto domain = job->domains[job->next_domain++];
        read_index(domain, [this, job](std::vector<std::pair<Task, std::int64_t>> tasks) {
            const auto now = clock_.now();
            for (auto& t : tasks) {
                if (job->type && t.first.type != *job->type) continue;
                if (held_.contains(t.first.id)) continue;
                if (const auto c = closed_.find(t.first.id);
                    c != closed_.end() && c->second > now) {
                    continue;
                }
                job->found.push_back(std::move(t));
            }
            next_candidate(job);
        });
        return;
    }
    if (job->next == 0) {
        std::stable_sort(job->found.begin(), job->found.end(),
                         [](const auto& a, const auto& b) { return a.second < b.second; });
    }
    if (job->next >= job->found.size() || job->next >= options_.max_candidates) {
        job->done(std::optional<Held>());
        return;
    }
    auto task = job->found[job->next++].first;
    attempt(std::move(task), 0, 0, [this, job](result<Held> held) {
        if (held) {
            job->done(std::optional<Held>(std::move(*held)));
            return;
        }
        if (held.error() == errc::too_many_claims) {
            job->done(held.error());
            return;
        }
        next_candidate(job);  // claimed, closed, or out of reach: the next one
    });
}

void ComputeService::claim(const std::string& domain, const std::string& id, Callback<Held> done) {
    if (auto why = cannot_claim()) {
        done(std::move(*why));
        return;
    }
    read_index(domain, [this, id, done = std::move(done)](auto tasks) mutable {
        for (auto& t : tasks) {
            if (t.first.id == id) {
                attempt(std::move(t.first), 0, 0, std::move(done));
                return;
            }
        }
        done(Error(errc::not_found, "no open task with this id in this domain's index"));
    });
}

void ComputeService::attempt(Task task, std::size_t attempt_no, std::uint64_t min_epoch,
                             Callback<Held> done) {
    const auto id = task.id;
    auto storers = task.storers;
    state(id, std::move(storers),
          [this, task = std::move(task), attempt_no, min_epoch, done = std::move(done)](
              TaskState s, std::size_t) mutable {
              if (s.status == TaskState::Status::completed) {
                  done(Error(errc::task_closed, "this task is completed"));
                  return;
              }
              if (s.status == TaskState::Status::claimed) {
                  if (s.holder && *s.holder == node_.id()) {
                      Held h{task, s.epoch, s.until, s.grants, 0, 0};
                      held_[task.id] = h;
                      done(h);
                      return;
                  }
                  // Contested (live grants, nobody holds a quorum): the racers are releasing them.
                  if (!s.holder && attempt_no + 1 < options_.claim_attempts) {
                      retry_later(std::move(task), attempt_no, min_epoch, std::move(done));
                      return;
                  }
                  done(Error(errc::task_claimed,
                             "another agent holds this task until " + std::to_string(s.until)));
                  return;
              }
              const auto epoch = std::max(s.next_epoch(), min_epoch);
              const auto now = clock_.unix_seconds();
              Claim c{task.id, epoch, operator_id_, now + options_.rules.claim_seconds, false};
              auto record =
                  sign_claim(c, 0, now, now + wire::max_ttl_seconds(wire::RecordKind::task), keys_);
              if (!record) {
                  done(Error(errc::internal_error, "cannot sign the claim"));
                  return;
              }
              store_quorum(
                  *record, task.storers,
                  [this, task, c, attempt_no, done = std::move(done)](const Quorum& r) mutable {
                      if (r.reached()) {
                          Held h{task, c.epoch, c.until, r.granted, r.quorum, r.responsible};
                          held_[task.id] = h;
                          steps_[task.id] = 0;
                          done(h);
                          return;
                      }
                      // No quorum: the storers that granted it give it back, so that the epoch does
                      // not block the task until it expires.
                      if (r.granted > 0) {
                          Claim release = c;
                          release.released = true;
                          put_claim(release, 0, task.storers, [](const Quorum&) {});
                      }
                      if (r.refusal == errc::task_closed) remember_closed(task.id);
                      // Another claimant can hold a quorum of this epoch only among the storers
                      // this one did not get: then the task is (probably) taken, and trying a newer
                      // epoch would only fence the winner's storers that were not its own.
                      // Otherwise nobody won this epoch (a race split the storers): the next one,
                      // after a random pause.
                      const bool nobody_won = r.responsible - r.granted < r.quorum;
                      // Storers ahead of the epoch this node read (it missed their grants): a newer
                      // one. Safe either way: the storers of a live winner refuse any claim, so a
                      // newer epoch fences nobody who holds the task.
                      const bool behind = r.refusal == errc::stale_epoch;
                      const bool again =
                          r.refusal != errc::task_closed && r.refusal != errc::too_many_claims &&
                          (nobody_won || behind) && attempt_no + 1 < options_.claim_attempts;
                      if (again) {
                          retry_later(std::move(task), attempt_no, c.epoch + 1, std::move(done));
                          return;
                      }
                      const auto code =
                          r.refusal == errc::task_closed || r.refusal == errc::too_many_claims
                              ? r.refusal
                              : (r.refusal == errc::ok ? errc::quorum_unavailable
                                                       : errc::task_claimed);
                      done(Error(code, code == errc::quorum_unavailable
                                           ? "too few of the task's storers granted the claim (" +
                                                 std::to_string(r.granted) + " of " +
                                                 std::to_string(r.quorum) + " needed)"
                                       : code == errc::task_claimed
                                           ? std::string("another agent won the task's storers")
                                           : std::string("the task's storers refused the claim: ") +
                                                 errc_name(code)));
                  });
          });
}

void ComputeService::retry_later(Task task, std::size_t attempt_no, std::uint64_t min_epoch,
                                 Callback<Held> done) {
    // Up to 250 ms times the attempt: racers spread out, and their releases land first.
    const auto pause = std::chrono::milliseconds(std::uniform_int_distribution<int>(50, 250)(rng_) *
                                                 static_cast<int>(attempt_no + 1));
    timers_.emplace(clock_.now() + pause, [this, task = std::move(task), attempt_no, min_epoch,
                                           done = std::move(done)]() mutable {
        attempt(std::move(task), attempt_no + 1, min_epoch, std::move(done));
    });
}

struct ComputeService::QuorumJob {
    wire::Record record;
    std::vector<NodeId> storers;  // the task's fixed set; empty: the k closest found
    std::size_t tries = 0;
    std::set<NodeId> acknowledged;  // across the tries
    bool direct_done = false;       // the set's storers a lookup missed were asked directly
    std::function<void(const Quorum&)> done;
};

void ComputeService::store_quorum(const wire::Record& record, std::vector<NodeId> storers,
                                  std::function<void(const Quorum&)> done, std::size_t tries) {
    auto job = std::make_shared<QuorumJob>();
    job->record = record;
    job->storers = std::move(storers);
    job->tries = tries;
    job->done = std::move(done);
    store_try(job, 0);
}

void ComputeService::store_try(const std::shared_ptr<QuorumJob>& job, std::size_t n) {
    // Once: a claim is answered now or never (republished later, it would be a new claim); the
    // same record again is no new claim: a storer that holds it acknowledges it again.
    node_.put_once(
        job->record, [this, alive = std::weak_ptr<char>(alive_), job, n](dht::PutResult r) {
            if (alive.expired()) return;
            const auto& set = job->storers.empty() ? r.responsible : job->storers;
            const std::set<NodeId> responsible(set.begin(), set.end());
            for (const auto& c : r.acknowledged) {
                if (responsible.contains(c.id)) job->acknowledged.insert(c.id);
            }
            // Storers of the set this put did not even ask (the lookup did not find them up).
            const auto unasked = static_cast<std::size_t>(
                std::count_if(responsible.begin(), responsible.end(), [&](const NodeId& id) {
                    return std::find(r.responsible.begin(), r.responsible.end(), id) ==
                           r.responsible.end();
                }));
            Quorum q;
            q.responsible = responsible.size();
            q.quorum = vote::quorum_of(q.responsible);
            q.granted = static_cast<std::size_t>(
                std::count_if(job->acknowledged.begin(), job->acknowledged.end(),
                              [&](const NodeId& id) { return responsible.contains(id); }));
            q.refusal = r.first_refusal;
            // Storers of the set the lookup did not rank among the k (nodes joined closer to the
            // key) are asked directly, once, when this node knows where they are.
            if (!q.reached() && unasked > 0 && !job->direct_done) {
                job->direct_done = true;
                std::vector<wire::Contact> direct;
                for (const auto& id : responsible) {
                    if (std::find(r.responsible.begin(), r.responsible.end(), id) !=
                        r.responsible.end()) {
                        continue;
                    }
                    if (auto peer = node_.table().find(id)) direct.push_back({id, peer->address});
                }
                if (!direct.empty()) {
                    node_.store_on(direct, job->record,
                                   [this, alive = std::weak_ptr<char>(alive_), job, n, q,
                                    failed = r.failed](dht::PutResult d) mutable {
                                       if (alive.expired()) return;
                                       for (const auto& c : d.acknowledged) {
                                           job->acknowledged.insert(c.id);
                                       }
                                       q.granted = 0;
                                       for (const auto& id : job->storers) {
                                           q.granted += job->acknowledged.contains(id) ? 1 : 0;
                                       }
                                       if (q.refusal == errc::ok) q.refusal = d.first_refusal;
                                       if (!q.reached() && (failed > 0 || d.failed > 0) &&
                                           n + 1 < job->tries) {
                                           store_try(job, n + 1);
                                           return;
                                       }
                                       job->done(q);
                                   });
                    return;
                }
            }
            // Storers that did not answer may still take it: the same record once more.
            if (!q.reached() && (r.failed > 0 || unasked > 0) && n + 1 < job->tries &&
                q.granted + r.failed + unasked >= q.quorum) {
                store_try(job, n + 1);
                return;
            }
            job->done(q);
        });
}

void ComputeService::put_claim(const Claim& claim, std::uint64_t step, std::vector<NodeId> storers,
                               std::function<void(const Quorum&)> done) {
    const auto now = clock_.unix_seconds();
    auto record =
        sign_claim(claim, step, now, now + wire::max_ttl_seconds(wire::RecordKind::task), keys_);
    if (!record) {
        Quorum q;
        q.refusal = errc::internal_error;
        done(q);
        return;
    }
    store_quorum(*record, std::move(storers), std::move(done));
}

void ComputeService::extend(const std::string& id, std::uint64_t epoch, Callback<Held> done) {
    const auto it = held_.find(id);
    if (it == held_.end() || it->second.epoch != epoch) {
        done(Error(errc::not_claimant, "this agent holds no claim of this task in this epoch"));
        return;
    }
    const auto now = clock_.unix_seconds();
    const auto step = ++steps_[id];
    if (step >= release_step) {
        done(Error(errc::value_out_of_range, "this claim was extended too often"));
        return;
    }
    Claim c{id, epoch, operator_id_, now + options_.rules.claim_seconds, false};
    put_claim(c, step, it->second.task.storers,
              [this, id, c, done = std::move(done)](const Quorum& r) {
                  const auto found = held_.find(id);
                  if (!r.reached() || found == held_.end()) {
                      done(Error(r.refusal != errc::ok ? r.refusal : errc::quorum_unavailable,
                                 "the task's storers did not renew the claim"));
                      return;
                  }
                  found->second.until = c.until;
                  found->second.granted = r.granted;
                  found->second.quorum = r.quorum;
                  found->second.responsible = r.responsible;
                  done(found->second);
              });
}

void ComputeService::release(const std::string& id, std::uint64_t epoch,
                             Callback<std::size_t> done) {
    std::vector<NodeId> storers;
    if (const auto it = held_.find(id); it != held_.end()) storers = it->second.task.storers;
    held_.erase(id);
    steps_.erase(id);
    Claim c{id, epoch, operator_id_, clock_.unix_seconds(), true};
    put_claim(c, 0, std::move(storers),
              [done = std::move(done)](const Quorum& r) { done(r.granted); });
}

void ComputeService::submit(const std::string& id, std::uint64_t epoch, std::string result_id,
                            std::optional<std::string> domain, Callback<Submitted> done) {
    if (operator_id_.empty()) {
        done(Error(errc::unknown_agent, "this node is not enrolled"));
        return;
    }
    std::vector<NodeId> storers;
    if (const auto it = held_.find(id); it != held_.end()) {
        if (!domain) domain = it->second.task.domain;
        storers = it->second.task.storers;
    }
    if (!domain || !wire::is_valid_domain(*domain) || !wire::is_valid_id(result_id) || epoch == 0 ||
        epoch > max_epoch) {
        done(Error(errc::value_out_of_range,
                   "a result needs the epoch of the claim, the result entry's id and, for a task "
                   "this node does not hold, its domain"));
        return;
    }
    Result res{id, epoch, operator_id_, *domain, std::move(result_id)};
    if (storers.empty()) {
        // Not held here (this node restarted since the claim): the task's storer set comes from
        // its definition, not from whoever a lookup finds now.
        read_index(res.domain, [this, res, done = std::move(done)](auto tasks) mutable {
            for (auto& t : tasks) {
                if (t.first.id == res.id) {
                    submit_result(std::move(res), std::move(t.first.storers), std::move(done));
                    return;
                }
            }
            done(Error(errc::not_found, "no open task " + res.id + " in domain " + res.domain));
        });
        return;
    }
    submit_result(std::move(res), std::move(storers), std::move(done));
}

void ComputeService::submit_result(Result res, std::vector<NodeId> storers,
                                   Callback<Submitted> done) {
    node_.find_value(
        content_key(res.domain, res.result_id),
        [this, alive = std::weak_ptr<char>(alive_), res, storers = std::move(storers),
         done = std::move(done)](dht::LookupResult found) {
            if (alive.expired()) return;
            if (!live_entry(found)) {
                done(Error(errc::not_found, "no live entry " + res.result_id + " in domain " +
                                                res.domain + ": publish the result first"));
                return;
            }
            const auto now = clock_.unix_seconds();
            auto record = sign_result(res, now, now + options_.task_seconds, keys_);
            if (!record) {
                done(Error(errc::internal_error, "cannot sign the result"));
                return;
            }
            // Not republished by this node: the storers that took it pass it on to new ones.
            store_quorum(
                *record, storers,
                [this, res, storers, done = std::move(done)](const Quorum& r) mutable {
                    if (r.reached()) {
                        completed(res, r, std::move(done));
                        return;
                    }
                    // Too few acknowledgements: lost ones, or refusals. What the storers hold
                    // decides (a retry would send the same record again).
                    state(
                        res.id, storers,
                        [this, res, r, done = std::move(done)](TaskState s, std::size_t) mutable {
                            if (s.status == TaskState::Status::completed && s.result &&
                                s.holder == node_.id() && s.result->epoch == res.epoch) {
                                completed(res, r, std::move(done));
                                return;
                            }
                            const auto code =
                                r.refusal != errc::ok ? r.refusal : errc::quorum_unavailable;
                            done(Error(code, code == errc::stale_epoch
                                                 ? "a newer epoch of this task was claimed: this "
                                                   "result is fenced off"
                                                 : "the task's storers did not take the result (" +
                                                       std::to_string(r.granted) + " of " +
                                                       std::to_string(r.quorum) + " needed; " +
                                                       errc_name(code) + ")"));
                        });
                },
                5);
        });
}

void ComputeService::completed(const Result& res, const Quorum& r, Callback<Submitted> done) {
    held_.erase(res.id);
    steps_.erase(res.id);
    remember_closed(res.id);
    done(Submitted{res.id, res.epoch, res.domain, res.result_id, r.granted, r.quorum});
}

void ComputeService::tasks(const std::string& domain, std::size_t limit,
                           Callback<std::vector<Listed>> done) {
    read_index(domain, [this, limit, done = std::move(done)](auto tasks) mutable {
        if (tasks.size() > limit) tasks.resize(limit);
        struct Job {
            std::vector<std::optional<Listed>> out;
            std::size_t outstanding = 0;
            Callback<std::vector<Listed>> done;
        };
        auto job = std::make_shared<Job>();
        job->out.resize(tasks.size());
        job->outstanding = tasks.size() + 1;
        job->done = std::move(done);
        auto finish = [job] {
            if (--job->outstanding != 0) return;
            std::vector<Listed> out;
            for (auto& l : job->out) {
                if (l && l->state.status != TaskState::Status::completed) out.push_back(*l);
            }
            job->done(std::move(out));
        };
        for (std::size_t i = 0; i < tasks.size(); ++i) {
            state(tasks[i].first.id, tasks[i].first.storers,
                  [job, i, finish, task = tasks[i].first](TaskState s, std::size_t) {
                      job->out[i] = Listed{task, s};
                      finish();
                  });
        }
        finish();
    });
}

void ComputeService::remember_closed(const std::string& id) {
    if (closed_.size() >= max_closed) closed_.erase(closed_.begin());
    // Long enough to skip it in offers; its creators close its definitions meanwhile.
    closed_[id] = clock_.now() + std::chrono::hours(24);
}

std::size_t ComputeService::open_claims() const {
    const auto now = clock_.unix_seconds();
    return static_cast<std::size_t>(std::count_if(
        held_.begin(), held_.end(), [&](const auto& kv) { return kv.second.until > now; }));
}

void ComputeService::tick() {
    generator_.tick();
    const auto now = clock_.now();
    while (!timers_.empty() && timers_.begin()->first <= now) {
        auto fire = std::move(timers_.begin()->second);
        timers_.erase(timers_.begin());
        fire();
    }
    const auto now_s = clock_.unix_seconds();
    std::erase_if(held_, [&](const auto& kv) {
        if (kv.second.until + options_.rules.grace_seconds >= now_s) return false;
        steps_.erase(kv.first);
        return true;
    });
}

Clock::time_point ComputeService::next_wakeup() const {
    auto t = generator_.next_wakeup();
    if (!timers_.empty()) t = std::min(t, timers_.begin()->first);
    return t;
}

}  // namespace nocturne::compute
