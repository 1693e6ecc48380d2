#include <nocturne/compute/task_storer.hpp>

namespace nocturne::compute {

TaskStorer::TaskStorer(dht::Node& node, const crypto::KeyPair& keys, const Clock& clock,
                       trust::TrustState& trust, ClaimRules rules)
    : node_(node), keys_(keys), clock_(clock), trust_(trust), rules_(rules) {
    node_.check_stores(wire::RecordKind::task, [this, alive = std::weak_ptr<char>(alive_)](
                                                   const wire::Record& r, const NodeId& from) {
        if (alive.expired()) return make_error_code(errc::internal_error);
        return check(r, from);
    });
}

TaskStorer::~TaskStorer() {
    node_.check_stores(wire::RecordKind::task, nullptr);
}

std::error_code TaskStorer::check(const wire::Record& record, const NodeId& from) {
    const auto part = part_of(record);
    if (part.empty()) return make_error_code(errc::value_out_of_range);
    const auto author = NodeId::from_public_key(record.author);
    if (!author) return make_error_code(errc::bad_length);
    // Held already (replication, republishing): decided before. Not for a claim or result from
    // its author: a copy a replica passed on was kept without a decision, and acknowledging the
    // author's own STORE of it must mean a grant (decide_* take retries as no-ops).
    const bool decides = (part == "claim" || part == "result") && from == *author;
    if (auto same = node_.records().find(store::RecordIdentity::of(record));
        !decides && same && same->has_value() && (*same)->sig == record.sig) {
        return {};
    }
    if (part == "task") return check_task(record);
    if (part == "grant") {
        // A grant is its storer's word: this node's own come from this node only.
        if (*author == node_.id() && from != node_.id()) return make_error_code(errc::stale_seq);
        return grant_from_record(record).error();
    }
    // Claims and results passed on by replicas are kept as they are (readers judge them by the
    // grants); only their author's own STORE asks this storer to decide.
    if (from != *author) {
        return part == "claim" ? claim_from_record(record).error()
                               : result_from_record(record).error();
    }
    return part == "claim" ? check_claim(record, *author) : check_result(record, *author);
}

std::error_code TaskStorer::check_task(const wire::Record& record) {
    auto task = task_from_record(record);
    if (!task) return task.error();
    auto held = node_.records().get(record.key, clock_.unix_seconds());
    if (!held) return held.error();
    std::size_t mine = 0;
    for (const auto& r : *held) {
        if (r.author != record.author) continue;
        if (r.slot == record.slot) return {};  // a newer version of one it holds (closing it)
        ++mine;
    }
    if (mine >= max_tasks_per_creator) return make_error_code(errc::over_operator_rate);
    return {};
}

std::optional<std::pair<Grant, std::uint64_t>> TaskStorer::my_grant(const NodeId& key) {
    auto r = node_.records().find({key, wire::RecordKind::task, keys_.public_key(), "grant"});
    if (!r || !r->has_value()) return std::nullopt;
    auto g = grant_from_record(**r);
    if (!g) return std::nullopt;
    return std::pair{std::move(*g), (*r)->seq};
}

std::size_t TaskStorer::open_claims(const std::string& operator_id, std::int64_t now) {
    const auto it = grants_by_operator_.find(operator_id);
    if (it == grants_by_operator_.end()) return 0;
    // Counted until the storers reopen the task: a lapsed claim can still be renewed in grace.
    std::erase_if(it->second,
                  [&](const auto& kv) { return kv.second + rules_.grace_seconds < now; });
    return it->second.size();
}

std::error_code TaskStorer::check_claim(const wire::Record& record, const NodeId& author) {
    auto claim = claim_from_record(record);
    if (!claim) return claim.error();
    const auto now = clock_.unix_seconds();
    auto standing = trust_.agent_standing(author, now);
    if (!standing) return standing.error();
    if (standing->operator_id != claim->operator_id) return make_error_code(errc::wrong_subject);

    StorerView view;
    auto mine = my_grant(record.key);
    auto held = node_.records().get(record.key, now);
    if (!held) return held.error();
    for (const auto& r : *held) {
        if (r.slot != "grant") continue;
        if (auto g = grant_from_record(r)) {
            view.highest_epoch = std::max(view.highest_epoch, g->epoch);
        }
    }
    if (mine) {
        view.mine = mine->first;
        view.mine_seq = mine->second;
        for (const auto& r : *held) {
            if (r.slot != "result" || NodeId::from_public_key(r.author) != mine->first.claimant) {
                continue;
            }
            auto res = result_from_record(r);
            if (res && res->epoch == mine->first.epoch) view.completed = true;
        }
    }
    view.operator_open_claims = open_claims(claim->operator_id, now);
    if (mine && mine->first.claimant == author && !mine->first.released &&
        mine->first.until >= now && view.operator_open_claims > 0) {
        --view.operator_open_claims;  // its own claim of this task, renewed or re-claimed
    }
    const auto decision = decide_claim(*claim, record.seq, author, view, now, rules_);
    if (decision.refusal) return decision.refusal;
    if (!decision.grant) return {};
    const auto& g = *decision.grant;
    auto signed_grant =
        sign_grant(g, record.seq, now, now + wire::max_ttl_seconds(wire::RecordKind::task), keys_);
    if (!signed_grant) return make_error_code(errc::internal_error);
    if (auto put = node_.records().put(*signed_grant); !put) return put.error();
    // The operator's open claims, as this storer counts them.
    if (mine && mine->first.claimant != author) {
        for (auto& [op, tasks] : grants_by_operator_) tasks.erase(record.key);
    }
    auto& tasks = grants_by_operator_[claim->operator_id];
    if (g.released) {
        tasks.erase(record.key);
    } else {
        tasks[record.key] = g.until;
    }
    if (grants_by_operator_.size() > max_tracked_operators) {
        std::erase_if(grants_by_operator_, [](const auto& kv) { return kv.second.empty(); });
    }
    return {};
}

std::error_code TaskStorer::check_result(const wire::Record& record, const NodeId& author) {
    auto res = result_from_record(record);
    if (!res) return res.error();
    auto mine = my_grant(record.key);
    if (auto ec = decide_result(*res, author, mine ? std::optional(mine->first) : std::nullopt)) {
        return ec;
    }
    // Completed: no longer an open claim of its operator.
    for (auto& [op, tasks] : grants_by_operator_) tasks.erase(record.key);
    return {};
}

}  // namespace nocturne::compute
