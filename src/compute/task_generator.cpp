#include <nocturne/compute/task_generator.hpp>
#include <nocturne/knowledge/entry_records.hpp>

#include <algorithm>

namespace nocturne::compute {

TaskGenerator::TaskGenerator(dht::Node& node, const crypto::KeyPair& keys, const Clock& clock,
                             store::Store& own, vote::VoteService& votes, Triggers triggers,
                             Clock::duration scan_period, std::int64_t task_seconds,
                             StateReader read_state)
    : node_(node),
      keys_(keys),
      clock_(clock),
      own_(own),
      votes_(votes),
      triggers_(triggers),
      scan_period_(scan_period),
      task_seconds_(task_seconds),
      read_state_(std::move(read_state)),
      next_scan_(clock.now() + scan_period) {}

void TaskGenerator::tick() {
    if (clock_.now() < next_scan_) return;
    next_scan_ = clock_.now() + scan_period_;
    if (operator_id_.empty()) return;
    if (!loaded_) load_own();
    scan();
    close_completed();
}

void TaskGenerator::load_own() {
    loaded_ = true;
    const auto now = clock_.unix_seconds();
    auto keys = own_.list_keys();
    if (!keys) return;
    for (const auto& key : *keys) {
        auto records = own_.get(key, now);
        if (!records) continue;
        for (const auto& r : *records) {
            if (r.kind != wire::RecordKind::task || r.author != keys_.public_key()) continue;
            auto task = task_from_record(r);
            if (!task) continue;
            known_.insert(task->id);
            if (!task->closed) own_open_[task->id] = std::move(*task);
        }
    }
}

void TaskGenerator::scan() {
    const auto now = clock_.unix_seconds();
    auto scopes = node_.records().scopes(now, 1000);
    if (!scopes) return;
    // The domains whose index this node is responsible for, from where the last scan stopped.
    std::vector<store::ScopeCount> mine;
    for (auto& s : *scopes) {
        if (node_.responsible_for(domain_index_key(s.scope))) mine.push_back(std::move(s));
    }
    if (mine.empty()) return;
    std::sort(mine.begin(), mine.end(),
              [](const auto& a, const auto& b) { return a.scope < b.scope; });
    auto start = std::find_if(mine.begin(), mine.end(),
                              [&](const auto& s) { return s.scope >= next_domain_; });
    std::rotate(mine.begin(), start, mine.end());
    std::size_t budget = entries_per_scan;
    for (const auto& s : mine) {
        if (budget == 0) {
            next_domain_ = s.scope;
            return;
        }
        // synthesize: once per multiple of synthesize_every entries.
        if (triggers_.synthesize_every > 0 && s.records >= triggers_.synthesize_every) {
            const auto mark = s.records / triggers_.synthesize_every * triggers_.synthesize_every;
            Task t;
            t.id = generated_task_id("synthesize", s.scope, std::to_string(mark));
            t.domain = s.scope;
            t.type = "synthesize";
            t.title = "Synthesize the " + std::to_string(mark) + " entries of " + s.scope;
            t.detail =
                "Read the domain's entries and publish one entry that summarises what they "
                "establish, where they disagree and what is missing; submit its id as the result.";
            ensure(std::move(t));
        }
        const auto take = std::min(budget, std::max<std::size_t>(1, budget / mine.size()));
        scan_domain(s.scope, take);
        budget -= take;
    }
    next_domain_.clear();
}

void TaskGenerator::scan_domain(const std::string& domain, std::size_t entries) {
    const auto now = clock_.unix_seconds();
    const auto key = domain_index_key(domain);
    auto& cursor = cursor_[domain];
    auto page = node_.records().page(key, now, cursor, entries);
    if (!page) return;
    cursor = page->size() < entries ? 0 : cursor + page->size();
    for (const auto& r : *page) {
        auto a = knowledge::announcement_from_record(r);
        if (!a || a->deleted) continue;
        const auto subject = a->entry_id + "@" + std::to_string(a->seq);
        votes_.tally(content_key(domain, a->entry_id), a->confidence,
                     [this, alive = std::weak_ptr<char>(alive_), domain, subject,
                      entry_id = a->entry_id, title = a->title](vote::VoteService::Votes v) {
                         if (alive.expired()) return;
                         Task t;
                         t.domain = domain;
                         t.entry_id = entry_id;
                         if (contested(v.tally, triggers_)) {
                             t.type = "verify";
                             t.title = "Verify \"" + title.substr(0, 150) + "\"";
                             t.detail = "Operators disagree on this entry (" +
                                        std::to_string(v.tally.up) + " up, " +
                                        std::to_string(v.tally.down) +
                                        " down). Check its claims and publish what you find; "
                                        "submit that entry's id as the result.";
                         } else if (needs_review(v.tally, triggers_)) {
                             t.type = "review";
                             t.title = "Review \"" + title.substr(0, 150) + "\"";
                             t.detail =
                                 "A low-confidence entry few operators have voted on. Review "
                                 "it, vote, and publish a corrected or confirming entry; submit "
                                 "its id as the result.";
                         } else {
                             return;
                         }
                         t.id = generated_task_id(t.type, domain, subject);
                         ensure(std::move(t));
                     });
    }
}

void TaskGenerator::ensure(Task task) {
    if (known_.contains(task.id)) return;
    known_.insert(task.id);  // now: its storers are looked up before it is signed
    publish(task, [this, alive = std::weak_ptr<char>(alive_), id = task.id](dht::PutResult r) {
        if (alive.expired() || r.ok()) return;
        known_.erase(id);  // stored nowhere (no storer found): the next scan tries again
        own_open_.erase(id);
    });
    ++created_;
}

void TaskGenerator::publish(const Task& task, std::function<void(dht::PutResult)> done) {
    if (!task.storers.empty()) {
        sign_and_put(task, std::move(done));
        return;
    }
    // The task key's storers now: the fixed set a claim's quorum is counted in.
    node_.find_node(
        task_key(task.id),
        [this, alive = std::weak_ptr<char>(alive_), task,
         done = std::move(done)](dht::LookupResult found) mutable {
            if (alive.expired()) return;
            Task t = std::move(task);
            for (const auto& c : found.closest) t.storers.push_back(c.id);
            const auto key = task_key(t.id);
            if (node_.is_storer(node_.id()) && (t.storers.size() < node_.config().k ||
                                                distance_less(key, node_.id(), t.storers.back()))) {
                t.storers.push_back(node_.id());
            }
            std::sort(t.storers.begin(), t.storers.end(),
                      [&](const NodeId& a, const NodeId& b) { return distance_less(key, a, b); });
            if (t.storers.size() > node_.config().k) t.storers.resize(node_.config().k);
            sign_and_put(t, std::move(done));
        },
        true);
}

void TaskGenerator::sign_and_put(const Task& task, std::function<void(dht::PutResult)> done) {
    Task t = task;
    t.operator_id = operator_id_;
    const auto now = clock_.unix_seconds();
    auto record = sign_task(t, now, now + task_seconds_, keys_);
    if (!record) {
        if (done) done(dht::PutResult::refusal(errc::internal_error));
        return;
    }
    if (known_.size() >= max_known) known_.clear();  // a repeat costs one put, nothing more
    known_.insert(t.id);
    if (!t.closed) own_open_[t.id] = t;
    (void)own_.put(*record);
    node_.put(*record, std::move(done));
}

void TaskGenerator::close_completed() {
    if (own_open_.empty()) return;
    auto it = own_open_.lower_bound(next_definition_);
    std::vector<std::string> ids;
    for (std::size_t n = 0; n < definitions_per_scan && n < own_open_.size(); ++n) {
        if (it == own_open_.end()) it = own_open_.begin();
        ids.push_back(it->first);
        ++it;
    }
    next_definition_ = it == own_open_.end() ? std::string() : it->first;
    for (const auto& id : ids) {
        read_state_(own_open_.at(id), [this, alive = std::weak_ptr<char>(alive_), id](TaskState s) {
            if (alive.expired() || s.status != TaskState::Status::completed) return;
            const auto found = own_open_.find(id);
            if (found == own_open_.end()) return;
            Task closed = found->second;
            closed.closed = true;
            own_open_.erase(found);
            publish(closed, nullptr);
        });
    }
}

}  // namespace nocturne::compute
